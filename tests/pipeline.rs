//! `challenge pipeline`: ingest the sensor fixture, tick, query; results equal `challenge eval`
//! over the pipeline's workouts and users; a run killed with SIGKILL and rerun gives the views
//! of an uninterrupted run; `verify` after `compact`; the live view.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{self, fixture};

fn gen_events() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_gen-events"))
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// Runs `challenge pipeline ARGS --db DB` and expects `code`.
fn pipeline(db: &Path, args: &[&str], code: i32) -> util::Run {
    let mut all = vec!["pipeline".to_owned()];
    all.extend(args.iter().map(|a| (*a).to_owned()));
    all.push("--db".to_owned());
    all.push(s(db));
    let run = util::challenge(&all);
    assert_eq!(run.code, code, "{all:?}\n{}", run.stderr);
    run
}

fn ingest(db: &Path, files: &[&Path]) -> util::Run {
    let challenges = s(&fixture("challenges"));
    let files: Vec<String> = files.iter().map(|f| s(f)).collect();
    let mut args = vec!["ingest", "--challenges", challenges.as_str()];
    args.extend(files.iter().map(String::as_str));
    pipeline(db, &args, 0)
}

/// Every view's lines, by name.
fn views(db: &Path) -> Vec<(String, String)> {
    [
        "results",
        "live",
        "workouts",
        "users",
        "sessions",
        "profiles",
        "leaderboard",
        "dead-letters",
    ]
    .iter()
    .map(|v| ((*v).to_owned(), pipeline(db, &["query", v], 0).stdout))
    .collect()
}

/// `read R, accepted A (D duplicates), rejected J` from the summary line.
fn summary(stderr: &str) -> (u64, u64, u64) {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("ingested:"))
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    let num = |key: &str| -> u64 {
        let rest = &line[line.find(key).expect(key) + key.len()..];
        rest.trim_start()
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    (num("read"), num("accepted"), num("rejected"))
}

#[test]
fn the_generator_reproduces_the_sensor_fixture() {
    let out = util::scratch("gen-events").join("events.jsonl");
    let run = util::run(
        gen_events(),
        [
            "--users",
            "10",
            "--machines",
            "9",
            "--start",
            "2026-08-01",
            "--days",
            "4",
            "--seed",
            "2026",
            "--out",
            &s(&out),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let made = std::fs::read_to_string(&out).unwrap();
    let committed = std::fs::read_to_string(fixture("events.jsonl")).unwrap();
    assert!(
        made == committed,
        "fixtures/events.jsonl differs from the generator's output; regenerate it"
    );
}

#[test]
fn after_a_tick_every_result_equals_challenge_eval() {
    let dir = util::scratch("pipeline-eval");
    let db = dir.join("gym.db");
    let run = ingest(&db, &[&fixture("events.jsonl")]);
    let (read, accepted, rejected) = summary(&run.stderr);
    assert_eq!(read, accepted + rejected);
    assert!(rejected >= 1);
    let dead = util::json_lines(&pipeline(&db, &["query", "dead-letters"], 0).stdout);
    assert_eq!(dead.len() as u64, rejected);
    assert!(dead
        .iter()
        .all(|d| d["line"].as_u64().is_some() && d["reason"].is_string()));

    let at = "2026-08-20T12:00:00+08:00";
    pipeline(&db, &["tick", "--at", at], 0);
    let workouts = dir.join("workouts.jsonl");
    let users = dir.join("users.jsonl");
    std::fs::write(&workouts, pipeline(&db, &["query", "workouts"], 0).stdout).unwrap();
    std::fs::write(&users, pipeline(&db, &["query", "users"], 0).stdout).unwrap();
    let all = dir.join("all.chal");
    let text: String = util::challenge_files()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap() + "\n")
        .collect();
    std::fs::write(&all, text).unwrap();
    let eval = util::challenge([
        "eval",
        &s(&all),
        "--workouts",
        &s(&workouts),
        "--users",
        &s(&users),
        "--as-of",
        at,
    ]);
    assert_eq!(eval.code, 0, "{}", eval.stderr);
    let results = pipeline(&db, &["query", "results"], 0).stdout;
    assert!(!results.is_empty());
    assert!(
        results == eval.stdout,
        "query results differs from eval --as-of"
    );

    // Filters, and the periodic views.
    let one = util::json_lines(
        &pipeline(
            &db,
            &[
                "query",
                "results",
                "--user",
                "u-03",
                "--challenge",
                "streak-7",
            ],
            0,
        )
        .stdout,
    );
    assert_eq!(one.len(), 1);
    assert_eq!(one[0]["as_of"], at);
    let boards = util::json_lines(&pipeline(&db, &["query", "leaderboard"], 0).stdout);
    assert!(boards.iter().any(|b| b["board"] == "2026-08/distance"));
    let profiles = util::json_lines(&pipeline(&db, &["query", "profiles"], 0).stdout);
    assert_eq!(
        profiles.len(),
        util::json_lines(&std::fs::read_to_string(&users).unwrap()).len()
    );

    // The team challenge's rows are among them, one per team, and `--team` keeps one team.
    let teams: Vec<serde_json::Value> = util::json_lines(&results)
        .into_iter()
        .filter(|r| r.get("team").is_some())
        .collect();
    assert_eq!(teams.len(), 2, "company-reps: coy-a and coy-b");
    let coy_a =
        util::json_lines(&pipeline(&db, &["query", "results", "--team", "coy-a"], 0).stdout);
    assert_eq!(coy_a, teams[..1]);
    assert_eq!(coy_a[0]["tier"], "gold");

    // The team's rewards, keyed by team, in the spec's key order.
    let rewards = pipeline(&db, &["query", "rewards"], 0).stdout;
    assert!(rewards.starts_with(
        "{\"challenge\":\"company-reps\",\"team\":\"coy-a\",\"name\":\"Company finisher\",\"points\":100,\"at\":"
    ), "{rewards}");
    let coy_b =
        util::json_lines(&pipeline(&db, &["query", "rewards", "--team", "coy-b"], 0).stdout);
    assert_eq!(coy_b.len(), 1, "coy-b reached bronze only");
    assert_eq!(coy_b[0]["name"], "Company starter");
    pipeline(&db, &["query", "live", "--team", "coy-b"], 2);

    // Ingesting the same file again changes nothing: its offset is committed.
    let again = ingest(&db, &[&fixture("events.jsonl")]);
    assert_eq!(summary(&again.stderr).0, 0);
    assert_eq!(pipeline(&db, &["query", "results"], 0).stdout, results);
    assert_eq!(pipeline(&db, &["query", "rewards"], 0).stdout, rewards);
}

#[test]
fn verify_passes_after_rebuild_and_after_compact() {
    let dir = util::scratch("pipeline-compact");
    let db = dir.join("gym.db");
    ingest(&db, &[&fixture("events.jsonl")]);
    pipeline(&db, &["tick", "--at", "2026-08-04T00:00:00Z"], 0);
    let before = views(&db);
    let rewards = pipeline(&db, &["query", "rewards"], 0).stdout;
    assert!(!rewards.is_empty());
    pipeline(&db, &["verify"], 0);
    pipeline(&db, &["rebuild"], 0);
    assert_eq!(views(&db), before);
    assert_eq!(
        pipeline(&db, &["query", "rewards"], 0).stdout,
        rewards,
        "rebuild keeps the ledger"
    );
    let run = pipeline(&db, &["compact", "--before", "2026-08-03T00:00:00Z"], 0);
    assert!(run.stderr.contains("compacted"), "{}", run.stderr);
    let stats: serde_json::Value =
        serde_json::from_str(&pipeline(&db, &["stats"], 0).stdout).unwrap();
    assert!(stats["sessions_compacted"].as_u64().unwrap() > 0, "{stats}");
    let run = pipeline(&db, &["verify"], 0);
    assert!(util::json_lines(&run.stdout)
        .iter()
        .all(|c| c["equal"] == true));
    pipeline(&db, &["rebuild"], 0);
    assert_eq!(
        views(&db),
        before,
        "compacted workouts rebuild the same views"
    );
}

#[test]
fn a_run_killed_mid_way_and_rerun_gives_the_uninterrupted_views() {
    let dir = util::scratch("pipeline-crash");
    let events = dir.join("events.jsonl");
    let run = util::run(
        gen_events(),
        [
            "--users",
            "120",
            "--days",
            "10",
            "--seed",
            "5",
            "--out",
            &s(&events),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = std::fs::read_to_string(&events).unwrap().lines().count() as u64;

    let whole = dir.join("whole.db");
    ingest(&whole, &[&events]);

    let crashed = dir.join("crashed.db");
    let mut child = Command::new(env!("CARGO_BIN_EXE_challenge"))
        .args([
            "pipeline",
            "ingest",
            "--db",
            &s(&crashed),
            "--batch",
            "1000",
            "--challenges",
        ])
        .arg(fixture("challenges"))
        .arg(&events)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the first committed batches, then SIGKILL.
    let started = Instant::now();
    let mut killed = false;
    while started.elapsed() < Duration::from_secs(60) {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        // A cheap read (WAL lets it run beside the writer): any saved session means a
        // committed batch.
        let sessions = util::challenge(["pipeline", "query", "sessions", "--db", &s(&crashed)]);
        if !sessions.stdout.is_empty() {
            child.kill().unwrap();
            killed = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    child.wait().unwrap();
    assert!(
        killed,
        "the run ended before it could be killed; give it more input"
    );

    let rerun = ingest(&crashed, &[&events]);
    let (read, _, _) = summary(&rerun.stderr);
    assert!(
        read > 0 && read < lines,
        "the rerun resumed mid-way: read {read} of {lines}"
    );
    assert_eq!(views(&crashed), views(&whole));
    pipeline(&crashed, &["verify"], 0);
}

#[test]
fn the_live_view_counts_the_session_under_way() {
    let dir = util::scratch("pipeline-live");
    let db = dir.join("gym.db");
    let open = dir.join("open.jsonl");
    let mut text = String::from(
        r#"{"type": "session_start", "session": "s-1", "seq": 0, "ts": "2026-08-03T07:00:00Z", "device": "lp-03", "gym": "gym-01", "user": "u-01", "exercise": "leg_press"}"#,
    );
    text.push('\n');
    for i in 1..=30 {
        text.push_str(&format!(
            "{{\"type\": \"rep\", \"session\": \"s-1\", \"seq\": {i}, \"ts\": \"2026-08-03T07:00:{:02}Z\", \"weight_kg\": 45, \"rom_pct\": 95}}\n",
            i
        ));
    }
    std::fs::write(&open, text).unwrap();
    ingest(&db, &[&open]);
    let live = util::json_lines(
        &pipeline(
            &db,
            &[
                "query",
                "live",
                "--user",
                "u-01",
                "--challenge",
                "national-day-2026",
            ],
            0,
        )
        .stdout,
    );
    assert_eq!(live.len(), 1);
    assert_eq!(live[0]["as_of"], "2026-08-03T07:00:30Z");
    // 30 reps at 45 kg meet the day's leg-press goal of the National Day challenge.
    assert_eq!(live[0]["tree"]["periods"][2]["met"], true, "{}", live[0]);
    assert!(pipeline(&db, &["query", "workouts"], 0).stdout.is_empty());
    let end = dir.join("end.jsonl");
    std::fs::write(&end, "{\"type\": \"session_end\", \"session\": \"s-1\", \"seq\": 31, \"ts\": \"2026-08-03T07:01:00Z\"}\n").unwrap();
    ingest(&db, &[&end]);
    assert!(pipeline(&db, &["query", "live"], 0).stdout.is_empty());
    assert_eq!(
        util::json_lines(&pipeline(&db, &["query", "workouts"], 0).stdout).len(),
        1
    );
}

#[test]
fn every_pipeline_command_has_an_example_and_bad_input_is_a_usage_error() {
    for cmd in [
        "ingest", "tick", "query", "rebuild", "verify", "compact", "stats",
    ] {
        let run = util::challenge(["pipeline", cmd, "--help"]);
        assert_eq!(run.code, 0);
        assert!(run.stdout.contains("Example:"), "{cmd}: {}", run.stdout);
    }
    let dir = util::scratch("pipeline-usage");
    pipeline(&dir.join("none.db"), &["stats"], 2);
    let db = dir.join("gym.db");
    ingest(&db, &[&fixture("events.jsonl")]);
    pipeline(&db, &["tick", "--at", "2026-08-20T12:00:00"], 2);
    pipeline(
        &db,
        &[
            "tick",
            "--at",
            "2026-08-20T12:00:00Z",
            "--timezone",
            "Mars/Olympus",
        ],
        2,
    );
}
