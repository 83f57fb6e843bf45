//! `challenge decompile FILE.json`: DSL text from a JSON tree or an array of trees.

use crate::cli::DecompileArgs;
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command. The tree is checked first: DSL is printed only for a tree that checks,
/// so that the text always compiles back to the same tree.
pub fn run(args: &DecompileArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let source = input::source(&args.file, &catalog)?;
    if source.checked.dsl {
        return Err(Failure::Usage(format!(
            "`{}` is not a .json tree; decompile reads JSON trees (use `challenge fmt` for DSL)",
            source.name()
        )));
    }
    output::print_diagnostics(&source);
    if source.has_errors() {
        return Err(Failure::Input);
    }
    output::stdout(&rules_dsl::print_file(&source.checked.decls))
}
