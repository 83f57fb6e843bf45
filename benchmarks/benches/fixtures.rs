//! Benchmarks over the committed fixtures (issue 2, item 9):
//!
//! - `parse_check`: DSL parse + check throughput (MB/s) on a ~1 MB file made of the fixture
//!   challenges repeated under fresh ids;
//! - `evaluate/<challenge>`: evaluations per second of each fixture challenge for one user over
//!   a month of that user's workouts (the user whose month is closest to 30 workouts), one core;
//! - `evaluate_all/fixtures`: every fixture challenge for all 60 users with rayon.
//!
//! `cargo bench -p benchmarks --bench fixtures` (add `-- --warm-up-time 1 --measurement-time 3` for a quick run).

#![allow(
    missing_docs,
    reason = "criterion_group! defines undocumented functions"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "a bench may fail loudly"
)]

use std::path::Path;

use chrono::{Datelike, NaiveDate};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rules_core::check::{self, Layout};
use rules_core::eval::{self, AsOf, Plan};
use rules_core::records::{self, User, Workout};
use rules_core::{Catalog, Challenge};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
            .join("fixtures")
            .join(name),
    )
    .unwrap()
}

fn challenges() -> Vec<(String, String)> {
    let dir = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/challenges"
    ));
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect()
}

fn bench_parse_check(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let sources = challenges();
    let mut big = String::new();
    let mut n = 0;
    // Just under the 1 MiB limit of a file.
    'fill: loop {
        for (_, text) in &sources {
            if big.len() + text.len() + 16 > 1 << 20 {
                break 'fill;
            }
            n += 1;
            // Fresh ids keep the file valid (ids are unique within a file).
            let start = text.find("challenge \"").unwrap() + "challenge \"".len();
            big.push_str(&text[..start]);
            big.push_str(&format!("c{n}-"));
            big.push_str(&text[start..]);
            big.push('\n');
        }
    }
    let parsed = rules_dsl::parse(&big);
    assert!(
        parsed.diagnostics.is_empty(),
        "{:?}",
        parsed.diagnostics.first()
    );
    let checked = check::check_file(&parsed.decls, &catalog, Layout::Single);
    assert!(checked.is_empty(), "{:?}", checked.first());
    let mut group = c.benchmark_group("parse_check");
    group.throughput(Throughput::Bytes(big.len() as u64));
    group.sample_size(10);
    group.bench_function(format!("{}_declarations", parsed.decls.len()), |b| {
        b.iter(|| {
            let parsed = rules_dsl::parse(&big);
            check::check_file(&parsed.decls, &catalog, Layout::Single).len() + parsed.decls.len()
        });
    });
    group.finish();
}

struct Month {
    user: User,
    workouts: Vec<Workout>,
    as_of: AsOf,
}

/// The fixture user whose workouts in the first month of the window are closest to 30.
fn user_month(challenge: &Challenge, users: &[User], workouts: &[Workout]) -> Month {
    let first = challenge.window.start.node;
    let month_end = NaiveDate::from_ymd_opt(first.year(), first.month(), 1)
        .unwrap()
        .checked_add_months(chrono::Months::new(1))
        .unwrap();
    let in_month = |w: &Workout| {
        let d = w.start.date_naive();
        d >= first && d < month_end
    };
    let best = users
        .iter()
        .min_by_key(|u| {
            let n = workouts
                .iter()
                .filter(|w| w.user == u.id && in_month(w))
                .count();
            (n as i64 - 30).abs()
        })
        .unwrap();
    let mut user = best.clone();
    // Evaluate everyone as eligible: the bench measures goals, not the group filter.
    user.groups = challenge.groups.iter().map(|g| g.node.clone()).collect();
    Month {
        workouts: workouts
            .iter()
            .filter(|w| w.user == user.id && in_month(w))
            .cloned()
            .collect(),
        user,
        as_of: AsOf::parse(&format!("{month_end}T00:00:00+08:00")).unwrap(),
    }
}

fn bench_evaluate(c: &mut Criterion) {
    let catalog = Catalog::builtin();
    let users = records::read_users(&fixture("users.jsonl")).into_records();
    let workouts = records::read_workouts(&fixture("workouts.jsonl")).into_records();
    let mut group = c.benchmark_group("evaluate");
    group.throughput(Throughput::Elements(1));
    let mut plans = Vec::new();
    for (name, text) in challenges() {
        let decl = rules_dsl::parse(&text).decls.remove(0);
        let plan = Plan::compile(&decl, &catalog).unwrap();
        let month = user_month(&decl, &users, &workouts);
        let label = format!("{name}/{}_workouts", month.workouts.len());
        group.bench_function(label, |b| {
            b.iter(|| eval::evaluate(&plan, &month.user, &month.workouts, &month.as_of).progress);
        });
        plans.push(plan);
    }
    group.finish();

    let as_of = AsOf::parse("2026-09-15T12:00:00+08:00").unwrap();
    let mut group = c.benchmark_group("evaluate_all");
    group.throughput(Throughput::Elements((plans.len() * users.len()) as u64));
    group.sample_size(20);
    group.bench_function(
        format!("fixtures_{}x{}_rayon", plans.len(), users.len()),
        |b| {
            b.iter(|| eval::evaluate_all(&plans, &users, &workouts, &as_of).len());
        },
    );
    group.finish();
}

criterion_group!(benches, bench_parse_check, bench_evaluate);
criterion_main!(benches);
