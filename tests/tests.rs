//! End-to-end tests: the `challenge` binary run over `fixtures/`, as a user would run it.
//!
//! One test binary built from modules (as ripgrep does), so the binary is built once.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers may fail loudly: a panic is a failed test"
)]

mod util;

mod check;
mod compile;
mod eval;
mod fixtures;
mod fmt;
mod import;
mod leaderboard;
mod limits;
mod pipeline;
mod profile;
mod recommend;
mod records;
mod rewards;
mod scale;
mod serve;
mod teams;
