//! Nesting and size limits: E0013 instead of a crash, at any depth, on a small stack.

use rules_core::Code;

use crate::{on_small_stack, with_goal, HEAD};

fn codes(source: String) -> Vec<Code> {
    on_small_stack(move || {
        let parsed = rules_dsl::parse(&source);
        assert!(parsed.decls.is_empty());
        parsed.diagnostics.iter().map(|d| d.code).collect()
    })
}

fn nested_alls(n: usize) -> String {
    with_goal(&format!(
        "{} count(workouts) >= 1 {}",
        "all { ".repeat(n),
        "} ".repeat(n)
    ))
}

#[test]
fn a_hundred_thousand_nested_alls_are_e0013() {
    assert_eq!(codes(nested_alls(100_000)), vec![Code::E0013]);
}

#[test]
fn a_hundred_thousand_nots_are_e0013() {
    let src = with_goal(&format!(
        "count(workouts where {} reps > 1) >= 1",
        "not ".repeat(100_000)
    ));
    assert_eq!(codes(src), vec![Code::E0013]);
}

#[test]
fn a_hundred_thousand_parentheses_are_e0013() {
    let n = 100_000;
    let src = with_goal(&format!(
        "count(workouts where {}reps > 1{}) >= 1",
        "(".repeat(n),
        ")".repeat(n)
    ));
    assert_eq!(codes(src), vec![Code::E0013]);
}

#[test]
fn a_hundred_thousand_unclosed_braces_are_e0013() {
    let src = format!("{HEAD}    goal {}", "any { ".repeat(100_000));
    assert_eq!(codes(src), vec![Code::E0013]);
}

#[test]
fn long_chains_are_flat_and_fine() {
    let terms = vec!["reps > 1"; 20_000].join(" and ");
    let src = with_goal(&format!("count(sets where {terms}) >= 1"));
    let decls = on_small_stack(move || rules_dsl::parse(&src).decls);
    assert_eq!(decls.len(), 1);
}

#[test]
fn a_hundred_thousand_term_expression_is_e0013() {
    let sum = vec!["1"; 100_000].join(" + ");
    let src = format!("template \"t\" {{\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n    param n: count = {sum}\n    goal count(workouts) >= $n\n}}\n");
    assert_eq!(codes(src), vec![Code::E0013]);
}

#[test]
fn sixty_four_goal_levels_are_fine_sixty_five_are_not() {
    // 63 `all`s and the metric: 64 levels.
    let ok = nested_alls(63);
    let parsed = on_small_stack(move || rules_dsl::parse(&ok));
    assert!(parsed.diagnostics.is_empty());
    assert_eq!(codes(nested_alls(64)), vec![Code::E0013]);
}

#[test]
fn an_implicit_all_counts_as_a_level() {
    // 63 `every day` levels around a block of two goals: the block's `all` is level 64, its
    // goals level 65.
    let inner = "count(workouts) >= 1 count(sets) >= 1";
    let src = with_goal(&format!(
        "{} {inner} {}",
        "every day { ".repeat(63),
        "} ".repeat(63)
    ));
    assert_eq!(codes(src), vec![Code::E0013]);
    let src = with_goal(&format!(
        "{} {inner} {}",
        "every day { ".repeat(62),
        "} ".repeat(62)
    ));
    assert!(rules_dsl::parse(&src).diagnostics.is_empty());
}

#[test]
fn sixty_four_condition_levels_are_fine_sixty_five_are_not() {
    // 63 `not`s and the comparison: 64 levels.
    let cond = |n: usize| {
        with_goal(&format!(
            "count(workouts where {} reps > 1) >= 1",
            "not ".repeat(n)
        ))
    };
    assert!(rules_dsl::parse(&cond(63)).diagnostics.is_empty());
    assert_eq!(codes(cond(64)), vec![Code::E0013]);
    // Nested `and`/`or` through parentheses count too.
    let mut c = "reps > 1".to_owned();
    for i in 0..64 {
        let op = if i % 2 == 0 { "and" } else { "or" };
        c = format!("hour > 1 {op} ({c})");
    }
    assert_eq!(
        codes(with_goal(&format!("count(sets where {c}) >= 1"))),
        vec![Code::E0013]
    );
}

#[test]
fn parentheses_below_the_bound_parse_on_a_small_stack() {
    // Parentheses alone add no level, so this is a valid tree: pest must survive it.
    let n = 190;
    let src = with_goal(&format!(
        "count(workouts where {}reps > 1{}) >= 1",
        "(".repeat(n),
        ")".repeat(n)
    ));
    let parsed = on_small_stack(move || rules_dsl::parse(&src));
    assert!(parsed.diagnostics.is_empty());
    let n = 190;
    let src = with_goal(&format!(
        "{} count(workouts) >= 1 {}",
        "all { ".repeat(n),
        "} ".repeat(n)
    ));
    assert_eq!(codes(src), vec![Code::E0013]);
}

#[test]
fn formatting_deep_input_is_an_error_not_a_crash() {
    let src = nested_alls(100_000);
    let result = on_small_stack(move || rules_dsl::format(&src));
    let errors = result.unwrap_err();
    assert_eq!(errors.first().map(|d| d.code), Some(Code::E0013));
}

#[test]
fn a_file_over_one_mebibyte_is_e0013() {
    let mut src = with_goal("count(workouts) >= 1");
    src.push_str(&"// padding\n".repeat(100_000));
    assert!(src.len() > 1 << 20);
    let parsed = rules_dsl::parse(&src);
    assert_eq!(parsed.diagnostics.len(), 1);
    assert_eq!(parsed.diagnostics[0].code, Code::E0013);
    assert!(parsed.diagnostics[0].message.contains("1 MiB"));
}
