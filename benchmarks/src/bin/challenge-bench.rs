//! `challenge-bench`: our evaluator against datalogic-rs, ZEN, rhai and hand-written Rust, on
//! generated data; prints Markdown tables (BENCHMARKS.md explains every figure).
//!
//! ```sh
//! cargo run --release -p benchmarks --bin challenge-bench                 # everything
//! cargo run --release -p benchmarks --bin challenge-bench -- --sets 1000x31 --seconds 0.3
//! ```
//!
//! Every engine's met/unmet answers are checked against ours for every (challenge, user) before
//! anything is timed; a difference stops the run.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a benchmark binary: a broken setup or a wrong answer must stop the run loudly"
)]

use std::time::Duration;

use benchmarks::data::{self, thousands, Dataset};
use benchmarks::engines::{self, Engine};
use benchmarks::harness;
use benchmarks::specs::{Kind, Spec};
use clap::Parser;
use rules_core::eval::{self, Plan};
use rules_core::records::Workout;
use rules_core::Catalog;

#[global_allocator]
static ALLOC: benchmarks::alloc::Counting = benchmarks::alloc::Counting;

/// Benchmarks the challenge evaluator against its peers and prints Markdown tables.
#[derive(Parser)]
#[command(about)]
struct Args {
    /// Datasets, `USERSxDAYS`, generated into target/bench-data/ when missing.
    #[arg(long, value_delimiter = ',', default_value = "1000x31,10000x90")]
    sets: Vec<String>,
    /// Least time per one-core measurement, seconds (the all-core run is sized to match).
    #[arg(long, default_value_t = 1.0)]
    seconds: f64,
    /// Only these engines (names as in the table, prefix match).
    #[arg(long, value_delimiter = ',')]
    engines: Vec<String>,
    /// Only these challenges.
    #[arg(long, value_delimiter = ',')]
    challenges: Vec<String>,
    /// Check the answers only; time nothing.
    #[arg(long)]
    verify_only: bool,
    /// Skip the scaling and incremental sections.
    #[arg(long)]
    no_scaling: bool,
    /// For profilers: only run PASSES passes of the first engine on the first challenge of the
    /// first dataset, without checks or tables.
    #[arg(long, value_name = "PASSES")]
    repeat: Option<usize>,
}

fn main() {
    let args = Args::parse();
    let threads = rayon::current_num_threads();
    let all = engines::all();
    let chosen: Vec<&dyn Engine> = all
        .iter()
        .map(AsRef::as_ref)
        .filter(|e| {
            args.engines.is_empty()
                || args
                    .engines
                    .iter()
                    .any(|p| e.name().starts_with(p.as_str()))
        })
        .collect();
    let kinds: Vec<Kind> = Kind::ALL
        .into_iter()
        .filter(|k| args.challenges.is_empty() || args.challenges.iter().any(|c| c == k.name()))
        .collect();
    let ours = engines::Ours::new();
    if let Some(passes) = args.repeat {
        let (users, days) = args.sets[0].split_once('x').expect("USERSxDAYS");
        let data = data::load(users.parse().unwrap(), days.parse().unwrap());
        let spec = Spec::new(kinds[0], &data);
        let all_users: Vec<usize> = (0..data.users.len()).collect();
        let mut runner = chosen[0].runner(&spec, &data, &all_users);
        let mut met = 0;
        for _ in 0..passes {
            met += all_users.iter().filter(|&&k| runner.met(k)).count();
        }
        println!("{met}");
        return;
    }
    let mut first_data = None;
    for set in &args.sets {
        let (users, days) = set.split_once('x').expect("USERSxDAYS");
        let data = data::load(users.parse().unwrap(), days.parse().unwrap());
        println!(
            "\n### {} ({} workouts, as of {})\n",
            data.label,
            thousands(data.workout_count() as u64),
            data.as_of.text
        );
        println!(
            "| challenge | engine | met | evals/s, 1 core | evals/s, {threads} cores | time/eval | ours (summary) is | ours (yes/no) is | data | bytes/eval | allocs/eval | compile |"
        );
        println!("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
        for &kind in &kinds {
            let spec = Spec::new(kind, &data);
            let expected = harness::answers(&ours, &spec, &data);
            let met = expected.iter().filter(|a| a.met).count();
            // More checks than the timed window alone: windows of 1, 3 and 7 days, where more
            // users meet the goals (few train every day of a whole month).
            let checks: Vec<(Spec, Vec<harness::Answer>)> = [(0, 1), (3, 3), (10, 7)]
                .into_iter()
                .map(|(offset, days)| {
                    let first = data.first + chrono::Duration::days(offset);
                    let extra = Spec::with_window(
                        kind,
                        first,
                        first + chrono::Duration::days(days - 1),
                        data.as_of.time.timestamp(),
                    );
                    let expected = harness::answers(&ours, &extra, &data);
                    (extra, expected)
                })
                .collect();
            let week_met: Vec<String> = checks
                .iter()
                .map(|(_, e)| e.iter().filter(|a| a.met).count().to_string())
                .collect();
            eprintln!(
                "{}: {met} met over the window; {} in the 1-, 3- and 7-day checks",
                kind.name(),
                week_met.join(", ")
            );
            // One-core rates of our summary and yes/no entry points, for the ratio columns.
            let mut ours_rates = [None, None];
            for &engine in &chosen {
                if let Some(why) = engine.cannot(kind) {
                    println!(
                        "| {} | {} | — | cannot express: {why} ||||||||",
                        kind.name(),
                        engine.name()
                    );
                    continue;
                }
                harness::verify(engine, &spec, &data, &expected);
                for (extra, expected) in &checks {
                    harness::verify(engine, extra, &data, expected);
                }
                if args.verify_only {
                    println!(
                        "| {} | {} | {met} | answers agree ||||||||",
                        kind.name(),
                        engine.name()
                    );
                    continue;
                }
                let one = harness::one_core(engine, &spec, &data, args.seconds);
                let passes = ((one * args.seconds) / data.users.len() as f64).ceil() as usize;
                let many = harness::all_cores(engine, &spec, &data, passes.max(1));
                let memory = harness::memory(engine, &spec, &data);
                let compile =
                    harness::mean_time(Duration::from_millis(200), || engine.compile(&spec));
                for (name, rate) in [engines::SUMMARY, engines::COMPLETED]
                    .iter()
                    .zip(&mut ours_rates)
                {
                    if engine.name() == *name {
                        *rate = Some(one);
                    }
                }
                let [summary, completed] = ours_rates.map(|ours| match ours {
                    Some(ours_one) if !engine.name().starts_with("ours") => {
                        let r = ours_one / one;
                        if r >= 1.0 {
                            format!("{r:.1}× faster")
                        } else {
                            format!("{:.1}× slower", 1.0 / r)
                        }
                    }
                    _ => "—".to_owned(),
                });
                println!(
                    "| {} | {} | {met} | {} | {} | {} | {summary} | {completed} | {} | {} | {:.1} | {} |",
                    kind.name(),
                    engine.name(),
                    thousands(one as u64),
                    thousands(many as u64),
                    time(1.0 / one),
                    bytes(memory.data_bytes as f64),
                    bytes(memory.bytes_per_eval),
                    memory.allocs_per_eval,
                    if engine.name().starts_with("hand") {
                        "—".to_owned()
                    } else {
                        time(compile.as_secs_f64())
                    },
                );
            }
        }
        if !args.verify_only && kinds.len() == Kind::ALL.len() {
            evaluate_all_row(&data, args.seconds);
        }
        first_data.get_or_insert(data);
    }
    if !args.no_scaling && !args.verify_only {
        let big = if args.sets.iter().any(|s| s == "10000x90") {
            data::load(10_000, 90)
        } else {
            first_data.take().unwrap()
        };
        incremental(&big);
        scaling(&big);
    }
}

/// Our product path: `evaluate_all` with rayon, grouping the workouts per user inside.
fn evaluate_all_row(data: &Dataset, seconds: f64) {
    let catalog = Catalog::builtin();
    let workouts = data.all_workouts();
    println!("\n`evaluate_all` (ours, every core through rayon, grouping the workouts per user inside each call):\n");
    println!("| challenge | users | time per call | evals/s |");
    println!("|---|--:|--:|--:|");
    for kind in Kind::ALL {
        let plan = engines::plan(&Spec::new(kind, data).dsl, &catalog);
        let plans = [plan];
        let t = harness::mean_time(Duration::from_secs_f64(seconds), || {
            std::hint::black_box(eval::evaluate_all(
                &plans,
                &data.users,
                &workouts,
                &data.as_of,
            ));
        });
        println!(
            "| {} | {} | {} | {} |",
            kind.name(),
            thousands(data.users.len() as u64),
            time(t.as_secs_f64()),
            thousands((data.users.len() as f64 / t.as_secs_f64()) as u64)
        );
    }
}

/// One new workout: re-evaluating its user against re-evaluating everyone.
fn incremental(data: &Dataset) {
    let catalog = Catalog::builtin();
    println!(
        "\n### One new workout ({}): re-evaluate its user, or everyone\n",
        data.label
    );
    println!(
        "There is no incremental API: after a new workout the pipeline re-evaluates that user's"
    );
    println!("(challenge, user) pairs. Both figures are ours, one core for the user, every core for all.\n");
    println!(
        "| challenge | re-evaluate the user | re-evaluate all users (`evaluate_all`) | ratio |"
    );
    println!("|---|--:|--:|--:|");
    let (user, mut own) = busiest_user(data);
    let mut extra = own.last().unwrap().clone();
    extra.id.push_str("-new");
    extra.start += chrono::Duration::minutes(90);
    extra.end += chrono::Duration::minutes(90);
    own.push(extra.clone());
    let mut everyone = data.all_workouts();
    everyone.push(extra);
    for kind in Kind::ALL {
        let plan = engines::plan(&Spec::new(kind, data).dsl, &catalog);
        let one = harness::mean_time(Duration::from_millis(300), || {
            std::hint::black_box(eval::evaluate(&plan, &data.users[user], &own, &data.as_of));
        });
        let plans = [plan];
        let all = harness::mean_time(Duration::from_millis(500), || {
            std::hint::black_box(eval::evaluate_all(
                &plans,
                &data.users,
                &everyone,
                &data.as_of,
            ));
        });
        println!(
            "| {} | {} | {} | {} |",
            kind.name(),
            time(one.as_secs_f64()),
            time(all.as_secs_f64()),
            thousands((all.as_secs_f64() / one.as_secs_f64()) as u64)
        );
    }
}

/// The user with the most workouts, and a copy of them.
fn busiest_user(data: &Dataset) -> (usize, Vec<Workout>) {
    let (i, ws) = data
        .workouts
        .iter()
        .enumerate()
        .max_by_key(|(_, w)| w.len())
        .unwrap();
    (i, ws.clone())
}

/// How cost grows with users, workouts per user and goal size (ours, and the limit).
fn scaling(data: &Dataset) {
    let catalog = Catalog::builtin();
    println!("\n### Scaling (ours)\n");
    // Users: evaluate_all over the first 1,000 / 3,000 / 10,000 users.
    println!(
        "Users (national-day over {} days, `evaluate_all`, every core):\n",
        (data.last - data.first).num_days() + 1
    );
    println!("| users | time per call | per user |");
    println!("|--:|--:|--:|");
    let plan = engines::plan(&Spec::new(Kind::NationalDay, data).dsl, &catalog);
    let plans = [plan];
    for n in [1_000, 3_000, 10_000].map(|n: usize| n.min(data.users.len())) {
        let users = &data.users[..n];
        let workouts: Vec<Workout> = data.workouts[..n].iter().flatten().cloned().collect();
        let t = harness::mean_time(Duration::from_millis(500), || {
            std::hint::black_box(eval::evaluate_all(&plans, users, &workouts, &data.as_of));
        });
        println!(
            "| {} | {} | {} |",
            thousands(n as u64),
            time(t.as_secs_f64()),
            time(t.as_secs_f64() / n as f64)
        );
    }

    // Workouts per user: one synthetic user made of k real users' workouts.
    println!("\nWorkouts per user (one core, one user made of the workouts of several generated users):\n");
    println!("| workouts | sum-volume | national-day | streak-7 | one-workout |");
    println!("|--:|--:|--:|--:|--:|");
    let user = {
        let mut u = data.users[0].clone();
        u.groups = vec!["nsfit".to_owned()];
        u
    };
    let plans: Vec<Plan> = Kind::ALL
        .iter()
        .map(|&k| engines::plan(&Spec::new(k, data).dsl, &catalog))
        .collect();
    for target in [30usize, 100, 300] {
        let mut own: Vec<Workout> = Vec::new();
        for ws in &data.workouts {
            if own.len() >= target {
                break;
            }
            for w in ws.iter().take(target - own.len()) {
                let mut w = w.clone();
                w.user.clone_from(&user.id);
                own.push(w);
            }
        }
        let cells: Vec<String> = plans
            .iter()
            .map(|plan| {
                let t = harness::mean_time(Duration::from_millis(300), || {
                    std::hint::black_box(eval::evaluate(plan, &user, &own, &data.as_of));
                });
                time(t.as_secs_f64())
            })
            .collect();
        println!("| {} | {} |", own.len(), cells.join(" | "));
    }

    // Goal size: every day { any { S metrics } }.
    println!("\nGoal size (one core, `every day {{ any {{ S metrics }} }}` over the window, the busiest user):\n");
    println!("| metrics S | time/eval |");
    println!("|--:|--:|");
    let (u, own) = busiest_user(data);
    let metrics = [
        "sum(reps of leg_press where weight >= 40 kg) >= 30",
        "sum(duration of cardio) >= 20 min",
        "count(sets of strength where reps >= 8) >= 4",
        "max(speed of treadmill) >= 10 km/h",
    ];
    for s in [1usize, 4, 16] {
        let body: Vec<&str> = (0..s).map(|i| metrics[i % metrics.len()]).collect();
        let dsl = format!(
            "challenge \"size-{s}\" {{\n    title \"size\"\n    window {} to {}\n    timezone \"Asia/Singapore\"\n    goal every day {{\n        any {{\n            {}\n        }}\n    }}\n}}\n",
            data.first,
            data.last,
            body.join("\n            ")
        );
        let plan = engines::plan(&dsl, &catalog);
        let t = harness::mean_time(Duration::from_millis(300), || {
            std::hint::black_box(eval::evaluate(&plan, &data.users[u], &own, &data.as_of));
        });
        println!("| {s} | {} |", time(t.as_secs_f64()));
    }
}

/// Seconds as ns, µs, ms or s.
fn time(secs: f64) -> String {
    if secs < 1e-6 {
        format!("{:.0} ns", secs * 1e9)
    } else if secs < 1e-3 {
        format!("{:.2} µs", secs * 1e6)
    } else if secs < 1.0 {
        format!("{:.2} ms", secs * 1e3)
    } else {
        format!("{secs:.2} s")
    }
}

/// Bytes as B, KB, MB.
fn bytes(n: f64) -> String {
    if n < 1e3 {
        format!("{n:.0} B")
    } else if n < 1e6 {
        format!("{:.1} KB", n / 1e3)
    } else {
        format!("{:.1} MB", n / 1e6)
    }
}
