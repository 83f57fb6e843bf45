//! Source spans and the `Spanned` wrapper.
//!
//! A span is a byte range into the DSL text a node came from. Trees read from JSON carry
//! [`Span::NONE`]. Spans never take part in equality, so a parsed tree and the same tree read
//! back from JSON compare equal (the same choice as cedar's `Node<T> { node, loc }`).

use std::fmt;
use std::hash::{Hash, Hasher};

use schemars::JsonSchema;
use serde::Serialize;

/// A byte range `start..end` into a source text, or [`Span::NONE`] for nodes without source.
/// The default is [`Span::NONE`].
#[derive(Clone, Copy, Debug)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: u32,
    /// Byte offset one past the last byte.
    pub end: u32,
}

impl Span {
    /// The span of a node that did not come from text (a JSON tree, a recommender's output).
    pub const NONE: Span = Span {
        start: u32::MAX,
        end: u32::MAX,
    };

    /// A span from byte offsets (saturating at `u32::MAX - 1`; sources are at most 1 MiB).
    pub fn new(start: usize, end: usize) -> Span {
        let clamp = |n: usize| u32::try_from(n).unwrap_or(u32::MAX - 1).min(u32::MAX - 1);
        Span {
            start: clamp(start),
            end: clamp(end),
        }
    }

    /// Whether this span points into a source text.
    pub fn is_some(self) -> bool {
        self.start != u32::MAX
    }

    /// The byte range, when the span points into a source text.
    pub fn range(self) -> Option<std::ops::Range<usize>> {
        self.is_some()
            .then(|| self.start as usize..self.end.max(self.start) as usize)
    }

    /// The smallest span covering both (either may be [`Span::NONE`]).
    pub fn to(self, other: Span) -> Span {
        match (self.is_some(), other.is_some()) {
            (true, true) => Span {
                start: self.start.min(other.start),
                end: self.end.max(other.end),
            },
            (true, false) => self,
            _ => other,
        }
    }
}

impl Default for Span {
    fn default() -> Span {
        Span::NONE
    }
}

/// Spans are metadata: every span equals every other.
impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl Hash for Span {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// A value with the span it was written at. Serializes as the bare value.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct Spanned<T> {
    /// The value.
    pub node: T,
    /// Where it was written.
    #[serde(skip)]
    pub span: Span,
}

impl<T> Spanned<T> {
    /// A value with a span.
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }

    /// A value that did not come from text.
    pub fn bare(node: T) -> Self {
        Spanned {
            node,
            span: Span::NONE,
        }
    }
}

impl Spanned<String> {
    /// The string.
    pub fn as_str(&self) -> &str {
        &self.node
    }
}

impl<T: fmt::Display> fmt::Display for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)
    }
}

impl From<&str> for Spanned<String> {
    fn from(s: &str) -> Self {
        Spanned::bare(s.to_owned())
    }
}

/// Line and column (both 1-based; the column counts Unicode scalar values) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = source.get(..offset).unwrap_or(source);
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_never_affect_equality() {
        assert_eq!(
            Spanned::new("a".to_owned(), Span::new(1, 2)),
            Spanned::bare("a".to_owned())
        );
        assert_ne!(Spanned::bare("a".to_owned()), Spanned::bare("b".to_owned()));
    }

    #[test]
    fn line_col_counts_characters() {
        let src = "ab\nçd\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 3), (2, 1));
        assert_eq!(line_col(src, 5), (2, 2));
        assert_eq!(line_col(src, 100), (3, 1));
    }

    #[test]
    fn none_span_has_no_range() {
        assert_eq!(Span::default().range(), None);
        assert_eq!(Span::NONE.range(), None);
        assert_eq!(Span::new(2, 5).range(), Some(2..5));
        assert_eq!(Span::new(2, 5).to(Span::new(7, 9)).range(), Some(2..9));
        assert_eq!(Span::NONE.to(Span::new(7, 9)).range(), Some(7..9));
    }
}
