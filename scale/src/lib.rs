//! Scale-out (service.md, "Scale-out"; docs/scale-out.md): the pipeline's storage on
//! PostgreSQL, so that any number of processes on any machines share one store.
//!
//! - [`postgres`]: [`postgres::PgStore`], the [`pipeline::Store`] over PostgreSQL: the same
//!   tables, the same transaction per batch and the same content hashes as the embedded
//!   SQLite store, so a view hash computed on one equals the other's for the same input.
//!
//! - [`directory`]: the session directory in PostgreSQL, which routes every line of a user
//!   (the events of the user's sessions included) to the user's partition, holding a
//!   session's events until its start names the user.
//!
//! - [`any`]: [`AnyStore`], a SQLite file or a PostgreSQL database by what `--db` names, for
//!   `challenge pipeline`.
//!
//! **Boundary:** the stages stay in `pipeline`; this crate adds a store behind its `Store`
//! trait, never a second pipeline. `pipeline` knows nothing of the network.
//!
//! **Invariant:** nothing here reads a clock for a view: times come in the input.

pub mod any;
pub mod directory;
pub mod partitioned;
pub mod postgres;
pub mod rabbitmq;
pub mod reduce;
pub mod worker;

pub use any::AnyStore;
pub use postgres::PgStore;
