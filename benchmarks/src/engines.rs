//! The contenders. Each [`Engine`] compiles a [`Spec`] and prepares a set of users' data in the
//! form it consumes ([`Engine::runner`], outside any timed loop); [`Runner::met`] is what is
//! timed: one evaluation of one user, answering whether the challenge is met.
//!
//! - [`Ours`]: `rules_core::eval::evaluate_prepared` (the whole result tree) or
//!   `summarize_prepared` (status and progress only) on the user's `Prepared` workouts, built
//!   once outside the timed loop like the peers' data (the plan's time-zone math, window
//!   filtering and per-period bookkeeping stay inside the call); or, unprepared,
//!   `evaluate` / `evaluate_summary` on the user's records (preparing them inside every call);
//!   met = `completed`. Or `completed_prepared`: the yes/no answer alone, every walk stopping
//!   as soon as it is known (as the peers' `and`/`all`/`some` do).
//! - [`Hand`]: a hand-written Rust function per challenge over [`Flat`] workouts: the limit.
//! - [`JsonLogic`]: datalogic-rs 5, a compiled `Logic`, data parsed once per user into a
//!   `ParsedData`, one reused `Session` (reset after each evaluation).
//! - [`Zen`]: zen-expression, a compiled `Expression<Standard>`, the data as a `Variable` per
//!   user, one reused `VM`.
//! - [`Rhai`]: rhai, the script compiled once into an `AST`, a `Scope` per user holding its
//!   workouts as `Dynamic` object maps, `Engine::eval_ast_with_scope` (the scope is rewound
//!   after each run). No Rust function is registered.
//!
//! Peers' values do not carry units: distances are metres, durations seconds, weights kg.

use std::sync::OnceLock;

use rules_core::check::{self, Layout};
use rules_core::eval::{self, AsOf, Plan, Status};
use rules_core::records::{User, Workout};
use rules_core::Catalog;
use serde_json::{json, Map, Value};

use crate::data::{Dataset, Flat};
use crate::specs::{self, Kind, Spec};

/// Evaluates one user of the set the runner was prepared for.
pub trait Runner {
    /// Whether user `k` (an index into the runner's users) meets the challenge.
    fn met(&mut self, k: usize) -> bool;

    /// User `k`'s progress, for engines that compute one (checked, never timed).
    fn progress(&mut self, _k: usize) -> Option<f64> {
        None
    }
}

/// A contender.
pub trait Engine: Sync {
    /// The name in tables.
    fn name(&self) -> &'static str;

    /// Why the engine cannot express `kind`, if it cannot.
    fn cannot(&self, _kind: Kind) -> Option<&'static str> {
        None
    }

    /// Compiles the challenge and drops it (to time compilation).
    fn compile(&self, spec: &Spec);

    /// Compiles the challenge and prepares the data of `users` (indices into `data`).
    fn runner<'d>(&self, spec: &Spec, data: &'d Dataset, users: &[usize]) -> Box<dyn Runner + 'd>;
}

/// Every contender, ours first.
pub fn all() -> Vec<Box<dyn Engine>> {
    vec![
        Box::new(Ours::with(Call::Tree, true)),
        Box::new(Ours::with(Call::Summary, true)),
        Box::new(Ours::with(Call::Completed, true)),
        Box::new(Ours::with(Call::Tree, false)),
        Box::new(Ours::with(Call::Summary, false)),
        Box::new(Hand::summary()),
        Box::new(Hand::yes_no()),
        Box::new(JsonLogic),
        Box::new(Zen),
        Box::new(Rhai),
    ]
}

/// Parses, checks and compiles our DSL.
pub fn plan(dsl: &str, catalog: &Catalog) -> Plan {
    let parsed = rules_dsl::parse(dsl);
    assert!(
        parsed.diagnostics.is_empty(),
        "{:?}",
        parsed.diagnostics.first()
    );
    let problems = check::check_file(&parsed.decls, catalog, Layout::Single);
    let error = problems.iter().find(|d| d.is_error());
    assert!(error.is_none(), "{error:?}");
    Plan::compile(&parsed.decls[0], catalog).unwrap()
}

/// Which of our entry points an [`Ours`] engine calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Call {
    /// The whole result tree: [`eval::evaluate`] / [`eval::evaluate_prepared`].
    Tree,
    /// Status and progress: [`eval::evaluate_summary`] / [`eval::summarize_prepared`].
    Summary,
    /// Yes/no, stopping as soon as the answer is known: [`eval::completed_prepared`] (on
    /// records, preparing them inside every call).
    Completed,
}

/// Our evaluator, through one of its entry points ([`Call`]); with `prepared`, on
/// [`eval::Prepared`] workouts built once per user, else on the user's records.
pub struct Ours {
    catalog: Catalog,
    call: Call,
    prepared: bool,
}

impl Ours {
    /// `evaluate` (the result tree on the records), with the built-in catalog.
    pub fn new() -> Ours {
        Ours::with(Call::Tree, false)
    }

    /// `call`, on prepared workouts or not, with the built-in catalog.
    pub fn with(call: Call, prepared: bool) -> Ours {
        Ours {
            catalog: Catalog::builtin(),
            call,
            prepared,
        }
    }
}

impl Default for Ours {
    fn default() -> Self {
        Ours::new()
    }
}

struct OursRunner {
    call: Call,
    plan: Plan,
    users: Vec<User>,
    /// Records (unprepared) or prepared forms, one per user.
    workouts: Vec<Vec<Workout>>,
    prepared: Vec<eval::Prepared>,
    as_of: AsOf,
}

impl Runner for OursRunner {
    fn met(&mut self, k: usize) -> bool {
        let (plan, user, as_of) = (&self.plan, &self.users[k], &self.as_of);
        let status = match (self.prepared.get(k), self.call) {
            (Some(p), Call::Completed) => return eval::completed_prepared(plan, user, p, as_of),
            (Some(p), Call::Summary) => eval::summarize_prepared(plan, user, p, as_of).status,
            (Some(p), Call::Tree) => eval::evaluate_prepared(plan, user, p, as_of).status,
            (None, Call::Completed) => {
                let prepared = eval::Prepared::for_user(&user.id, &self.workouts[k]);
                return eval::completed_prepared(plan, user, &prepared, as_of);
            }
            (None, Call::Summary) => {
                eval::evaluate_summary(plan, user, &self.workouts[k], as_of).status
            }
            (None, Call::Tree) => eval::evaluate(plan, user, &self.workouts[k], as_of).status,
        };
        status == Status::Completed
    }

    fn progress(&mut self, k: usize) -> Option<f64> {
        let (plan, user, as_of) = (&self.plan, &self.users[k], &self.as_of);
        // Records are kept only by unprepared runners.
        let workouts = self.workouts.get(k).map_or(&[][..], Vec::as_slice);
        match (self.prepared.get(k), self.call) {
            (_, Call::Completed) => None,
            (Some(p), Call::Summary) => {
                Some(eval::summarize_prepared(plan, user, p, as_of).progress)
            }
            (Some(p), Call::Tree) => Some(eval::evaluate_prepared(plan, user, p, as_of).progress),
            (None, Call::Summary) => {
                Some(eval::evaluate_summary(plan, user, workouts, as_of).progress)
            }
            (None, Call::Tree) => Some(eval::evaluate(plan, user, workouts, as_of).progress),
        }
    }
}

impl Engine for Ours {
    fn name(&self) -> &'static str {
        match (self.prepared, self.call) {
            (true, Call::Completed) => COMPLETED,
            (true, Call::Summary) => SUMMARY,
            (true, Call::Tree) => "ours: evaluate_prepared (result tree)",
            (false, Call::Completed) => "ours (unprepared): completed_prepared",
            (false, Call::Summary) => "ours (unprepared): evaluate_summary",
            (false, Call::Tree) => "ours (unprepared): evaluate (result tree)",
        }
    }

    fn compile(&self, spec: &Spec) {
        std::hint::black_box(plan(&spec.dsl, &self.catalog));
    }

    fn runner<'d>(&self, spec: &Spec, data: &'d Dataset, users: &[usize]) -> Box<dyn Runner + 'd> {
        let workouts: Vec<Vec<Workout>> = users.iter().map(|&i| data.workouts[i].clone()).collect();
        let (workouts, prepared) = if self.prepared {
            let prepared = workouts.iter().map(eval::Prepared::new).collect();
            (Vec::new(), prepared)
        } else {
            (workouts, Vec::new())
        };
        Box::new(OursRunner {
            call: self.call,
            plan: plan(&spec.dsl, &self.catalog),
            users: users.iter().map(|&i| data.users[i].clone()).collect(),
            workouts,
            prepared,
            as_of: data.as_of.clone(),
        })
    }
}

/// The name of the engine the first ratio column compares against: ours, prepared, summary.
pub const SUMMARY: &str = "ours: summarize_prepared";

/// The name of the engine the second ratio column compares against: ours, prepared, yes/no.
pub const COMPLETED: &str = "ours: completed_prepared (yes/no)";

/// Hand-written Rust, one function per challenge: the limit. Either a yes/no check that stops
/// as soon as the answer is known (the limit for `completed_prepared`), or, with `progress`,
/// the status and progress of language.md §8 for that one challenge (the limit for
/// `summarize_prepared`).
pub struct Hand {
    progress: bool,
}

impl Hand {
    /// The yes/no functions.
    pub fn yes_no() -> Hand {
        Hand { progress: false }
    }

    /// The status-and-progress functions.
    pub fn summary() -> Hand {
        Hand { progress: true }
    }
}

/// The largest double below 1: a goal not met never shows 100 % (as ours).
const BELOW_ONE: f64 = 1.0 - f64::EPSILON / 2.0;

/// A goal's progress: 1 when met, else `ratio` in [0, 1).
fn progress(met: bool, ratio: f64) -> f64 {
    if met {
        1.0
    } else {
        ratio.clamp(0.0, BELOW_ONE)
    }
}

const CARDIO: [&str; 5] = ["treadmill", "bike", "rower", "elliptical", "stair_climber"];

struct HandRunner {
    spec: Spec,
    /// Status and progress ([`Hand::summary`]) rather than yes/no.
    progress: bool,
    groups: Vec<Vec<String>>,
    /// Each user's workouts sorted by start (as our prepared form is).
    workouts: Vec<Vec<Flat>>,
    /// Per-day scratch of the summaries, reused.
    days: Vec<(i64, i64)>,
}

/// Whether the workout counts: in the window, started by `as_of`.
fn counts(spec: &Spec, w: &Flat) -> bool {
    w.day >= spec.d0 && w.day <= spec.d1 && w.start <= spec.as_of
}

/// Whether a user in `groups` may take challenge `kind` (the challenge's `groups`).
fn eligible(kind: Kind, groups: &[String]) -> bool {
    match kind {
        Kind::NationalDay => groups.iter().any(|g| g == "nsfit" || g == "staff"),
        Kind::OneWorkout => groups.iter().any(|g| g == "nsfit"),
        Kind::Sum | Kind::Streak => true,
    }
}

/// National Day: the workout was at one of the challenge's two gyms.
fn national_day_gym(w: &Flat) -> bool {
    matches!(w.gym.as_deref(), Some("gym-01" | "gym-02"))
}

/// National Day: adds the workout to its day's (leg-press reps at 40 kg or more, cardio
/// seconds).
fn national_day_add(w: &Flat, day: &mut (i64, i64)) {
    if w.exercise == "leg_press" {
        for &(reps, kg) in &w.sets {
            if kg.is_some_and(|kg| kg >= 40.0) {
                day.0 += reps;
            }
        }
    } else if CARDIO.contains(&w.exercise.as_str()) {
        day.1 += w.end - w.start;
    }
}

/// National Day: the day's `any` is met.
fn national_day_met((reps, secs): (i64, i64)) -> bool {
    reps >= 30 || secs >= 1200
}

impl HandRunner {
    /// Leg-press volume of sets of 8 reps or more.
    fn volume(&self, ws: &[Flat]) -> f64 {
        let mut total = 0.0;
        for w in ws {
            if counts(&self.spec, w) && w.exercise == "leg_press" {
                for &(reps, kg) in &w.sets {
                    if let Some(kg) = kg.filter(|&kg| kg > 0.0 && reps >= 8) {
                        total += reps as f64 * kg;
                    }
                }
            }
        }
        total
    }

    /// Fills `days` with each day's (a count or leg-press reps, cardio seconds) from `add`.
    fn bucket(&mut self, k: usize, add: impl Fn(&Flat, &mut (i64, i64))) {
        let n = (self.spec.d1 - self.spec.d0 + 1) as usize;
        self.days.clear();
        self.days.resize(n, (0, 0));
        for w in &self.workouts[k] {
            if counts(&self.spec, w) {
                add(w, &mut self.days[(w.day - self.spec.d0) as usize]);
            }
        }
    }

    /// Met and progress of user `k`, every period being closed (as in every benchmark).
    fn summary(&mut self, k: usize) -> (bool, f64) {
        if !eligible(self.spec.kind, &self.groups[k]) {
            return (false, 0.0);
        }
        match self.spec.kind {
            Kind::Sum => {
                let total = self.volume(&self.workouts[k]);
                let met = total >= 10000.0;
                (met, progress(met, total / 10000.0))
            }
            Kind::NationalDay => {
                self.bucket(k, |w, day| {
                    if national_day_gym(w) {
                        national_day_add(w, day);
                    }
                });
                // `every day`: all days met, progress the mean of the days' `any` (the best
                // of its two goals).
                let (mut all, mut sum) = (true, 0.0);
                for &(reps, secs) in &self.days {
                    let met = national_day_met((reps, secs));
                    all &= met;
                    sum += progress(
                        met,
                        progress(false, reps as f64 / 30.0)
                            .max(progress(false, secs as f64 / 1200.0)),
                    );
                }
                (all, progress(all, sum / self.days.len() as f64))
            }
            Kind::Streak => {
                self.bucket(k, |_, day| day.0 = 1);
                let (mut run, mut longest) = (0, 0);
                for &(trained, _) in &self.days {
                    run = if trained > 0 { run + 1 } else { 0 };
                    longest = longest.max(run);
                }
                (
                    longest >= 7,
                    progress(longest >= 7, f64::from(longest) / 7.0),
                )
            }
            Kind::OneWorkout => {
                // The best workout: `all` of the distance (an achievement: its share of 2.4
                // km) and the duration (a limit: 1 when kept, else 0); workouts that are not
                // on the treadmill have no distance and keep the limit.
                let mut best: Option<(bool, f64)> = None;
                for w in self.workouts[k].iter().filter(|w| counts(&self.spec, w)) {
                    let treadmill = w.exercise == "treadmill";
                    let metres = w.distance_m.filter(|_| treadmill).unwrap_or(0.0);
                    let secs = if treadmill { w.end - w.start } else { 0 };
                    let (far, fast) = (metres >= 2400.0, secs <= 720);
                    let both = far && fast;
                    let p = progress(
                        both,
                        (progress(far, metres / 2400.0) + progress(fast, 0.0)) / 2.0,
                    );
                    if best.is_none_or(|(_, b)| p > b) {
                        best = Some((both, p));
                    }
                }
                best.unwrap_or((false, 0.0))
            }
        }
    }
}

impl Runner for HandRunner {
    fn progress(&mut self, k: usize) -> Option<f64> {
        self.progress.then(|| self.summary(k).1)
    }

    fn met(&mut self, k: usize) -> bool {
        if self.progress {
            // The progress is computed in every timed call, as ours is: kept from the
            // optimiser, which would otherwise drop it (the function is inlined here).
            let (met, progress) = self.summary(k);
            std::hint::black_box(progress);
            return met;
        }
        let ws = &self.workouts[k];
        if !eligible(self.spec.kind, &self.groups[k]) {
            return false;
        }
        match self.spec.kind {
            Kind::Sum => self.volume(ws) >= 10000.0,
            Kind::NationalDay => {
                // Day by day in start order, stopping at the first day not met.
                let (mut day, mut totals) = (self.spec.d0, (0, 0));
                for w in ws {
                    if !(national_day_gym(w) && counts(&self.spec, w)) {
                        continue;
                    }
                    if w.day != day {
                        // `day` is over, and any day between it and this one had nothing.
                        if !national_day_met(totals) || w.day != day + 1 {
                            return false;
                        }
                        (day, totals) = (w.day, (0, 0));
                    }
                    national_day_add(w, &mut totals);
                }
                day == self.spec.d1 && national_day_met(totals)
            }
            Kind::Streak => {
                // Runs of consecutive days with a workout, in start order.
                let (mut run, mut last) = (0, None);
                for w in ws {
                    if !counts(&self.spec, w) || last == Some(w.day) {
                        continue;
                    }
                    run = if last == Some(w.day - 1) { run + 1 } else { 1 };
                    last = Some(w.day);
                    if run >= 7 {
                        return true;
                    }
                }
                false
            }
            Kind::OneWorkout => ws.iter().any(|w| {
                counts(&self.spec, w)
                    && w.exercise == "treadmill"
                    && w.distance_m.is_some_and(|d| d >= 2400.0)
                    && w.end - w.start <= 720
            }),
        }
    }
}

impl Engine for Hand {
    fn name(&self) -> &'static str {
        if self.progress {
            "hand-written Rust (status, progress)"
        } else {
            "hand-written Rust (yes/no)"
        }
    }

    fn compile(&self, _spec: &Spec) {}

    fn runner<'d>(&self, spec: &Spec, data: &'d Dataset, users: &[usize]) -> Box<dyn Runner + 'd> {
        Box::new(HandRunner {
            spec: spec.clone(),
            progress: self.progress,
            days: Vec::new(),
            groups: users
                .iter()
                .map(|&i| data.users[i].groups.clone())
                .collect(),
            workouts: users
                .iter()
                .map(|&i| {
                    let mut own = data.flat[i].clone();
                    own.sort_by_key(|w| w.start);
                    own
                })
                .collect(),
        })
    }
}

/// A user's data as the JSON the JSON-based peers read: `{"groups": [...], "workouts":
/// [...]}`, absent values left out.
pub fn user_json(user: &User, workouts: &[Flat]) -> Value {
    let workouts: Vec<Value> = workouts
        .iter()
        .map(|w| {
            let mut m = Map::new();
            m.insert("exercise".into(), json!(w.exercise));
            if let Some(g) = &w.gym {
                m.insert("gym".into(), json!(g));
            }
            if let Some(x) = &w.machine {
                m.insert("machine".into(), json!(x));
            }
            m.insert("day".into(), json!(w.day));
            m.insert("start".into(), json!(w.start));
            m.insert("end".into(), json!(w.end));
            if !w.sets.is_empty() {
                let sets: Vec<Value> = w
                    .sets
                    .iter()
                    .map(|&(reps, kg)| match kg {
                        Some(kg) => json!({"reps": reps, "weight_kg": kg}),
                        None => json!({"reps": reps}),
                    })
                    .collect();
                m.insert("sets".into(), Value::Array(sets));
            } else {
                m.insert("sets".into(), json!([]));
            }
            for (key, v) in [
                ("distance_m", w.distance_m),
                ("calories_kcal", w.calories_kcal),
                ("avg_hr_bpm", w.avg_hr_bpm),
                ("incline_pct", w.incline_pct),
            ] {
                if let Some(v) = v {
                    m.insert(key.into(), json!(v));
                }
            }
            Value::Object(m)
        })
        .collect();
    json!({"groups": user.groups, "workouts": workouts})
}

/// JsonLogic through datalogic-rs 5.
pub struct JsonLogic;

fn datalogic() -> &'static datalogic_rs::Engine {
    static ENGINE: OnceLock<datalogic_rs::Engine> = OnceLock::new();
    ENGINE.get_or_init(datalogic_rs::Engine::new)
}

struct JsonLogicRunner {
    logic: datalogic_rs::Logic,
    data: Vec<datalogic_rs::ParsedData>,
    session: datalogic_rs::Session<'static>,
}

impl Runner for JsonLogicRunner {
    fn met(&mut self, k: usize) -> bool {
        let met = {
            let result = self
                .session
                .eval_borrowed(&self.logic, &self.data[k])
                .unwrap();
            result
                .as_bool()
                .unwrap_or_else(|| panic!("JsonLogic answered {result}"))
        };
        self.session.reset();
        met
    }
}

impl Engine for JsonLogic {
    fn name(&self) -> &'static str {
        "datalogic-rs (JsonLogic)"
    }

    fn compile(&self, spec: &Spec) {
        let source = specs::jsonlogic(spec);
        std::hint::black_box(datalogic().compile(source.as_str()).unwrap());
    }

    fn runner<'d>(&self, spec: &Spec, data: &'d Dataset, users: &[usize]) -> Box<dyn Runner + 'd> {
        let source = specs::jsonlogic(spec);
        let logic = datalogic()
            .compile(source.as_str())
            .unwrap_or_else(|e| panic!("JsonLogic rule: {e}\n{source}"));
        let data = users
            .iter()
            .map(|&i| {
                let text = user_json(&data.users[i], &data.flat[i]).to_string();
                datalogic_rs::ParsedData::from_json(&text).unwrap()
            })
            .collect();
        Box::new(JsonLogicRunner {
            logic,
            data,
            session: datalogic().session(),
        })
    }
}

/// GoRules ZEN expressions (zen-expression).
pub struct Zen;

struct ZenRunner {
    expression: zen_expression::Expression<zen_expression::expression::Standard>,
    data: Vec<zen_expression::variable::Variable>,
    vm: zen_expression::vm::VM,
}

impl Runner for ZenRunner {
    fn met(&mut self, k: usize) -> bool {
        match self
            .expression
            .evaluate_with(self.data[k].clone(), &mut self.vm)
            .unwrap()
        {
            zen_expression::variable::Variable::Bool(b) => b,
            other => panic!("ZEN answered {other:?}"),
        }
    }
}

impl Engine for Zen {
    fn name(&self) -> &'static str {
        "zen-expression (GoRules ZEN)"
    }

    fn compile(&self, spec: &Spec) {
        let source = spec.fill(specs::zen(spec.kind));
        std::hint::black_box(zen_expression::compile_expression(&source).unwrap());
    }

    fn runner<'d>(&self, spec: &Spec, data: &'d Dataset, users: &[usize]) -> Box<dyn Runner + 'd> {
        let source = spec.fill(specs::zen(spec.kind));
        let expression = zen_expression::compile_expression(&source)
            .unwrap_or_else(|e| panic!("ZEN expression: {e:?}\n{source}"));
        let data = users
            .iter()
            .map(|&i| user_json(&data.users[i], &data.flat[i]).into())
            .collect();
        Box::new(ZenRunner {
            expression,
            data,
            vm: zen_expression::vm::VM::new(),
        })
    }
}

/// rhai scripts.
pub struct Rhai;

struct RhaiRunner {
    engine: rhai::Engine,
    ast: rhai::AST,
    scopes: Vec<rhai::Scope<'static>>,
}

impl Runner for RhaiRunner {
    fn met(&mut self, k: usize) -> bool {
        let scope = &mut self.scopes[k];
        let size = scope.len();
        let met = self
            .engine
            .eval_ast_with_scope::<bool>(scope, &self.ast)
            .unwrap();
        scope.rewind(size);
        met
    }
}

/// A user's workouts as rhai object maps (integers as `INT`, measures as `FLOAT`, absent values
/// left out).
pub fn rhai_workouts(workouts: &[Flat]) -> rhai::Array {
    workouts
        .iter()
        .map(|w| {
            let mut m = rhai::Map::new();
            m.insert("exercise".into(), w.exercise.clone().into());
            if let Some(g) = &w.gym {
                m.insert("gym".into(), g.clone().into());
            }
            if let Some(x) = &w.machine {
                m.insert("machine".into(), x.clone().into());
            }
            m.insert("day".into(), w.day.into());
            m.insert("start".into(), w.start.into());
            m.insert("end".into(), w.end.into());
            let sets: rhai::Array = w
                .sets
                .iter()
                .map(|&(reps, kg)| {
                    let mut s = rhai::Map::new();
                    s.insert("reps".into(), reps.into());
                    if let Some(kg) = kg {
                        s.insert("weight_kg".into(), kg.into());
                    }
                    s.into()
                })
                .collect();
            m.insert("sets".into(), sets.into());
            for (key, v) in [
                ("distance_m", w.distance_m),
                ("calories_kcal", w.calories_kcal),
                ("avg_hr_bpm", w.avg_hr_bpm),
                ("incline_pct", w.incline_pct),
            ] {
                if let Some(v) = v {
                    m.insert(key.into(), v.into());
                }
            }
            m.into()
        })
        .collect()
}

impl Engine for Rhai {
    fn name(&self) -> &'static str {
        "rhai"
    }

    fn compile(&self, spec: &Spec) {
        let source = spec.fill(specs::rhai(spec.kind));
        std::hint::black_box(rhai::Engine::new().compile(&source).unwrap());
    }

    fn runner<'d>(&self, spec: &Spec, data: &'d Dataset, users: &[usize]) -> Box<dyn Runner + 'd> {
        let source = spec.fill(specs::rhai(spec.kind));
        let engine = rhai::Engine::new();
        let ast = engine
            .compile(&source)
            .unwrap_or_else(|e| panic!("rhai script: {e}\n{source}"));
        let scopes = users
            .iter()
            .map(|&i| {
                let mut scope = rhai::Scope::new();
                let groups: rhai::Array = data.users[i]
                    .groups
                    .iter()
                    .map(|g| g.clone().into())
                    .collect();
                scope.push_constant("groups", groups);
                scope.push_constant("workouts", rhai_workouts(&data.flat[i]));
                scope
            })
            .collect();
        Box::new(RhaiRunner {
            engine,
            ast,
            scopes,
        })
    }
}
