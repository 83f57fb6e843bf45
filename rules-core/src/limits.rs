//! Every limit the language puts on a challenge, in one place (language.md §7, E0013): the size
//! of a source, how deep its parts may nest, how long its window may be, how long its id.
//!
//! The DSL's prescan and builder, the JSON reader, the checker and the evaluator read their
//! bounds from here, so a limit is changed once. The bounds of *records* (numbers, strings,
//! sets, times) are data.md's and live in [`crate::bounds`].
//!
//! **Invariant:** each stage's bound covers the next one's: text within [`MAX_DSL_NESTING`] and
//! JSON within [`MAX_JSON_DEPTH`] hold every tree within the goal and condition depths (with
//! room for the error), so nothing recurses without a bound before the checker reports E0013.

/// The largest DSL file or JSON document accepted, in bytes (1 MiB).
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

/// The deepest goal nesting allowed (the root goal is level 1; each node is one level).
pub const MAX_GOAL_DEPTH: usize = 64;

/// The deepest condition nesting allowed, counted separately in each `where` (its root is
/// level 1).
pub const MAX_CONDITION_DEPTH: usize = 64;

/// The deepest param expression nesting allowed (the spec is silent; the same bound as goals).
pub const MAX_EXPR_DEPTH: usize = 64;

/// The deepest brace and parenthesis nesting the DSL hands to its parser. A valid declaration
/// needs at most [`MAX_GOAL_DEPTH`] braces plus a metric's parentheses and
/// [`MAX_CONDITION_DEPTH`] condition levels, so anything deeper is an error anyway; the bound
/// keeps the parser's recursion far from the stack's end.
pub const MAX_DSL_NESTING: usize = 200;

/// The deepest JSON nesting accepted. A tree within the language's limits (64 goal levels and
/// 64 condition levels, each two JSON levels deep) stays well below it.
pub const MAX_JSON_DEPTH: usize = 320;

/// The longest window, in days (about 270 years): the evaluator lays out every day of it.
pub const MAX_DAYS: u64 = 100_000;

/// The most characters (Unicode scalar values) a declaration id may have.
pub const MAX_ID_CHARS: usize = 128;
