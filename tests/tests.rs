//! End-to-end tests: the `challenge` binary run over `fixtures/`, as a user would run it.
//!
//! One test binary built from modules (as ripgrep does), so the binary is built once.

mod util;

mod check;
mod compile;
mod eval;
mod fixtures;
mod fmt;
mod records;
mod leaderboard;
mod profile;
mod recommend;
