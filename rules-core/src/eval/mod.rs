//! The evaluator (language.md §8): how far a user is in a challenge at a given time.
//!
//! ```text
//! Challenge ──Plan::compile──► Plan ──evaluate(plan, user, workouts, as_of)──► EvalResult
//!   (checked tree)   (once)    (reused for every user, on any thread)
//! ```
//!
//! - `plan`: tree → [`Plan`]: names resolved, selectors as bitsets, conditions as enum trees,
//!   targets canonical, the window laid out as day boundaries in its time zone.
//! - `calendar`: the window's local days, ISO weeks and months (DST gaps and 25-hour days).
//! - `aggregate`: metrics over a range of workouts.
//! - `node`: the goal table of §8 (`met`, `failed`, `progress`).
//! - `result`: the serializable result, one `eval` output line.
//!
//! **Invariant:** evaluation is a pure function of (plan, user, workouts, `as_of`): it never
//! reads a clock, the environment or randomness, and the order of the workouts does not
//! matter (they are sorted by start, then id).
//!
//! **Boundary:** templates never reach the evaluator; [`Plan::compile`] refuses them and any
//! `$param` ([`PlanError`]).
//!
//! Decisions where the spec is silent:
//!
//! - An ineligible user's tree is still evaluated as if the user were eligible (so an admin
//!   sees what they did); only `status` (`ineligible`) and the top-level `progress` (0) say
//!   otherwise. A not-started challenge's tree is evaluated too, and since its range has not
//!   started every node is not met, not failed, with progress 0.
//! - A period node shows its child in the latest started period; when none has started (the
//!   challenge has not started), in the first period, as a range that has not started.
//! - `in one workout` shows its child for the workout with the highest progress (the earliest
//!   such workout on a tie); without workouts, the child over no workout as a range that has
//!   not started (values of an empty set: `sum`/`count` 0, others null).
//! - `at least N of` with N = 0 or above the number of children, N = 0 in `on`/`streak`, a
//!   period inside `in one workout`, and a window over [`MAX_DAYS`] days are plan
//!   errors (the checker reports the first ones as E0009/E0010).

mod aggregate;
mod calendar;
mod node;
mod plan;
mod result;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, SecondsFormat};

use crate::records::{User, Workout};

pub use calendar::MAX_DAYS;
pub use plan::{Plan, PlanError, MAX_DEPTH};
pub use result::{Amount, Detail, EvalResult, NodeResult, PeriodResult, Status};

/// The time an evaluation is made at, with the text the caller wrote (echoed in results).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AsOf {
    /// The instant.
    pub time: DateTime<FixedOffset>,
    /// As the caller gave it.
    pub text: String,
}

impl AsOf {
    /// An RFC 3339 time with an offset (data.md), kept as written.
    pub fn parse(text: &str) -> Option<AsOf> {
        crate::records::parse_time(text).map(|time| AsOf {
            time,
            text: text.to_owned(),
        })
    }

    /// A time given as a value; its text is RFC 3339 (`Z` for UTC).
    pub fn from_time(time: DateTime<FixedOffset>) -> AsOf {
        AsOf {
            text: time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            time,
        }
    }
}

/// Evaluates one challenge for one user. `workouts` may hold other users' workouts; they are
/// ignored.
pub fn evaluate(plan: &Plan, user: &User, workouts: &[Workout], as_of: &AsOf) -> EvalResult {
    evaluate_user(plan, user, own(workouts, user), as_of)
}

/// The `status` and `progress` of one (challenge, user) pair: what [`evaluate`] reports at the
/// top of its result, computed without building the result tree.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// As [`EvalResult::status`].
    pub status: Status,
    /// As [`EvalResult::progress`].
    pub progress: f64,
}

/// Evaluates one challenge for one user like [`evaluate`], but returns only the status and the
/// progress: no result tree, no strings, one allocation (the user's counted workouts). For
/// callers that need only who completed, failed or how far they are (answer checks, progress
/// bars, the pipeline's "did anything change"). `workouts` may hold other users' workouts.
pub fn evaluate_summary(plan: &Plan, user: &User, workouts: &[Workout], as_of: &AsOf) -> Summary {
    let mut rows = Vec::with_capacity(workouts.len().min(ROWS_HINT));
    plan.collect_rows(own(workouts, user), as_of, &mut rows);
    let calendar = &plan.calendar;
    let mut evaluator = node::Evaluator::new(calendar, as_of.time.timestamp());
    let range = evaluator.range(&rows, 0, calendar.days());
    let outcome = evaluator.outcome(&plan.root, range);
    let status = status(plan, user, range.started, outcome.met, outcome.failed);
    Summary {
        status,
        progress: match status {
            Status::Ineligible | Status::NotStarted => 0.0,
            _ => outcome.progress,
        },
    }
}

/// The user's own workouts among `workouts` (user ids compared as integer keys first).
fn own<'a>(workouts: &'a [Workout], user: &'a User) -> impl Iterator<Item = &'a Workout> {
    let id = user.id.as_str();
    let id_key = aggregate::key(id);
    workouts
        .iter()
        .filter(move |w| aggregate::same_name(aggregate::key(&w.user), &w.user, id_key, id))
}

/// The most rows reserved up front (a user's workouts in a window are usually fewer).
const ROWS_HINT: usize = 256;

/// The status of §8 from the root's figures.
fn status(plan: &Plan, user: &User, started: bool, met: bool, failed: bool) -> Status {
    if !plan.is_eligible(user) {
        Status::Ineligible
    } else if !started {
        Status::NotStarted
    } else if met {
        Status::Completed
    } else if failed {
        Status::Failed
    } else {
        Status::InProgress
    }
}

/// Evaluates every (plan, user) pair, in parallel (with the `parallel` feature). Workouts are grouped per user once. The
/// results are sorted by challenge id, then user id (byte order).
pub fn evaluate_all(
    plans: &[Plan],
    users: &[User],
    workouts: &[Workout],
    as_of: &AsOf,
) -> Vec<EvalResult> {
    let mut by_user: HashMap<&str, Vec<&Workout>> = HashMap::new();
    for w in workouts {
        by_user.entry(w.user.as_str()).or_default().push(w);
    }
    let jobs: Vec<(&User, &[&Workout])> = users
        .iter()
        .map(|u| (u, by_user.get(u.id.as_str()).map_or(&[][..], Vec::as_slice)))
        .collect();
    // Nested maps: one plan and many users spread over every core too.
    let mut results: Vec<EvalResult> = crate::par::map(plans, |plan| {
        crate::par::map(&jobs, |(user, own)| {
            evaluate_user(plan, user, own.iter().copied(), as_of)
        })
    })
    .into_iter()
    .flatten()
    .collect();
    results.sort_by(|a, b| (&a.challenge, &a.user).cmp(&(&b.challenge, &b.user)));
    results
}

/// Evaluates one challenge for one user's workouts.
fn evaluate_user<'a>(
    plan: &Plan,
    user: &User,
    workouts: impl IntoIterator<Item = &'a Workout>,
    as_of: &AsOf,
) -> EvalResult {
    let workouts = workouts.into_iter();
    let (lower, upper) = workouts.size_hint();
    let mut rows = Vec::with_capacity(upper.unwrap_or(lower).min(ROWS_HINT));
    plan.collect_rows(workouts, as_of, &mut rows);
    let calendar = &plan.calendar;
    let mut evaluator = node::Evaluator::new(calendar, as_of.time.timestamp());
    let range = evaluator.range(&rows, 0, calendar.days());
    let tree = evaluator.detail(&plan.root, range);
    let status = status(plan, user, range.started, tree.met, tree.failed);
    let progress = match status {
        Status::Ineligible | Status::NotStarted => 0.0,
        _ => tree.progress,
    };
    EvalResult {
        challenge: plan.id().to_owned(),
        user: user.id.clone(),
        as_of: as_of.text.clone(),
        status,
        progress,
        tree,
    }
}
