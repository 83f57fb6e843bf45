//! `challenge serve` over real sockets on 127.0.0.1: every request and its errors, the roles,
//! concurrent ingest against `challenge eval`, the stream's resume and reset, one owner per
//! file, and SIGKILL in the middle of a concurrent ingest.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{challenge, fixture, root};

/// A running `challenge serve`, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub db: PathBuf,
    _dir: Option<Scratch>,
}

/// A scratch folder removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = root()
            .join("target")
            .join("test-scratch")
            .join(format!("serve-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Server {
    /// Starts `serve` on a free port with `args`, waiting for its ready line.
    pub fn start(db: &Path, args: &[&str]) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_challenge"))
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .current_dir(root())
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let mut url = None;
        let mut seen = String::new();
        for line in lines.by_ref() {
            let line = line.unwrap();
            seen.push_str(&line);
            seen.push('\n');
            if let Some(rest) = line.split("listening on ").nth(1) {
                url = rest
                    .split_whitespace()
                    .next()
                    .map(|u| u.trim_end_matches('/').to_owned());
                break;
            }
        }
        let url = url.unwrap_or_else(|| panic!("serve did not start:\n{seen}"));
        // Keep draining stderr so that the server never blocks on it.
        std::thread::spawn(move || for _ in lines {});
        Server {
            child,
            url,
            db: db.to_owned(),
            _dir: None,
        }
    }

    /// A server on a fresh file of its own, with the fixture challenges.
    pub fn fresh(name: &str, args: &[&str]) -> Server {
        let dir = Scratch::new(name);
        let db = dir.0.join("gym.db");
        let mut all = vec!["--challenges", "fixtures/challenges"];
        all.extend_from_slice(args);
        let mut server = Server::start(&db, &all);
        server._dir = Some(dir);
        server
    }

    pub fn get(&self, path: &str, token: Option<&str>) -> (u16, String) {
        send(ureq::get(&format!("{}{path}", self.url)), token, None)
    }

    pub fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: &str,
    ) -> (u16, String) {
        let request =
            ureq::request(method, &format!("{}{path}", self.url)).set("Content-Type", content_type);
        send(request, token, Some(body.as_bytes()))
    }

    pub fn post_events(&self, body: &str) -> Value {
        let (status, text) = self.send("POST", "/v1/events", None, "application/x-ndjson", body);
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    /// The scratch folder, kept by the caller beyond the server's life.
    pub fn take_scratch(&mut self) -> Option<Scratch> {
        self._dir.take()
    }

    /// SIGTERM, and waits for the exit code.
    pub fn stop(mut self) -> i32 {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        self.child.wait().unwrap().code().unwrap_or(-1)
    }

    /// SIGKILL.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(request: ureq::Request, token: Option<&str>, body: Option<&[u8]>) -> (u16, String) {
    let what = format!("{} {}", request.method(), request.url());
    let request = match token {
        Some(t) => request.set("Authorization", &format!("Bearer {t}")),
        None => request,
    };
    let answer = match body {
        Some(b) => request.send_bytes(b),
        None => request.call(),
    };
    match answer {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(code, r)) => (code, r.into_string().unwrap()),
        Err(e) => panic!("{what} failed: {e}"),
    }
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn error_code(text: &str) -> String {
    json(text)["error"]["code"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

/// An SSE client over a raw socket: each event as (event, id, data).
pub struct Sse {
    reader: BufReader<TcpStream>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SseEvent {
    pub event: String,
    pub id: Option<u64>,
    pub data: String,
}

impl Sse {
    pub fn connect(server: &Server, query: &str, last_id: Option<u64>) -> Sse {
        let addr = server.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let last = last_id
            .map(|n| format!("Last-Event-ID: {n}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET /v1/stream{query} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n{last}\r\n"
        )
        .unwrap();
        let mut reader = BufReader::new(stream);
        let mut status = String::new();
        reader.read_line(&mut status).unwrap();
        assert!(status.contains(" 200 "), "{status}");
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).unwrap();
            if header == "\r\n" {
                break;
            }
        }
        Sse { reader }
    }

    /// The next event (comments and chunk-size lines skipped).
    pub fn next(&mut self) -> Option<SseEvent> {
        let mut event = SseEvent {
            event: "message".into(),
            id: None,
            data: String::new(),
        };
        let mut any = false;
        loop {
            let mut line = String::new();
            match self.reader.read_line(&mut line) {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                if any {
                    return Some(event);
                }
                continue;
            }
            if let Some(v) = line.strip_prefix("event:") {
                event.event = v.trim().to_owned();
                any = true;
            } else if let Some(v) = line.strip_prefix("id:") {
                event.id = v.trim().parse().ok();
                any = true;
            } else if let Some(v) = line.strip_prefix("data:") {
                event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                any = true;
            }
            // Anything else: a comment (`:`) or a chunk-size line of the HTTP framing.
        }
    }

    /// Events until one with id `last` (inclusive), or until `limit` events.
    pub fn until(&mut self, last: u64, limit: usize) -> Vec<SseEvent> {
        let mut out = Vec::new();
        while out.len() < limit {
            let Some(e) = self.next() else { break };
            let done = e.id.is_some_and(|id| id >= last);
            out.push(e);
            if done {
                break;
            }
        }
        out
    }
}

/// The fixture events, as lines.
fn fixture_events() -> Vec<String> {
    std::fs::read_to_string(fixture("events.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// A new token of `role` (for `user`): the token and its line for the tokens file.
pub fn token(role: &str, user: Option<&str>) -> (String, String) {
    let mut args = vec!["serve", "token", "--role", role];
    if let Some(u) = user {
        args.extend(["--user", u]);
    }
    let run = challenge(args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    (run.stderr.trim().to_owned(), run.stdout)
}

/// A value of `/metrics`.
pub fn metric(server: &Server, name: &str) -> u64 {
    let (_, text) = server.get("/metrics", None);
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// The stream head, from `/metrics`.
fn stream_head(server: &Server) -> u64 {
    metric(server, "challenge_stream_head")
}

#[test]
fn every_request_answers_as_service_md_says() {
    let server = Server::fresh("requests", &[]);
    let (status, text) = server.get("/v1/health", None);
    assert_eq!(status, 200);
    assert_eq!(json(&text)["status"], "ok");

    // Events: counts add up, rejections name their line.
    let answer = server.post_events(&std::fs::read_to_string(fixture("events.jsonl")).unwrap());
    let n = |k: &str| answer[k].as_u64().unwrap();
    assert_eq!(n("read"), n("accepted") + n("rejected"));
    assert!(n("rejected") >= 1);
    assert!(answer["rejections"][0]["line"].as_u64().unwrap() > 0);
    assert!(n("log_head") > 0);
    let again = server.post_events(&std::fs::read_to_string(fixture("events.jsonl")).unwrap());
    assert_eq!(
        again["duplicates"].as_u64(),
        again["accepted"].as_u64(),
        "a resend is all duplicates"
    );

    // Users.
    let (status, text) = server.send(
        "PUT",
        "/v1/users/u-99",
        None,
        "application/json",
        r#"{"name": "Nine", "groups": ["coy-a"]}"#,
    );
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["id"], "u-99");
    let (status, text) = server.get("/v1/users/u-99", None);
    assert_eq!(
        (status, json(&text)["groups"][0].clone()),
        (200, Value::from("coy-a"))
    );
    let (status, text) = server.send(
        "PUT",
        "/v1/users/u-99",
        None,
        "application/json",
        r#"{"id": "u-98"}"#,
    );
    assert_eq!((status, error_code(&text)), (400, "bad-request".into()));
    let (status, text) = server.send(
        "PUT",
        "/v1/users/u-99",
        None,
        "application/json",
        r#"{"id": "u-99", "body_weight_kg": -5}"#,
    );
    assert_eq!(status, 400, "a record the reader rejects: {text}");
    let (status, text) = server.send(
        "PUT",
        "/v1/users/u-99",
        None,
        "application/json",
        "{not json",
    );
    assert_eq!((status, error_code(&text)), (400, "bad-request".into()));
    let (status, _) = server.send("PUT", "/v1/users/u-99", None, "application/xml", "<user/>");
    assert_eq!(status, 415);
    let (status, text) = server.get("/v1/users/nobody", None);
    assert_eq!((status, error_code(&text)), (404, "not-found".into()));

    // Challenges: DSL and JSON, 422 with diagnostics, nothing half-applied.
    let dsl = "challenge \"ten-reps\" {\n    title \"Ten reps\"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps of leg_press) >= 10\n}\n";
    let (status, text) = server.send("PUT", "/v1/challenges/ten-reps", None, "text/plain", dsl);
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["id"], "ten-reps");
    let hash = json(&text)["hash"].as_str().unwrap().to_owned();
    let (_, list) = server.get("/v1/challenges", None);
    let list = json(&list);
    let ids: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "sorted by id");
    assert!(list
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "ten-reps" && c["hash"] == hash.as_str() && c["title"] == "Ten reps"));
    let (status, tree) = server.get("/v1/challenges/ten-reps", None);
    assert_eq!(
        (status, json(&tree)["id"].clone()),
        (200, Value::from("ten-reps"))
    );
    let text = ureq::get(&format!("{}/v1/challenges/ten-reps", server.url))
        .set("Accept", "text/plain")
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(text.starts_with("challenge \"ten-reps\" {"), "{text}");
    let (status, again) = server.send(
        "PUT",
        "/v1/challenges/ten-reps",
        None,
        "application/json",
        &tree,
    );
    assert_eq!(
        (status, json(&again)["hash"].clone()),
        (200, Value::from(hash.as_str())),
        "the JSON tree is the same challenge"
    );
    let (status, results) = server.get("/v1/challenges/ten-reps/results", None);
    assert_eq!(status, 200);
    assert!(
        !json(&results).as_array().unwrap().is_empty(),
        "its results were derived before the answer"
    );

    let broken = dsl
        .replace("leg_press", "leg_pres")
        .replace("ten-reps", "broken");
    let (status, text) = server.send("PUT", "/v1/challenges/broken", None, "text/plain", &broken);
    assert_eq!((status, error_code(&text)), (422, "unprocessable".into()));
    let d = &json(&text)["error"]["diagnostics"][0];
    assert_eq!(
        (d["code"].as_str(), d["line"].as_u64()),
        (Some("E0005"), Some(4))
    );
    assert_eq!(
        server.get("/v1/challenges/broken", None).0,
        404,
        "nothing half-applied"
    );
    let (status, _) = server.send("PUT", "/v1/challenges/other", None, "text/plain", dsl);
    assert_eq!(status, 400, "the id must be the path's");
    let (status, _) = server.send(
        "PUT",
        "/v1/challenges/ten-reps",
        None,
        "application/x-www-form-urlencoded",
        dsl,
    );
    assert_eq!(status, 415);
    let (status, _) = server.send("DELETE", "/v1/challenges/ten-reps", None, "text/plain", "");
    assert_eq!(status, 204);
    assert_eq!(server.get("/v1/challenges/ten-reps", None).0, 404);
    assert_eq!(server.get("/v1/challenges/ten-reps/results", None).0, 404);
    assert_eq!(
        server
            .send("DELETE", "/v1/challenges/ten-reps", None, "text/plain", "")
            .0,
        404
    );

    // Results, live rows, the tick, profiles and boards.
    let (status, results) = server.get("/v1/users/u-01/results", None);
    assert_eq!(status, 200);
    let results = json(&results);
    let challenges: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["challenge"].as_str().unwrap())
        .collect();
    assert!(!challenges.is_empty());
    assert!(
        challenges.windows(2).all(|w| w[0] <= w[1]),
        "sorted by challenge"
    );
    assert_eq!(server.get("/v1/users/u-01/results?live=true", None).0, 200);
    assert_eq!(
        server.get("/v1/users/u-01/profile", None).0,
        404,
        "no profile before a tick"
    );
    let template = std::fs::read_to_string(fixture("templates/pushup-ladder.chal")).unwrap();
    let body = |set: &str| serde_json::json!({"template": template, "set": json(set)}).to_string();
    let (status, text) = server.send(
        "POST",
        "/v1/users/u-01/recommend",
        None,
        "application/json",
        &body("{}"),
    );
    assert_eq!(
        (status, error_code(&text)),
        (409, "conflict".into()),
        "no profile before a tick: {text}"
    );
    let (status, text) = server.send(
        "POST",
        "/v1/tick",
        None,
        "application/json",
        r#"{"at": "yesterday"}"#,
    );
    assert_eq!((status, error_code(&text)), (400, "bad-request".into()));
    let (status, text) = server.send(
        "POST",
        "/v1/tick",
        None,
        "application/json",
        r#"{"at": "2026-08-31T23:00:00+08:00"}"#,
    );
    assert_eq!(status, 200, "{text}");
    let (status, profile) = server.get("/v1/users/u-01/profile", None);
    assert_eq!(
        (status, json(&profile)["user"].clone()),
        (200, Value::from("u-01"))
    );
    let (status, text) = server.send(
        "POST",
        "/v1/users/u-01/recommend",
        None,
        "application/json",
        &body(r#"{"per_week": 4}"#),
    );
    assert_eq!(status, 200, "{text}");
    let rec = json(&text);
    assert_eq!(rec["challenge"]["id"], "pushup-ladder/u-01");
    assert!(rec["dsl"]
        .as_str()
        .unwrap()
        .starts_with("challenge \"pushup-ladder/u-01\""));
    let per_week = rec["explain"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["param"] == "per_week")
        .unwrap();
    assert_eq!(
        (
            per_week["from"].as_str(),
            per_week["value"]["value"].as_f64()
        ),
        (Some("override"), Some(4.0))
    );
    let (status, _) = server.send(
        "POST",
        "/v1/users/u-01/recommend",
        None,
        "application/json",
        &body(r#"{"nope": 4}"#),
    );
    assert_eq!(status, 400, "an unknown param");
    let (status, _) = server.send(
        "POST",
        "/v1/users/u-05/recommend",
        None,
        "application/json",
        &body("{}"),
    );
    assert_eq!(status, 409, "u-05 is not in the template's groups");
    let (status, board) = server.get("/v1/leaderboards?month=2026-08&measure=volume", None);
    assert_eq!(status, 200);
    let board = json(&board);
    assert!(!board.as_array().unwrap().is_empty());
    assert!(board
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["board"] == "2026-08/volume"));
    assert_eq!(server.get("/v1/leaderboards?month=2026-08", None).0, 400);

    // Bad requests.
    let (status, text) = server.get("/v1/nothing", None);
    assert_eq!((status, error_code(&text)), (404, "not-found".into()));
    assert_eq!(
        server
            .send("POST", "/v1/events", None, "application/zip", "x")
            .0,
        415
    );
    let (status, text) = send(
        ureq::post(&format!("{}/v1/events", server.url))
            .set("Content-Type", "application/x-ndjson"),
        None,
        Some(&[0xff, 0xfe, b'\n']),
    );
    assert_eq!((status, error_code(&text)), (400, "bad-request".into()));
    let long_line = format!("{{\"pad\": \"{}\"}}", "x".repeat(1 << 20));
    let (status, text) = server.send(
        "POST",
        "/v1/events",
        None,
        "application/x-ndjson",
        &long_line,
    );
    assert_eq!(
        (status, error_code(&text)),
        (413, "payload-too-large".into())
    );
    let huge = "{}\n".repeat(3 << 20);
    let (status, _) = server.send("POST", "/v1/events", None, "application/x-ndjson", &huge);
    assert_eq!(status, 413, "a body over 8 MiB");
    let (status, openapi) = server.get("/v1/openapi.json", None);
    assert_eq!(status, 200);
    assert!(json(&openapi)["openapi"]
        .as_str()
        .unwrap()
        .starts_with("3.1"));
    let (status, metrics) = server.get("/metrics", None);
    assert_eq!(status, 200, "loopback callers read the metrics");
    for name in [
        "challenge_events_accepted_total",
        "challenge_batch_seconds_bucket{le=\"+Inf\"}",
        "challenge_open_sessions",
        "challenge_stream_subscribers",
    ] {
        assert!(metrics.contains(name), "{name} in\n{metrics}");
    }
    assert_eq!(server.stop(), 0, "SIGTERM ends the server cleanly");
}

#[test]
fn roles_decide_who_reads_and_changes_what() {
    let dir = Scratch::new("roles");
    let (admin, a) = token("admin", None);
    let (device, d) = token("device", None);
    let (member, m) = token("member", Some("u-01"));
    assert!(!a.contains(&admin), "the file holds digests, not tokens");
    let tokens = dir.0.join("tokens.jsonl");
    std::fs::write(&tokens, format!("{a}{d}{m}")).unwrap();
    let server = Server::start(
        &dir.0.join("gym.db"),
        &[
            "--challenges",
            "fixtures/challenges",
            "--tokens",
            tokens.to_str().unwrap(),
        ],
    );
    let events = std::fs::read_to_string(fixture("events.jsonl")).unwrap();

    for path in [
        "/v1/users/u-01",
        "/v1/users/u-01/results",
        "/v1/challenges",
        "/v1/leaderboards?month=2026-08&measure=volume",
        "/v1/challenges/streak-7",
    ] {
        let (status, text) = server.get(path, None);
        assert_eq!(
            (status, error_code(&text)),
            (401, "unauthorized".into()),
            "{path}"
        );
        assert_eq!(server.get(path, Some("not-a-token")).0, 401, "{path}");
    }
    assert_eq!(
        server
            .send("POST", "/v1/events", None, "application/x-ndjson", &events)
            .0,
        401
    );
    assert_eq!(server.get("/v1/health", None).0, 200, "public");
    assert_eq!(server.get("/v1/openapi.json", None).0, 200, "public");

    assert_eq!(
        server
            .send(
                "POST",
                "/v1/events",
                Some(&device),
                "application/x-ndjson",
                &events
            )
            .0,
        200
    );
    for path in ["/v1/users/u-01/results", "/v1/challenges"] {
        let (status, text) = server.get(path, Some(&device));
        assert_eq!(
            (status, error_code(&text)),
            (403, "forbidden".into()),
            "a device only posts: {path}"
        );
    }
    assert_eq!(
        server
            .send(
                "POST",
                "/v1/tick",
                Some(&device),
                "application/json",
                r#"{"at": "2026-08-31T23:00:00Z"}"#
            )
            .0,
        403
    );

    assert_eq!(server.get("/v1/users/u-01/results", Some(&member)).0, 200);
    assert_eq!(server.get("/v1/users/u-01", Some(&member)).0, 200);
    for path in [
        "/v1/users/u-02/results",
        "/v1/users/u-02",
        "/v1/users/u-02/profile",
        "/v1/users/u-02/results?live=true",
        "/v1/stream?user=u-02",
        "/v1/challenges/streak-7/results",
    ] {
        let (status, text) = server.get(path, Some(&member));
        assert_eq!(status, 403, "{path}: {text}");
        assert!(
            !text.contains("u-02\""),
            "never the other user's data: {text}"
        );
    }
    assert_eq!(
        server.get("/v1/challenges", Some(&member)).0,
        200,
        "members read the list"
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/v1/events",
                Some(&member),
                "application/x-ndjson",
                &events
            )
            .0,
        403
    );
    assert_eq!(
        server
            .send(
                "PUT",
                "/v1/users/u-01",
                Some(&member),
                "application/json",
                "{}"
            )
            .0,
        403
    );
    assert_eq!(
        server
            .send(
                "POST",
                "/v1/tick",
                Some(&admin),
                "application/json",
                r#"{"at": "2026-08-31T23:00:00Z"}"#
            )
            .0,
        200
    );
    assert_eq!(server.get("/v1/users/u-02/results", Some(&admin)).0, 200);
}

#[test]
fn serve_refuses_what_it_must() {
    let dir = Scratch::new("refusals");
    let db = dir.0.join("gym.db");
    let run = challenge([
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--listen",
        "0.0.0.0:0",
    ]);
    assert_eq!(run.code, 2, "no tokens, not loopback: {}", run.stderr);
    assert!(run.stderr.contains("loopback"), "{}", run.stderr);
    let run = challenge(["serve", "token", "--role", "member"]);
    assert_eq!(run.code, 2, "a member token needs its user");

    let server = Server::start(&db, &[]);
    let run = challenge([
        "pipeline",
        "ingest",
        "--db",
        db.to_str().unwrap(),
        "--challenges",
        "fixtures/challenges",
        "fixtures/events.jsonl",
    ]);
    assert_eq!(run.code, 2, "a second writer: {}", run.stderr);
    assert!(
        run.stderr.contains("in use by another writer"),
        "{}",
        run.stderr
    );
    let second = Command::new(env!("CARGO_BIN_EXE_challenge"))
        .args([
            "serve",
            "--db",
            db.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2), "a second serve");
    let run = challenge(["pipeline", "query", "results", "--db", db.to_str().unwrap()]);
    assert_eq!(
        run.code, 0,
        "readers work beside the server: {}",
        run.stderr
    );
    drop(server);
}

/// Posts `lines` in random-sized chunks from `clients` threads; gives every answer.
fn post_concurrently(server: &Server, lines: &[String], clients: usize, seed: u64) -> Vec<Value> {
    let mut chunks: Vec<String> = Vec::new();
    let mut state = seed | 1;
    let mut i = 0;
    while i < lines.len() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = 1 + (state % 200) as usize;
        let end = (i + n).min(lines.len());
        chunks.push(lines[i..end].join("\n"));
        i = end;
    }
    let queue = Arc::new(Mutex::new(chunks));
    let answers = Arc::new(Mutex::new(Vec::new()));
    std::thread::scope(|scope| {
        for _ in 0..clients {
            let queue = Arc::clone(&queue);
            let answers = Arc::clone(&answers);
            scope.spawn(move || loop {
                let Some(chunk) = queue.lock().unwrap().pop() else {
                    break;
                };
                let answer = server.post_events(&chunk);
                answers.lock().unwrap().push(answer);
            });
        }
    });
    Arc::try_unwrap(answers).unwrap().into_inner().unwrap()
}

#[test]
fn concurrent_posts_give_what_eval_gives_and_verify_passes() {
    let mut server = Server::fresh("concurrent", &[]);
    let lines = fixture_events();
    let answers = post_concurrently(&server, &lines, 4, 7);
    let sum = |k: &str| answers.iter().map(|a| a[k].as_u64().unwrap()).sum::<u64>();
    assert_eq!(
        sum("read"),
        lines.iter().filter(|l| !l.trim().is_empty()).count() as u64
    );
    assert_eq!(sum("read"), sum("accepted") + sum("rejected"));
    let at = "2026-08-31T23:59:59+08:00";
    let (status, _) = server.send(
        "POST",
        "/v1/tick",
        None,
        "application/json",
        &format!("{{\"at\": \"{at}\"}}"),
    );
    assert_eq!(status, 200);
    let db = server.db.to_str().unwrap().to_owned();
    let dir = server.db.parent().unwrap().to_owned();
    let _keep = server.take_scratch();
    // What `challenge eval --as-of` gives over the server's workouts and users.
    let workouts = challenge(["pipeline", "query", "workouts", "--db", &db]);
    let users = challenge(["pipeline", "query", "users", "--db", &db]);
    std::fs::write(dir.join("w.jsonl"), &workouts.stdout).unwrap();
    std::fs::write(dir.join("u.jsonl"), &users.stdout).unwrap();
    let mut expected: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for file in crate::util::challenge_files() {
        let run = challenge([
            "eval".as_ref(),
            file.as_os_str(),
            "--workouts".as_ref(),
            dir.join("w.jsonl").as_os_str(),
            "--users".as_ref(),
            dir.join("u.jsonl").as_os_str(),
            "--as-of".as_ref(),
            at.as_ref(),
        ]);
        for line in run.stdout.lines() {
            let v = json(line);
            if v.get("team").is_some() {
                continue;
            }
            expected
                .entry(v["user"].as_str().unwrap().to_owned())
                .or_default()
                .push(v);
        }
    }
    assert!(expected.len() >= 5);
    for (user, mut want) in expected {
        want.sort_by(|a, b| a["challenge"].as_str().cmp(&b["challenge"].as_str()));
        let (status, got) = server.get(&format!("/v1/users/{user}/results"), None);
        assert_eq!(status, 200);
        assert_eq!(json(&got), Value::Array(want), "{user}");
    }
    assert_eq!(server.stop(), 0);
    let verify = challenge(["pipeline", "verify", "--db", &db]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

#[test]
fn a_reconnecting_client_gets_exactly_what_it_missed() {
    let server = Server::fresh("resume", &[]);
    let lines = fixture_events();
    let (first, rest) = lines.split_at(lines.len() / 2);
    let mut watcher = Sse::connect(&server, "", None);
    let mut member = Sse::connect(&server, "?user=u-01", None);
    server.post_events(&first.join("\n"));
    let head = stream_head(&server);
    let seen = member.until(head, 100_000);
    // The member's stream: only u-01's rows (and boards), ids increasing.
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|e| !e.data.contains("\"user\":\"u-0")
        || e.data.contains("\"user\":\"u-01\"")
        || e.event == "sensor"));
    let last = seen.iter().filter_map(|e| e.id).max().unwrap();
    drop(member);
    server.post_events(&rest.join("\n"));
    server.send(
        "POST",
        "/v1/tick",
        None,
        "application/json",
        r#"{"at": "2026-08-31T23:00:00Z"}"#,
    );
    let head = stream_head(&server);
    let everything = watcher.until(head, 1_000_000);
    assert!(everything.windows(2).all(|w| w[0].id < w[1].id), "in order");
    assert!(
        everything.iter().all(|e| e.event != "sensor"),
        "sensor events only with a user"
    );
    let mut resumed = Sse::connect(&server, "?user=u-01", Some(last));
    let got = resumed.until(head, 100_000);
    // The same as a client that never left, filtered to u-01, after `last`.
    let mut always = Sse::connect(&server, "?user=u-01", Some(0));
    let want: Vec<SseEvent> = always
        .until(head, 1_000_000)
        .into_iter()
        .filter(|e| e.id.is_some_and(|id| id > last))
        .collect();
    assert!(!got.is_empty());
    assert_eq!(got, want);
    assert!(got.iter().any(|e| e.event == "result"));
    assert!(
        got.iter().any(|e| e.event == "sensor"),
        "u-01's sensor events as posted"
    );
    assert!(
        got.iter().any(|e| e.event == "profile"),
        "the tick's profile"
    );
}

#[test]
fn a_client_behind_the_outbox_gets_reset() {
    let server = Server::fresh("reset", &["--outbox-keep", "10"]);
    // Many commits: the outbox keeps whole commits, the newest ones.
    for chunk in fixture_events().chunks(100) {
        server.post_events(&chunk.join("\n"));
    }
    let mut old = Sse::connect(&server, "", Some(1));
    let e = old.next().unwrap();
    assert_eq!(e.event, "reset");
    assert!(old.next().is_none(), "closed after reset");
    let head = stream_head(&server);
    let mut future = Sse::connect(&server, "", Some(head + 1000));
    assert_eq!(
        future.next().unwrap().event,
        "reset",
        "an id this server never gave"
    );
}

#[test]
fn sigkill_mid_ingest_loses_no_acknowledged_event() {
    let lines: Vec<String> = {
        let run = crate::util::run(
            Path::new(env!("CARGO_BIN_EXE_gen-events")),
            ["--users", "30", "--days", "2", "--seed", "11", "--clean"],
        );
        run.stdout.lines().map(str::to_owned).collect()
    };
    let dir = Scratch::new("crash");
    let db = dir.0.join("gym.db");
    for round in 0..3u64 {
        let server = Server::start(&db, &["--challenges", "fixtures/challenges"]);
        let acknowledged = Arc::new(Mutex::new(Vec::<String>::new()));
        let started = Instant::now();
        std::thread::scope(|scope| {
            for client in 0..3usize {
                let acknowledged = Arc::clone(&acknowledged);
                let server = &server;
                let lines = &lines;
                scope.spawn(move || {
                    for (i, chunk) in lines.chunks(97).enumerate() {
                        if i % 3 != client {
                            continue;
                        }
                        let body = chunk.join("\n");
                        let request = ureq::post(&format!("{}/v1/events", server.url))
                            .set("Content-Type", "application/x-ndjson")
                            .timeout(Duration::from_secs(5));
                        match request.send_string(&body) {
                            Ok(r) if r.status() == 200 => acknowledged.lock().unwrap().push(body),
                            _ => break,
                        }
                    }
                });
            }
            std::thread::sleep(Duration::from_millis(150 + 120 * round));
            let _ = Command::new("kill")
                .args(["-KILL", &server.child.id().to_string()])
                .status();
        });
        drop(server);
        assert!(started.elapsed() < Duration::from_secs(60));
        // Every acknowledged line is in the log: sent again, it is a duplicate.
        let restarted = Server::start(&db, &[]);
        let acknowledged = acknowledged.lock().unwrap().clone();
        for body in &acknowledged {
            let answer = restarted.post_events(body);
            assert_eq!(
                answer["duplicates"], answer["accepted"],
                "round {round}: an acknowledged event was lost"
            );
        }
        restarted.kill();
    }
    // Then the whole stream, and the views equal a clean run's.
    let server = Server::start(&db, &[]);
    server.post_events(&lines.join("\n"));
    server.send(
        "POST",
        "/v1/tick",
        None,
        "application/json",
        r#"{"at": "2026-08-31T23:00:00Z"}"#,
    );
    assert_eq!(server.stop(), 0);
    let clean = dir.0.join("clean.db");
    std::fs::write(dir.0.join("all.jsonl"), lines.join("\n")).unwrap();
    let p = |args: &[&str]| {
        let run = challenge(args);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    let (db, clean) = (db.to_str().unwrap(), clean.to_str().unwrap());
    p(&[
        "pipeline",
        "ingest",
        "--db",
        clean,
        "--challenges",
        "fixtures/challenges",
        dir.0.join("all.jsonl").to_str().unwrap(),
    ]);
    p(&[
        "pipeline",
        "tick",
        "--db",
        clean,
        "--at",
        "2026-08-31T23:00:00Z",
    ]);
    for view in ["results", "workouts", "profiles", "leaderboard", "live"] {
        assert_eq!(
            p(&["pipeline", "query", view, "--db", db]),
            p(&["pipeline", "query", view, "--db", clean]),
            "{view} after SIGKILLs and restarts"
        );
    }
    p(&["pipeline", "verify", "--db", db]);
}

#[test]
fn a_backup_taken_while_serving_passes_verify() {
    let mut server = Server::fresh("backup", &[]);
    let scratch = server.take_scratch().unwrap();
    let lines = fixture_events();
    let copy = scratch.0.join("copy.db");
    std::thread::scope(|scope| {
        let server = &server;
        let lines = &lines;
        scope.spawn(move || post_concurrently(server, lines, 2, 3));
        std::thread::sleep(Duration::from_millis(30));
        let run = challenge([
            "pipeline",
            "backup",
            "--db",
            server.db.to_str().unwrap(),
            "--to",
            copy.to_str().unwrap(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    });
    let verify = challenge(["pipeline", "verify", "--db", copy.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let again = challenge([
        "pipeline",
        "backup",
        "--db",
        server.db.to_str().unwrap(),
        "--to",
        copy.to_str().unwrap(),
    ]);
    assert_eq!(again.code, 2, "never over an existing file");
}

#[test]
fn retention_compacts_at_each_periodic_job() {
    let mut server = Server::fresh("retain", &["--retain-events", "1d"]);
    let _scratch = server.take_scratch();
    server.post_events(&fixture_events().join("\n"));
    let db = server.db.to_str().unwrap().to_owned();
    let stats = |db: &str| json(&challenge(["pipeline", "stats", "--db", db]).stdout);
    let log_before = stats(&db)["tables"]["log"].as_u64();
    let (_, before) = server.get("/v1/users/u-01/results", None);
    let (status, _) = server.send(
        "POST",
        "/v1/tick",
        None,
        "application/json",
        r#"{"at": "2026-08-05T00:00:00+08:00"}"#,
    );
    assert_eq!(status, 200);
    let log_after = stats(&db)["tables"]["log"].as_u64();
    assert!(
        log_after < log_before,
        "{log_after:?} < {log_before:?}: events purged"
    );
    // A late event of a session that ended before 2026-08-04 is a dead letter.
    let late = r#"{"type":"rep","session":"s-u-01-001","seq":999,"ts":"2026-08-01T19:40:00+08:00","weight_kg":40}"#;
    let answer = server.post_events(late);
    assert_eq!(answer["rejected"], 1);
    assert_eq!(
        answer["rejections"][0]["reason"],
        "late event for a compacted session"
    );
    // The results are as before (as of the tick); the file still verifies.
    let (_, after) = server.get("/v1/users/u-01/results", None);
    let challenges = |text: &str| {
        json(text)
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["challenge"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(challenges(&before), challenges(&after));
    assert_eq!(server.stop(), 0);
    let verify = challenge(["pipeline", "verify", "--db", &db]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

#[test]
fn deleting_a_user_removes_the_record_and_erasing_purges_everything() {
    let mut server = Server::fresh("delete-user", &[]);
    let scratch = server.take_scratch().unwrap();
    server.post_events(&fixture_events().join("\n"));
    let delete = |path: &str| server.send("DELETE", path, None, "application/json", "");

    assert_eq!(delete("/v1/users/u-01").0, 204);
    assert_eq!(server.get("/v1/users/u-01", None).0, 404);
    let (status, text) = delete("/v1/users/u-01");
    assert_eq!((status, error_code(&text)), (404, "not-found".into()));
    let (_, text) = server.get("/v1/teams/coy-a/results", None);
    assert!(!text.contains("\"u-01\""), "u-01 left coy-a: {text}");
    let (_, text) = server.get("/v1/users/u-01/results", None);
    assert_ne!(
        text, "[]",
        "a deleted record keeps the workouts and results"
    );

    assert_eq!(delete("/v1/users/u-07?erase=true").0, 204);
    for path in [
        "/v1/users/u-07/results",
        "/v1/users/u-07/results?live=true",
        "/v1/users/u-07/rewards",
    ] {
        assert_eq!(server.get(path, None), (200, "[]".to_owned()), "{path}");
    }
    assert_eq!(server.get("/v1/users/u-07", None).0, 404);
    assert_eq!(delete("/v1/users/u-07?erase=true").0, 404, "nothing left");
    assert_eq!(delete("/v1/users/u-07?erase=maybe").0, 400);

    assert_eq!(server.stop(), 0);
    let db = scratch.0.join("gym.db");
    let verify = challenge(["pipeline", "verify", "--db", db.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

#[test]
fn an_assigned_challenge_is_evaluated_for_its_user_alone() {
    let dir = Scratch::new("assign");
    let (admin, a) = token("admin", None);
    let (mine, m) = token("member", Some("u-01"));
    let (theirs, t) = token("member", Some("u-02"));
    let tokens = dir.0.join("tokens.jsonl");
    std::fs::write(&tokens, format!("{a}{m}{t}")).unwrap();
    let db = dir.0.join("gym.db");
    let args = [
        "--challenges",
        "fixtures/challenges",
        "--tokens",
        tokens.to_str().unwrap(),
    ];
    let server = Server::start(&db, &args);
    let events = fixture_events().join("\n");
    let post =
        |path: &str, body: &str| server.send("POST", path, Some(&admin), "application/json", body);
    assert_eq!(
        server
            .send(
                "POST",
                "/v1/events",
                Some(&admin),
                "application/x-ndjson",
                &events
            )
            .0,
        200
    );
    assert_eq!(
        post("/v1/tick", r#"{"at": "2026-08-20T23:00:00+08:00"}"#).0,
        200
    );
    let template = std::fs::read_to_string(fixture("templates/pushup-ladder.chal")).unwrap();
    let body = serde_json::json!({"template": template, "set": {}, "assign": true}).to_string();
    let (status, text) = post("/v1/users/u-01/recommend", &body);
    assert_eq!(status, 200, "{text}");
    assert_eq!(json(&text)["assigned"], true);
    let id = "pushup-ladder/u-01";
    let path = "/v1/challenges/pushup-ladder%2Fu-01";

    let challenges = |token: &str| -> Vec<Value> {
        let (_, list) = server.get("/v1/challenges", Some(token));
        json(&list).as_array().unwrap().clone()
    };
    let listed = |token: &str| challenges(token).iter().any(|c| c["id"] == id);
    assert!(listed(&admin) && listed(&mine) && !listed(&theirs));
    let own = challenges(&mine);
    let item = own.iter().find(|c| c["id"] == id).unwrap();
    assert_eq!(item["owner"], "u-01");
    assert_eq!(server.get(path, Some(&mine)).0, 200);
    assert_eq!(
        server.get(path, Some(&theirs)).0,
        404,
        "not there for others"
    );

    let has_row = |user: &str, token: &str| {
        let (status, text) = server.get(&format!("/v1/users/{user}/results"), Some(token));
        assert_eq!(status, 200, "{text}");
        json(&text)
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["challenge"] == id)
    };
    assert!(has_row("u-01", &mine), "evaluated for its user");
    assert!(!has_row("u-02", &theirs), "and for no one else");
    let (_, text) = server.get(&format!("{path}/results"), Some(&admin));
    let rows = json(&text);
    assert_eq!(rows.as_array().unwrap().len(), 1, "{text}");
    assert_eq!(rows[0]["user"], "u-01");

    // A restart with --challenges keeps it (the folder is the set of everyone's challenges),
    // and the file verifies.
    assert_eq!(server.stop(), 0);
    let verify = challenge(["pipeline", "verify", "--db", db.to_str().unwrap()]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
    let server = Server::start(&db, &args);
    assert!(server
        .get("/v1/users/u-01/results", Some(&mine))
        .1
        .contains(id));
    let (status, _) = server.send("DELETE", path, Some(&admin), "application/json", "");
    assert_eq!(status, 204);
    assert!(!server
        .get("/v1/users/u-01/results", Some(&mine))
        .1
        .contains(id));
}
