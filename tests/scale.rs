//! Scale-out end to end (docs/scale-out.md): `challenge worker` processes over the PostgreSQL
//! and RabbitMQ that `scripts/services.sh start` runs, fed through two publishers as two
//! gateways publish, against `challenge pipeline` on a SQLite file for the same input. A
//! worker that owns partitions is SIGKILLed mid-stream more than once, the broker is restarted
//! (`rabbitmqctl stop_app` / `start_app`) and every connection to the store is terminated
//! (`pg_terminate_backend`) mid-ingest: the views (by content hash, as `pipeline
//! verify` prints them) and the counters equal the embedded ones, so nothing acknowledged was
//! lost and nothing was applied twice. Skipped (with a note) without `CHALLENGE_TEST_PG` and
//! `CHALLENGE_TEST_AMQP`.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use challenge_scale::directory::Directory;
use challenge_scale::rabbitmq::Broker;
use challenge_scale::PgStore;
use pipeline::store::Store;

use crate::util;

const T1: &str = "2026-08-20T00:00:00Z";
const T2: &str = "2026-08-31T23:00:00Z";
const PARTITIONS: u32 = 16;

/// The tests here share the broker, and one restarts it: one at a time.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn urls(test: &str) -> Option<(String, String)> {
    match (
        std::env::var("CHALLENGE_TEST_PG"),
        std::env::var("CHALLENGE_TEST_AMQP"),
    ) {
        (Ok(pg), Ok(amqp)) if !pg.is_empty() && !amqp.is_empty() => Some((pg, amqp)),
        _ => {
            // CI sets CHALLENGE_REQUIRE_SERVICES: a service that did not start fails the run.
            assert!(
                std::env::var_os("CHALLENGE_REQUIRE_SERVICES").is_none(),
                "{test}: CHALLENGE_REQUIRE_SERVICES is set but the services' URLs are not"
            );
            eprintln!(
                "SKIPPED {test}: CHALLENGE_TEST_PG and CHALLENGE_TEST_AMQP are not set \
                 (scripts/services.sh start prints them)"
            );
            None
        }
    }
}

/// A new, empty database named `name` on the server of `base`; its URL.
fn fresh_database(base: &str, name: &str) -> String {
    let mut admin = PgStore::connect(base).unwrap();
    admin
        .client()
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    admin
        .client()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

/// A worker process, its stderr in a file.
struct Worker {
    child: Child,
    log: PathBuf,
}

impl Worker {
    /// Worker `i`; the first of each test derives partitions only (`--partitions-only`), so
    /// the reducer runs in another.
    fn start(dir: &Path, i: usize, store: &str, broker: &str, streams: &str) -> Worker {
        let log = dir.join(format!("worker-{i}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_challenge"))
            .args(["worker", "--store", store, "--broker", broker])
            .args((i == 0).then_some("--partitions-only"))
            .args(["--challenges", "fixtures/challenges", "--streams", streams])
            .args(["--partitions", &PARTITIONS.to_string(), "--batch", "113"])
            .current_dir(util::root())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Worker { child, log }
    }

    fn log(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Whether it says it owns partitions (since its last start over).
    fn owner(&self) -> bool {
        let log = self.log();
        let last_active = log.rfind("took partition");
        let last_over = log.rfind("starting over");
        match (last_active, last_over) {
            (Some(a), Some(o)) => a > o,
            (Some(_), None) => true,
            _ => false,
        }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Kills a worker (SIGKILL) that owns partitions, once one says it does; gives its index.
fn kill_owner(workers: &mut [Worker]) -> usize {
    let started = Instant::now();
    loop {
        if let Some(i) = workers.iter().position(Worker::owner) {
            workers[i].kill();
            return i;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no worker took a partition"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Publishes `lines` through the gateways in turn, `chunk` lines a request, each routed by
/// its gateway's session directory in `store`; a request the broker did not confirm (or the
/// directory did not commit) is sent again (as a device resends an unanswered post), on new
/// connections.
fn post(
    amqp: &str,
    store: &str,
    streams: &str,
    lines: &[String],
    chunk: usize,
    mut between: impl FnMut(usize),
) {
    let mut gateways: Vec<Option<(Broker, Directory)>> = vec![None, None];
    for (i, part) in lines.chunks(chunk).enumerate() {
        between(i);
        let started = Instant::now();
        loop {
            let slot = &mut gateways[i % 2];
            if slot.is_none() {
                *slot = Broker::connect(amqp, streams, PARTITIONS)
                    .ok()
                    .zip(Directory::connect(store).ok());
            }
            let sent = slot.as_mut().map(|(broker, directory)| {
                broker
                    .publisher()
                    .map_err(|e| e.to_string())
                    .and_then(|p| directory.publish(&p, part).map_err(|e| e.to_string()))
            });
            if let Some(Ok(_)) = sent {
                break;
            }
            *slot = None;
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "the broker or the store stayed away: {sent:?}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

fn tick(amqp: &str, streams: &str, at: &str) {
    let started = Instant::now();
    loop {
        let sent = Broker::connect(amqp, streams, PARTITIONS)
            .and_then(|g| g.publisher().and_then(|p| p.tick(at, "UTC")));
        if sent.is_ok() {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the broker stayed away"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn rabbitmqctl(args: &[&str]) {
    let out = Command::new("bash")
        .arg(util::root().join("scripts/services.sh"))
        .arg("rabbitmqctl")
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "rabbitmqctl {args:?}: {out:?}");
}

fn lines_of(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect()
}

/// `challenge pipeline STEP --db LITE ARGS...` for each step: the embedded reference.
fn embedded_pipeline(lite: &str, steps: &[&[&str]]) {
    for step in steps {
        let (command, args) = step.split_first().unwrap();
        let mut full = vec!["pipeline", command, "--db", lite];
        full.extend(args);
        let run = util::challenge(&full);
        assert_eq!(run.code, 0, "{full:?}: {}", run.stderr);
    }
}

/// Waits until the store has read `lines` lines (any number when `None`) and every partition
/// has applied `ticks` ticks; more lines than were sent would be some applied twice. `logs`
/// says what the processes said, for a timeout.
fn wait_applied(
    reader: &mut PgStore,
    lines: Option<u64>,
    ticks: u64,
    within: Duration,
    logs: impl Fn() -> String,
) {
    let started = Instant::now();
    loop {
        let read = reader.snapshot().unwrap().counters.read;
        let applied = reader.ticks_in_every_partition().unwrap();
        if let Some(total) = lines {
            assert!(read <= total, "read {read} of {total}: some applied twice");
        }
        if lines.is_none_or(|total| read == total) && applied == ticks {
            return;
        }
        assert!(
            started.elapsed() < within,
            "timed out at {read} lines, {applied} ticks; {}",
            logs()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits (30 s at most) until the views in `store` have the hashes of those in `lite`: the
/// reducer's team rows and merged boards follow the partitions' commits.
fn settle(store: &str, lite: &str) {
    let expected: BTreeMap<String, String> = stored_hashes(lite).into_iter().collect();
    let mut reader = PgStore::connect(store).unwrap();
    let started = Instant::now();
    while reader.view_hashes().unwrap() != expected && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// `pipeline verify`'s stored hashes, by view.
fn stored_hashes(db: &str) -> Vec<(String, String)> {
    let run = util::challenge(["pipeline", "verify", "--db", db]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["view"].as_str().unwrap().to_owned(),
                v["stored"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn workers_killed_and_a_broker_restart_lose_nothing() {
    let Some((pg, amqp)) = urls("workers_killed_and_a_broker_restart_lose_nothing") else {
        return;
    };
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = util::scratch("scale-faults");
    let generated = workload::generate_events(&workload::EventsConfig {
        users: 40,
        machines: 9,
        start: chrono::NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        days: 6,
        seed: 11,
        noise: true,
    })
    .0;
    let generated_file = dir.join("generated.jsonl");
    std::fs::write(&generated_file, &generated).unwrap();

    // The embedded reference: `challenge pipeline` on a SQLite file.
    let lite = dir.join("embedded.db");
    let lite = lite.to_str().unwrap();
    let fixture = util::fixture("events.jsonl");
    let challenges = ["--challenges", "fixtures/challenges"];
    embedded_pipeline(
        lite,
        &[
            &[
                "ingest",
                challenges[0],
                challenges[1],
                fixture.to_str().unwrap(),
            ],
            &["tick", "--at", T1],
            &[
                "ingest",
                challenges[0],
                challenges[1],
                generated_file.to_str().unwrap(),
            ],
            &["tick", "--at", T2],
        ],
    );

    let store_name = format!("faults_{}", std::process::id());
    let store = fresh_database(&pg, &store_name);
    let mut severed = 0;
    let streams = format!("faults-{}", std::process::id());
    let mut workers: Vec<Worker> = (0..3)
        .map(|i| Worker::start(&dir, i, &store, &amqp, &streams))
        .collect();
    let fixture_lines = lines_of(&std::fs::read_to_string(&fixture).unwrap());
    let generated_lines = lines_of(&generated);
    let mut kills = 0;
    post(&amqp, &store, &streams, &fixture_lines, 101, |i| {
        if i == 6 || i == 14 {
            kill_owner(&mut workers);
            let n = workers.len();
            workers.push(Worker::start(&dir, n, &store, &amqp, &streams));
            kills += 1;
        }
    });
    tick(&amqp, &streams, T1);
    post(&amqp, &store, &streams, &generated_lines, 257, |i| {
        if i == 3 {
            rabbitmqctl(&["stop_app"]);
            std::thread::sleep(Duration::from_millis(500));
            rabbitmqctl(&["start_app"]);
        }
        if i == 8 {
            kill_owner(&mut workers);
            kills += 1;
        }
        if i == 12 {
            // Every connection to the store killed from the server side (the partitions'
            // connections, whose advisory locks die with them, the reducer's, the control
            // connections): whoever takes a partition next resumes from its stored offsets.
            let mut admin = PgStore::connect(&pg).unwrap();
            let killed: i64 = admin
                .client()
                .query_one(
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = $1 AND pid <> pg_backend_pid()) AS t",
                    &[&store_name],
                )
                .unwrap()
                .get(0);
            assert!(killed > 0, "no connection to {store_name} to kill");
            severed += 1;
        }
    });
    assert_eq!(severed, 1);
    tick(&amqp, &streams, T2);
    assert_eq!(kills, 3);

    let total = (fixture_lines.len() + generated_lines.len()) as u64;
    let mut reader = PgStore::connect(&store).unwrap();
    // Every session's start came: the directory holds nothing back.
    assert_eq!(
        challenge_scale::directory::held(reader.client()).unwrap(),
        0
    );
    wait_applied(
        &mut reader,
        Some(total),
        2,
        Duration::from_secs(240),
        || {
            format!(
                "logs: {:?}",
                workers.iter().map(Worker::log).collect::<Vec<_>>()
            )
        },
    );
    settle(&store, lite);
    drop(workers);
    assert_eq!(stored_hashes(&store), stored_hashes(lite));
    let counts = |db: &str| {
        let run = util::challenge(["pipeline", "stats", "--db", db]);
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        (
            v["read"].clone(),
            v["accepted"].clone(),
            v["duplicates"].clone(),
            v["rejected"].clone(),
        )
    };
    assert_eq!(counts(&store), counts(lite));
}

/// A `challenge serve --store --broker` gateway process.
struct Gateway {
    child: Child,
    url: String,
}

impl Gateway {
    fn start(dir: &Path, i: usize, store: &str, broker: &str, streams: &str) -> Gateway {
        let partitions = PARTITIONS.to_string();
        Gateway::spawn(
            dir,
            &format!("gateway-{i}"),
            &[
                "--store",
                store,
                "--broker",
                broker,
                "--streams",
                streams,
                "--partitions",
                &partitions,
            ],
        )
    }

    /// `challenge serve` on a SQLite file: the embedded reference.
    fn embedded(dir: &Path, db: &str) -> Gateway {
        Gateway::spawn(
            dir,
            "embedded",
            &["--db", db, "--challenges", "fixtures/challenges"],
        )
    }

    fn spawn(dir: &Path, name: &str, args: &[&str]) -> Gateway {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_challenge"))
            .arg("serve")
            .args(args)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .current_dir(util::root())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while ureq::get(&format!("{url}/v1/health")).call().is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{name} did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Gateway { child, url }
    }

    fn post(&self, path: &str, content_type: &str, body: &str) -> serde_json::Value {
        let answer = ureq::post(&format!("{}{path}", self.url))
            .set("Content-Type", content_type)
            .send_string(body)
            .unwrap()
            .into_string()
            .unwrap();
        serde_json::from_str(&answer).unwrap()
    }

    /// A request's status (any method, any body).
    fn status(&self, method: &str, path: &str, content_type: &str, body: &str) -> u16 {
        match ureq::request(method, &format!("{}{path}", self.url))
            .set("Content-Type", content_type)
            .send_string(body)
        {
            Ok(r) => r.status(),
            Err(ureq::Error::Status(code, _)) => code,
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    fn get(&self, path: &str) -> String {
        ureq::get(&format!("{}{path}", self.url))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn two_gateways_and_three_worker_processes_give_the_embedded_service() {
    let Some((pg, amqp)) =
        urls("two_gateways_and_three_worker_processes_give_the_embedded_service")
    else {
        return;
    };
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = util::scratch("scale-gateways");
    let fixture = util::fixture("events.jsonl");
    let lite = dir.join("embedded.db");
    let lite = lite.to_str().unwrap();
    embedded_pipeline(
        lite,
        &[
            &[
                "ingest",
                "--challenges",
                "fixtures/challenges",
                fixture.to_str().unwrap(),
            ],
            &["tick", "--at", T2],
        ],
    );

    let store = fresh_database(&pg, &format!("gateways_{}", std::process::id()));
    let streams = format!("gateways-{}", std::process::id());
    let workers: Vec<Worker> = (0..3)
        .map(|i| Worker::start(&dir, i, &store, &amqp, &streams))
        .collect();
    let gateways: Vec<Gateway> = (0..2)
        .map(|i| Gateway::start(&dir, i, &store, &amqp, &streams))
        .collect();
    // A member's stream, opened before anything is posted, through the first gateway: the
    // changes the workers commit reach it from the store's outbox.
    let watched = {
        let url = format!("{}/v1/stream?user=u-01", gateways[0].url);
        std::thread::spawn(move || -> Vec<String> {
            use std::io::BufRead as _;
            let agent = ureq::AgentBuilder::new()
                .timeout_read(Duration::from_secs(60))
                .build();
            let reader = agent.get(&url).call().unwrap().into_reader();
            let mut events = Vec::new();
            for line in std::io::BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                if let Some(event) = line.strip_prefix("event: ") {
                    events.push(event.to_owned());
                    if events.iter().any(|e| e == "result") && events.iter().any(|e| e == "workout")
                    {
                        break;
                    }
                }
            }
            events
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    let lines = lines_of(&std::fs::read_to_string(&fixture).unwrap());
    let mut read = 0;
    for (i, part) in lines.chunks(173).enumerate() {
        let answer = gateways[i % 2].post("/v1/events", "application/x-ndjson", &part.join("\n"));
        read += answer["read"].as_u64().unwrap();
    }
    assert_eq!(read, lines.len() as u64);
    let tick = gateways[1].post(
        "/v1/tick",
        "application/json",
        &format!("{{\"at\": \"{T2}\"}}"),
    );
    assert_eq!(tick["at"], T2);

    let mut reader = PgStore::connect(&store).unwrap();
    // Answered posts: their held lines are committed; every start came, so none is left.
    assert_eq!(
        challenge_scale::directory::held(reader.client()).unwrap(),
        0
    );
    let total = lines.len() as u64;
    wait_applied(
        &mut reader,
        Some(total),
        1,
        Duration::from_secs(120),
        String::new,
    );
    settle(&store, lite);
    assert_eq!(stored_hashes(&store), stored_hashes(lite));
    let events = watched.join().unwrap();
    assert!(
        events.iter().any(|e| e == "result") && events.iter().any(|e| e == "workout"),
        "the stream carried {events:?}"
    );
    // Reads through either gateway are the embedded pipeline's rows.
    for user in ["u-01", "u-07"] {
        let embedded =
            util::challenge(["pipeline", "query", "results", "--db", lite, "--user", user]);
        let rows: Vec<serde_json::Value> = util::json_lines(&embedded.stdout);
        for g in &gateways {
            let served: Vec<serde_json::Value> =
                serde_json::from_str(&g.get(&format!("/v1/users/{user}/results"))).unwrap();
            assert_eq!(served, rows, "{user}");
        }
    }

    // A rebuild in place: refused while workers run, then every partition re-derived and the
    // reducer's stages run again give the same views.
    let refused = util::challenge(["pipeline", "rebuild", "--db", &store]);
    assert_ne!(refused.code, 0);
    assert!(
        refused.stderr.contains("stop them before a rebuild"),
        "{}",
        refused.stderr
    );
    drop(workers);
    let started = Instant::now();
    while reader.live_workers().unwrap() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "workers still beat"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let rebuilt = util::challenge(["pipeline", "rebuild", "--db", &store]);
    assert_eq!(rebuilt.code, 0, "{}", rebuilt.stderr);
    assert_eq!(stored_hashes(&store), stored_hashes(lite));
}

/// The admin's changes of the sources of truth (a challenge put, a challenge deleted, a user
/// deleted, a user erased) between the events and the tick, through either gateway: the
/// workers apply each at the same place as the embedded `challenge serve` does, and the views
/// (by content hash) are the embedded ones; the answers are the same too.
#[test]
fn admin_changes_through_gateways_give_the_embedded_views() {
    let Some((pg, amqp)) = urls("admin_changes_through_gateways_give_the_embedded_views") else {
        return;
    };
    let _one = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = util::scratch("scale-admin");
    let lines = lines_of(&std::fs::read_to_string(util::fixture("events.jsonl")).unwrap());
    let copy = std::fs::read_to_string(util::root().join("fixtures/challenges/streak-7.chal"))
        .unwrap()
        .replace("challenge \"streak-7\"", "challenge \"streak-7-copy\"");
    let gone = copy.replace("streak-7-copy", "streak-7-gone");
    // The same requests on any service; the answers' statuses, in order.
    // No wait between the posts and the deletions: a scale-out gateway answers a user's
    // deletion with what the user's partition knew when it reached it, after the events
    // posted before, as the embedded service does.
    let drive = |first: &Gateway, second: &Gateway| -> Vec<u16> {
        let mut statuses = Vec::new();
        for (i, part) in lines.chunks(211).enumerate() {
            let g = if i % 2 == 0 { first } else { second };
            statuses.push(g.status(
                "POST",
                "/v1/events",
                "application/x-ndjson",
                &part.join("\n"),
            ));
        }
        statuses.push(first.status("PUT", "/v1/challenges/streak-7-copy", "text/plain", &copy));
        // Put and deleted at once, through the two gateways: the deletion finds it.
        statuses.push(first.status("PUT", "/v1/challenges/streak-7-gone", "text/plain", &gone));
        statuses.push(second.status("DELETE", "/v1/challenges/streak-7-gone", "text/plain", ""));
        statuses.push(second.status("DELETE", "/v1/challenges/early-bird", "text/plain", ""));
        statuses.push(first.status("DELETE", "/v1/challenges/no-such", "text/plain", ""));
        statuses.push(second.status("DELETE", "/v1/users/u-03", "text/plain", ""));
        statuses.push(first.status("DELETE", "/v1/users/u-05?erase=true", "text/plain", ""));
        statuses.push(second.status(
            "POST",
            "/v1/tick",
            "application/json",
            &format!("{{\"at\": \"{T2}\"}}"),
        ));
        statuses
    };
    let lite = dir.join("embedded.db");
    let lite = lite.to_str().unwrap();
    let expected = {
        let embedded = Gateway::embedded(&dir, lite);
        drive(&embedded, &embedded)
    };
    // Put, put and deleted, deleted, not there, deleted, erased, ticked.
    assert_eq!(
        expected[expected.len() - 8..],
        [200, 200, 204, 204, 404, 204, 204, 200],
        "{expected:?}"
    );

    let store = fresh_database(&pg, &format!("admin_{}", std::process::id()));
    let streams = format!("admin-{}", std::process::id());
    let _workers: Vec<Worker> = (0..2)
        .map(|i| Worker::start(&dir, i, &store, &amqp, &streams))
        .collect();
    let gateways: Vec<Gateway> = (0..2)
        .map(|i| Gateway::start(&dir, i, &store, &amqp, &streams))
        .collect();
    // The challenges are there once a worker is active (`--challenges`): wait for them, so
    // that the deletion of one is judged as the embedded service judges it.
    let started = Instant::now();
    while !gateways[0].get("/v1/challenges").contains("early-bird") {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no worker took a partition"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let answered = drive(&gateways[0], &gateways[1]);
    assert_eq!(answered, expected);

    let mut reader = PgStore::connect(&store).unwrap();
    wait_applied(&mut reader, None, 1, Duration::from_secs(120), String::new);
    settle(&store, lite);
    drop(_workers);
    assert_eq!(stored_hashes(&store), stored_hashes(lite));
    let ids = |g: &Gateway| -> Vec<String> {
        let list: Vec<serde_json::Value> = serde_json::from_str(&g.get("/v1/challenges")).unwrap();
        list.iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let listed = ids(&gateways[1]);
    assert!(
        listed.contains(&"streak-7-copy".to_owned()) && !listed.contains(&"early-bird".to_owned()),
        "{listed:?}"
    );
}
