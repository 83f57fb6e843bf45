//! `challenge check`: diagnostics as text and JSON, for DSL files and JSON trees.

use crate::util;

/// A path relative to the repository root (where the binary runs), so that snapshots do not
/// depend on where the repository is checked out.
fn invalid(name: &str) -> String {
    format!("fixtures/invalid/{name}")
}

#[test]
fn text_diagnostics_point_at_the_line() {
    for name in [
        "typos.chal",
        "structure.chal",
        "syntax.chal",
        "params-in-challenge.chal",
    ] {
        let run = util::challenge(["check", &invalid(name)]);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        insta::assert_snapshot!(format!("check_text_{name}"), run.stderr.replace('\\', "/"));
    }
}

#[test]
fn json_diagnostics_have_every_key() {
    let run = util::challenge(["check", &invalid("typos.chal"), "--format", "json"]);
    assert_eq!(run.code, 1);
    let mut diagnostics: Vec<serde_json::Value> =
        serde_json::from_str(&run.stdout).expect("a JSON array");
    assert!(
        diagnostics.len() >= 4,
        "all errors are reported: {diagnostics:?}"
    );
    for d in &diagnostics {
        for key in [
            "severity",
            "code",
            "message",
            "file",
            "line",
            "column",
            "end_line",
            "end_column",
            "help",
        ] {
            assert!(d.get(key).is_some(), "{key} missing in {d}");
        }
        assert!(d["line"].as_u64().is_some_and(|l| l > 0));
    }
    for d in &mut diagnostics {
        assert!(d["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("typos.chal")));
        d["file"] = "typos.chal".into();
    }
    insta::assert_json_snapshot!("check_json_typos", diagnostics);
}

#[test]
fn one_report_covers_several_files() {
    let run = util::challenge([
        "check".to_owned(),
        invalid("typos.chal"),
        invalid("structure.chal"),
        "fixtures/challenges/streak-7.chal".to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
    ]);
    assert_eq!(run.code, 1);
    let diagnostics: Vec<serde_json::Value> =
        serde_json::from_str(&run.stdout).expect("one JSON array");
    let files: std::collections::BTreeSet<&str> = diagnostics
        .iter()
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
}

#[test]
fn warnings_alone_exit_zero() {
    let run = util::challenge(["check", &invalid("warnings.chal"), "--format", "json"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let diagnostics: Vec<serde_json::Value> =
        serde_json::from_str(&run.stdout).expect("a JSON array");
    let codes: Vec<&str> = diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert_eq!(codes, ["W0001", "W0002"]);
}

#[test]
fn json_trees_get_json_paths() {
    let run = util::challenge(["check", &invalid("bad-tree.json"), "--format", "json"]);
    assert_eq!(run.code, 1);
    let diagnostics: Vec<serde_json::Value> =
        serde_json::from_str(&run.stdout).expect("a JSON array");
    let found: Vec<(String, String)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap_or("").to_owned(),
                d["path"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    insta::assert_debug_snapshot!("check_json_tree_paths", found);
    let text = util::challenge(["check", &invalid("bad-tree.json")]);
    assert!(
        text.stderr.contains("goal.goals[0].target"),
        "{}",
        text.stderr
    );
}

#[test]
fn a_deep_file_is_e0013_not_a_crash() {
    let dir = util::scratch("deep");
    let deep = dir.join("deep.chal");
    let mut text = String::from(
        "challenge \"deep\" {\n title \"Deep\"\n window 2026-08-01 to 2026-08-31\n goal ",
    );
    text.push_str(&"all { ".repeat(100_000));
    std::fs::write(&deep, text).expect("write");
    let run = util::challenge([
        "check".as_ref(),
        deep.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    assert_eq!(run.code, 1);
    assert!(run.stdout.contains("E0013"), "{}", run.stdout);
}

#[test]
fn missing_files_and_bad_flags_are_usage_errors() {
    assert_eq!(util::challenge(["check", "no/such/file.chal"]).code, 2);
    assert_eq!(util::challenge(["check", "--no-such-flag"]).code, 2);
    assert_eq!(util::challenge(["check", "--help"]).code, 0);
}
