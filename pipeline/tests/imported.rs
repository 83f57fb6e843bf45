//! Imported workouts in the pipeline (data.md, "Imported workouts"): `workout` messages are
//! validated as workout records (dead letters with reasons), upserted by id (latest `ts`, on
//! equal `ts` the later delivered), never merged with a sensor session, counted by the
//! on-demand stage like a saved workout, and `rebuild`, `verify` and `compact` keep working.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeMap;

use chrono::DateTime;
use common::{engine_with, view};
use pipeline::engine::{Engine, Options, Progress};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;
use proptest::prelude::*;
use serde_json::Value;

const CHALLENGES: &str = r#"
challenge "run-10k" {
    title "10 km of running in August"
    window 2026-08-01 to 2026-08-31
    timezone "Asia/Singapore"
    goal sum(distance of run) >= 10 km
}
challenge "cardio-5k" {
    title "5 km of cardio in one workout"
    window 2026-08-01 to 2026-08-31
    goal in one workout { sum(distance of cardio) >= 5 km }
}
"#;

fn engine() -> Engine<SqliteStore> {
    let options = Options {
        partitions: 2,
        batch_lines: 1000,
        ..Options::default()
    };
    engine_with(CHALLENGES, options)
}

fn ingest(e: &mut Engine<SqliteStore>, key: &str, lines: &[String]) -> Progress {
    let text = lines.join("\n") + "\n";
    e.ingest(&mut LineReader::new(key, text.as_bytes()), |_| {})
        .unwrap()
}

/// A `workout` message as `challenge import` writes it.
fn message(id: &str, user: &str, ts: &str, distance_m: f64) -> String {
    format!(
        r#"{{"type":"workout","seq":0,"ts":"{ts}","source":"fit","workout":{{"id":"{id}","user":"{user}","exercise":"run","start":"2026-08-02T06:10:00+08:00","end":"2026-08-02T06:52:00+08:00","distance_m":{distance_m}}}}}"#
    )
}

fn workouts(e: &mut Engine<SqliteStore>) -> Vec<Value> {
    view(e, "workouts")
}

fn progress_of(e: &mut Engine<SqliteStore>, challenge: &str, user: &str) -> f64 {
    let rows = e
        .store()
        .query("results", Some(user), Some(challenge))
        .unwrap();
    let row: Value = serde_json::from_str(&rows[0]).unwrap();
    row["progress"].as_f64().unwrap()
}

fn hashes(e: &mut Engine<SqliteStore>) -> BTreeMap<String, String> {
    e.store().view_hashes().unwrap()
}

#[test]
fn an_imported_run_counts_like_a_saved_workout() {
    let mut e = engine();
    ingest(
        &mut e,
        "imported",
        &[message(
            "imp-a",
            "u-01",
            "2026-08-02T06:52:00+08:00",
            8040.0,
        )],
    );
    let w = workouts(&mut e);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["id"], "imp-a");
    assert_eq!(w[0]["exercise"], "run");
    assert!((progress_of(&mut e, "run-10k", "u-01") - 0.804).abs() < 1e-9);
    assert!((progress_of(&mut e, "cardio-5k", "u-01") - 1.0).abs() < 1e-9);
}

#[test]
fn re_import_is_a_no_op() {
    let mut e = engine();
    let lines = vec![
        message("imp-a", "u-01", "2026-08-02T06:52:00+08:00", 8040.0),
        message("imp-b", "u-01", "2026-08-09T06:52:00+08:00", 3000.0),
    ];
    ingest(&mut e, "first", &lines);
    let before = hashes(&mut e);
    let log_before = e.store().counts().unwrap();
    let again = ingest(&mut e, "second", &lines);
    assert_eq!((again.read, again.accepted, again.duplicates), (2, 2, 2));
    assert_eq!(hashes(&mut e), before);
    assert_eq!(
        e.store().counts().unwrap(),
        log_before,
        "nothing logged twice"
    );
}

#[test]
fn a_resend_of_a_message_that_lost_is_a_duplicate_too() {
    // Over HTTP a client retries whole requests: the older message of an id, or an earlier
    // `user_upsert` of a user, comes again after a newer one won. It is not logged twice.
    let upsert = |ts: &str, name: &str| {
        format!(
            r#"{{"type":"user_upsert","seq":0,"ts":"{ts}","user":{{"id":"u-01","name":"{name}"}}}}"#
        )
    };
    let lines = vec![
        message("imp-a", "u-01", "2026-08-02T07:00:00+08:00", 4000.0),
        message("imp-a", "u-01", "2026-08-03T07:00:00+08:00", 12000.0),
        upsert("2026-07-01T00:00:00Z", "Old"),
        upsert("2026-07-02T00:00:00Z", "New"),
    ];
    let mut e = engine();
    ingest(&mut e, "first", &lines);
    let (before, log_before) = (hashes(&mut e), e.store().counts().unwrap());
    let again = ingest(&mut e, "retry", &lines);
    assert_eq!((again.read, again.accepted, again.duplicates), (4, 4, 4));
    assert_eq!(hashes(&mut e), before);
    assert_eq!(
        e.store().counts().unwrap(),
        log_before,
        "nothing logged twice"
    );
    let older_first: Vec<String> = lines.iter().rev().cloned().collect();
    let mut other = engine();
    ingest(&mut other, "reversed", &older_first);
    let again = ingest(&mut other, "retry", &lines);
    assert_eq!(again.duplicates, 4, "whatever order they first came in");
    assert_eq!(hashes(&mut other), before);
}

#[test]
fn the_latest_ts_wins_whatever_the_delivery_order() {
    let older = message("imp-a", "u-01", "2026-08-02T07:00:00+08:00", 4000.0);
    let newer = message("imp-a", "u-01", "2026-08-03T07:00:00+08:00", 12000.0);
    let mut views = Vec::new();
    for order in [[&older, &newer], [&newer, &older]] {
        let mut e = engine();
        for (i, line) in order.iter().enumerate() {
            ingest(&mut e, &format!("in-{i}"), &[(*line).clone()]);
        }
        let w = workouts(&mut e);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0]["distance_m"], 12000);
        assert!((progress_of(&mut e, "run-10k", "u-01") - 1.0).abs() < 1e-9);
        views.push(hashes(&mut e));
    }
    assert_eq!(views[0], views[1]);
}

#[test]
fn on_equal_ts_the_later_delivered_wins_even_for_another_user() {
    let first = message("imp-a", "u-01", "2026-08-02T07:00:00+08:00", 4000.0);
    let second = message("imp-a", "u-02", "2026-08-02T07:00:00+08:00", 6000.0);
    let mut e = engine();
    ingest(&mut e, "in", &[first, second]);
    let w = workouts(&mut e);
    assert_eq!(w.len(), 1);
    assert_eq!(w[0]["user"], "u-02");
    assert_eq!(w[0]["distance_m"], 6000);
    // u-01 no longer has a workout (nor a record): no longer considered, no results.
    assert!(e
        .store()
        .query("results", Some("u-01"), None)
        .unwrap()
        .is_empty());
    assert!((progress_of(&mut e, "run-10k", "u-02") - 0.6).abs() < 1e-9);
}

#[test]
fn bad_workout_messages_are_dead_letters_with_reasons() {
    let mut e = engine();
    let bad = [
        r#"{"type":"workout","ts":"2026-08-02T07:00:00Z","workout":{"id":"imp-x","user":"u-01","exercise":"run","start":"2026-08-02T07:00:00Z","end":"2026-08-02T06:00:00Z"}}"#.to_owned(),
        r#"{"type":"workout","ts":"2026-08-02T07:00:00Z"}"#.to_owned(),
        r#"{"type":"workout","workout":{"id":"imp-y","user":"u-01","exercise":"run","start":"2026-08-02T06:00:00Z","end":"2026-08-02T07:00:00Z"}}"#.to_owned(),
    ];
    let p = ingest(&mut e, "in", &bad);
    assert_eq!((p.read, p.accepted, p.rejected), (3, 0, 3));
    let letters: Vec<Value> = e
        .store()
        .query("dead-letters", None, None)
        .unwrap()
        .iter()
        .map(|j| serde_json::from_str(j).unwrap())
        .collect();
    let reasons: Vec<&str> = letters
        .iter()
        .map(|l| l["reason"].as_str().unwrap())
        .collect();
    assert!(reasons[0].starts_with("`workout`: `end`"), "{reasons:?}");
    assert_eq!(reasons[1], "missing `workout`");
    assert_eq!(reasons[2], "missing `ts`");
    assert!(workouts(&mut e).is_empty());
}

/// A finished sensor session `id` of u-01 on the treadmill.
fn session(id: &str) -> Vec<String> {
    vec![
        format!(
            r#"{{"type":"session_start","session":"{id}","seq":0,"ts":"2026-08-04T07:00:00+08:00","device":"tm-1","gym":"gym-01","user":"u-01","exercise":"treadmill"}}"#
        ),
        format!(
            r#"{{"type":"sample","session":"{id}","seq":1,"ts":"2026-08-04T07:10:00+08:00","distance_m":2000}}"#
        ),
        format!(
            r#"{{"type":"session_end","session":"{id}","seq":2,"ts":"2026-08-04T07:20:00+08:00"}}"#
        ),
    ]
}

#[test]
fn an_imported_workout_never_merges_with_a_session_of_the_same_id() {
    let imported = message("s-1", "u-01", "2026-08-02T07:00:00+08:00", 8040.0);
    let mut views = Vec::new();
    for imported_first in [true, false] {
        let mut e = engine();
        if imported_first {
            ingest(&mut e, "a", std::slice::from_ref(&imported));
            ingest(&mut e, "b", &session("s-1"));
        } else {
            ingest(&mut e, "b", &session("s-1"));
            ingest(&mut e, "a", std::slice::from_ref(&imported));
        }
        let w = workouts(&mut e);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0]["exercise"], "run", "the imported workout holds its id");
        assert_eq!(w[0]["distance_m"], 8040);
        views.push(hashes(&mut e));
    }
    assert_eq!(views[0], views[1]);
}

#[test]
fn rebuild_verify_and_compact_keep_imported_workouts() {
    let mut store_path = std::env::temp_dir();
    store_path.push(format!("pipeline-imported-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&store_path);
    let options = || Options {
        partitions: 2,
        batch_lines: 2,
        ..Options::default()
    };
    let mut e = Engine::open(SqliteStore::open(&store_path).unwrap(), options()).unwrap();
    e.set_challenges(&rules_dsl::parse(CHALLENGES).decls)
        .unwrap();
    let mut lines = session("s-1");
    lines.push(message(
        "imp-a",
        "u-01",
        "2026-08-02T06:52:00+08:00",
        8040.0,
    ));
    lines.push(message("imp-a", "u-01", "2026-08-01T06:52:00+08:00", 1.0));
    lines.extend(session("s-2"));
    ingest(&mut e, "in", &lines);
    let before = hashes(&mut e);
    assert_eq!(workouts(&mut e).len(), 3);
    let checks = pipeline::verify::verify(e.store(), options(), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");
    // Compaction purges the sessions' events; the imported workout stays in the log.
    let summary = e
        .compact(
            DateTime::parse_from_rfc3339("2026-09-01T00:00:00Z").unwrap(),
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(summary.sessions, 2);
    let checks = pipeline::verify::verify(e.store(), options(), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");
    e.rebuild(&mut |_| {}).unwrap();
    assert_eq!(hashes(&mut e), before);
    // A restart replays the log: the winner is still the newer message.
    let store = e.into_store();
    let mut e = Engine::open(store, options()).unwrap();
    ingest(
        &mut e,
        "again",
        &[message(
            "imp-a",
            "u-01",
            "2026-08-02T06:52:00+08:00",
            8040.0,
        )],
    );
    assert_eq!(hashes(&mut e), before);
    let imported: Vec<Value> = workouts(&mut e)
        .into_iter()
        .filter(|w| w["id"] == "imp-a")
        .collect();
    assert_eq!(imported[0]["distance_m"], 8040);
    drop(e);
    let _ = std::fs::remove_file(&store_path);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Workout messages for a few ids, each with its own `ts` (so the latest is unique),
    /// resent, in any order and any batching: the views of one in-order run.
    #[test]
    fn any_delivery_order_and_batching_gives_the_same_views(
        messages in proptest::collection::vec((0usize..3, 0usize..3, 0u32..20, 1u32..90), 1..12),
        order in any::<u64>(),
        batch in 1usize..5,
    ) {
        // (id, user, minute of ts, km): one message per distinct (id, ts).
        let mut seen = std::collections::BTreeSet::new();
        let lines: Vec<String> = messages
            .into_iter()
            .filter(|(id, _, minute, _)| seen.insert((*id, *minute)))
            .map(|(id, user, minute, km)| {
                message(
                    &format!("imp-{id}"),
                    &format!("u-{user}"),
                    &format!("2026-08-02T07:{minute:02}:00+08:00"),
                    f64::from(km) * 100.0,
                )
            })
            .collect();
        let mut clean = engine();
        ingest(&mut clean, "clean", &lines);
        let expected = hashes(&mut clean);
        // Shuffle (a seeded Fisher–Yates), add resends, cut into batches.
        let mut shuffled = lines.clone();
        shuffled.extend(lines.iter().take(2).cloned());
        let mut state = order | 1;
        for i in (1..shuffled.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            shuffled.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut e = engine();
        for (k, chunk) in shuffled.chunks(batch).enumerate() {
            ingest(&mut e, &format!("in-{k}"), chunk);
        }
        prop_assert_eq!(hashes(&mut e), expected);
    }
}
