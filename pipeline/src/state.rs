//! The pipeline's in-memory state: the sessions being buffered, the saved workouts, the user
//! records and each user's clock. It is a cache of the store, rebuilt from the log at start-up
//! ([`crate::engine::Engine::open`]); the stages read and update it, message by message.

use std::borrow::Cow;
use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use rules_core::eval::AsOf;
use rules_core::records::{User, Workout};
use rules_core::session::{ImportedWorkout, SessionState, UserUpsert};
use rustc_hash::{FxHashMap, FxHashSet};

/// The winning `user_upsert` of a user (latest `ts`; on equal `ts`, the later delivered).
#[derive(Clone, Debug, PartialEq)]
pub struct UserEntry {
    /// The upsert as received.
    pub upsert: UserUpsert,
}

impl UserEntry {
    /// The record.
    pub fn user(&self) -> &User {
        &self.upsert.user
    }
}

/// What the stages keep between messages.
#[derive(Clone, Debug, Default)]
pub struct State {
    /// Buffered sessions (open, saved, or without start), by id.
    pub sessions: FxHashMap<String, SessionState>,
    /// The log position of each session's latest accepted event.
    pub session_pos: FxHashMap<String, u64>,
    /// Sessions whose events were compacted away (their workouts are sources of truth).
    pub compacted: FxHashSet<String>,
    /// Saved workouts by id.
    pub workouts: FxHashMap<String, Workout>,
    /// Each user's saved workouts, sorted by id (a copy of those in `workouts`, so that the
    /// on-demand stage reads them as one slice).
    pub by_user: FxHashMap<String, Vec<Workout>>,
    /// Each user's open sessions (with a start, without an end); [`State::open_users`] lists
    /// the users in id order, whatever the hasher.
    pub open: FxHashMap<String, BTreeSet<String>>,
    /// The user each open session is indexed under.
    pub open_user: FxHashMap<String, String>,
    /// User records.
    pub users: FxHashMap<String, UserEntry>,
    /// Each removed user's latest `user_delete` time: an upsert older than it does not win.
    pub deleted: FxHashMap<String, DateTime<FixedOffset>>,
    /// The winning `workout` message of each imported workout id (latest `ts`; on equal `ts`,
    /// the later delivered). An imported workout takes its id's place in `workouts` over a
    /// sensor session with the same id: the two never merge.
    pub imported: FxHashMap<String, ImportedWorkout>,
    /// Each user's logged `user_upsert`s that do not win (earlier or older ones): an
    /// identical resend of one of them is a duplicate, not a new log entry.
    pub superseded_users: FxHashMap<String, Vec<UserUpsert>>,
    /// Likewise, each imported workout id's logged `workout` messages that do not win.
    pub superseded_imports: FxHashMap<String, Vec<ImportedWorkout>>,
    /// Each user's clock: the `as_of` of their results.
    pub clocks: FxHashMap<String, AsOf>,
    /// Each group's members: the users whose winning record lists it (a team's members,
    /// language.md §10), kept in step with `users`.
    pub members: FxHashMap<String, BTreeSet<String>>,
    /// The time of the latest tick in log order, if any (a team's `as_of` when no member has
    /// a later clock).
    pub last_tick: Option<AsOf>,
    /// The last log position.
    pub head: u64,
}

/// From this many buffered sessions on, a dropped state is freed on a thread of its own.
const DROP_ELSEWHERE: usize = 10_000;

impl Drop for State {
    /// A big state (every buffered event of every session) takes a while to free: that is
    /// done on a thread of its own, so that the caller (the CLI, about to exit) does not wait.
    fn drop(&mut self) {
        if self.sessions.len() < DROP_ELSEWHERE {
            return;
        }
        let parts = (
            std::mem::take(&mut self.sessions),
            std::mem::take(&mut self.workouts),
            std::mem::take(&mut self.by_user),
        );
        // If the thread cannot start, `parts` is dropped here.
        let _ = std::thread::Builder::new()
            .name("pipeline-free".to_owned())
            .spawn(move || drop(parts));
    }
}

/// Orders two times by instant, then by offset, so that the later of two is well defined.
pub fn later(a: &AsOf, b: &AsOf) -> bool {
    (a.time, a.time.offset().local_minus_utc()) > (b.time, b.time.offset().local_minus_utc())
}

impl State {
    /// Moves a user's clock forward to `time` (never back).
    pub fn bump_clock(&mut self, user: &str, time: DateTime<FixedOffset>) {
        let candidate = AsOf::from_time(time);
        match self.clocks.get(user) {
            Some(current) if !later(&candidate, current) => {}
            _ => {
                self.clocks.insert(user.to_owned(), candidate);
            }
        }
    }

    /// Sets `user`'s winning record, keeping the group index in step; returns the record it
    /// replaces, if any.
    pub fn put_user(&mut self, entry: UserEntry) -> Option<UserEntry> {
        let id = entry.user().id.clone();
        let groups = entry.user().groups.clone();
        let old = self.users.insert(id.clone(), entry);
        self.leave_groups(&id, old.as_ref());
        for g in groups {
            self.members.entry(g).or_default().insert(id.clone());
        }
        old
    }

    /// Removes `user`'s record, keeping the group index in step; returns it, if any.
    pub fn remove_user(&mut self, user: &str) -> Option<UserEntry> {
        let old = self.users.remove(user);
        self.leave_groups(user, old.as_ref());
        old
    }

    fn leave_groups(&mut self, user: &str, old: Option<&UserEntry>) {
        for g in old.iter().flat_map(|e| &e.upsert.user.groups) {
            if let Some(members) = self.members.get_mut(g) {
                members.remove(user);
                if members.is_empty() {
                    self.members.remove(g);
                }
            }
        }
    }

    /// The members of a group (a team), sorted by id.
    pub fn members_of(&self, group: &str) -> impl Iterator<Item = &str> {
        self.members
            .get(group)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// Whether a user is considered (data.md): an accepted record or a saved workout.
    pub fn considered(&self, user: &str) -> bool {
        self.users.contains_key(user) || self.by_user.get(user).is_some_and(|w| !w.is_empty())
    }

    /// Every considered user id, sorted.
    pub fn considered_users(&self) -> BTreeSet<String> {
        let mut ids: BTreeSet<String> = self.users.keys().cloned().collect();
        ids.extend(
            self.by_user
                .iter()
                .filter(|(_, w)| !w.is_empty())
                .map(|(u, _)| u.clone()),
        );
        ids
    }

    /// The user record, or a user in no group.
    pub fn user_record(&self, user: &str) -> User {
        self.users
            .get(user)
            .map_or_else(|| User::unknown(user), |e| e.user().clone())
    }

    /// The user record, borrowed, or a user in no group.
    pub fn user_ref(&self, user: &str) -> Cow<'_, User> {
        self.users.get(user).map_or_else(
            || Cow::Owned(User::unknown(user)),
            |e| Cow::Borrowed(e.user()),
        )
    }

    /// A user's saved workouts, sorted by id.
    pub fn workouts_of(&self, user: &str) -> &[Workout] {
        self.by_user.get(user).map_or(&[], Vec::as_slice)
    }

    /// Puts a saved workout into its user's list (replacing the one with its id).
    pub fn index_workout(&mut self, workout: &Workout) {
        let list = self.by_user.entry(workout.user.clone()).or_default();
        match list.binary_search_by(|w| w.id.as_str().cmp(&workout.id)) {
            Ok(i) => {
                if let Some(slot) = list.get_mut(i) {
                    *slot = workout.clone();
                }
            }
            Err(i) => list.insert(i, workout.clone()),
        }
    }

    /// Removes workout `id` from `user`'s list.
    pub fn unindex_workout(&mut self, user: &str, id: &str) {
        if let Some(list) = self.by_user.get_mut(user) {
            if let Ok(i) = list.binary_search_by(|w| w.id.as_str().cmp(id)) {
                list.remove(i);
            }
        }
    }

    /// The live workouts of a user's open sessions, and the latest ts among them.
    pub fn live_of(&self, user: &str) -> (Vec<Workout>, Option<DateTime<FixedOffset>>) {
        let mut live = Vec::new();
        let mut latest: Option<DateTime<FixedOffset>> = None;
        for id in self.open.get(user).into_iter().flatten() {
            if let Some(session) = self.sessions.get(id) {
                if let Some(w) = session.live_workout() {
                    live.push(w);
                }
                if let Some(ts) = session.latest_ts() {
                    latest = Some(latest.map_or(ts, |l| l.max(ts)));
                }
            }
        }
        (live, latest)
    }

    /// The users with an open session, sorted by id (their live rows are re-derived in this
    /// order, so a batch's changes come in an order that does not depend on hashing).
    pub fn open_users(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.open.keys().cloned().collect();
        ids.sort_unstable();
        ids
    }

    /// Every saved workout, sorted by id.
    pub fn all_workouts(&self) -> Vec<Workout> {
        let mut out: Vec<Workout> = self.workouts.values().cloned().collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }
}
