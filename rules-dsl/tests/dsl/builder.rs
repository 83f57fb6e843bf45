//! Text → tree: the spec's examples give the spec's JSON, and every node kind builds as
//! language.md §9 says, with spans where the checker needs them.

use rules_core::span::Span;
use rules_core::tree::{Condition, Count, Goal, Period, Target, Value};
use serde_json::json;

use crate::{data_chal, json, one, parse_ok, with_goal, HEAD};

/// `NAME.chal` ([`data_chal`]) compiles to `tests/data/NAME.json`.
fn compiles_to_data(name: &str) {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    let source = data_chal(name);
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}{name}.json")).unwrap())
            .unwrap();
    assert_eq!(json(&one(&source)), expected, "{name}");
}

#[test]
fn the_example_of_section_1_gives_the_tree_of_section_9() {
    compiles_to_data("spec-example");
}

#[test]
fn conformance_trees_build_word_for_word() {
    for name in [
        "conditions",
        "units",
        "template-expressions",
        "comments",
        "eol-comments",
    ] {
        compiles_to_data(name);
    }
}

const SECTION_5: &str = r#"
template "nsfit-pushups" {
    title "NSFIT push-up ladder"
    window 2026-09-01 to 2026-09-28
    timezone "Asia/Singapore"
    groups "nsfit"
    param daily: count = clamp(round(profile.max_reps_per_min(push_up) * 1.1), 10, 100) else 20
    param pace: speed = round_to(profile.best_speed(treadmill) * 1.05, 0.5 km/h) else 8 km/h
    goal all {
        every day { sum(reps of push_up) >= $daily }
        on 8 days { max(speed of treadmill where duration >= 12 min) >= $pace }
    }
}
"#;

#[test]
fn the_template_of_section_5_builds() {
    let num = |v: serde_json::Value, u: Option<&str>| json!({"kind": "number", "value": {"value": v, "unit": u}});
    let expected = json!({
        "version": 1,
        "kind": "template",
        "id": "nsfit-pushups",
        "title": "NSFIT push-up ladder",
        "description": null,
        "window": {"start": "2026-09-01", "end": "2026-09-28"},
        "timezone": "Asia/Singapore",
        "groups": ["nsfit"],
        "gyms": [],
        "rewards": [],
        "params": [
            {
                "name": "daily",
                "dimension": "count",
                "expr": {"kind": "call", "func": "clamp", "args": [
                    {"kind": "call", "func": "round", "args": [
                        {"kind": "binary", "op": "*",
                         "left": {"kind": "profile", "metric": "max_reps_per_min", "exercise": "push_up"},
                         "right": num(json!(1.1), None)}
                    ]},
                    num(json!(10), None),
                    num(json!(100), None)
                ]},
                "fallback": num(json!(20), None)
            },
            {
                "name": "pace",
                "dimension": "speed",
                "expr": {"kind": "call", "func": "round_to", "args": [
                    {"kind": "binary", "op": "*",
                     "left": {"kind": "profile", "metric": "best_speed", "exercise": "treadmill"},
                     "right": num(json!(1.05), None)},
                    num(json!(0.5), Some("km/h"))
                ]},
                "fallback": num(json!(8), Some("km/h"))
            }
        ],
        "goal": {"kind": "all", "goals": [
            {"kind": "every", "period": "day", "goal":
                {"kind": "metric", "aggregate": "sum", "measure": "reps", "of": ["push_up"],
                 "where": null, "op": ">=", "target": {"param": "daily"}}},
            {"kind": "on", "count": 8, "period": "day", "goal":
                {"kind": "metric", "aggregate": "max", "measure": "speed", "of": ["treadmill"],
                 "where": {"kind": "compare", "field": "duration", "op": ">=",
                           "value": {"value": 12, "unit": "min"}},
                 "op": ">=", "target": {"param": "pace"}}}
        ]}
    });
    assert_eq!(json(&one(SECTION_5)), expected);
}

fn goal_json(goal: &str) -> serde_json::Value {
    json(&one(&with_goal(goal)).goal)
}

fn metric(measure: &str) -> serde_json::Value {
    json!({"kind": "metric", "aggregate": "count", "measure": measure, "of": [], "where": null,
           "op": ">=", "target": {"value": 1, "unit": null}})
}

#[test]
fn every_goal_kind_builds() {
    let w = metric("workouts");
    let s = metric("sets");
    assert_eq!(
        goal_json("all { count(workouts) >= 1 count(sets) >= 1 }"),
        json!({"kind": "all", "goals": [w, s]})
    );
    assert_eq!(
        goal_json("any { count(workouts) >= 1 }"),
        json!({"kind": "any", "goals": [w]})
    );
    assert_eq!(
        goal_json("at least 2 of { count(workouts) >= 1 count(sets) >= 1 }"),
        json!({"kind": "at_least", "count": 2, "goals": [w, s]})
    );
    assert_eq!(
        goal_json("every week { count(workouts) >= 1 }"),
        json!({"kind": "every", "period": "week", "goal": w})
    );
    assert_eq!(
        goal_json("on 3 days { count(workouts) >= 1 }"),
        json!({"kind": "on", "count": 3, "period": "day", "goal": w})
    );
    assert_eq!(
        goal_json("streak 2 months { count(workouts) >= 1 }"),
        json!({"kind": "streak", "count": 2, "period": "month", "goal": w})
    );
    assert_eq!(
        goal_json("in one workout { count(workouts) >= 1 }"),
        json!({"kind": "one_workout", "goal": w})
    );
    assert_eq!(goal_json("count(workouts) >= 1"), w);
    assert_eq!(
        goal_json("min(heart_rate) <= 150 bpm"),
        json!({"kind": "metric", "aggregate": "min", "measure": "heart_rate", "of": [], "where": null,
               "op": "<=", "target": {"value": 150, "unit": "bpm"}})
    );
}

#[test]
fn a_block_of_several_goals_stores_one_all() {
    let w = metric("workouts");
    let s = metric("sets");
    for head in ["every day", "on 2 days", "streak 3 weeks", "in one workout"] {
        let g = goal_json(&format!(
            "{head} {{ count(workouts) >= 1 count(sets) >= 1 }}"
        ));
        assert_eq!(g["goal"], json!({"kind": "all", "goals": [w, s]}), "{head}");
    }
}

#[test]
fn periods_take_either_form_and_store_the_singular() {
    for (text, period) in [
        ("1 day", Period::Day),
        ("1 days", Period::Day),
        ("7 day", Period::Day),
        ("7 weeks", Period::Week),
        ("1 month", Period::Month),
    ] {
        let g = one(&with_goal(&format!("on {text} {{ count(workouts) >= 1 }}"))).goal;
        assert!(
            matches!(g, Goal::On { period: p, .. } if p == period),
            "{text}"
        );
    }
}

#[test]
fn params_may_stand_for_n_target_and_value() {
    let src = "template \"t\" {\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n    param n: count = 3\n    param w: mass = 40 kg\n    goal at least $n of { sum(reps where weight >= $w) >= $n }\n}\n";
    let g = json(&one(src).goal);
    assert_eq!(g["count"], json!({"param": "n"}));
    assert_eq!(g["goals"][0]["target"], json!({"param": "n"}));
    assert_eq!(g["goals"][0]["where"]["value"], json!({"param": "w"}));
}

#[test]
fn selectors() {
    let of = |sel: &str| goal_json(&format!("sum(reps{sel}) >= 1"))["of"].clone();
    assert_eq!(of(""), json!([]));
    assert_eq!(of(" of any"), json!([]));
    assert_eq!(of(" of leg_press"), json!(["leg_press"]));
    assert_eq!(of(" of cardio"), json!(["cardio"]));
    assert_eq!(
        of(" of (bike | rower | strength)"),
        json!(["bike", "rower", "strength"])
    );
    // `count` takes `days` (a keyword) as its measure.
    assert_eq!(
        goal_json("count(days of cardio) >= 4")["measure"],
        json!("days")
    );
}

fn where_json(cond: &str) -> serde_json::Value {
    goal_json(&format!("count(workouts where {cond}) >= 1"))["where"].clone()
}

fn cmp(field: &str, op: &str, value: serde_json::Value) -> serde_json::Value {
    json!({"kind": "compare", "field": field, "op": op, "value": value})
}

#[test]
fn conditions_follow_precedence_and_keep_chains_flat() {
    let a = cmp("hour", ">", json!({"value": 1, "unit": null}));
    let b = cmp("hour", "<", json!({"value": 9, "unit": null}));
    let c = cmp("weekday", "==", json!("mon"));
    assert_eq!(
        where_json("hour > 1 and hour < 9 and weekday == mon"),
        json!({"kind": "and", "terms": [a, b, c]})
    );
    assert_eq!(
        where_json("hour > 1 or hour < 9 and weekday == mon"),
        json!({"kind": "or", "terms": [a, {"kind": "and", "terms": [b, c]}]})
    );
    assert_eq!(
        where_json("(hour > 1 and hour < 9) and weekday == mon"),
        json!({"kind": "and", "terms": [{"kind": "and", "terms": [a, b]}, c]})
    );
    assert_eq!(
        where_json("not hour > 1 and hour < 9"),
        json!({"kind": "and", "terms": [{"kind": "not", "term": a}, b]})
    );
    assert_eq!(
        where_json("not not hour > 1"),
        json!({"kind": "not", "term": {"kind": "not", "term": a}})
    );
    assert_eq!(
        where_json("not (hour > 1 or hour < 9)"),
        json!({"kind": "not", "term": {"kind": "or", "terms": [a, b]}})
    );
}

#[test]
fn condition_values() {
    assert_eq!(
        where_json("exercise == leg_press"),
        cmp("exercise", "==", json!("leg_press"))
    );
    assert_eq!(
        where_json("exercise != \"leg_press\""),
        cmp("exercise", "!=", json!("leg_press"))
    );
    assert_eq!(
        where_json("gym == \"gym-01\""),
        cmp("gym", "==", json!("gym-01"))
    );
    assert_eq!(
        where_json("incline >= 2.5 %"),
        cmp("incline", ">=", json!({"value": 2.5, "unit": "%"}))
    );
    assert_eq!(
        where_json("weekday in (sat, sun)"),
        json!({"kind": "in", "field": "weekday", "values": ["sat", "sun"]})
    );
    assert_eq!(
        where_json("machine in (\"tm-01\", \"a \\\"b\\\" \\\\ c\\n\\t\")"),
        json!({"kind": "in", "field": "machine", "values": ["tm-01", "a \"b\" \\ c\n\t"]})
    );
}

#[test]
fn units_are_read_by_longest_match_on_the_same_line_only() {
    let target = |t: &str| goal_json(&format!("sum(distance) >= {t}"))["target"].clone();
    assert_eq!(target("8.5 km/h"), json!({"value": 8.5, "unit": "km/h"}));
    assert_eq!(target("2.4km"), json!({"value": 2.4, "unit": "km"}));
    assert_eq!(target("3 m/s"), json!({"value": 3, "unit": "m/s"}));
    assert_eq!(target("3 mi"), json!({"value": 3, "unit": "mi"}));
    assert_eq!(target("3 m"), json!({"value": 3, "unit": "m"}));
    assert_eq!(target("2000 kJ"), json!({"value": 2000, "unit": "kJ"}));
    // A unit must be on the number's line; `min(` starts the next goal.
    let g = goal_json(
        "all { sum(reps) >= 30\n min(duration) <= 5 min sum(reps) >= 2 min(duration) <= 1 h }",
    );
    assert_eq!(g["goals"][0]["target"], json!({"value": 30, "unit": null}));
    assert_eq!(g["goals"][1]["target"], json!({"value": 5, "unit": "min"}));
    assert_eq!(g["goals"][2]["target"], json!({"value": 2, "unit": null}));
    assert_eq!(g["goals"][3]["aggregate"], json!("min"));
}

#[test]
fn expressions_fold_left_with_precedence() {
    let src = "template \"t\" {\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n    param a: count = 1 - 2 - 3 * 4 / 5\n    goal count(workouts) >= $a\n}\n";
    let n = |v: i32| json!({"kind": "number", "value": {"value": v, "unit": null}});
    let expected = json!({"kind": "binary", "op": "-",
        "left": {"kind": "binary", "op": "-", "left": n(1), "right": n(2)},
        "right": {"kind": "binary", "op": "/",
            "left": {"kind": "binary", "op": "*", "left": n(3), "right": n(4)},
            "right": n(5)}});
    assert_eq!(json(&one(src).params[0].expr), expected);
}

#[test]
fn header_fields_come_in_any_order_and_defaults_are_stored() {
    let src = "challenge \"x\" {\n    goal count(workouts) >= 1\n    window 2026-08-01 to 2026-08-31\n    reward \"a\"\n    title \"T\"\n    reward \"b\" points 5\n}\n";
    let d = json(&one(src));
    assert_eq!(d["title"], json!("T"));
    assert_eq!(d["timezone"], json!("UTC"));
    assert_eq!(d["groups"], json!([]));
    assert_eq!(d["gyms"], json!([]));
    assert_eq!(d["description"], json!(null));
    assert_eq!(
        d["rewards"],
        json!([{"name": "a", "points": null}, {"name": "b", "points": 5}])
    );
    assert_eq!(one(src).timezone.span, Span::NONE);
    assert!(!one(src).timezone.span.is_some());
}

#[test]
fn params_in_a_challenge_are_kept_for_the_checker() {
    let src = format!("{HEAD}    param n: count = 3\n    goal count(workouts) >= $n\n}}\n");
    let d = one(&src);
    assert_eq!(d.params.len(), 1);
    assert!(matches!(d.goal, Goal::Metric(m) if matches!(m.target, Target::Param(_))));
}

#[test]
fn several_declarations_in_source_order() {
    let src = format!("{}\n\ntemplate \"u\" {{\n    title \"U\"\n    window 2026-09-01 to 2026-09-30\n    goal count(workouts) >= 2\n}}\n", with_goal("count(workouts) >= 1"));
    let ids: Vec<String> = parse_ok(&src).into_iter().map(|d| d.id.node).collect();
    assert_eq!(ids, vec!["t", "u"]);
}

#[test]
fn spans_point_at_what_was_written() {
    let src = with_goal("at least 1 of { sum(reps of leg_press where weight >= 40 kg) >= $n }");
    let d = one(&src);
    let at = |span: Span| src.get(span.range().unwrap()).unwrap().to_owned();
    assert_eq!(at(d.id.span), "\"t\"");
    assert_eq!(at(d.title.span), "\"T\"");
    assert_eq!(at(d.window.start.span), "2026-08-01");
    assert!(at(d.span).starts_with("challenge") && at(d.span).ends_with('}'));
    let Goal::AtLeast { count, goals, span } = &d.goal else {
        panic!()
    };
    assert!(at(*span).starts_with("at least 1 of {"));
    assert_eq!(at(count.span()), "1");
    assert!(matches!(count, Count::Literal(n) if n.node == 1));
    let Goal::Metric(m) = &goals[0] else { panic!() };
    assert_eq!(
        at(m.span),
        "sum(reps of leg_press where weight >= 40 kg) >= $n"
    );
    assert_eq!(at(m.measure.span), "reps");
    assert_eq!(at(m.of[0].span), "leg_press");
    assert_eq!(at(m.target.span()), "$n");
    let Some(Condition::Compare {
        field, value, span, ..
    }) = &m.where_
    else {
        panic!()
    };
    assert_eq!(at(*span), "weight >= 40 kg");
    assert_eq!(at(field.span), "weight");
    assert_eq!(at(value.span()), "40 kg");
    assert!(matches!(value, Value::Quantity(q) if q.unit.as_deref() == Some("kg")));
}

#[test]
fn comments_and_blank_lines_are_insignificant() {
    let src = "// top\nchallenge \"x\" { // eol\n  title \"T\" // t\n\n\n  window 2026-08-01 to 2026-08-31\n  // before goal\n  goal count(workouts) >= 1 // end\n} // after\n// bottom\n";
    assert_eq!(json(&one(src).goal), metric("workouts"));
}
