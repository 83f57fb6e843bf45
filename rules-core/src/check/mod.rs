//! The checker (language.md §7): every error and warning of a declaration, with the span of the
//! node (when the tree came from DSL text) and its JSON path (always).
//!
//! The checker runs on a tree that is already of the right *shape* (the DSL parser or the JSON
//! reader made it); it validates everything the shape cannot: names against the vocabulary and
//! the catalog, dimensions, nesting rules, params, ids, limits. It reports every problem it
//! finds rather than the first, and it never panics on input: a tree of any depth is walked only
//! down to the nesting limit, and no check indexes into data that came from outside.
//!
//! Stages: [`check`] runs the per-declaration checks (`mod.rs`: header; `teams.rs`: teams and
//! tiers, E0014; `params.rs`: params and the typing of their expressions; `goals.rs`: goals and
//! metrics; `conditions.rs`: `where`; `limits.rs`: period counting; the limits themselves are
//! [`crate::limits`]); [`check_file`] adds the checks across the declarations of a file
//! (duplicate ids). The checker does not evaluate anything.
//!
//! **Lower once, and report while lowering.** [`lower`] and [`lower_file`] run the same walk
//! and, for a challenge without errors, also build its [`Plan`]: each rule (a measure, a field,
//! a unit, an operator, a count, a name) is resolved here, once, and what it resolved to is
//! handed to `eval::Lowering`, which assembles the plan without validating anything
//! again. [`Plan::compile`] is [`lower`] for trees nobody checked before (stored challenges).
//!
//! Decisions where the spec is silent:
//! - a profile figure given an exercise it does not take, or missing one it needs, is E0001 (like
//!   a function with the wrong number of arguments); a category in a profile lookup is E0005;
//! - an unknown unit, a negative or non-finite number, an unknown function, an empty goal list,
//!   an `in` without values, an `and`/`or` with fewer than two terms, and a param name that is
//!   not an identifier or is a keyword are E0001 (the DSL cannot write them; a JSON tree can);
//! - a weekday value that is not `mon` ... `sun` is E0001 (it is a syntax-level word);
//! - param expressions nested deeper than 64 levels are E0013, like goals and conditions;
//! - in a challenge, each `param` line and each `$name` in the goal is E0011; the param
//!   expressions are still typed (against the other params) so their own errors show too.

mod conditions;
mod goals;
mod limits;
mod params;
mod path;
mod teams;

use std::collections::{HashMap, HashSet};

use crate::catalog::Catalog;
use crate::diagnostic::{closest, did_you_mean, Code, Diagnostic};
use crate::eval::{Lowering, Node, Plan, PlanError};
use crate::limits::{MAX_DAYS, MAX_ID_CHARS};
use crate::span::Span;
use crate::tree::{Challenge, DeclKind, Period, Quantity};
use crate::units::{Dimension, UNITS};
use crate::zone::Zone;

pub use params::expr_dimension;

use limits::DateRange;
use path::Path;

/// How the declarations of a file were written, which decides the prefix of JSON paths.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layout {
    /// A DSL file, or a JSON file holding one tree: paths start at the declaration
    /// (`goal.target`).
    Single,
    /// A JSON file holding an array of trees: paths start with the index (`[1].goal.target`).
    Array,
}

/// Checks every declaration of one file: the checks of [`check`] for each, plus E0012 for a
/// duplicate id (reported at the second declaration using it). Diagnostics come in source order
/// (by span; for trees without spans, declaration by declaration in JSON order).
pub fn check_file(decls: &[Challenge], catalog: &Catalog, layout: Layout) -> Vec<Diagnostic> {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = Vec::new();
    for (i, decl) in decls.iter().enumerate() {
        let root = Path::root(match layout {
            Layout::Single => None,
            Layout::Array => Some(i),
        });
        let duplicate = !seen.insert(decl.id.node.as_str());
        out.extend(check_at(decl, catalog, &root, duplicate, false).0);
    }
    sort(&mut out);
    out
}

/// Checks one declaration; paths are relative to the declaration (`goal.goals[1].target`).
/// Diagnostics come in source order (by span; for a tree without spans, in JSON order).
pub fn check(decl: &Challenge, catalog: &Catalog) -> Vec<Diagnostic> {
    let mut out = check_at(decl, catalog, &Path::root(None), false, false).0;
    sort(&mut out);
    out
}

/// A declaration checked and lowered in one pass ([`lower`]).
#[derive(Debug)]
pub struct Lowered {
    /// The diagnostics of [`check`].
    pub diagnostics: Vec<Diagnostic>,
    /// The plan, when the declaration is a challenge without errors; else why not (a template,
    /// or the first error of `diagnostics`).
    pub plan: Result<Plan, PlanError>,
}

/// Checks one declaration like [`check`] and, in the same walk, lowers it to the [`Plan`] the
/// evaluator runs when it is a challenge without errors (warnings do not stop it).
pub fn lower(decl: &Challenge, catalog: &Catalog) -> Lowered {
    let (mut diagnostics, parts) = check_at(decl, catalog, &Path::root(None), false, true);
    sort(&mut diagnostics);
    let plan = assemble(decl, &diagnostics, parts);
    Lowered { diagnostics, plan }
}

/// A file's declarations checked and lowered in one pass ([`lower_file`]).
#[derive(Debug)]
pub struct LoweredFile {
    /// The diagnostics of [`check_file`].
    pub diagnostics: Vec<Diagnostic>,
    /// One per declaration, in file order: its plan, or why it has none.
    pub plans: Vec<Result<Plan, PlanError>>,
}

/// Checks every declaration of a file like [`check_file`] and, in the same walk, lowers each
/// challenge without errors to its [`Plan`].
pub fn lower_file(decls: &[Challenge], catalog: &Catalog, layout: Layout) -> LoweredFile {
    let mut seen: HashSet<&str> = HashSet::new();
    let mut diagnostics = Vec::new();
    let mut plans = Vec::with_capacity(decls.len());
    for (i, decl) in decls.iter().enumerate() {
        let root = Path::root(match layout {
            Layout::Single => None,
            Layout::Array => Some(i),
        });
        let duplicate = !seen.insert(decl.id.node.as_str());
        let (mut own, parts) = check_at(decl, catalog, &root, duplicate, true);
        sort(&mut own);
        plans.push(assemble(decl, &own, parts));
        diagnostics.extend(own);
    }
    sort(&mut diagnostics);
    LoweredFile { diagnostics, plans }
}

/// What the walk lowered: the lowering state and the goal, when they could be built.
type Parts<'a> = Option<(Result<Lowering<'a>, PlanError>, Option<Node>)>;

/// The plan of a declaration from its sorted diagnostics and what the walk lowered.
fn assemble(
    decl: &Challenge,
    diagnostics: &[Diagnostic],
    parts: Parts<'_>,
) -> Result<Plan, PlanError> {
    if decl.kind == DeclKind::Template {
        return Err(PlanError::Template(decl.id.node.clone()));
    }
    if let Some(d) = diagnostics.iter().find(|d| d.is_error()) {
        return Err(PlanError::Invalid {
            code: d.code,
            message: d.message.clone(),
        });
    }
    match parts {
        Some((Ok(lowering), Some(root))) => Ok(lowering.finish(decl, root)),
        Some((Err(e), _)) => Err(e),
        // Every part the walk could not lower was reported as an error.
        Some((Ok(_), None)) | None => Err(PlanError::Invalid {
            code: Code::E0001,
            message: "the challenge could not be lowered".into(),
        }),
    }
}

/// Source order: by span start; nodes without a span keep the walk's order, which is the order
/// of the JSON form.
fn sort(out: &mut [Diagnostic]) {
    out.sort_by_key(|d| d.span.start);
}

/// Checks a declaration; with `lower`, also lowers a challenge whose window and time zone are
/// valid (the diagnostics decide later whether the plan stands).
fn check_at<'a>(
    decl: &Challenge,
    catalog: &'a Catalog,
    root: &Path,
    duplicate_id: bool,
    lower: bool,
) -> (Vec<Diagnostic>, Parts<'a>) {
    let mut checker = Checker::new(decl, catalog);
    checker.id(decl, root, duplicate_id);
    checker.window(decl, root);
    let zone = checker.timezone(decl, root);
    let lower = lower && decl.kind == DeclKind::Challenge;
    let mut failed = None;
    if let (true, Some(zone), Some(_)) = (lower, zone, checker.window) {
        match Lowering::new(decl, zone, catalog) {
            Ok(lowering) => checker.lowering = Some(lowering),
            Err(e) => failed = Some(e),
        }
    }
    checker.teams_and_tiers(decl, root);
    checker.params(decl, root);
    let goal = checker.goal_root(&decl.goal, &root.key("goal"));
    let parts = match (lower, failed, checker.lowering.take()) {
        (false, ..) => None,
        (true, Some(e), _) => Some((Err(e), None)),
        (true, None, Some(lowering)) => Some((Ok(lowering), goal)),
        (true, None, None) => None,
    };
    (checker.out, parts)
}

/// The state of checking one declaration.
pub(crate) struct Checker<'a> {
    catalog: &'a Catalog,
    kind: DeclKind,
    /// The params declared (the first declaration of a name wins), with their dimensions.
    params: HashMap<String, Dimension>,
    /// The window, when it is valid (for W0001).
    window: Option<DateRange>,
    /// Most periods of a kind per range of a chain of enclosing period blocks (W0001), cached.
    period_counts: HashMap<(Vec<Period>, Period), u64>,
    goal_depth_reported: bool,
    condition_depth_reported: bool,
    out: Vec<Diagnostic>,
    /// While lowering: the plan's names and calendar (`None` when not lowering, or when the
    /// window or time zone is wrong).
    lowering: Option<Lowering<'a>>,
}

impl<'a> Checker<'a> {
    fn new(decl: &Challenge, catalog: &'a Catalog) -> Self {
        Checker {
            catalog,
            kind: decl.kind,
            params: HashMap::new(),
            window: None,
            period_counts: HashMap::new(),
            goal_depth_reported: false,
            condition_depth_reported: false,
            out: Vec::new(),
            lowering: None,
        }
    }

    /// Records a diagnostic.
    fn report(
        &mut self,
        code: Code,
        message: String,
        help: Option<String>,
        span: Span,
        path: &Path,
    ) {
        self.out
            .push(Diagnostic::new(code, message, span, path.as_str()).with_optional_help(help));
    }

    /// E0012: an invalid id, or one already used in the file.
    fn id(&mut self, decl: &Challenge, root: &Path, duplicate: bool) {
        let id = &decl.id;
        let path = root.key("id");
        let chars = id.node.chars().count();
        if chars == 0 {
            self.report(
                Code::E0012,
                format!("the {} id is empty", decl.kind.keyword()),
                Some("write an id of 1 to 128 characters, such as `summer-run-2026`".into()),
                id.span,
                &path,
            );
        } else if chars > MAX_ID_CHARS {
            self.report(
                Code::E0012,
                format!(
                    "the id {} is {chars} characters long; at most {MAX_ID_CHARS} are allowed",
                    show(&id.node)
                ),
                Some("shorten the id".into()),
                id.span,
                &path,
            );
        }
        if let Some(c) = id.node.chars().find(|c| c.is_control()) {
            self.report(
                Code::E0012,
                format!(
                    "the id {} contains a control character (U+{:04X})",
                    show(&id.node),
                    u32::from(c)
                ),
                Some("ids may not contain tabs, newlines or other control characters".into()),
                id.span,
                &path,
            );
        }
        if duplicate {
            self.report(
                Code::E0012,
                format!(
                    "the id {} is already used by another declaration in this file",
                    show(&id.node)
                ),
                Some("ids must be unique within a file; rename one of them".into()),
                id.span,
                &path,
            );
        }
    }

    /// E0003: the window ends before it starts; E0013: it is longer than the evaluator's cap.
    fn window(&mut self, decl: &Challenge, root: &Path) {
        let (start, end) = (decl.window.start.node, decl.window.end.node);
        if end < start {
            self.report(
                Code::E0003,
                format!("the window ends on {end}, before it starts on {start}"),
                Some("the window is `window FIRST to LAST`, with LAST on or after FIRST".into()),
                decl.window.end.span,
                &root.key("window").key("end"),
            );
        } else if (end - start).num_days() + 1 > MAX_DAYS as i64 {
            // The evaluator's cap on periods: a longer window would allocate without bound.
            self.report(
                Code::E0013,
                format!(
                    "the window is {} days long; the limit is {} days (about 270 years)",
                    (end - start).num_days() + 1,
                    MAX_DAYS
                ),
                Some("split the challenge into shorter windows".into()),
                decl.window.end.span,
                &root.key("window").key("end"),
            );
        } else {
            self.window = Some((start, end));
        }
    }

    /// E0004: an unknown IANA timezone. The zone, when it is known.
    fn timezone(&mut self, decl: &Challenge, root: &Path) -> Option<Zone> {
        let tz = &decl.timezone;
        if let Some(zone) = Zone::get(&tz.node) {
            return Some(zone);
        }
        let all = Zone::names();
        let names = || all.iter().map(String::as_str);
        let lower = tz.node.to_lowercase();
        let help = names()
            .find(|n| n.to_lowercase() == lower)
            .map(|n| format!("did you mean `{n}`?"))
            .or_else(|| did_you_mean(&tz.node, names()))
            .unwrap_or_else(|| {
                "use an IANA time zone name such as `Asia/Singapore` or `UTC`".into()
            });
        self.report(
            Code::E0004,
            format!("unknown timezone {}", show(&tz.node)),
            Some(help),
            tz.span,
            &root.key("timezone"),
        );
        None
    }

    /// The dimension of a `$name` used in the goal; E0011 when there is no such param or the
    /// declaration is a challenge. `None` when unknown (and already reported).
    fn param_ref(&mut self, name: &str, span: Span, path: &Path) -> Option<Dimension> {
        if self.kind == DeclKind::Challenge {
            self.report(
                Code::E0011,
                format!("`${name}` is a param, and a challenge cannot use params"),
                Some("write a value here, or make the declaration a `template` and declare the param".into()),
                span,
                path,
            );
            return None;
        }
        if let Some(&d) = self.params.get(name) {
            return Some(d);
        }
        let help = closest(name, self.params.keys().map(String::as_str))
            .map(|c| format!("did you mean `${c}`?"))
            .unwrap_or_else(|| {
                format!("declare it with `param {name}: count = ...` (or another dimension)")
            });
        self.report(
            Code::E0011,
            format!("unknown param `${name}`"),
            Some(help),
            span,
            path,
        );
        None
    }

    /// The dimension of a literal quantity; E0001 for a unit or number the language cannot
    /// write. `None` when the unit is unknown.
    fn quantity(&mut self, q: &Quantity, path: &Path) -> Option<Dimension> {
        check_number(q, path, &mut self.out);
        quantity_dimension(q, path, &mut self.out)
    }
}

/// E0001 for a number the DSL cannot write (negative, not finite).
pub(crate) fn check_number(q: &Quantity, path: &Path, out: &mut Vec<Diagnostic>) {
    if !q.value.is_finite() || q.value < 0.0 {
        out.push(
            Diagnostic::new(
                Code::E0001,
                format!("`{}` is not a valid number here", q.value),
                q.span,
                path.as_str(),
            )
            .with_help("numbers are written without a sign, such as `30` or `2.5`"),
        );
    }
}

/// The dimension of a literal; E0001 (and `None`) for an unknown unit.
pub(crate) fn quantity_dimension(
    q: &Quantity,
    path: &Path,
    out: &mut Vec<Diagnostic>,
) -> Option<Dimension> {
    if let Some((d, _)) = q.canonical() {
        return Some(d);
    }
    let unit = q.unit.as_deref().unwrap_or_default();
    let help = did_you_mean(unit, UNITS.iter().map(|u| u.symbol)).unwrap_or_else(|| {
        let all: Vec<&str> = UNITS.iter().map(|u| u.symbol).collect();
        format!("the units are {}", list(&all))
    });
    out.push(
        Diagnostic::new(
            Code::E0001,
            format!("unknown unit {}", show(unit)),
            q.span,
            path.as_str(),
        )
        .with_help(help),
    );
    None
}

/// User input in backticks, with control characters escaped and long text shortened.
pub(crate) fn show(text: &str) -> String {
    let mut s = String::from("`");
    for (i, c) in text.chars().enumerate() {
        if i == 40 {
            s.push('…');
            break;
        }
        if c.is_control() {
            s.extend(c.escape_debug());
        } else {
            s.push(c);
        }
    }
    s.push('`');
    s
}

/// `a`, `b` or `c`.
pub(crate) fn list(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|w| format!("`{w}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        Some((last, _)) => last.clone(),
        None => String::new(),
    }
}

/// "a mass", "an energy", "a count".
pub(crate) fn a_dimension(d: Dimension) -> String {
    match d {
        Dimension::Energy => "an energy".into(),
        Dimension::HeartRate => "a heart rate".into(),
        Dimension::Percent => "a percentage".into(),
        other => format!("a {}", other.name()),
    }
}

/// The unit of a dimension's example (`kg` for mass), for "write `40 kg`" help texts.
pub(crate) fn example_unit(d: Dimension) -> Option<&'static str> {
    d.example().split_once(' ').map(|(_, u)| u)
}

#[cfg(test)]
mod tests;
