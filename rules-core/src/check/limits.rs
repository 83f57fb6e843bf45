//! How many periods a range can hold (W0001). The language's limits themselves (depths, window
//! length) are in [`crate::limits`].
//!
//! Period counting works on local calendar dates only (a day is a date, an ISO week runs Monday
//! to Sunday, a month is a calendar month), exactly as the evaluator cuts periods to the window.
//! It never enumerates more than a bounded number of periods, so a window of a million years is
//! as cheap to check as a window of a month.

use chrono::{Datelike, Duration, NaiveDate};

use crate::tree::Period;

/// A range of local dates, both ends inclusive.
pub(crate) type DateRange = (NaiveDate, NaiveDate);

/// How many pieces one range is split into at most before the rest is skipped. Pieces in the
/// middle of a range are whole periods, and the largest whole period of any kind (a 31-day
/// month, a month touching 6 ISO weeks, a 7-day week) always shows up long before this bound.
const MAX_PIECES: usize = 800;

/// How many periods `period` the range touches (periods cut to the range).
pub(crate) fn periods_in(range: DateRange, period: Period) -> u64 {
    let (start, end) = range;
    if end < start {
        return 0;
    }
    let days = |a: NaiveDate, b: NaiveDate| u64::try_from((b - a).num_days()).unwrap_or(0);
    match period {
        Period::Day => days(start, end) + 1,
        Period::Week => days(monday_of(start), monday_of(end)) / 7 + 1,
        Period::Month => {
            let index = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
            u64::try_from(index(end) - index(start)).unwrap_or(0) + 1
        }
    }
}

/// The most periods `inner` that one range of `ranges` can hold.
pub(crate) fn max_periods_in(ranges: &[DateRange], inner: Period) -> u64 {
    ranges
        .iter()
        .map(|&r| periods_in(r, inner))
        .max()
        .unwrap_or(0)
}

/// The ranges a chain of period blocks (outermost first) cuts the window into, as far as they
/// matter for counting: at most [`MAX_PIECES`] pieces of each range are kept (the first ones and
/// the last one), so at most 800 × 6 ranges come out of a chain.
pub(crate) fn cut(window: DateRange, chain: &[Period]) -> Vec<DateRange> {
    let mut ranges = vec![window];
    for &period in chain {
        let mut next = Vec::new();
        for &range in &ranges {
            next.extend(split(range, period));
        }
        ranges = next;
    }
    ranges
}

/// The periods of `period` cut to `range`: the first [`MAX_PIECES`] − 1 and the last one.
fn split(range: DateRange, period: Period) -> Vec<DateRange> {
    let (start, end) = range;
    let mut pieces = Vec::new();
    if end < start {
        return pieces;
    }
    let mut from = start;
    loop {
        let to = last_day(from, period).min(end);
        pieces.push((from, to));
        if to >= end {
            break;
        }
        if pieces.len() + 1 >= MAX_PIECES {
            // The last piece: from the start of the period holding `end`.
            let first = first_day(end, period).max(start);
            pieces.push((first, end));
            break;
        }
        match to.succ_opt() {
            Some(d) => from = d,
            None => break,
        }
    }
    pieces
}

/// The Monday of the ISO week of `date` (or the earliest date, at the edge of the calendar).
fn monday_of(date: NaiveDate) -> NaiveDate {
    let back = i64::from(date.weekday().num_days_from_monday());
    date.checked_sub_signed(Duration::days(back))
        .unwrap_or(NaiveDate::MIN)
}

/// The first day of the period holding `date`.
fn first_day(date: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Day => date,
        Period::Week => monday_of(date),
        Period::Month => date.with_day(1).unwrap_or(date),
    }
}

/// The last day of the period holding `date`.
fn last_day(date: NaiveDate, period: Period) -> NaiveDate {
    match period {
        Period::Day => date,
        Period::Week => {
            let ahead = 6 - i64::from(date.weekday().num_days_from_monday());
            date.checked_add_signed(Duration::days(ahead))
                .unwrap_or(NaiveDate::MAX)
        }
        Period::Month => {
            let (y, m) = if date.month() == 12 {
                (date.year().saturating_add(1), 1)
            } else {
                (date.year(), date.month() + 1)
            };
            NaiveDate::from_ymd_opt(y, m, 1)
                .and_then(|d| d.pred_opt())
                .unwrap_or(NaiveDate::MAX)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn august_2026_has_31_days_6_weeks_1_month() {
        let aug = (d(2026, 8, 1), d(2026, 8, 31));
        assert_eq!(periods_in(aug, Period::Day), 31);
        assert_eq!(periods_in(aug, Period::Week), 6);
        assert_eq!(periods_in(aug, Period::Month), 1);
    }

    #[test]
    fn nested_periods_use_the_largest_piece() {
        let aug = (d(2026, 8, 1), d(2026, 8, 31));
        assert_eq!(max_periods_in(&cut(aug, &[Period::Week]), Period::Day), 7);
        let short = (d(2026, 8, 1), d(2026, 8, 4));
        // Sat 1, Sun 2 | Mon 3, Tue 4
        assert_eq!(max_periods_in(&cut(short, &[Period::Week]), Period::Day), 2);
        let year = (d(2026, 1, 1), d(2026, 12, 31));
        assert_eq!(
            max_periods_in(&cut(year, &[Period::Month]), Period::Day),
            31
        );
        // August 2026 starts on a Saturday and has 31 days: 6 ISO weeks.
        assert_eq!(
            max_periods_in(&cut(year, &[Period::Month]), Period::Week),
            6
        );
        let feb = (d(2026, 2, 1), d(2026, 2, 28));
        assert_eq!(max_periods_in(&cut(feb, &[Period::Month]), Period::Week), 5);
        assert_eq!(
            max_periods_in(&cut(year, &[Period::Month, Period::Week]), Period::Day),
            7
        );
    }

    #[test]
    fn huge_windows_stay_cheap() {
        let all = (NaiveDate::MIN, NaiveDate::MAX);
        assert!(periods_in(all, Period::Day) > 100_000_000);
        let ranges = cut(all, &[Period::Month, Period::Week]);
        assert!(ranges.len() <= MAX_PIECES * MAX_PIECES);
        assert_eq!(max_periods_in(&ranges, Period::Day), 7);
        assert_eq!(max_periods_in(&cut(all, &[Period::Month]), Period::Week), 6);
        assert_eq!(max_periods_in(&cut(all, &[Period::Month]), Period::Day), 31);
    }
}
