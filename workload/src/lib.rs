//! Deterministic synthetic workloads: the seeded generators of the data that the benches, the
//! tests and the `gen-events` and `gen-fixtures` binaries use. Test-data tooling, not part of
//! the product's API: no library of the product depends on it (`pipeline` only in its tests and
//! benches, the `challenge` package only for those two binaries).
//!
//! It holds the [`Rng`] the workout fixtures and the sensor stream share, and the sensor-stream
//! generator ([`generate_events`]).
//!
//! The same configuration always gives byte-identical output (SplitMix64 of our own, so no
//! dependency's release can change a stream). `gen-events` writes `fixtures/events.jsonl` with
//! it and the benchmarks make larger streams; `gen-fixtures` uses the same [`Rng`].
//!
//! The stream is realistic gym use: every user has a persona (how often they train, whether
//! they lift or run, their strength and pace); strength sessions are 3–4 sets of reps (about one
//! every 3 s, 1–2.5 min of rest between sets, now and then a partial rep), cardio sessions a
//! sample every 10 s (cumulative distance and calories, speed, heart rate, incline on
//! treadmills). Users first appear in a `user_upsert`; some change groups later. Events of all
//! sessions are merged by time. With noise on, delivery is at-least-once and unordered as in a
//! real gym: some identical resends, swapped neighbours, late events (some after their
//! session's end) and malformed lines.

use std::fmt::Write as _;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone};

/// SplitMix64: tiny, fast, and stable forever (unlike a library RNG whose stream may change).
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [lo, hi).
    pub fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }
    /// Uniform integer in [lo, hi].
    pub fn int(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi.saturating_sub(lo).saturating_add(1)).max(1)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }
    /// One of `items` (the default value when empty).
    pub fn pick<T: Copy + Default>(&mut self, items: &[T]) -> T {
        let i = self.next_u64() as usize % items.len().max(1);
        items.get(i).copied().unwrap_or_default()
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct EventsConfig {
    /// Number of users.
    pub users: usize,
    /// Number of machines (each is one exercise in one gym).
    pub machines: usize,
    /// First day.
    pub start: NaiveDate,
    /// Number of days.
    pub days: u32,
    /// Seed; the same seed gives the same stream.
    pub seed: u64,
    /// Resends, reordering, late events and malformed lines.
    pub noise: bool,
}

/// What a generated stream holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventsSummary {
    /// Lines written.
    pub lines: usize,
    /// Sessions.
    pub sessions: usize,
    /// Malformed lines among them.
    pub malformed: usize,
    /// Identical resends among them.
    pub duplicates: usize,
}

const GYMS: [&str; 3] = ["gym-01", "gym-02", "gym-03"];
const GROUPS: [&[&str]; 6] = [
    &["nsfit"],
    &["nsfit", "coy-a"],
    &["nsfit", "coy-b"],
    &["staff"],
    &["staff", "nsfit"],
    &["public"],
];
/// Machine kinds, in the order machines are given them.
const MACHINES: [&str; 9] = [
    "leg_press",
    "treadmill",
    "chest_press",
    "bike",
    "lat_pulldown",
    "rower",
    "shoulder_press",
    "treadmill",
    "seated_row",
];

fn is_cardio(exercise: &str) -> bool {
    matches!(exercise, "treadmill" | "bike" | "rower")
}

struct Persona {
    sessions_per_week: f64,
    lifts: f64,
    one_rep_max: f64,
    pace_kmh: f64,
    early_bird: bool,
}

/// One event before delivery: its time, then its place in the session, and its line.
struct Timed {
    ts: i64,
    session: usize,
    seq: u64,
    line: String,
}

/// Generates a sensor stream (JSON Lines) and says what it holds.
pub fn generate_events(config: &EventsConfig) -> (String, EventsSummary) {
    let mut rng = Rng(config.seed);
    let mut summary = EventsSummary::default();
    // The gyms of the fixtures keep UTC+8 all year.
    let Some(offset) = FixedOffset::east_opt(8 * 3600) else {
        return (String::new(), summary);
    };
    let machines: Vec<(String, &str, &str)> = (0..config.machines.max(1))
        .map(|k| {
            let exercise = MACHINES
                .get(k % MACHINES.len())
                .copied()
                .unwrap_or("treadmill");
            let gym = GYMS.get(k % GYMS.len()).copied().unwrap_or("gym-01");
            (format!("m-{:03}", k + 1), exercise, gym)
        })
        .collect();
    let strength: Vec<usize> = (0..machines.len())
        .filter(|&k| machines.get(k).is_some_and(|m| !is_cardio(m.1)))
        .collect();
    let cardio: Vec<usize> = (0..machines.len())
        .filter(|&k| machines.get(k).is_some_and(|m| is_cardio(m.1)))
        .collect();
    let mut events: Vec<Timed> = Vec::new();
    let width = config.users.max(1).to_string().len().max(2);
    let first = offset
        .from_local_datetime(&config.start.and_hms_opt(0, 0, 0).unwrap_or_default())
        .single();
    let Some(first) = first else {
        return (String::new(), summary);
    };
    for u in 0..config.users {
        let user = format!("u-{:0width$}", u + 1);
        let groups = rng.pick(&GROUPS);
        let persona = Persona {
            sessions_per_week: rng.range(1.5, 6.5),
            lifts: rng.range(0.2, 0.8),
            one_rep_max: rng.range(60.0, 200.0),
            pace_kmh: rng.range(6.5, 13.5),
            early_bird: rng.chance(0.25),
        };
        let upsert_ts = first - Duration::hours(rng.int(1, 48) as i64);
        events.push(Timed {
            ts: upsert_ts.timestamp(),
            session: usize::MAX,
            seq: 0,
            line: upsert_line(&user, groups, upsert_ts, &mut rng),
        });
        if rng.chance(0.2) && config.days > 1 {
            let ts = first + Duration::hours(rng.int(1, u64::from(config.days) * 24 - 1) as i64);
            let groups = rng.pick(&GROUPS);
            events.push(Timed {
                ts: ts.timestamp(),
                session: usize::MAX,
                seq: 1,
                line: upsert_line(&user, groups, ts, &mut rng),
            });
        }
        for day in 0..config.days {
            if !rng.chance(persona.sessions_per_week / 7.0) {
                continue;
            }
            let hour = if persona.early_bird {
                rng.int(5, 8)
            } else {
                rng.int(6, 21)
            };
            let start = first
                + Duration::days(i64::from(day))
                + Duration::hours(hour as i64)
                + Duration::minutes(rng.int(0, 59) as i64)
                + Duration::seconds(rng.int(0, 59) as i64);
            let lift = rng.chance(persona.lifts);
            let pool = if (lift && !strength.is_empty()) || cardio.is_empty() {
                &strength
            } else {
                &cardio
            };
            let Some((device, exercise, gym)) = machines.get(rng.pick(pool)) else {
                continue;
            };
            let id = format!("s-{}-{:03}", user, day + 1);
            let index = summary.sessions;
            summary.sessions += 1;
            let mut session = Session {
                id: &id,
                index,
                seq: 0,
                events: &mut events,
            };
            session.push(
                start,
                format!(
                    r#""type":"session_start","device":"{device}","gym":"{gym}","user":"{user}","exercise":"{exercise}""#
                ),
            );
            let end = if is_cardio(exercise) {
                cardio_session(&mut rng, &persona, exercise, start, &mut session)
            } else {
                strength_session(&mut rng, &persona, exercise, start, &mut session)
            };
            session.push(end, r#""type":"session_end""#.to_owned());
        }
    }
    events.sort_by_key(|e| (e.ts, e.session, e.seq));
    deliver(&mut rng, events, config.noise, summary)
}

fn upsert_line(user: &str, groups: &[&str], ts: DateTime<FixedOffset>, rng: &mut Rng) -> String {
    let groups: Vec<String> = groups.iter().map(|g| format!("\"{g}\"")).collect();
    format!(
        r#"{{"type":"user_upsert","seq":0,"ts":"{}","user":{{"id":"{user}","name":"Member {user}","groups":[{}],"body_weight_kg":{:.1}}}}}"#,
        ts.to_rfc3339(),
        groups.join(","),
        rng.range(50.0, 95.0)
    )
}

/// The events of one session, numbered as the device numbers them.
struct Session<'a> {
    id: &'a str,
    index: usize,
    seq: u64,
    events: &'a mut Vec<Timed>,
}

impl Session<'_> {
    fn push(&mut self, ts: DateTime<FixedOffset>, fields: String) {
        let line = format!(
            r#"{{{fields},"session":"{}","seq":{},"ts":"{}"}}"#,
            self.id,
            self.seq,
            ts.to_rfc3339()
        );
        self.events.push(Timed {
            ts: ts.timestamp(),
            session: self.index,
            seq: self.seq,
            line,
        });
        self.seq += 1;
    }
}

fn strength_session(
    rng: &mut Rng,
    persona: &Persona,
    exercise: &str,
    start: DateTime<FixedOffset>,
    session: &mut Session<'_>,
) -> DateTime<FixedOffset> {
    let scale = match exercise {
        "leg_press" => 1.0,
        "chest_press" | "seated_row" | "lat_pulldown" => 0.45,
        _ => 0.3,
    };
    let mut t = start + Duration::seconds(rng.int(20, 90) as i64);
    for set in 0..rng.int(3, 4) {
        if set > 0 {
            t += Duration::seconds(rng.int(60, 150) as i64);
        }
        let load = (persona.one_rep_max * scale * rng.range(0.6, 0.85) / 2.5).round() * 2.5;
        for _ in 0..rng.int(6, 15) {
            t += Duration::seconds(rng.int(2, 4) as i64);
            let rom = if rng.chance(0.08) {
                rng.int(40, 79)
            } else {
                rng.int(85, 100)
            };
            session.push(
                t,
                format!(r#""type":"rep","weight_kg":{load},"rom_pct":{rom}"#),
            );
        }
    }
    t + Duration::seconds(rng.int(10, 60) as i64)
}

fn cardio_session(
    rng: &mut Rng,
    persona: &Persona,
    exercise: &str,
    start: DateTime<FixedOffset>,
    session: &mut Session<'_>,
) -> DateTime<FixedOffset> {
    let minutes = rng.int(10, 45);
    let speed = match exercise {
        "bike" => persona.pace_kmh * 2.0,
        "rower" => persona.pace_kmh * 0.9,
        _ => persona.pace_kmh * rng.range(0.9, 1.1),
    };
    let incline = (exercise == "treadmill").then(|| (rng.range(0.0, 6.0) * 2.0).round() / 2.0);
    let kcal_per_min = rng.range(8.0, 13.0);
    let (mut distance, mut calories) = (0.0f64, 0.0f64);
    let mut hr = rng.range(95.0, 115.0);
    let samples = minutes * 6;
    for k in 1..=samples {
        let v = speed * rng.range(0.95, 1.05);
        distance += v / 3.6 * 10.0;
        calories += kcal_per_min / 6.0;
        hr = (hr + rng.range(-1.0, 2.0)).clamp(90.0, 185.0);
        let mut fields = format!(
            r#""type":"sample","distance_m":{:.1},"speed_kmh":{:.2},"hr_bpm":{},"calories_kcal":{:.1}"#,
            distance,
            v,
            hr.round(),
            calories
        );
        if let Some(i) = incline {
            let _ = write!(fields, r#","incline_pct":{i}"#);
        }
        session.push(start + Duration::seconds(k as i64 * 10), fields);
    }
    start + Duration::seconds(samples as i64 * 10 + rng.int(1, 9) as i64)
}

const MALFORMED: [&str; 6] = [
    r#"{"type":"rep","session":"s-broken","seq":1,"ts":"2026-08-01T07:30:00+08:00","weight_kg":-40}"#,
    r#"{"type":"rep","session":"s-broken","seq":2,"ts":"2026-08-01T07:30:00","weight_kg":40}"#,
    r#"{"type":"heartbeat","session":"s-broken","seq":3,"ts":"2026-08-01T07:30:00+08:00"}"#,
    r#"{"type":"session_start","session":"s-broken","seq":0,"ts":"2026-08-01T07:30:00+08:00","exercise":"leg_press"}"#,
    r#"{"type":"sample","session":"s-broken","seq":"four","ts":"2026-08-01T07:30:00+08:00"}"#,
    r#"{"type":"rep","session":"s-broken","#,
];

/// Delivers the events: in time order, or with noise (resends, swaps, late events,
/// malformed lines), each line placed by a sort key so that the result is deterministic.
fn deliver(
    rng: &mut Rng,
    events: Vec<Timed>,
    noise: bool,
    mut summary: EventsSummary,
) -> (String, EventsSummary) {
    let mut keyed: Vec<(f64, usize, String)> = Vec::with_capacity(events.len() + events.len() / 20);
    for (i, event) in events.into_iter().enumerate() {
        let at = i as f64;
        if !noise {
            keyed.push((at, keyed.len(), event.line));
            continue;
        }
        let roll = rng.unit();
        if roll < 0.01 {
            // An identical resend, a little later.
            keyed.push((at + rng.range(1.0, 50.0), keyed.len(), event.line.clone()));
            summary.duplicates += 1;
        } else if roll < 0.02 {
            // Swapped with its neighbour.
            keyed.push((at + 1.5, keyed.len(), event.line));
            continue;
        } else if roll < 0.025 {
            // Late: a retry long after, often after its session's end.
            keyed.push((at + rng.range(200.0, 2000.0), keyed.len(), event.line));
            continue;
        } else if roll < 0.027 {
            let bad = rng.pick(&MALFORMED);
            keyed.push((at + 0.5, keyed.len(), bad.to_owned()));
            summary.malformed += 1;
        }
        keyed.push((at, keyed.len(), event.line));
    }
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut out = String::with_capacity(keyed.iter().map(|k| k.2.len() + 1).sum());
    for (_, _, line) in keyed {
        out.push_str(&line);
        out.push('\n');
        summary.lines += 1;
    }
    (out, summary)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rules_core::session::read_events;

    fn config(noise: bool) -> EventsConfig {
        EventsConfig {
            users: 5,
            machines: 9,
            start: NaiveDate::from_ymd_opt(2026, 8, 1).unwrap(),
            days: 4,
            seed: 7,
            noise,
        }
    }

    #[test]
    fn deterministic_and_valid() {
        let (a, sa) = generate_events(&config(true));
        let (b, sb) = generate_events(&config(true));
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        let report = read_events(&a);
        assert_eq!(report.read(), sa.lines);
        assert_eq!(report.rejected.len(), sa.malformed);
        let (clean, sc) = generate_events(&config(false));
        assert_eq!(read_events(&clean).rejected.len(), 0);
        assert_eq!(sc.malformed, 0);
        assert!(sc.sessions > 3);
    }
}
