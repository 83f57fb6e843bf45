//! `challenge leaderboard --workouts W.jsonl [--users U.jsonl] --month YYYY-MM --measure M
//! [--of SELECTOR] [--group G] [--timezone TZ] [--top N]`: a monthly leaderboard (data.md,
//! "Leaderboards"), one JSON line per entry, best first.

use std::str::FromStr;

use rules_core::leaderboard::{self, Board, BoardMeasure, Month, Selector};

use crate::cli::{LeaderboardArgs, LeaderboardFormat, LeaderboardMeasure};
use crate::commands::eval::Records;
use crate::commands::html;
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &LeaderboardArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let month =
        Month::from_str(&args.month).map_err(|e| Failure::Usage(format!("--month: {e}")))?;
    let timezone = leaderboard::parse_timezone(&args.timezone)
        .map_err(|e| Failure::Usage(format!("--timezone: {e}")))?;
    let selector = args
        .of
        .as_deref()
        .map(|text| Selector::parse(text, &catalog))
        .transpose()
        .map_err(|e| Failure::Usage(format!("--of: {e}")))?;
    let board = Board {
        month,
        timezone,
        measure: measure(args.measure),
        selector,
        group: args.group.clone(),
    };
    let records = Records::load(&args.records)?;
    let mut entries = leaderboard::leaderboard(&board, &records.workouts, &records.users, &catalog);
    if let Some(n) = args.top {
        entries = leaderboard::top(entries, n);
    }
    let mut out = String::new();
    match args.format {
        LeaderboardFormat::Json => {
            for e in &entries {
                out.push_str(&output::to_json(e, false)?);
                out.push('\n');
            }
        }
        LeaderboardFormat::Html => out = html::leaderboard_report(&board.name(), &entries),
    }
    output::stdout(&out)?;
    if args.records.strict && records.rejected > 0 {
        eprintln!("error: {} record(s) rejected (--strict)", records.rejected);
        return Err(Failure::Input);
    }
    Ok(())
}

fn measure(m: LeaderboardMeasure) -> BoardMeasure {
    match m {
        LeaderboardMeasure::Distance => BoardMeasure::Distance,
        LeaderboardMeasure::Duration => BoardMeasure::Duration,
        LeaderboardMeasure::Volume => BoardMeasure::Volume,
        LeaderboardMeasure::Reps => BoardMeasure::Reps,
        LeaderboardMeasure::Workouts => BoardMeasure::Workouts,
        LeaderboardMeasure::Calories => BoardMeasure::Calories,
    }
}
