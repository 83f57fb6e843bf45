//! Monthly leaderboards (data.md, "Leaderboards"): each user's total of a measure over a
//! calendar month, ranked.
//!
//! ```text
//! Board { month, timezone, measure, selector, group } + workouts + users ──leaderboard──► Vec<Entry>
//! ```
//!
//! A workout belongs to the month by its start in the board's timezone (default UTC). Users are
//! ranked highest total first with standard competition ranking (equal totals share a rank:
//! 1, 2, 2, 4), ties listed by user id (byte order); users with a zero total are left out; a
//! group filter keeps only users whose record lists the group. [`top`] keeps every entry ranked
//! N or better, ties at the cut included. A team board ([`team_leaderboard`], since 1.1) ranks
//! listed groups by the sum of their members' totals.
//!
//! **Invariant:** the board is a pure function of its inputs and does not depend on the order of
//! the workouts: each user's workouts are summed in the order of their ids.
//!
//! Decisions where the spec is silent:
//!
//! - totals are compared exactly (no tolerance: data.md says leaderboards report plain values);
//! - a selector may also be written without parentheses (`bike | rower`) and may be `any`; a
//!   name that is neither an exercise of the catalog nor a category is refused;
//! - workouts are expected once per id (the record readers' upsert); a workout of an exercise
//!   the catalog does not know matches no selector but counts on a board without one;
//! - a total that is not finite (a sum that overflowed, or an infinite or NaN measure: only
//!   possible for workouts built in code, past the readers' bounds) is undefined: the user is
//!   left off the board, as with a zero total, so no entry is ranked on it or written with a
//!   `null` total.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::catalog::{Catalog, Category};
use crate::diagnostic::did_you_mean;
use crate::records::{members_of, User, Workout};
use crate::zone::Zone;

/// What a board totals.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BoardMeasure {
    /// Metres (`distance_m`).
    Distance,
    /// Seconds (end − start).
    Duration,
    /// Kilograms lifted (reps × weight of loaded sets).
    Volume,
    /// Reps of all sets.
    Reps,
    /// Number of workouts.
    Workouts,
    /// Kilocalories (`calories_kcal`).
    Calories,
}

impl BoardMeasure {
    /// Every measure.
    pub const ALL: [BoardMeasure; 6] = [
        BoardMeasure::Distance,
        BoardMeasure::Duration,
        BoardMeasure::Volume,
        BoardMeasure::Reps,
        BoardMeasure::Workouts,
        BoardMeasure::Calories,
    ];

    /// The name as written (`distance`).
    pub fn name(self) -> &'static str {
        match self {
            BoardMeasure::Distance => "distance",
            BoardMeasure::Duration => "duration",
            BoardMeasure::Volume => "volume",
            BoardMeasure::Reps => "reps",
            BoardMeasure::Workouts => "workouts",
            BoardMeasure::Calories => "calories",
        }
    }

    /// The measure with this name.
    pub fn from_name(name: &str) -> Option<BoardMeasure> {
        BoardMeasure::ALL.into_iter().find(|m| m.name() == name)
    }

    /// The canonical unit of its totals; `None` for counts.
    pub fn unit(self) -> Option<&'static str> {
        match self {
            BoardMeasure::Distance => Some("m"),
            BoardMeasure::Duration => Some("s"),
            BoardMeasure::Volume => Some("kg"),
            BoardMeasure::Calories => Some("kcal"),
            BoardMeasure::Reps | BoardMeasure::Workouts => None,
        }
    }

    /// What one workout adds to a total.
    fn of(self, w: &Workout) -> f64 {
        match self {
            BoardMeasure::Distance => w.distance_m.unwrap_or(0.0),
            BoardMeasure::Duration => w.duration_s(),
            BoardMeasure::Volume => w
                .sets
                .iter()
                .filter_map(|s| s.load().map(|load| f64::from(s.reps) * load))
                .sum(),
            BoardMeasure::Reps => w.sets.iter().map(|s| f64::from(s.reps)).sum(),
            BoardMeasure::Workouts => 1.0,
            BoardMeasure::Calories => w.calories_kcal.unwrap_or(0.0),
        }
    }
}

impl fmt::Display for BoardMeasure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Exercises and categories a board counts, as in the DSL's `of` (`cardio`, `(bike | rower)`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// As written, trimmed (it names the board).
    pub text: String,
    /// Exercise ids and category names; empty for `any`.
    pub names: Vec<String>,
}

impl Selector {
    /// Parses `NAME`, `any`, `(NAME | NAME ...)` (parentheses optional), checking every name
    /// against the catalog. The error says what is wrong, with "did you mean" when a name is
    /// close to a known one.
    pub fn parse(text: &str, catalog: &Catalog) -> Result<Selector, String> {
        let trimmed = text.trim();
        let inner = match trimmed.strip_prefix('(') {
            Some(rest) => rest
                .strip_suffix(')')
                .ok_or_else(|| format!("the selector `{trimmed}` has `(` without `)`"))?,
            None => trimmed,
        };
        let names: Vec<String> = inner.split('|').map(|n| n.trim().to_owned()).collect();
        if names.len() == 1 && names.first().is_some_and(|n| n == "any") {
            return Ok(Selector {
                text: trimmed.to_owned(),
                names: Vec::new(),
            });
        }
        for name in &names {
            if name.is_empty() {
                return Err(format!(
                    "the selector `{trimmed}` has an empty name; write an exercise or a category, such as `cardio` or `(bike | rower)`"
                ));
            }
            if catalog.get(name).is_none() && Category::from_name(name).is_none() {
                let hint = did_you_mean(name, catalog.selector_names())
                    .map(|h| format!("; {h}"))
                    .unwrap_or_default();
                return Err(format!("unknown exercise or category `{name}`{hint}"));
            }
        }
        Ok(Selector {
            text: trimmed.to_owned(),
            names,
        })
    }

    /// Whether a workout of `exercise` counts.
    pub fn matches(&self, exercise: &str, catalog: &Catalog) -> bool {
        self.names.is_empty()
            || self.names.iter().any(|n| {
                n == exercise
                    || Category::from_name(n).is_some_and(|c| catalog.category(exercise) == Some(c))
            })
    }
}

/// A calendar month (`2026-08`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Month {
    /// The year.
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl FromStr for Month {
    type Err = String;

    /// `YYYY-MM`.
    fn from_str(text: &str) -> Result<Month, String> {
        let bad = || format!("`{text}` is not a month; write YYYY-MM, such as 2026-08");
        let (y, m) = text.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 || !(y.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()))
        {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(bad)?;
        Ok(Month { year, month })
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// The timezone named `name` (IANA, such as `Asia/Singapore` or `UTC`).
pub fn parse_timezone(name: &str) -> Result<Zone, String> {
    Zone::get(name.trim()).ok_or_else(|| {
        format!("unknown timezone `{name}`; use an IANA name such as `Asia/Singapore` or `UTC`")
    })
}

/// What a board ranks.
#[derive(Clone, Debug, PartialEq)]
pub struct Board {
    /// The month.
    pub month: Month,
    /// The timezone that decides which month a workout's start is in.
    pub timezone: Zone,
    /// What is totalled.
    pub measure: BoardMeasure,
    /// Which exercises count; `None` for all.
    pub selector: Option<Selector>,
    /// Only users whose record lists this group.
    pub group: Option<String>,
}

impl Board {
    /// The board's name: `<month>/<measure>`, then `/<selector as written>` and
    /// `/group:<group>` when given.
    pub fn name(&self) -> String {
        let mut name = format!("{}/{}", self.month, self.measure);
        if let Some(s) = &self.selector {
            name.push('/');
            name.push_str(&s.text);
        }
        if let Some(g) = &self.group {
            name.push_str("/group:");
            name.push_str(g);
        }
        name
    }

    /// Whether a workout counts on this board (its month, its exercise).
    pub fn counts(&self, w: &Workout, catalog: &Catalog) -> bool {
        let local = self.timezone.local_date(w.start.timestamp());
        local.year() == self.month.year
            && local.month() == self.month.month
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.matches(&w.exercise, catalog))
    }
}

/// One line of a leaderboard.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Entry {
    /// The board's name.
    pub board: String,
    /// Standard competition rank (1, 2, 2, 4).
    pub rank: u64,
    /// The user.
    pub user: String,
    /// The user's total, in `unit`.
    #[serde(serialize_with = "crate::tree::serialize_number")]
    pub total: f64,
    /// The canonical unit (`kg`, `m`, `s`, `kcal`), null for reps and workouts.
    pub unit: Option<&'static str>,
}

/// The board: every user with a total above zero, ranked. `users` are the user records (for
/// the group filter).
pub fn leaderboard(
    board: &Board,
    workouts: &[Workout],
    users: &[User],
    catalog: &Catalog,
) -> Vec<Entry> {
    let members: Option<HashSet<&str>> = board.group.as_ref().map(|g| {
        users
            .iter()
            .filter(|u| u.groups.iter().any(|ug| ug == g))
            .map(|u| u.id.as_str())
            .collect()
    });
    let mut by_user: HashMap<&str, Vec<&Workout>> = HashMap::new();
    for w in workouts {
        if members
            .as_ref()
            .is_some_and(|m| !m.contains(w.user.as_str()))
        {
            continue;
        }
        if board.counts(w, catalog) {
            by_user.entry(w.user.as_str()).or_default().push(w);
        }
    }
    let mut totals: Vec<(&str, f64)> = by_user
        .into_iter()
        .map(|(user, mut ws)| {
            ws.sort_by(|a, b| (&a.id, a.start).cmp(&(&b.id, b.start)));
            (user, ws.iter().map(|w| board.measure.of(w)).sum::<f64>())
        })
        // A total that is not finite is undefined, never ranked (defence in depth: the
        // readers' bounds keep accepted records far from overflowing).
        .filter(|&(_, total)| total > 0.0 && total.is_finite())
        .collect();
    totals.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let name = board.name();
    let ranks = competition_ranks(totals.iter().map(|&(_, total)| total));
    totals
        .into_iter()
        .zip(ranks)
        .map(|((user, total), rank)| Entry {
            board: name.clone(),
            rank,
            user: user.to_owned(),
            total,
            unit: board.measure.unit(),
        })
        .collect()
}

/// Standard competition ranks (1, 2, 2, 4) of totals sorted best first: equal totals share
/// the rank of the first of them.
pub fn competition_ranks(sorted: impl Iterator<Item = f64>) -> Vec<u64> {
    let mut previous: Option<(f64, u64)> = None;
    sorted
        .enumerate()
        .map(|(i, total)| {
            let rank = match previous {
                Some((t, r)) if t == total => r,
                _ => i as u64 + 1,
            };
            previous = Some((total, rank));
            rank
        })
        .collect()
}

/// A line of a board with a rank: [`Entry`] or [`TeamEntry`].
pub trait Ranked {
    /// Its standard competition rank.
    fn rank(&self) -> u64;
}

impl Ranked for Entry {
    fn rank(&self) -> u64 {
        self.rank
    }
}

impl Ranked for TeamEntry {
    fn rank(&self) -> u64 {
        self.rank
    }
}

/// Keeps every entry ranked `n` or better (ties at the cut included).
pub fn top<E: Ranked>(mut entries: Vec<E>, n: u64) -> Vec<E> {
    entries.retain(|e| e.rank() <= n);
    entries
}

/// One line of a team board (data.md, "Team boards", since 1.1).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TeamEntry {
    /// The board's name, ending in `/teams`.
    pub board: String,
    /// Standard competition rank (1, 2, 2, 4).
    pub rank: u64,
    /// The team (a group name).
    pub team: String,
    /// The sum of the members' totals, in `unit`.
    #[serde(serialize_with = "crate::tree::serialize_number")]
    pub total: f64,
    /// The canonical unit (`kg`, `m`, `s`, `kcal`), null for reps and workouts.
    pub unit: Option<&'static str>,
    /// How many members have a non-zero total.
    pub members: u64,
}

/// The name of a team board: the board's name (without a group) then `/teams`.
pub fn team_board_name(board: &Board) -> String {
    let mut name = Board {
        group: None,
        ..board.clone()
    }
    .name();
    name.push_str("/teams");
    name
}

/// A team board (data.md, "Team boards"): each listed group ranked by the sum of its members'
/// totals (members: the users whose record lists the group; a user in two listed teams counts
/// for both), teams with a zero total left out, ties sharing a rank and listed by team name. A
/// team listed twice is ranked once. The board's `group` is ignored (the CLI refuses both).
pub fn team_leaderboard(
    board: &Board,
    teams: &[String],
    workouts: &[Workout],
    users: &[User],
    catalog: &Catalog,
) -> Vec<TeamEntry> {
    let everyone = Board {
        group: None,
        ..board.clone()
    };
    let totals: HashMap<String, f64> = leaderboard(&everyone, workouts, users, catalog)
        .into_iter()
        .map(|e| (e.user, e.total))
        .collect();
    let mut names: Vec<&str> = teams.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut rows: Vec<(&str, f64, u64)> = names
        .into_iter()
        .map(|team| {
            // Summed in member-id order: the same total whatever the input order.
            let scored: Vec<f64> = members_of(team, users)
                .iter()
                .filter_map(|m| totals.get(*m).copied())
                .filter(|t| *t > 0.0)
                .collect();
            (team, scored.iter().sum::<f64>(), scored.len() as u64)
        })
        .filter(|&(_, total, _)| total > 0.0)
        .collect();
    rows.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    let name = team_board_name(board);
    let ranks = competition_ranks(rows.iter().map(|&(_, total, _)| total));
    rows.into_iter()
        .zip(ranks)
        .map(|((team, total, members), rank)| TeamEntry {
            board: name.clone(),
            rank,
            team: team.to_owned(),
            total,
            unit: board.measure.unit(),
            members,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::records::{parse_time, WorkoutSet};

    fn workout(
        id: &str,
        user: &str,
        exercise: &str,
        start: &str,
        distance: Option<f64>,
    ) -> Workout {
        let start = parse_time(start).unwrap();
        Workout {
            id: id.into(),
            user: user.into(),
            exercise: exercise.into(),
            gym: None,
            machine: None,
            start,
            end: start + chrono::TimeDelta::minutes(30),
            sets: Vec::new(),
            distance_m: distance,
            calories_kcal: None,
            avg_hr_bpm: None,
            incline_pct: None,
        }
    }

    fn board(measure: BoardMeasure, selector: Option<&str>, tz: Zone) -> Board {
        let catalog = Catalog::builtin();
        Board {
            month: "2026-08".parse().unwrap(),
            timezone: tz,
            measure,
            selector: selector.map(|s| Selector::parse(s, &catalog).unwrap()),
            group: None,
        }
    }

    /// Workouts built in code, past the readers' bounds: a total that overflowed or is NaN
    /// is never ranked (nor written as `null`).
    #[test]
    fn non_finite_totals_are_not_ranked() {
        let ws = vec![
            workout("a", "u-01", "bike", "2026-08-03T07:00:00Z", Some(1.7e308)),
            workout("b", "u-01", "bike", "2026-08-04T07:00:00Z", Some(1.7e308)),
            workout("c", "u-02", "bike", "2026-08-04T07:00:00Z", Some(f64::NAN)),
            workout("d", "u-03", "bike", "2026-08-05T07:00:00Z", Some(10.0)),
        ];
        let entries = leaderboard(
            &board(BoardMeasure::Distance, None, Zone::utc()),
            &ws,
            &[],
            &Catalog::builtin(),
        );
        let users: Vec<(&str, u64, f64)> = entries
            .iter()
            .map(|e| (e.user.as_str(), e.rank, e.total))
            .collect();
        assert_eq!(users, [("u-03", 1, 10.0)]);
        // The issue's volumes: 3 × 1e308 + 5 × 1.7e308 is infinite.
        let mut press = workout("p", "u-04", "leg_press", "2026-08-05T07:00:00Z", None);
        press.sets = vec![
            WorkoutSet {
                reps: 3,
                weight_kg: Some(1e308),
            },
            WorkoutSet {
                reps: 5,
                weight_kg: Some(1.7e308),
            },
        ];
        let volume = leaderboard(
            &board(BoardMeasure::Volume, None, Zone::utc()),
            &[press],
            &[],
            &Catalog::builtin(),
        );
        assert!(volume.is_empty(), "{volume:?}");
    }

    #[test]
    fn team_boards_sum_members_and_rank_teams_by_name_on_ties() {
        let member = |id: &str, groups: &[&str]| User {
            id: id.into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            ..User::default()
        };
        let users = [
            member("u-01", &["coy-a"]),
            member("u-02", &["coy-a", "coy-b"]),
            member("u-03", &["coy-b"]),
            member("u-04", &["coy-c"]),
            member("u-05", &["coy-c"]),
        ];
        let ws = vec![
            workout(
                "a",
                "u-01",
                "treadmill",
                "2026-08-03T07:00:00Z",
                Some(8000.0),
            ),
            workout("b", "u-02", "rower", "2026-08-05T07:00:00Z", Some(4000.0)),
            workout(
                "c",
                "u-03",
                "treadmill",
                "2026-08-06T07:00:00Z",
                Some(8000.0),
            ),
            workout(
                "d",
                "u-03",
                "treadmill",
                "2026-07-30T07:00:00Z",
                Some(9000.0),
            ),
            workout("e", "u-05", "bike", "2026-08-08T07:00:00Z", Some(2000.0)),
            workout("f", "u-07", "bike", "2026-08-08T07:00:00Z", Some(7000.0)),
        ];
        let b = board(BoardMeasure::Distance, None, Zone::utc());
        let teams: Vec<String> = ["coy-c", "ghost", "coy-b", "coy-a", "coy-a"]
            .iter()
            .map(|t| (*t).to_owned())
            .collect();
        let entries = team_leaderboard(&b, &teams, &ws, &users, &Catalog::builtin());
        let rows: Vec<(u64, &str, f64, u64)> = entries
            .iter()
            .map(|e| (e.rank, e.team.as_str(), e.total, e.members))
            .collect();
        assert_eq!(
            rows,
            vec![
                (1, "coy-a", 12000.0, 2),
                (1, "coy-b", 12000.0, 2),
                (3, "coy-c", 2000.0, 1),
            ]
        );
        assert_eq!(entries[0].board, "2026-08/distance/teams");
        assert_eq!(
            serde_json::to_string(&entries[2]).unwrap(),
            r#"{"board":"2026-08/distance/teams","rank":3,"team":"coy-c","total":2000,"unit":"m","members":1}"#
        );
        assert_eq!(top(entries, 1).len(), 2);
        let with_selector = board(BoardMeasure::Distance, Some("cardio"), Zone::utc());
        assert_eq!(
            team_board_name(&with_selector),
            "2026-08/distance/cardio/teams"
        );
    }

    #[test]
    fn the_spec_example_ranks_with_ties() {
        let ws = vec![
            workout(
                "d-01",
                "u-01",
                "treadmill",
                "2026-08-03T07:00:00+08:00",
                Some(6000.0),
            ),
            workout(
                "d-02",
                "u-01",
                "bike",
                "2026-08-01T00:30:00+08:00",
                Some(4000.0),
            ),
            workout(
                "d-03",
                "u-02",
                "rower",
                "2026-08-10T07:00:00+08:00",
                Some(8000.0),
            ),
            workout(
                "d-04",
                "u-03",
                "treadmill",
                "2026-08-11T07:00:00+08:00",
                Some(5000.0),
            ),
            workout(
                "d-05",
                "u-03",
                "treadmill",
                "2026-08-12T07:00:00+08:00",
                Some(3000.0),
            ),
            workout(
                "d-06",
                "u-04",
                "bike",
                "2026-08-13T07:00:00+08:00",
                Some(5000.0),
            ),
            workout(
                "d-07",
                "u-04",
                "bike",
                "2026-09-01T00:30:00+08:00",
                Some(5000.0),
            ),
            workout(
                "d-08",
                "u-05",
                "leg_press",
                "2026-08-13T07:00:00+08:00",
                Some(5000.0),
            ),
            workout("d-09", "u-06", "bike", "2026-08-13T07:00:00+08:00", None),
            workout(
                "d-10",
                "u-07",
                "bike",
                "2026-07-31T23:30:00+08:00",
                Some(5000.0),
            ),
        ];
        let b = board(
            BoardMeasure::Distance,
            Some("cardio"),
            Zone::get("Asia/Singapore").unwrap(),
        );
        let entries = leaderboard(&b, &ws, &[], &Catalog::builtin());
        let got: Vec<(u64, &str, f64)> = entries
            .iter()
            .map(|e| (e.rank, e.user.as_str(), e.total))
            .collect();
        assert_eq!(
            got,
            [
                (1, "u-01", 10000.0),
                (2, "u-02", 8000.0),
                (2, "u-03", 8000.0),
                (4, "u-04", 5000.0)
            ]
        );
        assert_eq!(
            serde_json::to_string(&entries[0]).unwrap(),
            r#"{"board":"2026-08/distance/cardio","rank":1,"user":"u-01","total":10000,"unit":"m"}"#
        );
        assert_eq!(top(entries.clone(), 2).len(), 3);
        assert_eq!(top(entries.clone(), 1).len(), 1);
        assert_eq!(top(entries, 4).len(), 4);
        // In UTC, d-02 (Jul 31 16:30 UTC) is July and d-07 (Aug 31 16:30 UTC) is August.
        let b = board(BoardMeasure::Distance, Some("cardio"), Zone::utc());
        let entries = leaderboard(&b, &ws, &[], &Catalog::builtin());
        assert_eq!(entries[0].user, "u-04");
        assert_eq!(entries[0].total, 10000.0);
    }

    #[test]
    fn measures_and_groups() {
        let mut a = workout("s-1", "u-01", "leg_press", "2026-08-03T07:00:00Z", None);
        a.sets = vec![
            WorkoutSet {
                reps: 10,
                weight_kg: Some(50.0),
            },
            WorkoutSet {
                reps: 5,
                weight_kg: None,
            },
        ];
        a.calories_kcal = Some(120.0);
        let b = workout("s-2", "u-02", "push_up", "2026-08-03T07:00:00Z", None);
        let ws = vec![a, b];
        let catalog = Catalog::builtin();
        let totals = |m: BoardMeasure| -> Vec<(String, f64)> {
            leaderboard(&board(m, None, Zone::utc()), &ws, &[], &catalog)
                .into_iter()
                .map(|e| (e.user, e.total))
                .collect()
        };
        assert_eq!(totals(BoardMeasure::Volume), [("u-01".to_owned(), 500.0)]);
        assert_eq!(totals(BoardMeasure::Reps), [("u-01".to_owned(), 15.0)]);
        assert_eq!(totals(BoardMeasure::Calories), [("u-01".to_owned(), 120.0)]);
        assert_eq!(totals(BoardMeasure::Workouts).len(), 2);
        assert_eq!(totals(BoardMeasure::Duration)[0].1, 1800.0);
        let mut grouped = board(BoardMeasure::Workouts, None, Zone::utc());
        grouped.group = Some("nsfit".into());
        let users = [User {
            groups: vec!["nsfit".into()],
            ..User::unknown("u-02")
        }];
        let entries = leaderboard(&grouped, &ws, &users, &catalog);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].user, "u-02");
        assert_eq!(entries[0].board, "2026-08/workouts/group:nsfit");
        assert_eq!(entries[0].unit, None);
    }

    #[test]
    fn selectors_and_months_parse() {
        let catalog = Catalog::builtin();
        let s = Selector::parse(" (bike | rower) ", &catalog).unwrap();
        assert_eq!(s.text, "(bike | rower)");
        assert_eq!(s.names, ["bike", "rower"]);
        assert!(s.matches("rower", &catalog) && !s.matches("treadmill", &catalog));
        assert!(Selector::parse("cardio", &catalog)
            .unwrap()
            .matches("treadmill", &catalog));
        assert!(Selector::parse("any", &catalog)
            .unwrap()
            .matches("whatever", &catalog));
        let err = Selector::parse("tredmill", &catalog).unwrap_err();
        assert!(err.contains("did you mean `treadmill`"), "{err}");
        assert!(Selector::parse("(bike |)", &catalog).is_err());
        assert!(Selector::parse("(bike", &catalog).is_err());
        assert_eq!("2026-08".parse::<Month>().unwrap().to_string(), "2026-08");
        for bad in ["2026-13", "2026-8", "26-08", "2026/08", "2026-08-01", ""] {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    proptest! {
        /// Ranks are standard competition ranks, and the board does not depend on the order
        /// of the workouts.
        #[test]
        fn ranks_are_competition_ranks_in_any_order(
            rows in proptest::collection::vec((0u8..8, 0u32..6, 0usize..3), 0..40),
            seed in any::<u64>(),
        ) {
            let ws: Vec<Workout> = rows
                .iter()
                .enumerate()
                .map(|(i, &(user, km, ex))| {
                    let exercise = ["treadmill", "bike", "leg_press"][ex];
                    workout(&format!("w-{i:03}"), &format!("u-{user}"), exercise,
                        "2026-08-10T07:00:00Z", Some(f64::from(km) * 1000.0 + 0.1))
                })
                .collect();
            let b = board(BoardMeasure::Distance, Some("cardio"), Zone::utc());
            let catalog = Catalog::builtin();
            let entries = leaderboard(&b, &ws, &[], &catalog);
            for (i, e) in entries.iter().enumerate() {
                let better = entries.iter().filter(|o| o.total > e.total).count() as u64;
                prop_assert_eq!(e.rank, better + 1);
                prop_assert!(e.total > 0.0);
                if let Some(next) = entries.get(i + 1) {
                    prop_assert!(next.total < e.total || (next.total == e.total && next.user > e.user));
                }
            }
            let mut shuffled = ws.clone();
            let mut state = seed;
            for i in (1..shuffled.len()).rev() {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                shuffled.swap(i, (state >> 33) as usize % (i + 1));
            }
            prop_assert_eq!(leaderboard(&b, &shuffled, &[], &catalog), entries);
        }
    }
}
