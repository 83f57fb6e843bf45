//! The save stage: consolidate each touched session into its workout with
//! [`rules_core::session`] (the one implementation of the save rules), upsert the workouts
//! view, keep the index of open sessions, and mark the users whose results change.
//!
//! Imported workouts (`workout` messages) are saved here too, from the winning message of
//! each id: an imported workout holds its id in the workouts view, and a sensor session with
//! the same id does not replace it (they never merge), whatever order they arrive in.
//!
//! A late event (after `session_end`) re-derives the workout: same id, upsert. A user's clock
//! moves to the end of a saved workout when that is later (the change's time, in event time, so
//! that the final views do not depend on the delivery order).

use rules_core::records::Workout;
use rules_core::session::{SessionProblem, SessionState};
use serde_json::json;

use crate::state::State;
use crate::store::{Batch, Row};
use crate::Dirty;

/// The `sessions` view row of a session, whose problem ([`SessionState::problem`]) is
/// `problem`.
pub fn session_row(session: &SessionState, problem: Option<SessionProblem>) -> Row {
    let status = match problem {
        None => "saved",
        Some(SessionProblem::Open) => "open",
        Some(SessionProblem::NoStart) => "no_start",
        Some(SessionProblem::EndBeforeStart) => "end_before_start",
        Some(SessionProblem::OutOfBounds) => "out_of_bounds",
    };
    let user = session.user().map(str::to_owned);
    Row {
        key: session.id().to_owned(),
        json: json!({"session": session.id(), "user": user, "status": status}).to_string(),
        user,
    }
}

/// The `workouts` view row of a workout.
pub fn workout_row(workout: &Workout) -> Row {
    Row {
        key: workout.id.clone(),
        user: Some(workout.user.clone()),
        json: serde_json::to_string(workout).unwrap_or_default(),
    }
}

/// Whether two workouts are the same, offsets of their times included.
fn same(a: Option<&Workout>, b: Option<&Workout>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            a == b && a.start.offset() == b.start.offset() && a.end.offset() == b.end.offset()
        }
        _ => false,
    }
}

/// Consolidates every session in `dirty.sessions`; writes the workouts and sessions rows into
/// `batch` (when given) and marks users in `dirty`.
pub fn save(state: &mut State, dirty: &mut Dirty, mut batch: Option<&mut Batch>) {
    for (id, pos) in std::mem::take(&mut dirty.imported) {
        let new = state.imported.get(&id).map(|m| m.workout.clone());
        put_workout(state, dirty, &id, new, pos, batch.as_deref_mut());
    }
    let sessions = dirty.take_sessions();
    for id in &sessions {
        let Some(session) = state.sessions.get(id) else {
            continue;
        };
        let pos = state.session_pos.get(id).copied().unwrap_or(state.head);
        let (new, problem) = match session.saved() {
            Ok(workout) => (Some(workout), None),
            Err(problem) => (None, Some(problem)),
        };
        let open_user = session
            .is_open()
            .then(|| session.user().map(str::to_owned))
            .flatten();
        let row = session_row(session, problem);
        if let Some(batch) = batch.as_deref_mut() {
            batch.put.push(("sessions", row));
        }
        if state.imported.contains_key(id) {
            shadowed(state, dirty, new.as_ref(), pos);
        } else {
            put_workout(state, dirty, id, new, pos, batch.as_deref_mut());
        }
        // The open-session index.
        let previous = state.open_user.get(id).cloned();
        if previous != open_user {
            if let Some(p) = previous {
                if let Some(set) = state.open.get_mut(&p) {
                    set.remove(id);
                    if set.is_empty() {
                        state.open.remove(&p);
                    }
                }
                state.open_user.remove(id);
                dirty.user(&p, pos, false);
            }
            if let Some(u) = &open_user {
                state.open.entry(u.clone()).or_default().insert(id.clone());
                state.open_user.insert(id.clone(), u.clone());
            }
        }
        if let Some(u) = &open_user {
            dirty.user(u, pos, false);
        }
    }
}

/// A session's workout whose id an imported workout holds: not saved, but the user's clock
/// moves to its end as if it were, so that the clocks (and the results' `as_of`) do not depend
/// on whether the session or the imported workout arrived first.
pub fn shadowed(state: &mut State, dirty: &mut Dirty, workout: Option<&Workout>, pos: u64) {
    if let Some(w) = workout {
        state.bump_clock(&w.user, w.end);
        dirty.user(&w.user, pos, true);
    }
}

/// Puts (or removes) the workout of session `id`, moving the users' clocks and marking them.
pub fn put_workout(
    state: &mut State,
    dirty: &mut Dirty,
    id: &str,
    new: Option<Workout>,
    pos: u64,
    batch: Option<&mut Batch>,
) {
    let old = state.workouts.get(id);
    if same(old, new.as_ref()) {
        return;
    }
    if let Some(old) = old {
        let user = old.user.clone();
        state.unindex_workout(&user, id);
        dirty.user(&user, pos, true);
    }
    match new {
        Some(workout) => {
            let user = workout.user.clone();
            state.bump_clock(&user, workout.end);
            state.index_workout(&workout);
            dirty.user(&user, pos, true);
            if let Some(batch) = batch {
                batch.put.push(("workouts", workout_row(&workout)));
            }
            state.workouts.insert(id.to_owned(), workout);
        }
        None => {
            state.workouts.remove(id);
            if let Some(batch) = batch {
                batch.delete.push(("workouts", id.to_owned()));
            }
        }
    }
}
