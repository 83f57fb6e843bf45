//! Team results and rewards in the pipeline (language.md §10; service.md, "Rewards"): members
//! joining and leaving teams in any delivery order and batching give the same team rows; after
//! a tick every team row is the `challenge eval` line as of the tick; a monotone goal's team
//! progress never decreases; verify stays green after group changes; rewards are issued once
//! (re-ingest, rebuild, reopen), per tier, keyed by team for a team, with their webhook
//! deliveries owed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::BTreeMap;

use common::{engine_with, view};
use pipeline::engine::{Engine, Options};
use pipeline::sqlite::SqliteStore;
use pipeline::store::Store;
use pipeline::transport::LineReader;
use proptest::prelude::*;
use rules_core::eval::{self, AsOf, Plan};
use rules_core::records;
use rules_core::Catalog;
use serde_json::Value;

const CHALLENGES: &str = r#"
challenge "duel" {
    title "Twenty kilometres: A against B"
    window 2026-08-01 to 2026-08-31
    teams "coy-b", "coy-a"
    reward "Team finisher" points 100
    reward "Team half" points 10 tier "half"
    tier "half" at 50 %
    tier "full" at 100 %

    goal sum(distance) >= 20 km
}
challenge "run-20k" {
    title "Twenty kilometres each"
    window 2026-08-01 to 2026-08-31
    reward "Finisher" points 50
    reward "Bronze badge" tier "bronze"
    reward "Silver badge" points 5 tier "silver"
    tier "bronze" at 25 %
    tier "silver" at 50 %
    tier "gold" at 100 %

    goal sum(distance) >= 20 km
}
"#;

fn options(partitions: u32, batch: usize) -> Options {
    Options {
        partitions,
        batch_lines: batch,
        ..Options::default()
    }
}

fn engine(partitions: u32, batch: usize) -> Engine<SqliteStore> {
    engine_with(CHALLENGES, options(partitions, batch))
}

fn upsert(user: &str, ts: &str, groups: &[&str]) -> String {
    let groups: Vec<String> = groups.iter().map(|g| format!("\"{g}\"")).collect();
    format!(
        r#"{{"type":"user_upsert","ts":"{ts}","user":{{"id":"{user}","groups":[{}]}}}}"#,
        groups.join(",")
    )
}

/// An imported workout of `km` kilometres on August `day`.
fn workout(id: &str, user: &str, day: u32, km: u32) -> String {
    format!(
        r#"{{"type":"workout","seq":0,"ts":"2026-08-{day:02}T08:00:00Z","source":"fit","workout":{{"id":"{id}","user":"{user}","exercise":"run","start":"2026-08-{day:02}T06:00:00Z","end":"2026-08-{day:02}T06:40:00Z","distance_m":{}}}}}"#,
        km * 1000
    )
}

fn ingest_as(e: &mut Engine<SqliteStore>, key: &str, lines: &[String]) {
    let text = lines.join("\n") + "\n";
    e.ingest(&mut LineReader::new(key, text.as_bytes()), |_| {})
        .unwrap();
}

fn lines(e: &mut Engine<SqliteStore>, view: &str, holder: Option<&str>) -> Vec<String> {
    e.store().query(view, holder, None).unwrap()
}

/// What `challenge eval --as-of AT` prints for the team challenges, over the pipeline's
/// `query workouts` and `query users`.
fn eval_team_lines(e: &mut Engine<SqliteStore>, at: &AsOf) -> Vec<String> {
    let workouts = records::upsert_workouts(
        records::read_workouts(&lines(e, "workouts", None).join("\n")).into_records(),
    );
    let users = records::upsert_users(
        records::read_users(&lines(e, "users", None).join("\n")).into_records(),
    );
    let everyone = records::users_to_evaluate(&users, &workouts, None);
    let plans: Vec<Plan> = rules_dsl::parse(CHALLENGES)
        .decls
        .iter()
        .map(|d| Plan::compile(d, &Catalog::builtin()).unwrap())
        .filter(|p| !p.teams().is_empty())
        .collect();
    eval::evaluate_all(&plans, &everyone, &workouts, at)
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect()
}

/// A membership change or a workout, as a generated message.
#[derive(Clone, Debug)]
enum Message {
    Upsert { user: usize, hour: u32, groups: u8 },
    Workout { user: usize, day: u32, km: u32 },
}

fn arb_message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (0usize..4, 0u32..200, 0u8..8).prop_map(|(user, hour, groups)| Message::Upsert {
            user,
            hour,
            groups
        }),
        (0usize..4, 1u32..20, 1u32..9).prop_map(|(user, day, km)| Message::Workout {
            user,
            day,
            km
        }),
    ]
}

/// The messages as lines: upserts get distinct times (the latest record wins whatever the
/// delivery order), workouts distinct ids.
fn message_lines(messages: &[Message]) -> Vec<String> {
    let groups = ["coy-a", "coy-b", "nsfit"];
    messages
        .iter()
        .enumerate()
        .map(|(k, m)| match m {
            Message::Upsert {
                user,
                hour,
                groups: g,
            } => {
                let mine: Vec<&str> = groups
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| g & (1 << i) != 0)
                    .map(|(_, n)| *n)
                    .collect();
                let t = chrono::DateTime::from_timestamp(
                    1_785_456_000 + i64::from(*hour) * 3600 + k as i64,
                    0,
                )
                .unwrap()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                upsert(&format!("u-{user}"), &t, &mine)
            }
            Message::Workout { user, day, km } => {
                workout(&format!("w-{k}"), &format!("u-{user}"), *day, *km)
            }
        })
        .collect()
}

/// Each team row's progress of `duel`, by team.
fn team_progress(e: &mut Engine<SqliteStore>) -> BTreeMap<String, f64> {
    e.store()
        .query("team_results", None, Some("duel"))
        .unwrap()
        .iter()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["team"].as_str().unwrap().to_owned(),
                v["progress"].as_f64().unwrap(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn members_joining_and_leaving_in_any_order_and_batching_give_the_same_team_rows(
        messages in prop::collection::vec(arb_message(), 1..24),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..60),
        resends in prop::collection::vec(any::<prop::sample::Index>(), 0..6),
        batch in 1usize..8,
        partitions in 1u32..4,
    ) {
        let clean = message_lines(&messages);
        let mut reference = engine(1, 100_000);
        ingest_as(&mut reference, "input", &clean);

        let mut delivery = clean.clone();
        for r in &resends {
            delivery.push(r.get(&clean).clone());
        }
        let n = delivery.len();
        for (k, i) in order.iter().enumerate() {
            delivery.swap(k % n, i.index(n));
        }
        let mut e = engine(partitions, batch);
        ingest_as(&mut e, "input", &delivery);
        // Between ticks too, a team row is a function of the final state.
        prop_assert_eq!(lines(&mut e, "team_results", None), lines(&mut reference, "team_results", None));
        prop_assert_eq!(e.store().view_hashes().unwrap(), reference.store().view_hashes().unwrap());
        let expected: Vec<String> = e.expected_team_results().into_iter().map(|r| r.json).collect();
        prop_assert_eq!(lines(&mut e, "team_results", None), expected);

        let at = AsOf::parse("2026-08-25T12:00:00+08:00").unwrap();
        reference.tick(&at, "UTC").unwrap();
        e.tick(&at, "UTC").unwrap();
        let teams = lines(&mut e, "team_results", None);
        prop_assert_eq!(teams.len(), 2, "one row per listed team");
        prop_assert_eq!(&teams, &lines(&mut reference, "team_results", None));
        prop_assert_eq!(&teams, &eval_team_lines(&mut e, &at));
        let mut store = e.into_store();
        let checks = pipeline::verify::verify(&mut store, options(partitions, batch), &mut |_| {}).unwrap();
        prop_assert!(checks.iter().all(|c| c.equal), "{:?}", checks);
    }

    #[test]
    fn a_monotone_team_goal_never_loses_progress(
        workouts in prop::collection::vec((0usize..4, 1u32..20, 1u32..5), 1..20),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..40),
        batch in 1usize..5,
    ) {
        let mut delivery: Vec<String> = workouts
            .iter()
            .enumerate()
            .map(|(k, (user, day, km))| workout(&format!("w-{k}"), &format!("u-{user}"), *day, *km))
            .collect();
        let n = delivery.len();
        for (k, i) in order.iter().enumerate() {
            delivery.swap(k % n, i.index(n));
        }
        let mut e = engine(2, batch);
        ingest_as(&mut e, "members", &[
            upsert("u-0", "2026-07-01T00:00:00Z", &["coy-a"]),
            upsert("u-1", "2026-07-01T00:00:00Z", &["coy-a", "coy-b"]),
            upsert("u-2", "2026-07-01T00:00:00Z", &["coy-b"]),
        ]);
        let mut seen: BTreeMap<String, f64> = BTreeMap::new();
        for (i, chunk) in delivery.chunks(batch).enumerate() {
            ingest_as(&mut e, &format!("part-{i}"), chunk);
            for (team, p) in team_progress(&mut e) {
                let before = seen.get(&team).copied().unwrap_or(0.0);
                prop_assert!(p >= before, "{team} went from {before} to {p}");
                seen.insert(team, p);
            }
            // Resending a part changes nothing.
            ingest_as(&mut e, &format!("again-{i}"), chunk);
        }
    }
}

#[test]
fn joining_and_leaving_move_the_team_rows_and_verify_stays_green() {
    let mut e = engine(2, 3);
    ingest_as(
        &mut e,
        "a",
        &[
            upsert("u-1", "2026-08-01T00:00:00Z", &["coy-a"]),
            upsert("u-2", "2026-08-01T00:00:00Z", &["coy-a", "nsfit"]),
            workout("w-1", "u-1", 2, 4),
            workout("w-2", "u-2", 3, 6),
        ],
    );
    let members = |e: &mut Engine<SqliteStore>, team: &str| -> Vec<String> {
        let rows = lines(e, "team_results", Some(team));
        let row: Value = serde_json::from_str(&rows[0]).unwrap();
        row["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["user"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(members(&mut e, "coy-a"), ["u-1", "u-2"]);
    assert_eq!(team_progress(&mut e)["coy-a"], 0.5);
    // No member and no tick yet: coy-b has no row.
    assert!(lines(&mut e, "team_results", Some("coy-b")).is_empty());

    // u-2 leaves coy-a for coy-b: both teams change.
    ingest_as(
        &mut e,
        "b",
        &[upsert("u-2", "2026-08-05T00:00:00Z", &["coy-b"])],
    );
    assert_eq!(members(&mut e, "coy-a"), ["u-1"]);
    assert_eq!(members(&mut e, "coy-b"), ["u-2"]);
    let p = team_progress(&mut e);
    assert_eq!((p["coy-a"], p["coy-b"]), (0.2, 0.3));
    let row: Value =
        serde_json::from_str(&lines(&mut e, "team_results", Some("coy-b"))[0]).unwrap();
    assert_eq!(row["as_of"], "2026-08-05T00:00:00Z");

    // `query results` holds user and team rows; `--user` keeps a user's own.
    let all = lines(&mut e, "results", None);
    assert_eq!(all.len(), 2 + 2, "two team rows, two users' rows");
    assert!(lines(&mut e, "results", Some("u-2"))
        .iter()
        .all(|l| l.contains("\"user\":\"u-2\"")));

    let checks = pipeline::verify::verify(e.store(), options(2, 3), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");
    e.rebuild(&mut |_| {}).unwrap();
    assert_eq!(lines(&mut e, "results", None), all);

    // Everyone leaves: the teams keep their rows as of the tick, with no members.
    let at = AsOf::parse("2026-08-10T00:00:00Z").unwrap();
    e.tick(&at, "UTC").unwrap();
    ingest_as(
        &mut e,
        "c",
        &[
            upsert("u-1", "2026-08-11T00:00:00Z", &[]),
            upsert("u-2", "2026-08-11T00:00:00Z", &[]),
        ],
    );
    assert!(members(&mut e, "coy-a").is_empty());
    assert_eq!(team_progress(&mut e)["coy-a"], 0.0);
    let checks = pipeline::verify::verify(e.store(), options(2, 3), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");
}

fn rewards(e: &mut Engine<SqliteStore>) -> Vec<Value> {
    view(e, "rewards")
}

fn names(rows: &[Value], holder: &str) -> Vec<(String, String)> {
    rows.iter()
        .filter(|r| r["user"] == holder || r["team"] == holder)
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_owned(),
                r["at"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn rewards_are_issued_once_per_tier_and_never_again() {
    let webhooks = vec![
        "http://127.0.0.1:9/a".to_owned(),
        "http://127.0.0.1:9/b".to_owned(),
    ];
    let opts = || Options {
        webhooks: webhooks.clone(),
        ..options(2, 1000)
    };
    let mut e = engine_with(CHALLENGES, opts());
    let first = vec![
        upsert("u-1", "2026-07-01T00:00:00Z", &["coy-a"]),
        upsert("u-2", "2026-07-01T00:00:00Z", &["coy-a"]),
        workout("w-1", "u-1", 2, 6),
    ];
    ingest_as(&mut e, "first", &first);
    // 30 %: bronze.
    assert_eq!(
        names(&rewards(&mut e), "u-1"),
        [("Bronze badge".to_owned(), "2026-08-02T06:40:00Z".to_owned())]
    );
    let second = vec![workout("w-2", "u-1", 3, 5), workout("w-3", "u-2", 3, 1)];
    ingest_as(&mut e, "second", &second);
    // 55 %: silver; the team's 60 % is its "half".
    let third = vec![workout("w-4", "u-1", 5, 10), workout("w-5", "u-2", 6, 25)];
    ingest_as(&mut e, "third", &third);
    let want_user = [
        ("Bronze badge".to_owned(), "2026-08-02T06:40:00Z".to_owned()),
        ("Finisher".to_owned(), "2026-08-05T06:40:00Z".to_owned()),
        ("Silver badge".to_owned(), "2026-08-03T06:40:00Z".to_owned()),
    ];
    let all = rewards(&mut e);
    assert_eq!(names(&all, "u-1"), want_user);
    // u-2 jumped from nothing to gold in one batch: every tier it passed, once.
    assert_eq!(
        names(&all, "u-2")
            .into_iter()
            .map(|(n, _)| n)
            .collect::<Vec<_>>(),
        ["Bronze badge", "Finisher", "Silver badge"]
    );
    // The team's rewards are the team's, keyed by team.
    assert_eq!(
        names(&all, "coy-a"),
        [
            (
                "Team finisher".to_owned(),
                "2026-08-06T06:40:00Z".to_owned()
            ),
            ("Team half".to_owned(), "2026-08-03T06:40:00Z".to_owned()),
        ]
    );
    let team_row = all.iter().find(|r| r["team"] == "coy-a").unwrap();
    assert_eq!(
        team_row.as_object().unwrap().keys().collect::<Vec<_>>(),
        ["at", "challenge", "name", "points", "team"]
    );
    assert!(all
        .iter()
        .all(|r| r.get("user").is_some() != r.get("team").is_some()));
    let text = lines(&mut e, "rewards", None);
    assert!(text[0].starts_with("{\"challenge\":"), "{}", text[0]);
    assert_eq!(lines(&mut e, "team_rewards", Some("coy-a")).len(), 2);
    assert_eq!(lines(&mut e, "rewards", Some("coy-a")).len(), 0);
    assert_eq!(lines(&mut e, "rewards", Some("u-1")).len(), 3);

    // Deliveries owed: one per reward and webhook, oldest first.
    let owed = e.store().owed_deliveries(i64::MAX, 1000).unwrap();
    assert_eq!(owed.len(), 2 * all.len());
    assert!(owed.windows(2).all(|w| w[0].id < w[1].id));
    assert_eq!(owed[0].key, "run-20k/u-1/Bronze badge");
    assert_eq!(owed[0].url, webhooks[0]);
    assert_eq!(owed[1].url, webhooks[1]);
    assert_eq!(owed[0].attempts, 0);

    // Re-ingest (the same input, and the same lines as another input), a tick, a rebuild, a
    // reopen: nothing issued twice, nothing taken back, nothing owed again.
    let before = lines(&mut e, "rewards", None);
    for (key, part) in [("first", &first), ("retry", &first), ("retry-2", &third)] {
        ingest_as(&mut e, key, part);
    }
    e.tick(&AsOf::parse("2026-08-20T00:00:00Z").unwrap(), "UTC")
        .unwrap();
    e.rebuild(&mut |_| {}).unwrap();
    assert_eq!(lines(&mut e, "rewards", None), before);
    let mut e = Engine::open(e.into_store(), opts()).unwrap();
    ingest_as(&mut e, "second", &second);
    ingest_as(&mut e, "reopened", &second);
    assert_eq!(lines(&mut e, "rewards", None), before);
    assert_eq!(
        e.store().owed_deliveries(i64::MAX, 1000).unwrap().len(),
        owed.len()
    );
    let checks = pipeline::verify::verify(e.store(), opts(), &mut |_| {}).unwrap();
    assert!(checks.iter().all(|c| c.equal), "{checks:?}");

    // A removed challenge loses its results, not its rewards.
    let parsed = rules_dsl::parse(CHALLENGES);
    e.set_challenges(&parsed.decls[1..]).unwrap();
    assert!(lines(&mut e, "team_results", None).is_empty());
    assert_eq!(lines(&mut e, "rewards", None), before);

    // The delivery worker's calls: a failure postpones, a success deletes.
    let id = owed[0].id;
    e.store().delivery_failed(id, 5_000).unwrap();
    let due = e.store().owed_deliveries(1_000, 1000).unwrap();
    assert!(due.iter().all(|d| d.id != id));
    assert_eq!(due.len(), owed.len() - 1);
    let later = e.store().owed_deliveries(5_000, 1).unwrap();
    assert_eq!(
        (later[0].id, later[0].attempts, later[0].next_at),
        (id, 1, 5_000)
    );
    e.store().delivered(id).unwrap();
    assert_eq!(
        e.store().owed_deliveries(i64::MAX, 1000).unwrap().len(),
        owed.len() - 1
    );
}

#[test]
fn without_webhooks_no_delivery_is_owed() {
    let mut e = engine(1, 100);
    ingest_as(
        &mut e,
        "in",
        &[
            upsert("u-1", "2026-07-01T00:00:00Z", &[]),
            workout("w-1", "u-1", 2, 21),
        ],
    );
    assert_eq!(rewards(&mut e).len(), 3);
    assert!(e.store().owed_deliveries(i64::MAX, 10).unwrap().is_empty());
}
