//! The committed fixtures are what the seeded generator makes, and they are realistic enough.

use crate::util::{self, fixture};

#[test]
fn the_generator_reproduces_the_committed_fixtures() {
    let out = util::scratch("generator");
    let run = util::run(
        std::path::Path::new(env!("CARGO_BIN_EXE_gen-fixtures")),
        [
            "--users",
            "60",
            "--start",
            "2026-08-01",
            "--days",
            "92",
            "--seed",
            "2026",
            "--out",
        ]
        .iter()
        .map(std::ffi::OsStr::new)
        .chain([out.as_os_str()]),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in ["users.jsonl", "workouts.jsonl"] {
        let made = std::fs::read_to_string(out.join(file)).expect("generated");
        let committed = std::fs::read_to_string(fixture(file)).expect("committed");
        assert!(
            made == committed,
            "fixtures/{file} differs from the generator's output; regenerate it"
        );
    }
}

#[test]
fn the_fixtures_are_a_realistic_month_for_fifty_users_or_more() {
    let workouts =
        util::json_lines(&std::fs::read_to_string(fixture("workouts.jsonl")).expect("workouts"));
    let users = util::json_lines(&std::fs::read_to_string(fixture("users.jsonl")).expect("users"));
    assert!(users.len() >= 50);
    let august = workouts
        .iter()
        .filter(|w| {
            w["start"]
                .as_str()
                .is_some_and(|s| s.starts_with("2026-08"))
        })
        .count();
    assert!(august >= 50 * 8, "{august} workouts in August");
    let kinds = |field: &str| workouts.iter().filter(|w| !w[field].is_null()).count();
    assert!(kinds("sets") > 100 && kinds("distance_m") > 100 && kinds("incline_pct") > 50);
}

#[test]
fn every_fixture_challenge_checks_and_is_formatted() {
    let files = util::challenge_files();
    assert!(files.len() >= 10);
    let mut args = vec!["check".to_owned()];
    args.extend(files.iter().map(|f| f.display().to_string()));
    let run = util::challenge(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    args[0] = "fmt".to_owned();
    args.insert(1, "--check".to_owned());
    let run = util::challenge(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
}
