//! One module per subcommand.

pub mod check;
pub mod compile;
pub mod decompile;
pub mod eval;
pub mod fmt;
pub mod import;
pub mod leaderboard;
pub mod pipeline;
pub mod profile;
pub mod recommend;
pub mod serve;
pub mod worker;
