//! `challenge profile --workouts W.jsonl [--users U.jsonl] --as-of TIME [--lookback-days N]`:
//! one profile per user (data.md, "Profiles"), JSON Lines sorted by user id.

use rules_core::profile;

use crate::cli::ProfileArgs;
use crate::input;
use crate::output;
use crate::Outcome;

/// Runs the command.
pub fn run(args: &ProfileArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let as_of = input::time(&args.as_of, "--as-of")?;
    let records = input::records(&args.records)?;
    let users = input::users_to_evaluate(&records, None);
    let profiles = profile::profiles_all(
        &users,
        &records.workouts,
        &catalog,
        &as_of,
        args.lookback_days,
    );
    let mut out = String::new();
    for p in &profiles {
        out.push_str(&output::to_json(p, false)?);
        out.push('\n');
    }
    output::stdout(&out)?;
    input::strict(&args.records, records.rejected())
}
