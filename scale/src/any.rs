//! [`AnyStore`]: the embedded SQLite file or a PostgreSQL database, chosen by what `--db`
//! names, behind one [`Store`] so that `challenge pipeline` runs the same engine on either.

use std::collections::BTreeMap;
use std::path::Path;

use pipeline::sqlite::SqliteStore;
use pipeline::store::{Batch, Delivery, Snapshot, SourcePage, Store, StoreError};

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
