//! The sensor events (data.md, "Sensor events"): one type per event `type`, and
//! [`SensorEvent`], one validated event of any type.

use chrono::{DateTime, FixedOffset};

use crate::records::{User, Workout};

/// A rep with `rom_pct` below this is partial and not counted.
pub const FULL_REP_ROM_PCT: f64 = 80.0;

/// `session_start`: who uses which machine, from when.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionStart {
    /// The session id (the workout's id).
    pub session: String,
    /// Position in the session.
    pub seq: u64,
    /// When the session started (the workout's start).
    pub ts: DateTime<FixedOffset>,
    /// The machine (the workout's `machine`).
    pub device: Option<String>,
    /// The gym.
    pub gym: Option<String>,
    /// The user.
    pub user: String,
    /// The exercise id.
    pub exercise: String,
}

/// `rep`: one repetition on a strength machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Rep {
    /// The session id.
    pub session: String,
    /// Position in the session.
    pub seq: u64,
    /// When the rep was made.
    pub ts: DateTime<FixedOffset>,
    /// The load; absent is a value of its own (a rep without load).
    pub weight_kg: Option<f64>,
    /// Range of motion in percent; below [`FULL_REP_ROM_PCT`] the rep is partial. Absent: full.
    pub rom_pct: Option<f64>,
}

impl Rep {
    /// Whether the rep counts (its range of motion is not below [`FULL_REP_ROM_PCT`]).
    pub fn counts(&self) -> bool {
        self.rom_pct.is_none_or(|r| r >= FULL_REP_ROM_PCT)
    }
}

/// `sample`: a reading of a cardio machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The session id.
    pub session: String,
    /// Position in the session.
    pub seq: u64,
    /// When the reading was taken.
    pub ts: DateTime<FixedOffset>,
    /// Cumulative distance since the session started.
    pub distance_m: Option<f64>,
    /// Current speed.
    pub speed_kmh: Option<f64>,
    /// Current incline.
    pub incline_pct: Option<f64>,
    /// Current heart rate.
    pub hr_bpm: Option<f64>,
    /// Cumulative energy since the session started.
    pub calories_kcal: Option<f64>,
}

/// `session_end`.
#[derive(Clone, Debug, PartialEq)]
pub struct SessionEnd {
    /// The session id.
    pub session: String,
    /// Position in the session.
    pub seq: u64,
    /// When the session ended (the workout's end).
    pub ts: DateTime<FixedOffset>,
}

/// `user_upsert`: a user record from another system.
#[derive(Clone, Debug, PartialEq)]
pub struct UserUpsert {
    /// Position (optional: user records belong to no session).
    pub seq: Option<u64>,
    /// When the record was written; for each user the latest wins.
    pub ts: DateTime<FixedOffset>,
    /// The record.
    pub user: User,
}

/// `workout`: a workout recorded elsewhere (a watch's file, another app), upserted by its id
/// (data.md, "Imported workouts"); it never merges with a sensor session.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportedWorkout {
    /// Position (optional: an imported workout belongs to no session).
    pub seq: Option<u64>,
    /// When the message was written; for each workout id the latest wins (on equal `ts`, the
    /// later delivered).
    pub ts: DateTime<FixedOffset>,
    /// Where it came from (`fit`, `gpx`, `tcx`, another app's name), as given.
    pub source: Option<String>,
    /// The workout record, validated as every workout record is.
    pub workout: Workout,
}

/// One validated sensor event.
#[derive(Clone, Debug, PartialEq)]
pub enum SensorEvent {
    /// `session_start`.
    SessionStart(SessionStart),
    /// `rep`.
    Rep(Rep),
    /// `sample`.
    Sample(Sample),
    /// `session_end`.
    SessionEnd(SessionEnd),
    /// `user_upsert`.
    UserUpsert(UserUpsert),
    /// `workout`: an imported workout.
    Workout(ImportedWorkout),
}

impl SensorEvent {
    /// The event's `type` as written in JSON.
    pub fn type_name(&self) -> &'static str {
        match self {
            SensorEvent::SessionStart(_) => "session_start",
            SensorEvent::Rep(_) => "rep",
            SensorEvent::Sample(_) => "sample",
            SensorEvent::SessionEnd(_) => "session_end",
            SensorEvent::UserUpsert(_) => "user_upsert",
            SensorEvent::Workout(_) => "workout",
        }
    }

    /// The session id; `None` for `user_upsert` and `workout`.
    pub fn session(&self) -> Option<&str> {
        match self {
            SensorEvent::SessionStart(e) => Some(&e.session),
            SensorEvent::Rep(e) => Some(&e.session),
            SensorEvent::Sample(e) => Some(&e.session),
            SensorEvent::SessionEnd(e) => Some(&e.session),
            SensorEvent::UserUpsert(_) | SensorEvent::Workout(_) => None,
        }
    }

    /// The position in the session (`user_upsert`, `workout`: as given, if at all).
    pub fn seq(&self) -> Option<u64> {
        match self {
            SensorEvent::SessionStart(e) => Some(e.seq),
            SensorEvent::Rep(e) => Some(e.seq),
            SensorEvent::Sample(e) => Some(e.seq),
            SensorEvent::SessionEnd(e) => Some(e.seq),
            SensorEvent::UserUpsert(e) => e.seq,
            SensorEvent::Workout(e) => e.seq,
        }
    }

    /// The event's time.
    pub fn ts(&self) -> DateTime<FixedOffset> {
        match self {
            SensorEvent::SessionStart(e) => e.ts,
            SensorEvent::Rep(e) => e.ts,
            SensorEvent::Sample(e) => e.ts,
            SensorEvent::SessionEnd(e) => e.ts,
            SensorEvent::UserUpsert(e) => e.ts,
            SensorEvent::Workout(e) => e.ts,
        }
    }

    /// Whether two copies are the same event: every field equal, times by instant and offset.
    /// (`==` compares times by instant only, as chrono does.)
    pub fn identical(&self, other: &SensorEvent) -> bool {
        let workouts_too = match (self, other) {
            (SensorEvent::Workout(a), SensorEvent::Workout(b)) => {
                a.workout.start.offset() == b.workout.start.offset()
                    && a.workout.end.offset() == b.workout.end.offset()
            }
            _ => true,
        };
        self == other && self.ts().offset() == other.ts().offset() && workouts_too
    }
}
