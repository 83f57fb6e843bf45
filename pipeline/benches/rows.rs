//! The on-demand stage's result rows as JSON text (`cargo bench -p pipeline --bench rows`):
//! the results of the fixture challenges for generated users at several times, written by
//! the stage's row writer ([`pipeline::ondemand::result_json`]: serde_json into a buffer kept
//! across rows) and by `serde_json::to_string`, in bytes of JSON per second.
//!
//! docs/pipeline.md ("Result rows as JSON") records the figures and what was decided.

#![allow(clippy::unwrap_used, reason = "a bench")]
#![allow(
    missing_docs,
    reason = "criterion_group! defines an undocumented function"
)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rules_core::eval::{self, AsOf, EvalResult, Plan};
use rules_core::records::User;
use rules_core::session::{self, SensorEvent};
use rules_core::Catalog;
use workload::{generate_events, EventsConfig};

/// Results as the on-demand stage writes them: every fixture challenge, 40 users, four times.
fn results() -> Vec<EvalResult> {
    let (text, _) = generate_events(&EventsConfig {
        users: 40,
        machines: 10,
        start: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        days: 30,
        seed: 7,
        noise: false,
    });
    let events: Vec<SensorEvent> = text
        .lines()
        .filter_map(|l| session::parse_event_line(l).ok())
        .collect();
    let users: Vec<User> = events
        .iter()
        .filter_map(|e| match e {
            SensorEvent::UserUpsert(u) => Some(u.user.clone()),
            _ => None,
        })
        .collect();
    let workouts = session::workouts_of(events);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/challenges");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "chal"))
        .collect();
    files.sort();
    let catalog = Catalog::builtin();
    let mut out = Vec::new();
    for f in files {
        for decl in rules_dsl::parse(&std::fs::read_to_string(&f).unwrap()).decls {
            let plan = Plan::compile(&decl, &catalog).unwrap();
            for at in [
                "2026-08-03T12:00:00+08:00",
                "2026-08-15T23:59:59+08:00",
                "2026-08-31T23:00:00+08:00",
                "2026-09-30T00:00:00-05:00",
            ] {
                let as_of = AsOf::parse(at).unwrap();
                for user in &users {
                    out.push(eval::evaluate(&plan, user, &workouts, &as_of));
                }
            }
        }
    }
    out
}

fn rows(c: &mut Criterion) {
    let results = results();
    let bytes: usize = results
        .iter()
        .map(|r| serde_json::to_string(r).unwrap().len())
        .sum();
    let mut group = c.benchmark_group("result rows");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.bench_function("ondemand::result_json", |b| {
        b.iter(|| {
            for r in &results {
                black_box(pipeline::ondemand::result_json(r));
            }
        });
    });
    group.bench_function("serde_json::to_string", |b| {
        b.iter(|| {
            for r in &results {
                black_box(serde_json::to_string(r).unwrap());
            }
        });
    });
    group.finish();
}

criterion_group!(benches, rows);
criterion_main!(benches);
