//! The writer: the one thread that owns the pipeline engine (and so the database file's
//! writes). Requests that change a source of truth are sent to it as [`Command`]s; it answers
//! each after the transaction that holds it has committed, then publishes the committed
//! changes to the [`Hub`].
//!
//! Event posts that arrive while a commit is under way are gathered into the next batch (one
//! transaction for many requests, each answered with its own counts), up to
//! [`GATHER_LINES`] lines: under load the commit cost is shared, and a lone request still
//! commits at once.
//!
//! **Invariant:** an answer is sent only after its commit returned (an answer means durable),
//! and changes reach the hub only after their commit, in commit order.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use pipeline::engine::{Admitted, Engine, Options};
use pipeline::transport::Chunk;
use pipeline::{PipelineError, SqliteStore, Store};
use rules_core::eval::AsOf;
use rules_core::Challenge;
use tokio::sync::{mpsc, oneshot};

use crate::hub::Hub;
use crate::webhooks::Mark;

/// Lines gathered into one transaction at most.
pub const GATHER_LINES: usize = 50_000;

/// A request for the writer.
pub enum Command {
    /// Sensor events (and `user_upsert` lines made by the API), as one request.
    Lines {
        /// The input name its rejections are kept under (`http`, `api`).
        source: &'static str,
        /// The lines, numbered from 1 within the request.
        chunk: Chunk,
        /// The answer.
        reply: oneshot::Sender<Result<Admitted, String>>,
    },
    /// The periodic job as of `at`.
    Tick {
        /// Its time.
        at: AsOf,
        /// The answer.
        reply: oneshot::Sender<Result<(), String>>,
    },
    /// Adds or replaces a challenge (of everyone, or personal); answers its content hash.
    PutChallenge {
        /// The checked tree.
        decl: Box<Challenge>,
        /// The one user of a personal challenge (`recommend` with `assign`); `None` for a
        /// challenge of everyone.
        owner: Option<String>,
        /// The answer.
        reply: oneshot::Sender<Result<String, String>>,
    },
    /// Removes a challenge; answers whether there was one.
    DeleteChallenge {
        /// Its id.
        id: String,
        /// The answer.
        reply: oneshot::Sender<Result<bool, String>>,
    },
    /// Removes a user's record (`erase`: everything of the user); answers whether there was
    /// anything to remove.
    DeleteUser {
        /// The user.
        id: String,
        /// Purge everything of the user.
        erase: bool,
        /// The receipt time (the logged deletion's `ts`).
        at: AsOf,
        /// The answer.
        reply: oneshot::Sender<Result<bool, String>>,
    },
    /// Records what became of a webhook delivery attempt.
    Delivery {
        /// Delivered, or failed with its next attempt's time.
        mark: Mark,
        /// The answer.
        reply: oneshot::Sender<Result<(), String>>,
    },
}

/// What the writer shares with the request handlers.
pub struct Shared {
    /// The last log position committed.
    pub log_head: AtomicU64,
    /// Batches committed.
    pub batches: AtomicU64,
    /// Set when a commit failed: the writer reloads its engine from the store before the next
    /// command.
    pub reload: AtomicBool,
    /// Sessions under way (with a start, without an end).
    pub open_sessions: AtomicU64,
    /// How long each batch took from the writer taking it to its commit.
    pub commit_seconds: Histogram,
}

/// A Prometheus histogram of durations, with fixed buckets (seconds).
#[derive(Default)]
pub struct Histogram {
    /// Observations at or under each bound of [`Histogram::BOUNDS`] (cumulative when read).
    buckets: [AtomicU64; 12],
    count: AtomicU64,
    /// The sum in microseconds.
    sum_us: AtomicU64,
}

impl Histogram {
    /// The buckets' upper bounds, in seconds.
    pub const BOUNDS: [f64; 12] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    ];

    /// Records one duration.
    pub fn observe(&self, d: std::time::Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = Self::BOUNDS.iter().position(|b| secs <= *b) {
            if let Some(b) = self.buckets.get(i) {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_us.fetch_add(
            u64::try_from(d.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// Writes the histogram in Prometheus text format.
    pub fn write(&self, name: &str, help: &str, out: &mut String) {
        use std::fmt::Write as _;
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} histogram");
        let mut cumulative = 0;
        for (bound, bucket) in Self::BOUNDS.iter().zip(&self.buckets) {
            cumulative += bucket.load(Ordering::Relaxed);
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let count = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.sum_us.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "{name}_sum {sum}\n{name}_count {count}");
    }
}

/// The writer's loop: runs until every sender is dropped (the server stopped accepting and
/// the requests under way have been answered).
pub fn run(
    mut engine: Engine<SqliteStore>,
    options: Options,
    mut commands: mpsc::Receiver<Command>,
    hub: Arc<Hub>,
    shared: Arc<Shared>,
    timezone: String,
    retain: Option<std::time::Duration>,
) {
    let mut pending: Option<Command> = None;
    loop {
        if shared.reload.swap(false, Ordering::AcqRel) {
            // The memory is ahead of the file: load it again from what is committed.
            match Engine::open(engine.into_store(), options.clone()) {
                Ok(fresh) => engine = fresh,
                Err(e) => {
                    tracing::error!(error = %e, "the engine cannot be reloaded: the writer stops");
                    return;
                }
            }
        }
        let command = match pending.take() {
            Some(c) => c,
            None => match commands.blocking_recv() {
                Some(c) => c,
                None => break,
            },
        };
        match command {
            Command::Lines {
                source,
                chunk,
                reply,
            } => {
                // Gather what else is waiting, of the same input, into this transaction.
                let mut lines = chunk.lines.len();
                let mut batch = vec![(chunk, reply)];
                while lines < GATHER_LINES {
                    match commands.try_recv() {
                        Ok(Command::Lines {
                            source: s,
                            chunk,
                            reply,
                        }) if s == source => {
                            lines += chunk.lines.len();
                            batch.push((chunk, reply));
                        }
                        Ok(other) => {
                            pending = Some(other);
                            break;
                        }
                        Err(_) => break,
                    }
                }
                let (chunks, replies): (Vec<Chunk>, Vec<_>) = batch.into_iter().unzip();
                let started = std::time::Instant::now();
                let result = engine.ingest_requests(source, chunks);
                shared.commit_seconds.observe(started.elapsed());
                match result {
                    Ok(answers) => {
                        publish(&mut engine, &hub, &shared);
                        for (reply, answer) in replies.into_iter().zip(answers) {
                            let _ = reply.send(Ok(answer));
                        }
                    }
                    Err(e) => {
                        let message = failed(&mut engine, &hub, &shared, &e);
                        for reply in replies {
                            let _ = reply.send(Err(message.clone()));
                        }
                    }
                }
            }
            Command::Tick { at, reply } => {
                let answer = engine.tick(&at, &timezone).and_then(|()| {
                    // `--retain-events`: the periodic job also compacts the sessions that ended
                    // longer ago than that before the tick's own time (a logged time), so a
                    // replay of the log meets the same compactions.
                    let Some(retain) = retain.and_then(|r| chrono::Duration::from_std(r).ok())
                    else {
                        return Ok(());
                    };
                    let before = at.time - retain;
                    let summary = engine.compact(before, &mut |_| {})?;
                    tracing::info!(sessions = summary.sessions, before = %before, "events compacted");
                    Ok(())
                });
                let _ = reply.send(done(&mut engine, &hub, &shared, answer));
            }
            Command::PutChallenge { decl, owner, reply } => {
                let put = match &owner {
                    None => engine.put_challenge(&decl),
                    Some(user) => engine.assign_challenge(&decl, user),
                };
                let answer = put.map(|_| {
                    engine
                        .stored_challenge(decl.id.as_str())
                        .map(|c| c.hash.clone())
                        .unwrap_or_default()
                });
                let _ = reply.send(done(&mut engine, &hub, &shared, answer));
            }
            Command::DeleteChallenge { id, reply } => {
                let answer = engine.delete_challenge(&id);
                let _ = reply.send(done(&mut engine, &hub, &shared, answer));
            }
            Command::DeleteUser {
                id,
                erase,
                at,
                reply,
            } => {
                let answer = if erase {
                    engine.erase_user(&id)
                } else {
                    engine.delete_user(&id, &at)
                };
                let _ = reply.send(done(&mut engine, &hub, &shared, answer));
            }
            Command::Delivery { mark, reply } => {
                // Not a view: nothing to publish, and a failure here only means the
                // delivery is attempted again (its key lets the receiver keep one).
                let answer = match mark {
                    Mark::Delivered(id) => engine.store().delivered(id),
                    Mark::Failed(id, next_at) => engine.store().delivery_failed(id, next_at),
                };
                let _ = reply.send(answer.map_err(|e| e.to_string()));
            }
        }
    }
    tracing::info!("writer stopped: every accepted request is committed");
}

/// Publishes what was committed and moves the shared counters.
fn publish(engine: &mut Engine<SqliteStore>, hub: &Hub, shared: &Shared) {
    hub.publish(engine.store().take_committed());
    shared.log_head.store(engine.head(), Ordering::Release);
    let open: usize = engine.state().open.values().map(|s| s.len()).sum();
    shared.open_sessions.store(open as u64, Ordering::Relaxed);
    shared.batches.fetch_add(1, Ordering::Relaxed);
}

/// After a command: publish on success, report on failure.
fn done<T>(
    engine: &mut Engine<SqliteStore>,
    hub: &Hub,
    shared: &Shared,
    answer: Result<T, PipelineError>,
) -> Result<T, String> {
    match answer {
        Ok(value) => {
            publish(engine, hub, shared);
            Ok(value)
        }
        Err(e) => Err(failed(engine, hub, shared, &e)),
    }
}

/// A failed command: nothing of it was committed (the transaction rolled back); whatever an
/// earlier command committed is still published. A failed commit leaves the engine's memory
/// ahead of the file, so the engine is reloaded from what is committed.
fn failed(
    engine: &mut Engine<SqliteStore>,
    hub: &Hub,
    shared: &Shared,
    e: &PipelineError,
) -> String {
    tracing::error!(error = %e, "a write failed; its transaction rolled back");
    hub.publish(engine.store().take_committed());
    shared.log_head.store(engine.head(), Ordering::Release);
    if matches!(e, PipelineError::Store(_)) {
        shared.reload.store(true, Ordering::Release);
    }
    e.to_string()
}
