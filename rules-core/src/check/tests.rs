//! Tests of the checker: one or more per check, asserting code, message words, help and path.

use std::collections::HashMap;

use serde_json::{json, Value as Json};

use super::*;
use crate::diagnostic::Severity;
use crate::span::Spanned;
use crate::tree::{Condition, Expr, Goal, Quantity, Target};

/// A valid challenge whose parts the tests replace.
fn base() -> Json {
    json!({
        "version": 1, "kind": "challenge", "id": "c-1", "title": "T", "description": null,
        "window": {"start": "2026-08-01", "end": "2026-08-31"},
        "timezone": "UTC", "groups": [], "gyms": [], "rewards": [], "params": [],
        "goal": count_workouts(1)
    })
}

fn count_workouts(n: u64) -> Json {
    json!({"kind": "metric", "aggregate": "count", "measure": "workouts", "of": [], "where": null,
           "op": ">=", "target": {"value": n, "unit": null}})
}

fn metric(aggregate: &str, measure: &str, of: &[&str], where_: Json, target: Json) -> Json {
    json!({"kind": "metric", "aggregate": aggregate, "measure": measure, "of": of, "where": where_,
           "op": ">=", "target": target})
}

fn q(value: f64, unit: Option<&str>) -> Json {
    json!({"value": value, "unit": unit})
}

fn cmp(field: &str, op: &str, value: Json) -> Json {
    json!({"kind": "compare", "field": field, "op": op, "value": value})
}

fn with_goal(goal: Json) -> Json {
    let mut v = base();
    v["goal"] = goal;
    v
}

fn template(params: Json, goal: Json) -> Json {
    let mut v = with_goal(goal);
    v["kind"] = json!("template");
    v["params"] = params;
    v
}

fn param(name: &str, dimension: &str, expr: Json, fallback: Json) -> Json {
    json!({"name": name, "dimension": dimension, "expr": expr, "fallback": fallback})
}

fn num(value: f64, unit: Option<&str>) -> Json {
    json!({"kind": "number", "value": q(value, unit)})
}

/// The tree of `v`, read as every JSON tree is (`crate::json`).
fn tree(v: Json) -> Challenge {
    crate::json::read_tree(&v).unwrap()
}

/// The expression `e`, read as a template param's.
fn expr(e: Json) -> Expr {
    let params = json!([param("p", "mass", e, num(1.0, Some("kg")))]);
    let mut decl = tree(template(params, count_workouts(1)));
    decl.params.remove(0).expr
}

fn run(v: Json) -> Vec<Diagnostic> {
    check(&tree(v), &Catalog::builtin())
}

/// Exactly one diagnostic, with this code and path; returns it.
fn one(v: Json, code: Code, path: &str) -> Diagnostic {
    let ds = run(v);
    assert_eq!(ds.len(), 1, "expected one diagnostic, got {ds:#?}");
    let d = ds.into_iter().next().unwrap();
    assert_eq!((d.code, d.path.as_str()), (code, path), "{d:#?}");
    d
}

fn mentions(d: &Diagnostic, words: &[&str]) {
    for w in words {
        assert!(d.message.contains(w), "message {:?} lacks {w:?}", d.message);
    }
}

fn help(d: &Diagnostic) -> &str {
    d.help.as_deref().unwrap_or_default()
}

fn codes(ds: &[Diagnostic]) -> Vec<(Code, &str)> {
    ds.iter().map(|d| (d.code, d.path.as_str())).collect()
}

#[test]
fn the_spec_example_is_clean() {
    let goal = json!({"kind": "every", "period": "day", "goal": {"kind": "any", "goals": [
        metric("sum", "reps", &["leg_press"], cmp("weight", ">=", q(40.0, Some("kg"))), q(30.0, None)),
        metric("sum", "duration", &["cardio"], Json::Null, q(20.0, Some("min")))
    ]}});
    let mut v = with_goal(goal);
    v["timezone"] = json!("Asia/Singapore");
    assert_eq!(run(v), vec![]);
}

#[test]
fn the_spec_template_is_clean() {
    let daily = json!({"kind": "call", "func": "clamp", "args": [
        {"kind": "call", "func": "round", "args": [
            {"kind": "binary", "op": "*",
             "left": {"kind": "profile", "metric": "max_reps_per_min", "exercise": "push_up"},
             "right": num(1.1, None)}]},
        num(10.0, None), num(100.0, None)]});
    let pace = json!({"kind": "call", "func": "round_to", "args": [
        {"kind": "binary", "op": "*",
         "left": {"kind": "profile", "metric": "best_speed", "exercise": "treadmill"},
         "right": num(1.05, None)},
        num(0.5, Some("km/h"))]});
    let goal = json!({"kind": "all", "goals": [
        {"kind": "every", "period": "day", "goal":
            metric("sum", "reps", &["push_up"], Json::Null, json!({"param": "daily"}))},
        {"kind": "on", "count": 8, "period": "day", "goal":
            metric("max", "speed", &["treadmill"], cmp("duration", ">=", q(12.0, Some("min"))), json!({"param": "pace"}))}
    ]});
    let v = template(
        json!([
            param("daily", "count", daily, num(20.0, None)),
            param("pace", "speed", pace, num(8.0, Some("km/h")))
        ]),
        goal,
    );
    assert_eq!(run(v), vec![]);
}

#[test]
fn e0003_window_ends_before_it_starts() {
    let mut v = base();
    v["window"] = json!({"start": "2026-08-10", "end": "2026-08-01"});
    let d = one(v, Code::E0003, "window.end");
    mentions(&d, &["2026-08-01", "2026-08-10"]);
}

#[test]
fn e0004_unknown_timezone_with_suggestion() {
    let mut v = base();
    v["timezone"] = json!("Europe/Londres");
    let d = one(v.clone(), Code::E0004, "timezone");
    mentions(&d, &["`Europe/Londres`"]);
    assert_eq!(help(&d), "did you mean `Europe/London`?");
    v["timezone"] = json!("asia/singapore");
    assert_eq!(
        help(&one(v.clone(), Code::E0004, "timezone")),
        "did you mean `Asia/Singapore`?"
    );
    v["timezone"] = json!("Mars/Olympus_Mons");
    assert!(help(&one(v.clone(), Code::E0004, "timezone")).contains("IANA"));
    v["timezone"] = json!("");
    one(v, Code::E0004, "timezone");
}

#[test]
fn e0005_unknown_exercises_everywhere() {
    let d = one(
        with_goal(metric(
            "sum",
            "reps",
            &["push_upp"],
            Json::Null,
            q(30.0, None),
        )),
        Code::E0005,
        "goal.of[0]",
    );
    mentions(&d, &["`push_upp`"]);
    assert_eq!(help(&d), "did you mean `push_up`?");

    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("exercise", "==", json!("leg_pres")),
            q(1.0, None),
        )),
        Code::E0005,
        "goal.where.value",
    );
    assert_eq!(help(&d), "did you mean `leg_press`?");

    let values =
        json!({"kind": "in", "field": "exercise", "values": ["treadmill", "rowr", "cardio"]});
    let d = one(
        with_goal(metric("count", "workouts", &[], values, q(1.0, None))),
        Code::E0005,
        "goal.where.values[1]",
    );
    assert_eq!(help(&d), "did you mean `rower`?");

    let lookup = json!({"kind": "profile", "metric": "max_reps", "exercise": "push_upp"});
    let v = template(
        json!([param("n", "count", lookup, Json::Null)]),
        metric("sum", "reps", &[], Json::Null, json!({"param": "n"})),
    );
    let d = one(v, Code::E0005, "params[0].expr.exercise");
    assert_eq!(help(&d), "did you mean `push_up`?");

    let lookup = json!({"kind": "profile", "metric": "best_speed", "exercise": "cardio"});
    let v = template(
        json!([param("p", "speed", lookup, Json::Null)]),
        metric("max", "speed", &[], Json::Null, json!({"param": "p"})),
    );
    mentions(
        &one(v, Code::E0005, "params[0].expr.exercise"),
        &["category"],
    );
}

#[test]
fn e0006_measures_the_aggregate_does_not_take() {
    let d = one(
        with_goal(metric("sum", "workouts", &[], Json::Null, q(3.0, None))),
        Code::E0006,
        "goal.measure",
    );
    mentions(&d, &["`sum`", "`workouts`"]);
    assert!(help(&d).contains("count(workouts"));

    let d = one(
        with_goal(metric("count", "reps", &[], Json::Null, q(3.0, None))),
        Code::E0006,
        "goal.measure",
    );
    mentions(&d, &["`count`", "`reps`"]);
    assert!(help(&d).contains("sum(reps"));

    // No cascade: the wrong target dimension of an unknown measure is not also E0007.
    let d = one(
        with_goal(metric(
            "sum",
            "pace",
            &["treadmill"],
            Json::Null,
            q(3.0, Some("kg")),
        )),
        Code::E0006,
        "goal.measure",
    );
    mentions(&d, &["unknown measure", "`pace`"]);
    assert!(help(&d).contains("`distance`"));
    assert_eq!(
        help(&one(
            with_goal(metric(
                "sum",
                "distanse",
                &[],
                Json::Null,
                q(3.0, Some("km"))
            )),
            Code::E0006,
            "goal.measure"
        )),
        "did you mean `distance`?"
    );
    assert_eq!(
        help(&one(
            with_goal(metric("count", "day", &[], Json::Null, q(3.0, None))),
            Code::E0006,
            "goal.measure"
        )),
        "did you mean `days`?"
    );
}

#[test]
fn e0006_unknown_fields_and_profile_figures() {
    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("colour", "==", json!("red")),
            q(1.0, None),
        )),
        Code::E0006,
        "goal.where.field",
    );
    mentions(&d, &["unknown field", "`colour`"]);
    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("wieght", ">=", q(4.0, Some("kg"))),
            q(1.0, None),
        )),
        Code::E0006,
        "goal.where.field",
    );
    assert_eq!(help(&d), "did you mean `weight`?");

    let v = template(
        json!([param(
            "v",
            "count",
            json!({"kind": "profile", "metric": "vo2max", "exercise": null}),
            Json::Null
        )]),
        count_workouts(1),
    );
    let d = one(v, Code::E0006, "params[0].expr.metric");
    mentions(&d, &["`profile.vo2max`"]);
}

#[test]
fn e0001_profile_figures_with_the_wrong_exercise_arity() {
    let v = template(
        json!([param(
            "w",
            "mass",
            json!({"kind": "profile", "metric": "body_weight", "exercise": "leg_press"}),
            Json::Null
        )]),
        count_workouts(1),
    );
    mentions(
        &one(v, Code::E0001, "params[0].expr.exercise"),
        &["does not take an exercise"],
    );
    let v = template(
        json!([param(
            "w",
            "mass",
            json!({"kind": "profile", "metric": "one_rep_max", "exercise": null}),
            Json::Null
        )]),
        count_workouts(1),
    );
    mentions(
        &one(v, Code::E0001, "params[0].expr"),
        &["needs an exercise"],
    );
}

#[test]
fn e0007_target_against_the_measure() {
    let d = one(
        with_goal(metric(
            "sum",
            "duration",
            &["cardio"],
            Json::Null,
            q(20.0, Some("kg")),
        )),
        Code::E0007,
        "goal.target",
    );
    mentions(&d, &["`duration` is a duration", "`20 kg` is a mass"]);
    assert_eq!(help(&d), "write a duration such as `20 min`");

    let d = one(
        with_goal(metric("sum", "distance", &[], Json::Null, q(5.0, None))),
        Code::E0007,
        "goal.target",
    );
    mentions(&d, &["distance", "count"]);
    assert_eq!(help(&d), "write `5 km`");

    let d = one(
        with_goal(metric("count", "days", &[], Json::Null, q(5.0, Some("km")))),
        Code::E0007,
        "goal.target",
    );
    mentions(&d, &["`count(days)` is a count", "distance"]);
}

#[test]
fn e0007_condition_values_against_fields() {
    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("incline", ">=", q(2.0, None)),
            q(1.0, None),
        )),
        Code::E0007,
        "goal.where.value",
    );
    mentions(&d, &["`incline`", "percent", "count"]);
    assert_eq!(help(&d), "write `2 %`");

    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("distance", ">=", q(30.0, Some("min"))),
            q(1.0, None),
        )),
        Code::E0007,
        "goal.where.value",
    );
    mentions(&d, &["distance", "duration"]);

    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("gym", ">=", json!("gym-01")),
            q(1.0, None),
        )),
        Code::E0007,
        "goal.where.op",
    );
    mentions(&d, &["`gym`", "`==`", "`>=`"]);
    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("weekday", "<", json!("fri")),
            q(1.0, None),
        )),
        Code::E0007,
        "goal.where.op",
    );
    mentions(&d, &["weekday", "`<`"]);

    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("machine", "==", q(3.0, None)),
            q(1.0, None),
        )),
        Code::E0007,
        "goal.where.value",
    );
    mentions(&d, &["`machine` is text", "count"]);
    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("duration", ">=", json!("long")),
            q(1.0, None),
        )),
        Code::E0007,
        "goal.where.value",
    );
    mentions(&d, &["`duration` is a duration", "`long` is text"]);

    // `hour` is a count: a bare number is right.
    assert_eq!(
        run(with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("hour", "<", q(9.0, None)),
            q(1.0, None)
        ))),
        vec![]
    );
    let d = one(
        with_goal(metric(
            "count",
            "workouts",
            &[],
            cmp("weekday", "==", json!("funday")),
            q(1.0, None),
        )),
        Code::E0001,
        "goal.where.value",
    );
    mentions(&d, &["`funday`", "weekday"]);
}

#[test]
fn e0007_params_against_their_use() {
    let v = template(
        json!([param("m", "mass", num(40.0, Some("kg")), Json::Null)]),
        json!({"kind": "all", "goals": [
            metric("sum", "duration", &[], Json::Null, json!({"param": "m"})),
            metric("count", "workouts", &[], cmp("distance", ">=", json!({"param": "m"})), q(1.0, None)),
            {"kind": "on", "count": {"param": "m"}, "period": "day", "goal": count_workouts(1)},
            metric("sum", "weight", &[], cmp("weight", ">=", json!({"param": "m"})), json!({"param": "m"}))
        ]}),
    );
    let ds = run(v);
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0007, "goal.goals[0].target"),
            (Code::E0007, "goal.goals[1].where.value"),
            (Code::E0007, "goal.goals[2].count"),
        ]
    );
    mentions(&ds[0], &["duration", "`$m` is a mass"]);
    mentions(&ds[1], &["distance", "`$m` is a mass"]);
    mentions(&ds[2], &["`$m` is a mass", "count"]);
}

#[test]
fn e0007_expression_dimensions() {
    let add =
        |l: Json, r: Json, op: &str| json!({"kind": "binary", "op": op, "left": l, "right": r});
    let dims = HashMap::from([
        ("m".to_owned(), Dimension::Mass),
        ("t".to_owned(), Dimension::Duration),
    ]);
    let p = |n: &str| json!({"kind": "param", "name": n});
    let dim = |e: Json| expr_dimension(&expr(e), &dims);

    assert_eq!(
        dim(add(p("m"), num(2.0, Some("lb")), "+")),
        Ok(Dimension::Mass)
    );
    assert_eq!(dim(add(p("m"), num(2.0, None), "*")), Ok(Dimension::Mass));
    assert_eq!(dim(add(p("m"), p("m"), "/")), Ok(Dimension::Count));
    assert_eq!(
        dim(add(num(2.0, None), num(3.0, None), "*")),
        Ok(Dimension::Count)
    );
    assert_eq!(
        dim(add(num(8.0, Some("km/h")), p("t"), "*")),
        Ok(Dimension::Distance)
    );
    assert_eq!(
        dim(add(num(8.0, Some("km")), p("t"), "/")),
        Ok(Dimension::Speed)
    );

    let err = dim(add(p("m"), p("t"), "+")).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0007, "")]);
    mentions(&err[0], &["mass", "duration"]);
    let err = dim(add(p("m"), p("m"), "*")).unwrap_err();
    mentions(&err[0], &["cannot multiply a mass by a mass"]);

    let call = |f: &str, args: Json| json!({"kind": "call", "func": f, "args": args});
    let err = dim(call("round", json!([p("m")]))).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0007, "args[0]")]);
    assert!(help(&err[0]).contains("round_to"));
    assert_eq!(
        dim(call("round_to", json!([p("m"), num(2.5, Some("kg"))]))),
        Ok(Dimension::Mass)
    );
    let err = dim(call("round_to", json!([p("m"), num(1.0, None)]))).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0007, "args[1]")]);
    let err = dim(call("clamp", json!([p("m"), num(1.0, Some("kg")), p("t")]))).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0007, "args[2]")]);
    mentions(&err[0], &["mass", "duration"]);
    assert_eq!(
        dim(call("max", json!([p("t"), num(1.0, Some("h"))]))),
        Ok(Dimension::Duration)
    );

    let err = dim(call("sqrt", json!([p("m")]))).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0001, "func")]);
    let err = dim(call("min", json!([p("m")]))).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0001, "")]);
    mentions(&err[0], &["`min` takes 2 arguments, not 1"]);
    let err = dim(p("x")).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0011, "")]);
    // A unit the JSON reader refuses, in an expression a program built.
    let mut stone = expr(num(3.0, Some("kg")));
    if let Expr::Number { value, .. } = &mut stone {
        value.unit = Some("stone".to_owned());
    }
    let err = expr_dimension(&stone, &dims).unwrap_err();
    assert_eq!(codes(&err), vec![(Code::E0001, "")]);
}

#[test]
fn e0007_declared_dimension_and_fallback() {
    let times = json!({"kind": "binary", "op": "*",
        "left": {"kind": "profile", "metric": "one_rep_max", "exercise": "leg_press"}, "right": num(0.8, None)});
    let v = template(
        json!([param("load", "count", times, num(40.0, Some("kg")))]),
        count_workouts(1),
    );
    let ds = run(v);
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0007, "params[0].expr"),
            (Code::E0007, "params[0].fallback")
        ]
    );
    mentions(&ds[0], &["`load`", "count", "mass"]);
    mentions(&ds[1], &["`else`", "mass"]);
    assert!(help(&ds[0]).contains("param load: mass"));
}

#[test]
fn e0008_set_level_fields_in_workout_aggregates() {
    let goal = json!({"kind": "all", "goals": [
        metric("sum", "duration", &["leg_press"], cmp("reps", ">=", q(10.0, None)), q(20.0, Some("min"))),
        metric("count", "workouts", &[], cmp("weight", ">=", q(40.0, Some("kg"))), q(2.0, None)),
        metric("max", "speed", &[], json!({"kind": "not", "term": cmp("volume", ">", q(100.0, Some("kg")))}), q(10.0, Some("km/h"))),
        // allowed:
        metric("count", "sets", &[], cmp("reps", ">=", q(10.0, None)), q(2.0, None)),
        metric("count", "days", &[], cmp("weight", ">=", q(40.0, Some("kg"))), q(2.0, None)),
        metric("sum", "reps", &[], json!({"kind": "and", "terms": [
            cmp("weight", ">=", q(40.0, Some("kg"))), cmp("duration", ">=", q(1.0, Some("min")))]}), q(2.0, None))
    ]});
    let ds = run(with_goal(goal));
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0008, "goal.goals[0].where.field"),
            (Code::E0008, "goal.goals[1].where.field"),
            (Code::E0008, "goal.goals[2].where.term.field"),
        ]
    );
    mentions(&ds[0], &["`reps`", "`sum(duration ...)`"]);
    mentions(&ds[1], &["`weight`", "`count(workouts ...)`"]);
    assert!(help(&ds[1]).contains("count(sets"));
}

#[test]
fn e0009_counts() {
    let goal = json!({"kind": "all", "goals": [
        {"kind": "on", "count": 0, "period": "day", "goal": count_workouts(1)},
        {"kind": "streak", "count": 0, "period": "week", "goal": count_workouts(1)},
        {"kind": "at_least", "count": 3, "goals": [count_workouts(1), count_workouts(2)]},
        {"kind": "at_least", "count": 0, "goals": [count_workouts(1)]},
        {"kind": "at_least", "count": 2, "goals": [count_workouts(1), count_workouts(2)]}
    ]});
    let ds = run(with_goal(goal));
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0009, "goal.goals[0].count"),
            (Code::E0009, "goal.goals[1].count"),
            (Code::E0009, "goal.goals[2].count"),
            (Code::E0009, "goal.goals[3].count"),
        ]
    );
    mentions(&ds[0], &["`on 0 days`"]);
    mentions(&ds[1], &["`streak 0 weeks`"]);
    mentions(&ds[2], &["`at least 3 of`", "only 2"]);
    assert_eq!(help(&ds[2]), "lower the number to at most 2, or add goals");
}

#[test]
fn e0010_period_nesting() {
    let every = |p: &str, g: Json| json!({"kind": "every", "period": p, "goal": g});
    let goal = json!({"kind": "all", "goals": [
        every("day", every("week", count_workouts(1))),
        every("day", every("day", count_workouts(1))),
        {"kind": "one_workout", "goal": {"kind": "on", "count": 2, "period": "day", "goal": count_workouts(1)}},
        every("month", every("week", every("day", count_workouts(1)))),
        every("week", json!({"kind": "one_workout", "goal": count_workouts(1)}))
    ]});
    let ds = run(with_goal(goal));
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0010, "goal.goals[0].goal"),
            (Code::E0010, "goal.goals[1].goal"),
            (Code::E0010, "goal.goals[2].goal"),
        ]
    );
    mentions(&ds[0], &["`every week`", "`every day`", "longer"]);
    mentions(&ds[1], &["same period"]);
    mentions(&ds[2], &["`on 2 days`", "`in one workout`"]);
}

#[test]
fn e0011_params() {
    // A $param in a challenge.
    let d = one(
        with_goal(metric(
            "sum",
            "reps",
            &[],
            Json::Null,
            json!({"param": "n"}),
        )),
        Code::E0011,
        "goal.target",
    );
    mentions(&d, &["`$n`", "challenge"]);
    // A param in a challenge.
    let mut v = base();
    v["params"] = json!([param("n", "count", num(3.0, None), Json::Null)]);
    mentions(
        &one(v, Code::E0011, "params[0]"),
        &["challenge", "`param n`"],
    );

    let goal = json!({"kind": "all", "goals": [
        metric("sum", "reps", &[], Json::Null, json!({"param": "zzz"})),
        metric("count", "workouts", &[], Json::Null, json!({"param": "b"})),
        metric("count", "workouts", &[], Json::Null, json!({"param": "aa"}))
    ]});
    let c_plus_1 = json!({"kind": "binary", "op": "+", "left": {"kind": "param", "name": "c"}, "right": num(1.0, None)});
    let v = template(
        json!([
            param("a", "count", num(10.0, None), Json::Null),
            param("a", "count", num(20.0, None), Json::Null),
            param("b", "count", c_plus_1, Json::Null),
            param("c", "count", num(5.0, None), Json::Null),
            param(
                "d",
                "count",
                json!({"kind": "param", "name": "d"}),
                Json::Null
            )
        ]),
        goal,
    );
    let ds = run(v);
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0011, "params[1].name"),
            (Code::E0011, "params[2].expr.left"),
            (Code::E0011, "params[4].expr"),
            (Code::E0011, "goal.goals[0].target"),
            (Code::E0011, "goal.goals[2].target"),
        ]
    );
    mentions(&ds[0], &["`a`", "twice"]);
    mentions(&ds[1], &["`$c`", "before"]);
    assert_eq!(help(&ds[1]), "declare `c` before `b`");
    mentions(&ds[2], &["itself"]);
    mentions(&ds[3], &["unknown param `$zzz`"]);
    assert_eq!(help(&ds[4]), "did you mean `$a`?");
}

#[test]
fn e0001_param_names_that_the_dsl_cannot_write() {
    let v = template(
        json!([param("every", "count", num(1.0, None), Json::Null)]),
        count_workouts(1),
    );
    mentions(&one(v, Code::E0001, "params[0].name"), &["reserved"]);
    let v = template(
        json!([param("Big", "count", num(1.0, None), Json::Null)]),
        count_workouts(1),
    );
    one(v, Code::E0001, "params[0].name");
}

#[test]
fn e0012_ids() {
    let mut v = base();
    v["id"] = json!("");
    mentions(&one(v.clone(), Code::E0012, "id"), &["empty"]);
    v["id"] = json!("x".repeat(129));
    mentions(&one(v.clone(), Code::E0012, "id"), &["129", "128"]);
    v["id"] = json!("tab\there");
    let d = one(v.clone(), Code::E0012, "id");
    mentions(&d, &["control", "`tab\\there`"]);
    for good in [
        "y".repeat(128),
        "Sommer Lauf/U-01 üé".into(),
        "national-day-2026/u-01".into(),
        "日本".repeat(64),
    ] {
        v["id"] = json!(good);
        assert_eq!(run(v.clone()), vec![], "{good}");
    }
}

#[test]
fn e0012_duplicate_ids_at_the_second() {
    let mut other = base();
    other["id"] = json!("other");
    let decls = vec![tree(base()), tree(other), tree(base())];
    let ds = check_file(&decls, &Catalog::builtin(), Layout::Array);
    assert_eq!(codes(&ds), vec![(Code::E0012, "[2].id")]);
    mentions(&ds[0], &["`c-1`", "already used"]);
    let ds = check_file(&decls, &Catalog::builtin(), Layout::Single);
    assert_eq!(codes(&ds), vec![(Code::E0012, "id")]);
}

#[test]
fn check_file_prefixes_paths_of_arrays() {
    let mut bad = with_goal(metric("sum", "laps", &[], Json::Null, q(1.0, None)));
    bad["id"] = json!("bad");
    let ds = check_file(
        &[tree(base()), tree(bad)],
        &Catalog::builtin(),
        Layout::Array,
    );
    assert_eq!(codes(&ds), vec![(Code::E0006, "[1].goal.measure")]);
}

fn nest_all(levels: usize) -> Json {
    let mut g = count_workouts(1);
    for _ in 1..levels {
        g = json!({"kind": "all", "goals": [g]});
    }
    g
}

#[test]
fn e0013_goal_depth() {
    // 64 levels (63 `all` and the metric) are fine; 65 are not.
    assert_eq!(run(with_goal(nest_all(64))), vec![]);
    let path = format!("goal{}", ".goals[0]".repeat(64));
    let d = one(with_goal(nest_all(65)), Code::E0013, &path);
    mentions(&d, &["64"]);
    // Reported once, however deep.
    one(with_goal(nest_all(71)), Code::E0013, &path);
}

#[test]
fn e0013_condition_depth() {
    let nest = |levels: usize| {
        let mut c = cmp("duration", ">=", q(1.0, Some("min")));
        for _ in 1..levels {
            c = json!({"kind": "not", "term": c});
        }
        c
    };
    assert_eq!(
        run(with_goal(metric(
            "count",
            "workouts",
            &[],
            nest(64),
            q(1.0, None)
        ))),
        vec![]
    );
    // Counted separately from the goal levels: a goal at level 2 with a 64-level condition is fine.
    let goal =
        json!({"kind": "all", "goals": [metric("count", "workouts", &[], nest(64), q(1.0, None))]});
    assert_eq!(run(with_goal(goal)), vec![]);
    let path = format!("goal.where{}", ".term".repeat(64));
    one(
        with_goal(metric("count", "workouts", &[], nest(70), q(1.0, None))),
        Code::E0013,
        &path,
    );
}

#[test]
fn e0013_expression_depth() {
    let mut e = num(1.0, None);
    for _ in 0..70 {
        e = json!({"kind": "binary", "op": "+", "left": e, "right": num(1.0, None)});
    }
    let v = template(
        json!([param("n", "count", e, Json::Null)]),
        count_workouts(1),
    );
    let ds = run(v);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    assert_eq!(ds[0].code, Code::E0013);
}

/// Takes a deep tree apart one level at a time, so that dropping it cannot overflow the stack:
/// the derived, recursive drop of a 100,000-deep goal tree does overflow a 2 MiB stack (tried).
fn dismantle(mut goal: Goal) {
    loop {
        goal = match goal {
            Goal::All { mut goals, .. } => match goals.pop() {
                Some(child) => child,
                None => return,
            },
            Goal::Metric(mut m) => {
                let mut condition = m.where_.take();
                while let Some(Condition::Not { term, .. }) = condition {
                    condition = Some(*term);
                }
                return;
            }
            _ => return,
        };
    }
}

#[test]
fn e0013_a_very_deep_tree_does_not_overflow_the_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut decl = tree(base());
            let mut condition = Condition::Compare {
                field: Spanned::bare("hour".to_owned()),
                op: crate::tree::CmpOp::Ge,
                value: crate::tree::Value::Quantity(Quantity::new(6.0, None)),
                span: Span::NONE,
            };
            for _ in 0..100_000 {
                condition = Condition::Not {
                    term: Box::new(condition),
                    span: Span::NONE,
                };
            }
            let mut goal = std::mem::replace(
                &mut decl.goal,
                Goal::All {
                    goals: vec![],
                    span: Span::NONE,
                },
            );
            if let Goal::Metric(m) = &mut goal {
                m.where_ = Some(condition);
            }
            for _ in 0..100_000 {
                goal = Goal::All {
                    goals: vec![goal],
                    span: Span::NONE,
                };
            }
            decl.goal = goal;
            let ds = check(&decl, &Catalog::builtin());
            dismantle(std::mem::replace(
                &mut decl.goal,
                Goal::All {
                    goals: vec![],
                    span: Span::NONE,
                },
            ));
            ds.iter().map(|d| d.code).collect::<Vec<_>>()
        })
        .unwrap();
    // The condition sits below the goal limit, so only the goal depth is reported.
    assert_eq!(worker.join().unwrap(), vec![Code::E0013]);
}

#[test]
fn e0013_a_very_deep_condition_does_not_overflow_the_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(2 * 1024 * 1024)
        .spawn(|| {
            let mut decl = tree(base());
            let mut condition = cmp_hour();
            for _ in 0..100_000 {
                condition = Condition::Not {
                    term: Box::new(condition),
                    span: Span::NONE,
                };
            }
            if let Goal::Metric(m) = &mut decl.goal {
                m.where_ = Some(condition);
            }
            let ds = check(&decl, &Catalog::builtin());
            dismantle(std::mem::replace(
                &mut decl.goal,
                Goal::All {
                    goals: vec![],
                    span: Span::NONE,
                },
            ));
            codes(&ds)
                .iter()
                .map(|(c, p)| (*c, p.len()))
                .collect::<Vec<_>>()
        })
        .unwrap();
    assert_eq!(
        worker.join().unwrap(),
        vec![(Code::E0013, "goal.where".len() + ".term".len() * 64)]
    );
}

fn cmp_hour() -> Condition {
    Condition::Compare {
        field: Spanned::bare("hour".to_owned()),
        op: crate::tree::CmpOp::Ge,
        value: crate::tree::Value::Quantity(Quantity::new(6.0, None)),
        span: Span::NONE,
    }
}

#[test]
fn w0001_more_periods_than_there_can_be() {
    let goal = json!({"kind": "all", "goals": [
        {"kind": "on", "count": 40, "period": "day", "goal": count_workouts(1)},
        {"kind": "streak", "count": 7, "period": "week", "goal": count_workouts(2)},
        {"kind": "every", "period": "week", "goal":
            {"kind": "on", "count": 8, "period": "day", "goal": count_workouts(1)}},
        // fine: 31 days, 6 weeks, 7 days in a week, 1 month
        {"kind": "on", "count": 31, "period": "day", "goal": count_workouts(1)},
        {"kind": "streak", "count": 6, "period": "week", "goal": count_workouts(1)},
        {"kind": "every", "period": "week", "goal":
            {"kind": "streak", "count": 7, "period": "day", "goal": count_workouts(1)}},
        {"kind": "on", "count": 1, "period": "month", "goal": count_workouts(1)}
    ]});
    let ds = run(with_goal(goal));
    assert_eq!(
        codes(&ds),
        vec![
            (Code::W0001, "goal.goals[0].count"),
            (Code::W0001, "goal.goals[1].count"),
            (Code::W0001, "goal.goals[2].goal.count"),
        ]
    );
    assert!(ds.iter().all(|d| d.severity() == Severity::Warning));
    mentions(&ds[0], &["`on 40 days`", "31 days"]);
    mentions(&ds[1], &["`streak 7 weeks`", "6 weeks"]);
    mentions(&ds[2], &["`on 8 days`", "`every week`", "7 days"]);
    assert_eq!(help(&ds[2]), "lower the number to at most 7");
}

#[test]
fn w0001_uses_the_enclosing_period_cut_to_the_window() {
    // Sat 1 Aug to Tue 4 Aug 2026: the weeks hold 2 days each.
    let mut v = with_goal(json!({"kind": "every", "period": "week", "goal":
        {"kind": "on", "count": 3, "period": "day", "goal": count_workouts(1)}}));
    v["window"] = json!({"start": "2026-08-01", "end": "2026-08-04"});
    mentions(&one(v, Code::W0001, "goal.goal.count"), &["at most 2 days"]);
    // A month holds at most 6 weeks, whatever the window.
    let mut v = with_goal(json!({"kind": "every", "period": "month", "goal":
        {"kind": "streak", "count": 7, "period": "week", "goal": count_workouts(1)}}));
    v["window"] = json!({"start": "2026-01-01", "end": "2026-12-31"});
    one(v, Code::W0001, "goal.goal.count");
    // No warning when the window is wrong (E0003 is enough).
    let mut v =
        with_goal(json!({"kind": "on", "count": 40, "period": "day", "goal": count_workouts(1)}));
    v["window"] = json!({"start": "2026-08-10", "end": "2026-08-01"});
    one(v, Code::E0003, "window.end");
}

#[test]
fn w0002_set_measures_on_cardio_only() {
    let goal = json!({"kind": "all", "goals": [
        metric("sum", "reps", &["treadmill"], Json::Null, q(10.0, None)),
        metric("count", "sets", &["cardio", "bike"], Json::Null, q(10.0, None)),
        // fine:
        metric("sum", "reps", &["treadmill", "leg_press"], Json::Null, q(10.0, None)),
        metric("sum", "reps", &[], Json::Null, q(10.0, None)),
        metric("sum", "duration", &["treadmill"], Json::Null, q(10.0, Some("min"))),
        metric("count", "workouts", &["cardio"], Json::Null, q(10.0, None))
    ]});
    let ds = run(with_goal(goal));
    assert_eq!(
        codes(&ds),
        vec![
            (Code::W0002, "goal.goals[0]"),
            (Code::W0002, "goal.goals[1]")
        ]
    );
    mentions(&ds[0], &["`sum(reps of treadmill)`", "cardio", "always 0"]);
    mentions(&ds[1], &["`count(sets of cardio | bike)`"]);
}

#[test]
fn all_errors_are_reported_in_json_order() {
    let mut v = with_goal(json!({"kind": "all", "goals": [
        metric("sum", "reps", &["push_upp"], Json::Null, q(30.0, None)),
        metric("sum", "distance", &["cardio"], Json::Null, q(45.0, Some("min"))),
        metric("count", "workouts", &[], cmp("colour", "==", json!("red")), q(1.0, None))
    ]}));
    v["window"] = json!({"start": "2026-08-10", "end": "2026-08-01"});
    v["timezone"] = json!("Europe/Londres");
    let ds = run(v);
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0003, "window.end"),
            (Code::E0004, "timezone"),
            (Code::E0005, "goal.goals[0].of[0]"),
            (Code::E0007, "goal.goals[1].target"),
            (Code::E0006, "goal.goals[2].where.field"),
        ]
    );
}

#[test]
fn diagnostics_come_in_source_order() {
    let mut decl = tree(with_goal(metric(
        "sum",
        "laps",
        &["push_upp"],
        Json::Null,
        q(1.0, None),
    )));
    decl.timezone = Spanned::new("Nowhere".into(), Span::new(50, 57));
    if let Goal::Metric(m) = &mut decl.goal {
        m.measure.span = Span::new(10, 14);
        if let Some(s) = m.of.first_mut() {
            s.span = Span::new(90, 98);
        }
    }
    let ds = check(&decl, &Catalog::builtin());
    assert_eq!(
        ds.iter()
            .map(|d| (d.code, d.span.start))
            .collect::<Vec<_>>(),
        vec![(Code::E0006, 10), (Code::E0004, 50), (Code::E0005, 90)]
    );
    assert_eq!(ds[0].path, "goal.measure");
}

/// Trees the JSON reader refuses as it reads (it reports these itself) but a program can
/// build: the checker reports them too, and does not panic.
#[test]
fn odd_trees_get_errors_not_panics() {
    let goal = json!({"kind": "all", "goals": [
        {"kind": "any", "goals": [count_workouts(1)]},
        count_workouts(1),
        count_workouts(1),
        metric("sum", "distance", &[], Json::Null, q(3.0, Some("km"))),
        metric("sum", "distance", &[], Json::Null, q(3.0, Some("km"))),
        {"kind": "at_least", "count": 18_446_744_073_709_551_615_u64, "goals": [count_workouts(1)]}
    ]});
    let mut v = with_goal(goal);
    v["window"] = json!({"start": "1900-01-01", "end": "2173-01-01"});
    let mut decl = tree(v);
    let Goal::All { goals, .. } = &mut decl.goal else {
        panic!("an `all` goal");
    };
    let mut metrics = goals.iter_mut().filter_map(|g| match g {
        Goal::Metric(m) => Some(m),
        _ => None,
    });
    let none = crate::span::Span::NONE;
    let mut next = || metrics.next().unwrap();
    next().where_ = Some(Condition::And {
        terms: Vec::new(),
        span: none,
    });
    next().where_ = Some(Condition::In {
        field: Spanned::bare("gym".to_owned()),
        values: Vec::new(),
        span: none,
    });
    next().target = Target::Quantity(Quantity::new(-3.0, Some("km")));
    next().target = Target::Quantity(Quantity::new(3.0, Some("furlong")));
    if let Some(Goal::Any { goals, .. }) = goals.first_mut() {
        goals.clear();
    }
    let ds = check(&decl, &Catalog::builtin());
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0001, "goal.goals[0].goals"),
            (Code::E0001, "goal.goals[1].where.terms"),
            (Code::E0001, "goal.goals[2].where.values"),
            (Code::E0001, "goal.goals[3].target"),
            (Code::E0001, "goal.goals[4].target"),
            (Code::E0009, "goal.goals[5].count"),
        ]
    );
    assert!(help(&ds[4]).contains("`km`"));
}

#[test]
fn huge_windows_are_cheap_for_w0001() {
    // Dates JSON cannot write (the reader wants YYYY-MM-DD), but a program can.
    let mut too_long = tree(with_goal(count_workouts(1)));
    let date = |y| Spanned::bare(chrono::NaiveDate::from_ymd_opt(y, 1, 1).unwrap());
    too_long.window = crate::tree::Window {
        start: date(-200_000),
        end: date(200_000),
    };
    let ds = check(&too_long, &Catalog::builtin());
    assert_eq!(codes(&ds), vec![(Code::E0013, "window.end")]);
    mentions(&ds[0], &["the limit is 100000 days"]);
    let goal = json!({"kind": "every", "period": "month", "goal": {"kind": "every", "period": "week", "goal":
        {"kind": "on", "count": 8, "period": "day", "goal": count_workouts(1)}}});
    let mut v = with_goal(goal);
    // About 273 years: just under the evaluator's cap of 100,000 days.
    v["window"] = json!({"start": "1900-01-01", "end": "2173-01-01"});
    mentions(
        &one(v, Code::W0001, "goal.goal.goal.count"),
        &["at most 7 days"],
    );
}

#[test]
fn e0014_on_json_trees_has_paths_and_help() {
    let mut v = base();
    v["tiers"] = json!([
        {"name": "gold", "at": q(100.0, Some("%"))},
        {"name": "over", "at": q(120.0, Some("%"))},
        {"name": "gold", "at": q(50.0, Some("%"))},
        {"name": "half", "at": q(50.0, Some("%"))},
        {"name": "mass", "at": q(50.0, Some("kg"))},
        {"name": "zero", "at": q(0.0, Some("%"))},
    ]);
    v["rewards"] =
        json!([{"name": "P", "points": 1, "tier": "platinum"}, {"name": "G", "tier": "gold"}]);
    let ds = run(v);
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0014, "tiers[1].at"),
            (Code::E0014, "tiers[2].name"),
            (Code::E0014, "tiers[3].at"),
            (Code::E0014, "tiers[4].at"),
            (Code::E0014, "tiers[5].at"),
            (Code::E0014, "rewards[0].tier"),
        ]
    );
    mentions(&ds[0], &["`over`", "120 %"]);
    assert!(help(&ds[0]).contains("(0 %, 100 %]"));
    mentions(&ds[2], &["`half`", "same threshold", "`gold`"]);
    mentions(&ds[5], &["`platinum`"]);
    assert!(help(&ds[5]).contains("`gold`"), "{}", help(&ds[5]));
}

#[test]
fn e0014_for_teams_on_json_trees() {
    let mut v = base();
    v["groups"] = json!(["nsfit"]);
    v["teams"] = json!(["coy-a", "", "coy-a"]);
    let ds = run(v);
    assert_eq!(
        codes(&ds),
        vec![
            (Code::E0014, "teams"),
            (Code::E0014, "teams[1]"),
            (Code::E0014, "teams[2]"),
        ]
    );
    mentions(&ds[0], &["`groups`"]);
    assert!(help(&ds[0]).contains("remove `groups`"));
    let mut t = template(json!([]), count_workouts(1));
    t["teams"] = json!(["coy-a"]);
    t["tiers"] = json!([{"name": "half", "at": q(50.0, Some("%"))}]);
    mentions(&one(t, Code::E0014, "teams"), &["template"]);
    let mut ok = base();
    ok["teams"] = json!(["coy-a", "coy-b"]);
    ok["gyms"] = json!(["gym-01"]);
    ok["tiers"] = json!([{"name": "tiny", "at": q(0.5, Some("%"))}, {"name": "top", "at": q(100.0, Some("%"))}]);
    assert_eq!(run(ok), vec![]);
}

#[test]
fn lower_file_gives_the_same_diagnostics_and_a_plan_per_challenge_without_errors() {
    let catalog = Catalog::builtin();
    // A warning does not stop lowering; an error does; a template is never lowered.
    let warned =
        with_goal(json!({"kind": "on", "count": 40, "period": "day", "goal": count_workouts(1)}));
    let mut wrong = with_goal(metric("sum", "workouts", &[], Json::Null, q(1.0, None)));
    wrong["id"] = json!("c-2");
    let mut templ = template(json!([]), count_workouts(1));
    templ["id"] = json!("t-1");
    let decls = vec![tree(warned), tree(wrong), tree(templ)];
    let lowered = lower_file(&decls, &catalog, Layout::Array);
    assert_eq!(
        lowered.diagnostics,
        check_file(&decls, &catalog, Layout::Array)
    );
    let codes: Vec<Code> = lowered.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, [Code::W0001, Code::E0006]);
    let [warned, wrong, templ] = lowered.plans.as_slice() else {
        panic!("one plan per declaration");
    };
    assert_eq!(warned.as_ref().map(|p| p.id()).ok(), Some("c-1"));
    assert!(matches!(
        wrong,
        Err(PlanError::Invalid {
            code: Code::E0006,
            ..
        })
    ));
    assert_eq!(
        templ.as_ref().err(),
        Some(&PlanError::Template("t-1".into()))
    );
    // `lower` is the same walk for one declaration.
    let one = lower(&decls[1], &catalog);
    assert_eq!(one.diagnostics, check(&decls[1], &catalog));
    assert!(one.plan.is_err());
}
