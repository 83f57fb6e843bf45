//! The formatter: canonical layout, comments kept, meaning kept, idempotent.

use crate::{json, parse_ok, with_goal};

use crate::data_chal as data;

/// Formatting keeps the trees and is idempotent.
fn laws(source: &str) -> String {
    let formatted = rules_dsl::format(source).unwrap();
    let before: Vec<_> = parse_ok(source).iter().map(json).collect();
    let after: Vec<_> = parse_ok(&formatted).iter().map(json).collect();
    assert_eq!(
        before, after,
        "formatting changed the meaning:\n{formatted}"
    );
    assert_eq!(
        rules_dsl::format(&formatted).unwrap(),
        formatted,
        "not idempotent"
    );
    formatted
}

#[test]
fn the_spec_example_is_already_canonical() {
    let source = data("spec-example");
    assert_eq!(laws(&source), source);
}

#[test]
fn own_line_comments_are_kept_in_place() {
    let source = data("comments");
    assert_eq!(laws(&source), source);
}

#[test]
fn end_of_line_comments_move_above_their_line() {
    let formatted = laws(&data("eol-comments"));
    let expected = "\
// Own-line comment at the top.
// after the opening brace
challenge \"eol-comments\" {
    // after the title
    title \"End-of-line comments\"
    // after the window
    window 2026-08-01 to 2026-08-31

    // after all
    goal all {
        // thirty push-ups
        sum(reps of push_up) >= 30
        // twenty minutes
        sum(duration of cardio) >= 20 min
        // after the closing brace of all
    }
}
";
    assert_eq!(formatted, expected);
}

#[test]
fn fields_are_reordered_with_their_comments() {
    let source = "challenge \"x\" {\n  // the goal\n  goal every day { sum(reps) >= 1 }\n  // the window\n  window 2026-08-01 to 2026-08-31\n  reward \"r\"\n  // the title\n  title \"T\"\n  // at the end\n}\n// after everything\n";
    let expected = "\
challenge \"x\" {
    // the title
    title \"T\"
    // the window
    window 2026-08-01 to 2026-08-31
    reward \"r\"

    // the goal
    goal every day {
        sum(reps) >= 1
    }
    // at the end
}
// after everything
";
    assert_eq!(laws(source), expected);
}

#[test]
fn templates_expressions_and_many_declarations() {
    let source = format!("{}\n{}", data("template-expressions"), data("conditions"));
    let formatted = laws(&source);
    assert!(formatted.contains("\n}\n\nchallenge \"conditions\" {\n"));
    assert!(formatted.contains("    param b: count = $a - (2 - 1) - 1\n"));
    assert!(formatted.contains("    param c: count = $a / ($b * 2) + 10 / 5 / 2\n"));
}

#[test]
fn blocks_print_their_goals_one_per_line() {
    let formatted = laws(&with_goal(
        "on 1 days { in one workout { sum(reps) >= 1 count(sets)>=2 } }",
    ));
    assert!(formatted.contains(
        "    goal on 1 day {\n        in one workout {\n            sum(reps) >= 1\n            count(sets) >= 2\n        }\n    }\n"
    ));
    // A block's explicit `all` of one goal must stay, or the tree would change.
    let formatted = laws(&with_goal("every day { all { sum(reps) >= 1 } }"));
    assert!(formatted.contains(
        "    goal every day {\n        all {\n            sum(reps) >= 1\n        }\n    }\n"
    ));
}

#[test]
fn syntax_errors_are_not_formatted() {
    let errors = rules_dsl::format(&with_goal("sum(reps) > 1")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(rules_dsl::format("").is_err());
}

#[test]
fn decompiling_a_tree_and_compiling_it_again_is_the_identity() {
    for name in [
        "spec-example",
        "template-expressions",
        "conditions",
        "units",
        "comments",
    ] {
        let trees = parse_ok(&data(name));
        let printed = rules_dsl::print_file(&trees);
        assert_eq!(parse_ok(&printed), trees, "{name}");
        assert_eq!(rules_dsl::print(&trees[0]), printed, "{name}");
    }
}

#[test]
fn a_left_out_timezone_stays_out_and_a_written_one_stays() {
    // The tree stores the default; formatting keeps what the author wrote (a canonical text
    // without a `timezone` line is already formatted), decompiling always prints it.
    let without = "challenge \"x\" {\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n\n    goal count(workouts) >= 1\n}\n";
    assert_eq!(laws(without), without);
    let with = without.replace("31\n", "31\n    timezone \"UTC\"\n");
    assert_eq!(laws(&with), with);
    let parsed = rules_dsl::parse(without);
    assert!(rules_dsl::print_file(&parsed.decls).contains("timezone \"UTC\""));
}

#[test]
fn teams_and_tiers_are_reordered_with_their_comments() {
    // Tiers and rewards interleaved: the canonical order is `teams` after `gyms`, the rewards,
    // then the tiers in the order written (language.md §10); each keeps its comment.
    let source = "challenge \"t\" {\n  // bronze first\n  tier \"bronze\" at 25%\n  reward \"Badge\" tier \"bronze\"\n  // the teams\n  teams \"coy-a\", \"coy-b\"\n  reward \"Finisher\" points 100\n  tier \"gold\" at 100 %\n  title \"T\"\n  gyms \"gym-01\"\n  window 2026-08-01 to 2026-08-31\n  goal sum(distance) >= 100 km\n}\n";
    let expected = "\
challenge \"t\" {
    title \"T\"
    window 2026-08-01 to 2026-08-31
    gyms \"gym-01\"
    // the teams
    teams \"coy-a\", \"coy-b\"
    reward \"Badge\" tier \"bronze\"
    reward \"Finisher\" points 100
    // bronze first
    tier \"bronze\" at 25 %
    tier \"gold\" at 100 %

    goal sum(distance) >= 100 km
}
";
    assert_eq!(laws(source), expected);
}
