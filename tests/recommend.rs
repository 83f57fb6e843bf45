//! `challenge recommend` over the fixture templates: the committed examples are current, the
//! recommended challenges check and evaluate, overrides, undefined params, `--profiles`, and
//! the properties of issue 3 (every recommendation checks; an override always wins; a user
//! without history gets the fallbacks).

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers: a failed expectation is the test failing"
)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use proptest::prelude::*;
use rules_core::eval::AsOf;
use rules_core::profile::{ExerciseProfile, Profile};
use rules_core::template::{Recommender, Source};
use rules_core::tree::{Expr, Quantity};
use rules_core::units::Dimension;
use rules_core::{Catalog, Challenge};

use crate::util::{self, fixture};

const AS_OF: &str = "2026-09-01T00:00:00+08:00";

/// Every template of `fixtures/templates/`, sorted.
fn templates() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture("templates"))
        .expect("fixtures/templates exists")
        .map(|e| e.expect("readable entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "chal"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "the template library");
    files
}

fn recommend(template: &std::path::Path, extra: &[&str]) -> util::Run {
    let mut args = vec![
        "recommend".to_owned(),
        template.display().to_string(),
        "--workouts".to_owned(),
        fixture("workouts.jsonl").display().to_string(),
        "--users".to_owned(),
        fixture("users.jsonl").display().to_string(),
        "--as-of".to_owned(),
        AS_OF.to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    util::challenge(args)
}

/// `fixtures/recommended/NAME.chal` is what `recommend --explain` prints today. Set
/// `UPDATE_RECOMMENDED=1` to rewrite them.
#[test]
fn the_committed_recommendations_are_current() {
    for template in templates() {
        let name = template.file_name().expect("a name").to_owned();
        let run = recommend(&template, &["--explain"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        let committed = fixture("recommended").join(&name);
        if std::env::var_os("UPDATE_RECOMMENDED").is_some() {
            std::fs::write(&committed, &run.stdout).expect("write");
        }
        let text = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            text == run.stdout,
            "{} is out of date; run with UPDATE_RECOMMENDED=1",
            committed.display()
        );
    }
}

/// Id and every literal target, N and condition value of each recommended challenge.
fn summary(stdout: &str) -> String {
    fn walk(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(n) = m.get("count").filter(|n| n.is_number()) {
                    out.push(format!("N={n}"));
                }
                if let (Some(value), true) = (m.get("value"), m.contains_key("unit")) {
                    let unit = m.get("unit").and_then(|u| u.as_str()).unwrap_or("");
                    out.push(format!(
                        "{value}{}{unit}",
                        if unit.is_empty() { "" } else { " " }
                    ));
                    return;
                }
                m.values().for_each(|x| walk(x, out));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    util::json_lines(stdout)
        .iter()
        .map(|tree| {
            let mut values = Vec::new();
            walk(&tree["goal"], &mut values);
            format!(
                "{}: {}",
                tree["id"].as_str().unwrap_or("?"),
                values.join(", ")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn recommendations_for_the_fixture_users() {
    for template in templates() {
        let name = template
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("a name")
            .to_owned();
        let run = recommend(&template, &["--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        insta::assert_snapshot!(format!("recommend_{name}"), summary(&run.stdout));
    }
}

#[test]
fn explain_in_json_shows_values_expressions_and_figures() {
    let template = fixture("templates/treadmill-pace.chal");
    let run = recommend(
        &template,
        &["--format", "json", "--explain", "--user", "u-01"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let lines = util::json_lines(&run.stdout);
    assert_eq!(lines.len(), 1);
    insta::assert_snapshot!(
        "recommend_explain_treadmill_u01",
        serde_json::to_string_pretty(&lines[0]["explain"]).expect("JSON")
    );
    assert_eq!(lines[0]["challenge"]["id"], "treadmill-pace/u-01");
}

#[test]
fn the_recommended_challenges_check_and_evaluate() {
    let files: Vec<PathBuf> = templates()
        .iter()
        .map(|t| fixture("recommended").join(t.file_name().expect("a name")))
        .collect();
    let mut args = vec!["check".into()];
    args.extend(files.iter().map(|f| f.clone().into_os_string()));
    let run = util::challenge(&args);
    assert_eq!(run.code, 0, "{}", run.stderr);
    for file in &files {
        let run = util::challenge([
            "eval".as_ref(),
            file.as_os_str(),
            "--workouts".as_ref(),
            fixture("workouts.jsonl").as_os_str(),
            "--users".as_ref(),
            fixture("users.jsonl").as_os_str(),
            "--as-of".as_ref(),
            "2026-10-05T00:00:00+08:00".as_ref(),
        ]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert!(!run.stdout.is_empty());
    }
}

#[test]
fn only_users_in_the_groups_are_recommended() {
    let run = recommend(&fixture("templates/ippt-prep.chal"), &["--format", "json"]);
    let users: Vec<String> = std::fs::read_to_string(fixture("users.jsonl"))
        .expect("fixtures")
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
        .filter(|u| {
            u["groups"]
                .as_array()
                .is_some_and(|g| g.iter().any(|g| g == "nsfit"))
        })
        .map(|u| format!("ippt-prep/{}", u["id"].as_str().unwrap_or("?")))
        .collect();
    let ids: Vec<String> = util::json_lines(&run.stdout)
        .iter()
        .map(|t| t["id"].as_str().unwrap_or("?").to_owned())
        .collect();
    assert_eq!(ids, users);
    // A template without groups is for everyone (60 fixture users).
    let run = recommend(
        &fixture("templates/treadmill-pace.chal"),
        &["--format", "json"],
    );
    assert_eq!(util::json_lines(&run.stdout).len(), 60);
}

#[test]
fn overrides_win_and_bad_ones_are_usage_errors() {
    let template = fixture("templates/treadmill-pace.chal");
    let run = recommend(
        &template,
        &[
            "--format",
            "json",
            "--user",
            "u-01",
            "--set",
            "pace=9 km/h",
            "--set",
            "sessions=3",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let text = run.stdout;
    assert!(
        text.contains(r#""target":{"value":9,"unit":"km/h"}"#),
        "{text}"
    );
    // `faster` sees the override: 9 + 0.5 km/h.
    assert!(
        text.contains(r#""target":{"value":9.5,"unit":"km/h"}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""target":{"value":3,"unit":null}"#),
        "{text}"
    );
    for (set, message) in [
        ("paec=9 km/h", "has no param `paec`"),
        ("pace=9", "param `pace` is a speed, but `9` is a count"),
        ("pace=fast", "`fast` is not a value"),
        ("pace", "NAME=VALUE"),
    ] {
        let run = recommend(&template, &["--set", set]);
        assert_eq!(run.code, 2, "{set}: {}", run.stderr);
        assert!(run.stderr.contains(message), "{set}: {}", run.stderr);
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn an_undefined_param_is_reported_and_the_others_printed() {
    let dir = util::scratch("recommend-undefined");
    let template = dir.join("strict.chal");
    std::fs::write(
        &template,
        r#"template "sit-ups" {
    title "Sit-ups"
    window 2026-09-07 to 2026-10-04
    param daily: count = round(profile.max_reps(sit_up) * 1.2)
    goal every day {
        sum(reps of sit_up) >= $daily
    }
}
"#,
    )
    .expect("write");
    let run = recommend(&template, &["--format", "json"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let printed = util::json_lines(&run.stdout).len();
    assert!(printed > 0 && printed < 60, "{printed}");
    assert!(
        run.stderr.contains(
            "user `u-01`: param `daily` is undefined: profile.max_reps(sit_up) has no data"
        ),
        "{}",
        run.stderr
    );
}

#[test]
fn profiles_from_a_file_give_the_same_challenges() {
    let dir = util::scratch("recommend-profiles");
    let profiles = dir.join("profiles.jsonl");
    let run = util::challenge([
        "profile".as_ref(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--users".as_ref(),
        fixture("users.jsonl").as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::write(&profiles, &run.stdout).expect("write");
    for template in templates() {
        let direct = recommend(&template, &["--explain"]);
        let via_file = util::challenge([
            "recommend".as_ref(),
            template.as_os_str(),
            "--profiles".as_ref(),
            profiles.as_os_str(),
            "--users".as_ref(),
            fixture("users.jsonl").as_os_str(),
            "--explain".as_ref(),
        ]);
        assert_eq!(via_file.code, 0, "{}", via_file.stderr);
        assert_eq!(direct.stdout, via_file.stdout, "{}", template.display());
    }
}

#[test]
fn a_user_without_history_gets_the_fallbacks_end_to_end() {
    let dir = util::scratch("recommend-new-user");
    let users = dir.join("users.jsonl");
    std::fs::write(&users, r#"{"id": "u-new", "groups": ["nsfit"]}"#).expect("write");
    let run = util::challenge([
        "recommend".as_ref(),
        fixture("templates/ippt-prep.chal").as_os_str(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--users".as_ref(),
        users.as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
        "--user".as_ref(),
        "u-new".as_ref(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::assert_snapshot!("recommend_ippt_new_user", run.stdout);
}

#[test]
fn a_file_without_a_template_is_a_usage_error() {
    let run = util::challenge([
        "recommend".as_ref(),
        fixture("challenges/streak-7.chal").as_os_str(),
        "--workouts".as_ref(),
        fixture("workouts.jsonl").as_os_str(),
        "--as-of".as_ref(),
        AS_OF.as_ref(),
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let run = util::challenge(["recommend", "fixtures/templates/ippt-prep.chal"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
}

// ----- properties, on the library with the fixture templates ------------------------------------

fn parsed_templates() -> Vec<Challenge> {
    templates()
        .iter()
        .flat_map(|t| {
            let text = std::fs::read_to_string(t).expect("readable");
            let parsed = rules_dsl::parse(&text);
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            parsed.decls
        })
        .collect()
}

/// Whether an expression looks up a figure of an exercise or the body weight (which a user
/// without history does not have; `weekly_workouts` is 0 for them).
fn reads_missing_figures(e: &Expr) -> bool {
    match e {
        Expr::Profile { metric, .. } => metric.node != "weekly_workouts",
        Expr::Binary { left, right, .. } => {
            reads_missing_figures(left) || reads_missing_figures(right)
        }
        Expr::Call { args, .. } => args.iter().any(reads_missing_figures),
        Expr::Number { .. } | Expr::Param { .. } => false,
    }
}

fn figures() -> impl Strategy<Value = Option<f64>> {
    proptest::option::of(0.0f64..400.0)
}

prop_compose! {
    fn any_profile()(
        orm in figures(), reps in figures(), rpm in figures(), speed in proptest::option::of(0.0f64..30.0),
        dist in 0.0f64..60_000.0, dur in 0.0f64..20_000.0, weekly in 0.0f64..14.0,
        body in proptest::option::of(30.0f64..200.0), which in 0usize..4,
    ) -> Profile {
        let as_of = AsOf::parse(AS_OF).expect("a time");
        let mut p = Profile::empty("u-prop", body, &as_of, 90);
        p.weekly_workouts = weekly;
        let exercise = ["leg_press", "push_up", "sit_up", "treadmill"][which];
        p.exercises.insert(exercise.to_owned(), ExerciseProfile {
            one_rep_max_kg: orm, max_reps: reps, max_reps_per_min: rpm, best_speed_kmh: speed,
            best_distance_m: Some(dist), weekly_distance_m: dist / 10.0, weekly_duration_s: dur,
        });
        p
    }
}

/// A value of `dimension` in one of its units.
fn override_value(dimension: Dimension, x: f64) -> Quantity {
    match dimension {
        Dimension::Count => Quantity::new(x.round().max(1.0), None),
        other => {
            let unit = other.example().split_once(' ').map(|(_, u)| u);
            Quantity::new((x * 10.0).round() / 10.0, unit)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every recommended challenge passes the checker, whatever the profile holds.
    #[test]
    fn every_recommended_challenge_checks(profile in any_profile()) {
        let catalog = Catalog::builtin();
        for template in parsed_templates() {
            let r = Recommender::new(&template, &catalog, BTreeMap::new()).expect("a template");
            let rec = r.recommend(&profile).expect("every fixture param has a value");
            prop_assert!(!rules_core::diagnostic::has_errors(&rules_core::check::check(&rec.challenge, &catalog)));
        }
    }

    /// An override always wins: the param's value is the override, as written.
    #[test]
    fn an_override_always_wins(profile in any_profile(), pick in 0usize..64, x in 1.0f64..200.0) {
        let catalog = Catalog::builtin();
        for template in parsed_templates() {
            let param = &template.params[pick % template.params.len()];
            let value = override_value(param.dimension.node, x);
            let overrides = BTreeMap::from([(param.name.node.clone(), value.clone())]);
            let r = Recommender::new(&template, &catalog, overrides).expect("a valid override");
            let bindings = r.bind(&profile);
            let b = bindings.iter().find(|b| b.param == param.name.node).expect("bound");
            prop_assert_eq!(b.source, Source::Override);
            prop_assert_eq!(b.value.as_ref(), Some(&value));
            let rec = r.recommend(&profile);
            prop_assert!(rec.is_ok(), "{:?}", rec.err());
        }
    }

    /// A user without history gets the fallbacks: every param that reads an exercise's figure
    /// (or the body weight) takes its `else` value.
    #[test]
    fn a_user_without_history_gets_the_fallbacks(user in "u-[a-z0-9]{1,8}") {
        let catalog = Catalog::builtin();
        let as_of = AsOf::parse(AS_OF).expect("a time");
        let empty = Profile::empty(&user, None, &as_of, 90);
        for template in parsed_templates() {
            let r = Recommender::new(&template, &catalog, BTreeMap::new()).expect("a template");
            let rec = r.recommend(&empty).expect("fallbacks");
            prop_assert_eq!(rec.challenge.id.node.clone(), format!("{}/{user}", template.id.node));
            for (param, b) in template.params.iter().zip(&rec.bindings) {
                if reads_missing_figures(&param.expr) {
                    prop_assert_eq!(b.source, Source::Fallback, "{}", b.param);
                }
            }
        }
    }
}

/// The backend example of `docs/templates.md`: profile → recommend → evaluate.
#[test]
fn the_backend_example_of_the_docs_runs() -> Result<(), Box<dyn std::error::Error>> {
    use rules_core::eval::{self, Plan};
    use rules_core::profile;
    use rules_core::records::{read_users, read_workouts, upsert_users, upsert_workouts};

    let workouts_jsonl = std::fs::read_to_string(fixture("workouts.jsonl"))?;
    let users_jsonl = std::fs::read_to_string(fixture("users.jsonl"))?;
    let template_text = std::fs::read_to_string(fixture("templates/pushup-ladder.chal"))?;

    // --- the example ---
    let catalog = Catalog::builtin();
    let as_of = AsOf::parse("2026-09-01T00:00:00+08:00").ok_or("not a time")?;
    let workouts = upsert_workouts(read_workouts(&workouts_jsonl).into_records());
    let users = upsert_users(read_users(&users_jsonl).into_records());

    // 1. Profile every user (in parallel), as of a time the caller gives.
    let profiles = profile::profiles_all(&users, &workouts, &catalog, &as_of, 90);

    // 2. Check the template and the expert's overrides once, then bind it per user.
    let template = rules_dsl::parse(&template_text).decls.remove(0);
    let overrides = BTreeMap::from([rules_core::template::parse_override("per_week=4")?]);
    let recommender = Recommender::new(&template, &catalog, overrides)?;
    let eligible: Vec<Profile> = profiles
        .into_iter()
        .filter(|p| {
            users
                .iter()
                .any(|u| u.id == p.user && recommender.is_eligible(u))
        })
        .collect();

    // 3. Each personal challenge is a plain, checked challenge: compile and evaluate it.
    let later = AsOf::parse("2026-09-20T00:00:00+08:00").ok_or("not a time")?;
    for result in recommender.recommend_all(&eligible) {
        match result {
            Ok(rec) => {
                let plan = Plan::compile(&rec.challenge, &catalog)?;
                let user = users.iter().find(|u| u.id == rec.user).ok_or("a user")?;
                let progress = eval::evaluate(&plan, user, &workouts, &later);
                println!(
                    "{} {:?} {:.2}",
                    progress.challenge, progress.status, progress.progress
                );
            }
            // A param that stays undefined for this user: report it, go on with the others.
            Err(e) => eprintln!("{e}"),
        }
    }
    // --- end of the example ---
    assert!(!eligible.is_empty());
    Ok(())
}
