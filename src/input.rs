//! Reading what the commands are given: challenge files (DSL or JSON trees), the catalog, and
//! record files, with every problem reported on stderr.

use std::path::{Path, PathBuf};

use rules_core::check::{self, Layout};
use rules_core::diagnostic::has_errors;
use rules_core::records::{ReadReport, Rejection};
use rules_core::{json, Catalog, Challenge, Diagnostic};

use crate::cli::CatalogArg;
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

/// How a challenge file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SourceKind {
    /// DSL text (`.chal`).
    Dsl,
    /// A JSON tree or an array of trees (`.json`).
    Json,
}

/// A challenge file, read and checked.
pub struct Source {
    /// The path as given.
    pub path: PathBuf,
    /// Its text.
    pub text: String,
    /// DSL or JSON.
    pub kind: SourceKind,
    /// The declarations that could be read.
    pub decls: Vec<Challenge>,
    /// Every error and warning, in source order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Source {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        has_errors(&self.diagnostics)
    }

    /// The file name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }
}

/// Reads and checks a challenge file: `.json` as a tree (or array of trees), anything else as DSL.
pub fn source(path: &Path, catalog: &Catalog) -> Result<Source, Failure> {
    let text = read_text(path)?;
    let kind = if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
    {
        SourceKind::Json
    } else {
        SourceKind::Dsl
    };
    let (decls, mut diagnostics, layout) = match kind {
        SourceKind::Dsl => {
            let parsed = rules_dsl::parse(&text);
            (parsed.decls, parsed.diagnostics, Layout::Single)
        }
        SourceKind::Json => {
            let trees = json::read_trees(&text);
            let layout = if trees.array {
                Layout::Array
            } else {
                Layout::Single
            };
            (trees.decls, trees.diagnostics, layout)
        }
    };
    diagnostics.extend(check::check_file(&decls, catalog, layout));
    diagnostics.sort_by_key(|d| (d.span.range().map_or(usize::MAX, |r| r.start), d.code));
    Ok(Source {
        path: path.to_owned(),
        text,
        kind,
        decls,
        diagnostics,
    })
}

/// Prints a reader's rejections on stderr with the file and line, then the counts.
pub fn report_records<T>(path: &Path, what: &str, report: &ReadReport<T>) {
    for Rejection { line, reason } in &report.rejected {
        eprintln!(
            "{}:{line}: rejected {what} record: {reason}",
            path.display()
        );
    }
    eprintln!(
        "{}: read {} {what} records, accepted {}, rejected {}",
        path.display(),
        report.read(),
        report.accepted.len(),
        report.rejected.len()
    );
}
