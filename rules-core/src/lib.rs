//! The core of the challenge rule engine: the syntax tree and its JSON form, units, the
//! exercise catalog, workout and user records, the checker and the evaluator.
//!
//! This crate knows nothing of the DSL's grammar (that is `rules-dsl`), of WASM, of storage or
//! of the command line. Everything here is a pure function of its inputs: evaluation never reads
//! a clock, the environment or randomness; `as_of` always comes from the caller.
//!
//! The stages data flows through:
//!
//! ```text
//! DSL text ──rules-dsl──┐
//!                       ├─► tree::Challenge ─► check::lower ─► eval::Plan ─► eval::evaluate
//! JSON tree ───json─────┘
//! ```
//!
//! The checker validates and lowers in one walk: a rule lives in one place, and every limit in
//! [`limits`].

pub mod bounds;
pub mod catalog;
pub mod check;
pub mod diagnostic;
pub mod eval;
mod fields;
pub mod json;
pub mod leaderboard;
pub mod limits;
mod par;
pub mod profile;
pub mod records;
pub mod schema;
pub mod session;
pub mod span;
pub mod template;
pub mod tree;
pub mod units;
pub mod vocab;
pub mod zone;

pub use catalog::Catalog;
pub use diagnostic::{Code, Diagnostic, Severity};
pub use span::{Span, Spanned};
pub use tree::Challenge;
