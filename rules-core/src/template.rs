//! Templates (language.md §5): binding a template's params for one user and printing the
//! personal challenge.
//!
//! ```text
//! template ──Recommender::new(template, catalog, overrides)──► Recommender   (checked once)
//! Profile ──Recommender::recommend──► Recommendation { challenge, bindings }  (per user)
//! ```
//!
//! [`Recommender::new`] checks the template and the expert's overrides (`--set`) once;
//! [`Recommender::recommend`] evaluates every param in order against one [`Profile`] (later
//! params see earlier ones and the overrides), replaces every `$name` of the goal by a literal,
//! and checks the resulting plain challenge, whose id is `<template id>/<user id>`. A param
//! that stays undefined, or a bound challenge that does not check, is an error for that user
//! ([`RecommendError`]), never a panic. [`Recommender::recommend_all`] runs users in parallel.
//!
//! Values are computed in canonical units (kg, m, s, m/s, ...). Undefined: a profile lookup of
//! an exercise the profile lacks or of a null figure, anything computed from an undefined value,
//! a division by zero, `round_to` with a step <= 0 and `clamp` with `lo > hi`; then `else`
//! applies. Rounding is half away from zero. A bound value is printed in the unit of the
//! `round_to` step if there is one, else of the first literal, profile figure or `$param` of the
//! param's dimension in the expression, else the canonical unit ([`display_unit`]). An N
//! (`at least N of`, `on N`, `streak N`) is rounded to the nearest whole number and is at least 1.
//!
//! Decisions where the spec is silent:
//!
//! - values are computed with binary floating point; before `round`, `floor`, `ceil` and
//!   `round_to` round, and before a value is printed, noise below 12 significant digits is
//!   dropped ([`tidy`]), so `floor(120 / 80 * 10)` is 15 and 9.45 km/h rounds to 9.5, not 9;
//! - `clamp(x, lo, hi)` with `lo > hi` is undefined (a range that holds nothing);
//! - a `$param` of the param's own dimension decides the printed unit like a literal does (so
//!   `$pace * 1.1` prints in the unit `$pace` was printed in);
//! - an override is printed exactly as the expert wrote it (`--set pace="9 km/h"`);
//! - a bound value that the language cannot write (negative) makes the challenge fail its check,
//!   which is reported for that user like an undefined param.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use crate::catalog::Catalog;
use crate::check;
use crate::diagnostic::{has_errors, Diagnostic};
use crate::profile::Profile;
use crate::records::User;
use crate::span::{Span, Spanned};
use crate::tree::{
    BinOp, Challenge, Condition, Count, DeclKind, Expr, Goal, Quantity, Target, Value,
};
use crate::units::{self, Dimension};
use crate::vocab::{Function, ProfileFigure};

/// Why a template cannot be used at all (before any user is looked at).
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    /// The declaration is a plain challenge.
    #[error("`{0}` is a challenge, not a template")]
    NotATemplate(String),
    /// The template has errors (language.md §7).
    #[error("the template `{id}` has {} error(s)", .diagnostics.iter().filter(|d| d.is_error()).count())]
    Check {
        /// The template's id.
        id: String,
        /// Its diagnostics.
        diagnostics: Vec<Diagnostic>,
    },
    /// An override names no param of the template.
    #[error("the template `{template}` has no param `{name}`{}", known_params(.known))]
    UnknownParam {
        /// The template's id.
        template: String,
        /// The name given.
        name: String,
        /// The template's params.
        known: Vec<String>,
    },
    /// An override of the wrong dimension.
    #[error("param `{name}` is {}, but `{value}` is {}; write it like `{}`", a_dimension(*.expected), a_dimension(*.found), .expected.example())]
    WrongDimension {
        /// The param.
        name: String,
        /// Its declared dimension.
        expected: Dimension,
        /// The override's dimension.
        found: Dimension,
        /// The override as written.
        value: Quantity,
    },
    /// An override value that is not a quantity.
    #[error(
        "`{0}` is not a value; write a number with an optional unit, such as `40` or `9 km/h`"
    )]
    BadValue(String),
    /// An override not of the form `NAME=VALUE`.
    #[error("`{0}` is not an override; write NAME=VALUE, such as `daily=40`")]
    BadOverride(String),
}

fn known_params(known: &[String]) -> String {
    if known.is_empty() {
        " (it has no params)".into()
    } else {
        let names: Vec<String> = known.iter().map(|k| format!("`{k}`")).collect();
        format!(" (its params are {})", names.join(", "))
    }
}

fn a_dimension(d: Dimension) -> String {
    match d {
        Dimension::Energy => "an energy".into(),
        Dimension::HeartRate => "a heart rate".into(),
        Dimension::Percent => "a percentage".into(),
        other => format!("a {}", other.name()),
    }
}

/// Where a bound value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The param's expression.
    Expression,
    /// Its `else` expression (the expression was undefined).
    Fallback,
    /// The expert's override.
    Override,
    /// Nothing: the param is undefined for this user.
    Undefined,
}

/// A profile figure an expression looked up, with what the profile held.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FigureUse {
    /// The lookup as written (`profile.best_speed(treadmill)`).
    pub figure: String,
    /// The figure in the profile's unit (km/h for `best_speed`), `None` without data.
    pub value: Option<Quantity>,
}

/// One param bound for one user.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Binding {
    /// The param's name.
    pub param: String,
    /// Its declared dimension.
    pub dimension: Dimension,
    /// The value as printed in the challenge (before an N is rounded); `None` when undefined.
    pub value: Option<Quantity>,
    /// Where the value came from.
    pub source: Source,
    /// The profile figures its expressions looked up, in order, without repeats.
    pub figures: Vec<FigureUse>,
    /// Why the expressions were undefined (`profile.best_speed(treadmill) has no data`).
    pub undefined_because: Vec<String>,
}

/// A personal challenge and how its params were bound.
#[derive(Clone, Debug, PartialEq)]
pub struct Recommendation {
    /// The user.
    pub user: String,
    /// The plain challenge, id `<template id>/<user id>`, checked.
    pub challenge: Challenge,
    /// Every param, in declaration order.
    pub bindings: Vec<Binding>,
    /// Warnings of the bound challenge (W0001 when a bound N is too large, ...).
    pub warnings: Vec<Diagnostic>,
}

/// Why no challenge could be made for a user.
#[derive(Clone, Debug, PartialEq)]
pub enum RecommendError {
    /// Some params stayed undefined.
    Undefined {
        /// The user.
        user: String,
        /// Every param, in declaration order (the undefined ones have no value).
        bindings: Vec<Binding>,
    },
    /// The bound challenge does not check (a negative target, say).
    Check {
        /// The user.
        user: String,
        /// The bound challenge.
        challenge: Box<Challenge>,
        /// Every param.
        bindings: Vec<Binding>,
        /// The bound challenge's diagnostics.
        diagnostics: Vec<Diagnostic>,
    },
}

impl RecommendError {
    /// The user.
    pub fn user(&self) -> &str {
        match self {
            RecommendError::Undefined { user, .. } | RecommendError::Check { user, .. } => user,
        }
    }

    /// The params as far as they were bound.
    pub fn bindings(&self) -> &[Binding] {
        match self {
            RecommendError::Undefined { bindings, .. } | RecommendError::Check { bindings, .. } => {
                bindings
            }
        }
    }
}

impl fmt::Display for RecommendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecommendError::Undefined { user, bindings } => {
                let parts: Vec<String> = bindings
                    .iter()
                    .filter(|b| b.value.is_none())
                    .map(|b| {
                        let why = if b.undefined_because.is_empty() {
                            String::new()
                        } else {
                            format!(": {}", b.undefined_because.join("; "))
                        };
                        format!("param `{}` is undefined{why}", b.param)
                    })
                    .collect();
                write!(f, "user `{user}`: {}", parts.join("; "))?;
                f.write_str(" (add an `else` fallback, or set it with --set)")
            }
            RecommendError::Check {
                user, diagnostics, ..
            } => {
                let errors: Vec<String> = diagnostics
                    .iter()
                    .filter(|d| d.is_error())
                    .map(ToString::to_string)
                    .collect();
                write!(
                    f,
                    "user `{user}`: the bound challenge does not check: {}",
                    errors.join("; ")
                )
            }
        }
    }
}

impl std::error::Error for RecommendError {}

/// A value computed for a param: canonical, and the unit it prints in.
#[derive(Clone, Debug)]
struct Bound {
    canonical: Option<f64>,
    unit: Option<String>,
}

/// A checked template with checked overrides, ready to bind for any number of users.
#[derive(Debug)]
pub struct Recommender<'a> {
    template: &'a Challenge,
    catalog: &'a Catalog,
    overrides: BTreeMap<String, Quantity>,
    /// Declared dimension per param.
    dimensions: HashMap<String, Dimension>,
    /// The template's own warnings.
    warnings: Vec<Diagnostic>,
}

impl<'a> Recommender<'a> {
    /// Checks the template and the overrides (`name → value`).
    pub fn new(
        template: &'a Challenge,
        catalog: &'a Catalog,
        overrides: BTreeMap<String, Quantity>,
    ) -> Result<Recommender<'a>, TemplateError> {
        if template.kind != DeclKind::Template {
            return Err(TemplateError::NotATemplate(template.id.node.clone()));
        }
        let diagnostics = check::check(template, catalog);
        if has_errors(&diagnostics) {
            return Err(TemplateError::Check {
                id: template.id.node.clone(),
                diagnostics,
            });
        }
        let dimensions: HashMap<String, Dimension> = template
            .params
            .iter()
            .map(|p| (p.name.node.clone(), p.dimension.node))
            .collect();
        for (name, value) in &overrides {
            let Some(&expected) = dimensions.get(name) else {
                return Err(TemplateError::UnknownParam {
                    template: template.id.node.clone(),
                    name: name.clone(),
                    known: template
                        .params
                        .iter()
                        .map(|p| p.name.node.clone())
                        .collect(),
                });
            };
            let Some((found, canonical)) = value.canonical() else {
                return Err(TemplateError::BadValue(value.to_string()));
            };
            if !canonical.is_finite() || canonical < 0.0 {
                return Err(TemplateError::BadValue(value.to_string()));
            }
            if found != expected {
                return Err(TemplateError::WrongDimension {
                    name: name.clone(),
                    expected,
                    found,
                    value: value.clone(),
                });
            }
        }
        Ok(Recommender {
            template,
            catalog,
            overrides,
            dimensions,
            warnings: diagnostics,
        })
    }

    /// The template.
    pub fn template(&self) -> &Challenge {
        self.template
    }

    /// The template's warnings.
    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// Whether `user` may take the challenge: in one of the template's groups, or the template
    /// has none.
    pub fn is_eligible(&self, user: &User) -> bool {
        is_eligible(self.template, user)
    }

    /// Binds every param for one profile, in declaration order.
    pub fn bind(&self, profile: &Profile) -> Vec<Binding> {
        let mut bound: HashMap<&str, Bound> = HashMap::new();
        let mut out = Vec::with_capacity(self.template.params.len());
        for param in &self.template.params {
            let name = param.name.node.as_str();
            let dimension = param.dimension.node;
            let mut scope = Scope {
                profile,
                bound: &bound,
                figures: Vec::new(),
                reasons: Vec::new(),
            };
            let (source, value) = if let Some(q) = self.overrides.get(name) {
                let canonical = q.canonical().map(|(_, v)| v);
                (Source::Override, Some((canonical, q.unit.clone())))
            } else if let Some(v) = scope.eval(&param.expr) {
                let unit = display_unit(&param.expr, dimension, &self.dimensions, &bound);
                (Source::Expression, Some((Some(v), unit)))
            } else if let Some(v) = param.fallback.as_ref().and_then(|f| scope.eval(f)) {
                let fallback = param.fallback.as_ref().unwrap_or(&param.expr);
                let unit = display_unit(fallback, dimension, &self.dimensions, &bound);
                (Source::Fallback, Some((Some(v), unit)))
            } else {
                if param.fallback.is_none() {
                    scope.reasons.push("there is no `else` fallback".into());
                }
                (Source::Undefined, None)
            };
            let Scope {
                figures, reasons, ..
            } = scope;
            let (canonical, unit) = value.unwrap_or((None, None));
            let printed = match (source, canonical) {
                (Source::Override, _) => self.overrides.get(name).cloned(),
                (_, Some(v)) => Some(Quantity::new(
                    tidy(units::from_canonical(v, unit.as_deref())),
                    unit.as_deref(),
                )),
                (_, None) => None,
            };
            bound.insert(name, Bound { canonical, unit });
            out.push(Binding {
                param: name.to_owned(),
                dimension,
                value: printed,
                source,
                figures,
                undefined_because: if source == Source::Undefined {
                    reasons
                } else {
                    Vec::new()
                },
            });
        }
        out
    }

    /// The personal challenge for one profile.
    pub fn recommend(&self, profile: &Profile) -> Result<Recommendation, RecommendError> {
        let bindings = self.bind(profile);
        if bindings.iter().any(|b| b.value.is_none()) {
            return Err(RecommendError::Undefined {
                user: profile.user.clone(),
                bindings,
            });
        }
        let values: HashMap<&str, &Quantity> = bindings
            .iter()
            .filter_map(|b| b.value.as_ref().map(|v| (b.param.as_str(), v)))
            .collect();
        let t = self.template;
        let mut challenge = Challenge {
            version: t.version,
            kind: DeclKind::Challenge,
            id: Spanned::bare(format!("{}/{}", t.id.node, profile.user)),
            title: t.title.clone(),
            description: t.description.clone(),
            window: t.window.clone(),
            timezone: t.timezone.clone(),
            groups: t.groups.clone(),
            gyms: t.gyms.clone(),
            teams: t.teams.clone(),
            rewards: t.rewards.clone(),
            tiers: t.tiers.clone(),
            params: Vec::new(),
            goal: t.goal.clone(),
            span: t.span,
        };
        bind_goal(&mut challenge.goal, &values);
        let diagnostics = check::check(&challenge, self.catalog);
        if has_errors(&diagnostics) {
            return Err(RecommendError::Check {
                user: profile.user.clone(),
                challenge: Box::new(challenge),
                bindings,
                diagnostics,
            });
        }
        Ok(Recommendation {
            user: profile.user.clone(),
            challenge,
            bindings,
            warnings: diagnostics,
        })
    }

    /// [`Recommender::recommend`] for every profile, in parallel, sorted by user id.
    pub fn recommend_all(
        &self,
        profiles: &[Profile],
    ) -> Vec<Result<Recommendation, RecommendError>> {
        let mut out: Vec<Result<Recommendation, RecommendError>> =
            crate::par::map(profiles, |p| self.recommend(p));
        out.sort_by(|a, b| user_of(a).cmp(user_of(b)));
        out
    }
}

fn user_of(r: &Result<Recommendation, RecommendError>) -> &str {
    match r {
        Ok(rec) => &rec.user,
        Err(e) => e.user(),
    }
}

/// Whether `user` may take `template`: in one of its groups, or it has none.
pub fn is_eligible(template: &Challenge, user: &User) -> bool {
    template.groups.is_empty()
        || template
            .groups
            .iter()
            .any(|g| user.groups.iter().any(|ug| ug == &g.node))
}

/// Parses `NAME=VALUE` (`daily=40`, `pace=9 km/h`).
pub fn parse_override(text: &str) -> Result<(String, Quantity), TemplateError> {
    let Some((name, value)) = text.split_once('=') else {
        return Err(TemplateError::BadOverride(text.to_owned()));
    };
    let name = name.trim();
    if name.is_empty() {
        return Err(TemplateError::BadOverride(text.to_owned()));
    }
    let value =
        parse_quantity(value).ok_or_else(|| TemplateError::BadValue(value.trim().to_owned()))?;
    Ok((name.to_owned(), value))
}

/// Parses a quantity as the DSL writes it: a number with an optional unit, spaces optional
/// (`40`, `2.5`, `9 km/h`, `40kg`). Surrounding quotes are dropped.
pub fn parse_quantity(text: &str) -> Option<Quantity> {
    let text = text.trim();
    let text = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
        .trim();
    let split = text
        .char_indices()
        .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
        .map_or(text.len(), |(i, _)| i);
    let (number, unit) = text.split_at(split);
    let well_formed = {
        let mut parts = number.split('.');
        let whole = parts.next().unwrap_or_default();
        let fraction = parts.next();
        !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
            && parts.next().is_none()
    };
    if !well_formed {
        return None;
    }
    let value: f64 = number.parse().ok().filter(|v: &f64| v.is_finite())?;
    let unit = unit.trim();
    if unit.is_empty() {
        return Some(Quantity::new(value, None));
    }
    units::lookup(unit).map(|u| Quantity::new(value, Some(u.symbol)))
}

/// Drops floating-point noise: `x` rounded to 12 significant digits (`9.450000000000001` is
/// `9.45`). Non-finite values and 0 are returned as they are.
pub fn tidy(x: f64) -> f64 {
    if !x.is_finite() || x == 0.0 {
        return x;
    }
    // Decimals to keep for 12 significant digits. Dividing an integer below 2^53 by an exact
    // power of ten (up to 10^22) is correctly rounded, so this equals parsing the 12-digit text.
    let decimals = 11 - x.abs().log10().floor() as i32;
    if (0..=22).contains(&decimals) {
        let scale = 10f64.powi(decimals);
        let n = (x * scale).round();
        if n.abs() < 9.007_199_254_740_992e15 {
            return n / scale;
        }
    } else if (-22..0).contains(&decimals) {
        let scale = 10f64.powi(-decimals);
        return (x / scale).round() * scale;
    }
    format!("{x:.11e}").parse().unwrap_or(x)
}

/// Evaluates expressions for one profile.
struct Scope<'p, 'b> {
    profile: &'p Profile,
    bound: &'b HashMap<&'b str, Bound>,
    figures: Vec<FigureUse>,
    reasons: Vec<String>,
}

impl Scope<'_, '_> {
    fn undefined(&mut self, why: String) -> Option<f64> {
        if !self.reasons.contains(&why) {
            self.reasons.push(why);
        }
        None
    }

    /// The canonical value of `expr`, `None` when undefined. Every argument is evaluated (so
    /// every figure used is recorded) even when an earlier one is undefined.
    fn eval(&mut self, expr: &Expr) -> Option<f64> {
        let value = match expr {
            Expr::Number { value, .. } => value.canonical().map(|(_, v)| v),
            Expr::Param { name, .. } => match self.bound.get(name.node.as_str()) {
                Some(Bound {
                    canonical: Some(v), ..
                }) => Some(*v),
                _ => self.undefined(format!("`${}` is undefined", name.node)),
            },
            Expr::Binary {
                op, left, right, ..
            } => {
                let l = self.eval(left);
                let r = self.eval(right);
                let (l, r) = (l?, r?);
                match op {
                    BinOp::Add => Some(l + r),
                    BinOp::Sub => Some(l - r),
                    BinOp::Mul => Some(l * r),
                    BinOp::Div if r == 0.0 => self.undefined("division by zero".into()),
                    BinOp::Div => Some(l / r),
                }
            }
            Expr::Call { func, args, .. } => {
                let values: Vec<Option<f64>> = args.iter().map(|a| self.eval(a)).collect();
                let values: Vec<f64> = values.into_iter().collect::<Option<_>>()?;
                self.call(&func.node, &values)
            }
            Expr::Profile {
                metric, exercise, ..
            } => self.lookup(&metric.node, exercise.as_ref().map(|e| e.node.as_str())),
        }?;
        if value.is_finite() {
            Some(value)
        } else {
            self.undefined("the value is too large".into())
        }
    }

    fn call(&mut self, name: &str, args: &[f64]) -> Option<f64> {
        let func = Function::from_name(name)?;
        match (func, args) {
            (Function::Round, &[x]) => Some(tidy(x).round()),
            (Function::Floor, &[x]) => Some(tidy(x).floor()),
            (Function::Ceil, &[x]) => Some(tidy(x).ceil()),
            (Function::RoundTo, &[x, step]) => {
                if step <= 0.0 {
                    self.undefined("the step of `round_to` is 0 or less".into())
                } else {
                    Some(tidy(x / step).round() * step)
                }
            }
            (Function::Min, &[a, b]) => Some(a.min(b)),
            (Function::Max, &[a, b]) => Some(a.max(b)),
            (Function::Clamp, &[x, lo, hi]) => {
                if lo > hi {
                    self.undefined("`clamp` has a lower bound above its upper bound".into())
                } else {
                    Some(x.max(lo).min(hi))
                }
            }
            _ => None,
        }
    }

    fn lookup(&mut self, metric: &str, exercise: Option<&str>) -> Option<f64> {
        let figure = ProfileFigure::from_name(metric)?;
        let exercise = exercise.filter(|_| figure.takes_exercise());
        let value = self.profile.figure(figure, exercise);
        let seen = self.figures.iter().any(|f| {
            f.figure
                .strip_prefix("profile.")
                .and_then(|rest| rest.strip_prefix(metric))
                .is_some_and(|rest| match exercise {
                    Some(ex) => {
                        rest.strip_prefix('(').and_then(|r| r.strip_suffix(')')) == Some(ex)
                    }
                    None => rest.is_empty(),
                })
        });
        let text = || match exercise {
            Some(ex) => format!("profile.{metric}({ex})"),
            None => format!("profile.{metric}"),
        };
        if !seen {
            self.figures.push(FigureUse {
                figure: text(),
                value: value.map(|v| Quantity::new(v, figure.unit())),
            });
        }
        match value {
            Some(v) => units::canonical(v, figure.unit()).map(|(_, c)| c),
            None => self.undefined(format!("{} has no data", text())),
        }
    }
}

/// The unit a value bound from `expr` (of `dimension`) prints in (language.md §5): the unit of
/// the first `round_to` step of that dimension, else of the first literal, profile figure or
/// `$param` of that dimension (in source order), else the canonical unit. `None` for counts.
fn display_unit(
    expr: &Expr,
    dimension: Dimension,
    dimensions: &HashMap<String, Dimension>,
    bound: &HashMap<&str, Bound>,
) -> Option<String> {
    if dimension == Dimension::Count {
        return None;
    }
    let from_leaf = |e: &Expr| first_unit(e, dimension, dimensions, bound);
    let mut steps = Vec::new();
    round_to_steps(expr, &mut steps);
    steps
        .into_iter()
        .find_map(from_leaf)
        .or_else(|| from_leaf(expr))
        .or_else(|| dimension.canonical_unit().map(str::to_owned))
}

/// The steps of the `round_to` calls in `expr`, outermost first, then left to right.
fn round_to_steps<'e>(expr: &'e Expr, out: &mut Vec<&'e Expr>) {
    match expr {
        Expr::Call { func, args, .. } => {
            if func.node == Function::RoundTo.name() {
                if let Some(step) = args.get(1) {
                    out.push(step);
                }
            }
            for a in args {
                round_to_steps(a, out);
            }
        }
        Expr::Binary { left, right, .. } => {
            round_to_steps(left, out);
            round_to_steps(right, out);
        }
        Expr::Number { .. } | Expr::Param { .. } | Expr::Profile { .. } => {}
    }
}

/// The unit of the first literal, figure or `$param` of `dimension` in `expr`.
fn first_unit(
    expr: &Expr,
    dimension: Dimension,
    dimensions: &HashMap<String, Dimension>,
    bound: &HashMap<&str, Bound>,
) -> Option<String> {
    match expr {
        Expr::Number { value, .. } => match value.canonical() {
            Some((d, _)) if d == dimension => value.unit.clone(),
            _ => None,
        },
        Expr::Profile { metric, .. } => ProfileFigure::from_name(&metric.node)
            .filter(|f| f.dimension() == dimension)
            .and_then(|f| f.unit().map(str::to_owned)),
        Expr::Param { name, .. } => {
            if dimensions.get(&name.node) == Some(&dimension) {
                bound.get(name.node.as_str()).and_then(|b| b.unit.clone())
            } else {
                None
            }
        }
        Expr::Binary { left, right, .. } => first_unit(left, dimension, dimensions, bound)
            .or_else(|| first_unit(right, dimension, dimensions, bound)),
        Expr::Call { args, .. } => args
            .iter()
            .find_map(|a| first_unit(a, dimension, dimensions, bound)),
    }
}

/// An N from a bound count: the nearest whole number (halves away from zero), at least 1.
pub fn bound_count(value: f64) -> u64 {
    let n = tidy(value).round();
    if n >= 1.0 {
        n as u64
    } else {
        1
    }
}

/// Replaces every `$name` of a goal by its bound value.
fn bind_goal(goal: &mut Goal, values: &HashMap<&str, &Quantity>) {
    match goal {
        Goal::All { goals, .. } | Goal::Any { goals, .. } => {
            goals.iter_mut().for_each(|g| bind_goal(g, values));
        }
        Goal::AtLeast { count, goals, .. } => {
            bind_count(count, values);
            goals.iter_mut().for_each(|g| bind_goal(g, values));
        }
        Goal::On { count, goal, .. } | Goal::Streak { count, goal, .. } => {
            bind_count(count, values);
            bind_goal(goal, values);
        }
        Goal::Every { goal, .. } | Goal::OneWorkout { goal, .. } => bind_goal(goal, values),
        Goal::Metric(m) => {
            if let Target::Param(p) = &m.target {
                if let Some(q) = values.get(p.param.as_str()) {
                    m.target = Target::Quantity(literal(q));
                }
            }
            if let Some(c) = &mut m.where_ {
                bind_condition(c, values);
            }
        }
    }
}

fn bind_count(count: &mut Count, values: &HashMap<&str, &Quantity>) {
    if let Count::Param(p) = count {
        if let Some(q) = values.get(p.param.as_str()) {
            *count = Count::Literal(Spanned::new(bound_count(q.value), Span::NONE));
        }
    }
}

fn bind_condition(condition: &mut Condition, values: &HashMap<&str, &Quantity>) {
    match condition {
        Condition::And { terms, .. } | Condition::Or { terms, .. } => {
            terms.iter_mut().for_each(|t| bind_condition(t, values));
        }
        Condition::Not { term, .. } => bind_condition(term, values),
        Condition::Compare { value, .. } => bind_value(value, values),
        Condition::In { values: vs, .. } => vs.iter_mut().for_each(|v| bind_value(v, values)),
    }
}

fn bind_value(value: &mut Value, values: &HashMap<&str, &Quantity>) {
    if let Value::Param(p) = value {
        if let Some(q) = values.get(p.param.as_str()) {
            *value = Value::Quantity(literal(q));
        }
    }
}

fn literal(q: &Quantity) -> Quantity {
    Quantity::new(q.value, q.unit.as_deref())
}

#[cfg(test)]
mod tests;
