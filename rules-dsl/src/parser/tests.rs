//! Grammar rules one by one (`grammar/challenge.pest`), with pest's own macros where they help.

use super::{ChallengeParser, Rule};
use pest::{consumes_to, fails_with, parses_to, Parser};

/// Whether `rule` matches all of `text`.
fn whole(rule: Rule, text: &str) -> bool {
    ChallengeParser::parse(rule, text).is_ok_and(|p| p.as_str() == text)
}

/// The text `rule` matches at the start of `text`.
fn prefix(rule: Rule, text: &str) -> Option<String> {
    ChallengeParser::parse(rule, text)
        .ok()
        .map(|p| p.as_str().to_owned())
}

/// The rules of the first pair's children.
fn children(rule: Rule, text: &str) -> Vec<(Rule, String)> {
    ChallengeParser::parse(rule, text)
        .unwrap()
        .next()
        .unwrap()
        .into_inner()
        .map(|p| (p.as_rule(), p.as_str().to_owned()))
        .collect()
}

#[test]
fn words_are_lowercase_identifiers() {
    for ok in ["leg_press", "a", "x1_y2", "days"] {
        assert!(whole(Rule::word, ok), "{ok}");
    }
    for bad in ["Leg", "1a", "_x", "légpress"] {
        assert!(!whole(Rule::word, bad), "{bad}");
    }
}

#[test]
fn keywords_are_whole_words() {
    for kw in rules_core::catalog::KEYWORDS {
        assert!(whole(Rule::keyword, kw), "{kw}");
    }
    for not_kw in ["ones", "only", "into", "dayz", "summary", "at_least"] {
        assert_eq!(prefix(Rule::keyword, not_kw), None, "{not_kw}");
    }
}

#[test]
fn numbers_have_no_sign_and_no_exponent() {
    for ok in ["30", "2.5", "0.75", "007"] {
        assert!(whole(Rule::number, ok), "{ok}");
    }
    assert_eq!(prefix(Rule::number, "2."), Some("2".into()));
    assert!(!whole(Rule::number, ".5"));
    assert!(!whole(Rule::number, "-3"));
    assert_eq!(prefix(Rule::number, "1e5"), Some("1".into()));
}

#[test]
fn quantities_take_a_unit_on_the_same_line() {
    parses_to! {
        parser: ChallengeParser,
        input: "8.5 km/h",
        rule: Rule::quantity,
        tokens: [quantity(0, 8, [number(0, 3), unit(4, 8)])]
    };
    parses_to! {
        parser: ChallengeParser,
        input: "40kg",
        rule: Rule::quantity,
        tokens: [quantity(0, 4, [number(0, 2), unit(2, 4)])]
    };
    for (text, unit) in [
        ("2 %", "%"),
        ("3 m/s", "m/s"),
        ("3 mi", "mi"),
        ("3 m", "m"),
        ("1 kJ", "kJ"),
        ("12\tmin", "min"),
    ] {
        assert_eq!(
            children(Rule::quantity, text)
                .last()
                .map(|(_, u)| u.as_str()),
            Some(unit),
            "{text}"
        );
    }
    assert_eq!(prefix(Rule::quantity, "30\nsum(reps)"), Some("30".into()));
    assert_eq!(prefix(Rule::quantity, "2 min(duration)"), Some("2".into()));
    assert_eq!(prefix(Rule::quantity, "2 min (duration)"), Some("2".into()));
    assert_eq!(prefix(Rule::quantity, "2 and"), Some("2".into()));
    assert_eq!(children(Rule::quantity, "20 kgs")[1].0, Rule::bad_unit);
    assert_eq!(children(Rule::quantity, "5 KM")[1].0, Rule::bad_unit);
}

#[test]
fn strings_dates_and_params() {
    assert!(whole(Rule::string, r#""a \"b\" \\ \n \t""#));
    assert!(whole(Rule::string, r#""""#));
    assert!(!whole(Rule::string, "\"a\nb\""));
    assert!(!whole(Rule::string, "\"open"));
    assert!(whole(Rule::date, "2026-08-01"));
    assert!(!whole(Rule::date, "2026-8-1"));
    assert!(whole(Rule::param_ref, "$daily"));
    assert!(whole(Rule::param_ref, "$count"));
    assert!(!whole(Rule::param_ref, "$ daily"));
    fails_with! {
        parser: ChallengeParser,
        input: "2026-08",
        rule: Rule::date,
        positives: [Rule::date],
        negatives: [],
        pos: 0
    };
}

#[test]
fn periods_take_both_forms() {
    for p in ["day", "days", "week", "weeks", "month", "months"] {
        assert!(whole(Rule::period, p), "{p}");
    }
    assert!(!whole(Rule::period, "fortnight"));
    assert_eq!(prefix(Rule::period, "dayz"), None);
}

#[test]
fn goals() {
    for g in [
        "sum(reps of leg_press where weight >= 40 kg) >= 30",
        "count(workouts) >= 1",
        "avg(heart_rate of (bike | rower)) <= 150 bpm",
        "all { count(workouts) >= 1 }",
        "any { count(workouts) >= 1 count(sets) >= 2 }",
        "at least 2 of { count(workouts) >= 1 }",
        "at least $n of { count(workouts) >= 1 }",
        "every day { count(workouts) >= 1 }",
        "on 3 days { count(workouts) >= 1 }",
        "streak 1 week { count(workouts) >= 1 }",
        "in one workout { count(workouts) >= 1 }",
    ] {
        assert!(whole(Rule::goal, g), "{g}");
    }
    for bad in [
        "all { }",
        "sum(reps) > 3",
        "every { count(workouts) >= 1 }",
        "sum reps >= 3",
    ] {
        assert!(!whole(Rule::goal, bad), "{bad}");
    }
}

#[test]
fn conditions() {
    for c in [
        "weight >= 40 kg",
        "exercise == leg_press",
        "gym == \"gym-01\"",
        "weekday in (sat, sun)",
        "not not not hour < 7",
        "a == 1 and b == 2 or (c == 3 and not d in (1, 2))",
        "weight >= $w",
    ] {
        assert!(whole(Rule::or_cond, c), "{c}");
    }
    assert!(!whole(Rule::or_cond, "weight >= "));
    assert!(!whole(Rule::or_cond, "and == 1"));
    // `not` is a repetition: one pair per `not`, then the atom.
    let kids = children(Rule::not_cond, "not not x == 1");
    let rules: Vec<Rule> = kids.iter().map(|(r, _)| *r).collect();
    assert_eq!(rules, vec![Rule::kw_not, Rule::kw_not, Rule::cond_atom]);
}

#[test]
fn params_and_expressions() {
    for p in [
        "param daily: count = clamp(round(profile.max_reps_per_min(push_up) * 1.1), 10, 100) else 20",
        "param pace: speed = round_to(profile.best_speed(treadmill) * 1.05, 0.5 km/h) else 8 km/h",
        "param w: count = profile.weekly_workouts",
        "param x: count = ($a - (2 - 1)) / 2",
    ] {
        assert!(whole(Rule::param_decl, p), "{p}");
    }
    assert!(!whole(Rule::param_decl, "param x = 3"));
    assert!(!whole(Rule::param_decl, "param x: count = "));
}

#[test]
fn declarations_and_items() {
    let src = "challenge \"x\" {\n title \"T\"\n window 2026-08-01 to 2026-08-31\n goal count(workouts) >= 1\n}";
    assert!(whole(Rule::declaration, src));
    assert!(whole(Rule::decl_file, src));
    for item in [
        "title \"T\"",
        "description \"D\"",
        "window 2026-08-01 to 2026-08-31",
        "timezone \"Asia/Singapore\"",
        "groups \"a\", \"b\"",
        "gyms \"g\"",
        "reward \"r\"",
        "reward \"r\" points 100",
        "param n: count = 3",
        "goal count(workouts) >= 1",
    ] {
        assert!(whole(Rule::item, item), "{item}");
    }
    assert!(!whole(Rule::item, "titel \"T\""));
    parses_to! {
        parser: ChallengeParser,
        input: "title \"T\"",
        rule: Rule::item,
        tokens: [item(0, 9, [title_field(0, 9, [kw_title(0, 5), string(6, 9, [string_inner(7, 8)])])])]
    };
}
