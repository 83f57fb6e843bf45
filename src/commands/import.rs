//! `challenge import FILE... --user ID [--workouts] [--map FILE]`: workouts from device files
//! (data.md, "Imported workouts"; the readers are the `workout-import` crate).
//!
//! stdout: one line per workout in file order, a `workout` message (for `pipeline ingest`) or,
//! with `--workouts`, the plain record (for `eval`, `profile`, `leaderboard`). stderr: each
//! activity not imported with the file's name and why, each file that cannot be read, one
//! count line per file and a total. A file that cannot be read does not stop the others: the
//! exit code is 1 after every other file is printed (2 when a file cannot be opened at all).

use std::path::Path;

use rules_core::Catalog;
use workout_import::{FileReport, Mapping};

use crate::cli::ImportArgs;
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &ImportArgs) -> Outcome {
    if args.user.is_empty() {
        return Err(Failure::Usage("`--user` must not be empty".to_owned()));
    }
    let catalog = input::catalog(&args.catalog)?;
    let mapping = mapping(args.map.as_deref(), &catalog)?;
    let mut out = String::new();
    let (mut imported, mut skipped, mut unreadable, mut unopened) =
        (0usize, 0usize, 0usize, 0usize);
    for path in &args.files {
        let name = path.display().to_string();
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("error: cannot read `{name}`: {e}");
                unopened += 1;
                continue;
            }
        };
        let report = match workout_import::import(&name, &bytes, &args.user, &mapping) {
            Ok(report) => report,
            Err(e) => {
                eprintln!("error: {name}: {e}");
                unreadable += 1;
                continue;
            }
        };
        print_file(&mut out, &report, args.workouts)?;
        for s in &report.skipped {
            eprintln!("{name}: {} not imported: {}", s.what, s.reason);
        }
        eprintln!(
            "{name}: {} workout(s) imported, {} activit{} not imported",
            report.workouts.len(),
            report.skipped.len(),
            if report.skipped.len() == 1 {
                "y"
            } else {
                "ies"
            }
        );
        imported += report.workouts.len();
        skipped += report.skipped.len();
    }
    output::stdout(&out)?;
    eprintln!(
        "import: {} file(s), {imported} workout(s) imported, {skipped} activit{} not imported, {} file(s) with errors",
        args.files.len(),
        if skipped == 1 { "y" } else { "ies" },
        unreadable + unopened
    );
    if unopened > 0 {
        return Err(Failure::Usage(format!(
            "{unopened} file(s) could not be opened"
        )));
    }
    if unreadable > 0 {
        return Err(Failure::Input);
    }
    Ok(())
}

/// The built-in mapping extended by `--map`; every exercise it names must be in the catalog.
fn mapping(path: Option<&Path>, catalog: &Catalog) -> Result<Mapping, Failure> {
    let mut mapping = Mapping::builtin();
    let Some(path) = path else {
        return Ok(mapping);
    };
    let text = input::read_text(path)?;
    let named = mapping.extend_from_json(&text).map_err(|e| {
        eprintln!("error: {}: {e}", path.display());
        Failure::Input
    })?;
    let unknown: Vec<String> = named
        .into_iter()
        .filter(|e| catalog.get(e).is_none())
        .map(|e| format!("`{e}`"))
        .collect();
    if !unknown.is_empty() {
        eprintln!(
            "error: {}: exercise {} is not in the catalog (add it with --catalog)",
            path.display(),
            unknown.join(", ")
        );
        return Err(Failure::Input);
    }
    Ok(mapping)
}

/// Appends a file's workouts to `out`: messages, or plain records.
fn print_file(out: &mut String, report: &FileReport, records: bool) -> Result<(), Failure> {
    for imported in &report.workouts {
        let line = if records {
            output::to_json(&imported.workout, false)?
        } else {
            imported
                .message()
                .map_err(|e| Failure::Usage(format!("cannot write JSON: {e}")))?
        };
        out.push_str(&line);
        out.push('\n');
    }
    Ok(())
}
