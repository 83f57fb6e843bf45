//! Conditions after `where`: fields (E0006), set-level fields in workout-level aggregates
//! (E0008), values against their field (E0007, E0005, E0011), operators on text fields (E0007)
//! and depth (E0013); and, while lowering, each condition as the plan's (`None` where something
//! is wrong, which is then reported).
//!
//! The walk descends at most [`MAX_CONDITION_DEPTH`] levels, so a condition of any depth cannot
//! overflow the stack here.

use super::path::Path;
use super::{a_dimension, example_unit, show, Checker};
use crate::catalog::Category;
use crate::diagnostic::{did_you_mean, Code};
use crate::eval::{Cond, Lit};
use crate::limits::MAX_CONDITION_DEPTH;
use crate::span::{Span, Spanned};
use crate::tree::{format_number, CmpOp, Condition, Value};
use crate::units::Dimension;
use crate::vocab::{weekday_from_name, Field, FieldType, Level, WEEKDAYS};

/// What a `where` may read, from its metric.
#[derive(Clone, Debug)]
pub(super) enum Scope {
    /// Set-level and workout-level fields (set-level aggregates, `count(sets)`, `count(days)`).
    Sets,
    /// Workout-level fields only; the label of the metric (`sum(duration ...)`).
    Workouts(String),
    /// The metric's measure is wrong: do not judge levels.
    Unknown,
}

impl Scope {
    /// A set-level metric.
    pub(super) fn sets() -> Scope {
        Scope::Sets
    }

    /// A workout-level metric, with its label.
    pub(super) fn workouts(label: String) -> Scope {
        Scope::Workouts(label)
    }

    /// A metric whose measure is wrong.
    pub(super) fn unknown() -> Scope {
        Scope::Unknown
    }
}

impl Checker<'_> {
    /// Checks the condition of a `where`; lowered, when lowering and it is right.
    pub(super) fn condition_root(
        &mut self,
        condition: &Condition,
        path: &Path,
        scope: &Scope,
    ) -> Option<Cond> {
        self.condition(condition, path, 1, scope)
    }

    fn condition(
        &mut self,
        condition: &Condition,
        path: &Path,
        depth: usize,
        scope: &Scope,
    ) -> Option<Cond> {
        if depth > MAX_CONDITION_DEPTH {
            if !self.condition_depth_reported {
                self.condition_depth_reported = true;
                self.report(
                    Code::E0013,
                    format!("conditions are nested more than {MAX_CONDITION_DEPTH} levels deep"),
                    Some("simplify the condition: an `and` directly inside an `and` can be merged into it".into()),
                    condition.span(),
                    path,
                );
            }
            return None;
        }
        match condition {
            Condition::And { terms, .. } | Condition::Or { terms, .. } => {
                let word = if matches!(condition, Condition::And { .. }) {
                    "and"
                } else {
                    "or"
                };
                let terms_path = path.key("terms");
                if terms.len() < 2 {
                    self.report(
                        Code::E0001,
                        format!("`{word}` needs at least two terms, but has {}", terms.len()),
                        None,
                        condition.span(),
                        &terms_path,
                    );
                }
                let mut lowered = Some(Vec::with_capacity(terms.len()));
                for (i, term) in terms.iter().enumerate() {
                    let term = self.condition(term, &terms_path.index(i), depth + 1, scope);
                    lowered = lowered.zip(term).map(|(mut terms, term)| {
                        terms.push(term);
                        terms
                    });
                }
                let terms = lowered?;
                Some(match condition {
                    Condition::And { .. } => Cond::And(terms),
                    _ => Cond::Or(terms),
                })
            }
            Condition::Not { term, .. } => {
                let term = self.condition(term, &path.key("term"), depth + 1, scope)?;
                Some(Cond::Not(Box::new(term)))
            }
            Condition::Compare {
                field,
                op,
                value,
                span,
                ..
            } => {
                let f = self.field(field, &path.key("field"), scope)?;
                let mut right = true;
                if matches!(f.value_type(), FieldType::Text | FieldType::Weekday)
                    && !matches!(op, CmpOp::Eq | CmpOp::Ne)
                {
                    right = false;
                    self.report(
                        Code::E0007,
                        format!(
                            "`{}` is {} and can only be compared with `==`, `!=` or `in`, not `{}`",
                            f.name(),
                            kind_of(f),
                            op.symbol()
                        ),
                        None,
                        *span,
                        &path.key("op"),
                    );
                }
                let value = self.value(f, value, &path.key("value"));
                let value = value.filter(|_| right)?;
                let lowering = self.lowering.as_mut()?;
                Some(lowering.compare(f, *op, &[value], false))
            }
            Condition::In {
                field,
                values,
                span,
            } => {
                let f = self.field(field, &path.key("field"), scope)?;
                let values_path = path.key("values");
                if values.is_empty() {
                    self.report(
                        Code::E0001,
                        format!("`{} in (...)` needs at least one value", f.name()),
                        None,
                        *span,
                        &values_path,
                    );
                }
                let mut lits = Some(Vec::with_capacity(values.len()));
                for (i, value) in values.iter().enumerate() {
                    let lit = self.value(f, value, &values_path.index(i));
                    lits = lits.zip(lit).map(|(mut lits, lit)| {
                        lits.push(lit);
                        lits
                    });
                }
                let lits = lits?;
                let lowering = self.lowering.as_mut()?;
                Some(lowering.compare(f, CmpOp::Eq, &lits, true))
            }
        }
    }

    /// The field named, or E0006; E0008 for a set-level field the metric cannot read.
    fn field(&mut self, field: &Spanned<String>, path: &Path, scope: &Scope) -> Option<Field> {
        let Some(f) = Field::from_name(&field.node) else {
            let help = did_you_mean(&field.node, Field::names()).unwrap_or_else(|| {
                "the fields are the measures (`reps`, `weight`, `duration`, ...) and `exercise`, `gym`, `machine`, `hour`, `weekday`".into()
            });
            self.report(
                Code::E0006,
                format!("unknown field {}", show(&field.node)),
                Some(help),
                field.span,
                path,
            );
            return None;
        };
        if let (Level::Set, Scope::Workouts(metric)) = (f.level(), scope) {
            self.report(
                Code::E0008,
                format!(
                    "`{}` is read per set, but `{metric}` looks at whole workouts",
                    f.name()
                ),
                Some(
                    "set-level fields (`reps`, `weight`, `volume`) can be used in `count(sets ...)`, `count(days ...)` and in metrics of `reps`, `weight` or `volume`".into(),
                ),
                field.span,
                path,
            );
        }
        Some(f)
    }

    /// Checks one value against its field; the value the plan compares with, when it suits.
    fn value<'t>(&mut self, field: Field, value: &'t Value, path: &Path) -> Option<Lit<'t>> {
        let name = field.name();
        match (field.value_type(), value) {
            (FieldType::Quantity(want), Value::Quantity(q)) => {
                let got = self.quantity(q, path)?;
                if got != want {
                    let help = match example_unit(want) {
                        Some(unit) if got == Dimension::Count => {
                            format!("write `{} {unit}`", format_number(q.value))
                        }
                        _ if want == Dimension::Count => {
                            format!("`{name}` is a plain number: write it without a unit")
                        }
                        _ => format!("write {} such as `{}`", a_dimension(want), want.example()),
                    };
                    self.report(
                        Code::E0007,
                        format!(
                            "`{name}` is {} but `{q}` is {}",
                            a_dimension(want),
                            a_dimension(got)
                        ),
                        Some(help),
                        q.span,
                        path,
                    );
                    return None;
                }
                Some(Lit::Number(q.canonical()?.1))
            }
            (FieldType::Quantity(want), Value::Str(s)) => {
                self.report(
                    Code::E0007,
                    format!(
                        "`{name}` is {} but {} is text",
                        a_dimension(want),
                        show(&s.node)
                    ),
                    Some(format!(
                        "write {} such as `{}`",
                        a_dimension(want),
                        want.example()
                    )),
                    s.span,
                    path,
                );
                None
            }
            (expected, Value::Param(p)) => {
                let got = self.param_ref(&p.param, p.span, path)?;
                let want = match expected {
                    // A template's param: only a bound template is lowered.
                    FieldType::Quantity(want) if want == got => return None,
                    FieldType::Quantity(want) => a_dimension(want),
                    FieldType::Text | FieldType::Weekday => kind_of(field).to_owned(),
                };
                self.report(
                    Code::E0007,
                    format!(
                        "`{name}` is {want} but `${}` is {}",
                        p.param,
                        a_dimension(got)
                    ),
                    None,
                    p.span,
                    path,
                );
                None
            }
            (FieldType::Text | FieldType::Weekday, Value::Quantity(q)) => {
                let help = match field {
                    Field::Exercise => "write an exercise id, such as `leg_press`",
                    Field::Weekday => {
                        "write a day: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`"
                    }
                    _ => "write it in quotes, such as `\"gym-01\"`",
                };
                let got = q
                    .canonical()
                    .map_or_else(|| "a number".to_owned(), |(d, _)| a_dimension(d));
                self.report(
                    Code::E0007,
                    format!("`{name}` is {} but `{q}` is {got}", kind_of(field)),
                    Some(help.into()),
                    q.span,
                    path,
                );
                None
            }
            (FieldType::Text, Value::Str(s)) => {
                if field == Field::Exercise {
                    self.exercise_value(&s.node, s.span, path);
                }
                Some(Lit::Text(&s.node))
            }
            (FieldType::Weekday, Value::Str(s)) => {
                if let Some(day) = weekday_from_name(&s.node) {
                    Some(Lit::Weekday(day.num_days_from_monday()))
                } else {
                    let help = did_you_mean(&s.node, WEEKDAYS).unwrap_or_else(|| {
                        "write a day: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`".into()
                    });
                    self.report(
                        Code::E0001,
                        format!("{} is not a weekday", show(&s.node)),
                        Some(help),
                        s.span,
                        path,
                    );
                    None
                }
            }
        }
    }

    /// E0005 for an `exercise` value that is neither an exercise nor a category.
    fn exercise_value(&mut self, name: &str, span: Span, path: &Path) {
        if Category::from_name(name).is_some() || self.catalog.get(name).is_some() {
            return;
        }
        let help = did_you_mean(name, self.catalog.selector_names())
            .unwrap_or_else(|| "name an exercise of the catalog or a category: `strength`, `bodyweight` or `cardio`".into());
        self.report(
            Code::E0005,
            format!("unknown exercise or category {}", show(name)),
            Some(help),
            span,
            path,
        );
    }
}

/// "text" or "a weekday", for fields that are not quantities.
fn kind_of(field: Field) -> &'static str {
    match field.value_type() {
        FieldType::Weekday => "a weekday",
        FieldType::Text | FieldType::Quantity(_) => "text",
    }
}
