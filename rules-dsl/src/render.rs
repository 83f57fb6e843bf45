//! Diagnostics → text for people, in the style of rustc and miette.
//!
//! ```text
//! error[E0007]: `duration` is a duration but `20 kg` is a mass
//!   --> file.chal:5:34
//!    |
//!  5 |         sum(duration of cardio) >= 20 kg
//!    |                                    ^^^^^
//!    |
//!    = help: write a duration such as `20 min`
//! ```
//!
//! A diagnostic without a span (from a JSON tree) names its JSON path instead of a line:
//! `--> tree.json at goal.goals[1].target`. Colours (ANSI) only when asked for. Rendering never
//! fails: a span that does not fit the source is shown without a snippet.

use std::fmt::Write as _;

use rules_core::diagnostic::{Diagnostic, Severity};
use unicode_width::UnicodeWidthChar;

use crate::locate;

const RESET: &str = "\x1b[0m";
const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[1;31m";
const YELLOW: &str = "\x1b[1;33m";
const BLUE: &str = "\x1b[1;34m";
const CYAN: &str = "\x1b[1;36m";

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
        if self.on {
            format!("{code}{text}{RESET}")
        } else {
            text.to_owned()
        }
    }
}

/// Renders every diagnostic, each followed by a blank line.
pub fn render(diagnostics: &[Diagnostic], source: &str, file_name: &str, color: bool) -> String {
    let style = Style { on: color };
    let mut out = String::new();
    for d in diagnostics {
        render_one(&mut out, d, source, file_name, &style);
        out.push('\n');
    }
    out
}

fn render_one(out: &mut String, d: &Diagnostic, source: &str, file_name: &str, style: &Style) {
    let (word, colour) = match d.severity() {
        Severity::Error => ("error", RED),
        Severity::Warning => ("warning", YELLOW),
    };
    let head = style.paint(colour, &format!("{word}[{}]", d.code));
    let message = style.paint(BOLD, &format!(": {}", d.message));
    let _ = writeln!(out, "{head}{message}");

    let location = locate(source, d.span);
    let line_no = location.as_ref().map_or(1, |l| l.line);
    // The gutter is one space wider than the line number, as in the examples of the spec.
    let width = line_no.to_string().len() + 1;
    let pad = " ".repeat(width);
    let gutter = " ".repeat(width + 1);
    let bar = style.paint(BLUE, "|");
    let arrow = style.paint(BLUE, "-->");
    match &location {
        Some(l) => {
            let _ = writeln!(out, "{pad}{arrow} {file_name}:{}:{}", l.line, l.column);
        }
        None if d.path.is_empty() => {
            let _ = writeln!(out, "{pad}{arrow} {file_name}");
        }
        None => {
            let _ = writeln!(out, "{pad}{arrow} {file_name} at {}", d.path);
        }
    }
    if let Some(l) = &location {
        let text = source.lines().nth(l.line - 1).unwrap_or_default();
        let text = text.strip_suffix('\r').unwrap_or(text);
        let (shown, col) = expand_tabs(text, l.column);
        // Underline to the end of the span on its first line (at least one caret).
        let end_col = if l.end_line == l.line {
            expand_tabs(text, l.end_column).1
        } else {
            columns(&shown) + 1
        };
        let carets = "^".repeat(end_col.saturating_sub(col).max(1));
        let _ = writeln!(out, "{gutter}{bar}");
        let number = style.paint(BLUE, &format!("{:>w$}", l.line, w = width));
        let _ = writeln!(out, "{number} {bar} {shown}");
        let _ = writeln!(
            out,
            "{gutter}{bar} {}{}",
            " ".repeat(col.saturating_sub(1)),
            style.paint(colour, &carets)
        );
    }
    if let Some(help) = &d.help {
        if location.is_some() {
            let _ = writeln!(out, "{gutter}{bar}");
        }
        let _ = writeln!(
            out,
            "{gutter}{} {}: {help}",
            style.paint(BLUE, "="),
            style.paint(CYAN, "help")
        );
    }
}

/// The columns a terminal gives a line (a control character counted as one).
fn columns(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(1)).sum()
}

/// The line with tabs as four spaces, and the display column of character column `column`:
/// a wide character (CJK, most emoji) takes two columns, as a terminal draws it, so carets
/// line up under it (`unicode-width`).
fn expand_tabs(text: &str, column: usize) -> (String, usize) {
    let mut shown = String::with_capacity(text.len());
    let mut display_col = 1;
    let mut result = None;
    for (i, c) in text.chars().enumerate() {
        if i + 1 == column {
            result = Some(display_col);
        }
        if c == '\t' {
            shown.push_str("    ");
            display_col += 4;
        } else {
            shown.push(c);
            // A control character has no width of its own: it is counted as one column.
            display_col += c.width().unwrap_or(1);
        }
    }
    (shown, result.unwrap_or(display_col))
}
