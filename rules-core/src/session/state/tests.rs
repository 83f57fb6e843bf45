//! The save rules of data.md, one test each, and the order-independence property.

use proptest::prelude::*;

use super::*;
use crate::records;
use crate::session::test_lines::{END, START};
use crate::session::{parse_event_line, read_events, Rep, Sample};

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
