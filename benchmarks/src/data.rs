//! The benchmark data: users and workouts from the seeded generator, grouped per user once.
//!
//! Files live in `target/bench-data/<users>x<days>/` and are generated on first use with
//! `cargo run --release --bin gen-fixtures -- --users N --days D --start 2026-08-01 --seed 2026`.
//! The peers' view of a workout is [`Flat`]: the record's fields plus a precomputed local day
//! number and epoch seconds, because JsonLogic, ZEN and rhai have no time zones (a concession in
//! their favour: our engine does its own time-zone math inside the timed loop).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use std::sync::OnceLock;

use chrono::{DateTime, FixedOffset, NaiveDate};
use rules_core::eval::AsOf;
use rules_core::records::{self, User, Workout};
use rules_core::zone::Zone;

/// The time zone of every benchmark challenge and of the generated gyms.
pub const TIMEZONE: &str = "Asia/Singapore";

/// [`TIMEZONE`], looked up once.
fn zone() -> &'static Zone {
    static ZONE: OnceLock<Zone> = OnceLock::new();
    ZONE.get_or_init(|| Zone::get(TIMEZONE).unwrap())
}

/// The first day of the generated data (the generator's default).
pub const FIRST_DAY: &str = "2026-08-01";

/// The seed passed to the generator.
pub const SEED: u64 = 2026;

/// One workout as the peers and the hand-written functions see it.
#[derive(Clone, Debug, PartialEq)]
pub struct Flat {
    /// Exercise id.
    pub exercise: String,
    /// Gym, when recorded.
    pub gym: Option<String>,
    /// Machine, when recorded.
    pub machine: Option<String>,
    /// Local date in the challenges' time zone, as days since 1970-01-01.
    pub day: i64,
    /// Start, epoch seconds.
    pub start: i64,
    /// End, epoch seconds.
    pub end: i64,
    /// Sets: reps and load.
    pub sets: Vec<(i64, Option<f64>)>,
    /// Metres.
    pub distance_m: Option<f64>,
    /// kcal.
    pub calories_kcal: Option<f64>,
    /// bpm.
    pub avg_hr_bpm: Option<f64>,
    /// Percent.
    pub incline_pct: Option<f64>,
}

impl Flat {
    /// The flat view of a record.
    pub fn of(w: &Workout) -> Flat {
        Flat {
            exercise: w.exercise.clone(),
            gym: w.gym.clone(),
            machine: w.machine.clone(),
            day: local_day(&w.start),
            start: w.start.timestamp(),
            end: w.end.timestamp(),
            sets: w
                .sets
                .iter()
                .map(|s| (i64::from(s.reps), s.weight_kg))
                .collect(),
            distance_m: w.distance_m,
            calories_kcal: w.calories_kcal,
            avg_hr_bpm: w.avg_hr_bpm,
            incline_pct: w.incline_pct,
        }
    }
}

/// Days since 1970-01-01 of the local date of `t` in [`TIMEZONE`].
pub fn local_day(t: &DateTime<FixedOffset>) -> i64 {
    epoch_day(zone().local_date(t.timestamp()))
}

/// Days since 1970-01-01 of a date.
pub fn epoch_day(d: NaiveDate) -> i64 {
    (d - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()).num_days()
}

/// Users and their workouts, grouped once.
pub struct Dataset {
    /// "1,000 users × 31 days".
    pub label: String,
    /// Users, in file order.
    pub users: Vec<User>,
    /// Each user's workouts (same index as `users`), in file order.
    pub workouts: Vec<Vec<Workout>>,
    /// Each user's workouts as the peers see them.
    pub flat: Vec<Vec<Flat>>,
    /// First day of the data (and of every benchmark challenge's window).
    pub first: NaiveDate,
    /// Last day.
    pub last: NaiveDate,
    /// The first instant after the last day, local time: every challenge is evaluated there,
    /// with every period closed.
    pub as_of: AsOf,
}

impl Dataset {
    /// All workouts, in user order.
    pub fn all_workouts(&self) -> Vec<Workout> {
        self.workouts.iter().flatten().cloned().collect()
    }

    /// Number of workouts.
    pub fn workout_count(&self) -> usize {
        self.workouts.iter().map(Vec::len).sum()
    }
}

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Loads `users × days` from `target/bench-data/`, generating the files first when missing.
pub fn load(users: usize, days: u32) -> Dataset {
    let root = workspace_root();
    let dir = root
        .join("target")
        .join("bench-data")
        .join(format!("{users}x{days}"));
    if !dir.join("workouts.jsonl").exists() || !dir.join("users.jsonl").exists() {
        eprintln!(
            "generating {users} users x {days} days into {}",
            dir.display()
        );
        let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
            .current_dir(&root)
            .args(["run", "--release", "--quiet", "--bin", "gen-fixtures", "--"])
            .args(["--users", &users.to_string(), "--days", &days.to_string()])
            .args(["--start", FIRST_DAY, "--seed", &SEED.to_string()])
            .arg("--out")
            .arg(&dir)
            .status()
            .expect("cargo runs");
        assert!(status.success(), "gen-fixtures failed");
    }
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let user_report = records::read_users(&read("users.jsonl"));
    let workout_report = records::read_workouts(&read("workouts.jsonl"));
    assert!(user_report.rejected.is_empty() && workout_report.rejected.is_empty());
    let users = user_report.into_records();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, u) in users.iter().enumerate() {
        index.insert(u.id.clone(), i);
    }
    let mut workouts = vec![Vec::new(); users.len()];
    for w in records::upsert_workouts(workout_report.into_records()) {
        let i = index[&w.user];
        workouts[i].push(w);
    }
    let flat = workouts
        .iter()
        .map(|ws| ws.iter().map(Flat::of).collect())
        .collect();
    let first = NaiveDate::parse_from_str(FIRST_DAY, "%Y-%m-%d").unwrap();
    let last = first + chrono::Duration::days(i64::from(days) - 1);
    let end = zone()
        .first_instant(last + chrono::Duration::days(1))
        .unwrap();
    let offset = FixedOffset::east_opt(i32::try_from(zone().offset_at(end)).unwrap()).unwrap();
    let end = DateTime::from_timestamp(end, 0)
        .unwrap()
        .with_timezone(&offset);
    Dataset {
        label: format!("{} users × {days} days", thousands(users.len() as u64)),
        users,
        workouts,
        flat,
        first,
        last,
        as_of: AsOf::from_time(end),
    }
}

/// `12345` → `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
