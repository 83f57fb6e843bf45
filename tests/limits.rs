//! Resource limits that hold under attack (issue 7): every limit has a test and a clear error.
//!
//! - a file (DSL or JSON) is at most 1 MiB: E0013;
//! - goals and conditions nest at most 64 levels (E0013), and a 100,000-deep file is E0013,
//!   not a stack overflow (see also `check::a_deep_file_is_e0013_not_a_crash`);
//! - numbers too large for their place are E0001;
//! - a window is at most 100,000 days (about 273 years): `every day` over a century evaluates
//!   with bounded memory, a millennium is refused.

use crate::util;

fn write(name: &str, text: &str) -> std::path::PathBuf {
    let dir = util::scratch(&format!("limits-{name}"));
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    path
}

fn check_json(path: &std::path::Path) -> (i32, Vec<serde_json::Value>) {
    let run = util::challenge([
        "check".as_ref(),
        path.as_os_str(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    (
        run.code,
        serde_json::from_str(&run.stdout).expect("a JSON array"),
    )
}

fn codes(diagnostics: &[serde_json::Value]) -> Vec<&str> {
    diagnostics
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect()
}

#[test]
fn files_over_one_mebibyte_are_refused() {
    let title = "x".repeat(1 << 20);
    let dsl = write(
        "huge.chal",
        &format!("challenge \"h\" {{ title \"{title}\" window 2026-08-01 to 2026-08-31 goal count(workouts) >= 1 }}"),
    );
    let (code, diagnostics) = check_json(&dsl);
    assert_eq!((code, codes(&diagnostics)), (1, vec!["E0013"]));
    assert!(
        diagnostics[0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("1 MiB"),
        "{diagnostics:?}"
    );
    let json = write(
        "huge.json",
        &format!("{{\"version\": 1, \"title\": \"{title}\"}}"),
    );
    let (code, diagnostics) = check_json(&json);
    assert_eq!((code, codes(&diagnostics)), (1, vec!["E0013"]));
}

#[test]
fn sixty_four_levels_pass_and_sixty_five_do_not() {
    let nested = |levels: usize| {
        format!(
            "challenge \"n\" {{ title \"N\" window 2026-08-01 to 2026-08-31 goal {}count(workouts) >= 1{} }}",
            "all { ".repeat(levels - 1),
            " }".repeat(levels - 1)
        )
    };
    let (code, diagnostics) = check_json(&write("ok.chal", &nested(64)));
    assert_eq!((code, codes(&diagnostics)), (0, vec![]));
    let (code, diagnostics) = check_json(&write("deep.chal", &nested(65)));
    assert_eq!((code, codes(&diagnostics)), (1, vec!["E0013"]));
    let conditions = |levels: usize| {
        format!(
            "challenge \"c\" {{ title \"C\" window 2026-08-01 to 2026-08-31 goal count(workouts where {}hour < 7{}) >= 1 }}",
            "not (".repeat(levels - 1),
            ")".repeat(levels - 1)
        )
    };
    assert_eq!(check_json(&write("c64.chal", &conditions(64))).0, 0);
    let (code, diagnostics) = check_json(&write("c65.chal", &conditions(65)));
    assert_eq!((code, codes(&diagnostics)), (1, vec!["E0013"]));
}

#[test]
fn a_deep_json_tree_is_e0013() {
    let text = "{\"kind\": \"not\", \"term\": ".repeat(100_000);
    let (code, diagnostics) = check_json(&write("deep.json", &text));
    assert_eq!((code, codes(&diagnostics)), (1, vec!["E0013"]));
}

#[test]
fn numbers_too_large_for_their_place_are_e0001() {
    let text = format!(
        "challenge \"big\" {{ title \"B\" window 2026-08-01 to 2026-08-31 goal all {{ sum(reps) >= {} on 99999999999999999999999 days {{ count(workouts) >= 1 }} }} }}",
        "9".repeat(400)
    );
    let (code, diagnostics) = check_json(&write("big.chal", &text));
    assert_eq!((code, codes(&diagnostics)), (1, vec!["E0001", "E0001"]));
    assert!(diagnostics
        .iter()
        .all(|d| d["message"].as_str().unwrap_or("").contains("too large")));
}

#[test]
fn a_century_of_days_evaluates_and_a_millennium_is_refused() {
    let century = write(
        "century.chal",
        "challenge \"century\" { title \"C\" window 2000-01-01 to 2099-12-31 goal every day { count(workouts) >= 1 } }",
    );
    let millennium = write(
        "millennium.chal",
        "challenge \"millennium\" { title \"M\" window 2000-01-01 to 2999-12-31 goal every day { count(workouts) >= 1 } }",
    );
    let eval = |file: &std::path::Path| {
        util::challenge([
            "eval".as_ref(),
            file.as_os_str(),
            "--workouts".as_ref(),
            util::fixture("workouts.jsonl").as_os_str(),
            "--as-of".as_ref(),
            "2026-08-20T00:00:00Z".as_ref(),
            "--user".as_ref(),
            "u-01".as_ref(),
        ])
    };
    let run = eval(&century);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let result = &util::json_lines(&run.stdout)[0];
    assert_eq!(
        result["tree"]["periods"].as_array().map(Vec::len),
        Some(36_525)
    );
    let run = eval(&millennium);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("E0013"), "{}", run.stderr);
    assert!(
        run.stderr.contains("the limit is 100000 days"),
        "{}",
        run.stderr
    );
}
