//! Native tests of the live session: growing progress, resends and reordering, rejections, and
//! equality with evaluating the saved workout once the session has ended.

use super::*;

const CHALLENGE: &str = "challenge \"lp\" {\n    title \"Leg press\"\n    window 2026-08-01 to 2026-08-31\n    timezone \"Asia/Singapore\"\n    goal sum(reps of leg_press) >= 30\n}\n";
const AS_OF: &str = "2026-08-01T23:00:00+08:00";

fn start() -> String {
    r#"{"type":"session_start","session":"s-1","seq":0,"ts":"2026-08-01T07:30:00+08:00","device":"lp-03","gym":"gym-01","user":"u-01","exercise":"leg_press"}"#.to_owned()
}

fn rep(seq: u64, second: u32, rom: u32) -> String {
    format!(
        r#"{{"type":"rep","session":"s-1","seq":{seq},"ts":"2026-08-01T07:30:{second:02}+08:00","weight_kg":40,"rom_pct":{rom}}}"#
    )
}

fn end(seq: u64) -> String {
    format!(
        r#"{{"type":"session_end","session":"s-1","seq":{seq},"ts":"2026-08-01T07:42:00+08:00"}}"#
    )
}

fn saved() -> &'static str {
    r#"{"id":"w-old","user":"u-01","exercise":"leg_press","start":"2026-08-01T06:00:00+08:00","end":"2026-08-01T06:10:00+08:00","sets":[{"reps":10,"weight_kg":40}]}
{"id":"w-other","user":"u-02","exercise":"leg_press","start":"2026-08-01T06:00:00+08:00","end":"2026-08-01T06:10:00+08:00","sets":[{"reps":50}]}"#
}

fn live() -> Live {
    Live::new(
        TreeInput::Text(CHALLENGE),
        RecordsInput::Lines(saved()),
        AS_OF,
        &start(),
        RecordsInput::None,
    )
    .unwrap()
}

#[test]
fn progress_grows_rep_by_rep_and_ends_equal_to_evaluating_the_saved_workout() {
    let mut live = live();
    assert_eq!(live.current().result.progress, 10.0 / 30.0);
    let mut last = live.current().result.progress;
    for seq in 1..=20 {
        let update = live.push(&rep(seq, seq as u32, 95));
        assert_eq!(update.outcome, "accepted");
        assert!(update.result.progress >= last);
        last = update.result.progress;
    }
    assert_eq!(last, 1.0);
    let ended = live.push(&end(21));
    assert!(ended.ended);
    let workout = ended.workout.clone().unwrap();
    assert_eq!(workout.id, "s-1");
    assert_eq!(workout.sets.len(), 1);
    // Evaluating the saved workouts plus the session's workout gives the same result.
    let mut lines = saved().to_owned();
    lines.push('\n');
    lines.push_str(&serde_json::to_string(&workout).unwrap());
    let evaluation = api::evaluate(
        TreeInput::Text(CHALLENGE),
        RecordsInput::Lines(&lines),
        RecordsInput::None,
        AS_OF,
    )
    .unwrap();
    let expected = evaluation
        .results
        .iter()
        .find(|r| r.user == "u-01")
        .unwrap();
    assert_eq!(&ended.result, expected);
}

#[test]
fn resends_reordering_and_bad_events_are_handled_as_the_save_stage_does() {
    let mut live = live();
    assert_eq!(live.push(&rep(2, 2, 95)).outcome, "accepted");
    assert_eq!(live.push(&rep(1, 1, 95)).outcome, "accepted");
    assert_eq!(live.push(&rep(1, 1, 95)).outcome, "duplicate");
    let conflict = live.push(&rep(1, 1, 50));
    assert_eq!(conflict.outcome, "conflict");
    assert_eq!(conflict.reason.as_deref(), Some("conflicting duplicate"));
    // A partial rep does not count.
    let partial = live.push(&rep(3, 3, 50));
    assert_eq!(partial.workout.unwrap().sets[0].reps, 2);
    let rejected = live.push("{not json");
    assert_eq!(rejected.outcome, "rejected");
    assert!(rejected.reason.unwrap().contains("not valid JSON"));
    assert_eq!(live.push(r#"{"type":"rep"}"#).outcome, "rejected");
    let other = live.push(&rep(4, 4, 95).replace("s-1", "s-2"));
    assert_eq!(other.outcome, "not_this_session");
    assert_eq!(other.events, 4);
}

#[test]
fn bad_construction_is_an_error_with_a_message() {
    let e = Live::new(
        TreeInput::Text(CHALLENGE),
        RecordsInput::None,
        AS_OF,
        &rep(1, 1, 95),
        RecordsInput::None,
    )
    .unwrap_err();
    assert!(e.message.contains("session_start"), "{}", e.message);
    let e = Live::new(
        TreeInput::Text(CHALLENGE),
        RecordsInput::None,
        AS_OF,
        "{",
        RecordsInput::None,
    )
    .unwrap_err();
    assert!(e.message.contains("not valid"), "{}", e.message);
    let e = Live::new(
        TreeInput::Text(CHALLENGE),
        RecordsInput::None,
        "now",
        &start(),
        RecordsInput::None,
    )
    .unwrap_err();
    assert!(e.message.contains("asOf"), "{}", e.message);
    let two = format!("{CHALLENGE}{}", CHALLENGE.replace("\"lp\"", "\"lp2\""));
    let e = Live::new(
        TreeInput::Text(&two),
        RecordsInput::None,
        AS_OF,
        &start(),
        RecordsInput::None,
    )
    .unwrap_err();
    assert!(e.message.contains("one challenge"), "{}", e.message);
}

#[test]
fn the_user_record_decides_eligibility() {
    let grouped = CHALLENGE.replace("    goal", "    groups \"nsfit\"\n    goal");
    let live = Live::new(
        TreeInput::Text(&grouped),
        RecordsInput::None,
        AS_OF,
        &start(),
        RecordsInput::None,
    )
    .unwrap();
    assert_eq!(live.current().result.status.name(), "ineligible");
    let user = r#"[{"id":"u-01","groups":["nsfit"]}]"#;
    let live = Live::new(
        TreeInput::Text(&grouped),
        RecordsInput::None,
        AS_OF,
        &start(),
        RecordsInput::Array(user),
    )
    .unwrap();
    assert_eq!(live.current().result.status.name(), "in_progress");
}

/// The bounds of a record (data.md 1.1) in a live session: an event over a bound is rejected
/// with its reason and changes nothing; at the bound it counts.
#[test]
fn events_over_the_bounds_are_rejected_with_the_reason() {
    let mut live = live();
    let before = live.push(&rep(1, 4, 95));
    assert_eq!(before.outcome, "accepted");
    let heavy = r#"{"type":"rep","session":"s-1","seq":2,"ts":"2026-08-01T07:30:08+08:00","weight_kg":1.7e308}"#;
    let update = live.push(heavy);
    assert_eq!(update.outcome, "rejected");
    let reason = update.reason.unwrap_or_default();
    assert!(
        reason.contains("`weight_kg` must be a number from 0 to 1e9"),
        "{reason}"
    );
    assert_eq!(update.events, before.events);
    assert_eq!(update.result, before.result);
    let seq = r#"{"type":"rep","session":"s-1","seq":1000000001,"ts":"2026-08-01T07:30:08+08:00"}"#;
    assert!(live.push(seq).reason.unwrap_or_default().contains("`seq`"));
    let old = r#"{"type":"rep","session":"s-1","seq":3,"ts":"1969-12-31T23:59:59Z"}"#;
    assert!(live
        .push(old)
        .reason
        .unwrap_or_default()
        .contains("outside the years 1970 to 9999"));
    let at = r#"{"type":"rep","session":"s-1","seq":1000000000,"ts":"2026-08-01T07:30:08+08:00","weight_kg":1e9}"#;
    assert_eq!(live.push(at).outcome, "accepted");
}
