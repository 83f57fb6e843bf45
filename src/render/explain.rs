//! The explain tree of `eval --format text`: each goal as its author wrote it, with ✓ (met),
//! ✗ (failed) or … (still open), a progress bar, its value against its target in the author's
//! units, and period calendars as rows of marks (■ met, ◧ partly, □ not met).
//!
//! It walks the goal tree beside the JSON form of the result, so it shows exactly what
//! `--format json` says, labelled with the challenge's own words. A team result's header reads
//! `<challenge> · team <name> (<n> members) · <status> · <progress>`, then a `members:` line;
//! a result of a challenge with tiers adds a `tier:` line (language.md §10).

use std::fmt::Write;

use rules_core::tree::{Count, Goal, Period, Target};
use rules_core::units;
use serde_json::Value;

const BAR_WIDTH: usize = 20;
const CALENDAR_ROW: usize = 31;

/// Renders one result of a challenge whose goal is `goal`.
pub fn render(result: &Value, goal: &Goal, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    let status = result["status"].as_str().unwrap_or("?");
    let progress = result["progress"].as_f64().unwrap_or(0.0);
    // A team result (language.md §10) names the team and its member count in the header; the
    // members and the tier follow on lines of their own.
    let members = result["members"].as_array();
    let subject = match (members, result["team"].as_str()) {
        (Some(members), Some(team)) => format!(
            "team {team} ({} member{})",
            members.len(),
            if members.len() == 1 { "" } else { "s" }
        ),
        _ => result["user"].as_str().unwrap_or("?").to_owned(),
    };
    let _ = writeln!(
        out,
        "{} · {} · {} · {:.0}% (as of {})",
        paint.bold(result["challenge"].as_str().unwrap_or("?")),
        subject,
        paint.status(status),
        progress * 100.0,
        result["as_of"].as_str().unwrap_or("?"),
    );
    if let Some(members) = members {
        let list: Vec<String> = members
            .iter()
            .map(|m| {
                let n = m["workouts"].as_u64().unwrap_or(0);
                format!(
                    "{} ({n} workout{})",
                    m["user"].as_str().unwrap_or("?"),
                    if n == 1 { "" } else { "s" }
                )
            })
            .collect();
        let list = if list.is_empty() {
            "none".to_owned()
        } else {
            list.join(", ")
        };
        let _ = writeln!(out, "  members: {list}");
    }
    if let Some(tier) = result.get("tier") {
        let _ = writeln!(out, "  tier: {}", tier.as_str().unwrap_or("none yet"));
    }
    match status {
        "ineligible" => out.push_str("  not in any of the challenge's groups\n"),
        "not_started" => out.push_str("  the window has not started yet\n"),
        _ => node(&mut out, &result["tree"], goal, 1, "", &paint),
    }
    out.push('\n');
    out
}

fn node(out: &mut String, n: &Value, goal: &Goal, depth: usize, note: &str, paint: &Paint) {
    let indent = "  ".repeat(depth);
    let mark = if n["met"].as_bool() == Some(true) {
        paint.green("✓")
    } else if n["failed"].as_bool() == Some(true) {
        paint.red("✗")
    } else {
        paint.yellow("…")
    };
    let progress = n["progress"].as_f64().unwrap_or(0.0);
    let label = match goal {
        Goal::All { .. } => "all of".to_owned(),
        Goal::Any { .. } => "any of".to_owned(),
        Goal::AtLeast { count, .. } => format!("at least {} of", count_text(count)),
        Goal::Every { period, .. } => format!("every {}", period.singular()),
        Goal::On { count, period, .. } => format!("on {} {}", count_text(count), period.plural()),
        Goal::Streak { count, period, .. } => format!(
            "streak {} {} (longest {}, current {})",
            count_text(count),
            period.plural(),
            n["longest"].as_u64().unwrap_or(0),
            n["current"].as_u64().unwrap_or(0)
        ),
        Goal::OneWorkout { .. } => "in one workout".to_owned(),
        Goal::Metric(m) => {
            let unit = match &m.target {
                Target::Quantity(q) => q.unit.as_deref(),
                Target::Param(_) => None,
            };
            format!(
                "{}: {}",
                rules_dsl::printer::metric_text(m),
                amount(&n["value"], unit)
            )
        }
    };
    let _ = writeln!(
        out,
        "{indent}{mark} {} {:>3.0}%  {label}{note}",
        bar(progress),
        progress * 100.0
    );
    match goal {
        Goal::All { goals, .. } | Goal::Any { goals, .. } | Goal::AtLeast { goals, .. } => {
            let results = n["goals"].as_array().map(Vec::as_slice).unwrap_or(&[]);
            for (g, r) in goals.iter().zip(results) {
                node(out, r, g, depth + 1, "", paint);
            }
        }
        Goal::Every { period, goal, .. }
        | Goal::On { period, goal, .. }
        | Goal::Streak { period, goal, .. } => {
            calendar(out, n, *period, &indent, paint);
            let note = format!("  (latest {})", period.singular());
            node(out, &n["goal"], goal, depth + 1, &note, paint);
        }
        Goal::OneWorkout { goal, .. } => {
            node(out, &n["goal"], goal, depth + 1, "  (best workout)", paint);
        }
        Goal::Metric(_) => {}
    }
}

fn calendar(out: &mut String, n: &Value, period: Period, indent: &str, paint: &Paint) {
    let periods = n["periods"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    // Days get a row per calendar month; weeks and months a row per 31.
    let rows: Vec<&[Value]> = if period == Period::Day {
        periods
            .chunk_by(|a, b| {
                a["start"].as_str().and_then(|s| s.get(..7))
                    == b["start"].as_str().and_then(|s| s.get(..7))
            })
            .collect()
    } else {
        periods.chunks(CALENDAR_ROW).collect()
    };
    for row in rows {
        let marks: String = row
            .iter()
            .map(|p| {
                if p["met"].as_bool() == Some(true) {
                    paint.green("■")
                } else if p["progress"].as_f64().unwrap_or(0.0) > 0.0 {
                    paint.yellow("◧")
                } else {
                    "□".to_owned()
                }
            })
            .collect();
        let first = row.first().and_then(|p| p["start"].as_str()).unwrap_or("");
        let _ = writeln!(out, "{indent}    {first} {marks}");
    }
    let met = periods
        .iter()
        .filter(|p| p["met"].as_bool() == Some(true))
        .count();
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
fn amount(q: &Value, unit: Option<&str>) -> String {
    let Some(value) = q["value"].as_f64() else {
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

struct Paint {
    color: bool,
}

impl Paint {
    fn wrap(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn green(&self, t: &str) -> String {
        self.wrap("32", t)
    }
    fn red(&self, t: &str) -> String {
        self.wrap("31", t)
    }
    fn yellow(&self, t: &str) -> String {
        self.wrap("33", t)
    }
    fn bold(&self, t: &str) -> String {
        self.wrap("1", t)
    }
    fn status(&self, status: &str) -> String {
        match status {
            "completed" => self.green(status),
            "failed" => self.red(status),
            "in_progress" => self.yellow(status),
            _ => status.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_marks_values_and_calendars() {
        let parsed = rules_dsl::parse(
            "challenge \"c\" { title \"C\" window 2026-08-01 to 2026-08-02 goal every day { sum(duration of cardio) >= 20 min } }",
        );
        let goal = &parsed.decls[0].goal;
        let result = serde_json::json!({
            "challenge": "c", "user": "u-01", "as_of": "2026-08-02T20:00:00+08:00",
            "status": "in_progress", "progress": 0.5,
            "tree": {"kind": "every", "met": false, "failed": false, "progress": 0.5,
                "periods": [{"start": "2026-08-01", "met": true, "progress": 1.0},
                            {"start": "2026-08-02", "met": false, "progress": 0.0}],
                "goal": {"kind": "metric", "met": false, "failed": false, "progress": 0.0,
                         "value": {"value": 600, "unit": "s"}, "target": {"value": 1200, "unit": "s"}}}
        });
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
    fn bars_are_clamped_and_amounts_use_the_target_unit() {
        assert_eq!(bar(2.0), format!("[{}]", "█".repeat(BAR_WIDTH)));
        assert_eq!(bar(-1.0), format!("[{}]", "░".repeat(BAR_WIDTH)));
        assert_eq!(
            amount(&serde_json::json!({"value": 2500}), Some("km")),
            "2.5 km"
        );
        assert_eq!(
            amount(&serde_json::json!({"value": null}), Some("km")),
            "no value yet"
        );
    }
}
