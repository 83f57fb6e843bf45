//! Goal semantics: `met`, `failed` and `progress` of each node over a range (language.md §8,
//! the table of "Each goal node evaluates over a range").
//!
//! A [`Range`] is the whole window at the top, a period inside a period block, or a single
//! workout inside `in one workout`; it carries the rows (counted workouts, sorted by start)
//! that fall in it and whether it has started and closed at `as_of`. Two walks share the same
//! rules: [`Evaluator::outcome`] computes only the three figures and allocates nothing (it runs
//! for every period and every workout), and [`Evaluator::detail`] builds the [`NodeResult`]
//! tree, calling `outcome` for the periods and workouts it does not show in full.
//!
//! A period block or `in one workout` whose child holds no period block and no `in one
//! workout` (and at most [`MAX_SLOTS`] metrics) judges that child in one pass: each row the
//! child reads is fed once to one accumulator per metric of its period (or workout), and the
//! child's table is then applied to the accumulators' values, period by period; periods
//! without such rows get the child's known figures. Other children are walked per period.
//!
//! **Invariants:** a range that has not started is not met, not failed and has progress 0;
//! progress is in [0, 1] and is 1 exactly when met; no node is both met and failed. Nothing
//! here reads a clock.

use super::aggregate::{Acc, Selector, Source};
use super::calendar::Calendar;
use super::plan::{Child, Judgement, MetricNode, Node, Step, MAX_SLOTS};
use super::prepared::{Cx, Entry};
use super::result::{Amount, Detail, NodeResult, PeriodResult};
use crate::tree::{GoalOp, Period};
use crate::units::{approx_ge, approx_le};

/// The largest double below 1: the progress of a goal that is not met never reaches 1.
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// `met`, `failed` and `progress` of one node.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) met: bool,
    pub(crate) failed: bool,
    pub(crate) progress: f64,
}

impl Outcome {
    /// A range that has not started.
    pub(crate) const NONE: Outcome = Outcome {
        met: false,
        failed: false,
        progress: 0.0,
    };

    /// Keeps the invariants: progress finite in [0, 1], 1 exactly when met, never met and
    /// failed at once.
    fn new(met: bool, failed: bool, progress: f64) -> Outcome {
        let progress = if met {
            1.0
        } else if progress.is_finite() {
            progress.clamp(0.0, BELOW_ONE)
        } else {
            0.0
        };
        Outcome {
            met,
            failed: failed && !met,
            progress,
        }
    }
}

/// Where a node is evaluated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Range<'r> {
    /// The user's workouts in the range, sorted by start (those the gym filter drops
    /// included: every reader skips them through [`Cx::counts`]).
    pub(crate) rows: &'r [Entry],
    /// First day index.
    pub(crate) lo: u32,
    /// Day index after the last.
    pub(crate) hi: u32,
    /// Its start is at or before `as_of`.
    pub(crate) started: bool,
    /// Its end is at or before `as_of`.
    pub(crate) closed: bool,
}

/// Evaluates a plan's nodes for one user at one `as_of`.
pub(crate) struct Evaluator<'p> {
    calendar: &'p Calendar,
    /// The user's sets and names, the gym filter.
    cx: Cx<'p>,
    /// `as_of`, UTC seconds (floor): period boundaries are whole seconds.
    as_of: i64,
    /// Scratch space for "the N largest progresses", used as a stack by nested nodes.
    scratch: Vec<f64>,
    /// Only `met` is wanted: every walk stops as soon as its node's `met` is known, and the
    /// other figures of an outcome are those of the children walked so far.
    met_only: bool,
}

impl<'p> Evaluator<'p> {
    #[inline(always)]
    pub(crate) fn new(cx: Cx<'p>, as_of: i64) -> Evaluator<'p> {
        Evaluator {
            calendar: cx.calendar,
            cx,
            as_of,
            scratch: Vec::new(),
            met_only: false,
        }
    }

    /// Makes the outcomes right about `met` only: groups, period blocks and `in one workout`
    /// then stop at the first child, period or workout that decides it (as a hand-written
    /// yes/no check would).
    pub(crate) fn met_only(&mut self) -> &mut Evaluator<'p> {
        self.met_only = true;
        self
    }

    /// The range of the day indices `lo..hi` holding `rows`.
    pub(crate) fn range<'r>(&self, rows: &'r [Entry], lo: u32, hi: u32) -> Range<'r> {
        Range {
            rows,
            lo,
            hi,
            started: self.calendar.day_start(lo) <= self.as_of,
            closed: self.calendar.day_start(hi) <= self.as_of,
        }
    }

    /// The period `lo..hi` of a block over `range`, with its rows: those that start before
    /// its end and not before its start (the first period also takes any earlier ones), as
    /// [`PeriodWalk`] hands them out.
    fn period_range<'r>(&self, range: Range<'r>, lo: u32, hi: u32) -> Range<'r> {
        let (start, end) = (self.calendar.day_start(lo), self.calendar.day_start(hi));
        let from = if lo == range.lo {
            0
        } else {
            range.rows.partition_point(|r| r.secs < start)
        };
        let to = range.rows.partition_point(|r| r.secs < end).max(from);
        Range {
            rows: range.rows.get(from..to).unwrap_or(&[]),
            lo,
            hi,
            started: start <= self.as_of,
            closed: end <= self.as_of,
        }
    }

    /// `met`, `failed` and `progress` of `node` over `range`.
    pub(crate) fn outcome(&mut self, node: &Node, range: Range<'_>) -> Outcome {
        if !range.started {
            return Outcome::NONE;
        }
        match node {
            Node::All(goals) => {
                let mut all = Combine::default();
                for g in goals {
                    let o = self.outcome(g, range);
                    all.add(o);
                    if self.met_only && !o.met {
                        break;
                    }
                }
                all.all()
            }
            Node::Any(goals) => {
                let mut any = Combine::default();
                for g in goals {
                    let o = self.outcome(g, range);
                    any.add(o);
                    if self.met_only && o.met {
                        break;
                    }
                }
                any.any()
            }
            Node::AtLeast(n, goals) => {
                let base = self.scratch.len();
                let mut c = Combine::default();
                for g in goals {
                    let o = self.outcome(g, range);
                    c.add(o);
                    if self.met_only {
                        // No progress wanted: no N largest to keep.
                        if c.met >= *n {
                            break;
                        }
                    } else {
                        self.scratch.push(o.progress);
                    }
                }
                let top = self.mean_of_largest(base, *n);
                c.at_least(*n, top)
            }
            Node::Every(..) | Node::On(..) | Node::Streak(..) | Node::OneWorkout(_) => {
                self.block(node, range)
            }
            Node::Metric(m) => metric_outcome(m, m.source.value(&self.cx, range.rows), range),
        }
    }

    /// [`Evaluator::outcome`] of a period block or `in one workout` (kept out of
    /// [`Evaluator::outcome`], whose recursion over groups and metrics stays small).
    #[inline(never)]
    fn block(&mut self, node: &Node, range: Range<'_>) -> Outcome {
        match node {
            Node::Every(period, goal)
            | Node::On(_, period, goal)
            | Node::Streak(_, period, goal) => {
                let base = self.scratch.len();
                // Only `on` needs every period's progress (the N largest), and only when
                // progress is wanted; `every` and `streak` keep running figures.
                let keep = matches!(node, Node::On(..)) && !self.met_only;
                let mut stats = PeriodStats::default();
                if let Some(pass) = OnePass::of(node, goal, *period, keep) {
                    self.periods_in_one_pass(&pass, range, &mut stats, &mut ());
                    return self.finish_periods(node, &stats, base);
                }
                let mut walk = PeriodWalk::new(self.calendar, self.as_of, *period, range);
                while let Some(sub) = walk.next() {
                    let o = self.child(goal, sub);
                    stats.add(o, sub.started, sub.closed);
                    if keep {
                        self.scratch.push(o.progress);
                    }
                    // The closed periods without rows that follow have the child's known
                    // figures: added at once instead of one by one.
                    if goal.relevant.is_some() {
                        let skipped = walk.skip_empty_closed();
                        stats.add_many(goal.empty, skipped);
                        if keep {
                            self.scratch
                                .extend(std::iter::repeat_n(goal.empty.progress, skipped as usize));
                        }
                    }
                    if self.met_only && stats.decides(node) {
                        break;
                    }
                }
                self.finish_periods(node, &stats, base)
            }
            Node::OneWorkout(goal) => {
                let mut best = None::<Outcome>;
                for row in range.rows {
                    if !self.cx.counts(row) {
                        continue;
                    }
                    let o = self.workout(goal, row);
                    if best.is_none_or(|b| o.progress > b.progress) {
                        best = Some(o);
                    }
                    if self.met_only && o.met {
                        break;
                    }
                }
                one_workout(best, range)
            }
            Node::All(_) | Node::Any(_) | Node::AtLeast(..) | Node::Metric(_) => {
                self.outcome(node, range)
            }
        }
    }

    /// The child of `in one workout` over the workout `row`: known when no metric of the
    /// child reads it; judged from one pass over it when the child allows
    /// ([`Child::sources`]).
    #[inline]
    fn workout(&mut self, goal: &Child, row: &Entry) -> Outcome {
        let (Some(sources), Some(relevant)) = (&goal.sources, &goal.relevant) else {
            return self.child(goal, single(row));
        };
        // A single workout is a started, closed range: `Child::known`.
        if !relevant.matches(&self.cx, row) {
            return goal.empty;
        }
        self.judge_workout(goal, sources, row)
    }

    /// [`Evaluator::workout`] of a workout that some metric of the child reads.
    #[inline(never)]
    fn judge_workout(&mut self, goal: &Child, sources: &[Source], row: &Entry) -> Outcome {
        let mut accs = [Acc::EMPTY; MAX_SLOTS];
        for (source, acc) in sources.iter().zip(accs.iter_mut()) {
            source.add(&self.cx, row, acc);
        }
        judge(&goal.steps, &accs, single(row))
    }

    /// The periods of a block whose child is judged in one pass ([`Child::sources`]), added
    /// to `stats`: each row that the child reads is fed once to its period's accumulators,
    /// one per metric, and a period is judged from them when a row of a later period (or the
    /// end) comes. Runs of started, closed periods without such rows get the child's known
    /// figures at once ([`Child::empty`], as [`Child::known`] gives them).
    ///
    /// The same figures, in the same order, as walking the child over each period: rows are
    /// sorted by start, so a period's rows are consecutive and each metric adds them in the
    /// same order as its pass over the period would; the rows of other exercises change no
    /// metric.
    ///
    /// `sink` sees every period too (the result tree lists them). A met-only walk stops at
    /// the period that decides the block's `met`.
    fn periods_in_one_pass<S: Sink>(
        &mut self,
        pass: &OnePass<'_>,
        range: Range<'_>,
        stats: &mut PeriodStats,
        sink: &mut S,
    ) {
        let calendar = self.calendar;
        let mut periods = calendar.periods(pass.period, range.lo, range.hi);
        let mut open = Open {
            accs: [Acc::EMPTY; MAX_SLOTS],
            fed: false,
            empty: 0,
        };
        let mut current = periods.next();
        'rows: for row in range.rows {
            if !pass.relevant.matches(&self.cx, row) {
                continue;
            }
            // Close the periods that end at or before the row's start.
            loop {
                let Some((lo, hi)) = current else {
                    // After the last period (never, for rows inside the range).
                    break 'rows;
                };
                if row.secs < calendar.day_start(hi) {
                    break;
                }
                self.close_period(pass, &mut open, lo, hi, stats, sink);
                if self.settled(pass, &mut open, stats, sink) {
                    return;
                }
                current = periods.next();
            }
            for (source, acc) in pass.sources.iter().zip(open.accs.iter_mut()) {
                source.add(&self.cx, row, acc);
            }
            open.fed = true;
        }
        while let Some((lo, hi)) = current {
            self.close_period(pass, &mut open, lo, hi, stats, sink);
            if self.settled(pass, &mut open, stats, sink) {
                return;
            }
            current = periods.next();
        }
        self.add_empty(pass, &mut open, stats, sink);
    }

    /// In a met-only walk, whether the periods closed so far decide the block's `met` (the
    /// walk then stops); the run of empty periods is added first, so each one counts.
    #[inline]
    fn settled<S: Sink>(
        &mut self,
        pass: &OnePass<'_>,
        open: &mut Open,
        stats: &mut PeriodStats,
        sink: &mut S,
    ) -> bool {
        if !self.met_only {
            return false;
        }
        self.add_empty(pass, open, stats, sink);
        stats.decides(pass.block)
    }

    /// Judges the period `lo..hi` from the accumulators of `open` (or counts it in the run of
    /// started, closed periods without rows the child reads), then empties them.
    #[inline]
    fn close_period<S: Sink>(
        &mut self,
        pass: &OnePass<'_>,
        open: &mut Open,
        lo: u32,
        hi: u32,
        stats: &mut PeriodStats,
        sink: &mut S,
    ) {
        let started = self.calendar.day_start(lo) <= self.as_of;
        let closed = self.calendar.day_start(hi) <= self.as_of;
        if !open.fed && started && closed {
            open.empty += 1;
            sink.empty(lo, hi);
        } else {
            let sub = Range {
                // Never read: the metrics' values are in the accumulators.
                rows: &[],
                lo,
                hi,
                started,
                closed,
            };
            self.judge_period(pass, open, sub, stats, sink);
        }
    }

    /// [`Evaluator::close_period`] of a period that is judged.
    #[inline(never)]
    fn judge_period<S: Sink>(
        &mut self,
        pass: &OnePass<'_>,
        open: &mut Open,
        sub: Range<'_>,
        stats: &mut PeriodStats,
        sink: &mut S,
    ) {
        self.add_empty(pass, open, stats, sink);
        let o = judge(&pass.goal.steps, &open.accs, sub);
        stats.add(o, sub.started, sub.closed);
        if pass.keep {
            self.scratch.push(o.progress);
        }
        sink.judged(self.calendar, &sub, o);
        if open.fed {
            for acc in open.accs.iter_mut().take(pass.sources.len()) {
                *acc = Acc::EMPTY;
            }
            open.fed = false;
        }
    }

    /// Adds the run of started, closed periods without rows the child reads.
    fn add_empty<S: Sink>(
        &mut self,
        pass: &OnePass<'_>,
        open: &mut Open,
        stats: &mut PeriodStats,
        sink: &mut S,
    ) {
        if open.empty == 0 {
            return;
        }
        let empty = pass.goal.empty;
        stats.add_many(empty, open.empty);
        if pass.keep {
            self.scratch
                .extend(std::iter::repeat_n(empty.progress, open.empty as usize));
        }
        sink.run(self.calendar, pass.period, open.empty, empty);
        open.empty = 0;
    }

    /// `met`, `failed` and `progress` of a period block's or `in one workout`'s child over
    /// `range`: known in advance when no metric of the child reads the range's rows.
    #[inline]
    fn child(&mut self, child: &Child, range: Range<'_>) -> Outcome {
        match child.known(&self.cx, &range) {
            Some(o) => o,
            None => self.outcome(&child.node, range),
        }
    }

    /// The result tree of `node` over `range`.
    pub(crate) fn detail(&mut self, node: &Node, range: Range<'_>) -> NodeResult {
        let kind = node.kind();
        let (outcome, detail) = match node {
            Node::All(goals) | Node::Any(goals) | Node::AtLeast(_, goals) => {
                let base = self.scratch.len();
                let mut c = Combine::default();
                let mut results = Vec::with_capacity(goals.len());
                for g in goals {
                    let r = self.detail(g, range);
                    c.add(Outcome {
                        met: r.met,
                        failed: r.failed,
                        progress: r.progress,
                    });
                    if matches!(node, Node::AtLeast(..)) {
                        self.scratch.push(r.progress);
                    }
                    results.push(r);
                }
                let outcome = match node {
                    Node::All(_) => c.all(),
                    Node::Any(_) => c.any(),
                    Node::AtLeast(n, _) => {
                        let top = self.mean_of_largest(base, *n);
                        c.at_least(*n, top)
                    }
                    _ => Outcome::NONE,
                };
                self.scratch.truncate(base);
                let count = match node {
                    Node::AtLeast(n, _) => Some(*n),
                    _ => None,
                };
                (
                    outcome,
                    Detail::Goals {
                        count,
                        goals: results,
                    },
                )
            }
            Node::Every(period, goal)
            | Node::On(_, period, goal)
            | Node::Streak(_, period, goal) => {
                let base = self.scratch.len();
                let keep = matches!(node, Node::On(..));
                let mut stats = PeriodStats::default();
                let walk = PeriodWalk::new(self.calendar, self.as_of, *period, range);
                let mut periods = Vec::with_capacity(walk.periods.clone().count());
                let mut shown = None;
                if let Some(pass) = OnePass::of(node, goal, *period, keep) {
                    let mut listing = Listing {
                        periods,
                        shown: None,
                        run_lo: None,
                    };
                    self.periods_in_one_pass(&pass, range, &mut stats, &mut listing);
                    periods = listing.periods;
                    shown = listing
                        .shown
                        .map(|(lo, hi)| self.period_range(range, lo, hi));
                } else {
                    for sub in walk {
                        let o = self.child(goal, sub);
                        stats.add(o, sub.started, sub.closed);
                        if keep {
                            self.scratch.push(o.progress);
                        }
                        periods.push(PeriodResult {
                            start: self.calendar.date(sub.lo),
                            met: o.met,
                            progress: o.progress,
                        });
                        if sub.started || shown.is_none() {
                            shown = Some(sub);
                        }
                    }
                }
                let outcome = self.finish_periods(node, &stats, base);
                let shown = shown.unwrap_or(Range { rows: &[], ..range });
                let child = self.detail(&goal.node, shown);
                let runs =
                    matches!(node, Node::Streak(..)).then(|| (stats.longest_met, stats.current()));
                (
                    outcome,
                    Detail::Periods {
                        period: *period,
                        count: match node {
                            Node::On(n, ..) | Node::Streak(n, ..) => Some(*n),
                            _ => None,
                        },
                        periods,
                        runs,
                        goal: Box::new(child),
                    },
                )
            }
            Node::OneWorkout(goal) => {
                let mut best = None::<(Outcome, &Entry)>;
                for row in range.rows {
                    if !self.cx.counts(row) {
                        continue;
                    }
                    let o = self.workout(goal, row);
                    if best.is_none_or(|(b, _)| o.progress > b.progress) {
                        best = Some((o, row));
                    }
                }
                let child = match best {
                    Some((_, row)) => self.detail(&goal.node, single(row)),
                    // No workout: the child over nothing, as a range that has not started.
                    None => self.detail(
                        &goal.node,
                        Range {
                            rows: &[],
                            started: false,
                            closed: false,
                            ..range
                        },
                    ),
                };
                (
                    one_workout(best.map(|(o, _)| o), range),
                    Detail::OneWorkout(Box::new(child)),
                )
            }
            Node::Metric(m) => {
                let value = m.source.value(&self.cx, range.rows);
                (
                    metric_outcome(m, value, range),
                    Detail::Metric {
                        value: value.map(|v| Amount {
                            value: v,
                            unit: m.unit,
                        }),
                        op: m.op,
                        target: Amount {
                            value: m.target,
                            unit: m.unit,
                        },
                    },
                )
            }
        };
        let outcome = if range.started {
            outcome
        } else {
            Outcome::NONE
        };
        NodeResult {
            kind,
            met: outcome.met,
            failed: outcome.failed,
            progress: outcome.progress,
            detail,
        }
    }

    /// The mean of the `n` largest values pushed on the scratch stack since `base` (missing
    /// ones count 0); pops them.
    fn mean_of_largest(&mut self, base: usize, n: u64) -> f64 {
        let mean = mean_of_largest(self.scratch.get_mut(base..).unwrap_or(&mut []), n);
        self.scratch.truncate(base);
        mean
    }

    fn finish_periods(&mut self, node: &Node, stats: &PeriodStats, base: usize) -> Outcome {
        match node {
            Node::Every(..) => {
                self.scratch.truncate(base);
                let met = stats.count > 0 && stats.met == stats.count;
                let progress = if stats.count == 0 {
                    0.0
                } else {
                    stats.progress_sum / f64::from(stats.count)
                };
                Outcome::new(met, stats.any_failed, progress)
            }
            Node::On(n, ..) => {
                let progress = self.mean_of_largest(base, *n);
                Outcome::new(
                    u64::from(stats.met) >= *n,
                    u64::from(stats.unfailed) < *n,
                    progress,
                )
            }
            Node::Streak(n, ..) => {
                self.scratch.truncate(base);
                let longest = u64::from(stats.longest_met);
                Outcome::new(
                    longest >= *n,
                    u64::from(stats.longest_unfailed) < *n,
                    longest as f64 / *n as f64,
                )
            }
            _ => {
                self.scratch.truncate(base);
                Outcome::NONE
            }
        }
    }
}

/// A period block's child judged in one pass.
struct OnePass<'g> {
    /// The block.
    block: &'g Node,
    goal: &'g Child,
    /// [`Child::sources`].
    sources: &'g [Source],
    /// [`Child::relevant`].
    relevant: &'g Selector,
    /// The block's period.
    period: Period,
    /// Whether every period's progress goes on the scratch stack (`on`).
    keep: bool,
}

impl<'g> OnePass<'g> {
    /// The block's child judged in one pass, when it allows ([`Child::sources`]).
    fn of(block: &'g Node, goal: &'g Child, period: Period, keep: bool) -> Option<OnePass<'g>> {
        match (&goal.sources, &goal.relevant) {
            (Some(sources), Some(relevant)) => Some(OnePass {
                block,
                goal,
                sources,
                relevant,
                period,
                keep,
            }),
            _ => None,
        }
    }
}

/// What a one-pass walk does with each period besides adding it to the stats: nothing for a
/// summary (`()`), a [`Listing`] for the result tree.
trait Sink {
    /// The period `sub` was judged `o`.
    fn judged(&mut self, calendar: &Calendar, sub: &Range<'_>, o: Outcome);
    /// The period `lo..hi` is started, closed and holds no row the child reads (it joins
    /// the run added next).
    fn empty(&mut self, lo: u32, hi: u32);
    /// The run of `k` such periods was added with the outcome `o`.
    fn run(&mut self, calendar: &Calendar, period: Period, k: u32, o: Outcome);
}

impl Sink for () {
    #[inline]
    fn judged(&mut self, _: &Calendar, _: &Range<'_>, _: Outcome) {}

    #[inline]
    fn empty(&mut self, _: u32, _: u32) {}

    #[inline]
    fn run(&mut self, _: &Calendar, _: Period, _: u32, _: Outcome) {}
}

/// The periods of a block as the result tree shows them.
struct Listing {
    periods: Vec<PeriodResult>,
    /// The latest started period (the first when none has started).
    shown: Option<(u32, u32)>,
    /// The first day of the run of empty periods not yet listed.
    run_lo: Option<u32>,
}

impl Sink for Listing {
    fn judged(&mut self, calendar: &Calendar, sub: &Range<'_>, o: Outcome) {
        self.periods.push(PeriodResult {
            start: calendar.date(sub.lo),
            met: o.met,
            progress: o.progress,
        });
        if sub.started || self.shown.is_none() {
            self.shown = Some((sub.lo, sub.hi));
        }
    }

    fn empty(&mut self, lo: u32, hi: u32) {
        self.run_lo.get_or_insert(lo);
        self.shown = Some((lo, hi));
    }

    fn run(&mut self, calendar: &Calendar, period: Period, k: u32, o: Outcome) {
        let Some(lo) = self.run_lo.take() else {
            return;
        };
        for (lo, _) in calendar.periods(period, lo, u32::MAX).take(k as usize) {
            self.periods.push(PeriodResult {
                start: calendar.date(lo),
                met: o.met,
                progress: o.progress,
            });
        }
    }
}

/// The state of a one-pass walk: the current period's accumulators and the run of empty
/// periods not yet added.
struct Open {
    accs: [Acc; MAX_SLOTS],
    /// Some row of the current period was fed.
    fed: bool,
    /// Started, closed periods without rows the child reads, not yet added.
    empty: u32,
}

/// [`Evaluator::outcome`] of a child judged in one pass, from the accumulators its
/// metrics were fed the range's rows in ([`MetricNode::slot`]): the child's `steps`
/// ([`Child::steps`]) run on a stack instead of a walk of its tree. The same figures, in
/// the same order.
#[inline]
fn judge(steps: &[Step], accs: &[Acc], range: Range<'_>) -> Outcome {
    if !range.started {
        return Outcome::NONE;
    }
    match steps {
        // A lone metric (the usual child of `streak` and `every`): no stack.
        [Step::Metric(m)] => judge_metric(m, accs, range),
        _ => judge_steps(steps, accs, range),
    }
}

/// The outcome of the metric `m` from its accumulator.
#[inline]
fn judge_metric(m: &MetricNode, accs: &[Acc], range: Range<'_>) -> Outcome {
    let acc = accs.get(m.slot).copied().unwrap_or(Acc::EMPTY);
    metric_outcome(m, m.source.finish(acc), range)
}

/// [`judge`] of any steps, on a stack.
#[inline(never)]
fn judge_steps(steps: &[Step], accs: &[Acc], range: Range<'_>) -> Outcome {
    let mut stack = [Outcome::NONE; MAX_SLOTS];
    let mut top = 0;
    for step in steps {
        let o = match *step {
            Step::Metric(ref m) => judge_metric(m, accs, range),
            Step::All(k) => Combine::of(pop(&stack, &mut top, k)).all(),
            Step::Any(k) => Combine::of(pop(&stack, &mut top, k)).any(),
            Step::AtLeast(n, k) => {
                let goals = pop(&stack, &mut top, k);
                let mut progress = [0.0; MAX_SLOTS];
                for (p, o) in progress.iter_mut().zip(goals) {
                    *p = o.progress;
                }
                let largest = progress.get_mut(..goals.len()).unwrap_or(&mut []);
                Combine::of(goals).at_least(n, mean_of_largest(largest, n))
            }
        };
        if let Some(slot) = stack.get_mut(top) {
            *slot = o;
            top += 1;
        }
    }
    stack[0]
}

/// The last `k` outcomes of the stack below `top`, popped.
fn pop<'s>(stack: &'s [Outcome], top: &mut usize, k: usize) -> &'s [Outcome] {
    let from = top.saturating_sub(k);
    let popped = stack.get(from..*top).unwrap_or(&[]);
    *top = from;
    popped
}

/// The mean of the `n` largest of `values` (missing ones count 0); sorts them.
fn mean_of_largest(values: &mut [f64], n: u64) -> f64 {
    if n == 0 {
        return 0.0;
    }
    values.sort_unstable_by(|a, b| b.total_cmp(a));
    let take = usize::try_from(n).unwrap_or(usize::MAX);
    let sum: f64 = values.iter().take(take).sum();
    sum / n as f64
}

/// A range holding one workout: started and closed (language.md §8: each workout is a
/// closed range).
fn single(row: &Entry) -> Range<'_> {
    Range {
        rows: std::slice::from_ref(row),
        // No period block stands inside `in one workout`: the days are never read.
        lo: 0,
        hi: 0,
        started: true,
        closed: true,
    }
}

fn one_workout(best: Option<Outcome>, range: Range<'_>) -> Outcome {
    let (met, progress) = best.map_or((false, 0.0), |b| (b.met, b.progress));
    Outcome::new(met, range.closed && !met, progress)
}

/// The table of language.md §8 for comparison goals.
#[inline]
fn metric_outcome(m: &MetricNode, value: Option<f64>, range: Range<'_>) -> Outcome {
    let target = m.target;
    let within = value.is_some_and(|v| match m.op {
        GoalOp::Ge => approx_ge(v, target),
        GoalOp::Le => approx_le(v, target),
    });
    match m.judgement {
        Judgement::Achievement | Judgement::Average => {
            let progress = match (value, m.op) {
                (None, _) => 0.0,
                (Some(v), GoalOp::Ge) => {
                    if target <= 0.0 {
                        1.0
                    } else {
                        v / target
                    }
                }
                (Some(v), GoalOp::Le) => {
                    if target <= 0.0 {
                        0.0
                    } else {
                        target / v
                    }
                }
            };
            Outcome::new(within, range.closed && !within, progress)
        }
        Judgement::Limit => {
            let met = range.closed && within;
            let broken = value.is_some() && !within;
            Outcome::new(met, broken || (range.closed && !met), 0.0)
        }
    }
}

/// Running figures of a group's children.
#[derive(Default)]
struct Combine {
    n: u64,
    met: u64,
    failed: u64,
    progress_sum: f64,
    progress_max: f64,
}

impl Combine {
    /// The figures of `goals`.
    fn of(goals: &[Outcome]) -> Combine {
        let mut c = Combine::default();
        for &o in goals {
            c.add(o);
        }
        c
    }

    fn add(&mut self, o: Outcome) {
        self.n += 1;
        self.met += u64::from(o.met);
        self.failed += u64::from(o.failed);
        self.progress_sum += o.progress;
        self.progress_max = self.progress_max.max(o.progress);
    }

    fn all(&self) -> Outcome {
        let progress = if self.n == 0 {
            0.0
        } else {
            self.progress_sum / self.n as f64
        };
        Outcome::new(self.n > 0 && self.met == self.n, self.failed > 0, progress)
    }

    fn any(&self) -> Outcome {
        Outcome::new(
            self.met > 0,
            self.n > 0 && self.failed == self.n,
            self.progress_max,
        )
    }

    fn at_least(&self, n: u64, top_mean: f64) -> Outcome {
        Outcome::new(
            self.met >= n,
            self.failed > self.n.saturating_sub(n),
            top_mean,
        )
    }
}

/// Running figures of a period block's periods.
#[derive(Default)]
struct PeriodStats {
    count: u32,
    met: u32,
    unfailed: u32,
    any_failed: bool,
    progress_sum: f64,
    /// Consecutive met periods ending at the last one seen.
    met_run: u32,
    longest_met: u32,
    unfailed_run: u32,
    longest_unfailed: u32,
    /// For the latest started period: (met, closed, the met run ending just before it,
    /// the met run ending at it).
    latest: Option<(bool, bool, u32, u32)>,
}

impl PeriodStats {
    fn add(&mut self, o: Outcome, started: bool, closed: bool) {
        self.count += 1;
        self.met += u32::from(o.met);
        self.unfailed += u32::from(!o.failed);
        self.any_failed |= o.failed;
        self.progress_sum += o.progress;
        let before = self.met_run;
        self.met_run = if o.met { self.met_run + 1 } else { 0 };
        self.longest_met = self.longest_met.max(self.met_run);
        self.unfailed_run = if o.failed { 0 } else { self.unfailed_run + 1 };
        self.longest_unfailed = self.longest_unfailed.max(self.unfailed_run);
        if started {
            self.latest = Some((o.met, closed, before, self.met_run));
        }
    }

    /// `add(o, true, true)` `k` times, with the same figures (the same floating-point sums).
    fn add_many(&mut self, o: Outcome, k: u32) {
        let Some(bulk) = k.checked_sub(1) else {
            return;
        };
        if bulk > 0 {
            self.count += bulk;
            self.met += if o.met { bulk } else { 0 };
            self.unfailed += if o.failed { 0 } else { bulk };
            self.any_failed |= o.failed;
            if o.progress == 0.0 {
                // x + 0 + 0 + ... is x + 0: one addition gives the same bits.
                self.progress_sum += o.progress;
            } else {
                for _ in 0..bulk {
                    self.progress_sum += o.progress;
                }
            }
            self.met_run = if o.met { self.met_run + bulk } else { 0 };
            self.longest_met = self.longest_met.max(self.met_run);
            self.unfailed_run = if o.failed {
                0
            } else {
                self.unfailed_run + bulk
            };
            self.longest_unfailed = self.longest_unfailed.max(self.unfailed_run);
        }
        self.add(o, true, true);
    }

    /// Whether the periods added so far decide `met` of the block `node`: a period not met
    /// under `every`, N met under `on N`, N met in a row under `streak N`.
    fn decides(&self, node: &Node) -> bool {
        match node {
            Node::Every(..) => self.met < self.count,
            Node::On(n, ..) => u64::from(self.met) >= *n,
            Node::Streak(n, ..) => u64::from(self.longest_met) >= *n,
            _ => false,
        }
    }

    /// The run of met periods ending at the latest started period, or at the one before it
    /// while the latest is open and not yet met.
    fn current(&self) -> u32 {
        match self.latest {
            None => 0,
            Some((true, _, _, at)) => at,
            Some((false, false, before, _)) => before,
            Some((false, true, _, _)) => 0,
        }
    }
}

/// Walks the periods of a range, handing out each period's sub-range: rows are sorted by
/// start, so each period's rows are the next run of the slice (those starting before the
/// period's end).
struct PeriodWalk<'c, 'r> {
    calendar: &'c Calendar,
    as_of: i64,
    periods: super::calendar::Periods<'c>,
    rows: &'r [Entry],
}

impl<'c, 'r> PeriodWalk<'c, 'r> {
    fn new(calendar: &'c Calendar, as_of: i64, period: Period, range: Range<'r>) -> Self {
        PeriodWalk {
            calendar,
            as_of,
            periods: calendar.periods(period, range.lo, range.hi),
            rows: range.rows,
        }
    }

    /// Skips the periods that come next while they are closed and hold no rows; returns how
    /// many.
    fn skip_empty_closed(&mut self) -> u32 {
        let mut skipped = 0;
        loop {
            let mut ahead = self.periods.clone();
            let Some((_, hi)) = ahead.next() else {
                return skipped;
            };
            let end = self.calendar.day_start(hi);
            if end > self.as_of || self.rows.first().is_some_and(|r| r.secs < end) {
                return skipped;
            }
            self.periods = ahead;
            skipped += 1;
        }
    }
}

impl<'r> Iterator for PeriodWalk<'_, 'r> {
    type Item = Range<'r>;

    fn next(&mut self) -> Option<Range<'r>> {
        let (lo, hi) = self.periods.next()?;
        let end = self.calendar.day_start(hi);
        let n = self.rows.iter().take_while(|r| r.secs < end).count();
        let (inside, rest) = self.rows.split_at(n.min(self.rows.len()));
        self.rows = rest;
        Some(Range {
            rows: inside,
            lo,
            hi,
            started: self.calendar.day_start(lo) <= self.as_of,
            closed: end <= self.as_of,
        })
    }
}
