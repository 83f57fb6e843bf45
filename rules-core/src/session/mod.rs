//! Sensor events and the save stage (data.md, "Sensor events"): how a session of gym equipment
//! events becomes a workout.
//!
//! ```text
//! events.jsonl ──read_events──► SensorEvent ──SessionState::push──► SessionState ──workout()──► Workout
//!   (validated, counted)          (dedupe by seq: Accepted / Duplicate / Conflict)  └─live_workout()─► Workout so far
//! ```
//!
//! This is the one implementation of the save rules: the pipeline's save stage and the
//! browser's live session both push events into a [`SessionState`] and ask it for the workout.
//!
//! **Invariant:** a [`SessionState`] is a pure function of the *set* of events pushed into it
//! (after deduplication by `seq`): whatever order the events arrive in and however often they
//! are resent, the same events give the same workout. Nothing here reads a clock or randomness:
//! every time comes from the events.
//!
//! The save rules, as data.md states them:
//!
//! - workout `id` = the session id; `start` = the `session_start` ts; `end` = the `session_end`
//!   ts; `user`, `gym`, `machine` (= `device`) and `exercise` from `session_start`;
//! - events are deduplicated by `seq` and ordered by it; an identical resend is a no-op
//!   ([`PushOutcome::Duplicate`]), a differing copy a conflict ([`PushOutcome::Conflict`], dead
//!   letter "conflicting duplicate");
//! - a rep with `rom_pct` below 80 is partial and not counted; a new set begins when the load
//!   differs from the previous rep's (absent load is its own value) or more than 30 s passed
//!   since the previous rep (partial reps included in both comparisons); a set's `weight_kg` is
//!   its reps' load; a set with no counted rep is dropped;
//! - samples: `distance_m` is cumulative (the largest value seen); `avg_hr_bpm` (from
//!   `hr_bpm`) and `incline_pct` are means over the samples that carry them;
//! - a session without `session_end` is open; one without `session_start` cannot become a
//!   workout ([`SessionProblem`]);
//! - every event is within the bounds of a record ([`crate::bounds::event`]: numbers up to 1e9,
//!   `seq` included, strings up to 256 bytes, times in the years 1970 to 9999), and so is the
//!   saved workout ([`crate::bounds::workout`]): a session whose workout would have more than
//!   10,000 sets does not become one ([`SessionProblem::OutOfBounds`]).
//!
//! Decisions where the spec is silent:
//!
//! - Required fields: `type`, `ts` everywhere; `session` and `seq` (a whole number, 0 or more)
//!   for session events; `user` and `exercise` for `session_start` (`device` and `gym` are
//!   optional, as `machine` and `gym` are for workouts); `user` (an object, read as a user
//!   record) for `user_upsert`, whose `seq` is optional. `rep` needs nothing more: an absent
//!   `rom_pct` is a full rep. Every figure of `rep` and `sample` is optional.
//! - Two copies are identical when every field the reader keeps is equal (numbers by value,
//!   times by instant *and* offset); unknown fields never make a conflict.
//! - Several `session_start` events (different `seq`): the lowest `seq` gives the workout's
//!   fields. Several `session_end` events: the highest `seq` gives `end`. So the choice does
//!   not depend on arrival order.
//! - A `session_end` whose ts is before the `session_start` ts cannot become a workout
//!   ([`SessionProblem::EndBeforeStart`]), since a workout's end may not be before its start.
//! - Samples may also carry a cumulative `calories_kcal`: the workout's calories are the largest
//!   value seen, like distance. `speed_kmh` is read and validated but not saved (a workout's
//!   speed is its distance over its duration).
//! - The live workout ([`SessionState::live_workout`]) ends at the latest ts of any event of
//!   the session (never before its start).
//! - Means are summed in `seq` order, so the floating-point result is the same for every
//!   arrival order.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde_json::{Map, Value};

use crate::bounds;
use crate::fields::{id, number_value, optional_number, optional_string, time};
use crate::records::{self, ReadReport, User, Workout, WorkoutSet};

/// A rep with `rom_pct` below this is partial and not counted.
pub const FULL_REP_ROM_PCT: f64 = 80.0;

/// More than this many seconds between two reps starts a new set.
pub const SET_GAP_S: i64 = 30;

/// The reason given for a differing copy of an accepted `(session, seq)`.
pub const CONFLICT_REASON: &str = "conflicting duplicate";

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

/// Reads sensor events, one JSON object per line (data.md): every bad line is a rejection with
/// its line number and reason; `read == accepted + rejected`.
pub fn read_events(text: &str) -> ReadReport<SensorEvent> {
    records::read_lines(text, parse_event)
}

/// Parses one line of the sensor stream (a JSON object or a rejection reason).
///
/// The session events (`session_start`, `rep`, `sample`, `session_end`) take a fast path: the
/// line is deserialized into borrowed, typed fields (no `Value` tree, no map). Whenever that
/// path does not give an event (a `user_upsert`, a wrong type, a duplicate key, an invalid
/// field, invalid JSON), the line is parsed again by the general path, which gives the event or
/// the rejection reason. So both paths accept the same lines and give the same events.
pub fn parse_event_line(line: &str) -> Result<SensorEvent, String> {
    match fast::parse(line) {
        Some(event) => Ok(event),
        None => parse_general(line),
    }
}

/// The general path of [`parse_event_line`]: every event type, and every rejection reason.
fn parse_general(line: &str) -> Result<SensorEvent, String> {
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(map)) => parse_event(&map),
        Ok(_) => Err("the record is not a JSON object".to_owned()),
        Err(e) => Err(format!("not valid JSON: {e}")),
    }
}

/// The fast path of [`parse_event_line`]: session events only, successes only.
mod fast {
    use std::borrow::Cow;

    use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;
    use serde_json::Number;

    use super::{number_value, seq_value, Rep, Sample, SensorEvent, SessionEnd, SessionStart};
    use crate::{bounds, records};

    /// A field that is a string or anything else (`user` is a string in `session_start` and
    /// an object in `user_upsert`).
    enum MaybeStr<'a> {
        Str(Cow<'a, str>),
        Other,
    }

    impl<'de: 'a, 'a> Deserialize<'de> for MaybeStr<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<'a>(std::marker::PhantomData<&'a ()>);
            impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                type Value = MaybeStr<'a>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("any value")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Str(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Str(Cow::Owned(v.to_owned())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Str(Cow::Owned(v)))
                }
                fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Other)
                }
                fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Other)
                }
                fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Other)
                }
                fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                    Ok(MaybeStr::Other)
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                    while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                    Ok(MaybeStr::Other)
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                    while seq.next_element::<IgnoredAny>()?.is_some() {}
                    Ok(MaybeStr::Other)
                }
            }
            d.deserialize_any(V(std::marker::PhantomData))
        }
    }

    /// A string, borrowed from the line unless it has escapes. (`Option<Cow<str>>` would
    /// always copy: serde borrows a `Cow` only when it is the field's whole type.)
    struct Text<'a>(Cow<'a, str>);

    impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V<'a>(std::marker::PhantomData<&'a ()>);
            impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                type Value = Text<'a>;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a string")
                }
                fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                    Ok(Text(Cow::Borrowed(v)))
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                    Ok(Text(Cow::Owned(v.to_owned())))
                }
                fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                    Ok(Text(Cow::Owned(v)))
                }
            }
            d.deserialize_str(V(std::marker::PhantomData))
        }
    }

    /// The fields of every session event, borrowed from the line where possible. A field of
    /// another JSON type than the one read here fails the whole line (it then goes to the
    /// general path).
    #[derive(Deserialize)]
    struct Raw<'a> {
        #[serde(rename = "type", borrow)]
        kind: Option<Text<'a>>,
        #[serde(borrow)]
        session: Option<Text<'a>>,
        seq: Option<Number>,
        #[serde(borrow)]
        ts: Option<Text<'a>>,
        #[serde(borrow)]
        device: Option<Text<'a>>,
        #[serde(borrow)]
        gym: Option<Text<'a>>,
        #[serde(borrow)]
        user: Option<MaybeStr<'a>>,
        #[serde(borrow)]
        exercise: Option<Text<'a>>,
        weight_kg: Option<Number>,
        rom_pct: Option<Number>,
        distance_m: Option<Number>,
        speed_kmh: Option<Number>,
        incline_pct: Option<Number>,
        hr_bpm: Option<Number>,
        calories_kcal: Option<Number>,
    }

    /// A required, non-empty string.
    fn id(v: Option<Text<'_>>) -> Option<String> {
        v.map(|t| t.0)
            .filter(|s| !s.is_empty())
            .map(Cow::into_owned)
    }

    /// An optional number, 0 or more.
    fn number(v: Option<&Number>) -> Option<Option<f64>> {
        match v {
            None => Some(None),
            Some(n) => number_value(n).map(Some),
        }
    }

    /// The event of `line` within the bounds of a record, or `None` when the general path
    /// must decide (it gives the reason).
    pub(super) fn parse(line: &str) -> Option<SensorEvent> {
        fields(line).filter(|event| bounds::event(event).is_ok())
    }

    /// The fields of a session event, before its bounds are checked.
    fn fields(line: &str) -> Option<SensorEvent> {
        if !line.trim_start().starts_with('{') {
            return None;
        }
        let raw: Raw<'_> = serde_json::from_str(line).ok()?;
        let session = id(raw.session)?;
        let seq = seq_value(raw.seq.as_ref()?)?;
        let ts = records::parse_time(&raw.ts?.0)?;
        match raw.kind?.0.as_ref() {
            "session_start" => {
                let user = match raw.user? {
                    MaybeStr::Str(s) => id(Some(Text(s)))?,
                    MaybeStr::Other => return None,
                };
                Some(SensorEvent::SessionStart(SessionStart {
                    session,
                    seq,
                    ts,
                    device: raw.device.map(|t| t.0.into_owned()),
                    gym: raw.gym.map(|t| t.0.into_owned()),
                    user,
                    exercise: id(raw.exercise)?,
                }))
            }
            "rep" => Some(SensorEvent::Rep(Rep {
                session,
                seq,
                ts,
                weight_kg: number(raw.weight_kg.as_ref())?,
                rom_pct: number(raw.rom_pct.as_ref())?,
            })),
            "sample" => Some(SensorEvent::Sample(Sample {
                session,
                seq,
                ts,
                distance_m: number(raw.distance_m.as_ref())?,
                speed_kmh: number(raw.speed_kmh.as_ref())?,
                incline_pct: number(raw.incline_pct.as_ref())?,
                hr_bpm: number(raw.hr_bpm.as_ref())?,
                calories_kcal: number(raw.calories_kcal.as_ref())?,
            })),
            "session_end" => Some(SensorEvent::SessionEnd(SessionEnd { session, seq, ts })),
            _ => None,
        }
    }
}

/// Parses one sensor event object, within the bounds of a record ([`bounds::event`]).
pub fn parse_event(map: &Map<String, Value>) -> Result<SensorEvent, String> {
    let event = parse_event_fields(map)?;
    bounds::event(&event)?;
    Ok(event)
}

/// The fields of a sensor event object, before its bounds are checked.
fn parse_event_fields(map: &Map<String, Value>) -> Result<SensorEvent, String> {
    let kind = match map.get("type") {
        None | Some(Value::Null) => return Err("missing `type`".to_owned()),
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err("`type` must be a string".to_owned()),
    };
    match kind {
        "session_start" => Ok(SensorEvent::SessionStart(SessionStart {
            session: id(map, "session")?,
            seq: seq(map)?,
            ts: time(map, "ts")?,
            device: optional_string(map, "device")?,
            gym: optional_string(map, "gym")?,
            user: id(map, "user")?,
            exercise: id(map, "exercise")?,
        })),
        "rep" => Ok(SensorEvent::Rep(Rep {
            session: id(map, "session")?,
            seq: seq(map)?,
            ts: time(map, "ts")?,
            weight_kg: optional_number(map, "weight_kg")?,
            rom_pct: optional_number(map, "rom_pct")?,
        })),
        "sample" => Ok(SensorEvent::Sample(Sample {
            session: id(map, "session")?,
            seq: seq(map)?,
            ts: time(map, "ts")?,
            distance_m: optional_number(map, "distance_m")?,
            speed_kmh: optional_number(map, "speed_kmh")?,
            incline_pct: optional_number(map, "incline_pct")?,
            hr_bpm: optional_number(map, "hr_bpm")?,
            calories_kcal: optional_number(map, "calories_kcal")?,
        })),
        "session_end" => Ok(SensorEvent::SessionEnd(SessionEnd {
            session: id(map, "session")?,
            seq: seq(map)?,
            ts: time(map, "ts")?,
        })),
        "user_upsert" => Ok(SensorEvent::UserUpsert(UserUpsert {
            user: record(map, "user", "a user", records::parse_user)?,
            seq: optional_seq(map)?,
            ts: time(map, "ts")?,
        })),
        "workout" => {
            let workout = record(map, "workout", "a workout", records::parse_workout)?;
            Ok(SensorEvent::Workout(ImportedWorkout {
                seq: optional_seq(map)?,
                ts: time(map, "ts")?,
                source: optional_string(map, "source")?,
                workout,
            }))
        }
        other => Err(format!(
            "unknown event type `{other}`; expected session_start, rep, sample, session_end, user_upsert or workout"
        )),
    }
}

/// A `seq` value: a whole number, 0 or more.
fn seq_value(n: &serde_json::Number) -> Option<u64> {
    n.as_u64().or_else(|| {
        n.as_f64()
            .filter(|x| x.is_finite() && *x >= 0.0 && x.fract() == 0.0 && *x < 9.0e15)
            .map(|x| x as u64)
    })
}

fn seq(map: &Map<String, Value>) -> Result<u64, String> {
    match map.get("seq") {
        None | Some(Value::Null) => Err("missing `seq`".to_owned()),
        Some(Value::Number(n)) => seq_value(n)
            .ok_or_else(|| format!("`seq` must be a whole number, 0 or more; found {n}")),
        Some(_) => Err("`seq` must be a whole number".to_owned()),
    }
}

/// The record held in `key` (a user of a `user_upsert`, the workout of a `workout`), read by
/// its own reader, its reasons under `key`.
fn record<T>(
    map: &Map<String, Value>,
    key: &str,
    what: &str,
    read: fn(&Map<String, Value>) -> Result<T, String>,
) -> Result<T, String> {
    match map.get(key) {
        None | Some(Value::Null) => Err(format!("missing `{key}`")),
        Some(Value::Object(inner)) => read(inner).map_err(|e| format!("`{key}`: {e}")),
        Some(_) => Err(format!("`{key}` must be {what} record (an object)")),
    }
}

/// `seq` where it is optional (`user_upsert`, `workout`).
fn optional_seq(map: &Map<String, Value>) -> Result<Option<u64>, String> {
    match map.get("seq") {
        None | Some(Value::Null) => Ok(None),
        Some(_) => seq(map).map(Some),
    }
}

/// What pushing an event into a session did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// A new `(session, seq)`: kept.
    Accepted,
    /// An identical copy of a kept event: nothing changes.
    Duplicate,
    /// A differing copy of a kept `(session, seq)`: kept out (dead letter
    /// [`CONFLICT_REASON`]).
    Conflict,
    /// The event belongs to another session, or to none (`user_upsert`): kept out.
    NotThisSession,
}

/// Why a session cannot (yet) become a workout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionProblem {
    /// No `session_start` has arrived: the session has no user and cannot become a workout.
    NoStart,
    /// No `session_end` has arrived: the session is still open.
    Open,
    /// The `session_end` ts is before the `session_start` ts.
    EndBeforeStart,
    /// The consolidated workout would break a bound of a record ([`crate::bounds::workout`]):
    /// more than 10,000 sets, or a set of more than 1e9 reps.
    OutOfBounds,
}

impl SessionProblem {
    /// A sentence for reports.
    pub fn reason(self) -> &'static str {
        match self {
            SessionProblem::NoStart => "no `session_start`: the session cannot become a workout",
            SessionProblem::Open => "no `session_end` yet: the session is open",
            SessionProblem::EndBeforeStart => {
                "the `session_end` ts is before the `session_start` ts"
            }
            SessionProblem::OutOfBounds => {
                "the session's workout is outside the bounds of a record (more than 10,000 sets, or a set of more than 1e9 reps)"
            }
        }
    }
}

/// The events of one session received so far, deduplicated and ordered by `seq`: the one
/// implementation of the save rules.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SessionState {
    id: String,
    /// Sorted by `seq`, one event per `seq` (a sorted `Vec`: events mostly arrive in order,
    /// so a push is an append, and the save rules read them in one pass).
    events: Vec<SensorEvent>,
}

impl SessionState {
    /// An empty session.
    pub fn new(id: &str) -> SessionState {
        SessionState {
            id: id.to_owned(),
            events: Vec::new(),
        }
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The kept events, in `seq` order.
    pub fn events(&self) -> impl Iterator<Item = &SensorEvent> {
        self.events.iter()
    }

    /// How many events are kept.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds an event: a new `seq` is kept; a copy of a kept one is a duplicate when identical
    /// and a conflict otherwise (the kept one stays).
    pub fn push(&mut self, event: SensorEvent) -> PushOutcome {
        let (Some(session), Some(seq)) = (event.session(), event.seq()) else {
            return PushOutcome::NotThisSession;
        };
        if session != self.id {
            return PushOutcome::NotThisSession;
        }
        match self.find(seq) {
            Ok(i) => match self.events.get(i) {
                Some(kept) if kept.identical(&event) => PushOutcome::Duplicate,
                _ => PushOutcome::Conflict,
            },
            Err(i) => {
                self.events.insert(i, event);
                PushOutcome::Accepted
            }
        }
    }

    /// What [`SessionState::push`] would do with `event`, without keeping it.
    pub fn check(&self, event: &SensorEvent) -> PushOutcome {
        let (Some(session), Some(seq)) = (event.session(), event.seq()) else {
            return PushOutcome::NotThisSession;
        };
        if session != self.id {
            return PushOutcome::NotThisSession;
        }
        match self.find(seq) {
            Ok(i) => match self.events.get(i) {
                Some(kept) if kept.identical(event) => PushOutcome::Duplicate,
                _ => PushOutcome::Conflict,
            },
            Err(_) => PushOutcome::Accepted,
        }
    }

    /// Where the event with `seq` is (`Ok`) or goes (`Err`); the last place first.
    fn find(&self, seq: u64) -> Result<usize, usize> {
        match self.events.last().and_then(SensorEvent::seq) {
            None => Err(self.events.len()),
            Some(last) if last < seq => Err(self.events.len()),
            Some(_) => self
                .events
                .binary_search_by_key(&seq, |e| e.seq().unwrap_or_default()),
        }
    }

    /// The `session_start` that gives the workout's fields (the lowest `seq`).
    pub fn start(&self) -> Option<&SessionStart> {
        self.events.iter().find_map(|e| match e {
            SensorEvent::SessionStart(s) => Some(s),
            _ => None,
        })
    }

    /// The `session_end` that gives the workout's end (the highest `seq`).
    pub fn end(&self) -> Option<&SessionEnd> {
        self.events.iter().rev().find_map(|e| match e {
            SensorEvent::SessionEnd(s) => Some(s),
            _ => None,
        })
    }

    /// The user, once the `session_start` has arrived.
    pub fn user(&self) -> Option<&str> {
        self.start().map(|s| s.user.as_str())
    }

    /// Whether the session has no `session_end` yet.
    pub fn is_open(&self) -> bool {
        self.end().is_none()
    }

    /// The latest ts of any kept event.
    pub fn latest_ts(&self) -> Option<DateTime<FixedOffset>> {
        self.events.iter().map(SensorEvent::ts).max()
    }

    /// Why the session is not (yet) a workout; `None` when [`SessionState::workout`] gives one.
    /// (Consolidates the session: call [`SessionState::saved`] to get both at once.)
    pub fn problem(&self) -> Option<SessionProblem> {
        self.saved().err()
    }

    /// The saved workout: the consolidation of every kept event. `None` while the session has
    /// no start or no end, when it ends before it starts, or when the workout would break a
    /// bound of a record ([`SessionState::problem`] says which).
    pub fn workout(&self) -> Option<Workout> {
        self.saved().ok()
    }

    /// The saved workout, or why there is none: [`SessionState::workout`] and
    /// [`SessionState::problem`] in one consolidation.
    pub fn saved(&self) -> Result<Workout, SessionProblem> {
        let start = self.start().ok_or(SessionProblem::NoStart)?;
        let end = self.end().ok_or(SessionProblem::Open)?;
        if end.ts < start.ts {
            return Err(SessionProblem::EndBeforeStart);
        }
        let workout = self.consolidate(start, end.ts);
        bounds::workout(&workout).map_err(|_| SessionProblem::OutOfBounds)?;
        Ok(workout)
    }

    /// The workout as if the session ended at `at` (the browser's "now"), or, without `at`, at
    /// the latest ts of any kept event; never before the start. Counts every event kept so far,
    /// whether or not the session has ended. `None` without a `session_start`, and when the
    /// workout would break a bound of a record (more than 10,000 sets, or an `at` outside the
    /// years 1970 to 9999).
    pub fn workout_so_far(&self, at: Option<DateTime<FixedOffset>>) -> Option<Workout> {
        let start = self.start()?;
        let end = at.or_else(|| self.latest_ts()).unwrap_or(start.ts);
        Some(self.consolidate(start, end.max(start.ts))).filter(|w| bounds::workout(w).is_ok())
    }

    /// The live workout: as if the session ended at its latest event
    /// ([`SessionState::workout_so_far`] without `at`).
    pub fn live_workout(&self) -> Option<Workout> {
        self.workout_so_far(None)
    }

    /// The save rules over every kept event, in `seq` order.
    fn consolidate(&self, start: &SessionStart, end: DateTime<FixedOffset>) -> Workout {
        let mut sets: Vec<WorkoutSet> = Vec::new();
        // The set being built: its load and counted reps.
        let mut current: Option<(Option<f64>, u32)> = None;
        let mut previous: Option<(Option<f64>, DateTime<FixedOffset>)> = None;
        let mut distance: Option<f64> = None;
        let mut calories: Option<f64> = None;
        let (mut hr_sum, mut hr_n) = (0.0, 0u32);
        let (mut incline_sum, mut incline_n) = (0.0, 0u32);
        let gap = TimeDelta::seconds(SET_GAP_S);
        for event in &self.events {
            match event {
                SensorEvent::Rep(rep) => {
                    let new_set = previous
                        .is_none_or(|(load, ts)| load != rep.weight_kg || rep.ts - ts > gap);
                    if new_set {
                        if let Some((weight_kg, reps)) = current.take() {
                            if reps > 0 {
                                sets.push(WorkoutSet { reps, weight_kg });
                            }
                        }
                        current = Some((rep.weight_kg, 0));
                    }
                    if rep.counts() {
                        if let Some((_, reps)) = current.as_mut() {
                            *reps = reps.saturating_add(1);
                        }
                    }
                    previous = Some((rep.weight_kg, rep.ts));
                }
                SensorEvent::Sample(sample) => {
                    if let Some(d) = sample.distance_m {
                        distance = Some(distance.map_or(d, |m: f64| m.max(d)));
                    }
                    if let Some(c) = sample.calories_kcal {
                        calories = Some(calories.map_or(c, |m: f64| m.max(c)));
                    }
                    if let Some(hr) = sample.hr_bpm {
                        hr_sum += hr;
                        hr_n += 1;
                    }
                    if let Some(incline) = sample.incline_pct {
                        incline_sum += incline;
                        incline_n += 1;
                    }
                }
                SensorEvent::SessionStart(_)
                | SensorEvent::SessionEnd(_)
                | SensorEvent::UserUpsert(_)
                | SensorEvent::Workout(_) => {}
            }
        }
        if let Some((weight_kg, reps)) = current {
            if reps > 0 {
                sets.push(WorkoutSet { reps, weight_kg });
            }
        }
        let mean = |sum: f64, n: u32| (n > 0).then(|| sum / f64::from(n));
        Workout {
            id: self.id.clone(),
            user: start.user.clone(),
            exercise: start.exercise.clone(),
            gym: start.gym.clone(),
            machine: start.device.clone(),
            start: start.ts,
            end,
            sets,
            distance_m: distance,
            calories_kcal: calories,
            avg_hr_bpm: mean(hr_sum, hr_n),
            incline_pct: mean(incline_sum, incline_n),
        }
    }
}

/// Consolidates a whole event stream at once: every session's workout (sessions that cannot
/// become one are left out), sorted by id. Handy for tests and batch tools; the pipeline keeps
/// one [`SessionState`] per session instead.
pub fn workouts_of(events: impl IntoIterator<Item = SensorEvent>) -> Vec<Workout> {
    let mut sessions: BTreeMap<String, SessionState> = BTreeMap::new();
    for event in events {
        if let Some(session) = event.session() {
            let session = session.to_owned();
            sessions
                .entry(session.clone())
                .or_insert_with(|| SessionState::new(&session))
                .push(event);
        }
    }
    sessions
        .values()
        .filter_map(SessionState::workout)
        .collect()
}

#[cfg(test)]
mod tests;
