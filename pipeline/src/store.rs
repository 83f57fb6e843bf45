//! The storage boundary: what the stages read at start-up and write per batch, behind the
//! [`Store`] trait. [`crate::sqlite::SqliteStore`] is the embedded default; another store can be
//! plugged in without touching the stages.
//!
//! **Invariant:** [`Store::commit`] applies one [`Batch`] atomically: the log appends, every
//! view write and the offset commit of a batch become visible together or not at all, so a
//! crash never half-applies a batch.
//!
//! **Invariant:** a result upsert carries the log position that caused it (`version`); a
//! store never lets an older version overwrite a newer one.

use std::collections::BTreeMap;

use thiserror::Error;

/// A storage failure (I/O, a corrupt file, a schema from another version).
#[derive(Debug, Error)]
pub enum StoreError {
    /// The backend failed.
    #[error("store: {0}")]
    Backend(String),
    /// Another process writes to the store.
    #[error(
        "`{0}` is in use by another writer (a running `challenge serve` or `challenge pipeline \
         ingest`, `tick`, `rebuild` or `compact`): one process owns a database file; \
         `pipeline query`, `verify` and `stats` work beside it"
    )]
    Owned(String),
}

/// The tables a store counts the rows of (`Store::counts`, `pipeline stats`), in that order.
pub const TABLES: [&str; 14] = [
    "log",
    "compacted",
    "dead_letters",
    "challenges",
    "workouts",
    "users",
    "sessions",
    "results",
    "team_results",
    "live",
    "profiles",
    "leaderboards",
    "rewards",
    "deliveries",
];

/// The derived views, by name. `query`, `verify` and the content hashes use these names.
pub const VIEWS: [&str; 8] = [
    "workouts",
    "users",
    "sessions",
    "results",
    "team_results",
    "live",
    "profiles",
    "leaderboards",
];

/// The kind of a log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogKind {
    /// An accepted sensor event (its raw line).
    Event,
    /// A periodic job (`tick --at T`).
    Tick,
    /// A user record removed (`{"type": "user_delete", "ts", "user"}`, made by the service's
    /// `DELETE /v1/users/{id}`; never read from an input line).
    UserDelete,
}

/// A user erased (`DELETE /v1/users/{id}?erase=true`): every source of truth of the user is
/// purged from the store with its views, in the batch's transaction.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Erasure {
    /// The user.
    pub user: String,
    /// The user's sessions (buffered, saved or compacted): their events leave the log.
    pub sessions: Vec<String>,
}

/// One entry of the source-of-truth log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    /// The log position (1, 2, ...; gaps only where compaction purged entries).
    pub pos: u64,
    /// What it is.
    pub kind: LogKind,
    /// The session of an event (for compaction), if any.
    pub session: Option<String>,
    /// The entry as JSON text (an event's line as it arrived).
    pub body: String,
}

/// A log entry of an ingest batch, whose texts are spans of [`Batch::log_text`].
#[derive(Clone, Debug, PartialEq)]
pub struct LogSpan {
    /// The log position.
    pub pos: u64,
    /// The event's line as it arrived.
    pub body: std::ops::Range<usize>,
    /// The session of the event, if any.
    pub session: Option<std::ops::Range<usize>>,
}

/// A workout kept as a source of truth after its session's events were compacted away.
#[derive(Clone, Debug, PartialEq)]
pub struct CompactedWorkout {
    /// The log position of the session's last event (where the workout replays).
    pub pos: u64,
    /// The workout as JSON.
    pub json: String,
}

/// A line that was not accepted.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The input it came from.
    pub source: String,
    /// Its 1-based line number there.
    pub line: u64,
    /// Why.
    pub reason: String,
    /// The line as it arrived.
    pub raw: String,
}

/// A stored challenge: its id, its JSON tree and the tree's content hash.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredChallenge {
    /// The id.
    pub id: String,
    /// The JSON tree.
    pub tree: String,
    /// The tree's content hash (what "edited" compares).
    pub hash: String,
    /// The one user a personal challenge is evaluated for (service.md, `recommend` with
    /// `assign`); `None` for a challenge of everyone.
    pub owner: Option<String>,
}

/// A row of a keyed view: its key and its JSON.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The key (the view's sort order).
    pub key: String,
    /// The user the row is about (for `--user`), if any.
    pub user: Option<String>,
    /// The JSON line.
    pub json: String,
}

/// A result row (also a live row, and a team's row in [`Batch::team_results`]).
#[derive(Clone, Debug, PartialEq)]
pub struct ResultRow {
    /// The challenge id.
    pub challenge: String,
    /// The user id (the team's name for a team row).
    pub user: String,
    /// The log position that caused it.
    pub version: u64,
    /// The root's progress.
    pub progress: f64,
    /// The `challenge eval` line.
    pub json: String,
    /// What the result has reached that may earn rewards (`None`: neither completed nor at a
    /// tier, so nothing to look up).
    pub reached: Option<Box<Reached>>,
}

/// What a result reached: completion and a tier, with the result's `as_of` (a reward's `at`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reached {
    /// The result is `completed`.
    pub completed: bool,
    /// The tier reached, if any.
    pub tier: Option<String>,
    /// The result's `as_of`, as written in the line.
    pub as_of: String,
}

/// A reward issued (service.md, "Rewards"): a row of the append-only rewards ledger, keyed by
/// (challenge, user or team, name).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RewardRow {
    /// The challenge id.
    pub challenge: String,
    /// The user id, or the team's name when `team`.
    pub holder: String,
    /// Whether a team earned it.
    pub team: bool,
    /// The reward's name.
    pub name: String,
    /// Its points, if any.
    pub points: Option<u64>,
    /// The `as_of` of the result that earned it.
    pub at: String,
}

impl RewardRow {
    /// The row as JSON: `{"challenge", "user" (or "team"), "name", "points", "at"}`, in that
    /// order (`points` null when the reward has none).
    pub fn json(&self) -> String {
        let text = |v: &str| serde_json::to_string(v).unwrap_or_default();
        format!(
            "{{\"challenge\":{},\"{}\":{},\"name\":{},\"points\":{},\"at\":{}}}",
            text(&self.challenge),
            if self.team { "team" } else { "user" },
            text(&self.holder),
            text(&self.name),
            self.points
                .map_or_else(|| "null".to_owned(), |p| p.to_string()),
            text(&self.at),
        )
    }

    /// The webhook's `Idempotency-Key`: `<challenge>/<user or team>/<name>`.
    pub fn idempotency_key(&self) -> String {
        format!("{}/{}/{}", self.challenge, self.holder, self.name)
    }
}

/// A webhook delivery owed: one per issued reward and webhook URL, written in the reward's
/// transaction and deleted once delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    /// The delivery's id (the order deliveries were owed in).
    pub id: i64,
    /// Where to `POST`.
    pub url: String,
    /// The `Idempotency-Key` header.
    pub key: String,
    /// The body: the reward row's JSON.
    pub body: String,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When the next attempt is due, in milliseconds since the Unix epoch (0: at once).
    pub next_at: i64,
}

/// Input counters: `read == accepted + rejected`; `duplicates` are accepted no-ops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Non-blank lines read.
    pub read: u64,
    /// Lines accepted (new events and identical resends).
    pub accepted: u64,
    /// Identical resends among the accepted.
    pub duplicates: u64,
    /// Lines rejected to dead letters.
    pub rejected: u64,
}

impl Batch {
    /// The body and session of a span of [`Batch::log_text`].
    pub fn span_text(&self, span: &LogSpan) -> (&str, Option<&str>) {
        let text = |r: &std::ops::Range<usize>| self.log_text.get(r.clone()).unwrap_or_default();
        (text(&span.body), span.session.as_ref().map(text))
    }
}

impl Counters {
    /// Adds another batch's counts.
    pub fn add(&mut self, other: &Counters) {
        self.read += other.read;
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
    }
}

/// Everything one batch writes, committed atomically by [`Store::commit`].
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// Log entries to append.
    pub log: Vec<LogEntry>,
    /// Event entries to append too (an ingest batch's), their texts in `log_text`: one
    /// allocation for the batch's lines rather than one per line.
    pub log_spans: Vec<LogSpan>,
    /// The texts of `log_spans`.
    pub log_text: String,
    /// Dead letters to append.
    pub dead_letters: Vec<DeadLetter>,
    /// Rows to put (replace) in the keyed views, by view name.
    pub put: Vec<(&'static str, Row)>,
    /// Keys to delete from the keyed views.
    pub delete: Vec<(&'static str, String)>,
    /// Result upserts (versioned).
    pub results: Vec<ResultRow>,
    /// Team result upserts (versioned; `user` is the team).
    pub team_results: Vec<ResultRow>,
    /// Team results to delete, as (challenge, team): a team with no `as_of` (no member with a
    /// clock and no tick yet).
    pub drop_team_results: Vec<(String, String)>,
    /// Rewards earned by this batch's results: inserted unless already issued (the ledger is
    /// append-only), each newly issued one owing a delivery to every URL of `webhooks`.
    pub rewards: Vec<RewardRow>,
    /// The webhook URLs owed a delivery of each newly issued reward.
    pub webhooks: Vec<String>,
    /// A user to erase with every source of truth and view row of theirs (the rewards they
    /// earned and the deliveries owed for them included).
    pub erase: Option<Erasure>,
    /// Users whose results are all deleted (they are no longer considered).
    pub drop_results_of_users: Vec<String>,
    /// Challenges whose results, team results and live rows are all deleted.
    pub drop_challenges: Vec<String>,
    /// Users whose live rows are replaced by `live` (or just deleted).
    pub replace_live_of_users: Vec<String>,
    /// New live rows.
    pub live: Vec<ResultRow>,
    /// Replace the whole `profiles` view with these rows.
    pub profiles: Option<Vec<Row>>,
    /// Replace the whole `leaderboards` view with these rows.
    pub leaderboards: Option<Vec<Row>>,
    /// Per-user clocks (the `as_of` of their results) to set.
    pub clocks: Vec<(String, String)>,
    /// Challenges to store (added or edited).
    pub put_challenges: Vec<StoredChallenge>,
    /// Challenges to forget.
    pub delete_challenges: Vec<String>,
    /// Compaction: workouts that become sources of truth.
    pub compacted: Vec<(String, CompactedWorkout)>,
    /// Compaction: purge the log events at positions `lo..hi` whose session is compacted
    /// (one range of positions per batch, so that a compaction is many short transactions).
    pub purge_compacted: Option<(u64, u64)>,
    /// Counters to add.
    pub counters: Counters,
    /// Consumer offsets to set: (consumer, position). An input's offset is the number of its
    /// lines consumed; the `views` consumer's is the last log position applied.
    pub offsets: Vec<(String, u64)>,
    /// Settings to keep (`catalog`, `partitions`).
    pub meta: Vec<(String, String)>,
    /// The accepted sensor events' users, for the change feed (empty when the feed is off).
    pub sensor: crate::feed::SensorFeed,
}

/// What a store holds at start-up besides the sources of truth, which are read a page of
/// positions at a time ([`Store::sources`]) so that nothing holds the whole log in memory.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    /// The highest position of the log and of the compacted workouts (0 when empty).
    pub head: u64,
    /// The challenges.
    pub challenges: Vec<StoredChallenge>,
    /// Per-user clocks (RFC 3339 text).
    pub clocks: BTreeMap<String, String>,
    /// Input counters so far.
    pub counters: Counters,
    /// Consumer offsets.
    pub offsets: BTreeMap<String, u64>,
    /// Settings.
    pub meta: BTreeMap<String, String>,
}

/// The sources of truth at a range of log positions, each part in position order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourcePage {
    /// The log entries.
    pub log: Vec<LogEntry>,
    /// The compacted workouts (by their position, then session id), with their session.
    pub compacted: Vec<(String, CompactedWorkout)>,
}

/// Log positions per [`Store::sources`] page when the whole log is read (start-up, rebuild,
/// copies, compaction): bounds what a replay holds in memory at once.
pub const SOURCE_PAGE: u64 = 65_536;

/// The pages of positions `0..=head`, in order, [`SOURCE_PAGE`] positions each.
pub fn pages(head: u64) -> impl Iterator<Item = (u64, u64)> {
    (0..=head / SOURCE_PAGE).map(|i| (i * SOURCE_PAGE, (i + 1) * SOURCE_PAGE))
}

/// Copies the sources of truth of `from` (log, compacted workouts, challenges, settings) into
/// `to`, an empty store of any kind: what a scratch rebuild starts from.
pub fn copy_sources(from: &mut impl Store, to: &mut impl Store) -> Result<(), StoreError> {
    let snapshot = from.snapshot()?;
    to.commit(&Batch {
        put_challenges: snapshot.challenges,
        meta: snapshot.meta.into_iter().collect(),
        ..Batch::default()
    })?;
    for (from_pos, to_pos) in pages(snapshot.head) {
        let page = from.sources(from_pos, to_pos)?;
        to.commit(&Batch {
            log: page.log,
            compacted: page.compacted,
            ..Batch::default()
        })?;
    }
    Ok(())
}

/// Storage behind the pipeline.
pub trait Store {
    /// Everything the stages need to resume, but the sources of truth.
    fn snapshot(&mut self) -> Result<Snapshot, StoreError>;
    /// The log entries and compacted workouts at positions `from..to`.
    fn sources(&mut self, from: u64, to: u64) -> Result<SourcePage, StoreError>;
    /// Returns up to `pages` free pages to the file system (after a compaction); `Ok(true)`
    /// while free pages remain. Each call is short, so writers wait little.
    fn reclaim(&mut self, pages: u32) -> Result<bool, StoreError>;
    /// Applies a batch atomically.
    fn commit(&mut self, batch: &Batch) -> Result<(), StoreError>;
    /// Empties every derived view (and the clocks), keeping the log, the compacted workouts,
    /// the challenges, the dead letters, the counters, the input offsets, the rewards ledger
    /// and the deliveries owed.
    fn clear_views(&mut self) -> Result<(), StoreError>;
    /// A view's rows as JSON lines in its order, filtered by user and challenge where they
    /// apply. Views: [`VIEWS`], `dead-letters`, `rewards` (the ledger, by challenge, holder
    /// and name; `user` keeps that user's) and `team_rewards` (`user` keeps that team's). `results` holds user and team rows together, by
    /// challenge then user or team; with `user`, only that user's rows; `team_results` only
    /// the team rows (`user` then filters by team).
    fn query(
        &mut self,
        view: &str,
        user: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<Vec<String>, StoreError>;
    /// The content hash of each derived view (its rows in order), by name.
    fn view_hashes(&mut self) -> Result<BTreeMap<String, String>, StoreError>;
    /// Row counts of the tables, for `stats`.
    fn counts(&mut self) -> Result<BTreeMap<String, u64>, StoreError>;
    /// The webhook deliveries owed whose next attempt is due at `due_by` (milliseconds since
    /// the Unix epoch; `i64::MAX` for all), oldest first, at most `limit`.
    fn owed_deliveries(&mut self, due_by: i64, limit: usize) -> Result<Vec<Delivery>, StoreError>;
    /// A delivery succeeded: it is no longer owed.
    fn delivered(&mut self, id: i64) -> Result<(), StoreError>;
    /// A delivery attempt failed: one more attempt counted, the next one due at `next_at`.
    fn delivery_failed(&mut self, id: i64, next_at: i64) -> Result<(), StoreError>;
}
