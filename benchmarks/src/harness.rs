//! Checking and timing: answers first, then one core, all cores, memory, compile time.
//!
//! - [`answers`] runs an engine once over every user; [`verify`] compares with ours and panics
//!   on the first difference, naming the challenge, the user and both answers (met, and the
//!   progress where both engines compute one).
//! - [`one_core`]: full passes over every user on the calling thread until `min_secs` have
//!   passed (at least one pass after a warm-up pass): evaluations per second.
//! - [`all_cores`]: one rayon thread per core, each with its own share of the users prepared
//!   on that thread (ZEN's and rhai's values are not `Send`), started together at a barrier:
//!   evaluations per second of the wall time.
//! - [`memory`]: with the counting allocator installed, the bytes of the prepared data
//!   (compiled rule included) and the bytes and allocations per evaluation.

use std::hint::black_box;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use crate::alloc;
use crate::data::Dataset;
use crate::engines::Engine;
use crate::specs::Spec;

/// One user's answer: met or not, and the progress when the engine computes one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    /// The challenge is met.
    pub met: bool,
    /// Progress in [0, 1] ([`crate::engines::Runner::progress`]).
    pub progress: Option<f64>,
}

/// Every user's answer, in user order.
pub fn answers(engine: &dyn Engine, spec: &Spec, data: &Dataset) -> Vec<Answer> {
    let users: Vec<usize> = (0..data.users.len()).collect();
    let mut runner = engine.runner(spec, data, &users);
    (0..users.len())
        .map(|k| Answer {
            met: runner.met(k),
            progress: runner.progress(k),
        })
        .collect()
}

/// Panics unless `engine` answers `expected` for every user: the same met/unmet, and the same
/// progress (to 1e-9) where both have one.
pub fn verify(engine: &dyn Engine, spec: &Spec, data: &Dataset, expected: &[Answer]) {
    let got = answers(engine, spec, data);
    let met = |m: bool| if m { "met" } else { "unmet" };
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            g.met == e.met,
            "WRONG ANSWER: {} says {} for user {} on {} ({}); ours says {}",
            engine.name(),
            met(g.met),
            data.users[i].id,
            spec.kind.name(),
            data.label,
            met(e.met),
        );
        if let (Some(g), Some(e)) = (g.progress, e.progress) {
            assert!(
                (g - e).abs() <= 1e-9,
                "WRONG PROGRESS: {} says {g} for user {} on {} ({}); ours says {e}",
                engine.name(),
                data.users[i].id,
                spec.kind.name(),
                data.label,
            );
        }
    }
    assert_eq!(got.len(), expected.len());
}

/// Evaluations per second on the calling thread.
pub fn one_core(engine: &dyn Engine, spec: &Spec, data: &Dataset, min_secs: f64) -> f64 {
    let users: Vec<usize> = (0..data.users.len()).collect();
    let mut runner = engine.runner(spec, data, &users);
    for k in 0..users.len() {
        black_box(runner.met(k));
    }
    let start = Instant::now();
    let mut evals = 0usize;
    loop {
        for k in 0..users.len() {
            black_box(runner.met(black_box(k)));
        }
        evals += users.len();
        if start.elapsed().as_secs_f64() >= min_secs {
            break;
        }
    }
    evals as f64 / start.elapsed().as_secs_f64()
}

/// Evaluations per second with every core of rayon's pool, each thread on its own share of the
/// users, `passes` times over.
pub fn all_cores(engine: &dyn Engine, spec: &Spec, data: &Dataset, passes: usize) -> f64 {
    let threads = rayon::current_num_threads();
    let n = data.users.len();
    let barrier = Barrier::new(threads);
    let runs: Vec<(Instant, Instant, usize)> = rayon::broadcast(|ctx| {
        let mine: Vec<usize> = (ctx.index()..n).step_by(ctx.num_threads()).collect();
        let mut runner = engine.runner(spec, data, &mine);
        for k in 0..mine.len() {
            black_box(runner.met(k));
        }
        barrier.wait();
        let start = Instant::now();
        for _ in 0..passes {
            for k in 0..mine.len() {
                black_box(runner.met(black_box(k)));
            }
        }
        (start, Instant::now(), passes * mine.len())
    });
    let first = runs.iter().map(|r| r.0).min().unwrap();
    let last = runs.iter().map(|r| r.1).max().unwrap();
    let evals: usize = runs.iter().map(|r| r.2).sum();
    evals as f64 / (last - first).as_secs_f64()
}

/// Memory figures of one engine on one challenge.
#[derive(Clone, Copy, Debug, Default)]
pub struct Memory {
    /// Bytes of the prepared data and compiled rule, all users.
    pub data_bytes: i64,
    /// Bytes allocated per evaluation.
    pub bytes_per_eval: f64,
    /// Allocations per evaluation.
    pub allocs_per_eval: f64,
    /// The most bytes live at once during the pass, beyond the prepared data.
    pub peak_bytes: i64,
}

/// Memory figures (zeros unless the counting allocator is installed).
pub fn memory(engine: &dyn Engine, spec: &Spec, data: &Dataset) -> Memory {
    let users: Vec<usize> = (0..data.users.len()).collect();
    alloc::start();
    let mut runner = engine.runner(spec, data, &users);
    let prepared = alloc::stop();
    // Warm-up: reusable buffers (sessions, VMs, scratch) reach their size.
    for k in 0..users.len() {
        black_box(runner.met(k));
    }
    alloc::start();
    for k in 0..users.len() {
        black_box(runner.met(k));
    }
    let pass = alloc::stop();
    drop(runner);
    let n = users.len().max(1) as f64;
    Memory {
        data_bytes: prepared.live,
        bytes_per_eval: pass.bytes as f64 / n,
        allocs_per_eval: pass.count as f64 / n,
        peak_bytes: pass.peak,
    }
}

/// Mean time of `f`, run repeatedly for at least `min`.
pub fn mean_time(min: Duration, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    let mut n = 0u32;
    while start.elapsed() < min || n == 0 {
        f();
        n += 1;
    }
    start.elapsed() / n
}
