//! Properties: any tree of a valid shape prints to text that parses back to the same tree, and
//! formatting that text changes nothing.

use chrono::NaiveDate;
use proptest::collection::vec;
use proptest::prelude::*;
use rules_core::span::{Span, Spanned};
use rules_core::tree::{
    Aggregate, BinOp, Challenge, CmpOp, Condition, Count, DeclKind, Expr, Goal, GoalOp, Metric,
    Param, ParamRef, Period, Quantity, Reward, Target, Tier, Value, Window, TREE_VERSION,
};
use rules_core::units::{Dimension, UNITS};
use rules_core::vocab::{Function, ProfileFigure, WEEKDAYS};

const EXERCISES: [&str; 7] = [
    "leg_press",
    "push_up",
    "treadmill",
    "bike",
    "rower",
    "cardio",
    "strength",
];
const MEASURES: [&str; 7] = [
    "reps", "weight", "duration", "distance", "workouts", "days", "speed",
];
const PARAMS: [&str; 4] = ["a", "b", "daily", "pace"];

fn s(text: &str) -> Spanned<String> {
    Spanned::bare(text.to_owned())
}

fn ident(pool: &'static [&'static str]) -> impl Strategy<Value = String> {
    proptest::sample::select(pool).prop_map(str::to_owned)
}

/// Free text, with everything that needs escaping and things the scanner must not trip on.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,12}",
        "[a-z\"\\\\\t\n/é{}()]{0,8}",
        Just("// not a comment".to_owned()),
        Just("challenge \"x\" {".to_owned()),
    ]
}

fn number() -> impl Strategy<Value = f64> {
    prop_oneof![
        (0u32..10_000).prop_map(f64::from),
        (0u32..10_000, 1u32..4).prop_map(|(a, b)| f64::from(a) + f64::from(b) * 0.25),
        0.0f64..1e9,
    ]
}

fn quantity() -> impl Strategy<Value = Quantity> {
    let unit = prop_oneof![
        Just(None),
        proptest::sample::select(UNITS.map(|u| u.symbol).to_vec()).prop_map(Some),
    ];
    (number(), unit).prop_map(|(v, u)| Quantity::new(v, u))
}

fn param_ref() -> impl Strategy<Value = ParamRef> {
    ident(&PARAMS).prop_map(|param| ParamRef {
        param,
        span: Span::NONE,
    })
}

fn count() -> impl Strategy<Value = Count> {
    prop_oneof![
        (1u64..20).prop_map(|n| Count::Literal(Spanned::bare(n))),
        param_ref().prop_map(Count::Param),
    ]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        3 => quantity().prop_map(Target::Quantity),
        1 => param_ref().prop_map(Target::Param),
    ]
}

fn cmp_op() -> impl Strategy<Value = CmpOp> {
    proptest::sample::select(CmpOp::ALL.to_vec())
}

/// A field and a value that suits it.
fn field_value() -> impl Strategy<Value = (String, Value)> {
    let str_value = |t: String| Value::Str(Spanned::bare(t));
    prop_oneof![
        (
            ident(&["weight", "reps", "hour", "duration", "incline"]),
            quantity()
        )
            .prop_map(|(f, q)| (f, Value::Quantity(q))),
        (ident(&["weight", "reps"]), param_ref()).prop_map(|(f, p)| (f, Value::Param(p))),
        (ident(&["gym", "machine"]), text()).prop_map(move |(f, t)| (f, str_value(t))),
        ident(&EXERCISES[..5]).prop_map(move |e| ("exercise".to_owned(), str_value(e))),
        proptest::sample::select(WEEKDAYS.to_vec())
            .prop_map(move |d| ("weekday".to_owned(), str_value(d.to_owned()))),
    ]
}

fn condition() -> impl Strategy<Value = Condition> {
    let leaf = prop_oneof![
        (field_value(), cmp_op()).prop_map(|((field, value), op)| Condition::Compare {
            field: Spanned::bare(field),
            op,
            value,
            span: Span::NONE,
        }),
        vec(field_value(), 1..4).prop_map(|fvs| {
            // One field for all values: the first one's, and values of its kind.
            let field = fvs.first().map(|(f, _)| f.clone()).unwrap_or_default();
            let values = fvs
                .into_iter()
                .filter(|(f, _)| *f == field)
                .map(|(_, v)| v)
                .collect();
            Condition::In {
                field: Spanned::bare(field),
                values,
                span: Span::NONE,
            }
        }),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 2..4).prop_map(|terms| Condition::And {
                terms,
                span: Span::NONE
            }),
            vec(inner.clone(), 2..4).prop_map(|terms| Condition::Or {
                terms,
                span: Span::NONE
            }),
            inner.prop_map(|t| Condition::Not {
                term: Box::new(t),
                span: Span::NONE
            }),
        ]
    })
}

fn aggregate() -> impl Strategy<Value = Aggregate> {
    proptest::sample::select(vec![
        Aggregate::Sum,
        Aggregate::Count,
        Aggregate::Max,
        Aggregate::Min,
        Aggregate::Avg,
    ])
}

fn metric() -> impl Strategy<Value = Metric> {
    let of = prop_oneof![
        Just(Vec::new()),
        vec(ident(&EXERCISES), 1..4).prop_map(|v| v.into_iter().map(Spanned::bare).collect()),
    ];
    (
        aggregate(),
        ident(&MEASURES),
        of,
        proptest::option::of(condition()),
        prop_oneof![Just(GoalOp::Ge), Just(GoalOp::Le)],
        target(),
    )
        .prop_map(|(aggregate, measure, of, where_, op, target)| Metric {
            aggregate,
            measure: Spanned::bare(measure),
            of,
            where_,
            op,
            target,
            span: Span::NONE,
        })
}

fn period() -> impl Strategy<Value = Period> {
    proptest::sample::select(Period::ALL.to_vec())
}

fn goal() -> impl Strategy<Value = Goal> {
    metric()
        .prop_map(Goal::Metric)
        .prop_recursive(4, 24, 4, |inner| {
            let span = Span::NONE;
            prop_oneof![
                vec(inner.clone(), 1..4).prop_map(move |goals| Goal::All { goals, span }),
                vec(inner.clone(), 1..4).prop_map(move |goals| Goal::Any { goals, span }),
                (count(), vec(inner.clone(), 1..4)).prop_map(move |(count, goals)| Goal::AtLeast {
                    count,
                    goals,
                    span
                }),
                (period(), inner.clone()).prop_map(move |(period, g)| Goal::Every {
                    period,
                    goal: Box::new(g),
                    span
                }),
                (count(), period(), inner.clone()).prop_map(move |(count, period, g)| Goal::On {
                    count,
                    period,
                    goal: Box::new(g),
                    span
                }),
                (count(), period(), inner.clone()).prop_map(move |(count, period, g)| {
                    Goal::Streak {
                        count,
                        period,
                        goal: Box::new(g),
                        span,
                    }
                }),
                inner.prop_map(move |g| Goal::OneWorkout {
                    goal: Box::new(g),
                    span
                }),
            ]
        })
}

fn expr() -> impl Strategy<Value = Expr> {
    let span = Span::NONE;
    let leaf = prop_oneof![
        quantity().prop_map(move |value| Expr::Number { value, span }),
        ident(&PARAMS).prop_map(move |n| Expr::Param {
            name: Spanned::bare(n),
            span
        }),
        (
            proptest::sample::select(ProfileFigure::ALL.to_vec()),
            ident(&EXERCISES[..5])
        )
            .prop_map(move |(f, ex)| Expr::Profile {
                metric: s(f.name()),
                exercise: f.takes_exercise().then(|| Spanned::bare(ex)),
                span
            }),
    ];
    leaf.prop_recursive(4, 24, 3, move |inner| {
        let op = proptest::sample::select(vec![BinOp::Add, BinOp::Sub, BinOp::Mul, BinOp::Div]);
        prop_oneof![
            (op, inner.clone(), inner.clone()).prop_map(move |(op, l, r)| Expr::Binary {
                op,
                left: Box::new(l),
                right: Box::new(r),
                span
            }),
            (
                proptest::sample::select(Function::ALL.to_vec()),
                vec(inner, 3)
            )
                .prop_map(move |(f, mut args)| {
                    args.truncate(f.arity());
                    Expr::Call {
                        func: s(f.name()),
                        args,
                        span,
                    }
                }),
        ]
    })
}

fn param() -> impl Strategy<Value = Param> {
    (
        ident(&PARAMS),
        proptest::sample::select(Dimension::ALL.to_vec()),
        expr(),
        proptest::option::of(expr()),
    )
        .prop_map(|(name, dimension, expr, fallback)| Param {
            name: Spanned::bare(name),
            dimension: Spanned::bare(dimension),
            expr,
            fallback,
            span: Span::NONE,
        })
}

fn date() -> impl Strategy<Value = Spanned<NaiveDate>> {
    (2000i32..2100, 1u32..=12, 1u32..=28)
        .prop_map(|(y, m, d)| Spanned::bare(NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()))
}

fn challenge() -> impl Strategy<Value = Challenge> {
    let header = (
        prop_oneof![Just(DeclKind::Challenge), Just(DeclKind::Template)],
        text(),
        text(),
        proptest::option::of(text()),
        (date(), date()),
        prop_oneof![
            Just("UTC".to_owned()),
            Just("Asia/Singapore".to_owned()),
            text()
        ],
        vec(text(), 0..3),
        vec(text(), 0..3),
    );
    // Rewards with and without a tier, followed by tier lines (language.md §10): a reward
    // without a tier right before a `tier ... at` line must read back as two items.
    let rewards = vec(
        (
            text(),
            proptest::option::of(0u64..1_000_000),
            proptest::option::of(text()),
        )
            .prop_map(|(name, points, tier)| Reward {
                name,
                points,
                tier: tier.map(Spanned::bare),
                span: Span::NONE,
            }),
        0..3,
    );
    let tiers = vec(
        (text(), quantity()).prop_map(|(name, at)| Tier {
            name,
            at,
            span: Span::NONE,
        }),
        0..3,
    );
    let teams = vec(text(), 0..3);
    (header, (teams, rewards, tiers), vec(param(), 0..3), goal()).prop_map(
        |(
            (kind, id, title, description, (start, end), tz, groups, gyms),
            (teams, rewards, tiers),
            params,
            goal,
        )| {
            Challenge {
                version: TREE_VERSION,
                kind,
                id: Spanned::bare(id),
                title: Spanned::bare(title),
                description: description.map(Spanned::bare),
                window: Window { start, end },
                timezone: Spanned::bare(tz),
                groups: groups.into_iter().map(Spanned::bare).collect(),
                gyms: gyms.into_iter().map(Spanned::bare).collect(),
                teams: teams.into_iter().map(Spanned::bare).collect(),
                rewards,
                tiers,
                params,
                goal,
                span: Span::NONE,
            }
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn printed_trees_parse_back_to_themselves(tree in challenge()) {
        let text = rules_dsl::print(&tree);
        let parsed = rules_dsl::parse(&text);
        prop_assert!(
            parsed.diagnostics.is_empty(),
            "{}\n{}",
            text,
            rules_dsl::render(&parsed.diagnostics, &text, "printed.chal", false)
        );
        prop_assert_eq!(parsed.decls.len(), 1);
        prop_assert_eq!(&parsed.decls[0], &tree, "{}", text);
    }

    #[test]
    fn formatting_printed_text_changes_nothing(trees in vec(challenge(), 1..3)) {
        let text = rules_dsl::print_file(&trees);
        let formatted = rules_dsl::format(&text);
        prop_assert_eq!(formatted.as_deref(), Ok(text.as_str()));
    }

    #[test]
    fn json_trees_read_back_to_themselves(trees in vec(challenge(), 1..3)) {
        // The JSON form (language.md §9) through the strict reader that browsers' trees take.
        let single = serde_json::to_string(&trees[0]).unwrap();
        let read = rules_core::json::read_trees(&single);
        prop_assert_eq!(&read.diagnostics, &vec![]);
        prop_assert_eq!(&read.decls, &vec![trees[0].clone()]);
        let array = serde_json::to_string_pretty(&trees).unwrap();
        let read = rules_core::json::read_trees(&array);
        prop_assert!(read.array);
        prop_assert_eq!(&read.decls, &trees);
    }

    /// Every E0001 help of a condition value written in the wrong form that says "write `X`"
    /// gives a condition `X` that, put in place of the wrong one, parses and checks (issue #19).
    #[test]
    fn the_write_form_of_a_condition_value_help_compiles(condition in wrong_condition()) {
        let src = crate::with_goal(&format!("count(workouts where {condition}) >= 1"));
        let parsed = rules_dsl::parse(&src);
        let forms: Vec<&str> = parsed
            .diagnostics
            .iter()
            .filter_map(|d| d.help.as_deref()?.strip_prefix("write `")?.strip_suffix('`'))
            .collect();
        prop_assert!(!parsed.diagnostics.is_empty(), "{}", src);
        for form in forms {
            let fixed = crate::with_goal(&format!("count(workouts where {form}) >= 1"));
            let reparsed = rules_dsl::parse(&fixed);
            prop_assert!(
                reparsed.diagnostics.is_empty(),
                "`{}` suggested `{}`:\n{}",
                condition,
                form,
                rules_dsl::render(&reparsed.diagnostics, &fixed, "fixed.chal", false)
            );
            for decl in &reparsed.decls {
                let checked = rules_core::check::check(decl, &rules_core::Catalog::builtin());
                prop_assert!(checked.is_empty(), "`{}` suggested `{}`: {:?}", condition, form, checked);
            }
        }
    }
}

/// A `gym`, `machine` or `weekday` condition (a comparison or an `in` list) with at least one
/// value written in the wrong form: a bare gym or machine, a weekday in quotes (any case).
fn wrong_condition() -> impl Strategy<Value = String> {
    let field = proptest::sample::select(vec!["gym", "machine", "weekday"]);
    field.prop_flat_map(|field| {
        let value = (
            proptest::sample::select(WEEKDAYS.to_vec()),
            "[a-z][a-z0-9_]{0,6}",
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(move |(day, word, wrong, upper)| {
                let (right, bad) = if field == "weekday" {
                    let quoted = if upper {
                        day.to_uppercase()
                    } else {
                        day.to_owned()
                    };
                    (day.to_owned(), format!("\"{quoted}\""))
                } else {
                    (format!("\"{word}\""), word)
                };
                (if wrong { bad } else { right }, wrong)
            });
        let op = proptest::sample::select(vec!["==", "!="]);
        (vec(value, 1..4), op, any::<bool>()).prop_filter_map(
            "at least one wrong value",
            move |(values, op, list)| {
                if !values.iter().any(|(_, wrong)| *wrong) {
                    return None;
                }
                let texts: Vec<&str> = values.iter().map(|(t, _)| t.as_str()).collect();
                Some(if list || texts.len() > 1 {
                    format!("{field} in ({})", texts.join(", "))
                } else {
                    format!("{field} {op} {}", texts[0])
                })
            },
        )
    })
}
