//! The gateway (`serve --store postgres://... --broker amqp://...`, docs/scale-out.md): in place
//! of the writer, the thread that turns the API's [`Command`]s into messages on the partition
//! streams, answering after the broker's confirms; the views are derived by `challenge worker`
//! and read from PostgreSQL by the usual readers.
//!
//! - Event posts: every line is routed by the session directory
//!   ([`challenge_scale::directory`]) to its user's partition and published (rejected ones
//!   too, so that the worker keeps their dead letters as the embedded pipeline does); the
//!   events of a session whose start has not arrived yet are held in the directory and
//!   published with the start. The answer counts what a gateway can judge alone (`read`, and
//!   `rejected` for lines that fail validation); duplicates and conflicts are judged by the
//!   worker and show in the store's counters.
//! - Ticks and admin changes (a challenge put or deleted, a user deleted or erased): published
//!   to every partition while holding the store's tick lock, so every stream has them in the
//!   same order; the workers apply each at the barrier where every partition reached it.
//!   The answer comes after the broker's confirms, from what the store holds then (a
//!   challenge's hash is computed here as the workers will store it).
//! - Webhook deliveries: marked in the store.
//! - The stream: [`follow`] reads the store's outbox (written by the worker in each commit's
//!   transaction) after each `NOTIFY`, and publishes the changes to the hub in sequence order.
//!
//! **Invariant:** an answer is sent only after the broker confirmed every published line of the
//! request (durable in its stream) and the directory committed the held ones (durable in
//! PostgreSQL); a failure answers an error and the device resends.

use std::sync::Arc;
use std::time::Duration;

use challenge_scale::directory::{Directory, Key, RouteError};
use challenge_scale::rabbitmq::{Broker, Kind};
use challenge_scale::worker::Admin;
use challenge_scale::PgStore;
use pipeline::engine::Admitted;
use pipeline::store::{Counters, Store};
use tokio::sync::mpsc;

use crate::hub::Hub;
use crate::webhooks::Mark;
use crate::writer::Command;

/// Where a gateway publishes and what it locks.
#[derive(Clone, Debug)]
pub struct Scale {
    /// The PostgreSQL URL (reads, the tick lock, delivery marks, the session directory).
    pub store: String,
    /// The AMQP URL.
    pub broker: String,
    /// The streams' prefix.
    pub streams: String,
    /// The partition count.
    pub partitions: u32,
}

/// The connections, opened on first use and dropped after a failure.
struct Links {
    scale: Scale,
    broker: Option<Broker>,
    store: Option<PgStore>,
    directory: Option<Directory>,
}

impl Links {
    fn broker(&mut self) -> Result<&Broker, String> {
        if self.broker.is_none() {
            self.broker = Some(
                Broker::connect(
                    &self.scale.broker,
                    &self.scale.streams,
                    self.scale.partitions,
                )
                .map_err(|e| e.to_string())?,
            );
        }
        self.broker
            .as_ref()
            .ok_or_else(|| "no broker connection".to_owned())
    }

    fn store(&mut self) -> Result<&mut PgStore, String> {
        if self.store.is_none() {
            self.store = Some(PgStore::connect(&self.scale.store).map_err(|e| e.to_string())?);
        }
        self.store
            .as_mut()
            .ok_or_else(|| "no store connection".to_owned())
    }

    /// The store connection is dropped after a failure (opened again on next use).
    fn keep_store<T>(
        &mut self,
        answer: Result<T, pipeline::store::StoreError>,
    ) -> Result<T, String> {
        if answer.is_err() {
            self.store = None;
        }
        answer.map_err(|e| e.to_string())
    }

    /// Routes a request's lines through the session directory and publishes them; the
    /// connection that failed is dropped (opened again on next use).
    fn publish(&mut self, lines: &[(&str, Key)]) -> Result<(), String> {
        self.broker()?;
        if self.directory.is_none() {
            self.directory =
                Some(Directory::connect(&self.scale.store).map_err(|e| e.to_string())?);
        }
        let (Some(broker), Some(directory)) = (self.broker.as_ref(), self.directory.as_mut())
        else {
            return Err("no broker or directory connection".to_owned());
        };
        let sent = broker
            .publisher()
            .map_err(RouteError::Broker)
            .and_then(|p| directory.publish_keyed(&p, lines));
        match &sent {
            Ok(_) => {}
            Err(RouteError::Broker(_)) => self.broker = None,
            Err(RouteError::Store(_)) => self.directory = None,
        }
        sent.map(|_| ()).map_err(|e| e.to_string())
    }

    fn tick(&mut self, at: &str, timezone: &str) -> Result<(), String> {
        self.barrier(Kind::Tick, &pipeline::engine::tick_body(at, timezone))
    }

    /// Publishes the admin change `make` builds with a new request number, and answers
    /// `reply` with what the answering partition writes for it; the wait is on a thread of its
    /// own, so the gateway's other requests go on.
    fn ask(
        &mut self,
        make: impl FnOnce(i64) -> Admin,
        reply: tokio::sync::oneshot::Sender<Result<bool, String>>,
    ) {
        let sent = self
            .store()
            .map(|s| s.next_admin_request())
            .and_then(|numbered| self.keep_store(numbered))
            .and_then(|request| self.admin(&make(request)).map(|()| request));
        match sent {
            Err(e) => {
                let _ = reply.send(Err(e));
            }
            Ok(request) => {
                let store = self.scale.store.clone();
                std::thread::spawn(move || {
                    let _ = reply.send(admin_answer(&store, request));
                });
            }
        }
    }

    fn admin(&mut self, admin: &Admin) -> Result<(), String> {
        let body = serde_json::to_string(admin).map_err(|e| e.to_string())?;
        self.barrier(Kind::Admin, &body)
    }

    /// Publishes a barrier message to every partition under the store's tick lock.
    fn barrier(&mut self, kind: Kind, body: &str) -> Result<(), String> {
        self.store()?.lock_ticks().map_err(|e| e.to_string())?;
        let sent = self.broker().and_then(|b| {
            b.publisher()
                .and_then(|p| p.barrier(kind, body))
                .map_err(|e| e.to_string())
        });
        if sent.is_err() {
            self.broker = None;
        }
        let unlocked = self.store()?.unlock_ticks().map_err(|e| e.to_string());
        if unlocked.is_err() {
            // The lock goes with the session.
            self.store = None;
        }
        sent.and(unlocked)
    }
}

/// How long a gateway waits for a partition's answer to a user deletion.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// The answer the user's partition gave to admin request `request` (whether it knew the user),
/// waited for up to [`ANSWER_WAIT`].
fn admin_answer(store: &str, request: i64) -> Result<bool, String> {
    let mut store = PgStore::connect(store).map_err(|e| e.to_string())?;
    let started = std::time::Instant::now();
    loop {
        if let Some(known) = store
            .take_admin_answer(request)
            .map_err(|e| e.to_string())?
        {
            return Ok(known);
        }
        if started.elapsed() > ANSWER_WAIT {
            return Err(format!(
                "no worker applied the deletion within {} s (it is published, and will be \
                 applied when a worker takes the user's partition)",
                ANSWER_WAIT.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Runs the gateway until every command sender is gone.
pub fn run(scale: Scale, mut commands: mpsc::Receiver<Command>, timezone: String) {
    let mut links = Links {
        scale,
        broker: None,
        store: None,
        directory: None,
    };
    while let Some(command) = commands.blocking_recv() {
        match command {
            Command::Lines { chunk, reply, .. } => {
                let validated = pipeline::stream::validate_chunk(&chunk);
                let mut answer = Admitted {
                    counters: Counters::default(),
                    rejections: Vec::new(),
                };
                let mut lines: Vec<(&str, Key)> = Vec::with_capacity(chunk.lines.len());
                for (line, result) in chunk.lines.iter().zip(&validated) {
                    let text = chunk.line(line);
                    lines.push((text, Key::classify(text, result)));
                    answer.counters.read += 1;
                    match result {
                        Ok(_) => answer.counters.accepted += 1,
                        Err(reason) => {
                            answer.counters.rejected += 1;
                            answer.rejections.push((line.number, reason.clone()));
                        }
                    }
                }
                let _ = reply.send(links.publish(&lines).map(|()| answer));
            }
            Command::Tick { at, reply } => {
                let _ = reply.send(links.tick(&at.text, &timezone));
            }
            Command::PutChallenge { decl, owner, reply } => {
                let answer = pipeline::engine::stored(&decl, owner)
                    .map_err(|e| e.to_string())
                    .and_then(|c| {
                        let hash = c.hash.clone();
                        links
                            .admin(&Admin::ChallengePut {
                                tree: c.tree,
                                owner: c.owner,
                            })
                            .map(|()| hash)
                    });
                let _ = reply.send(answer);
            }
            Command::DeleteChallenge { id, reply } => {
                // Partition 0 answers whether the challenge was there when it reached the
                // deletion (after a put published before it).
                links.ask(
                    |request| Admin::ChallengeDelete {
                        id,
                        answer: Some(request),
                    },
                    reply,
                );
            }
            Command::DeleteUser {
                id,
                erase,
                at,
                reply,
            } => {
                // Logged whether or not the user is known yet (as the embedded writer does: a
                // record that arrives later with an older time stays deleted). The user's
                // partition answers whether it knew the user when it reached the deletion,
                // after every event published before it: the embedded service's answer.
                links.ask(
                    |request| Admin::UserDelete {
                        user: id,
                        ts: at.text,
                        erase,
                        answer: Some(request),
                    },
                    reply,
                );
            }
            Command::Delivery { mark, reply } => {
                let answer = links.store().and_then(|s| {
                    match mark {
                        Mark::Delivered(id) => s.delivered(id),
                        Mark::Failed(id, next_at) => s.delivery_failed(id, next_at),
                    }
                    .map_err(|e| e.to_string())
                });
                if answer.is_err() {
                    links.store = None;
                }
                let _ = reply.send(answer);
            }
        }
    }
    tracing::info!("gateway stopped: every answered request is in the streams");
}

/// Follows the store's change outbox from `after` and publishes every change to `hub`, in
/// sequence order, woken by the workers' `NOTIFY` (and every second regardless). Runs for the
/// life of the process; a lost connection is opened again.
pub fn follow(store: String, hub: Arc<Hub>, after: u64) {
    let mut cursor = after;
    loop {
        if let Err(e) = follow_once(&store, &hub, &mut cursor) {
            tracing::warn!(error = %e, "following the outbox: again in 1 s");
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

fn follow_once(
    store: &str,
    hub: &Hub,
    cursor: &mut u64,
) -> Result<(), pipeline::store::StoreError> {
    let mut store = PgStore::connect(store)?;
    store.listen()?;
    loop {
        let (changes, last) = store.changes_after(*cursor, 4_096)?;
        if last > *cursor {
            *cursor = last;
            hub.publish(changes);
            continue;
        }
        store.wait_for_changes(Duration::from_secs(1))?;
    }
}
