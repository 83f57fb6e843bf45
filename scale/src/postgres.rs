//! [`PgStore`]: the pipeline's [`Store`] on PostgreSQL (15 and later).
//!
//! The tables are the embedded store's (pipeline/src/sqlite.rs), with PostgreSQL's types, and
//! every text a view is ordered by is declared `COLLATE "C"`: rows sort by their bytes as they do
//! in SQLite, whatever the database's locale, so [`Store::view_hashes`] gives the same hashes
//! on both stores for the same input (the scale-out tests compare them).
//!
//! **Invariant:** [`Store::commit`] applies a batch in one transaction (`READ COMMITTED`):
//! the log appends, the view writes, the rewards and deliveries owed, the counters and the
//! offsets become visible together or not at all. A versioned upsert never lets an older
//! version overwrite a newer one (`WHERE excluded.version >= version`).
//!
//! Bulk writes are one statement per table and batch (`unnest` of arrays), so a batch of
//! 50,000 lines is a handful of round trips. A batch may put the same key twice (the embedded
//! store applies its rows one after the other): rows are folded first, with the embedded
//! store's rule (the last put wins; a versioned row wins when not older), since one
//! `INSERT ... ON CONFLICT` may not touch a row twice.
//!
//! PostgreSQL's `text` cannot hold the NUL character, which an input line rejected as a dead
//! letter may contain: it is stored as U+FFFD there (a log line is valid JSON, which has no raw
//! control character).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use pipeline::feed::{self, Committed};
use pipeline::store::{
    Batch, CompactedWorkout, Counters, Delivery, Erasure, LogEntry, LogKind, ResultRow, Row,
    Snapshot, SourcePage, Store, StoreError, StoredChallenge, TABLES, VIEWS,
};
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls, Statement, Transaction};
use sha2::{Digest, Sha256};

/// Keyed views: one row per key, with the user it is about.
const KEYED: [&str; 5] = ["workouts", "users", "sessions", "profiles", "leaderboards"];

/// The schema. `uid` is the embedded store's `user` (a reserved word here).
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS log(part integer NOT NULL DEFAULT 0, pos bigint NOT NULL, kind text NOT NULL, session text COLLATE "C", body text NOT NULL, PRIMARY KEY(part, pos));
ALTER TABLE log ADD COLUMN IF NOT EXISTS part integer NOT NULL DEFAULT 0;
DO $$ BEGIN
  IF EXISTS (SELECT 1 FROM pg_index WHERE indrelid = 'log'::regclass AND indisprimary AND indnatts = 1) THEN
    ALTER TABLE log DROP CONSTRAINT log_pkey;
    ALTER TABLE log ADD PRIMARY KEY (part, pos);
  END IF;
END $$;
CREATE TABLE IF NOT EXISTS compacted(session text COLLATE "C" PRIMARY KEY, pos bigint NOT NULL, json text NOT NULL, part integer NOT NULL DEFAULT 0);
ALTER TABLE compacted ADD COLUMN IF NOT EXISTS part integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS compacted_pos ON compacted(pos);
CREATE INDEX IF NOT EXISTS compacted_part ON compacted(part, pos);
CREATE TABLE IF NOT EXISTS dead_letters(id bigserial PRIMARY KEY, source text NOT NULL, line bigint NOT NULL, reason text NOT NULL, raw text NOT NULL);
CREATE TABLE IF NOT EXISTS challenges(id text COLLATE "C" PRIMARY KEY, tree text NOT NULL, hash text NOT NULL, owner text COLLATE "C");
ALTER TABLE challenges ADD COLUMN IF NOT EXISTS owner text COLLATE "C";
CREATE TABLE IF NOT EXISTS offsets(consumer text COLLATE "C" PRIMARY KEY, pos bigint NOT NULL);
CREATE TABLE IF NOT EXISTS counters(name text PRIMARY KEY, value bigint NOT NULL);
CREATE TABLE IF NOT EXISTS meta(key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS workers(name text PRIMARY KEY, seen timestamptz NOT NULL, partitions integer NOT NULL);
CREATE TABLE IF NOT EXISTS admin_answers(id bigint PRIMARY KEY, known boolean NOT NULL);
CREATE SEQUENCE IF NOT EXISTS admin_requests;
CREATE TABLE IF NOT EXISTS clocks(uid text COLLATE "C" PRIMARY KEY, as_of text NOT NULL, part integer NOT NULL DEFAULT 0);
ALTER TABLE clocks ADD COLUMN IF NOT EXISTS part integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS clocks_part ON clocks(part);
CREATE TABLE IF NOT EXISTS workouts(key text COLLATE "C" PRIMARY KEY, uid text COLLATE "C", json text NOT NULL);
CREATE TABLE IF NOT EXISTS users(key text COLLATE "C" PRIMARY KEY, uid text COLLATE "C", json text NOT NULL);
CREATE TABLE IF NOT EXISTS sessions(key text COLLATE "C" PRIMARY KEY, uid text COLLATE "C", json text NOT NULL);
CREATE TABLE IF NOT EXISTS profiles(key text COLLATE "C" PRIMARY KEY, uid text COLLATE "C", json text NOT NULL, part integer NOT NULL DEFAULT 0);
ALTER TABLE profiles ADD COLUMN IF NOT EXISTS part integer NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS profiles_part ON profiles(part);
CREATE TABLE IF NOT EXISTS board_parts(part integer NOT NULL, key text COLLATE "C" NOT NULL, uid text COLLATE "C", json text NOT NULL, PRIMARY KEY(part, key));
CREATE TABLE IF NOT EXISTS leaderboards(key text COLLATE "C" PRIMARY KEY, uid text COLLATE "C", json text NOT NULL);
CREATE INDEX IF NOT EXISTS workouts_uid ON workouts(uid);
CREATE INDEX IF NOT EXISTS sessions_uid ON sessions(uid);
CREATE TABLE IF NOT EXISTS results(challenge text COLLATE "C" NOT NULL, uid text COLLATE "C" NOT NULL, version bigint NOT NULL, progress double precision NOT NULL, json text NOT NULL, PRIMARY KEY(uid, challenge));
CREATE TABLE IF NOT EXISTS live(challenge text COLLATE "C" NOT NULL, uid text COLLATE "C" NOT NULL, version bigint NOT NULL, progress double precision NOT NULL, json text NOT NULL, PRIMARY KEY(uid, challenge));
CREATE TABLE IF NOT EXISTS team_results(challenge text COLLATE "C" NOT NULL, team text COLLATE "C" NOT NULL, version bigint NOT NULL, progress double precision NOT NULL, json text NOT NULL, PRIMARY KEY(team, challenge));
CREATE INDEX IF NOT EXISTS results_challenge ON results(challenge, uid);
CREATE INDEX IF NOT EXISTS live_challenge ON live(challenge, uid);
CREATE INDEX IF NOT EXISTS team_results_challenge ON team_results(challenge, team);
CREATE TABLE IF NOT EXISTS rewards(challenge text COLLATE "C" NOT NULL, holder text COLLATE "C" NOT NULL, name text COLLATE "C" NOT NULL, team boolean NOT NULL, json text NOT NULL, PRIMARY KEY(challenge, holder, name));
CREATE TABLE IF NOT EXISTS deliveries(id bigserial PRIMARY KEY, url text NOT NULL, key text NOT NULL, body text NOT NULL, attempts integer NOT NULL DEFAULT 0, next_at bigint NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS changes(first bigint PRIMARY KEY, last bigint NOT NULL, items text NOT NULL);
CREATE INDEX IF NOT EXISTS changes_last ON changes(last);
CREATE TABLE IF NOT EXISTS outbox_seq(id integer PRIMARY KEY CHECK (id = 1), next bigint NOT NULL);
INSERT INTO outbox_seq(id, next) VALUES (1, 1) ON CONFLICT DO NOTHING;
"#;

/// The channel a commit that wrote changes notifies (`LISTEN challenge_changes`).
pub const CHANGES_CHANNEL: &str = "challenge_changes";

/// The advisory lock taken while the schema is created, so that processes starting together
/// do not race on `CREATE TABLE IF NOT EXISTS` (which is not atomic in PostgreSQL).
const SCHEMA_LOCK: i64 = 0x6368_616c_6c00;

/// The advisory lock of a database's one writer (the embedded engine on PostgreSQL).
const OWNER_LOCK: i64 = 0x6368_616c_6c01;

/// The advisory lock a gateway holds while it publishes a tick to every partition.
const TICK_LOCK: i64 = 0x6368_616c_6c03;

/// Whether `text` names a PostgreSQL database (`postgres://...` or `postgresql://...`).
pub fn is_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

/// `url` without its password, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let hidden = if userinfo.contains(':') { ":***" } else { "" };
            format!("{scheme}://{user}{hidden}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

/// A PostgreSQL failure in a user's words: the server's message (and detail) when it sent one.
pub fn pg_error(e: &postgres::Error) -> StoreError {
    StoreError::Backend(describe(e))
}

fn describe(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("postgresql: {}", db.message());
            if let Some(detail) = db.detail() {
                let _ = write!(text, " ({detail})");
            }
            text
        }
        None => {
            let mut text = format!("postgresql: {e}");
            let mut source = std::error::Error::source(e);
            while let Some(s) = source {
                let _ = write!(text, ": {s}");
                source = s.source();
            }
            text
        }
    }
}

/// Where a change's row is: its view (empty: a change without a row) and its key columns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct RowKey(&'static str, String, String, String);

/// The row a change of `kind` points at (the embedded outbox reader's rule).
fn row_key(kind: &str, user: Option<&str>, team: Option<&str>, key: &str) -> RowKey {
    let one =
        |view: &'static str, a: &str| RowKey(view, a.to_owned(), String::new(), String::new());
    let two = |view: &'static str, a: &str, b: &str| {
        RowKey(view, a.to_owned(), b.to_owned(), String::new())
    };
    if let (Some(team), "result") = (team, kind) {
        return two("team_results", team, key);
    }
    match (kind, user) {
        ("reward", _) => match (serde_json::from_str::<(String, String)>(key), user.or(team)) {
            (Ok((challenge, name)), Some(holder)) => {
                RowKey("rewards", challenge, holder.to_owned(), name)
            }
            _ => one("", ""),
        },
        ("result", Some(user)) => two("results", user, key),
        ("live", Some(user)) => two("live", user, key),
        ("workout", Some(_)) => one("workouts", key),
        ("profile", Some(_)) => one("profiles", key),
        ("leaderboard", None) => one("leaderboards", key),
        ("sensor", Some(_)) => one("sensor", key),
        _ => one("", ""),
    }
}

/// An outbox entry's change as stored: (kind, user, team, key).
type OutboxItem = (String, Option<String>, Option<String>, String);

/// The statements every commit uses, prepared once per connection.
struct Statements {
    log: Statement,
    dead_letters: Statement,
    results: Statement,
    live: Statement,
    team_results: Statement,
    put: HashMap<&'static str, (Statement, Statement)>,
    clocks: Statement,
    compacted: Statement,
    profiles: Statement,
    board_parts: Statement,
    reward: Statement,
    owe: Statement,
}

/// The pipeline's store on a PostgreSQL database.
pub struct PgStore {
    client: Client,
    statements: Statements,
    /// The change outbox keeps the newest this many changes, when on.
    feed: Option<u64>,
    /// The URL without its password, for messages.
    name: String,
    /// The URL (for another connection to the same database).
    url: String,
    /// The partition whose sources of truth this store reads and writes (a worker's engine
    /// over one partition of a scale-out store); `None`: the whole store.
    part: Option<i32>,
}

/// The meta key holding a partitioned store's partition count (written by the first worker).
pub const PARTITIONS_KEY: &str = "scale.partitions";

/// A counter of partition `part` (`read.p7`): each partition's engine keeps its own, and the
/// whole store's counter is their sum.
fn part_counter(name: &str, part: i32) -> String {
    format!("{name}.p{part}")
}

/// The counter name without its partition suffix (`read.p7` → `read`).
fn base_counter(name: &str) -> &str {
    match name.rsplit_once(".p") {
        Some((base, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => name,
    }
}

fn versioned_sql(table: &str) -> String {
    let who = if table == "team_results" {
        "team"
    } else {
        "uid"
    };
    format!(
        "INSERT INTO {table}(challenge, {who}, version, progress, json) \
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::float8[], $5::text[]) \
         ON CONFLICT ({who}, challenge) DO UPDATE SET version = excluded.version, \
         progress = excluded.progress, json = excluded.json \
         WHERE excluded.version >= {table}.version"
    )
}

impl PgStore {
    /// Connects to the database at `url` and creates the schema if missing.
    pub fn connect(url: &str) -> Result<PgStore, StoreError> {
        let name = redact(url);
        let mut client = Client::connect(url, NoTls).map_err(|e| {
            StoreError::Backend(format!("cannot connect to `{name}`: {}", describe(&e)))
        })?;
        {
            let mut tx = client.transaction().map_err(|e| pg_error(&e))?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
                .map_err(|e| pg_error(&e))?;
            tx.batch_execute(SCHEMA).map_err(|e| pg_error(&e))?;
            tx.commit().map_err(|e| pg_error(&e))?;
        }
        let statements = Statements::prepare(&mut client)?;
        Ok(PgStore {
            client,
            statements,
            feed: None,
            name,
            url: url.to_owned(),
            part: None,
        })
    }

    /// Connects as the store of partition `part` of a scale-out store: the log, the compacted
    /// workouts, the clocks, the counters and the profiles it reads and writes are the
    /// partition's (each user is in one partition); the month's leaderboards it writes are the
    /// partition's part of them (`board_parts`), which the reducer merges; the other views are
    /// shared and keyed by user.
    pub fn connect_partition(url: &str, part: u32) -> Result<PgStore, StoreError> {
        let mut store = PgStore::connect(url)?;
        store.part = Some(i32::try_from(part).unwrap_or(i32::MAX));
        Ok(store)
    }

    /// The partition this store is scoped to.
    pub fn part(&self) -> Option<u32> {
        self.part.and_then(|p| u32::try_from(p).ok())
    }

    /// Becomes the database's one writer for as long as this store lives (`challenge pipeline
    /// ingest`, `tick`, `rebuild`, `compact` on a database): a session advisory lock, released
    /// by the server when the connection ends, however the process ends.
    pub fn own(&mut self) -> Result<(), StoreError> {
        let got: bool = self
            .client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&OWNER_LOCK])
            .map_err(|e| pg_error(&e))?
            .get(0);
        if got {
            Ok(())
        } else {
            Err(StoreError::Owned(self.name.clone()))
        }
    }

    /// Turns the change feed on: every later commit also writes its changes to the outbox, in
    /// its transaction, keeping the newest `keep`, and notifies [`CHANGES_CHANNEL`].
    ///
    /// The sequence numbers are taken from a one-row counter as the last statement of the
    /// transaction: its row lock is held until the commit, so commits take their numbers in
    /// commit order, and a reader that follows the outbox by sequence number never skips a
    /// change committed after one it has read.
    pub fn enable_feed(&mut self, keep: u64) {
        self.feed = Some(keep.max(1));
    }

    /// Up to about `limit` outbox changes after `after`, with their rows as they are now (rows
    /// deleted since are left out), and the last sequence number scanned (`after` when none):
    /// the embedded store's `changes_after`.
    pub fn changes_after(
        &mut self,
        after: u64,
        limit: u64,
    ) -> Result<(Vec<Committed>, u64), StoreError> {
        let rows = self
            .client
            .query(
                "SELECT first, items FROM changes WHERE last > $1 ORDER BY first LIMIT 64",
                &[&position(after)],
            )
            .map_err(|e| pg_error(&e))?;
        let mut entries: Vec<(u64, Vec<OutboxItem>)> = Vec::new();
        let mut taken = 0u64;
        for row in rows {
            let items: Vec<OutboxItem> =
                serde_json::from_str(row.get(1)).map_err(|e| StoreError::Backend(e.to_string()))?;
            taken += items.len() as u64;
            entries.push((as_u64(row.get(0)), items));
            if taken >= limit {
                break;
            }
        }
        // The changes after `after`, then their rows read in bulk: one query per view (a
        // batch of sensor events makes thousands of changes; a query each left the gateways'
        // streams seconds behind under load).
        let mut last = after;
        let mut wanted: Vec<(u64, &'static str, OutboxItem)> = Vec::new();
        for (first, items) in entries {
            for (seq, item) in (first..).zip(items) {
                if seq <= after {
                    continue;
                }
                last = seq;
                wanted.push((seq, feed::kind(&item.0), item));
            }
        }
        let keys: Vec<RowKey> = wanted
            .iter()
            .map(|(_, kind, (_, user, team, key))| {
                row_key(kind, user.as_deref(), team.as_deref(), key)
            })
            .collect();
        let rows = self.rows_of(&keys)?;
        let mut out = Vec::with_capacity(wanted.len());
        for ((seq, kind, (_, user, team, key)), at) in wanted.into_iter().zip(&keys) {
            if let Some(data) = rows.get(at) {
                out.push(Committed {
                    seq,
                    change: feed::Change {
                        kind,
                        user,
                        team,
                        key,
                        data: data.clone(),
                    },
                });
            }
        }
        Ok((out, last))
    }

    /// The rows at `keys` that are still there.
    fn rows_of(&mut self, keys: &[RowKey]) -> Result<HashMap<RowKey, String>, StoreError> {
        let e = |e: postgres::Error| pg_error(&e);
        // Per view, the key columns as parallel arrays.
        let mut asked: BTreeMap<&'static str, [Vec<&str>; 3]> = BTreeMap::new();
        for RowKey(view, a, b, c) in keys {
            if !view.is_empty() {
                let cols = asked.entry(view).or_default();
                cols[0].push(a);
                cols[1].push(b);
                cols[2].push(c);
            }
        }
        let mut rows = HashMap::new();
        for (view, [a, b, c]) in asked {
            // Each query gives back the key columns as `row_key` makes them, then the row.
            let found = match view {
                "sensor" => {
                    let pos: Vec<i64> = a.iter().filter_map(|k| k.parse().ok()).collect();
                    self.client.query(
                        "SELECT pos::text, '', '', body FROM log WHERE pos = ANY($1)",
                        &[&pos],
                    )
                }
                "rewards" => self.client.query(
                    "SELECT r.challenge, r.holder, r.name, r.json FROM rewards r \
                     JOIN unnest($1::text[], $2::text[], $3::text[]) AS k(a, b, c) \
                     ON r.challenge = k.a AND r.holder = k.b AND r.name = k.c",
                    &[&a, &b, &c],
                ),
                "results" | "live" => self.client.query(
                    &format!(
                        "SELECT t.uid, t.challenge, '', t.json FROM {view} t \
                         JOIN unnest($1::text[], $2::text[]) AS k(a, b) \
                         ON t.uid = k.a AND t.challenge = k.b"
                    ),
                    &[&a, &b],
                ),
                "team_results" => self.client.query(
                    "SELECT t.team, t.challenge, '', t.json FROM team_results t \
                     JOIN unnest($1::text[], $2::text[]) AS k(a, b) \
                     ON t.team = k.a AND t.challenge = k.b",
                    &[&a, &b],
                ),
                keyed => self.client.query(
                    &format!("SELECT key, '', '', json FROM {keyed} WHERE key = ANY($1)"),
                    &[&a],
                ),
            };
            for row in found.map_err(e)? {
                rows.insert(RowKey(view, row.get(0), row.get(1), row.get(2)), row.get(3));
            }
        }
        Ok(rows)
    }

    /// The oldest and the newest sequence numbers in the outbox (0, 0 when empty).
    pub fn change_bounds(&mut self) -> Result<(u64, u64), StoreError> {
        let row = self
            .client
            .query_one(
                "SELECT coalesce(min(first), 0), coalesce(max(last), 0) FROM changes",
                &[],
            )
            .map_err(|e| pg_error(&e))?;
        Ok((as_u64(row.get(0)), as_u64(row.get(1))))
    }

    /// Listens for committed changes on this connection ([`PgStore::wait_for_changes`]).
    pub fn listen(&mut self) -> Result<(), StoreError> {
        self.client
            .batch_execute(&format!("LISTEN {CHANGES_CHANNEL}"))
            .map_err(|e| pg_error(&e))
    }

    /// Waits up to `timeout` for a commit's notification (after [`PgStore::listen`]);
    /// `Ok(true)` when one came.
    pub fn wait_for_changes(&mut self, timeout: std::time::Duration) -> Result<bool, StoreError> {
        let mut notifications = self.client.notifications();
        let any = notifications
            .timeout_iter(timeout)
            .next()
            .map_err(|e| pg_error(&e))?
            .is_some();
        if any {
            // Take whatever else has arrived, without waiting again.
            let mut pending = notifications.iter();
            while pending.next().map_err(|e| pg_error(&e))?.is_some() {}
        }
        Ok(any)
    }

    /// The stored challenges (id, JSON tree, hash), by id.
    pub fn stored_challenges(&mut self) -> Result<Vec<StoredChallenge>, StoreError> {
        read_challenges(&mut self.client)
    }

    /// The webhook deliveries owed (not yet delivered), due or not.
    pub fn deliveries_owed(&mut self) -> Result<u64, StoreError> {
        let n: i64 = self
            .client
            .query_one("SELECT count(*) FROM deliveries", &[])
            .map_err(|e| pg_error(&e))?
            .get(0);
        Ok(as_u64(n))
    }

    /// Takes the store's tick lock for this session (waiting for it): the one publisher of
    /// ticks at a time, so that every partition stream has the ticks in the same order.
    pub fn lock_ticks(&mut self) -> Result<(), StoreError> {
        self.client
            .execute("SELECT pg_advisory_lock($1)", &[&TICK_LOCK])
            .map_err(|e| pg_error(&e))?;
        Ok(())
    }

    /// Releases the tick lock.
    pub fn unlock_ticks(&mut self) -> Result<(), StoreError> {
        self.client
            .execute("SELECT pg_advisory_unlock($1)", &[&TICK_LOCK])
            .map_err(|e| pg_error(&e))?;
        Ok(())
    }

    /// The database's URL, without its password.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The database's URL (with its password: for another connection, never for a message).
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Clears the views of partition `part`'s users (the shared tables hold every partition's
    /// rows, keyed by user: a user's partition is [`pipeline::partition::partition_of`] of its
    /// id) and the partition's own rows.
    fn clear_partition(&mut self, part: i32) -> Result<(), StoreError> {
        let e = |e: postgres::Error| pg_error(&e);
        let n = self.partitions()?.unwrap_or(1);
        let mut tx = self.client.transaction().map_err(e)?;
        for table in ["workouts", "users", "sessions", "results", "live"] {
            let users: Vec<String> = tx
                .query(
                    &format!("SELECT DISTINCT uid FROM {table} WHERE uid IS NOT NULL"),
                    &[],
                )
                .map_err(e)?
                .iter()
                .map(|r| r.get::<_, String>(0))
                .filter(|u| {
                    i32::try_from(pipeline::partition::partition_of(u, n)).ok() == Some(part)
                })
                .collect();
            tx.execute(
                &format!("DELETE FROM {table} WHERE uid = ANY($1)"),
                &[&users],
            )
            .map_err(e)?;
        }
        for table in ["profiles", "board_parts", "clocks"] {
            tx.execute(&format!("DELETE FROM {table} WHERE part = $1"), &[&part])
                .map_err(e)?;
        }
        tx.execute(
            "DELETE FROM offsets WHERE consumer = $1",
            &[&part_counter("views", part)],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    /// A new admin request's number (a gateway's user deletion waits for its answer).
    pub fn next_admin_request(&mut self) -> Result<i64, StoreError> {
        Ok(self
            .client
            .query_one("SELECT nextval('admin_requests')", &[])
            .map_err(|e| pg_error(&e))?
            .get(0))
    }

    /// The answer a partition wrote for admin request `id` (whether it knew the user), taken
    /// from the table; `None` while none was written.
    pub fn take_admin_answer(&mut self, id: i64) -> Result<Option<bool>, StoreError> {
        Ok(self
            .client
            .query_opt(
                "DELETE FROM admin_answers WHERE id = $1 RETURNING known",
                &[&id],
            )
            .map_err(|e| pg_error(&e))?
            .map(|r| r.get(0)))
    }

    /// The ticks every partition of a partitioned store has applied (the fewest any has; 0
    /// until each partition has one).
    pub fn ticks_in_every_partition(&mut self) -> Result<u64, StoreError> {
        let Some(n) = self.partitions()? else {
            return Ok(0);
        };
        let n: i64 = self
            .client
            .query_one(
                "SELECT CASE WHEN count(*) = $1 THEN min(c) ELSE 0 END FROM \
                 (SELECT count(*) AS c FROM log WHERE kind = 'tick' GROUP BY part) t",
                &[&i64::from(n)],
            )
            .map_err(|e| pg_error(&e))?
            .get(0);
        Ok(as_u64(n))
    }

    /// The workers whose heartbeat is recent (`challenge-scale`'s worker table).
    pub fn live_workers(&mut self) -> Result<u64, StoreError> {
        let n: i64 = self
            .client
            .query_one(
                "SELECT count(*) FROM workers WHERE seen > now() - make_interval(secs => $1)",
                &[&f64::from(crate::worker::HEARTBEAT_TIMEOUT_SECS)],
            )
            .map_err(|e| pg_error(&e))?
            .get(0);
        Ok(as_u64(n))
    }

    /// The partitions' parts of the month's boards (their rows' JSON), in key order.
    pub fn board_parts(&mut self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .client
            .query("SELECT json FROM board_parts ORDER BY part, key", &[])
            .map_err(|e| pg_error(&e))?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    /// Whether this is a partitioned scale-out store (a worker recorded its partition count).
    pub fn partitioned(&mut self) -> Result<bool, StoreError> {
        Ok(self.partitions()?.is_some())
    }

    /// The partition count a worker recorded; `None` for a store no worker derives.
    pub fn partitions(&mut self) -> Result<Option<u32>, StoreError> {
        Ok(self
            .client
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&PARTITIONS_KEY])
            .map_err(|e| pg_error(&e))?
            .and_then(|r| r.get::<_, String>(0).parse().ok()))
    }

    /// The connection (for the scale-out's own tables).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }
}

impl Statements {
    fn prepare(client: &mut Client) -> Result<Statements, StoreError> {
        let mut p = |sql: &str| client.prepare(sql).map_err(|e| pg_error(&e));
        let mut put = HashMap::new();
        for view in KEYED {
            put.insert(
                view,
                (
                    p(&format!(
                        "INSERT INTO {view}(key, uid, json) \
                         SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) \
                         ON CONFLICT (key) DO UPDATE SET uid = excluded.uid, json = excluded.json"
                    ))?,
                    p(&format!("DELETE FROM {view} WHERE key = ANY($1::text[])"))?,
                ),
            );
        }
        Ok(Statements {
            log: p("INSERT INTO log(part, pos, kind, session, body) SELECT $5::integer, u.* \
                    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[]) u")?,
            dead_letters: p("INSERT INTO dead_letters(source, line, reason, raw) \
                             SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[])")?,
            results: p(&versioned_sql("results"))?,
            live: p(&versioned_sql("live"))?,
            team_results: p(&versioned_sql("team_results"))?,
            put,
            clocks: p("INSERT INTO clocks(uid, as_of, part) SELECT u.*, $3::integer \
                       FROM unnest($1::text[], $2::text[]) u \
                       ON CONFLICT (uid) DO UPDATE SET as_of = excluded.as_of, part = excluded.part")?,
            compacted: p("INSERT INTO compacted(session, pos, json, part) SELECT u.*, $4::integer \
                          FROM unnest($1::text[], $2::bigint[], $3::text[]) u \
                          ON CONFLICT (session) DO UPDATE SET pos = excluded.pos, json = excluded.json, \
                          part = excluded.part")?,
            profiles: p("INSERT INTO profiles(key, uid, json, part) SELECT u.*, $4::integer \
                         FROM unnest($1::text[], $2::text[], $3::text[]) u \
                         ON CONFLICT (key) DO UPDATE SET uid = excluded.uid, json = excluded.json, \
                         part = excluded.part")?,
            board_parts: p("INSERT INTO board_parts(key, uid, json, part) SELECT u.*, $4::integer \
                            FROM unnest($1::text[], $2::text[], $3::text[]) u")?,
            reward: p("INSERT INTO rewards(challenge, holder, name, team, json) \
                       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING")?,
            owe: p("INSERT INTO deliveries(url, key, body) VALUES ($1, $2, $3)")?,
        })
    }
}

/// A log position as PostgreSQL's `bigint` (positions past `i64::MAX` cannot occur; they clamp).
pub fn position(pos: u64) -> i64 {
    i64::try_from(pos).unwrap_or(i64::MAX)
}

fn as_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Text for a `text` column: NUL (which PostgreSQL refuses) becomes U+FFFD.
fn no_nul(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\0') {
        std::borrow::Cow::Owned(text.replace('\0', "\u{FFFD}"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Versioned rows folded by key in batch order: a row replaces an earlier one of the same key
/// unless it is older (the embedded store's sequential upserts).
fn fold_versioned(rows: &[ResultRow]) -> Vec<&ResultRow> {
    let mut at: HashMap<(&str, &str), usize> = HashMap::with_capacity(rows.len());
    let mut out: Vec<&ResultRow> = Vec::with_capacity(rows.len());
    for r in rows {
        match at.get(&(r.challenge.as_str(), r.user.as_str())) {
            Some(&i) => {
                if let Some(kept) = out.get_mut(i) {
                    if r.version >= kept.version {
                        *kept = r;
                    }
                }
            }
            None => {
                at.insert((r.challenge.as_str(), r.user.as_str()), out.len());
                out.push(r);
            }
        }
    }
    out
}

/// Keyed rows folded by key: the last put wins.
fn fold_keyed<'a>(rows: impl Iterator<Item = &'a Row>) -> Vec<&'a Row> {
    last_per_key(rows.map(|r| (r.key.as_str(), r)))
        .into_iter()
        .map(|(_, r)| r)
        .collect()
}

/// The last item of each key, in the order the keys first appear: the embedded store applies a
/// batch's puts one after the other, and one `INSERT ... ON CONFLICT` may not touch a row twice.
fn last_per_key<'a, T>(items: impl Iterator<Item = (&'a str, T)>) -> Vec<(&'a str, T)> {
    let mut at: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(&str, T)> = Vec::new();
    for (key, item) in items {
        match at.get(key) {
            Some(&i) => {
                if let Some(kept) = out.get_mut(i) {
                    kept.1 = item;
                }
            }
            None => {
                at.insert(key, out.len());
                out.push((key, item));
            }
        }
    }
    out
}

fn upsert_versioned(
    tx: &mut Transaction<'_>,
    statement: &Statement,
    rows: &[ResultRow],
) -> Result<(), postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let rows = fold_versioned(rows);
    let challenges: Vec<&str> = rows.iter().map(|r| r.challenge.as_str()).collect();
    let users: Vec<&str> = rows.iter().map(|r| r.user.as_str()).collect();
    let versions: Vec<i64> = rows.iter().map(|r| position(r.version)).collect();
    let progress: Vec<f64> = rows.iter().map(|r| r.progress).collect();
    let json: Vec<&str> = rows.iter().map(|r| r.json.as_str()).collect();
    tx.execute(
        statement,
        &[&challenges, &users, &versions, &progress, &json],
    )?;
    Ok(())
}

/// Puts keyed rows (`key`, `uid`, `json`), and their partition for the tables that keep one
/// (`profiles`, `board_parts`: the statement's fourth parameter).
fn put_rows(
    tx: &mut Transaction<'_>,
    statement: &Statement,
    rows: &[&Row],
    part: Option<&i32>,
) -> Result<(), postgres::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = rows.iter().map(|r| r.key.as_str()).collect();
    let users: Vec<Option<&str>> = rows.iter().map(|r| r.user.as_deref()).collect();
    let json: Vec<&str> = rows.iter().map(|r| r.json.as_str()).collect();
    let mut params: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&keys, &users, &json];
    params.extend(part.map(|p| p as &(dyn postgres::types::ToSql + Sync)));
    tx.execute(statement, &params)?;
    Ok(())
}

/// The counter of ticks applied (per partition in a partitioned store).
pub const TICKS: &str = "ticks";

/// The counter of erasures applied (per partition in a partitioned store).
pub const ERASURES: &str = "erasures";

fn unknown_view(view: &str) -> StoreError {
    StoreError::Backend(format!("unknown view `{view}`"))
}

/// Applies a batch in `tx` in the embedded store's order; gives the indices (in
/// [`Batch::rewards`]) of the rewards this batch issued.
/// The stored challenges (id, JSON tree, hash, owner), by id.
fn read_challenges(client: &mut Client) -> Result<Vec<StoredChallenge>, StoreError> {
    let rows = client
        .query(
            "SELECT id, tree, hash, owner FROM challenges ORDER BY id",
            &[],
        )
        .map_err(|e| pg_error(&e))?;
    Ok(rows
        .iter()
        .map(|r| StoredChallenge {
            id: r.get(0),
            tree: r.get(1),
            hash: r.get(2),
            owner: r.get(3),
        })
        .collect())
}

/// A log entry's kind as stored (the embedded store's names).
fn kind_name(kind: LogKind) -> &'static str {
    match kind {
        LogKind::Event => "event",
        LogKind::Tick => "tick",
        LogKind::UserDelete => "user_delete",
    }
}

/// A stored kind read back.
fn kind_of(name: &str) -> LogKind {
    match name {
        "tick" => LogKind::Tick,
        "user_delete" => LogKind::UserDelete,
        _ => LogKind::Event,
    }
}

/// Purges a user's sources of truth and view rows, as the embedded store does (the
/// leaderboards and team rows, which other users share, are rewritten by the batch). Log bodies
/// are JSON (only accepted lines are logged); dead letters may not be, so they are read and
/// matched here rather than cast in SQL.
fn erase(tx: &mut Transaction<'_>, erasure: &Erasure) -> Result<(), StoreError> {
    let e = |e: postgres::Error| pg_error(&e);
    let user = erasure.user.as_str();
    tx.execute(
        "DELETE FROM log WHERE (kind = 'event' AND session = ANY($2::text[])) \
         OR (session IS NULL AND kind IN ('event', 'user_delete') AND (\
         (kind = 'event' AND body::jsonb->>'type' = 'user_upsert' AND body::jsonb#>>'{user,id}' = $1) \
         OR (kind = 'event' AND body::jsonb->>'type' = 'workout' AND body::jsonb#>>'{workout,user}' = $1) \
         OR (kind = 'user_delete' AND body::jsonb->>'user' = $1)))",
        &[&user, &erasure.sessions],
    )
    .map_err(e)?;
    tx.execute(
        "DELETE FROM compacted WHERE session = ANY($1::text[])",
        &[&erasure.sessions],
    )
    .map_err(e)?;
    // Rejected lines that name the user (a cheap text filter first, then the JSON).
    let pattern = format!(
        "%{}%",
        user.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut named: Vec<i64> = Vec::new();
    for row in tx
        .query(
            "SELECT id, raw FROM dead_letters WHERE raw LIKE $1",
            &[&pattern],
        )
        .map_err(e)?
    {
        let raw: &str = row.get(1);
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) {
            let names = [
                v.get("user"),
                v.pointer("/user/id"),
                v.pointer("/workout/user"),
            ];
            if names
                .iter()
                .any(|n| n.and_then(|n| n.as_str()) == Some(user))
            {
                named.push(row.get(0));
            }
        }
    }
    if !named.is_empty() {
        tx.execute("DELETE FROM dead_letters WHERE id = ANY($1)", &[&named])
            .map_err(e)?;
    }
    tx.execute(
        "DELETE FROM deliveries WHERE key IN (SELECT challenge || '/' || holder || '/' || name \
         FROM rewards WHERE holder = $1 AND NOT team)",
        &[&user],
    )
    .map_err(e)?;
    tx.execute(
        "DELETE FROM rewards WHERE holder = $1 AND NOT team",
        &[&user],
    )
    .map_err(e)?;
    crate::directory::erase_user(tx, user)?;
    for table in [
        "results",
        "live",
        "clocks",
        "workouts",
        "users",
        "sessions",
        "profiles",
        "leaderboards",
        "board_parts",
    ] {
        tx.execute(&format!("DELETE FROM {table} WHERE uid = $1"), &[&user])
            .map_err(e)?;
    }
    Ok(())
}

fn apply(
    tx: &mut Transaction<'_>,
    st: &Statements,
    scope: Option<i32>,
    batch: &Batch,
) -> Result<Vec<usize>, StoreError> {
    let e = |e: postgres::Error| pg_error(&e);
    let part = scope.unwrap_or(0);
    if let Some(view) = batch
        .put
        .iter()
        .map(|(v, _)| *v)
        .chain(batch.delete.iter().map(|(v, _)| *v))
        .find(|v| !KEYED.contains(v))
    {
        return Err(unknown_view(view));
    }
    // The log: the batch's entries, then its ingest spans.
    let n = batch.log.len() + batch.log_spans.len();
    if n > 0 {
        let mut pos = Vec::with_capacity(n);
        let mut kind = Vec::with_capacity(n);
        let mut session: Vec<Option<&str>> = Vec::with_capacity(n);
        let mut body = Vec::with_capacity(n);
        for entry in &batch.log {
            pos.push(position(entry.pos));
            kind.push(kind_name(entry.kind));
            session.push(entry.session.as_deref());
            body.push(entry.body.as_str());
        }
        for span in &batch.log_spans {
            let (text, s) = batch.span_text(span);
            pos.push(position(span.pos));
            kind.push("event");
            session.push(s);
            body.push(text);
        }
        tx.execute(&st.log, &[&pos, &kind, &session, &body, &part])
            .map_err(e)?;
    }
    if !batch.dead_letters.is_empty() {
        let d = &batch.dead_letters;
        let source: Vec<String> = d.iter().map(|d| no_nul(&d.source).into_owned()).collect();
        let line: Vec<i64> = d.iter().map(|d| position(d.line)).collect();
        let reason: Vec<String> = d.iter().map(|d| no_nul(&d.reason).into_owned()).collect();
        let raw: Vec<String> = d.iter().map(|d| no_nul(&d.raw).into_owned()).collect();
        tx.execute(&st.dead_letters, &[&source, &line, &reason, &raw])
            .map_err(e)?;
    }
    if let Some((lo, hi)) = batch.purge_compacted {
        tx.execute(
            "DELETE FROM log WHERE part = $3 AND pos >= $1 AND pos < $2 AND kind = 'event' \
             AND session IN (SELECT session FROM compacted)",
            &[&position(lo), &position(hi), &part],
        )
        .map_err(e)?;
    }
    if !batch.compacted.is_empty() {
        let rows = last_per_key(batch.compacted.iter().map(|(s, c)| (s.as_str(), c)));
        let sessions: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let pos: Vec<i64> = rows.iter().map(|r| position(r.1.pos)).collect();
        let json: Vec<&str> = rows.iter().map(|r| r.1.json.as_str()).collect();
        tx.execute(&st.compacted, &[&sessions, &pos, &json, &part])
            .map_err(e)?;
    }
    for c in &batch.put_challenges {
        tx.execute(
            "INSERT INTO challenges(id, tree, hash, owner) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET tree = excluded.tree, hash = excluded.hash, \
             owner = excluded.owner",
            &[&c.id, &c.tree, &c.hash, &c.owner],
        )
        .map_err(e)?;
    }
    for id in &batch.delete_challenges {
        tx.execute("DELETE FROM challenges WHERE id = $1", &[id])
            .map_err(e)?;
    }
    for view in KEYED {
        let rows = fold_keyed(batch.put.iter().filter(|(v, _)| *v == view).map(|(_, r)| r));
        if let Some((put, _)) = st.put.get(view) {
            put_rows(tx, put, &rows, None).map_err(e)?;
        }
    }
    for view in KEYED {
        let keys: Vec<&str> = batch
            .delete
            .iter()
            .filter(|(v, _)| *v == view)
            .map(|(_, k)| k.as_str())
            .collect();
        if keys.is_empty() {
            continue;
        }
        if let Some((_, delete)) = st.put.get(view) {
            tx.execute(delete, &[&keys]).map_err(e)?;
        }
    }
    if let Some(erasure) = &batch.erase {
        erase(tx, erasure)?;
    }
    if !batch.drop_results_of_users.is_empty() {
        tx.execute(
            "DELETE FROM results WHERE uid = ANY($1::text[])",
            &[&batch.drop_results_of_users],
        )
        .map_err(e)?;
    }
    if !batch.drop_challenges.is_empty() {
        for table in ["results", "team_results", "live"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE challenge = ANY($1::text[])"),
                &[&batch.drop_challenges],
            )
            .map_err(e)?;
        }
    }
    upsert_versioned(tx, &st.results, &batch.results).map_err(e)?;
    for (challenge, team) in &batch.drop_team_results {
        tx.execute(
            "DELETE FROM team_results WHERE challenge = $1 AND team = $2",
            &[challenge, team],
        )
        .map_err(e)?;
    }
    upsert_versioned(tx, &st.team_results, &batch.team_results).map_err(e)?;
    if !batch.replace_live_of_users.is_empty() {
        tx.execute(
            "DELETE FROM live WHERE uid = ANY($1::text[])",
            &[&batch.replace_live_of_users],
        )
        .map_err(e)?;
    }
    upsert_versioned(tx, &st.live, &batch.live).map_err(e)?;
    if let Some(rows) = &batch.profiles {
        // Every profile of the store, or of the partition.
        tx.execute(
            "DELETE FROM profiles WHERE $1::integer IS NULL OR part = $1",
            &[&scope],
        )
        .map_err(e)?;
        put_rows(tx, &st.profiles, &fold_keyed(rows.iter()), Some(&part)).map_err(e)?;
    }
    if let Some(rows) = &batch.leaderboards {
        if scope.is_some() {
            // The partition's part of the month's boards: the reducer merges the parts.
            tx.execute("DELETE FROM board_parts WHERE part = $1", &[&part])
                .map_err(e)?;
            put_rows(tx, &st.board_parts, &fold_keyed(rows.iter()), Some(&part)).map_err(e)?;
        } else {
            tx.execute("DELETE FROM leaderboards", &[]).map_err(e)?;
            if let Some((put, _)) = st.put.get("leaderboards") {
                put_rows(tx, put, &fold_keyed(rows.iter()), None).map_err(e)?;
            }
        }
    }
    if !batch.clocks.is_empty() {
        let rows = last_per_key(batch.clocks.iter().map(|(u, a)| (u.as_str(), a.as_str())));
        let users: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let as_of: Vec<&str> = rows.iter().map(|r| r.1).collect();
        tx.execute(&st.clocks, &[&users, &as_of, &part])
            .map_err(e)?;
    }
    let c = &batch.counters;
    let ticks = batch.log.iter().filter(|l| l.kind == LogKind::Tick).count() as u64;
    let deletions = batch
        .log
        .iter()
        .filter(|l| l.kind == LogKind::UserDelete)
        .count() as u64;
    let erasures = u64::from(batch.erase.is_some());
    let (ticks, deletions, erasures) = if scope.is_some() {
        (ticks, deletions, erasures)
    } else {
        (0, 0, 0)
    };
    for (name, value) in [
        ("read", c.read),
        ("accepted", c.accepted),
        ("duplicates", c.duplicates),
        ("rejected", c.rejected),
        // A partition's barriers, which the reducer compares across partitions.
        (TICKS, ticks),
        ("deletions", deletions),
        (ERASURES, erasures),
    ] {
        if value > 0 {
            let name = match scope {
                Some(part) => part_counter(name, part),
                None => name.to_owned(),
            };
            tx.execute(
                "INSERT INTO counters(name, value) VALUES ($1, $2) \
                 ON CONFLICT (name) DO UPDATE SET value = counters.value + excluded.value",
                &[&name, &position(value)],
            )
            .map_err(e)?;
        }
    }
    for (consumer, pos) in &batch.offsets {
        // Each partition's engine has its own view head.
        let consumer = match scope {
            Some(part) if consumer == "views" => part_counter(consumer, part),
            _ => consumer.clone(),
        };
        tx.execute(
            "INSERT INTO offsets(consumer, pos) VALUES ($1, $2) \
             ON CONFLICT (consumer) DO UPDATE SET pos = excluded.pos",
            &[&consumer, &position(*pos)],
        )
        .map_err(e)?;
    }
    for (key, value) in &batch.meta {
        tx.execute(
            "INSERT INTO meta(key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[key, value],
        )
        .map_err(e)?;
    }
    let mut issued = Vec::new();
    for (i, r) in batch.rewards.iter().enumerate() {
        let json = r.json();
        let n = tx
            .execute(
                &st.reward,
                &[&r.challenge, &r.holder, &r.name, &r.team, &json],
            )
            .map_err(e)?;
        if n == 0 {
            continue;
        }
        issued.push(i);
        let key = r.idempotency_key();
        for url in &batch.webhooks {
            tx.execute(&st.owe, &[url, &key, &json]).map_err(e)?;
        }
    }
    Ok(issued)
}

/// Appends a batch's changes to the outbox (one row per commit: its first and last sequence
/// numbers and, per change, what finds its row), prunes what is older than `keep`, and
/// notifies the listeners (delivered at the commit).
fn write_changes(
    tx: &mut Transaction<'_>,
    keep: u64,
    batch: &Batch,
    issued: &[usize],
    scope: Option<i32>,
) -> Result<(), postgres::Error> {
    let mut changes = feed::changes_of(batch, issued);
    if scope.is_some() {
        // A partition's boards are its part of them, not rows of the leaderboards view: the
        // reducer's merge is what changes the view.
        changes.retain(|c| c.kind != "leaderboard");
    }
    if changes.is_empty() {
        return Ok(());
    }
    let items: Vec<(&str, Option<&str>, Option<&str>, &str)> = changes
        .iter()
        .map(|c| (c.kind, c.user.as_deref(), c.team.as_deref(), c.key.as_str()))
        .collect();
    let items = serde_json::to_string(&items).unwrap_or_default();
    let n = position(changes.len() as u64);
    // Last: the counter's row lock orders the commits by sequence number.
    let first: i64 = tx
        .query_one(
            "UPDATE outbox_seq SET next = next + $1 WHERE id = 1 RETURNING next - $1",
            &[&n],
        )?
        .get(0);
    let last = first + n - 1;
    tx.execute(
        "INSERT INTO changes(first, last, items) VALUES ($1, $2, $3)",
        &[&first, &last, &items],
    )?;
    let oldest = last + 1 - position(keep);
    if oldest > 0 {
        tx.execute("DELETE FROM changes WHERE last < $1", &[&oldest])?;
    }
    tx.batch_execute(&format!("NOTIFY {CHANGES_CHANNEL}"))?;
    Ok(())
}

impl Store for PgStore {
    fn snapshot(&mut self) -> Result<Snapshot, StoreError> {
        let e = |e: postgres::Error| pg_error(&e);
        let scope = self.part;
        let c = &mut self.client;
        let mut snapshot = Snapshot::default();
        let head: i64 = c
            .query_one(
                "SELECT greatest(\
                 (SELECT coalesce(max(pos), 0) FROM log WHERE $1::integer IS NULL OR part = $1), \
                 (SELECT coalesce(max(pos), 0) FROM compacted WHERE $1::integer IS NULL OR part = $1))",
                &[&scope],
            )
            .map_err(e)?
            .get(0);
        snapshot.head = as_u64(head);
        snapshot.challenges = read_challenges(c)?;
        for row in c
            .query(
                "SELECT uid, as_of FROM clocks WHERE $1::integer IS NULL OR part = $1",
                &[&scope],
            )
            .map_err(e)?
        {
            snapshot.clocks.insert(row.get(0), row.get(1));
        }
        for row in c.query("SELECT key, value FROM meta", &[]).map_err(e)? {
            snapshot.meta.insert(row.get(0), row.get(1));
        }
        for row in c
            .query("SELECT consumer, pos FROM offsets", &[])
            .map_err(e)?
        {
            snapshot.offsets.insert(row.get(0), as_u64(row.get(1)));
        }
        let mut counters = Counters::default();
        for row in c
            .query("SELECT name, value FROM counters", &[])
            .map_err(e)?
        {
            let name: String = row.get(0);
            let value = as_u64(row.get(1));
            // A partition's engine counts its own; the whole store's are the sums.
            let name = match scope {
                Some(part) => match name.strip_suffix(&format!(".p{part}")) {
                    Some(base) => base,
                    None => continue,
                },
                None => base_counter(&name),
            };
            let counter = match name {
                "read" => &mut counters.read,
                "accepted" => &mut counters.accepted,
                "duplicates" => &mut counters.duplicates,
                "rejected" => &mut counters.rejected,
                _ => continue,
            };
            *counter += value;
        }
        snapshot.counters = counters;
        Ok(snapshot)
    }

    fn sources(&mut self, from: u64, to: u64) -> Result<SourcePage, StoreError> {
        let e = |e: postgres::Error| pg_error(&e);
        let (from, to) = (position(from), position(to));
        let scope = self.part;
        if scope.is_none() && self.partitioned()? {
            return Err(StoreError::Backend(format!(
                "`{}` is a partitioned scale-out store: its log is one per partition, replayed \
                 by the workers (docs/scale-out.md, \"Rebuilding a view\")",
                self.name
            )));
        }
        let part = scope.unwrap_or(0);
        let mut page = SourcePage::default();
        for row in self
            .client
            .query(
                "SELECT pos, kind, session, body FROM log WHERE part = $3 AND pos >= $1 AND pos < $2 \
                 ORDER BY pos",
                &[&from, &to, &part],
            )
            .map_err(e)?
        {
            let kind: &str = row.get(1);
            page.log.push(LogEntry {
                pos: as_u64(row.get(0)),
                kind: kind_of(kind),
                session: row.get(2),
                body: row.get(3),
            });
        }
        for row in self
            .client
            .query(
                "SELECT session, pos, json FROM compacted WHERE part = $3 AND pos >= $1 AND pos < $2 \
                 ORDER BY pos, session",
                &[&from, &to, &part],
            )
            .map_err(e)?
        {
            page.compacted.push((
                row.get(0),
                CompactedWorkout {
                    pos: as_u64(row.get(1)),
                    json: row.get(2),
                },
            ));
        }
        Ok(page)
    }

    fn reclaim(&mut self, _pages: u32) -> Result<bool, StoreError> {
        // PostgreSQL's autovacuum makes the space of purged rows reusable; nothing to step.
        Ok(false)
    }

    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError> {
        let mut tx = self.client.transaction().map_err(|e| pg_error(&e))?;
        let issued = apply(&mut tx, &self.statements, self.part, batch)?;
        if let Some(keep) = self.feed {
            write_changes(&mut tx, keep, batch, &issued, self.part).map_err(|e| pg_error(&e))?;
        }
        tx.commit().map_err(|e| pg_error(&e))
    }

    fn clear_views(&mut self) -> Result<(), StoreError> {
        let e = |e: postgres::Error| pg_error(&e);
        if let Some(part) = self.part {
            return self.clear_partition(part);
        }
        let mut tx = self.client.transaction().map_err(e)?;
        for table in
            KEYED
                .iter()
                .chain(&["results", "team_results", "live", "clocks", "board_parts"])
        {
            tx.execute(&format!("DELETE FROM {table}"), &[])
                .map_err(e)?;
        }
        tx.execute(
            "DELETE FROM offsets WHERE consumer = 'views' OR consumer LIKE 'views.p%'",
            &[],
        )
        .map_err(e)?;
        tx.commit().map_err(e)
    }

    fn query(
        &mut self,
        view: &str,
        user: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        let sql = match view {
            "results" => "SELECT json FROM (\
                 SELECT challenge, uid AS holder, json FROM results WHERE ($1::text IS NULL OR uid = $1) AND ($2::text IS NULL OR challenge = $2) \
                 UNION ALL SELECT challenge, team, json FROM team_results WHERE $1::text IS NULL AND ($2::text IS NULL OR challenge = $2)) r \
                 ORDER BY challenge, holder".to_owned(),
            "team_results" => "SELECT json FROM team_results WHERE ($1::text IS NULL OR team = $1) AND ($2::text IS NULL OR challenge = $2) ORDER BY challenge, team".to_owned(),
            "rewards" => "SELECT json FROM rewards WHERE ($1::text IS NULL OR (holder = $1 AND NOT team)) AND ($2::text IS NULL OR challenge = $2) ORDER BY challenge, holder, name".to_owned(),
            "team_rewards" => "SELECT json FROM rewards WHERE team AND ($1::text IS NULL OR holder = $1) AND ($2::text IS NULL OR challenge = $2) ORDER BY challenge, holder, name".to_owned(),
            "live" => "SELECT json FROM live WHERE ($1::text IS NULL OR uid = $1) AND ($2::text IS NULL OR challenge = $2) ORDER BY challenge, uid".to_owned(),
            v if KEYED.contains(&v) => format!(
                "SELECT json FROM {v} WHERE ($1::text IS NULL OR uid = $1) AND ($2::text IS NULL OR TRUE) ORDER BY key"
            ),
            "dead-letters" => {
                let rows = self
                    .client
                    .query("SELECT source, line, reason, raw FROM dead_letters ORDER BY id", &[])
                    .map_err(|e| pg_error(&e))?;
                let text = |v: &str| serde_json::to_string(v).unwrap_or_default();
                return Ok(rows
                    .iter()
                    .map(|r| {
                        format!(
                            "{{\"source\":{},\"line\":{},\"reason\":{},\"raw\":{}}}",
                            text(r.get(0)),
                            r.get::<_, i64>(1),
                            text(r.get(2)),
                            text(r.get(3)),
                        )
                    })
                    .collect());
            }
            other => return Err(unknown_view(other)),
        };
        let rows = self
            .client
            .query(&sql, &[&user, &challenge])
            .map_err(|e| pg_error(&e))?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }

    fn view_hashes(&mut self) -> Result<BTreeMap<String, String>, StoreError> {
        let mut out = BTreeMap::new();
        for view in VIEWS {
            let sql = match view {
                "results" | "live" => format!(
                    "SELECT challenge || chr(31) || uid, json FROM {view} ORDER BY challenge, uid"
                ),
                "team_results" => "SELECT challenge || chr(31) || team, json FROM team_results \
                                   ORDER BY challenge, team"
                    .to_owned(),
                _ => format!("SELECT key, json FROM {view} ORDER BY key"),
            };
            let rows = self.client.query(&sql, &[]).map_err(|e| pg_error(&e))?;
            let mut hasher = Sha256::new();
            for row in &rows {
                let key: &str = row.get(0);
                let json: &str = row.get(1);
                hasher.update(key.as_bytes());
                hasher.update([0x1f]);
                hasher.update(json.as_bytes());
                hasher.update(b"\n");
            }
            let hex: String = hasher
                .finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            out.insert(view.to_owned(), format!("{}:{hex}", rows.len()));
        }
        Ok(out)
    }

    fn counts(&mut self) -> Result<BTreeMap<String, u64>, StoreError> {
        let mut out = BTreeMap::new();
        for table in TABLES {
            let n: i64 = self
                .client
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .map_err(|e| pg_error(&e))?
                .get(0);
            out.insert(table.to_owned(), as_u64(n));
        }
        if self.partitions()?.is_none() {
            return Ok(out);
        }
        // A scale-out store's own: the partitions' parts of the boards, and the lines the
        // gateways hold for sessions whose start has not come.
        let parts: i64 = self
            .client
            .query_one("SELECT count(*) FROM board_parts", &[])
            .map_err(|e| pg_error(&e))?
            .get(0);
        out.insert("board_parts".to_owned(), as_u64(parts));
        out.insert(
            "held_lines".to_owned(),
            crate::directory::held(&mut self.client)?,
        );
        Ok(out)
    }

    fn owed_deliveries(&mut self, due_by: i64, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .client
            .query(
                "SELECT id, url, key, body, attempts, next_at FROM deliveries \
                 WHERE next_at <= $1 ORDER BY id LIMIT $2",
                &[&due_by, &limit],
            )
            .map_err(|e| pg_error(&e))?;
        Ok(rows
            .iter()
            .map(|r| Delivery {
                id: r.get(0),
                url: r.get(1),
                key: r.get(2),
                body: r.get(3),
                attempts: u32::try_from(r.get::<_, i32>(4)).unwrap_or(0),
                next_at: r.get(5),
            })
            .collect())
    }

    fn delivered(&mut self, id: i64) -> Result<(), StoreError> {
        self.client
            .execute("DELETE FROM deliveries WHERE id = $1", &[&id])
            .map_err(|e| pg_error(&e))?;
        Ok(())
    }

    fn delivery_failed(&mut self, id: i64, next_at: i64) -> Result<(), StoreError> {
        self.client
            .execute(
                "UPDATE deliveries SET attempts = attempts + 1, next_at = $2 WHERE id = $1",
                &[&id, &next_at],
            )
            .map_err(|e| pg_error(&e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly")]

    use super::*;

    #[test]
    fn urls_are_recognised_and_redacted() {
        assert!(is_url("postgres://u@h/db"));
        assert!(is_url("postgresql://h/db"));
        assert!(!is_url("gym.db"));
        assert_eq!(
            redact("postgres://me:secret@h:5432/db"),
            "postgres://me:***@h:5432/db"
        );
        assert_eq!(redact("postgres://me@h/db"), "postgres://me@h/db");
        assert_eq!(redact("postgres://h/db"), "postgres://h/db");
    }

    #[test]
    fn versioned_rows_fold_as_sequential_upserts() {
        let row = |v: u64, json: &str| ResultRow {
            challenge: "c".into(),
            user: "u".into(),
            version: v,
            progress: 0.0,
            json: json.into(),
            reached: None,
        };
        let rows = [row(3, "a"), row(2, "b"), row(3, "c"), row(1, "d")];
        let folded = fold_versioned(&rows);
        assert_eq!(folded.len(), 1);
        assert_eq!(folded[0].json, "c");
    }
}
