//! Teams and tiers (language.md §10): E0014.
//!
//! Checked here: a tier threshold that is not a percent in (0 %, 100 %]; two tiers with the same
//! name or the same threshold (the thresholds compared with the §4 tolerance, so `50 %` and
//! `50.0 %` are the same); a reward naming a tier the declaration does not have; a team listed
//! twice or with an empty name; `teams` together with `groups`; `teams` in a template. A
//! duplicate is reported at the second occurrence. Every problem is reported, never only the
//! first.
//!
//! Decisions where the spec is silent:
//! - an empty tier name is E0014, like an empty team name (a tier must be something a member can
//!   read on a badge);
//! - `teams` with `groups` and `teams` in a template are reported at the `teams` line (the span
//!   of its names; the path `teams`).

use std::collections::HashSet;

use super::path::Path;
use super::{show, Checker};
use crate::diagnostic::{closest, Code};
use crate::tree::{Challenge, DeclKind};
use crate::units::approx_eq;

impl Checker<'_> {
    /// Every E0014 of a declaration.
    pub(super) fn teams_and_tiers(&mut self, decl: &Challenge, root: &Path) {
        self.tiers(decl, root);
        self.reward_tiers(decl, root);
        self.teams(decl, root);
    }

    fn tiers(&mut self, decl: &Challenge, root: &Path) {
        let mut names: HashSet<&str> = HashSet::new();
        let mut thresholds: Vec<(f64, &str)> = Vec::new();
        for (i, tier) in decl.tiers.iter().enumerate() {
            let path = root.key("tiers").index(i);
            if tier.name.is_empty() {
                self.report(
                    Code::E0014,
                    "a tier has an empty name".into(),
                    Some("name the tier, such as `tier \"bronze\" at 25 %`".into()),
                    tier.span,
                    &path.key("name"),
                );
            } else if !names.insert(tier.name.as_str()) {
                self.report(
                    Code::E0014,
                    format!("the tier {} is given twice", show(&tier.name)),
                    Some("each tier of a challenge has its own name; rename or remove one".into()),
                    tier.span,
                    &path.key("name"),
                );
            }
            let at = &tier.at;
            let at_path = path.key("at");
            let at_span = if at.span.is_some() {
                at.span
            } else {
                tier.span
            };
            if at.unit.as_deref() != Some("%") {
                let written = match at.unit.as_deref() {
                    None => "a bare number (a count)".to_owned(),
                    Some(unit) => format!("`{at}`, which is not a percent (`{unit}`)"),
                };
                self.report(
                    Code::E0014,
                    format!("the threshold of tier {} is {written}", show(&tier.name)),
                    Some(format!(
                        "a tier threshold is a percent of the progress, such as `at {} %`",
                        crate::tree::format_number(at.value.clamp(0.0, 100.0))
                    )),
                    at_span,
                    &at_path,
                );
                continue;
            }
            if !(at.value > 0.0 && at.value <= 100.0) {
                self.report(
                    Code::E0014,
                    format!(
                        "the threshold of tier {} is {at}; it must be above 0 % and at most 100 %",
                        show(&tier.name)
                    ),
                    Some("a tier is reached at a share of the goal: write a percent in (0 %, 100 %], such as `at 50 %`; 100 % is completion".into()),
                    at_span,
                    &at_path,
                );
                continue;
            }
            if let Some((_, other)) = thresholds.iter().find(|(t, _)| approx_eq(*t, at.value)) {
                self.report(
                    Code::E0014,
                    format!(
                        "the tier {} has the same threshold ({at}) as the tier {}",
                        show(&tier.name),
                        show(other)
                    ),
                    Some(
                        "each tier of a challenge has its own threshold; change or remove one"
                            .into(),
                    ),
                    at_span,
                    &at_path,
                );
            }
            thresholds.push((at.value, tier.name.as_str()));
        }
    }

    fn reward_tiers(&mut self, decl: &Challenge, root: &Path) {
        for (i, reward) in decl.rewards.iter().enumerate() {
            let Some(tier) = &reward.tier else { continue };
            if decl.tiers.iter().any(|t| t.name == tier.node) {
                continue;
            }
            let help = if decl.tiers.is_empty() {
                format!(
                    "add the tier, such as `tier {} at 50 %`, or leave out `tier` to earn the reward on completion",
                    quote(&tier.node)
                )
            } else {
                closest(&tier.node, decl.tiers.iter().map(|t| t.name.as_str()))
                    .map(|c| format!("did you mean `{c}`?"))
                    .unwrap_or_else(|| {
                        let names: Vec<&str> = decl.tiers.iter().map(|t| t.name.as_str()).collect();
                        format!(
                            "the tiers of this {} are {}",
                            decl.kind.keyword(),
                            super::list(&names)
                        )
                    })
            };
            let span = if tier.span.is_some() {
                tier.span
            } else {
                reward.span
            };
            self.report(
                Code::E0014,
                format!(
                    "the reward {} names the tier {}, which this {} does not have",
                    show(&reward.name),
                    show(&tier.node),
                    decl.kind.keyword()
                ),
                Some(help),
                span,
                &root.key("rewards").index(i).key("tier"),
            );
        }
    }

    fn teams(&mut self, decl: &Challenge, root: &Path) {
        let Some(first) = decl.teams.first() else {
            return;
        };
        let line = decl
            .teams
            .iter()
            .fold(first.span, |span, t| span.to(t.span));
        let path = root.key("teams");
        if decl.kind == DeclKind::Template {
            self.report(
                Code::E0014,
                "a template cannot have `teams`".into(),
                Some("a template is personalised per user; make it a `challenge` to run it for teams".into()),
                line,
                &path,
            );
        }
        if !decl.groups.is_empty() {
            self.report(
                Code::E0014,
                "`teams` and `groups` cannot be used together".into(),
                Some("each team is a group already: its members are the users in that group; remove `groups`".into()),
                line,
                &path,
            );
        }
        let mut seen: HashSet<&str> = HashSet::new();
        for (i, team) in decl.teams.iter().enumerate() {
            if team.node.is_empty() {
                self.report(
                    Code::E0014,
                    "a team has an empty name".into(),
                    Some(
                        "a team is a group: write its name, such as `teams \"coy-a\", \"coy-b\"`"
                            .into(),
                    ),
                    team.span,
                    &path.index(i),
                );
            } else if !seen.insert(team.node.as_str()) {
                self.report(
                    Code::E0014,
                    format!("the team {} is listed twice", show(&team.node)),
                    Some("list each team once".into()),
                    team.span,
                    &path.index(i),
                );
            }
        }
    }
}

/// A string as the DSL writes it (`"gold"`).
fn quote(text: &str) -> String {
    format!("\"{text}\"")
}
