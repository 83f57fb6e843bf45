//! The profiler (data.md, "Profiles"): a user's fitness figures from their workout history.
//!
//! ```text
//! (user record, workouts, catalog, as_of, lookback_days) ──profile──► Profile ──► template binding
//! ```
//!
//! A profile is a pure function of its inputs: it reads no clock (`as_of` comes from the caller
//! and is echoed as written), and the order of the workouts does not matter (the span's workouts
//! are sorted by start, then id, before anything is summed). Figures are not rounded.
//!
//! The span is `as_of − lookback_days × 24 h <= start <= as_of`. Per exercise with workouts in the
//! span:
//!
//! - `one_rep_max_kg`: the largest Epley estimate `w × (1 + r / 30)` over sets with load and 1–10
//!   reps (`w` itself at 1 rep) — [`epley`];
//! - `max_reps`: most reps in one set;
//! - `max_reps_per_min`: bodyweight exercises only, the largest `reps / minutes` over workouts
//!   with sets that lasted at least a minute;
//! - `best_speed_kmh`: the largest average speed over workouts of at least 5 min with a distance;
//! - `best_distance_m`: the largest distance of one workout;
//! - `weekly_distance_m`, `weekly_duration_s`: the span's totals over `lookback_days / 7` weeks.
//!
//! And per user: `weekly_workouts`, `body_weight_kg` from the user record, and `vo2_est`, the
//! largest ACSM estimate over treadmill workouts of at least 10 min with a distance
//! ([`acsm_vo2`]).
//!
//! Profiles can be written as JSON Lines and read back ([`read_profiles`]) with the same
//! validation as the record readers: a bad line is a rejection with its line number, never a
//! panic.
//!
//! Decisions where the spec is silent:
//!
//! - `lookback_days` 0 is treated as 1 (the weekly figures divide by it);
//! - a figure is never an infinity or NaN: the `null`-able figures skip non-finite values,
//!   and an exercise whose weekly distance or duration total is not finite is left out of
//!   `exercises` (its totals are numbers, never `null`). Only workouts built in code, past the
//!   record readers' bounds ([`crate::bounds`]), can get there: the bounds keep every sum
//!   over accepted records finite;
//! - a workout of an exercise the catalog does not know still counts (its figures are listed),
//!   but it is not a bodyweight exercise, so it has no `max_reps_per_min`;
//! - a set with 0 reps counts for `max_reps` (0) but not for Epley;
//! - reading a profile back: `user`, `as_of`, `lookback_days`, `weekly_workouts`, `exercises` and
//!   each exercise's `weekly_distance_m` and `weekly_duration_s` are required (the profiler
//!   always writes them); the other figures may be `null` or absent; a later line for the same
//!   user replaces the earlier one ([`upsert_profiles`]).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, TimeDelta};
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::catalog::{Catalog, Category};
use crate::eval::AsOf;
use crate::records::{self, ReadReport, User, Workout};
use crate::vocab::ProfileFigure;

/// The default lookback of data.md: 90 days.
pub const DEFAULT_LOOKBACK_DAYS: u32 = 90;

/// Workouts at least this long (s) count for `max_reps_per_min`.
const REPS_PER_MIN_MIN_S: f64 = 60.0;
/// Workouts at least this long (s) count for `best_speed_kmh`.
const BEST_SPEED_MIN_S: f64 = 5.0 * 60.0;
/// Treadmill workouts at least this long (s) count for `vo2_est`.
const VO2_MIN_S: f64 = 10.0 * 60.0;
/// The exercise whose workouts give `vo2_est`.
const VO2_EXERCISE: &str = "treadmill";

/// One user's profile (one line of `challenge profile`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Profile {
    /// The user id.
    pub user: String,
    /// The time the profile is as of, echoed as the caller wrote it.
    #[serde(serialize_with = "as_of_text")]
    pub as_of: AsOf,
    /// The span's length in days.
    pub lookback_days: u32,
    /// From the user record.
    #[serde(serialize_with = "optional_number")]
    pub body_weight_kg: Option<f64>,
    /// Workouts in the span per week.
    #[serde(serialize_with = "number")]
    pub weekly_workouts: f64,
    /// The largest ACSM VO2 estimate (ml/kg/min) over the span's treadmill workouts.
    #[serde(serialize_with = "optional_number")]
    pub vo2_est: Option<f64>,
    /// Figures per exercise with workouts in the span, by exercise id.
    pub exercises: BTreeMap<String, ExerciseProfile>,
}

/// The figures of one exercise.
#[derive(Clone, Debug, PartialEq, Default, Serialize)]
pub struct ExerciseProfile {
    /// The largest Epley estimate (kg).
    #[serde(serialize_with = "optional_number")]
    pub one_rep_max_kg: Option<f64>,
    /// Most reps in one set.
    #[serde(serialize_with = "optional_number")]
    pub max_reps: Option<f64>,
    /// Bodyweight exercises: the largest reps per minute of a workout.
    #[serde(serialize_with = "optional_number")]
    pub max_reps_per_min: Option<f64>,
    /// The largest average speed (km/h) of a workout of at least 5 minutes.
    #[serde(serialize_with = "optional_number")]
    pub best_speed_kmh: Option<f64>,
    /// The largest distance (m) of one workout.
    #[serde(serialize_with = "optional_number")]
    pub best_distance_m: Option<f64>,
    /// The span's distance per week (m).
    #[serde(serialize_with = "number")]
    pub weekly_distance_m: f64,
    /// The span's duration per week (s).
    #[serde(serialize_with = "number")]
    pub weekly_duration_s: f64,
}

impl Profile {
    /// A profile with no workouts in the span (`weekly_workouts` 0, no exercises).
    pub fn empty(
        user: &str,
        body_weight_kg: Option<f64>,
        as_of: &AsOf,
        lookback_days: u32,
    ) -> Profile {
        Profile {
            user: user.to_owned(),
            as_of: as_of.clone(),
            lookback_days,
            body_weight_kg,
            weekly_workouts: 0.0,
            vo2_est: None,
            exercises: BTreeMap::new(),
        }
    }

    /// A figure as a template looks it up (`profile.best_speed(treadmill)`), in the unit the
    /// profile stores it in ([`ProfileFigure::unit`]); `None` when there is no data: the
    /// exercise is not in the profile, or the figure is null. `exercise` is ignored by the
    /// figures that take none.
    pub fn figure(&self, figure: ProfileFigure, exercise: Option<&str>) -> Option<f64> {
        let of_exercise = || exercise.and_then(|e| self.exercises.get(e));
        match figure {
            ProfileFigure::WeeklyWorkouts => Some(self.weekly_workouts),
            ProfileFigure::BodyWeight => self.body_weight_kg,
            ProfileFigure::OneRepMax => of_exercise()?.one_rep_max_kg,
            ProfileFigure::MaxReps => of_exercise()?.max_reps,
            ProfileFigure::MaxRepsPerMin => of_exercise()?.max_reps_per_min,
            ProfileFigure::BestSpeed => of_exercise()?.best_speed_kmh,
            ProfileFigure::BestDistance => of_exercise()?.best_distance_m,
            ProfileFigure::WeeklyDistance => Some(of_exercise()?.weekly_distance_m),
            ProfileFigure::WeeklyDuration => Some(of_exercise()?.weekly_duration_s),
        }
        .filter(|v| v.is_finite())
    }
}

/// The Epley estimate of a one-rep max from a set of `reps` at `weight_kg`: `w × (1 + r / 30)`,
/// and `w` itself at one rep. `None` outside 1–10 reps or without load.
pub fn epley(weight_kg: f64, reps: u32) -> Option<f64> {
    if weight_kg.is_nan() || weight_kg <= 0.0 || !(1..=10).contains(&reps) {
        return None;
    }
    Some(if reps == 1 {
        weight_kg
    } else {
        weight_kg * (1.0 + f64::from(reps) / 30.0)
    })
}

/// The ACSM estimate of VO2 (ml/kg/min) at `speed_m_per_min` on a `grade` (incline / 100):
/// walking (S ≤ 100 m/min) `3.5 + 0.1 S + 1.8 S G`, running `3.5 + 0.2 S + 0.9 S G`.
pub fn acsm_vo2(speed_m_per_min: f64, grade: f64) -> f64 {
    let s = speed_m_per_min;
    if s <= 100.0 {
        3.5 + 0.1 * s + 1.8 * s * grade
    } else {
        3.5 + 0.2 * s + 0.9 * s * grade
    }
}

/// One user's profile. `workouts` may hold other users' workouts; they are ignored.
pub fn profile(
    user: &User,
    workouts: &[Workout],
    catalog: &Catalog,
    as_of: &AsOf,
    lookback_days: u32,
) -> Profile {
    profile_of(
        user,
        workouts.iter().filter(|w| w.user == user.id),
        catalog,
        as_of,
        lookback_days,
    )
}

/// The profiles of `users`, computed in parallel, sorted by user id (byte order). Workouts are
/// grouped per user once; workouts of users not in `users` are ignored.
pub fn profiles_all(
    users: &[User],
    workouts: &[Workout],
    catalog: &Catalog,
    as_of: &AsOf,
    lookback_days: u32,
) -> Vec<Profile> {
    let mut by_user: HashMap<&str, Vec<&Workout>> = HashMap::new();
    for w in workouts {
        by_user.entry(w.user.as_str()).or_default().push(w);
    }
    let mut out: Vec<Profile> = crate::par::map(users, |user| {
        let own = by_user.get(user.id.as_str()).map_or(&[][..], Vec::as_slice);
        profile_of(user, own.iter().copied(), catalog, as_of, lookback_days)
    });
    out.sort_by(|a, b| a.user.cmp(&b.user));
    out
}

/// What one exercise's workouts in the span add up to.
#[derive(Default)]
struct Tally {
    one_rep_max: Option<f64>,
    max_reps: Option<f64>,
    reps_per_min: Option<f64>,
    best_speed: Option<f64>,
    best_distance: Option<f64>,
    distance: f64,
    duration: f64,
}

/// Keeps the larger of `best` and `value` (non-finite values are no data).
fn keep_max(best: &mut Option<f64>, value: f64) {
    if value.is_finite() && best.is_none_or(|b| value > b) {
        *best = Some(value);
    }
}

/// The start of the span: `as_of − lookback_days × 24 h` (none when it is before chrono's range).
fn span_start(as_of: DateTime<FixedOffset>, lookback_days: u32) -> Option<DateTime<FixedOffset>> {
    TimeDelta::try_hours(i64::from(lookback_days) * 24).and_then(|d| as_of.checked_sub_signed(d))
}

fn profile_of<'a>(
    user: &User,
    workouts: impl Iterator<Item = &'a Workout>,
    catalog: &Catalog,
    as_of: &AsOf,
    lookback_days: u32,
) -> Profile {
    let lookback_days = lookback_days.max(1);
    let from = span_start(as_of.time, lookback_days);
    let mut span: Vec<&Workout> = workouts
        .filter(|w| w.start <= as_of.time && from.is_none_or(|f| f <= w.start))
        .collect();
    // Sums in a fixed order: the result does not depend on the input order.
    span.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));

    let mut tallies: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut vo2: Option<f64> = None;
    for w in &span {
        let t = tallies.entry(w.exercise.as_str()).or_default();
        let duration = w.duration_s();
        t.duration += duration;
        for set in &w.sets {
            keep_max(&mut t.max_reps, f64::from(set.reps));
            if let Some(e) = set.load().and_then(|load| epley(load, set.reps)) {
                keep_max(&mut t.one_rep_max, e);
            }
        }
        if !w.sets.is_empty()
            && duration >= REPS_PER_MIN_MIN_S
            && catalog.category(&w.exercise) == Some(Category::Bodyweight)
        {
            let reps: f64 = w.sets.iter().map(|s| f64::from(s.reps)).sum();
            keep_max(&mut t.reps_per_min, reps / (duration / 60.0));
        }
        if let Some(distance) = w.distance_m {
            t.distance += distance;
            keep_max(&mut t.best_distance, distance);
            if duration >= BEST_SPEED_MIN_S {
                keep_max(&mut t.best_speed, distance / duration * 3.6);
            }
            if w.exercise == VO2_EXERCISE && duration >= VO2_MIN_S {
                let grade = w.incline_pct.unwrap_or(0.0) / 100.0;
                keep_max(&mut vo2, acsm_vo2(distance / (duration / 60.0), grade));
            }
        }
    }

    let weeks = f64::from(lookback_days) / 7.0;
    let exercises = tallies
        .into_iter()
        // Weekly totals are numbers, never null: an exercise whose totals are not finite has
        // undefined figures and is left out (defence in depth, see the module's decisions).
        .filter(|(_, t)| t.distance.is_finite() && t.duration.is_finite())
        .map(|(exercise, t)| {
            let figures = ExerciseProfile {
                one_rep_max_kg: t.one_rep_max,
                max_reps: t.max_reps,
                max_reps_per_min: t.reps_per_min,
                best_speed_kmh: t.best_speed,
                best_distance_m: t.best_distance,
                weekly_distance_m: t.distance / weeks,
                weekly_duration_s: t.duration / weeks,
            };
            (exercise.to_owned(), figures)
        })
        .collect();
    Profile {
        user: user.id.clone(),
        as_of: as_of.clone(),
        lookback_days,
        body_weight_kg: user.body_weight_kg,
        weekly_workouts: span.len() as f64 / weeks,
        vo2_est: vo2,
        exercises,
    }
}

// ----- writing ----------------------------------------------------------------------------------

fn as_of_text<S: Serializer>(as_of: &AsOf, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&as_of.text)
}

fn number<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
    crate::tree::serialize_number(value, serializer)
}

fn optional_number<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => crate::tree::serialize_number(v, serializer),
        None => serializer.serialize_none(),
    }
}

// ----- reading ----------------------------------------------------------------------------------

/// Reads profiles, one JSON object per line (as `challenge profile` writes them). Every bad
/// line is a rejection with its line number and a reason.
pub fn read_profiles(text: &str) -> ReadReport<Profile> {
    records::read_lines(text, parse_profile)
}

/// Keeps the last profile of each user, sorted by user id.
pub fn upsert_profiles(profiles: Vec<Profile>) -> Vec<Profile> {
    let mut by_user: BTreeMap<String, Profile> = BTreeMap::new();
    for p in profiles {
        by_user.insert(p.user.clone(), p);
    }
    by_user.into_values().collect()
}

/// Parses one profile object.
pub fn parse_profile(map: &Map<String, Value>) -> Result<Profile, String> {
    let user = match map.get("user") {
        None | Some(Value::Null) => return Err("missing `user`".into()),
        Some(Value::String(s)) if s.is_empty() => return Err("`user` is empty".into()),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("`user` must be a string".into()),
    };
    let as_of = match map.get("as_of") {
        None | Some(Value::Null) => return Err("missing `as_of`".into()),
        Some(Value::String(s)) => AsOf::parse(s).ok_or_else(|| {
            format!("`as_of` must be an RFC 3339 time with an offset, such as 2026-09-01T00:00:00+08:00; found `{s}`")
        })?,
        Some(_) => return Err("`as_of` must be a time string".into()),
    };
    let lookback_days = match required_number(map, "lookback_days", "")? {
        x if x >= 1.0 && x.fract() == 0.0 && x <= f64::from(u32::MAX) => x as u32,
        x => {
            return Err(format!(
                "`lookback_days` must be a whole number, 1 or more; found {x}"
            ))
        }
    };
    let exercises = match map.get("exercises") {
        None | Some(Value::Null) => return Err("missing `exercises`".into()),
        Some(Value::Object(items)) => items
            .iter()
            .map(|(id, v)| parse_exercise(id, v).map(|e| (id.clone(), e)))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err("`exercises` must be an object of figures by exercise id".into()),
    };
    Ok(Profile {
        user,
        as_of,
        lookback_days,
        body_weight_kg: optional_number_field(map, "body_weight_kg", "")?,
        weekly_workouts: required_number(map, "weekly_workouts", "")?,
        vo2_est: optional_number_field(map, "vo2_est", "")?,
        exercises,
    })
}

fn parse_exercise(id: &str, value: &Value) -> Result<ExerciseProfile, String> {
    if id.is_empty() {
        return Err("an exercise id in `exercises` is empty".into());
    }
    let Value::Object(map) = value else {
        return Err(format!("`exercises.{id}` must be an object of figures"));
    };
    let at = format!("exercises.{id}.");
    Ok(ExerciseProfile {
        one_rep_max_kg: optional_number_field(map, "one_rep_max_kg", &at)?,
        max_reps: optional_number_field(map, "max_reps", &at)?,
        max_reps_per_min: optional_number_field(map, "max_reps_per_min", &at)?,
        best_speed_kmh: optional_number_field(map, "best_speed_kmh", &at)?,
        best_distance_m: optional_number_field(map, "best_distance_m", &at)?,
        weekly_distance_m: required_number(map, "weekly_distance_m", &at)?,
        weekly_duration_s: required_number(map, "weekly_duration_s", &at)?,
    })
}

/// A number, 0 or more; `prefix` locates nested keys in messages (`exercises.bike.`).
fn required_number(map: &Map<String, Value>, key: &str, prefix: &str) -> Result<f64, String> {
    optional_number_field(map, key, prefix)?.ok_or_else(|| format!("missing `{prefix}{key}`"))
}

fn optional_number_field(
    map: &Map<String, Value>,
    key: &str,
    prefix: &str,
) -> Result<Option<f64>, String> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if x.is_finite() && x >= 0.0 => Ok(Some(x)),
            _ => Err(format!(
                "`{prefix}{key}` must be a number, 0 or more; found {n}"
            )),
        },
        Some(_) => Err(format!("`{prefix}{key}` must be a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::WorkoutSet;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    fn at(text: &str) -> DateTime<FixedOffset> {
        records::parse_time(text).unwrap()
    }

    fn workout(id: &str, exercise: &str, start: &str, end: &str) -> Workout {
        Workout {
            id: id.into(),
            user: "u-01".into(),
            exercise: exercise.into(),
            gym: None,
            machine: None,
            start: at(start),
            end: at(end),
            sets: Vec::new(),
            distance_m: None,
            calories_kcal: None,
            avg_hr_bpm: None,
            incline_pct: None,
        }
    }

    fn sets(pairs: &[(u32, Option<f64>)]) -> Vec<WorkoutSet> {
        pairs
            .iter()
            .map(|&(reps, weight_kg)| WorkoutSet { reps, weight_kg })
            .collect()
    }

    fn as_of() -> AsOf {
        AsOf::parse("2026-09-01T00:00:00+08:00").unwrap()
    }

    #[test]
    fn epley_matches_published_values() {
        // Epley (1985): 100 kg × 5 reps → 116.67 kg.
        assert!(close(epley(100.0, 5).unwrap(), 116.67, 0.005));
        assert!(close(epley(45.0, 10).unwrap(), 60.0, 1e-12));
        assert_eq!(epley(70.0, 1), Some(70.0));
        assert_eq!(epley(100.0, 11), None);
        assert_eq!(epley(100.0, 0), None);
        assert_eq!(epley(0.0, 5), None);
        assert_eq!(epley(f64::NAN, 5), None);
    }

    #[test]
    fn acsm_matches_published_and_hand_values() {
        // ACSM running, 10 km/h (166.67 m/min) on the flat: 3.5 + 0.2 × 166.67 = 36.83.
        assert!(close(acsm_vo2(10_000.0 / 60.0, 0.0), 36.83, 0.005));
        // ACSM walking, 5 km/h (83.33 m/min) at 5 %: 3.5 + 8.333 + 1.8 × 83.33 × 0.05 = 19.33.
        assert!(close(
            acsm_vo2(5_000.0 / 60.0, 0.05),
            3.5 + 8.0 + 1.0 / 3.0 + 7.5,
            1e-9
        ));
        // The boundary: 100 m/min is still walking.
        assert!(close(acsm_vo2(100.0, 0.0), 13.5, 1e-12));
        assert!(close(acsm_vo2(100.1, 0.0), 23.52, 1e-9));
    }

    #[test]
    fn figures_follow_data_md() {
        let mut lp = workout(
            "a-1",
            "leg_press",
            "2026-08-10T07:00:00+08:00",
            "2026-08-10T07:12:30+08:00",
        );
        lp.sets = sets(&[
            (10, Some(45.0)),
            (12, Some(80.0)),
            (15, None),
            (1, Some(70.0)),
        ]);
        let mut pu = workout(
            "a-2",
            "push_up",
            "2026-08-11T07:00:00+08:00",
            "2026-08-11T07:02:00+08:00",
        );
        pu.sets = sets(&[(25, None), (15, None)]);
        let mut short = workout(
            "a-3",
            "push_up",
            "2026-08-12T07:00:00+08:00",
            "2026-08-12T07:00:30+08:00",
        );
        short.sets = sets(&[(30, None)]);
        let mut run = workout(
            "a-4",
            "treadmill",
            "2026-08-13T07:00:00+08:00",
            "2026-08-13T07:20:00+08:00",
        );
        run.distance_m = Some(3000.0);
        run.incline_pct = Some(2.0);
        let mut sprint = workout(
            "a-5",
            "treadmill",
            "2026-08-14T07:00:00+08:00",
            "2026-08-14T07:04:00+08:00",
        );
        sprint.distance_m = Some(1000.0);
        let old = workout(
            "a-6",
            "bike",
            "2026-05-01T07:00:00+08:00",
            "2026-05-01T08:00:00+08:00",
        );
        let later = workout(
            "a-7",
            "bike",
            "2026-09-01T00:00:01+08:00",
            "2026-09-01T01:00:00+08:00",
        );
        let mut other = workout(
            "a-8",
            "bike",
            "2026-08-14T07:00:00+08:00",
            "2026-08-14T08:00:00+08:00",
        );
        other.user = "u-02".into();
        let workouts = vec![lp, pu, short, run, sprint, old, later, other];
        let user = User {
            body_weight_kg: Some(72.5),
            ..User::unknown("u-01")
        };
        let p = profile(&user, &workouts, &Catalog::builtin(), &as_of(), 28);
        assert_eq!(p.body_weight_kg, Some(72.5));
        assert_eq!(p.weekly_workouts, 5.0 / 4.0);
        assert_eq!(
            p.exercises.keys().collect::<Vec<_>>(),
            ["leg_press", "push_up", "treadmill"]
        );
        let lp = &p.exercises["leg_press"];
        assert_eq!(lp.one_rep_max_kg, Some(70.0)); // 45 × 4/3 = 60 < 70 (1 rep)
        assert_eq!(lp.max_reps, Some(15.0));
        assert_eq!(lp.max_reps_per_min, None); // not bodyweight
        assert_eq!(lp.weekly_duration_s, 750.0 / 4.0);
        let pu = &p.exercises["push_up"];
        assert_eq!(pu.max_reps_per_min, Some(20.0)); // 40 / 2 min; the 30 s workout is out
        assert_eq!(pu.max_reps, Some(30.0));
        assert_eq!(pu.one_rep_max_kg, None);
        let tm = &p.exercises["treadmill"];
        assert_eq!(tm.best_speed_kmh, Some(9.0)); // the 4-minute sprint is out
        assert_eq!(tm.best_distance_m, Some(3000.0));
        assert_eq!(tm.weekly_distance_m, 1000.0);
        // 150 m/min at 2 %: 3.5 + 30 + 0.9 × 150 × 0.02.
        assert!(close(p.vo2_est.unwrap(), 36.2, 1e-9));
        assert_eq!(
            p.figure(ProfileFigure::BestSpeed, Some("treadmill")),
            Some(9.0)
        );
        assert_eq!(p.figure(ProfileFigure::BestSpeed, Some("bike")), None);
        assert_eq!(p.figure(ProfileFigure::OneRepMax, Some("push_up")), None);
        assert_eq!(p.figure(ProfileFigure::BodyWeight, None), Some(72.5));
    }

    #[test]
    fn the_span_is_inclusive_at_both_ends() {
        let first = workout(
            "b-1",
            "bike",
            "2026-08-25T00:00:00+08:00",
            "2026-08-25T00:10:00+08:00",
        );
        let last = workout(
            "b-2",
            "bike",
            "2026-08-31T16:00:00Z",
            "2026-08-31T16:10:00Z",
        );
        let before = workout(
            "b-3",
            "bike",
            "2026-08-24T23:59:59+08:00",
            "2026-08-25T00:10:00+08:00",
        );
        let p = profile(
            &User::unknown("u-01"),
            &[first, last, before],
            &Catalog::builtin(),
            &as_of(),
            7,
        );
        assert_eq!(p.weekly_workouts, 2.0);
    }

    #[test]
    fn no_history_gives_zeros_and_nulls() {
        let p = profile(
            &User::unknown("u-09"),
            &[],
            &Catalog::builtin(),
            &as_of(),
            90,
        );
        assert_eq!(p.weekly_workouts, 0.0);
        assert!(p.exercises.is_empty());
        assert_eq!(p.vo2_est, None);
        let json = serde_json::to_string(&p).unwrap();
        assert_eq!(
            json,
            r#"{"user":"u-09","as_of":"2026-09-01T00:00:00+08:00","lookback_days":90,"body_weight_kg":null,"weekly_workouts":0,"vo2_est":null,"exercises":{}}"#
        );
    }

    /// Workouts built in code, past the readers' bounds: no figure is an infinity, a NaN or
    /// a `null` where a number is promised.
    #[test]
    fn non_finite_figures_are_undefined() {
        let mut press = workout(
            "w-1",
            "leg_press",
            "2026-08-20T07:00:00+08:00",
            "2026-08-20T07:30:00+08:00",
        );
        press.sets = sets(&[
            (3, Some(1e308)),
            (5, Some(f64::INFINITY)),
            (2, Some(f64::NAN)),
        ]);
        let mut run = workout(
            "w-2",
            "treadmill",
            "2026-08-21T07:00:00+08:00",
            "2026-08-21T07:30:00+08:00",
        );
        run.distance_m = Some(1.7e308);
        let mut run2 = run.clone();
        run2.id = "w-3".into();
        let p = profile(
            &User::unknown("u-01"),
            &[press, run, run2],
            &Catalog::builtin(),
            &as_of(),
            90,
        );
        // 1.7e308 × (1 + 5/30) overflows, infinity and NaN are no data: the one-rep max is
        // that of the first set, 1e308 × (1 + 3/30), which is finite.
        let press = &p.exercises["leg_press"];
        assert_eq!(press.one_rep_max_kg, Some(1e308 * (1.0 + 3.0 / 30.0)));
        assert_eq!(press.max_reps, Some(5.0));
        // Two distances of 1.7e308 overflow the weekly total: the treadmill is left out.
        assert!(!p.exercises.contains_key("treadmill"));
        assert!(p.vo2_est.is_some_and(f64::is_finite));
        let json = serde_json::to_value(&p).unwrap();
        assert!(json["weekly_workouts"].is_number());
        assert!(json["exercises"]["leg_press"]["weekly_duration_s"].is_number());
    }

    #[test]
    fn profiles_do_not_depend_on_the_input_order() {
        let mut ws = Vec::new();
        for i in 0..20u32 {
            let mut w = workout(
                &format!("c-{i}"),
                "treadmill",
                "2026-08-10T07:00:00+08:00",
                "2026-08-10T07:11:00+08:00",
            );
            w.distance_m = Some(0.1 * f64::from(i) + 1000.3);
            ws.push(w);
        }
        let users = [User::unknown("u-01")];
        let a = profiles_all(&users, &ws, &Catalog::builtin(), &as_of(), 90);
        ws.reverse();
        let b = profiles_all(&users, &ws, &Catalog::builtin(), &as_of(), 90);
        assert_eq!(a, b);
    }

    #[test]
    fn profiles_read_back() {
        let user = User::unknown("u-01");
        let mut w = workout(
            "d-1",
            "treadmill",
            "2026-08-10T07:00:00+08:00",
            "2026-08-10T07:30:00+08:00",
        );
        w.distance_m = Some(5000.0);
        let p = profile(&user, &[w], &Catalog::builtin(), &as_of(), 90);
        let line = serde_json::to_string(&p).unwrap();
        let report = read_profiles(&format!("{line}\n\n{line}\n"));
        assert_eq!(report.rejected, []);
        assert_eq!(report.accepted.len(), 2);
        assert_eq!(report.accepted[0].1, p);
        assert_eq!(upsert_profiles(report.into_records()).len(), 1);
    }

    #[test]
    fn bad_profiles_are_rejected_with_reasons() {
        let text = [
            r#"{"as_of": "2026-09-01T00:00:00Z", "lookback_days": 90, "weekly_workouts": 1, "exercises": {}}"#,
            r#"{"user": "u", "as_of": "2026-09-01T00:00:00", "lookback_days": 90, "weekly_workouts": 1, "exercises": {}}"#,
            r#"{"user": "u", "as_of": "2026-09-01T00:00:00Z", "lookback_days": 0, "weekly_workouts": 1, "exercises": {}}"#,
            r#"{"user": "u", "as_of": "2026-09-01T00:00:00Z", "lookback_days": 90, "weekly_workouts": -1, "exercises": {}}"#,
            r#"{"user": "u", "as_of": "2026-09-01T00:00:00Z", "lookback_days": 90, "weekly_workouts": 1, "exercises": {"bike": {"weekly_distance_m": 1}}}"#,
            r#"{"user": "u", "as_of": "2026-09-01T00:00:00Z", "lookback_days": 90, "weekly_workouts": 1, "exercises": {"bike": {"best_speed_kmh": "fast", "weekly_distance_m": 1, "weekly_duration_s": 1}}}"#,
            r#"[1]"#,
            r#"{"user": "u", "as_of": "2026-09-01T00:00:00Z", "lookback_days": 90, "weekly_workouts": 1, "vo2_est": null, "extra": 1, "exercises": {"bike": {"best_speed_kmh": null, "weekly_distance_m": 1, "weekly_duration_s": 1}}}"#,
        ]
        .join("\n");
        let report = read_profiles(&text);
        let reasons: Vec<&str> = report.rejected.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(report.accepted.len(), 1);
        assert_eq!(reasons.len(), 7);
        assert!(reasons[0].contains("missing `user`"));
        assert!(reasons[1].contains("offset"));
        assert!(reasons[2].contains("lookback_days"));
        assert!(reasons[3].contains("weekly_workouts"));
        assert!(reasons[4].contains("exercises.bike.weekly_duration_s"));
        assert!(reasons[5].contains("exercises.bike.best_speed_kmh"));
        assert!(reasons[6].contains("not a JSON object"));
    }
}
