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

use chrono::NaiveDate;
use pest::iterators::Pair;
use rules_core::catalog::is_keyword;
use rules_core::diagnostic::{did_you_mean, Code, Diagnostic};
use rules_core::limits::{MAX_CONDITION_DEPTH, MAX_EXPR_DEPTH, MAX_GOAL_DEPTH};
use rules_core::span::{Span, Spanned};
use rules_core::tree::{
    Aggregate, BinOp, Challenge, CmpOp, Condition, Count, DeclKind, Expr, Goal, GoalOp, Metric,
    Param, ParamRef, Period, Quantity, Reward, Target, Tier, Value, Window, TREE_VERSION,
};
use rules_core::units::{Dimension, UNITS};
use rules_core::vocab::{weekday_from_name, Function};

use crate::parser::Rule;

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

    // ----- declarations ------------------------------------------------------------------

    fn item(&mut self, p: Pair<'_, Rule>, h: &mut Header, layout: &mut Layout) {
        let span = self.span(&p);
        let rule = p.as_rule();
        // Fields that may be given once: where the first one was.
        let slot = match rule {
            Rule::title_field => Some(("title", &mut layout.title)),
            Rule::description_field => Some(("description", &mut layout.description)),
            Rule::window_field => Some(("window", &mut layout.window)),
            Rule::timezone_field => Some(("timezone", &mut layout.timezone)),
            Rule::groups_field => Some(("groups", &mut layout.groups)),
            Rule::gyms_field => Some(("gyms", &mut layout.gyms)),
            Rule::teams_field => Some(("teams", &mut layout.teams)),
            Rule::goal_field => Some(("goal", &mut layout.goal)),
            _ => None,
        };
        if let Some((name, seen)) = slot {
            if seen.is_some() {
                self.error(
                    Code::E0002,
                    span,
                    format!("`{name}` is given twice"),
                    Some(format!(
                        "a declaration has one `{name}`; remove one of them"
                    )),
                );
                return;
            }
            *seen = span;
        }
        match rule {
            Rule::title_field => h.title = self.first_string(p),
            Rule::description_field => h.description = self.first_string(p),
            Rule::timezone_field => h.timezone = self.first_string(p),
            Rule::groups_field => h.groups = Some(self.strings(p)),
            Rule::gyms_field => h.gyms = Some(self.strings(p)),
            Rule::teams_field => h.teams = Some(self.strings(p)),
            Rule::tier_field => {
                if let Some(t) = self.tier(p) {
                    h.tiers.push(t);
                }
            }
            Rule::window_field => {
                let dates: Vec<Option<Spanned<NaiveDate>>> = inner(p)
                    .filter(|d| d.as_rule() == Rule::date)
                    .map(|d| self.date(d))
                    .collect();
                match dates.as_slice() {
                    [Some(start), Some(end)] => {
                        h.window = Some(Window {
                            start: start.clone(),
                            end: end.clone(),
                        });
                    }
                    _ => h.broken.push("window"),
                }
            }
            Rule::reward_field => {
                if let Some(r) = self.reward(p) {
                    h.rewards.push(r);
                }
            }
            Rule::param_decl => {
                if let Some(param) = self.param(p) {
                    h.params.push(param);
                }
            }
            Rule::goal_field => {
                h.goal = inner(p)
                    .find(|g| g.as_rule() == Rule::goal)
                    .and_then(|g| self.goal(g, 1));
                if h.goal.is_none() {
                    h.broken.push("goal");
                }
            }
            _ => {}
        }
    }

    fn first_string(&mut self, p: Pair<'_, Rule>) -> Option<Spanned<String>> {
        inner(p)
            .find(|s| s.as_rule() == Rule::string)
            .map(|s| self.string(s))
    }

    fn strings(&mut self, p: Pair<'_, Rule>) -> Vec<Spanned<String>> {
        inner(p)
            .filter(|s| s.as_rule() == Rule::string)
            .map(|s| self.string(s))
            .collect()
    }

    fn reward(&mut self, p: Pair<'_, Rule>) -> Option<Reward> {
        let span = self.span(&p);
        let mut name = None;
        let mut points = None;
        let mut tier = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::string => name = Some(self.string(q).node),
                Rule::number => points = Some(self.whole_number(q, "points")?.node),
                Rule::reward_tier => tier = self.first_string(q),
                _ => {}
            }
        }
        Some(Reward {
            name: name?,
            points,
            tier,
            span,
        })
    }

    /// `tier "name" at QUANTITY`; whether the quantity is a percent in range is the checker's
    /// (E0014). A `$param` threshold is E0001.
    fn tier(&mut self, p: Pair<'_, Rule>) -> Option<Tier> {
        let span = self.span(&p);
        let mut name = None;
        let mut at = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::string => name = Some(self.string(q).node),
                Rule::quantity => at = Some(self.quantity(q)?),
                Rule::param_ref => {
                    self.error(
                        Code::E0001,
                        self.span(&q),
                        format!("a tier threshold cannot be a param (`{}`)", q.as_str()),
                        Some("write a literal percent such as `at 50 %`".into()),
                    );
                    return None;
                }
                _ => {}
            }
        }
        Some(Tier {
            name: name?,
            at: at?,
            span,
        })
    }

    /// A string literal, unescaped; the span covers the quotes.
    fn string(&mut self, p: Pair<'_, Rule>) -> Spanned<String> {
        let span = self.span(&p);
        let raw = inner(p)
            .find(|q| q.as_rule() == Rule::string_inner)
            .map(|q| q.as_str())
            .unwrap_or_default();
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => out.push('"'),
                Some((_, '\\')) => out.push('\\'),
                Some((_, 'n')) => out.push('\n'),
                Some((_, 't')) => out.push('\t'),
                Some((_, other)) => {
                    // +1 for the opening quote.
                    let at = span.start as usize + 1 + i;
                    self.error(
                        Code::E0001,
                        Span::new(at, at + 1 + other.len_utf8()),
                        format!(
                            "unknown escape `\\{}` in a quoted text",
                            other.escape_debug()
                        ),
                        Some("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`".into()),
                    );
                }
                None => {}
            }
        }
        Spanned::new(out, span)
    }

    fn date(&mut self, p: Pair<'_, Rule>) -> Option<Spanned<NaiveDate>> {
        let span = self.span(&p);
        let text = p.as_str();
        let part = |r: std::ops::Range<usize>| text.get(r).and_then(|s| s.parse::<u32>().ok());
        let (y, m, d) = (part(0..4)?, part(5..7)?, part(8..10)?);
        match i32::try_from(y)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, m, d))
        {
            Some(date) => Some(Spanned::new(date, span)),
            None => {
                let help = if (1..=12).contains(&m) {
                    let days = days_in_month(y, m);
                    format!("{} {y} has {days} days", month_name(m))
                } else {
                    "months run from 01 to 12".to_owned()
                };
                self.error(
                    Code::E0003,
                    span,
                    format!("`{text}` is not a calendar date"),
                    Some(help),
                );
                None
            }
        }
    }

    /// A whole number (`points`, N).
    fn whole_number(&mut self, p: Pair<'_, Rule>, what: &str) -> Option<Spanned<u64>> {
        let span = self.span(&p);
        let text = p.as_str();
        if text.contains('.') {
            self.error(
                Code::E0001,
                span,
                format!("`{text}` is not a whole number; {what} must be whole"),
                Some(format!(
                    "write a whole number such as `{}`",
                    whole_example(text)
                )),
            );
            return None;
        }
        match text.parse::<u64>() {
            Ok(n) => Some(Spanned::new(n, span)),
            Err(_) => {
                self.error(Code::E0001, span, format!("`{text}` is too large"), None);
                None
            }
        }
    }

    // ----- params ------------------------------------------------------------------------

    fn param(&mut self, p: Pair<'_, Rule>) -> Option<Param> {
        let span = self.span(&p);
        let mut name = None;
        let mut dimension = None;
        let mut exprs = Vec::new();
        let mut ok = true;
        for q in inner(p) {
            match q.as_rule() {
                Rule::param_name => {
                    let s = self.span(&q);
                    let text = q.as_str();
                    if is_keyword(text) {
                        self.error(
                            Code::E0001,
                            s,
                            format!("`{text}` is a reserved word and cannot be a param name"),
                            Some(format!("choose another name, such as `{text}_target`")),
                        );
                        ok = false;
                    }
                    name = Some(Spanned::new(text.to_owned(), s));
                }
                Rule::dimension => {
                    let s = self.span(&q);
                    let text = q.as_str();
                    match Dimension::from_name(text) {
                        Some(d) => dimension = Some(Spanned::new(d, s)),
                        None => {
                            let help = did_you_mean(text, Dimension::ALL.map(Dimension::name))
                                .unwrap_or_else(|| {
                                    let names: Vec<&str> =
                                        Dimension::ALL.iter().map(|d| d.name()).collect();
                                    format!(
                                        "the dimensions are {}",
                                        crate::errors::join_or(&quoted(&names))
                                    )
                                });
                            self.error(
                                Code::E0001,
                                s,
                                format!("unknown dimension `{text}`"),
                                Some(help),
                            );
                            ok = false;
                        }
                    }
                }
                Rule::expr => match self.expr(q) {
                    Some((e, _)) => exprs.push(e),
                    None => ok = false,
                },
                _ => {}
            }
        }
        if !ok {
            return None;
        }
        let mut exprs = exprs.into_iter();
        Some(Param {
            name: name?,
            dimension: dimension?,
            expr: exprs.next()?,
            fallback: exprs.next(),
            span,
        })
    }

    /// An expression and its depth (levels of nodes).
    fn expr(&mut self, p: Pair<'_, Rule>) -> Option<(Expr, usize)> {
        // expr: term (add_op term)*; term: factor (mul_op factor)*. Both fold to the left.
        let mut acc: Option<(Expr, usize)> = None;
        let mut op: Option<BinOp> = None;
        // After a broken operand the others are still built, for their own errors.
        let mut broken = false;
        for q in inner(p) {
            match q.as_rule() {
                Rule::term | Rule::factor => {
                    let operand = if q.as_rule() == Rule::term {
                        self.expr(q)
                    } else {
                        self.factor(q)
                    };
                    let Some(operand) = operand.filter(|_| !broken) else {
                        broken = true;
                        acc = None;
                        continue;
                    };
                    acc = Some(match (acc, op.take()) {
                        (Some((left, ld)), Some(o)) => {
                            let (right, rd) = operand;
                            let depth = ld.max(rd) + 1;
                            let span = left.span().to(right.span());
                            if depth > MAX_EXPR_DEPTH {
                                self.expr_too_deep(span);
                                return None;
                            }
                            (
                                Expr::Binary {
                                    op: o,
                                    left: Box::new(left),
                                    right: Box::new(right),
                                    span,
                                },
                                depth,
                            )
                        }
                        _ => operand,
                    });
                }
                Rule::add_op | Rule::mul_op => {
                    op = Some(match q.as_str() {
                        "+" => BinOp::Add,
                        "-" => BinOp::Sub,
                        "*" => BinOp::Mul,
                        _ => BinOp::Div,
                    });
                }
                _ => {}
            }
        }
        if broken {
            None
        } else {
            acc
        }
    }

    fn expr_too_deep(&mut self, span: Span) {
        if !self.expr_depth_reported {
            self.expr_depth_reported = true;
            self.error(
                Code::E0013,
                span,
                format!("this expression is nested more than {MAX_EXPR_DEPTH} levels deep"),
                Some("split it into several params".into()),
            );
        }
    }

    fn factor(&mut self, p: Pair<'_, Rule>) -> Option<(Expr, usize)> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        match q.as_rule() {
            Rule::paren_expr => {
                let e = inner(q).find(|r| r.as_rule() == Rule::expr)?;
                self.expr(e)
            }
            Rule::param_ref => {
                let name = self.param_name_of(&q);
                Some((Expr::Param { name, span }, 1))
            }
            Rule::quantity => {
                let value = self.quantity(q)?;
                Some((Expr::Number { value, span }, 1))
            }
            Rule::profile => {
                let mut words = inner(q).filter(|r| r.as_rule() == Rule::word);
                let metric = words.next()?;
                let metric = Spanned::new(metric.as_str().to_owned(), self.span(&metric));
                let exercise = match words.next() {
                    Some(w) => Some(self.exercise_word(&w)?),
                    None => None,
                };
                Some((
                    Expr::Profile {
                        metric,
                        exercise,
                        span,
                    },
                    1,
                ))
            }
            Rule::call => {
                let mut func = None;
                let mut args = Vec::new();
                let mut depth = 0;
                let mut ok = true;
                for r in inner(q) {
                    match r.as_rule() {
                        Rule::word => {
                            func = Some(Spanned::new(r.as_str().to_owned(), self.span(&r)))
                        }
                        Rule::expr => match self.expr(r) {
                            Some((e, d)) => {
                                depth = depth.max(d);
                                args.push(e);
                            }
                            None => ok = false,
                        },
                        _ => {}
                    }
                }
                let func: Spanned<String> = func?;
                match Function::from_name(&func.node) {
                    None => {
                        let names = Function::ALL.map(Function::name);
                        let help = did_you_mean(&func.node, names).unwrap_or_else(|| {
                            format!(
                                "the functions are {}",
                                crate::errors::join_or(&quoted(&names))
                            )
                        });
                        self.error(
                            Code::E0001,
                            func.span,
                            format!("unknown function `{}`", func.node),
                            Some(help),
                        );
                        return None;
                    }
                    Some(f) if ok && f.arity() != args.len() => {
                        let n = f.arity();
                        self.error(
                            Code::E0001,
                            span,
                            format!(
                                "`{}` takes {n} argument{}, found {}",
                                func.node,
                                if n == 1 { "" } else { "s" },
                                args.len()
                            ),
                            Some(format!("write `{}`", call_example(f))),
                        );
                        return None;
                    }
                    Some(_) => {}
                }
                if !ok {
                    return None;
                }
                if depth + 1 > MAX_EXPR_DEPTH {
                    self.expr_too_deep(span);
                    return None;
                }
                Some((Expr::Call { func, args, span }, depth + 1))
            }
            _ => None,
        }
    }

    /// The name of a `$name` pair, spanned without the `$`.
    fn param_name_of(&self, p: &Pair<'_, Rule>) -> Spanned<String> {
        let s = self.span(p);
        let name = p.as_str().trim_start_matches('$').to_owned();
        Spanned::new(name, Span::new(s.start as usize + 1, s.end as usize))
    }

    fn param_ref(&self, p: &Pair<'_, Rule>) -> ParamRef {
        ParamRef {
            param: p.as_str().trim_start_matches('$').to_owned(),
            span: self.span(p),
        }
    }

    /// An exercise id written as a word: no keyword allowed.
    fn exercise_word(&mut self, p: &Pair<'_, Rule>) -> Option<Spanned<String>> {
        let span = self.span(p);
        let text = p.as_str();
        if is_keyword(text) {
            self.error(
                Code::E0001,
                span,
                format!("`{text}` is a reserved word and cannot be an exercise id"),
                Some("exercise ids are names such as `leg_press` or `treadmill`".into()),
            );
            return None;
        }
        Some(Spanned::new(text.to_owned(), span))
    }

    // ----- quantities --------------------------------------------------------------------

    fn quantity(&mut self, p: Pair<'_, Rule>) -> Option<Quantity> {
        let span = self.span(&p);
        let mut value = None;
        let mut unit = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::number => {
                    let v: f64 = q.as_str().parse().ok()?;
                    if !v.is_finite() {
                        self.error(
                            Code::E0001,
                            self.span(&q),
                            format!("`{}` is too large", q.as_str()),
                            None,
                        );
                        return None;
                    }
                    value = Some(v);
                }
                Rule::unit => unit = Some(q.as_str().to_owned()),
                Rule::bad_unit => {
                    let text = q.as_str();
                    let symbols = UNITS.map(|u| u.symbol);
                    let lower = text.to_lowercase();
                    let help = symbols
                        .iter()
                        .find(|s| s.to_lowercase() == lower)
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| did_you_mean(text, symbols))
                        .unwrap_or_else(|| {
                            format!(
                                "the units are {}",
                                crate::errors::join_or(&quoted(&symbols))
                            )
                        });
                    self.error(
                        Code::E0001,
                        self.span(&q),
                        format!("unknown unit `{text}`"),
                        Some(help),
                    );
                    return None;
                }
                _ => {}
            }
        }
        Some(Quantity {
            value: value?,
            unit,
            span,
        })
    }

    fn count(&mut self, p: Pair<'_, Rule>) -> Option<Count> {
        let q = inner(p).next()?;
        match q.as_rule() {
            Rule::param_ref => Some(Count::Param(self.param_ref(&q))),
            _ => self.whole_number(q, "N").map(Count::Literal),
        }
    }

    // ----- goals -------------------------------------------------------------------------

    /// A goal at `depth` (1 for the top goal).
    fn goal(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Goal> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        if depth > MAX_GOAL_DEPTH {
            if !self.goal_depth_reported {
                self.goal_depth_reported = true;
                self.error(
                    Code::E0013,
                    head(span, q.as_str()),
                    format!("goals are nested more than {MAX_GOAL_DEPTH} levels deep"),
                    Some("flatten the goal: an `all` inside an `all` can be one `all`".into()),
                );
            }
            return None;
        }
        let rule = q.as_rule();
        let mut count = None;
        let mut period = None;
        let mut block = None;
        let mut count_ok = true;
        if rule == Rule::metric {
            return self.metric(q).map(Goal::Metric);
        }
        for r in inner(q) {
            match r.as_rule() {
                Rule::count_n => {
                    count = self.count(r);
                    count_ok = count.is_some();
                }
                Rule::period => period = Some(period_of(r.as_str())),
                Rule::block => block = Some(r),
                _ => {}
            }
        }
        let block = block?;
        match rule {
            Rule::all_goal | Rule::any_goal | Rule::at_least_goal => {
                let goals = self.goal_list(block, depth + 1)?;
                if !count_ok {
                    return None;
                }
                Some(match rule {
                    Rule::all_goal => Goal::All { goals, span },
                    Rule::any_goal => Goal::Any { goals, span },
                    _ => Goal::AtLeast {
                        count: count?,
                        goals,
                        span,
                    },
                })
            }
            _ => {
                let child = Box::new(self.block_goal(block, depth + 1)?);
                if !count_ok {
                    return None;
                }
                Some(match rule {
                    Rule::every_goal => Goal::Every {
                        period: period?,
                        goal: child,
                        span,
                    },
                    Rule::on_goal => Goal::On {
                        count: count?,
                        period: period?,
                        goal: child,
                        span,
                    },
                    Rule::streak_goal => Goal::Streak {
                        count: count?,
                        period: period?,
                        goal: child,
                        span,
                    },
                    _ => Goal::OneWorkout { goal: child, span },
                })
            }
        }
    }

    /// The goals of a block, each at `depth`. `None` when any failed (all are still built,
    /// so that every error is reported).
    fn goal_list(&mut self, block: Pair<'_, Rule>, depth: usize) -> Option<Vec<Goal>> {
        let mut goals = Vec::new();
        let mut ok = true;
        for g in inner(block).filter(|g| g.as_rule() == Rule::goal) {
            match self.goal(g, depth) {
                Some(goal) => goals.push(goal),
                None => ok = false,
            }
            if self.goal_depth_reported {
                return None;
            }
        }
        ok.then_some(goals)
    }

    /// The single child of a period or one-workout block at `depth`: the goal itself, or an
    /// `all` of several.
    fn block_goal(&mut self, block: Pair<'_, Rule>, depth: usize) -> Option<Goal> {
        let span = self.span(&block);
        let n = block
            .clone()
            .into_inner()
            .filter(|g| g.as_rule() == Rule::goal)
            .count();
        if n == 1 {
            let g = inner(block).find(|g| g.as_rule() == Rule::goal)?;
            return self.goal(g, depth);
        }
        if depth > MAX_GOAL_DEPTH {
            if !self.goal_depth_reported {
                self.goal_depth_reported = true;
                self.error(
                    Code::E0013,
                    Span::new(span.start as usize, span.start as usize + 1),
                    format!("goals are nested more than {MAX_GOAL_DEPTH} levels deep"),
                    Some("a block of several goals counts as an `all` level".into()),
                );
            }
            return None;
        }
        let goals = self.goal_list(block, depth + 1)?;
        Some(Goal::All { goals, span })
    }

    fn metric(&mut self, p: Pair<'_, Rule>) -> Option<Metric> {
        let span = self.span(&p);
        let mut aggregate = None;
        let mut measure = None;
        let mut of = Vec::new();
        let mut where_ = None;
        let mut op = None;
        let mut target = None;
        let mut ok = true;
        for q in inner(p) {
            match q.as_rule() {
                Rule::aggregate => aggregate = aggregate_of(q.as_str()),
                Rule::measure => measure = Some(Spanned::new(q.as_str().to_owned(), self.span(&q))),
                Rule::selector => match self.selector(q) {
                    Some(s) => of = s,
                    None => ok = false,
                },
                Rule::where_clause => {
                    let c = inner(q).find(|c| c.as_rule() == Rule::or_cond);
                    match c.and_then(|c| self.or_cond(c, 1)) {
                        Some(c) => where_ = Some(c),
                        None => ok = false,
                    }
                }
                Rule::goal_op => {
                    op = Some(if q.as_str() == "<=" {
                        GoalOp::Le
                    } else {
                        GoalOp::Ge
                    })
                }
                Rule::target => match self.target(q) {
                    Some(t) => target = Some(t),
                    None => ok = false,
                },
                _ => {}
            }
        }
        if !ok {
            return None;
        }
        Some(Metric {
            aggregate: aggregate?,
            measure: measure?,
            of,
            where_,
            op: op?,
            target: target?,
            span,
        })
    }

    fn selector(&mut self, p: Pair<'_, Rule>) -> Option<Vec<Spanned<String>>> {
        let mut words = Vec::new();
        let mut list = false;
        for q in inner(p) {
            match q.as_rule() {
                Rule::sel_word => words.push(q),
                Rule::sel_list => {
                    list = true;
                    words.extend(inner(q).filter(|w| w.as_rule() == Rule::sel_word));
                }
                _ => {}
            }
        }
        if !list && words.len() == 1 && words.first().is_some_and(|w| w.as_str() == "any") {
            return Some(Vec::new());
        }
        let mut out = Vec::new();
        let mut ok = true;
        for w in &words {
            let text = w.as_str();
            if matches!(text, "strength" | "bodyweight" | "cardio") {
                out.push(Spanned::new(text.to_owned(), self.span(w)));
            } else if text == "any" {
                self.error(
                    Code::E0001,
                    self.span(w),
                    "`any` stands on its own: `of any` means every exercise",
                    Some("list exercises and categories, such as `of (bike | rower)`, or write `of any`".into()),
                );
                ok = false;
            } else {
                match self.exercise_word(w) {
                    Some(s) => out.push(s),
                    None => ok = false,
                }
            }
        }
        ok.then_some(out)
    }

    fn target(&mut self, p: Pair<'_, Rule>) -> Option<Target> {
        let q = inner(p).next()?;
        match q.as_rule() {
            Rule::param_ref => Some(Target::Param(self.param_ref(&q))),
            _ => self.quantity(q).map(Target::Quantity),
        }
    }

    // ----- conditions --------------------------------------------------------------------

    fn condition_too_deep(&mut self, span: Span) {
        if !self.condition_depth_reported {
            self.condition_depth_reported = true;
            self.error(
                Code::E0013,
                span,
                format!("conditions are nested more than {MAX_CONDITION_DEPTH} levels deep"),
                Some(
                    "simplify the condition: `not not x` is `x`, and nested `and`s can be one"
                        .into(),
                ),
            );
        }
    }

    /// `a or b or c` at `depth`: one node for the chain, or the single term itself.
    fn or_cond(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        self.chain(
            p,
            depth,
            Rule::and_cond,
            Builder::and_cond,
            |terms, span| Condition::Or { terms, span },
        )
    }

    /// `a and b and c` at `depth`: one node for the chain, or the single term itself.
    fn and_cond(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        self.chain(
            p,
            depth,
            Rule::not_cond,
            Builder::not_cond,
            |terms, span| Condition::And { terms, span },
        )
    }

    /// A chain of one operator: the terms of rule `term_rule`, built by `build`, in one `node`.
    fn chain(
        &mut self,
        p: Pair<'_, Rule>,
        depth: usize,
        term_rule: Rule,
        build: fn(&mut Builder, Pair<'_, Rule>, usize) -> Option<Condition>,
        node: fn(Vec<Condition>, Span) -> Condition,
    ) -> Option<Condition> {
        let span = self.span(&p);
        let terms: Vec<Pair<'_, Rule>> = inner(p).filter(|t| t.as_rule() == term_rule).collect();
        if terms.len() == 1 {
            return terms.into_iter().next().and_then(|t| build(self, t, depth));
        }
        if depth > MAX_CONDITION_DEPTH {
            self.condition_too_deep(span);
            return None;
        }
        let built = self.terms(terms, depth + 1, build)?;
        Some(node(built, span))
    }

    fn terms<'i>(
        &mut self,
        terms: Vec<Pair<'i, Rule>>,
        depth: usize,
        build: fn(&mut Builder, Pair<'i, Rule>, usize) -> Option<Condition>,
    ) -> Option<Vec<Condition>> {
        let mut out = Vec::with_capacity(terms.len());
        let mut ok = true;
        for t in terms {
            match build(self, t, depth) {
                Some(c) => out.push(c),
                None => ok = false,
            }
            if self.condition_depth_reported {
                return None;
            }
        }
        ok.then_some(out)
    }

    /// `not not ... atom`: the `not`s are counted first and folded without recursion.
    fn not_cond(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        let mut nots: Vec<usize> = Vec::new();
        let mut atom = None;
        for q in inner(p) {
            match q.as_rule() {
                Rule::kw_not => nots.push(self.span(&q).start as usize),
                Rule::cond_atom => atom = Some(q),
                _ => {}
            }
        }
        let atom = atom?;
        if depth + nots.len() > MAX_CONDITION_DEPTH {
            let at = nots
                .get(MAX_CONDITION_DEPTH.saturating_sub(depth))
                .copied()
                .unwrap_or_default();
            self.condition_too_deep(Span::new(at, at + 3));
            return None;
        }
        let mut cond = self.cond_atom(atom, depth + nots.len())?;
        for start in nots.into_iter().rev() {
            let span = Span::new(start, cond.span().end as usize);
            cond = Condition::Not {
                term: Box::new(cond),
                span,
            };
        }
        Some(cond)
    }

    fn cond_atom(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Condition> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        if depth > MAX_CONDITION_DEPTH {
            self.condition_too_deep(span);
            return None;
        }
        match q.as_rule() {
            Rule::paren_cond => {
                let c = inner(q).find(|c| c.as_rule() == Rule::or_cond)?;
                self.or_cond(c, depth)
            }
            Rule::compare => {
                let mut field = None;
                let mut op = None;
                let mut value = None;
                for r in inner(q) {
                    match r.as_rule() {
                        Rule::field => {
                            field = Some(Spanned::new(r.as_str().to_owned(), self.span(&r)))
                        }
                        Rule::cmp_op => op = CmpOp::from_symbol(r.as_str()),
                        Rule::value => {
                            let f: &Option<Spanned<String>> = &field;
                            let name = f.as_ref().map(|f| f.node.clone()).unwrap_or_default();
                            let form = format!(
                                "{name} {} {}",
                                op.map_or("==", CmpOp::symbol),
                                fixed_value(&r, &name)
                            );
                            value = Some(self.value(r, &name, &form));
                        }
                        _ => {}
                    }
                }
                Some(Condition::Compare {
                    field: field?,
                    op: op?,
                    value: value??,
                    span,
                })
            }
            Rule::in_cond => {
                let mut field: Option<Spanned<String>> = None;
                let mut values = Vec::new();
                let mut ok = true;
                // The help of a wrongly written value shows the whole list written right.
                let name = inner(q.clone())
                    .find(|r| r.as_rule() == Rule::field)
                    .map(|f| f.as_str().to_owned())
                    .unwrap_or_default();
                let fixed: Vec<String> = inner(q.clone())
                    .filter(|r| r.as_rule() == Rule::value)
                    .map(|r| fixed_value(&r, &name))
                    .collect();
                let form = format!("{name} in ({})", fixed.join(", "));
                for r in inner(q) {
                    match r.as_rule() {
                        Rule::field => {
                            field = Some(Spanned::new(r.as_str().to_owned(), self.span(&r)))
                        }
                        Rule::value => match self.value(r, &name, &form) {
                            Some(v) => values.push(v),
                            None => ok = false,
                        },
                        _ => {}
                    }
                }
                if !ok {
                    return None;
                }
                Some(Condition::In {
                    field: field?,
                    values,
                    span,
                })
            }
            _ => None,
        }
    }

    /// A condition value for `field` (the field decides how strings and bare words are read).
    /// `form` is the whole condition written right ([`fixed_value`] for every value), the help
    /// of a value in the wrong form.
    fn value(&mut self, p: Pair<'_, Rule>, field: &str, form: &str) -> Option<Value> {
        let q = inner(p).next()?;
        let span = self.span(&q);
        match q.as_rule() {
            Rule::quantity => self.quantity(q).map(Value::Quantity),
            Rule::param_ref => Some(Value::Param(self.param_ref(&q))),
            Rule::string => {
                let s = self.string(q);
                if field == "weekday" {
                    let help = if weekday_from_name(&s.node.to_lowercase()).is_some() {
                        format!("write `{form}`")
                    } else {
                        "write a day without quotes: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`"
                            .into()
                    };
                    self.error(
                        Code::E0001,
                        span,
                        format!(
                            "weekdays are written without quotes, found `\"{}\"`",
                            s.node.escape_debug()
                        ),
                        Some(help),
                    );
                    return None;
                }
                Some(Value::Str(s))
            }
            _ => {
                let text = q.as_str();
                if matches!(field, "gym" | "machine") {
                    self.error(
                        Code::E0001,
                        span,
                        format!("a `{field}` value is written in quotes, found `{text}`"),
                        Some(format!("write `{form}`")),
                    );
                    return None;
                }
                if is_keyword(text) {
                    self.error(
                        Code::E0001,
                        span,
                        format!("`{text}` is a reserved word and cannot be an exercise id"),
                        Some("exercise ids are names such as `leg_press` or `treadmill`".into()),
                    );
                    return None;
                }
                Some(Value::Str(Spanned::new(text.to_owned(), span)))
            }
        }
    }
}

/// A condition value's text as `field` wants it: a weekday named in quotes unquoted, a bare
/// gym or machine in quotes, anything else as written. The pieces of the help's `write ...`
/// form, which must itself parse (and, where the rest is right, check).
fn fixed_value(value: &Pair<'_, Rule>, field: &str) -> String {
    let Some(q) = inner(value.clone()).next() else {
        return value.as_str().to_owned();
    };
    let text = q.as_str();
    match q.as_rule() {
        Rule::string if field == "weekday" => {
            let day = text.trim_matches('"').to_lowercase();
            if weekday_from_name(&day).is_some() {
                day
            } else {
                text.to_owned()
            }
        }
        Rule::bare_word if matches!(field, "gym" | "machine") => format!("\"{text}\""),
        _ => text.to_owned(),
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

/// The first word (or character) of a node, to point at it rather than at all of it.
fn head(span: Span, text: &str) -> Span {
    let n = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|&n| n > 0)
        .unwrap_or_else(|| text.chars().next().map_or(0, char::len_utf8));
    Span::new(span.start as usize, span.start as usize + n)
}

fn period_of(text: &str) -> Period {
    if text.starts_with("month") {
        Period::Month
    } else if text.starts_with("week") {
        Period::Week
    } else {
        Period::Day
    }
}

fn aggregate_of(text: &str) -> Option<Aggregate> {
    Some(match text {
        "sum" => Aggregate::Sum,
        "count" => Aggregate::Count,
        "max" => Aggregate::Max,
        "min" => Aggregate::Min,
        "avg" => Aggregate::Avg,
        _ => return None,
    })
}

fn quoted(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>()
}

/// `2.5` → `2` (for "write a whole number such as ...").
fn whole_example(text: &str) -> String {
    let whole = text.split('.').next().unwrap_or("1");
    if whole.trim_start_matches('0').is_empty() {
        "1".to_owned()
    } else {
        whole.to_owned()
    }
}

fn call_example(f: Function) -> &'static str {
    match f {
        Function::Round => "round($x)",
        Function::Floor => "floor($x)",
        Function::Ceil => "ceil($x)",
        Function::RoundTo => "round_to($x, $step)",
        Function::Min => "min($a, $b)",
        Function::Max => "max($a, $b)",
        Function::Clamp => "clamp($x, $low, $high)",
    }
}

fn month_name(m: u32) -> &'static str {
    match m {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        _ => "December",
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    let y = i32::try_from(y).unwrap_or(2000);
    (28..=31)
        .rev()
        .find(|&d| NaiveDate::from_ymd_opt(y, m, d).is_some())
        .unwrap_or(28)
}
