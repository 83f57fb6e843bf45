//! Benchmarks of the challenge evaluator against the engines users would pick instead
//! (JsonLogic through datalogic-rs, GoRules ZEN expressions, rhai scripts) and against a
//! hand-written Rust function per challenge, the limit (issue 6; `BENCHMARKS.md`).
//!
//! ```text
//! data::Dataset ──(records, grouped per user once)──► engines::Engine::runner ──► Runner::met(user)
//!   (gen-fixtures)        each engine's own form,              (timed)
//!                         built outside the timed loop
//! ```
//!
//! - [`data`]: the generated users and workouts, and the peers' flat view of a workout
//!   (local `day` number and epoch-second `start`/`end` precomputed: peers have no time zones).
//! - [`specs`]: the benchmark challenges, in our DSL and in each peer's own language.
//! - [`engines`]: one [`engines::Engine`] per contender.
//! - [`harness`]: answer checks (every engine must agree with ours on every user before it is
//!   timed), single-core and all-core timing, memory.
//! - [`alloc`]: a counting global allocator that the `challenge-bench` binary installs.
//!
//! **Invariant:** no figure is reported for an engine whose met/unmet answers differ from ours
//! on any (challenge, user): the harness panics instead.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark harness: a broken setup or a wrong answer must stop the run loudly"
)]

pub mod alloc;
pub mod data;
pub mod engines;
pub mod harness;
pub mod specs;
