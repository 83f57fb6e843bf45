//! `challenge leaderboard --workouts W.jsonl [--users U.jsonl] --month YYYY-MM --measure M
//! [--of SELECTOR] [--group G | --teams G1,G2,...] [--timezone TZ] [--top N]`: a monthly
//! leaderboard (data.md, "Leaderboards"), or a board of teams ("Team boards"), one JSON line
//! per entry, best first.

use std::str::FromStr;

use rules_core::leaderboard::{self, Board, BoardMeasure, Month, Ranked, Selector};
use serde::Serialize;

use crate::cli::{LeaderboardArgs, LeaderboardFormat, LeaderboardMeasure};
use crate::input;
use crate::output;
use crate::render::html;
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
    let teams = args.teams.as_deref().map(team_names).transpose()?;
    let records = input::records(&args.records)?;
    match teams {
        Some(teams) => {
            let entries = leaderboard::team_leaderboard(
                &board,
                &teams,
                &records.workouts,
                &records.users,
                &catalog,
            );
            let name = leaderboard::team_board_name(&board);
            print(args, &records, entries, |e| {
                html::team_leaderboard_report(&name, e)
            })
        }
        None => {
            let entries =
                leaderboard::leaderboard(&board, &records.workouts, &records.users, &catalog);
            print(args, &records, entries, |e| {
                html::leaderboard_report(&board.name(), e)
            })
        }
    }
}

/// Prints a board (the `--top` cut applied) as JSON Lines or as the HTML report `html` draws;
/// `--strict` fails after printing when records were rejected.
fn print<E: Ranked + Serialize>(
    args: &LeaderboardArgs,
    records: &rules_front::Records,
    mut entries: Vec<E>,
    html: impl FnOnce(&[E]) -> String,
) -> Outcome {
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
        LeaderboardFormat::Html => out = html(&entries),
    }
    output::stdout(&out)?;
    input::strict(&args.records, records.rejected())
}

/// `--teams G1,G2,...`: the group names; an empty one is a usage error (data.md).
fn team_names(text: &str) -> Result<Vec<String>, Failure> {
    let names: Vec<String> = text.split(',').map(str::to_owned).collect();
    if names.iter().any(String::is_empty) {
        return Err(Failure::Usage(format!(
            "--teams `{text}` has an empty team name; write comma-separated groups such as --teams coy-a,coy-b"
        )));
    }
    Ok(names)
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
