//! The embedded default store: one SQLite file (WAL) holding the log, the derived views, the
//! dead letters and the consumer offsets.
//!
//! Durability trade-off: the file runs in WAL mode with `synchronous=NORMAL`. Each batch is one
//! transaction; a commit is atomic and survives a crash of the process (SIGKILL included)
//! because the WAL is written before the commit returns. After a power loss or an OS crash the
//! last few batches may roll back (the WAL is synced at checkpoints, not at every commit), but
//! the file is never corrupt and never half-applies a batch; re-ingesting the input from the
//! committed offsets restores them. `synchronous=FULL` would sync at every commit, at a cost of
//! one fsync per batch.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use rusqlite::hooks::Wal;
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use sha2::{Digest, Sha256};

use crate::feed::{self, Committed};
use crate::store::{
    Batch, CompactedWorkout, Counters, Delivery, Erasure, LogEntry, LogKind, Snapshot, SourcePage,
    Store, StoreError, StoredChallenge, TABLES,
};

/// Keyed views: one row per key, with the user it is about.
const KEYED: [&str; 5] = ["workouts", "users", "sessions", "profiles", "leaderboards"];

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS log(pos INTEGER PRIMARY KEY, kind TEXT NOT NULL, session TEXT, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS compacted(session TEXT PRIMARY KEY, pos INTEGER NOT NULL, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dead_letters(id INTEGER PRIMARY KEY, source TEXT NOT NULL, line INTEGER NOT NULL, reason TEXT NOT NULL, raw TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS challenges(id TEXT PRIMARY KEY, tree TEXT NOT NULL, hash TEXT NOT NULL, owner TEXT) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS offsets(consumer TEXT PRIMARY KEY, pos INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters(name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS clocks(user TEXT PRIMARY KEY, as_of TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS workouts(key TEXT PRIMARY KEY, user TEXT, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS users(key TEXT PRIMARY KEY, user TEXT, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions(key TEXT PRIMARY KEY, user TEXT, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profiles(key TEXT PRIMARY KEY, user TEXT, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS leaderboards(key TEXT PRIMARY KEY, user TEXT, json TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results(challenge TEXT NOT NULL, user TEXT NOT NULL, version INTEGER NOT NULL, progress REAL NOT NULL, json TEXT NOT NULL, PRIMARY KEY(user, challenge)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS live(challenge TEXT NOT NULL, user TEXT NOT NULL, version INTEGER NOT NULL, progress REAL NOT NULL, json TEXT NOT NULL, PRIMARY KEY(user, challenge)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS results_challenge ON results(challenge);
CREATE INDEX IF NOT EXISTS live_challenge ON live(challenge);
CREATE INDEX IF NOT EXISTS compacted_pos ON compacted(pos);
CREATE TABLE IF NOT EXISTS changes(first INTEGER PRIMARY KEY, last INTEGER NOT NULL, items TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS team_results(challenge TEXT NOT NULL, team TEXT NOT NULL, version INTEGER NOT NULL, progress REAL NOT NULL, json TEXT NOT NULL, PRIMARY KEY(team, challenge)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS team_results_challenge ON team_results(challenge);
CREATE TABLE IF NOT EXISTS rewards(challenge TEXT NOT NULL, holder TEXT NOT NULL, name TEXT NOT NULL, team INTEGER NOT NULL, json TEXT NOT NULL, PRIMARY KEY(challenge, holder, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries(id INTEGER PRIMARY KEY AUTOINCREMENT, url TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL DEFAULT 0);
";
// Results and live rows are keyed by (user, challenge): a user's rows, all rewritten together
// when the user's workouts change, sit side by side on one or two pages, instead of one row
// on each of ten pages spread over the table (with 2,000 users, keying by challenge first
// rewrote nearly every page of the table at every batch). Files made before this key by
// (challenge, user) with an index on `user`; every statement here works on both.

/// The page size of a new file.
const PAGE_SIZE: i64 = 16_384;

/// WAL pages (at 16 KiB) after which the background checkpointer is woken: 64 MiB.
const CHECKPOINT_PAGES: i64 = (64 << 20) / PAGE_SIZE;

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Stop the checkpointer first, so that the writer's connection is the last one and
        // checkpoints the rest of the WAL as it closes.
        if let Some(mut c) = self.checkpointer.take() {
            drop(c.wake);
            if let Some(thread) = c.thread.take() {
                let _ = thread.join();
            }
        }
    }
}

fn err(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A SQLite file (or an in-memory database for scratch rebuilds).
pub struct SqliteStore {
    conn: Connection,
    /// The file, for the background checkpointer's own connection (`None` in memory).
    path: Option<PathBuf>,
    checkpointer: Option<Checkpointer>,
    /// The WAL's size in pages when the checkpointer was last woken.
    wal_mark: i64,
    /// The change feed's outbox, when on.
    feed: Option<Outbox>,
    /// The owner's lock on the file (writers only), held while the store lives.
    _owner: Option<std::fs::File>,
}

/// The outbox of the change feed: each commit appends its batch's changes
/// ([`crate::feed::changes_of`]) with the next sequence numbers, and keeps the newest `keep`.
struct Outbox {
    /// The next sequence number.
    next: u64,
    /// Changes kept in the table (older ones are pruned as new ones are written).
    keep: u64,
    /// The changes of the last commits, not yet taken by [`SqliteStore::take_committed`].
    committed: Vec<Committed>,
}

/// A thread with its own connection that runs `PASSIVE` checkpoints when woken, so that the
/// writer never waits for a checkpoint (its copying and its two fsyncs).
struct Checkpointer {
    wake: mpsc::SyncSender<()>,
    thread: Option<JoinHandle<()>>,
}

thread_local! {
    /// The WAL's size in pages after this thread's last commit (set by the WAL hook).
    static WAL_PAGES: Cell<i64> = const { Cell::new(0) };
}

fn record_wal_pages(_wal: &Wal, pages: c_int) -> rusqlite::Result<()> {
    WAL_PAGES.with(|p| p.set(i64::from(pages)));
    Ok(())
}

impl SqliteStore {
    /// Opens (or creates) the store at `path`, in WAL mode with `synchronous=NORMAL`.
    ///
    /// Checkpoints run in the background: each time the WAL has grown by
    /// [`CHECKPOINT_PAGES`] pages (64 MiB), a thread with its own connection runs a `PASSIVE`
    /// checkpoint, which copies the committed pages into the file without blocking the
    /// writer. Should the WAL still reach four times that, the writer runs a `RESTART`
    /// checkpoint itself. SQLite checkpoints at close too.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(err)?;
        // 16 KiB pages (SQLite's default is 4 KiB): a result row (about 1.7 KB of JSON) and a
        // batch of log rows take fewer pages, B-tree splits and WAL frames. It applies to a new
        // file only; an existing one keeps its page size.
        conn.pragma_update(None, "page_size", PAGE_SIZE)
            .map_err(err)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        // Replaces SQLite's automatic checkpoints (every 1,000 pages, in the committing
        // thread) by the background checkpointer.
        conn.wal_hook(Some(record_wal_pages));
        let mut store = SqliteStore::init(conn)?;
        store.path = Some(path.to_path_buf());
        Ok(store)
    }

    /// Wakes the checkpointer (started on first use) or, when the WAL has grown too far,
    /// checkpoints here.
    fn after_commit(&mut self) -> Result<(), StoreError> {
        let pages = WAL_PAGES.with(|p| p.replace(0));
        if pages < self.wal_mark {
            // The WAL restarted from its beginning.
            self.wal_mark = 0;
        }
        if pages < self.wal_mark + CHECKPOINT_PAGES {
            return Ok(());
        }
        if pages >= 4 * CHECKPOINT_PAGES {
            self.conn
                .query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()))
                .optional()
                .map_err(err)?;
            self.wal_mark = 0;
            return Ok(());
        }
        // Woken once per 64 MiB of new WAL, not at every commit: a wake-up can preempt the
        // writer, and a small commit (one saved workout) should not pay for it.
        self.wal_mark = pages;
        let Some(path) = &self.path else {
            return Ok(());
        };
        if self.checkpointer.is_none() {
            let checkpoints = Connection::open(path).map_err(err)?;
            checkpoints
                .pragma_update(None, "synchronous", "NORMAL")
                .map_err(err)?;
            checkpoints
                .busy_timeout(std::time::Duration::from_secs(10))
                .map_err(err)?;
            let (wake, woken) = mpsc::sync_channel::<()>(1);
            let thread = std::thread::Builder::new()
                .name("sqlite-checkpoint".to_owned())
                .spawn(move || {
                    while woken.recv().is_ok() {
                        // A failed checkpoint loses nothing: the pages stay in the WAL.
                        let _ =
                            checkpoints.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                    }
                })
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            self.checkpointer = Some(Checkpointer {
                wake,
                thread: Some(thread),
            });
        }
        if let Some(c) = &self.checkpointer {
            // Already woken (a checkpoint is pending): nothing more to do.
            let _ = c.wake.try_send(());
        }
        Ok(())
    }

    /// An in-memory store (scratch rebuilds for `verify`, tests).
    pub fn memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::init(Connection::open_in_memory().map_err(err)?)
    }

    fn init(conn: Connection) -> Result<SqliteStore, StoreError> {
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(err)?;
        conn.pragma_update(None, "temp_store", "MEMORY")
            .map_err(err)?;
        conn.pragma_update(None, "cache_size", -65536)
            .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        // A new file frees the pages a compaction empties a few at a time ([`Store::reclaim`]);
        // on a file made before, the setting waits for a `VACUUM` and freed pages are reused.
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")
            .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        // A file made before personal challenges: their owner column.
        if !has_owner_column(&conn).map_err(err)? {
            conn.execute_batch("ALTER TABLE challenges ADD COLUMN owner TEXT")
                .map_err(err)?;
        }
        Ok(SqliteStore {
            conn,
            path: None,
            checkpointer: None,
            wal_mark: 0,
            feed: None,
            _owner: None,
        })
    }

    /// Opens the store at `path` as its one writer: a second writer (another `serve`,
    /// `pipeline ingest`, `tick`, `rebuild` or `compact`) gets [`StoreError::Owned`] while
    /// this store lives. Readers ([`SqliteStore::open_reader`], `query`, `verify`) are not
    /// affected. The lock is an advisory `flock` on the file, released by the OS when the
    /// process ends, however it ends.
    pub fn open_owner(path: &Path) -> Result<SqliteStore, StoreError> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StoreError::Owned(path.display().to_string()))
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(StoreError::Backend(e.to_string())),
        }
        let mut store = SqliteStore::open(path)?;
        store._owner = Some(file);
        Ok(store)
    }

    /// Opens the store at `path` for reading only (the server's readers, beside its writer):
    /// no schema is created, nothing is written.
    pub fn open_reader(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(err)?;
        Ok(SqliteStore {
            conn,
            path: None,
            checkpointer: None,
            wal_mark: 0,
            feed: None,
            _owner: None,
        })
    }

    /// Writes a consistent copy of the file at `path` to `to` with SQLite's online backup,
    /// while a writer may be running (`pipeline backup`): the copy is taken in one step, inside
    /// one read transaction, so it is the state of one commit, and in WAL mode the writer is
    /// never blocked. `to` must not exist.
    pub fn backup(path: &Path, to: &Path) -> Result<(), StoreError> {
        if to.exists() {
            return Err(StoreError::Backend(format!(
                "`{}` exists; the copy goes to a new file",
                to.display()
            )));
        }
        let source = SqliteStore::open_reader(path)?;
        let mut copy = Connection::open(to).map_err(err)?;
        let backup = rusqlite::backup::Backup::new(&source.conn, &mut copy).map_err(err)?;
        loop {
            match backup.step(-1).map_err(err)? {
                rusqlite::backup::StepResult::Done => break,
                rusqlite::backup::StepResult::More => continue,
                rusqlite::backup::StepResult::Busy | rusqlite::backup::StepResult::Locked => {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                _ => std::thread::sleep(std::time::Duration::from_millis(10)),
            }
        }
        drop(backup);
        copy.pragma_update(None, "journal_mode", "WAL")
            .map_err(err)?;
        Ok(())
    }

    /// Turns the change feed on: every later commit also writes its changes to the outbox
    /// (in the same transaction), keeping the newest `keep`.
    pub fn enable_feed(&mut self, keep: u64) -> Result<(), StoreError> {
        let last: i64 = self
            .conn
            .query_row("SELECT coalesce(max(last), 0) FROM changes", [], |r| {
                r.get(0)
            })
            .map_err(err)?;
        self.feed = Some(Outbox {
            next: as_u64(last) + 1,
            keep: keep.max(1),
            committed: Vec::new(),
        });
        Ok(())
    }

    /// The changes committed since the last call, in sequence order.
    pub fn take_committed(&mut self) -> Vec<Committed> {
        self.feed
            .as_mut()
            .map(|f| std::mem::take(&mut f.committed))
            .unwrap_or_default()
    }

    /// Up to about `limit` outbox changes after sequence number `after`, in order, each with
    /// its row as it is now (the outbox holds the row's key, not a copy: a later change of the
    /// same row follows, so a reader ends in the same state); changes of rows deleted since
    /// are left out. Also gives the last sequence number scanned (`after` when none).
    pub fn changes_after(
        &mut self,
        after: u64,
        limit: u64,
    ) -> Result<(Vec<Committed>, u64), StoreError> {
        let mut entries: Vec<(u64, String)> = Vec::new();
        {
            let mut st = self
                .conn
                .prepare_cached(
                    "SELECT first, items FROM changes WHERE last > ?1 ORDER BY first LIMIT 64",
                )
                .map_err(err)?;
            let rows = st
                .query_map([position(after)], |r| Ok((as_u64(r.get(0)?), r.get(1)?)))
                .map_err(err)?;
            let mut taken = 0;
            for row in rows {
                let (first, items): (u64, String) = row.map_err(err)?;
                taken += serde_json::from_str::<Vec<serde_json::Value>>(&items)
                    .map_or(0, |v| v.len() as u64);
                entries.push((first, items));
                if taken >= limit {
                    break;
                }
            }
        }
        let mut last = after;
        let mut out = Vec::new();
        for (first, items) in entries {
            let items: Vec<(String, Option<String>, Option<String>, String)> =
                serde_json::from_str(&items).map_err(|e| StoreError::Backend(e.to_string()))?;
            for (seq, (kind, user, team, key)) in (first..).zip(items) {
                if seq <= after {
                    continue;
                }
                last = seq;
                let kind = feed::kind(&kind);
                if let Some(data) = self.row_of(kind, user.as_deref(), team.as_deref(), &key)? {
                    out.push(Committed {
                        seq,
                        change: feed::Change {
                            kind,
                            user,
                            team,
                            key,
                            data,
                        },
                    });
                }
            }
        }
        Ok((out, last))
    }

    /// The current row a change of `kind` points at, if it is still there.
    fn row_of(
        &self,
        kind: &str,
        user: Option<&str>,
        team: Option<&str>,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let one = |sql: &str, a: Option<&str>, b: &str| {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut st| st.query_row(params![a, b], |r| r.get(0)).optional())
                .map_err(err)
        };
        if let (Some(team), "result") = (team, kind) {
            return one(
                "SELECT json FROM team_results WHERE team = ?1 AND challenge = ?2",
                Some(team),
                key,
            );
        }
        if kind == "reward" {
            let Ok((challenge, name)) = serde_json::from_str::<(String, String)>(key) else {
                return Ok(None);
            };
            return self
                .conn
                .prepare_cached(
                    "SELECT json FROM rewards WHERE challenge = ?1 AND holder = ?2 AND name = ?3",
                )
                .and_then(|mut st| {
                    st.query_row(params![challenge, user.or(team), name], |r| r.get(0))
                        .optional()
                })
                .map_err(err);
        }
        let sql = match kind {
            "result" => "SELECT json FROM results WHERE user = ?1 AND challenge = ?2",
            "live" => "SELECT json FROM live WHERE user = ?1 AND challenge = ?2",
            "workout" => "SELECT json FROM workouts WHERE ?1 IS NOT NULL AND key = ?2",
            "profile" => "SELECT json FROM profiles WHERE ?1 IS NOT NULL AND key = ?2",
            "leaderboard" => "SELECT json FROM leaderboards WHERE ?1 IS NULL AND key = ?2",
            "sensor" => "SELECT body FROM log WHERE ?1 IS NOT NULL AND pos = CAST(?2 AS INTEGER)",
            _ => return Ok(None),
        };
        one(sql, user, key)
    }

    /// The webhook deliveries owed (not yet delivered), due or not.
    pub fn deliveries_owed(&mut self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM deliveries", [], |r| r.get(0))
            .map_err(err)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// The oldest and the newest sequence numbers in the outbox (0, 0 when empty).
    pub fn change_bounds(&mut self) -> Result<(u64, u64), StoreError> {
        self.conn
            .query_row(
                "SELECT coalesce(min(first), 0), coalesce(max(last), 0) FROM changes",
                [],
                |r| Ok((as_u64(r.get(0)?), as_u64(r.get(1)?))),
            )
            .map_err(err)
    }

    /// The stored challenges (id, JSON tree, hash), by id.
    pub fn stored_challenges(&mut self) -> Result<Vec<StoredChallenge>, StoreError> {
        read_challenges(&self.conn).map_err(err)
    }

    /// The last log position the views were derived to.
    pub fn log_head(&mut self) -> Result<u64, StoreError> {
        let head: Option<i64> = self
            .conn
            .query_row(
                "SELECT pos FROM offsets WHERE consumer = 'views'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        Ok(head.map_or(0, as_u64))
    }

    /// Copies the sources of truth (log, compacted workouts, challenges, settings) into
    /// `other`, an empty store: what a scratch rebuild starts from.
    pub fn copy_sources_to(&mut self, other: &mut SqliteStore) -> Result<(), StoreError> {
        crate::store::copy_sources(self, other)
    }

    /// Runs a `wal_checkpoint(TRUNCATE)` (after big rewrites).
    pub fn checkpoint(&mut self) -> Result<(), StoreError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .optional()
            .map_err(err)?;
        Ok(())
    }
}

/// Whether the challenges table has its `owner` column (a file made before personal
/// challenges has not, until its writer opens it).
fn has_owner_column(conn: &Connection) -> rusqlite::Result<bool> {
    let mut st =
        conn.prepare("SELECT 1 FROM pragma_table_info('challenges') WHERE name = 'owner'")?;
    st.exists([])
}

/// The stored challenges, by id.
fn read_challenges(conn: &Connection) -> rusqlite::Result<Vec<StoredChallenge>> {
    let sql = if has_owner_column(conn)? {
        "SELECT id, tree, hash, owner FROM challenges ORDER BY id"
    } else {
        "SELECT id, tree, hash, NULL FROM challenges ORDER BY id"
    };
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map([], |r| {
        Ok(StoredChallenge {
            id: r.get(0)?,
            tree: r.get(1)?,
            hash: r.get(2)?,
            owner: r.get(3)?,
        })
    })?;
    rows.collect()
}

fn kind_name(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Event => "event",
        LogKind::Tick => "tick",
        LogKind::UserDelete => "user_delete",
    }
}

/// Rows per multi-row `INSERT` into the log.
const LOG_CHUNK: usize = 64;

/// `INSERT INTO log ... VALUES (?, ?, ?, ?), ...` with `rows` rows.
fn log_insert(rows: usize) -> String {
    let mut sql = String::from("INSERT INTO log(pos, kind, session, body) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?)");
    }
    sql
}

/// Appends log entries, [`LOG_CHUNK`] rows per statement.
fn insert_log(tx: &Transaction<'_>, log: &[LogEntry]) -> rusqlite::Result<()> {
    let mut chunks = log.chunks_exact(LOG_CHUNK);
    if chunks.len() > 0 {
        let mut st = tx.prepare_cached(&log_insert(LOG_CHUNK))?;
        for chunk in chunks.by_ref() {
            for (i, e) in chunk.iter().enumerate() {
                let at = i * 4;
                st.raw_bind_parameter(at + 1, e.pos as i64)?;
                st.raw_bind_parameter(at + 2, kind_name(e.kind))?;
                st.raw_bind_parameter(at + 3, e.session.as_deref())?;
                st.raw_bind_parameter(at + 4, e.body.as_str())?;
            }
            st.raw_execute()?;
        }
    }
    if !chunks.remainder().is_empty() {
        let mut st =
            tx.prepare_cached("INSERT INTO log(pos, kind, session, body) VALUES (?1, ?2, ?3, ?4)")?;
        for e in chunks.remainder() {
            st.execute(params![
                e.pos as i64,
                kind_name(e.kind),
                e.session.as_deref(),
                e.body
            ])?;
        }
    }
    Ok(())
}

/// The `INSERT OR REPLACE` and `DELETE` of a keyed view.
fn keyed_sql(view: &str) -> Option<(&'static str, &'static str)> {
    Some(match view {
        "workouts" => (
            "INSERT OR REPLACE INTO workouts(key, user, json) VALUES (?1, ?2, ?3)",
            "DELETE FROM workouts WHERE key = ?1",
        ),
        "users" => (
            "INSERT OR REPLACE INTO users(key, user, json) VALUES (?1, ?2, ?3)",
            "DELETE FROM users WHERE key = ?1",
        ),
        "sessions" => (
            "INSERT OR REPLACE INTO sessions(key, user, json) VALUES (?1, ?2, ?3)",
            "DELETE FROM sessions WHERE key = ?1",
        ),
        "profiles" => (
            "INSERT OR REPLACE INTO profiles(key, user, json) VALUES (?1, ?2, ?3)",
            "DELETE FROM profiles WHERE key = ?1",
        ),
        "leaderboards" => (
            "INSERT OR REPLACE INTO leaderboards(key, user, json) VALUES (?1, ?2, ?3)",
            "DELETE FROM leaderboards WHERE key = ?1",
        ),
        _ => return None,
    })
}

fn unknown_view(view: &str) -> rusqlite::Error {
    rusqlite::Error::InvalidParameterName(format!("unknown view `{view}`"))
}

/// Appends the log entries of [`Batch::log_spans`], [`LOG_CHUNK`] rows per statement.
fn insert_log_spans(tx: &Transaction<'_>, batch: &Batch) -> rusqlite::Result<()> {
    let mut chunks = batch.log_spans.chunks_exact(LOG_CHUNK);
    if chunks.len() > 0 {
        let mut st = tx.prepare_cached(&log_insert(LOG_CHUNK))?;
        for chunk in chunks.by_ref() {
            for (i, e) in chunk.iter().enumerate() {
                let at = i * 4;
                let (body, session) = batch.span_text(e);
                st.raw_bind_parameter(at + 1, e.pos as i64)?;
                st.raw_bind_parameter(at + 2, "event")?;
                st.raw_bind_parameter(at + 3, session)?;
                st.raw_bind_parameter(at + 4, body)?;
            }
            st.raw_execute()?;
        }
    }
    if !chunks.remainder().is_empty() {
        let mut st =
            tx.prepare_cached("INSERT INTO log(pos, kind, session, body) VALUES (?1, ?2, ?3, ?4)")?;
        for e in chunks.remainder() {
            let (body, session) = batch.span_text(e);
            st.execute(params![e.pos as i64, "event", session, body])?;
        }
    }
    Ok(())
}

/// Purges a user's sources of truth and view rows (the leaderboards and team rows, which other
/// users share, are rewritten by the batch).
fn erase(tx: &Transaction<'_>, erasure: &Erasure) -> rusqlite::Result<()> {
    let user = erasure.user.as_str();
    let sessions = serde_json::to_string(&erasure.sessions).unwrap_or_else(|_| "[]".to_owned());
    // One pass over the log (an erasure is rare; an index on `session` would cost every
    // ingest a write): the events of the user's sessions, and the messages without a session
    // that are the user's (records, imported workouts, deletions).
    tx.prepare_cached(
        "DELETE FROM log WHERE (kind = 'event' AND session IN (SELECT value FROM json_each(?2))) \
         OR (session IS NULL AND json_valid(body) AND (\
         (kind = 'event' AND json_extract(body, '$.type') = 'user_upsert' AND json_extract(body, '$.user.id') = ?1) \
         OR (kind = 'event' AND json_extract(body, '$.type') = 'workout' AND json_extract(body, '$.workout.user') = ?1) \
         OR (kind = 'user_delete' AND json_extract(body, '$.user') = ?1)))",
    )?
    .execute([user, sessions.as_str()])?;
    tx.prepare_cached("DELETE FROM compacted WHERE session IN (SELECT value FROM json_each(?1))")?
        .execute([sessions.as_str()])?;
    // Rejected lines that name the user.
    tx.prepare_cached(
        "DELETE FROM dead_letters WHERE json_valid(raw) AND (json_extract(raw, '$.user') = ?1 \
         OR json_extract(raw, '$.user.id') = ?1 OR json_extract(raw, '$.workout.user') = ?1)",
    )?
    .execute([user])?;
    tx.prepare_cached(
        "DELETE FROM deliveries WHERE key IN (SELECT challenge || '/' || holder || '/' || name \
         FROM rewards WHERE holder = ?1 AND team = 0)",
    )?
    .execute([user])?;
    tx.prepare_cached("DELETE FROM rewards WHERE holder = ?1 AND team = 0")?
        .execute([user])?;
    for sql in [
        "DELETE FROM results WHERE user = ?1",
        "DELETE FROM live WHERE user = ?1",
        "DELETE FROM clocks WHERE user = ?1",
        "DELETE FROM workouts WHERE user = ?1",
        "DELETE FROM users WHERE user = ?1",
        "DELETE FROM sessions WHERE user = ?1",
        "DELETE FROM profiles WHERE user = ?1",
    ] {
        tx.prepare_cached(sql)?.execute([user])?;
    }
    Ok(())
}

/// Rows per multi-row upsert of results.
const RESULT_CHUNK: usize = 32;

/// The versioned upsert of `rows` rows into `table` (`results`, `live` or `team_results`): an
/// older version never overwrites a newer one.
fn upsert_sql(table: &str, rows: usize) -> String {
    let who = holder_column(table);
    let mut sql = format!("INSERT INTO {table}(challenge, {who}, version, progress, json) VALUES ");
    for i in 0..rows {
        if i > 0 {
            sql.push(',');
        }
        sql.push_str("(?,?,?,?,?)");
    }
    sql.push_str(&format!(
        " ON CONFLICT(challenge, {who}) DO UPDATE SET version = excluded.version, \
         progress = excluded.progress, json = excluded.json \
         WHERE excluded.version >= {table}.version"
    ));
    sql
}

/// Versioned upserts, [`RESULT_CHUNK`] rows per statement.
fn upsert_versioned(
    tx: &Transaction<'_>,
    table: &str,
    rows: &[crate::store::ResultRow],
) -> rusqlite::Result<()> {
    let mut chunks = rows.chunks_exact(RESULT_CHUNK);
    if chunks.len() > 0 {
        let mut st = tx.prepare_cached(&upsert_sql(table, RESULT_CHUNK))?;
        for chunk in chunks.by_ref() {
            bind_results(&mut st, chunk)?;
            st.raw_execute()?;
        }
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut st = tx.prepare_cached(&upsert_sql(table, 1))?;
        for r in rest {
            bind_results(&mut st, std::slice::from_ref(r))?;
            st.raw_execute()?;
        }
    }
    Ok(())
}

/// The column a versioned table is keyed by besides the challenge: `team` for team results.
fn holder_column(table: &str) -> &'static str {
    if table == "team_results" {
        "team"
    } else {
        "user"
    }
}

/// The rewards of a batch: each inserted unless already issued (the ledger is append-only,
/// keyed by challenge, holder and name), and each newly issued one owes a delivery to every
/// webhook — in the batch's transaction, with the result rows that earned them.
/// Issues the batch's rewards not issued before; gives the indices (in
/// [`Batch::rewards`]) of those this batch issued.
fn issue_rewards(tx: &Transaction<'_>, batch: &Batch) -> rusqlite::Result<Vec<usize>> {
    let mut issued_now = Vec::new();
    if batch.rewards.is_empty() {
        return Ok(issued_now);
    }
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO rewards(challenge, holder, name, team, json) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut owe =
        tx.prepare_cached("INSERT INTO deliveries(url, key, body) VALUES (?1, ?2, ?3)")?;
    for (i, r) in batch.rewards.iter().enumerate() {
        let json = r.json();
        let issued = insert.execute(params![r.challenge, r.holder, r.name, r.team, json])?;
        if issued == 0 {
            continue;
        }
        issued_now.push(i);
        let key = r.idempotency_key();
        for url in &batch.webhooks {
            owe.execute(params![url, key, json])?;
        }
    }
    Ok(issued_now)
}

fn bind_results(
    st: &mut rusqlite::CachedStatement<'_>,
    rows: &[crate::store::ResultRow],
) -> rusqlite::Result<()> {
    for (i, r) in rows.iter().enumerate() {
        let at = i * 5;
        st.raw_bind_parameter(at + 1, r.challenge.as_str())?;
        st.raw_bind_parameter(at + 2, r.user.as_str())?;
        st.raw_bind_parameter(at + 3, r.version as i64)?;
        st.raw_bind_parameter(at + 4, r.progress)?;
        st.raw_bind_parameter(at + 5, r.json.as_str())?;
    }
    Ok(())
}

/// Applies a batch; gives the indices of the rewards it issued.
fn apply(tx: &Transaction<'_>, batch: &Batch) -> rusqlite::Result<Vec<usize>> {
    insert_log(tx, &batch.log)?;
    insert_log_spans(tx, batch)?;
    if !batch.dead_letters.is_empty() {
        let mut st = tx.prepare_cached(
            "INSERT INTO dead_letters(source, line, reason, raw) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for d in &batch.dead_letters {
            st.execute(params![d.source, d.line as i64, d.reason, d.raw])?;
        }
    }
    if let Some((lo, hi)) = batch.purge_compacted {
        tx.prepare_cached(PURGE_COMPACTED)?
            .execute(params![position(lo), position(hi)])?;
    }
    for (session, c) in &batch.compacted {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO compacted(session, pos, json) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![session, c.pos as i64, c.json])?;
    }
    for c in &batch.put_challenges {
        tx.prepare_cached(
            "INSERT OR REPLACE INTO challenges(id, tree, hash, owner) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(params![c.id, c.tree, c.hash, c.owner])?;
    }
    for id in &batch.delete_challenges {
        tx.prepare_cached("DELETE FROM challenges WHERE id = ?1")?
            .execute([id])?;
    }
    for (view, row) in &batch.put {
        let (put, _) = keyed_sql(view).ok_or_else(|| unknown_view(view))?;
        tx.prepare_cached(put)?
            .execute(params![row.key, row.user.as_deref(), row.json])?;
    }
    for (view, key) in &batch.delete {
        let (_, delete) = keyed_sql(view).ok_or_else(|| unknown_view(view))?;
        tx.prepare_cached(delete)?.execute([key])?;
    }
    if let Some(erasure) = &batch.erase {
        erase(tx, erasure)?;
    }
    for user in &batch.drop_results_of_users {
        tx.prepare_cached("DELETE FROM results WHERE user = ?1")?
            .execute([user])?;
    }
    for c in &batch.drop_challenges {
        tx.prepare_cached("DELETE FROM results WHERE challenge = ?1")?
            .execute([c])?;
        tx.prepare_cached("DELETE FROM team_results WHERE challenge = ?1")?
            .execute([c])?;
        tx.prepare_cached("DELETE FROM live WHERE challenge = ?1")?
            .execute([c])?;
    }
    upsert_versioned(tx, "results", &batch.results)?;
    for (challenge, team) in &batch.drop_team_results {
        tx.prepare_cached("DELETE FROM team_results WHERE challenge = ?1 AND team = ?2")?
            .execute([challenge, team])?;
    }
    upsert_versioned(tx, "team_results", &batch.team_results)?;
    for user in &batch.replace_live_of_users {
        tx.prepare_cached("DELETE FROM live WHERE user = ?1")?
            .execute([user])?;
    }
    upsert_versioned(tx, "live", &batch.live)?;
    for (table, rows) in [
        ("profiles", &batch.profiles),
        ("leaderboards", &batch.leaderboards),
    ] {
        if let Some(rows) = rows {
            tx.execute(&format!("DELETE FROM {table}"), [])?;
            let sql =
                format!("INSERT OR REPLACE INTO {table}(key, user, json) VALUES (?1, ?2, ?3)");
            let mut st = tx.prepare_cached(&sql)?;
            for row in rows {
                st.execute(params![row.key, row.user.as_deref(), row.json])?;
            }
        }
    }
    for (user, as_of) in &batch.clocks {
        tx.prepare_cached("INSERT OR REPLACE INTO clocks(user, as_of) VALUES (?1, ?2)")?
            .execute([user, as_of])?;
    }
    let c = &batch.counters;
    for (name, value) in [
        ("read", c.read),
        ("accepted", c.accepted),
        ("duplicates", c.duplicates),
        ("rejected", c.rejected),
    ] {
        if value > 0 {
            tx.prepare_cached(
                "INSERT INTO counters(name, value) VALUES (?1, ?2)
                 ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            )?
            .execute(params![name, value as i64])?;
        }
    }
    for (consumer, pos) in &batch.offsets {
        tx.prepare_cached("INSERT OR REPLACE INTO offsets(consumer, pos) VALUES (?1, ?2)")?
            .execute(params![consumer, *pos as i64])?;
    }
    for (key, value) in &batch.meta {
        tx.prepare_cached("INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)")?
            .execute([key, value])?;
    }
    issue_rewards(tx, batch)
}

fn as_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// A log position as SQLite's integer (positions past `i64::MAX` cannot occur; they clamp).
fn position(pos: u64) -> i64 {
    i64::try_from(pos).unwrap_or(i64::MAX)
}

/// Deletes the events at positions `?1..?2` whose session is compacted: a range of the log's
/// primary key and one lookup in `compacted`'s per row, never a scan of the log (a test reads
/// the query plan). A compaction runs it range after range, one short transaction each.
pub(crate) const PURGE_COMPACTED: &str = "DELETE FROM log WHERE pos >= ?1 AND pos < ?2 \
     AND kind = 'event' AND session IN (SELECT session FROM compacted)";

/// Appends a batch's changes to the outbox and prunes what is older than the outbox keeps;
/// gives the changes with their sequence numbers (visible once the transaction commits).
fn write_changes(
    tx: &Transaction<'_>,
    outbox: &Outbox,
    batch: &Batch,
    issued: &[usize],
) -> rusqlite::Result<Vec<Committed>> {
    let changes = feed::changes_of(batch, issued);
    if changes.is_empty() {
        return Ok(Vec::new());
    }
    // One outbox row per commit: its sequence numbers and, per change, what finds its row.
    let items: Vec<(&str, Option<&str>, Option<&str>, &str)> = changes
        .iter()
        .map(|c| (c.kind, c.user.as_deref(), c.team.as_deref(), c.key.as_str()))
        .collect();
    let items = serde_json::to_string(&items)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let first = outbox.next;
    let last = first + changes.len() as u64 - 1;
    tx.prepare_cached("INSERT INTO changes(first, last, items) VALUES (?1, ?2, ?3)")?
        .execute(params![position(first), position(last), items])?;
    if let Some(oldest) = (last + 1).checked_sub(outbox.keep) {
        tx.prepare_cached("DELETE FROM changes WHERE last < ?1")?
            .execute([position(oldest)])?;
    }
    Ok((first..)
        .zip(changes)
        .map(|(seq, change)| Committed { seq, change })
        .collect())
}

impl Store for SqliteStore {
    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        let mut snapshot = Snapshot::default();
        let conn = &self.conn;
        let head: i64 = conn
            .query_row(
                "SELECT max((SELECT coalesce(max(pos), 0) FROM log), \
                            (SELECT coalesce(max(pos), 0) FROM compacted))",
                [],
                |r| r.get(0),
            )
            .map_err(err)?;
        snapshot.head = as_u64(head);
        snapshot.challenges = read_challenges(conn).map_err(err)?;
        for (table, target) in [
            ("SELECT user, as_of FROM clocks", &mut snapshot.clocks),
            ("SELECT key, value FROM meta", &mut snapshot.meta),
        ] {
            let mut st = conn.prepare(table).map_err(err)?;
            let rows = st
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(err)?;
            for row in rows {
                let (k, v) = row.map_err(err)?;
                target.insert(k, v);
            }
        }
        let mut st = conn
            .prepare("SELECT consumer, pos FROM offsets")
            .map_err(err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, as_u64(r.get(1)?))))
            .map_err(err)?;
        for row in rows {
            let (k, v) = row.map_err(err)?;
            snapshot.offsets.insert(k, v);
        }
        let mut st = conn
            .prepare("SELECT name, value FROM counters")
            .map_err(err)?;
        let rows = st
            .query_map([], |r| Ok((r.get::<_, String>(0)?, as_u64(r.get(1)?))))
            .map_err(err)?;
        let mut counters = Counters::default();
        for row in rows {
            let (name, value) = row.map_err(err)?;
            match name.as_str() {
                "read" => counters.read = value,
                "accepted" => counters.accepted = value,
                "duplicates" => counters.duplicates = value,
                "rejected" => counters.rejected = value,
                _ => {}
            }
        }
        snapshot.counters = counters;
        Ok(snapshot)
    }

    fn sources(&mut self, from: u64, to: u64) -> Result<SourcePage, StoreError> {
        let mut page = SourcePage::default();
        let range = params![position(from), position(to)];
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT pos, kind, session, body FROM log WHERE pos >= ?1 AND pos < ?2 ORDER BY pos",
            )
            .map_err(err)?;
        let rows = st
            .query_map(range, |r| {
                let kind: String = r.get(1)?;
                Ok(LogEntry {
                    pos: as_u64(r.get(0)?),
                    kind: match kind.as_str() {
                        "tick" => LogKind::Tick,
                        "user_delete" => LogKind::UserDelete,
                        _ => LogKind::Event,
                    },
                    session: r.get(2)?,
                    body: r.get(3)?,
                })
            })
            .map_err(err)?;
        for row in rows {
            page.log.push(row.map_err(err)?);
        }
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT session, pos, json FROM compacted WHERE pos >= ?1 AND pos < ?2 \
                 ORDER BY pos, session",
            )
            .map_err(err)?;
        let rows = st
            .query_map(range, |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    CompactedWorkout {
                        pos: as_u64(r.get(1)?),
                        json: r.get(2)?,
                    },
                ))
            })
            .map_err(err)?;
        for row in rows {
            page.compacted.push(row.map_err(err)?);
        }
        Ok(page)
    }

    fn reclaim(&mut self, pages: u32) -> Result<bool, StoreError> {
        let mode: i64 = self
            .conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .map_err(err)?;
        if mode != 2 {
            // Not incremental (a file made before): free pages are reused by later writes.
            return Ok(false);
        }
        self.conn
            .execute_batch(&format!("PRAGMA incremental_vacuum({pages})"))
            .map_err(err)?;
        let free: i64 = self
            .conn
            .query_row("PRAGMA freelist_count", [], |r| r.get(0))
            .map_err(err)?;
        Ok(free > 0)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        let issued = apply(&tx, batch).map_err(err)?;
        let written = match &self.feed {
            Some(outbox) => write_changes(&tx, outbox, batch, &issued).map_err(err)?,
            None => Vec::new(),
        };
        tx.commit().map_err(err)?;
        if let Some(outbox) = &mut self.feed {
            outbox.next += written.len() as u64;
            outbox.committed.extend(written);
        }
        self.after_commit()
    }

    fn clear_views(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction().map_err(err)?;
        // Not the rewards ledger nor the deliveries owed: a reward is never issued twice nor
        // taken back, and its `at` records when it was first observed.
        for table in KEYED
            .iter()
            .chain(&["results", "team_results", "live", "clocks"])
        {
            tx.execute(&format!("DELETE FROM {table}"), [])
                .map_err(err)?;
        }
        tx.execute("DELETE FROM offsets WHERE consumer = 'views'", [])
            .map_err(err)?;
        tx.commit().map_err(err)
    }

    fn query(
        &mut self,
        view: &str,
        user: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let sql = match view {
            "results" => "SELECT json FROM (\
                 SELECT challenge, user AS holder, json FROM results WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR challenge = ?2) \
                 UNION ALL SELECT challenge, team, json FROM team_results WHERE ?1 IS NULL AND (?2 IS NULL OR challenge = ?2)) \
                 ORDER BY challenge, holder".to_owned(),
            "team_results" => "SELECT json FROM team_results WHERE (?1 IS NULL OR team = ?1) AND (?2 IS NULL OR challenge = ?2) ORDER BY challenge, team".to_owned(),
            "rewards" => "SELECT json FROM rewards WHERE (?1 IS NULL OR (holder = ?1 AND team = 0)) AND (?2 IS NULL OR challenge = ?2) ORDER BY challenge, holder, name".to_owned(),
            "team_rewards" => "SELECT json FROM rewards WHERE team = 1 AND (?1 IS NULL OR holder = ?1) AND (?2 IS NULL OR challenge = ?2) ORDER BY challenge, holder, name".to_owned(),
            "live" => format!(
                "SELECT json FROM {view} WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR challenge = ?2) ORDER BY challenge, user"
            ),
            v if KEYED.contains(&v) => format!(
                "SELECT json FROM {v} WHERE (?1 IS NULL OR user = ?1) AND (?2 IS NULL OR ?2 = ?2) ORDER BY key"
            ),
            "dead-letters" => "SELECT json_object('source', source, 'line', line, 'reason', reason, 'raw', raw) FROM dead_letters WHERE (?1 IS NULL OR ?1 = ?1) AND (?2 IS NULL OR ?2 = ?2) ORDER BY id".to_owned(),
            other => return Err(StoreError::Backend(format!("unknown view `{other}`"))),
        };
        let mut st = self.conn.prepare(&sql).map_err(err)?;
        let rows = st
            .query_map(params![user, challenge], |r| r.get::<_, String>(0))
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn view_hashes(&mut self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut out = BTreeMap::new();
        for view in crate::store::VIEWS {
            let sql = match view {
                "results" | "live" => {
                    format!("SELECT challenge || char(31) || user, json FROM {view} ORDER BY challenge, user")
                }
                "team_results" => "SELECT challenge || char(31) || team, json FROM team_results ORDER BY challenge, team".to_owned(),
                _ => format!("SELECT key, json FROM {view} ORDER BY key"),
            };
            let mut st = self.conn.prepare(&sql).map_err(err)?;
            let mut rows = st.query([]).map_err(err)?;
            let mut hasher = Sha256::new();
            let mut n = 0u64;
            while let Some(row) = rows.next().map_err(err)? {
                let key: String = row.get(0).map_err(err)?;
                let json: String = row.get(1).map_err(err)?;
                hasher.update(key.as_bytes());
                hasher.update([0x1f]);
                hasher.update(json.as_bytes());
                hasher.update(b"\n");
                n += 1;
            }
            let digest = hasher.finalize();
            let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
            out.insert(view.to_owned(), format!("{n}:{hex}"));
        }
        Ok(out)
    }

    fn counts(&mut self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for table in TABLES {
            let n: i64 = self
                .conn
                .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
                .map_err(err)?;
            out.insert(table.to_owned(), as_u64(n));
        }
        Ok(out)
    }

    fn owed_deliveries(&mut self, due_by: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT id, url, key, body, attempts, next_at FROM deliveries \
                 WHERE next_at <= ?1 ORDER BY id LIMIT ?2",
            )
            .map_err(err)?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = st
            .query_map(params![due_by, limit], |r| {
                Ok(Delivery {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    key: r.get(2)?,
                    body: r.get(3)?,
                    attempts: u32::try_from(r.get::<_, i64>(4)?).unwrap_or(u32::MAX),
                    next_at: r.get(5)?,
                })
            })
            .map_err(err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn delivered(&mut self, id: i64) -> Result<(), StoreError> {
        self.conn
            .execute("DELETE FROM deliveries WHERE id = ?1", [id])
            .map_err(err)?;
        Ok(())
    }

    fn delivery_failed(&mut self, id: i64, next_at: i64) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_at = ?2 WHERE id = ?1",
                [id, next_at],
            )
            .map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;
    use crate::store::{pages, ResultRow};

    fn row(challenge: usize, user: usize, version: u64) -> ResultRow {
        ResultRow {
            challenge: format!("c-{challenge}"),
            user: format!("u-{user:02}"),
            version,
            progress: 0.5,
            json: format!("{{\"c\":{challenge},\"u\":{user},\"v\":{version}}}"),
            reached: None,
        }
    }

    /// Multi-row versioned upserts keep the newest version of each row, in a new file's
    /// (user, challenge) key order and in the (challenge, user) order of older files.
    #[test]
    fn versioned_upserts_keep_the_newest_in_either_key_order() {
        let old = "CREATE TABLE results(challenge TEXT NOT NULL, user TEXT NOT NULL, version INTEGER NOT NULL, progress REAL NOT NULL, json TEXT NOT NULL, PRIMARY KEY(challenge, user)) WITHOUT ROWID;
CREATE TABLE live(challenge TEXT NOT NULL, user TEXT NOT NULL, version INTEGER NOT NULL, progress REAL NOT NULL, json TEXT NOT NULL, PRIMARY KEY(challenge, user)) WITHOUT ROWID;
CREATE INDEX results_user ON results(user);
CREATE INDEX live_user ON live(user);";
        let mut views = Vec::new();
        for schema in ["", old] {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(schema).unwrap();
            let mut store = SqliteStore::init(conn).unwrap();
            // 3 challenges x 25 users: 75 rows, two chunks of 32 and 11 single rows.
            let first: Vec<ResultRow> = (0..3)
                .flat_map(|c| (0..25).map(move |u| row(c, u, 10)))
                .collect();
            store
                .commit(&Batch {
                    results: first.clone(),
                    live: first,
                    ..Batch::default()
                })
                .unwrap();
            // Older versions for even users, newer for odd ones.
            let second: Vec<ResultRow> = (0..3)
                .flat_map(|c| (0..25).map(move |u| row(c, u, if u % 2 == 0 { 5 } else { 20 })))
                .collect();
            store
                .commit(&Batch {
                    results: second.clone(),
                    live: second,
                    ..Batch::default()
                })
                .unwrap();
            let results = store.query("results", None, None).unwrap();
            assert_eq!(results.len(), 75);
            for (i, json) in results.iter().enumerate() {
                let (c, u) = (i / 25, i % 25);
                let v = if u % 2 == 0 { 10 } else { 20 };
                assert_eq!(json, &format!("{{\"c\":{c},\"u\":{u},\"v\":{v}}}"));
            }
            assert_eq!(store.query("live", None, None).unwrap(), results);
            assert_eq!(
                store.query("results", Some("u-03"), Some("c-1")).unwrap(),
                ["{\"c\":1,\"u\":3,\"v\":20}"]
            );
            store
                .commit(&Batch {
                    drop_results_of_users: vec!["u-04".to_owned()],
                    drop_challenges: vec!["c-2".to_owned()],
                    replace_live_of_users: vec!["u-05".to_owned()],
                    ..Batch::default()
                })
                .unwrap();
            assert_eq!(store.query("results", None, None).unwrap().len(), 48);
            assert_eq!(store.query("live", None, None).unwrap().len(), 48);
            views.push(store.view_hashes().unwrap());
        }
        assert_eq!(views.first(), views.last());
    }

    /// Issue 17: the compaction's purge reads a range of the log's primary key and looks each
    /// row's session up in `compacted`; no statement of it scans the log.
    #[test]
    fn the_purge_of_compacted_events_never_scans_the_log() {
        let store = SqliteStore::memory().unwrap();
        let mut st = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {PURGE_COMPACTED}"))
            .unwrap();
        let plan: Vec<String> = st
            .query_map(params![1, 65_537], |r| r.get::<_, String>(3))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(!plan.is_empty());
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN log")),
            "{plan:?}"
        );
        assert!(
            plan.iter()
                .any(|step| step.starts_with("SEARCH log USING INTEGER PRIMARY KEY")),
            "{plan:?}"
        );
    }

    /// A compaction interrupted after its workouts were written and before the purge leaves a
    /// file whose replay gives the same views, and the next compaction purges what was left.
    #[test]
    fn an_interrupted_purge_is_finished_by_the_next_one() {
        let mut store = SqliteStore::memory().unwrap();
        let event = |pos: u64, session: &str| LogEntry {
            pos,
            kind: LogKind::Event,
            session: Some(session.to_owned()),
            body: format!("{{\"pos\":{pos}}}"),
        };
        store
            .commit(&Batch {
                log: vec![
                    event(1, "a"),
                    event(2, "b"),
                    event(3, "a"),
                    event(70_000, "a"),
                ],
                compacted: vec![(
                    "a".to_owned(),
                    CompactedWorkout {
                        pos: 70_000,
                        json: "{}".to_owned(),
                    },
                )],
                ..Batch::default()
            })
            .unwrap();
        let head = store.snapshot().unwrap().head;
        assert_eq!(head, 70_000);
        // The first page only, as if stopped there.
        store
            .commit(&Batch {
                purge_compacted: Some((0, 65_536)),
                ..Batch::default()
            })
            .unwrap();
        let positions = |store: &mut SqliteStore| -> Vec<u64> {
            pages(head)
                .flat_map(|(from, to)| store.sources(from, to).unwrap().log)
                .map(|e| e.pos)
                .collect()
        };
        assert_eq!(positions(&mut store), vec![2, 70_000]);
        for (from, to) in pages(head) {
            store
                .commit(&Batch {
                    purge_compacted: Some((from, to)),
                    ..Batch::default()
                })
                .unwrap();
        }
        assert_eq!(positions(&mut store), vec![2]);
        let page = store.sources(65_536, 131_072).unwrap();
        assert_eq!(page.compacted.len(), 1);
    }
}
