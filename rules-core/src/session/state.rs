//! The live session: [`SessionState`] keeps a session's events, deduplicated and ordered by
//! `seq` ([`PushOutcome`]), and consolidates them into a workout by the save rules, or says
//! why it cannot ([`SessionProblem`]); [`workouts_of`] does it for a whole stream.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset, TimeDelta};

use super::events::{SensorEvent, SessionEnd, SessionStart};
use crate::bounds;
use crate::records::{Workout, WorkoutSet};

/// More than this many seconds between two reps starts a new set.
pub const SET_GAP_S: i64 = 30;

/// The reason given for a differing copy of an accepted `(session, seq)`.
pub const CONFLICT_REASON: &str = "conflicting duplicate";

/// What pushing an event into a session did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// A new `(session, seq)`: kept.
    Accepted,
    /// An identical copy of a kept event: nothing changes.
    Duplicate,
    /// A differing copy of a kept `(session, seq)`: kept out (dead letter
    /// [`CONFLICT_REASON`]).
    Conflict,
    /// The event belongs to another session, or to none (`user_upsert`): kept out.
    NotThisSession,
}

/// Why a session cannot (yet) become a workout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionProblem {
    /// No `session_start` has arrived: the session has no user and cannot become a workout.
    NoStart,
    /// No `session_end` has arrived: the session is still open.
    Open,
    /// The `session_end` ts is before the `session_start` ts.
    EndBeforeStart,
    /// The consolidated workout would break a bound of a record ([`crate::bounds::workout`]):
    /// more than 10,000 sets, or a set of more than 1e9 reps.
    OutOfBounds,
}

impl SessionProblem {
    /// A sentence for reports.
    pub fn reason(self) -> &'static str {
        match self {
            SessionProblem::NoStart => "no `session_start`: the session cannot become a workout",
            SessionProblem::Open => "no `session_end` yet: the session is open",
            SessionProblem::EndBeforeStart => {
                "the `session_end` ts is before the `session_start` ts"
            }
            SessionProblem::OutOfBounds => {
                "the session's workout is outside the bounds of a record (more than 10,000 sets, or a set of more than 1e9 reps)"
            }
        }
    }
}

/// The events of one session received so far, deduplicated and ordered by `seq`: the one
/// implementation of the save rules.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SessionState {
    id: String,
    /// Sorted by `seq`, one event per `seq` (a sorted `Vec`: events mostly arrive in order,
    /// so a push is an append, and the save rules read them in one pass).
    events: Vec<SensorEvent>,
}

impl SessionState {
    /// An empty session.
    pub fn new(id: &str) -> SessionState {
        SessionState {
            id: id.to_owned(),
            events: Vec::new(),
        }
    }

    /// The session id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The kept events, in `seq` order.
    pub fn events(&self) -> impl Iterator<Item = &SensorEvent> {
        self.events.iter()
    }

    /// How many events are kept.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether no event is kept.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Adds an event: a new `seq` is kept; a copy of a kept one is a duplicate when identical
    /// and a conflict otherwise (the kept one stays).
    pub fn push(&mut self, event: SensorEvent) -> PushOutcome {
        let (Some(session), Some(seq)) = (event.session(), event.seq()) else {
            return PushOutcome::NotThisSession;
        };
        if session != self.id {
            return PushOutcome::NotThisSession;
        }
        match self.find(seq) {
            Ok(i) => match self.events.get(i) {
                Some(kept) if kept.identical(&event) => PushOutcome::Duplicate,
                _ => PushOutcome::Conflict,
            },
            Err(i) => {
                self.events.insert(i, event);
                PushOutcome::Accepted
            }
        }
    }

    /// What [`SessionState::push`] would do with `event`, without keeping it.
    pub fn check(&self, event: &SensorEvent) -> PushOutcome {
        let (Some(session), Some(seq)) = (event.session(), event.seq()) else {
            return PushOutcome::NotThisSession;
        };
        if session != self.id {
            return PushOutcome::NotThisSession;
        }
        match self.find(seq) {
            Ok(i) => match self.events.get(i) {
                Some(kept) if kept.identical(event) => PushOutcome::Duplicate,
                _ => PushOutcome::Conflict,
            },
            Err(_) => PushOutcome::Accepted,
        }
    }

    /// Where the event with `seq` is (`Ok`) or goes (`Err`); the last place first.
    fn find(&self, seq: u64) -> Result<usize, usize> {
        match self.events.last().and_then(SensorEvent::seq) {
            None => Err(self.events.len()),
            Some(last) if last < seq => Err(self.events.len()),
            Some(_) => self
                .events
                .binary_search_by_key(&seq, |e| e.seq().unwrap_or_default()),
        }
    }

    /// The `session_start` that gives the workout's fields (the lowest `seq`).
    pub fn start(&self) -> Option<&SessionStart> {
        self.events.iter().find_map(|e| match e {
            SensorEvent::SessionStart(s) => Some(s),
            _ => None,
        })
    }

    /// The `session_end` that gives the workout's end (the highest `seq`).
    pub fn end(&self) -> Option<&SessionEnd> {
        self.events.iter().rev().find_map(|e| match e {
            SensorEvent::SessionEnd(s) => Some(s),
            _ => None,
        })
    }

    /// The user, once the `session_start` has arrived.
    pub fn user(&self) -> Option<&str> {
        self.start().map(|s| s.user.as_str())
    }

    /// Whether the session has no `session_end` yet.
    pub fn is_open(&self) -> bool {
        self.end().is_none()
    }

    /// The latest ts of any kept event.
    pub fn latest_ts(&self) -> Option<DateTime<FixedOffset>> {
        self.events.iter().map(SensorEvent::ts).max()
    }

    /// Why the session is not (yet) a workout; `None` when [`SessionState::workout`] gives one.
    /// (Consolidates the session: call [`SessionState::saved`] to get both at once.)
    pub fn problem(&self) -> Option<SessionProblem> {
        self.saved().err()
    }

    /// The saved workout: the consolidation of every kept event. `None` while the session has
    /// no start or no end, when it ends before it starts, or when the workout would break a
    /// bound of a record ([`SessionState::problem`] says which).
    pub fn workout(&self) -> Option<Workout> {
        self.saved().ok()
    }

    /// The saved workout, or why there is none: [`SessionState::workout`] and
    /// [`SessionState::problem`] in one consolidation.
    pub fn saved(&self) -> Result<Workout, SessionProblem> {
        let start = self.start().ok_or(SessionProblem::NoStart)?;
        let end = self.end().ok_or(SessionProblem::Open)?;
        if end.ts < start.ts {
            return Err(SessionProblem::EndBeforeStart);
        }
        let workout = self.consolidate(start, end.ts);
        bounds::workout(&workout).map_err(|_| SessionProblem::OutOfBounds)?;
        Ok(workout)
    }

    /// The workout as if the session ended at `at` (the browser's "now"), or, without `at`, at
    /// the latest ts of any kept event; never before the start. Counts every event kept so far,
    /// whether or not the session has ended. `None` without a `session_start`, and when the
    /// workout would break a bound of a record (more than 10,000 sets, or an `at` outside the
    /// years 1970 to 9999).
    pub fn workout_so_far(&self, at: Option<DateTime<FixedOffset>>) -> Option<Workout> {
        let start = self.start()?;
        let end = at.or_else(|| self.latest_ts()).unwrap_or(start.ts);
        Some(self.consolidate(start, end.max(start.ts))).filter(|w| bounds::workout(w).is_ok())
    }

    /// The live workout: as if the session ended at its latest event
    /// ([`SessionState::workout_so_far`] without `at`).
    pub fn live_workout(&self) -> Option<Workout> {
        self.workout_so_far(None)
    }

    /// The save rules over every kept event, in `seq` order.
    fn consolidate(&self, start: &SessionStart, end: DateTime<FixedOffset>) -> Workout {
        let mut sets: Vec<WorkoutSet> = Vec::new();
        // The set being built: its load and counted reps.
        let mut current: Option<(Option<f64>, u32)> = None;
        let mut previous: Option<(Option<f64>, DateTime<FixedOffset>)> = None;
        let mut distance: Option<f64> = None;
        let mut calories: Option<f64> = None;
        let (mut hr_sum, mut hr_n) = (0.0, 0u32);
        let (mut incline_sum, mut incline_n) = (0.0, 0u32);
        let gap = TimeDelta::seconds(SET_GAP_S);
        for event in &self.events {
            match event {
                SensorEvent::Rep(rep) => {
                    let new_set = previous
                        .is_none_or(|(load, ts)| load != rep.weight_kg || rep.ts - ts > gap);
                    if new_set {
                        if let Some((weight_kg, reps)) = current.take() {
                            if reps > 0 {
                                sets.push(WorkoutSet { reps, weight_kg });
                            }
                        }
                        current = Some((rep.weight_kg, 0));
                    }
                    if rep.counts() {
                        if let Some((_, reps)) = current.as_mut() {
                            *reps = reps.saturating_add(1);
                        }
                    }
                    previous = Some((rep.weight_kg, rep.ts));
                }
                SensorEvent::Sample(sample) => {
                    if let Some(d) = sample.distance_m {
                        distance = Some(distance.map_or(d, |m: f64| m.max(d)));
                    }
                    if let Some(c) = sample.calories_kcal {
                        calories = Some(calories.map_or(c, |m: f64| m.max(c)));
                    }
                    if let Some(hr) = sample.hr_bpm {
                        hr_sum += hr;
                        hr_n += 1;
                    }
                    if let Some(incline) = sample.incline_pct {
                        incline_sum += incline;
                        incline_n += 1;
                    }
                }
                SensorEvent::SessionStart(_)
                | SensorEvent::SessionEnd(_)
                | SensorEvent::UserUpsert(_)
                | SensorEvent::Workout(_) => {}
            }
        }
        if let Some((weight_kg, reps)) = current {
            if reps > 0 {
                sets.push(WorkoutSet { reps, weight_kg });
            }
        }
        let mean = |sum: f64, n: u32| (n > 0).then(|| sum / f64::from(n));
        Workout {
            id: self.id.clone(),
            user: start.user.clone(),
            exercise: start.exercise.clone(),
            gym: start.gym.clone(),
            machine: start.device.clone(),
            start: start.ts,
            end,
            sets,
            distance_m: distance,
            calories_kcal: calories,
            avg_hr_bpm: mean(hr_sum, hr_n),
            incline_pct: mean(incline_sum, incline_n),
        }
    }
}

/// Consolidates a whole event stream at once: every session's workout (sessions that cannot
/// become one are left out), sorted by id. Handy for tests and batch tools; the pipeline keeps
/// one [`SessionState`] per session instead.
pub fn workouts_of(events: impl IntoIterator<Item = SensorEvent>) -> Vec<Workout> {
    let mut sessions: BTreeMap<String, SessionState> = BTreeMap::new();
    for event in events {
        if let Some(session) = event.session() {
            let session = session.to_owned();
            sessions
                .entry(session.clone())
                .or_insert_with(|| SessionState::new(&session))
                .push(event);
        }
    }
    sessions
        .values()
        .filter_map(SessionState::workout)
        .collect()
}

#[cfg(test)]
mod tests;
