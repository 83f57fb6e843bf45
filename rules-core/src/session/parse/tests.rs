//! Reading sensor events: the examples of data.md, a reason for every bad line, and the fast
//! path of `parse_event_line` agreeing with the general path.

use proptest::prelude::*;

use super::*;
use crate::session::test_lines::{END, START};

#[test]
fn reads_the_examples_of_data_md() {
    let text = r#"{"type": "session_start", "session": "s-001", "seq": 0, "ts": "2026-08-01T07:30:00+08:00", "device": "lp-03", "gym": "gym-01", "user": "u-01", "exercise": "leg_press"}
{"type": "rep", "session": "s-001", "seq": 1, "ts": "2026-08-01T07:30:04+08:00", "weight_kg": 40, "rom_pct": 97}

{"type": "sample", "session": "s-002", "seq": 7, "ts": "2026-08-01T18:01:00+08:00", "distance_m": 230, "speed_kmh": 9.5, "incline_pct": 1.0, "hr_bpm": 142}
{"type": "session_end", "session": "s-001", "seq": 40, "ts": "2026-08-01T07:42:00+08:00"}
{"type": "user_upsert", "seq": 0, "ts": "2026-07-01T00:00:00Z", "user": {"id": "u-01", "groups": ["nsfit"]}}
"#;
    let report = read_events(text);
    assert_eq!(report.read(), 5);
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
    let names: Vec<&str> = report.accepted.iter().map(|(_, e)| e.type_name()).collect();
    assert_eq!(
        names,
        [
            "session_start",
            "rep",
            "sample",
            "session_end",
            "user_upsert"
        ]
    );
    assert_eq!(
        report.accepted[2].0, 4,
        "blank lines are skipped but keep line numbers"
    );
    let SensorEvent::UserUpsert(u) = &report.accepted[4].1 else {
        panic!()
    };
    assert_eq!(u.user.groups, ["nsfit"]);
}

#[test]
fn bad_lines_are_rejected_with_line_and_reason() {
    let text = [
        "not json",
        "[1]",
        r#"{"session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "jump", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "", "seq": 1, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": -1, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1.5, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "weight_kg": -5}"#,
        r#"{"type": "rep", "session": "s", "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "exercise": "bike"}"#,
        r#"{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "user": "u", "exercise": null}"#,
        r#"{"type": "sample", "session": "s", "seq": 3, "ts": "2026-08-01T07:30:00Z", "hr_bpm": "fast"}"#,
        r#"{"type": "user_upsert", "ts": "2026-08-01T07:30:00Z", "user": {"groups": []}}"#,
        r#"{"type": "user_upsert", "ts": "2026-08-01T07:30:00Z", "user": "u-01"}"#,
        r#"{"type": "rep", "session": "s", "seq": 2, "ts": "2026-08-01T07:30:00Z", "weight_kg": null, "rom_pct": null, "colour": 3}"#,
    ]
    .join("\n");
    let report = read_events(&text);
    assert_eq!(report.read(), 16);
    assert_eq!(report.accepted.len(), 1, "only the last line is good");
    let reasons: Vec<(usize, &str)> = report
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    let expect = [
        (1, "not valid JSON"),
        (2, "not a JSON object"),
        (3, "missing `type`"),
        (4, "unknown event type `jump`"),
        (5, "`session` is empty"),
        (6, "`seq` must be a whole number"),
        (7, "`seq` must be a whole number"),
        (8, "offset"),
        (9, "`weight_kg` must be a number, 0 or more"),
        (10, "missing `seq`"),
        (11, "missing `user`"),
        (12, "missing `exercise`"),
        (13, "`hr_bpm` must be a number"),
        (14, "`user`: missing `id`"),
        (15, "`user` must be a user record"),
    ];
    for ((line, reason), (el, er)) in reasons.iter().zip(expect) {
        assert_eq!(*line, el);
        assert!(reason.contains(er), "line {line}: {reason} (expected {er})");
    }
    assert_eq!(reasons.len(), expect.len());
}

/// The fast path of `parse_event_line` gives what the general path gives, on tricky lines.
#[test]
fn the_fast_path_agrees_with_the_general_path() {
    let lines = [
        START,
        END,
        "not json",
        "[1]",
        r#"["rep", "s", 1, "2026-08-01T07:30:00Z"]"#,
        r#"  {"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z"}  "#,
        r#"{"type": "rep", "session": "s", "seq": 1, "seq": 2, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "weight_kg": 1, "weight_kg": "x"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "weight_kg": "x", "weight_kg": 1}"#,
        r#"{"type": "rep", "session": "s\u0031", "seq": 1.0, "ts": "2026-08-01T07:30:00+08:00", "weight_kg": 1e2, "rom_pct": -0.0}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "device": 3, "user": [1, {"a": 2}]}"#,
        r#"{"type": "rep", "session": "s", "seq": 1e20, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": 18446744073709551615, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "rom_pct": 1e400}"#,
        r#"{"type": "rep", "session": null, "seq": 1, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": null, "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "user": {"id": "u"}, "exercise": "bike"}"#,
        r#"{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "user": "", "exercise": "bike"}"#,
        r#"{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "user": "u", "exercise": "bike", "device": null, "gym": "g\n"}"#,
        r#"{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "user": "u", "exercise": "bike", "gym": 1}"#,
        r#"{"type": "sample", "session": "s", "seq": 3, "ts": "2026-08-01T07:30:00Z", "hr_bpm": 120, "distance_m": 1.5, "speed_kmh": 3, "incline_pct": 0, "calories_kcal": 2.25, "extra": {"x": [1, 2]}}"#,
        r#"{"type": "session_end", "session": "s", "seq": 4, "ts": "2026-08-01T07:30:00Z", "seq": 5}"#,
        r#"{"type": "user_upsert", "ts": "2026-08-01T07:30:00Z", "user": {"id": "u", "groups": ["a"]}}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z"} x"#,
        // The bounds of a record (data.md 1.1): at and over each.
        r#"{"type": "rep", "session": "s", "seq": 1000000000, "ts": "1970-01-01T00:00:00Z", "weight_kg": 1e9}"#,
        r#"{"type": "rep", "session": "s", "seq": 1000000001, "ts": "2026-08-01T07:30:00Z"}"#,
        r#"{"type": "rep", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "weight_kg": 1.7e308}"#,
        r#"{"type": "sample", "session": "s", "seq": 1, "ts": "2026-08-01T07:30:00Z", "hr_bpm": 1000000000.5}"#,
        r#"{"type": "session_end", "session": "s", "seq": 1, "ts": "1970-01-01T00:59:59+01:00"}"#,
        r#"{"type": "session_end", "session": "s", "seq": 1, "ts": "9999-12-31T23:59:59Z"}"#,
        r#"{"type": "session_end", "session": "s", "seq": 1, "ts": "9999-12-31T23:59:59-00:01"}"#,
    ];
    for line in lines {
        assert_eq!(parse_event_line(line), parse_general(line), "{line}");
    }
    let long = "x".repeat(257);
    let line = format!(
        r#"{{"type": "session_start", "session": "s", "seq": 0, "ts": "2026-08-01T07:30:00Z", "user": "u", "exercise": "bike", "device": "{long}"}}"#
    );
    assert!(parse_event_line(&line).is_err());
    assert_eq!(parse_event_line(&line), parse_general(&line));
}

/// A string of 257 bytes, one over the bound of an id, as JSON.
const LONG_ID: &str = "\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random field values of random JSON types (bounds included): both paths agree.
    #[test]
    fn the_fast_path_agrees_on_random_fields(
        kind in prop_oneof![
            Just("\"rep\""), Just("\"sample\""), Just("\"session_start\""),
            Just("\"session_end\""), Just("\"user_upsert\""), Just("null"), Just("3"),
        ],
        fields in prop::collection::vec(
            (
                prop_oneof![
                    Just("session"), Just("seq"), Just("ts"), Just("user"), Just("exercise"),
                    Just("device"), Just("gym"), Just("weight_kg"), Just("rom_pct"),
                    Just("distance_m"), Just("hr_bpm"), Just("speed_kmh"), Just("other"),
                ],
                prop_oneof![
                    Just("\"s-1\""), Just("\"\""), Just("0"), Just("2"), Just("-1"), Just("2.5"),
                    Just("null"), Just("true"), Just("[1]"), Just("{\"id\": \"u\"}"),
                    Just("\"2026-08-01T07:30:00+08:00\""), Just("\"2026-08-01T07:30:00\""),
                    Just("1000000000"), Just("1000000001"), Just("1e308"),
                    Just("\"1969-12-31T23:59:59Z\""), Just("\"1970-01-01T00:00:00Z\""),
                    Just(LONG_ID),
                ],
            ),
            0..12,
        ),
    ) {
        let mut parts = vec![format!("\"type\": {kind}")];
        parts.extend(fields.iter().map(|(k, v)| format!("\"{k}\": {v}")));
        let line = format!("{{{}}}", parts.join(", "));
        prop_assert_eq!(parse_event_line(&line), parse_general(&line), "{}", line);
    }
}

#[test]
fn workout_messages_are_validated_as_workout_records() {
    let text = [
        r#"{"type": "workout", "seq": 0, "ts": "2026-08-02T09:00:00+08:00", "source": "fit", "workout": {"id": "imp-3f2a9c0d1e4b5a6c", "user": "u-01", "exercise": "run", "start": "2026-08-02T06:10:00+08:00", "end": "2026-08-02T06:52:00+08:00", "distance_m": 8040, "avg_hr_bpm": 148, "calories_kcal": 610}}"#,
        r#"{"type": "workout", "ts": "2026-08-02T09:00:00Z", "workout": {"id": "w", "user": "u", "exercise": "run", "start": "2026-08-02T06:10:00Z", "end": "2026-08-02T06:00:00Z"}}"#,
        r#"{"type": "workout", "ts": "2026-08-02T09:00:00Z"}"#,
        r#"{"type": "workout", "ts": "2026-08-02T09:00:00Z", "workout": "w-1"}"#,
        r#"{"type": "workout", "workout": {"id": "w", "user": "u", "exercise": "run", "start": "2026-08-02T06:10:00Z", "end": "2026-08-02T06:20:00Z"}}"#,
        r#"{"type": "workout", "ts": "2026-08-02T09:00:00Z", "workout": {"id": "w", "user": "u", "exercise": "run", "start": "2026-08-02T06:10:00Z", "end": "2026-08-02T06:20:00Z", "distance_m": -3}}"#,
    ]
    .join("\n");
    let report = read_events(&text);
    assert_eq!(report.read(), 6);
    assert_eq!(report.accepted.len(), 1);
    let SensorEvent::Workout(w) = &report.accepted[0].1 else {
        panic!("{:?}", report.accepted[0].1)
    };
    assert_eq!(w.workout.id, "imp-3f2a9c0d1e4b5a6c");
    assert_eq!(w.workout.distance_m, Some(8040.0));
    assert_eq!(w.source.as_deref(), Some("fit"));
    assert_eq!(report.accepted[0].1.session(), None);
    let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
    assert!(reasons[0].starts_with("`workout`: `end`"), "{reasons:?}");
    assert_eq!(reasons[1], "missing `workout`");
    assert_eq!(reasons[2], "`workout` must be a workout record (an object)");
    assert_eq!(reasons[3], "missing `ts`");
    assert!(reasons[4].starts_with("`workout`: `distance_m` must be a number"));
    // A copy with another offset for the same instants is not identical.
    let line = text.lines().next().unwrap_or_default();
    let a = parse_event_line(line).unwrap();
    let b = parse_event_line(&line.replace(
        "\"start\": \"2026-08-02T06:10:00+08:00\"",
        "\"start\": \"2026-08-01T22:10:00Z\"",
    ))
    .unwrap();
    assert_eq!(a, b);
    assert!(a.identical(&a.clone()));
    assert!(!a.identical(&b));
}
