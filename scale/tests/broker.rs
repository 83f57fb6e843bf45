//! The scale-out over RabbitMQ streams and PostgreSQL against the embedded pipeline: the fixture
//! stream and a generated one, posted through two gateways (publishers with confirms) with two
//! ticks, derived by three workers (one active, two standing by), give the views (by content
//! hash) and the counters one embedded engine gives; a worker stopped mid-stream hands over to
//! a standby with nothing lost and nothing applied twice.

use std::collections::BTreeMap;
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
            worker::run(&config, &flag, &|line| eprintln!("worker {i}: {line}"));
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

/// Waits until the store has read `lines` lines and every one of its `partitions` has
/// applied `ticks` ticks.
fn wait_for(url: &str, partitions: u32, lines: u64, ticks: i64) {
    let mut store = PgStore::connect(url).unwrap();
    let started = Instant::now();
    loop {
        let read = store.snapshot().unwrap().counters.read;
        let applied: i64 = store
            .client()
            .query_one(
                "SELECT CASE WHEN count(*) = $1 THEN min(c) ELSE 0 END FROM \
                 (SELECT count(*) AS c FROM log WHERE kind = 'tick' GROUP BY part) t",
                &[&i64::from(partitions)],
            )
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

/// The store's view hashes once they equal `expected`, or after 30 s: the reducer's team rows
/// and merged boards follow the partitions' commits.
fn settled_hashes(url: &str, expected: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut store = PgStore::connect(url).unwrap();
    let started = Instant::now();
    loop {
        let hashes = store.view_hashes().unwrap();
        if &hashes == expected || started.elapsed() > Duration::from_secs(30) {
            return hashes;
        }
        std::thread::sleep(Duration::from_millis(200));
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
    let total = (fixture.len() + generated.len()) as u64;
    wait_for(&url, config.partitions, total, 2);
    assert_eq!(settled_hashes(&url, &expected), expected);
    let mut store = PgStore::connect(&url).unwrap();
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
    wait_for(
        &url,
        config.partitions,
        (fixture.len() + generated.len()) as u64,
        2,
    );
    assert_eq!(settled_hashes(&url, &expected), expected);
    let mut store = PgStore::connect(&url).unwrap();
    assert_eq!(store.snapshot().unwrap().counters, counters);
    rest.stop_all();
}

/// The partitions each live worker says it owns, sorted, and the partition locks held, once
/// they are `shares` and `partitions` (or after 60 s).
fn owned(url: &str, partitions: u32, shares: &[i32]) -> (Vec<i32>, i64) {
    let mut store = PgStore::connect(url).unwrap();
    let started = Instant::now();
    loop {
        let mut said: Vec<i32> = store
            .client()
            .query(
                "SELECT partitions FROM workers WHERE seen > now() - interval '3 seconds'",
                &[],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        said.sort_unstable();
        let locks: i64 = store
            .client()
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 \
                 AND classid::bigint = $1 AND granted \
                 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[&i64::from(worker::PARTITION_LOCK)],
            )
            .unwrap()
            .get(0);
        if (said.as_slice() == shares && locks == i64::from(partitions))
            || started.elapsed() > Duration::from_secs(60)
        {
            return (said, locks);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_fourth_worker_takes_partitions_and_a_leaving_ones_move() {
    let (Some(pg), Some(amqp)) = (
        pg_url("a_fourth_worker_takes_partitions_and_a_leaving_ones_move"),
        amqp_url("a_fourth_worker_takes_partitions_and_a_leaving_ones_move"),
    ) else {
        return;
    };
    let (expected, counters) = embedded();
    let url = fresh_database(&pg, "rebalance");
    let prefix = prefix("rebalance");
    let mut config = config(&url, &amqp, &prefix);
    config.partitions = 12;
    let three = start_workers(&config, 3);
    assert_eq!(owned(&url, 12, &[4, 4, 4]), (vec![4, 4, 4], 12));
    let mut gateway = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    let (fixture, generated) = inputs();
    let (early, late) = fixture.split_at(fixture.len() / 2);
    post(&mut [&mut gateway], early, 120);
    // A fourth joins: the others give up a partition each, which it takes.
    let fourth = start_workers(&config, 1);
    post(&mut [&mut gateway], late, 120);
    assert_eq!(owned(&url, 12, &[3, 3, 3, 3]), (vec![3, 3, 3, 3], 12));
    gateway.broker.publisher().unwrap().tick(T1, "UTC").unwrap();
    post(&mut [&mut gateway], &generated, 120);
    // It leaves: its partitions move to the three others.
    fourth.stop_all();
    assert_eq!(owned(&url, 12, &[4, 4, 4]), (vec![4, 4, 4], 12));
    gateway.broker.publisher().unwrap().tick(T2, "UTC").unwrap();
    wait_for(
        &url,
        config.partitions,
        (fixture.len() + generated.len()) as u64,
        2,
    );
    assert_eq!(settled_hashes(&url, &expected), expected);
    let mut store = PgStore::connect(&url).unwrap();
    assert_eq!(store.snapshot().unwrap().counters, counters);
    three.stop_all();
}
