//! Tree → canonical DSL text (decompiling), optionally with the source's comments.
//!
//! The canonical form is the one of language.md §1: four spaces per level, one field or goal per
//! line, header fields in the order of the §3 table (with `teams` after `gyms` and the tiers
//! after the rewards, in the order written: §10), then the params, then a blank line and the
//! goal. The printer only reads the tree, so its output parses back to an equal tree (spans
//! aside) for every tree of a valid shape: parentheses are added exactly where the tree's
//! nesting differs from what precedence alone would give, and a block's single `all` child is
//! written as the block's own list only when that list has several goals (`every day { g }`
//! with one goal would read back without the `all`).
//!
//! The timezone line is always printed when decompiling, `timezone "UTC"` included: the tree
//! stores the default, so it cannot tell whether the author wrote it. When formatting, the
//! layout tells, and a file that left the default out keeps it out (a canonical text without a
//! `timezone` line is already formatted: conformance `roundtrip-v11-reward-tier-lines`).
//!
//! Comments: when formatting, the printer is given the source's comments with their anchors
//! and each item's source span; before printing an item it prints the comments anchored
//! between the previous item (in source order) and this one, at the item's indentation, and
//! before a closing brace those left inside the block. Nothing is ever dropped: the comments
//! not placed by then are printed at the end of the declaration or of the file.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rules_core::catalog::{is_identifier, is_keyword};
use rules_core::span::Span;
use rules_core::tree::{
    format_number, Challenge, Condition, Count, Expr, Goal, Metric, Param, Period, Quantity,
    Target, Value,
};

use crate::builder::Layout;

/// Comments waiting to be printed, by anchor.
#[derive(Debug, Default)]
pub(crate) struct CommentPool {
    items: BTreeMap<(usize, usize), String>,
}

impl CommentPool {
    /// A pool of `(anchor, text)` pairs.
    pub fn new(comments: impl IntoIterator<Item = (usize, String)>) -> Self {
        CommentPool {
            items: comments
                .into_iter()
                .enumerate()
                .map(|(i, (anchor, text))| ((anchor, i), text))
                .collect(),
        }
    }

    /// Removes and returns the comments anchored in `lo..hi`, in source order.
    fn take(&mut self, lo: usize, hi: usize) -> Vec<String> {
        if lo >= hi || self.items.is_empty() {
            return Vec::new();
        }
        let keys: Vec<(usize, usize)> = self
            .items
            .range((lo, 0)..(hi, 0))
            .map(|(k, _)| *k)
            .collect();
        keys.iter().filter_map(|k| self.items.remove(k)).collect()
    }
}

/// Writes declarations.
pub(crate) struct Printer {
    out: String,
    pool: CommentPool,
}

/// Spaces per indentation level.
const INDENT: &str = "    ";

fn start(span: Span) -> Option<usize> {
    span.is_some().then_some(span.start as usize)
}

fn end(span: Span) -> Option<usize> {
    span.is_some().then_some(span.end as usize)
}

impl Printer {
    /// A printer that places the comments of `pool` (empty for plain decompiling).
    pub fn new(pool: CommentPool) -> Self {
        Printer {
            out: String::new(),
            pool,
        }
    }

    /// The text written so far.
    pub fn finish(mut self) -> String {
        let rest = self.pool.take(0, usize::MAX);
        self.comment_lines(0, rest);
        self.out
    }

    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn comment_lines(&mut self, indent: usize, lines: Vec<String>) {
        for c in lines {
            self.line(indent, &c);
        }
    }

    /// Prints the comments anchored in `lo..hi` (nothing when either end is unknown).
    fn comments(&mut self, indent: usize, lo: Option<usize>, hi: Option<usize>) {
        if let (Some(lo), Some(hi)) = (lo, hi) {
            let taken = self.pool.take(lo, hi);
            self.comment_lines(indent, taken);
        }
    }

    /// Prints declarations separated by one blank line, each with its layout when known.
    pub fn file(&mut self, decls: &[(&Challenge, Option<&Layout>)]) {
        let mut prev_end = Some(0);
        for (i, (decl, layout)) in decls.iter().enumerate() {
            if i > 0 {
                self.out.push('\n');
            }
            self.comments(0, prev_end, start(decl.span).map(|s| s + 1));
            self.declaration(decl, *layout);
            prev_end = end(decl.span);
        }
    }

    /// One declaration.
    pub fn declaration(&mut self, d: &Challenge, layout: Option<&Layout>) {
        self.line(0, &format!("{} {} {{", d.kind.keyword(), quote(&d.id.node)));
        let spans = |f: fn(&Layout) -> Span| layout.map_or(Span::NONE, f);
        // Items in source order, to know where each one's leading comments start.
        let mut items: Vec<Span> = vec![
            spans(|l| l.title),
            spans(|l| l.description),
            spans(|l| l.window),
            spans(|l| l.timezone),
            spans(|l| l.groups),
            spans(|l| l.gyms),
            spans(|l| l.teams),
            spans(|l| l.goal),
        ];
        items.extend(d.rewards.iter().map(|r| r.span));
        items.extend(d.tiers.iter().map(|t| t.span));
        items.extend(d.params.iter().map(|p| p.span));
        items.retain(|s| s.is_some());
        items.sort_by_key(|s| s.start);
        let body_start = layout.map(|l| l.body_start);
        let lo_of = |span: Span| -> Option<usize> {
            let s = start(span)?;
            let before = items
                .iter()
                .filter(|i| (i.start as usize) < s)
                .map(|i| i.end as usize)
                .max();
            before.or(body_start)
        };

        let leaf = |p: &mut Printer, span: Span, text: String| {
            p.comments(1, lo_of(span), end(span));
            p.line(1, &text);
        };
        leaf(
            self,
            spans(|l| l.title),
            format!("title {}", quote(&d.title.node)),
        );
        if let Some(desc) = &d.description {
            leaf(
                self,
                spans(|l| l.description),
                format!("description {}", quote(&desc.node)),
            );
        }
        leaf(
            self,
            spans(|l| l.window),
            format!("window {} to {}", d.window.start.node, d.window.end.node),
        );
        // Formatting keeps a file without a `timezone` line without one (the default, UTC);
        // decompiling, which cannot tell, always prints it.
        if layout.is_none_or(|l| l.timezone.is_some()) || d.timezone.node != "UTC" {
            leaf(
                self,
                spans(|l| l.timezone),
                format!("timezone {}", quote(&d.timezone.node)),
            );
        }
        if !d.groups.is_empty() {
            let list: Vec<String> = d.groups.iter().map(|g| quote(&g.node)).collect();
            leaf(
                self,
                spans(|l| l.groups),
                format!("groups {}", list.join(", ")),
            );
        }
        if !d.gyms.is_empty() {
            let list: Vec<String> = d.gyms.iter().map(|g| quote(&g.node)).collect();
            leaf(self, spans(|l| l.gyms), format!("gyms {}", list.join(", ")));
        }
        if !d.teams.is_empty() {
            let list: Vec<String> = d.teams.iter().map(|t| quote(&t.node)).collect();
            leaf(
                self,
                spans(|l| l.teams),
                format!("teams {}", list.join(", ")),
            );
        }
        for r in &d.rewards {
            let mut text = format!("reward {}", quote(&r.name));
            if let Some(points) = r.points {
                let _ = write!(text, " points {points}");
            }
            if let Some(tier) = &r.tier {
                let _ = write!(text, " tier {}", quote(&tier.node));
            }
            leaf(self, r.span, text);
        }
        for t in &d.tiers {
            leaf(self, t.span, format!("tier {} at {}", quote(&t.name), t.at));
        }
        for p in &d.params {
            leaf(self, p.span, param_text(p));
        }
        self.out.push('\n');
        let goal_item = spans(|l| l.goal);
        self.comments(1, lo_of(goal_item), start(goal_item).map(|s| s + 1));
        self.goal(&d.goal, 1, "goal ", start(goal_item));
        // Whatever is left inside the declaration.
        self.comments(1, body_start, end(d.span));
        self.line(0, "}");
    }

    /// A goal at `indent`, after the comments anchored from `lo` up to it.
    fn goal(&mut self, g: &Goal, indent: usize, prefix: &str, lo: Option<usize>) {
        let span = g.span();
        let (head, children): (String, Vec<&Goal>) = match g {
            Goal::Metric(m) => {
                self.comments(indent, lo, end(span));
                self.line(indent, &format!("{prefix}{}", metric_text(m)));
                return;
            }
            Goal::All { goals, .. } => ("all".into(), goals.iter().collect()),
            Goal::Any { goals, .. } => ("any".into(), goals.iter().collect()),
            Goal::AtLeast { count, goals, .. } => (
                format!("at least {} of", count_text(count)),
                goals.iter().collect(),
            ),
            Goal::Every { period, goal, .. } => {
                (format!("every {}", period.singular()), block(goal))
            }
            Goal::On {
                count,
                period,
                goal,
                ..
            } => (format!("on {}", periods_text(count, *period)), block(goal)),
            Goal::Streak {
                count,
                period,
                goal,
                ..
            } => (
                format!("streak {}", periods_text(count, *period)),
                block(goal),
            ),
            Goal::OneWorkout { goal, .. } => ("in one workout".into(), block(goal)),
        };
        self.comments(indent, lo, start(span).map(|s| s + 1));
        self.line(indent, &format!("{prefix}{head} {{"));
        let mut child_lo = start(span);
        for c in children {
            self.goal(c, indent + 1, "", child_lo);
            if let Some(e) = end(c.span()) {
                child_lo = Some(e);
            }
        }
        self.comments(indent + 1, child_lo, end(span));
        self.line(indent, "}");
    }
}

/// The goals written inside a period or one-workout block: an `all` of several is written as
/// the block's own list.
fn block(goal: &Goal) -> Vec<&Goal> {
    match goal {
        Goal::All { goals, .. } if goals.len() >= 2 => goals.iter().collect(),
        other => vec![other],
    }
}

/// Canonical text of one declaration, without comments.
pub fn print(decl: &Challenge) -> String {
    let mut p = Printer::new(CommentPool::default());
    p.declaration(decl, None);
    p.finish()
}

/// `"..."` with `\"`, `\\`, `\n` and `\t` escaped.
pub fn quote(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\t' => s.push_str("\\t"),
            other => s.push(other),
        }
    }
    s.push('"');
    s
}

fn count_text(count: &Count) -> String {
    match count {
        Count::Literal(n) => n.node.to_string(),
        Count::Param(p) => format!("${}", p.param),
    }
}

/// `1 day`, `7 days`, `$n days`.
fn periods_text(count: &Count, period: Period) -> String {
    let word = match count {
        Count::Literal(n) if n.node == 1 => period.singular(),
        _ => period.plural(),
    };
    format!("{} {word}", count_text(count))
}

fn quantity_text(q: &Quantity) -> String {
    match &q.unit {
        Some(unit) => format!("{} {unit}", format_number(q.value)),
        None => format_number(q.value),
    }
}

fn target_text(t: &Target) -> String {
    match t {
        Target::Quantity(q) => quantity_text(q),
        Target::Param(p) => format!("${}", p.param),
    }
}

/// `sum(reps of leg_press where weight >= 40 kg) >= 30`
pub fn metric_text(m: &Metric) -> String {
    let mut s = format!("{}({}", m.aggregate.keyword(), m.measure.node);
    match m.of.as_slice() {
        [] => {}
        [one] => {
            let _ = write!(s, " of {}", one.node);
        }
        many => {
            let names: Vec<&str> = many.iter().map(|x| x.node.as_str()).collect();
            let _ = write!(s, " of ({})", names.join(" | "));
        }
    }
    if let Some(c) = &m.where_ {
        s.push_str(" where ");
        condition_text(c, &mut s);
    }
    let _ = write!(s, ") {} {}", m.op.symbol(), target_text(&m.target));
    s
}

/// How tightly a condition binds: `or` < `and` < `not` < a comparison.
fn binding(c: &Condition) -> u8 {
    match c {
        Condition::Or { .. } => 1,
        Condition::And { .. } => 2,
        Condition::Not { .. } => 3,
        Condition::Compare { .. } | Condition::In { .. } => 4,
    }
}

/// A condition with the fewest parentheses that keep its tree: a term of an `or` or `and` is
/// parenthesized when it binds no tighter than its parent (so nested chains keep their
/// nesting), the term of a `not` when it binds looser than `not`.
pub fn condition_text(c: &Condition, s: &mut String) {
    let sub = |t: &Condition, parens: bool, s: &mut String| {
        if parens {
            s.push('(');
            condition_text(t, s);
            s.push(')');
        } else {
            condition_text(t, s);
        }
    };
    match c {
        Condition::Or { terms, .. } | Condition::And { terms, .. } => {
            let sep = if matches!(c, Condition::Or { .. }) {
                " or "
            } else {
                " and "
            };
            for (i, t) in terms.iter().enumerate() {
                if i > 0 {
                    s.push_str(sep);
                }
                sub(t, binding(t) <= binding(c), s);
            }
        }
        Condition::Not { term, .. } => {
            s.push_str("not ");
            sub(term, binding(term) < 3, s);
        }
        Condition::Compare {
            field, op, value, ..
        } => {
            let _ = write!(
                s,
                "{} {} {}",
                field.node,
                op.symbol(),
                value_text(&field.node, value)
            );
        }
        Condition::In { field, values, .. } => {
            let list: Vec<String> = values.iter().map(|v| value_text(&field.node, v)).collect();
            let _ = write!(s, "{} in ({})", field.node, list.join(", "));
        }
    }
}

/// Weekdays are bare; other strings are quoted (a bare exercise id reads back the same quoted).
fn value_text(field: &str, v: &Value) -> String {
    match v {
        Value::Quantity(q) => quantity_text(q),
        Value::Param(p) => format!("${}", p.param),
        Value::Str(text)
            if field == "weekday" && is_identifier(&text.node) && !is_keyword(&text.node) =>
        {
            text.node.clone()
        }
        Value::Str(text) => quote(&text.node),
    }
}

/// `param NAME: DIMENSION = EXPR [else EXPR]`
pub fn param_text(p: &Param) -> String {
    let mut s = format!("param {}: {} = ", p.name.node, p.dimension.node.name());
    expr_text(&p.expr, &mut s);
    if let Some(f) = &p.fallback {
        s.push_str(" else ");
        expr_text(f, &mut s);
    }
    s
}

fn expr_binding(e: &Expr) -> u8 {
    match e {
        Expr::Binary { op, .. } => op.precedence(),
        _ => 3,
    }
}

/// An expression with the fewest parentheses that keep its tree (operators are left
/// associative, so a right operand of the same precedence keeps its parentheses).
pub fn expr_text(e: &Expr, s: &mut String) {
    match e {
        Expr::Number { value, .. } => s.push_str(&quantity_text(value)),
        Expr::Param { name, .. } => {
            let _ = write!(s, "${}", name.node);
        }
        Expr::Binary {
            op, left, right, ..
        } => {
            let p = op.precedence();
            let operand = |x: &Expr, parens: bool, s: &mut String| {
                if parens {
                    s.push('(');
                    expr_text(x, s);
                    s.push(')');
                } else {
                    expr_text(x, s);
                }
            };
            operand(left, expr_binding(left) < p, s);
            let _ = write!(s, " {} ", op.symbol());
            operand(right, expr_binding(right) <= p, s);
        }
        Expr::Call { func, args, .. } => {
            let _ = write!(s, "{}(", func.node);
            for (i, a) in args.iter().enumerate() {
                if i > 0 {
                    s.push_str(", ");
                }
                expr_text(a, s);
            }
            s.push(')');
        }
        Expr::Profile {
            metric, exercise, ..
        } => {
            let _ = write!(s, "profile.{}", metric.node);
            if let Some(x) = exercise {
                let _ = write!(s, "({})", x.node);
            }
        }
    }
}
