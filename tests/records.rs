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
