//! Profiles and recommendations per second for 10,000 users with 90 days of history each
//! (issue 3), and a monthly leaderboard over the same workouts.
//!
//! ```sh
//! cargo bench -p rules-core --bench profile -- --warm-up-time 1 --measurement-time 5
//! # or on the fixture generator's data:
//! cargo run --release --bin gen-fixtures -- --users 10000 --days 90 --start 2026-06-03 --out target/bench-data
//! BENCH_DATA=target/bench-data cargo bench -p rules-core --bench profile
//! ```
//!
//! Without `BENCH_DATA` the users and workouts come from a small linear congruential generator
//! with a fixed seed (about 0.6 workouts a day per user, like the fixtures), so every run
//! measures the same data. The templates are the fixture library (`fixtures/templates/`),
//! compiled to JSON trees in `benches/templates.json` (`challenge compile`).

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

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::PathBuf;

use chrono::{Duration, FixedOffset, TimeZone};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rules_core::eval::AsOf;
use rules_core::leaderboard::{self, Board, BoardMeasure, Selector};
use rules_core::profile::{profiles_all, Profile};
use rules_core::records::{self, User, Workout, WorkoutSet};
use rules_core::template::Recommender;
use rules_core::{json, Catalog, Challenge};

const USERS: usize = 10_000;
const DAYS: i64 = 90;
const AS_OF: &str = "2026-09-01T00:00:00+08:00";

/// A tiny deterministic generator (Knuth's MMIX LCG).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (1u64 << 31) as f64
    }
}

const STRENGTH: [&str; 4] = ["leg_press", "chest_press", "lat_pulldown", "seated_row"];
const BODYWEIGHT: [&str; 3] = ["push_up", "sit_up", "pull_up"];
const CARDIO: [&str; 4] = ["treadmill", "treadmill", "bike", "rower"];
const GROUPS: [&[&str]; 4] = [&["nsfit"], &["nsfit", "coy-a"], &["staff"], &["public"]];

/// 10,000 users, each with about 0.6 workouts a day over the 90 days before `AS_OF`.
fn generate() -> (Vec<User>, Vec<Workout>) {
    let mut rng = Lcg(2026);
    let sgt = FixedOffset::east_opt(8 * 3600).unwrap();
    let first = sgt.with_ymd_and_hms(2026, 6, 3, 0, 0, 0).unwrap();
    let mut users = Vec::with_capacity(USERS);
    let mut workouts = Vec::new();
    for u in 0..USERS {
        let id = format!("u-{:05}", u + 1);
        users.push(User {
            groups: GROUPS[rng.below(4) as usize]
                .iter()
                .map(|g| (*g).to_owned())
                .collect(),
            body_weight_kg: Some(50.0 + rng.unit() * 45.0),
            ..User::unknown(&id)
        });
        let one_rep_max = 60.0 + rng.unit() * 120.0;
        let pace_kmh = 7.0 + rng.unit() * 7.0;
        for day in 0..DAYS {
            if rng.unit() > 0.6 {
                continue;
            }
            let start =
                first + Duration::days(day) + Duration::minutes(360 + rng.below(900) as i64);
            let kind = rng.below(3);
            let mut w = Workout {
                id: format!("w-{id}-{day:03}"),
                user: id.clone(),
                exercise: String::new(),
                gym: Some("gym-01".into()),
                machine: None,
                start,
                end: start,
                sets: Vec::new(),
                distance_m: None,
                calories_kcal: Some(100.0 + rng.unit() * 300.0),
                avg_hr_bpm: None,
                incline_pct: None,
            };
            match kind {
                0 => {
                    w.exercise = STRENGTH[rng.below(4) as usize].into();
                    let load = (one_rep_max * (0.6 + rng.unit() * 0.25) / 2.5).round() * 2.5;
                    w.sets = (0..3 + rng.below(2))
                        .map(|_| WorkoutSet {
                            reps: 6 + rng.below(10) as u32,
                            weight_kg: Some(load),
                        })
                        .collect();
                    w.end = start + Duration::minutes(12);
                }
                1 => {
                    w.exercise = BODYWEIGHT[rng.below(3) as usize].into();
                    w.sets = (0..3)
                        .map(|_| WorkoutSet {
                            reps: 10 + rng.below(30) as u32,
                            weight_kg: None,
                        })
                        .collect();
                    w.end = start + Duration::minutes(5);
                }
                _ => {
                    w.exercise = CARDIO[rng.below(4) as usize].into();
                    let minutes = 15 + rng.below(30) as i64;
                    let speed = pace_kmh * (0.9 + rng.unit() * 0.2);
                    w.distance_m = Some((speed * minutes as f64 / 60.0 * 1000.0).round());
                    w.incline_pct = Some(rng.below(5) as f64);
                    w.end = start + Duration::minutes(minutes);
                }
            }
            workouts.push(w);
        }
    }
    (users, workouts)
}

/// The generator's files when `BENCH_DATA` names their folder (relative to the workspace
/// root), else [`generate`].
fn data() -> (Vec<User>, Vec<Workout>) {
    let Some(dir) = std::env::var_os("BENCH_DATA").map(PathBuf::from) else {
        return generate();
    };
    // Relative to the workspace root (benches run in the package's folder).
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(dir);
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).expect("BENCH_DATA files");
    let users = records::read_users(&read("users.jsonl")).into_records();
    let workouts = records::read_workouts(&read("workouts.jsonl")).into_records();
    (users, workouts)
}

fn templates() -> Vec<Challenge> {
    let trees = json::read_trees(include_str!("templates.json"));
    assert!(trees.diagnostics.is_empty(), "{:?}", trees.diagnostics);
    trees.decls
}

fn bench(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let as_of = AsOf::parse(AS_OF).unwrap();
    let (users, workouts) = data();
    eprintln!(
        "{} users, {} workouts ({:.1} per user)",
        users.len(),
        workouts.len(),
        workouts.len() as f64 / users.len() as f64
    );

    let mut group = c.benchmark_group("profile");
    group.sample_size(10);
    group.throughput(Throughput::Elements(users.len() as u64));
    group.bench_function("profiles_all_10k_users_90_days", |b| {
        b.iter(|| {
            profiles_all(
                black_box(&users),
                black_box(&workouts),
                &catalog,
                &as_of,
                90,
            )
        });
    });
    group.finish();

    let profiles: Vec<Profile> = profiles_all(&users, &workouts, &catalog, &as_of, 90);
    let templates = templates();
    let mut group = c.benchmark_group("recommend");
    group.sample_size(10);
    group.throughput(Throughput::Elements(profiles.len() as u64));
    for template in &templates {
        let r = Recommender::new(template, &catalog, BTreeMap::new()).unwrap();
        group.bench_function(format!("{}_10k_users", template.id.node), |b| {
            b.iter(|| r.recommend_all(black_box(&profiles)));
        });
    }
    // One user on one thread: the cost of a single recommendation.
    let r = Recommender::new(&templates[0], &catalog, BTreeMap::new()).unwrap();
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_user_one_thread", |b| {
        b.iter(|| r.recommend(black_box(&profiles[0])));
    });
    group.finish();

    let mut group = c.benchmark_group("leaderboard");
    group.sample_size(10);
    group.throughput(Throughput::Elements(workouts.len() as u64));
    let board = Board {
        month: "2026-08".parse().unwrap(),
        timezone: leaderboard::parse_timezone("Asia/Singapore").unwrap(),
        measure: BoardMeasure::Distance,
        selector: Some(Selector::parse("cardio", &catalog).unwrap()),
        group: Some("nsfit".into()),
    };
    group.bench_function("distance_cardio_nsfit_month", |b| {
        b.iter(|| leaderboard::leaderboard(black_box(&board), &workouts, &users, &catalog));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
