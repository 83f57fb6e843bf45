//! Criterion benches of every engine on every challenge.
#![allow(missing_docs, reason = "criterion")]
fn main() {}
