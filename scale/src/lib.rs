//! Scale-out (service.md, "Scale-out"; docs/scale-out.md): the pipeline on PostgreSQL (the
//! store) and RabbitMQ (the transport), so that any number of gateways and workers on any
//! machines give the views one embedded process gives.
//!
//! - [`postgres`]: [`postgres::PgStore`], the [`pipeline::Store`] over PostgreSQL: the same
//!   tables, the same transaction per batch and the same content hashes as the embedded
//!   SQLite store, so a view hash computed on one equals the other's for the same input.
//!
//! - [`directory`]: the session directory in PostgreSQL, which routes every line of a user
//!   (the events of the user's sessions included) to the user's partition, holding a
//!   session's events until its start names the user.
//!
//! - [`rabbitmq`]: one stream per partition, a request's lines of a partition as one message,
//!   publisher confirms, consumers from a stored offset.
//!
//! - [`worker`]: `challenge worker`: one engine per owned partition (each on the connection
//!   that holds the partition's advisory lock), fair shares by a heartbeat table, and the
//!   admin changes published to every partition.
//!
//! - [`reduce`]: the stages that read across partitions (team rows, the merged boards), in one
//!   worker at a time.
//!
//! - [`partitioned`]: `pipeline verify|rebuild --db URL` on a partitioned store.
//!
//! - [`any`]: [`AnyStore`], a SQLite file or a PostgreSQL database by what `--db` names, for
//!   `challenge pipeline`.
//!
//! **Boundary:** the stages stay in `pipeline`; this crate adds a store behind its `Store`
//! trait and runs the engine per partition, never a second pipeline. `pipeline` knows nothing
//! of the network.
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
