//! `challenge leaderboard` over the fixtures: boards per measure, selectors, groups,
//! timezones, `--top`, the ranking law, order independence and bad flags.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation is the test failing"
)]

use crate::util::{self, fixture};

fn board(extra: &[&str]) -> util::Run {
    let mut args = vec![
        "leaderboard".to_owned(),
        "--workouts".to_owned(),
        fixture("workouts.jsonl").display().to_string(),
        "--users".to_owned(),
        fixture("users.jsonl").display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    util::challenge(args)
}

/// Standard competition ranking, ties by user id, no zero totals, one board name and unit.
fn assert_ranked(lines: &[serde_json::Value]) {
    for (i, e) in lines.iter().enumerate() {
        let total = e["total"].as_f64().expect("a total");
        assert!(total > 0.0, "{e}");
        let better = lines
            .iter()
            .filter(|o| o["total"].as_f64() > Some(total))
            .count() as u64;
        assert_eq!(e["rank"].as_u64(), Some(better + 1), "{e}");
        if let Some(next) = lines.get(i + 1) {
            let next_total = next["total"].as_f64().expect("a total");
            assert!(
                next_total < total
                    || (next_total == total && next["user"].as_str() > e["user"].as_str()),
                "{e} then {next}"
            );
        }
        assert_eq!(e["board"], lines[0]["board"]);
        assert_eq!(e["unit"], lines[0]["unit"]);
    }
}

fn table(stdout: &str) -> String {
    let lines = util::json_lines(stdout);
    assert_ranked(&lines);
    let mut out = vec![format!(
        "{} ({})",
        lines
            .first()
            .and_then(|l| l["board"].as_str())
            .unwrap_or("(empty)"),
        lines
            .first()
            .map_or("-".to_owned(), |l| l["unit"].to_string())
    )];
    out.extend(lines.iter().map(|l| {
        format!(
            "{:>3} {} {}",
            l["rank"],
            l["user"].as_str().unwrap_or("?"),
            l["total"]
        )
    }));
    out.join("\n")
}

#[test]
fn boards_of_the_fixtures() {
    let boards: &[(&str, &[&str])] = &[
        (
            "distance_cardio_sgt",
            &[
                "--month",
                "2026-08",
                "--measure",
                "distance",
                "--of",
                "cardio",
                "--timezone",
                "Asia/Singapore",
            ],
        ),
        (
            "duration_treadmill",
            &[
                "--month",
                "2026-09",
                "--measure",
                "duration",
                "--of",
                "treadmill",
                "--top",
                "10",
            ],
        ),
        (
            "volume_strength_top5",
            &[
                "--month",
                "2026-08",
                "--measure",
                "volume",
                "--of",
                "strength",
                "--top",
                "5",
            ],
        ),
        (
            "reps_push_up_nsfit",
            &[
                "--month",
                "2026-08",
                "--measure",
                "reps",
                "--of",
                "push_up",
                "--group",
                "nsfit",
            ],
        ),
        (
            "workouts_all_coy_a",
            &[
                "--month",
                "2026-10",
                "--measure",
                "workouts",
                "--group",
                "coy-a",
            ],
        ),
        (
            "calories_bike_rower",
            &[
                "--month",
                "2026-08",
                "--measure",
                "calories",
                "--of",
                "(bike | rower)",
                "--top",
                "8",
            ],
        ),
    ];
    for (name, args) in boards {
        let run = board(args);
        assert_eq!(run.code, 0, "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("leaderboard_{name}"), table(&run.stdout));
    }
}

#[test]
fn top_keeps_ties_at_the_cut() {
    let all = board(&["--month", "2026-08", "--measure", "workouts"]);
    let lines = util::json_lines(&all.stdout);
    assert_ranked(&lines);
    for n in 1..=12u64 {
        let top = board(&[
            "--month",
            "2026-08",
            "--measure",
            "workouts",
            "--top",
            &n.to_string(),
        ]);
        let kept = util::json_lines(&top.stdout);
        let expected: Vec<&serde_json::Value> = lines
            .iter()
            .filter(|l| l["rank"].as_u64() <= Some(n))
            .collect();
        assert_eq!(kept.iter().collect::<Vec<_>>(), expected, "--top {n}");
    }
}

#[test]
fn boards_do_not_depend_on_the_order_of_the_workouts() {
    let text = std::fs::read_to_string(fixture("workouts.jsonl")).expect("fixtures");
    let mut lines: Vec<&str> = text.lines().collect();
    // A deterministic shuffle.
    let mut state: u64 = 2026;
    for i in (1..lines.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        lines.swap(i, (state >> 33) as usize % (i + 1));
    }
    let dir = util::scratch("leaderboard-order");
    let shuffled = dir.join("workouts.jsonl");
    std::fs::write(&shuffled, lines.join("\n")).expect("write");
    for measure in [
        "distance", "duration", "volume", "reps", "workouts", "calories",
    ] {
        let args = [
            "--month",
            "2026-09",
            "--measure",
            measure,
            "--timezone",
            "Asia/Singapore",
        ];
        let a = board(&args);
        let mut b_args = vec![
            "leaderboard".as_ref(),
            "--workouts".as_ref(),
            shuffled.as_os_str(),
            "--users".as_ref(),
        ];
        let users = fixture("users.jsonl");
        b_args.push(users.as_os_str());
        b_args.extend(args.iter().map(std::ffi::OsStr::new));
        let b = util::challenge(b_args);
        assert_eq!(b.code, 0, "{}", b.stderr);
        assert!(!a.stdout.is_empty());
        assert_eq!(a.stdout, b.stdout, "{measure}");
    }
}

#[test]
fn bad_flags_are_usage_errors() {
    for (args, message) in [
        (
            &["--month", "2026-13", "--measure", "distance"][..],
            "not a month",
        ),
        (&["--month", "2026-08", "--measure", "steps"][..], "steps"),
        (
            &[
                "--month",
                "2026-08",
                "--measure",
                "distance",
                "--of",
                "tredmill",
            ][..],
            "did you mean `treadmill`",
        ),
        (
            &[
                "--month",
                "2026-08",
                "--measure",
                "distance",
                "--timezone",
                "Mars/Olympus",
            ][..],
            "unknown timezone",
        ),
        (
            &["--month", "2026-08", "--measure", "distance", "--top", "0"][..],
            "--top",
        ),
        (&["--measure", "distance"][..], "--month"),
    ] {
        let run = board(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn the_html_report_has_a_bar_per_entry() {
    let run = crate::util::challenge([
        "leaderboard",
        "--workouts",
        "fixtures/workouts.jsonl",
        "--month",
        "2026-08",
        "--measure",
        "distance",
        "--of",
        "cardio",
        "--top",
        "5",
        "--format",
        "html",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run
        .stdout
        .contains("<h1>Leaderboard 2026-08/distance/cardio</h1>"));
    assert_eq!(run.stdout.matches("class=\"hbar\"").count(), 5);
}
