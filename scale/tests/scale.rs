//! The scale-out tests, against a real PostgreSQL (and, for the transport, a real RabbitMQ):
//! `scripts/services.sh start` starts both and prints the variables to export,
//! `CHALLENGE_TEST_PG` and `CHALLENGE_TEST_AMQP`. Without them each test prints a note and
//! passes without running (so `cargo test --workspace` needs no servers); `.ci/run` sets them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod broker;
mod common;
mod directory;
mod store;
