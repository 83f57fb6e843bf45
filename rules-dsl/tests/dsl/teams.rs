//! Teams and tiers (language.md §10): the syntax, the tree, E0014 with its help and place, and
//! the error recovery around `tier`, which both ends a reward and begins a tier line.

use rules_core::catalog::Catalog;
use rules_core::check::{check_file, Layout};
use rules_core::{Code, Diagnostic};
use serde_json::json;

use crate::{diagnostics, json, one, parse_ok};

/// The checker's diagnostics of `source`, which must parse.
fn checked(source: &str) -> Vec<Diagnostic> {
    check_file(&parse_ok(source), &Catalog::builtin(), Layout::Single)
}

/// `(code, line, underlined text)` of each diagnostic.
fn places(source: &str, ds: &[Diagnostic]) -> Vec<(Code, usize, String)> {
    ds.iter()
        .map(|d| {
            let line = rules_dsl::locate(source, d.span).unwrap().line;
            let text = source.get(d.span.range().unwrap()).unwrap().to_owned();
            (d.code, line, text)
        })
        .collect()
}

fn decl(body: &str) -> String {
    format!(
        "challenge \"t\" {{\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n{body}\n    goal count(workouts) >= 10\n}}\n"
    )
}

#[test]
fn teams_tiers_and_reward_tiers_build_the_tree() {
    let tree = one(&decl(
        "    teams \"coy-a\", \"coy-b\"\n    reward \"Gold\" points 5 tier \"gold\"\n    reward \"Done\" points 1\n    tier \"gold\" at 100 %\n    tier \"half\" at 50%",
    ));
    let v = json(&tree);
    assert_eq!(v["teams"], json!(["coy-a", "coy-b"]));
    assert_eq!(
        v["rewards"],
        json!([{"name": "Gold", "points": 5, "tier": "gold"}, {"name": "Done", "points": 1}])
    );
    assert_eq!(
        v["tiers"],
        json!([
            {"name": "gold", "at": {"value": 100, "unit": "%"}},
            {"name": "half", "at": {"value": 50, "unit": "%"}}
        ])
    );
    assert!(checked(&decl("    teams \"coy-a\"\n    tier \"x\" at 10 %")).is_empty());
}

#[test]
fn a_version_1_tree_has_no_new_keys() {
    let v = json(&one(&decl("    reward \"Done\" points 1")));
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert!(
        !keys.contains(&"teams") && !keys.contains(&"tiers"),
        "{keys:?}"
    );
    assert_eq!(v["rewards"], json!([{"name": "Done", "points": 1}]));
}

#[test]
fn a_tier_word_after_a_reward_belongs_to_the_reward_unless_at_follows() {
    let tree = one(&decl(
        "    reward \"Done\" points 1\n    tier \"half\" at 50 %\n    reward \"Half\" tier \"half\"",
    ));
    assert_eq!(tree.rewards.len(), 2);
    assert!(tree.rewards[0].tier.is_none());
    assert_eq!(tree.rewards[1].tier.as_ref().unwrap().node, "half");
    assert_eq!(tree.tiers.len(), 1);
}

#[test]
fn thresholds_out_of_range_or_not_percent_are_e0014_on_their_line() {
    let src = decl(
        "    tier \"zero\" at 0 %\n    tier \"over\" at 120 %\n    tier \"mass\" at 50 kg\n    tier \"bare\" at 50\n    tier \"top\" at 100 %\n    tier \"tiny\" at 0.5 %",
    );
    let ds = checked(&src);
    assert_eq!(
        places(&src, &ds),
        vec![
            (Code::E0014, 4, "0 %".to_owned()),
            (Code::E0014, 5, "120 %".to_owned()),
            (Code::E0014, 6, "50 kg".to_owned()),
            (Code::E0014, 7, "50".to_owned()),
        ]
    );
    assert!(ds[1].message.contains("120 %"), "{}", ds[1].message);
    assert!(ds[1].help.as_deref().unwrap().contains("(0 %, 100 %]"));
    assert!(ds[2].message.contains("not a percent"), "{}", ds[2].message);
    assert_eq!(
        ds[3].help.as_deref(),
        Some("a tier threshold is a percent of the progress, such as `at 50 %`")
    );
}

#[test]
fn duplicate_tiers_are_reported_at_the_second() {
    let src = decl(
        "    tier \"gold\" at 100 %\n    tier \"silver\" at 50 %\n    tier \"gold\" at 90 %\n    tier \"half\" at 50.0 %",
    );
    let ds = checked(&src);
    let p = places(&src, &ds);
    assert_eq!(p.len(), 2, "{ds:#?}");
    assert_eq!((p[0].0, p[0].1), (Code::E0014, 6));
    assert!(ds[0].message.contains("`gold` is given twice"));
    assert_eq!((p[1].0, p[1].1), (Code::E0014, 7));
    assert!(ds[1].message.contains("same threshold") && ds[1].message.contains("`silver`"));
}

#[test]
fn a_reward_naming_a_missing_tier_is_e0014_with_did_you_mean() {
    let src = decl("    reward \"P\" points 5 tier \"gld\"\n    tier \"gold\" at 100 %");
    let ds = checked(&src);
    assert_eq!(
        places(&src, &ds),
        vec![(Code::E0014, 4, "\"gld\"".to_owned())]
    );
    assert!(ds[0].message.contains("`gld`"));
    assert_eq!(ds[0].help.as_deref(), Some("did you mean `gold`?"));
    let none = decl("    reward \"S\" tier \"silver\"");
    let ds = checked(&none);
    assert_eq!(ds.len(), 1);
    assert!(ds[0]
        .help
        .as_deref()
        .unwrap()
        .contains("tier \"silver\" at 50 %"));
}

#[test]
fn teams_with_groups_twice_empty_or_in_a_template_are_e0014() {
    let src = decl("    groups \"nsfit\"\n    teams \"coy-a\", \"\", \"coy-a\"");
    let ds = checked(&src);
    let p = places(&src, &ds);
    assert_eq!(p.len(), 3, "{ds:#?}");
    assert!(p
        .iter()
        .all(|(code, line, _)| *code == Code::E0014 && *line == 5));
    assert!(ds.iter().any(|d| d.message.contains("`groups`")));
    assert!(ds.iter().any(|d| d.message.contains("empty name")));
    assert!(ds
        .iter()
        .any(|d| d.message.contains("`coy-a` is listed twice")));
    let template = "template \"t\" {\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n    teams \"a\"\n    tier \"half\" at 50 %\n    param n: count = 3\n    goal count(workouts) >= $n\n}\n";
    let ds = checked(template);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(ds[0].code, Code::E0014);
    assert!(ds[0].message.contains("template"));
}

#[test]
fn teams_given_twice_is_e0002_at_the_second() {
    let src = decl("    teams \"a\"\n    teams \"b\"");
    let ds = diagnostics(&src);
    assert_eq!(
        places(&src, &ds),
        vec![(Code::E0002, 5, "teams \"b\"".to_owned())]
    );
}

#[test]
fn a_param_threshold_is_e0001_with_help() {
    let src = decl("    tier \"half\" at $p");
    let ds = diagnostics(&src);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(ds[0].code, Code::E0001);
    assert!(
        ds[0].message.contains("cannot be a param (`$p`)"),
        "{}",
        ds[0].message
    );
    assert_eq!(
        ds[0].help.as_deref(),
        Some("write a literal percent such as `at 50 %`")
    );
}

#[test]
fn a_broken_item_next_to_reward_tiers_does_not_split_the_reward() {
    // Error recovery parses items one by one: `tier "gold"` of the reward stays with it.
    let src =
        decl("    reward \"Gold\" tier \"gold\"\n    tier \"gold\" at 100 %\n    titel \"x\"");
    let ds = diagnostics(&src);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert!(ds[0].message.contains("unknown header field `titel`"));
}

#[test]
fn teams_and_tier_are_reserved_words() {
    let ds = diagnostics(&crate::with_goal("sum(reps of tier) >= 1"));
    assert_eq!(ds[0].code, Code::E0001);
    assert!(ds[0].message.contains("`tier` is a reserved word"));
}
