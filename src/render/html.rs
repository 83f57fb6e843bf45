//! Self-contained HTML reports (`eval --format html`, `leaderboard --format html`): what people
//! would rather look at than read. One file, inline CSS, no script, no network.
//!
//! The eval report has a row per (challenge, user): status, a progress bar and, for period
//! goals, a calendar of the periods met (■ met, ◧ partly, □ not). A team challenge's teams are
//! drawn side by side instead, a card each with its members; a tier is a badge. The styles of
//! teams and tiers are added only to reports that have them, so a version 1 report is unchanged.
//! The leaderboard report is a bar chart of the totals. Both are drawn from typed results.

use std::fmt::Write;

use rules_core::eval::{Detail, EvalResult, NodeResult, PeriodResult, Status};
use rules_core::leaderboard::{Entry, TeamEntry};

const STYLE: &str = "body{font:14px system-ui,sans-serif;margin:2em;color:#222}\
h1{font-size:1.4em}h2{font-size:1.1em;margin-top:2em}table{border-collapse:collapse}\
td,th{padding:4px 10px;text-align:left;border-bottom:1px solid #eee;vertical-align:middle}\
.bar{width:180px;height:12px;background:#eee;border-radius:6px;overflow:hidden;display:inline-block}\
.bar>i{display:block;height:100%;background:#3b82f6}.completed .bar>i{background:#16a34a}\
.failed .bar>i{background:#dc2626}.cal{display:flex;flex-wrap:wrap;gap:2px;max-width:420px}\
.cal>b{width:11px;height:11px;border-radius:2px;background:#e5e7eb}.cal>b.met{background:#16a34a}\
.cal>b.part{background:#86efac}.muted{color:#888}.hbar{height:14px;background:#3b82f6;border-radius:3px}";

/// Escapes text for HTML.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// What a report with teams or tiers adds to [`STYLE`] (a version 1 report is unchanged).
const TEAM_STYLE: &str = ".teams{display:flex;flex-wrap:wrap;gap:16px}\
.team{border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;min-width:220px;flex:1 1 220px;max-width:360px}\
.team h3{font-size:1em;margin:0 0 6px}.team ul{margin:6px 0 0;padding-left:1.2em}\
.tier{display:inline-block;padding:1px 8px;border-radius:9px;background:#fef3c7;color:#92400e;font-size:.85em;margin-left:6px}";

fn page(title: &str, body: &str) -> String {
    page_with(title, body, "")
}

fn page_with(title: &str, body: &str, extra_style: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}{extra_style}</style></head><body>\n<h1>{}</h1>\n{body}</body></html>\n",
        esc(title),
        esc(title)
    )
}

/// A tier badge when the challenge has tiers, else nothing.
fn tier_badge(r: &EvalResult) -> String {
    match &r.tier {
        None => String::new(),
        Some(Some(t)) => format!("<span class=\"tier\">{}</span>", esc(t)),
        Some(None) => "<span class=\"tier muted\">no tier yet</span>".to_owned(),
    }
}

/// The first period node of a result tree (depth first), for the calendar.
fn periods(node: &NodeResult) -> Option<&[PeriodResult]> {
    match &node.detail {
        Detail::Periods { periods, .. } => Some(periods),
        Detail::Goals { goals, .. } => goals.iter().find_map(periods),
        Detail::OneWorkout(goal) => periods(goal),
        Detail::Metric { .. } => None,
    }
}

/// The calendar cells of a result's first period node.
fn calendar_cells(status: Status, tree: &NodeResult) -> String {
    match (status, periods(tree)) {
        (Status::Ineligible | Status::NotStarted, _) | (_, None) => String::new(),
        (_, Some(list)) => list
            .iter()
            .map(|p| {
                let class = if p.met {
                    " class=\"met\""
                } else if p.progress > 0.0 {
                    " class=\"part\""
                } else {
                    ""
                };
                format!(
                    "<b{class} title=\"{} {:.0}%\"></b>",
                    esc(&p.start.to_string()),
                    p.progress * 100.0
                )
            })
            .collect(),
    }
}

/// A team challenge's results side by side: a card per team with its status, progress bar,
/// tier badge, calendar and members (language.md §10).
fn team_cards(body: &mut String, results: &[EvalResult]) {
    body.push_str("<div class=\"teams\">\n");
    for r in results {
        let status = r.status.name();
        let progress = r.progress.clamp(0.0, 1.0);
        let members = r.members.as_deref().unwrap_or(&[]);
        let list: String = members
            .iter()
            .map(|m| {
                format!(
                    "<li>{} <span class=\"muted\">{} workouts</span></li>",
                    esc(&m.user),
                    m.workouts
                )
            })
            .collect();
        let _ = writeln!(
            body,
            "<div class=\"team {}\"><h3>{}{}</h3><div>{} · {} member{}</div>\
             <div><span class=\"bar\"><i style=\"width:{:.1}%\"></i></span> {:.0}%</div>\
             <div class=\"cal\">{}</div><ul>{list}</ul></div>",
            esc(status),
            esc(&r.user),
            tier_badge(r),
            esc(&status.replace('_', " ")),
            members.len(),
            if members.len() == 1 { "" } else { "s" },
            progress * 100.0,
            progress * 100.0,
            calendar_cells(r.status, &r.tree),
        );
    }
    body.push_str("</div>\n");
}

/// The eval report: results are `challenge eval`'s lines, in output order.
pub fn eval_report(results: &[EvalResult]) -> String {
    let mut body = String::new();
    let mut current = "";
    let extra = results.iter().any(|r| r.tier.is_some() || r.is_team());
    let mut i = 0;
    while let Some(r) = results.get(i) {
        let challenge = r.challenge.as_str();
        if r.is_team() {
            if !current.is_empty() {
                body.push_str("</table>\n");
                current = "";
            }
            let same = results
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|t| t.challenge == challenge && t.is_team())
                .count();
            let _ = writeln!(
                body,
                "<h2>{}</h2><p class=\"muted\">as of {} · {} teams</p>",
                esc(challenge),
                esc(&r.as_of),
                same
            );
            team_cards(&mut body, results.get(i..i + same).unwrap_or_default());
            i += same;
            continue;
        }
        i += 1;
        if challenge != current {
            if !current.is_empty() {
                body.push_str("</table>\n");
            }
            current = challenge;
            let _ = write!(
                body,
                "<h2>{}</h2><p class=\"muted\">as of {}</p>\n<table><tr><th>user</th><th>status</th>\
                 <th>progress</th><th>periods</th></tr>\n",
                esc(challenge),
                esc(&r.as_of)
            );
        }
        let status = r.status.name();
        let progress = r.progress.clamp(0.0, 1.0);
        let calendar = calendar_cells(r.status, &r.tree);
        let _ = writeln!(
            body,
            "<tr class=\"{}\"><td>{}</td><td>{}{}</td><td><span class=\"bar\"><i style=\"width:{:.1}%\"></i></span> {:.0}%</td>\
             <td><div class=\"cal\">{calendar}</div></td></tr>",
            esc(status),
            esc(&r.user),
            esc(&status.replace('_', " ")),
            tier_badge(r),
            progress * 100.0,
            progress * 100.0,
        );
    }
    if !current.is_empty() {
        body.push_str("</table>\n");
    }
    page_with(
        "Challenge progress",
        &body,
        if extra { TEAM_STYLE } else { "" },
    )
}

/// The leaderboard report: a bar per entry, scaled to the leader's total.
pub fn leaderboard_report(board: &str, entries: &[Entry]) -> String {
    bars(board, "user", entries)
}

/// The team board report: a bar per team, labelled with its members counted.
pub fn team_leaderboard_report(board: &str, entries: &[TeamEntry]) -> String {
    let rows: Vec<Entry> = entries
        .iter()
        .map(|e| Entry {
            board: e.board.clone(),
            rank: e.rank,
            user: format!(
                "{} ({} member{})",
                e.team,
                e.members,
                if e.members == 1 { "" } else { "s" }
            ),
            total: e.total,
            unit: e.unit,
        })
        .collect();
    bars(board, "team", &rows)
}

fn bars(board: &str, who: &str, entries: &[Entry]) -> String {
    let best = entries.iter().map(|e| e.total).fold(0.0, f64::max);
    let mut body = format!("<table><tr><th>rank</th><th>{who}</th><th>total</th><th></th></tr>\n");
    for e in entries {
        let width = if best > 0.0 {
            e.total / best * 400.0
        } else {
            0.0
        };
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{} {}</td><td><div class=\"hbar\" style=\"width:{width:.1}px\"></div></td></tr>",
            e.rank,
            esc(&e.user),
            rules_core::tree::format_number((e.total * 100.0).round() / 100.0),
            e.unit.unwrap_or(""),
        );
    }
    body.push_str("</table>\n");
    if entries.is_empty() {
        body = "<p class=\"muted\">nobody has a total above zero</p>\n".to_owned();
    }
    page(&format!("Leaderboard {board}"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(challenge: &str, user: &str, status: Status, progress: f64) -> EvalResult {
        EvalResult {
            challenge: challenge.into(),
            user: user.into(),
            as_of: "2026-08-02T20:00:00Z".into(),
            status,
            progress,
            tier: None,
            members: None,
            tree: node(
                "metric",
                Detail::Goals {
                    count: None,
                    goals: vec![],
                },
            ),
        }
    }

    fn node(kind: &'static str, detail: Detail) -> NodeResult {
        NodeResult {
            kind,
            met: false,
            failed: false,
            progress: 0.0,
            detail,
        }
    }

    fn day(start: &str, met: bool, progress: f64) -> PeriodResult {
        PeriodResult {
            start: start.parse().unwrap_or_default(),
            met,
            progress,
        }
    }

    #[test]
    fn eval_report_has_a_row_bar_and_calendar_per_user() {
        let every = node(
            "every",
            Detail::Periods {
                period: rules_core::tree::Period::Day,
                count: None,
                periods: vec![day("2026-08-01", true, 1.0), day("2026-08-02", false, 0.25)],
                runs: None,
                goal: Box::new(node(
                    "all",
                    Detail::Goals {
                        count: None,
                        goals: vec![],
                    },
                )),
            },
        );
        let r = EvalResult {
            tree: node(
                "all",
                Detail::Goals {
                    count: None,
                    goals: vec![every],
                },
            ),
            ..result("c<1>", "u-01", Status::InProgress, 0.5)
        };
        let html = eval_report(&[r]);
        assert!(html.contains("<h2>c&lt;1&gt;</h2>"), "escaped: {html}");
        assert!(html.contains("width:50.0%"));
        assert!(html.contains("<b class=\"met\" title=\"2026-08-01 100%\"></b><b class=\"part\""));
    }

    #[test]
    fn team_results_are_cards_side_by_side_with_members_and_tiers() {
        let team = |name: &str, tier: Option<&str>| EvalResult {
            tier: Some(tier.map(str::to_owned)),
            members: Some(vec![rules_core::eval::Member {
                user: "u-01".into(),
                workouts: 3,
            }]),
            ..result("duel", name, Status::InProgress, 0.75)
        };
        let html = eval_report(&[team("coy-a", Some("silver")), team("coy-b", None)]);
        assert!(html.contains(".teams{display:flex"), "{html}");
        assert!(html.contains("<div class=\"teams\">"));
        assert_eq!(html.matches("<div class=\"team in_progress\">").count(), 2);
        assert!(html.contains("coy-a<span class=\"tier\">silver</span>"));
        assert!(html.contains("no tier yet"));
        assert!(html.contains("<li>u-01 <span class=\"muted\">3 workouts</span></li>"));
        assert!(html.contains("1 member<"));
        // A version 1 report has neither the styles nor the badges.
        let plain = eval_report(&[result("c", "u", Status::Completed, 1.0)]);
        assert!(!plain.contains(".teams") && !plain.contains("tier"));
    }

    #[test]
    fn leaderboard_bars_scale_to_the_leader() {
        let entry = |rank, user: &str, total| Entry {
            board: "b".into(),
            rank,
            user: user.into(),
            total,
            unit: Some("m"),
        };
        let html = leaderboard_report(
            "2026-08/distance",
            &[entry(1, "a", 2000.0), entry(2, "b", 500.0)],
        );
        assert!(
            html.contains("width:400.0px") && html.contains("width:100.0px"),
            "{html}"
        );
        assert!(leaderboard_report("x", &[]).contains("nobody"));
    }
}
