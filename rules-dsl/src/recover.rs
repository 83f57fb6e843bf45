//! Error recovery inside a declaration: report every broken item, not only the first.
//!
//! pest stops at the first error. When a declaration does not parse, its head
//! (`challenge "id" {`) is parsed alone, then its body is cut at the header keywords (`title`,
//! `window`, `goal`, ...: reserved words, so outside strings and comments they can only start
//! an item) and each piece is parsed and built on its own. Every piece that fails gives its own
//! diagnostic; the pieces that parse are still built, so their errors (an unknown unit, a
//! quoted weekday, a duplicate field, ...) show too. The declaration's tree is never returned.

use pest::Parser as _;
use rules_core::diagnostic::Diagnostic;
use rules_core::span::Span;

use crate::builder::DeclBuilder;
use crate::errors::{syntax_error, Context};
use crate::parser::{ChallengeParser, PestError, Rule};
use crate::prescan::{item_starts, Chunk};

/// Reports the errors of the declaration `chunk` of `source`, which failed with `first`.
pub fn declaration(source: &str, chunk: &Chunk, first: &PestError, out: &mut Vec<Diagnostic>) {
    let base = chunk.start;
    let text = source.get(chunk.start..chunk.end).unwrap_or_default();
    let head = ChallengeParser::parse(Rule::decl_head, text)
        .ok()
        .and_then(|mut pairs| pairs.next());
    let Some(head) = head else {
        out.push(syntax_error(first, source, base, Context::Declaration));
        return;
    };
    let head_end = head.as_span().end();
    let mut decl = DeclBuilder::new(Span::new(base, base + text.trim_end().len()));
    for part in head.into_inner() {
        decl.part(part, base);
    }

    let body = text.get(head_end..).unwrap_or_default();
    let mut cuts: Vec<usize> = item_starts(body);
    // Text before the first item (a misspelt field, say) is a piece of its own.
    if cuts.first() != Some(&0)
        && !is_blank(
            body.get(..cuts.first().copied().unwrap_or(body.len()))
                .unwrap_or_default(),
        )
    {
        cuts.insert(0, 0);
    }
    if cuts.is_empty() {
        cuts.push(0);
    }
    let mut reported = 0;
    let mut pieces = cuts.iter().peekable();
    while let Some(&start) = pieces.next() {
        let next = pieces.peek().map(|&&n| n);
        let end = next.unwrap_or(body.len());
        let piece = body.get(start..end).unwrap_or_default();
        let piece_base = base + head_end + start;
        let (rule, context) = if next.is_some() {
            (Rule::item_only, Context::Item)
        } else {
            (Rule::last_item, Context::LastItem)
        };
        match ChallengeParser::parse(rule, piece) {
            Ok(pairs) => {
                for top in pairs {
                    for item in top.into_inner() {
                        decl.part(item, piece_base);
                    }
                }
            }
            Err(e) => {
                out.push(syntax_error(&e, source, piece_base, context));
                reported += 1;
                let word: String = piece
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                decl.broken(&word);
            }
        }
    }
    if reported == 0 {
        // The pieces parse on their own but not together: keep pest's own word for it.
        out.push(syntax_error(first, source, base, Context::Declaration));
    }
    // The builder's own errors; the tree itself is dropped, since the declaration is broken.
    let _ = decl.finish(out);
}

/// Whether `text` holds only whitespace and comments.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with("//")
    })
}
