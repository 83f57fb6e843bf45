//! `challenge eval FILE --workouts W.jsonl [--users U.jsonl] ...`: one result per
//! (challenge, user), or per (challenge, team) for a team challenge, JSON Lines sorted by
//! challenge id then user id (or team), or the explain tree, or the HTML report.

use rules_core::eval::{self, AsOf, Plan};
use rules_core::records::{self, User, Workout};
use rules_core::tree::DeclKind;

use crate::cli::{EvalArgs, EvalFormat, RecordArgs};
use crate::commands::{explain, html};
use crate::input;
use crate::output;
use crate::{Failure, Outcome};

/// Runs the command.
pub fn run(args: &EvalArgs) -> Outcome {
    let catalog = input::catalog(&args.catalog)?;
    let as_of = as_of(args.as_of.as_deref())?;
    let source = input::source(&args.file, &catalog)?;
    output::print_diagnostics(&source);
    if source.has_errors() {
        return Err(Failure::Input);
    }
    let mut plans = Vec::new();
    for decl in &source.decls {
        if decl.kind == DeclKind::Template
            || args.id.as_ref().is_some_and(|id| id != decl.id.as_str())
        {
            continue;
        }
        match Plan::compile(decl, &catalog) {
            Ok(plan) => plans.push(plan),
            Err(e) => {
                eprintln!("error: challenge `{}`: {e}", decl.id);
                return Err(Failure::Input);
            }
        }
    }
    if let (Some(id), true) = (&args.id, plans.is_empty()) {
        return Err(Failure::Usage(format!(
            "no challenge `{id}` in `{}`",
            source.name()
        )));
    }
    let records = Records::load(&args.records)?;
    let users = records.users_to_evaluate(args.user.as_deref());
    let results = match args.user.as_deref() {
        Some(only) if plans.iter().any(|p| !p.teams().is_empty()) => {
            // A team's result needs all its members; `--user` keeps the teams that have that
            // member (language.md §10).
            let (team_plans, user_plans): (Vec<Plan>, Vec<Plan>) =
                plans.into_iter().partition(|p| !p.teams().is_empty());
            let everyone = records::users_to_evaluate(&records.users, &records.workouts, None);
            let mut results = eval::evaluate_all(&user_plans, &users, &records.workouts, &as_of);
            results.extend(
                eval::evaluate_all(&team_plans, &everyone, &records.workouts, &as_of)
                    .into_iter()
                    .filter(|r| {
                        r.members
                            .as_ref()
                            .is_some_and(|m| m.iter().any(|m| m.user == only))
                    }),
            );
            results.sort_by(|a, b| (&a.challenge, &a.user).cmp(&(&b.challenge, &b.user)));
            results
        }
        _ => eval::evaluate_all(&plans, &users, &records.workouts, &as_of),
    };
    let mut out = String::new();
    for result in &results {
        match args.format {
            EvalFormat::Json => {
                out.push_str(&output::to_json(result, false)?);
                out.push('\n');
            }
            EvalFormat::Html => {}
            EvalFormat::Text => {
                let value = serde_json::to_value(result)
                    .map_err(|e| Failure::Usage(format!("cannot write the result: {e}")))?;
                let goal = source
                    .decls
                    .iter()
                    .find(|d| d.kind == DeclKind::Challenge && result.challenge == d.id.as_str())
                    .map(|d| &d.goal);
                if let Some(goal) = goal {
                    out.push_str(&explain::render(&value, goal, output::stdout_color()));
                }
            }
        }
    }
    if args.format == EvalFormat::Html {
        let values = results
            .iter()
            .map(serde_json::to_value)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Failure::Usage(format!("cannot write the result: {e}")))?;
        out = html::eval_report(&values);
    }
    output::stdout(&out)?;
    if args.records.strict && records.rejected > 0 {
        eprintln!("error: {} record(s) rejected (--strict)", records.rejected);
        return Err(Failure::Input);
    }
    Ok(())
}

/// `--as-of`, or the current time in UTC (the only clock read of the product).
pub fn as_of(flag: Option<&str>) -> Result<AsOf, Failure> {
    match flag {
        Some(text) => AsOf::parse(text).ok_or_else(|| {
            Failure::Usage(format!(
                "--as-of `{text}` is not an RFC 3339 time with an offset, such as 2026-08-15T12:00:00+08:00"
            ))
        }),
        None => Ok(AsOf::from_time(chrono::Utc::now().fixed_offset())),
    }
}

/// Workouts and users read from the record files, with the rejections counted.
pub struct Records {
    /// Accepted workouts, one per id (the later record wins).
    pub workouts: Vec<Workout>,
    /// Accepted users, one per id.
    pub users: Vec<User>,
    /// Rejected records in all files.
    pub rejected: usize,
}

impl Records {
    /// Reads `--workouts` and `--users`, reporting rejections on stderr.
    pub fn load(args: &RecordArgs) -> Result<Records, Failure> {
        let text = input::read_text(&args.workouts)?;
        let report = records::read_workouts(&text);
        input::report_records(&args.workouts, "workout", &report);
        let mut rejected = report.rejected.len();
        let workouts = records::upsert_workouts(report.into_records());
        let users = match &args.users {
            None => Vec::new(),
            Some(path) => {
                let text = input::read_text(path)?;
                let report = records::read_users(&text);
                input::report_records(path, "user", &report);
                rejected += report.rejected.len();
                records::upsert_users(report.into_records())
            }
        };
        Ok(Records {
            workouts,
            users,
            rejected,
        })
    }

    /// The users a command considers (data.md): those with an accepted record or an accepted
    /// workout, sorted by id; only `only` when given (an unknown id is evaluated as a user in no
    /// group, with a warning).
    pub fn users_to_evaluate(&self, only: Option<&str>) -> Vec<User> {
        if let Some(only) = only {
            let known = self.users.iter().any(|u| u.id == only)
                || self.workouts.iter().any(|w| w.user == only);
            if !known {
                eprintln!("warning: user `{only}` has no record and no workout");
            }
        }
        records::users_to_evaluate(&self.users, &self.workouts, only)
    }
}
