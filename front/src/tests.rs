//! Tests of the front door: what each export gives, malformed input, and that evaluation
//! results serialize exactly as the CLI writes them.

use super::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

const PUSH_UPS: &str = "challenge \"push-ups\" {\n    title \"Push-ups\"\n    window 2026-08-01 to 2026-08-31\n    timezone \"UTC\"\n\n    goal every day {\n        sum(reps of push_up) >= 20\n    }\n}\n";

fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{FIXTURES}/{path}")).unwrap()
}

#[test]
fn parse_gives_trees_and_no_diagnostics_for_a_valid_challenge() {
    let parsed = parse(PUSH_UPS);
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
    assert_eq!(parsed.trees.len(), 1);
    let json = serde_json::to_value(&parsed).unwrap();
    assert_eq!(json["trees"][0]["id"], "push-ups");
    assert_eq!(json["trees"][0]["goal"]["kind"], "every");
}

#[test]
fn diagnostics_carry_lines_columns_and_utf16_offsets() {
    // "é" and the emoji take 1 and 2 UTF-16 units but 2 and 4 bytes: offsets must count units.
    let text = "// é 💪\nchallenge \"x\" {\n    title \"x\"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps of leg_pres) >= 20\n}\n";
    let parsed = parse(text);
    let d = parsed
        .diagnostics
        .iter()
        .find(|d| d.code == "E0005")
        .unwrap();
    assert_eq!(d.severity, Severity::Error);
    assert_eq!(d.line, Some(5));
    assert_eq!(d.column, Some(22));
    assert_eq!(d.help.as_deref(), Some("did you mean `leg_press`?"));
    let utf16 = d.utf16.unwrap();
    let start = utf16.utf16_start.unwrap();
    let end = utf16.utf16_end.unwrap();
    let units: Vec<u16> = text.encode_utf16().collect();
    assert_eq!(String::from_utf16(&units[start..end]).unwrap(), "leg_pres");
}

#[test]
fn syntax_errors_are_diagnostics_at_their_line() {
    let parsed = parse(
        "challenge \"x\" {\n    title \"x\"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps of push_up) >= kg\n}\n",
    );
    assert!(parsed.trees.is_empty());
    let d = &parsed.diagnostics[0];
    assert_eq!(d.code, "E0001", "{d:?}");
    assert_eq!(d.line, Some(4), "{d:?}");
    assert!(parse("").diagnostics.iter().any(|d| d.code == "E0001"));
}

#[test]
fn check_reports_json_paths_for_trees_and_e0001_for_bad_json() {
    let mut tree = serde_json::to_value(&parse(PUSH_UPS).trees[0]).unwrap();
    tree["goal"]["goal"]["target"]["unit"] = "kg".into();
    let text = tree.to_string();
    let diagnostics = check(TreeInput::Json(&text));
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, "E0007");
    assert_eq!(diagnostics[0].path, "goal.goal.target");
    assert_eq!(diagnostics[0].line, None);
    assert_eq!(diagnostics[0].utf16.and_then(|u| u.utf16_start), None);

    for bad in ["{", "42", "null", "{\"version\": 1}", "[1, 2]", "\"text\""] {
        let diagnostics = check(TreeInput::Json(bad));
        assert!(
            diagnostics.iter().any(|d| d.code == "E0001"),
            "{bad}: {diagnostics:?}"
        );
    }
    // A string starting with `{` is JSON, anything else DSL.
    assert!(check(TreeInput::Text(&text))
        .iter()
        .any(|d| d.code == "E0007"));
    assert!(check(TreeInput::Text(PUSH_UPS)).is_empty());
}

#[test]
fn deep_and_huge_trees_are_e0013_not_a_crash() {
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    assert!(check(TreeInput::Json(&deep))
        .iter()
        .any(|d| d.code == "E0013"));
    let huge = format!("{{\"title\": \"{}\"}}", "x".repeat(2 << 20));
    assert!(check(TreeInput::Json(&huge))
        .iter()
        .any(|d| d.code == "E0013"));
    let deep_dsl = format!(
        "challenge \"x\" {{ title \"x\" window 2026-08-01 to 2026-08-02 goal {} }}",
        "all { ".repeat(10_000)
    );
    assert!(parse(&deep_dsl)
        .diagnostics
        .iter()
        .any(|d| d.code == "E0013"));
}

#[test]
fn format_keeps_comments_and_refuses_broken_text() {
    let out = format("// hi\nchallenge \"x\" { title \"x\" window 2026-08-01 to 2026-08-31 goal count(workouts) >= 1 }");
    let text = out.text.unwrap();
    assert!(text.starts_with("// hi\nchallenge \"x\" {\n    title \"x\"\n"));
    assert_eq!(format(&text).text.as_deref(), Some(text.as_str()));
    let broken = format("challenge \"x\" { title \"x\" window 2026-08-01 goal }");
    assert_eq!(broken.text, None);
    assert_eq!(broken.diagnostics[0].code, "E0001");
}

#[test]
fn decompile_round_trips_and_refuses_trees_with_errors() {
    let trees = parse(PUSH_UPS).trees;
    let json = serde_json::to_string(&trees).unwrap();
    let out = decompile(TreeInput::Json(&json));
    assert_eq!(out.text.as_deref(), Some(PUSH_UPS));
    assert_eq!(parse(&out.text.unwrap()).trees, trees);
    let out = decompile(TreeInput::Json("{\"version\": 1}"));
    assert_eq!(out.text, None);
    assert!(!out.diagnostics.is_empty());
}

#[test]
fn evaluate_is_byte_identical_to_the_cli_serialization() {
    let workouts = fixture("workouts.jsonl");
    let users = fixture("users.jsonl");
    let source = fixture("challenges/national-day.chal");
    let as_of = "2026-08-20T12:00:00+08:00";
    let out = evaluate(
        TreeInput::Text(&source),
        RecordsInput::Lines(&workouts),
        RecordsInput::Lines(&users),
        as_of,
    )
    .unwrap();
    assert_eq!(out.users.read, 60);
    assert_eq!(
        out.workouts.read,
        out.workouts.accepted + out.workouts.rejected.len()
    );
    // Same as the CLI's path: read, upsert, users_to_evaluate, evaluate_all, to_string.
    let plan = Plan::compile(&rules_dsl::parse(&source).decls[0], &Catalog::builtin()).unwrap();
    let w = records::upsert_workouts(records::read_workouts(&workouts).into_records());
    let u = records::upsert_users(records::read_users(&users).into_records());
    let all = records::users_to_evaluate(&u, &w, None);
    let expected: String = eval::evaluate_all(&[plan], &all, &w, &AsOf::parse(as_of).unwrap())
        .iter()
        .map(|r| serde_json::to_string(r).unwrap() + "\n")
        .collect();
    let jsonl = evaluate_jsonl(
        TreeInput::Text(&source),
        RecordsInput::Lines(&workouts),
        RecordsInput::Lines(&users),
        as_of,
    )
    .unwrap();
    assert_eq!(jsonl, expected);
    assert_eq!(jsonl.lines().count(), out.results.len());
}

#[test]
fn evaluate_takes_record_arrays_and_reports_rejections() {
    let tree = serde_json::to_string(&parse(PUSH_UPS).trees[0]).unwrap();
    let workouts = r#"[{"id":"w1","user":"u1","exercise":"push_up","start":"2026-08-02T07:00:00Z","end":"2026-08-02T07:05:00Z","sets":[{"reps":25}]}, 7, {"id":"w2"}]"#;
    let out = evaluate(
        TreeInput::Json(&tree),
        RecordsInput::Array(workouts),
        RecordsInput::None,
        "2026-08-02T12:00:00Z",
    )
    .unwrap();
    assert_eq!(out.workouts.read, 3);
    assert_eq!(out.workouts.accepted, 1);
    assert_eq!(out.workouts.rejected[0].line, 2);
    assert_eq!(out.workouts.rejected[1].line, 3);
    assert_eq!(out.results.len(), 1);
    assert_eq!(out.results[0].user, "u1");
    assert_eq!(out.results[0].as_of, "2026-08-02T12:00:00Z");
}

#[test]
fn evaluate_refuses_bad_calls_with_a_message() {
    let tree = TreeInput::Text(PUSH_UPS);
    let none = RecordsInput::None;
    let e = evaluate(tree, none, none, "yesterday").unwrap_err();
    assert!(e.message.contains("asOf `yesterday`"), "{}", e.message);
    let e = evaluate(
        tree,
        RecordsInput::Array("{}"),
        none,
        "2026-08-02T12:00:00Z",
    )
    .unwrap_err();
    assert!(e.message.contains("array"), "{}", e.message);
    let e = evaluate(
        tree,
        RecordsInput::Array("[{"),
        none,
        "2026-08-02T12:00:00Z",
    )
    .unwrap_err();
    assert!(e.message.contains("not valid JSON"), "{}", e.message);
    let deep = "[".repeat(10_000);
    assert!(evaluate(
        tree,
        RecordsInput::Array(&deep),
        none,
        "2026-08-02T12:00:00Z"
    )
    .is_err());
    let broken = TreeInput::Text("challenge \"x\" { title \"x\" }");
    let e = evaluate(broken, none, none, "2026-08-02T12:00:00Z").unwrap_err();
    assert!(
        e.message.starts_with("the challenge has errors"),
        "{}",
        e.message
    );
    assert!(!e.diagnostics.is_empty());
}

#[test]
fn templates_are_left_out_of_evaluation() {
    let source = fixture("templates/pushup-ladder.chal");
    let out = evaluate(
        TreeInput::Text(&source),
        RecordsInput::Lines(&fixture("workouts.jsonl")),
        RecordsInput::None,
        "2026-08-20T12:00:00+08:00",
    )
    .unwrap();
    assert!(out.results.is_empty());
}

#[test]
fn vocabulary_lists_the_catalog_and_units() {
    let v = vocabulary();
    assert!(v.exercises.iter().any(|e| e.id == "leg_press"));
    assert!(v
        .units
        .iter()
        .any(|u| u.symbol == "km/h" && u.dimension == "speed"));
    assert_eq!(v.periods, ["day", "week", "month"]);
}

/// The bounds of a record (data.md 1.1) through `evaluate`, in JSON Lines and in arrays: each
/// bound at and just over its limit, the hostile workout of issue 18, and the reasons.
#[test]
fn evaluate_rejects_records_over_the_bounds_with_reasons() {
    let heavy = "challenge \"heavy\" {\n    title \"Heavy\"\n    window 2026-08-01 to 2026-08-31\n    goal all {\n        sum(volume of leg_press) >= 1000 kg\n        avg(weight of leg_press) >= 10 kg\n    }\n}\n";
    let w = |id: &str, extra: &str| {
        format!(
            r#"{{"id":"{id}","user":"u1","exercise":"leg_press","start":"2026-08-01T07:00:00Z","end":"2026-08-01T07:10:00Z"{extra}}}"#
        )
    };
    let sets = |n: usize| {
        format!(
            r#","sets":[{}]"#,
            vec![r#"{"reps":1,"weight_kg":1}"#; n].join(",")
        )
    };
    let x = |n: usize| "x".repeat(n);
    let records: Vec<(String, Option<&str>)> = vec![
        (
            w("w1", r#","sets":[{"reps":3,"weight_kg":1e308},{"reps":5,"weight_kg":1.7e308}]"#),
            Some("`sets[0]`: `weight_kg` must be a number from 0 to 1e9; found 1e308"),
        ),
        (w("at", r#","sets":[{"reps":1000000000,"weight_kg":1e9}]"#), None),
        (w("over-w", r#","sets":[{"reps":1,"weight_kg":1000000001}]"#), Some("`weight_kg`")),
        (w("over-r", r#","sets":[{"reps":1000000001}]"#), Some("`reps` must be a whole number from 0 to 1e9")),
        (w(&x(256), ""), None),
        (w(&x(257), ""), Some("`id` is longer than 256 bytes (257 bytes)")),
        (w("sets-at", &sets(10_000)), None),
        (w("sets-over", &sets(10_001)), Some("`sets` has 10001 sets, more than 10,000")),
        (
            r#"{"id":"t","user":"u1","exercise":"bike","start":"1969-12-31T23:59:59Z","end":"1970-01-01T00:00:00Z"}"#.to_owned(),
            Some("`start` (1969-12-31 23:59:59 +00:00) is outside the years 1970 to 9999 (UTC)"),
        ),
        (
            r#"{"id":"t2","user":"u1","exercise":"bike","start":"1970-01-01T00:00:00Z","end":"9999-12-31T23:59:59Z"}"#.to_owned(),
            None,
        ),
    ];
    let lines: String = records.iter().map(|(r, _)| format!("{r}\n")).collect();
    let array = format!(
        "[{}]",
        records
            .iter()
            .map(|(r, _)| r.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    let users = format!(
        "{{\"id\":\"u1\",\"groups\":[\"{}\"]}}\n{{\"id\":\"u2\",\"groups\":[\"{}\"]}}\n",
        x(256),
        x(100_000)
    );
    for input in [RecordsInput::Lines(&lines), RecordsInput::Array(&array)] {
        let out = evaluate(
            TreeInput::Text(heavy),
            input,
            RecordsInput::Lines(&users),
            "2026-08-20T00:00:00Z",
        )
        .unwrap();
        let expected: Vec<(usize, &str)> = records
            .iter()
            .enumerate()
            .filter_map(|(i, (_, r))| r.map(|r| (i + 1, r)))
            .collect();
        assert_eq!(out.workouts.read, records.len());
        assert_eq!(out.workouts.accepted, records.len() - expected.len());
        let got: Vec<usize> = out.workouts.rejected.iter().map(|r| r.line).collect();
        assert_eq!(got, expected.iter().map(|e| e.0).collect::<Vec<_>>());
        for (rejection, (_, words)) in out.workouts.rejected.iter().zip(&expected) {
            assert!(
                rejection.reason.contains(words),
                "{}: {words}",
                rejection.reason
            );
        }
        assert_eq!(out.users.read, 2);
        assert_eq!(out.users.accepted, 1);
        assert!(out.users.rejected[0]
            .reason
            .contains("`groups[0]` is longer than 256 bytes (100000 bytes)"));
        // u1's accepted records: a volume of 1e18 + 10,000 kg, met on a value it shows.
        let result = serde_json::to_value(&out.results[0]).unwrap();
        assert_eq!(result["user"], "u1");
        let volume = &result["tree"]["goals"][0];
        assert_eq!(volume["met"], true, "{volume}");
        assert!(volume["value"]["value"]
            .as_f64()
            .is_some_and(f64::is_finite));
    }
}

const DUEL: &str = "challenge \"duel\" {\n    title \"Duel\"\n    window 2026-08-01 to 2026-08-31\n    teams \"coy-a\", \"coy-b\"\n    tier \"half\" at 50 %\n\n    goal sum(distance) >= 10 km\n}\n";

#[test]
fn evaluate_gives_team_lines_with_members_and_tiers() {
    let workouts = r#"[{"id":"w1","user":"u1","exercise":"bike","start":"2026-08-02T07:00:00Z","end":"2026-08-02T07:30:00Z","distance_m":4000},
                      {"id":"w2","user":"u2","exercise":"bike","start":"2026-08-03T07:00:00Z","end":"2026-08-03T07:30:00Z","distance_m":2000}]"#;
    let users = r#"[{"id":"u1","groups":["coy-a"]},{"id":"u2","groups":["coy-a"]},{"id":"u3","groups":["coy-b"]}]"#;
    let out = evaluate(
        TreeInput::Text(DUEL),
        RecordsInput::Array(workouts),
        RecordsInput::Array(users),
        "2026-08-10T00:00:00Z",
    )
    .unwrap();
    let lines: Vec<serde_json::Value> = out
        .results
        .iter()
        .map(|r| serde_json::to_value(r).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0]["team"], "coy-a");
    assert_eq!(lines[0]["progress"], 0.6);
    assert_eq!(lines[0]["tier"], "half");
    assert_eq!(
        lines[0]["members"],
        serde_json::json!([{"user": "u1", "workouts": 1}, {"user": "u2", "workouts": 1}])
    );
    assert_eq!(lines[1]["team"], "coy-b");
    assert!(lines[1]["tier"].is_null());
    assert!(lines[0].get("user").is_none());
}

#[test]
fn check_reports_e0014_for_text_and_trees() {
    let bad = DUEL.replace("50 %", "120 %");
    let ds = check(TreeInput::Text(&bad));
    assert_eq!(ds.len(), 1);
    assert_eq!(ds[0].code, "E0014");
    assert_eq!(ds[0].line, Some(5));
    let tree = serde_json::to_string(&parse(DUEL).trees[0]).unwrap();
    let tree = tree.replace(
        r#""teams":["coy-a","coy-b"]"#,
        r#""teams":["coy-a","coy-a"]"#,
    );
    let ds = check(TreeInput::Json(&tree));
    assert_eq!(ds.len(), 1, "{tree}");
    assert_eq!((ds[0].code, ds[0].path.as_str()), ("E0014", "teams[1]"));
    // Decompiling keeps teams and tiers.
    let text = decompile(TreeInput::Json(
        &serde_json::to_string(&parse(DUEL).trees[0]).unwrap(),
    ));
    assert!(text
        .text
        .unwrap()
        .contains("teams \"coy-a\", \"coy-b\"\n    tier \"half\" at 50 %"));
}
