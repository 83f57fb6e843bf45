//! [`AnyStore`]: the embedded SQLite file or a PostgreSQL database, chosen by what `--db`
//! names, behind one [`Store`] so that `challenge pipeline` runs the same engine on either.

use std::collections::BTreeMap;
use std::path::Path;

use pipeline::feed::Committed;
use pipeline::sqlite::SqliteStore;
use pipeline::store::{Batch, Delivery, Snapshot, SourcePage, Store, StoreError, StoredChallenge};

use crate::postgres::{self, PgStore};

/// A SQLite file or a PostgreSQL database.
pub enum AnyStore {
    /// The embedded store.
    Sqlite(SqliteStore),
    /// A PostgreSQL database.
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens `db`: a `postgres://` URL or a SQLite file. As its one writer when `owner` (a
    /// file lock on SQLite, a session advisory lock on PostgreSQL): a second writer gets
    /// [`StoreError::Owned`].
    pub fn open(db: &str, owner: bool) -> Result<AnyStore, StoreError> {
        if postgres::is_url(db) {
            let mut store = PgStore::connect(db)?;
            if owner {
                store.own()?;
            }
            return Ok(AnyStore::Postgres(store));
        }
        let path = Path::new(db);
        Ok(AnyStore::Sqlite(if owner {
            SqliteStore::open_owner(path)?
        } else {
            SqliteStore::open(path)?
        }))
    }
}

impl AnyStore {
    /// Partition `part` of the scale-out store at `url` (a PostgreSQL URL).
    pub fn open_partition(url: &str, part: u32) -> Result<AnyStore, StoreError> {
        Ok(AnyStore::Postgres(PgStore::connect_partition(url, part)?))
    }

    /// The partition count of a partitioned scale-out store; `None` for any other store.
    pub fn partitions(&mut self) -> Result<Option<u32>, StoreError> {
        match self {
            AnyStore::Sqlite(_) => Ok(None),
            AnyStore::Postgres(pg) => pg.partitions(),
        }
    }

    /// Opens `db` for reading beside a writer (the server's readers): a SQLite file read-only,
    /// or a connection to a PostgreSQL database.
    pub fn open_reader(db: &str) -> Result<AnyStore, StoreError> {
        if postgres::is_url(db) {
            return Ok(AnyStore::Postgres(PgStore::connect(db)?));
        }
        Ok(AnyStore::Sqlite(SqliteStore::open_reader(Path::new(db))?))
    }

    /// The stored challenges (id, JSON tree, hash), by id.
    pub fn stored_challenges(&mut self) -> Result<Vec<StoredChallenge>, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.stored_challenges(),
            AnyStore::Postgres(s) => s.stored_challenges(),
        }
    }

    /// The webhook deliveries owed.
    pub fn deliveries_owed(&mut self) -> Result<u64, StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.deliveries_owed(),
            AnyStore::Postgres(s) => s.deliveries_owed(),
        }
    }

    /// The oldest and newest sequence numbers of the change outbox (0, 0 when empty).
    pub fn change_bounds(&mut self) -> Result<(u64, u64), StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.change_bounds(),
            AnyStore::Postgres(s) => s.change_bounds(),
        }
    }

    /// The outbox changes after `after` (see [`SqliteStore::changes_after`]).
    pub fn changes_after(
        &mut self,
        after: u64,
        limit: u64,
    ) -> Result<(Vec<Committed>, u64), StoreError> {
        match self {
            AnyStore::Sqlite(s) => s.changes_after(after, limit),
            AnyStore::Postgres(s) => s.changes_after(after, limit),
        }
    }
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl Store for AnyStore {
    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        each!(self, s => s.snapshot())
    }
    fn sources(&mut self, from: u64, to: u64) -> Result<SourcePage, StoreError> {
        each!(self, s => s.sources(from, to))
    }
    fn reclaim(&mut self, pages: u32) -> Result<bool, StoreError> {
        each!(self, s => s.reclaim(pages))
    }
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        each!(self, s => s.commit(batch))
    }
    fn clear_views(&mut self) -> Result<(), StoreError> {
        each!(self, s => s.clear_views())
    }
    fn query(
        &mut self,
        view: &str,
        user: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        each!(self, s => s.query(view, user, challenge))
    }
    fn view_hashes(&mut self) -> Result<BTreeMap<String, String>, StoreError> {
        each!(self, s => s.view_hashes())
    }
    fn counts(&mut self) -> Result<BTreeMap<String, u64>, StoreError> {
        each!(self, s => s.counts())
    }
    fn owed_deliveries(&mut self, due_by: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        each!(self, s => s.owed_deliveries(due_by, limit))
    }
    fn delivered(&mut self, id: i64) -> Result<(), StoreError> {
        each!(self, s => s.delivered(id))
    }
    fn delivery_failed(&mut self, id: i64, next_at: i64) -> Result<(), StoreError> {
        each!(self, s => s.delivery_failed(id, next_at))
    }
}
