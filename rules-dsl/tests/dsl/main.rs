//! The rules-dsl test suite: one binary, one module per concern.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test that fails loudly is the point"
)]

mod builder;
mod deep;
mod diagnostics;
mod fixtures;
mod format;
mod props;
mod render;
mod teams;

use rules_core::{Challenge, Diagnostic};

/// A header that makes any goal a complete challenge.
pub const HEAD: &str = "challenge \"t\" {\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n";

/// The text of `NAME.chal`, whose tree is `tests/data/NAME.json`: each file lives once, in
/// `tests/fixtures/ok-NAME.chal` when the snapshot tests read it too, else in `tests/data/`.
pub fn data_chal(name: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    std::fs::read_to_string(format!("{root}/tests/data/{name}.chal"))
        .or_else(|_| std::fs::read_to_string(format!("{root}/tests/fixtures/ok-{name}.chal")))
        .unwrap()
}

/// `goal` inside a complete challenge.
pub fn with_goal(goal: &str) -> String {
    format!("{HEAD}    goal {goal}\n}}\n")
}

/// The declarations of `source`, which must parse without a diagnostic.
pub fn parse_ok(source: &str) -> Vec<Challenge> {
    let parsed = rules_dsl::parse(source);
    assert!(
        parsed.diagnostics.is_empty(),
        "unexpected diagnostics:\n{}",
        rules_dsl::render(&parsed.diagnostics, source, "test.chal", false)
    );
    parsed.decls
}

/// The only declaration of `source`.
pub fn one(source: &str) -> Challenge {
    let mut decls = parse_ok(source);
    assert_eq!(decls.len(), 1);
    decls.remove(0)
}

/// The JSON form of a tree.
pub fn json<T: serde::Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap()
}

/// The diagnostics of `source`, which must have some.
pub fn diagnostics(source: &str) -> Vec<Diagnostic> {
    let parsed = rules_dsl::parse(source);
    assert!(
        !parsed.diagnostics.is_empty(),
        "expected diagnostics for:\n{source}"
    );
    parsed.diagnostics
}

/// Runs `f` on a thread with an ordinary 2 MiB stack, as a server's worker would.
pub fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}
