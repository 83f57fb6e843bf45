//! The prepared form of one user's workouts: built once (when the workouts are loaded or
//! saved), then evaluated by any number of plans, in any time zone, without allocating.
//!
//! ```text
//! &[Workout] ──Prepared::new──► Prepared ──evaluate_prepared(plan, user, &prepared, as_of)──► EvalResult
//!  (records)     (once per user)  (sorted, flat)   summarize_prepared(...) ──────────────────► Summary
//! ```
//!
//! A [`Prepared`] holds the workouts sorted by start (then id, then end), each as an [`Entry`]:
//! epoch seconds, the duration, the measures, the exercise as a global id (the built-in
//! catalog's index; other exercises, gyms and machines as indices into small per-user tables
//! of distinct names), and its sets as a range of one flat array. Nothing in it depends on a
//! plan or a time zone: a plan finds the workouts of its window (and before `as_of`) by two
//! binary searches, places them in local days by comparing their seconds with the day starts
//! of its calendar, and maps the user's few distinct gyms and machines to its own ids once per
//! evaluation ([`Cx`], on the stack).
//!
//! [`super::evaluate`] and friends build a `Prepared` internally, so there is one evaluation
//! code path.
//!
//! **Invariant:** `entries` are sorted by ([`Entry::secs`], [`Entry::nanos`]), ties in the
//! order of the records' ids, then ends, so the order of the input never matters; every
//! entry's set range lies inside `sets`; every name index lies inside its table.

use std::sync::OnceLock;

use super::aggregate::{key, same_name, Key, Names, KEY_BYTES, MISSING, OTHER};
use super::calendar::Calendar;
use crate::records::Workout;

/// An exercise id with this bit set is an index into [`Prepared::exercises`] (an exercise the
/// built-in catalog does not have); below it, the built-in catalog's index.
pub(crate) const LOCAL: u32 = 1 << 31;

/// The built-in catalog's exercises with their global ids (their order in the catalog), in
/// an open-addressing table keyed by [`Key`]: a workout's exercise is found in a few
/// instructions when the workouts are prepared.
struct Builtin {
    names: Names,
    /// `(key, id)`; empty slots have the length `usize::MAX`.
    slots: [(Key, u32); SLOTS],
}

/// Slots of [`Builtin`] (a power of two, more than twice the built-in exercises).
const SLOTS: usize = 64;

impl Builtin {
    fn slot(k: Key) -> usize {
        let mixed = (k.1 ^ k.2.rotate_left(29) ^ k.0 as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        (mixed >> 58) as usize
    }

    #[inline]
    fn get(&self, name: &str) -> Option<u32> {
        let k = key(name);
        let mut at = Builtin::slot(k);
        for _ in 0..SLOTS {
            let (slot_key, id) = *self.slots.get(at)?;
            if slot_key.0 == usize::MAX {
                return None;
            }
            if slot_key == k {
                // Keys decide names of up to 16 bytes; longer ones compare bytes.
                return (name.len() <= 16 || self.names.get(name) == id).then_some(id);
            }
            at = (at + 1) % SLOTS;
        }
        None
    }
}

fn builtin() -> &'static Builtin {
    static TABLE: OnceLock<Builtin> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table = Builtin {
            names: Names::default(),
            slots: [((usize::MAX, 0, 0), 0); SLOTS],
        };
        for name in crate::catalog::builtin_ids() {
            let id = table.names.intern(name);
            let k = key(name);
            let mut at = Builtin::slot(k);
            while table.slots.get(at).is_some_and(|s| s.0 .0 != usize::MAX) {
                at = (at + 1) % SLOTS;
            }
            if let Some(slot) = table.slots.get_mut(at) {
                *slot = (k, id);
            }
        }
        table
    })
}

/// The global id of a built-in exercise.
#[inline]
pub(crate) fn builtin_id(name: &str) -> Option<u32> {
    builtin().get(name)
}

/// How many built-in exercises (the first id a plan gives to another exercise).
pub(crate) fn builtin_len() -> u32 {
    u32::try_from(builtin().names.len()).unwrap_or(0)
}

/// One set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct SetEntry {
    /// Counted reps.
    pub(crate) reps: u32,
    /// [`crate::records::WorkoutSet::load`].
    pub(crate) load: Option<f64>,
}

/// One workout, as the evaluator reads it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Entry {
    /// Start, UTC seconds.
    pub(crate) secs: i64,
    /// Start, nanoseconds within the second.
    pub(crate) nanos: u32,
    /// Global exercise id, or [`LOCAL`] | index into the user's other exercises.
    pub(crate) exercise: u32,
    /// Index into the user's gyms, or [`MISSING`].
    pub(crate) gym: u32,
    /// Index into the user's machines, or [`MISSING`].
    pub(crate) machine: u32,
    /// First set in [`Prepared::sets`].
    pub(crate) sets_lo: u32,
    /// After the last set.
    pub(crate) sets_hi: u32,
    /// `end − start` in seconds ([`Workout::duration_s`]).
    pub(crate) duration: f64,
    /// Metres.
    pub(crate) distance_m: Option<f64>,
    /// kcal.
    pub(crate) calories_kcal: Option<f64>,
    /// bpm.
    pub(crate) avg_hr_bpm: Option<f64>,
    /// Percent.
    pub(crate) incline_pct: Option<f64>,
}

/// A name of the user's workouts: its [`Key`] and its bytes in [`Prepared::text`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Name {
    pub(crate) key: Key,
    start: u32,
    end: u32,
}

/// A table of names whose bytes are in `text`.
#[derive(Clone, Copy)]
pub(crate) struct Table<'p> {
    pub(crate) names: &'p [Name],
    pub(crate) text: &'p str,
}

impl Table<'_> {
    /// The name at `index` (empty when out of range).
    fn name(&self, n: &Name) -> &str {
        self.text
            .get(n.start as usize..n.end as usize)
            .unwrap_or("")
    }
}

/// One user's workouts, prepared for evaluation by any plan (see the module docs).
///
/// Build it once per user with [`Prepared::new`] or [`Prepared::for_user`] (it owns its data:
/// keep it as long as the user's workouts do not change), then call
/// [`super::evaluate_prepared`] or [`super::summarize_prepared`] for every challenge.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prepared {
    pub(crate) entries: Vec<Entry>,
    pub(crate) sets: Vec<SetEntry>,
    /// Exercises outside the built-in catalog, distinct.
    pub(crate) exercises: Vec<Name>,
    /// Gyms, distinct.
    pub(crate) gyms: Vec<Name>,
    /// Machines, one per workout that has one.
    pub(crate) machines: Vec<Name>,
    /// The bytes of every name.
    pub(crate) text: String,
}

impl Prepared {
    /// Prepares `workouts`, which should all be one user's: every workout given is counted
    /// (use [`Prepared::for_user`] to pick a user's workouts out of a mixed slice).
    pub fn new<'a>(workouts: impl IntoIterator<Item = &'a Workout>) -> Prepared {
        let workouts = workouts.into_iter();
        let (lower, upper) = workouts.size_hint();
        // A user's share of a mixed slice is usually far smaller than the slice.
        let mut refs = Vec::with_capacity(upper.unwrap_or(lower).min(CAPACITY_HINT));
        refs.extend(workouts);
        let mut workouts: Vec<&'a Workout> = refs;
        // Start order (the instant: seconds, then nanoseconds), ties by id, then end; sorted
        // input (the usual case) costs one pass.
        let order = |a: &&Workout, b: &&Workout| {
            a.start
                .cmp(&b.start)
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.end.cmp(&b.end))
        };
        if !workouts.is_sorted_by(|a, b| order(a, b).is_le()) {
            workouts.sort_unstable_by(order);
        }
        let mut prepared = Prepared {
            entries: Vec::with_capacity(workouts.len()),
            sets: Vec::with_capacity(workouts.iter().map(|w| w.sets.len()).sum()),
            machines: Vec::with_capacity(workouts.len()),
            text: String::with_capacity(8 * workouts.len()),
            ..Prepared::default()
        };
        let p = &mut prepared;
        for workout in workouts {
            let secs = workout.start.timestamp();
            let nanos = workout.start.timestamp_subsec_nanos();
            let exercise = match builtin_id(&workout.exercise) {
                Some(id) => id,
                None => LOCAL | intern(&mut p.exercises, &mut p.text, &workout.exercise),
            };
            let gym = match workout.gym.as_deref() {
                Some(g) => intern(&mut p.gyms, &mut p.text, g),
                None => MISSING,
            };
            // Machines are many per user and read by few plans: one name per workout.
            let machine = match workout.machine.as_deref() {
                Some(m) => push(&mut p.machines, &mut p.text, m),
                None => MISSING,
            };
            let sets_lo = index(p.sets.len());
            p.sets.extend(workout.sets.iter().map(|s| SetEntry {
                reps: s.reps,
                load: s.load(),
            }));
            p.entries.push(Entry {
                secs,
                nanos,
                exercise,
                gym,
                machine,
                sets_lo,
                sets_hi: index(p.sets.len()),
                duration: duration_s(workout, secs, nanos),
                distance_m: workout.distance_m,
                calories_kcal: workout.calories_kcal,
                avg_hr_bpm: workout.avg_hr_bpm,
                incline_pct: workout.incline_pct,
            });
        }
        prepared
    }

    /// Prepares the workouts of `user_id` among `workouts` (others' are skipped).
    pub fn for_user(user_id: &str, workouts: &[Workout]) -> Prepared {
        let id_key = key(user_id);
        Prepared::new(
            workouts
                .iter()
                .filter(move |w| same_name(key(&w.user), &w.user, id_key, user_id)),
        )
    }

    /// A table of this form's names.
    pub(crate) fn table<'p>(&'p self, names: &'p [Name]) -> Table<'p> {
        Table {
            names,
            text: &self.text,
        }
    }

    /// How many workouts.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The most workouts reserved up front for an iterator of unknown length.
const CAPACITY_HINT: usize = 256;

/// A `usize` as a `u32` index (saturating: 4 billion sets are more than memory holds).
fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The index of `name` in `table`, adding it when new.
fn intern(table: &mut Vec<Name>, text: &mut String, name: &str) -> u32 {
    let k = key(name);
    let found = table.iter().position(|n| {
        n.key == k
            && (name.len() <= KEY_BYTES || text.get(n.start as usize..n.end as usize) == Some(name))
    });
    match found {
        Some(i) => index(i),
        None => push(table, text, name),
    }
}

/// Adds `name` to `table`; its index.
fn push(table: &mut Vec<Name>, text: &mut String, name: &str) -> u32 {
    let start = index(text.len());
    text.push_str(name);
    table.push(Name {
        key: key(name),
        start,
        end: index(text.len()),
    });
    index(table.len() - 1).min(MISSING - 2)
}

/// [`Workout::duration_s`] from the start already taken apart: the same figure (`end − start`
/// to the nanosecond, divided once by 10⁹), without chrono's general date subtraction. A leap
/// second (nanoseconds from 10⁹ up), or a span that does not fit 64-bit nanoseconds, takes
/// chrono's path.
pub(crate) fn duration_s(workout: &Workout, start_secs: i64, start_nanos: u32) -> f64 {
    const NANOS: i64 = 1_000_000_000;
    let end_nanos = workout.end.timestamp_subsec_nanos();
    if i64::from(start_nanos) >= NANOS || i64::from(end_nanos) >= NANOS {
        return workout.duration_s();
    }
    let nanos = workout
        .end
        .timestamp()
        .checked_sub(start_secs)
        .and_then(|s| s.checked_mul(NANOS))
        .and_then(|n| n.checked_add(i64::from(end_nanos) - i64::from(start_nanos)));
    match nanos {
        Some(nanos) => nanos as f64 / 1e9,
        None => workout.duration_s(),
    }
}

/// How many of a user's distinct names are mapped to a plan's ids up front (on the stack);
/// the rare others are looked up when read.
const INLINE: usize = 8;

/// A user's distinct names (gyms, machines or other exercises) mapped to a plan's ids.
#[derive(Clone, Copy)]
pub(crate) struct NameMap<'p> {
    ids: [u32; INLINE],
    names: Option<&'p Names>,
    table: Table<'p>,
    /// Added to a found id (the first id of a plan's other exercises).
    base: u32,
}

impl<'p> NameMap<'p> {
    /// Every name maps to [`OTHER`]: the plan never reads the field.
    pub(crate) const NONE: NameMap<'static> = NameMap {
        ids: [OTHER; INLINE],
        names: None,
        table: Table {
            names: &[],
            text: "",
        },
        base: 0,
    };

    /// Maps `table` through `names` (ids offset by `base`).
    pub(crate) fn new(names: &'p Names, table: Table<'p>, base: u32) -> NameMap<'p> {
        let mut ids = [OTHER; INLINE];
        for (id, n) in ids.iter_mut().zip(table.names) {
            *id = offset(names.get_keyed(n.key, table.name(n)), base);
        }
        NameMap {
            ids,
            names: Some(names),
            table,
            base,
        }
    }

    /// The plan's id of the user's name `local` ([`MISSING`] stays missing).
    #[inline]
    pub(crate) fn get(&self, local: u32) -> u32 {
        if local == MISSING {
            return MISSING;
        }
        match self.ids.get(local as usize) {
            Some(&id) => id,
            None => self.look_up(local),
        }
    }

    /// [`NameMap::get`] of a name past the first [`INLINE`] (rare: kept out of the readers'
    /// loops).
    #[cold]
    #[inline(never)]
    fn look_up(&self, local: u32) -> u32 {
        match (self.names, self.table.names.get(local as usize)) {
            (Some(names), Some(n)) => offset(names.get_keyed(n.key, self.table.name(n)), self.base),
            _ => OTHER,
        }
    }
}

fn offset(id: u32, base: u32) -> u32 {
    if id == OTHER {
        OTHER
    } else {
        id.saturating_add(base).min(OTHER - 1)
    }
}

/// What one evaluation reads besides the entries: the user's sets, its names in the plan's
/// ids, the gym filter and the calendar (for hours and weekdays).
#[derive(Clone, Copy)]
pub(crate) struct Cx<'p> {
    pub(crate) sets: &'p [SetEntry],
    pub(crate) exercises: NameMap<'p>,
    pub(crate) gyms: NameMap<'p>,
    pub(crate) machines: NameMap<'p>,
    /// `Some(k)`: only workouts whose gym id is below `k` count.
    pub(crate) gym_filter: Option<u32>,
    /// Bit `i`: the user's gym `i` passes `gym_filter` (for the first 64 gyms).
    pub(crate) gym_counts: u64,
    pub(crate) calendar: &'p Calendar,
}

impl<'p> Cx<'p> {
    /// A context without sets or names (for ranges without rows).
    pub(crate) fn empty(calendar: &'p Calendar) -> Cx<'p> {
        Cx {
            sets: &[],
            exercises: NameMap::NONE,
            gyms: NameMap::NONE,
            machines: NameMap::NONE,
            gym_filter: None,
            gym_counts: 0,
            calendar,
        }
    }

    /// Sets the gym filter and its bits (after `gyms` is set).
    #[inline(always)]
    pub(crate) fn with_gym_filter(mut self, filter: Option<u32>, user_gyms: usize) -> Cx<'p> {
        self.gym_filter = filter;
        if let Some(k) = filter {
            for local in 0..user_gyms.min(64) {
                if self.gyms.get(local as u32) < k {
                    self.gym_counts |= 1 << local;
                }
            }
        }
        self
    }

    /// The entry's sets.
    #[inline]
    pub(crate) fn sets(&self, entry: &Entry) -> &[SetEntry] {
        self.sets
            .get(entry.sets_lo as usize..entry.sets_hi as usize)
            .unwrap_or(&[])
    }

    /// The plan's exercise id of an entry.
    #[inline]
    pub(crate) fn exercise(&self, entry: &Entry) -> u32 {
        if entry.exercise & LOCAL == 0 {
            entry.exercise
        } else {
            self.exercises.get(entry.exercise & !LOCAL)
        }
    }

    /// The plan's gym id of an entry.
    #[inline]
    pub(crate) fn gym(&self, entry: &Entry) -> u32 {
        self.gyms.get(entry.gym)
    }

    /// The plan's machine id of an entry.
    #[inline]
    pub(crate) fn machine(&self, entry: &Entry) -> u32 {
        self.machines.get(entry.machine)
    }

    /// Whether the entry counts (it is at a listed gym, when the challenge lists gyms).
    #[inline]
    pub(crate) fn counts(&self, entry: &Entry) -> bool {
        match self.gym_filter {
            None => true,
            Some(_) if entry.gym < 64 => self.gym_counts >> entry.gym & 1 == 1,
            Some(k) => self.gym(entry) < k,
        }
    }

    /// The local day index of an entry (in the window).
    #[inline]
    pub(crate) fn day(&self, entry: &Entry) -> u32 {
        self.calendar.day_of(entry.secs).unwrap_or(0)
    }

    /// The local start hour of an entry.
    pub(crate) fn hour(&self, entry: &Entry) -> u8 {
        // Hours change on whole seconds: the nanoseconds never matter.
        self.calendar.local_hour(entry.secs)
    }

    /// The local start weekday of an entry, Monday = 0.
    pub(crate) fn weekday(&self, entry: &Entry) -> u8 {
        self.calendar.weekday(self.day(entry))
    }
}
