//! `challenge pipeline verify --db postgres://...` on a partitioned scale-out store: every
//! partition's log rebuilt by an engine of its own, as the workers derive it, then the stages
//! the reducer runs (team rows, the merged boards), into one scratch store whose views are
//! compared with the stored ones by content hash.
//!
//! A store that is not partitioned (written by `challenge pipeline` on PostgreSQL) is verified
//! as a SQLite file is ([`pipeline::verify::verify`]).

use std::collections::BTreeMap;

use pipeline::engine::{compile, Engine, Options, PipelineError, Step};
use pipeline::ondemand::Active;
use pipeline::state::State;
use pipeline::store::{Batch, Delivery, Row, Snapshot, SourcePage, Store, StoreError};
use pipeline::verify::ViewCheck;
use pipeline::{periodic, team, SqliteStore};

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
    for p in 0..partitions {
        let shadow = Shadow {
            source: PgStore::connect_partition(&url, p)?,
            scratch: &mut scratch,
            profiles: Vec::new(),
            boards: Vec::new(),
        };
        let mut engine = Engine::open(
            shadow,
            Options {
                global_stages: false,
                feed: false,
                ..options.clone()
            },
        )?;
        engine.rebuild(progress)?;
        merge(&mut merged, engine.state());
        let shadow = engine.into_store();
        profiles.extend(shadow.profiles);
        parts.extend(shadow.boards.into_iter().map(|r| r.json));
    }
    // The reducer's stages, over every partition's users.
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
        profiles: Some(profiles),
        leaderboards: Some(periodic::rank_entries(parts, None)),
        ..Batch::default()
    };
    team::derive(&merged, &all, &teams, None, &mut batch);
    scratch.commit(&batch)?;
    let rebuilt = scratch.view_hashes()?;
    let stored = pg.view_hashes()?;
    Ok(stored
        .into_iter()
        .map(|(view, stored)| {
            let rebuilt = rebuilt.get(&view).cloned().unwrap_or_default();
            ViewCheck {
                equal: stored == rebuilt,
                view,
                stored,
                rebuilt,
            }
        })
        .collect())
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
