//! The explain tree of `eval --format text`: each goal as its author wrote it, with ✓ (met),
//! ✗ (failed) or … (still open), a progress bar, its value against its target in the author's
//! units, and period calendars as rows of marks (■ met, ◧ partly, □ not met).
//!
//! It walks the goal tree beside the typed result (`EvalResult`, the value `--format json`
//! serializes), so it shows exactly what the JSON says, labelled with the challenge's own words. A team result's header reads
//! `<challenge> · team <name> (<n> members) · <status> · <progress>`, then a `members:` line;
//! a result of a challenge with tiers adds a `tier:` line (language.md §10).

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use chrono::Datelike;
use rules_core::eval::{Amount, Detail, EvalResult, NodeResult, PeriodResult, Status};
use rules_core::tree::{Count, Goal, Period, Target};
use rules_core::units;

const BAR_WIDTH: usize = 20;
const CALENDAR_ROW: usize = 31;

/// Renders one result of a challenge whose goal is `goal`.
pub fn render(result: &EvalResult, goal: &Goal, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    // A team result (language.md §10) names the team and its member count in the header; the
    // members and the tier follow on lines of their own.
    let subject = match &result.members {
        Some(members) => format!(
            "team {} ({} member{})",
            result.user,
            members.len(),
            if members.len() == 1 { "" } else { "s" }
        ),
        None => result.user.clone(),
    };
    let _ = writeln!(
        out,
        "{} · {} · {} · {:.0}% (as of {})",
        paint.bold(&result.challenge),
        subject,
        paint.status(result.status),
        result.progress * 100.0,
        result.as_of,
    );
    if let Some(members) = &result.members {
        let list: Vec<String> = members
            .iter()
            .map(|m| {
                let n = m.workouts;
                format!("{} ({n} workout{})", m.user, if n == 1 { "" } else { "s" })
            })
            .collect();
        let list = if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        };
        let _ = writeln!(out, "  members: {list}");
    }
    if let Some(tier) = &result.tier {
        let _ = writeln!(out, "  tier: {}", tier.as_deref().unwrap_or("none yet"));
    }
    match result.status {
        Status::Ineligible => out.push_str("  not in any of the challenge's groups\n"),
        Status::NotStarted => out.push_str("  the window has not started yet\n"),
        _ => node(&mut out, &result.tree, goal, 1, "", &paint),
    }
    out.push('\n');
    out
}

fn node(out: &mut String, n: &NodeResult, goal: &Goal, depth: usize, note: &str, paint: &Paint) {
    let indent = "  ".repeat(depth);
    let mark = if n.met {
        paint.green("✓")
    } else if n.failed {
        paint.red("✗")
    } else {
        paint.yellow("…")
    };
    let label = match goal {
        Goal::All { .. } => "all of".to_owned(),
        Goal::Any { .. } => "any of".to_owned(),
        Goal::AtLeast { count, .. } => format!("at least {} of", count_text(count)),
        Goal::Every { period, .. } => format!("every {}", period.singular()),
        Goal::On { count, period, .. } => format!("on {} {}", count_text(count), period.plural()),
        Goal::Streak { count, period, .. } => {
            let (longest, current) = match &n.detail {
                Detail::Periods {
                    runs: Some(runs), ..
                } => *runs,
                _ => (0, 0),
            };
            format!(
                "streak {} {} (longest {longest}, current {current})",
                count_text(count),
                period.plural(),
            )
        }
        Goal::OneWorkout { .. } => "in one workout".to_owned(),
        Goal::Metric(m) => {
            let unit = match &m.target {
                Target::Quantity(q) => q.unit.as_deref(),
                Target::Param(_) => None,
            };
            let value = match &n.detail {
                Detail::Metric { value, .. } => value.as_ref(),
                _ => None,
            };
            format!(
                "{}: {}",
                rules_dsl::printer::metric_text(m),
                amount(value, unit)
            )
        }
    };
    let _ = writeln!(
        out,
        "{indent}{mark} {} {:>3.0}%  {label}{note}",
        bar(n.progress),
        n.progress * 100.0
    );
    match (goal, &n.detail) {
        (
            Goal::All { goals, .. } | Goal::Any { goals, .. } | Goal::AtLeast { goals, .. },
            Detail::Goals { goals: results, .. },
        ) => {
            for (g, r) in goals.iter().zip(results) {
                node(out, r, g, depth + 1, "", paint);
            }
        }
        (
            Goal::Every { period, goal, .. }
            | Goal::On { period, goal, .. }
            | Goal::Streak { period, goal, .. },
            Detail::Periods {
                periods,
                goal: result,
                ..
            },
        ) => {
            calendar(out, periods, *period, &indent, paint);
            let note = format!("  (latest {})", period.singular());
            node(out, result, goal, depth + 1, &note, paint);
        }
        (Goal::OneWorkout { goal, .. }, Detail::OneWorkout(result)) => {
            node(out, result, goal, depth + 1, "  (best workout)", paint);
        }
        // The plan gives each goal node a result of its own kind; nothing else to draw.
        _ => {}
    }
}

fn calendar(
    out: &mut String,
    periods: &[PeriodResult],
    period: Period,
    indent: &str,
    paint: &Paint,
) {
    // Days get a row per calendar month; weeks and months a row per 31.
    let rows: Vec<&[PeriodResult]> = if period == Period::Day {
        periods
            .chunk_by(|a, b| (a.start.year(), a.start.month()) == (b.start.year(), b.start.month()))
            .collect()
    } else {
        periods.chunks(CALENDAR_ROW).collect()
    };
    for row in rows {
        let marks: String = row
            .iter()
            .map(|p| {
                if p.met {
                    paint.green("■")
                } else if p.progress > 0.0 {
                    paint.yellow("◧")
                } else {
                    "□".to_owned()
                }
            })
            .collect();
        let first = row.first().map(|p| p.start.to_string()).unwrap_or_default();
        let _ = writeln!(out, "{indent}    {first} {marks}");
    }
    let met = periods.iter().filter(|p| p.met).count();
    let _ = writeln!(
        out,
        "{indent}    {met} of {} {} met",
        periods.len(),
        period.plural()
    );
}

fn count_text(count: &Count) -> String {
    match count {
        Count::Literal(n) => n.node.to_string(),
        Count::Param(p) => format!("${}", p.param),
    }
}

/// A canonical result quantity, in the unit the author wrote the target in.
fn amount(q: Option<&Amount>, unit: Option<&str>) -> String {
    // A value that is not a finite number is written as `null` in the JSON form.
    let Some(value) = q.map(|q| q.value).filter(|v| v.is_finite()) else {
        return "no value yet".to_owned();
    };
    let shown = units::from_canonical(value, unit);
    let text = if shown.fract() == 0.0 {
        format!("{shown:.0}")
    } else {
        format!("{shown:.2}")
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
    };
    match unit {
        Some(u) => format!("{text} {u}"),
        None => text,
    }
}

fn bar(progress: f64) -> String {
    let filled = ((progress.clamp(0.0, 1.0) * BAR_WIDTH as f64).round() as usize).min(BAR_WIDTH);
    format!("[{}{}]", "█".repeat(filled), "░".repeat(BAR_WIDTH - filled))
}

/// Colour only when asked for: one anstyle style per mark, reset after each.
struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(&self, style: Style, text: &str) -> String {
        if self.color {
            format!("{style}{text}{style:#}")
        } else {
            text.to_owned()
        }
    }
    fn green(&self, t: &str) -> String {
        self.wrap(AnsiColor::Green.on_default(), t)
    }
    fn red(&self, t: &str) -> String {
        self.wrap(AnsiColor::Red.on_default(), t)
    }
    fn yellow(&self, t: &str) -> String {
        self.wrap(AnsiColor::Yellow.on_default(), t)
    }
    fn bold(&self, t: &str) -> String {
        self.wrap(Style::new().bold(), t)
    }
    fn status(&self, status: Status) -> String {
        let name = status.name();
        match status {
            Status::Completed => self.green(name),
            Status::Failed => self.red(name),
            Status::InProgress => self.yellow(name),
            Status::Ineligible | Status::NotStarted => name.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use rules_core::tree::GoalOp;

    use super::*;

    fn date(text: &str) -> chrono::NaiveDate {
        text.parse().unwrap_or_default()
    }

    #[test]
    fn renders_marks_values_and_calendars() {
        let parsed = rules_dsl::parse(
            "challenge \"c\" { title \"C\" window 2026-08-01 to 2026-08-02 goal every day { sum(duration of cardio) >= 20 min } }",
        );
        let goal = &parsed.decls[0].goal;
        let metric = NodeResult {
            kind: "metric",
            met: false,
            failed: false,
            progress: 0.0,
            detail: Detail::Metric {
                value: Some(Amount {
                    value: 600.0,
                    unit: Some("s"),
                }),
                op: GoalOp::Ge,
                target: Amount {
                    value: 1200.0,
                    unit: Some("s"),
                },
            },
        };
        let result = EvalResult {
            challenge: "c".into(),
            user: "u-01".into(),
            as_of: "2026-08-02T20:00:00+08:00".into(),
            status: Status::InProgress,
            progress: 0.5,
            tier: None,
            members: None,
            tree: NodeResult {
                kind: "every",
                met: false,
                failed: false,
                progress: 0.5,
                detail: Detail::Periods {
                    period: Period::Day,
                    count: None,
                    periods: vec![
                        PeriodResult {
                            start: date("2026-08-01"),
                            met: true,
                            progress: 1.0,
                        },
                        PeriodResult {
                            start: date("2026-08-02"),
                            met: false,
                            progress: 0.0,
                        },
                    ],
                    runs: None,
                    goal: Box::new(metric),
                },
            },
        };
        let text = render(&result, goal, false);
        assert!(text.starts_with("c · u-01 · in_progress · 50%"), "{text}");
        assert!(text.contains("2026-08-01 ■□\n"), "{text}");
        assert!(text.contains("1 of 2 days met"), "{text}");
        assert!(
            text.contains("sum(duration of cardio) >= 20 min: 10 min  (latest day)"),
            "{text}"
        );
    }

    #[test]
    fn colours_are_plain_ansi_codes() {
        let paint = Paint { color: true };
        assert_eq!(paint.green("✓"), "\x1b[32m✓\x1b[0m");
        assert_eq!(paint.red("✗"), "\x1b[31m✗\x1b[0m");
        assert_eq!(paint.yellow("…"), "\x1b[33m…\x1b[0m");
        assert_eq!(paint.bold("c"), "\x1b[1mc\x1b[0m");
        assert_eq!(Paint { color: false }.bold("c"), "c");
    }

    #[test]
    fn bars_are_clamped_and_amounts_use_the_target_unit() {
        assert_eq!(bar(2.0), format!("[{}]", "█".repeat(BAR_WIDTH)));
        assert_eq!(bar(-1.0), format!("[{}]", "░".repeat(BAR_WIDTH)));
        let metres = Amount {
            value: 2500.0,
            unit: Some("m"),
        };
        assert_eq!(amount(Some(&metres), Some("km")), "2.5 km");
        assert_eq!(amount(None, Some("km")), "no value yet");
    }
}
