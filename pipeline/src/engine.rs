//! The engine: runs the stages over batches of messages and commits each batch's log appends,
//! view writes and offsets in one store transaction.
//!
//! ```text
//! Transport ──lines──► stream::validate (parallel) ──► stream::admit (log order) ──► save::save
//!     ──dirty users──► partition (consistent hash of user id) ──► ondemand::evaluate_user
//!     (one worker per partition, partitions in parallel) ──teams touched──► team::derive
//!     (one task per team) ──► rewards::issue ──► Batch ──Store::commit──► views, rewards
//! tick --at T ──► periodic::tick, team::derive (every team) ──► Batch ──Store::commit
//! ```
//!
//! **Invariant:** the rewards ledger is not a view: rewards are issued in the transaction of
//! the rows that earned them, never twice, and `rebuild` keeps them ([`crate::rewards`]).
//!
//! **Invariant:** every view row is a function of the sources of truth (the log, the compacted
//! workouts, the challenges): a result row is `evaluate(challenge, user, the user's workouts,
//! the user's clock)`; a user's clock is the latest workout end or record ts seen since the
//! last tick, or the tick's time; a team row is `evaluate_team(challenge, team, the members'
//! workouts, the latest of the members' clocks and the last tick)`. So the views do not depend on how the input was cut into
//! batches, on retries, or on where a crash happened; `rebuild` replays the log through the same
//! code and `verify` compares.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc;

use rayon::prelude::*;

use chrono::{DateTime, FixedOffset};
use rules_core::eval::{AsOf, Plan};
use rules_core::records;
use rules_core::session::{self, CONFLICT_REASON};
use rules_core::{json, Catalog, Challenge};
use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::dirty::DirtyUser;
use crate::ondemand::{self, Active, UserInput, UserRows};
use crate::partition;
use crate::periodic;
use crate::rewards;
use crate::save;
use crate::state::State;
use crate::store::{
    pages, Batch, CompactedWorkout, Counters, DeadLetter, Erasure, LogEntry, LogKind, LogSpan,
    ResultRow, Row, SourcePage, Store, StoreError, StoredChallenge,
};
use crate::stream::{self, Admission, COMPACTED_REASON};
use crate::team;
use crate::transport::{Chunk, ChunkLine, Line, Transport};
use crate::Dirty;

/// Why a pipeline command failed.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the input failed.
    #[error("cannot read `{0}`: {1}")]
    Io(String, std::io::Error),
    /// A stored or given challenge does not compile.
    #[error("challenge `{0}`: {1}")]
    Challenge(String, String),
    /// A bad argument (time, timezone).
    #[error("{0}")]
    Argument(String),
}

/// Settings of an engine.
#[derive(Clone, Debug)]
pub struct Options {
    /// The exercise catalog.
    pub catalog: Catalog,
    /// Number of partitions (workers).
    pub partitions: u32,
    /// Lines per batch (one transaction each).
    pub batch_lines: usize,
    /// Whether batches carry what the change feed needs (the sensor events' users); the
    /// store decides whether it keeps an outbox ([`crate::SqliteStore::enable_feed`]).
    pub feed: bool,
    /// Webhook URLs: each newly issued reward owes each of them a delivery, stored in the
    /// reward's transaction (service.md, "Rewards").
    pub webhooks: Vec<String>,
    /// Whether this engine runs the stages that read across users: the team rows (and the
    /// team rewards) and the re-ranking of the leaderboards after an erasure. True for one
    /// engine over the whole log; false for an engine over one partition of a scale-out store,
    /// whose users are all in the partition but whose teams and boards are not: there the
    /// reducer runs them (`challenge-scale`'s `reduce`). Its tick still writes the partition's
    /// own boards, which the store keeps as the partition's part of the month's boards.
    pub global_stages: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            catalog: Catalog::builtin(),
            partitions: partition::default_partitions(),
            batch_lines: 50_000,
            feed: false,
            webhooks: Vec::new(),
            global_stages: true,
        }
    }
}

/// Where an ingest run stands (after each batch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Lines read in this run.
    pub read: u64,
    /// Accepted (new and identical resends).
    pub accepted: u64,
    /// Identical resends.
    pub duplicates: u64,
    /// Rejected to dead letters.
    pub rejected: u64,
    /// Sessions buffered so far (all runs).
    pub sessions: u64,
    /// Workouts saved so far (all runs).
    pub workouts: u64,
}

/// What one request of [`Engine::ingest_requests`] came to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Admitted {
    /// Its counts (`read == accepted + rejected`).
    pub counters: Counters,
    /// Its rejected lines: (line number in the request, reason).
    pub rejections: Vec<(u64, String)>,
}

/// What changed when the challenge set was replaced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ChallengeChanges {
    /// New ids.
    pub added: Vec<String>,
    /// Ids whose tree changed.
    pub edited: Vec<String>,
    /// Ids no longer there.
    pub removed: Vec<String>,
}

/// What `compact` did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CompactSummary {
    /// Sessions whose events were purged.
    pub sessions: u64,
}

/// The pipeline over one store.
pub struct Engine<S: Store> {
    store: S,
    state: State,
    challenges: Vec<Active>,
    stored: BTreeMap<String, StoredChallenge>,
    options: Options,
    counters: Counters,
    offsets: BTreeMap<String, u64>,
}

/// A sha256 in hex.
pub fn content_hash(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A challenge as stored: its JSON tree, the tree's hash and its owner (what a scale-out
/// gateway publishes, so that the hash it answers is the one the workers store).
pub fn stored(decl: &Challenge, owner: Option<String>) -> Result<StoredChallenge, PipelineError> {
    let tree = serde_json::to_string(decl)
        .map_err(|e| PipelineError::Challenge(decl.id.to_string(), e.to_string()))?;
    Ok(StoredChallenge {
        id: decl.id.to_string(),
        hash: content_hash(&tree),
        tree,
        owner,
    })
}

/// A stored challenge, compiled for the stages.
pub fn compile(stored: &StoredChallenge, catalog: &Catalog) -> Result<Active, PipelineError> {
    let trees = json::read_trees(&stored.tree);
    let bad = |m: String| PipelineError::Challenge(stored.id.clone(), m);
    if let Some(d) = trees.diagnostics.first() {
        return Err(bad(d.message.clone()));
    }
    let decl = trees
        .decls
        .into_iter()
        .next()
        .ok_or_else(|| bad("the stored tree is empty".to_owned()))?;
    let plan = Plan::compile(&decl, catalog).map_err(|e| bad(e.to_string()))?;
    let mut active = Active::new(&decl, plan);
    active.owner = stored.owner.clone();
    Ok(active)
}

/// Where a long run (`rebuild`, `compact`, `verify`) stands, for a progress line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// What is being done (`replaying`, `compacting`, `purging`, `reclaiming`).
    pub what: &'static str,
    /// How far it got, in `total`'s unit (log positions, sessions, pages).
    pub done: u64,
    /// Where it ends (0 when unknown).
    pub total: u64,
}

/// Sessions per compaction transaction (their workouts written as sources of truth).
const COMPACT_SESSIONS: usize = 20_000;

/// Free pages returned to the file system per step after a compaction (16 KiB pages: 64 MiB).
const RECLAIM_PAGES: u32 = 4_096;

/// A message of the log as the stages replay it.
enum Replay {
    Event(u64, String),
    Workout(u64, String, String),
    Tick(u64, String),
    UserDelete(u64, String),
}

impl<S: Store> Engine<S> {
    /// Opens the pipeline over `store`: loads the challenges and replays the log into the
    /// in-memory state (no view is written).
    pub fn open(store: S, options: Options) -> Result<Engine<S>, PipelineError> {
        let mut engine = Engine {
            store,
            state: State::default(),
            challenges: Vec::new(),
            stored: BTreeMap::new(),
            options,
            counters: Counters::default(),
            offsets: BTreeMap::new(),
        };
        engine.load()?;
        Ok(engine)
    }

    /// Loads the challenges, counters and offsets of the store and replays its sources of
    /// truth into a fresh in-memory state.
    fn load(&mut self) -> Result<(), PipelineError> {
        let snapshot = self.store.snapshot()?;
        self.state = State::default();
        self.challenges.clear();
        self.stored.clear();
        self.counters = snapshot.counters;
        self.offsets = snapshot.offsets.clone();
        for c in &snapshot.challenges {
            self.challenges.push(compile(c, &self.options.catalog)?);
            self.stored.insert(c.id.clone(), c.clone());
        }
        let mut dirty = Dirty::default();
        for (from, to) in pages(snapshot.head) {
            let page = self.store.sources(from, to)?;
            for message in replay_messages(page) {
                match message {
                    Replay::Event(pos, body) => {
                        if let Ok(event) = session::parse_event_line(&body) {
                            stream::admit(&mut self.state, pos, event, &mut dirty);
                        }
                        self.state.head = self.state.head.max(pos);
                    }
                    Replay::Workout(pos, session, json) => {
                        self.restore_compacted(pos, &session, &json, &mut dirty, None);
                        self.state.head = self.state.head.max(pos);
                    }
                    Replay::Tick(pos, body) => {
                        self.state.head = self.state.head.max(pos);
                        if let Some((at, _)) = parse_tick(&body) {
                            self.state.last_tick = Some(at);
                        }
                    }
                    Replay::UserDelete(pos, body) => {
                        if let Some((user, ts)) = parse_user_delete(&body) {
                            stream::delete_user(&mut self.state, pos, &user, ts, &mut dirty);
                        }
                        self.state.head = self.state.head.max(pos);
                    }
                }
            }
        }
        save::save(&mut self.state, &mut dirty, None);
        // Clocks are derived by the message order (ticks included): take the stored ones.
        self.state.clocks = snapshot
            .clocks
            .iter()
            .filter_map(|(u, t)| AsOf::parse(t).map(|a| (u.clone(), a)))
            .collect();
        Ok(())
    }

    /// Gives the store back (the in-memory state is dropped, as in a crash).
    pub fn into_store(self) -> S {
        self.store
    }

    /// The store.
    pub fn store(&mut self) -> &mut S {
        &mut self.store
    }

    /// The in-memory state.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// Input counters over every run.
    pub fn counters(&self) -> Counters {
        self.counters
    }

    /// The loaded challenges, by id.
    pub fn challenges(&self) -> &[Active] {
        &self.challenges
    }

    /// The number of challenges loaded.
    pub fn challenge_count(&self) -> usize {
        self.challenges.len()
    }

    fn progress(&self, run: &Counters) -> Progress {
        progress_of(&self.state, run)
    }

    /// Replaces the challenge set. Added and edited challenges are evaluated for every
    /// considered user (as of the user's clock); removed ones lose their results.
    pub fn set_challenges(
        &mut self,
        decls: &[Challenge],
    ) -> Result<ChallengeChanges, PipelineError> {
        // Personal challenges are not part of the set: they stay unless a challenge of the set
        // takes their id.
        let mut next: BTreeMap<String, StoredChallenge> = self
            .stored
            .iter()
            .filter(|(_, c)| c.owner.is_some())
            .map(|(id, c)| (id.clone(), c.clone()))
            .collect();
        for decl in decls {
            let c = stored(decl, None)?;
            next.insert(c.id.clone(), c);
        }
        self.apply_challenges(next)
    }

    /// Makes `next` the stored challenges: added and edited ones (a new tree or owner) are
    /// evaluated for every user they concern, removed ones leave with their rows.
    fn apply_challenges(
        &mut self,
        next: BTreeMap<String, StoredChallenge>,
    ) -> Result<ChallengeChanges, PipelineError> {
        let mut changes = ChallengeChanges::default();
        let mut batch = Batch::default();
        for (id, c) in &next {
            match self.stored.get(id) {
                None => changes.added.push(id.clone()),
                Some(old) if old.hash != c.hash || old.owner != c.owner => {
                    changes.edited.push(id.clone());
                    // Its rows go and come back: an edit may turn a per-user challenge into a
                    // team challenge, or change its teams.
                    batch.drop_challenges.push(id.clone());
                }
                Some(_) => continue,
            }
            batch.put_challenges.push(c.clone());
        }
        for id in self.stored.keys() {
            if !next.contains_key(id) {
                changes.removed.push(id.clone());
                batch.delete_challenges.push(id.clone());
                batch.drop_challenges.push(id.clone());
            }
        }
        if batch.put_challenges.is_empty() && batch.delete_challenges.is_empty() {
            return Ok(changes);
        }
        let mut compiled = Vec::with_capacity(next.len());
        for c in next.values() {
            compiled.push(compile(c, &self.options.catalog)?);
        }
        self.challenges = compiled;
        self.stored = next;
        // Re-derive the changed challenges for every considered user.
        let changed: BTreeSet<&str> = changes
            .added
            .iter()
            .chain(&changes.edited)
            .map(String::as_str)
            .collect();
        let version = self.state.head;
        let subset: Vec<&Active> = self
            .challenges
            .iter()
            .filter(|c| c.plan.teams().is_empty() && changed.contains(c.plan.id()))
            .collect();
        let teams_changed: Vec<&Active> = self
            .challenges
            .iter()
            .filter(|c| !c.plan.teams().is_empty() && changed.contains(c.plan.id()))
            .collect();
        let teams: BTreeMap<String, u64> = team::named_teams(&self.challenges)
            .into_iter()
            .map(|t| (t.to_owned(), version))
            .collect();
        if self.options.global_stages {
            team::derive(&self.state, &teams_changed, &teams, None, &mut batch);
        }
        for user in self.state.considered_users() {
            let Some(clock) = self.state.clocks.get(&user) else {
                continue;
            };
            let record = self.state.user_record(&user);
            let workouts = self.state.workouts_of(&user);
            for c in subset.iter().filter(|c| c.for_user(&user)) {
                batch
                    .results
                    .push(ondemand::row(&c.plan, &record, workouts, clock, version));
            }
        }
        // Live rows: recompute whole for users with sessions under way.
        let open = self.state.open_users();
        for user in open {
            let input = UserInput::gather(&self.state, &user, false, version);
            let rows = ondemand::evaluate_user(&self.challenges, &input);
            batch.replace_live_of_users.push(user);
            batch.live.extend(rows.live);
        }
        rewards::issue(&self.challenges, &mut batch, &self.options.webhooks);
        self.store.commit(&batch)?;
        Ok(changes)
    }

    /// Adds or replaces one challenge of everyone (re-deriving its results for every
    /// considered user); the others stay as they are.
    pub fn put_challenge(&mut self, decl: &Challenge) -> Result<ChallengeChanges, PipelineError> {
        self.put_stored(stored(decl, None)?)
    }

    /// Adds or replaces a personal challenge: evaluated for `owner` alone (service.md,
    /// `recommend` with `assign`). A team challenge cannot be personal.
    pub fn assign_challenge(
        &mut self,
        decl: &Challenge,
        owner: &str,
    ) -> Result<ChallengeChanges, PipelineError> {
        if !decl.teams.is_empty() {
            return Err(PipelineError::Challenge(
                decl.id.to_string(),
                "a team challenge is evaluated for its teams and cannot be assigned to one user"
                    .to_owned(),
            ));
        }
        self.put_stored(stored(decl, Some(owner.to_owned()))?)
    }

    fn put_stored(&mut self, c: StoredChallenge) -> Result<ChallengeChanges, PipelineError> {
        let mut next = self.stored.clone();
        next.insert(c.id.clone(), c);
        self.apply_challenges(next)
    }

    /// Removes one challenge and its results; `Ok(false)` when there was none.
    pub fn delete_challenge(&mut self, id: &str) -> Result<bool, PipelineError> {
        let mut next = self.stored.clone();
        if next.remove(id).is_none() {
            return Ok(false);
        }
        self.apply_challenges(next)?;
        Ok(true)
    }

    /// The stored challenge `id` (its JSON tree and hash).
    pub fn stored_challenge(&self, id: &str) -> Option<&StoredChallenge> {
        self.stored.get(id)
    }

    /// Ingests a transport to its end, resuming after its committed offset. `progress` is called
    /// after every committed batch.
    ///
    /// The work overlaps across threads, each batch still being one transaction:
    ///
    /// ```text
    /// this thread:  read N+1 ── admit, save, evaluate N (partitions in parallel) ── send N ──┐
    /// parser:           validate N+1 (in parallel)                                           │
    /// writer:       commit N-1 (its offset included) ─────────────────────── commit N ◄──────┘
    /// ```
    ///
    /// Batches are committed one at a time and in order, by one writer; each commit writes
    /// exactly what the synchronous path ([`Engine::ingest_lines`]) writes for that batch.
    pub fn ingest<T: Transport>(
        &mut self,
        source: &mut T,
        mut progress: impl FnMut(&Progress),
    ) -> Result<Progress, PipelineError>
    where
        S: Send,
    {
        let key = format!("input:{}", source.key());
        let start = self.offsets.get(&key).copied().unwrap_or(0);
        source
            .skip(start)
            .map_err(|e| PipelineError::Io(source.key().to_owned(), e))?;
        let source_key = source.key().to_owned();
        let batch_lines = self.options.batch_lines;
        let feed = self.options.feed;
        let read = |source: &mut T| {
            source
                .next_chunk(batch_lines)
                .map_err(|e| PipelineError::Io(source.key().to_owned(), e))
        };
        let Engine {
            store,
            state,
            challenges,
            counters,
            offsets,
            options,
            ..
        } = self;
        let options: &Options = options;
        let challenges: &[Active] = challenges;
        let mut run = Counters::default();
        std::thread::scope(|scope| -> Result<(), PipelineError> {
            let (to_writer, batches) = mpsc::sync_channel::<Pending>(1);
            let (ack, acks) = mpsc::channel::<Ack>();
            let writer = scope.spawn(move || {
                for pending in batches {
                    let done = store
                        .commit(&pending.batch)
                        .map(|()| (pending.counters, pending.offset, pending.progress));
                    let failed = done.is_err();
                    // Dropping the batch here keeps its deallocation off the stages' thread.
                    drop(pending.batch);
                    if ack.send(done).is_err() || failed {
                        break;
                    }
                }
            });
            let mut on_ack = |done: Ack, run: &mut Counters| -> Result<(), PipelineError> {
                let (c, offset, p) = done?;
                run.add(&c);
                counters.add(&c);
                offsets.insert(key.clone(), offset);
                progress(&Progress {
                    read: run.read,
                    accepted: run.accepted,
                    duplicates: run.duplicates,
                    rejected: run.rejected,
                    ..p
                });
                Ok(())
            };
            let parse = |chunk: Chunk| {
                scope.spawn(move || {
                    let validated = stream::validate_chunk(&chunk);
                    (chunk, validated)
                })
            };
            let (mut sent, mut acked) = (0usize, 0usize);
            let mut result = Ok(());
            let mut next = read(source)?.map(|(chunk, offset)| (parse(chunk), offset));
            while let Some((parsing, offset)) = next.take() {
                let Ok((chunk, validated)) = parsing.join() else {
                    result = Err(PipelineError::Argument(
                        "the parser thread failed".to_owned(),
                    ));
                    break;
                };
                // Read and parse the next batch while this one goes through the stages.
                next = match read(source) {
                    Ok(n) => n.map(|(chunk, offset)| (parse(chunk), offset)),
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                };
                let mut batch = Batch::default();
                let mut dirty = Dirty::default();
                let c = admit_lines(
                    state,
                    &source_key,
                    chunk,
                    validated,
                    &mut batch,
                    &mut dirty,
                    feed,
                );
                derive(state, challenges, options, &mut dirty, &mut batch);
                batch.offsets.push((key.clone(), offset));
                batch.offsets.push(("views".to_owned(), state.head));
                batch.counters = c;
                let pending = Pending {
                    batch,
                    counters: c,
                    offset,
                    progress: progress_of(state, &Counters::default()),
                };
                if to_writer.send(pending).is_err() {
                    break;
                }
                sent += 1;
                while let Ok(done) = acks.try_recv() {
                    acked += 1;
                    result = on_ack(done, &mut run);
                    if result.is_err() {
                        break;
                    }
                }
                if result.is_err() {
                    break;
                }
            }
            // A batch being parsed when an error stopped the loop is dropped unread.
            if let Some((parsing, _)) = next {
                let _ = parsing.join();
            }
            drop(to_writer);
            while acked < sent {
                let Ok(done) = acks.recv() else {
                    break;
                };
                acked += 1;
                let r = on_ack(done, &mut run);
                if result.is_ok() {
                    result = r;
                }
            }
            if writer.join().is_err() && result.is_ok() {
                result = Err(PipelineError::Argument(
                    "the writer thread failed".to_owned(),
                ));
            }
            if result.is_ok() && acked < sent {
                result = Err(PipelineError::Argument(
                    "the writer stopped before committing every batch".to_owned(),
                ));
            }
            result
        })?;
        Ok(self.progress(&run))
    }

    /// One batch: validates, admits, saves, re-evaluates and commits `lines` of input `key`,
    /// with the input's offset set to `offset`.
    pub fn ingest_lines(
        &mut self,
        key: &str,
        source: &str,
        lines: &[Line],
        offset: u64,
    ) -> Result<Counters, PipelineError> {
        let chunk = Chunk::from_lines(lines);
        let validated = stream::validate_chunk(&chunk);
        let mut batch = Batch::default();
        let mut dirty = Dirty::default();
        let counters = admit_lines(
            &mut self.state,
            source,
            chunk,
            validated,
            &mut batch,
            &mut dirty,
            self.options.feed,
        );
        self.commit_admitted(batch, dirty, counters, vec![(key.to_owned(), offset)])?;
        Ok(counters)
    }

    /// One batch of several requests (the server gathers the ones that arrive together into
    /// one transaction): validates, admits, saves, re-evaluates and commits every chunk's
    /// lines, in order, as input `source`. Each chunk's lines are numbered within the chunk;
    /// its answer gives its own counts and rejections.
    pub fn ingest_requests(
        &mut self,
        source: &str,
        requests: Vec<Chunk>,
    ) -> Result<Vec<Admitted>, PipelineError> {
        let mut batch = Batch::default();
        let mut dirty = Dirty::default();
        let mut answers = Vec::with_capacity(requests.len());
        let mut total = Counters::default();
        for chunk in requests {
            let validated = stream::validate_chunk(&chunk);
            let first_rejection = batch.dead_letters.len();
            let counters = admit_lines(
                &mut self.state,
                source,
                chunk,
                validated,
                &mut batch,
                &mut dirty,
                self.options.feed,
            );
            total.add(&counters);
            answers.push(Admitted {
                counters,
                rejections: batch
                    .dead_letters
                    .get(first_rejection..)
                    .unwrap_or_default()
                    .iter()
                    .map(|d| (d.line, d.reason.clone()))
                    .collect(),
            });
        }
        self.commit_admitted(batch, dirty, total, Vec::new())?;
        Ok(answers)
    }

    /// One batch of chunks from several inputs (a scale-out worker's partition streams), each
    /// with its own source name for its dead letters, committed in one transaction with the
    /// inputs' `offsets` (so a batch and the offsets it consumed commit together).
    pub fn ingest_chunks(
        &mut self,
        chunks: Vec<(String, Chunk)>,
        offsets: Vec<(String, u64)>,
    ) -> Result<Counters, PipelineError> {
        let mut batch = Batch::default();
        let mut dirty = Dirty::default();
        let mut total = Counters::default();
        for (source, chunk) in chunks {
            let validated = stream::validate_chunk(&chunk);
            let counters = admit_lines(
                &mut self.state,
                &source,
                chunk,
                validated,
                &mut batch,
                &mut dirty,
                self.options.feed,
            );
            total.add(&counters);
        }
        self.commit_admitted(batch, dirty, total, offsets)?;
        Ok(total)
    }

    /// The end of every ingest batch: the stages over what `dirty` marks, then one commit of
    /// the batch with its `counters` and the inputs' `offsets` (and the views' head); the
    /// engine's counters and offsets follow the commit.
    fn commit_admitted(
        &mut self,
        mut batch: Batch,
        mut dirty: Dirty,
        counters: Counters,
        offsets: Vec<(String, u64)>,
    ) -> Result<(), PipelineError> {
        self.derive(&mut dirty, &mut batch);
        batch.offsets.clone_from(&offsets);
        batch.offsets.push(("views".to_owned(), self.state.head));
        batch.counters = counters;
        self.store.commit(&batch)?;
        self.counters.add(&counters);
        self.offsets.extend(offsets);
        Ok(())
    }

    /// The consumer offsets as of the last commit (as the store held them at start, and as this
    /// engine has set them since).
    pub fn offsets(&self) -> &BTreeMap<String, u64> {
        &self.offsets
    }

    /// The last log position (the head of the log).
    pub fn head(&self) -> u64 {
        self.state.head
    }

    /// The save and on-demand stages over what `dirty` marks, writing into `batch`.
    fn derive(&mut self, dirty: &mut Dirty, batch: &mut Batch) {
        derive(
            &mut self.state,
            &self.challenges,
            &self.options,
            dirty,
            batch,
        );
    }

    /// Restores a compacted session's workout (a source of truth) at log position `pos`.
    fn restore_compacted(
        &mut self,
        pos: u64,
        session: &str,
        json_text: &str,
        dirty: &mut Dirty,
        batch: Option<&mut Batch>,
    ) {
        let workout = serde_json::from_str::<serde_json::Value>(json_text)
            .ok()
            .and_then(|v| match v {
                serde_json::Value::Object(map) => records::parse_workout(&map).ok(),
                _ => None,
            });
        self.state.compacted.insert(session.to_owned());
        self.state.sessions.remove(session);
        let Some(workout) = workout else {
            return;
        };
        // An imported workout with the session's id keeps its place (they never merge).
        let shadowed = self.state.imported.contains_key(session);
        let mut batch = batch;
        if let Some(batch) = batch.as_deref_mut() {
            batch.put.push((
                "sessions",
                Row {
                    key: session.to_owned(),
                    user: Some(workout.user.clone()),
                    json: serde_json::json!({"session": session, "user": workout.user, "status": "saved"})
                        .to_string(),
                },
            ));
        }
        if shadowed {
            save::shadowed(&mut self.state, dirty, Some(&workout), pos);
        } else {
            save::put_workout(&mut self.state, dirty, session, Some(workout), pos, batch);
        }
    }

    /// Removes `user`'s record as of `ts` (a logged `user_delete`): the user leaves its groups
    /// and teams, and its results are re-derived without the record (a user with saved
    /// workouts stays considered). `Ok(false)` when there was no record to remove.
    pub fn delete_user(&mut self, user: &str, ts: &AsOf) -> Result<bool, PipelineError> {
        let had = self.state.users.contains_key(user);
        let pos = self.state.head + 1;
        let mut batch = Batch::default();
        batch.log.push(LogEntry {
            pos,
            kind: LogKind::UserDelete,
            session: None,
            body: user_delete_body(user, ts),
        });
        let mut dirty = Dirty::default();
        stream::delete_user(&mut self.state, pos, user, ts.time, &mut dirty);
        self.state.head = pos;
        self.derive(&mut dirty, &mut batch);
        batch.offsets.push(("views".to_owned(), pos));
        self.store.commit(&batch)?;
        Ok(had && !self.state.users.contains_key(user))
    }

    /// Whether the pipeline knows anything of `user` (a record, a deletion, sessions, workouts
    /// or a clock): what [`Engine::erase_user`] answers.
    pub fn knows_user(&self, user: &str) -> bool {
        self.state.users.contains_key(user)
            || self.state.deleted.contains_key(user)
            || self.state.superseded_users.contains_key(user)
            || self.state.clocks.contains_key(user)
            || self.state.by_user.get(user).is_some_and(|w| !w.is_empty())
            || self.state.sessions.values().any(|s| s.user() == Some(user))
    }

    /// Whether [`Engine::delete_user`] at `ts` would remove `user`'s record (there is one, and
    /// it is not newer than the deletion): what it answers.
    pub fn would_delete_user(&self, user: &str, ts: &AsOf) -> bool {
        self.state
            .users
            .get(user)
            .is_some_and(|c| c.upsert.ts <= ts.time)
    }

    /// Erases `user`: every event of its sessions, its records, imported workouts and
    /// deletions leave the log; its workouts, results, live rows, clock, profile, rewards
    /// (with the deliveries owed for them), rejected lines and leaderboard entries leave the
    /// views; its teams are re-derived without it and the leaderboards re-ranked, all in one
    /// transaction. The views are then those a rebuild from what is left gives (`verify`
    /// stays green). Then the engine reloads its state from the store. `Ok(false)` when the
    /// pipeline knew nothing of the user.
    pub fn erase_user(&mut self, user: &str) -> Result<bool, PipelineError> {
        let mut sessions: BTreeSet<String> = self
            .state
            .sessions
            .iter()
            .filter(|(_, s)| s.user() == Some(user))
            .map(|(id, _)| id.clone())
            .collect();
        let workouts = self.state.by_user.get(user).cloned().unwrap_or_default();
        sessions.extend(workouts.iter().map(|w| w.id.clone()));
        if !self.knows_user(user) {
            return Ok(false);
        }
        let mut batch = Batch::default();
        // The teams it was in, re-derived without it: what a rebuild gives.
        let teams: BTreeMap<String, u64> = self
            .state
            .users
            .get(user)
            .map(|e| e.user().groups.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|g| (g, self.state.head))
            .collect();
        self.state.remove_user(user);
        self.state.clocks.remove(user);
        self.state.by_user.remove(user);
        for w in &workouts {
            self.state.workouts.remove(&w.id);
        }
        if self.options.global_stages {
            if !teams.is_empty() {
                let all: Vec<&Active> = self.challenges.iter().collect();
                team::derive(&self.state, &all, &teams, None, &mut batch);
            }
            batch.leaderboards = Some(self.leaderboards_without(user)?);
        }
        // The user's personal challenges go with the user.
        for c in self.stored.values() {
            if c.owner.as_deref() == Some(user) {
                batch.delete_challenges.push(c.id.clone());
                batch.drop_challenges.push(c.id.clone());
            }
        }
        batch.erase = Some(Erasure {
            user: user.to_owned(),
            sessions: sessions.into_iter().collect(),
        });
        let committed = self.store.commit(&batch);
        // Reload either way: on success the state is the store's, on failure nothing of the
        // erasure was committed and the state edited above is thrown away.
        self.load()?;
        committed?;
        Ok(true)
    }

    /// The stored leaderboards without `user`'s entries, re-ranked (no one else's total moves,
    /// so this is the board the last tick would have made without the user).
    fn leaderboards_without(&mut self, user: &str) -> Result<Vec<Row>, PipelineError> {
        let entries = self.store.query("leaderboards", None, None)?;
        Ok(periodic::rank_entries(entries, Some(user)))
    }

    /// The periodic job as of `at`: appends a tick to the log and re-derives profiles, the
    /// month's leaderboards (in `timezone`) and every result as of `at`.
    pub fn tick(&mut self, at: &AsOf, timezone: &str) -> Result<(), PipelineError> {
        self.tick_with_offsets(at, timezone, Vec::new())
    }

    /// [`Engine::tick`], committing the inputs' `offsets` in the tick's transaction (a
    /// scale-out worker's partition streams, each of which carried the tick).
    pub fn tick_with_offsets(
        &mut self,
        at: &AsOf,
        timezone: &str,
        offsets: Vec<(String, u64)>,
    ) -> Result<(), PipelineError> {
        let pos = self.state.head + 1;
        let body = tick_body(&at.text, timezone);
        let mut batch = Batch::default();
        batch.log.push(LogEntry {
            pos,
            kind: LogKind::Tick,
            session: None,
            body,
        });
        self.apply_tick(pos, at, timezone, &mut batch)?;
        batch.offsets.extend(offsets);
        self.store.commit(&batch)?;
        for (key, offset) in &batch.offsets {
            self.offsets.insert(key.clone(), *offset);
        }
        Ok(())
    }

    fn apply_tick(
        &mut self,
        pos: u64,
        at: &AsOf,
        timezone: &str,
        batch: &mut Batch,
    ) -> Result<(), PipelineError> {
        let tz =
            rules_core::leaderboard::parse_timezone(timezone).map_err(PipelineError::Argument)?;
        self.state.head = pos;
        let ids = self.state.considered_users();
        let users: Vec<_> = ids.iter().map(|u| self.state.user_record(u)).collect();
        let workouts = self.state.all_workouts();
        let views = periodic::tick(
            &self.challenges,
            &self.options.catalog,
            &users,
            &workouts,
            at,
            tz,
            pos,
        );
        for user in &ids {
            self.state.clocks.insert(user.clone(), at.clone());
            batch.clocks.push((user.clone(), at.text.clone()));
        }
        batch.results.extend(views.results);
        // Every team as of T.
        self.state.last_tick = Some(at.clone());
        let teams: BTreeMap<String, u64> = team::named_teams(&self.challenges)
            .into_iter()
            .map(|t| (t.to_owned(), pos))
            .collect();
        if self.options.global_stages {
            let all: Vec<&Active> = self.challenges.iter().collect();
            team::derive(&self.state, &all, &teams, Some(at), batch);
        }
        batch.profiles = Some(views.profiles);
        batch.leaderboards = Some(views.leaderboards);
        let open = self.state.open_users();
        for user in open {
            let input = UserInput::gather(&self.state, &user, false, pos);
            let rows = ondemand::evaluate_user(&self.challenges, &input);
            batch.replace_live_of_users.push(user);
            batch.live.extend(rows.live);
        }
        rewards::issue(&self.challenges, batch, &self.options.webhooks);
        batch.offsets.push(("views".to_owned(), pos));
        Ok(())
    }

    /// Re-derives every view from the sources of truth (the log, the compacted workouts and
    /// the challenges), in place.
    pub fn rebuild(&mut self, progress: &mut dyn FnMut(Step)) -> Result<(), PipelineError> {
        let snapshot = self.store.snapshot()?;
        self.store.clear_views()?;
        self.state = State::default();
        let mut batch = Batch::default();
        let mut dirty = Dirty::default();
        let mut pending = 0usize;
        for (from, to) in pages(snapshot.head) {
            progress(Step {
                what: "replaying",
                done: from,
                total: snapshot.head,
            });
            let page = self.store.sources(from, to)?;
            self.replay_page(page, &mut batch, &mut dirty, &mut pending)?;
        }
        self.flush(&mut dirty, &mut batch)
    }

    /// [`Engine::rebuild`]'s replay of one page of the sources of truth.
    fn replay_page(
        &mut self,
        page: SourcePage,
        batch: &mut Batch,
        dirty: &mut Dirty,
        pending: &mut usize,
    ) -> Result<(), PipelineError> {
        for message in replay_messages(page) {
            match message {
                Replay::Event(pos, body) => {
                    if let Ok(event) = session::parse_event_line(&body) {
                        stream::admit(&mut self.state, pos, event, dirty);
                    }
                    self.state.head = self.state.head.max(pos);
                    *pending += 1;
                }
                Replay::Workout(pos, session, json) => {
                    self.restore_compacted(pos, &session, &json, dirty, Some(batch));
                    self.state.head = self.state.head.max(pos);
                    *pending += 1;
                }
                Replay::UserDelete(pos, body) => {
                    if let Some((user, ts)) = parse_user_delete(&body) {
                        stream::delete_user(&mut self.state, pos, &user, ts, dirty);
                    }
                    self.state.head = self.state.head.max(pos);
                    *pending += 1;
                }
                Replay::Tick(pos, body) => {
                    self.flush(dirty, batch)?;
                    *pending = 0;
                    let (at, tz) = parse_tick(&body).ok_or_else(|| {
                        PipelineError::Argument(format!("bad tick in the log at {pos}"))
                    })?;
                    self.apply_tick(pos, &at, &tz, batch)?;
                    self.store.commit(&std::mem::take(batch))?;
                }
            }
            if *pending >= self.options.batch_lines {
                self.flush(dirty, batch)?;
                *pending = 0;
            }
        }
        Ok(())
    }

    fn flush(&mut self, dirty: &mut Dirty, batch: &mut Batch) -> Result<(), PipelineError> {
        self.derive(dirty, batch);
        batch.offsets.push(("views".to_owned(), self.state.head));
        self.store.commit(&std::mem::take(batch))?;
        Ok(())
    }

    /// Purges the raw events of sessions whose workout ended before `before`; their workouts
    /// stay as sources of truth (replayed at the position of their last event).
    ///
    /// Three phases, each a series of short transactions, so that a long compaction never
    /// holds one giant transaction and an interruption anywhere leaves a consistent file:
    /// 1. the workouts of [`COMPACT_SESSIONS`] sessions at a time become sources of truth;
    /// 2. the log is walked one page of positions at a time, deleting the events of compacted
    ///    sessions (a range of the primary key, one lookup per row: linear in the log);
    /// 3. the freed pages go back to the file system, [`RECLAIM_PAGES`] at a time.
    ///
    /// Interrupted after phase 1, a session is compacted with some events left: a replay
    /// admits them, then restores the workout at its position (the same views), and the next
    /// compaction purges them, since phase 2 looks at every compacted session.
    pub fn compact(
        &mut self,
        before: DateTime<FixedOffset>,
        progress: &mut dyn FnMut(Step),
    ) -> Result<CompactSummary, PipelineError> {
        // The sessions' own workouts (not an imported workout that holds the same id).
        let mut done: Vec<(String, rules_core::records::Workout)> = self
            .state
            .sessions
            .iter()
            .filter_map(|(id, s)| Some((id.clone(), s.workout().filter(|w| w.end < before)?)))
            .collect();
        done.sort_by(|a, b| a.0.cmp(&b.0));
        let total = done.len() as u64;
        for (i, chunk) in done.chunks(COMPACT_SESSIONS).enumerate() {
            progress(Step {
                what: "compacting",
                done: (i * COMPACT_SESSIONS) as u64,
                total,
            });
            let mut batch = Batch::default();
            for (id, workout) in chunk {
                let pos = self
                    .state
                    .session_pos
                    .get(id)
                    .copied()
                    .unwrap_or(self.state.head);
                batch.compacted.push((
                    id.clone(),
                    CompactedWorkout {
                        pos,
                        json: serde_json::to_string(workout).unwrap_or_default(),
                    },
                ));
            }
            self.store.commit(&batch)?;
            for (id, _) in chunk {
                self.state.sessions.remove(id);
                self.state.compacted.insert(id.clone());
            }
        }
        let head = self.state.head;
        for (from, to) in pages(head) {
            progress(Step {
                what: "purging",
                done: from,
                total: head,
            });
            self.store.commit(&Batch {
                purge_compacted: Some((from, to)),
                ..Batch::default()
            })?;
        }
        let mut steps = 0;
        while self.store.reclaim(RECLAIM_PAGES)? {
            steps += 1;
            progress(Step {
                what: "reclaiming",
                done: steps * u64::from(RECLAIM_PAGES),
                total: 0,
            });
        }
        Ok(CompactSummary { sessions: total })
    }

    /// Every team result row of the current state as the team stage would write it (tests).
    pub fn expected_team_results(&self) -> Vec<ResultRow> {
        let all: Vec<&Active> = self.challenges.iter().collect();
        let mut out = Vec::new();
        for t in team::named_teams(&self.challenges) {
            out.extend(team::evaluate(&self.state, &all, t, None, 0).rows);
        }
        out.sort_by(|a, b| (&a.challenge, &a.user).cmp(&(&b.challenge, &b.user)));
        out
    }

    /// Every result row of the current state as the on-demand stage would write it (tests).
    pub fn expected_results(&self) -> Vec<ResultRow> {
        let mut out = Vec::new();
        for user in self.state.considered_users() {
            let input = UserInput::gather(&self.state, &user, true, 0);
            if let Some(rows) = ondemand::evaluate_user(&self.challenges, &input).results {
                out.extend(rows);
            }
        }
        out
    }
}

/// A batch on its way to the writer, with what to report once it is committed.
struct Pending {
    batch: Batch,
    counters: Counters,
    offset: u64,
    progress: Progress,
}

/// What the writer acknowledges: a batch committed (its counters, offset and progress).
type Ack = Result<(Counters, u64, Progress), StoreError>;

fn progress_of(state: &State, run: &Counters) -> Progress {
    Progress {
        read: run.read,
        accepted: run.accepted,
        duplicates: run.duplicates,
        rejected: run.rejected,
        sessions: state.sessions.len() as u64 + state.compacted.len() as u64,
        workouts: state.workouts.len() as u64,
    }
}

/// The stream stage over one batch of validated lines, in input order: new events are
/// appended to the log (in `batch`, as spans of the chunk's text), rejections become dead
/// letters.
fn admit_lines(
    state: &mut State,
    source: &str,
    chunk: Chunk,
    validated: Vec<Result<session::SensorEvent, String>>,
    batch: &mut Batch,
    dirty: &mut Dirty,
    feed: bool,
) -> Counters {
    let mut counters = Counters::default();
    let Chunk { text, mut lines } = chunk;
    // A batch may gather several chunks (the server's concurrent requests): each chunk's text
    // is appended, and its lines' ranges move with it.
    if batch.log_text.is_empty() {
        batch.log_text = text;
    } else {
        let shift = batch.log_text.len();
        batch.log_text.push_str(&text);
        for line in &mut lines {
            line.start += shift;
            line.end += shift;
        }
    }
    // Room for the session ids, appended after the lines.
    batch.log_text.reserve(lines.len() * 16);
    batch.log_spans.reserve(lines.len());
    let reject = |batch: &mut Batch, reason: String, line: &ChunkLine| {
        let raw = batch
            .log_text
            .get(line.start..line.end)
            .unwrap_or_default()
            .to_owned();
        batch.dead_letters.push(DeadLetter {
            source: source.to_owned(),
            line: line.number,
            reason,
            raw,
        });
    };
    for (line, result) in lines.iter().zip(validated) {
        counters.read += 1;
        match result {
            Err(reason) => {
                counters.rejected += 1;
                reject(batch, reason, line);
            }
            Ok(event) => {
                let pos = state.head + 1;
                let session = event.session().map(|s| {
                    let start = batch.log_text.len();
                    batch.log_text.push_str(s);
                    start..batch.log_text.len()
                });
                match stream::admit(state, pos, event, dirty) {
                    Admission::New => {
                        state.head = pos;
                        counters.accepted += 1;
                        if feed {
                            let user = session
                                .as_ref()
                                .and_then(|r| batch.log_text.get(r.clone()))
                                .and_then(|s| state.sessions.get(s))
                                .and_then(|s| s.user());
                            if let Some(user) = user {
                                let i = batch.log_spans.len();
                                batch.sensor.events.push((i, user.to_owned()));
                            }
                        }
                        batch.log_spans.push(LogSpan {
                            pos,
                            body: line.start..line.end,
                            session,
                        });
                    }
                    Admission::Duplicate => {
                        counters.accepted += 1;
                        counters.duplicates += 1;
                    }
                    Admission::Conflict => {
                        counters.rejected += 1;
                        reject(batch, CONFLICT_REASON.to_owned(), line);
                    }
                    Admission::Compacted => {
                        counters.rejected += 1;
                        reject(batch, COMPACTED_REASON.to_owned(), line);
                    }
                }
            }
        }
    }
    counters
}

/// The save, on-demand and team stages over what `dirty` marks, writing into `batch` with the
/// rewards its results earn.
fn derive(
    state: &mut State,
    challenges: &[Active],
    options: &Options,
    dirty: &mut Dirty,
    batch: &mut Batch,
) {
    save::save(state, dirty, Some(batch));
    for id in std::mem::take(&mut dirty.user_records) {
        match state.users.get(&id) {
            Some(entry) => batch.put.push((
                "users",
                Row {
                    key: id.clone(),
                    user: Some(id.clone()),
                    json: serde_json::to_string(entry.user()).unwrap_or_default(),
                },
            )),
            None => batch.delete.push(("users", id)),
        }
    }
    let users = std::mem::take(&mut dirty.users);
    for (user, d) in &users {
        if d.results {
            if let Some(clock) = state.clocks.get(user) {
                batch.clocks.push((user.clone(), clock.text.clone()));
            }
        }
    }
    for rows in evaluate(state, challenges, options.partitions, &users) {
        let d = users.get(&rows.user).copied().unwrap_or_default();
        if d.results {
            match rows.results {
                Some(results) => batch.results.extend(results),
                None => batch.drop_results_of_users.push(rows.user.clone()),
            }
        }
        batch.replace_live_of_users.push(rows.user);
        batch.live.extend(rows.live);
    }
    // The team stage, after the member stages: every team a member's change touched.
    let touched = std::mem::take(&mut dirty.teams);
    let teams = if options.global_stages {
        team::touched(
            state,
            touched,
            users
                .iter()
                .filter(|(_, d)| d.results)
                .map(|(u, d)| (u.as_str(), d.version)),
        )
    } else {
        BTreeMap::new()
    };
    if !teams.is_empty() {
        let all: Vec<&Active> = challenges.iter().collect();
        team::derive(state, &all, &teams, None, batch);
    }
    rewards::issue(challenges, batch, &options.webhooks);
}

/// Routes the dirty users to partitions and evaluates the partitions in parallel: each
/// partition is one task, whose users one worker evaluates in order.
fn evaluate(
    state: &State,
    challenges: &[Active],
    partitions: u32,
    users: &BTreeMap<String, DirtyUser>,
) -> Vec<UserRows> {
    let n = partitions.max(1);
    let mut parts: Vec<Vec<(&str, DirtyUser)>> = (0..n).map(|_| Vec::new()).collect();
    for (user, d) in users {
        let p = partition::partition_of(user, n) as usize;
        if let Some(part) = parts.get_mut(p) {
            part.push((user.as_str(), *d));
        }
    }
    let run = |part: &Vec<(&str, DirtyUser)>| -> Vec<UserRows> {
        part.iter()
            .map(|(user, d)| {
                let input = UserInput::gather(state, user, d.results, d.version);
                ondemand::evaluate_user(challenges, &input)
            })
            .collect()
    };
    let busy: Vec<&Vec<(&str, DirtyUser)>> = parts.iter().filter(|p| !p.is_empty()).collect();
    if busy.len() <= 1 {
        return busy.into_iter().flat_map(run).collect();
    }
    busy.into_par_iter().map(run).flatten_iter().collect()
}

/// The body of a tick's log entry (and of a scale-out tick message):
/// `{"type": "tick", "at", "timezone"}`.
pub fn tick_body(at: &str, timezone: &str) -> String {
    serde_json::json!({"type": "tick", "at": at, "timezone": timezone}).to_string()
}

/// The body of a `user_delete` log entry: `{"type": "user_delete", "ts", "user"}`.
fn user_delete_body(user: &str, ts: &AsOf) -> String {
    serde_json::json!({"type": "user_delete", "ts": ts.text, "user": user}).to_string()
}

fn parse_user_delete(body: &str) -> Option<(String, DateTime<FixedOffset>)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let ts = AsOf::parse(v.get("ts")?.as_str()?)?.time;
    Some((v.get("user")?.as_str()?.to_owned(), ts))
}

/// A logged or published tick's time and timezone (the body [`tick_body`] makes).
pub fn parse_tick(body: &str) -> Option<(AsOf, String)> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let at = AsOf::parse(v.get("at")?.as_str()?)?;
    let tz = v.get("timezone")?.as_str()?.to_owned();
    Some((at, tz))
}

/// A page of the log and the compacted workouts as one sequence of messages in position
/// order (a compacted workout replays at its session's last position, after that event when
/// a compaction was interrupted before purging it).
fn replay_messages(page: SourcePage) -> Vec<Replay> {
    let SourcePage { log, compacted } = page;
    let mut out: Vec<Replay> = log
        .into_iter()
        .map(|e| match e.kind {
            LogKind::Event => Replay::Event(e.pos, e.body),
            LogKind::Tick => Replay::Tick(e.pos, e.body),
            LogKind::UserDelete => Replay::UserDelete(e.pos, e.body),
        })
        .collect();
    out.extend(
        compacted
            .into_iter()
            .map(|(session, c)| Replay::Workout(c.pos, session, c.json)),
    );
    let key = |m: &Replay| match m {
        Replay::Event(p, ..) | Replay::UserDelete(p, _) => (*p, 0u8),
        Replay::Workout(p, ..) => (*p, 1),
        Replay::Tick(p, _) => (*p, 2),
    };
    out.sort_by_key(key);
    out
}
