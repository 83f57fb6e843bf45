//! `challenge eval` over the fixtures: results, order, determinism, filters and the explain tree.

use crate::util::{self, fixture};

const AS_OF: &str = "2026-08-20T12:00:00+08:00";

fn eval(extra: &[&str]) -> util::Run {
    let mut args = vec![
        "eval".to_owned(),
        fixture("challenges/national-day.chal")
            .display()
            .to_string(),
        "--workouts".to_owned(),
        fixture("workouts.jsonl").display().to_string(),
        "--users".to_owned(),
        fixture("users.jsonl").display().to_string(),
        "--as-of".to_owned(),
        AS_OF.to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    util::challenge(args)
}

/// (challenge, user, status, progress) of every line.
fn summary(stdout: &str) -> String {
    util::json_lines(stdout)
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {:.6}",
                r["challenge"].as_str().unwrap_or("?"),
                r["user"].as_str().or(r["team"].as_str()).unwrap_or("?"),
                r["status"].as_str().unwrap_or("?"),
                r["progress"].as_f64().unwrap_or(-1.0)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn every_fixture_challenge_for_every_user() {
    for file in util::challenge_files() {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a name")
            .to_owned();
        for as_of in ["2026-08-20T12:00:00+08:00", "2026-11-02T00:00:00Z"] {
            let run = util::challenge([
                "eval".as_ref(),
                file.as_os_str(),
                "--workouts".as_ref(),
                fixture("workouts.jsonl").as_os_str(),
                "--users".as_ref(),
                fixture("users.jsonl").as_os_str(),
                "--as-of".as_ref(),
                as_of.as_ref(),
            ]);
            assert_eq!(run.code, 0, "{name}: {}", run.stderr);
            let lines = util::json_lines(&run.stdout);
            // A team challenge has one line per team, any other one line per user.
            let teams = lines.iter().filter(|l| l.get("team").is_some()).count();
            if teams > 0 {
                assert_eq!(lines.len(), teams, "{name}: one line per team");
            } else {
                assert_eq!(lines.len(), 60, "{name}: one line per user");
            }
            for line in &lines {
                let p = line["progress"].as_f64().expect("progress");
                assert!((0.0..=1.0).contains(&p), "{name}: progress {p}");
                assert_eq!(line["as_of"], as_of);
                if line["status"] != "ineligible" {
                    assert_eq!(
                        line["status"] == "completed",
                        line["tree"]["met"] == true,
                        "{name}: {line}"
                    );
                }
            }
            insta::assert_snapshot!(
                format!("eval_{name}_{}", &as_of[..10]),
                summary(&run.stdout)
            );
        }
    }
}

#[test]
fn results_are_sorted_and_complete() {
    let run = eval(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    let users: Vec<&str> = lines.iter().filter_map(|l| l["user"].as_str()).collect();
    let mut sorted = users.clone();
    sorted.sort_unstable();
    assert_eq!(users, sorted);
    let statuses: std::collections::BTreeSet<&str> =
        lines.iter().filter_map(|l| l["status"].as_str()).collect();
    assert!(
        statuses.contains("ineligible") && statuses.contains("failed"),
        "{statuses:?}"
    );
    assert!(
        run.stderr.contains("read"),
        "record counts are reported: {}",
        run.stderr
    );
}

#[test]
fn one_user_in_full() {
    let run = eval(&["--user", "u-12"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    assert_eq!(lines.len(), 1);
    insta::assert_json_snapshot!("eval_national_day_u12", lines[0]);
}

#[test]
fn the_explain_tree() {
    let run = eval(&["--user", "u-12", "--format", "text"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("eval_text_national_day_u12", run.stdout);
}

#[test]
fn workout_order_does_not_matter() {
    let text = std::fs::read_to_string(fixture("workouts.jsonl")).expect("workouts");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let n = lines.len();
    lines.rotate_left(n / 3);
    let dir = util::scratch("shuffled");
    let shuffled = dir.join("workouts.jsonl");
    std::fs::write(&shuffled, lines.join("\n")).expect("write");
    for file in util::challenge_files() {
        let run = |workouts: &std::path::Path| {
            util::challenge([
                "eval".as_ref(),
                file.as_os_str(),
                "--workouts".as_ref(),
                workouts.as_os_str(),
                "--as-of".as_ref(),
                AS_OF.as_ref(),
            ])
            .stdout
        };
        assert_eq!(
            run(&fixture("workouts.jsonl")),
            run(&shuffled),
            "{}",
            file.display()
        );
    }
}

#[test]
fn id_filter_and_templates() {
    let run = util::challenge([
        "eval".as_ref(),
        fixture("multi.chal").as_os_str(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
        "--user".as_ref(),
        "u-01".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let ids: Vec<String> = util::json_lines(&run.stdout)
        .iter()
        .map(|l| l["challenge"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(
        ids,
        ["leg-day", "morning-run"],
        "templates are skipped, challenges sorted by id"
    );
    let run = util::challenge([
        "eval".as_ref(),
        fixture("multi.chal").as_os_str(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
        "--id".as_ref(),
        "morning-run".as_ref(),
    ]);
    assert_eq!(util::json_lines(&run.stdout).len(), 60);
}

#[test]
fn bad_as_of_and_broken_challenges() {
    assert_eq!(eval(&["--as-of", "yesterday"]).code, 2);
    let run = util::challenge([
        "eval".as_ref(),
        fixture("invalid/typos.chal").as_os_str(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
}

#[test]
fn json_trees_evaluate_like_their_dsl() {
    let compiled = util::challenge([
        "compile",
        &fixture("challenges/national-day.chal")
            .display()
            .to_string(),
    ]);
    let dir = util::scratch("eval-json");
    let tree = dir.join("tree.json");
    std::fs::write(&tree, compiled.stdout).expect("write");
    let from_json = util::challenge([
        "eval".as_ref(),
        tree.as_os_str(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--users".as_ref(),
        fixture("users.jsonl").as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
    ]);
    assert_eq!(from_json.stdout, eval(&[]).stdout);
}

#[test]
fn the_html_report_has_a_row_per_user() {
    let run = eval(&["--format", "html"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.starts_with("<!doctype html>"));
    assert_eq!(run.stdout.matches("<tr class=").count(), 60);
    assert!(
        run.stdout.contains("<b class=\"met\""),
        "calendars show met days"
    );
}
