//! The scale-out over RabbitMQ streams and PostgreSQL against the embedded pipeline: the fixture
//! stream and a generated one, posted through two gateways (publishers with confirms) with two
//! ticks, derived by three workers (one active, two standing by), give the views (by content
//! hash) and the counters one embedded engine gives; a worker stopped mid-stream hands over to
//! a standby with nothing lost and nothing applied twice.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use challenge_scale::directory::Directory;
use challenge_scale::rabbitmq::Broker;
use challenge_scale::worker::{self, WorkerConfig};
use challenge_scale::PgStore;
use pipeline::store::Store;
use rules_core::eval::AsOf;

use crate::common::*;

const T1: &str = "2026-08-20T00:00:00Z";
const T2: &str = "2026-08-31T23:00:00Z";

static PREFIXES: AtomicU32 = AtomicU32::new(0);

fn prefix(test: &str) -> String {
    format!(
        "t-{test}-{}-{}",
        std::process::id(),
        PREFIXES.fetch_add(1, Ordering::Relaxed)
    )
}

/// The streams' lines: the fixture, then a generated stream; blank lines left out.
fn inputs() -> (Vec<String>, Vec<String>) {
    let keep = |t: String| -> Vec<String> {
        t.lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_owned)
            .collect()
    };
    (keep(fixture_events()), keep(generated_events(30, 5, 7)))
}

/// The embedded engine's views and counters for the same input.
fn embedded() -> (
    std::collections::BTreeMap<String, String>,
    pipeline::store::Counters,
) {
    let (fixture, generated) = inputs();
    let mut e = sqlite_engine(options(4, 500));
    ingest(&mut e, "fixture", &fixture.join("\n"));
    e.tick(&AsOf::parse(T1).unwrap(), "UTC").unwrap();
    ingest(&mut e, "generated", &generated.join("\n"));
    e.tick(&AsOf::parse(T2).unwrap(), "UTC").unwrap();
    let hashes = e.store().view_hashes().unwrap();
    (hashes, e.counters())
}

struct Workers {
    stops: Vec<Arc<AtomicBool>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

fn start_workers(config: &WorkerConfig, n: usize) -> Workers {
    let mut stops = Vec::new();
    let mut threads = Vec::new();
    for i in 0..n {
        let stop = Arc::new(AtomicBool::new(false));
        let config = config.clone();
        let flag = stop.clone();
        threads.push(std::thread::spawn(move || {
            worker::run(&config, &flag, &mut |line| eprintln!("worker {i}: {line}"));
        }));
        stops.push(stop);
    }
    Workers { stops, threads }
}

impl Workers {
    fn stop_all(self) {
        for s in &self.stops {
            s.store(true, Ordering::Relaxed);
        }
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

/// Waits until the store has read `lines` lines and applied `ticks` ticks.
fn wait_for(url: &str, lines: u64, ticks: i64) {
    let mut store = PgStore::connect(url).unwrap();
    let started = Instant::now();
    loop {
        let read = store.snapshot().unwrap().counters.read;
        let applied: i64 = store
            .client()
            .query_one("SELECT count(*) FROM log WHERE kind = 'tick'", &[])
            .unwrap()
            .get(0);
        if read == lines && applied == ticks {
            return;
        }
        assert!(
            read <= lines,
            "read {read} lines of {lines}: some applied twice"
        );
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "timed out: read {read} of {lines}, {applied} of {ticks} ticks"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn config(url: &str, amqp: &str, prefix: &str) -> WorkerConfig {
    WorkerConfig {
        store: url.to_owned(),
        broker: amqp.to_owned(),
        prefix: prefix.to_owned(),
        partitions: 8,
        batch: 500,
        options: options(4, 500),
        challenges: Some(challenges()),
    }
}

/// A gateway: a publisher's broker connection and its session directory.
struct Gateway {
    broker: Broker,
    directory: Directory,
}

impl Gateway {
    fn connect(url: &str, amqp: &str, prefix: &str, partitions: u32) -> Gateway {
        Gateway {
            broker: Broker::connect(amqp, prefix, partitions).unwrap(),
            directory: Directory::connect(url).unwrap(),
        }
    }
}

/// Posts `lines` through the gateways in turn, `chunk` lines a request, each routed by its
/// gateway's session directory.
fn post(gateways: &mut [&mut Gateway], lines: &[String], chunk: usize) {
    let n = gateways.len();
    for (i, part) in lines.chunks(chunk).enumerate() {
        let gateway = &mut gateways[i % n];
        let publisher = gateway.broker.publisher().unwrap();
        gateway.directory.publish(&publisher, part).unwrap();
    }
}

#[test]
fn two_gateways_and_three_workers_give_the_embedded_views() {
    let (Some(pg), Some(amqp)) = (
        pg_url("two_gateways_and_three_workers_give_the_embedded_views"),
        amqp_url("two_gateways_and_three_workers_give_the_embedded_views"),
    ) else {
        return;
    };
    let (expected, counters) = embedded();
    let url = fresh_database(&pg, "gateways_workers");
    let prefix = prefix("equivalence");
    let config = config(&url, &amqp, &prefix);
    let workers = start_workers(&config, 3);
    let mut a = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    let mut b = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    let (fixture, generated) = inputs();
    post(&mut [&mut a, &mut b], &fixture, 200);
    a.broker.publisher().unwrap().tick(T1, "UTC").unwrap();
    post(&mut [&mut b, &mut a], &generated, 300);
    b.broker.publisher().unwrap().tick(T2, "UTC").unwrap();
    // Every session's start came: nothing is left in the directory.
    assert_eq!(a.directory.held().unwrap(), 0);
    let total = (fixture.len() + generated.len()) as u64;
    wait_for(&url, total, 2);
    let mut store = PgStore::connect(&url).unwrap();
    assert_eq!(store.view_hashes().unwrap(), expected);
    assert_eq!(store.snapshot().unwrap().counters, counters);
    workers.stop_all();
}

#[test]
fn a_stopped_worker_hands_over_with_nothing_lost_or_applied_twice() {
    let (Some(pg), Some(amqp)) = (
        pg_url("a_stopped_worker_hands_over_with_nothing_lost_or_applied_twice"),
        amqp_url("a_stopped_worker_hands_over_with_nothing_lost_or_applied_twice"),
    ) else {
        return;
    };
    let (expected, counters) = embedded();
    let url = fresh_database(&pg, "handover");
    let prefix = prefix("handover");
    let mut config = config(&url, &amqp, &prefix);
    config.batch = 97;
    let first = start_workers(&config, 1);
    let mut gateway = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    let (fixture, generated) = inputs();
    let (early, late) = fixture.split_at(fixture.len() / 2);
    post(&mut [&mut gateway], early, 150);
    // Stop the active worker while it may be mid-stream; standbys take over.
    std::thread::sleep(Duration::from_millis(300));
    first.stop_all();
    let rest = start_workers(&config, 2);
    post(&mut [&mut gateway], late, 150);
    gateway.broker.publisher().unwrap().tick(T1, "UTC").unwrap();
    post(&mut [&mut gateway], &generated, 150);
    gateway.broker.publisher().unwrap().tick(T2, "UTC").unwrap();
    assert_eq!(gateway.directory.held().unwrap(), 0);
    wait_for(&url, (fixture.len() + generated.len()) as u64, 2);
    let mut store = PgStore::connect(&url).unwrap();
    assert_eq!(store.view_hashes().unwrap(), expected);
    assert_eq!(store.snapshot().unwrap().counters, counters);
    rest.stop_all();
}
