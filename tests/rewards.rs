//! Rewards in `challenge serve`: team results and rewards behind their routes and roles, and
//! the webhook deliveries: retried until a 2xx, across a SIGKILL, each reward issued once with
//! a stable `Idempotency-Key`.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::serve::{metric, token, Scratch, Server};
use crate::util::fixture;

/// One request the receiver got: its `Idempotency-Key`, its body, and whether it was answered
/// with a 2xx.
#[derive(Clone, Debug)]
struct Received {
    key: String,
    body: Value,
    accepted: bool,
}

/// A webhook receiver on 127.0.0.1 that answers 503 while `refuse` is set, else 200, and
/// leaves the first `hang` requests unanswered for 5 s.
struct Receiver {
    url: String,
    refuse: Arc<AtomicBool>,
    hang: Arc<AtomicUsize>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let refuse = Arc::new(AtomicBool::new(true));
        let hang = Arc::new(AtomicUsize::new(0));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (r, h, g) = (Arc::clone(&refuse), Arc::clone(&hang), Arc::clone(&got));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let (mut key, mut length) = (String::new(), 0usize);
                let mut line = String::new();
                while reader.read_line(&mut line).unwrap_or(0) > 0 && line != "\r\n" {
                    let (name, value) = line.split_once(':').unwrap_or((&line, ""));
                    match name.to_ascii_lowercase().as_str() {
                        "idempotency-key" => key = value.trim().to_owned(),
                        "content-length" => length = value.trim().parse().unwrap_or(0),
                        _ => {}
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                let hung = h
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                let accepted = !hung && !r.load(Ordering::SeqCst);
                g.lock().unwrap().push(Received {
                    key,
                    body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                    accepted,
                });
                if hung {
                    std::thread::spawn(move || {
                        std::thread::sleep(Duration::from_secs(5));
                        drop(stream);
                    });
                    continue;
                }
                let status = if accepted {
                    "200 OK"
                } else {
                    "503 Service Unavailable"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Receiver {
            url,
            refuse,
            hang,
            got,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds of what was received (at most 30 s).
    fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if done(&got) {
                return got;
            }
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{what}: waited 30 s; received {got:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn rows(text: &str) -> Vec<Value> {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not a JSON array ({e}): {text}"))
}

#[test]
fn team_results_and_rewards_follow_the_roles() {
    let dir = Scratch::new("team-routes");
    let (admin, a) = token("admin", None);
    let (inside, i) = token("member", Some("u-01")); // in coy-a
    let (outside, o) = token("member", Some("u-06")); // in coy-b
    let tokens = dir.0.join("tokens.jsonl");
    std::fs::write(&tokens, format!("{a}{i}{o}")).unwrap();
    let db = dir.0.join("gym.db");
    let args = ["--challenges", "fixtures/challenges", "--tokens"];
    let server = Server::start(&db, &[&args[..], &[tokens.to_str().unwrap()]].concat());
    let as_admin = |method: &str, path: &str, body: &str| {
        server.send(method, path, Some(&admin), "application/json", body)
    };
    // The fixture events carry the users (`user_upsert` lines): u-01 joins coy-a.
    let events = std::fs::read_to_string(fixture("events.jsonl")).unwrap();
    let (status, text) = server.send(
        "POST",
        "/v1/events",
        Some(&admin),
        "application/x-ndjson",
        &events,
    );
    assert_eq!(status, 200, "{text}");

    // The team's row: the admin and a member of the team read it, another member may not.
    let (status, text) = server.get("/v1/teams/coy-a/results", Some(&admin));
    assert_eq!(status, 200, "{text}");
    let team = rows(&text);
    assert_eq!(team.len(), 1, "one team challenge names coy-a: {text}");
    assert_eq!(
        (&team[0]["challenge"], &team[0]["team"], &team[0]["tier"]),
        (
            &Value::from("company-reps"),
            &Value::from("coy-a"),
            &Value::from("gold")
        )
    );
    let members: Vec<&str> = team[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["user"].as_str().unwrap())
        .collect();
    assert!(members.contains(&"u-01"), "{members:?}");
    assert_eq!(
        server.get("/v1/teams/coy-a/results", Some(&inside)),
        (200, text)
    );
    assert_eq!(server.get("/v1/teams/coy-a/results", Some(&outside)).0, 403);
    let (status, text) = server.get("/v1/teams/no-such-group/results", Some(&admin));
    assert_eq!((status, text.as_str()), (200, "[]"));

    // The challenge's results hold the team rows too.
    let (_, text) = server.get("/v1/challenges/company-reps/results", Some(&admin));
    assert!(rows(&text).iter().any(|r| r["team"] == "coy-a"), "{text}");

    // Rewards: a member sees those of its teams; the team's three (gold reaches every tier).
    let (status, text) = server.get("/v1/users/u-01/rewards", Some(&inside));
    assert_eq!(status, 200, "{text}");
    let mine = rows(&text);
    let names: Vec<&str> = mine
        .iter()
        .filter(|r| r["team"] == "coy-a")
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Company finisher", "Company half way", "Company starter"],
        "{text}"
    );
    for r in &mine {
        assert!(r["points"].as_u64().is_some() && r["at"].is_string(), "{r}");
    }
    assert_eq!(server.get("/v1/users/u-01/rewards", Some(&outside)).0, 403);
    let (_, text) = server.get("/v1/users/u-06/rewards", Some(&outside));
    let theirs = rows(&text);
    assert!(
        theirs.iter().any(|r| r["team"] == "coy-b") && theirs.iter().all(|r| r["team"] != "coy-a"),
        "u-06 is in coy-b: {text}"
    );

    // A member leaving the team no longer sees its rewards nor reads its results.
    assert_eq!(
        as_admin(
            "PUT",
            "/v1/users/u-01",
            r#"{"name": "Member 1", "groups": ["nsfit"]}"#
        )
        .0,
        200
    );
    let (_, text) = server.get("/v1/users/u-01/rewards", Some(&inside));
    assert!(rows(&text).iter().all(|r| r["team"] != "coy-a"), "{text}");
    assert_eq!(server.get("/v1/teams/coy-a/results", Some(&inside)).0, 403);
}

#[test]
fn webhooks_are_retried_until_a_2xx_across_a_sigkill_and_sent_once_per_reward() {
    let receiver = Receiver::start();
    let dir = Scratch::new("webhooks");
    let db = dir.0.join("gym.db");
    let server = Server::start(
        &db,
        &[
            "--challenges",
            "fixtures/challenges",
            "--webhook",
            &receiver.url,
        ],
    );
    let events = std::fs::read_to_string(fixture("events.jsonl")).unwrap();
    server.post_events(&events);
    let (_, text) = server.get("/v1/challenges/company-reps/results", None);
    assert!(!rows(&text).is_empty());
    // Every reward of the ledger, by holder.
    let ledger = |server: &Server| -> BTreeMap<String, Value> {
        let mut all = BTreeMap::new();
        for user in (1..=60).map(|n| format!("u-{n:02}")) {
            let (_, text) = server.get(&format!("/v1/users/{user}/rewards"), None);
            for r in rows(&text) {
                let holder = r.get("user").or(r.get("team")).unwrap().as_str().unwrap();
                let key = format!(
                    "{}/{holder}/{}",
                    r["challenge"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                );
                all.insert(key, r);
            }
        }
        all
    };
    let issued = ledger(&server);
    assert!(issued.len() >= 4, "the fixtures issue rewards: {issued:?}");

    // Refused: each reward is tried (and owed) until the receiver says 2xx.
    let tried = receiver.wait_for("every reward tried once", |got| {
        issued.keys().all(|k| got.iter().any(|r| &r.key == k))
    });
    assert!(tried.iter().all(|r| !r.accepted));
    let owed = metric(&server, "challenge_webhook_deliveries_owed");
    assert_eq!(owed, issued.len() as u64);
    server.kill();

    // A restart (a resend of every event too) issues nothing new and delivers what is owed.
    receiver.refuse.store(false, Ordering::SeqCst);
    let server = Server::start(&db, &["--webhook", &receiver.url]);
    server.post_events(&events);
    let got = receiver.wait_for("every reward delivered", |got| {
        issued
            .keys()
            .all(|k| got.iter().any(|r| &r.key == k && r.accepted))
    });
    for (key, row) in &issued {
        let delivered: Vec<&Received> = got.iter().filter(|r| &r.key == key).collect();
        assert!(delivered.len() >= 2, "{key}: refused, then delivered");
        assert!(
            delivered.iter().all(|r| &r.body == row),
            "{key}: the body is the ledger's row"
        );
        assert_eq!(
            delivered.iter().filter(|r| r.accepted).count(),
            1,
            "{key}: one 2xx ends the retries"
        );
    }
    assert!(
        got.iter().all(|r| issued.contains_key(&r.key)),
        "nothing but the issued rewards is sent: {got:?}"
    );
    let start = Instant::now();
    while metric(&server, "challenge_webhook_deliveries_owed") > 0 {
        assert!(start.elapsed() < Duration::from_secs(10), "marks committed");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(ledger(&server), issued, "no reward issued twice");
    assert_eq!(
        metric(&server, "challenge_webhook_deliveries_total"),
        issued.len() as u64
    );
}

#[test]
fn a_webhook_that_is_not_a_url_is_a_usage_error() {
    for bad in ["not a url", "ftp://example.com/hook", "http://"] {
        let run = crate::util::challenge(["serve", "--db", "/nonexistent/x.db", "--webhook", bad]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("--webhook"), "{}", run.stderr);
    }
    for bad in ["0s", "10", "99999999999999999d"] {
        let run = crate::util::challenge(["serve", "--webhook-timeout", bad]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
        assert!(run.stderr.contains("--webhook-timeout"), "{}", run.stderr);
    }
}

#[test]
fn a_webhook_attempt_that_times_out_is_retried() {
    let receiver = Receiver::start();
    receiver.refuse.store(false, Ordering::SeqCst);
    receiver.hang.store(1, Ordering::SeqCst);
    let server = Server::fresh(
        "webhook-timeout",
        &["--webhook", &receiver.url, "--webhook-timeout", "1s"],
    );
    server.post_events(&std::fs::read_to_string(fixture("events.jsonl")).unwrap());
    let first = receiver.wait_for("a first attempt", |got| !got.is_empty())[0].clone();
    assert!(!first.accepted, "the first attempt hangs");
    let got = receiver.wait_for("the hung delivery again, answered", |got| {
        got.iter().any(|r| r.key == first.key && r.accepted)
    });
    let answered: Vec<&Received> = got.iter().filter(|r| r.key == first.key).collect();
    assert_eq!(answered.len(), 2, "one timeout, one retry: {answered:?}");
    assert_eq!(answered[1].body, first.body, "the same row again");
}
