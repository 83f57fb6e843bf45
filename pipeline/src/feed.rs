//! The change feed: what a batch changed in the watched views, one [`Change`] per changed row,
//! written by the store into its outbox in the same transaction as the views (so a change is
//! never seen before its commit and never lost after it), numbered by a sequence that grows
//! with every committed change.
//!
//! The server pushes these to its clients (`GET /v1/stream`, service.md "The stream"); the
//! CLI's pipeline leaves the feed off ([`crate::Options::feed`]) and writes no outbox.
//!
//! **Invariant:** [`changes_of`] is a pure function of the batch: the same batch gives the same
//! changes in the same order (results, live rows, workouts, profiles, leaderboards, sensor
//! events), so a replayed batch would describe itself identically.

use crate::store::Batch;

/// The kinds of change a client can watch (service.md: the `event:` of the stream).
pub const KINDS: [&str; 7] = [
    "result",
    "live",
    "workout",
    "profile",
    "leaderboard",
    "sensor",
    "reward",
];

/// The kind of change named `name` as a static string (an unknown name, which only a file
/// written by another version could hold, reads as `result`: a client refetches the row).
pub fn kind(name: &str) -> &'static str {
    KINDS
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("result")
}

/// One change to a watched view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `result`, `live`, `workout`, `profile`, `leaderboard`, `sensor`, `reward`.
    pub kind: &'static str,
    /// The user the row is about; `None` for rows everyone may watch (leaderboards).
    pub user: Option<String>,
    /// The team a team row is about (its members watch it).
    pub team: Option<String>,
    /// What finds the row again in its view (with `user`): the challenge of a result or live
    /// row, the key of a workout, profile or board row, the log position of a sensor event.
    /// The outbox keeps this rather than a copy of the row.
    pub key: String,
    /// The row as the matching `GET` gives it (JSON), or the sensor event as it was posted.
    pub data: String,
}

/// A change with its sequence number, as committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The change's sequence number (1, 2, ...).
    pub seq: u64,
    /// The change.
    pub change: Change,
}

/// Sensor events of a batch for the feed: the user each accepted event's session belongs to
/// (only filled when the feed is on; an event whose session has no start yet has no user and
/// is not pushed).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SensorFeed {
    /// (index into [`Batch::log_spans`], user).
    pub events: Vec<(usize, String)>,
}

/// Every change a batch makes to the watched views, in a fixed order; `issued` are the indices
/// of the rewards (in [`Batch::rewards`]) the batch issued (the others were issued before).
pub fn changes_of(batch: &Batch, issued: &[usize]) -> Vec<Change> {
    let mut out = Vec::new();
    let row = |kind: &'static str, user: Option<&str>, key: &str, data: &str| Change {
        kind,
        user: user.map(str::to_owned),
        team: None,
        key: key.to_owned(),
        data: data.to_owned(),
    };
    for r in &batch.results {
        out.push(row("result", Some(&r.user), &r.challenge, &r.json));
    }
    for r in &batch.team_results {
        out.push(Change {
            kind: "result",
            user: None,
            team: Some(r.user.clone()),
            key: r.challenge.clone(),
            data: r.json.clone(),
        });
    }
    for r in &batch.live {
        out.push(row("live", Some(&r.user), &r.challenge, &r.json));
    }
    for (view, r) in &batch.put {
        if *view == "workouts" {
            out.push(row("workout", r.user.as_deref(), &r.key, &r.json));
        }
    }
    for r in batch.profiles.iter().flatten() {
        out.push(row("profile", r.user.as_deref(), &r.key, &r.json));
    }
    for r in batch.leaderboards.iter().flatten() {
        out.push(row("leaderboard", None, &r.key, &r.json));
    }
    for r in issued.iter().filter_map(|i| batch.rewards.get(*i)) {
        // The key names the ledger's row with the holder: (challenge, name) as JSON, since ids
        // may hold any character.
        let key = serde_json::to_string(&(&r.challenge, &r.name)).unwrap_or_default();
        let (user, team) = if r.team {
            (None, Some(r.holder.clone()))
        } else {
            (Some(r.holder.clone()), None)
        };
        out.push(Change {
            kind: "reward",
            user,
            team,
            key,
            data: r.json(),
        });
    }
    for (i, user) in &batch.sensor.events {
        if let Some(span) = batch.log_spans.get(*i) {
            let (body, _) = batch.span_text(span);
            out.push(row("sensor", Some(user), &span.pos.to_string(), body));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{LogSpan, ResultRow, Row};

    #[test]
    fn a_batch_describes_its_changes_in_a_fixed_order() {
        let result = |user: &str, json: &str| ResultRow {
            challenge: "c".into(),
            user: user.into(),
            version: 1,
            progress: 0.5,
            json: json.into(),
            reached: None,
        };
        let batch = Batch {
            results: vec![result("u-1", "{\"r\":1}")],
            live: vec![result("u-2", "{\"l\":1}")],
            put: vec![
                (
                    "workouts",
                    Row {
                        key: "w".into(),
                        user: Some("u-1".into()),
                        json: "{\"w\":1}".into(),
                    },
                ),
                (
                    "sessions",
                    Row {
                        key: "s".into(),
                        user: Some("u-1".into()),
                        json: "{}".into(),
                    },
                ),
            ],
            leaderboards: Some(vec![Row {
                key: "b".into(),
                user: Some("u-3".into()),
                json: "{\"b\":1}".into(),
            }]),
            log_text: "{\"e\":1}".into(),
            log_spans: vec![LogSpan {
                pos: 1,
                body: 0..7,
                session: None,
            }],
            sensor: SensorFeed {
                events: vec![(0, "u-1".into())],
            },
            ..Batch::default()
        };
        let changes = changes_of(&batch, &[]);
        let kinds: Vec<_> = changes.iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            ["result", "live", "workout", "leaderboard", "sensor"]
        );
        assert_eq!(changes[3].user, None, "a board is everyone's");
        assert_eq!(changes[4].data, "{\"e\":1}");
        assert_eq!(changes[4].user.as_deref(), Some("u-1"));
    }
}
