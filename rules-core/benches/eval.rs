//! Evaluation throughput: evaluations per second of a compiled plan for one user over a
//! 30-workout month (the requirement: at least 200,000/s on one core for the National Day
//! challenge of language.md §1), and of `evaluate_all` over many users; and a 500-member team
//! against its 500 members evaluated one by one (`team_500_members_month`).
//!
//! ```sh
//! cargo bench -p rules-core --bench eval -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! The workouts come from a tiny linear congruential generator with a fixed seed, so every run
//! measures the same data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "benchmark setup: a broken fixture should stop the run"
)]
#![allow(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

use std::hint::black_box;

use chrono::{DateTime, Duration, FixedOffset};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rules_core::eval::{evaluate, evaluate_all, evaluate_team, AsOf, Plan, Prepared, TeamWorkouts};
use rules_core::records::{User, Workout, WorkoutSet};
use rules_core::{Catalog, Challenge};
use serde_json::{json, Value};

/// The example of language.md §1, as the JSON tree of §9.
fn national_day() -> Value {
    json!({
        "version": 1, "kind": "challenge", "id": "national-day-2026",
        "title": "National Day Challenge 2026", "description": null,
        "window": {"start": "2026-08-01", "end": "2026-08-31"},
        "timezone": "Asia/Singapore",
        "groups": ["nsfit", "staff"], "gyms": ["gym-01", "gym-02"],
        "rewards": [{"name": "National Day finisher", "points": 100}], "params": [],
        "goal": {
            "kind": "every", "period": "day",
            "goal": {"kind": "any", "goals": [
                {"kind": "metric", "aggregate": "sum", "measure": "reps", "of": ["leg_press"],
                 "where": {"kind": "compare", "field": "weight", "op": ">=", "value": {"value": 40, "unit": "kg"}},
                 "op": ">=", "target": {"value": 30, "unit": null}},
                {"kind": "metric", "aggregate": "sum", "measure": "duration", "of": ["cardio"],
                 "where": null, "op": ">=", "target": {"value": 20, "unit": "min"}}
            ]}
        }
    })
}

/// A challenge over August in Singapore with another goal.
fn august(id: &str, goal: Value) -> Value {
    let mut c = national_day();
    c["id"] = json!(id);
    c["groups"] = json!([]);
    c["gyms"] = json!([]);
    c["goal"] = goal;
    c
}

fn plans() -> Vec<(&'static str, Plan)> {
    let cardio30 = json!({"kind": "metric", "aggregate": "sum", "measure": "duration", "of": ["cardio"],
        "where": null, "op": ">=", "target": {"value": 30, "unit": "min"}});
    let trees = vec![
        ("national_day", national_day()),
        (
            "weekly_on_3_days",
            august(
                "weekly",
                json!({"kind": "every", "period": "week",
                "goal": {"kind": "on", "count": 3, "period": "day", "goal": cardio30}}),
            ),
        ),
        (
            "streak_7_days",
            august(
                "streak",
                json!({"kind": "streak", "count": 7, "period": "day", "goal": cardio30}),
            ),
        ),
        (
            "one_workout",
            august(
                "one",
                json!({"kind": "one_workout", "goal": {"kind": "all", "goals": [
                {"kind": "metric", "aggregate": "sum", "measure": "distance", "of": ["treadmill"],
                 "where": null, "op": ">=", "target": {"value": 5, "unit": "km"}},
                {"kind": "metric", "aggregate": "max", "measure": "heart_rate", "of": [],
                 "where": null, "op": "<=", "target": {"value": 160, "unit": "bpm"}}]}}),
            ),
        ),
        (
            "conditions_month",
            august(
                "cond",
                json!({"kind": "all", "goals": [
                {"kind": "metric", "aggregate": "count", "measure": "workouts", "of": [],
                 "where": {"kind": "or", "terms": [
                     {"kind": "and", "terms": [
                         {"kind": "compare", "field": "gym", "op": "==", "value": "gym-01"},
                         {"kind": "compare", "field": "hour", "op": "<", "value": {"value": 12, "unit": null}}]},
                     {"kind": "in", "field": "weekday", "values": ["sat", "sun"]}]},
                 "op": ">=", "target": {"value": 12, "unit": null}},
                {"kind": "metric", "aggregate": "sum", "measure": "volume", "of": ["strength"],
                 "where": {"kind": "compare", "field": "reps", "op": "<=", "value": {"value": 12, "unit": null}},
                 "op": ">=", "target": {"value": 20000, "unit": "kg"}},
                {"kind": "metric", "aggregate": "count", "measure": "days", "of": ["cardio"],
                 "where": {"kind": "compare", "field": "duration", "op": ">=", "value": {"value": 20, "unit": "min"}},
                 "op": ">=", "target": {"value": 10, "unit": null}}]}),
            ),
        ),
    ];
    let catalog = Catalog::builtin();
    trees
        .into_iter()
        .map(|(name, json)| {
            let tree: Challenge = rules_core::json::read_tree(&json).expect("a valid tree");
            (name, Plan::compile(&tree, &catalog).expect("a plan"))
        })
        .collect()
}

/// A deterministic pseudo-random sequence (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below
    }
}

/// 500 users in the group `staff`, with a month of workouts each.
fn staff_of_500() -> (Vec<User>, Vec<Workout>) {
    let users: Vec<User> = (0..500)
        .map(|i| User {
            id: format!("u-{i:04}"),
            groups: vec!["staff".to_owned()],
            ..User::default()
        })
        .collect();
    let workouts = users
        .iter()
        .enumerate()
        .flat_map(|(i, u)| month_of_workouts(&u.id, i as u64, 30))
        .collect();
    (users, workouts)
}

/// About one workout a day for August, in Singapore time, at three gyms.
fn month_of_workouts(user: &str, seed: u64, count: usize) -> Vec<Workout> {
    const EXERCISES: [&str; 6] = [
        "leg_press",
        "treadmill",
        "bike",
        "push_up",
        "chest_press",
        "rower",
    ];
    let mut rng = Lcg(seed);
    let base: DateTime<FixedOffset> =
        DateTime::parse_from_rfc3339("2026-08-01T06:00:00+08:00").unwrap();
    (0..count)
        .map(|i| {
            let day = (i as i64 * 31) / count as i64;
            let start = base + Duration::days(day) + Duration::minutes(rng.next(14 * 60) as i64);
            let exercise = EXERCISES[rng.next(EXERCISES.len() as u64) as usize];
            let minutes = 10 + rng.next(50) as i64;
            let cardio = matches!(exercise, "treadmill" | "bike" | "rower");
            Workout {
                id: format!("{user}-w{i:03}"),
                user: user.to_owned(),
                exercise: exercise.to_owned(),
                gym: Some(format!("gym-0{}", 1 + rng.next(3))),
                machine: Some(format!("m-{}", rng.next(5))),
                start,
                end: start + Duration::minutes(minutes),
                sets: if cardio {
                    Vec::new()
                } else {
                    (0..1 + rng.next(4))
                        .map(|_| WorkoutSet {
                            reps: 6 + rng.next(10) as u32,
                            weight_kg: (exercise != "push_up")
                                .then(|| 20.0 + 5.0 * rng.next(8) as f64),
                        })
                        .collect()
                },
                distance_m: cardio.then(|| 2000.0 + rng.next(6000) as f64),
                calories_kcal: cardio.then(|| 150.0 + rng.next(300) as f64),
                avg_hr_bpm: cardio.then(|| 120.0 + rng.next(60) as f64),
                incline_pct: (exercise == "treadmill").then(|| rng.next(5) as f64),
            }
        })
        .collect()
}

fn bench_evaluate(c: &mut Criterion) {
    let plans = plans();
    let user = User {
        id: "u-01".to_owned(),
        groups: vec!["nsfit".to_owned()],
        ..User::default()
    };
    let workouts = month_of_workouts("u-01", 42, 30);
    let as_of = AsOf::parse("2026-08-20T12:00:00+08:00").unwrap();
    let end = AsOf::parse("2026-09-01T00:00:00+08:00").unwrap();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    for (name, plan) in &plans {
        group.bench_function(format!("{name}/mid_month"), |b| {
            b.iter(|| {
                evaluate(
                    black_box(plan),
                    black_box(&user),
                    black_box(&workouts),
                    black_box(&as_of),
                )
            })
        });
    }
    let (_, national_day_plan) = &plans[0];
    group.bench_function("national_day/closed", |b| {
        b.iter(|| {
            evaluate(
                black_box(national_day_plan),
                black_box(&user),
                black_box(&workouts),
                black_box(&end),
            )
        })
    });
    group.bench_function("national_day/compile", |b| {
        let tree: Challenge = rules_core::json::read_tree(&national_day()).unwrap();
        let catalog = Catalog::builtin();
        b.iter(|| Plan::compile(black_box(&tree), black_box(&catalog)))
    });
    group.finish();

    // Many users, every plan, on all cores (rayon).
    let (users, all_workouts) = staff_of_500();
    let all_plans: Vec<Plan> = plans.into_iter().map(|(_, p)| p).collect();
    let mut group = c.benchmark_group("evaluate_all");
    group.throughput(Throughput::Elements((users.len() * all_plans.len()) as u64));
    group.sample_size(10);
    group.bench_function("500_users_x_5_plans", |b| {
        b.iter(|| {
            evaluate_all(
                black_box(&all_plans),
                black_box(&users),
                black_box(&all_workouts),
                black_box(&as_of),
            )
        })
    });
    group.finish();
}

/// Team evaluation against per-user evaluation, side by side in the same run (language.md §10):
/// a 500-member team over a month of 30 workouts each (15,000 workouts), and the same 500
/// users evaluated one by one.
fn bench_team(c: &mut Criterion) {
    let goal = json!({"kind": "every", "period": "week",
        "goal": {"kind": "on", "count": 3, "period": "day", "goal": {"kind": "metric",
            "aggregate": "sum", "measure": "duration", "of": ["cardio"], "where": null,
            "op": ">=", "target": {"value": 30, "unit": "min"}}}});
    let catalog = Catalog::builtin();
    let compile = |json: Value| {
        let tree: Challenge = rules_core::json::read_tree(&json).expect("a valid tree");
        Plan::compile(&tree, &catalog).expect("a plan")
    };
    let per_user = compile(august("weekly", goal.clone()));
    let mut team_tree = august("weekly-team", goal);
    team_tree["teams"] = json!(["staff"]);
    let team = compile(team_tree);
    let (users, workouts) = staff_of_500();
    let as_of = AsOf::parse("2026-08-20T12:00:00+08:00").unwrap();
    let mut group = c.benchmark_group("team_500_members_month");
    group.sample_size(10);
    group.bench_function("per_user/500_users", |b| {
        b.iter(|| {
            evaluate_all(
                black_box(std::slice::from_ref(&per_user)),
                black_box(&users),
                black_box(&workouts),
                black_box(&as_of),
            )
        })
    });
    group.bench_function("team/one_team_of_500", |b| {
        b.iter(|| {
            evaluate_all(
                black_box(std::slice::from_ref(&team)),
                black_box(&users),
                black_box(&workouts),
                black_box(&as_of),
            )
        })
    });
    // The evaluation alone, on the team's workouts prepared once (members' counts included).
    let prepared = TeamWorkouts::from_workouts("staff", &users, &workouts);
    let own: std::collections::HashMap<&str, Prepared> = users
        .iter()
        .map(|u| (u.id.as_str(), Prepared::for_user(&u.id, &workouts)))
        .collect();
    group.bench_function("team/evaluate_prepared", |b| {
        b.iter(|| {
            evaluate_team(
                black_box(&team),
                black_box(&prepared),
                |id| own.get(id),
                black_box(&as_of),
            )
        })
    });
    group.finish();
}

criterion_group!(benches, bench_evaluate, bench_team);
criterion_main!(benches);
