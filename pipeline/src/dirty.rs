//! What a batch of messages touched: the sessions to consolidate and the users whose results
//! (or only live rows) to re-derive, each with the latest log position that touched it.

use std::collections::BTreeMap;

use rustc_hash::FxHashSet;

/// A user to re-derive.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirtyUser {
    /// The latest log position that touched the user (the version of its new rows).
    pub version: u64,
    /// Whether results are re-derived too (otherwise only the live rows).
    pub results: bool,
}

/// The sessions and users a batch touched.
#[derive(Clone, Debug, Default)]
pub struct Dirty {
    /// Sessions with new events, in order of first touch.
    pub sessions: Vec<String>,
    seen: FxHashSet<String>,
    /// Users to re-derive, by id.
    pub users: BTreeMap<String, DirtyUser>,
    /// Users whose record changed.
    pub user_records: Vec<String>,
    /// Imported workouts whose winning message changed, with its log position, in order.
    pub imported: Vec<(String, u64)>,
    /// Groups whose members changed (a record joined or left them), with the latest log
    /// position that changed them: the teams among them are re-derived.
    pub teams: BTreeMap<String, u64>,
}

impl Dirty {
    /// Marks a session.
    pub fn session(&mut self, id: &str, _pos: u64) {
        if !self.seen.contains(id) {
            self.seen.insert(id.to_owned());
            self.sessions.push(id.to_owned());
        }
    }

    /// Marks a user: its results (`results`) or only its live rows.
    pub fn user(&mut self, id: &str, pos: u64, results: bool) {
        let entry = match self.users.get_mut(id) {
            Some(entry) => entry,
            None => self.users.entry(id.to_owned()).or_default(),
        };
        entry.version = entry.version.max(pos);
        entry.results |= results;
    }

    /// Marks a group whose members changed at `pos`.
    pub fn team(&mut self, group: &str, pos: u64) {
        match self.teams.get_mut(group) {
            Some(v) => *v = (*v).max(pos),
            None => {
                self.teams.insert(group.to_owned(), pos);
            }
        }
    }

    /// Takes the marked sessions (and forgets them, so they can be marked again).
    pub fn take_sessions(&mut self) -> Vec<String> {
        self.seen.clear();
        std::mem::take(&mut self.sessions)
    }

    /// Marks an imported workout whose winning message changed at `pos`.
    pub fn imported(&mut self, id: &str, pos: u64) {
        self.imported.push((id.to_owned(), pos));
    }

    /// Whether nothing was touched.
    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
            && self.users.is_empty()
            && self.imported.is_empty()
            && self.teams.is_empty()
    }
}
