//! Reading what the commands are given, through the front door every entrance shares
//! (`rules_front`): challenge files (DSL or JSON trees), the catalog, record files and time
//! flags, with every problem reported on stderr. Files and stderr are the CLI's part; what a
//! challenge or a record means is the front door's.

use std::path::{Path, PathBuf};

use rules_core::eval::AsOf;
use rules_core::Catalog;
use rules_front::{RecordReport, Records, RecordsInput, TreeInput};

use crate::cli::{CatalogArg, RecordArgs};
use crate::Failure;

/// Reads a file, or fails with exit code 2.
pub fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", path.display())))
}

/// The built-in catalog, extended by `--catalog FILE`; a bad catalog is an input error (exit 1).
pub fn catalog(arg: &CatalogArg) -> Result<Catalog, Failure> {
    let mut catalog = Catalog::builtin();
    if let Some(path) = &arg.catalog {
        let text = read_text(path)?;
        if let Err(e) = catalog.extend_from_json(&text) {
            eprintln!("error: {}: {e}", path.display());
            return Err(Failure::Input);
        }
    }
    Ok(catalog)
}

/// A challenge file, read and checked by the front door.
pub struct Source {
    /// The path as given.
    pub path: PathBuf,
    /// What the front door made of it.
    pub checked: rules_front::Source,
}

impl Source {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.checked.has_errors()
    }

    /// The file name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    /// The diagnostics in the form of `check --format json` (cli.md), with the file name.
    pub fn json_diagnostics(&self) -> Vec<rules_front::JsonDiagnostic> {
        let dsl = self.checked.dsl.then_some(self.checked.text.as_str());
        self.checked
            .diagnostics
            .iter()
            .map(|d| rules_front::JsonDiagnostic::in_file(d, dsl, Some(self.name())))
            .collect()
    }
}

/// Reads and checks a challenge file: `.json` as a tree (or array of trees), anything else as DSL.
pub fn source(path: &Path, catalog: &Catalog) -> Result<Source, Failure> {
    let text = read_text(path)?;
    let json = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let input = if json {
        TreeInput::Json(&text)
    } else {
        TreeInput::Dsl(&text)
    };
    Ok(Source {
        path: path.to_owned(),
        checked: rules_front::Source::read(input, catalog),
    })
}

/// Reads every challenge file of `dir` (sorted), reporting diagnostics; templates are skipped.
pub fn challenges_in(dir: &Path, catalog: &Catalog) -> Result<Vec<rules_core::Challenge>, Failure> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| Failure::Usage(format!("cannot read `{}`: {e}", dir.display())))?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("chal") || e.eq_ignore_ascii_case("json"))
        })
        .collect();
    files.sort();
    let mut decls: Vec<rules_core::Challenge> = Vec::new();
    let mut failed = false;
    for file in &files {
        let source = source(file, catalog)?;
        crate::output::print_diagnostics(&source);
        failed |= source.has_errors();
        for decl in source.checked.decls {
            if decl.kind != rules_core::tree::DeclKind::Challenge {
                continue;
            }
            if decls.iter().any(|d| d.id.as_str() == decl.id.as_str()) {
                eprintln!(
                    "error: challenge `{}` is declared twice in `{}`",
                    decl.id.as_str(),
                    dir.display()
                );
                failed = true;
            }
            decls.push(decl);
        }
    }
    if failed {
        return Err(Failure::Input);
    }
    Ok(decls)
}

/// Reads `--workouts` and `--users`, reporting each file's rejections and counts on stderr.
pub fn records(args: &RecordArgs) -> Result<Records, Failure> {
    let workouts = read_text(&args.workouts)?;
    let users = args.users.as_deref().map(read_text).transpose()?;
    let users_input = users
        .as_deref()
        .map_or(RecordsInput::None, RecordsInput::Lines);
    let records = Records::read(RecordsInput::Lines(&workouts), users_input)
        .map_err(|e| Failure::Usage(e.message))?;
    report_records(&args.workouts, "workout", &records.workout_report);
    if let Some(path) = &args.users {
        report_records(path, "user", &records.user_report);
    }
    Ok(records)
}

/// The users a command considers (data.md), only `only` when given; an unknown `only` is
/// evaluated as a user in no group, with a warning.
pub fn users_to_evaluate(records: &Records, only: Option<&str>) -> Vec<rules_core::records::User> {
    if let Some(only) = only.filter(|u| !records.knows(u)) {
        eprintln!("warning: user `{only}` has no record and no workout");
    }
    records.users_to_evaluate(only)
}

/// `--strict`: the exit code is 1 when any record was rejected (the output is printed first).
pub fn strict(args: &RecordArgs, rejected: usize) -> crate::Outcome {
    if args.strict && rejected > 0 {
        eprintln!("error: {rejected} record(s) rejected (--strict)");
        return Err(Failure::Input);
    }
    Ok(())
}

/// Prints a reader's rejections on stderr with the file and line, then the counts.
pub fn report_records(path: &Path, what: &str, report: &RecordReport) {
    for rules_core::records::Rejection { line, reason } in &report.rejected {
        eprintln!(
            "{}:{line}: rejected {what} record: {reason}",
            path.display()
        );
    }
    eprintln!(
        "{}: read {} {what} records, accepted {}, rejected {}",
        path.display(),
        report.read,
        report.accepted,
        report.rejected.len()
    );
}

/// A time flag (`--as-of`, `--at`, `--before`): RFC 3339 with an offset, or a usage error.
pub fn time(text: &str, flag: &str) -> Result<AsOf, Failure> {
    rules_front::as_of(text, flag).map_err(|e| Failure::Usage(e.message))
}

/// `--as-of`, or the current time in UTC (the only clock read of the product's commands).
pub fn as_of_or_now(flag: Option<&str>) -> Result<AsOf, Failure> {
    match flag {
        Some(text) => time(text, "--as-of"),
        None => Ok(AsOf::from_time(chrono::Utc::now().fixed_offset())),
    }
}
