//! Team evaluation (language.md §10): a team challenge evaluated per team, on the workouts of
//! all its members together.
//!
//! There is no second evaluator: a team's workouts are prepared into one [`Prepared`] (the
//! members' workouts together, sorted by start then id like any user's) and evaluated by
//! [`evaluate_prepared`](super::evaluate_prepared), exactly as one user's are (same plan, same
//! ranges, gyms, `as_of` and node semantics). What a team result adds is its `members` and its
//! name in place of the user's.
//!
//! **Invariant:** a team is never `ineligible` (a team challenge has no `groups`: E0014), and a
//! team without members is evaluated on no workouts. Members are the users whose record lists
//! the team's group, sorted by id; a user in two teams counts fully for both.
//!
//! Prepared forms are built once per team per evaluation run ([`TeamWorkouts`]), whatever the
//! number of challenges naming the team.

use std::collections::HashMap;

use super::{evaluate_prepared, AsOf, EvalResult, Member, Plan, Prepared};
use crate::records::{members_of, User, Workout};

/// One team's members and their workouts together, prepared once for any number of plans.
#[derive(Clone, Debug)]
pub struct TeamWorkouts {
    /// The team (a group name).
    pub team: String,
    /// The members' ids, sorted, without repeats.
    pub members: Vec<String>,
    /// Every member's workouts together.
    pub prepared: Prepared,
}

impl TeamWorkouts {
    /// The team `team` among `users` (the members are those whose record lists the group),
    /// with their workouts from `by_user` (each user's own workouts).
    pub fn new(team: &str, users: &[User], by_user: &HashMap<&str, Vec<&Workout>>) -> Self {
        let members = members_of(team, users);
        let workouts = members
            .iter()
            .filter_map(|m| by_user.get(m))
            .flat_map(|own| own.iter().copied());
        TeamWorkouts {
            team: team.to_owned(),
            prepared: Prepared::new(workouts),
            members: members.into_iter().map(str::to_owned).collect(),
        }
    }

    /// [`TeamWorkouts::new`] over any workouts (other users' are left out).
    pub fn from_workouts(team: &str, users: &[User], workouts: &[Workout]) -> Self {
        TeamWorkouts::new(team, users, &by_user(workouts))
    }
}

/// Each user's workouts, by user id.
pub fn by_user(workouts: &[Workout]) -> HashMap<&str, Vec<&Workout>> {
    let mut out: HashMap<&str, Vec<&Workout>> = HashMap::new();
    for w in workouts {
        out.entry(w.user.as_str()).or_default().push(w);
    }
    out
}

/// Evaluates a team challenge for one team. `member` gives a member's own workouts, prepared
/// (for the member's counted `workouts`); a member it does not know counts 0.
pub fn evaluate_team<'a>(
    plan: &Plan,
    team: &TeamWorkouts,
    member: impl Fn(&str) -> Option<&'a Prepared>,
    as_of: &AsOf,
) -> EvalResult {
    // A team challenge has no `groups`, so a user with no groups is always eligible: the team
    // is evaluated as one user whose workouts are its members'.
    let subject = User::unknown(&team.team);
    let mut result = evaluate_prepared(plan, &subject, &team.prepared, as_of);
    result.members = Some(
        team.members
            .iter()
            .map(|id| Member {
                user: id.clone(),
                workouts: member(id).map_or(0, |p| plan.counted(p, as_of)),
            })
            .collect(),
    );
    result
}

/// Evaluates a team challenge for one team from raw records: the members among `users`, their
/// workouts among `workouts`. Prepares everything on each call; see [`TeamWorkouts`] and
/// [`evaluate_team`] to prepare once.
pub fn evaluate_team_records(
    plan: &Plan,
    team: &str,
    users: &[User],
    workouts: &[Workout],
    as_of: &AsOf,
) -> EvalResult {
    let own = by_user(workouts);
    let team = TeamWorkouts::new(team, users, &own);
    let prepared: HashMap<&str, Prepared> = team
        .members
        .iter()
        .map(|m| {
            let mine = own.get(m.as_str()).map_or(&[][..], Vec::as_slice);
            (m.as_str(), Prepared::new(mine.iter().copied()))
        })
        .collect();
    evaluate_team(plan, &team, |id| prepared.get(id), as_of)
}
