//! The scale-out over RabbitMQ streams and PostgreSQL against the embedded pipeline: the fixture
//! stream and a generated one, posted through two gateways (publishers with confirms) with two
//! ticks, derived by three workers sharing the partitions, give the views (by content hash) and
//! the counters one embedded engine gives; a worker stopped mid-stream hands its partitions
//! over with nothing lost and nothing applied twice; a fourth worker takes a share and gives it
//! back; what a reader of the outbox sees never goes back; `--retain-events` compacts as the
//! embedded engine does.

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

/// Waits until the store has read `lines` lines and every one of its partitions has applied
/// `ticks` ticks.
fn wait_for(url: &str, lines: u64, ticks: u64) {
    let mut store = PgStore::connect(url).unwrap();
    let started = Instant::now();
    loop {
        let read = store.snapshot().unwrap().counters.read;
        let applied = store.ticks_in_every_partition().unwrap();
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

/// Waits until the store has read `lines` lines and applied `ticks` ticks in every partition,
/// then checks its views (once the reducer has caught up) and counters against the embedded
/// engine's; gives the store for more checks.
fn the_embedded_views(
    url: &str,
    lines: u64,
    ticks: u64,
    expected: &BTreeMap<String, String>,
    counters: &pipeline::store::Counters,
) -> PgStore {
    wait_for(url, lines, ticks);
    assert_eq!(&settled_hashes(url, expected), expected);
    let mut store = PgStore::connect(url).unwrap();
    assert_eq!(&store.snapshot().unwrap().counters, counters);
    store
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
        retain_events: None,
        reduce: true,
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

/// A test's fresh database (`db`), stream prefix and worker configuration; `None` when the
/// services are not there (the test is skipped).
struct Setup {
    url: String,
    amqp: String,
    prefix: String,
    config: WorkerConfig,
}

fn setup(test: &str, db: &str) -> Option<Setup> {
    let (pg, amqp) = (pg_url(test)?, amqp_url(test)?);
    let url = fresh_database(&pg, db);
    let prefix = prefix(db);
    let config = config(&url, &amqp, &prefix);
    Some(Setup {
        url,
        amqp,
        prefix,
        config,
    })
}

#[test]
fn two_gateways_and_three_workers_give_the_embedded_views() {
    let Some(Setup {
        url,
        amqp,
        prefix,
        config,
    }) = setup(
        "two_gateways_and_three_workers_give_the_embedded_views",
        "gateways_workers",
    )
    else {
        return;
    };
    let (expected, counters) = embedded();
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
    the_embedded_views(&url, total, 2, &expected, &counters);
    workers.stop_all();
}

#[test]
fn a_stopped_worker_hands_over_with_nothing_lost_or_applied_twice() {
    let Some(Setup {
        url,
        amqp,
        prefix,
        mut config,
    }) = setup(
        "a_stopped_worker_hands_over_with_nothing_lost_or_applied_twice",
        "handover",
    )
    else {
        return;
    };
    let (expected, counters) = embedded();
    config.batch = 97;
    let first = start_workers(&config, 1);
    let mut gateway = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    let (fixture, generated) = inputs();
    let (early, late) = fixture.split_at(fixture.len() / 2);
    post(&mut [&mut gateway], early, 150);
    // Stop the only worker while it may be mid-stream; two new ones take its partitions.
    std::thread::sleep(Duration::from_millis(300));
    first.stop_all();
    let rest = start_workers(&config, 2);
    post(&mut [&mut gateway], late, 150);
    gateway.broker.publisher().unwrap().tick(T1, "UTC").unwrap();
    post(&mut [&mut gateway], &generated, 150);
    gateway.broker.publisher().unwrap().tick(T2, "UTC").unwrap();
    assert_eq!(gateway.directory.held().unwrap(), 0);
    the_embedded_views(
        &url,
        (fixture.len() + generated.len()) as u64,
        2,
        &expected,
        &counters,
    );
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
    let Some(Setup {
        url,
        amqp,
        prefix,
        mut config,
    }) = setup(
        "a_fourth_worker_takes_partitions_and_a_leaving_ones_move",
        "rebalance",
    )
    else {
        return;
    };
    let (expected, counters) = embedded();
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
    the_embedded_views(
        &url,
        (fixture.len() + generated.len()) as u64,
        2,
        &expected,
        &counters,
    );
    three.stop_all();
}

/// A monotone goal: leg-press reps only ever add up.
const REPS_TOTAL: &str = r#"
challenge "reps-total" {
    title "3,000 leg-press reps in August"
    window 2026-08-01 to 2026-08-31
    goal sum(reps of leg_press) >= 3000
}
"#;

/// Order across partitions, as members see it: while user records and then a generated stream
/// in a shuffled order (seeded) go through two gateways to three workers, a reader of the
/// change outbox (what the gateways push to members' screens) never sees a user's progress on
/// a monotone goal go down, whatever partition, worker or commit it comes from.
#[test]
fn monotone_progress_never_decreases_in_the_outbox() {
    let Some(Setup {
        url,
        amqp,
        prefix,
        mut config,
    }) = setup(
        "monotone_progress_never_decreases_in_the_outbox",
        "monotone",
    )
    else {
        return;
    };
    let mut decls = challenges();
    decls.extend(rules_dsl::parse(REPS_TOTAL).decls);
    config.challenges = Some(decls);
    let workers = start_workers(&config, 3);
    let (records, mut events): (Vec<String>, Vec<String>) = generated_events(24, 6, 23)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .partition(|l| l.contains(r#""type":"user_upsert""#));
    let mut rng = workload::Rng(0x5eed);
    for i in (1..events.len()).rev() {
        let j = usize::try_from(rng.next_u64() % (i as u64 + 1)).unwrap();
        events.swap(i, j);
    }
    // The reader: every change of a `reps-total` result, in outbox order.
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (url, done) = (url.clone(), done.clone());
        std::thread::spawn(move || -> (u64, Vec<String>) {
            let mut store = PgStore::connect(&url).unwrap();
            let (mut after, mut seen, mut wrong) = (0, 0u64, Vec::new());
            let mut progress: BTreeMap<String, f64> = BTreeMap::new();
            loop {
                let finished = done.load(Ordering::Relaxed);
                let (changes, last) = store.changes_after(after, 5_000).unwrap();
                for c in changes {
                    let change = c.change;
                    let (Some(user), "result", "reps-total") =
                        (change.user, change.kind, change.key.as_str())
                    else {
                        continue;
                    };
                    let row: serde_json::Value = serde_json::from_str(&change.data).unwrap();
                    let p = row["progress"].as_f64().unwrap();
                    let before = progress.insert(user.clone(), p).unwrap_or(0.0);
                    if p < before {
                        wrong.push(format!("{user}: {before} then {p} at change {}", c.seq));
                    }
                    seen += 1;
                }
                if finished && last == after {
                    return (seen, wrong);
                }
                after = last;
                std::thread::sleep(Duration::from_millis(10));
            }
        })
    };
    let mut a = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    let mut b = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    post(&mut [&mut a], &records, 500);
    let mut rest = events.as_slice();
    let mut turn = 0;
    while !rest.is_empty() {
        let n = usize::try_from(rng.int(1, 400)).unwrap().min(rest.len());
        let (part, tail) = rest.split_at(n);
        let g = if turn % 2 == 0 { &mut a } else { &mut b };
        post(&mut [g], part, n);
        rest = tail;
        turn += 1;
    }
    wait_for(&url, (records.len() + events.len()) as u64, 0);
    done.store(true, Ordering::Relaxed);
    let (seen, wrong) = reader.join().unwrap();
    workers.stop_all();
    assert!(seen > 50, "only {seen} changes of reps-total followed");
    assert!(wrong.is_empty(), "progress went down: {wrong:?}");
}

/// `--retain-events` in scale-out: after each tick every partition compacts the sessions that
/// ended long enough before it, as the embedded engine does after its tick; a late event of a
/// compacted session is then a dead letter in both, and the views are the same.
#[test]
fn retained_events_are_compacted_per_partition_as_embedded() {
    let Some(Setup {
        url,
        amqp,
        prefix,
        mut config,
    }) = setup(
        "retained_events_are_compacted_per_partition_as_embedded",
        "retain",
    )
    else {
        return;
    };
    let retain = chrono::Duration::days(3);
    config.retain_events = Some(retain);
    let (fixture, generated) = inputs();
    // A rep of a treadmill session of 1 August, long compacted by the second tick.
    let late = vec![
        r#"{"type":"sample","session":"s-u-05-001","seq":9999,"ts":"2026-08-01T11:50:00+08:00","distance_m":10}"#
            .to_owned(),
    ];
    let at = |t: &str| AsOf::parse(t).unwrap();
    let mut e = sqlite_engine(options(4, 500));
    ingest(&mut e, "fixture", &fixture.join("\n"));
    e.tick(&at(T1), "UTC").unwrap();
    e.compact(at(T1).time - retain, &mut |_| {}).unwrap();
    ingest(&mut e, "generated", &generated.join("\n"));
    e.tick(&at(T2), "UTC").unwrap();
    e.compact(at(T2).time - retain, &mut |_| {}).unwrap();
    ingest(&mut e, "late", &late.join("\n"));
    let expected = e.store().view_hashes().unwrap();
    let compacted = e.store().counts().unwrap()["compacted"];
    assert!(compacted > 0);
    assert_eq!(
        e.counters().rejected,
        e.store().query("dead-letters", None, None).unwrap().len() as u64
    );

    let workers = start_workers(&config, 2);
    let mut gateway = Gateway::connect(&url, &amqp, &prefix, config.partitions);
    post(&mut [&mut gateway], &fixture, 200);
    gateway.broker.publisher().unwrap().tick(T1, "UTC").unwrap();
    post(&mut [&mut gateway], &generated, 200);
    gateway.broker.publisher().unwrap().tick(T2, "UTC").unwrap();
    post(&mut [&mut gateway], &late, 1);
    let total = (fixture.len() + generated.len() + late.len()) as u64;
    let mut store = the_embedded_views(&url, total, 2, &expected, &e.counters());
    assert_eq!(store.counts().unwrap()["compacted"], compacted);
    let dead = store.query("dead-letters", None, None).unwrap();
    assert!(
        dead.iter()
            .any(|d| d.contains("late event for a compacted session")),
        "{dead:?}"
    );
    workers.stop_all();
}
