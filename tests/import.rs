//! `challenge import` over `fixtures/import`: messages and records, counts and reports on
//! stderr, bad files beside good ones, `--map`, and imported workouts read by `profile`.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation is the test failing"
)]

use crate::util::{self, fixture};

fn import_fixture(name: &str) -> String {
    fixture("import").join(name).display().to_string()
}

fn import(files: &[&str], extra: &[&str]) -> util::Run {
    let mut args = vec!["import".to_owned()];
    args.extend(files.iter().map(|f| import_fixture(f)));
    args.extend(["--user".to_owned(), "u-01".to_owned()]);
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    util::challenge(args)
}

#[test]
fn messages_in_file_order_with_ids_from_the_bytes() {
    let run = import(
        &[
            "Activity.fit",
            "sample_mulitple_header.fit",
            "morning-run.gpx",
        ],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    let ids: Vec<&str> = lines
        .iter()
        .map(|m| m["workout"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "imp-90bf03369eb0bf70",
            "imp-910454f2718036f2-1",
            "imp-910454f2718036f2-3",
            "imp-910454f2718036f2-5",
            "imp-aeba651ac571f009"
        ]
    );
    assert!(lines
        .iter()
        .all(|m| m["type"] == "workout" && m["seq"] == 0));
    assert_eq!(lines[0]["source"], "fit");
    assert_eq!(lines[4]["source"], "gpx");
    assert_eq!(lines[4]["ts"], lines[4]["workout"]["end"]);
    assert!(run.stderr.contains(
        "sample_mulitple_header.fit: session 2 not imported: sport `transition` maps to no exercise (add it with --map)"
    ));
    assert!(run
        .stderr
        .contains("sample_mulitple_header.fit: 3 workout(s) imported, 2 activities not imported"));
    assert!(run.stderr.contains(
        "import: 3 file(s), 5 workout(s) imported, 2 activities not imported, 0 file(s) with errors"
    ));
}

#[test]
fn re_import_prints_the_same_bytes() {
    let files = ["strength.fit", "evening-ride.tcx", "hrv-activity.fit"];
    let a = import(&files, &[]);
    let b = import(&files, &[]);
    assert_eq!(a.code, 0);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn plain_records_feed_profile() {
    let dir = util::scratch("import-records");
    let run = import(&["morning-run.gpx", "strength.fit"], &["--workouts"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let records = util::json_lines(&run.stdout);
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r.get("type").is_none()));
    let path = dir.join("w.jsonl");
    std::fs::write(&path, &run.stdout).unwrap();
    let profile = util::challenge([
        "profile",
        "--workouts",
        path.to_str().unwrap(),
        "--as-of",
        "2026-08-31T00:00:00+08:00",
    ]);
    assert_eq!(profile.code, 0, "{}", profile.stderr);
    let p = &util::json_lines(&profile.stdout)[0];
    assert_eq!(p["user"], "u-01");
    let run_figures = &p["exercises"]["run"];
    assert!((run_figures["best_distance_m"].as_f64().unwrap() - 5177.3796).abs() < 1e-3);
    assert_eq!(p["exercises"]["bicep_curl"]["max_reps"], 12);
    assert_eq!(p["exercises"]["push_up"]["max_reps"], 20);
}

#[test]
fn bad_files_are_reported_by_name_and_the_others_still_printed() {
    let dir = util::scratch("import-bad");
    let activity = std::fs::read(fixture("import").join("Activity.fit")).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.display().to_string()
    };
    let mut corrupt = activity.clone();
    corrupt[200] ^= 0x55;
    let files = [
        write("empty.fit", b""),
        write("cut.fit", &activity[..300]),
        write("corrupt.fit", &corrupt),
        write("run.gpx", &activity),
        write("notes.txt", b"hello"),
        import_fixture("no-times.gpx"),
        import_fixture("Settings.fit"),
        import_fixture("evening-ride.tcx"),
    ];
    let mut args = vec!["import".to_owned()];
    args.extend(files.iter().cloned());
    args.extend(["--user".to_owned(), "u-01".to_owned()]);
    let run = util::challenge(args);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(
        util::json_lines(&run.stdout).len(),
        1,
        "the TCX ride is still printed"
    );
    for expected in [
        "empty.fit: the file is empty",
        "cut.fit: not a readable FIT file: the header announces",
        "corrupt.fit: the FIT file fails its CRC check",
        "run.gpx: the name ends in .gpx but the content is a FIT file",
        "notes.txt: unknown file type: the name must end in .fit, .gpx or .tcx",
        "no-times.gpx: no track point has a time",
        "Settings.fit: not an activity: the FIT file's type is `settings`",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    assert!(
        run.stderr.contains("7 file(s) with errors"),
        "{}",
        run.stderr
    );
    let missing = util::challenge(["import", "nope.fit", "--user", "u-01"]);
    assert_eq!(missing.code, 2);
    assert!(missing.stderr.contains("cannot read `nope.fit`"));
}

#[test]
fn a_map_file_extends_the_mapping_and_must_name_catalog_exercises() {
    let dir = util::scratch("import-map");
    let map = dir.join("map.json");
    std::fs::write(
        &map,
        r#"{"sports": {"transition": "walk"}, "exercise_categories": {"bench_press": "chest_press"}}"#,
    )
    .unwrap();
    let map = map.display().to_string();
    let run = import(
        &["sample_mulitple_header.fit", "strength.fit"],
        &["--map", &map],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let exercises: Vec<String> = util::json_lines(&run.stdout)
        .iter()
        .map(|m| m["workout"]["exercise"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        exercises,
        [
            "swim",
            "walk",
            "ride",
            "walk",
            "run",
            "bicep_curl",
            "chest_press",
            "push_up"
        ]
    );
    let bad = dir.join("bad.json");
    std::fs::write(&bad, r#"{"sports": {"transition": "kayak"}}"#).unwrap();
    let bad = bad.display().to_string();
    let run = import(&["Activity.fit"], &["--map", &bad]);
    assert_eq!(run.code, 1);
    assert!(run
        .stderr
        .contains("exercise `kayak` is not in the catalog (add it with --catalog)"));
    assert!(run.stdout.is_empty());
}

#[test]
fn imported_workouts_reach_the_pipeline_and_a_re_import_changes_nothing() {
    let dir = util::scratch("import-pipeline");
    let run = import(&["sample_mulitple_header.fit", "morning-run.gpx"], &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let first = dir.join("imported.jsonl");
    let again = dir.join("imported-again.jsonl");
    std::fs::write(&first, &run.stdout).unwrap();
    std::fs::write(&again, &run.stdout).unwrap();
    let db = dir.join("gym.db").display().to_string();
    let challenges = fixture("challenges").display().to_string();
    let ingest = |file: &std::path::Path| {
        let run = util::challenge([
            "pipeline",
            "ingest",
            "--db",
            &db,
            "--challenges",
            &challenges,
            &file.display().to_string(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
    };
    let query = |view: &str| {
        let run = util::challenge(["pipeline", "query", view, "--db", &db]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.stdout
    };
    ingest(&first);
    let workouts = util::json_lines(&query("workouts"));
    let ids: Vec<&str> = workouts.iter().map(|w| w["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "imp-910454f2718036f2-1",
            "imp-910454f2718036f2-3",
            "imp-910454f2718036f2-5",
            "imp-aeba651ac571f009"
        ]
    );
    let (results, workouts_before) = (query("results"), query("workouts"));
    assert!(results.contains("\"user\":\"u-01\""));
    ingest(&again);
    assert_eq!(query("workouts"), workouts_before);
    assert_eq!(query("results"), results);
    let verify = util::challenge(["pipeline", "verify", "--db", &db]);
    assert_eq!(verify.code, 0, "{}{}", verify.stdout, verify.stderr);
}

#[test]
fn the_outdoor_runs_challenge_and_the_leaderboard_count_an_imported_run() {
    let dir = util::scratch("import-eval");
    let run = import(&["morning-run.gpx", "evening-ride.tcx"], &["--workouts"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let workouts = dir.join("w.jsonl");
    std::fs::write(&workouts, &run.stdout).unwrap();
    let workouts = workouts.display().to_string();
    let eval = util::challenge([
        "eval",
        &fixture("challenges/outdoor-runs.chal")
            .display()
            .to_string(),
        "--workouts",
        &workouts,
        "--as-of",
        "2026-08-20T00:00:00+08:00",
    ]);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let result = &util::json_lines(&eval.stdout)[0];
    assert_eq!(result["user"], "u-01");
    assert_eq!(result["status"], "in_progress");
    // all of: 5.177 km of 50 km, and the one-workout goal met: (0.10355 + 1) / 2.
    let progress = result["progress"].as_f64().unwrap();
    assert!(
        (progress - (5_177.379_602_521_425 / 50_000.0 + 1.0) / 2.0).abs() < 1e-9,
        "{progress}"
    );
    let board = util::challenge([
        "leaderboard",
        "--workouts",
        &workouts,
        "--month",
        "2026-08",
        "--measure",
        "distance",
        "--of",
        "(run | ride)",
        "--timezone",
        "Asia/Singapore",
    ]);
    assert_eq!(board.code, 0, "{}", board.stderr);
    let entry = &util::json_lines(&board.stdout)[0];
    assert_eq!(entry["user"], "u-01");
    assert!((entry["total"].as_f64().unwrap() - (5_177.379_602_521_425 + 10_100.5)).abs() < 1e-6);
}
