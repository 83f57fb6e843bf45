//! The session directory against a real PostgreSQL and RabbitMQ: a session's events that
//! arrive before its start (through another router) are held, then released with the start,
//! and every line of the session lands in its user's partition, in order; two routers racing
//! on the same sessions never lose or strand a line.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use challenge_scale::directory::{self, Directory, Routing};
use challenge_scale::rabbitmq::Broker;
use pipeline::partition::partition_of;

use crate::common::*;

const PARTITIONS: u32 = 8;

static PREFIXES: AtomicU32 = AtomicU32::new(0);

fn prefix(test: &str) -> String {
    format!(
        "d-{test}-{}-{}",
        std::process::id(),
        PREFIXES.fetch_add(1, Ordering::Relaxed)
    )
}

fn start(session: &str, user: &str) -> String {
    format!(
        r#"{{"type":"session_start","session":"{session}","seq":0,"ts":"2026-08-01T07:30:00+08:00","device":"lp-03","gym":"gym-01","user":"{user}","exercise":"leg_press"}}"#
    )
}

fn rep(session: &str, seq: u64) -> String {
    format!(
        r#"{{"type":"rep","session":"{session}","seq":{seq},"ts":"2026-08-01T07:31:00+08:00","weight_kg":40,"rom_pct":97}}"#
    )
}

fn end(session: &str, seq: u64) -> String {
    format!(
        r#"{{"type":"session_end","session":"{session}","seq":{seq},"ts":"2026-08-01T07:42:00+08:00"}}"#
    )
}

/// Every line of every partition's stream, in stream order, until `lines` lines were read
/// (then a little longer, to see any extra).
fn consume(amqp: &str, prefix: &str, lines: usize) -> BTreeMap<u32, Vec<String>> {
    let broker = Broker::connect(amqp, prefix, PARTITIONS).unwrap();
    let from: BTreeMap<u32, u64> = (0..PARTITIONS).map(|p| (p, 0)).collect();
    let mut subscription = broker.subscribe(&from).unwrap();
    let mut out: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut read = 0;
    let started = Instant::now();
    let mut quiet_since: Option<Instant> = None;
    loop {
        let batch = subscription
            .next_batch(1_000, Duration::from_millis(100))
            .unwrap();
        for message in &batch {
            let these: Vec<String> = message.body.lines().map(str::to_owned).collect();
            read += these.len();
            out.entry(message.partition).or_default().extend(these);
        }
        if read >= lines {
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() > Duration::from_millis(500) {
                return out;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "read {read} of {lines} lines: {out:?}"
        );
    }
}

/// A user whose partition is not the session's (so routing by session would show).
fn user_apart(session: &str, stem: &str) -> String {
    (0..)
        .map(|i| format!("{stem}-{i}"))
        .find(|u| partition_of(u, PARTITIONS) != partition_of(session, PARTITIONS))
        .unwrap()
}

#[test]
fn events_before_their_start_are_held_then_released_into_the_users_partition() {
    let test = "events_before_their_start_are_held";
    let (Some(pg), Some(amqp)) = (pg_url(test), amqp_url(test)) else {
        return;
    };
    let url = fresh_database(&pg, "directory_held");
    let prefix = prefix("held");
    let broker = Broker::connect(&amqp, &prefix, PARTITIONS).unwrap();
    let publisher = broker.publisher().unwrap();
    let mut first = Directory::connect(&url).unwrap();
    let mut second = Directory::connect(&url).unwrap();
    let session = "s-held";
    let user = user_apart(session, "u");
    let intruder = user_apart(session, "v");
    let (rep1, rep2, end3, late4) = (
        rep(session, 1),
        rep(session, 2),
        end(session, 3),
        rep(session, 4),
    );
    let bad = r#"{"type":"rep","session":"s-bad","seq":1,"ts":"2026-08-01T07:30:00+08:00","weight_kg":-40}"#;

    // Before the start: the rep and end lines are held (acknowledged, nothing published),
    // a line that does not validate is not (it goes by its session, to be a dead letter).
    assert_eq!(
        first
            .publish(
                &publisher,
                &[rep1.as_str(), rep2.as_str(), end3.as_str(), bad]
            )
            .unwrap(),
        Routing {
            published: 1,
            held: 3,
            released: 0
        }
    );
    assert_eq!(first.held().unwrap(), 3);
    assert_eq!(directory::held(second.client()).unwrap(), 3);

    // The start, through the other router: the held lines go first, then the start.
    let start1 = start(session, &user);
    assert_eq!(
        second.publish(&publisher, &[start1.as_str()]).unwrap(),
        Routing {
            published: 4,
            held: 0,
            released: 3
        }
    );
    assert_eq!(first.held().unwrap(), 0);
    // Later lines go straight to the user; a second start naming another user goes to the
    // first user (the worker sees the conflict there).
    let start2 = start(session, &intruder);
    assert_eq!(
        first
            .publish(&publisher, &[late4.as_str(), start2.as_str()])
            .unwrap(),
        Routing {
            published: 2,
            held: 0,
            released: 0
        }
    );

    let streams = consume(&amqp, &prefix, 7);
    let home = partition_of(&user, PARTITIONS);
    assert_eq!(
        streams[&home],
        [rep1, rep2, end3, start1, late4, start2],
        "every line of the session in its user's partition, in order"
    );
    assert_eq!(streams[&partition_of("s-bad", PARTITIONS)], [bad]);
    assert_eq!(streams.values().map(Vec::len).sum::<usize>(), 7);

    // Erasure forgets the user's sessions: a later event of one is held again.
    let mut client = postgres::Client::connect(&url, postgres::NoTls).unwrap();
    assert_eq!(directory::erase_user(&mut client, &user).unwrap(), 1);
    assert_eq!(directory::erase_user(&mut client, &user).unwrap(), 0);
    let late5 = rep(session, 5);
    assert_eq!(
        first.publish(&publisher, &[late5.as_str()]).unwrap().held,
        1
    );
    // A database without the directory: nothing held, nothing to erase.
    let empty = fresh_database(&pg, "directory_empty");
    let mut client = postgres::Client::connect(&empty, postgres::NoTls).unwrap();
    assert_eq!(directory::held(&mut client).unwrap(), 0);
    let mut tx = client.transaction().unwrap();
    assert_eq!(directory::erase_user(&mut tx, "u-1").unwrap(), 0);
    tx.commit().unwrap();
}

/// Sessions of a race round, and lines per session.
const SESSIONS: usize = 150;
const LINES: u64 = 8;

/// Rounds of the race (without the session locks, most rounds strand a line).
const ROUNDS: u64 = 3;

#[test]
fn two_routers_racing_on_the_same_sessions_lose_and_strand_nothing() {
    let test = "two_routers_racing_on_the_same_sessions";
    let (Some(pg), Some(amqp)) = (pg_url(test), amqp_url(test)) else {
        return;
    };
    let url = fresh_database(&pg, "directory_race");
    for round in 0..ROUNDS {
        race(&url, &amqp, round);
    }
}

/// SESSIONS sessions of 3 users, LINES lines each, shuffled, in requests of 1 to 6 lines,
/// routed by two routers (threads) at once, each taking the next request.
fn race(url: &str, amqp: &str, round: u64) {
    let prefix = prefix("race");
    let users = ["u-a", "u-b", "u-c"];
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    let mut lines: Vec<(String, String)> = Vec::new();
    for s in 0..SESSIONS {
        let session = format!("s-race-{round}-{s}");
        let user = users[s % users.len()].to_owned();
        lines.push((session.clone(), start(&session, &user)));
        for seq in 1..LINES - 1 {
            lines.push((session.clone(), rep(&session, seq)));
        }
        lines.push((session.clone(), end(&session, LINES - 1)));
        owner.insert(session, user);
    }
    let mut rng = workload::Rng(42 + round);
    for i in (1..lines.len()).rev() {
        let j = rng.int(0, i as u64) as usize;
        lines.swap(i, j);
    }
    let mut requests: Vec<Vec<String>> = Vec::new();
    let mut rest = &lines[..];
    while !rest.is_empty() {
        let n = (rng.int(1, 6) as usize).min(rest.len());
        let (head, tail) = rest.split_at(n);
        requests.push(head.iter().map(|(_, l)| l.clone()).collect());
        rest = tail;
    }
    let next = AtomicUsize::new(0);
    let totals = Mutex::new(Routing::default());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                let broker = Broker::connect(amqp, &prefix, PARTITIONS).unwrap();
                let mut router = Directory::connect(url).unwrap();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(request) = requests.get(i) else {
                        return;
                    };
                    let publisher = broker.publisher().unwrap();
                    let r = router.publish(&publisher, request).unwrap();
                    let mut t = totals.lock().unwrap();
                    t.published += r.published;
                    t.held += r.held;
                    t.released += r.released;
                }
            });
        }
    });
    let totals = totals.into_inner().unwrap();
    let mut router = Directory::connect(url).unwrap();
    assert_eq!(router.held().unwrap(), 0, "round {round}: nothing stranded");
    assert!(totals.held > 0, "the shuffle held some lines: {totals:?}");
    assert_eq!(totals.held, totals.released);
    assert_eq!(totals.published, lines.len() as u64);

    let streams = consume(amqp, &prefix, lines.len());
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    let mut count = 0;
    for (p, got) in &streams {
        for line in got {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let session = v["session"].as_str().unwrap();
            assert_eq!(
                *p,
                partition_of(&owner[session], PARTITIONS),
                "{line} in its user's partition"
            );
            seen.insert(line.as_str());
            count += 1;
        }
    }
    let all: BTreeSet<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(seen, all, "every line published");
    assert_eq!(count, lines.len(), "each once (no failure, no duplicate)");
    // Each session's lines are whole in its user's stream.
    for (session, user) in &owner {
        let p = partition_of(user, PARTITIONS);
        let of_session = streams[&p]
            .iter()
            .filter(|l| l.contains(&format!("\"session\":\"{session}\"")))
            .count();
        assert_eq!(of_session as u64, LINES, "{session}");
    }
}
