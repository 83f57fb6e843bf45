//! `challenge worker`: the pipeline's engine over the PostgreSQL store, fed by the partition
//! streams of RabbitMQ.
//!
//! ```text
//! wait for the worker lock (pg_try_advisory_lock on the connection that writes)
//!   └─► Engine::open (replays the log from PostgreSQL) ─► subscribe to every stream from the
//!       stored offset + 1 ─► batches: the events before each partition's next tick, in one
//!       transaction with the offsets they consumed ─► a tick once every partition delivered
//!       it (barrier), in one transaction with the ticks' offsets
//! ```
//!
//! **Ownership.** One worker derives at a time: it holds a session advisory lock on the very
//! connection its commits go through, so a worker whose connection died can never commit
//! again (its lock died with the session), and the lock is free for the next worker the
//! moment the process or its connection ends, however it ends. The others wait as standbys and
//! take over from the stored offsets: nothing acknowledged by a gateway is lost (it is in the
//! stream) and nothing is applied twice (the offsets commit with the views). Partition-parallel
//! derivation is not done yet (docs/scale-out.md says why and what it needs).
//!
//! **Invariant:** the worker reads no clock for a view: every time is in the messages (event
//! `ts`, tick `at`).
//!
//! Any failure (the broker or the database gone, a commit refused) drops the engine and the
//! connections and starts over from the store after a pause: the in-memory state is never
//! trusted past a failed commit.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use pipeline::engine::{Engine, Options, PipelineError};
use pipeline::store::{Batch, Store};
use pipeline::transport::Chunk;
use rules_core::eval::AsOf;
use rules_core::Challenge;
use serde::{Deserialize, Serialize};

use crate::postgres::PgStore;
use crate::rabbitmq::{Broker, Kind, Message};

/// The advisory lock of the active worker.
pub const WORKER_LOCK: i64 = 0x6368_616c_6c02;

/// What a worker runs on.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// The PostgreSQL URL.
    pub store: String,
    /// The AMQP URL.
    pub broker: String,
    /// The streams' name prefix (`<prefix>.<partition>`).
    pub prefix: String,
    /// The partition count (fixed for the life of a store).
    pub partitions: u32,
    /// Event lines per batch, about (whole messages are taken; one transaction each).
    pub batch: usize,
    /// The engine's options.
    pub options: Options,
    /// The challenges to set when the worker becomes active (`None`: keep the stored ones).
    pub challenges: Option<Vec<Challenge>>,
}

/// An admin change of a source of truth, as a gateway publishes it to every partition (a
/// [`Kind::Admin`] message) and the worker applies it at the barrier, between the same events
/// in every partition, as the embedded writer applies the command between two batches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Admin {
    /// A challenge added or replaced: its JSON tree as stored (the hash is that text's) and,
    /// for a personal challenge, its one user.
    ChallengePut {
        /// The tree's JSON text.
        tree: String,
        /// The user of a personal challenge.
        owner: Option<String>,
    },
    /// A challenge removed.
    ChallengeDelete {
        /// Its id.
        id: String,
    },
    /// A user's record removed (`erase`: everything of the user purged).
    UserDelete {
        /// The user.
        user: String,
        /// The receipt time (the logged deletion's `ts`).
        ts: String,
        /// Purge every source of truth of the user.
        erase: bool,
    },
}

impl Admin {
    /// Applies the change to the engine (committed in its own transaction). A change that
    /// cannot apply (a tree that no longer compiles) is reported, not retried: `Ok(Err(..))`.
    fn apply(&self, engine: &mut Engine<PgStore>) -> Result<Result<(), String>, PipelineError> {
        let refused = |e: PipelineError| match e {
            PipelineError::Store(_) | PipelineError::Io(..) => Err(e),
            other => Ok(Err(other.to_string())),
        };
        let done = match self {
            Admin::ChallengePut { tree, owner } => {
                let trees = rules_core::json::read_trees(tree);
                let Some(decl) = trees.decls.into_iter().next() else {
                    return Ok(Err("the published tree does not read".to_owned()));
                };
                match owner {
                    Some(user) => engine.assign_challenge(&decl, user).map(|_| ()),
                    None => engine.put_challenge(&decl).map(|_| ()),
                }
            }
            Admin::ChallengeDelete { id } => engine.delete_challenge(id).map(|_| ()),
            Admin::UserDelete { user, ts, erase } => {
                let Some(at) = AsOf::parse(ts) else {
                    return Ok(Err(format!("a deletion at `{ts}`, not a time")));
                };
                if *erase {
                    engine.erase_user(user).map(|_| ())
                } else {
                    engine.delete_user(user, &at).map(|_| ())
                }
            }
        };
        done.map_or_else(refused, |()| Ok(Ok(())))
    }
}

/// Changes the outbox keeps for the gateways' clients that reconnect (`serve`'s default).
pub const OUTBOX_KEEP: u64 = 1_000_000;

/// The meta key holding a store's partition count.
const PARTITIONS_KEY: &str = "scale.partitions";

/// The consumer key of a partition's stream in the store's offsets.
pub fn offset_key(prefix: &str, p: u32) -> String {
    format!("stream:{prefix}.{p}")
}

/// Runs a worker until `stop` is set: waits for the lock, derives while it holds it, and starts
/// over after a failure. `log` hears what happens (one line each).
pub fn run(config: &WorkerConfig, stop: &AtomicBool, log: &mut dyn FnMut(&str)) {
    while !stop.load(Ordering::Relaxed) {
        match serve_once(config, stop, log) {
            Ok(()) => return,
            Err(e) => {
                log(&format!("{e}; starting over in 1 s"));
                pause(stop, Duration::from_secs(1));
            }
        }
    }
}

fn pause(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < total && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        waited += step;
    }
}

/// One term as a worker: standby until the lock is had, then active until a failure or `stop`.
fn serve_once(
    config: &WorkerConfig,
    stop: &AtomicBool,
    log: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let mut store = PgStore::connect(&config.store).map_err(|e| e.to_string())?;
    let mut said = false;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let got: bool = store
            .client()
            .query_one("SELECT pg_try_advisory_lock($1)", &[&WORKER_LOCK])
            .map_err(|e| crate::postgres::pg_error(&e).to_string())?
            .get(0);
        if got {
            break;
        }
        if !said {
            log("standby: another worker is active");
            said = true;
        }
        pause(stop, Duration::from_millis(200));
    }
    let snapshot = store.snapshot().map_err(|e| e.to_string())?;
    match snapshot.meta.get(PARTITIONS_KEY) {
        Some(n) if *n != config.partitions.to_string() => {
            return Err(format!(
                "the store's streams have {n} partitions, not {}: the partition count is fixed \
                 for the life of a store (docs/scale-out.md)",
                config.partitions
            ))
        }
        Some(_) => {}
        None => store
            .commit(&Batch {
                meta: vec![(PARTITIONS_KEY.to_owned(), config.partitions.to_string())],
                ..Batch::default()
            })
            .map_err(|e| e.to_string())?,
    }
    // The change outbox the gateways' streams follow, written in each commit's transaction.
    store.enable_feed(OUTBOX_KEEP);
    log("active: replaying the log");
    let options = Options {
        feed: true,
        ..config.options.clone()
    };
    let mut engine = Engine::open(store, options).map_err(|e| e.to_string())?;
    if let Some(decls) = &config.challenges {
        engine.set_challenges(decls).map_err(|e| e.to_string())?;
    }
    let n = config.partitions;
    let keys: Vec<String> = (0..n).map(|p| offset_key(&config.prefix, p)).collect();
    let mut next: BTreeMap<u32, u64> = BTreeMap::new();
    for (p, key) in (0..n).zip(&keys) {
        next.insert(p, engine.offsets().get(key).map_or(0, |o| o + 1));
    }
    let broker = Broker::connect(&config.broker, &config.prefix, n).map_err(|e| e.to_string())?;
    let mut subscription = broker.subscribe(&next).map_err(|e| e.to_string())?;
    log(&format!(
        "active: consuming {n} partitions from their stored offsets (head {})",
        engine.head()
    ));
    let mut queues: Vec<VecDeque<Message>> = (0..n).map(|_| VecDeque::new()).collect();
    while !stop.load(Ordering::Relaxed) {
        let messages = subscription
            .next_batch(config.batch, Duration::from_millis(100))
            .map_err(|e| e.to_string())?;
        for m in messages {
            let Some(expected) = next.get_mut(&m.partition) else {
                continue;
            };
            // A stream delivers from the start of a chunk, and a resubscription may repeat.
            if m.offset < *expected {
                continue;
            }
            *expected = m.offset + 1;
            if let Some(q) = queues.get_mut(m.partition as usize) {
                q.push_back(m);
            }
        }
        drain(&mut engine, &mut queues, &keys, config.batch, log)?;
    }
    Ok(())
}

/// Applies what the queues allow: the events before each partition's next barrier (a tick or
/// an admin change), a batch at a time; a barrier once it heads every partition's queue.
fn drain(
    engine: &mut Engine<PgStore>,
    queues: &mut [VecDeque<Message>],
    keys: &[String],
    batch: usize,
    log: &mut dyn FnMut(&str),
) -> Result<(), String> {
    loop {
        let mut chunks = Vec::new();
        let mut offsets = Vec::new();
        let mut taken = 0;
        for (q, key) in queues.iter_mut().zip(keys) {
            let mut last = None;
            while taken < batch {
                match q.front() {
                    Some(m) if m.kind == Kind::Event => {}
                    _ => break,
                }
                let Some(m) = q.pop_front() else {
                    break;
                };
                // One message holds a request's lines of this partition, in order. Dead
                // letters name the stream and the message's offset (`stream:<prefix>.<p>@<o>`)
                // and the line's number within it.
                let mut chunk = Chunk::default();
                for (i, line) in (1..).zip(m.body.lines()) {
                    chunk.push(i, line);
                    taken += 1;
                }
                chunks.push((format!("{key}@{}", m.offset), chunk));
                last = Some(m.offset);
            }
            if let Some(last) = last {
                offsets.push((key.clone(), last));
            }
        }
        if !chunks.is_empty() {
            engine
                .ingest_chunks(chunks, offsets)
                .map_err(|e| e.to_string())?;
            continue;
        }
        let all_barriers = queues
            .iter()
            .all(|q| q.front().is_some_and(|m| m.kind.is_barrier()));
        if !all_barriers || queues.is_empty() {
            return Ok(());
        }
        let heads: Vec<Message> = queues.iter_mut().filter_map(|q| q.pop_front()).collect();
        let offsets: Vec<(String, u64)> = keys
            .iter()
            .cloned()
            .zip(heads.iter().map(|m| m.offset))
            .collect();
        let (kind, body) = heads
            .first()
            .map(|m| (m.kind, m.body.clone()))
            .unwrap_or((Kind::Tick, String::new()));
        if heads.iter().any(|m| m.body != body || m.kind != kind) {
            return Err(format!(
                "the partitions disagree on the next barrier (`{body}` and others): ticks and \
                 admin changes must be published under the store's tick lock"
            ));
        }
        let consume = |engine: &mut Engine<PgStore>, offsets| {
            engine
                .ingest_chunks(Vec::new(), offsets)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        match (kind, parse_tick(&body)) {
            (Kind::Tick, Some((at, timezone))) => engine
                .tick_with_offsets(&at, &timezone, offsets)
                .map_err(|e| e.to_string())?,
            (Kind::Admin, _) => {
                // Applied, then consumed: a crash between the two applies it again on restart,
                // which every admin change tolerates (a put of the same tree, a deletion of a
                // deleted user and an erasure of an erased one change nothing).
                match serde_json::from_str::<Admin>(&body) {
                    Ok(admin) => {
                        if let Err(reason) = admin.apply(engine).map_err(|e| e.to_string())? {
                            log(&format!("admin change not applied: {reason}"));
                        }
                    }
                    Err(e) => log(&format!("admin change not read ({e}): `{body}`")),
                }
                consume(engine, offsets)?;
            }
            // A tick a gateway could not have published (it checks them): consumed, not applied.
            _ => consume(engine, offsets)?,
        }
    }
}

/// A tick message's time and timezone.
pub fn parse_tick(body: &str) -> Option<(AsOf, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let at = AsOf::parse(v.get("at")?.as_str()?)?;
    let timezone = v.get("timezone")?.as_str()?.to_owned();
    Some((at, timezone))
}
