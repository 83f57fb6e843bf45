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

#[test]
fn the_profile_bench_templates_are_the_fixture_templates() {
    // rules-core's bench cannot parse DSL (no dependency on rules-dsl), so it reads the
    // templates as JSON trees; they must stay the compiled fixture templates.
    let committed: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(util::root().join("rules-core/benches/templates.json"))
            .expect("templates.json"),
    )
    .expect("a JSON array");
    let mut files: Vec<_> = std::fs::read_dir(fixture("templates"))
        .expect("fixtures/templates")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut compiled = Vec::new();
    for file in files {
        let run = util::challenge(["compile".as_ref(), file.as_os_str(), "--all".as_ref()]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let trees: Vec<serde_json::Value> = serde_json::from_str(&run.stdout).expect("an array");
        compiled.extend(trees);
    }
    let ids = |trees: &[serde_json::Value]| {
        let mut ids: Vec<String> = trees
            .iter()
            .map(|t| t["id"].as_str().unwrap_or("").to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&committed), ids(&compiled));
    for tree in &compiled {
        let same = committed
            .iter()
            .find(|c| c["id"] == tree["id"])
            .expect("the same id");
        assert_eq!(
            same, tree,
            "rules-core/benches/templates.json is stale for {}",
            tree["id"]
        );
    }
}
