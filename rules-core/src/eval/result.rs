//! The serializable result of evaluating one challenge for one user (language.md §8,
//! "The result"; cli.md, the `eval` result line).
//!
//! The JSON shape is a compatibility promise: one object per (challenge, user) with
//! `challenge`, `user`, `as_of` (echoed as given), `status`, `progress` and `tree`. Each node of
//! `tree` has `kind`, `met`, `failed`, `progress`, then by kind: `value` and `target` (metrics,
//! canonical units, `value` null when undefined), `periods`, `longest`, `current` (streaks
//! only) and `goal` (period nodes: the child in the latest started period), `goal`
//! (`one_workout`: the child for the best workout), or `goals` (`all`, `any`, `at_least`).
//! So that a result reads on its own (the explain tree prints it), nodes also echo the
//! comparison of a metric (`op`), the period of a period node (`period`) and the N of
//! `at_least`, `on` and `streak` (`count`), as the goal tree writes them.
//!
//! **Invariant:** `progress` is finite, in [0, 1], and 1 exactly when `met`. Nothing here
//! reads a clock.

use chrono::NaiveDate;
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;

use crate::tree::{serialize_number, GoalOp, Period};

/// Where a (challenge, user) pair stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The user is in none of the challenge's `groups`.
    Ineligible,
    /// `as_of` is before the window.
    NotStarted,
    /// The goal is met.
    Completed,
    /// The goal can no longer be met.
    Failed,
    /// Neither met nor failed yet.
    InProgress,
}

impl Status {
    /// The name used in the JSON result (`in_progress`).
    pub fn name(self) -> &'static str {
        match self {
            Status::Ineligible => "ineligible",
            Status::NotStarted => "not_started",
            Status::Completed => "completed",
            Status::Failed => "failed",
            Status::InProgress => "in_progress",
        }
    }
}

/// The result of one (challenge, user) pair, or of one (challenge, team) pair of a team
/// challenge (language.md §10): one `eval` output line.
///
/// Serialized as `challenge`, `user` (or `team` for a team result), `as_of`, `status`,
/// `progress`, then `tier` only when the challenge has tiers and `members` only for a team
/// result, then `tree`: a version 1 line is unchanged.
#[derive(Clone, Debug, PartialEq)]
pub struct EvalResult {
    /// The challenge id.
    pub challenge: String,
    /// The user id; for a team result ([`EvalResult::members`] is `Some`), the team's name.
    pub user: String,
    /// `as_of` exactly as the caller gave it.
    pub as_of: String,
    /// Where the pair stands.
    pub status: Status,
    /// The root's progress; 0 when ineligible or not started.
    pub progress: f64,
    /// Since 1.1: `None` when the challenge has no tiers (no `tier` key); else the tier
    /// reached, or `Some(None)` (`null`).
    pub tier: Option<Option<String>>,
    /// Since 1.1: for a team result, every member sorted by id with their counted workouts;
    /// `None` for a user result.
    pub members: Option<Vec<Member>>,
    /// The node results, shaped like the goal tree.
    pub tree: NodeResult,
}

impl EvalResult {
    /// Whether this is the result of a team (language.md §10).
    pub fn is_team(&self) -> bool {
        self.members.is_some()
    }
}

impl Serialize for EvalResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("challenge", &self.challenge)?;
        let subject = if self.is_team() { "team" } else { "user" };
        map.serialize_entry(subject, &self.user)?;
        map.serialize_entry("as_of", &self.as_of)?;
        map.serialize_entry("status", &self.status)?;
        map.serialize_entry("progress", &self.progress)?;
        if let Some(tier) = &self.tier {
            map.serialize_entry("tier", tier)?;
        }
        if let Some(members) = &self.members {
            map.serialize_entry("members", members)?;
        }
        map.serialize_entry("tree", &self.tree)?;
        map.end()
    }
}

/// A member of a team and how many of their workouts count: in the window, started at
/// `as_of`, at the listed gyms (language.md §10).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Member {
    /// The user id.
    pub user: String,
    /// The member's counted workouts.
    pub workouts: u64,
}

/// A value in canonical units: `{"value": 1800, "unit": "s"}`; `unit` is null for counts.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Amount {
    /// The canonical value.
    #[serde(serialize_with = "serialize_number")]
    pub value: f64,
    /// The canonical unit (`kg`, `m`, `s`, `m/s`, `kcal`, `bpm`, `%`), `None` for a count.
    pub unit: Option<&'static str>,
}

/// One period of a period node.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct PeriodResult {
    /// Its first local date, as cut to the window (or the enclosing period).
    #[serde(serialize_with = "serialize_date")]
    pub start: NaiveDate,
    /// Whether the child is met in it.
    pub met: bool,
    /// The child's progress in it (0 when it has not started).
    pub progress: f64,
}

/// A local date as `YYYY-MM-DD`, the text of chrono's `Serialize`, handed over in one piece:
/// chrono passes a date to `collect_str`, which serde_json escapes character by character, and
/// a period node has a date per period. Years outside 0..=9999 (which chrono writes with a
/// sign) still go through chrono.
fn serialize_date<S: Serializer>(date: &NaiveDate, serializer: S) -> Result<S::Ok, S::Error> {
    use chrono::Datelike;
    let year = match u32::try_from(date.year()) {
        Ok(year) if year <= 9999 => year,
        _ => return serializer.collect_str(date),
    };
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let (month, day) = (date.month(), date.day());
    let text = [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    serializer.serialize_str(std::str::from_utf8(&text).map_err(serde::ser::Error::custom)?)
}

/// The result of one goal node.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeResult {
    /// The node's `kind` (`every`, `metric`, ...).
    pub kind: &'static str,
    /// Whether the goal is met.
    pub met: bool,
    /// Whether the goal can no longer be met.
    pub failed: bool,
    /// In [0, 1]; 1 exactly when met.
    pub progress: f64,
    /// What the kind adds.
    pub detail: Detail,
}

/// What a node's result adds to `kind`, `met`, `failed` and `progress`.
#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    /// `all`, `any`, `at_least`: the children's results (`goals`).
    Goals {
        /// N of `at_least` (`count`), `None` for `all` and `any`.
        count: Option<u64>,
        /// The children's results.
        goals: Vec<NodeResult>,
    },
    /// `every`, `on`, `streak`.
    Periods {
        /// The period (`day`, `week`, `month`).
        period: Period,
        /// N of `on` and `streak` (`count`), `None` for `every`.
        count: Option<u64>,
        /// One entry per period.
        periods: Vec<PeriodResult>,
        /// For streaks: `(longest, current)` runs of met periods.
        runs: Option<(u32, u32)>,
        /// The child's result in the latest started period (the first period when none has
        /// started).
        goal: Box<NodeResult>,
    },
    /// `one_workout`: the child's result for the best workout (`goal`).
    OneWorkout(Box<NodeResult>),
    /// `metric`: its value (`None` when undefined), the comparison and the target.
    Metric {
        /// The aggregate's value.
        value: Option<Amount>,
        /// `>=` or `<=`.
        op: GoalOp,
        /// The target.
        target: Amount,
    },
}

impl Serialize for NodeResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("kind", self.kind)?;
        match &self.detail {
            Detail::Goals {
                count: Some(count), ..
            } => map.serialize_entry("count", count)?,
            Detail::Periods { period, count, .. } => {
                map.serialize_entry("period", period)?;
                if let Some(count) = count {
                    map.serialize_entry("count", count)?;
                }
            }
            _ => {}
        }
        map.serialize_entry("met", &self.met)?;
        map.serialize_entry("failed", &self.failed)?;
        map.serialize_entry("progress", &self.progress)?;
        match &self.detail {
            Detail::Goals { goals, .. } => map.serialize_entry("goals", goals)?,
            Detail::Periods {
                periods,
                runs,
                goal,
                ..
            } => {
                map.serialize_entry("periods", periods)?;
                if let Some((longest, current)) = runs {
                    map.serialize_entry("longest", longest)?;
                    map.serialize_entry("current", current)?;
                }
                map.serialize_entry("goal", goal)?;
            }
            Detail::OneWorkout(goal) => map.serialize_entry("goal", goal)?,
            Detail::Metric { value, op, target } => {
                map.serialize_entry("value", value)?;
                map.serialize_entry("op", op)?;
                map.serialize_entry("target", target)?;
            }
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn period_dates_are_the_text_chrono_gives() {
        for text in [
            "2026-08-01",
            "1970-01-01",
            "0999-12-31",
            "0001-02-03",
            "9999-12-31",
            "-0001-01-01",
            "+10000-01-01",
        ] {
            let date: NaiveDate = text.parse().unwrap();
            let period = PeriodResult {
                start: date,
                met: true,
                progress: 1.0,
            };
            assert_eq!(
                serde_json::to_string(&period).unwrap(),
                format!(
                    r#"{{"start":{},"met":true,"progress":1.0}}"#,
                    serde_json::to_string(&date).unwrap()
                ),
                "{text}"
            );
        }
    }

    #[test]
    fn metric_nodes_serialize_canonical_quantities() {
        let node = NodeResult {
            kind: "metric",
            met: false,
            failed: false,
            progress: 0.5,
            detail: Detail::Metric {
                value: Some(Amount {
                    value: 1800.0,
                    unit: Some("s"),
                }),
                op: GoalOp::Ge,
                target: Amount {
                    value: 3600.0,
                    unit: Some("s"),
                },
            },
        };
        assert_eq!(
            serde_json::to_string(&node).unwrap(),
            r#"{"kind":"metric","met":false,"failed":false,"progress":0.5,"value":{"value":1800,"unit":"s"},"op":">=","target":{"value":3600,"unit":"s"}}"#
        );
        let undefined = NodeResult {
            detail: Detail::Metric {
                value: None,
                op: GoalOp::Le,
                target: Amount {
                    value: 2.5,
                    unit: None,
                },
            },
            ..node
        };
        assert_eq!(
            serde_json::to_string(&undefined).unwrap(),
            r#"{"kind":"metric","met":false,"failed":false,"progress":0.5,"value":null,"op":"<=","target":{"value":2.5,"unit":null}}"#
        );
    }

    #[test]
    fn status_names_match_serde() {
        for s in [
            Status::Ineligible,
            Status::NotStarted,
            Status::Completed,
            Status::Failed,
            Status::InProgress,
        ] {
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.name())
            );
        }
    }
}
