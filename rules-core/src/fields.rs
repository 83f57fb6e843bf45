//! The readers of a JSON record's fields, shared by the workout and user records
//! ([`crate::records`]) and the sensor events ([`crate::session`]): what each kind of field
//! must be, and the reason a line is rejected when it is not.
//!
//! The reasons are output (a report's rejections, the pipeline's dead letters, the
//! conformance suite reads them), so they are written here once, in data.md's words: the
//! field in backticks, what it must be, and what was found where that helps. `null` for a
//! field means absent.
//!
//! **Invariant:** no reader panics, whatever the JSON.

use chrono::{DateTime, FixedOffset};
use serde_json::{Map, Number, Value};

use crate::records::parse_time;

/// A figure: a finite number, 0 or more.
pub(crate) fn number_value(n: &Number) -> Option<f64> {
    n.as_f64().filter(|x| x.is_finite() && *x >= 0.0)
}

/// The value of `key`, `None` when absent or `null`.
pub(crate) fn optional<'a>(map: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    map.get(key).filter(|v| !v.is_null())
}

/// A required, non-empty string.
pub(crate) fn id(map: &Map<String, Value>, key: &str) -> Result<String, String> {
    match optional(map, key) {
        None => Err(format!("missing `{key}`")),
        Some(Value::String(s)) if s.is_empty() => Err(format!("`{key}` is empty")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

/// A required time ([`parse_time`]: RFC 3339 with an offset).
pub(crate) fn time(map: &Map<String, Value>, key: &str) -> Result<DateTime<FixedOffset>, String> {
    match optional(map, key) {
        None => Err(format!("missing `{key}`")),
        Some(Value::String(s)) => parse_time(s).ok_or_else(|| {
            format!("`{key}` must be an RFC 3339 time with an offset, such as 2026-08-01T07:30:00+08:00; found `{s}`")
        }),
        Some(_) => Err(format!("`{key}` must be a time string")),
    }
}

/// An optional string.
pub(crate) fn optional_string(
    map: &Map<String, Value>,
    key: &str,
) -> Result<Option<String>, String> {
    match optional(map, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

/// An optional figure ([`number_value`]).
pub(crate) fn optional_number(map: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match optional(map, key) {
        None => Ok(None),
        Some(Value::Number(n)) => number_value(n)
            .map(Some)
            .ok_or_else(|| format!("`{key}` must be a number, 0 or more; found {n}")),
        Some(_) => Err(format!("`{key}` must be a number")),
    }
}
