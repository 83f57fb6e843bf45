//! `challenge profile --workouts W.jsonl [--users U.jsonl] --as-of TIME [--lookback-days N]`:
//! one profile per user (data.md, "Profiles"), JSON Lines sorted by user id.

use rules_core::profile;

use crate::cli::ProfileArgs;
use crate::commands::eval::{self, Records};
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &ProfileArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let as_of = eval::as_of(Some(&args.as_of))?;
    let records = Records::load(&args.records)?;
    let users = records.users_to_evaluate(None);
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
    if args.records.strict && records.rejected > 0 {
        eprintln!("error: {} record(s) rejected (--strict)", records.rejected);
        return Err(Failure::Input);
    }
    Ok(())
}
