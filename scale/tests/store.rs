//! [`PgStore`] against the embedded store: the same input through the same engine gives the
//! same views (by content hash), the same query lines, the same rewards and counts; a reopened
//! engine resumes; `rebuild` and a scratch `verify` agree.

use std::collections::BTreeMap;

use challenge_scale::PgStore;
use pipeline::engine::Engine;
use pipeline::store::Store;
use rules_core::eval::AsOf;

use crate::common::*;

const QUERIED: [&str; 13] = [
    "results",
    "team_results",
    "live",
    "workouts",
    "users",
    "sessions",
    "profiles",
    "leaderboards",
    "dead-letters",
    "rewards",
    "team_rewards",
    "results",
    "workouts",
];

/// Everything a reader sees: the view hashes, every view's lines, the counts.
fn everything<S: Store>(store: &mut S) -> (BTreeMap<String, String>, Vec<Vec<String>>) {
    let hashes = store.view_hashes().unwrap();
    let mut lines: Vec<Vec<String>> = QUERIED
        .iter()
        .map(|v| store.query(v, None, None).unwrap())
        .collect();
    lines.push(store.query("results", Some("u-01"), None).unwrap());
    lines.push(store.query("live", None, Some("cardio-month")).unwrap());
    let counts = store.counts().unwrap();
    lines.push(counts.iter().map(|(k, v)| format!("{k}={v}")).collect());
    (hashes, lines)
}

fn run<S: Store + Send>(e: &mut Engine<S>) {
    ingest(e, "fixture", &fixture_events());
    e.tick(
        &AsOf::parse("2026-08-20T00:00:00Z").unwrap(),
        "Asia/Singapore",
    )
    .unwrap();
    ingest(e, "generated", &generated_events(30, 5, 7));
    e.tick(&AsOf::parse("2026-08-31T23:00:00Z").unwrap(), "UTC")
        .unwrap();
}

#[test]
fn postgres_gives_the_views_sqlite_gives() {
    let Some(base) = pg_url("postgres_gives_the_views_sqlite_gives") else {
        return;
    };
    let url = fresh_database(&base, "same_views");
    let mut lite = sqlite_engine(options(4, 500));
    run(&mut lite);
    // The same batches (a reward's `at` is when a batch first observed it), other partitions.
    let mut pg = pg_engine(&url, options(3, 500));
    run(&mut pg);
    let (lite_hashes, lite_lines) = everything(lite.store());
    let (pg_hashes, pg_lines) = everything(pg.store());
    assert!(
        lite_hashes
            .iter()
            .all(|(v, h)| v == "live" || !h.starts_with("0:")),
        "every view but live (no session under way at the end) has rows: {lite_hashes:?}"
    );
    assert_eq!(lite_hashes, pg_hashes);
    for (i, (a, b)) in lite_lines.iter().zip(&pg_lines).enumerate() {
        assert_eq!(a, b, "query {i}");
    }
    assert_eq!(lite.counters(), pg.counters());

    // Reopened: the engine resumes from the stored offsets (nothing ingested twice) and
    // a rebuild in place gives the same views.
    drop(pg);
    let mut again = Engine::open(PgStore::connect(&url).unwrap(), options(2, 10_000)).unwrap();
    ingest(&mut again, "fixture", &fixture_events());
    assert_eq!(again.store().view_hashes().unwrap(), lite_hashes);
    again.rebuild(&mut |_| {}).unwrap();
    assert_eq!(again.store().view_hashes().unwrap(), lite_hashes);
    let checks = pipeline::verify::verify(again.store(), options(4, 50_000), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");
}
