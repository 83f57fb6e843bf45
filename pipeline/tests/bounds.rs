//! The bounds of a record (data.md 1.1) at the pipeline's front door: each bound at and just
//! over its limit in a sensor stream; what is over is a dead letter that says why, counted as
//! rejected (read = accepted + rejected), and never reaches a view. A session whose workout
//! would have more than 10,000 sets does not become a workout (status `out_of_bounds`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use common::{engine_with, ingest, view};
use pipeline::engine::{Engine, Options};
use pipeline::sqlite::SqliteStore;

const CHALLENGES: &str = r#"
challenge "volume" {
    title "A tonne of leg press"
    window 2026-08-01 to 2026-08-31
    goal sum(volume of leg_press) >= 1000 kg
}
"#;

fn engine() -> Engine<SqliteStore> {
    engine_with(CHALLENGES, Options::default())
}

const TS: &str = "2026-08-03T07:00:00Z";

fn start(session: &str, ts: &str) -> String {
    format!(
        r#"{{"type":"session_start","session":"{session}","seq":0,"ts":"{ts}","device":"lp-1","gym":"gym-01","user":"u-1","exercise":"leg_press"}}"#
    )
}

fn rep(session: &str, seq: u64, weight: &str) -> String {
    format!(
        r#"{{"type":"rep","session":"{session}","seq":{seq},"ts":"{TS}","weight_kg":{weight}}}"#
    )
}

fn end(session: &str, seq: &str, ts: &str) -> String {
    format!(r#"{{"type":"session_end","session":"{session}","seq":{seq},"ts":"{ts}"}}"#)
}

#[test]
fn events_over_a_bound_are_dead_letters_with_the_reason() {
    let long = |n: usize| "x".repeat(n);
    // (line, accepted, words of the reason)
    let lines: Vec<(String, Option<&[&str]>)> = vec![
        (
            format!(
                r#"{{"type":"user_upsert","ts":"{TS}","user":{{"id":"u-1","name":"{}","groups":["{}"]}}}}"#,
                long(256),
                long(256)
            ),
            None,
        ),
        (
            format!(
                r#"{{"type":"user_upsert","ts":"{TS}","user":{{"id":"u-2","groups":["{}"]}}}}"#,
                long(100_000)
            ),
            Some(&["`user`: `groups[0]` is longer than 256 bytes (100000 bytes)"]),
        ),
        (start("s-1", TS), None),
        (rep("s-1", 1, "1e9"), None),
        (
            rep("s-1", 2, "1.7e308"),
            Some(&["`weight_kg` must be a number from 0 to 1e9; found 1.7e308"]),
        ),
        (
            rep("s-1", 3, "1000000001"),
            Some(&["`weight_kg`", "found 1000000001"]),
        ),
        (
            rep("s-1", 1_000_000_001, "10"),
            Some(&["`seq` must be a whole number from 0 to 1e9"]),
        ),
        (end("s-1", "1000000000", "2026-08-03T07:10:00Z"), None),
        (start(&long(256), TS), None),
        (
            start(&long(2_000_000), TS),
            Some(&["`session` is longer than 256 bytes (2000000 bytes)"]),
        ),
        (start("s-2", "1970-01-01T00:00:00Z"), None),
        (
            start("s-3", "1969-12-31T23:59:59Z"),
            Some(&["`ts`", "outside the years 1970 to 9999"]),
        ),
        (end("s-2", "1", "9999-12-31T23:59:59Z"), None),
        (
            end("s-3", "1", "9999-12-31T23:59:59-00:01"),
            Some(&["`ts`", "outside the years 1970 to 9999"]),
        ),
        (
            format!(
                r#"{{"type":"sample","session":"s-4","seq":1,"ts":"{TS}","distance_m":1000000000,"hr_bpm":1000000000.5}}"#
            ),
            Some(&["`hr_bpm`"]),
        ),
    ];
    let text: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
    let mut e = engine();
    ingest(&mut e, &text);
    let counters = e.counters();
    let rejected: Vec<usize> = (1..=lines.len())
        .filter(|&i| lines[i - 1].1.is_some())
        .collect();
    assert_eq!(counters.read, lines.len() as u64);
    assert_eq!(counters.rejected, rejected.len() as u64);
    assert_eq!(counters.read, counters.accepted + counters.rejected);
    let dead = view(&mut e, "dead-letters");
    let dead_lines: Vec<usize> = dead
        .iter()
        .map(|d| d["line"].as_u64().unwrap() as usize)
        .collect();
    assert_eq!(dead_lines, rejected);
    for d in &dead {
        let line = d["line"].as_u64().unwrap() as usize;
        let reason = d["reason"].as_str().unwrap();
        for w in lines[line - 1].1.unwrap() {
            assert!(reason.contains(w), "line {line}: `{w}` not in: {reason}");
        }
    }
    // s-1 is saved from its accepted events only: one set of 1 rep at 1e9 kg.
    let workouts = view(&mut e, "workouts");
    let s1 = workouts.iter().find(|w| w["id"] == "s-1").unwrap();
    assert_eq!(
        s1["sets"],
        serde_json::json!([{"reps": 1, "weight_kg": 1_000_000_000}])
    );
    assert!(workouts.iter().all(|w| w["id"] != "s-3"));
    assert!(view(&mut e, "users").iter().all(|u| u["id"] != "u-2"));
    // The volume goal is met on a value it can show.
    let results = view(&mut e, "results");
    let u1 = results.iter().find(|r| r["user"] == "u-1").unwrap();
    assert_eq!(u1["status"], "completed", "{u1}");
    assert_eq!(u1["tree"]["value"]["value"], 1_000_000_000);
}

/// A session of `sets` sets (one rep each, loads alternating), whole.
fn session_of_sets(id: &str, sets: u64) -> String {
    let mut text = start(id, TS) + "\n";
    for seq in 1..=sets {
        text.push_str(&rep(id, seq, if seq % 2 == 0 { "2" } else { "1" }));
        text.push('\n');
    }
    text.push_str(&end(id, &(sets + 1).to_string(), "2026-08-03T08:00:00Z"));
    text.push('\n');
    text
}

#[test]
fn a_session_of_more_than_10000_sets_is_not_saved() {
    let mut e = engine();
    ingest(
        &mut e,
        &(session_of_sets("s-at", 10_000) + &session_of_sets("s-over", 10_001)),
    );
    let counters = e.counters();
    assert_eq!(counters.rejected, 0, "every event is within bounds");
    let sessions = view(&mut e, "sessions");
    let status = |id: &str| {
        sessions
            .iter()
            .find(|s| s["session"] == id)
            .map(|s| s["status"].clone())
    };
    assert_eq!(status("s-at"), Some("saved".into()));
    assert_eq!(status("s-over"), Some("out_of_bounds".into()));
    let workouts = view(&mut e, "workouts");
    let ids: Vec<&str> = workouts.iter().filter_map(|w| w["id"].as_str()).collect();
    assert_eq!(ids, ["s-at"]);
    assert_eq!(workouts[0]["sets"].as_array().unwrap().len(), 10_000);
}
