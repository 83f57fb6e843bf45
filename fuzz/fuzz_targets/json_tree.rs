//! Arbitrary bytes as a JSON tree → read → check → (if it checks) compile a plan and evaluate
//! it on a few workouts: never a panic, and a tree that reads back prints to DSL that parses
//! to the same tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules_core::check::{self, Layout};
use rules_core::diagnostic::has_errors;
use rules_core::eval::{self, AsOf, Plan};
use std::sync::OnceLock;

use rules_core::records::{self, User, Workout};
use rules_core::tree::DeclKind;
use rules_core::{json, Catalog};

const WORKOUTS: &str = include_str!("../../fixtures/workouts.jsonl");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let trees = json::read_trees(text);
    let catalog = Catalog::builtin();
    let layout = if trees.array { Layout::Array } else { Layout::Single };
    let diagnostics = check::check_file(&trees.decls, &catalog, layout);
    if has_errors(&diagnostics) || has_errors(&trees.diagnostics) {
        return;
    }
    static SOME_WORKOUTS: OnceLock<Vec<Workout>> = OnceLock::new();
    let workouts = SOME_WORKOUTS
        .get_or_init(|| records::read_workouts(WORKOUTS).into_records().into_iter().take(200).collect());
    let users = [User::unknown("u-01"), User::unknown("u-02")];
    let as_of = AsOf::parse("2026-08-20T12:00:00+08:00").unwrap_or_else(|| unreachable!());
    for decl in &trees.decls {
        let printed = rules_dsl::print(decl);
        let back = rules_dsl::parse(&printed);
        assert_eq!(back.decls.as_slice(), std::slice::from_ref(decl), "JSON → DSL → tree differs:\n{printed}");
        if decl.kind == DeclKind::Challenge {
            if let Ok(plan) = Plan::compile(decl, &catalog) {
                for result in eval::evaluate_all(std::slice::from_ref(&plan), &users, workouts, &as_of) {
                    assert!((0.0..=1.0).contains(&result.progress));
                }
            }
        }
    }
});
