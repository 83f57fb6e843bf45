//! The live session behind the WASM `LiveSession` class: a challenge's result for one user while
//! a workout is under way, in plain Rust so that it is tested natively.
//!
//! The save rules (sensor events → workout: dedupe by `seq`, sets, partial reps, samples) are
//! `rules_core::session::SessionState`, the same code as the pipeline's save stage; this module
//! only feeds it events and evaluates the challenge with the session's workout so far added to
//! the user's saved workouts (an upsert by id, as a saved session would be).
//!
//! **Invariant:** once `session_end` has arrived, the live result is exactly the result of
//! evaluating the challenge on the saved workouts plus the session's saved workout
//! (`SessionState::workout`); before it, the session counts as a workout ending at its latest
//! event (`SessionState::live_workout`). Nothing here reads a clock: `asOf` is given.

use rules_core::eval::{self, AsOf, EvalResult, Plan};
use rules_core::records::{self, User, Workout};
use rules_core::session::{self, PushOutcome, SensorEvent, SessionState};
use serde::Serialize;

use rules_core::Catalog;
use rules_front::{self as api, ApiError, RecordsInput, TreeInput};

/// A challenge followed live for one user through one session.
#[derive(Clone, Debug)]
pub struct Live {
    plan: Plan,
    user: User,
    saved: Vec<Workout>,
    as_of: AsOf,
    state: SessionState,
}

/// What a push gives: how the event was taken and the result as of now.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Update {
    /// `accepted`, `duplicate` (an identical resend), `conflict` (a differing copy of a kept
    /// `seq`, kept out), `not_this_session`, or `rejected` (not a valid event).
    pub outcome: &'static str,
    /// Why the event was rejected or kept out.
    pub reason: Option<String>,
    /// How many events the session holds.
    pub events: usize,
    /// Whether `session_end` has arrived (the workout is then the saved one).
    pub ended: bool,
    /// The session's workout so far (`null` if it cannot be one, e.g. an end before the start).
    pub workout: Option<Workout>,
    /// The challenge's result for the user, with the workout so far counted.
    pub result: EvalResult,
}

impl Live {
    /// Starts following `challenge` (exactly one challenge, checked without errors) for the
    /// user of `start` (a `session_start` event, JSON text), with the user's saved workouts,
    /// evaluated as of `as_of`. `user` is the user's record (for `groups`); without it the user
    /// is in no group.
    pub fn new(
        challenge: TreeInput<'_>,
        saved: RecordsInput<'_>,
        as_of: &str,
        start: &str,
        user: RecordsInput<'_>,
    ) -> Result<Live, ApiError> {
        let as_of = api::as_of(as_of, "asOf")?;
        let catalog = Catalog::builtin();
        let mut plans = api::Source::read(challenge, &catalog).plans(&catalog)?;
        let plan =
            match (plans.pop(), plans.is_empty()) {
                (Some(plan), true) => plan,
                (None, _) => return Err(ApiError::new(
                    "the live session needs a challenge; found none (templates are not evaluated)",
                )),
                (Some(_), false) => {
                    return Err(ApiError::new(
                        "the live session follows one challenge; the argument holds several",
                    ))
                }
            };
        let event = session::parse_event_line(start)
            .map_err(|reason| ApiError::new(format!("the start event is not valid: {reason}")))?;
        let SensorEvent::SessionStart(first) = &event else {
            return Err(ApiError::new(format!(
                "a live session starts with a `session_start` event, not `{}`",
                event.type_name()
            )));
        };
        let user_id = first.user.clone();
        let mut state = SessionState::new(&first.session);
        state.push(event);
        let records = api::Records::read(saved, user)?;
        let user = records
            .users
            .into_iter()
            .find(|u| u.id == user_id)
            .unwrap_or_else(|| User::unknown(&user_id));
        let saved = records
            .workouts
            .into_iter()
            .filter(|w| w.user == user_id)
            .collect();
        Ok(Live {
            plan,
            user,
            saved,
            as_of,
            state,
        })
    }

    /// Takes one event (JSON text of one sensor event) and gives the result with it counted.
    pub fn push(&mut self, event: &str) -> Update {
        match session::parse_event_line(event) {
            Ok(event) => {
                let outcome = self.state.push(event);
                let (name, reason) = match outcome {
                    PushOutcome::Accepted => ("accepted", None),
                    PushOutcome::Duplicate => ("duplicate", None),
                    PushOutcome::Conflict => {
                        ("conflict", Some(session::CONFLICT_REASON.to_owned()))
                    }
                    PushOutcome::NotThisSession => (
                        "not_this_session",
                        Some(format!("the event is not of session `{}`", self.state.id())),
                    ),
                };
                self.update(name, reason)
            }
            Err(reason) => self.update("rejected", Some(reason)),
        }
    }

    /// The update for an event that could not even be read as text (the result unchanged).
    pub fn reject(&self, reason: String) -> Update {
        self.update("rejected", Some(reason))
    }

    /// The result as of now, without a new event.
    pub fn current(&self) -> Update {
        self.update("none", None)
    }

    /// The session's workout: the saved one once it has ended, else the live one.
    pub fn workout(&self) -> Option<Workout> {
        if self.state.is_open() {
            self.state.live_workout()
        } else {
            self.state.workout()
        }
    }

    fn update(&self, outcome: &'static str, reason: Option<String>) -> Update {
        let workout = self.workout();
        let all =
            records::upsert_workouts(self.saved.iter().cloned().chain(workout.clone()).collect());
        Update {
            outcome,
            reason,
            events: self.state.len(),
            ended: !self.state.is_open(),
            workout,
            result: eval::evaluate(&self.plan, &self.user, &all, &self.as_of),
        }
    }
}

#[cfg(test)]
mod tests;
