//! `challenge check FILE... [--format text|json]`: one report for all files.

use rules_core::Severity;

use crate::cli::{CheckArgs, CheckFormat};
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &CheckArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let sources = args
        .files
        .iter()
        .map(|path| input::source(path, &catalog))
        .collect::<Result<Vec<_>, _>>()?;
    let (mut errors, mut warnings) = (0, 0);
    for source in &sources {
        for d in &source.checked.diagnostics {
            match d.severity() {
                Severity::Error => errors += 1,
                Severity::Warning => warnings += 1,
            }
        }
    }
    match args.format {
        CheckFormat::Json => {
            let all: Vec<_> = sources.iter().flat_map(|s| s.json_diagnostics()).collect();
            output::stdout(&(output::to_json(&all, true)? + "\n"))?;
        }
        CheckFormat::Text => {
            for source in &sources {
                output::print_diagnostics(source);
            }
            let declarations: usize = sources.iter().map(|s| s.checked.decls.len()).sum();
            eprintln!(
                "checked {} file{} ({declarations} declaration{}): {errors} error{}, {warnings} warning{}",
                sources.len(),
                plural(sources.len()),
                plural(declarations),
                plural(errors),
                plural(warnings),
            );
        }
    }
    if errors > 0 {
        Err(Failure::Input)
    } else {
        Ok(())
    }
}

/// `s` unless there is exactly one.
pub fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
