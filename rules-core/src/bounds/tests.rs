//! Every bound at, just under and just over its limit, through the readers that call it: the
//! workout and user readers, and both paths of the sensor event reader.

use super::*;
use crate::records::{read_users, read_workouts};
use crate::session::{parse_event_line, read_events, SessionProblem, SessionState};

/// A workout line with `extra` fields (each `"key": value`) after the required ones.
fn workout_line(extra: &str) -> String {
    format!(
        r#"{{"id": "w-1", "user": "u-1", "exercise": "leg_press", "start": "2026-08-01T07:00:00Z", "end": "2026-08-01T07:10:00Z"{extra}}}"#
    )
}

/// The reader's verdict on one workout line: `Ok(())` or the reason.
fn verdict(line: &str) -> Result<(), String> {
    let report = read_workouts(line);
    assert_eq!(report.read(), 1, "{line}");
    report
        .rejected
        .first()
        .map_or(Ok(()), |r| Err(r.reason.clone()))
}

fn user_verdict(line: &str) -> Result<(), String> {
    let report = read_users(line);
    assert_eq!(report.read(), 1, "{line}");
    report
        .rejected
        .first()
        .map_or(Ok(()), |r| Err(r.reason.clone()))
}

/// Both paths of the event reader agree, and give the verdict.
fn event_verdict(line: &str) -> Result<(), String> {
    let general = read_events(line);
    assert_eq!(general.read(), 1, "{line}");
    let fast = parse_event_line(line);
    let general = general
        .rejected
        .first()
        .map_or(Ok(()), |r| Err(r.reason.clone()));
    assert_eq!(fast.clone().map(|_| ()), general, "{line}");
    general
}

fn rejected_with(outcome: Result<(), String>, words: &[&str]) {
    let reason = outcome.expect_err("rejected");
    for w in words {
        assert!(reason.contains(w), "`{w}` not in: {reason}");
    }
}

#[test]
fn the_hostile_workout_of_issue_18_is_rejected() {
    let line = r#"{"id":"w1","user":"u1","exercise":"leg_press","start":"2026-08-01T07:00:00Z","end":"2026-08-01T07:10:00Z","sets":[{"reps":3,"weight_kg":1e308},{"reps":5,"weight_kg":1.7e308}]}"#;
    rejected_with(
        verdict(line),
        &["`sets[0]`", "`weight_kg`", "from 0 to 1e9", "found 1e308"],
    );
}

#[test]
fn every_number_field_of_a_workout_is_bounded_at_1e9() {
    for key in ["distance_m", "calories_kcal", "avg_hr_bpm", "incline_pct"] {
        for (value, ok) in [
            ("999999999.999", true),
            ("1000000000", true),
            ("1e9", true),
            ("1000000000.00000001", true), // the same double as 1e9
            ("1000000000.0000002", false), // the next double above 1e9
            ("1000000000.001", false),
            ("1000000001", false),
            ("1e308", false),
        ] {
            let outcome = verdict(&workout_line(&format!(r#", "{key}": {value}"#)));
            if ok {
                assert_eq!(outcome, Ok(()), "{key} {value}");
            } else {
                rejected_with(outcome, &[&format!("`{key}`"), "from 0 to 1e9"]);
            }
        }
    }
}

#[test]
fn reps_and_weight_of_a_set_are_bounded_at_1e9() {
    let set = |reps: &str, weight: &str| {
        verdict(&workout_line(&format!(
            r#", "sets": [{{"reps": 1}}, {{"reps": {reps}, "weight_kg": {weight}}}]"#
        )))
    };
    assert_eq!(set("999999999", "999999999"), Ok(()));
    assert_eq!(set("1000000000", "1000000000"), Ok(()));
    rejected_with(
        set("1000000001", "10"),
        &[
            "`sets[1]`",
            "`reps` must be a whole number from 0 to 1e9",
            "1000000001",
        ],
    );
    rejected_with(
        set("3", "1000000001"),
        &["`sets[1]`", "`weight_kg`", "found 1000000001"],
    );
    // Above what a set's reps can hold at all: still a reason, not a crash.
    assert!(set("5000000000", "1").is_err());
}

#[test]
fn a_workout_holds_at_most_10000_sets() {
    let sets = |n: usize| {
        let sets = vec![r#"{"reps": 1, "weight_kg": 1}"#; n].join(", ");
        verdict(&workout_line(&format!(r#", "sets": [{sets}]"#)))
    };
    assert_eq!(sets(9_999), Ok(()));
    assert_eq!(sets(10_000), Ok(()));
    rejected_with(sets(10_001), &["`sets` has 10001 sets, more than 10,000"]);
}

#[test]
fn ids_and_names_of_a_workout_hold_at_most_256_bytes() {
    for key in ["id", "user", "exercise", "gym", "machine"] {
        for (len, ok) in [(255, true), (256, true), (257, false)] {
            let mut map: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&workout_line("")).unwrap();
            map.insert(key.to_owned(), "x".repeat(len).into());
            let line = serde_json::Value::Object(map).to_string();
            if ok {
                assert_eq!(verdict(&line), Ok(()), "{key} {len}");
            } else {
                rejected_with(
                    verdict(&line),
                    &[&format!("`{key}` is longer than 256 bytes (257 bytes)")],
                );
            }
        }
    }
    // Bytes, not characters: 128 two-byte characters fit, 129 do not.
    let e = |n: usize| verdict(&workout_line(&format!(r#", "gym": "{}""#, "é".repeat(n))));
    assert_eq!(e(128), Ok(()));
    rejected_with(e(129), &["`gym` is longer than 256 bytes (258 bytes)"]);
}

#[test]
fn times_fall_in_the_years_1970_to_9999_of_utc() {
    let with = |start: &str, end: &str| {
        verdict(&format!(
            r#"{{"id": "w", "user": "u", "exercise": "bike", "start": "{start}", "end": "{end}"}}"#
        ))
    };
    // At and just inside the bounds.
    assert_eq!(with("1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"), Ok(()));
    assert_eq!(
        with("9999-12-31T23:00:00Z", "9999-12-31T23:59:59.999999999Z"),
        Ok(())
    );
    // Just outside.
    rejected_with(
        with("1969-12-31T23:59:59.999Z", "1970-01-01T00:10:00Z"),
        &["`start`", "outside the years 1970 to 9999"],
    );
    rejected_with(
        with("1969-12-31T23:00:00Z", "1969-12-31T23:10:00Z"),
        &["`start`"],
    );
    // The instant decides, not the year as written: 1970 written at +01:00 is 1969 in UTC...
    rejected_with(
        with("1970-01-01T00:30:00+01:00", "1970-01-01T02:00:00Z"),
        &["`start` (1970-01-01 00:30:00 +01:00) is outside the years 1970 to 9999 (UTC)"],
    );
    // ... 1969 written at -05:00 can be 1970 in UTC...
    assert_eq!(
        with("1969-12-31T20:00:00-05:00", "1970-01-01T02:00:00Z"),
        Ok(())
    );
    // ... and 9999 written at -01:00 can be 10000 in UTC.
    rejected_with(
        with("9999-12-31T22:00:00Z", "9999-12-31T23:30:00-01:00"),
        &["`end`", "outside the years 1970 to 9999"],
    );
    // A year of five digits is not RFC 3339: not a time at all.
    rejected_with(
        with("9999-12-31T22:00:00Z", "10000-01-01T00:00:00Z"),
        &["`end` must be an RFC 3339 time"],
    );
}

#[test]
fn user_records_are_bounded() {
    assert_eq!(
        user_verdict(&format!(
            r#"{{"id": "{}", "name": "{}", "groups": ["{}", "g"], "sex": "f", "body_weight_kg": 1e9, "height_cm": 1000000000}}"#,
            "i".repeat(256),
            "n".repeat(256),
            "g".repeat(256)
        )),
        Ok(())
    );
    rejected_with(
        user_verdict(&format!(r#"{{"id": "{}"}}"#, "i".repeat(257))),
        &["`id` is longer than 256 bytes"],
    );
    rejected_with(
        user_verdict(&format!(r#"{{"id": "u", "name": "{}"}}"#, "n".repeat(257))),
        &["`name` is longer than 256 bytes"],
    );
    rejected_with(
        user_verdict(&format!(
            r#"{{"id": "u", "groups": ["g", "{}"]}}"#,
            "g".repeat(100_000)
        )),
        &["`groups[1]` is longer than 256 bytes (100000 bytes)"],
    );
    rejected_with(
        user_verdict(&format!(r#"{{"id": "u", "sex": "{}"}}"#, "s".repeat(257))),
        &["`sex` is longer than 256 bytes"],
    );
    rejected_with(
        user_verdict(r#"{"id": "u", "body_weight_kg": 1000000001}"#),
        &["`body_weight_kg` must be a number from 0 to 1e9; found 1000000001"],
    );
    rejected_with(
        user_verdict(r#"{"id": "u", "height_cm": 1.5e9}"#),
        &["`height_cm`", "found 1500000000"],
    );
    // A birth date is a date, not a time: members were born before 1970.
    assert_eq!(
        user_verdict(r#"{"id": "u", "birth_date": "1948-05-01"}"#),
        Ok(())
    );
}

const TS: &str = "2026-08-01T07:30:00Z";

#[test]
fn sensor_events_are_bounded_on_both_paths() {
    let rep = |fields: &str| {
        event_verdict(&format!(
            r#"{{"type": "rep", "session": "s", "seq": 1, "ts": "{TS}"{fields}}}"#
        ))
    };
    assert_eq!(rep(r#", "weight_kg": 1e9, "rom_pct": 1000000000"#), Ok(()));
    rejected_with(rep(r#", "weight_kg": 1000000001"#), &["`weight_kg`", "1e9"]);
    rejected_with(rep(r#", "rom_pct": 1e308"#), &["`rom_pct`", "found 1e308"]);
    for key in [
        "distance_m",
        "speed_kmh",
        "incline_pct",
        "hr_bpm",
        "calories_kcal",
    ] {
        let sample = |v: &str| {
            event_verdict(&format!(
                r#"{{"type": "sample", "session": "s", "seq": 1, "ts": "{TS}", "{key}": {v}}}"#
            ))
        };
        assert_eq!(sample("1000000000"), Ok(()), "{key}");
        rejected_with(sample("1000000001"), &[&format!("`{key}`")]);
    }
    // `seq` is a number field too.
    let end = |seq: &str, ts: &str| {
        event_verdict(&format!(
            r#"{{"type": "session_end", "session": "s", "seq": {seq}, "ts": "{ts}"}}"#
        ))
    };
    assert_eq!(end("1000000000", TS), Ok(()));
    rejected_with(
        end("1000000001", TS),
        &["`seq` must be a whole number from 0 to 1e9; found 1000000001"],
    );
    assert_eq!(end("1", "1970-01-01T00:00:00Z"), Ok(()));
    rejected_with(
        end("1", "1969-12-31T23:59:59Z"),
        &["`ts`", "outside the years 1970 to 9999"],
    );
    rejected_with(end("1", "9999-12-31T23:59:59-00:01"), &["`ts`"]);
    // Strings: the session id, the device, the gym, the user and the exercise.
    let start = |field: &str, len: usize| {
        let mut map: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&format!(
            r#"{{"type": "session_start", "session": "s", "seq": 0, "ts": "{TS}", "device": "d", "gym": "g", "user": "u", "exercise": "bike"}}"#
        ))
        .unwrap();
        map.insert(field.to_owned(), "x".repeat(len).into());
        event_verdict(&serde_json::Value::Object(map).to_string())
    };
    for field in ["session", "device", "gym", "user", "exercise"] {
        assert_eq!(start(field, 256), Ok(()), "{field}");
        rejected_with(
            start(field, 257),
            &[&format!("`{field}` is longer than 256 bytes")],
        );
    }
    // The 2 MB session id of the issue.
    rejected_with(start("session", 2_000_000), &["(2000000 bytes)"]);
    // A user record in a `user_upsert` is a user record.
    let upsert = |user: &str| {
        event_verdict(&format!(
            r#"{{"type": "user_upsert", "ts": "{TS}", "user": {user}}}"#
        ))
    };
    assert_eq!(upsert(r#"{"id": "u", "body_weight_kg": 1e9}"#), Ok(()));
    rejected_with(
        upsert(&format!(
            r#"{{"id": "u", "groups": ["{}"]}}"#,
            "g".repeat(100_000)
        )),
        &["`user`: `groups[0]` is longer than 256 bytes"],
    );
}

/// A session of `sets` sets, each one rep at a load of its own.
fn session_of_sets(sets: u64) -> SessionState {
    let start = format!(
        r#"{{"type": "session_start", "session": "s", "seq": 0, "ts": "{TS}", "user": "u", "exercise": "leg_press"}}"#
    );
    let mut s = SessionState::new("s");
    s.push(parse_event_line(&start).unwrap());
    for i in 0..sets {
        let rep = format!(
            r#"{{"type": "rep", "session": "s", "seq": {}, "ts": "{TS}", "weight_kg": {}}}"#,
            i + 1,
            i % 2 + 1
        );
        s.push(parse_event_line(&rep).unwrap());
    }
    let end = format!(
        r#"{{"type": "session_end", "session": "s", "seq": {}, "ts": "{TS}"}}"#,
        sets + 1
    );
    s.push(parse_event_line(&end).unwrap());
    s
}

#[test]
fn a_session_of_more_than_10000_sets_does_not_become_a_workout() {
    let at = session_of_sets(10_000);
    assert_eq!(at.problem(), None);
    assert_eq!(at.workout().map(|w| w.sets.len()), Some(10_000));
    let over = session_of_sets(10_001);
    assert_eq!(over.problem(), Some(SessionProblem::OutOfBounds));
    assert_eq!(over.saved(), Err(SessionProblem::OutOfBounds));
    assert_eq!(over.workout(), None);
    assert_eq!(over.live_workout(), None);
    assert!(SessionProblem::OutOfBounds.reason().contains("10,000 sets"));
}

#[test]
fn records_built_in_code_are_checked_too() {
    let mut w = read_workouts(&workout_line(
        r#", "sets": [{"reps": 3, "weight_kg": 100}]"#,
    ))
    .into_records()
    .pop()
    .unwrap();
    assert_eq!(workout(&w), Ok(()));
    w.distance_m = Some(f64::INFINITY);
    rejected_with(workout(&w), &["`distance_m`", "found inf"]);
    w.distance_m = Some(f64::NAN);
    rejected_with(workout(&w), &["`distance_m`", "found NaN"]);
}
