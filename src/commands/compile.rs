//! `challenge compile FILE [--id ID | --all]`: the JSON tree of a file's declaration.

use crate::cli::CompileArgs;
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &CompileArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let source = input::source(&args.file, &catalog)?;
    output::print_diagnostics(&source);
    if source.has_errors() {
        return Err(Failure::Input);
    }
    let json = if args.all {
        output::to_json(&source.checked.decls, true)?
    } else {
        let decl = match (&args.id, source.checked.decls.as_slice()) {
            (Some(id), decls) => decls.iter().find(|d| d.id.as_str() == id).ok_or_else(|| {
                Failure::Usage(format!(
                    "no declaration `{id}` in `{}`; it has {}",
                    source.name(),
                    ids(&source.checked.decls)
                ))
            })?,
            (None, [one]) => one,
            (None, []) => {
                return Err(Failure::Usage(format!(
                    "`{}` declares nothing",
                    source.name()
                )))
            }
            (None, decls) => {
                return Err(Failure::Usage(format!(
                    "`{}` has {} declarations ({}); pick one with --id or print all with --all",
                    source.name(),
                    decls.len(),
                    ids(decls)
                )))
            }
        };
        output::to_json(decl, true)?
    };
    output::stdout(&(json + "\n"))
}

fn ids(decls: &[rules_core::Challenge]) -> String {
    decls
        .iter()
        .map(|d| format!("`{}`", d.id))
        .collect::<Vec<_>>()
        .join(", ")
}
