//! `challenge compile` and `decompile`: the JSON tree, and the round trip through DSL.

use crate::util::{self, fixture};

/// The JSON tree of language.md §9, for the example of §1.
const SPEC_TREE: &str = r#"{
  "version": 1, "kind": "challenge", "id": "national-day-2026",
  "title": "National Day Challenge 2026", "description": null,
  "window": {"start": "2026-08-01", "end": "2026-08-31"},
  "timezone": "Asia/Singapore", "groups": ["nsfit", "staff"], "gyms": ["gym-01", "gym-02"],
  "rewards": [{"name": "National Day finisher", "points": 100}], "params": [],
  "goal": {"kind": "every", "period": "day", "goal": {"kind": "any", "goals": [
    {"kind": "metric", "aggregate": "sum", "measure": "reps", "of": ["leg_press"],
     "where": {"kind": "compare", "field": "weight", "op": ">=", "value": {"value": 40, "unit": "kg"}},
     "op": ">=", "target": {"value": 30, "unit": null}},
    {"kind": "metric", "aggregate": "sum", "measure": "duration", "of": ["cardio"],
     "where": null, "op": ">=", "target": {"value": 20, "unit": "min"}}]}}
}"#;

#[test]
fn the_spec_example_compiles_to_the_spec_tree() {
    let run = util::challenge([
        "compile",
        &fixture("challenges/national-day.chal")
            .display()
            .to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let tree: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON");
    let expected: serde_json::Value = serde_json::from_str(SPEC_TREE).expect("spec JSON");
    assert_eq!(tree, expected);
}

#[test]
fn every_fixture_round_trips_through_json_and_dsl() {
    let dir = util::scratch("roundtrip");
    for file in util::challenge_files() {
        let name = file
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a name")
            .to_owned();
        let first = util::challenge(["compile".as_ref(), file.as_os_str()]);
        assert_eq!(first.code, 0, "{name}: {}", first.stderr);
        insta::assert_snapshot!(format!("compile_{name}"), first.stdout);
        let json = dir.join(format!("{name}.json"));
        std::fs::write(&json, &first.stdout).expect("write");
        let dsl = util::challenge(["decompile".as_ref(), json.as_os_str()]);
        assert_eq!(dsl.code, 0, "{name}: {}", dsl.stderr);
        let chal = dir.join(format!("{name}.chal"));
        std::fs::write(&chal, &dsl.stdout).expect("write");
        let again = util::challenge(["compile".as_ref(), chal.as_os_str()]);
        assert_eq!(
            again.stdout, first.stdout,
            "{name}: compile(decompile(tree)) != tree"
        );
    }
}

#[test]
fn several_declarations_need_id_or_all() {
    let file = fixture("multi.chal").display().to_string();
    let run = util::challenge(["compile", &file]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--id"), "{}", run.stderr);
    let all = util::challenge(["compile", &file, "--all"]);
    assert_eq!(all.code, 0, "{}", all.stderr);
    let trees: Vec<serde_json::Value> = serde_json::from_str(&all.stdout).expect("an array");
    assert_eq!(trees.len(), 3);
    let one = util::challenge(["compile", &file, "--id", "push-up-ladder"]);
    let tree: serde_json::Value = serde_json::from_str(&one.stdout).expect("a tree");
    assert_eq!(tree["kind"], "template");
    assert_eq!(util::challenge(["compile", &file, "--id", "nope"]).code, 2);
    let dir = util::scratch("multi");
    let json = dir.join("all.json");
    std::fs::write(&json, &all.stdout).expect("write");
    let dsl = util::challenge(["decompile".as_ref(), json.as_os_str()]);
    assert_eq!(dsl.code, 0, "{}", dsl.stderr);
    assert_eq!(
        dsl.stdout.matches("challenge \"").count() + dsl.stdout.matches("template \"").count(),
        3
    );
}

#[test]
fn a_file_with_errors_does_not_compile() {
    let run = util::challenge([
        "compile",
        &fixture("invalid/typos.chal").display().to_string(),
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("E0005"));
}
