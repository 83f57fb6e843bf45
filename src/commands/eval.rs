//! `challenge eval FILE --workouts W.jsonl [--users U.jsonl] ...`: one result per
//! (challenge, user), or per (challenge, team) for a team challenge, JSON Lines sorted by
//! challenge id then user id (or team), or the explain tree, or the HTML report.

use rules_core::tree::DeclKind;

use crate::cli::{EvalArgs, EvalFormat};
use crate::input;
use crate::output;
use crate::render::{explain, html};
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &EvalArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let as_of = input::as_of_or_now(args.as_of.as_deref())?;
    let source = input::source(&args.file, &catalog)?;
    output::print_diagnostics(&source);
    if source.has_errors() {
        return Err(Failure::Input);
    }
    let mut plans = source.checked.plans(&catalog).map_err(|e| {
        eprintln!("error: {e}");
        Failure::Input
    })?;
    if let Some(id) = &args.id {
        plans.retain(|p| p.id() == id);
        if plans.is_empty() {
            return Err(Failure::Usage(format!(
                "no challenge `{id}` in `{}`",
                source.name()
            )));
        }
    }
    let records = input::records(&args.records)?;
    if let Some(only) = args.user.as_deref() {
        // Warns about an unknown user.
        input::users_to_evaluate(&records, Some(only));
    }
    let results = records.evaluate(&plans, &as_of, args.user.as_deref());
    let mut out = String::new();
    for result in &results {
        match args.format {
            EvalFormat::Json => {
                out.push_str(&output::to_json(result, false)?);
                out.push('\n');
            }
            EvalFormat::Html => {}
            EvalFormat::Text => {
                let goal = source
                    .checked
                    .decls
                    .iter()
                    .find(|d| d.kind == DeclKind::Challenge && result.challenge == d.id.as_str())
                    .map(|d| &d.goal);
                if let Some(goal) = goal {
                    out.push_str(&explain::render(result, goal, output::stdout_color()));
                }
            }
        }
    }
    if args.format == EvalFormat::Html {
        out = html::eval_report(&results);
    }
    output::stdout(&out)?;
    input::strict(&args.records, records.rejected())
}
