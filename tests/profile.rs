//! `challenge profile` over the fixtures: the figures of data.md, order, determinism, the span
//! and bad input.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation is the test failing"
)]

use crate::util::{self, fixture};

const AS_OF: &str = "2026-09-01T00:00:00+08:00";

fn profile(extra: &[&str]) -> util::Run {
    let mut args = vec![
        "profile".to_owned(),
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

fn round(v: &serde_json::Value) -> String {
    match v.as_f64() {
        Some(x) => format!("{x:.3}"),
        None => "-".to_owned(),
    }
}

/// One line per (user, exercise) with every figure rounded to 3 decimals.
fn summary(stdout: &str) -> String {
    let mut out = Vec::new();
    for p in util::json_lines(stdout) {
        out.push(format!(
            "{} weekly_workouts={} vo2={} body={}",
            p["user"].as_str().unwrap_or("?"),
            round(&p["weekly_workouts"]),
            round(&p["vo2_est"]),
            round(&p["body_weight_kg"]),
        ));
        for (ex, f) in p["exercises"].as_object().expect("exercises") {
            out.push(format!(
                "    {ex}: 1rm={} max_reps={} rpm={} speed={} best_dist={} wk_dist={} wk_dur={}",
                round(&f["one_rep_max_kg"]),
                round(&f["max_reps"]),
                round(&f["max_reps_per_min"]),
                round(&f["best_speed_kmh"]),
                round(&f["best_distance_m"]),
                round(&f["weekly_distance_m"]),
                round(&f["weekly_duration_s"]),
            ));
        }
    }
    out.join("\n")
}

#[test]
fn profiles_of_the_fixture_users() {
    let run = profile(&[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    assert_eq!(lines.len(), 60);
    let users: Vec<&str> = lines.iter().filter_map(|l| l["user"].as_str()).collect();
    let mut sorted = users.clone();
    sorted.sort_unstable();
    assert_eq!(users, sorted, "sorted by user id");
    for l in &lines {
        assert_eq!(l["as_of"], AS_OF, "as_of is echoed as given");
        assert_eq!(l["lookback_days"], 90);
    }
    insta::assert_snapshot!(
        "profile_u01",
        serde_json::to_string_pretty(&lines[0]).expect("JSON")
    );
    insta::assert_snapshot!("profile_fixtures_summary", summary(&run.stdout));
}

#[test]
fn lookback_days_narrows_the_span() {
    let run = profile(&["--lookback-days", "7"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("profile_fixtures_7_days", summary(&run.stdout));
}

#[test]
fn profiles_do_not_depend_on_the_order_of_the_workouts() {
    let text = std::fs::read_to_string(fixture("workouts.jsonl")).expect("fixtures");
    let mut lines: Vec<&str> = text.lines().collect();
    lines.reverse();
    let dir = util::scratch("profile-order");
    let reversed = dir.join("workouts.jsonl");
    std::fs::write(&reversed, lines.join("\n")).expect("write");
    let a = profile(&[]);
    let b = util::challenge([
        "profile".as_ref(),
        "--workouts".as_ref(),
        reversed.as_os_str(),
        "--users".as_ref(),
        fixture("users.jsonl").as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
    ]);
    assert_eq!(b.code, 0, "{}", b.stderr);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_user_with_no_workouts_gets_nulls_and_zero() {
    let dir = util::scratch("profile-empty");
    let users = dir.join("users.jsonl");
    std::fs::write(
        &users,
        r#"{"id": "u-zz", "groups": ["nsfit"], "body_weight_kg": 70}"#,
    )
    .expect("write");
    let run = util::challenge([
        "profile".as_ref(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--users".as_ref(),
        users.as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let last = util::json_lines(&run.stdout).pop().expect("a profile");
    assert_eq!(
        last,
        serde_json::json!({"user": "u-zz", "as_of": AS_OF, "lookback_days": 90, "body_weight_kg": 70,
            "weekly_workouts": 0, "vo2_est": null, "exercises": {}})
    );
}

#[test]
fn bad_flags_and_records() {
    let run = profile(&["--lookback-days", "0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = util::challenge(["profile", "--workouts", "fixtures/workouts.jsonl"]);
    assert_eq!(run.code, 2, "--as-of is required: {}", run.stderr);
    let run = util::challenge([
        "profile",
        "--workouts",
        "fixtures/workouts.jsonl",
        "--as-of",
        "2026-09-01",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("RFC 3339"), "{}", run.stderr);
    let run = util::challenge(["profile", "--workouts", "no/such.jsonl", "--as-of", AS_OF]);
    assert_eq!(run.code, 2, "{}", run.stderr);

    let dir = util::scratch("profile-bad");
    let workouts = dir.join("workouts.jsonl");
    std::fs::write(
        &workouts,
        "{\"id\": \"w-1\", \"user\": \"u-01\", \"exercise\": \"push_up\", \"start\": \"2026-08-03T07:00:00Z\", \"end\": \"2026-08-03T07:05:00Z\", \"sets\": [{\"reps\": 40}]}\nnot json\n",
    )
    .expect("write");
    let args = |strict: bool| {
        let mut a = vec![
            "profile".to_owned(),
            "--workouts".to_owned(),
            workouts.display().to_string(),
            "--as-of".to_owned(),
            AS_OF.to_owned(),
        ];
        if strict {
            a.push("--strict".to_owned());
        }
        a
    };
    let run = util::challenge(args(false));
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("workouts.jsonl:2: rejected workout record"),
        "{}",
        run.stderr
    );
    let strict = util::challenge(args(true));
    assert_eq!(strict.code, 1, "{}", strict.stderr);
    assert_eq!(
        strict.stdout, run.stdout,
        "the accepted records are still profiled"
    );
    assert_eq!(util::json_lines(&run.stdout).len(), 1);
}
