//! `challenge pipeline verify|rebuild --db postgres://...` on a partitioned scale-out store:
//! every partition's log replayed by an engine of its own, as the workers derive it, then the
//! stages the reducer runs (team rows, the merged boards).
//!
//! - [`verify`] rebuilds into one scratch store and compares its views with the stored ones by
//!   content hash;
//! - [`rebuild`] re-derives the stored views in place (the workers stopped).
//!
//! A store that is not partitioned (written by `challenge pipeline` on PostgreSQL) is verified
//! and rebuilt as a SQLite file is.

use std::collections::BTreeMap;

use pipeline::engine::{compile, Engine, Options, PipelineError, Step};
use pipeline::ondemand::Active;
use pipeline::state::State;
use pipeline::store::{
    Batch, Delivery, Row, Snapshot, SourcePage, Store, StoreError, StoredChallenge,
};
use pipeline::verify::ViewCheck;
use pipeline::{periodic, rewards, team, SqliteStore};

use crate::postgres::PgStore;
use crate::AnyStore;

/// Rebuilds `store`'s views from its sources of truth into a scratch store and compares them,
/// one partition at a time on a partitioned store.
pub fn verify(
    store: &mut AnyStore,
    options: Options,
    progress: &mut dyn FnMut(Step),
) -> Result<Vec<ViewCheck>, PipelineError> {
    let AnyStore::Postgres(pg) = store else {
        return pipeline::verify::verify(store, options, progress);
    };
    let Some(partitions) = pg.partitions()? else {
        return pipeline::verify::verify(store, options, progress);
    };
    let url = pg.url().to_owned();
    let mut scratch = SqliteStore::memory()?;
    let challenges = pg.stored_challenges()?;
    scratch.commit(&Batch {
        put_challenges: challenges.clone(),
        ..Batch::default()
    })?;
    let mut merged = State::default();
    let mut profiles = Vec::new();
    let mut parts = Vec::new();
    let options = partition_options(options);
    for p in 0..partitions {
        let shadow = Shadow {
            source: PgStore::connect_partition(&url, p)?,
            scratch: &mut scratch,
            profiles: Vec::new(),
            boards: Vec::new(),
        };
        let mut engine = Engine::open(shadow, options.clone())?;
        engine.rebuild(progress)?;
        merge(&mut merged, engine.state());
        let shadow = engine.into_store();
        profiles.extend(shadow.profiles);
        parts.extend(shadow.boards.into_iter().map(|r| r.json));
    }
    let mut batch = reduce(&merged, &challenges, &options, parts)?;
    batch.profiles = Some(profiles);
    scratch.commit(&batch)?;
    let rebuilt = scratch.view_hashes()?;
    Ok(pipeline::verify::compare(pg.view_hashes()?, &rebuilt))
}

/// Re-derives the views of every partition of the store at `url` in place, then the reducer's
/// stages. The workers must be stopped (a live one is refused: its engines would keep
/// committing over the rebuilt views). A store that is not partitioned is rebuilt as a file
/// is.
pub fn rebuild(
    store: AnyStore,
    options: Options,
    progress: &mut dyn FnMut(Step),
) -> Result<(), PipelineError> {
    let mut store = store;
    let (mut pg, partitions) = match store.partitions()? {
        Some(n) => match store {
            AnyStore::Postgres(pg) => (pg, n),
            other => return Engine::open(other, options)?.rebuild(progress),
        },
        None => return Engine::open(store, options)?.rebuild(progress),
    };
    let live = pg.live_workers()?;
    if live > 0 {
        return Err(PipelineError::Argument(format!(
            "{live} worker(s) are running on `{}`: stop them before a rebuild \
             (docs/scale-out.md, \"Rebuilding a view\")",
            pg.name()
        )));
    }
    let url = pg.url().to_owned();
    let challenges = pg.stored_challenges()?;
    pg.clear_views()?;
    let options = partition_options(options);
    let mut merged = State::default();
    for p in 0..partitions {
        let part = PgStore::connect_partition(&url, p)?;
        let mut engine = Engine::open(part, options.clone())?;
        engine.rebuild(progress)?;
        merge(&mut merged, engine.state());
    }
    let parts = pg.board_parts()?;
    let batch = reduce(&merged, &challenges, &options, parts)?;
    pg.commit(&batch)?;
    Ok(())
}

/// The options of a partition's engine: the stages that read across partitions are the
/// reducer's, and nobody follows a replay's changes.
fn partition_options(options: Options) -> Options {
    Options {
        global_stages: false,
        feed: false,
        ..options
    }
}

/// The reducer's stages over every partition's users: the team rows of every named team and
/// the partitions' parts of the boards merged.
fn reduce(
    merged: &State,
    challenges: &[StoredChallenge],
    options: &Options,
    parts: Vec<String>,
) -> Result<Batch, PipelineError> {
    let actives: Vec<Active> = challenges
        .iter()
        .map(|c| compile(c, &options.catalog))
        .collect::<Result<_, _>>()?;
    let all: Vec<&Active> = actives.iter().collect();
    let teams: BTreeMap<String, u64> = team::named_teams(&actives)
        .into_iter()
        .map(|t| (t.to_owned(), 1))
        .collect();
    let mut batch = Batch {
        leaderboards: Some(periodic::rank_entries(parts, None)),
        ..Batch::default()
    };
    team::derive(merged, &all, &teams, None, &mut batch);
    rewards::issue(&actives, &mut batch, &options.webhooks);
    Ok(batch)
}

/// Adds a partition's users, workouts and clocks to `merged` (the team stage's input).
fn merge(merged: &mut State, part: &State) {
    for entry in part.users.values() {
        merged.put_user(entry.clone());
    }
    for workouts in part.by_user.values() {
        for w in workouts {
            merged.index_workout(w);
        }
    }
    merged
        .clocks
        .extend(part.clocks.iter().map(|(u, c)| (u.clone(), c.clone())));
    if merged.last_tick.is_none() {
        merged.last_tick.clone_from(&part.last_tick);
    }
}

/// A partition's store for a rebuild: its sources of truth from PostgreSQL, its views into the
/// shared scratch store, except the profiles and boards, which every tick replaces for the
/// partition alone and which are kept here (the last ones) to be merged.
struct Shadow<'a> {
    source: PgStore,
    scratch: &'a mut SqliteStore,
    profiles: Vec<Row>,
    boards: Vec<Row>,
}

impl Store for Shadow<'_> {
    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        self.source.snapshot()
    }

    fn sources(&mut self, from: u64, to: u64) -> Result<SourcePage, StoreError> {
        self.source.sources(from, to)
    }

    fn reclaim(&mut self, _pages: u32) -> Result<bool, StoreError> {
        Ok(false)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        if batch.profiles.is_none() && batch.leaderboards.is_none() {
            return self.scratch.commit(batch);
        }
        let mut batch = batch.clone();
        if let Some(rows) = batch.profiles.take() {
            self.profiles = rows;
        }
        if let Some(rows) = batch.leaderboards.take() {
            self.boards = rows;
        }
        self.scratch.commit(&batch)
    }

    fn clear_views(&mut self) -> Result<(), StoreError> {
        // The scratch store starts empty; the partitions fill it in turn.
        Ok(())
    }

    fn query(
        &mut self,
        view: &str,
        user: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.scratch.query(view, user, challenge)
    }

    fn view_hashes(&mut self) -> Result<BTreeMap<String, String>, StoreError> {
        self.scratch.view_hashes()
    }

    fn counts(&mut self) -> Result<BTreeMap<String, u64>, StoreError> {
        self.scratch.counts()
    }

    fn owed_deliveries(&mut self, due_by: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        self.scratch.owed_deliveries(due_by, limit)
    }

    fn delivered(&mut self, id: i64) -> Result<(), StoreError> {
        self.scratch.delivered(id)
    }

    fn delivery_failed(&mut self, id: i64, next_at: i64) -> Result<(), StoreError> {
        self.scratch.delivery_failed(id, next_at)
    }
}
