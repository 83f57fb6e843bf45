//! The reducer: the stages that read across partitions, run by one worker at a time over what
//! the partitions' engines committed.
//!
//! ```text
//! partition engines ──commit──► PostgreSQL: results, workouts, users, clocks, board_parts,
//!   (per user)                                 counters ticks.pN / erasures.pN
//!                                                │
//! reducer (the holder of REDUCER_LOCK) ◄─────────┘
//!   ├─ team rows: every team a team challenge names, from its members' records, workouts and
//!   │  clocks and the last tick (pipeline::team, the code the embedded engine runs), with the
//!   │  team rewards; only rows that changed are written
//!   └─ the month's leaderboards: once every partition has applied the same ticks (and
//!      erasures), the partitions' parts merged and ranked again (pipeline::periodic::rank_entries)
//! ```
//!
//! **Why a reducer.** A partition's engine holds every user of its partition, so the per-user
//! stages (sessions, workouts, results, live, profiles, user rewards) need nothing from other
//! partitions. A team's members and a board's entrants are anywhere: those two stages read
//! across partitions, and run here, after the partitions commit.
//!
//! **Leaderboards are exact.** A user's total is computed from the user's own workouts in the
//! user's partition, at the tick, as the embedded tick does; the partitions' parts of the same
//! tick, ranked together, are the board the embedded tick makes. The reducer merges only a
//! consistent cut: every partition has applied the same number of ticks and erasures (read in
//! one `REPEATABLE READ` snapshot with the parts).
//!
//! **Team rows are eventually the embedded ones.** A team row is a function of its members'
//! records, workouts and clocks and of the last tick (pipeline/src/team.rs). The reducer
//! re-derives every named team whenever the store moved (a partition's counter moved: lines
//! read, ticks, deletions, erasures; or the challenges changed), at most every [`PASS_EVERY`]; once the input stops,
//! its rows equal the embedded engine's. Between two passes a row may lag its members by one
//! pass, and a team reward's `at` is the team's clock when the reducer saw it reached.
//!
//! **Invariant:** no view reads a clock: the pace of the passes is wall time, but what a pass
//! writes is a function of the committed views.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::DateTime;
use pipeline::engine::{compile, parse_tick};
use pipeline::ondemand::Active;
use pipeline::periodic;
use pipeline::state::{State, UserEntry};
use pipeline::store::{Batch, Store, StoredChallenge};
use pipeline::{rewards, team};
use postgres::IsolationLevel;
use rules_core::eval::AsOf;
use rules_core::records::{read_users, read_workouts};
use rules_core::session::UserUpsert;
use rules_core::Catalog;

use crate::postgres::{pg_error, PgStore, ERASURES, PARTITIONS_KEY, TICKS};

/// The advisory lock of the reducer (one at a time, any worker).
pub const REDUCER_LOCK: i64 = 0x6368_616c_6c04;

/// The shortest time between two passes.
pub const PASS_EVERY: Duration = Duration::from_secs(1);

/// What a reducer needs.
#[derive(Clone, Debug)]
pub struct ReducerConfig {
    /// The PostgreSQL URL.
    pub store: String,
    /// The exercise catalog.
    pub catalog: Catalog,
    /// Webhook URLs owed a delivery for each team reward.
    pub webhooks: Vec<String>,
    /// Changes the outbox keeps.
    pub outbox_keep: u64,
}

/// Runs as reducer until `stop`: waits until the lock is had, then reduces; starts over
/// after a failure.
pub fn run(config: &ReducerConfig, stop: &AtomicBool, log: &(dyn Fn(&str) + Sync)) {
    while !stop.load(Ordering::Relaxed) {
        match reduce_while_owner(config, stop, log) {
            Ok(()) => return,
            Err(e) => {
                log(&format!("reducer: {e}; starting over in 1 s"));
                crate::worker::pause(stop, Duration::from_secs(1));
            }
        }
    }
}

fn reduce_while_owner(
    config: &ReducerConfig,
    stop: &AtomicBool,
    log: &(dyn Fn(&str) + Sync),
) -> Result<(), String> {
    let mut store = PgStore::connect(&config.store).map_err(|e| e.to_string())?;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let got: bool = store
            .client()
            .query_one("SELECT pg_try_advisory_lock($1)", &[&REDUCER_LOCK])
            .map_err(|e| pg_error(&e).to_string())?
            .get(0);
        if got {
            break;
        }
        crate::worker::pause(stop, Duration::from_millis(500));
    }
    log("reducer: active");
    store.enable_feed(config.outbox_keep);
    let mut reducer = Reducer::new(store, config)?;
    while !stop.load(Ordering::Relaxed) {
        reducer.pass()?;
        crate::worker::pause(stop, PASS_EVERY);
    }
    Ok(())
}

/// Where the store stands, as far as the reducer cares: the sum of the partitions' counters
/// and the challenges (id, hash).
type Mark = (i64, Vec<(String, String)>);

/// The reducer's state between passes.
pub struct Reducer {
    store: PgStore,
    catalog: Catalog,
    webhooks: Vec<String>,
    /// What the store looked like at the last pass (nothing to do when it has not moved).
    seen: Option<Mark>,
    /// The cut (ticks, erasures) the stored boards were merged at.
    boards_at: Option<(u64, u64)>,
    /// The version of the next team rows (above every stored one).
    version: u64,
    /// The team challenges compiled, and the stored challenges (id, hash) they come from.
    compiled: (Vec<(String, String)>, Vec<Active>),
}

impl Reducer {
    /// A reducer over `store` (whose advisory lock the caller holds).
    pub fn new(mut store: PgStore, config: &ReducerConfig) -> Result<Reducer, String> {
        let version: i64 = store
            .client()
            .query_one("SELECT coalesce(max(version), 0) FROM team_results", &[])
            .map_err(|e| pg_error(&e).to_string())?
            .get(0);
        Ok(Reducer {
            store,
            catalog: config.catalog.clone(),
            webhooks: config.webhooks.clone(),
            seen: None,
            boards_at: None,
            version: u64::try_from(version).unwrap_or(0) + 1,
            compiled: (Vec::new(), Vec::new()),
        })
    }

    /// One pass: the team rows and the boards, when the store moved since the last pass.
    pub fn pass(&mut self) -> Result<(), String> {
        let e = |e: postgres::Error| pg_error(&e).to_string();
        // Every commit of a partition moves a counter (lines read, ticks, deletions,
        // erasures): their sum is a cheap mark of "something was committed".
        let counted: i64 = self
            .store
            .client()
            .query_one("SELECT coalesce(sum(value), 0)::bigint FROM counters", &[])
            .map_err(e)?
            .get(0);
        let stored = self.store.stored_challenges().map_err(|e| e.to_string())?;
        let challenges: Vec<(String, String)> = stored
            .iter()
            .map(|c| (c.id.clone(), c.hash.clone()))
            .collect();
        let now = Some((counted, challenges));
        if now == self.seen {
            return Ok(());
        }
        self.boards()?;
        if let Some((_, ids)) = &now {
            self.teams(&stored, ids)?;
        }
        self.seen = now;
        Ok(())
    }

    /// Merges the partitions' parts of the month's boards when every partition has applied the
    /// same ticks and erasures, and the cut differs from the stored boards'.
    fn boards(&mut self) -> Result<(), String> {
        let e = |e: postgres::Error| pg_error(&e).to_string();
        let mut tx = self
            .store
            .client()
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(e)?;
        let partitions: Option<String> = tx
            .query_opt("SELECT value FROM meta WHERE key = $1", &[&PARTITIONS_KEY])
            .map_err(e)?
            .map(|r| r.get(0));
        let Some(n) = partitions.and_then(|n| n.parse::<usize>().ok()) else {
            return Ok(());
        };
        let mut ticks: BTreeMap<String, u64> = BTreeMap::new();
        let mut erasures = 0u64;
        for row in tx
            .query(
                "SELECT name, value FROM counters WHERE name LIKE $1 OR name LIKE $2",
                &[&format!("{TICKS}.p%"), &format!("{ERASURES}.p%")],
            )
            .map_err(e)?
        {
            let name: String = row.get(0);
            let value = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
            if name.starts_with(ERASURES) {
                erasures += value;
            } else {
                ticks.insert(name, value);
            }
        }
        // A consistent cut: every partition at the same tick, at least one.
        let mut counts = ticks.values().copied().collect::<BTreeSet<u64>>();
        let Some(k) = counts.pop_first() else {
            return Ok(());
        };
        if ticks.len() != n || !counts.is_empty() || k == 0 {
            return Ok(());
        }
        if self.boards_at == Some((k, erasures)) {
            return Ok(());
        }
        let parts: Vec<String> = tx
            .query("SELECT json FROM board_parts", &[])
            .map_err(e)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        tx.commit().map_err(e)?;
        let rows = periodic::rank_entries(parts, None);
        self.store
            .commit(&Batch {
                leaderboards: Some(rows),
                ..Batch::default()
            })
            .map_err(|e| e.to_string())?;
        self.boards_at = Some((k, erasures));
        Ok(())
    }

    /// Re-derives every team a team challenge names; writes the rows that changed, the rows to
    /// drop and the team rewards they earn.
    fn teams(
        &mut self,
        stored: &[StoredChallenge],
        ids: &[(String, String)],
    ) -> Result<(), String> {
        let e = |e: postgres::Error| pg_error(&e).to_string();
        // Compiled again only when the challenges (`ids`: id and hash) changed.
        if self.compiled.0 != ids {
            let teams: Vec<Active> = stored
                .iter()
                .filter_map(|c| compile(c, &self.catalog).ok())
                .filter(|c| !c.plan.teams().is_empty())
                .collect();
            self.compiled = (ids.to_vec(), teams);
        }
        let challenges = &self.compiled.1;
        let named: BTreeSet<String> = team::named_teams(challenges)
            .into_iter()
            .map(str::to_owned)
            .collect();
        if named.is_empty() {
            return Ok(());
        }
        let state = members(&mut self.store, &named)?;
        let version = self.version;
        let teams: BTreeMap<String, u64> = named.iter().map(|t| (t.clone(), version)).collect();
        let all: Vec<&Active> = challenges.iter().collect();
        let mut derived = Batch::default();
        team::derive(&state, &all, &teams, None, &mut derived);
        // Only what changed: the stored rows, by (challenge, team).
        let mut stored_rows: BTreeMap<(String, String), String> = BTreeMap::new();
        for row in self
            .store
            .client()
            .query("SELECT challenge, team, json FROM team_results", &[])
            .map_err(e)?
        {
            stored_rows.insert((row.get(0), row.get(1)), row.get(2));
        }
        let mut batch = Batch::default();
        for row in derived.team_results {
            let key = (row.challenge.clone(), row.user.clone());
            if stored_rows.get(&key) != Some(&row.json) {
                batch.team_results.push(row);
            }
        }
        for key in derived.drop_team_results {
            if stored_rows.contains_key(&key) {
                batch.drop_team_results.push(key);
            }
        }
        if batch.team_results.is_empty() && batch.drop_team_results.is_empty() {
            return Ok(());
        }
        rewards::issue(challenges, &mut batch, &self.webhooks);
        self.store.commit(&batch).map_err(|e| e.to_string())?;
        self.version += 1;
        Ok(())
    }
}

/// The members of `teams` as the team stage reads them: their records, workouts and clocks,
/// and the last tick.
fn members(store: &mut PgStore, teams: &BTreeSet<String>) -> Result<State, String> {
    let e = |e: postgres::Error| pg_error(&e).to_string();
    let client = store.client();
    let mut state = State::default();
    let text: String = client
        .query("SELECT json FROM users ORDER BY key", &[])
        .map_err(e)?
        .iter()
        .map(|r| format!("{}\n", r.get::<_, &str>(0)))
        .collect();
    let mut members: Vec<String> = Vec::new();
    for (_, user) in read_users(&text).accepted {
        if !user.groups.iter().any(|g| teams.contains(g)) {
            continue;
        }
        members.push(user.id.clone());
        state.put_user(UserEntry {
            upsert: UserUpsert {
                seq: None,
                ts: DateTime::UNIX_EPOCH.fixed_offset(),
                user,
            },
        });
    }
    let text: String = client
        .query(
            "SELECT json FROM workouts WHERE uid = ANY($1) ORDER BY key",
            &[&members],
        )
        .map_err(e)?
        .iter()
        .map(|r| format!("{}\n", r.get::<_, &str>(0)))
        .collect();
    for (_, workout) in read_workouts(&text).accepted {
        state.index_workout(&workout);
        state.workouts.insert(workout.id.clone(), workout);
    }
    for row in client
        .query(
            "SELECT uid, as_of FROM clocks WHERE uid = ANY($1)",
            &[&members],
        )
        .map_err(e)?
    {
        if let Some(at) = AsOf::parse(row.get(1)) {
            state.clocks.insert(row.get(0), at);
        }
    }
    // The last tick every partition's log holds (partition 0's is as good as any).
    state.last_tick = client
        .query_opt(
            "SELECT body FROM log WHERE part = 0 AND kind = 'tick' ORDER BY pos DESC LIMIT 1",
            &[],
        )
        .map_err(e)?
        .and_then(|r| parse_tick(r.get(0)))
        .map(|(at, _)| at);
    Ok(state)
}
