//! Bad records: reported with line and reason, counted, and `--strict`.

use crate::util::{self, fixture};

const WORKOUTS: &str = r#"{"id": "w-1", "user": "u-01", "exercise": "push_up", "start": "2026-08-03T07:00:00Z", "end": "2026-08-03T07:05:00Z", "sets": [{"reps": 40}]}
{"id": "w-2", "user": "u-02", "exercise": "push_up", "start": "2026-08-03T07:00:00", "end": "2026-08-03T07:05:00Z"}

not json
{"id": "w-3", "user": "u-02", "exercise": "treadmill", "start": "2026-08-03T07:00:00Z", "end": "2026-08-03T06:05:00Z"}
{"id": "w-1", "user": "u-03", "exercise": "push_up", "start": "2026-08-04T07:00:00Z", "end": "2026-08-04T07:05:00Z", "sets": [{"reps": 50}]}
"#;

#[test]
fn rejected_records_are_reported_and_counted() {
    let dir = util::scratch("records");
    let workouts = dir.join("workouts.jsonl");
    std::fs::write(&workouts, WORKOUTS).expect("write");
    let args = |strict: bool| {
        let mut a = vec![
            "eval".to_owned(),
            fixture("challenges/streak-7.chal").display().to_string(),
            "--workouts".to_owned(),
            workouts.display().to_string(),
            "--as-of".to_owned(),
            "2026-08-20T00:00:00Z".to_owned(),
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
    assert!(run.stderr.contains("workouts.jsonl:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("workouts.jsonl:5:"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("read 5 workout records, accepted 2, rejected 3"),
        "{}",
        run.stderr
    );
    // w-1 was re-assigned to u-03 by the later record (upsert): u-01 has no workout left.
    let users: Vec<String> = util::json_lines(&run.stdout)
        .iter()
        .map(|l| l["user"].as_str().unwrap_or("").to_owned())
        .collect();
    assert_eq!(users, ["u-03"]);
    let strict = util::challenge(args(true));
    assert_eq!(strict.code, 1);
    assert_eq!(
        strict.stdout, run.stdout,
        "--strict still prints the accepted records' results"
    );
}

/// The hostile workout of issue 18: finite weights whose volume overflows a double.
const HOSTILE: &str = r#"{"id":"w1","user":"u1","exercise":"leg_press","start":"2026-08-01T07:00:00Z","end":"2026-08-01T07:10:00Z","sets":[{"reps":3,"weight_kg":1e308},{"reps":5,"weight_kg":1.7e308}]}"#;

const VOLUME_AND_WEIGHT: &str = r#"challenge "heavy" {
    title "A tonne, and a heavy average"
    window 2026-08-01 to 2026-08-31
    goal all {
        sum(volume of leg_press) >= 1000 kg
        avg(weight of leg_press) >= 10 kg
    }
}
"#;

/// A workout line of `user` on 3 August with `extra` fields.
fn workout(id: &str, user: &str, extra: &str) -> String {
    format!(
        r#"{{"id": "{id}", "user": "{user}", "exercise": "leg_press", "start": "2026-08-03T07:00:00Z", "end": "2026-08-03T07:10:00Z"{extra}}}"#
    )
}

fn sets(n: usize, set: &str) -> String {
    format!(r#", "sets": [{}]"#, vec![set; n].join(", "))
}

/// Each bound at, just under and just over its limit, one line each: the text and whether it
/// is rejected (with words of the reason).
fn neighbours() -> Vec<(String, Option<&'static str>)> {
    let x = |n: usize| "x".repeat(n);
    vec![
        (HOSTILE.to_owned(), Some("`sets[0]`: `weight_kg` must be a number from 0 to 1e9; found 1e308")),
        (workout("n-under", "u-a", r#", "sets": [{"reps": 999999999, "weight_kg": 999999999.99}]"#), None),
        (workout("n-at", "u-a", r#", "sets": [{"reps": 1000000000, "weight_kg": 1e9}], "distance_m": 1000000000"#), None),
        (workout("n-over-w", "u-a", r#", "sets": [{"reps": 1, "weight_kg": 1000000001}]"#), Some("`weight_kg` must be a number from 0 to 1e9")),
        (workout("n-over-r", "u-a", r#", "sets": [{"reps": 1000000001, "weight_kg": 1}]"#), Some("`reps` must be a whole number from 0 to 1e9")),
        (workout("n-over-c", "u-a", r#", "calories_kcal": 1000000000.5"#), Some("`calories_kcal`")),
        (workout(&x(255), "u-a", ""), None),
        (workout(&x(256), "u-a", ""), None),
        (workout(&x(257), "u-a", ""), Some("`id` is longer than 256 bytes (257 bytes)")),
        (workout("s-user", &x(257), ""), Some("`user` is longer than 256 bytes")),
        (workout("s-gym", "u-a", &format!(r#", "gym": "{}""#, x(257))), Some("`gym` is longer than 256 bytes")),
        (workout("sets-under", "u-b", &sets(9_999, r#"{"reps": 1, "weight_kg": 1}"#)), None),
        (workout("sets-at", "u-b", &sets(10_000, r#"{"reps": 1, "weight_kg": 1}"#)), None),
        (workout("sets-over", "u-b", &sets(10_001, r#"{"reps": 1, "weight_kg": 1}"#)), Some("`sets` has 10001 sets, more than 10,000")),
        (r#"{"id": "t-1969", "user": "u-c", "exercise": "bike", "start": "1969-12-31T23:59:59Z", "end": "1970-01-01T00:10:00Z"}"#.to_owned(), Some("`start` (1969-12-31 23:59:59 +00:00) is outside the years 1970 to 9999 (UTC)")),
        (r#"{"id": "t-1970", "user": "u-c", "exercise": "bike", "start": "1970-01-01T00:00:00Z", "end": "1970-01-01T00:10:00Z"}"#.to_owned(), None),
        (r#"{"id": "t-1970-local", "user": "u-c", "exercise": "bike", "start": "1970-01-01T00:30:00+01:00", "end": "1970-01-01T00:40:00+01:00"}"#.to_owned(), Some("`start`")),
        (r#"{"id": "t-9999", "user": "u-c", "exercise": "bike", "start": "9999-12-31T23:00:00Z", "end": "9999-12-31T23:59:59.999Z"}"#.to_owned(), None),
        (r#"{"id": "t-10000", "user": "u-c", "exercise": "bike", "start": "9999-12-31T23:00:00Z", "end": "9999-12-31T23:59:59-00:01"}"#.to_owned(), Some("`end` (9999-12-31 23:59:59 -00:01) is outside the years 1970 to 9999")),
    ]
}

/// Every rejection of `path` in `stderr` is on a line of `expected`, with its words, and the
/// counts add up.
fn assert_rejections(stderr: &str, path: &str, what: &str, lines: &[(String, Option<&str>)]) {
    let rejected: Vec<usize> = (1..=lines.len())
        .filter(|&i| lines[i - 1].1.is_some())
        .collect();
    for &i in &rejected {
        let prefix = format!("{path}:{i}: rejected {what} record: ");
        let line = stderr
            .lines()
            .find(|l| l.contains(&prefix))
            .unwrap_or_else(|| panic!("no rejection of line {i}: {stderr}"));
        let words = lines[i - 1].1.unwrap();
        assert!(line.contains(words), "line {i}: `{words}` not in `{line}`");
    }
    let reported = stderr
        .lines()
        .filter(|l| l.contains(&format!("rejected {what} record")))
        .count();
    assert_eq!(reported, rejected.len(), "{stderr}");
    let counts = format!(
        "read {} {what} records, accepted {}, rejected {}",
        lines.len(),
        lines.len() - rejected.len(),
        rejected.len()
    );
    assert!(stderr.contains(&counts), "`{counts}` not in: {stderr}");
}

fn write_lines(path: &std::path::Path, lines: &[(String, Option<&str>)]) {
    let text: String = lines.iter().map(|(l, _)| format!("{l}\n")).collect();
    std::fs::write(path, text).expect("write");
}

#[test]
fn every_bound_at_under_and_over_in_eval_profile_and_leaderboard() {
    let dir = util::scratch("bounds");
    let workouts = dir.join("workouts.jsonl");
    let lines = neighbours();
    write_lines(&workouts, &lines);
    let chal = dir.join("heavy.chal");
    std::fs::write(&chal, VOLUME_AND_WEIGHT).expect("write");
    let w = workouts.display().to_string();
    let runs = [
        vec![
            "eval".to_owned(),
            chal.display().to_string(),
            "--workouts".to_owned(),
            w.clone(),
            "--as-of".to_owned(),
            "2026-08-20T00:00:00Z".to_owned(),
        ],
        vec![
            "profile".to_owned(),
            "--workouts".to_owned(),
            w.clone(),
            "--as-of".to_owned(),
            "2026-08-20T00:00:00Z".to_owned(),
        ],
        vec![
            "leaderboard".to_owned(),
            "--workouts".to_owned(),
            w.clone(),
            "--month".to_owned(),
            "2026-08".to_owned(),
            "--measure".to_owned(),
            "volume".to_owned(),
        ],
    ];
    for args in runs {
        let run = util::challenge(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_rejections(&run.stderr, &w, "workout", &lines);
        // No user of a rejected record only (u1 of the hostile file) is considered.
        assert!(!run.stdout.contains("\"u1\""), "{args:?}: {}", run.stdout);
        // No number written is null where a number is promised.
        for promised in [
            "{\"value\":null",
            "\"total\":null",
            "\"weekly_workouts\":null",
            "\"weekly_distance_m\":null",
            "\"weekly_duration_s\":null",
        ] {
            assert!(!run.stdout.contains(promised), "{promised}: {}", run.stdout);
        }
    }
    // The accepted neighbours at the bounds count: u-a's volume is 1e9 × 1e9 + (1e9 − 1) ×
    // 999,999,999.99, and 10,000 + 9,999 sets of 1 kg for u-b; a sum that does not overflow.
    let board = volume_board(&w, &[]);
    let entries = util::json_lines(&board.stdout);
    let users: Vec<&str> = entries.iter().filter_map(|e| e["user"].as_str()).collect();
    assert_eq!(users, ["u-a", "u-b"]);
    assert_eq!(entries[1]["total"], 19_999);
    assert!(entries[0]["total"]
        .as_f64()
        .is_some_and(|t| t.is_finite() && t > 1e18));
    let strict = volume_board(&w, &["--strict"]);
    assert_eq!(strict.code, 1, "{}", strict.stderr);
}

#[test]
fn the_hostile_file_of_issue_18_meets_no_goal_and_ranks_no_one() {
    let dir = util::scratch("bounds-hostile");
    let workouts = dir.join("workouts.jsonl");
    std::fs::write(&workouts, format!("{HOSTILE}\n")).expect("write");
    let chal = dir.join("heavy.chal");
    std::fs::write(&chal, VOLUME_AND_WEIGHT).expect("write");
    let w = workouts.display().to_string();
    let eval = |format: &str| {
        util::challenge([
            "eval",
            &chal.display().to_string(),
            "--workouts",
            &w,
            "--user",
            "u1",
            "--as-of",
            "2026-08-20T00:00:00Z",
            "--format",
            format,
        ])
    };
    let json = eval("json");
    assert_eq!(json.code, 0, "{}", json.stderr);
    assert!(
        json.stderr
            .contains(&format!("{w}:1: rejected workout record: `sets[0]`")),
        "{}",
        json.stderr
    );
    assert!(
        json.stderr
            .contains("read 1 workout records, accepted 0, rejected 1"),
        "{}",
        json.stderr
    );
    let result = &util::json_lines(&json.stdout)[0];
    assert_eq!(result["status"], "in_progress", "{result}");
    for goal in result["tree"]["goals"].as_array().unwrap() {
        assert_eq!(goal["met"], false, "{goal}");
        assert!(
            goal["value"].is_null() || goal["value"]["value"].is_number(),
            "{goal}"
        );
    }
    let text = eval("text");
    assert!(!text.stdout.contains('✓'), "{}", text.stdout);
    let board = volume_board(&w, &[]);
    assert_eq!(board.code, 0, "{}", board.stderr);
    assert_eq!(board.stdout.trim(), "", "nobody is ranked");
}

#[test]
fn user_records_are_bounded_in_every_command() {
    let dir = util::scratch("bounds-users");
    let users = dir.join("users.jsonl");
    let x = |n: usize| "x".repeat(n);
    let lines: Vec<(String, Option<&str>)> = vec![
        (
            format!(
                r#"{{"id": "{}", "name": "{}", "groups": ["{}"], "body_weight_kg": 1e9, "height_cm": 999999999}}"#,
                x(256),
                x(256),
                x(256)
            ),
            None,
        ),
        (
            format!(r#"{{"id": "{}"}}"#, x(257)),
            Some("`id` is longer than 256 bytes"),
        ),
        (
            format!(r#"{{"id": "u-n", "name": "{}"}}"#, x(257)),
            Some("`name` is longer than 256 bytes"),
        ),
        (
            format!(r#"{{"id": "u-g", "groups": ["staff", "{}"]}}"#, x(100_000)),
            Some("`groups[1]` is longer than 256 bytes (100000 bytes)"),
        ),
        (
            r#"{"id": "u-w", "body_weight_kg": 1000000001}"#.to_owned(),
            Some("`body_weight_kg` must be a number from 0 to 1e9"),
        ),
        (
            r#"{"id": "u-b", "birth_date": "1950-01-01"}"#.to_owned(),
            None,
        ),
    ];
    write_lines(&users, &lines);
    let u = users.display().to_string();
    let runs = [
        vec![
            "eval",
            "fixtures/challenges/streak-7.chal",
            "--workouts",
            "fixtures/workouts.jsonl",
            "--users",
            &u,
            "--as-of",
            "2026-08-20T00:00:00Z",
        ],
        vec![
            "profile",
            "--workouts",
            "fixtures/workouts.jsonl",
            "--users",
            &u,
            "--as-of",
            "2026-08-20T00:00:00Z",
        ],
        vec![
            "leaderboard",
            "--workouts",
            "fixtures/workouts.jsonl",
            "--users",
            &u,
            "--month",
            "2026-08",
            "--measure",
            "reps",
            "--group",
            "staff",
        ],
    ];
    for args in runs {
        let run = util::challenge(&args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        assert_rejections(&run.stderr, &u, "user", &lines);
    }
}

/// `leaderboard --month 2026-08 --measure volume` over the workouts file `w`, and `extra`.
fn volume_board(w: &str, extra: &[&str]) -> util::Run {
    let mut args = vec![
        "leaderboard",
        "--workouts",
        w,
        "--month",
        "2026-08",
        "--measure",
        "volume",
    ];
    args.extend_from_slice(extra);
    util::challenge(args)
}
