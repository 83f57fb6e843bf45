//! The explain tree of `eval --format text`: each goal with ✓ (met), ✗ (failed) or … (open),
//! its value against its target, a progress bar, and period calendars as a row of marks.
//!
//! It renders the JSON form of a result, so it shows exactly what `--format json` says.

use std::fmt::Write;

use serde_json::Value;

const BAR_WIDTH: usize = 20;

/// Renders one result.
pub fn render(result: &Value, color: bool) -> String {
    let paint = Paint { color };
    let mut out = String::new();
    let status = result["status"].as_str().unwrap_or("?");
    let progress = result["progress"].as_f64().unwrap_or(0.0);
    let _ = writeln!(
        out,
        "{} · {} · {} {} {:.0}% (as of {})",
        paint.bold(result["challenge"].as_str().unwrap_or("?")),
        result["user"].as_str().unwrap_or("?"),
        paint.status(status),
        bar(progress),
        progress * 100.0,
        result["as_of"].as_str().unwrap_or("?"),
    );
    if !matches!(status, "ineligible" | "not_started") {
        node(&mut out, &result["tree"], 1, &paint);
    }
    out.push('\n');
    out
}

fn node(out: &mut String, n: &Value, depth: usize, paint: &Paint) {
    let indent = "  ".repeat(depth);
    let mark = if n["met"].as_bool() == Some(true) {
        paint.green("✓")
    } else if n["failed"].as_bool() == Some(true) {
        paint.red("✗")
    } else {
        paint.yellow("…")
    };
    let progress = n["progress"].as_f64().unwrap_or(0.0);
    let kind = n["kind"].as_str().unwrap_or("?");
    let mut label = match kind {
        "metric" => format!(
            "{} {} {}",
            quantity(&n["value"]),
            if n["op"].as_str() == Some("<=") { "≤" } else { "vs" },
            quantity(&n["target"])
        ),
        "at_least" | "on" | "streak" => format!("{kind} {}", n["count"]),
        "every" => format!("every {}", n["period"].as_str().unwrap_or("")),
        other => other.to_owned(),
    };
    if let Some(longest) = n["longest"].as_u64() {
        let _ = write!(label, " (longest {longest}, current {})", n["current"].as_u64().unwrap_or(0));
    }
    let _ = writeln!(out, "{indent}{mark} {label:<40} {} {:>3.0}%", bar(progress), progress * 100.0);
    if let Some(periods) = n["periods"].as_array() {
        let marks: String = periods
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
        let met = periods.iter().filter(|p| p["met"].as_bool() == Some(true)).count();
        let _ = writeln!(out, "{indent}  {marks}  {met}/{} periods met", periods.len());
    }
    if let Some(goals) = n["goals"].as_array() {
        for g in goals {
            node(out, g, depth + 1, paint);
        }
    }
    if n["goal"].is_object() {
        node(out, &n["goal"], depth + 1, paint);
    }
}

fn quantity(q: &Value) -> String {
    match (&q["value"], q["unit"].as_str()) {
        (Value::Null, _) => "—".to_owned(),
        (v, unit) => {
            let value = v.as_f64().unwrap_or(0.0);
            let value = if value.fract() == 0.0 {
                format!("{value:.0}")
            } else {
                format!("{value:.2}")
            };
            match unit {
                Some(u) => format!("{value} {u}"),
                None => value,
            }
        }
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
        let result = serde_json::json!({
            "challenge": "c", "user": "u-01", "as_of": "2026-08-03T20:00:00+08:00",
            "status": "in_progress", "progress": 0.5,
            "tree": {"kind": "every", "period": "day", "met": false, "failed": false, "progress": 0.5,
                "periods": [{"start": "2026-08-01", "met": true, "progress": 1.0},
                            {"start": "2026-08-02", "met": false, "progress": 0.0}],
                "goal": {"kind": "metric", "met": false, "failed": false, "progress": 0.0,
                         "value": {"value": 600, "unit": "s"}, "target": {"value": 1200, "unit": "s"}}}
        });
        let text = render(&result, false);
        assert!(text.starts_with("c · u-01 · in_progress [██████████░░░░░░░░░░] 50%"), "{text}");
        assert!(text.contains("■□  1/2 periods met"), "{text}");
        assert!(text.contains("… 600 s vs 1200 s"), "{text}");
    }

    #[test]
    fn bars_are_clamped() {
        assert_eq!(bar(2.0), format!("[{}]", "█".repeat(BAR_WIDTH)));
        assert_eq!(bar(-1.0), format!("[{}]", "░".repeat(BAR_WIDTH)));
    }
}
