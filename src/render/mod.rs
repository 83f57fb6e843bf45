//! What people look at rather than read: the explain tree of `eval --format text` and the HTML
//! reports of `eval` and `leaderboard`. Renderers take typed results; they are not commands.

pub mod explain;
pub mod html;
