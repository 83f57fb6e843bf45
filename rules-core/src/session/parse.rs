//! Reading sensor events from JSON: [`read_events`] over JSON Lines, [`parse_event_line`] for
//! one line (a fast path for session events, the general path for everything else and for
//! every rejection reason), and [`parse_event`] for one object already parsed.

use serde_json::{Map, Value};

use super::events::{
    ImportedWorkout, Rep, Sample, SensorEvent, SessionEnd, SessionStart, UserUpsert,
};
use crate::bounds;
use crate::fields::{id, number_value, optional_number, optional_string, time};
use crate::records::{self, ReadReport};

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

#[cfg(test)]
mod tests;
