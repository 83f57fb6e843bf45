//! Team challenges and tiers (language.md §10) through the binary: `eval` as JSON, text and
//! HTML, `--user` for teams, `leaderboard --teams`, and E0014 from `check`.

use std::path::PathBuf;

use crate::util::{self, fixture};

const DUEL: &str = "// Company A against Company B: most kilometres in August.
challenge \"km-duel\" {
    title \"Twenty kilometres: A against B\"
    window 2026-08-01 to 2026-08-31
    teams \"coy-b\", \"coy-a\"
    reward \"Half way\" points 10 tier \"silver\"
    reward \"Finisher\" points 50
    tier \"bronze\" at 25 %
    tier \"silver\" at 50 %
    tier \"gold\" at 100 %

    goal sum(distance) >= 20 km
}

challenge \"solo\" {
    title \"Five kilometres each\"
    window 2026-08-01 to 2026-08-31
    tier \"half\" at 50 %

    goal sum(distance) >= 5 km
}
";

const USERS: &str = r#"{"id": "u-01", "groups": ["coy-a"]}
{"id": "u-02", "groups": ["coy-a", "coy-b"]}
{"id": "u-03", "groups": ["coy-b", "nsfit"]}
{"id": "u-04", "groups": ["nsfit"]}
"#;

const WORKOUTS: &str = r#"{"id": "k-01", "user": "u-01", "exercise": "treadmill", "start": "2026-08-02T07:00:00Z", "end": "2026-08-02T07:30:00Z", "distance_m": 5000}
{"id": "k-02", "user": "u-02", "exercise": "bike", "start": "2026-08-03T07:00:00Z", "end": "2026-08-03T07:30:00Z", "distance_m": 8000}
{"id": "k-03", "user": "u-02", "exercise": "rower", "start": "2026-08-04T07:00:00Z", "end": "2026-08-04T07:15:00Z", "distance_m": 2000}
{"id": "k-04", "user": "u-03", "exercise": "treadmill", "start": "2026-08-05T07:00:00Z", "end": "2026-08-05T07:40:00Z", "distance_m": 6000}
{"id": "k-05", "user": "u-04", "exercise": "treadmill", "start": "2026-08-05T07:00:00Z", "end": "2026-08-05T08:00:00Z", "distance_m": 9000}
"#;

/// The duel's files in a scratch folder: (challenge, users, workouts).
fn files(name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = util::scratch(name);
    let paths = (
        dir.join("duel.chal"),
        dir.join("users.jsonl"),
        dir.join("workouts.jsonl"),
    );
    std::fs::write(&paths.0, DUEL).unwrap();
    std::fs::write(&paths.1, USERS).unwrap();
    std::fs::write(&paths.2, WORKOUTS).unwrap();
    paths
}

fn eval(name: &str, extra: &[&str]) -> util::Run {
    let (chal, users, workouts) = files(name);
    let mut args: Vec<String> = vec![
        "eval".into(),
        chal.display().to_string(),
        "--workouts".into(),
        workouts.display().to_string(),
        "--users".into(),
        users.display().to_string(),
        "--as-of".into(),
        "2026-08-10T00:00:00Z".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    util::challenge(args)
}

#[test]
fn team_lines_come_per_team_with_members_and_tiers() {
    let run = eval("teams-json", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    let heads: Vec<String> = lines
        .iter()
        .map(|r| {
            let who = r.get("team").or_else(|| r.get("user")).unwrap();
            format!(
                "{} {} {} {} {}",
                r["challenge"].as_str().unwrap(),
                who.as_str().unwrap(),
                r["status"].as_str().unwrap(),
                r["progress"],
                r["tier"]
            )
        })
        .collect();
    assert_eq!(
        heads,
        [
            "km-duel coy-a in_progress 0.75 \"silver\"",
            "km-duel coy-b in_progress 0.8 \"silver\"",
            "solo u-01 completed 1.0 \"half\"",
            "solo u-02 completed 1.0 \"half\"",
            "solo u-03 completed 1.0 \"half\"",
            "solo u-04 completed 1.0 \"half\"",
        ]
    );
    assert_eq!(
        lines[0]["members"],
        serde_json::json!([{"user": "u-01", "workouts": 1}, {"user": "u-02", "workouts": 2}])
    );
    assert!(lines[0].get("user").is_none());
    assert!(lines[2].get("members").is_none() && lines[2].get("team").is_none());
    assert!(run.stdout.starts_with(
        r#"{"challenge":"km-duel","team":"coy-a","as_of":"2026-08-10T00:00:00Z","status":"in_progress","progress":0.75,"tier":"silver","members":[{"user":"u-01","workouts":1},{"user":"u-02","workouts":2}],"tree":"#
    ));
}

#[test]
fn user_keeps_the_teams_that_have_that_member() {
    let both =
        util::json_lines(&eval("teams-user-02", &["--user", "u-02", "--id", "km-duel"]).stdout);
    let teams: Vec<&str> = both.iter().map(|r| r["team"].as_str().unwrap()).collect();
    assert_eq!(teams, ["coy-a", "coy-b"]);
    // The team is still evaluated on every member's workouts.
    assert_eq!(both[0]["progress"], 0.75);
    let run = eval("teams-user-03", &["--user", "u-03"]);
    let lines = util::json_lines(&run.stdout);
    let who: Vec<String> = lines
        .iter()
        .map(|r| r.get("team").or_else(|| r.get("user")).unwrap().to_string())
        .collect();
    assert_eq!(who, ["\"coy-b\"", "\"u-03\""]);
    let none = eval("teams-user-04", &["--user", "u-04", "--id", "km-duel"]);
    assert_eq!(none.code, 0);
    assert_eq!(none.stdout, "");
}

#[test]
fn the_text_format_has_team_headers_members_and_tiers() {
    let run = eval("teams-text", &["--format", "text", "--id", "km-duel"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let expected =
        "km-duel · team coy-a (2 members) · in_progress · 75% (as of 2026-08-10T00:00:00Z)
  members: u-01 (1 workout), u-02 (2 workouts)
  tier: silver
";
    assert!(run.stdout.starts_with(expected), "{}", run.stdout);
    assert!(run
        .stdout
        .contains("km-duel · team coy-b (2 members) · in_progress · 80%"));
}

#[test]
fn the_html_report_draws_teams_side_by_side() {
    let run = eval("teams-html", &["--format", "html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout.matches("<div class=\"team ").count(), 2);
    assert!(run
        .stdout
        .contains("coy-a<span class=\"tier\">silver</span>"));
    // The per-user challenge keeps its table, with tier badges.
    assert!(run.stdout.contains("<th>user</th>"));
    assert!(run.stdout.contains("<span class=\"tier\">half</span>"));
}

fn board(extra: &[&str]) -> util::Run {
    let mut args: Vec<String> = vec![
        "leaderboard".into(),
        "--workouts".into(),
        fixture("workouts.jsonl").display().to_string(),
        "--users".into(),
        fixture("users.jsonl").display().to_string(),
        "--month".into(),
        "2026-08".into(),
        "--measure".into(),
        "distance".into(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    util::challenge(args)
}

#[test]
fn team_boards_rank_the_listed_groups() {
    let run = board(&["--teams", "coy-b,coy-a,nobody"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    assert_eq!(lines.len(), 2, "{}", run.stdout);
    assert_eq!(lines[0]["board"], "2026-08/distance/teams");
    assert!(lines[0]["total"].as_f64() >= lines[1]["total"].as_f64());
    let per_user = util::json_lines(&board(&["--group", "coy-a"]).stdout);
    let coy_a = lines.iter().find(|l| l["team"] == "coy-a").unwrap();
    let sum: f64 = per_user.iter().map(|e| e["total"].as_f64().unwrap()).sum();
    assert!((coy_a["total"].as_f64().unwrap() - sum).abs() < 1e-6);
    assert_eq!(coy_a["members"].as_u64().unwrap(), per_user.len() as u64);
    let html = board(&["--teams", "coy-a,coy-b", "--format", "html"]);
    assert!(html.stdout.contains("<th>team</th>"), "{}", html.stdout);
}

#[test]
fn bad_team_flags_are_usage_errors() {
    for flags in [
        &["--teams", "coy-a,,coy-b"][..],
        &["--teams", ""],
        &["--teams", "coy-a,"],
        &["--teams", "coy-a", "--group", "nsfit"],
        &["--group", "nsfit", "--teams", "coy-a"],
    ] {
        let run = board(flags);
        assert_eq!(run.code, 2, "{flags:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn check_reports_e0014_on_json_trees_with_paths() {
    let dir = util::scratch("teams-check");
    let tree = serde_json::json!({
        "version": 1, "kind": "challenge", "id": "t", "title": "T",
        "window": {"start": "2026-08-01", "end": "2026-08-31"},
        "groups": ["nsfit"], "teams": ["coy-a"],
        "tiers": [{"name": "over", "at": {"value": 120, "unit": "%"}}],
        "goal": {"kind": "metric", "aggregate": "count", "measure": "workouts", "op": ">=",
                 "target": {"value": 1, "unit": null}}
    });
    let path = dir.join("tree.json");
    std::fs::write(&path, tree.to_string()).unwrap();
    let run = util::challenge([
        "check".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let ds: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<(String, String)> = ds
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["code"].to_string(), d["help"].to_string()))
        .collect();
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|(c, h)| c == "\"E0014\"" && h != "null"));
    let text = util::challenge(["check".as_ref(), path.as_os_str()]);
    assert!(
        text.stderr.contains("tiers[0].at") || text.stdout.contains("tiers[0].at"),
        "{}{}",
        text.stdout,
        text.stderr
    );
}
