//! The periodic stage: a scheduled job message carries its own time (`tick --at T`) and
//! re-derives, as of T, every considered user's profile, the month's leaderboards and every
//! result (so windows close and missed days fail without new workouts).
//!
//! The month is the calendar month of T in the tick's timezone (default UTC); there is one
//! board per measure, over every exercise and every user.

use chrono::Datelike;
use rayon::prelude::*;
use rules_core::eval::AsOf;
use rules_core::leaderboard::{self, Board, BoardMeasure, Month};
use rules_core::profile;
use rules_core::records::{User, Workout};
use rules_core::zone::Zone;
use rules_core::Catalog;

use crate::ondemand::{per_user, row, Active};
use crate::store::{ResultRow, Row};

/// Profiles look this many days back.
pub const LOOKBACK_DAYS: u32 = 90;

/// The measures of the month's leaderboards.
pub const MEASURES: [BoardMeasure; 6] = [
    BoardMeasure::Distance,
    BoardMeasure::Duration,
    BoardMeasure::Volume,
    BoardMeasure::Reps,
    BoardMeasure::Workouts,
    BoardMeasure::Calories,
];

/// What a tick derives.
#[derive(Clone, Debug, Default)]
pub struct TickViews {
    /// Every considered user's profile.
    pub profiles: Vec<Row>,
    /// The month's leaderboards.
    pub leaderboards: Vec<Row>,
    /// Every result, as of T.
    pub results: Vec<ResultRow>,
}

/// Derives the periodic views as of `at`. `users` are the considered users (sorted);
/// `workouts` every saved workout. Team challenges are the team stage's ([`crate::team`]).
pub fn tick(
    challenges: &[Active],
    catalog: &Catalog,
    users: &[User],
    workouts: &[Workout],
    at: &AsOf,
    timezone: Zone,
    version: u64,
) -> TickViews {
    let profiles = profile::profiles_all(users, workouts, catalog, at, LOOKBACK_DAYS)
        .iter()
        .map(|p| Row {
            key: p.user.clone(),
            user: Some(p.user.clone()),
            json: serde_json::to_string(p).unwrap_or_default(),
        })
        .collect();
    let local = timezone.local_date(at.time.timestamp());
    let month = Month {
        year: local.year(),
        month: local.month(),
    };
    let records: Vec<User> = users.to_vec();
    let mut leaderboards = Vec::new();
    for measure in MEASURES {
        let board = Board {
            month,
            timezone: timezone.clone(),
            measure,
            selector: None,
            group: None,
        };
        for entry in leaderboard::leaderboard(&board, workouts, &records, catalog) {
            leaderboards.push(Row {
                key: board_key(&entry.board, entry.rank, &entry.user),
                user: Some(entry.user.clone()),
                json: serde_json::to_string(&entry).unwrap_or_default(),
            });
        }
    }
    let mut by_user: std::collections::HashMap<&str, Vec<Workout>> = Default::default();
    for w in workouts {
        by_user.entry(w.user.as_str()).or_default().push(w.clone());
    }
    let empty = Vec::new();
    let results = users
        .par_iter()
        .flat_map_iter(|user| {
            let own = by_user.get(user.id.as_str()).unwrap_or(&empty);
            per_user(challenges, &user.id).map(move |c| row(&c.plan, user, own, at, version))
        })
        .collect();
    TickViews {
        profiles,
        leaderboards,
        results,
    }
}

/// The key of a leaderboard row: the board, the rank and the user (sorted as the board reads).
pub fn board_key(board: &str, rank: u64, user: &str) -> String {
    format!("{board}\u{1f}{rank:010}\u{1f}{user}")
}

/// Ranks stored board entries (the JSON texts of leaderboard rows, of any boards, in any
/// order) into board rows: per board, by total (best first) then user, with standard
/// competition ranks; `without`'s entries are left out. The merge of the partitions' parts of
/// a month's boards in scale-out, and the re-ranking after an erasure: a user's total is
/// computed from the user's own workouts, so ranking the totals again gives the board the tick
/// would have made over the same users.
pub fn rank_entries(texts: Vec<String>, without: Option<&str>) -> Vec<Row> {
    /// A stored entry: its text and the fields ranking reads.
    struct Stored {
        text: String,
        user: String,
        rank: u64,
        total: f64,
    }
    let mut boards: std::collections::BTreeMap<String, Vec<Stored>> = Default::default();
    for text in texts {
        let Ok(entry) = serde_json::from_str::<serde_json::Value>(&text) else {
            continue;
        };
        let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).unwrap_or_default();
        if Some(field("user")) == without {
            continue;
        }
        let stored = Stored {
            user: field("user").to_owned(),
            rank: entry.get("rank").and_then(|r| r.as_u64()).unwrap_or(0),
            total: entry.get("total").and_then(|t| t.as_f64()).unwrap_or(0.0),
            text,
        };
        boards
            .entry(field("board").to_owned())
            .or_default()
            .push(stored);
    }
    let mut rows = Vec::new();
    for (board, mut entries) in boards {
        // The order `leaderboard::leaderboard` ranks in.
        entries.sort_by(|a, b| {
            b.total
                .total_cmp(&a.total)
                .then_with(|| a.user.cmp(&b.user))
        });
        let ranks = leaderboard::competition_ranks(entries.iter().map(|e| e.total));
        for (entry, rank) in entries.into_iter().zip(ranks) {
            // The row's text as the tick wrote it, with the new rank: `"rank"` follows the
            // board's name, and a name's own quotes are escaped, so the first match is the
            // field.
            let json = entry.text.replacen(
                &format!("\"rank\":{},", entry.rank),
                &format!("\"rank\":{rank},"),
                1,
            );
            rows.push(Row {
                key: board_key(&board, rank, &entry.user),
                user: Some(entry.user),
                json,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(board: &str, rank: u64, user: &str, total: f64) -> String {
        serde_json::to_string(&leaderboard::Entry {
            board: board.to_owned(),
            rank,
            user: user.to_owned(),
            total,
            unit: Some("kg"),
        })
        .unwrap()
    }

    #[test]
    fn parts_ranked_together_are_the_whole_board() {
        let b = "2026-08 volume";
        // Two partitions' parts, each ranked among its own users.
        let parts = vec![
            entry(b, 1, "u-3", 900.0),
            entry(b, 2, "u-1", 500.0),
            entry(b, 1, "u-2", 900.0),
            entry(b, 2, "u-4", 500.0),
            entry(b, 3, "u-5", 20.5),
            entry("2026-08 reps", 1, "u-1", 40.0),
        ];
        let rows = rank_entries(parts, None);
        let got: Vec<(String, String)> = rows
            .iter()
            .map(|r| (r.key.clone(), r.json.clone()))
            .collect();
        let want: Vec<(String, String)> = [
            ("2026-08 reps", 1, "u-1", 40.0),
            (b, 1, "u-2", 900.0),
            (b, 1, "u-3", 900.0),
            (b, 3, "u-1", 500.0),
            (b, 3, "u-4", 500.0),
            (b, 5, "u-5", 20.5),
        ]
        .iter()
        .map(|&(board, rank, user, total)| {
            (
                board_key(board, rank, user),
                entry(board, rank, user, total),
            )
        })
        .collect();
        assert_eq!(got, want);
        // Without a user, the others close ranks; ranking a whole board again changes nothing.
        let without: Vec<String> =
            rank_entries(want.iter().map(|w| w.1.clone()).collect(), Some("u-2"))
                .into_iter()
                .map(|r| r.json)
                .collect();
        assert_eq!(without[1], entry(b, 1, "u-3", 900.0));
        assert_eq!(without[2], entry(b, 2, "u-1", 500.0));
        let again: Vec<String> = rank_entries(want.iter().map(|w| w.1.clone()).collect(), None)
            .into_iter()
            .map(|r| r.json)
            .collect();
        assert_eq!(again, want.iter().map(|w| w.1.clone()).collect::<Vec<_>>());
    }
}
