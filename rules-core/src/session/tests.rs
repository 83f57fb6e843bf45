//! The save rules of data.md, one test each, and the order-independence property.

use proptest::prelude::*;

use super::*;

const START: &str = r#"{"type": "session_start", "session": "s-001", "seq": 0, "ts": "2026-08-01T07:30:00+08:00", "device": "lp-03", "gym": "gym-01", "user": "u-01", "exercise": "leg_press"}"#;
const END: &str =
    r#"{"type": "session_end", "session": "s-001", "seq": 40, "ts": "2026-08-01T07:42:00+08:00"}"#;

fn event(line: &str) -> SensorEvent {
    parse_event_line(line).unwrap()
}

/// A rep of s-001 at `second` seconds after 07:30:00.
fn rep(seq: u64, second: i64, weight: Option<f64>, rom: Option<f64>) -> SensorEvent {
    SensorEvent::Rep(Rep {
        session: "s-001".into(),
        seq,
        ts: at(second),
        weight_kg: weight,
        rom_pct: rom,
    })
}

fn sample(
    seq: u64,
    second: i64,
    distance: Option<f64>,
    hr: Option<f64>,
    incline: Option<f64>,
) -> SensorEvent {
    SensorEvent::Sample(Sample {
        session: "s-001".into(),
        seq,
        ts: at(second),
        distance_m: distance,
        speed_kmh: None,
        incline_pct: incline,
        hr_bpm: hr,
        calories_kcal: None,
    })
}

fn at(second: i64) -> DateTime<FixedOffset> {
    records::parse_time("2026-08-01T07:30:00+08:00").unwrap() + TimeDelta::seconds(second)
}

fn session(events: impl IntoIterator<Item = SensorEvent>) -> SessionState {
    let mut s = SessionState::new("s-001");
    for e in events {
        s.push(e);
    }
    s
}

fn sets(w: &Workout) -> Vec<(u32, Option<f64>)> {
    w.sets.iter().map(|s| (s.reps, s.weight_kg)).collect()
}

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

#[test]
fn workout_fields_come_from_start_and_end() {
    let s = session([event(START), rep(1, 4, Some(40.0), Some(97.0)), event(END)]);
    let w = s.workout().unwrap();
    assert_eq!(w.id, "s-001");
    assert_eq!(w.user, "u-01");
    assert_eq!(w.exercise, "leg_press");
    assert_eq!(w.gym.as_deref(), Some("gym-01"));
    assert_eq!(w.machine.as_deref(), Some("lp-03"));
    assert_eq!(w.start, at(0));
    assert_eq!(w.end, at(720));
    assert_eq!(sets(&w), [(1, Some(40.0))]);
}

#[test]
fn identical_resend_is_a_duplicate_and_a_differing_copy_a_conflict() {
    let mut s = session([event(START)]);
    assert_eq!(s.push(rep(1, 4, Some(40.0), None)), PushOutcome::Accepted);
    assert_eq!(s.push(rep(1, 4, Some(40.0), None)), PushOutcome::Duplicate);
    assert_eq!(s.push(rep(1, 4, Some(45.0), None)), PushOutcome::Conflict);
    assert_eq!(s.check(&rep(1, 4, Some(45.0), None)), PushOutcome::Conflict);
    assert_eq!(s.check(&rep(2, 4, Some(45.0), None)), PushOutcome::Accepted);
    // Unknown fields are not kept, so they never make a conflict.
    let with_extra = r#"{"type": "session_start", "session": "s-001", "seq": 0, "ts": "2026-08-01T07:30:00+08:00", "device": "lp-03", "gym": "gym-01", "user": "u-01", "exercise": "leg_press", "firmware": "2.1"}"#;
    assert_eq!(s.push(event(with_extra)), PushOutcome::Duplicate);
    // The same instant written with another offset is a different copy.
    let other_offset = r#"{"type": "session_start", "session": "s-001", "seq": 0, "ts": "2026-07-31T23:30:00Z", "device": "lp-03", "gym": "gym-01", "user": "u-01", "exercise": "leg_press"}"#;
    assert_eq!(s.push(event(other_offset)), PushOutcome::Conflict);
    assert_eq!(s.len(), 2);
    let upsert =
        event(r#"{"type": "user_upsert", "ts": "2026-07-01T00:00:00Z", "user": {"id": "u-01"}}"#);
    assert_eq!(s.push(upsert), PushOutcome::NotThisSession);
    let other = r#"{"type": "session_end", "session": "s-002", "seq": 40, "ts": "2026-08-01T07:42:00+08:00"}"#;
    assert_eq!(s.push(event(other)), PushOutcome::NotThisSession);
    assert_eq!(CONFLICT_REASON, "conflicting duplicate");
}

#[test]
fn events_are_ordered_by_seq_whatever_the_arrival_order() {
    // Arrival order: end, rep 3, start, rep 1, rep 2. seq order decides the sets.
    let s = session([
        event(END),
        rep(3, 20, Some(45.0), None),
        event(START),
        rep(1, 4, Some(40.0), None),
        rep(2, 8, Some(40.0), None),
    ]);
    assert_eq!(
        sets(&s.workout().unwrap()),
        [(2, Some(40.0)), (1, Some(45.0))]
    );
}

#[test]
fn partial_reps_are_not_counted() {
    let s = session([
        event(START),
        rep(1, 4, Some(40.0), Some(79.9)),
        rep(2, 8, Some(40.0), Some(80.0)),
        rep(3, 12, Some(40.0), None),
        event(END),
    ]);
    assert_eq!(sets(&s.workout().unwrap()), [(2, Some(40.0))]);
}

#[test]
fn a_new_load_starts_a_new_set_and_absent_load_is_its_own_value() {
    let s = session([
        event(START),
        rep(1, 4, Some(40.0), None),
        rep(2, 8, Some(40.0), None),
        rep(3, 12, None, None),
        rep(4, 16, None, None),
        rep(5, 20, Some(40.0), None),
        event(END),
    ]);
    assert_eq!(
        sets(&s.workout().unwrap()),
        [(2, Some(40.0)), (2, None), (1, Some(40.0))]
    );
}

#[test]
fn more_than_30_s_between_reps_starts_a_new_set() {
    let s = session([
        event(START),
        rep(1, 0, Some(40.0), None),
        rep(2, 30, Some(40.0), None), // exactly 30 s: same set
        rep(3, 61, Some(40.0), None), // 31 s: new set
        event(END),
    ]);
    assert_eq!(
        sets(&s.workout().unwrap()),
        [(2, Some(40.0)), (1, Some(40.0))]
    );
}

#[test]
fn partial_reps_take_part_in_both_comparisons() {
    // A partial rep at another load splits the set (and its own set, with no counted rep, is
    // dropped); a partial rep in a pause keeps the set going.
    let s = session([
        event(START),
        rep(1, 0, Some(40.0), None),
        rep(2, 4, Some(50.0), Some(30.0)),
        rep(3, 8, Some(40.0), None),
        rep(4, 30, Some(40.0), Some(10.0)),
        rep(5, 55, Some(40.0), None),
        event(END),
    ]);
    assert_eq!(
        sets(&s.workout().unwrap()),
        [(1, Some(40.0)), (2, Some(40.0))]
    );
}

#[test]
fn a_set_with_no_counted_rep_is_dropped() {
    let s = session([
        event(START),
        rep(1, 0, Some(60.0), Some(50.0)),
        rep(2, 4, Some(60.0), Some(50.0)),
        event(END),
    ]);
    let w = s.workout().unwrap();
    assert!(w.sets.is_empty());
}

#[test]
fn samples_give_max_distance_and_means() {
    let s = session([
        event(START),
        sample(1, 60, Some(230.0), Some(140.0), Some(1.0)),
        sample(2, 120, Some(480.0), None, Some(2.0)),
        sample(3, 180, Some(470.0), Some(150.0), None),
        event(END),
    ]);
    let w = s.workout().unwrap();
    assert_eq!(w.distance_m, Some(480.0));
    assert_eq!(w.avg_hr_bpm, Some(145.0));
    assert_eq!(w.incline_pct, Some(1.5));
    assert_eq!(w.calories_kcal, None);
    let none = session([event(START), event(END)]).workout().unwrap();
    assert_eq!(
        (none.distance_m, none.avg_hr_bpm, none.incline_pct),
        (None, None, None)
    );
}

#[test]
fn an_open_session_has_no_workout_but_a_live_one() {
    let s = session([
        event(START),
        rep(1, 4, Some(40.0), None),
        rep(2, 9, Some(40.0), Some(50.0)),
    ]);
    assert!(s.is_open());
    assert_eq!(s.problem(), Some(SessionProblem::Open));
    assert_eq!(s.workout(), None);
    let live = s.live_workout().unwrap();
    assert_eq!(live.end, at(9), "ends at the latest event");
    assert_eq!(sets(&live), [(1, Some(40.0))]);
    let later = s.workout_so_far(Some(at(100))).unwrap();
    assert_eq!(later.end, at(100));
    let before = s.workout_so_far(Some(at(-100))).unwrap();
    assert_eq!(before.end, at(0), "never before the start");
}

#[test]
fn a_session_without_start_cannot_become_a_workout() {
    let s = session([rep(1, 4, Some(40.0), None), event(END)]);
    assert_eq!(s.problem(), Some(SessionProblem::NoStart));
    assert_eq!(s.workout(), None);
    assert_eq!(s.live_workout(), None);
    assert_eq!(s.user(), None);
    assert!(SessionProblem::NoStart.reason().contains("session_start"));
}

#[test]
fn an_end_before_the_start_cannot_become_a_workout() {
    let end = r#"{"type": "session_end", "session": "s-001", "seq": 40, "ts": "2026-08-01T07:00:00+08:00"}"#;
    let s = session([event(START), event(end)]);
    assert_eq!(s.problem(), Some(SessionProblem::EndBeforeStart));
    assert_eq!(s.workout(), None);
}

#[test]
fn a_late_event_after_the_end_re_derives_the_workout() {
    let mut s = session([event(START), rep(1, 4, Some(40.0), None), event(END)]);
    assert_eq!(sets(&s.workout().unwrap()), [(1, Some(40.0))]);
    s.push(rep(2, 8, Some(40.0), None));
    assert_eq!(sets(&s.workout().unwrap()), [(2, Some(40.0))]);
}

#[test]
fn lowest_start_and_highest_end_win() {
    let start2 = r#"{"type": "session_start", "session": "s-001", "seq": 5, "ts": "2026-08-01T07:31:00+08:00", "user": "u-02", "exercise": "bike"}"#;
    let end2 = r#"{"type": "session_end", "session": "s-001", "seq": 41, "ts": "2026-08-01T07:50:00+08:00"}"#;
    let a = session([event(start2), event(end2), event(START), event(END)])
        .workout()
        .unwrap();
    let b = session([event(END), event(START), event(end2), event(start2)])
        .workout()
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(a.user, "u-01");
    assert_eq!(a.end, at(20 * 60));
}

#[test]
fn workouts_of_a_stream() {
    let report = read_events(&format!("{START}\n{END}\n"));
    let workouts = workouts_of(report.into_records());
    assert_eq!(workouts.len(), 1);
}

fn arb_event() -> impl Strategy<Value = SensorEvent> {
    let rep = (
        1u64..40,
        0i64..600,
        prop::option::of(prop_oneof![Just(40.0), Just(45.0)]),
        prop::option::of(prop_oneof![Just(50.0), Just(95.0)]),
    )
        .prop_map(|(seq, s, w, r)| rep(seq, s, w, r));
    let sample = (
        1u64..40,
        0i64..600,
        prop::option::of(0.0..5000.0f64),
        prop::option::of(100.0..180.0f64),
        prop::option::of(0.0..10.0f64),
    )
        .prop_map(|(seq, s, d, h, i)| sample(seq, s, d, h, i));
    prop_oneof![4 => rep, 2 => sample, 1 => Just(event(START)), 1 => Just(event(END))]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any delivery order, with any event delivered more than once, gives the same workout as
    /// one in-order delivery (first copies kept, as a device's later copies are conflicts).
    #[test]
    fn delivery_order_and_duplication_do_not_matter(
        events in prop::collection::vec(arb_event(), 0..40),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..80),
    ) {
        // The session's events: the first copy of each seq is the one kept.
        let mut clean = SessionState::new("s-001");
        for e in &events {
            clean.push(e.clone());
        }
        let kept: Vec<SensorEvent> = clean.events().cloned().collect();
        // Deliver every kept event once, plus resends, in a shuffled order.
        let mut delivery: Vec<SensorEvent> = kept.clone();
        for i in &order {
            if !kept.is_empty() {
                delivery.push(i.get(&kept).clone());
            }
        }
        let n = delivery.len();
        for (k, i) in order.iter().enumerate() {
            if n > 1 {
                delivery.swap(k % n, i.index(n));
            }
        }
        let mut shuffled = SessionState::new("s-001");
        for e in delivery {
            let outcome = shuffled.push(e);
            prop_assert!(matches!(outcome, PushOutcome::Accepted | PushOutcome::Duplicate));
        }
        prop_assert_eq!(shuffled.workout(), clean.workout());
        prop_assert_eq!(shuffled.live_workout(), clean.live_workout());
        prop_assert_eq!(shuffled.problem(), clean.problem());
    }
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
