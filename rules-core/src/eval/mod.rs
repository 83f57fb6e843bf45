//! The evaluator (language.md §8): how far a user is in a challenge at a given time.
//!
//! ```text
//! Challenge ──check::lower──► Plan ──evaluate(plan, user, workouts, as_of)──► EvalResult
//!   (tree)    (checked, once)  (reused for every user, on any thread)
//! ```
//!
//! - `plan`: what the checker lowers a tree to, [`Plan`]: names resolved, selectors as
//!   bitsets, conditions as enum trees, targets canonical, the window laid out as day
//!   boundaries in its time zone.
//! - `calendar`: the window's local days, ISO weeks and months (DST gaps and 25-hour days).
//! - `prepared`: a user's workouts prepared once ([`Prepared`]: sorted, flat, names interned),
//!   evaluated by any number of plans without allocating.
//! - `aggregate`: metrics over a range of workouts.
//! - `node`: the goal table of §8 (`met`, `failed`, `progress`).
//! - `result`: the serializable result, one `eval` output line.
//! - `team`: team challenges (language.md §10): a team's members' workouts prepared together
//!   and evaluated by the same plan and walk as one user's; tiers are the plan's.
//!
//! **Invariant:** evaluation is a pure function of (plan, user, workouts, `as_of`): it never
//! reads a clock, the environment or randomness, and the order of the workouts does not
//! matter (they are sorted by start, then id).
//!
//! **Boundary:** only a challenge that checks without errors reaches the evaluator: the checker
//! lowers it to a [`Plan`] ([`crate::check::lower`]); templates and `$params` never do.
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
//!   period inside `in one workout`, and a window over [`crate::limits::MAX_DAYS`] days are
//!   checker errors (E0009, E0010, E0013), so no plan holds them.

mod aggregate;
mod calendar;
mod node;
mod plan;
mod prepared;
mod result;
mod team;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, SecondsFormat};

use crate::records::{User, Workout};

pub(crate) use aggregate::{Cond, IdSet, Quantity, Selector};
pub(crate) use plan::{Child, Lit, Lowering, Node};
pub use plan::{Plan, PlanError};
pub use prepared::Prepared;
pub use result::{Amount, Detail, EvalResult, Member, NodeResult, PeriodResult, Status};
pub use team::{by_user, evaluate_team, evaluate_team_records, TeamWorkouts};

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
/// ignored. Prepares the user's workouts on every call: to evaluate many challenges for a
/// user, prepare them once ([`Prepared::for_user`]) and call [`evaluate_prepared`].
pub fn evaluate(plan: &Plan, user: &User, workouts: &[Workout], as_of: &AsOf) -> EvalResult {
    evaluate_prepared(plan, user, &Prepared::for_user(&user.id, workouts), as_of)
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
/// progress: no result tree, no strings. For callers that need only who completed, failed or
/// how far they are (answer checks, progress bars, the pipeline's "did anything change").
/// `workouts` may hold other users' workouts. Prepares the user's workouts on every call
/// (see [`summarize_prepared`]).
pub fn evaluate_summary(plan: &Plan, user: &User, workouts: &[Workout], as_of: &AsOf) -> Summary {
    summarize_prepared(plan, user, &Prepared::for_user(&user.id, workouts), as_of)
}

/// [`evaluate`] on workouts prepared once: the result tree of one challenge for the user whose
/// workouts `prepared` holds (all of them count; `user` gives the id and the groups).
///
/// ```
/// # use rules_core::{eval, json, records};
/// # let tree = r#"{"version":1,"kind":"challenge","id":"c","title":"t","description":null,"window":{"start":"2026-08-01","end":"2026-08-07"},"timezone":"UTC","groups":[],"gyms":[],"rewards":[],"params":[],"goal":{"kind":"metric","aggregate":"count","measure":"workouts","of":[],"where":null,"op":">=","target":{"value":1,"unit":null}}}"#;
/// # let plan = eval::Plan::compile(&json::read_trees(tree).decls[0], &rules_core::Catalog::builtin()).unwrap();
/// # let workouts = records::read_workouts(r#"{"id": "w-1", "user": "u-1", "exercise": "bike", "start": "2026-08-02T07:00:00Z", "end": "2026-08-02T07:30:00Z"}"#).into_records();
/// let user = records::User::unknown("u-1");
/// let prepared = eval::Prepared::for_user(&user.id, &workouts); // once per user
/// let as_of = eval::AsOf::parse("2026-08-08T00:00:00Z").unwrap();
/// for plan in [&plan] {
///     // any number of challenges, no allocation for a summary
///     let summary = eval::summarize_prepared(plan, &user, &prepared, &as_of);
///     assert_eq!(summary.status, eval::Status::Completed);
///     assert_eq!(eval::evaluate_prepared(plan, &user, &prepared, &as_of).status, summary.status);
/// }
/// ```
pub fn evaluate_prepared(
    plan: &Plan,
    user: &User,
    prepared: &Prepared,
    as_of: &AsOf,
) -> EvalResult {
    let (tree, range) = begin(plan, prepared, as_of, |evaluator, range| {
        (evaluator.detail(&plan.root, range), range)
    });
    let Summary { status, progress } = summary(
        plan,
        user,
        range.started,
        tree.met,
        tree.failed,
        tree.progress,
    );
    EvalResult {
        challenge: plan.id().to_owned(),
        user: user.id.clone(),
        as_of: as_of.text.clone(),
        status,
        progress,
        tier: plan.tier(status, progress),
        members: None,
        tree,
    }
}

/// [`evaluate_summary`] on workouts prepared once: the status and progress, without
/// allocating (unless the challenge has `on N periods`, or `at least N of` outside a period
/// block's child, which keep their children's progress on a scratch stack).
pub fn summarize_prepared(plan: &Plan, user: &User, prepared: &Prepared, as_of: &AsOf) -> Summary {
    if !plan.is_eligible(user) {
        // The status and progress of an ineligible user do not depend on the tree.
        return Summary {
            status: Status::Ineligible,
            progress: 0.0,
        };
    }
    let (o, started) = begin(plan, prepared, as_of, |evaluator, range| {
        (evaluator.outcome(&plan.root, range), range.started)
    });
    summary(plan, user, started, o.met, o.failed, o.progress)
}

/// Whether the user whose workouts `prepared` holds has completed the challenge at `as_of`:
/// exactly `summarize_prepared(..).status == Status::Completed`, answered as a yes/no check
/// would be: every group, period block and `in one workout` stops at the first child, period
/// or workout that decides it (`every day` at the first day not met, `streak 7 days` at the
/// seventh met day in a row, `any` at the first goal met, ...), and no progress is kept for
/// later (no period's or goal's progress is stored to find the N largest). For callers that
/// need only who has completed (badges, rewards, filters); allocates nothing.
pub fn completed_prepared(plan: &Plan, user: &User, prepared: &Prepared, as_of: &AsOf) -> bool {
    if !plan.is_eligible(user) {
        return false;
    }
    // A window that has not started is not met (`outcome` says so first).
    begin(plan, prepared, as_of, |evaluator, range| {
        evaluator.met_only().outcome(&plan.root, range).met
    })
}

/// Runs `evaluate` with the evaluator of one evaluation and the range of the whole window
/// (the user's workouts in the window up to `as_of`). The evaluator never leaves this frame:
/// it is large (the user's names in the plan's ids), and moving it costs copies.
#[inline(always)]
fn begin<'p, R>(
    plan: &'p Plan,
    prepared: &'p Prepared,
    as_of: &AsOf,
    evaluate: impl FnOnce(&mut node::Evaluator<'p>, node::Range<'p>) -> R,
) -> R {
    let as_of = (as_of.time.timestamp(), as_of.time.timestamp_subsec_nanos());
    let rows = plan.window(prepared, as_of);
    let mut evaluator = node::Evaluator::new(plan.cx(prepared), as_of.0);
    let range = evaluator.range(rows, 0, plan.calendar.days());
    evaluate(&mut evaluator, range)
}

/// The status of §8 and the top-level progress from the root's figures.
fn summary(
    plan: &Plan,
    user: &User,
    started: bool,
    met: bool,
    failed: bool,
    progress: f64,
) -> Summary {
    let status = status(plan, user, started, met, failed);
    Summary {
        status,
        progress: match status {
            Status::Ineligible | Status::NotStarted => 0.0,
            _ => progress,
        },
    }
}

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

/// Evaluates every (plan, user) pair, in parallel (with the `parallel` feature), and for a
/// team challenge every (plan, team) pair instead (language.md §10). Workouts are grouped per
/// user and prepared once, for all plans; each team's workouts are prepared once too, for all
/// the plans naming it. The results are sorted by challenge id, then user id or team name
/// (byte order).
pub fn evaluate_all(
    plans: &[Plan],
    users: &[User],
    workouts: &[Workout],
    as_of: &AsOf,
) -> Vec<EvalResult> {
    let by_user = team::by_user(workouts);
    let prepared: Vec<Prepared> = crate::par::map(users, |u| {
        let own = by_user.get(u.id.as_str()).map_or(&[][..], Vec::as_slice);
        Prepared::new(own.iter().copied())
    });
    let prepared: Vec<(&User, Prepared)> = users.iter().zip(prepared).collect();
    let mut names: Vec<&str> = plans
        .iter()
        .flat_map(|p| p.teams().iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    let teams: Vec<TeamWorkouts> =
        crate::par::map(&names, |name| TeamWorkouts::new(name, users, &by_user));
    let teams: HashMap<&str, &TeamWorkouts> = teams.iter().map(|t| (t.team.as_str(), t)).collect();
    let own: HashMap<&str, &Prepared> = prepared.iter().map(|(u, p)| (u.id.as_str(), p)).collect();
    // Nested maps: one plan and many users spread over every core too.
    let mut results: Vec<EvalResult> = crate::par::map(plans, |plan| {
        if plan.teams().is_empty() {
            crate::par::map(&prepared, |(user, own)| {
                evaluate_prepared(plan, user, own, as_of)
            })
        } else {
            let named: Vec<&TeamWorkouts> = plan
                .teams()
                .iter()
                .filter_map(|t| teams.get(t.as_str()).copied())
                .collect();
            crate::par::map(&named, |team| {
                evaluate_team(plan, team, |id| own.get(id).copied(), as_of)
            })
        }
    })
    .into_iter()
    .flatten()
    .collect();
    results.sort_by(|a, b| (&a.challenge, &a.user).cmp(&(&b.challenge, &b.user)));
    results
}
