//! The session directory: every line of a user, the events of the user's sessions included,
//! goes to the user's partition ([`partition_of`] of the user id), so that a partition holds
//! whole users and partitions can be derived apart.
//!
//! A session's `rep`, `sample` and `session_end` lines carry no user; only its `session_start`
//! does, and delivery may be in any order, through any gateway. So the gateways share a
//! directory in PostgreSQL (the store's database), created on first use:
//!
//! - `session_users(session, usr)`: the user of each session, from the first `session_start`
//!   routed for it (a later start naming another user is routed to the first user, so that the
//!   worker sees the conflict there). It grows by one row per session ever started, and loses
//!   a user's rows when the user is erased ([`erase_user`]).
//! - `held_lines(id, session, line)`: valid session events whose session's start has not been
//!   routed yet, in arrival order. They are released, before the lines of the request that
//!   makes their session known, into the user's partition.
//!
//! ```text
//! request ─► keys (parse each line once) ─► one transaction:
//!              pg_advisory_xact_lock per session (sorted) ─► register the starts
//!              ─► read the users ─► hold the lines of unknown sessions ─► take the held lines
//!              of known ones ─► publish (confirms) ─► commit
//! ```
//!
//! Routing of a line ([`Key`], [`decide`]): a `user_upsert` or `workout` by its user; a
//! `session_start` by its session's user (the first start's); another session event by its
//! session's user, held while that is unknown; a session event that does not validate is never
//! held: it goes to its session's user when known, else to `partition_of(session)`, where the
//! worker makes it a dead letter at once, as the embedded service does; a line that is not JSON
//! or names no key goes to partition 0 (a dead letter there).
//!
//! **Invariant:** a request's directory changes commit only after the broker confirmed its
//! messages. Publish-then-commit is at-least-once: a failed publish rolls back (nothing held,
//! nothing released; the caller resends), and a commit that fails after a publish leaves the
//! released lines held, to be published again later (a duplicate, which the pipeline admits
//! as a no-op: events are deduplicated by (session, seq)). So a request is acknowledged only
//! when its held lines are durable in PostgreSQL and the others in the streams.
//!
//! **Invariant:** two routers serialize per session: each takes the transaction-scoped
//! advisory lock of every session of its request (two-key form, [`SESSION_LOCKS`] and a
//! hash of the session id) in ascending order, before reading anything, so they never
//! deadlock, a line is never held after its session became known, and the lines of a session
//! reach its stream in the order the routers committed.
//!
//! Decision: a session whose start never arrives stays held: its lines were acknowledged and
//! are durable (counted by [`held`]), but no worker sees them, so the embedded service's
//! "session without start" row (the `sessions` view's `no_start`) does not appear in
//! scale-out until the start arrives. A session's events that arrive after its user was
//! erased are held the same way. The directory grows by one `session_users` row per session.

use std::collections::{BTreeSet, HashMap};

use pipeline::partition::{fnv1a64, partition_of};
use pipeline::store::StoreError;
use postgres::{Client, GenericClient, NoTls, Statement, Transaction};
use rules_core::session::{parse_event_line, SensorEvent};

use crate::postgres::{pg_error, redact};
use crate::rabbitmq::{bodies_by_partition, BrokerError, Publisher};

/// The directory's tables (created on first use, under [`SCHEMA_LOCK`]).
const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS session_users(session text COLLATE "C" PRIMARY KEY, usr text COLLATE "C" NOT NULL);
CREATE INDEX IF NOT EXISTS session_users_usr ON session_users(usr);
CREATE TABLE IF NOT EXISTS held_lines(id bigserial PRIMARY KEY, session text COLLATE "C" NOT NULL, line text NOT NULL);
CREATE INDEX IF NOT EXISTS held_lines_session ON held_lines(session, id);
"#;

/// The advisory lock taken while a schema is created: the store's own (`postgres.rs`), so
/// that processes starting together never race on `CREATE TABLE IF NOT EXISTS`.
const SCHEMA_LOCK: i64 = 0x6368_616c_6c00;

/// The first key of a session's advisory lock (`pg_advisory_xact_lock(SESSION_LOCKS, hash)`,
/// `classid` in `pg_locks`, with `objsubid = 2`): the two-key form, apart from the store's
/// one-key locks.
pub const SESSION_LOCKS: i32 = 0x6368_7373;

/// How a line is routed, read from the line once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Key {
    /// A `user_upsert` or `workout` (valid or not): its user.
    User(String),
    /// A valid `session_start`: its session and the user it names.
    Start {
        /// The session.
        session: String,
        /// The user.
        user: String,
    },
    /// Any other line naming a session: a valid `rep`, `sample` or `session_end`, or a line
    /// that does not validate (a `session_start` among them).
    Event {
        /// The session.
        session: String,
        /// Whether it validates: only a valid event is held while its session is unknown.
        valid: bool,
    },
    /// Not JSON, or names no user and no session: partition 0.
    None,
}

impl Key {
    /// The key of `line`, validated here.
    pub fn of(line: &str) -> Key {
        Key::classify(line, &parse_event_line(line))
    }

    /// The key of `line` given its validation (`parse_event_line`'s answer, which a gateway
    /// has already computed for its own answer): a rejected line is read again, loosely.
    pub fn classify(line: &str, parsed: &Result<SensorEvent, String>) -> Key {
        let event = |session: &str| Key::Event {
            session: session.to_owned(),
            valid: true,
        };
        match parsed {
            Ok(SensorEvent::SessionStart(s)) => Key::Start {
                session: s.session.clone(),
                user: s.user.clone(),
            },
            Ok(SensorEvent::Rep(e)) => event(&e.session),
            Ok(SensorEvent::Sample(e)) => event(&e.session),
            Ok(SensorEvent::SessionEnd(e)) => event(&e.session),
            Ok(SensorEvent::UserUpsert(u)) => Key::User(u.user.id.clone()),
            Ok(SensorEvent::Workout(w)) => Key::User(w.workout.user.clone()),
            Err(_) => Key::of_rejected(line),
        }
    }

    /// The key of a line that does not validate: the user of a `user_upsert` or `workout`,
    /// else its session, else none.
    fn of_rejected(line: &str) -> Key {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            return Key::None;
        };
        let text = |v: Option<&serde_json::Value>| v.and_then(|v| v.as_str()).map(str::to_owned);
        let user = match value.get("type").and_then(|t| t.as_str()) {
            Some("user_upsert") => Some(text(value.pointer("/user/id"))),
            Some("workout") => Some(text(value.pointer("/workout/user"))),
            _ => None,
        };
        match user {
            Some(Some(user)) => Key::User(user),
            Some(None) => Key::None,
            None => match text(value.get("session")) {
                Some(session) => Key::Event {
                    session,
                    valid: false,
                },
                None => Key::None,
            },
        }
    }

    /// The session the line belongs to, if any.
    pub fn session(&self) -> Option<&str> {
        match self {
            Key::Start { session, .. } | Key::Event { session, .. } => Some(session),
            Key::User(_) | Key::None => None,
        }
    }
}

/// Where a line goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Published to this partition.
    Partition(u32),
    /// Held in the directory until its session's start is routed.
    Hold,
}

/// Where a line of key `key` goes among `partitions`, given the users of its request's
/// sessions as the directory knows them (this request's starts registered).
pub fn decide(key: &Key, users: &HashMap<String, String>, partitions: u32) -> Decision {
    let to = |key: &str| Decision::Partition(partition_of(key, partitions));
    match key {
        Key::User(user) => to(user),
        // The first start's user, which may not be this one's.
        Key::Start { session, user } => to(users.get(session).unwrap_or(user)),
        Key::Event { session, valid } => match users.get(session) {
            Some(user) => to(user),
            None if *valid => Decision::Hold,
            None => to(session),
        },
        Key::None => Decision::Partition(0),
    }
}

/// The distinct sessions of `keys`, sorted.
pub fn sessions_of<'a>(keys: impl IntoIterator<Item = &'a Key>) -> Vec<&'a str> {
    keys.into_iter()
        .filter_map(Key::session)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The first start of each session among `keys`, in order: (sessions, users).
pub fn first_starts<'a>(keys: impl IntoIterator<Item = &'a Key>) -> (Vec<&'a str>, Vec<&'a str>) {
    let mut seen = BTreeSet::new();
    let mut out = (Vec::new(), Vec::new());
    for key in keys {
        if let Key::Start { session, user } = key {
            if seen.insert(session.as_str()) {
                out.0.push(session.as_str());
                out.1.push(user.as_str());
            }
        }
    }
    out
}

/// The second key of `session`'s advisory lock: its FNV-1a hash folded to 32 bits.
pub fn lock_key(session: &str) -> i32 {
    let h = fnv1a64(session.as_bytes());
    // The fold keeps every bit of the hash in play; the cast is a reinterpretation.
    ((h ^ (h >> 32)) as u32) as i32
}

/// The lock keys of `sessions`, ascending and distinct: the order every router takes them in.
pub fn lock_keys(sessions: &[&str]) -> Vec<i32> {
    let keys: BTreeSet<i32> = sessions.iter().map(|s| lock_key(s)).collect();
    keys.into_iter().collect()
}

/// What a request becomes once the directory has answered: the lines to publish, each with its
/// partition, in order (the released held lines first, in the order they were held, then the
/// request's lines that are not held, in the request's order; blank lines dropped), and the
/// lines to hold (session, line), in the request's order.
pub type Plan<'a> = (Vec<(&'a str, u32)>, Vec<(&'a str, &'a str)>);

/// Orders a request (pure; see [`Plan`]): `released` are the held lines (session, line) the
/// directory gave back, `users` the users of the request's sessions.
pub fn plan<'a>(
    lines: &'a [(&'a str, Key)],
    released: &'a [(String, String)],
    users: &HashMap<String, String>,
    partitions: u32,
) -> Plan<'a> {
    let mut publish = Vec::with_capacity(released.len() + lines.len());
    let mut hold = Vec::new();
    for (session, line) in released {
        // Released only for a session whose user is known.
        let user = users.get(session).map_or(session.as_str(), String::as_str);
        publish.push((line.as_str(), partition_of(user, partitions)));
    }
    for (line, key) in lines.iter().filter(|(l, _)| !l.trim().is_empty()) {
        match (decide(key, users, partitions), key.session()) {
            (Decision::Partition(p), _) => publish.push((*line, p)),
            (Decision::Hold, Some(session)) => hold.push((session, *line)),
            // Only a session event is ever held.
            (Decision::Hold, None) => publish.push((*line, 0)),
        }
    }
    (publish, hold)
}

/// What routing a request did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Routing {
    /// Lines published (released ones included).
    pub published: u64,
    /// Lines of the request held (their session's user unknown).
    pub held: u64,
    /// Held lines (of earlier requests) released by this one.
    pub released: u64,
}

/// A routing or publishing failure: which side failed tells a caller which connection to drop.
#[derive(Debug)]
pub enum RouteError {
    /// The directory (PostgreSQL).
    Store(StoreError),
    /// The broker.
    Broker(BrokerError),
}

impl std::fmt::Display for RouteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RouteError::Store(e) => e.fmt(f),
            RouteError::Broker(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for RouteError {}

/// A request routed by the directory, its transaction still open: publish it with
/// [`Publisher::publish`], then [`Routed::commit`]; dropped, it rolls back (nothing held,
/// nothing released). Only [`Directory`] makes one, so nothing is published by session id.
pub struct Routed<'a> {
    tx: Transaction<'a>,
    bodies: std::collections::BTreeMap<u32, String>,
    partitions: u32,
    routing: Routing,
}

impl Routed<'_> {
    /// The message of each partition: its lines, newline-separated, in order.
    pub fn bodies(&self) -> &std::collections::BTreeMap<u32, String> {
        &self.bodies
    }

    /// The partition count it was routed for.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    /// What routing did.
    pub fn routing(&self) -> Routing {
        self.routing
    }

    /// Commits the directory's changes (after the publish).
    pub fn commit(self) -> Result<Routing, StoreError> {
        let routing = self.routing;
        self.tx.commit().map_err(|e| pg_error(&e))?;
        Ok(routing)
    }
}

/// The prepared statements of one connection.
struct Statements {
    lock: Statement,
    register: Statement,
    users: Statement,
    hold: Statement,
    release: Statement,
}

/// A router: a connection to the directory.
pub struct Directory {
    client: Client,
    statements: Statements,
}

impl Directory {
    /// Connects to the database at `url` (the store's) and creates the directory's tables if
    /// missing.
    pub fn connect(url: &str) -> Result<Directory, StoreError> {
        let client = Client::connect(url, NoTls).map_err(|e| {
            let why = match pg_error(&e) {
                StoreError::Backend(why) => why,
                other => other.to_string(),
            };
            StoreError::Backend(format!("cannot connect to `{}`: {why}", redact(url)))
        })?;
        Directory::new(client)
    }

    /// The directory over `client` (its tables created if missing).
    pub fn new(mut client: Client) -> Result<Directory, StoreError> {
        create_schema(&mut client)?;
        let e = |e: postgres::Error| pg_error(&e);
        let statements = Statements {
            // One statement; a function scan yields the array in order, so the locks are
            // taken in ascending order.
            lock: client
                .prepare(
                    "SELECT count(pg_advisory_xact_lock($1::int4, k)) FROM unnest($2::int4[]) AS k",
                )
                .map_err(e)?,
            register: client
                .prepare(
                    "INSERT INTO session_users(session, usr) \
                     SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
                )
                .map_err(e)?,
            users: client
                .prepare("SELECT session, usr FROM session_users WHERE session = ANY($1::text[])")
                .map_err(e)?,
            hold: client
                .prepare(
                    "INSERT INTO held_lines(session, line) SELECT s, l \
                     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS t(s, l, n) ORDER BY n",
                )
                .map_err(e)?,
            release: client
                .prepare(
                    "WITH taken AS (DELETE FROM held_lines WHERE session = ANY($1::text[]) \
                     RETURNING id, session, line) SELECT session, line FROM taken ORDER BY id",
                )
                .map_err(e)?,
        };
        Ok(Directory { client, statements })
    }

    /// The connection (for tests and monitoring).
    pub fn client(&mut self) -> &mut Client {
        &mut self.client
    }

    /// Routes `lines` (a request; a line holding newlines is split, blank lines are dropped)
    /// among `partitions`: see [`Directory::route_keyed`].
    pub fn route<S: AsRef<str>>(
        &mut self,
        lines: &[S],
        partitions: u32,
    ) -> Result<Routed<'_>, StoreError> {
        let keyed: Vec<(&str, Key)> = lines
            .iter()
            .flat_map(|l| l.as_ref().lines())
            .filter(|l| !l.trim().is_empty())
            .map(|l| (l, Key::of(l)))
            .collect();
        self.route_keyed(&keyed, partitions)
    }

    /// Routes a request whose lines are already keyed (each holds no newline; blank ones are
    /// dropped), in one transaction left open in the answer: the sessions' locks, the starts
    /// registered, the lines of unknown sessions held, the held lines of known ones taken.
    pub fn route_keyed(
        &mut self,
        lines: &[(&str, Key)],
        partitions: u32,
    ) -> Result<Routed<'_>, StoreError> {
        let e = |e: postgres::Error| pg_error(&e);
        let st = &self.statements;
        let mut tx = self.client.transaction().map_err(e)?;
        let mut users: HashMap<String, String> = HashMap::new();
        let mut released: Vec<(String, String)> = Vec::new();
        let sessions = sessions_of(lines.iter().map(|(_, k)| k));
        if !sessions.is_empty() {
            tx.query(&st.lock, &[&SESSION_LOCKS, &lock_keys(&sessions)])
                .map_err(e)?;
            let (starts, starters) = first_starts(lines.iter().map(|(_, k)| k));
            if !starts.is_empty() {
                tx.execute(&st.register, &[&starts, &starters]).map_err(e)?;
            }
            for row in tx.query(&st.users, &[&sessions]).map_err(e)? {
                users.insert(row.get(0), row.get(1));
            }
            let known: Vec<&str> = sessions
                .iter()
                .copied()
                .filter(|s| users.contains_key(*s))
                .collect();
            if !known.is_empty() {
                released = tx
                    .query(&st.release, &[&known])
                    .map_err(e)?
                    .iter()
                    .map(|row| (row.get(0), row.get(1)))
                    .collect();
            }
        }
        let (publish, hold) = plan(lines, &released, &users, partitions);
        if !hold.is_empty() {
            let (sessions, held): (Vec<&str>, Vec<&str>) = hold.iter().copied().unzip();
            tx.execute(&st.hold, &[&sessions, &held]).map_err(e)?;
        }
        let routing = Routing {
            published: publish.len() as u64,
            held: hold.len() as u64,
            released: released.len() as u64,
        };
        let bodies = bodies_by_partition(publish);
        Ok(Routed {
            tx,
            bodies,
            partitions,
            routing,
        })
    }

    /// Routes `lines` (as [`Directory::route`]), publishes them with `publisher` (confirmed)
    /// and commits: the one way a request reaches the streams.
    pub fn publish<S: AsRef<str>>(
        &mut self,
        publisher: &Publisher<'_>,
        lines: &[S],
    ) -> Result<Routing, RouteError> {
        let routed = self
            .route(lines, publisher.partitions())
            .map_err(RouteError::Store)?;
        finish(publisher, routed)
    }

    /// [`Directory::publish`] for lines already keyed (as [`Directory::route_keyed`]).
    pub fn publish_keyed(
        &mut self,
        publisher: &Publisher<'_>,
        lines: &[(&str, Key)],
    ) -> Result<Routing, RouteError> {
        let routed = self
            .route_keyed(lines, publisher.partitions())
            .map_err(RouteError::Store)?;
        finish(publisher, routed)
    }

    /// The lines held now (see [`held`]).
    pub fn held(&mut self) -> Result<u64, StoreError> {
        held(&mut self.client)
    }
}

/// Publish, then commit; a failed publish drops the transaction (a rollback).
fn finish(publisher: &Publisher<'_>, routed: Routed<'_>) -> Result<Routing, RouteError> {
    publisher.publish(&routed).map_err(RouteError::Broker)?;
    routed.commit().map_err(RouteError::Store)
}

fn create_schema(client: &mut Client) -> Result<(), StoreError> {
    let e = |e: postgres::Error| pg_error(&e);
    let mut tx = client.transaction().map_err(e)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
        .map_err(e)?;
    tx.batch_execute(SCHEMA).map_err(e)?;
    tx.commit().map_err(e)
}

/// Whether the directory's tables exist (a database no gateway has routed through has none).
fn exists(client: &mut impl GenericClient) -> Result<bool, StoreError> {
    client
        .query_one(
            "SELECT to_regclass('session_users') IS NOT NULL AND to_regclass('held_lines') IS NOT NULL",
            &[],
        )
        .map(|row| row.get(0))
        .map_err(|e| pg_error(&e))
}

/// Erases `user` from the directory (`DELETE /v1/users/{id}?erase`): the user's sessions'
/// rows, and any line still held for them (left by a crash between a publish and its commit:
/// already published). Runs on a client or inside the erasure's transaction; idempotent; a
/// database without the directory has nothing to erase. Gives the number of sessions
/// forgotten. A later event of one of these sessions is held as one of an unknown session.
pub fn erase_user(client: &mut impl GenericClient, user: &str) -> Result<u64, StoreError> {
    if !exists(client)? {
        return Ok(0);
    }
    let e = |e: postgres::Error| pg_error(&e);
    client
        .execute(
            "DELETE FROM held_lines WHERE session IN (SELECT session FROM session_users WHERE usr = $1)",
            &[&user],
        )
        .map_err(e)?;
    client
        .execute("DELETE FROM session_users WHERE usr = $1", &[&user])
        .map_err(e)
}

/// The number of lines held (`pipeline stats`): acknowledged and durable, waiting for their
/// session's start. A count that stays above zero names sessions whose start never came
/// (`SELECT session, count(*) FROM held_lines GROUP BY session`); 0 on a database without
/// the directory.
pub fn held(client: &mut impl GenericClient) -> Result<u64, StoreError> {
    if !exists(client)? {
        return Ok(0);
    }
    let n: i64 = client
        .query_one("SELECT count(*) FROM held_lines", &[])
        .map_err(|e| pg_error(&e))?
        .get(0);
    Ok(u64::try_from(n).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = r#"{"type":"session_start","session":"s-1","seq":0,"ts":"2026-08-01T07:30:00+08:00","device":"lp-03","gym":"gym-01","user":"u-1","exercise":"leg_press"}"#;
    const REP: &str = r#"{"type":"rep","session":"s-1","seq":1,"ts":"2026-08-01T07:30:04+08:00","weight_kg":40,"rom_pct":97}"#;
    const END: &str =
        r#"{"type":"session_end","session":"s-1","seq":2,"ts":"2026-08-01T07:42:00+08:00"}"#;
    const UPSERT: &str = r#"{"type":"user_upsert","seq":0,"ts":"2026-07-01T00:00:00Z","user":{"id":"u-2","groups":["nsfit"]}}"#;

    fn users(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(s, u)| ((*s).to_owned(), (*u).to_owned()))
            .collect()
    }

    #[test]
    fn lines_are_keyed_by_user_start_or_session() {
        assert_eq!(
            Key::of(START),
            Key::Start {
                session: "s-1".into(),
                user: "u-1".into()
            }
        );
        assert_eq!(
            Key::of(REP),
            Key::Event {
                session: "s-1".into(),
                valid: true
            }
        );
        assert_eq!(
            Key::of(END),
            Key::Event {
                session: "s-1".into(),
                valid: true
            }
        );
        assert_eq!(Key::of(UPSERT), Key::User("u-2".into()));
        assert_eq!(
            Key::of(r#"{"type":"workout","workout":{"user":"u-3"}}"#),
            Key::User("u-3".into()),
            "an invalid workout still names its user"
        );
        assert_eq!(
            Key::of(r#"{"type":"user_upsert","user":{"id":"u-4"}}"#),
            Key::User("u-4".into())
        );
        // Session events that do not validate: keyed by session, never held.
        for bad in [
            r#"{"type":"rep","session":"s-9","seq":1,"ts":"2026-08-01T07:30:00+08:00","weight_kg":-40}"#,
            r#"{"type":"heartbeat","session":"s-9","seq":3,"ts":"2026-08-01T07:30:00+08:00"}"#,
            r#"{"type":"session_start","session":"s-9","seq":0,"ts":"2026-08-01T07:30:00+08:00","exercise":"leg_press"}"#,
        ] {
            assert_eq!(
                Key::of(bad),
                Key::Event {
                    session: "s-9".into(),
                    valid: false
                },
                "{bad}"
            );
        }
        for none in [
            "not json",
            r#"{"type":"rep","session":"s-broken","#,
            "[1,2]",
            r#"{"type":"rep","seq":1}"#,
            r#"{"type":"user_upsert","user":{}}"#,
        ] {
            assert_eq!(Key::of(none), Key::None, "{none}");
        }
    }

    #[test]
    fn decisions_follow_the_directory() {
        let p = 64;
        let known = users(&[("s-1", "u-1")]);
        let none = HashMap::new();
        let to = |k: &str| Decision::Partition(partition_of(k, p));
        assert_eq!(decide(&Key::of(UPSERT), &none, p), to("u-2"));
        assert_eq!(decide(&Key::of(REP), &known, p), to("u-1"));
        assert_eq!(decide(&Key::of(REP), &none, p), Decision::Hold);
        assert_eq!(decide(&Key::of(START), &none, p), to("u-1"));
        // A second start naming another user goes to the first user.
        let other = Key::Start {
            session: "s-1".into(),
            user: "u-other".into(),
        };
        assert_eq!(decide(&other, &known, p), to("u-1"));
        let invalid = Key::Event {
            session: "s-1".into(),
            valid: false,
        };
        assert_eq!(decide(&invalid, &known, p), to("u-1"));
        assert_eq!(decide(&invalid, &none, p), to("s-1"));
        assert_eq!(decide(&Key::None, &known, p), Decision::Partition(0));
    }

    #[test]
    fn starts_sessions_and_locks_are_sorted_and_first_wins() {
        let keys = [
            Key::of(REP),
            Key::Start {
                session: "s-2".into(),
                user: "u-a".into(),
            },
            Key::of(START),
            Key::Start {
                session: "s-2".into(),
                user: "u-b".into(),
            },
            Key::of(UPSERT),
            Key::None,
        ];
        assert_eq!(sessions_of(&keys), ["s-1", "s-2"]);
        assert_eq!(
            first_starts(&keys),
            (vec!["s-2", "s-1"], vec!["u-a", "u-1"])
        );
        let sessions: Vec<String> = (0..500).map(|i| format!("s-{}", i % 300)).collect();
        let refs: Vec<&str> = sessions.iter().map(String::as_str).collect();
        let locks = lock_keys(&refs);
        assert!(locks.windows(2).all(|w| w[0] < w[1]), "ascending, distinct");
        assert!(locks.len() <= 300 && locks.len() > 290);
        assert_eq!(lock_key("s-1"), lock_key("s-1"));
    }

    #[test]
    fn a_plan_releases_held_lines_first_and_holds_the_unknown() {
        let p = 8;
        let other_rep = REP.replace("s-1", "s-2");
        let lines: Vec<(&str, Key)> = [START, REP, other_rep.as_str(), " ", UPSERT, "junk", ""]
            .into_iter()
            .map(|l| (l, Key::of(l)))
            .collect();
        let released = vec![
            ("s-1".to_owned(), "held-1".to_owned()),
            ("s-1".to_owned(), "held-2".to_owned()),
        ];
        let known = users(&[("s-1", "u-1")]);
        let (publish, hold) = plan(&lines, &released, &known, p);
        let u1 = partition_of("u-1", p);
        assert_eq!(
            publish,
            [
                ("held-1", u1),
                ("held-2", u1),
                (START, u1),
                (REP, u1),
                (UPSERT, partition_of("u-2", p)),
                ("junk", 0),
            ]
        );
        assert_eq!(hold, [("s-2", other_rep.as_str())]);
    }
}
