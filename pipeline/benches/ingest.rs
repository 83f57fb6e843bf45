//! Pipeline benchmarks on generated data (`cargo bench -p pipeline --bench ingest`):
//!
//! - end-to-end ingest throughput into a SQLite file (WAL, `synchronous=NORMAL`, one
//!   transaction per batch of 50,000 lines), events per second of wall time and of CPU time;
//! - on-demand latency per saved workout with 10 active challenges (p50, p99): the evaluation
//!   path (re-evaluating one user's challenges and writing the rows' JSON, as the on-demand
//!   stage does), and end to end (a `session_end` line in its own batch: saved, re-evaluated
//!   and committed). Samples during which another process preempted the thread are counted
//!   and, apart, left out of a second p99;
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
use pipeline::ondemand::{self, UserInput};
use pipeline::sqlite::SqliteStore;
use pipeline::transport::{Line, LineReader};
use workload::{generate_events, EventsConfig};

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

/// The involuntary context switches of this thread so far (Linux; 0 elsewhere).
fn preemptions() -> u64 {
    std::fs::read_to_string("/proc/thread-self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("nonvoluntary_ctxt_switches:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Latency samples, with those during which the thread was preempted (by other processes on
/// a loaded machine) told apart.
#[derive(Default)]
struct Latencies {
    all: Vec<Duration>,
    unpreempted: Vec<Duration>,
}

impl Latencies {
    fn measure(&mut self, f: impl FnOnce()) {
        let before = preemptions();
        let t = Instant::now();
        f();
        let d = t.elapsed();
        self.all.push(d);
        if preemptions() == before {
            self.unpreempted.push(d);
        }
    }

    fn report(&mut self) -> String {
        fn pct(v: &[Duration], p: f64) -> Duration {
            v.get(((v.len() as f64 - 1.0) * p) as usize)
                .copied()
                .unwrap_or_default()
        }
        self.all.sort();
        self.unpreempted.sort();
        let preempted = self.all.len() - self.unpreempted.len();
        format!(
            "p50 {:?}, p99 {:?}, max {:?} ({} samples; {} preempted by other processes; without them p50 {:?}, p99 {:?})",
            pct(&self.all, 0.5),
            pct(&self.all, 0.99),
            self.all.last().copied().unwrap_or_default(),
            self.all.len(),
            preempted,
            pct(&self.unpreempted, 0.5),
            pct(&self.unpreempted, 0.99),
        )
    }
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

    // On-demand, the evaluation path: what the on-demand stage does per saved workout (one
    // user, 10 challenges, the result rows' JSON), without any store write.
    let state = engine.state();
    let mut ids: Vec<String> = state.by_user.keys().cloned().collect();
    ids.sort();
    let mut eval = Latencies::default();
    for round in 0..5 {
        for user in &ids {
            eval.measure(|| {
                let input = UserInput::gather(state, user, true, round);
                let rows = ondemand::evaluate_user(engine.challenges(), &input);
                std::hint::black_box(rows);
            });
        }
    }
    let per_user = state.workouts.len() as f64 / ids.len().max(1) as f64;
    println!(
        "on-demand evaluation per saved workout, 10 challenges ({} users, {per_user:.1} workouts each): {}",
        ids.len(),
        eval.report()
    );

    // On-demand, end to end: one `session_end` line in its own batch (the session's other
    // events already committed): admit, save the workout, re-evaluate the user's 10 results
    // and live rows, and commit the transaction (WAL append, no fsync).
    let mut end_to_end = Latencies::default();
    for (k, user) in ids.iter().take(200).enumerate() {
        let session = format!("s-bench-{k}");
        let at = |second: u32| format!("2026-09-01T07:{:02}:{:02}+08:00", second / 60, second % 60);
        let mut lines = vec![format!(
            r#"{{"type":"session_start","session":"{session}","seq":0,"ts":"{}","device":"m-001","gym":"gym-01","user":"{user}","exercise":"leg_press"}}"#,
            at(0)
        )];
        for seq in 1..=10u32 {
            lines.push(format!(
                r#"{{"type":"rep","session":"{session}","seq":{seq},"ts":"{}","weight_kg":60,"rom_pct":95}}"#,
                at(seq * 4)
            ));
        }
        let end = format!(
            r#"{{"type":"session_end","session":"{session}","seq":11,"ts":"{}"}}"#,
            at(60)
        );
        let as_lines = |texts: &[String], first: u64| -> Vec<Line> {
            texts
                .iter()
                .enumerate()
                .map(|(i, t)| Line {
                    number: first + i as u64,
                    text: t.clone(),
                })
                .collect()
        };
        let base = (k as u64) * 12;
        engine
            .ingest_lines(
                "input:bench-on-demand",
                "bench-on-demand",
                &as_lines(&lines, base + 1),
                base + 11,
            )
            .unwrap();
        let end = as_lines(&[end], base + 12);
        end_to_end.measure(|| {
            engine
                .ingest_lines("input:bench-on-demand", "bench-on-demand", &end, base + 12)
                .unwrap();
        });
    }
    println!(
        "on-demand end to end per saved workout (session_end in its own batch, 10 results, commit): {}",
        end_to_end.report()
    );

    let head = engine.state().head;
    let t = Instant::now();
    engine.rebuild(&mut |_| {}).unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "rebuild: {head} log entries in {s:.2} s, {:.0} entries/s",
        head as f64 / s
    );
}
