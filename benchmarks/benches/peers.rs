//! Criterion benches: every engine on every challenge, one evaluation of one user (the
//! evaluations cycle through the first 200 users of 1,000 users × 31 days), after checking that
//! every engine agrees with ours on all 1,000 users. `challenge-bench` prints the full table.
//!
//! ```sh
//! cargo bench -p benchmarks --bench peers -- --warm-up-time 1 --measurement-time 3
//! cargo bench -p benchmarks --bench peers -- national-day      # one challenge
//! ```
//!
//! The data is generated into target/bench-data/1000x31 on first use.

#![allow(
    missing_docs,
    reason = "criterion_group! defines undocumented functions"
)]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a bench may fail loudly"
)]

use std::hint::black_box;

use benchmarks::data;
use benchmarks::engines::{self, Engine as _};
use benchmarks::harness;
use benchmarks::specs::{Kind, Spec};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const USERS: usize = 200;

fn bench_peers(c: &mut Criterion) {
    let data = data::load(1_000, 31);
    let ours = engines::Ours::new();
    let users: Vec<usize> = (0..USERS).collect();
    for kind in Kind::ALL {
        let spec = Spec::new(kind, &data);
        let expected = harness::answers(&ours, &spec, &data);
        let mut group = c.benchmark_group(kind.name());
        group.throughput(Throughput::Elements(1));
        for engine in engines::all() {
            if engine.cannot(kind).is_some() {
                continue;
            }
            harness::verify(engine.as_ref(), &spec, &data, &expected);
            let mut runner = engine.runner(&spec, &data, &users);
            let mut k = 0;
            group.bench_function(engine.name(), |b| {
                b.iter(|| {
                    k = (k + 1) % USERS;
                    black_box(runner.met(black_box(k)))
                });
            });
        }
        group.bench_function("ours/compile", |b| b.iter(|| ours.compile(&spec)));
        group.finish();
    }
}

criterion_group!(benches, bench_peers);
criterion_main!(benches);
