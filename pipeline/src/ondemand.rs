//! The on-demand stage: on every change of a user's workouts, record or clock, re-evaluate the
//! active challenges (every loaded challenge) for that user as of the user's clock, and while
//! the user has a session under way, the `live` results with that session counted.
//!
//! [`evaluate_user`] is a pure function of an immutable [`UserInput`]: the caller routes users
//! to partitions ([`crate::partition`]) and runs the partitions in parallel.
//!
//! **Boundary:** team challenges (language.md §10) are not per-user results: this stage leaves
//! them out (no user row and no live row of a team challenge is ever written). Their results
//! belong to the second stage keyed by team, fed by the member stages ([`crate::team`];
//! ARCHITECTURE.md, "Team results").

use std::borrow::Cow;
use std::cell::RefCell;

use chrono::{DateTime, FixedOffset};
use rules_core::eval::{self, AsOf, EvalResult, Plan, Status};
use rules_core::records::{User, Workout};
use rules_core::tree::Reward;
use rules_core::Challenge;

use crate::state::{later, State};
use crate::store::{Reached, ResultRow};

/// A loaded challenge.
pub struct Active {
    /// The compiled plan.
    pub plan: Plan,
    /// The rewards, as declared (service.md, "Rewards").
    pub rewards: Vec<Reward>,
    /// The tiers' names, highest threshold first (a result at a tier has reached every tier
    /// after it too).
    pub tiers: Vec<String>,
    /// The one user a personal challenge is evaluated for (`None`: everyone).
    pub owner: Option<String>,
}

impl Active {
    /// A challenge compiled into `plan`, with its rewards and tiers.
    pub fn new(decl: &Challenge, plan: Plan) -> Active {
        let mut tiers: Vec<(f64, String)> = decl
            .tiers
            .iter()
            .map(|t| (t.fraction(), t.name.clone()))
            .collect();
        tiers.sort_by(|a, b| b.0.total_cmp(&a.0));
        Active {
            plan,
            rewards: decl.rewards.clone(),
            tiers: tiers.into_iter().map(|(_, name)| name).collect(),
            owner: None,
        }
    }

    /// Whether `user` gets a row of this challenge: every user of a challenge of everyone,
    /// the owner of a personal one, no user of a team challenge (its rows are the teams').
    pub fn for_user(&self, user: &str) -> bool {
        self.plan.teams().is_empty() && self.owner.as_deref().is_none_or(|o| o == user)
    }
}

/// What a result reached that may earn rewards: `None` when neither completed nor at a tier.
pub fn reached(result: &EvalResult) -> Option<Box<Reached>> {
    let completed = result.status == Status::Completed;
    let tier = result.tier.clone().flatten();
    (completed || tier.is_some()).then(|| {
        Box::new(Reached {
            completed,
            tier,
            as_of: result.as_of.clone(),
        })
    })
}

/// Everything one user's evaluation reads (borrowed from the state where it can be).
#[derive(Clone, Debug)]
pub struct UserInput<'a> {
    /// The record (or a user in no group).
    pub user: Cow<'a, User>,
    /// Whether the user is considered (record or saved workout): otherwise the results go.
    pub considered: bool,
    /// Whether to re-derive the results (otherwise only the live rows).
    pub results: bool,
    /// Saved workouts.
    pub workouts: &'a [Workout],
    /// The clock: the results' `as_of`.
    pub clock: Option<&'a AsOf>,
    /// Workouts of the sessions under way (as if they ended at their latest event).
    pub live: Vec<Workout>,
    /// The latest ts of the sessions under way.
    pub live_latest: Option<DateTime<FixedOffset>>,
    /// The version of the rows.
    pub version: u64,
}

impl<'a> UserInput<'a> {
    /// Gathers a user's input from the state.
    pub fn gather(state: &'a State, user: &str, results: bool, version: u64) -> UserInput<'a> {
        let (live, live_latest) = state.live_of(user);
        UserInput {
            user: state.user_ref(user),
            considered: state.considered(user),
            results,
            workouts: state.workouts_of(user),
            clock: state.clocks.get(user),
            live,
            live_latest,
            version,
        }
    }
}

/// What one user's evaluation gives.
#[derive(Clone, Debug, Default)]
pub struct UserRows {
    /// The user.
    pub user: String,
    /// New result rows (when results were re-derived and the user is considered).
    pub results: Option<Vec<ResultRow>>,
    /// New live rows (empty: no session under way).
    pub live: Vec<ResultRow>,
}

/// One result row.
pub fn row(
    plan: &Plan,
    user: &User,
    workouts: &[Workout],
    as_of: &AsOf,
    version: u64,
) -> ResultRow {
    prepared_row(
        plan,
        user,
        &eval::Prepared::for_user(&user.id, workouts),
        as_of,
        version,
    )
}

/// One result row from the user's workouts prepared once for all challenges.
fn prepared_row(
    plan: &Plan,
    user: &User,
    prepared: &eval::Prepared,
    as_of: &AsOf,
    version: u64,
) -> ResultRow {
    let result = eval::evaluate_prepared(plan, user, prepared, as_of);
    result_row(&result, version)
}

/// The row of a result (a user's or a team's).
pub fn result_row(result: &EvalResult, version: u64) -> ResultRow {
    ResultRow {
        challenge: result.challenge.clone(),
        user: result.user.clone(),
        version,
        progress: result.progress,
        json: result_json(result),
        reached: reached(result),
    }
}

/// The JSON text of a result, byte for byte `serde_json::to_string`'s, written by serde_json
/// into a buffer each thread keeps across rows (so it grows once, not for every row), then
/// copied out at its length. docs/pipeline.md ("Result rows as JSON") has the figures.
pub fn result_json(result: &EvalResult) -> String {
    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            buf.clear();
            let text = write_json(&mut buf, result);
            if buf.capacity() > KEEP_BUFFER {
                *buf = Vec::new();
            }
            text
        }
        Err(_) => write_json(&mut Vec::new(), result),
    })
}

/// A thread's row buffer is dropped when a row grew it beyond this.
const KEEP_BUFFER: usize = 1 << 20;

/// `result` as JSON through `buf` (empty should serde_json fail, which a result, whose keys
/// are all strings, never makes it do).
fn write_json(buf: &mut Vec<u8>, result: &EvalResult) -> String {
    match serde_json::to_writer(&mut *buf, result) {
        Ok(()) => String::from_utf8_lossy(buf).into_owned(),
        Err(_) => String::new(),
    }
}

/// The challenges evaluated for `user`: [`Active::for_user`].
pub fn per_user<'a>(challenges: &'a [Active], user: &'a str) -> impl Iterator<Item = &'a Active> {
    challenges.iter().filter(move |c| c.for_user(user))
}

/// Re-evaluates one user.
pub fn evaluate_user(challenges: &[Active], input: &UserInput) -> UserRows {
    let mut out = UserRows {
        user: input.user.id.clone(),
        ..UserRows::default()
    };
    if input.results && input.considered {
        if let Some(clock) = input.clock {
            // Prepared once, evaluated by every challenge.
            let prepared = eval::Prepared::for_user(&input.user.id, input.workouts);
            out.results = Some(
                per_user(challenges, &input.user.id)
                    .map(|c| prepared_row(&c.plan, &input.user, &prepared, clock, input.version))
                    .collect(),
            );
        }
    }
    if let Some(latest) = input.live_latest {
        let latest = AsOf::from_time(latest);
        let as_of = match input.clock {
            Some(clock) if !later(&latest, clock) => clock.clone(),
            _ => latest,
        };
        let mut all = input.workouts.to_vec();
        all.extend(input.live.iter().cloned());
        let prepared = eval::Prepared::for_user(&input.user.id, &all);
        out.live = per_user(challenges, &input.user.id)
            .map(|c| prepared_row(&c.plan, &input.user, &prepared, &as_of, input.version))
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

    use super::*;
    use rules_core::catalog::Catalog;

    fn active(text: &str) -> Active {
        let parsed = rules_dsl::parse(text);
        let plan = Plan::compile(&parsed.decls[0], &Catalog::builtin()).unwrap();
        Active::new(&parsed.decls[0], plan)
    }

    #[test]
    fn team_challenges_get_no_per_user_rows() {
        let solo = active("challenge \"solo\" {\n title \"S\"\n window 2026-08-01 to 2026-08-31\n goal count(workouts) >= 1\n}\n");
        let team = active("challenge \"team\" {\n title \"T\"\n window 2026-08-01 to 2026-08-31\n teams \"coy-a\"\n goal count(workouts) >= 1\n}\n");
        let clock = AsOf::parse("2026-08-10T00:00:00Z").unwrap();
        let user = User {
            id: "u-01".into(),
            groups: vec!["coy-a".into()],
            ..User::default()
        };
        let input = UserInput {
            user: Cow::Owned(user),
            considered: true,
            results: true,
            workouts: &[],
            clock: Some(&clock),
            live: Vec::new(),
            live_latest: Some(clock.time),
            version: 1,
        };
        let rows = evaluate_user(&[team, solo], &input);
        let results = rows.results.unwrap();
        assert_eq!(results.len(), 1);
        assert_eq!(results[0].challenge, "solo");
        assert_eq!(rows.live.len(), 1);
        assert_eq!(rows.live[0].challenge, "solo");
    }
}
