//! Structure-aware fuzzing of the evaluator: valid-shaped challenges and workouts built from
//! the fuzzer's bytes, checked against the laws of language.md §8 on every node of the result:
//! progress in [0, 1], progress 1 exactly when met, never met and failed at once, the same
//! result whatever the order of the workouts, the summary equal to the top of the tree, and
//! the yes/no walk (`completed_prepared`, which stops early) agreeing with the status. Some
//! workouts carry hostile figures past the readers' bounds (1e300, 1.7e308, infinity: built in
//! code, as a library caller could): a met metric has a defined value, and every number
//! written is finite (never `null` where a number is promised).
#![no_main]

use arbitrary::{Arbitrary, Result, Unstructured};
use chrono::{Duration, NaiveDate, TimeZone};
use libfuzzer_sys::fuzz_target;
use rules_core::check;
use rules_core::diagnostic::has_errors;
use rules_core::eval::{self, AsOf, Plan};
use rules_core::records::{User, Workout, WorkoutSet};
use rules_core::span::{Span, Spanned};
use rules_core::tree::{
    Aggregate, Challenge, CmpOp, Condition, Count, DeclKind, Goal, GoalOp, Metric, Period, Quantity,
    Target, Value, Window, TREE_VERSION,
};
use rules_core::units::{Dimension, UNITS};
use rules_core::vocab::{Field, Measure};
use rules_core::Catalog;

const EXERCISES: &[&str] = &["leg_press", "push_up", "treadmill", "bike", "cardio", "strength", "bodyweight"];
const WORKOUT_EXERCISES: &[&str] = &["leg_press", "chest_press", "push_up", "treadmill", "bike", "zumba"];
const ZONES: &[&str] = &["UTC", "Asia/Singapore", "Europe/London", "America/Santiago", "Pacific/Apia"];
const WEEKDAYS: &[&str] = &["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
/// Figures past the bounds of a record (data.md 1.1): sums of them overflow.
const HOSTILE: &[f64] = &[1e9, 1e300, 1.7e308, f64::MAX, f64::INFINITY];

/// `value`, or now and then a hostile figure instead.
fn hostile(u: &mut Unstructured<'_>, value: f64) -> Result<f64> {
    Ok(if u.ratio(1, 16)? { *pick(u, HOSTILE)? } else { value })
}

fn s(text: &str) -> Spanned<String> {
    Spanned::bare(text.to_owned())
}

fn pick<'a, T>(u: &mut Unstructured<'_>, items: &'a [T]) -> Result<&'a T> {
    u.choose(items)
}

fn quantity(u: &mut Unstructured<'_>, dimension: Dimension) -> Result<Quantity> {
    let units: Vec<&str> = UNITS.iter().filter(|x| x.dimension == dimension).map(|x| x.symbol).collect();
    let unit = if units.is_empty() { None } else { Some(*pick(u, &units)?) };
    let value = f64::from(u.int_in_range(0..=400u32)?) / f64::from(*pick(u, &[1u32, 2, 4, 10])?);
    Ok(Quantity::new(value, unit))
}

fn condition(u: &mut Unstructured<'_>, set_level: bool, depth: u32) -> Result<Condition> {
    let span = Span::NONE;
    let kind = if depth >= 2 { 3 } else { u.int_in_range(0..=4u8)? };
    Ok(match kind {
        0 | 1 => {
            let terms = (0..u.int_in_range(2..=3usize)?)
                .map(|_| condition(u, set_level, depth + 1))
                .collect::<Result<Vec<_>>>()?;
            if kind == 0 {
                Condition::And { terms, span }
            } else {
                Condition::Or { terms, span }
            }
        }
        2 => Condition::Not { term: Box::new(condition(u, set_level, depth + 1)?), span },
        _ => {
            let mut fields = vec!["gym", "machine", "hour", "weekday", "exercise", "duration", "distance", "incline"];
            if set_level {
                fields.extend(["reps", "weight", "volume"]);
            }
            let field = *pick(u, &fields)?;
            let value = |u: &mut Unstructured<'_>| -> Result<Value> {
                Ok(match Field::from_name(field) {
                    Some(Field::Gym) => Value::Str(s(pick(u, &["gym-01", "gym-02"])?)),
                    Some(Field::Machine) => Value::Str(s(pick(u, &["m-1", "m-2"])?)),
                    Some(Field::Exercise) => Value::Str(s(pick(u, WORKOUT_EXERCISES)?)),
                    Some(Field::Weekday) => Value::Str(s(pick(u, WEEKDAYS)?)),
                    Some(Field::Hour) => Value::Quantity(Quantity::new(f64::from(u.int_in_range(0..=23u8)?), None)),
                    Some(Field::Measure(m)) => Value::Quantity(quantity(u, m.dimension())?),
                    None => Value::Str(s("?")),
                })
            };
            let text = matches!(field, "gym" | "machine" | "exercise" | "weekday");
            if u.ratio(1, 4)? {
                let values = (0..u.int_in_range(1..=3usize)?).map(|_| value(u)).collect::<Result<Vec<_>>>()?;
                Condition::In { field: s(field), values, span }
            } else {
                let ops: &[CmpOp] = if text { &[CmpOp::Eq, CmpOp::Ne] } else { &CmpOp::ALL };
                Condition::Compare { field: s(field), op: *pick(u, ops)?, value: value(u)?, span }
            }
        }
    })
}

fn metric(u: &mut Unstructured<'_>) -> Result<Metric> {
    let aggregate = *pick(u, &[Aggregate::Sum, Aggregate::Count, Aggregate::Max, Aggregate::Min, Aggregate::Avg])?;
    let (measure, dimension, set_level) = if aggregate == Aggregate::Count {
        let unit = *pick(u, &["workouts", "sets", "days"])?;
        (unit, Dimension::Count, unit != "workouts")
    } else {
        let m = *pick(u, &Measure::ALL)?;
        (m.name(), m.dimension(), m.level() == rules_core::vocab::Level::Set)
    };
    let of = (0..u.int_in_range(0..=2usize)?).map(|_| Ok(s(pick(u, EXERCISES)?))).collect::<Result<Vec<_>>>()?;
    let where_ = if u.ratio(1, 3)? { Some(condition(u, set_level, 0)?) } else { None };
    Ok(Metric {
        aggregate,
        measure: s(measure),
        of,
        where_,
        op: *pick(u, &[GoalOp::Ge, GoalOp::Le])?,
        target: Target::Quantity(quantity(u, dimension)?),
        span: Span::NONE,
    })
}

/// A goal whose period blocks only hold shorter periods (`inside`: the shortest period that
/// encloses it, `None` at the top; periods are not allowed inside `in one workout`).
fn goal(u: &mut Unstructured<'_>, depth: u32, inside: Option<Period>, in_workout: bool) -> Result<Goal> {
    let span = Span::NONE;
    if depth >= 4 || u.ratio(2, 5)? {
        return Ok(Goal::Metric(metric(u)?));
    }
    let periods: Vec<Period> = Period::ALL
        .into_iter()
        .filter(|p| !in_workout && inside.is_none_or(|outer| *p < outer))
        .collect();
    let kind = u.int_in_range(0..=6u8)?;
    let children = |u: &mut Unstructured<'_>| -> Result<Vec<Goal>> {
        (0..u.int_in_range(1..=3usize)?).map(|_| goal(u, depth + 1, inside, in_workout)).collect()
    };
    Ok(match kind {
        0 => Goal::All { goals: children(u)?, span },
        1 => Goal::Any { goals: children(u)?, span },
        2 => {
            let goals = children(u)?;
            let n = u.int_in_range(1..=goals.len() as u64)?;
            Goal::AtLeast { count: Count::Literal(Spanned::bare(n)), goals, span }
        }
        3 if !in_workout => Goal::OneWorkout { goal: Box::new(goal(u, depth + 1, inside, true)?), span },
        3..=6 if !periods.is_empty() => {
            let period = *pick(u, &periods)?;
            let child = Box::new(goal(u, depth + 1, Some(period), in_workout)?);
            let count = Count::Literal(Spanned::bare(u.int_in_range(1..=5u64)?));
            match kind {
                4 => Goal::On { count, period, goal: child, span },
                5 => Goal::Streak { count, period, goal: child, span },
                _ => Goal::Every { period, goal: child, span },
            }
        }
        _ => Goal::Metric(metric(u)?),
    })
}

#[derive(Debug)]
struct Case {
    challenge: Challenge,
    workouts: Vec<Workout>,
    as_of: AsOf,
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let base = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default();
        let start = base + Duration::days(i64::from(u.int_in_range(0..=360u16)?));
        let end = start + Duration::days(i64::from(u.int_in_range(0..=70u16)?));
        let zone = *pick(u, ZONES)?;
        let gyms = if u.ratio(1, 4)? { vec![s("gym-01")] } else { Vec::new() };
        let challenge = Challenge {
            version: TREE_VERSION,
            kind: DeclKind::Challenge,
            id: s("fuzz"),
            title: s("Fuzz"),
            description: None,
            window: Window { start: Spanned::bare(start), end: Spanned::bare(end) },
            timezone: s(zone),
            groups: Vec::new(),
            gyms,
            teams: Vec::new(),
            rewards: Vec::new(),
            tiers: Vec::new(),
            params: Vec::new(),
            goal: goal(u, 0, None, false)?,
            span: Span::NONE,
        };
        let offset = chrono::FixedOffset::east_opt(3600 * i32::from(u.int_in_range(-11..=13i8)?)).unwrap_or_else(|| unreachable!());
        let mut workouts = Vec::new();
        for n in 0..u.int_in_range(0..=14usize)? {
            let day = start + Duration::days(i64::from(u.int_in_range(0..=75u16)?)) - Duration::days(2);
            let Some(local) = day.and_hms_opt(u.int_in_range(0..=23u32)?, u.int_in_range(0..=59u32)?, 0) else { continue };
            let Some(begin) = offset.from_local_datetime(&local).single() else { continue };
            let sets = (0..u.int_in_range(0..=4usize)?)
                .map(|_| {
                    Ok(WorkoutSet {
                        reps: u.int_in_range(0..=30u32)?,
                        weight_kg: if u.ratio(2, 3)? {
                            let w = f64::from(u.int_in_range(0..=80u32)?) * 2.5;
                            Some(hostile(u, w)?)
                        } else {
                            None
                        },
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let optional = |u: &mut Unstructured<'_>, max: u32| -> Result<Option<f64>> {
                Ok(if u.ratio(1, 2)? {
                    let v = f64::from(u.int_in_range(0..=max)?);
                    Some(hostile(u, v)?)
                } else {
                    None
                })
            };
            workouts.push(Workout {
                id: format!("w-{n}"),
                user: "u-1".to_owned(),
                exercise: (*pick(u, WORKOUT_EXERCISES)?).to_owned(),
                gym: if u.ratio(3, 4)? { Some((*pick(u, &["gym-01", "gym-02"])?).to_owned()) } else { None },
                machine: if u.ratio(1, 2)? { Some((*pick(u, &["m-1", "m-2"])?).to_owned()) } else { None },
                start: begin,
                end: begin + Duration::seconds(i64::from(u.int_in_range(0..=7200u32)?)),
                sets,
                distance_m: optional(u, 20_000)?,
                calories_kcal: optional(u, 900)?,
                avg_hr_bpm: optional(u, 190)?,
                incline_pct: optional(u, 15)?,
            });
        }
        let as_of_day = start + Duration::days(i64::from(u.int_in_range(0..=80u16)?)) - Duration::days(3);
        let as_of_time = as_of_day.and_hms_opt(u.int_in_range(0..=23u32)?, 0, 0).unwrap_or_default();
        let as_of = AsOf::from_time(offset.from_utc_datetime(&as_of_time));
        Ok(Case { challenge, workouts, as_of })
    }
}

fn check_node(node: &serde_json::Value) {
    let met = node["met"].as_bool().unwrap_or_default();
    let failed = node["failed"].as_bool().unwrap_or_default();
    let progress = node["progress"].as_f64().unwrap_or(-1.0);
    assert!((0.0..=1.0).contains(&progress), "progress {progress} out of range: {node}");
    assert_eq!(met, progress == 1.0, "progress is 1 exactly when met: {node}");
    assert!(!(met && failed), "met and failed at once: {node}");
    if node["kind"] == "metric" {
        // Every number written is finite: an amount is a number or the whole value is null.
        assert!(node["target"]["value"].is_number(), "target: {node}");
        let value = &node["value"];
        assert!(value.is_null() || value["value"].is_number(), "a value written as null inside an amount: {node}");
        // A met metric has a defined value (limits are met on a value too: a sum of nothing is 0).
        assert!(!met || value["value"].is_number(), "met on an undefined value: {node}");
    }
    for key in ["goals"] {
        if let Some(children) = node[key].as_array() {
            children.iter().for_each(check_node);
        }
    }
    if node["goal"].is_object() {
        check_node(&node["goal"]);
    }
    if let Some(periods) = node["periods"].as_array() {
        for p in periods {
            let progress = p["progress"].as_f64().unwrap_or(-1.0);
            assert!((0.0..=1.0).contains(&progress), "period progress {progress}: {p}");
            assert_eq!(p["met"].as_bool().unwrap_or_default(), progress == 1.0, "period: {p}");
        }
    }
}

fuzz_target!(|case: Case| {
    let catalog = Catalog::builtin();
    if has_errors(&check::check(&case.challenge, &catalog)) {
        return;
    }
    let Ok(plan) = Plan::compile(&case.challenge, &catalog) else {
        return;
    };
    let user = User::unknown("u-1");
    let result = eval::evaluate(&plan, &user, &case.workouts, &case.as_of);
    let json = serde_json::to_value(&result).unwrap_or_default();
    check_node(&json["tree"]);
    let mut reversed = case.workouts.clone();
    reversed.reverse();
    let again = serde_json::to_value(eval::evaluate(&plan, &user, &reversed, &case.as_of)).unwrap_or_default();
    assert_eq!(json, again, "the result depends on the order of the workouts");
    // The summary is the top of the tree; the yes/no walk, which stops early, agrees with it.
    let prepared = eval::Prepared::for_user(&user.id, &case.workouts);
    let summary = eval::summarize_prepared(&plan, &user, &prepared, &case.as_of);
    assert_eq!(summary.status, result.status, "summary status");
    assert_eq!(summary.progress.to_bits(), result.progress.to_bits(), "summary progress");
    assert_eq!(
        eval::completed_prepared(&plan, &user, &prepared, &case.as_of),
        result.status == eval::Status::Completed,
        "completed_prepared against the status {:?}",
        result.status
    );
});
