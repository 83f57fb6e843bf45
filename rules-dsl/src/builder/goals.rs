//! Goals (language.md §3): groups, periods, one workout and metrics with their selectors and
//! targets, nested at most `MAX_GOAL_DEPTH` levels.

use pest::iterators::Pair;
use rules_core::diagnostic::Code;
use rules_core::limits::MAX_GOAL_DEPTH;
use rules_core::span::{Span, Spanned};
use rules_core::tree::{Aggregate, Goal, GoalOp, Metric, Period, Target};

use crate::parser::Rule;

use super::{inner, Builder};

impl Builder {
    /// A goal at `depth` (1 for the top goal).
    pub(super) fn goal(&mut self, p: Pair<'_, Rule>, depth: usize) -> Option<Goal> {
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
    pub(super) fn goal_list(&mut self, block: Pair<'_, Rule>, depth: usize) -> Option<Vec<Goal>> {
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
    pub(super) fn block_goal(&mut self, block: Pair<'_, Rule>, depth: usize) -> Option<Goal> {
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

    pub(super) fn metric(&mut self, p: Pair<'_, Rule>) -> Option<Metric> {
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

    pub(super) fn selector(&mut self, p: Pair<'_, Rule>) -> Option<Vec<Spanned<String>>> {
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

    pub(super) fn target(&mut self, p: Pair<'_, Rule>) -> Option<Target> {
        let q = inner(p).next()?;
        match q.as_rule() {
            Rule::param_ref => Some(Target::Param(self.param_ref(&q))),
            _ => self.quantity(q).map(Target::Quantity),
        }
    }
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
