//! Properties of the pipeline: for random event logs delivered with duplicates, retries (late
//! events, even after their session's end), reordering, any batching and crash/restart points,
//! the views equal those of one clean in-order run (content hashes), monotone progress never
//! decreases, and dead letters + accepted = read.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeMap;

use common::{engine_with, ingest};
use pipeline::engine::{Engine, Options};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;
use proptest::prelude::*;
use rules_core::eval::AsOf;

const CHALLENGES: &str = r#"
challenge "reps-100" {
    title "100 leg-press reps in August"
    window 2026-08-01 to 2026-08-31
    goal sum(reps of leg_press) >= 100
}
challenge "daily-sets" {
    title "Two sets a day"
    window 2026-08-01 to 2026-08-05
    groups "nsfit"
    goal every day { count(sets) >= 2 }
}
challenge "cardio-5k" {
    title "5 km of cardio in one workout"
    window 2026-08-01 to 2026-08-31
    goal in one workout { sum(distance of cardio) >= 1 km }
}
"#;

fn options(partitions: u32, batch: usize) -> Options {
    Options {
        partitions,
        batch_lines: batch,
        ..Options::default()
    }
}

fn engine(partitions: u32, batch: usize) -> Engine<SqliteStore> {
    engine_with(CHALLENGES, options(partitions, batch))
}

/// One session's events as lines, in seq order.
#[derive(Clone, Debug)]
struct SessionSpec {
    user: usize,
    day: u32,
    cardio: bool,
    reps: Vec<(u8, bool, u8)>, // (weight index, full, gap s)
    has_start: bool,
    has_end: bool,
}

fn session_lines(k: usize, s: &SessionSpec) -> Vec<String> {
    let id = format!("s-{k}");
    let t0 = 7 * 3600 + i64::from(s.day) * 86_400 + k as i64 * 3600;
    let ts = |secs: i64| {
        let t = chrono::DateTime::from_timestamp(1_785_542_400 + t0 + secs, 0).unwrap();
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let mut out = Vec::new();
    let mut seq = 0;
    let exercise = if s.cardio { "treadmill" } else { "leg_press" };
    if s.has_start {
        out.push(format!(r#"{{"type":"session_start","session":"{id}","seq":0,"ts":"{}","device":"m-1","gym":"gym-01","user":"u-{}","exercise":"{exercise}"}}"#, ts(0), s.user));
    }
    let mut t = 0;
    for (w, full, gap) in &s.reps {
        seq += 1;
        t += i64::from(*gap);
        if s.cardio {
            out.push(format!(r#"{{"type":"sample","session":"{id}","seq":{seq},"ts":"{}","distance_m":{},"hr_bpm":{}}}"#, ts(t), seq * 150, 120 + w));
        } else {
            let weight = [40, 45, 50][usize::from(*w) % 3];
            let rom = if *full { 95 } else { 50 };
            out.push(format!(r#"{{"type":"rep","session":"{id}","seq":{seq},"ts":"{}","weight_kg":{weight},"rom_pct":{rom}}}"#, ts(t)));
        }
    }
    if s.has_end {
        out.push(format!(
            r#"{{"type":"session_end","session":"{id}","seq":{},"ts":"{}"}}"#,
            seq + 1,
            ts(t + 30)
        ));
    }
    out
}

fn arb_session() -> impl Strategy<Value = SessionSpec> {
    (
        0usize..3,
        0u32..4,
        any::<bool>(),
        prop::collection::vec((0u8..3, prop::bool::weighted(0.85), 1u8..45), 0..12),
        prop::bool::weighted(0.9),
        prop::bool::weighted(0.85),
    )
        .prop_map(
            |(user, day, cardio, reps, has_start, has_end)| SessionSpec {
                user,
                day,
                cardio,
                reps,
                has_start,
                has_end,
            },
        )
}

fn upserts() -> Vec<String> {
    vec![
        r#"{"type":"user_upsert","ts":"2026-07-01T00:00:00Z","user":{"id":"u-0","groups":["nsfit"]}}"#.to_owned(),
        r#"{"type":"user_upsert","ts":"2026-07-01T00:00:00Z","user":{"id":"u-1"}}"#.to_owned(),
        r#"{"type":"user_upsert","ts":"2026-08-02T00:00:00Z","user":{"id":"u-1","groups":["nsfit"]}}"#.to_owned(),
    ]
}

fn hashes(e: &mut Engine<SqliteStore>) -> BTreeMap<String, String> {
    e.store().view_hashes().unwrap()
}

/// The progress of `reps-100` per user.
fn monotone_progress(e: &mut Engine<SqliteStore>) -> BTreeMap<String, f64> {
    e.store()
        .query("results", None, Some("reps-100"))
        .unwrap()
        .iter()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["user"].as_str().unwrap().to_owned(),
                v["progress"].as_f64().unwrap(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn any_delivery_batching_and_crash_point_gives_the_clean_views(
        sessions in prop::collection::vec(arb_session(), 1..6),
        resends in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..200),
        batch in 1usize..40,
        crashes in prop::collection::vec(1usize..20, 0..3),
        partitions in 1u32..4,
        malformed in 0usize..3,
    ) {
        // The clean run: every event once, in order, in one batch.
        let mut clean: Vec<String> = upserts();
        for (k, s) in sessions.iter().enumerate() {
            clean.extend(session_lines(k, s));
        }
        let mut reference = engine(1, 100_000);
        ingest(&mut reference, &(clean.join("\n") + "\n"));
        let want = hashes(&mut reference);

        // Delivery: resends (any event, also after its session's end), a shuffle, bad lines.
        let mut delivery = clean.clone();
        for r in &resends {
            delivery.push(r.get(&clean).clone());
        }
        for _ in 0..malformed {
            delivery.push("{\"type\": \"rep\"".to_owned());
        }
        let n = delivery.len();
        for (k, i) in order.iter().enumerate() {
            delivery.swap(k % n, i.index(n));
        }
        let text = delivery.join("\n") + "\n";

        // Ingest with crashes: after some batches, the engine is dropped and reopened from
        // its store, and the same input is ingested again from its committed offset.
        let mut e = engine(partitions, batch);
        let mut seen: BTreeMap<String, f64> = BTreeMap::new();
        let mut crashes = crashes.into_iter();
        let mut next_crash = crashes.next();
        let mut reader = LineReader::new("input", text.as_bytes());
        let mut batches = 0usize;
        loop {
            let mut one = |e: &mut Engine<SqliteStore>| -> bool {
                use pipeline::transport::Transport;
                match reader.next_batch(batch).unwrap() {
                    None => false,
                    Some((lines, offset)) => {
                        e.ingest_lines("input:input", "input", &lines, offset).unwrap();
                        true
                    }
                }
            };
            if !one(&mut e) {
                break;
            }
            batches += 1;
            for (user, p) in monotone_progress(&mut e) {
                let before = seen.insert(user.clone(), p).unwrap_or(0.0);
                prop_assert!(p >= before, "progress of {user} went from {before} to {p}");
            }
            if next_crash == Some(batches) {
                next_crash = crashes.next().map(|c| c + batches);
                let store = e.into_store();
                e = Engine::open(store, options(partitions, batch)).unwrap();
                // A restarted reader resumes at the committed offset.
                let committed = e.store().snapshot().unwrap().offsets["input:input"];
                reader = LineReader::new("input", text.as_bytes());
                use pipeline::transport::Transport;
                reader.skip(committed).unwrap();
            }
        }
        let got = hashes(&mut e);
        prop_assert_eq!(&got, &want);
        let c = e.counters();
        prop_assert_eq!(c.read, c.accepted + c.rejected);
        prop_assert_eq!(c.read as usize, delivery.len());
        prop_assert_eq!(c.rejected as usize, malformed);

        // The same periodic job on both gives the same views too, and verify agrees.
        let at = AsOf::parse("2026-08-10T00:00:00Z").unwrap();
        reference.tick(&at, "UTC").unwrap();
        e.tick(&at, "UTC").unwrap();
        prop_assert_eq!(hashes(&mut e), hashes(&mut reference));
        let mut store = e.into_store();
        let checks = pipeline::verify::verify(&mut store, options(partitions, batch), &mut |_| {}).unwrap();
        prop_assert!(checks.iter().all(|c| c.equal), "{:?}", checks);
    }
}

#[test]
fn results_follow_challenge_and_group_changes() {
    let mut e = engine(2, 1000);
    let mut lines = upserts();
    lines.pop(); // u-1 stays in no group for now
    lines.extend(session_lines(
        0,
        &SessionSpec {
            user: 0,
            day: 0,
            cardio: false,
            reps: vec![(0, true, 3); 10],
            has_start: true,
            has_end: true,
        },
    ));
    ingest(&mut e, &(lines.join("\n") + "\n"));
    let results = e.store().query("results", Some("u-0"), None).unwrap();
    assert_eq!(results.len(), 3);
    // Removing a challenge removes its results; adding it back re-derives them.
    let parsed = rules_dsl::parse(CHALLENGES);
    let fewer: Vec<_> = parsed
        .decls
        .iter()
        .filter(|d| d.id.as_str() != "cardio-5k")
        .cloned()
        .collect();
    let changes = e.set_challenges(&fewer).unwrap();
    assert_eq!(changes.removed, ["cardio-5k"]);
    assert_eq!(
        e.store()
            .query("results", None, Some("cardio-5k"))
            .unwrap()
            .len(),
        0
    );
    e.set_challenges(&parsed.decls).unwrap();
    assert_eq!(
        e.store()
            .query("results", None, Some("cardio-5k"))
            .unwrap()
            .len(),
        2
    );
    // A user_upsert that changes groups re-derives the user's eligibility.
    let before = e
        .store()
        .query("results", Some("u-2"), Some("daily-sets"))
        .unwrap();
    assert!(before.is_empty(), "u-2 is not considered yet");
    let eligible = |e: &mut Engine<SqliteStore>| {
        let r = e
            .store()
            .query("results", Some("u-1"), Some("daily-sets"))
            .unwrap();
        serde_json::from_str::<serde_json::Value>(&r[0]).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(eligible(&mut e), "ineligible");
    let upsert = r#"{"type":"user_upsert","ts":"2026-08-03T00:00:00Z","user":{"id":"u-1","groups":["nsfit"]}}"#;
    e.ingest(
        &mut LineReader::new("another input", upsert.as_bytes()),
        |_| {},
    )
    .unwrap();
    assert_ne!(eligible(&mut e), "ineligible");
}

#[test]
fn live_results_count_the_session_under_way_until_it_is_saved() {
    let mut e = engine(1, 1000);
    let spec = SessionSpec {
        user: 0,
        day: 0,
        cardio: false,
        reps: vec![(0, true, 3); 20],
        has_start: true,
        has_end: true,
    };
    let lines = session_lines(0, &spec);
    let (open, end) = lines.split_at(lines.len() - 1);
    ingest(&mut e, &(open.join("\n") + "\n"));
    let live = e
        .store()
        .query("live", Some("u-0"), Some("reps-100"))
        .unwrap();
    assert_eq!(live.len(), 1);
    let v: serde_json::Value = serde_json::from_str(&live[0]).unwrap();
    assert_eq!(
        v["progress"].as_f64(),
        Some(0.2),
        "20 of 100 reps, counted live"
    );
    assert!(e.store().query("workouts", None, None).unwrap().is_empty());
    let end = end.join("\n");
    let mut r = LineReader::new("end", end.as_bytes());
    e.ingest(&mut r, |_| {}).unwrap();
    assert!(
        e.store().query("live", None, None).unwrap().is_empty(),
        "dropped once saved"
    );
    assert_eq!(e.store().query("workouts", None, None).unwrap().len(), 1);
}
