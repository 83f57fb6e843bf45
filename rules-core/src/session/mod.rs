//! Sensor events and the save stage (data.md, "Sensor events"): how a session of gym equipment
//! events becomes a workout.
//!
//! ```text
//! events.jsonl ──read_events──► SensorEvent ──SessionState::push──► SessionState ──workout()──► Workout
//!   (validated, counted)          (dedupe by seq: Accepted / Duplicate / Conflict)  └─live_workout()─► Workout so far
//! ```
//!
//! This is the one implementation of the save rules: the pipeline's save stage and the
//! browser's live session both push events into a [`SessionState`] and ask it for the workout.
//!
//! **Invariant:** a [`SessionState`] is a pure function of the *set* of events pushed into it
//! (after deduplication by `seq`): whatever order the events arrive in and however often they
//! are resent, the same events give the same workout. Nothing here reads a clock or randomness:
//! every time comes from the events.
//!
//! The save rules, as data.md states them:
//!
//! - workout `id` = the session id; `start` = the `session_start` ts; `end` = the `session_end`
//!   ts; `user`, `gym`, `machine` (= `device`) and `exercise` from `session_start`;
//! - events are deduplicated by `seq` and ordered by it; an identical resend is a no-op
//!   ([`PushOutcome::Duplicate`]), a differing copy a conflict ([`PushOutcome::Conflict`], dead
//!   letter "conflicting duplicate");
//! - a rep with `rom_pct` below 80 is partial and not counted; a new set begins when the load
//!   differs from the previous rep's (absent load is its own value) or more than 30 s passed
//!   since the previous rep (partial reps included in both comparisons); a set's `weight_kg` is
//!   its reps' load; a set with no counted rep is dropped;
//! - samples: `distance_m` is cumulative (the largest value seen); `avg_hr_bpm` (from
//!   `hr_bpm`) and `incline_pct` are means over the samples that carry them;
//! - a session without `session_end` is open; one without `session_start` cannot become a
//!   workout ([`SessionProblem`]);
//! - every event is within the bounds of a record ([`crate::bounds::event`]: numbers up to 1e9,
//!   `seq` included, strings up to 256 bytes, times in the years 1970 to 9999), and so is the
//!   saved workout ([`crate::bounds::workout`]): a session whose workout would have more than
//!   10,000 sets does not become one ([`SessionProblem::OutOfBounds`]).
//!
//! Decisions where the spec is silent:
//!
//! - Required fields: `type`, `ts` everywhere; `session` and `seq` (a whole number, 0 or more)
//!   for session events; `user` and `exercise` for `session_start` (`device` and `gym` are
//!   optional, as `machine` and `gym` are for workouts); `user` (an object, read as a user
//!   record) for `user_upsert`, whose `seq` is optional. `rep` needs nothing more: an absent
//!   `rom_pct` is a full rep. Every figure of `rep` and `sample` is optional.
//! - Two copies are identical when every field the reader keeps is equal (numbers by value,
//!   times by instant *and* offset); unknown fields never make a conflict.
//! - Several `session_start` events (different `seq`): the lowest `seq` gives the workout's
//!   fields. Several `session_end` events: the highest `seq` gives `end`. So the choice does
//!   not depend on arrival order.
//! - A `session_end` whose ts is before the `session_start` ts cannot become a workout
//!   ([`SessionProblem::EndBeforeStart`]), since a workout's end may not be before its start.
//! - Samples may also carry a cumulative `calories_kcal`: the workout's calories are the largest
//!   value seen, like distance. `speed_kmh` is read and validated but not saved (a workout's
//!   speed is its distance over its duration).
//! - The live workout ([`SessionState::live_workout`]) ends at the latest ts of any event of
//!   the session (never before its start).
//! - Means are summed in `seq` order, so the floating-point result is the same for every
//!   arrival order.
//!
//! The module in three parts: [`SensorEvent`] and the event types (`events.rs`); reading them
//! from JSON Lines, with the fast path for session events (`parse.rs`); and the live session,
//! [`SessionState`], with the save rules (`state.rs`).

mod events;
mod parse;
mod state;

pub use events::{
    ImportedWorkout, Rep, Sample, SensorEvent, SessionEnd, SessionStart, UserUpsert,
    FULL_REP_ROM_PCT,
};
pub use parse::{parse_event, parse_event_line, read_events};
pub use state::{
    workouts_of, PushOutcome, SessionProblem, SessionState, CONFLICT_REASON, SET_GAP_S,
};

/// The first and last lines of data.md's example session, shared by the tests of `parse` and
/// `state`.
#[cfg(test)]
mod test_lines {
    pub(super) const START: &str = r#"{"type": "session_start", "session": "s-001", "seq": 0, "ts": "2026-08-01T07:30:00+08:00", "device": "lp-03", "gym": "gym-01", "user": "u-01", "exercise": "leg_press"}"#;
    pub(super) const END: &str = r#"{"type": "session_end", "session": "s-001", "seq": 40, "ts": "2026-08-01T07:42:00+08:00"}"#;
}
