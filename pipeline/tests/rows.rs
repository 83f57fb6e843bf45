//! The on-demand stage's result rows are the text `serde_json::to_string` gives, for every
//! result of the fixture challenges over generated workouts (at several times).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

use chrono::NaiveDate;
use pipeline::ondemand;
use rules_core::eval::{self, AsOf, Plan};
use rules_core::records;
use rules_core::session;
use rules_core::Catalog;
use workload::{generate_events, EventsConfig};

#[test]
fn result_rows_are_the_text_serde_json_gives() {
    let (text, _) = generate_events(&EventsConfig {
        users: 12,
        machines: 6,
        start: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
        days: 20,
        seed: 3,
        noise: false,
    });
    let events: Vec<_> = text
        .lines()
        .filter_map(|l| session::parse_event_line(l).ok())
        .collect();
    let users: Vec<records::User> = events
        .iter()
        .filter_map(|e| match e {
            session::SensorEvent::UserUpsert(u) => Some(u.user.clone()),
            _ => None,
        })
        .collect();
    let workouts = session::workouts_of(events);
    assert!(workouts.len() > 20);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/challenges");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "chal"))
        .collect();
    files.sort();
    let catalog = Catalog::builtin();
    let mut compared = 0;
    for f in files {
        for decl in rules_dsl::parse(&std::fs::read_to_string(&f).unwrap()).decls {
            let plan = Plan::compile(&decl, &catalog).unwrap();
            for at in [
                "2026-07-01T00:00:00Z",
                "2026-08-03T12:00:00+08:00",
                "2026-08-15T23:59:59.5+08:00",
                "2026-09-30T00:00:00-05:00",
            ] {
                let as_of = AsOf::parse(at).unwrap();
                for user in &users {
                    let result = eval::evaluate(&plan, user, &workouts, &as_of);
                    let row = ondemand::result_row(&result, 1);
                    assert_eq!(row.json, serde_json::to_string(&result).unwrap());
                    assert_eq!(ondemand::result_json(&result), row.json);
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 400, "{compared}");
}
