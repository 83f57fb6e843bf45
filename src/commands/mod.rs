//! One module per subcommand.

pub mod check;
pub mod compile;
pub mod decompile;
pub mod eval;
pub mod explain;
pub mod fmt;
pub mod html;
pub mod import;
pub mod leaderboard;
pub mod pipeline;
pub mod profile;
pub mod recommend;
