//! What the pipeline's test binaries share: an engine over an in-memory store with challenges
//! from DSL text, ingesting text, and reading views.

#![allow(dead_code, reason = "each test binary uses its part")]

use pipeline::engine::{Engine, Options};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;
use serde_json::Value;

/// An engine over an in-memory store with the challenges of `dsl` (which must check).
pub fn engine_with(dsl: &str, options: Options) -> Engine<SqliteStore> {
    let mut e = Engine::open(SqliteStore::memory().unwrap(), options).unwrap();
    let parsed = rules_dsl::parse(dsl);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    e.set_challenges(&parsed.decls).unwrap();
    e
}

/// Ingests `text` as the input `input`.
pub fn ingest(e: &mut Engine<SqliteStore>, text: &str) {
    let mut reader = LineReader::new("input", text.as_bytes());
    e.ingest(&mut reader, |_| {}).unwrap();
}

/// A view's rows, parsed.
pub fn view(e: &mut Engine<SqliteStore>, name: &str) -> Vec<Value> {
    e.store()
        .query(name, None, None)
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
