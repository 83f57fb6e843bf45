//! The bounds of a record (data.md, "Bounds (since 1.1)"): the one implementation that every
//! reader calls, so that no sum, average or volume over accepted records can overflow.
//!
//! ```text
//! workout / user / sensor event / imported workout ──parse──► typed record ──bounds::*──► accepted
//!                                                                                └──► rejection reason
//! ```
//!
//! A record is rejected, with its reason, when it holds
//!
//! - a number above [`MAX_NUMBER`] (1e9) in any numeric field (1e9 itself is accepted): every
//!   figure, `reps` of every set, and `seq` of sensor events;
//! - a string longer than [`MAX_TEXT_BYTES`] (256 bytes of UTF-8; 256 is accepted): ids, names
//!   and groups;
//! - more than [`MAX_SETS`] sets (10,000 is accepted);
//! - a time outside the years [`FIRST_YEAR`] to [`LAST_YEAR`] (1970 to 9999).
//!
//! [`workout`], [`user`] and [`event`] check a whole typed record, whoever built it: the JSON
//! readers of [`crate::records`] and [`crate::session`] call them after parsing a line, the save
//! rules call [`workout`] on the workout a session consolidates into, and an importer calls
//! [`workout`] on each workout it makes. The readers' reasons say which field is out of bounds,
//! in the words of their other rejections (`` `weight_kg` must be a number from 0 to 1e9; found
//! 1.7e308 ``).
//!
//! With these bounds, a workout's volume is at most 10,000 × 1e9 × 1e9 = 1e22 kg and any sum
//! over a history of accepted records stays far below the largest double (about 1.8e308), so the
//! evaluator, the profiler and the leaderboards never meet an infinity from accepted input.
//! They still treat a non-finite intermediate as an undefined value (defence in depth), since
//! the library can be called with records built in code.
//!
//! Decisions where the spec is silent:
//!
//! - **The time bound is on the instant, in UTC**, not on the year as written: a time is
//!   accepted when it is at or after `1970-01-01T00:00:00Z` and before `10000-01-01T00:00:00Z`.
//!   So `1970-01-01T00:30:00+01:00` (the instant 1969-12-31T23:30:00Z) is rejected and
//!   `9999-12-31T23:30:00-01:00` (10000-01-01T00:30:00Z) too, while `1969-12-31T20:00:00-05:00`
//!   (1970-01-01T01:00:00Z) is accepted. data.md's "a time" is an instant (two spellings of the
//!   same instant in different offsets are the same time, and must get the same verdict), and
//!   the bound exists for what is computed from instants (durations, days, months). A year
//!   above 9999 cannot be written in RFC 3339 at all: such a text is rejected as not a time.
//! - **Every string field is bounded**, `sex` too (a short code, treated as a name), and every
//!   element of `groups`. `birth_date` is a date, not a time: it is not bounded by the years
//!   (members were born before 1970).
//! - **`seq` is a numeric field**: a `seq` above 1e9 is rejected like any other number.
//! - A sensor session whose consolidated workout would break a bound (more than 10,000 sets, or
//!   a set of more than 1e9 reps) does not become a workout
//!   ([`crate::session::SessionProblem::OutOfBounds`]); its events stay accepted, since each of
//!   them is within bounds and which one is "too many" would depend on the delivery order.

use chrono::{DateTime, Datelike, FixedOffset, Utc};

use crate::records::{User, Workout, WorkoutSet};
use crate::session::SensorEvent;

/// The largest number any numeric field may hold (data.md: "a number above 1e9").
pub const MAX_NUMBER: f64 = 1e9;

/// The longest an id, name or group may be, in bytes of UTF-8.
pub const MAX_TEXT_BYTES: usize = 256;

/// The most sets a record may have.
pub const MAX_SETS: usize = 10_000;

/// [`MAX_NUMBER`] as a whole number (`reps`, `seq`).
const MAX_WHOLE: u64 = 1_000_000_000;

/// The first year (UTC) a time may fall in.
pub const FIRST_YEAR: i32 = 1970;

/// The last year (UTC) a time may fall in.
pub const LAST_YEAR: i32 = 9999;

/// A number field: at most [`MAX_NUMBER`]. (The readers reject negative and non-finite
/// numbers before; a NaN is out of bounds too.)
pub fn number(key: &str, value: f64) -> Result<(), String> {
    if value <= MAX_NUMBER {
        Ok(())
    } else {
        Err(format!(
            "`{key}` must be a number from 0 to 1e9; found {}",
            show(value)
        ))
    }
}

/// An optional number field.
pub fn optional_number(key: &str, value: Option<f64>) -> Result<(), String> {
    value.map_or(Ok(()), |v| number(key, v))
}

/// A whole-number field (`reps`, `seq`): at most [`MAX_NUMBER`].
pub fn whole_number(key: &str, value: u64) -> Result<(), String> {
    if value <= MAX_WHOLE {
        Ok(())
    } else {
        Err(format!(
            "`{key}` must be a whole number from 0 to 1e9; found {value}"
        ))
    }
}

/// An id, name or group: at most [`MAX_TEXT_BYTES`] bytes.
pub fn text(key: &str, value: &str) -> Result<(), String> {
    if value.len() <= MAX_TEXT_BYTES {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is longer than 256 bytes ({} bytes)",
            value.len()
        ))
    }
}

/// An optional string field.
pub fn optional_text(key: &str, value: Option<&str>) -> Result<(), String> {
    value.map_or(Ok(()), |v| text(key, v))
}

/// How many sets a record has: at most [`MAX_SETS`].
pub fn sets(count: usize) -> Result<(), String> {
    if count <= MAX_SETS {
        Ok(())
    } else {
        Err(format!("`sets` has {count} sets, more than 10,000"))
    }
}

/// A time: its instant falls in the years [`FIRST_YEAR`] to [`LAST_YEAR`] of UTC.
pub fn time(key: &str, value: &DateTime<FixedOffset>) -> Result<(), String> {
    if within_years(value) {
        Ok(())
    } else {
        Err(format!(
            "`{key}` ({value}) is outside the years 1970 to 9999 (UTC)"
        ))
    }
}

/// Whether the instant falls in the years [`FIRST_YEAR`] to [`LAST_YEAR`] of UTC.
pub fn within_years(value: &DateTime<FixedOffset>) -> bool {
    (FIRST_YEAR..=LAST_YEAR).contains(&value.with_timezone(&Utc).year())
}

/// A workout record (data.md, "Workouts"), whoever built it: a reader, the save rules or an
/// importer. The reason names the first field out of bounds.
pub fn workout(w: &Workout) -> Result<(), String> {
    text("id", &w.id)?;
    text("user", &w.user)?;
    text("exercise", &w.exercise)?;
    optional_text("gym", w.gym.as_deref())?;
    optional_text("machine", w.machine.as_deref())?;
    time("start", &w.start)?;
    time("end", &w.end)?;
    sets(w.sets.len())?;
    for (i, set) in w.sets.iter().enumerate() {
        workout_set(set).map_err(|e| format!("`sets[{i}]`: {e}"))?;
    }
    optional_number("distance_m", w.distance_m)?;
    optional_number("calories_kcal", w.calories_kcal)?;
    optional_number("avg_hr_bpm", w.avg_hr_bpm)?;
    optional_number("incline_pct", w.incline_pct)
}

/// One set of a workout.
fn workout_set(set: &WorkoutSet) -> Result<(), String> {
    whole_number("reps", u64::from(set.reps))?;
    optional_number("weight_kg", set.weight_kg)
}

/// A user record (data.md, "Users").
pub fn user(u: &User) -> Result<(), String> {
    text("id", &u.id)?;
    optional_text("name", u.name.as_deref())?;
    for (i, group) in u.groups.iter().enumerate() {
        text(&format!("groups[{i}]"), group)?;
    }
    optional_text("sex", u.sex.as_deref())?;
    optional_number("body_weight_kg", u.body_weight_kg)?;
    optional_number("height_cm", u.height_cm)
}

/// A sensor event (data.md, "Sensor events"). The user record of a `user_upsert` is reported
/// under `user`, as its reader does.
pub fn event(e: &SensorEvent) -> Result<(), String> {
    match e {
        SensorEvent::SessionStart(s) => {
            text("session", &s.session)?;
            whole_number("seq", s.seq)?;
            time("ts", &s.ts)?;
            optional_text("device", s.device.as_deref())?;
            optional_text("gym", s.gym.as_deref())?;
            text("user", &s.user)?;
            text("exercise", &s.exercise)
        }
        SensorEvent::Rep(r) => {
            text("session", &r.session)?;
            whole_number("seq", r.seq)?;
            time("ts", &r.ts)?;
            optional_number("weight_kg", r.weight_kg)?;
            optional_number("rom_pct", r.rom_pct)
        }
        SensorEvent::Sample(s) => {
            text("session", &s.session)?;
            whole_number("seq", s.seq)?;
            time("ts", &s.ts)?;
            optional_number("distance_m", s.distance_m)?;
            optional_number("speed_kmh", s.speed_kmh)?;
            optional_number("incline_pct", s.incline_pct)?;
            optional_number("hr_bpm", s.hr_bpm)?;
            optional_number("calories_kcal", s.calories_kcal)
        }
        SensorEvent::SessionEnd(s) => {
            text("session", &s.session)?;
            whole_number("seq", s.seq)?;
            time("ts", &s.ts)
        }
        SensorEvent::UserUpsert(u) => {
            if let Some(seq) = u.seq {
                whole_number("seq", seq)?;
            }
            time("ts", &u.ts)?;
            user(&u.user).map_err(|e| format!("`user`: {e}"))
        }
        SensorEvent::Workout(w) => {
            if let Some(seq) = w.seq {
                whole_number("seq", seq)?;
            }
            time("ts", &w.ts)?;
            optional_text("source", w.source.as_deref())?;
            workout(&w.workout).map_err(|e| format!("`workout`: {e}"))
        }
    }
}

/// A number as a reason shows it: plain up to 1e15, in exponent form above (`1.7e308`, not
/// 309 digits).
fn show(value: f64) -> String {
    if value.abs() < 1e15 {
        value.to_string()
    } else {
        format!("{value:e}")
    }
}

#[cfg(test)]
mod tests;
