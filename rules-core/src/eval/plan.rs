//! The plan: a checked challenge lowered once into the form the evaluator runs.
//!
//! The checker lowers as it checks ([`crate::check::lower`], as rust-analyzer lowers to HIR
//! while recording diagnostics): every measure, field, unit, operator, count and name is
//! resolved in one place, the checker, which hands what it resolved to [`Lowering`]. Here the
//! resolved parts are assembled: selectors as bitsets over interned exercise ids (categories
//! expanded through the [`Catalog`]), conditions as a [`Cond`] tree, targets and condition
//! values canonical, the window as a [`Calendar`] of day boundaries in its time zone. A plan is
//! immutable, `Send + Sync`, and reused for every user.
//!
//! **Boundary:** a plan is built only from a plain challenge that checks without errors;
//! templates are refused ([`PlanError::Template`]): the recommender binds params first. Nothing
//! here validates, and nothing reads a clock.

use super::aggregate::{Cond, IdSet, NameField, Names, NumField, Quantity, Selector, Source};
use super::calendar::{Calendar, CalendarError};
use super::node::{Evaluator, Outcome, Range};
use super::prepared::{Cx, Entry, NameMap, Prepared};
use super::result::Status;
use crate::catalog::{Catalog, Category};
use crate::diagnostic::Code;
use crate::records::User;
use crate::tree::{Aggregate, Challenge, CmpOp, GoalOp, Period};
use crate::units::{approx_ge, Dimension};
use crate::vocab::{Field, FieldType};
use crate::zone::Zone;

/// Why a challenge cannot be evaluated. The checker reports everything else about a tree; a
/// plan is lowered only from a challenge it passed ([`crate::check::lower`]).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A template: its params must be bound for a user first.
    #[error("`{0}` is a template: bind its params for a user (recommend) before evaluating it")]
    Template(String),
    /// The challenge does not check: its first error (the checker's diagnostics hold all).
    #[error("{code}: {message}")]
    Invalid {
        /// The diagnostic's code.
        code: Code,
        /// The diagnostic's message.
        message: String,
    },
    /// A window the checker accepts but the time zone database cannot lay out (its last day
    /// is 9999-12-31).
    #[error("the window's dates are out of range")]
    WindowOutOfRange,
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
    /// Checks a challenge and lowers it ([`crate::check::lower`]): for trees that were checked
    /// elsewhere (stored challenges) or not at all. A tree that does not check gives its first
    /// error; a template is refused.
    pub fn compile(challenge: &Challenge, catalog: &Catalog) -> Result<Plan, PlanError> {
        crate::check::lower(challenge, catalog).plan
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

/// A literal value of a condition, as the checker found it suits its field.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Lit<'t> {
    /// A quantity, canonical.
    Number(f64),
    /// A name (an exercise, gym or machine id).
    Text(&'t str),
    /// A weekday, Monday = 0.
    Weekday(u32),
}

/// What lowering a checked challenge builds besides its nodes: the calendar and the interned
/// names. The checker drives it ([`crate::check`]): it resolves each measure, field, unit and
/// name once, reports what is wrong, and hands what is right to these functions, which never
/// fail. Nothing here validates.
#[derive(Debug)]
pub(crate) struct Lowering<'c> {
    catalog: &'c Catalog,
    calendar: Calendar,
    exercises: Names,
    gyms: Names,
    machines: Names,
    needs: Needs,
    /// `Some(k)`: only workouts whose gym id is below `k` count.
    gym_filter: Option<u32>,
}

impl<'c> Lowering<'c> {
    /// Starts lowering a challenge whose window and time zone the checker accepted (`tz` is
    /// its zone).
    pub(crate) fn new(
        challenge: &Challenge,
        tz: Zone,
        catalog: &'c Catalog,
    ) -> Result<Lowering<'c>, PlanError> {
        let (start, end) = (challenge.window.start.node, challenge.window.end.node);
        let calendar = Calendar::new(tz, start, end).map_err(|e| match e {
            // The checker reports a reversed or too long window (E0003, E0013).
            CalendarError::Reversed | CalendarError::TooLong | CalendarError::OutOfRange => {
                PlanError::WindowOutOfRange
            }
        })?;
        let mut lowering = Lowering {
            catalog,
            calendar,
            exercises: Names::default(),
            gyms: Names::default(),
            machines: Names::default(),
            needs: Needs::default(),
            gym_filter: None,
        };
        // Built-in exercises keep their global ids (those of prepared workouts).
        for id in crate::catalog::builtin_ids() {
            lowering.exercises.intern(id);
        }
        for gym in &challenge.gyms {
            lowering.gyms.intern(gym.as_str());
        }
        lowering.gym_filter = (!challenge.gyms.is_empty())
            .then(|| u32::try_from(lowering.gyms.len()).unwrap_or(u32::MAX));
        lowering.needs.gym = lowering.gym_filter.is_some();
        Ok(lowering)
    }

    /// The child of a period block or of `in one workout`.
    pub(crate) fn child(&self, node: Node) -> Box<Child> {
        Box::new(Child::new(node, &self.calendar))
    }

    /// Adds every exercise of `category` to a selector.
    pub(crate) fn select_category(&mut self, set: &mut IdSet, category: Category) {
        for exercise in self.catalog.exercises().filter(|e| e.category == category) {
            set.insert(self.exercises.intern(&exercise.id));
        }
    }

    /// Adds the exercise `id` (of the catalog) to a selector.
    pub(crate) fn select_exercise(&mut self, set: &mut IdSet, id: &str) {
        set.insert(self.exercises.intern(id));
    }

    /// A comparison goal: `aggregate(quantity of selector where cond) op target`, the target
    /// canonical in `dimension`.
    #[expect(clippy::too_many_arguments, reason = "the parts of a metric, resolved")]
    pub(crate) fn metric(
        &self,
        aggregate: Aggregate,
        quantity: Quantity,
        dimension: Dimension,
        selector: Selector,
        cond: Option<Cond>,
        op: GoalOp,
        target: f64,
    ) -> Node {
        let judgement = match (aggregate, op) {
            (Aggregate::Avg, _) => Judgement::Average,
            (Aggregate::Min, GoalOp::Le)
            | (Aggregate::Sum | Aggregate::Count | Aggregate::Max, GoalOp::Ge) => {
                Judgement::Achievement
            }
            (Aggregate::Min, GoalOp::Ge)
            | (Aggregate::Sum | Aggregate::Count | Aggregate::Max, GoalOp::Le) => Judgement::Limit,
        };
        let cond_per_set = cond.as_ref().is_some_and(Cond::reads_sets);
        Node::Metric(MetricNode {
            source: Source {
                aggregate,
                quantity,
                selector,
                cond,
                cond_per_set,
            },
            op,
            target,
            judgement,
            unit: dimension.canonical_unit(),
            slot: 0,
        })
    }

    /// `FIELD OP VALUE` (`values` has one element) or `FIELD in (VALUES)` (`is_in`, `op` is
    /// `==`), with values that suit the field and an operator it takes.
    pub(crate) fn compare(
        &mut self,
        field: Field,
        op: CmpOp,
        values: &[Lit<'_>],
        is_in: bool,
    ) -> Cond {
        match field.value_type() {
            FieldType::Quantity(_) => {
                let field = match field {
                    Field::Measure(m) => NumField::Measure(m),
                    _ => NumField::Hour,
                };
                let numbers = values.iter().filter_map(|v| match v {
                    Lit::Number(n) => Some(*n),
                    _ => None,
                });
                if is_in {
                    Cond::NumIn {
                        field,
                        values: numbers.collect(),
                    }
                } else {
                    Cond::Num {
                        field,
                        op,
                        value: numbers.into_iter().next().unwrap_or(f64::NAN),
                    }
                }
            }
            FieldType::Text => {
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
                let ids = values
                    .iter()
                    .filter_map(|v| match v {
                        Lit::Text(s) => Some(names.intern(s)),
                        _ => None,
                    })
                    .collect();
                Cond::Name {
                    field,
                    ids,
                    negate: op == CmpOp::Ne,
                }
            }
            FieldType::Weekday => {
                let mask = values.iter().fold(0u8, |mask, v| match v {
                    Lit::Weekday(d) => mask | 1u8.checked_shl(*d).unwrap_or(0),
                    _ => mask,
                });
                Cond::Weekday {
                    mask,
                    negate: op == CmpOp::Ne,
                }
            }
        }
    }

    /// The plan of `challenge`, whose goal lowered to `root`.
    pub(crate) fn finish(self, challenge: &Challenge, root: Node) -> Plan {
        let mut teams: Vec<String> = challenge.teams.iter().map(|t| t.node.clone()).collect();
        teams.sort();
        teams.dedup();
        let mut tiers: Vec<(String, f64)> = challenge
            .tiers
            .iter()
            .map(|t| (t.name.clone(), t.fraction()))
            .collect();
        tiers.sort_by(|a, b| b.1.total_cmp(&a.1));
        Plan {
            id: challenge.id.node.clone(),
            calendar: self.calendar,
            groups: challenge.groups.iter().map(|g| g.node.clone()).collect(),
            gym_filter: self.gym_filter,
            exercises: self.exercises,
            gyms: self.gyms,
            machines: self.machines,
            needs: self.needs,
            teams,
            tiers,
            root,
        }
    }
}
