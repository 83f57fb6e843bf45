//! Tree → plan: a checked challenge compiled once into the form the evaluator runs.
//!
//! Compiling resolves every string of the tree: measures, fields and weekdays to the enums of
//! [`crate::vocab`], selectors to bitsets over interned exercise ids (categories expanded
//! through the [`Catalog`]), conditions to a [`Cond`] tree, targets and condition values to
//! canonical units, and the window to a [`Calendar`] of day boundaries in its time zone. A
//! plan is immutable, `Send + Sync`, and reused for every user.
//!
//! **Boundary:** a plan is built only from a plain challenge; templates and `$params` are
//! refused ([`PlanError::Template`], [`PlanError::Param`]): the recommender binds params first.
//! Names the checker would have refused are errors here too, never panics. Nothing here reads a
//! clock.

use super::aggregate::{Cond, IdSet, NameField, Names, NumField, Quantity, Selector, Source};
use super::calendar::{Calendar, CalendarError, MAX_DAYS};
use super::node::{Evaluator, Outcome, Range};
use super::prepared::{Cx, Entry, NameMap, Prepared};
use super::result::Status;
use crate::catalog::{Catalog, Category};
use crate::records::User;
use crate::tree::{
    self, Aggregate, Challenge, CmpOp, Condition, DeclKind, Goal, GoalOp, Period, Target, Value,
};
use crate::units::{approx_ge, Dimension};
use crate::vocab::{weekday_from_name, CountUnit, Field, FieldType, Measure};
use crate::zone::Zone;

/// The deepest goal or condition nesting a plan accepts (language.md §7, E0013).
pub const MAX_DEPTH: usize = 64;

/// Why a challenge cannot be evaluated. A challenge that passed the checker only meets the
/// first two (a template, or a `$param` that was never bound).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A template: its params must be bound for a user first.
    #[error("`{0}` is a template: bind its params for a user (recommend) before evaluating it")]
    Template(String),
    /// A `$param` in a challenge.
    #[error("`${0}` is a param: only a template may use params, and they must be bound before evaluation")]
    Param(String),
    /// An unknown IANA time zone.
    #[error("unknown time zone `{0}`")]
    Timezone(String),
    /// The window ends before it starts.
    #[error("the window ends ({end}) before it starts ({start})")]
    WindowReversed {
        /// First day.
        start: String,
        /// Last day.
        end: String,
    },
    /// The window is longer than the evaluator lays out.
    #[error("the window is longer than {MAX_DAYS} days")]
    WindowTooLong,
    /// A date chrono cannot place in the time zone.
    #[error("the window's dates are out of range")]
    WindowOutOfRange,
    /// An unknown measure, counting unit or field, or one the aggregate does not take.
    #[error("`{name}` cannot be used with `{aggregate}`")]
    Measure {
        /// The aggregate.
        aggregate: &'static str,
        /// The measure as written.
        name: String,
    },
    /// An unknown condition field.
    #[error("unknown field `{0}`")]
    Field(String),
    /// An unknown exercise or category in a selector.
    #[error("unknown exercise or category `{0}`")]
    Exercise(String),
    /// A value that does not suit its field (a quantity for `gym`, an unknown weekday, ...).
    #[error("`{field}` cannot be compared with {value}")]
    Value {
        /// The field.
        field: String,
        /// The value as written.
        value: String,
    },
    /// An operator a string field does not take.
    #[error("`{field}` takes only `==`, `!=` and `in`, not `{op}`")]
    Operator {
        /// The field.
        field: String,
        /// The operator.
        op: &'static str,
    },
    /// A quantity of the wrong dimension.
    #[error("expected a {expected} but found a {found}")]
    Dimension {
        /// The dimension wanted.
        expected: Dimension,
        /// The dimension found.
        found: Dimension,
    },
    /// A unit that does not exist.
    #[error("unknown unit `{0}`")]
    Unit(String),
    /// N = 0, or `at least N of` with N above the number of children.
    #[error("`{kind}` needs N between 1 and {max}, found {n}")]
    Count {
        /// The node kind.
        kind: &'static str,
        /// N.
        n: u64,
        /// The largest N allowed.
        max: u64,
    },
    /// A period block inside `in one workout`.
    #[error("a period block cannot stand inside `in one workout`")]
    PeriodInOneWorkout,
    /// Deeper than `MAX_DEPTH` (64) levels.
    #[error("goals or conditions are nested more than {MAX_DEPTH} levels deep")]
    TooDeep,
}

/// How a metric goal is judged (language.md §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Judgement {
    /// `sum`/`count`/`max` `>=`, `min` `<=`: more workouts never undo it.
    Achievement,
    /// `sum`/`count`/`max` `<=`, `min` `>=`: more workouts can only break it.
    Limit,
    /// `avg`: judged on the current value, like an achievement of the same direction.
    Average,
}

/// A compiled comparison goal.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct MetricNode {
    /// What is aggregated.
    pub(crate) source: Source,
    /// `>=` or `<=`.
    pub(crate) op: GoalOp,
    /// The target, canonical.
    pub(crate) target: f64,
    /// Achievement, limit or average.
    pub(crate) judgement: Judgement,
    /// The canonical unit of value and target.
    pub(crate) unit: Option<&'static str>,
    /// Its index in [`Child::sources`] of the child it belongs to, when that child is judged
    /// in one pass (0 otherwise).
    pub(crate) slot: usize,
}

/// A compiled goal node.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Node {
    /// Every child is met.
    All(Vec<Node>),
    /// Some child is met.
    Any(Vec<Node>),
    /// At least `n` children are met.
    AtLeast(u64, Vec<Node>),
    /// Met in every period.
    Every(Period, Box<Child>),
    /// Met in at least `n` periods.
    On(u64, Period, Box<Child>),
    /// Met in `n` consecutive periods.
    Streak(u64, Period, Box<Child>),
    /// One workout on its own meets the child.
    OneWorkout(Box<Child>),
    /// A comparison.
    Metric(MetricNode),
}

/// The child of a period block or of `in one workout`, with what lets the evaluator skip
/// the ranges (periods, workouts) where the child's figures are known in advance.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Child {
    /// The child goal.
    pub(crate) node: Node,
    /// `Some` when the child holds no period block and no `in one workout`: the exercises
    /// that any of its metrics reads (the union of their selectors). Every metric reads only
    /// rows its selector matches, so over a started, closed range whose rows all fall outside
    /// this set (no rows at all, in particular) the child's outcome is [`Child::empty`].
    pub(crate) relevant: Option<Selector>,
    /// The child's outcome over a started, closed range without rows (meaningful only when
    /// `relevant` is `Some`).
    pub(crate) empty: Outcome,
    /// `Some` when `relevant` is, the child has at most [`MAX_SLOTS`] metrics and its steps
    /// hold at most [`MAX_SLOTS`] outcomes at once: the metrics' sources, in the order of
    /// their [`MetricNode::slot`]. The evaluator then feeds each relevant row once to every
    /// metric's accumulator of its period (or workout) and judges the child from those
    /// ([`super::node`]), instead of one pass over the rows per metric and period. Only rows
    /// that `relevant` takes are fed to them, so a source whose selector is `relevant` itself
    /// has [`Selector::Any`] here.
    pub(crate) sources: Option<Box<[Source]>>,
    /// With `sources`: the child as [`Step`]s in postfix order, which judge it from its
    /// metrics' accumulators without recursion (empty otherwise).
    pub(crate) steps: Box<[Step]>,
}

/// One step of a child judged in one pass ([`Child::steps`]): each pushes one outcome on a
/// stack of at most [`MAX_SLOTS`].
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    /// The metric's outcome from its accumulator ([`MetricNode::slot`]).
    Metric(MetricNode),
    /// `all` of the last `k` outcomes, which it pops.
    All(usize),
    /// `any` of the last `k` outcomes.
    Any(usize),
    /// `at least n of` the last `k` outcomes.
    AtLeast(u64, usize),
}

/// The most metrics a child judged in one pass has (their accumulators are on the stack),
/// and the most outcomes its steps hold at once (a stack on the stack too).
pub(crate) const MAX_SLOTS: usize = 8;

impl Child {
    fn new(mut node: Node, calendar: &Calendar) -> Child {
        let relevant = node.relevant();
        let (mut sources, mut steps) = (Vec::new(), Vec::new());
        let height = match &relevant {
            Some(relevant) => {
                let height = node.flatten(&mut sources, &mut steps);
                // Rows reach these sources only once `relevant` took them: a source whose
                // selector is `relevant` itself need not test it again.
                for source in &mut sources {
                    if source.selector == *relevant {
                        source.selector = Selector::Any;
                    }
                }
                height
            }
            None => usize::MAX,
        };
        let (sources, steps) = if sources.len() <= MAX_SLOTS && height <= MAX_SLOTS {
            (Some(sources.into_boxed_slice()), steps.into_boxed_slice())
        } else {
            (None, Box::default())
        };
        let empty = if relevant.is_some() {
            let range = Range {
                rows: &[],
                lo: 0,
                hi: 0,
                started: true,
                closed: true,
            };
            Evaluator::new(Cx::empty(calendar), i64::MIN).outcome(&node, range)
        } else {
            Outcome::NONE
        };
        Child {
            node,
            relevant,
            empty,
            sources,
            steps,
        }
    }

    /// The child's outcome over `range` when it is known without walking the child: a
    /// started, closed range whose rows no metric of the child reads.
    #[inline]
    pub(crate) fn known(&self, cx: &Cx<'_>, range: &Range<'_>) -> Option<Outcome> {
        let relevant = self.relevant.as_ref()?;
        if !(range.started && range.closed) {
            return None;
        }
        let skip = range.rows.iter().all(|r| !relevant.matches(cx, r));
        skip.then_some(self.empty)
    }
}

impl Node {
    /// Numbers the metrics of a node without period blocks and `in one workout` in the order
    /// the evaluator walks them, collecting their sources, and writes the node as [`Step`]s
    /// in postfix order. Returns the most outcomes its steps hold on the stack at once.
    fn flatten(&mut self, sources: &mut Vec<Source>, steps: &mut Vec<Step>) -> usize {
        let (goals, step) = match self {
            Node::All(goals) => {
                let k = goals.len();
                (goals, Step::All(k))
            }
            Node::Any(goals) => {
                let k = goals.len();
                (goals, Step::Any(k))
            }
            Node::AtLeast(n, goals) => {
                let k = goals.len();
                (goals, Step::AtLeast(*n, k))
            }
            Node::Every(..) | Node::On(..) | Node::Streak(..) | Node::OneWorkout(_) => {
                return usize::MAX;
            }
            Node::Metric(m) => {
                m.slot = sources.len();
                sources.push(m.source.clone());
                steps.push(Step::Metric(m.clone()));
                return 1;
            }
        };
        // While child `i` runs, the outcomes of the `i` before it wait on the stack.
        let mut most = 1;
        for (i, g) in goals.iter_mut().enumerate() {
            most = most.max(g.flatten(sources, steps).saturating_add(i));
        }
        steps.push(step);
        most
    }

    /// The union of the selectors of the node's metrics; `None` when the node holds a period
    /// block or `in one workout` (their figures depend on more than the rows they read).
    fn relevant(&self) -> Option<Selector> {
        match self {
            Node::All(goals) | Node::Any(goals) | Node::AtLeast(_, goals) => {
                let mut union = Selector::Only(IdSet::default());
                for g in goals {
                    union = match (union, g.relevant()?) {
                        (Selector::Only(mut a), Selector::Only(b)) => {
                            a.union_with(&b);
                            Selector::Only(a)
                        }
                        _ => Selector::Any,
                    };
                }
                Some(union)
            }
            Node::Every(..) | Node::On(..) | Node::Streak(..) | Node::OneWorkout(_) => None,
            Node::Metric(m) => Some(m.source.selector.clone()),
        }
    }

    /// The `kind` of the JSON tree.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::All(_) => "all",
            Node::Any(_) => "any",
            Node::AtLeast(..) => "at_least",
            Node::Every(..) => "every",
            Node::On(..) => "on",
            Node::Streak(..) => "streak",
            Node::OneWorkout(_) => "one_workout",
            Node::Metric(_) => "metric",
        }
    }
}

#[cfg(test)]
impl Node {
    /// Drops every child's [`Child::sources`]: the evaluator then walks each child per
    /// period and per workout.
    fn without_one_pass(&mut self) {
        match self {
            Node::All(goals) | Node::Any(goals) | Node::AtLeast(_, goals) => {
                goals.iter_mut().for_each(Node::without_one_pass);
            }
            Node::Every(_, child)
            | Node::On(_, _, child)
            | Node::Streak(_, _, child)
            | Node::OneWorkout(child) => {
                child.sources = None;
                child.steps = Box::default();
                child.node.without_one_pass();
            }
            Node::Metric(_) => {}
        }
    }
}

#[cfg(test)]
impl Plan {
    /// The same plan as a team challenge of `teams` (for tests).
    pub(crate) fn with_teams(mut self, teams: &[&str]) -> Plan {
        self.teams = teams.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// The same plan, evaluated without judging any child in one pass (for tests comparing
    /// both ways).
    pub(crate) fn without_one_pass(mut self) -> Plan {
        self.root.without_one_pass();
        self
    }
}

/// Which of a user's names an evaluation maps to the plan's ids (the others are never read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Needs {
    gym: bool,
    machine: bool,
}

/// A challenge compiled for evaluation: built once, reused across users and threads.
#[derive(Clone, Debug)]
pub struct Plan {
    id: String,
    pub(crate) calendar: Calendar,
    groups: Vec<String>,
    /// `Some(k)`: only workouts whose gym id is below `k` count (the listed gyms are interned
    /// first).
    gym_filter: Option<u32>,
    exercises: Names,
    gyms: Names,
    machines: Names,
    needs: Needs,
    /// Since 1.1: the teams, sorted by name and without repeats (empty: a per-user challenge).
    teams: Vec<String>,
    /// Since 1.1: the tiers as (name, threshold as a fraction of 1), highest threshold first.
    tiers: Vec<(String, f64)>,
    pub(crate) root: Node,
}

impl Plan {
    /// Compiles a checked challenge. Templates and `$params` are refused.
    pub fn compile(challenge: &Challenge, catalog: &Catalog) -> Result<Plan, PlanError> {
        if challenge.kind == DeclKind::Template {
            return Err(PlanError::Template(challenge.id.node.clone()));
        }
        if let Some(param) = challenge.params.first() {
            return Err(PlanError::Param(param.name.node.clone()));
        }
        let tz = Zone::get(challenge.timezone.as_str())
            .ok_or_else(|| PlanError::Timezone(challenge.timezone.node.clone()))?;
        let (start, end) = (challenge.window.start.node, challenge.window.end.node);
        let calendar = Calendar::new(tz, start, end).map_err(|e| match e {
            CalendarError::Reversed => PlanError::WindowReversed {
                start: start.to_string(),
                end: end.to_string(),
            },
            CalendarError::TooLong => PlanError::WindowTooLong,
            CalendarError::OutOfRange => PlanError::WindowOutOfRange,
        })?;
        let mut builder = Builder {
            catalog,
            calendar: &calendar,
            exercises: Names::default(),
            gyms: Names::default(),
            machines: Names::default(),
            needs: Needs::default(),
        };
        // Built-in exercises keep their global ids (those of prepared workouts).
        for id in crate::catalog::builtin_ids() {
            builder.exercises.intern(id);
        }
        for gym in &challenge.gyms {
            builder.gyms.intern(gym.as_str());
        }
        let gym_filter = (!challenge.gyms.is_empty())
            .then(|| u32::try_from(builder.gyms.len()).unwrap_or(u32::MAX));
        builder.needs.gym = gym_filter.is_some();
        let root = builder.goal(&challenge.goal, 0, false)?;
        let Builder {
            exercises,
            gyms,
            machines,
            needs,
            ..
        } = builder;
        let mut teams: Vec<String> = challenge.teams.iter().map(|t| t.node.clone()).collect();
        teams.sort();
        teams.dedup();
        let mut tiers: Vec<(String, f64)> = challenge
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.fraction()))
            .collect();
        tiers.sort_by(|a, b| b.1.total_cmp(&a.1));
        Ok(Plan {
            id: challenge.id.node.clone(),
            calendar,
            groups: challenge.groups.iter().map(|g| g.node.clone()).collect(),
            gym_filter,
            exercises,
            gyms,
            machines,
            needs,
            teams,
            tiers,
            root,
        })
    }

    /// The teams of a team challenge, sorted by name (language.md §10); empty otherwise.
    pub fn teams(&self) -> &[String] {
        &self.teams
    }

    /// The tier of a result (language.md §10): `None` when the challenge has no tiers; else the
    /// name of the tier with the highest threshold at or below `progress` (with the §4
    /// tolerance; a tier at 100 % only when completed), or `Some(None)` when none is reached
    /// (also when ineligible or not started).
    pub fn tier(&self, status: Status, progress: f64) -> Option<Option<String>> {
        if self.tiers.is_empty() {
            return None;
        }
        if matches!(status, Status::Ineligible | Status::NotStarted) {
            return Some(None);
        }
        let completed = status == Status::Completed;
        Some(
            self.tiers
                .iter()
                .find(|(_, at)| approx_ge(progress, *at) && (*at < 1.0 || completed))
                .map(|(name, _)| name.clone()),
        )
    }

    /// How many of the workouts `prepared` holds count for this challenge at `as_of`: in the
    /// window, started at or before `as_of`, at a listed gym when any are listed (a team
    /// member's `workouts`, language.md §10).
    pub fn counted(&self, prepared: &Prepared, as_of: &super::AsOf) -> u64 {
        let as_of = (as_of.time.timestamp(), as_of.time.timestamp_subsec_nanos());
        let rows = self.window(prepared, as_of);
        if self.gym_filter.is_none() {
            return rows.len() as u64;
        }
        let cx = self.cx(prepared);
        rows.iter().filter(|e| cx.counts(e)).count() as u64
    }

    /// The challenge id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Whether the user may take part: in at least one of `groups`, or `groups` is empty.
    pub fn is_eligible(&self, user: &User) -> bool {
        self.groups.is_empty() || user.groups.iter().any(|g| self.groups.contains(g))
    }

    /// The user's workouts in the window that started at or before `as_of` (epoch seconds and
    /// nanoseconds; two binary searches at most; the gym filter is applied by their readers,
    /// through [`Cx::counts`]).
    pub(crate) fn window<'p>(&self, prepared: &'p Prepared, as_of: (i64, u32)) -> &'p [Entry] {
        let entries = prepared.entries.as_slice();
        let (start, end) = (self.calendar.window_start(), self.calendar.window_end());
        let before = |e: &Entry| e.secs < start;
        let inside = |e: &Entry| e.secs < end && (e.secs, e.nanos) <= as_of;
        // The searches are skipped when the ends decide them (no workout before the window;
        // the latest workout inside it and before `as_of`, as in a running challenge).
        let lo = match entries.first() {
            Some(first) if before(first) => entries.partition_point(before),
            _ => 0,
        };
        let hi = match entries.last() {
            Some(last) if !inside(last) => entries.partition_point(inside),
            _ => entries.len(),
        }
        .max(lo);
        entries.get(lo..hi).unwrap_or(&[])
    }

    /// What an evaluation of `prepared` reads besides its entries: the user's names in this
    /// plan's ids (only those the plan reads), the gym filter, the calendar.
    #[inline(always)]
    pub(crate) fn cx<'p>(&'p self, prepared: &'p Prepared) -> Cx<'p> {
        let others = self.exercises.len() > super::prepared::builtin_len() as usize;
        Cx {
            sets: &prepared.sets,
            exercises: if others {
                NameMap::new(&self.exercises, prepared.table(&prepared.exercises), 0)
            } else {
                NameMap::NONE
            },
            gyms: if self.needs.gym {
                NameMap::new(&self.gyms, prepared.table(&prepared.gyms), 0)
            } else {
                NameMap::NONE
            },
            machines: if self.needs.machine {
                NameMap::new(&self.machines, prepared.table(&prepared.machines), 0)
            } else {
                NameMap::NONE
            },
            gym_filter: None,
            gym_counts: 0,
            calendar: &self.calendar,
        }
        .with_gym_filter(self.gym_filter, prepared.gyms.len())
    }
}

/// Compiles the goal tree, interning names as it goes.
struct Builder<'c> {
    catalog: &'c Catalog,
    calendar: &'c Calendar,
    exercises: Names,
    gyms: Names,
    machines: Names,
    needs: Needs,
}

impl Builder<'_> {
    fn goal(&mut self, goal: &Goal, depth: usize, in_workout: bool) -> Result<Node, PlanError> {
        if depth >= MAX_DEPTH {
            return Err(PlanError::TooDeep);
        }
        let depth = depth + 1;
        Ok(match goal {
            Goal::All { goals, .. } => Node::All(self.goals(goals, depth, in_workout)?),
            Goal::Any { goals, .. } => Node::Any(self.goals(goals, depth, in_workout)?),
            Goal::AtLeast { count, goals, .. } => {
                let n = count_value(count)?;
                let k = goals.len() as u64;
                if n == 0 || n > k {
                    return Err(PlanError::Count {
                        kind: "at_least",
                        n,
                        max: k,
                    });
                }
                Node::AtLeast(n, self.goals(goals, depth, in_workout)?)
            }
            Goal::Every { period, goal, .. } => {
                self.period_allowed(in_workout)?;
                Node::Every(*period, self.child(goal, depth, in_workout)?)
            }
            Goal::On {
                count,
                period,
                goal,
                ..
            } => {
                self.period_allowed(in_workout)?;
                let n = positive(count, "on")?;
                Node::On(n, *period, self.child(goal, depth, in_workout)?)
            }
            Goal::Streak {
                count,
                period,
                goal,
                ..
            } => {
                self.period_allowed(in_workout)?;
                let n = positive(count, "streak")?;
                Node::Streak(n, *period, self.child(goal, depth, in_workout)?)
            }
            Goal::OneWorkout { goal, .. } => Node::OneWorkout(self.child(goal, depth, true)?),
            Goal::Metric(metric) => Node::Metric(self.metric(metric)?),
        })
    }

    fn child(
        &mut self,
        goal: &Goal,
        depth: usize,
        in_workout: bool,
    ) -> Result<Box<Child>, PlanError> {
        let node = self.goal(goal, depth, in_workout)?;
        Ok(Box::new(Child::new(node, self.calendar)))
    }

    fn goals(
        &mut self,
        goals: &[Goal],
        depth: usize,
        in_workout: bool,
    ) -> Result<Vec<Node>, PlanError> {
        goals
            .iter()
            .map(|g| self.goal(g, depth, in_workout))
            .collect()
    }

    fn period_allowed(&self, in_workout: bool) -> Result<(), PlanError> {
        if in_workout {
            Err(PlanError::PeriodInOneWorkout)
        } else {
            Ok(())
        }
    }

    fn metric(&mut self, metric: &tree::Metric) -> Result<MetricNode, PlanError> {
        let name = metric.measure.as_str();
        let aggregate = metric.aggregate;
        let bad_measure = || PlanError::Measure {
            aggregate: aggregate.keyword(),
            name: name.to_owned(),
        };
        let (quantity, dimension) = if aggregate == Aggregate::Count {
            let unit = CountUnit::from_name(name).ok_or_else(bad_measure)?;
            (Quantity::Count(unit), Dimension::Count)
        } else {
            let measure = Measure::from_name(name).ok_or_else(bad_measure)?;
            (Quantity::Measure(measure), measure.dimension())
        };
        let selector = self.selector(&metric.of)?;
        let cond = match &metric.where_ {
            Some(c) => Some(self.condition(c, 0)?),
            None => None,
        };
        let target = match &metric.target {
            Target::Param(p) => return Err(PlanError::Param(p.param.clone())),
            Target::Quantity(q) => canonical(q, dimension)?,
        };
        let judgement = match (aggregate, metric.op) {
            (Aggregate::Avg, _) => Judgement::Average,
            (Aggregate::Min, GoalOp::Le)
            | (Aggregate::Sum | Aggregate::Count | Aggregate::Max, GoalOp::Ge) => {
                Judgement::Achievement
            }
            (Aggregate::Min, GoalOp::Ge)
            | (Aggregate::Sum | Aggregate::Count | Aggregate::Max, GoalOp::Le) => Judgement::Limit,
        };
        let cond_per_set = cond.as_ref().is_some_and(Cond::reads_sets);
        Ok(MetricNode {
            source: Source {
                aggregate,
                quantity,
                selector,
                cond,
                cond_per_set,
            },
            op: metric.op,
            target,
            judgement,
            unit: dimension.canonical_unit(),
            slot: 0,
        })
    }

    fn selector(&mut self, of: &[crate::Spanned<String>]) -> Result<Selector, PlanError> {
        if of.is_empty() {
            return Ok(Selector::Any);
        }
        let mut set = IdSet::default();
        for name in of {
            let name = name.as_str();
            if let Some(category) = Category::from_name(name) {
                for exercise in self.catalog.exercises().filter(|e| e.category == category) {
                    set.insert(self.exercises.intern(&exercise.id));
                }
            } else if self.catalog.get(name).is_some() {
                set.insert(self.exercises.intern(name));
            } else {
                return Err(PlanError::Exercise(name.to_owned()));
            }
        }
        Ok(Selector::Only(set))
    }

    fn condition(&mut self, cond: &Condition, depth: usize) -> Result<Cond, PlanError> {
        if depth >= MAX_DEPTH {
            return Err(PlanError::TooDeep);
        }
        let depth = depth + 1;
        Ok(match cond {
            Condition::And { terms, .. } => Cond::And(
                terms
                    .iter()
                    .map(|t| self.condition(t, depth))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Or { terms, .. } => Cond::Or(
                terms
                    .iter()
                    .map(|t| self.condition(t, depth))
                    .collect::<Result<_, _>>()?,
            ),
            Condition::Not { term, .. } => Cond::Not(Box::new(self.condition(term, depth)?)),
            Condition::Compare {
                field, op, value, ..
            } => self.compare(field.as_str(), *op, std::slice::from_ref(value), false)?,
            Condition::In { field, values, .. } => {
                self.compare(field.as_str(), CmpOp::Eq, values, true)?
            }
        })
    }

    /// `FIELD OP VALUE` (`values` has one element) or `FIELD in (VALUES)` (`is_in`).
    fn compare(
        &mut self,
        name: &str,
        op: CmpOp,
        values: &[Value],
        is_in: bool,
    ) -> Result<Cond, PlanError> {
        let field = Field::from_name(name).ok_or_else(|| PlanError::Field(name.to_owned()))?;
        let bad_value = |v: &Value| PlanError::Value {
            field: name.to_owned(),
            value: match v {
                Value::Quantity(q) => format!("the quantity `{q}`"),
                Value::Str(s) => format!("the string \"{}\"", s.as_str()),
                Value::Param(p) => format!("`${}`", p.param),
            },
        };
        let unparam = |v: &Value| match v {
            Value::Param(p) => Err(PlanError::Param(p.param.clone())),
            _ => Ok(()),
        };
        for v in values {
            unparam(v)?;
        }
        match field.value_type() {
            FieldType::Quantity(dimension) => {
                let num_field = match field {
                    Field::Measure(m) => NumField::Measure(m),
                    _ => NumField::Hour,
                };
                let mut numbers = Vec::with_capacity(values.len());
                for v in values {
                    match v {
                        Value::Quantity(q) => numbers.push(canonical(q, dimension)?),
                        _ => return Err(bad_value(v)),
                    }
                }
                if is_in {
                    Ok(Cond::NumIn {
                        field: num_field,
                        values: numbers,
                    })
                } else {
                    Ok(Cond::Num {
                        field: num_field,
                        op,
                        value: numbers.first().copied().unwrap_or(f64::NAN),
                    })
                }
            }
            FieldType::Text => {
                let negate = string_op(name, op)?;
                let (field, names) = match field {
                    Field::Exercise => (NameField::Exercise, &mut self.exercises),
                    Field::Gym => {
                        self.needs.gym = true;
                        (NameField::Gym, &mut self.gyms)
                    }
                    _ => {
                        self.needs.machine = true;
                        (NameField::Machine, &mut self.machines)
                    }
                };
                let mut ids = Vec::with_capacity(values.len());
                for v in values {
                    match v {
                        Value::Str(s) => ids.push(names.intern(s.as_str())),
                        _ => return Err(bad_value(v)),
                    }
                }
                Ok(Cond::Name { field, ids, negate })
            }
            FieldType::Weekday => {
                let negate = string_op(name, op)?;
                let mut mask = 0u8;
                for v in values {
                    let day = match v {
                        Value::Str(s) => weekday_from_name(s.as_str()),
                        _ => None,
                    };
                    match day {
                        Some(d) => mask |= 1 << d.num_days_from_monday(),
                        None => return Err(bad_value(v)),
                    }
                }
                Ok(Cond::Weekday { mask, negate })
            }
        }
    }
}

/// Whether a string comparison negates (`!=`); other operators than `==`/`!=` are refused.
fn string_op(field: &str, op: CmpOp) -> Result<bool, PlanError> {
    match op {
        CmpOp::Eq => Ok(false),
        CmpOp::Ne => Ok(true),
        _ => Err(PlanError::Operator {
            field: field.to_owned(),
            op: op.symbol(),
        }),
    }
}

fn canonical(q: &tree::Quantity, dimension: Dimension) -> Result<f64, PlanError> {
    let (found, value) = q
        .canonical()
        .ok_or_else(|| PlanError::Unit(q.unit.clone().unwrap_or_default()))?;
    if found != dimension {
        return Err(PlanError::Dimension {
            expected: dimension,
            found,
        });
    }
    Ok(value)
}

fn count_value(count: &tree::Count) -> Result<u64, PlanError> {
    match count {
        tree::Count::Literal(n) => Ok(n.node),
        tree::Count::Param(p) => Err(PlanError::Param(p.param.clone())),
    }
}

fn positive(count: &tree::Count, kind: &'static str) -> Result<u64, PlanError> {
    let n = count_value(count)?;
    if n == 0 {
        return Err(PlanError::Count {
            kind,
            n,
            max: u64::MAX,
        });
    }
    Ok(n)
}
