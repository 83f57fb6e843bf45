//! FIT activities, decoded by `fitparser` (data.md, "Imported workouts").
//!
//! ```text
//! bytes ─► fitparser::from_bytes (header and data CRCs checked) ─► messages
//!   file_id.type must be `activity`
//!   session ─► Activity (start_time, total_elapsed_time, total_distance, total_calories,
//!              avg_heart_rate; sport / sub_sport)
//!   record  ─► what a session lacks (its start, end, distance, heart rate), from the records
//!              inside the session's time span
//!   set     ─► a strength session: one Activity per exercise category of its active sets
//!   activity.local_timestamp − activity.timestamp ─► the offset times are written with
//! ```
//!
//! No byte is decoded here: fitparser does all of it. Decisions where the spec is silent:
//!
//! - A session without `start_time` starts at its first record; without `total_elapsed_time` it
//!   ends at its own `timestamp`, else at its last record.
//! - A session without `total_distance` takes the largest record `distance`, else the
//!   integral of record speed (`enhanced_speed`, else `speed`) over time; without
//!   `avg_heart_rate`, the mean of record `heart_rate`. Records belong to the sessions whose
//!   span holds their timestamp.
//! - A strength set belongs to the session whose span holds its start; its exercise is the
//!   first of its `category` values; it starts at `start_time` (else `timestamp` − `duration`)
//!   and ends at `start_time` + `duration` (else `timestamp`); an active set without
//!   `repetitions` counts 0 reps (a timed set).
//! - The offset is the device's when the activity message gives `local_timestamp` (rounded to
//!   a quarter of an hour, at most 14 h), UTC otherwise.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, Offset, TimeDelta, Utc};
use fitparser::profile::MesgNum;
use fitparser::{ErrorKind, FitDataRecord, Value};
use rules_core::records::WorkoutSet;

use crate::{Activity, ImportError, Kind, Sport};

/// The messages this reader uses, with the fields it reads.
struct Message<'a> {
    record: &'a FitDataRecord,
}

impl Message<'_> {
    fn value(&self, name: &str) -> Option<&Value> {
        self.record
            .fields()
            .iter()
            .find(|f| f.name() == name)
            .map(|f| f.value())
    }

    fn time(&self, name: &str) -> Option<DateTime<Utc>> {
        match self.value(name)? {
            Value::Timestamp(t) => Some(t.with_timezone(&Utc)),
            _ => None,
        }
    }

    fn number(&self, name: &str) -> Option<f64> {
        let v = match self.value(name)? {
            Value::Array(items) => items.first()?,
            v => v,
        };
        let x = match v {
            Value::Byte(x) | Value::Enum(x) | Value::UInt8(x) | Value::UInt8z(x) => f64::from(*x),
            Value::SInt8(x) => f64::from(*x),
            Value::SInt16(x) => f64::from(*x),
            Value::UInt16(x) | Value::UInt16z(x) => f64::from(*x),
            Value::SInt32(x) => f64::from(*x),
            Value::UInt32(x) | Value::UInt32z(x) => f64::from(*x),
            Value::Float32(x) => f64::from(*x),
            Value::Float64(x) => *x,
            Value::SInt64(x) => *x as f64,
            Value::UInt64(x) | Value::UInt64z(x) => *x as f64,
            _ => return None,
        };
        x.is_finite().then_some(x)
    }

    fn text(&self, name: &str) -> Option<String> {
        let v = match self.value(name)? {
            Value::Array(items) => items.first()?,
            v => v,
        };
        match v {
            Value::String(s) => Some(s.clone()),
            // An enum value the profile does not name: its number.
            other => Some(format!("{other}")),
        }
    }
}

/// Reads the activities of a FIT file.
pub fn read(bytes: &[u8]) -> Result<Vec<Activity>, ImportError> {
    check_frames(bytes)?;
    // fitparser indexes slices with sizes read from the file; the frames are checked above so
    // that known cases give an error, and a panic left in the decoder becomes one too.
    let decoded = std::panic::catch_unwind(|| fitparser::from_bytes(bytes)).map_err(|_| {
        ImportError::Fit("the FIT decoder (fitparser) failed on this file".to_owned())
    })?;
    let messages = decoded.map_err(|e| match *e {
        ErrorKind::InvalidCrc((_, _, stored, computed)) => ImportError::Crc { stored, computed },
        ErrorKind::UnexpectedEof(_) => ImportError::Fit(
            "the file ends in the middle of a message (is it truncated?)".to_owned(),
        ),
        other => ImportError::Fit(other.to_string()),
    })?;
    let of = |kind: MesgNum| {
        messages
            .iter()
            .filter(move |m| m.kind() == kind)
            .map(|record| Message { record })
    };
    let file_type = of(MesgNum::FileId)
        .next()
        .and_then(|m| m.text("type"))
        .ok_or_else(|| ImportError::Fit("no `file_id` message: not a FIT activity".to_owned()))?;
    if file_type != "activity" {
        return Err(ImportError::NotActivity(file_type));
    }
    let offset = of(MesgNum::Activity)
        .find_map(|m| {
            let local = m.time("local_timestamp")?;
            let utc = m.time("timestamp")?;
            local_offset((local - utc).num_seconds())
        })
        .unwrap_or(Utc.fix());
    let records: Vec<Point> = of(MesgNum::Record).filter_map(|m| Point::of(&m)).collect();
    let sets: Vec<Set> = of(MesgNum::Set).filter_map(|m| Set::of(&m)).collect();
    let sessions: Vec<Message<'_>> = of(MesgNum::Session).collect();
    if sessions.is_empty() {
        return Err(ImportError::NoActivity(
            "the FIT activity has no `session` message",
        ));
    }
    let mut out = Vec::new();
    for (index, session) in sessions.iter().enumerate() {
        let label = format!("session {}", index + 1);
        let sport = Sport {
            sport: session
                .text("sport")
                .unwrap_or_else(|| "generic".to_owned()),
            sub_sport: session.text("sub_sport").filter(|s| s != "generic"),
        };
        let span = span(session, &records);
        if sport.is_strength() {
            out.extend(strength(&label, span, &sets, offset));
            continue;
        }
        let mut activity = Activity::new(label, Kind::Sport(sport));
        if let Some((start, end)) = span {
            let inside: Vec<&Point> = records
                .iter()
                .filter(|p| start <= p.time && p.time <= end)
                .collect();
            activity.start = Some(start.with_timezone(&offset));
            activity.end = Some(end.with_timezone(&offset));
            activity.distance_m = session
                .number("total_distance")
                .or_else(|| distance_of(&inside));
            activity.avg_hr_bpm = session.number("avg_heart_rate").or_else(|| {
                crate::track::mean(&inside.iter().filter_map(|p| p.hr).collect::<Vec<_>>())
            });
        } else {
            activity.problem =
                Some("its start time is unknown (no `start_time`, no records)".to_owned());
        }
        activity.calories_kcal = session.number("total_calories");
        out.push(activity);
    }
    Ok(out)
}

/// Checks the frames of a (possibly chained) FIT file before the decoder sees it: each is a
/// header of 12 or 14 bytes with `.FIT` at bytes 8–11 and its data size at bytes 4–7, that
/// many bytes of messages, and a 2-byte CRC; the frames fill the file exactly. Nothing is
/// decoded here: this only keeps sizes read from the file within the file.
fn check_frames(bytes: &[u8]) -> Result<(), ImportError> {
    let mut at = 0usize;
    while at < bytes.len() {
        let header = bytes.get(at..).unwrap_or_default();
        let size = header.first().copied().unwrap_or(0);
        if header.get(8..12) != Some(b".FIT".as_slice()) || !(size == 12 || size == 14) {
            return Err(ImportError::Fit(if at == 0 {
                "no FIT header (a FIT file starts with a 12- or 14-byte header holding `.FIT`)"
                    .to_owned()
            } else {
                format!("bytes after the end of the FIT data at byte {at} are not a FIT header")
            }));
        }
        let data = header
            .get(4..8)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes) as usize;
        let end = at
            .checked_add(usize::from(size))
            .and_then(|x| x.checked_add(data))
            .and_then(|x| x.checked_add(2));
        match end {
            Some(end) if end <= bytes.len() => at = end,
            _ => {
                return Err(ImportError::Fit(format!(
                    "the header announces {data} bytes of messages but the file ends before them (is it truncated?)"
                )))
            }
        }
    }
    Ok(())
}

/// The offset of a device's local time `seconds` ahead of UTC, to the quarter hour.
fn local_offset(seconds: i64) -> Option<FixedOffset> {
    let quarter = 15 * 60;
    let rounded = (seconds as f64 / f64::from(quarter)).round() as i64 * i64::from(quarter);
    if rounded.abs() > 14 * 3600 {
        return None;
    }
    FixedOffset::east_opt(i32::try_from(rounded).ok()?)
}

/// A `record` message: a reading during the activity.
struct Point {
    time: DateTime<Utc>,
    distance_m: Option<f64>,
    speed_m_s: Option<f64>,
    hr: Option<f64>,
}

impl Point {
    fn of(m: &Message<'_>) -> Option<Point> {
        Some(Point {
            time: m.time("timestamp")?,
            distance_m: m.number("distance"),
            speed_m_s: m.number("enhanced_speed").or_else(|| m.number("speed")),
            hr: m.number("heart_rate"),
        })
    }
}

/// A session's start and end (UTC), from the session or, for what it lacks, its records.
fn span(session: &Message<'_>, records: &[Point]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let start = session
        .time("start_time")
        .or_else(|| records.iter().map(|p| p.time).min())?;
    let end = match session.number("total_elapsed_time") {
        Some(s) if (0.0..1e9).contains(&s) => {
            start.checked_add_signed(TimeDelta::milliseconds((s * 1000.0).round() as i64))?
        }
        _ => session
            .time("timestamp")
            .filter(|t| *t >= start)
            .or_else(|| records.iter().map(|p| p.time).filter(|t| *t >= start).max())?,
    };
    Some((start, end))
}

/// The distance of records: the largest cumulative `distance`, else speed × time.
fn distance_of(points: &[&Point]) -> Option<f64> {
    if let Some(d) = points.iter().filter_map(|p| p.distance_m).reduce(f64::max) {
        return Some(d);
    }
    let mut total = None;
    for pair in points.windows(2) {
        if let [a, b] = pair {
            if let Some(v) = a.speed_m_s {
                let dt = (b.time - a.time).num_milliseconds() as f64 / 1000.0;
                *total.get_or_insert(0.0) += v * dt.max(0.0);
            }
        }
    }
    total
}

/// An active `set` message.
struct Set {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    category: Option<String>,
    set: WorkoutSet,
}

impl Set {
    fn of(m: &Message<'_>) -> Option<Set> {
        if m.text("set_type").as_deref() != Some("active") {
            return None;
        }
        let duration = m
            .number("duration")
            .filter(|d| *d >= 0.0 && *d < 1e7)
            .map(|d| TimeDelta::milliseconds((d * 1000.0).round() as i64));
        let (start, end) = match (m.time("start_time"), m.time("timestamp"), duration) {
            (Some(s), _, Some(d)) => (s, s.checked_add_signed(d)?),
            (Some(s), Some(t), None) => (s, t.max(s)),
            (None, Some(t), Some(d)) => (t.checked_sub_signed(d)?, t),
            (Some(s), None, None) => (s, s),
            (None, Some(t), None) => (t, t),
            (None, None, _) => return None,
        };
        let reps = m
            .number("repetitions")
            .filter(|r| *r >= 0.0 && *r <= f64::from(u32::MAX))
            .map_or(0, |r| r as u32);
        Some(Set {
            start,
            end,
            category: m.text("category").filter(|c| c != "unknown"),
            set: WorkoutSet {
                reps,
                weight_kg: m.number("weight").filter(|w| *w >= 0.0),
            },
        })
    }
}

/// A strength session: one activity per exercise category of its active sets, in order of
/// each category's first set.
fn strength(
    label: &str,
    span: Option<(DateTime<Utc>, DateTime<Utc>)>,
    sets: &[Set],
    offset: FixedOffset,
) -> Vec<Activity> {
    let inside = |s: &&Set| span.is_none_or(|(start, end)| start <= s.start && s.start <= end);
    let mut order: Vec<Option<String>> = Vec::new();
    let mut groups: BTreeMap<Option<String>, Vec<&Set>> = BTreeMap::new();
    for set in sets.iter().filter(inside) {
        if !groups.contains_key(&set.category) {
            order.push(set.category.clone());
        }
        groups.entry(set.category.clone()).or_default().push(set);
    }
    if order.is_empty() {
        let mut a = Activity::new(
            label.to_owned(),
            Kind::Sport(Sport {
                sport: "training".to_owned(),
                sub_sport: Some("strength_training".to_owned()),
            }),
        );
        a.problem = Some("a strength session without active sets (`set` messages)".to_owned());
        return vec![a];
    }
    order
        .into_iter()
        .map(|category| {
            let sets = groups.get(&category).map(Vec::as_slice).unwrap_or_default();
            let name = category.as_deref().unwrap_or("without category");
            let mut a = Activity::new(
                format!("exercise `{name}` of {label}"),
                Kind::Exercise(category.clone()),
            );
            a.start = sets
                .iter()
                .map(|s| s.start)
                .min()
                .map(|t| t.with_timezone(&offset));
            a.end = sets
                .iter()
                .map(|s| s.end)
                .max()
                .map(|t| t.with_timezone(&offset));
            a.sets = sets.iter().map(|s| s.set.clone()).collect();
            a
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_rounded_to_quarter_hours_and_bounded() {
        assert_eq!(local_offset(-4 * 3600 + 2), FixedOffset::west_opt(4 * 3600));
        assert_eq!(
            local_offset(5 * 3600 + 45 * 60),
            FixedOffset::east_opt(5 * 3600 + 45 * 60)
        );
        assert_eq!(local_offset(20 * 3600), None);
    }
}
