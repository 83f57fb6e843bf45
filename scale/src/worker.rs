//! `challenge worker`: the pipeline's engines over the PostgreSQL store, one per partition the
//! worker owns, fed by the partitions' RabbitMQ streams; and, in one worker at a time, the
//! reducer (crate::reduce).
//!
//! ```text
//! heartbeat (workers table) ─► fair share = ⌈partitions / live workers⌉
//!   ├─ below it: take free partitions: pg_try_advisory_lock(PARTITION_LOCK, p) on a connection
//!   │  of the partition's own, Engine::open over the partition's log (PgStore::connect_partition)
//!   └─ above it: give the extra partitions up (between two commits: the engine and its
//!      connection dropped, the lock with it)
//! per owned partition: its stream from the stored offset + 1 ─► events in batches, ticks and
//! admin changes in stream order, each commit with the partition's offset
//! ```
//!
//! **Ownership.** A partition's engine commits through the very connection that holds the
//! partition's advisory lock, so an engine whose connection died can never commit again (its
//! lock died with the session), and the partition is free for another worker the moment the
//! process or the connection ends, however it ends. Nothing acknowledged by a gateway is lost
//! (it is in the stream) and nothing is applied twice (the offsets commit with the views).
//!
//! **Why partitions are independent.** Every line of a user is in the user's partition (the
//! gateways route session events through the session directory), and every barrier (tick,
//! admin change) is in every partition's stream at the same place among the events a gateway
//! published before and after it. A partition's engine therefore derives its users' views as
//! the embedded engine does, at its own pace; the stages that read across users (team rows,
//! the merged leaderboards) run in the reducer.
//!
//! **Rebalancing.** Each worker beats every pass (PostgreSQL's clock, not the worker's); the
//! live ones are those that beat within [`HEARTBEAT_TIMEOUT_SECS`]. A worker that joins raises
//! the count, the others give up their extra partitions after their current commit, and the
//! newcomer takes them; a worker that dies frees its partitions at once (its connections end)
//! and its share at the timeout.
//!
//! **Invariant:** the worker reads no clock for a view: every time is in the messages (event
//! `ts`, tick `at`).

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pipeline::engine::{parse_tick, stored, Engine, Options, PipelineError};
use pipeline::store::{Batch, Store};
use pipeline::transport::Chunk;
use rules_core::eval::AsOf;
use rules_core::Challenge;
use serde::{Deserialize, Serialize};

use crate::postgres::{pg_error, PgStore, PARTITIONS_KEY};
use crate::rabbitmq::{Broker, Kind, Message};
use crate::reduce::{self, ReducerConfig};

/// The class of the partitions' advisory locks (`pg_try_advisory_lock(PARTITION_LOCK, p)`).
pub const PARTITION_LOCK: i32 = 0x6368_616c;

/// A worker whose heartbeat is older than this is gone: its share goes to the others.
pub const HEARTBEAT_TIMEOUT_SECS: i32 = 3;

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
    /// The challenges to publish when the worker starts (`None`: keep the stored ones).
    pub challenges: Option<Vec<Challenge>>,
    /// `--retain-events`: after each tick, a partition compacts the sessions that ended longer
    /// ago than this before the tick's time (as `serve --retain-events` does).
    pub retain_events: Option<chrono::Duration>,
    /// Whether this worker stands for the reducer (one worker at a time runs it); an operator
    /// may keep it to some workers (`challenge worker --partitions-only` on the others).
    pub reduce: bool,
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
        /// Where the gateway waits for the answer: partition 0 writes whether the challenge
        /// was there (`admin_answers`), before it applies the change.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer: Option<i64>,
    },
    /// A user's record removed (`erase`: everything of the user purged).
    UserDelete {
        /// The user.
        user: String,
        /// The receipt time (the logged deletion's `ts`).
        ts: String,
        /// Purge every source of truth of the user.
        erase: bool,
        /// Where the gateway waits for the answer: the user's partition writes whether it knew
        /// the user (`admin_answers`), before it applies the change, so that the request is
        /// answered as the embedded service answers it, after the events before it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        answer: Option<i64>,
    },
}

impl Admin {
    /// Writes the answer a gateway waits for, when this change asks for one and `part` is the
    /// partition that answers it (the user's, for a user; partition 0 for a challenge, which
    /// every partition holds): whether the change finds what it removes, as it is about to be
    /// applied. `ON CONFLICT DO NOTHING`: a change applied again after a crash keeps its first
    /// answer.
    fn answer(
        &self,
        engine: &mut Engine<PgStore>,
        part: u32,
        partitions: u32,
    ) -> Result<(), PipelineError> {
        let (id, known) = match self {
            Admin::UserDelete {
                user,
                ts,
                erase,
                answer: Some(id),
            } if pipeline::partition::partition_of(user, partitions) == part => {
                let known = if *erase {
                    engine.knows_user(user)
                } else {
                    AsOf::parse(ts).is_some_and(|at| engine.would_delete_user(user, &at))
                };
                (id, known)
            }
            Admin::ChallengeDelete {
                id: challenge,
                answer: Some(id),
            } if part == 0 => (id, engine.stored_challenge(challenge).is_some()),
            _ => return Ok(()),
        };
        engine
            .store()
            .client()
            .execute(
                "INSERT INTO admin_answers(id, known) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                &[id, &known],
            )
            .map_err(|e| PipelineError::Store(pg_error(&e)))?;
        Ok(())
    }

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
            Admin::ChallengeDelete { id, .. } => engine.delete_challenge(id).map(|_| ()),
            Admin::UserDelete {
                user, ts, erase, ..
            } => {
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

/// How often a worker beats and balances its partitions.
const BALANCE_EVERY: Duration = Duration::from_millis(500);

/// The consumer key of a partition's stream in the store's offsets.
pub fn offset_key(prefix: &str, p: u32) -> String {
    format!("stream:{prefix}.{p}")
}

/// Runs a worker until `stop` is set: the engines of the partitions it owns, and the reducer
/// when it holds the reducer's lock (a thread of its own); starts over after a failure. `log`
/// hears what happens (one line each).
pub fn run(config: &WorkerConfig, stop: &AtomicBool, log: &(dyn Fn(&str) + Sync)) {
    let reducer = ReducerConfig {
        store: config.store.clone(),
        catalog: config.options.catalog.clone(),
        webhooks: config.options.webhooks.clone(),
        outbox_keep: OUTBOX_KEEP,
    };
    std::thread::scope(|scope| {
        if config.reduce {
            scope.spawn(|| reduce::run(&reducer, stop, log));
        }
        while !stop.load(Ordering::Relaxed) {
            match serve_once(config, stop, log) {
                Ok(()) => return,
                Err(e) => {
                    log(&format!("{e}; starting over in 1 s"));
                    pause(stop, Duration::from_secs(1));
                }
            }
        }
    });
}

/// Sleeps `total` in small steps, returning early when `stop` is set.
pub(crate) fn pause(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut waited = Duration::ZERO;
    while waited < total && !stop.load(Ordering::Relaxed) {
        std::thread::sleep(step);
        waited += step;
    }
}

/// A partition this worker owns: its engine (whose store connection holds the partition's
/// lock) and the messages received and not yet applied.
struct Owned {
    engine: Engine<PgStore>,
    /// The partition, and the store's partition count.
    part: u32,
    partitions: u32,
    /// The partition's consumer key in the offsets.
    key: String,
    queue: VecDeque<Message>,
    /// The next offset to accept (a stream delivers from the start of a chunk, and a
    /// resubscription repeats).
    expected: u64,
}

impl Owned {
    /// The offset after the last one committed.
    fn committed_next(&self) -> u64 {
        self.engine.offsets().get(&self.key).map_or(0, |o| o + 1)
    }
}

/// One term as a worker: beats, balances, and derives its partitions until a failure of the
/// broker or the control connection, or `stop`.
fn serve_once(
    config: &WorkerConfig,
    stop: &AtomicBool,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    let mut control = PgStore::connect(&config.store).map_err(|e| e.to_string())?;
    record_partitions(&mut control, config.partitions)?;
    let backend: i32 = control
        .client()
        .query_one("SELECT pg_backend_pid()", &[])
        .map_err(|e| pg_error(&e).to_string())?
        .get(0);
    let me = Member {
        name: format!("pid {} / backend {backend}", std::process::id()),
        spread: u32::try_from(backend).unwrap_or(0),
    };
    let broker = Broker::connect(&config.broker, &config.prefix, config.partitions)
        .map_err(|e| e.to_string())?;
    if let Some(decls) = &config.challenges {
        publish_challenges(&mut control, &broker, decls, log)?;
    }
    log(&format!("started as `{}`", me.name));
    let mut owned: BTreeMap<u32, Owned> = BTreeMap::new();
    let mut subscription = None;
    let mut resubscribe = true;
    let mut balanced: Option<Instant> = None;
    while !stop.load(Ordering::Relaxed) {
        if balanced.is_none_or(|at| at.elapsed() >= BALANCE_EVERY) {
            resubscribe |= balance(&mut control, &me, config, &mut owned, log)?;
            balanced = Some(Instant::now());
        }
        if resubscribe {
            // Every owned partition again from its committed offset: what was received and
            // not applied is received again.
            subscription = None;
            let mut from = BTreeMap::new();
            for (p, o) in owned.iter_mut() {
                o.queue.clear();
                o.expected = o.committed_next();
                from.insert(*p, o.expected);
            }
            if !from.is_empty() {
                subscription = Some(broker.subscribe(&from).map_err(|e| e.to_string())?);
            }
            resubscribe = false;
        }
        let Some(sub) = subscription.as_mut() else {
            pause(stop, Duration::from_millis(100));
            continue;
        };
        let messages = sub
            .next_batch(config.batch, Duration::from_millis(100))
            .map_err(|e| e.to_string())?;
        for m in messages {
            let Some(o) = owned.get_mut(&m.partition) else {
                continue;
            };
            if m.offset < o.expected {
                continue;
            }
            o.expected = m.offset + 1;
            o.queue.push_back(m);
        }
        // A partition whose engine fails is given up (its connection, and so its lock, go
        // with it); it is taken again, by this worker or another, from its stored offsets.
        let failed: Vec<u32> = owned
            .iter_mut()
            .filter_map(|(p, o)| {
                drain(o, config.batch, config.retain_events, log)
                    .map_err(|e| log(&format!("partition {p}: {e}; giving it up")))
                    .err()
                    .map(|()| *p)
            })
            .collect();
        for p in failed {
            owned.remove(&p);
            resubscribe = true;
        }
    }
    drop(subscription);
    drop(owned);
    let _ = control
        .client()
        .execute("DELETE FROM workers WHERE name = $1", &[&me.name]);
    Ok(())
}

/// Records the store's partition count, or checks it against the one recorded.
fn record_partitions(control: &mut PgStore, partitions: u32) -> Result<(), String> {
    let snapshot = control.snapshot().map_err(|e| e.to_string())?;
    match snapshot.meta.get(PARTITIONS_KEY) {
        Some(n) if *n != partitions.to_string() => Err(format!(
            "the store's streams have {n} partitions, not {partitions}: the partition count is \
             fixed for the life of a store (docs/scale-out.md)"
        )),
        Some(_) => Ok(()),
        None => control
            .commit(&Batch {
                meta: vec![(PARTITIONS_KEY.to_owned(), partitions.to_string())],
                ..Batch::default()
            })
            .map_err(|e| e.to_string()),
    }
}

/// `--challenges`: the set, as admin changes through the streams (so that every partition
/// applies them at the same place among the events): a put for each challenge that is new or
/// differs from the stored one, a deletion for each stored shared challenge not in the set.
fn publish_challenges(
    control: &mut PgStore,
    broker: &Broker,
    decls: &[Challenge],
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    let now = control.stored_challenges().map_err(|e| e.to_string())?;
    let mut changes = Vec::new();
    let mut wanted = BTreeSet::new();
    for decl in decls {
        let c = stored(decl, None).map_err(|e| e.to_string())?;
        wanted.insert(c.id.clone());
        if !now
            .iter()
            .any(|s| s.id == c.id && s.hash == c.hash && s.owner.is_none())
        {
            changes.push(Admin::ChallengePut {
                tree: c.tree,
                owner: None,
            });
        }
    }
    for c in now
        .iter()
        .filter(|c| c.owner.is_none() && !wanted.contains(&c.id))
    {
        changes.push(Admin::ChallengeDelete {
            id: c.id.clone(),
            answer: None,
        });
    }
    if changes.is_empty() {
        return Ok(());
    }
    control.lock_ticks().map_err(|e| e.to_string())?;
    let sent = broker.publisher().and_then(|p| {
        changes.iter().try_for_each(|change| {
            let body = serde_json::to_string(change).unwrap_or_default();
            p.barrier(Kind::Admin, &body)
        })
    });
    control.unlock_ticks().map_err(|e| e.to_string())?;
    sent.map_err(|e| e.to_string())?;
    log(&format!(
        "--challenges: published {} change(s)",
        changes.len()
    ));
    Ok(())
}

/// This worker as the heartbeat table knows it.
struct Member {
    name: String,
    /// Where its search for free partitions starts (so that workers starting together do not
    /// all try the same ones first).
    spread: u32,
}

/// Beats, then moves the owned partitions toward the fair share: gives up the extra ones, or
/// takes free ones. Whether the owned set changed.
fn balance(
    control: &mut PgStore,
    me: &Member,
    config: &WorkerConfig,
    owned: &mut BTreeMap<u32, Owned>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<bool, String> {
    let e = |e: postgres::Error| pg_error(&e).to_string();
    let client = control.client();
    let mine = i32::try_from(owned.len()).unwrap_or(i32::MAX);
    client
        .execute(
            "INSERT INTO workers(name, seen, partitions) VALUES ($1, now(), $2) \
             ON CONFLICT (name) DO UPDATE SET seen = now(), partitions = excluded.partitions",
            &[&me.name, &mine],
        )
        .map_err(e)?;
    client
        .execute(
            "DELETE FROM workers WHERE seen < now() - interval '1 minute'",
            &[],
        )
        .map_err(e)?;
    let live: i64 = client
        .query_one(
            "SELECT count(*) FROM workers WHERE seen > now() - make_interval(secs => $1)",
            &[&f64::from(HEARTBEAT_TIMEOUT_SECS)],
        )
        .map_err(e)?
        .get(0);
    let n = config.partitions;
    let fair =
        usize::try_from(n.div_ceil(u32::try_from(live.max(1)).unwrap_or(1))).unwrap_or(usize::MAX);
    let mut changed = false;
    while owned.len() > fair {
        if let Some((p, _)) = owned.pop_last() {
            log(&format!("gave partition {p} up ({live} workers)"));
            changed = true;
        }
    }
    if owned.len() == fair {
        return Ok(changed);
    }
    let held: BTreeSet<u32> = client
        .query(
            "SELECT objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 2 \
             AND classid::bigint = $1 AND granted \
             AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            &[&i64::from(PARTITION_LOCK)],
        )
        .map_err(e)?
        .iter()
        .filter_map(|r| u32::try_from(r.get::<_, i64>(0)).ok())
        .collect();
    for p in (0..n).map(|i| (i + me.spread) % n) {
        if owned.len() >= fair {
            break;
        }
        if held.contains(&p) || owned.contains_key(&p) {
            continue;
        }
        match take(config, p) {
            Ok(Some(o)) => {
                log(&format!(
                    "took partition {p} (log head {}, {live} workers)",
                    o.engine.head()
                ));
                owned.insert(p, o);
                changed = true;
            }
            Ok(None) => {}
            Err(e) => log(&format!("partition {p}: {e}")),
        }
    }
    Ok(changed)
}

/// Partition `p`'s engine, if its lock is free: a connection of its own takes the lock, then
/// the engine replays the partition's log.
fn take(config: &WorkerConfig, p: u32) -> Result<Option<Owned>, String> {
    let mut store = PgStore::connect_partition(&config.store, p).map_err(|e| e.to_string())?;
    let got: bool = store
        .client()
        .query_one(
            "SELECT pg_try_advisory_lock($1, $2)",
            &[&PARTITION_LOCK, &i32::try_from(p).unwrap_or(i32::MAX)],
        )
        .map_err(|e| pg_error(&e).to_string())?
        .get(0);
    if !got {
        return Ok(None);
    }
    // The change outbox the gateways' streams follow, written in each commit's transaction.
    store.enable_feed(OUTBOX_KEEP);
    let options = Options {
        feed: true,
        global_stages: false,
        ..config.options.clone()
    };
    let engine = Engine::open(store, options).map_err(|e| e.to_string())?;
    Ok(Some(Owned {
        engine,
        part: p,
        partitions: config.partitions,
        key: offset_key(&config.prefix, p),
        queue: VecDeque::new(),
        expected: 0,
    }))
}

/// Applies what a partition's queue allows: its events a batch at a time, and each barrier (a
/// tick or an admin change) in its place, each commit with the partition's offset.
fn drain(
    o: &mut Owned,
    batch: usize,
    retain: Option<chrono::Duration>,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    loop {
        let mut chunks = Vec::new();
        let mut last = None;
        let mut taken = 0;
        while taken < batch && o.queue.front().is_some_and(|m| m.kind == Kind::Event) {
            let Some(m) = o.queue.pop_front() else {
                break;
            };
            // One message holds a request's lines of this partition, in order. Dead letters
            // name the stream and the message's offset (`stream:<prefix>.<p>@<o>`) and the
            // line's number within it.
            let mut chunk = Chunk::default();
            for (i, line) in (1..).zip(m.body.lines()) {
                chunk.push(i, line);
                taken += 1;
            }
            chunks.push((format!("{}@{}", o.key, m.offset), chunk));
            last = Some(m.offset);
        }
        if let Some(last) = last {
            o.engine
                .ingest_chunks(chunks, vec![(o.key.clone(), last)])
                .map_err(|e| e.to_string())?;
            continue;
        }
        let Some(m) = o.queue.pop_front() else {
            return Ok(());
        };
        let offsets = vec![(o.key.clone(), m.offset)];
        let engine = &mut o.engine;
        let consume = |engine: &mut Engine<PgStore>, offsets| {
            engine
                .ingest_chunks(Vec::new(), offsets)
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        match (m.kind, parse_tick(&m.body)) {
            (Kind::Tick, Some((at, timezone))) => {
                engine
                    .tick_with_offsets(&at, &timezone, offsets)
                    .map_err(|e| e.to_string())?;
                // `--retain-events`: compacted after the tick, before a time the tick logged,
                // so a replay of the partition's log meets the same compactions. A crash in
                // between leaves them to the next tick, which compacts everything older.
                if let Some(retain) = retain {
                    let before = at.time - retain;
                    let summary = engine
                        .compact(before, &mut |_| {})
                        .map_err(|e| e.to_string())?;
                    if summary.sessions > 0 {
                        log(&format!(
                            "{}: compacted {} session(s) that ended before {before}",
                            o.key, summary.sessions
                        ));
                    }
                }
            }
            (Kind::Admin, _) => {
                // Applied, then consumed: a crash between the two applies it again on restart,
                // which every admin change tolerates (a put of the same tree, a deletion of a
                // deleted user and an erasure of an erased one change nothing).
                match serde_json::from_str::<Admin>(&m.body) {
                    Ok(admin) => {
                        admin
                            .answer(engine, o.part, o.partitions)
                            .map_err(|e| e.to_string())?;
                        if let Err(reason) = admin.apply(engine).map_err(|e| e.to_string())? {
                            log(&format!("admin change not applied: {reason}"));
                        }
                    }
                    Err(e) => log(&format!("admin change not read ({e}): `{}`", m.body)),
                }
                consume(engine, offsets)?;
            }
            // A tick a gateway could not have published (it checks them): consumed, not applied.
            _ => consume(engine, offsets)?,
        }
    }
}
