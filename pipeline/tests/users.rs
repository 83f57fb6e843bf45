//! Removing users (service.md, `DELETE /v1/users/{id}`): a logged deletion takes the record
//! out of its groups and teams, wins or loses against upserts by time, replays to the same
//! views; an erasure purges every source of truth and view row of the user and leaves the views
//! a rebuild of the rest gives (`verify` green), leaderboards re-ranked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::path::PathBuf;

use common::{engine_with, ingest, view};
use pipeline::engine::{Engine, Options};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;
use rules_core::eval::AsOf;
use serde_json::Value;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures")
}

/// Every fixture challenge, as one DSL text.
fn challenges() -> String {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures().join("challenges"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "chal"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

fn fixture_engine() -> Engine<SqliteStore> {
    let mut e = engine_with(&challenges(), Options::default());
    ingest(
        &mut e,
        &std::fs::read_to_string(fixtures().join("events.jsonl")).unwrap(),
    );
    e
}

fn at(text: &str) -> AsOf {
    AsOf::parse(text).unwrap()
}

fn members(e: &mut Engine<SqliteStore>, team: &str) -> Vec<String> {
    e.store()
        .query("team_results", Some(team), None)
        .unwrap()
        .iter()
        .flat_map(|row| {
            let v: Value = serde_json::from_str(row).unwrap();
            v["members"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["user"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn record(e: &mut Engine<SqliteStore>, user: &str) -> Option<Value> {
    e.store()
        .query("users", Some(user), None)
        .unwrap()
        .first()
        .map(|r| serde_json::from_str(r).unwrap())
}

fn upsert(user: &str, ts: &str, groups: &str) -> String {
    format!(r#"{{"type":"user_upsert","ts":"{ts}","user":{{"id":"{user}","groups":{groups}}}}}"#)
}

/// Ingests one line as an input of its own (each input resumes after its committed lines).
fn ingest_line(e: &mut Engine<SqliteStore>, name: &str, line: &str) {
    let text = format!("{line}\n");
    e.ingest(&mut LineReader::new(name, text.as_bytes()), |_| {})
        .unwrap();
}

fn verify_green(e: Engine<SqliteStore>) -> Engine<SqliteStore> {
    let mut store = e.into_store();
    let checks = pipeline::verify::verify(&mut store, Options::default(), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");
    Engine::open(store, Options::default()).unwrap()
}

#[test]
fn a_deleted_record_leaves_its_teams_loses_to_newer_upserts_and_replays_the_same() {
    let mut e = fixture_engine();
    assert!(record(&mut e, "u-01").is_some());
    assert!(members(&mut e, "coy-a").contains(&"u-01".to_owned()));
    let results_before = e.store().query("results", Some("u-01"), None).unwrap();
    assert!(!results_before.is_empty(), "u-01 has workouts");

    assert!(e.delete_user("u-01", &at("2026-09-01T00:00:00Z")).unwrap());
    assert_eq!(record(&mut e, "u-01"), None);
    assert!(!members(&mut e, "coy-a").contains(&"u-01".to_owned()));
    assert!(
        !e.store()
            .query("results", Some("u-01"), None)
            .unwrap()
            .is_empty(),
        "a user with saved workouts is still considered"
    );
    assert!(
        !e.delete_user("u-01", &at("2026-09-01T00:00:01Z")).unwrap(),
        "no record left to remove"
    );

    // The same views after a restart (replay of the log) and after a rebuild.
    let hashes = e.store().view_hashes().unwrap();
    let mut e = Engine::open(e.into_store(), Options::default()).unwrap();
    assert_eq!(e.store().view_hashes().unwrap(), hashes);
    e.rebuild(&mut |_| {}).unwrap();
    assert_eq!(e.store().view_hashes().unwrap(), hashes);
    let mut e = verify_green(e);

    // An older record does not win against the deletion, a resend is a duplicate, a newer
    // record brings the user back into its team.
    let log = e.store().counts().unwrap()["log"];
    ingest_line(
        &mut e,
        "older",
        &upsert("u-01", "2026-08-20T00:00:00Z", r#"["coy-a"]"#),
    );
    assert_eq!(record(&mut e, "u-01"), None);
    assert_eq!(
        e.store().counts().unwrap()["log"],
        log + 1,
        "logged, not winning"
    );
    ingest_line(
        &mut e,
        "resend",
        &upsert("u-01", "2026-08-20T00:00:00Z", r#"["coy-a"]"#),
    );
    assert_eq!(
        e.store().counts().unwrap()["log"],
        log + 1,
        "a resend is a duplicate"
    );
    ingest_line(
        &mut e,
        "newer",
        &upsert("u-01", "2026-09-02T00:00:00Z", r#"["coy-a"]"#),
    );
    assert_eq!(record(&mut e, "u-01").unwrap()["groups"][0], "coy-a");
    assert!(members(&mut e, "coy-a").contains(&"u-01".to_owned()));
    verify_green(e);
}

#[test]
fn a_deletion_and_an_older_upsert_give_the_same_views_in_either_order() {
    let older = upsert("u-01", "2026-08-25T00:00:00Z", r#"["staff"]"#);
    let mut first = fixture_engine();
    first
        .delete_user("u-01", &at("2026-09-01T00:00:00Z"))
        .unwrap();
    ingest_line(&mut first, "older", &older);
    let mut second = fixture_engine();
    ingest_line(&mut second, "older", &older);
    second
        .delete_user("u-01", &at("2026-09-01T00:00:00Z"))
        .unwrap();
    assert_eq!(
        first.store().view_hashes().unwrap(),
        second.store().view_hashes().unwrap()
    );
}

#[test]
fn an_erased_user_leaves_no_trace_and_verify_stays_green() {
    let mut e = fixture_engine();
    e.tick(&at("2026-08-31T23:00:00+08:00"), "Asia/Singapore")
        .unwrap();
    let sessions: Vec<String> = view(&mut e, "workouts")
        .iter()
        .filter(|w| w["user"] == "u-01")
        .map(|w| w["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!sessions.is_empty());
    let boards_before = view(&mut e, "leaderboards");
    assert!(boards_before.iter().any(|b| b["user"] == "u-01"));
    let log_before = e.store().counts().unwrap()["log"];

    assert!(e.erase_user("u-01").unwrap());

    for name in [
        "results",
        "live",
        "workouts",
        "users",
        "sessions",
        "profiles",
        "leaderboards",
        "rewards",
    ] {
        let rows = view(&mut e, name);
        assert!(
            rows.iter()
                .all(|r| r["user"] != "u-01" && r["id"] != "u-01"),
            "{name} still names u-01"
        );
    }
    assert!(!members(&mut e, "coy-a").contains(&"u-01".to_owned()));
    let head = e.head();
    let page = e.store().sources(0, head + 1).unwrap();
    for entry in &page.log {
        assert!(
            !entry.body.contains("\"u-01\"")
                && sessions
                    .iter()
                    .all(|s| entry.session.as_deref() != Some(s.as_str())),
            "the log keeps {}",
            entry.body
        );
    }
    assert!(e.store().counts().unwrap()["log"] < log_before);

    // The boards: the others' entries, re-ranked (standard competition ranks).
    let boards = view(&mut e, "leaderboards");
    assert_eq!(
        boards.len(),
        boards_before.iter().filter(|b| b["user"] != "u-01").count()
    );
    let mut previous: Option<(&Value, u64, u64)> = None;
    for (i, b) in boards.iter().enumerate() {
        let rank = b["rank"].as_u64().unwrap();
        match previous {
            Some((board, _, first)) if *board == b["board"] => {
                let prev = &boards[i - 1];
                let expected = if prev["total"] == b["total"] {
                    prev["rank"].as_u64().unwrap()
                } else {
                    (i as u64 - first) + 1
                };
                assert_eq!(rank, expected, "{b}");
            }
            _ => {
                assert_eq!(rank, 1, "{b}");
                previous = Some((&b["board"], rank, i as u64));
                continue;
            }
        }
    }

    let mut e = verify_green(e);
    assert!(!e.erase_user("u-01").unwrap(), "nothing left to erase");
}
