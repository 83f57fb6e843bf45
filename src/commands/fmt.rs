//! `challenge fmt FILE... [--check] [--write]`: canonical formatting.

use crate::cli::FmtArgs;
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &FmtArgs) -> Outcome {
    let mut failed = false;
    let mut unformatted = 0usize;
    for path in &args.files {
        let text = input::read_text(path)?;
        let formatted = match rules_dsl::format(&text) {
            Ok(formatted) => formatted,
            Err(diagnostics) => {
                eprint!(
                    "{}",
                    rules_dsl::render(
                        &diagnostics,
                        &text,
                        &path.display().to_string(),
                        output::stderr_color()
                    )
                );
                failed = true;
                continue;
            }
        };
        if args.check {
            if formatted != text {
                eprintln!("{}: not in canonical format", path.display());
                unformatted += 1;
            }
        } else if args.write {
            if formatted != text {
                std::fs::write(path, &formatted).map_err(|e| {
                    Failure::Usage(format!("cannot write `{}`: {e}", path.display()))
                })?;
                eprintln!("formatted {}", path.display());
            }
        } else {
            output::stdout(&formatted)?;
        }
    }
    if args.check && unformatted > 0 {
        eprintln!("{unformatted} file(s) would be reformatted; run `challenge fmt --write`");
    }
    if failed || unformatted > 0 {
        Err(Failure::Input)
    } else {
        Ok(())
    }
}
