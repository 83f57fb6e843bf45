//! The team stage (language.md §10; ARCHITECTURE.md, "Team results"): a team challenge gets
//! one result row per listed team, on the workouts of all its members together, evaluated by
//! the code `challenge eval` uses ([`rules_core::eval::TeamWorkouts`] and
//! [`rules_core::eval::evaluate_team`]), so that a row is byte for byte the `eval` team line.
//!
//! The stage is keyed by team and fed by the member stages: after the per-user stage of a
//! batch, every team touched by the batch — a member's workouts or clock changed, or a record
//! joined or left the team (the old team too) — is re-derived from the state, teams in
//! parallel. A team row is a function of the state alone:
//!
//! - members: the users whose winning record lists the team ([`State::members`], the index
//!   `rules_core::records::members_of` computes);
//! - workouts: every member's saved workouts;
//! - `as_of`: the team's clock, the latest of its members' clocks and the last tick's time
//!   (after `tick --at T` every clock is T, so every team row is `eval --as-of T`'s line);
//! - version: the latest log position among the changes that touched the team.
//!
//! A team with no clock (no member with a clock and no tick yet) has no row: a row written
//! before is deleted. Nothing here reads a clock or writes a store.

use std::collections::{BTreeMap, HashMap};

use rayon::prelude::*;
use rules_core::eval::{evaluate_team, AsOf, Prepared, TeamWorkouts};
use rules_core::records::{User, Workout};

use crate::ondemand::{result_row, Active};
use crate::state::{later, State};
use crate::store::{Batch, ResultRow};

/// What re-deriving one team gives: its rows, or the (challenge, team) rows to delete.
#[derive(Clone, Debug, Default)]
pub struct TeamRows {
    /// New rows (one per challenge naming the team).
    pub rows: Vec<ResultRow>,
    /// Rows to delete: the team has no clock.
    pub drop: Vec<(String, String)>,
}

/// The team's clock: the latest of its members' clocks and of the last tick's time.
pub fn clock_of<'s>(state: &'s State, team: &str) -> Option<&'s AsOf> {
    state
        .members_of(team)
        .filter_map(|m| state.clocks.get(m))
        .chain(state.last_tick.as_ref())
        .fold(None, |best: Option<&AsOf>, c| match best {
            Some(b) if !later(c, b) => Some(b),
            _ => Some(c),
        })
}

/// Every team some loaded challenge names, sorted.
pub fn named_teams(challenges: &[Active]) -> Vec<&str> {
    let mut names: Vec<&str> = challenges
        .iter()
        .flat_map(|c| c.plan.teams().iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Re-derives one team for the challenges among `challenges` that name it, as of `at` (the
/// team's clock when `None`).
pub fn evaluate(
    state: &State,
    challenges: &[&Active],
    team: &str,
    at: Option<&AsOf>,
    version: u64,
) -> TeamRows {
    let naming: Vec<&Active> = challenges
        .iter()
        .copied()
        .filter(|c| c.plan.teams().iter().any(|t| t == team))
        .collect();
    let mut out = TeamRows::default();
    if naming.is_empty() {
        return out;
    }
    let Some(as_of) = at.or_else(|| clock_of(state, team)) else {
        out.drop = naming
            .iter()
            .map(|c| (c.plan.id().to_owned(), team.to_owned()))
            .collect();
        return out;
    };
    // The members' records and workouts, as `challenge eval` reads them.
    let users: Vec<User> = state
        .members_of(team)
        .map(|m| state.user_record(m))
        .collect();
    let by_user: HashMap<&str, Vec<&Workout>> = users
        .iter()
        .map(|u| (u.id.as_str(), state.workouts_of(&u.id).iter().collect()))
        .collect();
    let workouts = TeamWorkouts::new(team, &users, &by_user);
    let own: HashMap<&str, Prepared> = by_user
        .iter()
        .map(|(id, w)| (*id, Prepared::new(w.iter().copied())))
        .collect();
    out.rows = naming
        .iter()
        .map(|c| {
            let result = evaluate_team(&c.plan, &workouts, |id| own.get(id), as_of);
            result_row(&result, version)
        })
        .collect();
    out
}

/// Re-derives `teams` (each with the version of its rows) for `challenges`, in parallel, into
/// `batch`; teams no loaded challenge names are skipped.
pub fn derive(
    state: &State,
    challenges: &[&Active],
    teams: &BTreeMap<String, u64>,
    at: Option<&AsOf>,
    batch: &mut Batch,
) {
    let named: Vec<(&str, u64)> = teams
        .iter()
        .filter(|(t, _)| {
            challenges
                .iter()
                .any(|c| c.plan.teams().iter().any(|n| n == *t))
        })
        .map(|(t, v)| (t.as_str(), *v))
        .collect();
    let run = |(team, version): &(&str, u64)| evaluate(state, challenges, team, at, *version);
    let all: Vec<TeamRows> = if named.len() <= 1 {
        named.iter().map(run).collect()
    } else {
        named.par_iter().map(run).collect()
    };
    for rows in all {
        batch.team_results.extend(rows.rows);
        batch.drop_team_results.extend(rows.drop);
    }
}

/// The teams a batch touched: the groups whose members changed (`changed`), and every team of
/// each user whose results are re-derived (their workouts or clock moved), with the latest
/// position that touched each.
pub fn touched<'a>(
    state: &State,
    changed: BTreeMap<String, u64>,
    users: impl Iterator<Item = (&'a str, u64)>,
) -> BTreeMap<String, u64> {
    let mut teams = changed;
    for (user, version) in users {
        let Some(entry) = state.users.get(user) else {
            continue;
        };
        for g in &entry.user().groups {
            let v = teams.entry(g.clone()).or_insert(version);
            *v = (*v).max(version);
        }
    }
    teams
}
