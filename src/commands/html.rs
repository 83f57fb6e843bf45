//! Self-contained HTML reports (`eval --format html`, `leaderboard --format html`): what people
//! would rather look at than read. One file, inline CSS, no script, no network.
//!
//! The eval report has a row per (challenge, user): status, a progress bar and, for period
//! goals, a calendar of the periods met (■ met, ◧ partly, □ not). The leaderboard report is a
//! bar chart of the totals.

use std::fmt::Write;

use rules_core::leaderboard::Entry;
use serde_json::Value;

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

fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>\n<h1>{}</h1>\n{body}</body></html>\n",
        esc(title),
        esc(title)
    )
}

/// The first period node of a result tree (depth first), for the calendar.
fn periods(node: &Value) -> Option<&Vec<Value>> {
    if let Some(p) = node["periods"].as_array() {
        return Some(p);
    }
    node["goals"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(node["goal"].is_object().then_some(&node["goal"]))
        .find_map(periods)
}

/// The eval report: results are the JSON form of `challenge eval`'s lines, in output order.
pub fn eval_report(results: &[Value]) -> String {
    let mut body = String::new();
    let mut current = "";
    for r in results {
        let challenge = r["challenge"].as_str().unwrap_or("?");
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
                esc(r["as_of"].as_str().unwrap_or(""))
            );
        }
        let status = r["status"].as_str().unwrap_or("?");
        let progress = r["progress"].as_f64().unwrap_or(0.0).clamp(0.0, 1.0);
        let calendar: String = match (status, periods(&r["tree"])) {
            ("ineligible" | "not_started", _) | (_, None) => String::new(),
            (_, Some(list)) => list
                .iter()
                .map(|p| {
                    let class = if p["met"].as_bool() == Some(true) {
                        " class=\"met\""
                    } else if p["progress"].as_f64().unwrap_or(0.0) > 0.0 {
                        " class=\"part\""
                    } else {
                        ""
                    };
                    format!(
                        "<b{class} title=\"{} {:.0}%\"></b>",
                        esc(p["start"].as_str().unwrap_or("")),
                        p["progress"].as_f64().unwrap_or(0.0) * 100.0
                    )
                })
                .collect(),
        };
        let _ = writeln!(
            body,
            "<tr class=\"{}\"><td>{}</td><td>{}</td><td><span class=\"bar\"><i style=\"width:{:.1}%\"></i></span> {:.0}%</td>\
             <td><div class=\"cal\">{calendar}</div></td></tr>",
            esc(status),
            esc(r["user"].as_str().unwrap_or("?")),
            esc(&status.replace('_', " ")),
            progress * 100.0,
            progress * 100.0,
        );
    }
    if !current.is_empty() {
        body.push_str("</table>\n");
    }
    page("Challenge progress", &body)
}

/// The leaderboard report: a bar per entry, scaled to the leader's total.
pub fn leaderboard_report(board: &str, entries: &[Entry]) -> String {
    let best = entries.iter().map(|e| e.total).fold(0.0, f64::max);
    let mut body =
        String::from("<table><tr><th>rank</th><th>user</th><th>total</th><th></th></tr>\n");
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

    #[test]
    fn eval_report_has_a_row_bar_and_calendar_per_user() {
        let r = serde_json::json!({
            "challenge": "c<1>", "user": "u-01", "as_of": "2026-08-02T20:00:00Z",
            "status": "in_progress", "progress": 0.5,
            "tree": {"kind": "all", "goals": [{"kind": "every", "periods": [
                {"start": "2026-08-01", "met": true, "progress": 1.0},
                {"start": "2026-08-02", "met": false, "progress": 0.25}]}]}
        });
        let html = eval_report(&[r]);
        assert!(html.contains("<h2>c&lt;1&gt;</h2>"), "escaped: {html}");
        assert!(html.contains("width:50.0%"));
        assert!(html.contains("<b class=\"met\" title=\"2026-08-01 100%\"></b><b class=\"part\""));
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
