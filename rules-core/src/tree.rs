//! The challenge syntax tree (language.md §3–§5, §9).
//!
//! This is the one data structure shared by the DSL compiler, the JSON form, the WASM module,
//! the checker and the evaluator. It is faithful to what the author wrote: identifiers that the
//! checker validates (measures, fields, exercises, profile figures, function names) are kept as
//! strings, quantities keep the unit that was written, and every node carries a [`Span`] that
//! never takes part in equality. A tree is *not* known to be valid until
//! [`check`](crate::check::check) has passed; the evaluator's plan is built from a checked tree.
//!
//! `Serialize` gives the canonical JSON form of §9; reading JSON goes through
//! [`crate::json`], which reports every problem with its JSON path instead of stopping at the
//! first. The types do not derive `Deserialize`: one reader of one format, tests included
//! (a tree the reader refuses, which only a program can build, is built in Rust). The
//! `serde` attributes that only a reader would heed (`default`, `deny_unknown_fields`) stay
//! for the JSON Schema ([`crate::schema`]), which reads them.

use std::fmt;

use chrono::NaiveDate;
use schemars::JsonSchema;
use serde::{Serialize, Serializer};

use crate::span::{Span, Spanned};
use crate::units::Dimension;

/// The version of the JSON tree this crate reads and writes.
pub const TREE_VERSION: u32 = 1;

/// Whether a declaration is a plain challenge or a template with params.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeclKind {
    /// `challenge "id" { ... }`: evaluated as written.
    Challenge,
    /// `template "id" { ... }`: has params, bound per user by the recommender.
    Template,
}

impl DeclKind {
    /// The DSL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            DeclKind::Challenge => "challenge",
            DeclKind::Template => "template",
        }
    }
}

/// One declaration of a file: a challenge or a template.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Challenge {
    /// Always [`TREE_VERSION`].
    pub version: u32,
    /// `challenge` or `template`.
    pub kind: DeclKind,
    /// The declaration id, unique within a file.
    pub id: Spanned<String>,
    /// Display name.
    pub title: Spanned<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<Spanned<String>>,
    /// First and last local day, both inclusive.
    pub window: Window,
    /// IANA time zone defining days, weeks and months (default `UTC`).
    #[serde(default = "utc")]
    pub timezone: Spanned<String>,
    /// Eligible groups; empty means everyone.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    /// Gyms whose workouts count; empty means all gyms.
    #[serde(default)]
    pub gyms: Vec<Spanned<String>>,
    /// Teams (since 1.1): each listed group is a team, and the challenge is evaluated per team
    /// on its members' workouts together (language.md §10). Empty for a per-user challenge;
    /// written only when non-empty, so a version 1 tree is unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub teams: Vec<Spanned<String>>,
    /// What completing (or reaching a tier) earns.
    #[serde(default)]
    pub rewards: Vec<Reward>,
    /// Tiers (since 1.1): named levels of progress, in the order written; written only when
    /// non-empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tiers: Vec<Tier>,
    /// Template params (empty for a challenge).
    #[serde(default)]
    pub params: Vec<Param>,
    /// The goal.
    pub goal: Goal,
    /// The whole declaration.
    #[serde(skip)]
    pub span: Span,
}

/// The default time zone of a challenge.
fn utc() -> Spanned<String> {
    Spanned::bare("UTC".to_owned())
}

/// `window DATE to DATE`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Window {
    /// First local day.
    pub start: Spanned<NaiveDate>,
    /// Last local day (inclusive).
    pub end: Spanned<NaiveDate>,
}

/// `reward "name" [points N] [tier "name"]`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reward {
    /// What is earned.
    pub name: String,
    /// Points, `null` when not given.
    #[serde(default)]
    pub points: Option<u64>,
    /// The tier whose first reaching earns it (since 1.1); without one, completion earns it.
    /// Written only when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Spanned<String>>,
    /// The reward line.
    #[serde(skip)]
    pub span: Span,
}

/// `tier "name" at N %` (since 1.1): a named level, reached while the progress is at least
/// the threshold.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Tier {
    /// The tier's name.
    pub name: String,
    /// The threshold as written; the checker wants a percent in (0 %, 100 %] (E0014).
    pub at: Quantity,
    /// The tier line.
    #[serde(skip)]
    pub span: Span,
}

impl Tier {
    /// The threshold as a fraction of 1 (`50 %` is 0.5).
    pub fn fraction(&self) -> f64 {
        self.at.value / 100.0
    }
}

/// Calendar periods: local days, ISO weeks, calendar months.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// A local calendar day.
    Day,
    /// An ISO week, Monday to Sunday.
    Week,
    /// A calendar month.
    Month,
}

impl Period {
    /// Every period, shortest first.
    pub const ALL: [Period; 3] = [Period::Day, Period::Week, Period::Month];

    /// The singular keyword (`day`).
    pub fn singular(self) -> &'static str {
        match self {
            Period::Day => "day",
            Period::Week => "week",
            Period::Month => "month",
        }
    }

    /// The plural keyword (`days`).
    pub fn plural(self) -> &'static str {
        match self {
            Period::Day => "days",
            Period::Week => "weeks",
            Period::Month => "months",
        }
    }
}

/// A goal node (language.md §4).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Goal {
    /// Every child goal is met.
    All {
        /// The children (at least one).
        goals: Vec<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// At least one child goal is met.
    Any {
        /// The children (at least one).
        goals: Vec<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// At least `count` of the child goals are met.
    AtLeast {
        /// N.
        count: Count,
        /// The children.
        goals: Vec<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// The goal is met in every period of the window.
    Every {
        /// The period.
        period: Period,
        /// The child (an `all` when several were written).
        goal: Box<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// The goal is met in at least `count` distinct periods.
    On {
        /// N.
        count: Count,
        /// The period.
        period: Period,
        /// The child.
        goal: Box<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// The goal is met in `count` consecutive periods.
    Streak {
        /// N.
        count: Count,
        /// The period.
        period: Period,
        /// The child.
        goal: Box<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// A single workout on its own meets the goal.
    OneWorkout {
        /// The child.
        goal: Box<Goal>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `AGG(MEASURE of SELECTOR where CONDITION) OP TARGET`.
    Metric(Metric),
}

impl Goal {
    /// The node's source span.
    pub fn span(&self) -> Span {
        match self {
            Goal::All { span, .. }
            | Goal::Any { span, .. }
            | Goal::AtLeast { span, .. }
            | Goal::Every { span, .. }
            | Goal::On { span, .. }
            | Goal::Streak { span, .. }
            | Goal::OneWorkout { span, .. } => *span,
            Goal::Metric(m) => m.span,
        }
    }

    /// The `kind` tag of the JSON form.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Goal::All { .. } => "all",
            Goal::Any { .. } => "any",
            Goal::AtLeast { .. } => "at_least",
            Goal::Every { .. } => "every",
            Goal::On { .. } => "on",
            Goal::Streak { .. } => "streak",
            Goal::OneWorkout { .. } => "one_workout",
            Goal::Metric(_) => "metric",
        }
    }
}

/// A comparison goal.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Metric {
    /// `sum`, `count`, `max`, `min` or `avg`.
    pub aggregate: Aggregate,
    /// The measure (`reps`, `duration`, ...) or, for `count`, the counting unit
    /// (`workouts`, `sets`, `days`).
    pub measure: Spanned<String>,
    /// Exercise ids and categories; empty means any.
    #[serde(default)]
    pub of: Vec<Spanned<String>>,
    /// The condition after `where`.
    #[serde(rename = "where", default)]
    pub where_: Option<Condition>,
    /// `>=` or `<=`.
    pub op: GoalOp,
    /// The target.
    pub target: Target,
    /// Source span.
    #[serde(skip)]
    pub span: Span,
}

/// The aggregate of a metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Aggregate {
    /// Total.
    Sum,
    /// Number of workouts, sets or days.
    Count,
    /// Largest value.
    Max,
    /// Smallest value.
    Min,
    /// Mean value.
    Avg,
}

impl Aggregate {
    /// The DSL keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            Aggregate::Sum => "sum",
            Aggregate::Count => "count",
            Aggregate::Max => "max",
            Aggregate::Min => "min",
            Aggregate::Avg => "avg",
        }
    }
}

/// The comparison of a metric goal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub enum GoalOp {
    /// At least.
    #[serde(rename = ">=")]
    Ge,
    /// At most.
    #[serde(rename = "<=")]
    Le,
}

impl GoalOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            GoalOp::Ge => ">=",
            GoalOp::Le => "<=",
        }
    }
}

/// A comparison operator of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub enum CmpOp {
    /// `==`
    #[serde(rename = "==")]
    Eq,
    /// `!=`
    #[serde(rename = "!=")]
    Ne,
    /// `<`
    #[serde(rename = "<")]
    Lt,
    /// `<=`
    #[serde(rename = "<=")]
    Le,
    /// `>`
    #[serde(rename = ">")]
    Gt,
    /// `>=`
    #[serde(rename = ">=")]
    Ge,
}

impl CmpOp {
    /// Every operator.
    pub const ALL: [CmpOp; 6] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Lt,
        CmpOp::Le,
        CmpOp::Gt,
        CmpOp::Ge,
    ];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }

    /// The operator written as `symbol`.
    pub fn from_symbol(symbol: &str) -> Option<CmpOp> {
        CmpOp::ALL.into_iter().find(|op| op.symbol() == symbol)
    }
}

/// A condition after `where`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Condition {
    /// All terms hold.
    And {
        /// Two or more terms.
        terms: Vec<Condition>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// Some term holds.
    Or {
        /// Two or more terms.
        terms: Vec<Condition>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// The term does not hold.
    Not {
        /// The negated term.
        term: Box<Condition>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `FIELD OP VALUE`.
    Compare {
        /// The field.
        field: Spanned<String>,
        /// The operator.
        op: CmpOp,
        /// The value.
        value: Value,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `FIELD in (VALUE, ...)`.
    In {
        /// The field.
        field: Spanned<String>,
        /// The values (at least one).
        values: Vec<Value>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
}

impl Condition {
    /// The node's source span.
    pub fn span(&self) -> Span {
        match self {
            Condition::And { span, .. }
            | Condition::Or { span, .. }
            | Condition::Not { span, .. }
            | Condition::Compare { span, .. }
            | Condition::In { span, .. } => *span,
        }
    }
}

/// A number with the unit its author wrote (`None` for a count).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Quantity {
    /// The number as written.
    #[serde(serialize_with = "serialize_number")]
    pub value: f64,
    /// The unit symbol as written; `null` for a count.
    pub unit: Option<String>,
    /// Source span.
    #[serde(skip)]
    pub span: Span,
}

impl Quantity {
    /// A quantity without a source.
    pub fn new(value: f64, unit: Option<&str>) -> Quantity {
        Quantity {
            value,
            unit: unit.map(str::to_owned),
            span: Span::NONE,
        }
    }

    /// Dimension and canonical value; `None` for an unknown unit.
    pub fn canonical(&self) -> Option<(Dimension, f64)> {
        crate::units::canonical(self.value, self.unit.as_deref())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", format_number(self.value))?;
        match self.unit.as_deref() {
            Some(unit) => write!(f, " {unit}"),
            None => Ok(()),
        }
    }
}

/// A `$name` reference to a template param.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamRef {
    /// The param's name (without `$`).
    pub param: String,
    /// Source span (including the `$`).
    #[serde(skip)]
    pub span: Span,
}

/// A goal's target: a quantity or a `$param`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Target {
    /// A literal quantity.
    Quantity(Quantity),
    /// A template param.
    Param(ParamRef),
}

impl Target {
    /// Source span.
    pub fn span(&self) -> Span {
        match self {
            Target::Quantity(q) => q.span,
            Target::Param(p) => p.span,
        }
    }
}

/// An N of `at least N of`, `on N`, `streak N`: a whole number or a `$param`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Count {
    /// A literal whole number.
    Literal(Spanned<u64>),
    /// A template param of dimension count.
    Param(ParamRef),
}

impl Count {
    /// Source span.
    pub fn span(&self) -> Span {
        match self {
            Count::Literal(n) => n.span,
            Count::Param(p) => p.span,
        }
    }
}

/// A condition value: a quantity, a string (also weekdays and bare exercise ids), or a `$param`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Value {
    /// A quantity (`40 kg`, `7`).
    Quantity(Quantity),
    /// A template param.
    Param(ParamRef),
    /// A string: a gym, a machine, an exercise id or a weekday (`"mon"`).
    Str(Spanned<String>),
}

impl Value {
    /// Source span.
    pub fn span(&self) -> Span {
        match self {
            Value::Quantity(q) => q.span,
            Value::Param(p) => p.span,
            Value::Str(s) => s.span,
        }
    }
}

/// `param NAME: DIMENSION = EXPR [else EXPR]`.
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The name, used as `$name`.
    pub name: Spanned<String>,
    /// The declared dimension.
    pub dimension: Spanned<Dimension>,
    /// The expression.
    pub expr: Expr,
    /// The fallback when `expr` is undefined.
    #[serde(default)]
    pub fallback: Option<Expr>,
    /// The whole declaration.
    #[serde(skip)]
    pub span: Span,
}

/// A binary operator of a param expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, JsonSchema)]
pub enum BinOp {
    /// `+`
    #[serde(rename = "+")]
    Add,
    /// `-`
    #[serde(rename = "-")]
    Sub,
    /// `*`
    #[serde(rename = "*")]
    Mul,
    /// `/`
    #[serde(rename = "/")]
    Div,
}

impl BinOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    /// Binding strength: `*` and `/` bind tighter than `+` and `-`.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Add | BinOp::Sub => 1,
            BinOp::Mul | BinOp::Div => 2,
        }
    }
}

/// A param expression (language.md §5).
#[derive(Clone, Debug, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Expr {
    /// A number or quantity literal.
    Number {
        /// The literal.
        value: Quantity,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `$name`.
    Param {
        /// The referenced param.
        name: Spanned<String>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `left OP right`.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `func(args...)`.
    Call {
        /// `round`, `floor`, `ceil`, `round_to`, `min`, `max` or `clamp`.
        func: Spanned<String>,
        /// The arguments.
        args: Vec<Expr>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
    /// `profile.METRIC` or `profile.METRIC(EXERCISE)`.
    Profile {
        /// The profile figure.
        metric: Spanned<String>,
        /// The exercise, for per-exercise figures.
        #[serde(default)]
        exercise: Option<Spanned<String>>,
        /// Source span.
        #[serde(skip)]
        span: Span,
    },
}

impl Expr {
    /// Source span.
    pub fn span(&self) -> Span {
        match self {
            Expr::Number { span, .. }
            | Expr::Param { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Call { span, .. }
            | Expr::Profile { span, .. } => *span,
        }
    }
}

/// Writes a number the way the DSL and the JSON tree print it: no trailing `.0`, no exponent.
pub fn format_number(value: f64) -> String {
    // `Display` for f64 prints the shortest text that reads back to the same value, and never
    // an exponent; whole numbers print without `.0`.
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Serializes whole numbers as JSON integers (`40`, not `40.0`), others as the shortest float.
pub fn serialize_number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        serializer.serialize_i64(*value as i64)
    } else {
        serializer.serialize_f64(*value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_trailing_zero() {
        assert_eq!(format_number(40.0), "40");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(Quantity::new(8.5, Some("km/h")).to_string(), "8.5 km/h");
        assert_eq!(Quantity::new(30.0, None).to_string(), "30");
    }

    #[test]
    fn quantity_json_keeps_the_unit_and_prints_integers() {
        let q = Quantity::new(40.0, Some("kg"));
        assert_eq!(
            serde_json::to_string(&q).unwrap_or_default(),
            r#"{"value":40,"unit":"kg"}"#
        );
        let t = Target::Param(ParamRef {
            param: "daily".into(),
            span: Span::NONE,
        });
        assert_eq!(
            serde_json::to_string(&t).unwrap_or_default(),
            r#"{"param":"daily"}"#
        );
    }
}
