//! Canonical formatting: parse, then print the trees with the source's own-line comments.
//!
//! Formatting never changes meaning: it prints the trees the source parses to, so the result
//! parses to the same trees, and formatting it again changes nothing. Comments are kept: each
//! is attached to the item that follows it (an end-of-line comment to the item on its own line,
//! and it moves to its own line above that item); comments at the end of a block, a
//! declaration or the file stay there. A source with syntax errors is not formatted.

use rules_core::diagnostic::Diagnostic;

use crate::printer::{CommentPool, Printer};

/// Formats `source`, or gives its syntax-level errors.
pub fn format(source: &str) -> Result<String, Vec<Diagnostic>> {
    let parsed = crate::parse_with_layout(source);
    if !parsed.diagnostics.is_empty() {
        return Err(parsed.diagnostics);
    }
    let comments = parsed.comments.iter().map(|c| {
        let text = source.get(c.start..c.end).unwrap_or_default().trim_end();
        (c.anchor, text.to_owned())
    });
    let mut printer = Printer::new(CommentPool::new(comments));
    let decls: Vec<_> = parsed.decls.iter().map(|(d, l)| (d, Some(l))).collect();
    printer.file(&decls);
    Ok(printer.finish())
}
