//! `serve-bench`: the service measured side by side with the CLI, in one run (issue #13).
//!
//! 1. **Ingest.** One generated sensor stream, ingested by `challenge pipeline ingest` into one
//!    file and posted to `challenge serve` (a fresh file) in requests of `--lines` lines from
//!    `--clients` concurrent clients: events per second each, and the ratio.
//! 2. **Push latency.** `--subscribers` open `GET /v1/stream` connections (admin, everyone);
//!    then `--posts` times, one small request is posted (a rep of an open session, which
//!    changes one live row) and the time from sending the request to each subscriber's receipt
//!    of its change is taken: p50, p99 and max over every (post, subscriber), and the server's
//!    RSS before and after the subscribers connected, per subscriber.
//!
//! With `--store postgres://... --broker amqp://...` the service is the scale-out one
//! (docs/scale-out.md): a `challenge serve --store --broker` gateway and `--workers` `challenge
//! worker` processes on a fresh database; the ingest time then runs until the store has read
//! every line (derived, not only accepted), and the push latency is POST to a gateway → broker →
//! worker commit → outbox `NOTIFY` → the gateway's subscribers.
//!
//! ```sh
//! cargo build --release --bins && target/release/serve-bench
//! eval "$(scripts/services.sh start)"
//! target/release/serve-bench --store "$CHALLENGE_TEST_PG" --broker "$CHALLENGE_TEST_AMQP"
//! ```
//!
//! The binaries are run from `--bin-dir` (default `target/release`), in the repository root.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;

/// Flags.
#[derive(Parser)]
#[command(about = "The service's ingest rate against the CLI's, and its push latency")]
struct Args {
    /// Where `challenge` and `gen-events` are.
    #[arg(long, default_value = "target/release")]
    bin_dir: PathBuf,
    /// Users of the generated stream.
    #[arg(long, default_value_t = 300)]
    users: u32,
    /// Days of the generated stream.
    #[arg(long, default_value_t = 7)]
    days: u32,
    /// Lines per request.
    #[arg(long, default_value_t = 1000)]
    lines: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Open stream subscribers.
    #[arg(long, default_value_t = 1000)]
    subscribers: usize,
    /// Posts timed for the push latency.
    #[arg(long, default_value_t = 50)]
    posts: usize,
    /// Scratch folder.
    #[arg(long, default_value = "target/serve-bench")]
    dir: PathBuf,
    /// Scale-out: a PostgreSQL server (a fresh database is made on it), with `--broker`.
    #[arg(long, value_name = "URL", requires = "broker")]
    store: Option<String>,
    /// Scale-out: the RabbitMQ broker, with `--store`.
    #[arg(long, value_name = "URL", requires = "store")]
    broker: Option<String>,
    /// Scale-out: worker processes (they share the partitions).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Scale-out: the partition count (streams), the same for the gateway and the workers.
    #[arg(long, default_value_t = 64)]
    partitions: u32,
}

type Result<T> = std::result::Result<T, String>;

fn main() {
    if let Err(e) = run(&Args::parse()) {
        eprintln!("serve-bench: {e}");
        std::process::exit(1);
    }
}

fn run(args: &Args) -> Result<()> {
    let _ = std::fs::remove_dir_all(&args.dir);
    std::fs::create_dir_all(&args.dir).map_err(|e| e.to_string())?;
    let challenge = args.bin_dir.join("challenge");
    let events = args.dir.join("events.jsonl");
    let generated = Command::new(args.bin_dir.join("gen-events"))
        .args([
            "--users",
            &args.users.to_string(),
            "--days",
            &args.days.to_string(),
        ])
        .args(["--seed", "7", "--clean", "--out"])
        .arg(&events)
        .status()
        .map_err(|e| format!("gen-events: {e}"))?;
    if !generated.success() {
        return Err("gen-events failed".into());
    }
    let text = std::fs::read_to_string(&events).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    println!(
        "stream: {} events ({} users, {} days)",
        lines.len(),
        args.users,
        args.days
    );

    // 1. The CLI.
    let started = Instant::now();
    let cli = Command::new(&challenge)
        .args(["pipeline", "ingest", "--db"])
        .arg(args.dir.join("cli.db"))
        .args(["--challenges", "fixtures/challenges"])
        .arg(&events)
        .stderr(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    let cli_s = started.elapsed().as_secs_f64();
    if !cli.success() {
        return Err("pipeline ingest failed".into());
    }
    let cli_rate = lines.len() as f64 / cli_s;
    println!("pipeline ingest:  {cli_s:.2} s, {cli_rate:.0} events/s");

    // 2. The service.
    let scale = match (&args.store, &args.broker) {
        (Some(store), Some(broker)) => Some(Scale::new(store, broker, args.partitions)?),
        _ => None,
    };
    let server = match &scale {
        Some(scale) => Server::start_scale(&challenge, scale, args.workers)?,
        None => Server::start(&challenge, &args.dir.join("serve.db"))?,
    };
    let chunks: Vec<String> = lines.chunks(args.lines).map(|c| c.join("\n")).collect();
    let queue = Arc::new(Mutex::new(chunks.into_iter().rev().collect::<Vec<_>>()));
    let started = Instant::now();
    let failed = Arc::new(Mutex::new(None::<String>));
    std::thread::scope(|scope| {
        for _ in 0..args.clients {
            let queue = Arc::clone(&queue);
            let failed = Arc::clone(&failed);
            let url = format!("{}/v1/events", server.url);
            scope.spawn(move || {
                while let Some(body) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let answer = ureq::post(&url)
                        .set("Content-Type", "application/x-ndjson")
                        .send_string(&body);
                    if let Err(e) = answer {
                        if let Ok(mut f) = failed.lock() {
                            *f = Some(e.to_string());
                        }
                        break;
                    }
                }
            });
        }
    });
    if let Some(e) = failed.lock().ok().and_then(|f| f.clone()) {
        return Err(format!("a post failed: {e}"));
    }
    if let Some(scale) = &scale {
        let accepted = started.elapsed().as_secs_f64();
        println!(
            "  the gateway accepted (broker-confirmed) every post in {accepted:.2} s, {:.0} events/s",
            lines.len() as f64 / accepted
        );
        scale.wait_read(lines.len() as u64)?;
    }
    let http_s = started.elapsed().as_secs_f64();
    let http_rate = lines.len() as f64 / http_s;
    println!(
        "POST /v1/events:  {http_s:.2} s, {http_rate:.0} events/s ({} clients, {}-line requests) = {:.0}% of the CLI's rate",
        args.clients,
        args.lines,
        100.0 * http_rate / cli_rate
    );

    // 3. Push latency.
    let rss_before = server.rss_kb();
    let (tx, rx) = mpsc::channel::<(usize, Instant)>();
    let streams = Subscribers::connect(&server.url, args.subscribers, tx)?;
    // Let every subscriber reach its read loop.
    std::thread::sleep(Duration::from_millis(500));
    let rss_after = server.rss_kb();
    println!(
        "{} subscribers: server RSS {} KB -> {} KB, {:.1} KB per subscriber",
        args.subscribers,
        rss_before,
        rss_after,
        (rss_after.saturating_sub(rss_before)) as f64 / args.subscribers as f64
    );
    let open = r#"{"type":"session_start","session":"bench-s","seq":0,"ts":"2026-09-01T07:00:00Z","device":"d","gym":"g","user":"bench-u","exercise":"leg_press"}"#;
    post(&server.url, open)?;
    // Drain what the session start pushed.
    std::thread::sleep(Duration::from_millis(300));
    while rx.try_recv().is_ok() {}
    let mut latencies: Vec<f64> = Vec::new();
    let cpu_before = server.cpu_ms();
    for seq in 1..=args.posts {
        let rep = format!(
            r#"{{"type":"rep","session":"bench-s","seq":{seq},"ts":"2026-09-01T07:00:{:02}Z","weight_kg":40}}"#,
            seq % 60
        );
        let sent = Instant::now();
        post(&server.url, &rep)?;
        // Each subscriber receives the change (a `live` row and the `sensor`-less admin view).
        let mut got = vec![false; args.subscribers];
        let mut n = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while n < args.subscribers {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok((i, at)) = rx.recv_timeout(left) else {
                return Err(format!("post {seq}: only {n} subscribers received it"));
            };
            if let Some(g) = got.get_mut(i) {
                if !*g {
                    *g = true;
                    n += 1;
                    latencies.push(at.duration_since(sent).as_secs_f64() * 1e3);
                }
            }
        }
        // The rest of this post's changes.
        std::thread::sleep(Duration::from_millis(20));
        while rx.try_recv().is_ok() {}
    }
    let cpu_per_post = (server.cpu_ms() - cpu_before) / args.posts as f64;
    latencies.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let i = ((latencies.len() as f64 - 1.0) * p).round() as usize;
        latencies.get(i).copied().unwrap_or(f64::NAN)
    };
    println!(
        "push latency (post sent -> event received), {} posts x {} subscribers: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        args.posts,
        args.subscribers,
        q(0.5),
        q(0.99),
        q(1.0)
    );
    println!("server CPU per post (commit and push to every subscriber): {cpu_per_post:.2} ms");
    drop(streams);
    Ok(())
}

fn post(url: &str, body: &str) -> Result<()> {
    ureq::post(&format!("{url}/v1/events"))
        .set("Content-Type", "application/x-ndjson")
        .send_string(body)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

/// The scale-out's services: a fresh database and streams of its own.
struct Scale {
    store: String,
    broker: String,
    streams: String,
    partitions: String,
}

impl Scale {
    fn new(server: &str, broker: &str, partitions: u32) -> Result<Scale> {
        let name = format!("serve_bench_{}", std::process::id());
        let mut admin = challenge_scale::PgStore::connect(server).map_err(|e| e.to_string())?;
        // Two statements: neither may run inside a transaction block.
        for sql in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .client()
                .batch_execute(&sql)
                .map_err(|e| challenge_scale::postgres::pg_error(&e).to_string())?;
        }
        let (head, _) = server
            .rsplit_once('/')
            .ok_or("--store: postgres://host:port/database")?;
        Ok(Scale {
            store: format!("{head}/{name}"),
            broker: broker.to_owned(),
            streams: format!("serve-bench-{}", std::process::id()),
            partitions: partitions.to_string(),
        })
    }

    /// Waits until the store has read `n` lines (the workers derived them).
    fn wait_read(&self, n: u64) -> Result<()> {
        use pipeline::store::Store as _;
        let mut store =
            challenge_scale::PgStore::connect(&self.store).map_err(|e| e.to_string())?;
        let deadline = Instant::now() + Duration::from_secs(600);
        loop {
            let read = store.snapshot().map_err(|e| e.to_string())?.counters.read;
            if read >= n {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the workers read {read} of {n} lines in 10 minutes"
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

struct Server {
    child: Child,
    /// The scale-out's workers (their CPU counts with the gateway's).
    workers: Vec<Child>,
    url: String,
}

impl Server {
    fn start(challenge: &Path, db: &Path) -> Result<Server> {
        let db = db.to_string_lossy();
        Server::spawn(
            challenge,
            &["--db", &db, "--challenges", "fixtures/challenges"],
            Vec::new(),
        )
    }

    /// A gateway and `workers` workers; returns once a worker is active.
    fn start_scale(challenge: &Path, scale: &Scale, workers: usize) -> Result<Server> {
        let flags = [
            "--store",
            scale.store.as_str(),
            "--broker",
            scale.broker.as_str(),
            "--streams",
            scale.streams.as_str(),
            "--partitions",
            scale.partitions.as_str(),
        ];
        let mut children = Vec::new();
        for _ in 0..workers {
            children.push(
                Command::new(challenge)
                    .arg("worker")
                    .args(flags)
                    .args(["--challenges", "fixtures/challenges"])
                    .stderr(Stdio::null())
                    .stdout(Stdio::null())
                    .spawn()
                    .map_err(|e| format!("worker: {e}"))?,
            );
        }
        let server = Server::spawn(challenge, &flags, children)?;
        // The workers have taken partitions once the folder's challenges are stored.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !ureq::get(&format!("{}/v1/challenges", server.url))
            .call()
            .ok()
            .and_then(|r| r.into_string().ok())
            .is_some_and(|list| list.contains("streak-7"))
        {
            if Instant::now() > deadline {
                return Err("no worker became active in 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(server)
    }

    fn spawn(challenge: &Path, flags: &[&str], workers: Vec<Child>) -> Result<Server> {
        let mut child = Command::new(challenge)
            .arg("serve")
            .args(flags)
            .args(["--listen", "127.0.0.1:0"])
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("serve: {e}"))?;
        let stderr = child.stderr.take().ok_or("no stderr")?;
        let mut lines = BufReader::new(stderr).lines();
        let mut url = None;
        for line in lines.by_ref() {
            let line = line.map_err(|e| e.to_string())?;
            if let Some(rest) = line.split("listening on ").nth(1) {
                url = rest
                    .split_whitespace()
                    .next()
                    .map(|u| u.trim_end_matches('/').to_owned());
                break;
            }
        }
        std::thread::spawn(move || for _ in lines {});
        let url = url.ok_or("serve did not start")?;
        Ok(Server {
            child,
            workers,
            url,
        })
    }

    /// The server's (and its workers') user and system CPU time so far, in ms.
    fn cpu_ms(&self) -> f64 {
        std::iter::once(&self.child)
            .chain(&self.workers)
            .map(|c| cpu_ms(c.id()))
            .sum()
    }

    /// The server's (the gateway's) resident memory.
    fn rss_kb(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("VmRSS:"))
                    .and_then(|v| v.split_whitespace().next()?.parse().ok())
            })
            .unwrap_or(0)
    }
}

/// A process's user and system CPU time so far, in ms (/proc, clock ticks of 10 ms).
fn cpu_ms(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let after = s
                .rsplit_once(") ")?
                .1
                .split_whitespace()
                .collect::<Vec<_>>();
            let utime: f64 = after.get(11)?.parse().ok()?;
            let stime: f64 = after.get(12)?.parse().ok()?;
            Some((utime + stime) * 10.0)
        })
        .unwrap_or(f64::NAN)
}

impl Drop for Server {
    fn drop(&mut self) {
        for c in std::iter::once(&mut self.child).chain(&mut self.workers) {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The stream subscribers: one task each on a runtime of their own (one worker thread, epoll), so
/// that the measuring side costs the machine little; each reports (its index, the time) for
/// every `live` event it reads. Dropping it closes every connection.
struct Subscribers {
    _runtime: tokio::runtime::Runtime,
}

impl Subscribers {
    fn connect(url: &str, n: usize, events: mpsc::Sender<(usize, Instant)>) -> Result<Subscribers> {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let addr = url.trim_start_matches("http://").to_owned();
        let (ready_tx, ready_rx) = mpsc::channel::<Result<()>>();
        for index in 0..n {
            let addr = addr.clone();
            let events = events.clone();
            let ready = ready_tx.clone();
            runtime.spawn(async move {
                let mut stream = match tokio::net::TcpStream::connect(&addr).await {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = stream.set_nodelay(true);
                let request = format!(
                    "GET /v1/stream HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
                );
                if let Err(e) = stream.write_all(request.as_bytes()).await {
                    let _ = ready.send(Err(e.to_string()));
                    return;
                }
                let _ = ready.send(Ok(()));
                let mut reader = tokio::io::BufReader::new(stream);
                let mut line = String::new();
                loop {
                    line.clear();
                    match reader.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) => {}
                    }
                    if line.starts_with("event: live")
                        && events.send((index, Instant::now())).is_err()
                    {
                        return;
                    }
                }
            });
        }
        drop(ready_tx);
        let subscribers = Subscribers { _runtime: runtime };
        for _ in 0..n {
            ready_rx
                .recv_timeout(Duration::from_secs(30))
                .map_err(|_| "a subscriber did not connect".to_owned())??;
        }
        Ok(subscribers)
    }
}
