//! Template text (param expressions) → parse → check → bind for a user with history and one
//! without: never a panic, and every recommended challenge passes the checker.
#![no_main]

use std::collections::BTreeMap;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use rules_core::check;
use rules_core::diagnostic::has_errors;
use rules_core::eval::AsOf;
use rules_core::profile::{self, Profile};
use rules_core::records::{self, User};
use rules_core::template::Recommender;
use rules_core::Catalog;

const WORKOUTS: &str = include_str!("../../fixtures/workouts.jsonl");

/// A member with history and one without, computed once.
fn profiles() -> &'static [Profile; 2] {
    static PROFILES: OnceLock<[Profile; 2]> = OnceLock::new();
    PROFILES.get_or_init(|| {
        let as_of = AsOf::parse("2026-09-01T00:00:00+08:00").unwrap_or_else(|| unreachable!());
        let workouts = records::read_workouts(WORKOUTS).into_records();
        let user = User::unknown("u-01");
        [
            profile::profile(&user, &workouts, &Catalog::builtin(), &as_of, 90),
            Profile::empty("u-new", None, &as_of, 90),
        ]
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = rules_dsl::parse(text);
    let catalog = Catalog::builtin();
    for decl in &parsed.decls {
        let Ok(recommender) = Recommender::new(decl, &catalog, BTreeMap::new()) else {
            continue;
        };
        for p in profiles() {
            if let Ok(rec) = recommender.recommend(p) {
                assert!(!has_errors(&check::check(&rec.challenge, &catalog)));
            }
        }
    }
});
