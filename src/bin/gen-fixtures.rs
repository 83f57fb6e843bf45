//! Deterministic generator of realistic gym data: users and their workouts.
//!
//! `gen-fixtures --users 60 --start 2026-08-01 --days 92 --seed 2026 --out fixtures/` writes
//! `users.jsonl` and `workouts.jsonl`. The same arguments always give byte-identical files (a
//! SplitMix64 generator of our own, `workload::Rng`, shared with `gen-events`, so no
//! dependency's version can change the output), which
//! is how the committed fixtures are made and how benchmarks make larger sets
//! (`--users 10000 --days 90`).
//!
//! Every user has a persona: how often they train, whether they lift, run or both, their
//! strength (a leg-press 1RM) and running pace. Sessions follow it: strength sessions are 3–4
//! sets of 6–15 reps at 60–85 % of the 1RM, bodyweight sessions sets without load, cardio
//! sessions a distance at the user's pace with incline, calories and heart rate.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::{Duration, FixedOffset, NaiveDate, TimeZone};
use clap::Parser;
use rules_core::records::{User, Workout, WorkoutSet};
use workload::Rng;

/// Generate deterministic users and workouts (JSON Lines).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Number of users.
    #[arg(long, default_value_t = 60)]
    users: usize,
    /// First day.
    #[arg(long, default_value = "2026-08-01")]
    start: NaiveDate,
    /// Number of days.
    #[arg(long, default_value_t = 92)]
    days: u32,
    /// Seed; the same seed gives the same files.
    #[arg(long, default_value_t = 2026)]
    seed: u64,
    /// Output folder.
    #[arg(long, default_value = "fixtures")]
    out: PathBuf,
}

const GROUPS: [&[&str]; 6] = [
    &["nsfit"],
    &["nsfit", "coy-a"],
    &["nsfit", "coy-b"],
    &["staff"],
    &["staff", "nsfit"],
    &["public"],
];
const GYMS: [&str; 3] = ["gym-01", "gym-02", "gym-03"];
const STRENGTH: [&str; 6] = [
    "leg_press",
    "chest_press",
    "lat_pulldown",
    "shoulder_press",
    "seated_row",
    "leg_curl",
];
const BODYWEIGHT: [&str; 3] = ["push_up", "sit_up", "pull_up"];
const CARDIO: [&str; 4] = ["treadmill", "treadmill", "bike", "rower"];

struct Persona {
    sessions_per_week: f64,
    lifts: f64,
    runs: f64,
    one_rep_max: f64,
    pace_kmh: f64,
    home_gym: &'static str,
    early_bird: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let (users, workouts) = generate(&args);
    if let Err(e) = std::fs::create_dir_all(&args.out)
        .and_then(|()| std::fs::write(args.out.join("users.jsonl"), users))
        .and_then(|()| std::fs::write(args.out.join("workouts.jsonl"), workouts.0))
    {
        eprintln!("error: cannot write to `{}`: {e}", args.out.display());
        return ExitCode::from(2);
    }
    eprintln!(
        "wrote {} users and {} workouts to {}",
        args.users,
        workouts.1,
        args.out.display()
    );
    ExitCode::SUCCESS
}

fn generate(args: &Args) -> (String, (String, usize)) {
    let mut rng = Rng(args.seed);
    // Singapore time: the gyms of the fixtures keep UTC+8 all year.
    let Some(offset) = FixedOffset::east_opt(8 * 3600) else {
        return (String::new(), (String::new(), 0));
    };
    let mut users_out = String::new();
    let mut workouts_out = String::new();
    let mut count = 0usize;
    let width = args.users.max(1).to_string().len().max(2);
    for u in 0..args.users {
        let id = format!("u-{:0width$}", u + 1);
        let groups = rng.pick(&GROUPS);
        let body_weight = (rng.range(50.0, 95.0) * 10.0).round() / 10.0;
        let user = User {
            id: id.clone(),
            name: Some(format!("Member {}", u + 1)),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            birth_date: NaiveDate::from_ymd_opt(
                1970 + rng.int(0, 35) as i32,
                rng.int(1, 12) as u32,
                rng.int(1, 28) as u32,
            ),
            sex: Some(if rng.chance(0.5) { "m" } else { "f" }.to_owned()),
            body_weight_kg: Some(body_weight),
            height_cm: Some(rng.int(150, 195) as f64),
        };
        let _ = writeln!(
            users_out,
            "{}",
            serde_json::to_string(&user).unwrap_or_default()
        );
        let persona = Persona {
            sessions_per_week: rng.range(1.5, 6.5),
            lifts: rng.range(0.1, 0.9),
            runs: rng.range(0.2, 0.9),
            one_rep_max: rng.range(60.0, 200.0),
            pace_kmh: rng.range(6.5, 13.5),
            home_gym: rng.pick(&GYMS),
            early_bird: rng.chance(0.25),
        };
        let mut n = 0;
        for day in 0..args.days {
            let date = args.start + Duration::days(i64::from(day));
            if !rng.chance(persona.sessions_per_week / 7.0) {
                continue;
            }
            let hour = if persona.early_bird {
                rng.int(5, 8)
            } else {
                rng.int(6, 21)
            };
            let Some(local) = date.and_hms_opt(hour as u32, rng.int(0, 59) as u32, 0) else {
                continue;
            };
            let Some(mut start) = offset.from_local_datetime(&local).single() else {
                continue;
            };
            let gym = if rng.chance(0.85) {
                persona.home_gym
            } else {
                rng.pick(&GYMS)
            };
            let lift = rng.chance(persona.lifts);
            let run = !lift || rng.chance(persona.runs * 0.5);
            if lift {
                n += 1;
                let (workout, end) = strength(&mut rng, &persona, &id, n, gym, start);
                push(&mut workouts_out, &workout);
                count += 1;
                start = end + Duration::minutes(rng.int(2, 10) as i64);
            }
            if run {
                n += 1;
                let workout = cardio(&mut rng, &persona, &id, n, gym, start);
                push(&mut workouts_out, &workout);
                count += 1;
            }
        }
    }
    (users_out, (workouts_out, count))
}

fn push(out: &mut String, workout: &Workout) {
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(workout).unwrap_or_default()
    );
}

fn strength(
    rng: &mut Rng,
    persona: &Persona,
    user: &str,
    n: usize,
    gym: &str,
    start: chrono::DateTime<FixedOffset>,
) -> (Workout, chrono::DateTime<FixedOffset>) {
    let bodyweight = rng.chance(0.3);
    let exercise = if bodyweight {
        rng.pick(&BODYWEIGHT)
    } else {
        rng.pick(&STRENGTH)
    };
    let scale = match exercise {
        "leg_press" => 1.0,
        "chest_press" | "seated_row" | "lat_pulldown" => 0.45,
        _ => 0.3,
    };
    let sets: Vec<WorkoutSet> = (0..rng.int(3, 4))
        .map(|_| {
            if bodyweight {
                WorkoutSet {
                    reps: rng.int(8, 40) as u32,
                    weight_kg: None,
                }
            } else {
                let load = persona.one_rep_max * scale * rng.range(0.6, 0.85);
                WorkoutSet {
                    reps: rng.int(6, 15) as u32,
                    weight_kg: Some((load / 2.5).round() * 2.5),
                }
            }
        })
        .collect();
    let end = start + Duration::minutes(sets.len() as i64 * rng.int(2, 4) as i64);
    let machine = if bodyweight {
        None
    } else {
        Some(format!(
            "{}-{:02}",
            exercise.get(..2).unwrap_or(exercise),
            rng.int(1, 4)
        ))
    };
    let workout = Workout {
        id: format!("w-{user}-{n:04}"),
        user: user.to_owned(),
        exercise: exercise.to_owned(),
        gym: Some(gym.to_owned()),
        machine,
        start,
        end,
        sets,
        distance_m: None,
        calories_kcal: Some((rng.range(60.0, 220.0)).round()),
        avg_hr_bpm: None,
        incline_pct: None,
    };
    (workout, end)
}

fn cardio(
    rng: &mut Rng,
    persona: &Persona,
    user: &str,
    n: usize,
    gym: &str,
    start: chrono::DateTime<FixedOffset>,
) -> Workout {
    let exercise = rng.pick(&CARDIO);
    let minutes = rng.int(10, 45) as f64;
    let speed = match exercise {
        "bike" => persona.pace_kmh * 2.0,
        "rower" => persona.pace_kmh * 0.9,
        _ => persona.pace_kmh * rng.range(0.9, 1.1),
    };
    let distance = (speed * minutes / 60.0 * 1000.0 / 10.0).round() * 10.0;
    let seconds = (minutes * 60.0) as i64 + rng.int(0, 59) as i64;
    Workout {
        id: format!("w-{user}-{n:04}"),
        user: user.to_owned(),
        exercise: exercise.to_owned(),
        gym: Some(gym.to_owned()),
        machine: Some(format!(
            "{}-{:02}",
            exercise.get(..2).unwrap_or(exercise),
            rng.int(1, 6)
        )),
        start,
        end: start + Duration::seconds(seconds),
        sets: Vec::new(),
        distance_m: Some(distance),
        calories_kcal: Some((minutes * rng.range(8.0, 13.0)).round()),
        avg_hr_bpm: Some(rng.int(118, 172) as f64),
        incline_pct: (exercise == "treadmill").then(|| (rng.range(0.0, 6.0) * 2.0).round() / 2.0),
    }
}
