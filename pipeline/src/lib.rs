//! The ingest pipeline: sensor events and user records go in; workouts, challenge results,
//! profiles and leaderboards come out, and change whenever what they derive from changes — the
//! way a spreadsheet keeps its cells.
//!
//! ```text
//! sources of truth                stages (pure functions of immutable messages)          derived views
//! ─────────────────               ─────────────────────────────────────────────          ─────────────
//! sensor events ──► log ──► stream (validate, dedupe, buffer) ──► save (rules_core::session) ──► workouts, sessions
//! user_upsert  ──► log ──┘                                       └─► on-demand (evaluate) ──► results, live
//! tick --at T  ──► log ──► periodic ──────────────────────────────────────────────────────► profiles, leaderboards, results
//! challenges (table) ──► change propagation ──────────────────────────────────────────────► results, live
//! ```
//!
//! - [`stream`]: validation, deduplication by `(session, seq)`, per-session buffers;
//! - [`save`]: sessions → workouts with [`rules_core::session`], the one implementation of the
//!   save rules (the WASM live session uses it too);
//! - [`ondemand`]: a user's results as of the user's clock, and the live results;
//! - [`team`]: a team challenge's rows, one per team, fed by the member stages;
//! - [`rewards`]: the rewards a batch's results earn (an append-only ledger);
//! - [`periodic`]: `tick --at T`;
//! - [`engine`]: batches, partitions, transactions, rebuild and compaction;
//! - [`store`] / [`sqlite`]: the storage boundary and the embedded SQLite store;
//! - [`feed`]: the change feed (what each batch changed, for the server's stream);
//! - [`transport`]: the input boundary, with consumer offsets;
//! - [`partition`]: the consistent hash that routes users to partitions;
//! - [`state`]: the in-memory cache of the store, rebuilt from the log (maps hashed by
//!   `rustc-hash`), and [`dirty`]: what a batch touched;
//! - [`verify`]: rebuilds the views into a scratch store and compares content hashes.
//!
//! The generated event streams of the tests and the benches come from the `workload` crate
//! (test-data tooling, a dev-dependency).
//!
//! **Invariant:** no stage reads a clock or randomness: every time comes in a message (event
//! `ts`, tick `at`). The CLI measures events per second for its progress line; nothing it
//! measures reaches a view.
//!
//! **Invariant:** the views are a function of the sources of truth and the order of ticks
//! among the events: any delivery order, duplication, batching or crash point gives the same
//! views (the tests check content hashes).

pub mod dirty;
pub mod engine;
pub mod feed;
pub mod ondemand;
pub mod partition;
pub mod periodic;
pub mod rewards;
pub mod save;
pub mod sqlite;
pub mod state;
pub mod store;
pub mod stream;
pub mod team;
pub mod transport;
pub mod verify;

pub use dirty::Dirty;
pub use engine::{Engine, Options, PipelineError, Progress};
pub use sqlite::SqliteStore;
pub use store::Store;
