//! The stream stage: validate raw lines into sensor events (bad ones become dead letters with
//! a reason), deduplicate by `(session, seq)` and buffer each session's events in its
//! [`SessionState`]; keep the winning `user_upsert` of each user and the winning `workout`
//! message of each imported workout id (data.md, "Imported workouts": the latest `ts`, on
//! equal `ts` the later delivered; an identical resend, such as a re-imported file, is a
//! duplicate and changes nothing).
//!
//! [`validate`] is a pure function of the lines (run in parallel); [`admit`] applies one
//! event to the state, in log order.

use chrono::{DateTime, FixedOffset};
use rayon::prelude::*;
use rules_core::session::{parse_event_line, PushOutcome, SensorEvent, SessionState};

use crate::state::{State, UserEntry};
use crate::transport::{Chunk, Line};
use crate::Dirty;

/// The reason given for an event of a session that was compacted away.
pub const COMPACTED_REASON: &str = "late event for a compacted session";

/// What [`admit`] did with an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// New: appended to the log.
    New,
    /// An identical resend: a no-op (accepted, not logged again).
    Duplicate,
    /// A differing copy of an accepted `(session, seq)`: dead letter.
    Conflict,
    /// An event of a compacted session: dead letter.
    Compacted,
}

/// Parses and validates lines, in parallel; each is an event or a rejection reason.
pub fn validate(lines: &[Line]) -> Vec<Result<SensorEvent, String>> {
    lines
        .par_iter()
        .with_min_len(512)
        .map(|line| parse_event_line(&line.text))
        .collect()
}

/// Lines from which a chunk is validated in parallel: below, the hand-off to the thread pool
/// (a wake-up and a wait, long on a loaded machine) costs more than it saves.
const PARALLEL_FROM: usize = 512;

/// Parses and validates the lines of a chunk, in parallel when there are many.
pub fn validate_chunk(chunk: &Chunk) -> Vec<Result<SensorEvent, String>> {
    if chunk.lines.len() < PARALLEL_FROM {
        return chunk
            .lines
            .iter()
            .map(|line| parse_event_line(chunk.line(line)))
            .collect();
    }
    chunk
        .lines
        .par_iter()
        .with_min_len(PARALLEL_FROM)
        .map(|line| parse_event_line(chunk.line(line)))
        .collect()
}

/// Applies a `user_delete` of `user` stamped `ts` at log position `pos`: the record goes
/// (when it is not newer than `ts`; on equal times the later in the log wins, as between
/// upserts) and the user leaves its teams; a later upsert brings a record back.
pub fn delete_user(
    state: &mut State,
    pos: u64,
    user: &str,
    ts: DateTime<FixedOffset>,
    dirty: &mut Dirty,
) {
    let newest = state.deleted.entry(user.to_owned()).or_insert(ts);
    *newest = (*newest).max(ts);
    if state.users.get(user).is_some_and(|c| c.upsert.ts > ts) {
        return;
    }
    let Some(old) = state.remove_user(user) else {
        return;
    };
    for g in &old.upsert.user.groups {
        dirty.team(g, pos);
    }
    state
        .superseded_users
        .entry(user.to_owned())
        .or_default()
        .push(old.upsert);
    state.bump_clock(user, ts);
    dirty.user(user, pos, true);
    dirty.user_records.push(user.to_owned());
}

/// Applies one event at log position `pos`, marking what it changes in `dirty`.
pub fn admit(state: &mut State, pos: u64, event: SensorEvent, dirty: &mut Dirty) -> Admission {
    match event {
        SensorEvent::UserUpsert(upsert) => {
            let id = upsert.user.id.clone();
            let incoming = SensorEvent::UserUpsert(upsert.clone());
            let current = state.users.get(&id);
            let earlier = state.superseded_users.get(&id).into_iter().flatten();
            if current
                .map(|c| &c.upsert)
                .into_iter()
                .chain(earlier)
                .any(|u| SensorEvent::UserUpsert(u.clone()).identical(&incoming))
            {
                return Admission::Duplicate;
            }
            let newest = current
                .map(|c| c.upsert.ts)
                .into_iter()
                .chain(state.deleted.get(&id).copied())
                .max();
            if newest.is_some_and(|t| upsert.ts < t) {
                // Logged, but an older record than the winning one, or than a deletion, does
                // not win.
                state.superseded_users.entry(id).or_default().push(upsert);
                return Admission::New;
            }
            let ts = upsert.ts;
            let groups = upsert.user.groups.clone();
            let old = state.put_user(UserEntry { upsert });
            // Joining and leaving both change a team: the old groups and the new.
            for g in old
                .iter()
                .flat_map(|e| &e.upsert.user.groups)
                .chain(&groups)
            {
                dirty.team(g, pos);
            }
            if let Some(old) = old {
                state
                    .superseded_users
                    .entry(id.clone())
                    .or_default()
                    .push(old.upsert);
            }
            state.bump_clock(&id, ts);
            dirty.user(&id, pos, true);
            dirty.user_records.push(id);
            Admission::New
        }
        SensorEvent::Workout(message) => {
            let id = message.workout.id.clone();
            let incoming = SensorEvent::Workout(message.clone());
            if let Some(current) = state.imported.get(&id) {
                let earlier = state.superseded_imports.get(&id).into_iter().flatten();
                if std::iter::once(current)
                    .chain(earlier)
                    .any(|w| SensorEvent::Workout(w.clone()).identical(&incoming))
                {
                    return Admission::Duplicate;
                }
                if message.ts < current.ts {
                    // Logged, but an older message does not win.
                    state
                        .superseded_imports
                        .entry(id)
                        .or_default()
                        .push(message);
                    return Admission::New;
                }
            }
            if let Some(old) = state.imported.insert(id.clone(), message) {
                state
                    .superseded_imports
                    .entry(id.clone())
                    .or_default()
                    .push(old);
            }
            dirty.imported(&id, pos);
            Admission::New
        }
        event => {
            let Some(id) = event.session() else {
                return Admission::Conflict;
            };
            if state.compacted.contains(id) {
                return Admission::Compacted;
            }
            if !state.sessions.contains_key(id) {
                state.sessions.insert(id.to_owned(), SessionState::new(id));
            }
            let Some(entry) = state.sessions.get_mut(id) else {
                return Admission::Conflict;
            };
            match entry.push(event) {
                PushOutcome::Accepted => {
                    let session = entry.id();
                    match state.session_pos.get_mut(session) {
                        Some(p) => *p = pos,
                        None => {
                            state.session_pos.insert(session.to_owned(), pos);
                        }
                    }
                    dirty.session(session, pos);
                    Admission::New
                }
                PushOutcome::Duplicate => Admission::Duplicate,
                PushOutcome::Conflict | PushOutcome::NotThisSession => Admission::Conflict,
            }
        }
    }
}
