//! Unit tests of param evaluation and binding, on trees built by hand (the DSL lives in
//! `rules-dsl`; the end-to-end tests of the root crate use it).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use proptest::prelude::*;

use super::*;
use crate::eval::AsOf;
use crate::profile::ExerciseProfile;
use crate::tree::{Aggregate, GoalOp, Metric, Param, ParamRef, Period, Window, TREE_VERSION};

fn num(value: f64, unit: Option<&str>) -> Expr {
    Expr::Number {
        value: Quantity::new(value, unit),
        span: Span::NONE,
    }
}

fn prof(metric: &str, exercise: Option<&str>) -> Expr {
    Expr::Profile {
        metric: metric.into(),
        exercise: exercise.map(Into::into),
        span: Span::NONE,
    }
}

fn call(func: &str, args: Vec<Expr>) -> Expr {
    Expr::Call {
        func: func.into(),
        args,
        span: Span::NONE,
    }
}

fn bin(op: BinOp, left: Expr, right: Expr) -> Expr {
    Expr::Binary {
        op,
        left: Box::new(left),
        right: Box::new(right),
        span: Span::NONE,
    }
}

fn pref(name: &str) -> Expr {
    Expr::Param {
        name: name.into(),
        span: Span::NONE,
    }
}

fn param(name: &str, dimension: Dimension, expr: Expr, fallback: Option<Expr>) -> Param {
    Param {
        name: name.into(),
        dimension: Spanned::bare(dimension),
        expr,
        fallback,
        span: Span::NONE,
    }
}

fn target(name: &str) -> Target {
    Target::Param(ParamRef {
        param: name.into(),
        span: Span::NONE,
    })
}

fn metric(aggregate: Aggregate, measure: &str, of: &str, target: Target) -> Goal {
    Goal::Metric(Metric {
        aggregate,
        measure: measure.into(),
        of: vec![of.into()],
        where_: None,
        op: GoalOp::Ge,
        target,
        span: Span::NONE,
    })
}

fn date(text: &str) -> Spanned<NaiveDate> {
    Spanned::bare(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap())
}

/// The template of language.md §5, plus an N param.
fn spec_template() -> Challenge {
    Challenge {
        version: TREE_VERSION,
        kind: DeclKind::Template,
        id: "nsfit-pushups".into(),
        title: "NSFIT push-up ladder".into(),
        description: None,
        window: Window {
            start: date("2026-09-01"),
            end: date("2026-09-28"),
        },
        timezone: "Asia/Singapore".into(),
        groups: vec!["nsfit".into()],
        gyms: Vec::new(),
        teams: Vec::new(),
        rewards: Vec::new(),
        tiers: Vec::new(),
        params: vec![
            param(
                "daily",
                Dimension::Count,
                call(
                    "clamp",
                    vec![
                        call(
                            "round",
                            vec![bin(
                                BinOp::Mul,
                                prof("max_reps_per_min", Some("push_up")),
                                num(1.1, None),
                            )],
                        ),
                        num(10.0, None),
                        num(100.0, None),
                    ],
                ),
                Some(num(20.0, None)),
            ),
            param(
                "pace",
                Dimension::Speed,
                call(
                    "round_to",
                    vec![
                        bin(
                            BinOp::Mul,
                            prof("best_speed", Some("treadmill")),
                            num(1.05, None),
                        ),
                        num(0.5, Some("km/h")),
                    ],
                ),
                Some(num(8.0, Some("km/h"))),
            ),
            param(
                "n_days",
                Dimension::Count,
                bin(BinOp::Mul, prof("weekly_workouts", None), num(1.5, None)),
                Some(num(8.0, None)),
            ),
        ],
        goal: Goal::All {
            goals: vec![
                Goal::Every {
                    period: Period::Day,
                    goal: Box::new(metric(Aggregate::Sum, "reps", "push_up", target("daily"))),
                    span: Span::NONE,
                },
                Goal::On {
                    count: Count::Param(ParamRef {
                        param: "n_days".into(),
                        span: Span::NONE,
                    }),
                    period: Period::Day,
                    goal: Box::new(metric(Aggregate::Max, "speed", "treadmill", target("pace"))),
                    span: Span::NONE,
                },
            ],
            span: Span::NONE,
        },
        span: Span::NONE,
    }
}

fn empty_profile(user: &str) -> Profile {
    let as_of = AsOf::parse("2026-09-01T00:00:00+08:00").unwrap();
    Profile::empty(user, None, &as_of, 90)
}

fn profile_with(user: &str, rpm: Option<f64>, speed: Option<f64>, weekly: f64) -> Profile {
    let mut p = empty_profile(user);
    p.weekly_workouts = weekly;
    if let Some(rpm) = rpm {
        p.exercises.insert(
            "push_up".into(),
            ExerciseProfile {
                max_reps_per_min: Some(rpm),
                ..ExerciseProfile::default()
            },
        );
    }
    if let Some(speed) = speed {
        p.exercises.insert(
            "treadmill".into(),
            ExerciseProfile {
                best_speed_kmh: Some(speed),
                ..ExerciseProfile::default()
            },
        );
    }
    p
}

fn goals(c: &Challenge) -> (&Goal, &Goal) {
    let Goal::All { goals, .. } = &c.goal else {
        panic!("an all")
    };
    (&goals[0], &goals[1])
}

fn target_of(goal: &Goal) -> Quantity {
    let m = match goal {
        Goal::Every { goal, .. } | Goal::On { goal, .. } => goal,
        other => panic!("{other:?}"),
    };
    let Goal::Metric(m) = m.as_ref() else {
        panic!("a metric")
    };
    let Target::Quantity(q) = &m.target else {
        panic!("a literal target")
    };
    q.clone()
}

fn count_of(goal: &Goal) -> u64 {
    let Goal::On {
        count: Count::Literal(n),
        ..
    } = goal
    else {
        panic!("a literal N")
    };
    n.node
}

#[test]
fn binds_the_spec_template() {
    let template = spec_template();
    let catalog = Catalog::builtin();
    let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
    let rec = r
        .recommend(&profile_with("u-01", Some(30.0), Some(9.0), 1.8))
        .unwrap();
    assert_eq!(rec.challenge.id.node, "nsfit-pushups/u-01");
    assert_eq!(rec.challenge.kind, DeclKind::Challenge);
    assert!(rec.challenge.params.is_empty());
    let (every, on) = goals(&rec.challenge);
    assert_eq!(target_of(every), Quantity::new(33.0, None));
    // 9 × 1.05 = 9.45 km/h → the nearest 0.5 km/h is 9.5 (a half, away from zero).
    assert_eq!(target_of(on), Quantity::new(9.5, Some("km/h")));
    // 1.8 × 1.5 = 2.7 → N = 3.
    assert_eq!(count_of(on), 3);
    assert_eq!(rec.bindings[0].source, Source::Expression);
    assert_eq!(
        rec.bindings[0].figures[0].figure,
        "profile.max_reps_per_min(push_up)"
    );
    assert_eq!(
        rec.bindings[0].figures[0].value,
        Some(Quantity::new(30.0, None))
    );
}

#[test]
fn clamp_and_fallbacks() {
    let template = spec_template();
    let catalog = Catalog::builtin();
    let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
    // 6 × 1.1 = 6.6 → 7 → clamped to 10; no treadmill → else 8 km/h; 0.3 → rounds to 0 → 1.
    let rec = r
        .recommend(&profile_with("u-04", Some(6.0), None, 0.2))
        .unwrap();
    let (every, on) = goals(&rec.challenge);
    assert_eq!(target_of(every), Quantity::new(10.0, None));
    assert_eq!(target_of(on), Quantity::new(8.0, Some("km/h")));
    assert_eq!(count_of(on), 1);
    assert_eq!(rec.bindings[1].source, Source::Fallback);
    assert_eq!(rec.bindings[1].figures[0].value, None);
}

#[test]
fn an_undefined_param_is_an_error_for_that_user() {
    let mut template = spec_template();
    template.params[1].fallback = None;
    let catalog = Catalog::builtin();
    let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
    let err = r.recommend(&empty_profile("u-02")).unwrap_err();
    assert_eq!(err.user(), "u-02");
    let text = err.to_string();
    assert!(text.contains("param `pace` is undefined"), "{text}");
    assert!(
        text.contains("profile.best_speed(treadmill) has no data"),
        "{text}"
    );
    assert!(text.contains("no `else`"), "{text}");
}

#[test]
fn overrides_win_and_later_params_see_them() {
    let mut template = spec_template();
    // days = $daily / 10
    template.params[2].expr = bin(BinOp::Div, pref("daily"), num(10.0, None));
    let catalog = Catalog::builtin();
    let overrides = BTreeMap::from([
        ("daily".to_owned(), Quantity::new(45.0, None)),
        ("pace".to_owned(), Quantity::new(2.5, Some("m/s"))),
    ]);
    let r = Recommender::new(&template, &catalog, overrides).unwrap();
    let rec = r
        .recommend(&profile_with("u-01", Some(30.0), Some(9.0), 1.8))
        .unwrap();
    let (every, on) = goals(&rec.challenge);
    assert_eq!(target_of(every), Quantity::new(45.0, None));
    assert_eq!(target_of(on), Quantity::new(2.5, Some("m/s")));
    assert_eq!(count_of(on), 5); // 4.5 → 5, half away from zero
    assert_eq!(rec.bindings[0].source, Source::Override);
}

#[test]
fn bad_overrides_are_refused() {
    let template = spec_template();
    let catalog = Catalog::builtin();
    let unknown = BTreeMap::from([("dialy".to_owned(), Quantity::new(45.0, None))]);
    let err = Recommender::new(&template, &catalog, unknown).unwrap_err();
    assert!(err.to_string().contains("no param `dialy`"), "{err}");
    let wrong = BTreeMap::from([("pace".to_owned(), Quantity::new(9.0, None))]);
    let err = Recommender::new(&template, &catalog, wrong).unwrap_err();
    assert!(
        err.to_string()
            .contains("param `pace` is a speed, but `9` is a count"),
        "{err}"
    );
    let mut challenge = spec_template();
    challenge.kind = DeclKind::Challenge;
    assert!(matches!(
        Recommender::new(&challenge, &catalog, BTreeMap::new()),
        Err(TemplateError::NotATemplate(_))
    ));
}

#[test]
fn overrides_parse_like_the_dsl() {
    let (name, q) = parse_override("pace=9 km/h").unwrap();
    assert_eq!(
        (name.as_str(), q),
        ("pace", Quantity::new(9.0, Some("km/h")))
    );
    assert_eq!(parse_quantity("40"), Some(Quantity::new(40.0, None)));
    assert_eq!(
        parse_quantity("\"2.4km\""),
        Some(Quantity::new(2.4, Some("km")))
    );
    assert_eq!(parse_quantity("-4"), None);
    assert_eq!(parse_quantity("4 furlongs"), None);
    assert_eq!(parse_quantity("4."), None);
    assert_eq!(parse_quantity(".5"), None);
    assert_eq!(parse_quantity(""), None);
    assert!(matches!(
        parse_override("pace"),
        Err(TemplateError::BadOverride(_))
    ));
    assert!(matches!(
        parse_override("pace=fast"),
        Err(TemplateError::BadValue(_))
    ));
}

/// Evaluates one expression of `dimension` against a profile; the printed value.
fn value_of(expr: Expr, dimension: Dimension, profile: &Profile) -> Option<Quantity> {
    let mut template = spec_template();
    template.params = vec![param("x", dimension, expr, None)];
    template.goal = Goal::Every {
        period: Period::Day,
        goal: Box::new(metric(
            Aggregate::Sum,
            "reps",
            "push_up",
            Target::Quantity(Quantity::new(1.0, None)),
        )),
        span: Span::NONE,
    };
    let catalog = Catalog::builtin();
    let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
    r.bind(profile).remove(0).value
}

fn strength_profile() -> Profile {
    let mut p = empty_profile("u-01");
    p.body_weight_kg = Some(80.0);
    p.exercises.insert(
        "leg_press".into(),
        ExerciseProfile {
            one_rep_max_kg: Some(120.0),
            max_reps: Some(12.0),
            weekly_distance_m: 0.0,
            weekly_duration_s: 1800.0,
            ..ExerciseProfile::default()
        },
    );
    p.exercises.insert(
        "treadmill".into(),
        ExerciseProfile {
            best_speed_kmh: Some(10.0),
            weekly_distance_m: 9800.0,
            ..ExerciseProfile::default()
        },
    );
    p
}

#[test]
fn units_of_bound_values() {
    let p = strength_profile();
    // The round_to step's unit wins.
    let load = call(
        "round_to",
        vec![
            bin(
                BinOp::Mul,
                prof("one_rep_max", Some("leg_press")),
                num(0.75, None),
            ),
            num(2.5, Some("kg")),
        ],
    );
    assert_eq!(
        value_of(load, Dimension::Mass, &p),
        Some(Quantity::new(90.0, Some("kg")))
    );
    let dist = call(
        "round_to",
        vec![
            bin(
                BinOp::Mul,
                prof("weekly_distance", Some("treadmill")),
                num(1.1, None),
            ),
            num(0.5, Some("km")),
        ],
    );
    assert_eq!(
        value_of(dist, Dimension::Distance, &p),
        Some(Quantity::new(11.0, Some("km")))
    );
    // Else the first literal or figure of the dimension: km/h for best_speed.
    let pace = bin(
        BinOp::Mul,
        num(1.1, None),
        prof("best_speed", Some("treadmill")),
    );
    assert_eq!(
        value_of(pace, Dimension::Speed, &p),
        Some(Quantity::new(11.0, Some("km/h")))
    );
    let plus = bin(
        BinOp::Add,
        num(1.0, Some("mi")),
        prof("weekly_distance", Some("treadmill")),
    );
    let Some(q) = value_of(plus, Dimension::Distance, &p) else {
        panic!("defined")
    };
    assert_eq!(q.unit.as_deref(), Some("mi"));
    assert!((q.value - (1.0 + 9800.0 / 1609.344)).abs() < 1e-9);
    // Else canonical: speed × duration has no literal of distance.
    let far = bin(
        BinOp::Mul,
        prof("best_speed", Some("treadmill")),
        num(30.0, Some("min")),
    );
    assert_eq!(
        value_of(far, Dimension::Distance, &p),
        Some(Quantity::new(5000.0, Some("m")))
    );
    // mass / mass is a count.
    let ratio = call(
        "floor",
        vec![bin(
            BinOp::Mul,
            bin(
                BinOp::Div,
                prof("one_rep_max", Some("leg_press")),
                prof("body_weight", None),
            ),
            num(10.0, None),
        )],
    );
    assert_eq!(
        value_of(ratio, Dimension::Count, &p),
        Some(Quantity::new(15.0, None))
    );
}

#[test]
fn undefined_values() {
    let p = strength_profile();
    let cases = [
        (
            bin(
                BinOp::Div,
                num(1.0, None),
                bin(BinOp::Sub, num(2.0, None), num(2.0, None)),
            ),
            "division by zero",
        ),
        (
            call("round_to", vec![num(3.0, None), num(0.0, None)]),
            "step",
        ),
        (
            call(
                "clamp",
                vec![num(3.0, None), num(5.0, None), num(4.0, None)],
            ),
            "clamp",
        ),
        (
            prof("max_reps", Some("push_up")),
            "profile.max_reps(push_up) has no data",
        ),
        (prof("max_reps_per_min", Some("leg_press")), "has no data"),
    ];
    for (expr, why) in cases {
        let mut template = spec_template();
        template.params = vec![param("x", Dimension::Count, expr, None)];
        template.goal = Goal::Every {
            period: Period::Day,
            goal: Box::new(metric(Aggregate::Sum, "reps", "push_up", target("x"))),
            span: Span::NONE,
        };
        let catalog = Catalog::builtin();
        let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
        let err = r.recommend(&p).unwrap_err();
        assert!(err.to_string().contains(why), "{err} lacks {why}");
    }
}

#[test]
fn a_negative_bound_value_fails_the_check_for_that_user() {
    let p = strength_profile();
    let mut template = spec_template();
    template.params = vec![param(
        "x",
        Dimension::Count,
        bin(
            BinOp::Sub,
            prof("max_reps", Some("leg_press")),
            num(20.0, None),
        ),
        None,
    )];
    template.goal = Goal::Every {
        period: Period::Day,
        goal: Box::new(metric(Aggregate::Sum, "reps", "push_up", target("x"))),
        span: Span::NONE,
    };
    let catalog = Catalog::builtin();
    let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
    let err = r.recommend(&p).unwrap_err();
    assert!(matches!(err, RecommendError::Check { .. }), "{err}");
}

#[test]
fn tidy_drops_noise_only() {
    assert_eq!(tidy(9.450000000000001), 9.45);
    assert_eq!(tidy(33.0 + 4e-15), 33.0);
    assert_eq!(tidy(14.999999999999998), 15.0);
    assert_eq!(tidy(1.0 / 3.0), 0.333333333333);
    assert_eq!(tidy(0.0), 0.0);
    assert_eq!(tidy(123456.5), 123456.5);
    assert_eq!(bound_count(2.5), 3);
    assert_eq!(bound_count(0.49), 1);
    assert_eq!(bound_count(7.4999999), 7);
}

#[test]
fn eligibility_follows_groups() {
    let template = spec_template();
    let mut user = User::unknown("u-01");
    assert!(!is_eligible(&template, &user));
    user.groups = vec!["staff".into(), "nsfit".into()];
    assert!(is_eligible(&template, &user));
    let mut open = spec_template();
    open.groups.clear();
    assert!(is_eligible(&open, &User::unknown("u-02")));
}

#[test]
fn recommend_all_is_sorted_by_user() {
    let template = spec_template();
    let catalog = Catalog::builtin();
    let r = Recommender::new(&template, &catalog, BTreeMap::new()).unwrap();
    let profiles: Vec<Profile> = ["u-3", "u-1", "u-2"]
        .iter()
        .map(|u| empty_profile(u))
        .collect();
    let users: Vec<String> = r
        .recommend_all(&profiles)
        .iter()
        .map(|r| r.as_ref().map(|x| x.user.clone()).unwrap())
        .collect();
    assert_eq!(users, ["u-1", "u-2", "u-3"]);
}

proptest! {
    /// Whatever the profile holds, the recommended challenge checks, and an override wins.
    #[test]
    fn every_recommendation_checks_and_overrides_win(
        rpm in proptest::option::of(0.0f64..500.0),
        speed in proptest::option::of(0.0f64..40.0),
        weekly in 0.0f64..30.0,
        daily in proptest::option::of(0u32..1000),
    ) {
        let template = spec_template();
        let catalog = Catalog::builtin();
        let overrides: BTreeMap<String, Quantity> = daily
            .map(|d| ("daily".to_owned(), Quantity::new(f64::from(d), None)))
            .into_iter()
            .collect();
        let r = Recommender::new(&template, &catalog, overrides).unwrap();
        let rec = r.recommend(&profile_with("u-01", rpm, speed, weekly)).unwrap();
        prop_assert!(!has_errors(&check::check(&rec.challenge, &catalog)));
        let (every, on) = goals(&rec.challenge);
        if let Some(d) = daily {
            prop_assert_eq!(target_of(every), Quantity::new(f64::from(d), None));
        } else {
            let t = target_of(every).value;
            prop_assert!((10.0..=100.0).contains(&t));
        }
        prop_assert!(count_of(on) >= 1);
    }
}

proptest! {
    /// The arithmetic `tidy` equals rounding the text to 12 significant digits.
    #[test]
    fn tidy_equals_the_decimal_text(mantissa in 1.0f64..10.0, exponent in -12i32..15) {
        let x = mantissa * 10f64.powi(exponent);
        let text: f64 = format!("{x:.11e}").parse().unwrap();
        prop_assert_eq!(tidy(x), text, "{}", x);
    }
}
