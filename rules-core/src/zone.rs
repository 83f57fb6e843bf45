//! IANA time zones, from the copy of the Time Zone Database bundled into the binary.
//!
//! A [`Zone`] answers the three questions the evaluator, the leaderboards and the pipeline ask
//! of a challenge's `timezone`: which local date and hour an instant falls on, and when a local
//! date starts. The data is the database compiled into the crate (`jiff`'s bundled TZif files,
//! about 50 KB gzipped, against about 180 KB for chrono-tz's tables, which matters for the
//! WebAssembly module), never the machine's `/usr/share/zoneinfo`: the same inputs give the
//! same results on every machine, in the browser as on the backend.
//!
//! Names are matched exactly as the database spells them (`Asia/Singapore`, not
//! `asia/singapore`): a tree stores its zone as written, so a name that only matches without
//! regard to case is reported (E0004 suggests the right spelling) rather than silently
//! accepted.

use std::fmt;
use std::sync::OnceLock;

use chrono::NaiveDate;
use jiff::civil;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::Timestamp;

/// Seconds in a day.
const DAY: i64 = 86_400;

/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
const UNIX_EPOCH_DAY_CE: i64 = 719_163;

/// The bundled database, opened once.
fn database() -> &'static TimeZoneDatabase {
    static DB: OnceLock<TimeZoneDatabase> = OnceLock::new();
    DB.get_or_init(TimeZoneDatabase::bundled)
}

/// An IANA time zone, such as `Asia/Singapore` or `UTC`.
#[derive(Clone, PartialEq, Eq)]
pub struct Zone {
    tz: TimeZone,
}

impl Zone {
    /// The zone named `name`, spelled exactly as in the Time Zone Database; `None` when
    /// there is no such zone.
    pub fn get(name: &str) -> Option<Zone> {
        let tz = database().get(name).ok()?;
        (tz.iana_name() == Some(name)).then_some(Zone { tz })
    }

    /// Coordinated Universal Time.
    pub fn utc() -> Zone {
        Zone { tz: TimeZone::UTC }
    }

    /// Every zone name the database knows, in its spelling (for suggestions).
    pub fn names() -> Vec<String> {
        database()
            .available()
            .map(|name| name.as_str().to_owned())
            .collect()
    }

    /// The zone's IANA name.
    pub fn name(&self) -> &str {
        self.tz.iana_name().unwrap_or("UTC")
    }

    /// The offset from UTC in seconds (east positive) at the instant `secs` (UTC seconds).
    /// Instants outside the years -9999..=9999 use the offset at the nearest end.
    pub fn offset_at(&self, secs: i64) -> i64 {
        let secs = secs.clamp(Timestamp::MIN.as_second(), Timestamp::MAX.as_second());
        Timestamp::from_second(secs)
            .map(|t| i64::from(self.tz.to_offset(t).seconds()))
            .unwrap_or(0)
    }

    /// The local date of the instant `secs` (UTC seconds).
    pub fn local_date(&self, secs: i64) -> NaiveDate {
        let local = secs.saturating_add(self.offset_at(secs));
        i32::try_from(local.div_euclid(DAY) + UNIX_EPOCH_DAY_CE)
            .ok()
            .and_then(NaiveDate::from_num_days_from_ce_opt)
            .unwrap_or(NaiveDate::MIN)
    }

    /// The local hour (0–23) of the instant `secs` (UTC seconds).
    pub fn local_hour(&self, secs: i64) -> u8 {
        let local = secs.saturating_add(self.offset_at(secs));
        // rem_euclid(DAY) / 3600 is in 0..24.
        u8::try_from(local.rem_euclid(DAY) / 3_600).unwrap_or(0)
    }

    /// The first instant (UTC seconds) of the local day `date`: local midnight, the earlier
    /// one when midnight happens twice, or the first instant after a gap that skips it.
    /// `None` for dates outside the years -9999..=9999.
    ///
    /// Not jiff's `start_of_day`, which gives the same instants for every midnight skipped or
    /// repeated since 1970 but differs twice (the test `jiff_start_of_day_differs_here`): it
    /// moves a midnight in a gap forward by the gap's length, which is not the first instant
    /// when the gap began before midnight (Toronto, 1919-03-30 23:30 → 00:30: the day starts
    /// at 00:30, not 01:00), and it refuses instants after 9999-12-30T22:00Z, so a window
    /// ending on 9999-12-30 would no longer lay out.
    pub fn first_instant(&self, date: NaiveDate) -> Option<i64> {
        use chrono::Datelike;
        let civil = civil::Date::new(
            i16::try_from(date.year()).ok()?,
            i8::try_from(date.month()).ok()?,
            i8::try_from(date.day()).ok()?,
        )
        .ok()?;
        let midnight = (i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAY_CE) * DAY;
        let earliest = |offset: jiff::tz::Offset| midnight - i64::from(offset.seconds());
        match self
            .tz
            .to_ambiguous_timestamp(civil.to_datetime(civil::Time::midnight()))
            .offset()
        {
            AmbiguousOffset::Unambiguous { offset } => Some(earliest(offset)),
            AmbiguousOffset::Fold { before, after } => Some(earliest(before).min(earliest(after))),
            AmbiguousOffset::Gap { .. } => {
                // Midnight falls in a gap: the day starts at the transition, the first instant
                // whose local date is `date`. Search the 4 days around it by the second.
                let (mut lo, mut hi) = (midnight - 2 * DAY, midnight + 2 * DAY);
                while lo < hi {
                    let mid = lo + (hi - lo) / 2;
                    if self.local_date(mid) >= date {
                        hi = mid;
                    } else {
                        lo = mid + 1;
                    }
                }
                Some(lo)
            }
        }
    }
}

impl fmt::Debug for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Zone({})", self.name())
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str) -> Zone {
        Zone::get(name).unwrap()
    }

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn secs(rfc3339: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp()
    }

    #[test]
    fn names_are_exact() {
        assert_eq!(zone("Asia/Singapore").name(), "Asia/Singapore");
        assert_eq!(zone("UTC").name(), "UTC");
        assert_eq!(zone("Etc/UTC").name(), "Etc/UTC");
        // Links keep the name they were asked by.
        assert_eq!(zone("US/Eastern").name(), "US/Eastern");
        assert!(Zone::get("asia/singapore").is_none());
        assert!(Zone::get("Mars/Olympus_Mons").is_none());
        assert!(Zone::get("").is_none());
        assert!(Zone::get(" UTC").is_none());
        let names = Zone::names();
        assert!(names.len() > 400, "{}", names.len());
        assert!(names.iter().all(|n| Zone::get(n).is_some()));
    }

    #[test]
    fn local_dates_and_hours() {
        let sg = zone("Asia/Singapore");
        let t = secs("2026-08-08T16:30:00Z");
        assert_eq!(sg.local_date(t), date("2026-08-09"));
        assert_eq!(sg.local_hour(t), 0);
        assert_eq!(sg.offset_at(t), 8 * 3600);
        let london = zone("Europe/London");
        assert_eq!(london.local_hour(secs("2026-07-01T12:00:00Z")), 13);
        assert_eq!(london.local_hour(secs("2026-12-01T12:00:00Z")), 12);
        assert_eq!(Zone::utc().local_date(-1), date("1969-12-31"));
        // Far-away instants do not panic.
        let _ = sg.local_date(i64::MAX);
        let _ = sg.local_hour(i64::MIN);
    }

    #[test]
    fn first_instants() {
        let london = zone("Europe/London");
        assert_eq!(
            london.first_instant(date("2026-07-01")),
            Some(secs("2026-06-30T23:00:00Z"))
        );
        // Santiago skips midnight on 6 September 2026: the day starts at 01:00 local.
        let santiago = zone("America/Santiago");
        assert_eq!(
            santiago.first_instant(date("2026-09-06")),
            Some(secs("2026-09-06T04:00:00Z"))
        );
        // Havana repeats midnight 2 November 2025 (01:00 -> 00:00): the earlier one.
        let havana = zone("America/Havana");
        assert_eq!(
            havana.first_instant(date("2025-11-02")),
            Some(secs("2025-11-02T04:00:00Z"))
        );
        // Apia skipped 30 December 2011 entirely: that day starts where the next one does.
        let apia = zone("Pacific/Apia");
        assert_eq!(
            apia.first_instant(date("2011-12-30")),
            apia.first_instant(date("2011-12-31"))
        );
        assert_eq!(
            Zone::utc().first_instant(NaiveDate::from_ymd_opt(12_000, 1, 1).unwrap()),
            None
        );
    }

    /// The first instant of `date` by its definition: the earliest instant whose local date is
    /// `date` or later, searched second by second over the four days around UTC midnight.
    fn first_by_definition(zone: &Zone, date: NaiveDate) -> i64 {
        use chrono::Datelike;
        let midnight = (i64::from(date.num_days_from_ce()) - UNIX_EPOCH_DAY_CE) * DAY;
        let (mut lo, mut hi) = (midnight - 2 * DAY, midnight + 2 * DAY);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if zone.local_date(mid) >= date {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        lo
    }

    /// Around every transition from 1900 to 2100 of zones whose midnight is skipped (Santiago,
    /// Beirut, Havana, São Paulo, Apia), repeated (Santiago, Beirut, Havana) or cut by a gap
    /// that starts before it (Toronto in 1919), and of zones that change at other hours.
    #[test]
    fn first_instants_around_every_transition() {
        let from = Timestamp::from_second(secs("1900-01-01T00:00:00Z")).unwrap();
        let to = secs("2100-01-01T00:00:00Z");
        let mut dates = 0;
        for name in [
            "America/Santiago",
            "Asia/Beirut",
            "America/Havana",
            "America/Sao_Paulo",
            "Pacific/Apia",
            "America/Toronto",
            "Europe/London",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
        ] {
            let z = zone(name);
            for t in z.tz.following(from) {
                let at = t.timestamp().as_second();
                if at > to {
                    break;
                }
                for around in [at - DAY, at, at + DAY] {
                    let date = z.local_date(around);
                    assert_eq!(
                        z.first_instant(date),
                        Some(first_by_definition(&z, date)),
                        "{name} {date}"
                    );
                    dates += 1;
                }
            }
        }
        assert!(dates > 3_000, "{dates}");
    }

    /// Where jiff's `start_of_day` is not the first instant of a day ([`Zone::first_instant`]
    /// says why it is kept); should these ever agree, it could replace the hand-written part.
    #[test]
    fn jiff_start_of_day_differs_here() {
        let start_of_day = |z: &Zone, d: &str| {
            let d: civil::Date = d.parse().unwrap();
            d.to_zoned_datetime(z.tz.clone())
                .and_then(|t| t.start_of_day())
                .ok()
                .map(|t| t.timestamp().as_second())
        };
        let toronto = zone("America/Toronto");
        assert_eq!(
            toronto.first_instant(date("1919-03-31")),
            Some(secs("1919-03-31T00:30:00-04:00"))
        );
        assert_eq!(
            start_of_day(&toronto, "1919-03-31"),
            Some(secs("1919-03-31T01:00:00-04:00"))
        );
        assert_eq!(
            Zone::utc().first_instant(date("9999-12-31")),
            Some(secs("9999-12-31T00:00:00Z"))
        );
        assert_eq!(start_of_day(&Zone::utc(), "9999-12-31"), None);
        // Skipped and repeated midnights since 1970: the same instants.
        for (name, day) in [
            ("America/Santiago", "2026-09-06"),
            ("America/Santiago", "2026-04-05"),
            ("Asia/Beirut", "2023-03-26"),
            ("Asia/Beirut", "2023-10-29"),
            ("America/Havana", "2025-03-09"),
            ("America/Havana", "2025-11-02"),
        ] {
            let z = zone(name);
            assert_eq!(
                start_of_day(&z, day),
                z.first_instant(date(day)),
                "{name} {day}"
            );
        }
    }
}
