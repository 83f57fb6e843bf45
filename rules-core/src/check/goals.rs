//! Goals and metrics: nesting rules (E0010), counts (E0009, W0001), depth (E0013), measures
//! (E0006), selectors (E0005, W0002) and targets (E0007, E0011); and, while lowering, each goal
//! as the plan's node (`None` where something is wrong, which is then reported).
//!
//! The walk carries the chain of enclosing period blocks; it descends at most
//! [`MAX_GOAL_DEPTH`] levels, so a tree of any depth cannot overflow the stack here.

use super::conditions::Scope;
use super::limits::{cut, max_periods_in};
use super::path::Path;
use super::{a_dimension, example_unit, list, show, Checker};
use crate::catalog::Category;
use crate::diagnostic::{did_you_mean, Code};
use crate::eval::{IdSet, Node, Quantity, Selector};
use crate::limits::MAX_GOAL_DEPTH;
use crate::span::Span;
use crate::tree::{Aggregate, Count, Goal, Metric, Period, Target};
use crate::units::Dimension;
use crate::vocab::{CountUnit, Level, Measure};

/// Where a goal stands: inside which period blocks, and whether inside `in one workout`.
#[derive(Clone, Debug, Default)]
struct Context {
    /// The enclosing period blocks that are valid, outermost first, with their labels.
    chain: Vec<(Period, String)>,
    /// Inside `in one workout`.
    one_workout: bool,
}

impl Checker<'_> {
    /// Checks the goal of a declaration; lowered, when lowering and it is right.
    pub(super) fn goal_root(&mut self, goal: &Goal, path: &Path) -> Option<Node> {
        self.goal(goal, path, 1, &Context::default())
    }

    fn goal(&mut self, goal: &Goal, path: &Path, depth: usize, cx: &Context) -> Option<Node> {
        if depth > MAX_GOAL_DEPTH {
            if !self.goal_depth_reported {
                self.goal_depth_reported = true;
                self.report(
                    Code::E0013,
                    format!("goals are nested more than {MAX_GOAL_DEPTH} levels deep"),
                    Some(
                        "flatten the goal: an `all` directly inside an `all` can be merged into it"
                            .into(),
                    ),
                    goal.span(),
                    path,
                );
            }
            return None;
        }
        match goal {
            Goal::All { goals, span } => {
                let goals = self.children(goal.kind_name(), goals, *span, path, depth, cx);
                Some(Node::All(goals?))
            }
            Goal::Any { goals, span } => {
                let goals = self.children(goal.kind_name(), goals, *span, path, depth, cx);
                Some(Node::Any(goals?))
            }
            Goal::AtLeast { count, goals, span } => {
                let label = format!("at least {} of", count_text(count));
                let n = self.count(count, &path.key("count"), &label, Some(goals.len()));
                let goals = self.children("at least", goals, *span, path, depth, cx);
                Some(Node::AtLeast(n?, goals?))
            }
            Goal::Every {
                period,
                goal: child,
                span,
            } => {
                let label = format!("every {}", period.singular());
                let inner = self.period_block(*period, &label, *span, path, cx);
                let child = self.goal(
                    child,
                    &path.key("goal"),
                    depth + 1,
                    inner.as_ref().unwrap_or(cx),
                );
                Some(Node::Every(*period, self.lower_child(child?)?))
            }
            Goal::On {
                count,
                period,
                goal: child,
                span,
            }
            | Goal::Streak {
                count,
                period,
                goal: child,
                span,
            } => {
                let word = if matches!(goal, Goal::On { .. }) {
                    "on"
                } else {
                    "streak"
                };
                let label = format!("{word} {} {}", count_text(count), plural(count, *period));
                let inner = self.period_block(*period, &label, *span, path, cx);
                let n = self.count(count, &path.key("count"), &label, None);
                if let (Some(n), Some(_)) = (n, &inner) {
                    self.fits(n, *period, &label, count.span(), &path.key("count"), cx);
                }
                let child = self.goal(
                    child,
                    &path.key("goal"),
                    depth + 1,
                    inner.as_ref().unwrap_or(cx),
                );
                let child = self.lower_child(child?)?;
                Some(match goal {
                    Goal::On { .. } => Node::On(n?, *period, child),
                    _ => Node::Streak(n?, *period, child),
                })
            }
            Goal::OneWorkout { goal: child, .. } => {
                let inner = Context {
                    one_workout: true,
                    ..cx.clone()
                };
                let child = self.goal(child, &path.key("goal"), depth + 1, &inner);
                Some(Node::OneWorkout(self.lower_child(child?)?))
            }
            Goal::Metric(metric) => self.metric(metric, path),
        }
    }

    /// The child of a period block or `in one workout`, while lowering.
    fn lower_child(&self, node: Node) -> Option<Box<crate::eval::Child>> {
        Some(self.lowering.as_ref()?.child(node))
    }

    fn children(
        &mut self,
        what: &str,
        goals: &[Goal],
        span: Span,
        path: &Path,
        depth: usize,
        cx: &Context,
    ) -> Option<Vec<Node>> {
        let goals_path = path.key("goals");
        if goals.is_empty() {
            self.report(
                Code::E0001,
                format!("`{what}` needs at least one goal"),
                None,
                span,
                &goals_path,
            );
        }
        let mut nodes = Some(Vec::with_capacity(goals.len()));
        for (i, child) in goals.iter().enumerate() {
            let node = self.goal(child, &goals_path.index(i), depth + 1, cx);
            nodes = nodes.zip(node).map(|(mut nodes, node)| {
                nodes.push(node);
                nodes
            });
        }
        nodes
    }

    /// E0010 for a period block where it cannot stand. The context for its child, `None` when
    /// the block is misplaced (its child then keeps the enclosing context).
    fn period_block(
        &mut self,
        period: Period,
        label: &str,
        span: Span,
        path: &Path,
        cx: &Context,
    ) -> Option<Context> {
        if cx.one_workout {
            self.report(
                Code::E0010,
                format!("`{label}` cannot be inside `in one workout`: a single workout is not split into days, weeks or months"),
                Some(format!("put the `in one workout` block inside the `{label}` block")),
                span,
                path,
            );
            return None;
        }
        if let Some((outer, outer_label)) = cx.chain.last() {
            if period >= *outer {
                let message = if period == *outer {
                    format!("`{label}` inside `{outer_label}` repeats the same period")
                } else {
                    format!(
                        "`{label}` cannot be inside `{outer_label}`: a {} is longer than a {}",
                        period.singular(),
                        outer.singular()
                    )
                };
                self.report(
                    Code::E0010,
                    message,
                    Some("a period block can only hold shorter periods (months hold weeks and days, weeks hold days)".into()),
                    span,
                    path,
                );
                return None;
            }
        }
        let mut inner = cx.clone();
        inner.chain.push((period, label.to_owned()));
        Some(inner)
    }

    /// Checks an N: E0009 for 0 (or more than the children of `at least`), E0007 for a param
    /// that is not a count. The literal N when it is at least 1.
    fn count(
        &mut self,
        count: &Count,
        path: &Path,
        label: &str,
        children: Option<usize>,
    ) -> Option<u64> {
        match count {
            Count::Literal(n) => {
                if n.node == 0 {
                    self.report(
                        Code::E0009,
                        format!("`{label}` asks for zero, which is always met"),
                        Some("the number must be at least 1".into()),
                        n.span,
                        path,
                    );
                    return None;
                }
                if let Some(k) = children {
                    if usize::try_from(n.node).map_or(true, |n| n > k) {
                        self.report(
                            Code::E0009,
                            format!("`{label}` asks for {} goals but has only {k}", n.node),
                            Some(format!("lower the number to at most {k}, or add goals")),
                            n.span,
                            path,
                        );
                    }
                }
                Some(n.node)
            }
            Count::Param(p) => {
                let d = self.param_ref(&p.param, p.span, path)?;
                if d != Dimension::Count {
                    self.report(
                        Code::E0007,
                        format!(
                            "`${}` is {}, but the number in `{label}` must be a count",
                            p.param,
                            a_dimension(d)
                        ),
                        Some(format!("declare it as `param {}: count = ...`", p.param)),
                        p.span,
                        path,
                    );
                }
                None
            }
        }
    }

    /// W0001: `on N` or `streak N` asking for more periods than there can be.
    fn fits(&mut self, n: u64, period: Period, label: &str, span: Span, path: &Path, cx: &Context) {
        let Some(window) = self.window else { return };
        let chain: Vec<Period> = cx.chain.iter().map(|(p, _)| *p).collect();
        let key = (chain, period);
        let most = match self.period_counts.get(&key) {
            Some(&most) => most,
            None => {
                let most = max_periods_in(&cut(window, &key.0), period);
                self.period_counts.insert(key, most);
                most
            }
        };
        if n <= most {
            return;
        }
        let units = if most == 1 {
            period.singular()
        } else {
            period.plural()
        };
        let message = match cx.chain.last() {
            None => format!("`{label}` can never be met: the window holds only {most} {units}"),
            Some((outer, outer_label)) => format!(
                "`{label}` can never be met inside `{outer_label}`: a {} of the window holds at most {most} {units}",
                outer.singular()
            ),
        };
        self.report(
            Code::W0001,
            message,
            Some(format!("lower the number to at most {most}")),
            span,
            path,
        );
    }

    fn metric(&mut self, m: &Metric, path: &Path) -> Option<Node> {
        let measure = m.measure.node.as_str();
        let agg = m.aggregate.keyword();
        let measure_path = path.key("measure");
        // What the metric aggregates, its dimension and what its `where` may read; `None` when
        // the measure is wrong.
        let typed: Option<(Quantity, Dimension, Scope)> = if m.aggregate == Aggregate::Count {
            if let Some(unit) = CountUnit::from_name(measure) {
                let scope = match unit {
                    CountUnit::Workouts => Scope::workouts("count(workouts ...)".into()),
                    CountUnit::Sets | CountUnit::Days => Scope::sets(),
                };
                Some((Quantity::Count(unit), Dimension::Count, scope))
            } else {
                let (message, help) = if Measure::from_name(measure).is_some() {
                    (
                        format!("`count` counts `workouts`, `sets` or `days`, not `{measure}`"),
                        format!("to add up {measure}, write `sum({measure} ...)`"),
                    )
                } else {
                    (
                        format!("`count` cannot count {}", show(measure)),
                        did_you_mean(measure, CountUnit::ALL.iter().map(|c| c.name()))
                            .unwrap_or_else(|| {
                                "`count` counts `workouts`, `sets` or `days`".into()
                            }),
                    )
                };
                self.report(
                    Code::E0006,
                    message,
                    Some(help),
                    m.measure.span,
                    &measure_path,
                );
                None
            }
        } else if let Some(ms) = Measure::from_name(measure) {
            let scope = match ms.level() {
                Level::Set => Scope::sets(),
                Level::Workout => Scope::workouts(format!("{agg}({measure} ...)")),
            };
            Some((Quantity::Measure(ms), ms.dimension(), scope))
        } else {
            let (message, help) = if CountUnit::from_name(measure).is_some() {
                (
                    format!(
                        "`{agg}` takes a measure such as `reps` or `duration`, not `{measure}`"
                    ),
                    format!("to count {measure}, write `count({measure} ...)`"),
                )
            } else {
                let all: Vec<&str> = Measure::ALL.iter().map(|m| m.name()).collect();
                (
                    format!("unknown measure {}", show(measure)),
                    did_you_mean(measure, all.iter().copied())
                        .unwrap_or_else(|| format!("the measures are {}", list(&all))),
                )
            };
            self.report(
                Code::E0006,
                message,
                Some(help),
                m.measure.span,
                &measure_path,
            );
            None
        };

        // W0002 (at the metric itself, which comes before its parts).
        let reads_sets = match m.aggregate {
            Aggregate::Count => measure == "sets",
            _ => Measure::from_name(measure).is_some_and(|ms| ms.level() == Level::Set),
        };
        if reads_sets && !m.of.is_empty() && m.of.iter().all(|s| self.is_cardio(&s.node)) {
            self.report(
                Code::W0002,
                format!(
                    "`{agg}({measure} of {})` reads sets, but only cardio is selected and cardio workouts do not record sets, so it is {}",
                    m.of.iter().map(|s| s.node.as_str()).collect::<Vec<_>>().join(" | "),
                    match m.aggregate {
                        Aggregate::Sum | Aggregate::Count => "always 0",
                        Aggregate::Max | Aggregate::Min | Aggregate::Avg => "never defined",
                    }
                ),
                Some("use a workout measure such as `duration` or `distance`, or select strength or bodyweight exercises".into()),
                m.span,
                path,
            );
        }

        let of_path = path.key("of");
        let mut set = IdSet::default();
        for (i, selector) in m.of.iter().enumerate() {
            let name = selector.node.as_str();
            if let Some(category) = Category::from_name(name) {
                if let Some(lowering) = self.lowering.as_mut() {
                    lowering.select_category(&mut set, category);
                }
            } else if self.catalog.get(name).is_some() {
                if let Some(lowering) = self.lowering.as_mut() {
                    lowering.select_exercise(&mut set, name);
                }
            } else {
                let help = did_you_mean(name, self.catalog.selector_names())
                    .unwrap_or_else(|| "name an exercise of the catalog or a category: `strength`, `bodyweight` or `cardio`".into());
                self.report(
                    Code::E0005,
                    format!("unknown exercise or category {}", show(name)),
                    Some(help),
                    selector.span,
                    &of_path.index(i),
                );
            }
        }

        let selector = if m.of.is_empty() {
            Selector::Any
        } else {
            Selector::Only(set)
        };

        let cond = match &m.where_ {
            Some(condition) => {
                let scope = typed
                    .as_ref()
                    .map(|(_, _, s)| s.clone())
                    .unwrap_or_else(Scope::unknown);
                Some(self.condition_root(condition, &path.key("where"), &scope))
            }
            None => None,
        };

        let target_path = path.key("target");
        let (target_dim, target_text) = match &m.target {
            Target::Quantity(q) => (self.quantity(q, &target_path), q.to_string()),
            Target::Param(p) => (
                self.param_ref(&p.param, p.span, &target_path),
                format!("${}", p.param),
            ),
        };
        let (quantity, want, _) = typed?;
        let got = target_dim?;
        if want != got {
            let subject = if m.aggregate == Aggregate::Count {
                format!("`count({measure})`")
            } else {
                format!("`{measure}`")
            };
            let help = match (&m.target, example_unit(want)) {
                (Target::Quantity(q), Some(unit)) if got == Dimension::Count => {
                    format!("write `{} {unit}`", crate::tree::format_number(q.value))
                }
                _ if want == Dimension::Count => {
                    "a count is a plain number without a unit, such as `30`".into()
                }
                _ => format!("write {} such as `{}`", a_dimension(want), want.example()),
            };
            self.report(
                Code::E0007,
                format!(
                    "{subject} is {} but `{target_text}` is {}",
                    a_dimension(want),
                    a_dimension(got)
                ),
                Some(help),
                m.target.span(),
                &target_path,
            );
            return None;
        }
        let target = match &m.target {
            Target::Quantity(q) => q.canonical()?.1,
            Target::Param(_) => return None,
        };
        let cond = match cond {
            Some(cond) => Some(cond?),
            None => None,
        };
        let lowering = self.lowering.as_ref()?;
        Some(lowering.metric(m.aggregate, quantity, want, selector, cond, m.op, target))
    }

    /// Whether a selector names cardio (the category or a cardio exercise).
    fn is_cardio(&self, name: &str) -> bool {
        Category::from_name(name) == Some(Category::Cardio)
            || self.catalog.category(name) == Some(Category::Cardio)
    }
}

/// N as written: `3` or `$n`.
fn count_text(count: &Count) -> String {
    match count {
        Count::Literal(n) => n.node.to_string(),
        Count::Param(p) => format!("${}", p.param),
    }
}

/// `day` after 1, else `days`.
fn plural(count: &Count, period: Period) -> &'static str {
    match count {
        Count::Literal(n) if n.node == 1 => period.singular(),
        _ => period.plural(),
    }
}
