//! Metrics over a range of workouts: selectors, conditions and aggregates (language.md §4).
//!
//! The plan resolves every name once: exercises, gyms and machines that a challenge mentions
//! are interned into small integer ids ([`Names`]), a selector becomes a bitset over exercise
//! ids, and a condition becomes a [`Cond`] tree of enums with canonical values. A metric is a
//! single pass over a slice of a user's prepared workouts ([`Entry`]), reading the plan's ids
//! of their names through the evaluation's [`Cx`].
//!
//! **Invariant:** a metric's value is finite or undefined (`None`), never an infinity or NaN.
//! A missing value makes every comparison false (`!=` too); `not` simply negates; a set-level condition is tested per set and a workout (or day) matches when at
//! least one of its sets does. Comparisons use the tolerance of [`crate::units`]. Nothing here
//! reads a clock.

use rustc_hash::FxHashMap;

use super::prepared::{Cx, Entry, SetEntry};
use crate::tree::{Aggregate, CmpOp};
use crate::units::{approx_eq, approx_ge, approx_le};
use crate::vocab::{CountUnit, Level, Measure};

/// The id of a name the plan does not know (a workout's gym that no condition mentions).
pub(crate) const OTHER: u32 = u32::MAX - 1;
/// The id of an absent value (a workout without `gym` or `machine`).
pub(crate) const MISSING: u32 = u32::MAX;

/// Above this many names, lookups go through a hash map; below, a linear scan (comparing
/// lengths first) beats hashing the workout's string.
const SCAN_LIMIT: usize = 16;

/// Interned names of one kind (exercises, gyms or machines) with dense ids from 0.
#[derive(Clone, Debug, Default)]
pub(crate) struct Names {
    /// Names in id order.
    list: Vec<Box<str>>,
    /// [`key`] of each name, in id order: a linear scan compares these first.
    keys: Vec<Key>,
    /// The same, by name, once there are more than [`SCAN_LIMIT`].
    /// The Fx hash (rustc's): plan keys are a handful of short ids, so SipHash's flooding
    /// resistance buys nothing here.
    ids: FxHashMap<Box<str>, u32>,
}

impl Names {
    /// The id of `name`, adding it when new.
    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        let id = self.get(name);
        if id != OTHER {
            return id;
        }
        let id = u32::try_from(self.list.len())
            .unwrap_or(OTHER)
            .min(OTHER - 1);
        self.list.push(name.into());
        self.keys.push(key(name));
        self.ids.insert(name.into(), id);
        id
    }

    /// The id of `name`: [`OTHER`] when the plan never mentions it.
    #[inline]
    pub(crate) fn get(&self, name: &str) -> u32 {
        if self.list.len() > SCAN_LIMIT {
            return self.ids.get(name).copied().unwrap_or(OTHER);
        }
        // Keys as integers first; the bytes only for names longer than the key holds.
        self.get_keyed(key(name), name)
    }

    /// The id of `name`, whose [`key`] is `wanted`: [`OTHER`] when the plan never mentions it.
    #[inline]
    pub(crate) fn get_keyed(&self, wanted: Key, name: &str) -> u32 {
        if self.list.len() > SCAN_LIMIT {
            return self.ids.get(name).copied().unwrap_or(OTHER);
        }
        self.keys
            .iter()
            .zip(&self.list)
            .position(|(k, n)| same_name(*k, n, wanted, name))
            .map_or(OTHER, |i| i as u32)
    }

    /// The id of an optional value: [`MISSING`] when absent.
    #[cfg(test)]
    pub(crate) fn get_opt(&self, name: Option<&str>) -> u32 {
        name.map_or(MISSING, |n| self.get(n))
    }

    /// How many names.
    pub(crate) fn len(&self) -> usize {
        self.list.len()
    }
}

/// Up to this many bytes, a name is decided by its [`Key`] alone.
pub(crate) const KEY_BYTES: usize = 16;

/// A name's length and two words of its bytes: the first and the last 8 (overlapping when
/// shorter than 16), the first and last 4 below 8 bytes, every byte below 4. Equal names have
/// equal keys, and names of at most [`KEY_BYTES`] bytes are equal exactly when their keys are.
pub(crate) type Key = (usize, u64, u64);

/// The [`Key`] of `name`: two loads, no call.
#[inline]
pub(crate) fn key(name: &str) -> Key {
    let b = name.as_bytes();
    let (head, tail) = if let (Some(f), Some(l)) = (b.first_chunk::<8>(), b.last_chunk::<8>()) {
        (u64::from_le_bytes(*f), u64::from_le_bytes(*l))
    } else if let (Some(f), Some(l)) = (b.first_chunk::<4>(), b.last_chunk::<4>()) {
        (
            u64::from(u32::from_le_bytes(*f)),
            u64::from(u32::from_le_bytes(*l)),
        )
    } else {
        let mut head = 0u64;
        for (i, &x) in b.iter().enumerate() {
            head |= u64::from(x) << (8 * i);
        }
        (head, 0)
    };
    (b.len(), head, tail)
}

/// Whether `name` (whose key is `name_key`) equals `other`, which has the key `other_key`.
#[inline]
pub(crate) fn same_name(name_key: Key, name: &str, other_key: Key, other: &str) -> bool {
    name_key == other_key && (name.len() <= KEY_BYTES || name == other)
}

/// A set of small ids.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IdSet {
    words: Vec<u64>,
}

impl IdSet {
    /// Adds an id.
    pub(crate) fn insert(&mut self, id: u32) {
        let word = (id / 64) as usize;
        if self.words.len() <= word {
            self.words.resize(word + 1, 0);
        }
        if let Some(w) = self.words.get_mut(word) {
            *w |= 1 << (id % 64);
        }
    }

    /// Adds every id of `other`.
    pub(crate) fn union_with(&mut self, other: &IdSet) {
        if self.words.len() < other.words.len() {
            self.words.resize(other.words.len(), 0);
        }
        for (w, o) in self.words.iter_mut().zip(&other.words) {
            *w |= *o;
        }
    }

    /// Whether the id is in the set ([`OTHER`] and [`MISSING`] never are).
    #[inline]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.words
            .get((id / 64) as usize)
            .is_some_and(|w| w >> (id % 64) & 1 == 1)
    }
}

/// Which exercises a metric reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Selector {
    /// `of` omitted or `[]`: every workout, also of exercises outside the catalog.
    Any,
    /// These exercise ids.
    Only(IdSet),
}

impl Selector {
    /// Whether the selector takes the entry and the entry counts (the gym filter).
    #[inline]
    pub(crate) fn matches(&self, cx: &Cx<'_>, row: &Entry) -> bool {
        cx.counts(row)
            && match self {
                Selector::Any => true,
                Selector::Only(set) => set.contains(cx.exercise(row)),
            }
    }
}

/// A numeric field of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NumField {
    /// A measure (set-level ones read the set under test).
    Measure(Measure),
    /// The local start hour.
    Hour,
}

/// A string field of a condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameField {
    /// The exercise id.
    Exercise,
    /// The gym.
    Gym,
    /// The machine.
    Machine,
}

/// A compiled condition: no closures, no strings, canonical values.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Cond {
    /// All terms hold.
    And(Vec<Cond>),
    /// Some term holds.
    Or(Vec<Cond>),
    /// The term does not hold.
    Not(Box<Cond>),
    /// `FIELD OP VALUE` on a canonical value.
    Num {
        /// The field.
        field: NumField,
        /// The operator.
        op: CmpOp,
        /// Canonical value.
        value: f64,
    },
    /// `FIELD in (VALUES)` on canonical values.
    NumIn {
        /// The field.
        field: NumField,
        /// Canonical values.
        values: Vec<f64>,
    },
    /// `FIELD == "x"`, `FIELD != "x"`, `FIELD in ("x", "y")` on a string field.
    Name {
        /// The field.
        field: NameField,
        /// Interned ids of the values.
        ids: Vec<u32>,
        /// True for `!=`.
        negate: bool,
    },
    /// `weekday == mon`, `!=`, `in (...)`; bit 0 is Monday.
    Weekday {
        /// The weekdays listed.
        mask: u8,
        /// True for `!=`.
        negate: bool,
    },
}

impl Cond {
    /// Whether the condition reads a set-level field (and so is tested per set).
    pub(crate) fn reads_sets(&self) -> bool {
        match self {
            Cond::And(terms) | Cond::Or(terms) => terms.iter().any(Cond::reads_sets),
            Cond::Not(term) => term.reads_sets(),
            Cond::Num { field, .. } | Cond::NumIn { field, .. } => {
                matches!(field, NumField::Measure(m) if m.level() == Level::Set)
            }
            Cond::Name { .. } | Cond::Weekday { .. } => false,
        }
    }

    /// Whether the condition holds for `row` (and `set`, for set-level fields).
    pub(crate) fn test(&self, cx: &Cx<'_>, row: &Entry, set: Option<&SetEntry>) -> bool {
        match self {
            Cond::And(terms) => terms.iter().all(|t| t.test(cx, row, set)),
            Cond::Or(terms) => terms.iter().any(|t| t.test(cx, row, set)),
            Cond::Not(term) => !term.test(cx, row, set),
            Cond::Num { field, op, value } => {
                num_field(cx, *field, row, set).is_some_and(|v| compare(v, *op, *value))
            }
            Cond::NumIn { field, values } => num_field(cx, *field, row, set)
                .is_some_and(|v| values.iter().any(|&x| approx_eq(v, x))),
            Cond::Name { field, ids, negate } => {
                let id = match field {
                    NameField::Exercise => cx.exercise(row),
                    NameField::Gym => cx.gym(row),
                    NameField::Machine => cx.machine(row),
                };
                id != MISSING && ids.contains(&id) != *negate
            }
            Cond::Weekday { mask, negate } => (mask >> cx.weekday(row) & 1 == 1) != *negate,
        }
    }

    /// Whether a workout matches: tested on the workout, or per set when the condition reads
    /// a set-level field (then some set must match).
    fn test_workout(&self, cx: &Cx<'_>, row: &Entry, per_set: bool) -> bool {
        if per_set {
            cx.sets(row).iter().any(|s| self.test(cx, row, Some(s)))
        } else {
            self.test(cx, row, None)
        }
    }
}

/// `a OP b` with the tolerance of language.md §4.
#[inline]
pub(crate) fn compare(a: f64, op: CmpOp, b: f64) -> bool {
    match op {
        CmpOp::Eq => approx_eq(a, b),
        CmpOp::Ne => !approx_eq(a, b),
        CmpOp::Lt => a < b && !approx_eq(a, b),
        CmpOp::Le => approx_le(a, b),
        CmpOp::Gt => a > b && !approx_eq(a, b),
        CmpOp::Ge => approx_ge(a, b),
    }
}

fn num_field(cx: &Cx<'_>, field: NumField, row: &Entry, set: Option<&SetEntry>) -> Option<f64> {
    match field {
        NumField::Hour => Some(f64::from(cx.hour(row))),
        NumField::Measure(m) => match m.level() {
            Level::Set => set.and_then(|s| set_value(m, s)),
            Level::Workout => workout_value(m, row),
        },
    }
}

/// The value of a set-level measure for one set (`None` for workout-level measures).
#[inline]
pub(crate) fn set_value(measure: Measure, set: &SetEntry) -> Option<f64> {
    match measure {
        Measure::Reps => Some(f64::from(set.reps)),
        Measure::Weight => set.load,
        Measure::Volume => set.load.map(|w| w * f64::from(set.reps)),
        _ => None,
    }
}

/// The value of a workout-level measure (`None` when the workout has none, and for
/// set-level measures).
#[inline]
pub(crate) fn workout_value(measure: Measure, w: &Entry) -> Option<f64> {
    match measure {
        Measure::Duration => Some(w.duration),
        Measure::Distance => w.distance_m,
        Measure::Speed => match w.distance_m {
            Some(d) if w.duration > 0.0 => Some(d / w.duration),
            _ => None,
        },
        Measure::Calories => w.calories_kcal,
        Measure::HeartRate => w.avg_hr_bpm,
        Measure::Incline => w.incline_pct,
        Measure::Reps | Measure::Weight | Measure::Volume => None,
    }
}

/// What a metric aggregates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Quantity {
    /// `count(workouts|sets|days ...)`.
    Count(CountUnit),
    /// `sum|max|min|avg(MEASURE ...)`.
    Measure(Measure),
}

/// `AGG(WHAT of SELECTOR where COND)`: everything but the comparison.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Source {
    /// The aggregate.
    pub(crate) aggregate: Aggregate,
    /// What it aggregates.
    pub(crate) quantity: Quantity,
    /// Which exercises.
    pub(crate) selector: Selector,
    /// The condition after `where`.
    pub(crate) cond: Option<Cond>,
    /// Whether `cond` reads a set-level field.
    pub(crate) cond_per_set: bool,
}

/// Running totals of one metric over the rows fed to it so far ([`Source::add`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Acc {
    sum: f64,
    n: u64,
    min: f64,
    max: f64,
    /// `count(days)`: the day of the last counted row.
    last_day: Option<u32>,
}

impl Acc {
    /// No rows.
    pub(crate) const EMPTY: Acc = Acc {
        sum: 0.0,
        n: 0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        last_day: None,
    };

    #[inline]
    fn add(&mut self, v: f64) {
        self.sum += v;
        self.n += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    fn finish(self, aggregate: Aggregate) -> Option<f64> {
        match aggregate {
            Aggregate::Sum => Some(self.sum),
            Aggregate::Count => Some(self.n as f64),
            _ if self.n == 0 => None,
            Aggregate::Max => Some(self.max),
            Aggregate::Min => Some(self.min),
            Aggregate::Avg => Some(self.sum / self.n as f64),
        }
    }
}

impl Source {
    /// The metric's value over `rows` (sorted by start); `None` when undefined.
    pub(crate) fn value(&self, cx: &Cx<'_>, rows: &[Entry]) -> Option<f64> {
        let mut acc = Acc::EMPTY;
        for row in rows {
            self.add(cx, row, &mut acc);
        }
        self.finish(acc)
    }

    /// Feeds one row (rows come in start order): what [`Source::value`] adds for it. A row
    /// the selector does not take (or the gym filter drops) changes nothing.
    #[inline(always)]
    pub(crate) fn add(&self, cx: &Cx<'_>, row: &Entry, acc: &mut Acc) {
        if !self.selector.matches(cx, row) {
            return;
        }
        match self.quantity {
            Quantity::Count(CountUnit::Workouts) => {
                if self.workout_matches(cx, row) {
                    acc.add(1.0);
                }
            }
            Quantity::Count(CountUnit::Days) => {
                let day = cx.day(row);
                if acc.last_day != Some(day) && self.workout_matches(cx, row) {
                    acc.last_day = Some(day);
                    acc.n += 1;
                }
            }
            Quantity::Count(CountUnit::Sets) => {
                acc.n += self.matching_sets(cx, row).count() as u64;
            }
            Quantity::Measure(m) if m.level() == Level::Set => {
                for set in self.matching_sets(cx, row) {
                    if let Some(v) = set_value(m, set) {
                        acc.add(v);
                    }
                }
            }
            Quantity::Measure(m) => {
                if self.workout_matches(cx, row) {
                    if let Some(v) = workout_value(m, row) {
                        acc.add(v);
                    }
                }
            }
        }
    }

    /// The value of the rows fed to `acc`; `None` when undefined, and when it is not finite
    /// (a sum that overflowed, an infinite or NaN measure of a workout built in code): an
    /// undefined value meets no goal and is written as `null`, never as a number that is not
    /// one. (The record readers' bounds keep accepted records far from overflowing; this is
    /// the defence in depth, checked once per value, not per row.)
    #[inline]
    pub(crate) fn finish(&self, acc: Acc) -> Option<f64> {
        match self.quantity {
            Quantity::Count(_) => Some(acc.n as f64),
            Quantity::Measure(_) => acc.finish(self.aggregate).filter(|v| v.is_finite()),
        }
    }

    #[inline]
    fn workout_matches(&self, cx: &Cx<'_>, row: &Entry) -> bool {
        self.cond
            .as_ref()
            .is_none_or(|c| c.test_workout(cx, row, self.cond_per_set))
    }

    /// The sets of a selected workout that the condition admits.
    fn matching_sets<'r>(
        &'r self,
        cx: &'r Cx<'_>,
        row: &'r Entry,
    ) -> impl Iterator<Item = &'r SetEntry> + 'r {
        // A workout-level condition is tested once for all the workout's sets.
        let whole = match &self.cond {
            Some(c) if !self.cond_per_set => c.test(cx, row, None),
            _ => true,
        };
        let per_set = if self.cond_per_set {
            self.cond.as_ref()
        } else {
            None
        };
        let sets = if whole { cx.sets(row) } else { &[] };
        sets.iter()
            .filter(move |s| per_set.is_none_or(|c| c.test(cx, row, Some(s))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_use_the_tolerance() {
        assert!(compare(30.0 - 1e-12, CmpOp::Ge, 30.0));
        assert!(compare(30.0 - 1e-12, CmpOp::Eq, 30.0));
        assert!(!compare(30.0 - 1e-12, CmpOp::Lt, 30.0));
        assert!(!compare(30.0 + 1e-12, CmpOp::Gt, 30.0));
        assert!(compare(30.0 + 1e-12, CmpOp::Le, 30.0));
        assert!(!compare(30.0, CmpOp::Ne, 30.0 + 1e-12));
        assert!(compare(29.0, CmpOp::Lt, 30.0));
        assert!(compare(10.0 * 0.45359237, CmpOp::Eq, 4.5359237));
    }

    #[test]
    fn id_sets_hold_large_ids_and_never_other() {
        let mut s = IdSet::default();
        s.insert(3);
        s.insert(130);
        assert!(s.contains(3) && s.contains(130));
        assert!(!s.contains(4) && !s.contains(OTHER) && !s.contains(MISSING));
    }

    #[test]
    fn many_names_go_through_the_map() {
        let mut n = Names::default();
        for i in 0..40 {
            assert_eq!(n.intern(&format!("ex_{i}")), i);
        }
        assert_eq!(n.get("ex_33"), 33);
        assert_eq!(n.get("ex_40"), OTHER);
        assert_eq!(n.intern("ex_7"), 7);
        assert_eq!(n.len(), 40);
    }

    #[test]
    fn keys_decide_short_names_and_long_ones_compare_bytes() {
        let names = [
            "",
            "a",
            "ab",
            "abc",
            "abd",
            "abcd",
            "abce",
            "abcdefg",
            "abcdefh",
            "bbcdefg",
            "abcdefgh",
            "abcdefgi",
            "leg_press",
            "leg_presz",
            "stair_climber",
            "stair_climbes",
            "abcdefghijklmnop",
            "abcdefghijklmnoq",
            "abcdefghXjklmnopqrstuvwx",
            "abcdefghYjklmnopqrstuvwx",
            "é",
            "\0",
            "\0\0",
        ];
        let mut n = Names::default();
        for (i, name) in names.iter().enumerate() {
            assert_eq!(n.intern(name), i as u32, "{name:?}");
        }
        for (i, a) in names.iter().enumerate() {
            assert_eq!(n.get(a), i as u32, "{a:?}");
            for b in names {
                assert_eq!(same_name(key(a), a, key(b), b), *a == b, "{a:?} {b:?}");
            }
        }
        assert_eq!(n.get("abcdefghZjklmnopqrstuvwx"), OTHER);
    }

    #[test]
    fn names_are_dense_and_unknown_is_other() {
        let mut n = Names::default();
        assert_eq!(n.intern("gym-01"), 0);
        assert_eq!(n.intern("gym-02"), 1);
        assert_eq!(n.intern("gym-01"), 0);
        assert_eq!(n.get("gym-09"), OTHER);
        assert_eq!(n.get_opt(None), MISSING);
        assert_eq!(n.len(), 2);
    }
}
