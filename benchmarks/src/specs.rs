//! The benchmark challenges: our DSL, and the same rule in each peer's own language.
//!
//! Every challenge's window is the data's span and every evaluation is made at its end, so
//! each period is closed and met/unmet is final. Peer sources are templates whose constants
//! are filled in per dataset: `{D0}`/`{D1}` the window's first and last local day (days since
//! 1970-01-01), `{AS_OF}` epoch seconds, `{N}` the number of days.
//!
//! The categories of the built-in catalog are written out where a peer needs them: `cardio` is
//! treadmill, bike, rower, elliptical and stair_climber.

use chrono::NaiveDate;

use crate::data::{epoch_day, Dataset};

/// The challenges benchmarked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// `sum(volume of leg_press where reps >= 8) >= 10000 kg` over the window.
    Sum,
    /// The National Day challenge of language.md §1 (groups and gyms included).
    NationalDay,
    /// `streak 7 days { count(workouts) >= 1 }`.
    Streak,
    /// The IPPT run: `in one workout { 2.4 km on the treadmill in 12 minutes or less }`.
    OneWorkout,
}

impl Kind {
    /// Every challenge, in table order.
    pub const ALL: [Kind; 4] = [Kind::Sum, Kind::NationalDay, Kind::Streak, Kind::OneWorkout];

    /// Short name for tables and bench ids.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Sum => "sum-volume",
            Kind::NationalDay => "national-day",
            Kind::Streak => "streak-7",
            Kind::OneWorkout => "one-workout",
        }
    }
}

/// A challenge placed on a dataset: its DSL text and the constants the peers need.
#[derive(Clone, Debug)]
pub struct Spec {
    /// Which challenge.
    pub kind: Kind,
    /// Our DSL.
    pub dsl: String,
    /// First day of the window, days since 1970-01-01.
    pub d0: i64,
    /// Last day of the window.
    pub d1: i64,
    /// The evaluation time, epoch seconds.
    pub as_of: i64,
}

impl Spec {
    /// `kind` with the window of `data`.
    pub fn new(kind: Kind, data: &Dataset) -> Spec {
        Spec::with_window(kind, data.first, data.last, data.as_of.time.timestamp())
    }

    /// `kind` over `first..=last`, evaluated at `as_of` (epoch seconds).
    pub fn with_window(kind: Kind, first: NaiveDate, last: NaiveDate, as_of: i64) -> Spec {
        let goal = match kind {
            Kind::Sum => "goal sum(volume of leg_press where reps >= 8) >= 10000 kg",
            Kind::NationalDay => {
                "groups \"nsfit\", \"staff\"\n    gyms \"gym-01\", \"gym-02\"\n    goal every day {\n        any {\n            sum(reps of leg_press where weight >= 40 kg) >= 30\n            sum(duration of cardio) >= 20 min\n        }\n    }"
            }
            Kind::Streak => "goal streak 7 days {\n        count(workouts) >= 1\n    }",
            Kind::OneWorkout => {
                "groups \"nsfit\"\n    goal in one workout {\n        sum(distance of treadmill) >= 2.4 km\n        sum(duration of treadmill) <= 12 min\n    }"
            }
        };
        let dsl = format!(
            "challenge \"{name}\" {{\n    title \"{name}\"\n    window {first} to {last}\n    timezone \"Asia/Singapore\"\n    {goal}\n}}\n",
            name = kind.name()
        );
        Spec {
            kind,
            dsl,
            d0: epoch_day(first),
            d1: epoch_day(last),
            as_of,
        }
    }

    /// Fills a peer template's constants.
    pub fn fill(&self, template: &str) -> String {
        template
            .replace("{D0}", &self.d0.to_string())
            .replace("{D1}", &self.d1.to_string())
            .replace("{AS_OF}", &self.as_of.to_string())
            .replace("{N}", &(self.d1 - self.d0 + 1).to_string())
    }
}

/// JsonLogic (datalogic-rs), filled in for `spec`.
///
/// JsonLogic's `all`/`some`/`filter` cannot reach an enclosing element from inside (standard
/// JsonLogic has no such scope at all; datalogic-rs 5.4's `{"val": [[n], ...]}` levels reach the
/// current element or the data's root, never the element of an enclosing iteration), so a
/// period or a streak cannot be written as a loop over days. It can be *unrolled*: the
/// National Day rule is one copy of the day's rule per day of the window (`and`), the streak
/// one `and` of 7 days per possible first day (`or`). The rule grows with the window.
pub fn jsonlogic(spec: &Spec) -> String {
    match spec.kind {
        Kind::Sum | Kind::OneWorkout => spec.fill(jsonlogic_template(spec.kind)),
        Kind::NationalDay => {
            let days: Vec<String> = (spec.d0..=spec.d1)
                .map(|d| spec.fill(&NATIONAL_DAY_JSONLOGIC_DAY.replace("{D}", &d.to_string())))
                .collect();
            format!(
                r#"{{"and": [{{"some": [{{"var": "groups"}}, {{"in": [{{"var": ""}}, ["nsfit", "staff"]]}}]}}, {}]}}"#,
                days.join(",\n")
            )
        }
        Kind::Streak => {
            let starts: Vec<String> = (spec.d0..=spec.d1 - 6)
                .map(|s| {
                    let days: Vec<String> = (s..s + 7)
                        .map(|d| {
                            spec.fill(&format!(
                                r#"{{"some": [{{"var": "workouts"}}, {{"and": [{{"==": [{{"var": "day"}}, {d}]}}, {{"<=": [{{"var": "start"}}, {{AS_OF}}]}}]}}]}}"#
                            ))
                        })
                        .collect();
                    format!(r#"{{"and": [{}]}}"#, days.join(", "))
                })
                .collect();
            if starts.is_empty() {
                // A window shorter than 7 days: no streak fits.
                "false".to_owned()
            } else {
                format!(r#"{{"or": [{}]}}"#, starts.join(",\n"))
            }
        }
    }
}

/// One day `{D}` of the National Day rule in JsonLogic.
const NATIONAL_DAY_JSONLOGIC_DAY: &str = r#"{"or": [
    {">=": [
      {"reduce": [
        {"filter": [{"var": "workouts"}, {"and": [
          {"==": [{"var": "day"}, {D}]}, {"<=": [{"var": "start"}, {AS_OF}]},
          {"in": [{"var": "gym"}, ["gym-01", "gym-02"]]}, {"==": [{"var": "exercise"}, "leg_press"]}]}]},
        {"+": [{"var": "accumulator"},
          {"reduce": [
            {"filter": [{"var": "current.sets"}, {">=": [{"var": "weight_kg"}, 40]}]},
            {"+": [{"var": "accumulator"}, {"var": "current.reps"}]},
            0]}]},
        0]},
      30]},
    {">=": [
      {"reduce": [
        {"filter": [{"var": "workouts"}, {"and": [
          {"==": [{"var": "day"}, {D}]}, {"<=": [{"var": "start"}, {AS_OF}]},
          {"in": [{"var": "gym"}, ["gym-01", "gym-02"]]},
          {"in": [{"var": "exercise"}, ["treadmill", "bike", "rower", "elliptical", "stair_climber"]]}]}]},
        {"+": [{"var": "accumulator"}, {"-": [{"var": "current.end"}, {"var": "current.start"}]}]},
        0]},
      1200]}]}"#;

/// The JsonLogic templates of the challenges that need no unrolling.
fn jsonlogic_template(kind: Kind) -> &'static str {
    match kind {
        Kind::Sum => {
            r#"{">=": [
  {"reduce": [
    {"filter": [{"var": "workouts"}, {"and": [
      {">=": [{"var": "day"}, {D0}]}, {"<=": [{"var": "day"}, {D1}]}, {"<=": [{"var": "start"}, {AS_OF}]},
      {"==": [{"var": "exercise"}, "leg_press"]}]}]},
    {"+": [{"var": "accumulator"},
      {"reduce": [
        {"filter": [{"var": "current.sets"}, {"and": [{">=": [{"var": "reps"}, 8]}, {">": [{"var": "weight_kg"}, 0]}]}]},
        {"+": [{"var": "accumulator"}, {"*": [{"var": "current.reps"}, {"var": "current.weight_kg"}]}]},
        0]}]},
    0]},
  10000]}"#
        }
        _ => {
            r#"{"and": [
  {"in": ["nsfit", {"var": "groups"}]},
  {"some": [{"var": "workouts"}, {"and": [
    {">=": [{"var": "day"}, {D0}]}, {"<=": [{"var": "day"}, {D1}]}, {"<=": [{"var": "start"}, {AS_OF}]},
    {"==": [{"var": "exercise"}, "treadmill"]},
    {">=": [{"var": "distance_m"}, 2400]},
    {"<=": [{"-": [{"var": "end"}, {"var": "start"}]}, 720]}]}]}]}"#
        }
    }
}

/// A ZEN expression (zen-expression): closures with `#` or a named alias (`as d`) and
/// intervals (`[0..6]`) express every challenge.
pub fn zen(kind: Kind) -> &'static str {
    match kind {
        Kind::Sum => {
            "sum(map(filter(workouts, #.day >= {D0} and #.day <= {D1} and #.start <= {AS_OF} and #.exercise == 'leg_press'), \
             sum(map(filter(#.sets, #.reps >= 8 and #.weight_kg != null and #.weight_kg > 0), #.reps * #.weight_kg)))) >= 10000"
        }
        Kind::NationalDay => {
            "some(groups, # in ['nsfit', 'staff']) and all([{D0}..{D1}] as d, \
             sum(map(filter(workouts, #.day == d and #.start <= {AS_OF} and #.gym in ['gym-01', 'gym-02'] and #.exercise == 'leg_press'), \
                 sum(map(filter(#.sets, #.weight_kg != null and #.weight_kg >= 40), #.reps)))) >= 30 \
             or sum(map(filter(workouts, #.day == d and #.start <= {AS_OF} and #.gym in ['gym-01', 'gym-02'] \
                 and #.exercise in ['treadmill', 'bike', 'rower', 'elliptical', 'stair_climber']), #.end - #.start)) >= 1200)"
        }
        Kind::Streak => {
            "some([{D0}..{D1}] as s, s + 6 <= {D1} and all([0..6] as k, some(workouts, #.day == s + k and #.start <= {AS_OF})))"
        }
        Kind::OneWorkout => {
            "'nsfit' in groups and some(workouts, #.day >= {D0} and #.day <= {D1} and #.start <= {AS_OF} \
             and #.exercise == 'treadmill' and #.distance_m != null and #.distance_m >= 2400 and #.end - #.start <= 720)"
        }
    }
}

/// A rhai script. The scope holds `workouts` (an array of object maps) and `groups`; no Rust
/// function is registered: the script does all the work.
pub fn rhai(kind: Kind) -> &'static str {
    match kind {
        Kind::Sum => {
            r#"
let total = 0.0;
for w in workouts {
    if w.day >= {D0} && w.day <= {D1} && w.start <= {AS_OF} && w.exercise == "leg_press" {
        for s in w.sets {
            let kg = s.weight_kg;
            if s.reps >= 8 && kg != () && kg > 0.0 { total += s.reps.to_float() * kg; }
        }
    }
}
total >= 10000.0
"#
        }
        Kind::NationalDay => {
            r#"
let eligible = false;
for g in groups { if g == "nsfit" || g == "staff" { eligible = true; } }
if !eligible { return false; }
let reps = [];
reps.pad({N}, 0);
let cardio = [];
cardio.pad({N}, 0);
for w in workouts {
    if w.day >= {D0} && w.day <= {D1} && w.start <= {AS_OF} && (w.gym == "gym-01" || w.gym == "gym-02") {
        let i = w.day - {D0};
        let x = w.exercise;
        if x == "leg_press" {
            for s in w.sets {
                let kg = s.weight_kg;
                if kg != () && kg >= 40.0 { reps[i] += s.reps; }
            }
        } else if x == "treadmill" || x == "bike" || x == "rower" || x == "elliptical" || x == "stair_climber" {
            cardio[i] += w.end - w.start;
        }
    }
}
for i in 0..{N} {
    if reps[i] < 30 && cardio[i] < 1200 { return false; }
}
true
"#
        }
        Kind::Streak => {
            r#"
let trained = [];
trained.pad({N}, false);
for w in workouts {
    if w.day >= {D0} && w.day <= {D1} && w.start <= {AS_OF} { trained[w.day - {D0}] = true; }
}
let run = 0;
for t in trained {
    if t { run += 1; if run >= 7 { return true; } } else { run = 0; }
}
false
"#
        }
        Kind::OneWorkout => {
            r#"
if !("nsfit" in groups) { return false; }
for w in workouts {
    if w.day >= {D0} && w.day <= {D1} && w.start <= {AS_OF} && w.exercise == "treadmill" {
        let d = w.distance_m;
        if d != () && d >= 2400.0 && w.end - w.start <= 720 { return true; }
    }
}
false
"#
        }
    }
}
