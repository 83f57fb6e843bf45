//! What the scale-out tests share: the servers' URLs, a fresh database per test, the fixture
//! challenges and streams, and engines over either store.

#![allow(dead_code, reason = "each test module uses its part")]

use std::sync::atomic::{AtomicU32, Ordering};

use challenge_scale::PgStore;
use pipeline::engine::{Engine, Options};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;
use rules_core::Challenge;

/// Refuses to skip when `CHALLENGE_REQUIRE_SERVICES` is set (CI sets it, so that a service that
/// did not start fails the run instead of skipping its tests).
pub fn skip_allowed(test: &str) {
    assert!(
        std::env::var_os("CHALLENGE_REQUIRE_SERVICES").is_none(),
        "{test}: CHALLENGE_REQUIRE_SERVICES is set but the services' URLs are not"
    );
}

/// The PostgreSQL URL of the test server, or `None` (with a note) when it is not set.
pub fn pg_url(test: &str) -> Option<String> {
    match std::env::var("CHALLENGE_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip_allowed(test);
            eprintln!(
                "SKIPPED {test}: CHALLENGE_TEST_PG is not set (scripts/services.sh start prints it)"
            );
            None
        }
    }
}

/// The AMQP URL of the test broker, or `None` (with a note) when it is not set.
pub fn amqp_url(test: &str) -> Option<String> {
    match std::env::var("CHALLENGE_TEST_AMQP") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip_allowed(test);
            eprintln!(
                "SKIPPED {test}: CHALLENGE_TEST_AMQP is not set (scripts/services.sh start prints it)"
            );
            None
        }
    }
}

static DATABASES: AtomicU32 = AtomicU32::new(0);

/// A new, empty database on the server of `base` (dropped first if a previous run left it),
/// named after the test; gives its URL.
pub fn fresh_database(base: &str, test: &str) -> String {
    let n = DATABASES.fetch_add(1, Ordering::Relaxed);
    let name = format!(
        "t_{}_{}_{n}",
        test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"),
        std::process::id()
    );
    let mut admin = postgres::Client::connect(base, postgres::NoTls).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

/// The fixture challenges, checked.
pub fn challenges() -> Vec<Challenge> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/challenges");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "chal"))
        .collect();
    files.sort();
    let mut decls = Vec::new();
    for f in files {
        let parsed = rules_dsl::parse(&std::fs::read_to_string(&f).unwrap());
        assert!(parsed.diagnostics.is_empty(), "{f:?}");
        decls.extend(parsed.decls);
    }
    decls
}

/// The fixture event stream.
pub fn fixture_events() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/events.jsonl"),
    )
    .unwrap()
}

/// A generated stream (resends, reordering, late and malformed lines included).
pub fn generated_events(users: usize, days: u32, seed: u64) -> String {
    workload::generate_events(&workload::EventsConfig {
        users,
        machines: 9,
        start: chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        days,
        seed,
        noise: true,
    })
    .0
}

/// Engine options for the tests.
pub fn options(partitions: u32, batch: usize) -> Options {
    Options {
        partitions,
        batch_lines: batch,
        ..Options::default()
    }
}

/// An engine over an in-memory SQLite store with the fixture challenges.
pub fn sqlite_engine(options: Options) -> Engine<SqliteStore> {
    let mut e = Engine::open(SqliteStore::memory().unwrap(), options).unwrap();
    e.set_challenges(&challenges()).unwrap();
    e
}

/// An engine over the PostgreSQL database at `url` with the fixture challenges.
pub fn pg_engine(url: &str, options: Options) -> Engine<PgStore> {
    let mut e = Engine::open(PgStore::connect(url).unwrap(), options).unwrap();
    e.set_challenges(&challenges()).unwrap();
    e
}

/// Ingests `text` as input `key`.
pub fn ingest<S: Store + Send>(e: &mut Engine<S>, key: &str, text: &str) {
    let mut reader = LineReader::new(key, text.as_bytes());
    e.ingest(&mut reader, |_| {}).unwrap();
}
