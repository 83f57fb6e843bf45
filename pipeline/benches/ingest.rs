//! Pipeline benchmarks on generated data (`cargo bench -p pipeline --bench ingest`):
//!
//! - end-to-end ingest throughput into a SQLite file (WAL, `synchronous=NORMAL`, one
//!   transaction per batch of 50,000 lines), events per second of wall time and of CPU time;
//! - on-demand latency per saved workout with 10 active challenges: re-evaluating one user's
//!   challenges as the save stage does (p50, p99);
//! - rebuild throughput (log entries per second).
//!
//! `BENCH_USERS` and `BENCH_DAYS` scale the generated stream (default 400 users, 30 days:
//! about 700,000 events).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a bench"
)]

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use pipeline::engine::{Engine, Options};
use pipeline::gen::{generate_events, EventsConfig};
use pipeline::ondemand::{self, UserInput};
use pipeline::sqlite::SqliteStore;
use pipeline::transport::LineReader;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cpu_seconds() -> f64 {
    // utime + stime of this process, from /proc (Linux); 0 elsewhere.
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

fn main() {
    let users = env("BENCH_USERS", 400);
    let days = env("BENCH_DAYS", 30) as u32;
    let (text, summary) = generate_events(&EventsConfig {
        users,
        machines: 40,
        start: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        days,
        seed: 7,
        noise: true,
    });
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-pipeline");
    std::fs::create_dir_all(&root).unwrap();
    let db = root.join("bench.db");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let mut files: Vec<_> = std::fs::read_dir(root.join("../../fixtures/challenges"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "chal"))
        .collect();
    files.sort();
    let mut decls = Vec::new();
    for f in files.iter().take(10) {
        decls.extend(rules_dsl::parse(&std::fs::read_to_string(f).unwrap()).decls);
    }
    assert_eq!(decls.len(), 10);

    let mut engine = Engine::open(SqliteStore::open(&db).unwrap(), Options::default()).unwrap();
    engine.set_challenges(&decls).unwrap();
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let progress = engine
        .ingest(&mut LineReader::new("bench", text.as_bytes()), |_| {})
        .unwrap();
    let (wall, cpu) = (wall.elapsed().as_secs_f64(), cpu_seconds() - cpu);
    println!(
        "ingest: {} lines ({} sessions, {} workouts), {:.2} s wall, {:.0} events/s; {:.2} s CPU, {:.0} events per CPU-second",
        summary.lines,
        summary.sessions,
        progress.workouts,
        wall,
        summary.lines as f64 / wall,
        cpu,
        summary.lines as f64 / cpu.max(1e-9)
    );

    // On-demand: what the save stage does per saved workout (one user, 10 challenges).
    let state = engine.state();
    let mut ids: Vec<&String> = state.by_user.keys().collect();
    ids.sort();
    let mut times: Vec<Duration> = Vec::new();
    for round in 0..5 {
        for user in &ids {
            let t = Instant::now();
            let input = UserInput::gather(state, user, true, round);
            let rows = ondemand::evaluate_user(engine.challenges(), &input);
            std::hint::black_box(rows);
            times.push(t.elapsed());
        }
    }
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p) as usize];
    let per_user = state.workouts.len() as f64 / ids.len().max(1) as f64;
    println!(
        "on-demand per saved workout, 10 challenges ({} users, {:.1} workouts each): p50 {:?}, p99 {:?}, max {:?}",
        ids.len(),
        per_user,
        pct(0.5),
        pct(0.99),
        times.last().unwrap()
    );

    let head = engine.state().head;
    let t = Instant::now();
    engine.rebuild().unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "rebuild: {head} log entries in {s:.2} s, {:.0} entries/s",
        head as f64 / s
    );
}
