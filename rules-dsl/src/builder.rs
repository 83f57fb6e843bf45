//! pest pairs → the syntax tree of `rules_core::tree`, one builder function per grammar rule.
//!
//! The builder turns a parsed declaration into a [`Challenge`], with a span on every node, and
//! reports what the grammar lets through on purpose so that the message can be precise
//! (language.md §2–§5): a decimal N, an unknown function or the wrong number of arguments, a
//! bare `gym`/`machine` value, a quoted weekday, a keyword used as an exercise id or a param
//! name, an unknown unit or dimension, a bad escape (all E0001); a duplicate or missing header
//! field (E0002); an impossible date (E0003); and nesting beyond the limits (E0013), which it
//! checks *while* building so that no tree deeper than the limits is ever made.
//!
//! The builder never panics: it reads pairs by rule, never by position, and a pair it does not
//! expect is skipped (the grammar makes that impossible, but the builder does not rely on it).

use pest::iterators::Pair;
use rules_core::diagnostic::{Code, Diagnostic};
use rules_core::span::{Span, Spanned};
use rules_core::tree::{Challenge, DeclKind, Goal, Param, Reward, Tier, Window, TREE_VERSION};

use crate::parser::Rule;

mod conditions;
mod goals;
mod header;
mod params;

/// Where the items of a declaration were written, for the formatter's comments.
#[derive(Clone, Debug)]
pub struct Layout {
    /// The `title` line.
    pub title: Span,
    /// The `description` line.
    pub description: Span,
    /// The `window` line.
    pub window: Span,
    /// The `timezone` line (NONE when absent).
    pub timezone: Span,
    /// The `groups` line (NONE when absent).
    pub groups: Span,
    /// The `gyms` line (NONE when absent).
    pub gyms: Span,
    /// The `teams` line (NONE when absent).
    pub teams: Span,
    /// The `goal ...` item, from the keyword to the end of the goal.
    pub goal: Span,
    /// Byte offset just after the declaration's `{`.
    pub body_start: usize,
}

/// A declaration's tree and where its items were.
pub type Built = (Challenge, Layout);

/// Builds one declaration. `base` is the byte offset of the pair's text in the whole source.
/// Returns the tree only when the declaration had no error; every error goes to `diags`.
pub fn build_declaration(
    pair: Pair<'_, Rule>,
    base: usize,
    diags: &mut Vec<Diagnostic>,
) -> Option<Built> {
    let s = pair.as_span();
    let mut d = DeclBuilder::new(Span::new(base + s.start(), base + s.end()));
    for p in inner(pair) {
        d.part(p, base);
    }
    d.finish(diags)
}

/// Builds a declaration from its parts: its head (`decl_kind`, the id string, `{`) and its
/// items, which may come from separate parses (error recovery parses each item on its own).
pub struct DeclBuilder {
    b: Builder,
    kind: DeclKind,
    id: Option<Spanned<String>>,
    head_span: Span,
    header: Header,
    layout: Layout,
    span: Span,
}

impl DeclBuilder {
    /// A declaration spanning `span`.
    pub fn new(span: Span) -> Self {
        DeclBuilder {
            b: Builder {
                base: 0,
                diags: Vec::new(),
                goal_depth_reported: false,
                condition_depth_reported: false,
                expr_depth_reported: false,
            },
            kind: DeclKind::Challenge,
            id: None,
            head_span: span,
            header: Header::default(),
            layout: Layout {
                title: Span::NONE,
                description: Span::NONE,
                window: Span::NONE,
                timezone: Span::NONE,
                groups: Span::NONE,
                gyms: Span::NONE,
                teams: Span::NONE,
                goal: Span::NONE,
                body_start: span.start as usize,
            },
            span,
        }
    }

    /// Adds a part of the declaration: `decl_kind`, the id `string`, `lbrace` or an `item`
    /// (other pairs are ignored). `base` is the byte offset of the pair's parse in the source.
    pub fn part(&mut self, p: Pair<'_, Rule>, base: usize) {
        self.b.base = base;
        match p.as_rule() {
            Rule::decl_kind => {
                self.head_span = self.b.span(&p);
                if p.as_str().starts_with("template") {
                    self.kind = DeclKind::Template;
                }
            }
            Rule::string => {
                let s = self.b.string(p);
                self.head_span = self.head_span.to(s.span);
                self.id = Some(s);
            }
            Rule::lbrace => self.layout.body_start = self.b.span(&p).end as usize,
            Rule::item => {
                for field in inner(p) {
                    self.b.item(field, &mut self.header, &mut self.layout);
                }
            }
            _ => {}
        }
    }

    /// Notes that an item starting with `word` was written but did not parse, so that it is
    /// not reported as missing too.
    pub fn broken(&mut self, word: &str) {
        for field in ["title", "window", "goal"] {
            if word == field {
                self.header.broken.push(field);
            }
        }
    }

    /// Reports the missing fields and gives the tree, when the declaration had no error other
    /// than a missing title or a field given twice.
    pub fn finish(mut self, diags: &mut Vec<Diagnostic>) -> Option<Built> {
        let what = self.kind.keyword();
        let head_span = self.head_span;
        let header = &self.header;
        let mut missing = Vec::new();
        if header.title.is_none() && !header.broken.contains(&"title") {
            missing.push(("title", "title \"Push-ups in August\""));
        }
        if header.window.is_none() && !header.broken.contains(&"window") {
            missing.push(("window", "window 2026-08-01 to 2026-08-31"));
        }
        if header.goal.is_none() && !header.broken.contains(&"goal") {
            missing.push(("goal", "goal sum(reps of push_up) >= 30"));
        }
        for (field, example) in missing {
            self.b.error(
                Code::E0002,
                head_span,
                format!("this {what} has no `{field}`"),
                Some(format!("add a line such as `{example}`")),
            );
        }
        // A missing title or a field given twice (E0002) does not stop the other checks: the
        // tree is still built (with an empty title, or the first of the fields), so an admin
        // sees every mistake at once. Any other problem leaves the declaration out.
        let recoverable = self.b.diags.iter().all(|d| d.code == Code::E0002);
        diags.append(&mut self.b.diags);
        if !recoverable {
            return None;
        }
        let header = self.header;
        let title = header
            .title
            .unwrap_or_else(|| Spanned::new(String::new(), head_span));
        let challenge = Challenge {
            version: TREE_VERSION,
            kind: self.kind,
            id: self.id?,
            title,
            description: header.description,
            window: header.window?,
            timezone: header
                .timezone
                .unwrap_or_else(|| Spanned::bare("UTC".to_owned())),
            groups: header.groups.unwrap_or_default(),
            gyms: header.gyms.unwrap_or_default(),
            teams: header.teams.unwrap_or_default(),
            rewards: header.rewards,
            tiers: header.tiers,
            params: header.params,
            goal: header.goal?,
            span: self.span,
        };
        Some((challenge, self.layout))
    }
}

struct Builder {
    base: usize,
    diags: Vec<Diagnostic>,
    goal_depth_reported: bool,
    condition_depth_reported: bool,
    expr_depth_reported: bool,
}

/// The header fields seen so far.
#[derive(Default)]
struct Header {
    title: Option<Spanned<String>>,
    description: Option<Spanned<String>>,
    window: Option<Window>,
    timezone: Option<Spanned<String>>,
    groups: Option<Vec<Spanned<String>>>,
    gyms: Option<Vec<Spanned<String>>>,
    teams: Option<Vec<Spanned<String>>>,
    rewards: Vec<Reward>,
    tiers: Vec<Tier>,
    params: Vec<Param>,
    goal: Option<Goal>,
    /// Fields that were written but could not be built: not "missing".
    broken: Vec<&'static str>,
}

fn inner(pair: Pair<'_, Rule>) -> impl Iterator<Item = Pair<'_, Rule>> {
    pair.into_inner()
}

impl Builder {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        Span::new(self.base + pair.as_span().start(), self.base + end_of(pair))
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>, help: Option<String>) {
        self.diags
            .push(Diagnostic::new(code, message, span, "").with_optional_help(help));
    }
}

/// Where a node's text ends. A rule that ends with an optional part or a repetition (`reward
/// "r" [points N]`, `a + b ...`) also holds the blanks and comments pest skipped while looking
/// for more, so its end is taken from its last child instead (atomic rules have exact ends).
fn end_of(pair: &Pair<'_, Rule>) -> usize {
    let mut p = pair.clone();
    loop {
        if is_atomic(p.as_rule()) {
            return p.as_span().end();
        }
        match p.clone().into_inner().last() {
            Some(child) => p = child,
            None => return p.as_span().end(),
        }
    }
}

/// The rules written `@{ }` or `${ }` in the grammar: no skipped blanks inside.
fn is_atomic(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::word
            | Rule::keyword
            | Rule::number
            | Rule::quantity
            | Rule::unit
            | Rule::bad_unit
            | Rule::string
            | Rule::string_inner
            | Rule::date
            | Rule::param_ref
            | Rule::period
            | Rule::aggregate
            | Rule::measure
            | Rule::sel_word
            | Rule::goal_op
            | Rule::field
            | Rule::cmp_op
            | Rule::bare_word
            | Rule::param_name
            | Rule::dimension
            | Rule::add_op
            | Rule::mul_op
            | Rule::kw_challenge
            | Rule::kw_template
            | Rule::kw_title
            | Rule::kw_description
            | Rule::kw_window
            | Rule::kw_to
            | Rule::kw_timezone
            | Rule::kw_groups
            | Rule::kw_gyms
            | Rule::kw_reward
            | Rule::kw_points
            | Rule::kw_param
            | Rule::kw_goal
            | Rule::kw_all
            | Rule::kw_any
            | Rule::kw_at
            | Rule::kw_least
            | Rule::kw_of
            | Rule::kw_on
            | Rule::kw_every
            | Rule::kw_streak
            | Rule::kw_in
            | Rule::kw_one
            | Rule::kw_workout
            | Rule::kw_where
            | Rule::kw_and
            | Rule::kw_or
            | Rule::kw_not
            | Rule::kw_else
            | Rule::kw_profile
            | Rule::kw_teams
            | Rule::kw_tier
    )
}

fn quoted(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>()
}
