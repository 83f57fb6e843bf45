//! Workout and user records and their JSON Lines readers (data.md).
//!
//! Records come from devices and other systems, so every line is validated by hand: a missing
//! required field, a wrong type, an empty id, a negative number, an end before a start, or a
//! value outside the bounds of a record ([`crate::bounds`]: a number above 1e9, a string longer
//! than 256 bytes, more than 10,000 sets, a time outside the years 1970 to 9999) is a
//! [`Rejection`] with its line number and a reason, never a panic. Unknown fields are ignored and
//! `null` for an optional field means absent. Every reader reports how many records it read,
//! accepted and rejected, and `read == accepted + rejected` always holds.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::bounds;
use crate::fields::{id, optional, optional_number, optional_string, time};

/// One set of a strength or bodyweight workout.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorkoutSet {
    /// Counted reps.
    pub reps: u32,
    /// The load; absent (or 0) for a set without load.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub weight_kg: Option<f64>,
}

impl WorkoutSet {
    /// The set's load when it has one (`weight_kg` present and above 0).
    pub fn load(&self) -> Option<f64> {
        self.weight_kg.filter(|&w| w > 0.0)
    }
}

/// A workout record: one user's session on one machine.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Workout {
    /// Unique id; a later record with the same id replaces the earlier.
    pub id: String,
    /// The user.
    pub user: String,
    /// Exercise id from the catalog (unknown exercises are kept; they match no selector).
    pub exercise: String,
    /// The gym.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gym: Option<String>,
    /// The machine (device id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine: Option<String>,
    /// Start, with the offset it was written in.
    pub start: DateTime<FixedOffset>,
    /// End, not before the start.
    pub end: DateTime<FixedOffset>,
    /// Sets (strength and bodyweight).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<WorkoutSet>,
    /// Distance in metres.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub distance_m: Option<f64>,
    /// Energy in kcal.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub calories_kcal: Option<f64>,
    /// Mean heart rate.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub avg_hr_bpm: Option<f64>,
    /// Mean incline in percent.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub incline_pct: Option<f64>,
}

impl Workout {
    /// Duration in seconds (`end − start`), to the nanosecond the times are written with
    /// (language.md defines duration as end − start; data.md allows fractional seconds).
    pub fn duration_s(&self) -> f64 {
        seconds(self.end - self.start)
    }
}

/// A time difference in seconds, to the nanosecond: the nearest `f64` to the exact figure
/// when it fits in 64-bit nanoseconds (± 292 years), else whole seconds plus the fraction.
pub(crate) fn seconds(delta: chrono::TimeDelta) -> f64 {
    match delta.num_nanoseconds() {
        Some(nanos) => nanos as f64 / 1e9,
        None => delta.num_seconds() as f64 + f64::from(delta.subsec_nanos()) / 1e9,
    }
}

/// The ids of the users whose record lists `group`, sorted, without repeats: a team's members
/// (language.md §10; a user without a record is in no team).
pub fn members_of<'u>(group: &str, users: &'u [User]) -> Vec<&'u str> {
    let mut members: Vec<&str> = users
        .iter()
        .filter(|u| u.groups.iter().any(|g| g == group))
        .map(|u| u.id.as_str())
        .collect();
    members.sort_unstable();
    members.dedup();
    members
}

/// A user record.
#[derive(Clone, Debug, PartialEq, Default, Serialize)]
pub struct User {
    /// Unique id.
    pub id: String,
    /// Display name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Groups the user is in (challenge eligibility, leaderboard filters).
    pub groups: Vec<String>,
    /// Date of birth.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<NaiveDate>,
    /// Sex as recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sex: Option<String>,
    /// Body weight.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub body_weight_kg: Option<f64>,
    /// Height.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "number")]
    pub height_cm: Option<f64>,
}

impl User {
    /// A user known only by id (from workouts), in no group.
    pub fn unknown(id: &str) -> User {
        User {
            id: id.to_owned(),
            ..User::default()
        }
    }
}

/// A record that was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rejection {
    /// 1-based line number in the input.
    pub line: usize,
    /// Why, naming the field.
    pub reason: String,
}

/// What a JSON Lines reader made of its input.
#[derive(Clone, Debug, PartialEq)]
pub struct ReadReport<T> {
    /// Accepted records with their line numbers, in input order.
    pub accepted: Vec<(usize, T)>,
    /// Rejected records.
    pub rejected: Vec<Rejection>,
}

impl<T> ReadReport<T> {
    /// Records read (blank lines are not records).
    pub fn read(&self) -> usize {
        self.accepted.len() + self.rejected.len()
    }

    /// The accepted records, in input order.
    pub fn into_records(self) -> Vec<T> {
        self.accepted.into_iter().map(|(_, r)| r).collect()
    }
}

/// Writes optional numbers as the tree does: whole numbers without `.0`.
fn number<S: serde::Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => crate::tree::serialize_number(v, serializer),
        None => serializer.serialize_none(),
    }
}

/// Reads workout records, one JSON object per line.
pub fn read_workouts(text: &str) -> ReadReport<Workout> {
    read_lines(text, parse_workout)
}

/// Reads user records, one JSON object per line.
pub fn read_users(text: &str) -> ReadReport<User> {
    read_lines(text, parse_user)
}

/// Applies `parse` to every non-blank line.
pub fn read_lines<T>(
    text: &str,
    parse: impl Fn(&Map<String, Value>) -> Result<T, String>,
) -> ReadReport<T> {
    let mut report = ReadReport {
        accepted: Vec::new(),
        rejected: Vec::new(),
    };
    for (index, line) in text.lines().enumerate() {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        let outcome = match serde_json::from_str::<Value>(line) {
            Ok(Value::Object(map)) => parse(&map),
            Ok(_) => Err("the record is not a JSON object".to_owned()),
            Err(e) => Err(format!("not valid JSON: {e}")),
        };
        match outcome {
            Ok(record) => report.accepted.push((number, record)),
            Err(reason) => report.rejected.push(Rejection {
                line: number,
                reason,
            }),
        }
    }
    report
}

/// Keeps the last record of each workout id (data.md: the later accepted record replaces the
/// earlier), in the order of first appearance.
pub fn upsert_workouts(workouts: Vec<Workout>) -> Vec<Workout> {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(workouts.len());
    let mut out: Vec<Workout> = Vec::with_capacity(workouts.len());
    for workout in workouts {
        match index.get(&workout.id) {
            Some(&i) => {
                if let Some(slot) = out.get_mut(i) {
                    *slot = workout;
                }
            }
            None => {
                index.insert(workout.id.clone(), out.len());
                out.push(workout);
            }
        }
    }
    out
}

/// Keeps the last record of each user id.
pub fn upsert_users(users: Vec<User>) -> Vec<User> {
    let mut by_id: HashMap<String, User> = HashMap::with_capacity(users.len());
    for user in users {
        by_id.insert(user.id.clone(), user);
    }
    let mut out: Vec<User> = by_id.into_values().collect();
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out
}

/// The users a command evaluates (data.md): those with an accepted user record or an accepted
/// workout, sorted by id, each with its record (a user known only from workouts is in no group);
/// only `only` when given, even with no record and no workout. The CLI's `eval` and the WASM
/// `evaluate` both use this, so they evaluate the same users.
pub fn users_to_evaluate(users: &[User], workouts: &[Workout], only: Option<&str>) -> Vec<User> {
    let records: HashMap<&str, &User> = users.iter().map(|u| (u.id.as_str(), u)).collect();
    let ids: std::collections::BTreeSet<&str> = match only {
        Some(only) => [only].into(),
        None => records
            .keys()
            .copied()
            .chain(workouts.iter().map(|w| w.user.as_str()))
            .collect(),
    };
    ids.into_iter()
        .map(|id| {
            records
                .get(id)
                .map_or_else(|| User::unknown(id), |u| (*u).clone())
        })
        .collect()
}

/// Parses one workout object, within the bounds of a record ([`crate::bounds::workout`]).
pub fn parse_workout(map: &Map<String, Value>) -> Result<Workout, String> {
    let workout = parse_workout_fields(map)?;
    bounds::workout(&workout)?;
    Ok(workout)
}

/// The fields of a workout object, before its bounds are checked.
fn parse_workout_fields(map: &Map<String, Value>) -> Result<Workout, String> {
    let start = time(map, "start")?;
    let end = time(map, "end")?;
    if end < start {
        return Err(format!("`end` ({end}) is before `start` ({start})"));
    }
    let sets = match optional(map, "sets") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| parse_set(item).map_err(|e| format!("`sets[{i}]`: {e}")))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`sets` must be a list of sets".to_owned()),
    };
    Ok(Workout {
        id: id(map, "id")?,
        user: id(map, "user")?,
        exercise: id(map, "exercise")?,
        gym: optional_string(map, "gym")?,
        machine: optional_string(map, "machine")?,
        start,
        end,
        sets,
        distance_m: optional_number(map, "distance_m")?,
        calories_kcal: optional_number(map, "calories_kcal")?,
        avg_hr_bpm: optional_number(map, "avg_hr_bpm")?,
        incline_pct: optional_number(map, "incline_pct")?,
    })
}

fn parse_set(item: &Value) -> Result<WorkoutSet, String> {
    let Value::Object(map) = item else {
        return Err("a set must be an object with `reps`".to_owned());
    };
    let reps = match map.get("reps") {
        None | Some(Value::Null) => return Err("missing `reps`".to_owned()),
        Some(v) => whole_number(v).ok_or("`reps` must be a whole number, 0 or more")?,
    };
    Ok(WorkoutSet {
        reps,
        weight_kg: optional_number(map, "weight_kg")?,
    })
}

/// Parses one user object, within the bounds of a record ([`crate::bounds::user`]).
pub fn parse_user(map: &Map<String, Value>) -> Result<User, String> {
    let user = parse_user_fields(map)?;
    bounds::user(&user)?;
    Ok(user)
}

/// The fields of a user object, before its bounds are checked.
fn parse_user_fields(map: &Map<String, Value>) -> Result<User, String> {
    let groups = match optional(map, "groups") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|g| g.as_str().map(str::to_owned))
            .collect::<Option<_>>()
            .ok_or("`groups` must be a list of strings")?,
        Some(_) => return Err("`groups` must be a list of strings".to_owned()),
    };
    let birth_date = optional_string(map, "birth_date")?
        .map(|s| {
            NaiveDate::parse_from_str(&s, "%Y-%m-%d")
                .map_err(|_| format!("`birth_date` must be a date YYYY-MM-DD, found `{s}`"))
        })
        .transpose()?;
    Ok(User {
        id: id(map, "id")?,
        name: optional_string(map, "name")?,
        groups,
        birth_date,
        sex: optional_string(map, "sex")?,
        body_weight_kg: optional_number(map, "body_weight_kg")?,
        height_cm: optional_number(map, "height_cm")?,
    })
}

/// Parses an RFC 3339 time with an offset (data.md: `T`, `t` or a space; `Z` or `z`;
/// fractional seconds allowed; no offset is rejected).
pub fn parse_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_rfc3339(text).ok()
}

fn whole_number(v: &Value) -> Option<u32> {
    let x = v.as_f64()?;
    (x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX)).then_some(x as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_to_evaluate_are_records_and_workout_owners_sorted() {
        let users =
            upsert_users(read_users("{\"id\":\"u-2\",\"groups\":[\"g\"]}\n").into_records());
        let workouts = read_workouts(
            "{\"id\":\"w\",\"user\":\"u-1\",\"exercise\":\"bike\",\"start\":\"2026-08-01T07:00:00Z\",\"end\":\"2026-08-01T07:10:00Z\"}\n",
        )
        .into_records();
        let all = users_to_evaluate(&users, &workouts, None);
        let ids: Vec<&str> = all.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, ["u-1", "u-2"]);
        assert!(all[0].groups.is_empty());
        assert_eq!(all[1].groups, ["g"]);
        let only = users_to_evaluate(&users, &workouts, Some("u-9"));
        assert_eq!(only, [User::unknown("u-9")]);
    }

    const GOOD: &str = r#"{"id": "w-0001", "user": "u-01", "exercise": "leg_press", "gym": "gym-01", "machine": "lp-03", "start": "2026-08-01T07:30:00+08:00", "end": "2026-08-01T07:42:00+08:00", "sets": [{"reps": 12, "weight_kg": 40}, {"reps": 10, "weight_kg": 45}]}"#;

    #[test]
    fn reads_the_example_of_data_md() {
        let report = read_workouts(GOOD);
        assert_eq!(report.read(), 1);
        let w = &report.accepted[0].1;
        assert_eq!(w.sets.len(), 2);
        assert_eq!(w.duration_s(), 720.0);
        assert_eq!(w.gym.as_deref(), Some("gym-01"));
    }

    #[test]
    fn bad_lines_are_counted_with_reasons() {
        let text = format!(
            "{GOOD}\n\nnot json\n{}\n{}\n{}\n{}\n",
            r#"{"id": "w-2", "user": "u", "exercise": "x", "start": "2026-08-01T07:30:00", "end": "2026-08-01T07:42:00Z"}"#,
            r#"{"id": "", "user": "u", "exercise": "x", "start": "2026-08-01T07:30:00Z", "end": "2026-08-01T07:42:00Z"}"#,
            r#"{"id": "w-3", "user": "u", "exercise": "x", "start": "2026-08-01T08:30:00Z", "end": "2026-08-01T07:42:00Z"}"#,
            r#"{"id": "w-4", "user": "u", "exercise": "x", "start": "2026-08-01T07:30:00Z", "end": "2026-08-01T07:42:00Z", "distance_m": -1}"#,
        );
        let report = read_workouts(&text);
        assert_eq!(report.read(), 6);
        assert_eq!(report.accepted.len(), 1);
        let lines: Vec<usize> = report.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 6, 7]);
        assert!(report.rejected[1].reason.contains("offset"));
        assert!(report.rejected[2].reason.contains("`id` is empty"));
        assert!(report.rejected[3].reason.contains("before"));
        assert!(report.rejected[4].reason.contains("distance_m"));
    }

    #[test]
    fn times_accept_the_rfc3339_variants_of_data_md() {
        for t in [
            "2026-08-01T07:30:00+08:00",
            "2026-08-01t07:30:00z",
            "2026-08-01 07:30:00.250Z",
        ] {
            assert!(parse_time(t).is_some(), "{t}");
        }
        assert!(parse_time("2026-08-01T07:30:00").is_none());
    }

    #[test]
    fn nulls_are_absent_and_unknown_fields_ignored() {
        let report = read_users(r#"{"id": "u-01", "groups": null, "sex": null, "colour": "teal"}"#);
        assert_eq!(report.accepted.len(), 1);
        assert!(report.accepted[0].1.groups.is_empty());
        let report = read_users(r#"{"id": "u-02", "groups": "staff"}"#);
        assert_eq!(report.rejected.len(), 1);
    }

    #[test]
    fn upsert_keeps_the_later_record() {
        let mut a = read_workouts(GOOD).into_records();
        let mut b = a.clone();
        b[0].user = "u-09".into();
        a.append(&mut b);
        let merged = upsert_workouts(a);
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].user, "u-09");
    }
}
