//! The window and its periods in the challenge's time zone (language.md §8, "Ranges").
//!
//! A [`Calendar`] is computed once per plan: the first instant of every local day of the
//! window (UTC seconds), and which of those days start an ISO week or a calendar month. Every
//! period boundary is a day boundary, so a period is a range of day indices, and a workout's
//! day index (found by binary search on its start) places it in every period at once.
//!
//! **Invariant:** the day starts are sorted (non-decreasing: a local date that a zone skips
//! entirely is an empty day), `day_starts.len() == days + 1`, and the last entry is the
//! window's end. Nothing here reads a clock.

use chrono::{Datelike, Days, NaiveDate};

use crate::limits::MAX_DAYS;
use crate::tree::Period;
use crate::zone::Zone;

/// Why a window cannot be laid out in its time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CalendarError {
    /// The last day is before the first.
    Reversed,
    /// More than [`MAX_DAYS`] days.
    TooLong,
    /// A date outside chrono's range.
    OutOfRange,
}

/// The local days of a window, with its week and month boundaries.
#[derive(Clone, Debug)]
pub(crate) struct Calendar {
    tz: Zone,
    first: NaiveDate,
    /// Weekday of the first day, Monday = 0.
    first_weekday: u32,
    /// First instant (UTC seconds) of each local day, then the window's end.
    day_starts: Vec<i64>,
    /// Day indices (> 0) on which an ISO week starts.
    week_starts: Vec<u32>,
    /// Day indices (> 0) on which a calendar month starts.
    month_starts: Vec<u32>,
    /// The local date of each day (result trees show one per period).
    dates: Vec<NaiveDate>,
}

impl Calendar {
    /// Lays out the local days `first..=last` in `tz`.
    pub(crate) fn new(
        tz: Zone,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<Calendar, CalendarError> {
        if last < first {
            return Err(CalendarError::Reversed);
        }
        let span = u64::try_from((last - first).num_days()).map_err(|_| CalendarError::Reversed)?;
        if span + 1 > MAX_DAYS {
            return Err(CalendarError::TooLong);
        }
        let days = span + 1;
        let mut day_starts = Vec::with_capacity(usize::try_from(days + 1).unwrap_or(0));
        let mut week_starts = Vec::new();
        let mut month_starts = Vec::new();
        let mut dates = Vec::with_capacity(usize::try_from(days).unwrap_or(0));
        for i in 0..=days {
            let date = first
                .checked_add_days(Days::new(i))
                .ok_or(CalendarError::OutOfRange)?;
            if i < days {
                dates.push(date);
            }
            let start = tz.first_instant(date).ok_or(CalendarError::OutOfRange)?;
            // Keep the starts sorted even in a zone whose dates run backwards.
            let start = day_starts
                .last()
                .map_or(start, |&prev: &i64| start.max(prev));
            day_starts.push(start);
            if i > 0 && i < days {
                let index = u32::try_from(i).map_err(|_| CalendarError::TooLong)?;
                if date.weekday().num_days_from_monday() == 0 {
                    week_starts.push(index);
                }
                if date.day() == 1 {
                    month_starts.push(index);
                }
            }
        }
        Ok(Calendar {
            tz,
            first,
            first_weekday: first.weekday().num_days_from_monday(),
            day_starts,
            week_starts,
            month_starts,
            dates,
        })
    }

    /// Number of local days in the window.
    pub(crate) fn days(&self) -> u32 {
        u32::try_from(self.day_starts.len().saturating_sub(1)).unwrap_or(u32::MAX)
    }

    /// First instant of day `day` (`day == days()` gives the window's end).
    pub(crate) fn day_start(&self, day: u32) -> i64 {
        match self.day_starts.get(day as usize) {
            Some(&s) => s,
            None => self.window_end(),
        }
    }

    /// First instant of the window.
    pub(crate) fn window_start(&self) -> i64 {
        self.day_starts.first().copied().unwrap_or(i64::MAX)
    }

    /// First instant after the window.
    pub(crate) fn window_end(&self) -> i64 {
        self.day_starts.last().copied().unwrap_or(i64::MIN)
    }

    /// The day (index) that the instant `secs` falls on, `None` outside the window.
    pub(crate) fn day_of(&self, secs: i64) -> Option<u32> {
        if secs < self.window_start() || secs >= self.window_end() {
            return None;
        }
        // Days are about 86,400 s long: start from that guess and step to the right day (the
        // last day starting at or before `secs`), as a binary search would find it. Zones
        // that skip dates or have long DST shifts take a few steps more; a guess too far off
        // falls back to the binary search.
        let guess = usize::try_from((secs - self.window_start()) / 86_400).unwrap_or(0);
        let mut day = guess.min(self.day_starts.len().saturating_sub(2));
        for _ in 0..4 {
            match (self.day_starts.get(day), self.day_starts.get(day + 1)) {
                (Some(&s), _) if s > secs => day = day.checked_sub(1)?,
                (_, Some(&next)) if next <= secs => day += 1,
                (Some(_), Some(_)) => return u32::try_from(day).ok(),
                _ => break,
            }
        }
        let after = self.day_starts.partition_point(|&s| s <= secs);
        u32::try_from(after.checked_sub(1)?).ok()
    }

    /// The local date of day `day`.
    pub(crate) fn date(&self, day: u32) -> NaiveDate {
        if let Some(&date) = self.dates.get(day as usize) {
            return date;
        }
        self.first
            .checked_add_days(Days::new(u64::from(day)))
            .unwrap_or(self.first)
    }

    /// The weekday of day `day`, Monday = 0.
    pub(crate) fn weekday(&self, day: u32) -> u8 {
        ((self.first_weekday + day % 7) % 7) as u8
    }

    /// The local hour (0–23) of the instant `secs` (UTC seconds).
    pub(crate) fn local_hour(&self, secs: i64) -> u8 {
        self.tz.local_hour(secs)
    }

    /// The periods of kind `period` in the day range `lo..hi`, cut to it, as day ranges.
    pub(crate) fn periods(&self, period: Period, lo: u32, hi: u32) -> Periods<'_> {
        let starts: &[u32] = match period {
            Period::Day => &[],
            Period::Week => &self.week_starts,
            Period::Month => &self.month_starts,
        };
        let next = starts.partition_point(|&s| s <= lo);
        Periods {
            daily: period == Period::Day,
            starts: starts.get(next..).unwrap_or(&[]),
            at: lo,
            hi,
        }
    }
}

/// Iterator over the periods of a day range: `(first day, day after the last)`.
#[derive(Clone, Debug)]
pub(crate) struct Periods<'c> {
    daily: bool,
    starts: &'c [u32],
    at: u32,
    hi: u32,
}

impl Iterator for Periods<'_> {
    type Item = (u32, u32);

    fn next(&mut self) -> Option<(u32, u32)> {
        if self.at >= self.hi {
            return None;
        }
        let lo = self.at;
        let end = if self.daily {
            lo + 1
        } else {
            match self.starts.split_first() {
                Some((&s, rest)) if s < self.hi => {
                    self.starts = rest;
                    s
                }
                _ => self.hi,
            }
        };
        self.at = end;
        Some((lo, end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn zone(name: &str) -> Zone {
        Zone::get(name).unwrap()
    }

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    #[test]
    fn singapore_days_start_at_local_midnight() {
        let cal = Calendar::new(
            zone("Asia/Singapore"),
            date("2026-08-01"),
            date("2026-08-31"),
        )
        .unwrap();
        assert_eq!(cal.days(), 31);
        assert_eq!(cal.window_start(), utc("2026-07-31T16:00:00Z"));
        assert_eq!(cal.window_end(), utc("2026-08-31T16:00:00Z"));
        assert_eq!(cal.day_of(utc("2026-08-01T07:30:00+08:00")), Some(0));
        assert_eq!(cal.day_of(utc("2026-08-31T23:59:59+08:00")), Some(30));
        assert_eq!(cal.day_of(utc("2026-09-01T00:00:00+08:00")), None);
        assert_eq!(cal.day_of(utc("2026-07-31T23:59:59+08:00")), None);
        assert_eq!(cal.weekday(0), 5); // Saturday
        assert_eq!(cal.date(30), date("2026-08-31"));
    }

    #[test]
    fn london_autumn_change_makes_a_25_hour_day() {
        let cal = Calendar::new(
            zone("Europe/London"),
            date("2026-10-24"),
            date("2026-10-26"),
        )
        .unwrap();
        let lengths: Vec<i64> = (0..3)
            .map(|d| cal.day_start(d + 1) - cal.day_start(d))
            .collect();
        assert_eq!(lengths, vec![86_400, 90_000, 86_400]);
        assert_eq!(cal.day_start(1), utc("2026-10-24T23:00:00Z"));
        assert_eq!(cal.day_start(2), utc("2026-10-26T00:00:00Z"));
    }

    #[test]
    fn a_skipped_midnight_starts_the_day_at_the_transition() {
        // Chile moves its clocks from 24:00 to 01:00 on the first Sunday of September.
        let tz = zone("America/Santiago");
        let cal = Calendar::new(tz, date("2026-09-05"), date("2026-09-07")).unwrap();
        // Sep 5 00:00 is -04:00; Sep 6 starts at 01:00 -03:00 = 04:00 UTC.
        assert_eq!(cal.day_start(0), utc("2026-09-05T04:00:00Z"));
        assert_eq!(cal.day_start(1), utc("2026-09-06T04:00:00Z"));
        assert_eq!(cal.day_start(2), utc("2026-09-07T03:00:00Z"));
        assert_eq!(cal.day_start(1) - cal.day_start(0), 86_400);
        assert_eq!(cal.day_start(2) - cal.day_start(1), 23 * 3_600);
    }

    #[test]
    fn havana_skips_one_midnight_and_repeats_another() {
        let tz = zone("America/Havana");
        // 2026-03-08: 00:00 -05:00 jumps to 01:00 -04:00; the day starts at 05:00 UTC.
        let spring = Calendar::new(tz.clone(), date("2026-03-07"), date("2026-03-08")).unwrap();
        assert_eq!(spring.day_start(1), utc("2026-03-08T05:00:00Z"));
        assert_eq!(spring.day_start(1) - spring.day_start(0), 86_400);
        // 2025-11-02: 01:00 -04:00 goes back to 00:00 -05:00; the day starts at the first
        // midnight and lasts 25 hours. (In the 2026 database Cuba keeps summer time until
        // November 2027.)
        let autumn = Calendar::new(tz, date("2025-11-02"), date("2025-11-03")).unwrap();
        assert_eq!(autumn.day_start(0), utc("2025-11-02T04:00:00Z"));
        assert_eq!(autumn.day_start(1) - autumn.day_start(0), 90_000);
    }

    #[test]
    fn a_skipped_date_is_an_empty_day() {
        // Samoa skipped 30 December 2011.
        let cal =
            Calendar::new(zone("Pacific/Apia"), date("2011-12-29"), date("2011-12-31")).unwrap();
        assert_eq!(cal.day_start(1), cal.day_start(2));
        assert_eq!(cal.day_of(cal.day_start(2)), Some(2));
    }

    #[test]
    fn weeks_and_months_are_cut_to_the_range() {
        // 2026-08-01 is a Saturday.
        let cal = Calendar::new(Zone::utc(), date("2026-08-01"), date("2026-09-10")).unwrap();
        let weeks: Vec<(u32, u32)> = cal.periods(Period::Week, 0, cal.days()).collect();
        assert_eq!(weeks.first(), Some(&(0, 2)));
        assert_eq!(weeks.get(1), Some(&(2, 9)));
        assert_eq!(weeks.last(), Some(&(37, 41)));
        assert_eq!(cal.date(37), date("2026-09-07"));
        let months: Vec<(u32, u32)> = cal.periods(Period::Month, 0, cal.days()).collect();
        assert_eq!(months, vec![(0, 31), (31, 41)]);
        // Weeks inside September, cut to it.
        let inner: Vec<(u32, u32)> = cal.periods(Period::Week, 31, 41).collect();
        assert_eq!(inner, vec![(31, 37), (37, 41)]);
        let days: Vec<(u32, u32)> = cal.periods(Period::Day, 3, 6).collect();
        assert_eq!(days, vec![(3, 4), (4, 5), (5, 6)]);
        assert_eq!(cal.periods(Period::Week, 0, cal.days()).count(), 7);
    }

    #[test]
    fn day_of_agrees_with_a_binary_search() {
        let windows = [
            (zone("Asia/Singapore"), "2026-08-01", "2026-10-29"),
            (zone("Europe/London"), "2026-03-20", "2026-11-05"),
            (zone("America/Havana"), "2026-03-01", "2026-11-10"),
            (zone("America/Santiago"), "2026-09-01", "2026-09-10"),
            (zone("Pacific/Apia"), "2011-12-20", "2012-01-05"),
            (zone("Australia/Lord_Howe"), "2026-01-01", "2026-12-31"),
        ];
        for (tz, first, last) in windows {
            let cal = Calendar::new(tz.clone(), date(first), date(last)).unwrap();
            let mut secs = cal.window_start() - 7_200;
            while secs < cal.window_end() + 7_200 {
                let expected = if secs < cal.window_start() || secs >= cal.window_end() {
                    None
                } else {
                    let after = cal.day_starts.partition_point(|&s| s <= secs);
                    Some(u32::try_from(after - 1).unwrap())
                };
                assert_eq!(cal.day_of(secs), expected, "{tz} {secs}");
                secs += 599;
            }
        }
    }

    #[test]
    fn reversed_and_huge_windows_are_refused() {
        assert_eq!(
            Calendar::new(Zone::utc(), date("2026-08-02"), date("2026-08-01")).err(),
            Some(CalendarError::Reversed)
        );
        assert_eq!(
            Calendar::new(Zone::utc(), date("1000-01-01"), date("2999-01-01")).err(),
            Some(CalendarError::TooLong)
        );
    }
}
