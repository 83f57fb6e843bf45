//! The challenge DSL: text → syntax tree, tree → text, and diagnostics for people.
//!
//! ```text
//! DSL text ─prescan─► pieces ─pest (parser)─► pairs ─builder─► rules_core::Challenge
//!                                    └─errors─► E0001 in an admin's words
//! Challenge ─printer─► canonical text        (print, print_file; format adds comments)
//! Diagnostic ─render─► rustc-style text      (locate, utf16_range for editors)
//! ```
//!
//! - [`parse`] reports the syntax-level problems (E0001, E0002, E0003 for an impossible date,
//!   E0013 for size and nesting); `rules_core::check` does the rest on the trees.
//! - [`print`] / [`print_file`] decompile trees to canonical DSL; [`format`] is parse + print
//!   keeping the source's comments.
//! - [`render`] shows diagnostics like rustc; [`locate`] and [`utf16_range`] turn spans into
//!   line/column and UTF-16 positions.
//!
//! Laws (tested): `parse(print(t))` gives back `t` (spans aside) for every tree of a valid
//! shape; `format` is idempotent; `format(s)` parses to the trees of `s`.
//!
//! Decisions where the spec is silent:
//! - a declaration with a syntax-level error is left out of [`Parsed::decls`] (its errors, and
//!   those of every other item of it that could be parsed, are still reported); a missing
//!   `title` or a field given twice (E0002) is not enough to leave it out: it is built with an
//!   empty title, or the first of the repeated fields, so the checker can report the rest;
//! - `timezone` is always printed, `"UTC"` included (the tree stores the default, so it cannot
//!   tell whether the author wrote it); strings are printed quoted, weekdays bare, so a bare
//!   `exercise == leg_press` prints as `exercise == "leg_press"` (the same tree);
//! - param expressions nested more than 64 levels deep are E0013, like goals and conditions;
//!   text nested more than [`rules_core::limits::MAX_DSL_NESTING`] braces and parentheses is E0013 before
//!   parsing; an empty file is E0001.
//!
//! Boundary: pest stays inside this crate; nothing public mentions it. **Invariant:** nothing
//! here panics on any input, pest never sees nesting deeper than [`rules_core::limits::MAX_DSL_NESTING`], and
//! no tree deeper than the limits of language.md §7 is ever built.
//!
//! ```
//! let parsed = rules_dsl::parse(r#"
//! challenge "push-ups" {
//!     title "Push-ups"
//!     window 2026-08-01 to 2026-08-31
//!     goal every day { sum(reps of push_up) >= 20 }
//! }"#);
//! assert!(parsed.diagnostics.is_empty());
//! let text = rules_dsl::print_file(&parsed.decls);
//! assert!(text.contains("    goal every day {\n        sum(reps of push_up) >= 20\n    }\n"));
//! ```

// pest's types appear only in these four crate-private modules (text → pairs → tree).
mod builder;
mod errors;
mod parser;
mod recover;

pub mod format;
pub mod prescan;
pub mod printer;
pub mod render;

use rules_core::diagnostic::{Code, Diagnostic};
use rules_core::span::Span;
use rules_core::Challenge;

pub use format::format;
pub use printer::print;
pub use render::render;

/// What [`parse`] gives: the declarations that parsed without error, and every syntax-level
/// diagnostic of the file.
///
/// A declaration with an error of its own (E0001, E0003, E0013, a missing `window` or `goal`)
/// is left out of `decls`, so every tree in `decls` is complete; the others are still parsed
/// and built, so their errors are reported too. A declaration whose only problems are a
/// missing `title` or repeated fields (E0002) is kept, with an empty title. Callers treat the file as broken when `diagnostics` is not empty.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    /// The declarations, in source order.
    pub decls: Vec<Challenge>,
    /// Syntax-level errors, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses DSL text into trees and syntax-level diagnostics. Never panics.
pub fn parse(source: &str) -> Parsed {
    let p = parse_with_layout(source);
    Parsed {
        decls: p.decls.into_iter().map(|(d, _)| d).collect(),
        diagnostics: p.diagnostics,
    }
}

/// [`parse`], keeping what the formatter needs.
pub(crate) struct WithLayout {
    pub decls: Vec<builder::Built>,
    pub diagnostics: Vec<Diagnostic>,
    pub comments: Vec<prescan::Comment>,
}

pub(crate) fn parse_with_layout(source: &str) -> WithLayout {
    let mut out = WithLayout {
        decls: Vec::new(),
        diagnostics: Vec::new(),
        comments: Vec::new(),
    };
    if source.len() > rules_core::limits::MAX_SOURCE_BYTES {
        out.diagnostics.push(
            Diagnostic::new(
                Code::E0013,
                format!(
                    "the file is {} bytes long, more than the limit of 1 MiB ({} bytes)",
                    source.len(),
                    rules_core::limits::MAX_SOURCE_BYTES
                ),
                Span::new(0, 0),
                "",
            )
            .with_help("split the declarations over several files"),
        );
        return out;
    }
    let scan = prescan::scan(source);
    if scan.chunks.is_empty() {
        let end = source.trim_end().len();
        out.diagnostics.push(
            Diagnostic::new(
                Code::E0001,
                "the file holds no declaration",
                Span::new(end, end),
                "",
            )
            .with_help("a file holds declarations such as `challenge \"id\" { ... }`"),
        );
    }
    for chunk in &scan.chunks {
        if let Some(at) = chunk.too_deep {
            out.diagnostics.push(
                Diagnostic::new(
                    Code::E0013,
                    format!(
                        "braces and parentheses are nested more than {} levels deep",
                        rules_core::limits::MAX_DSL_NESTING
                    ),
                    at,
                    "",
                )
                .with_help(format!(
                    "goals and conditions may each be nested at most {} levels deep",
                    rules_core::limits::MAX_GOAL_DEPTH
                )),
            );
            continue;
        }
        let Some(text) = source.get(chunk.start..chunk.end) else {
            continue;
        };
        match parser::parse_declaration(text) {
            Ok(pair) => {
                if let Some(built) =
                    builder::build_declaration(pair, chunk.start, &mut out.diagnostics)
                {
                    out.decls.push(built);
                }
            }
            Err(e) => recover::declaration(source, chunk, &e, &mut out.diagnostics),
        }
    }
    out.diagnostics.sort_by_key(|d| d.span.start);
    out.comments = scan.comments;
    out
}

/// Several declarations in canonical form, separated by one blank line.
pub fn print_file(decls: &[Challenge]) -> String {
    let mut p = printer::Printer::new(printer::CommentPool::default());
    let items: Vec<_> = decls.iter().map(|d| (d, None)).collect();
    p.file(&items);
    p.finish()
}

/// A span as lines and columns, all 1-based; columns count characters (Unicode scalar values).
/// `end_line`/`end_column` are the position just after the span's last character.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Location {
    /// Line of the first character.
    pub line: usize,
    /// Column of the first character.
    pub column: usize,
    /// Line of the position after the last character.
    pub end_line: usize,
    /// Column of the position after the last character.
    pub end_column: usize,
}

/// Where `span` is in `source`; `None` for [`Span::NONE`] or a span that does not fit the
/// source (out of range, or not on character boundaries).
pub fn locate(source: &str, span: Span) -> Option<Location> {
    let range = span.range()?;
    if !source.is_char_boundary(range.start) || !source.is_char_boundary(range.end) {
        return None;
    }
    let (line, column) = rules_core::span::line_col(source, range.start);
    let (end_line, end_column) = rules_core::span::line_col(source, range.end);
    Some(Location {
        line,
        column,
        end_line,
        end_column,
    })
}

/// The span as UTF-16 code-unit offsets `(start, end)` from the start of `source` (what
/// JavaScript editors index by); `None` as for [`locate`].
pub fn utf16_range(source: &str, span: Span) -> Option<(usize, usize)> {
    let range = span.range()?;
    let before = source.get(..range.start)?;
    let inside = source.get(range.clone())?;
    let start: usize = before.chars().map(char::len_utf16).sum();
    let len: usize = inside.chars().map(char::len_utf16).sum();
    Some((start, start + len))
}

/// The README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
