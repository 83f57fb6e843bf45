//! The one front door of the engine: what the CLI, the WASM module and the server do when they
//! are handed a challenge or records, written once (cedar's `ffi` shape).
//!
//! - A challenge arrives as [`TreeInput`]: DSL text, JSON text of a tree or an array of trees, or
//!   a string that says which by its first character. [`Source::read`] parses it, checks it and
//!   orders its diagnostics; [`Source::plans`] compiles what checked.
//! - A diagnostic has one wire form, [`JsonDiagnostic`]: `check --format json` prints it with its
//!   file, the WASM module returns it with UTF-16 offsets, the server answers it in a `422`.
//! - Records arrive as [`RecordsInput`] (JSON Lines or a JSON array) and are read into
//!   [`Records`] with their counts (`read == accepted + rejected`, data.md).
//! - The JSON-in/JSON-out operations of the editor (`parse`, `check`, `format`, `decompile`,
//!   `evaluate`, `vocabulary`) are plain functions here; `rules-wasm` only moves strings across.
//! - Problems with a challenge itself are diagnostics; problems with a call (a time that is not
//!   a time, records that are not JSON Lines or an array, a challenge with errors given to
//!   `evaluate`) are an [`ApiError`].
//!
//! **Invariant:** nothing here panics on any input, and nothing reads a clock: times come in.
//! Evaluation results are serialized exactly as `challenge eval` prints them (`serde_json` of
//! the same values, in the same order).

use rules_core::check::{self, Layout};
use rules_core::diagnostic::has_errors;
use rules_core::eval::{self, AsOf, EvalResult, Plan};
use rules_core::records::{self, ReadReport, Rejection, User, Workout};
use rules_core::tree::DeclKind;
use rules_core::{json, Catalog, Challenge, Diagnostic, Severity};
use serde::Serialize;
use serde_json::Value;

/// How a challenge arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TreeInput<'a> {
    /// DSL text (a `.chal` file, a `text/plain` body).
    Dsl(&'a str),
    /// JSON text of a tree or an array of trees (a `.json` file, `JSON.stringify` of a value,
    /// an `application/json` body).
    Json(&'a str),
    /// Text that says which by itself: JSON when it starts with `{` or `[`, DSL otherwise (a
    /// string from JavaScript).
    Text(&'a str),
}

impl<'a> TreeInput<'a> {
    /// The text, and whether it is DSL.
    fn resolve(self) -> (&'a str, bool) {
        match self {
            TreeInput::Dsl(text) => (text, true),
            TreeInput::Json(text) => (text, false),
            TreeInput::Text(text) => (text, !text.trim_start().starts_with(['{', '['])),
        }
    }
}

/// How a records argument (workouts or users) arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordsInput<'a> {
    /// Not given (`undefined` or `null`, no `--users`): no records.
    None,
    /// JSON Lines text, one record per line (data.md).
    Lines(&'a str),
    /// JSON text of an array of records (`JSON.stringify` of a JavaScript array); record `i` is
    /// reported as line `i + 1`.
    Array(&'a str),
}

/// An error in how a function was called: a message, and the challenge's diagnostics when
/// they are the reason. The WASM module throws it as a `RulesError`; the CLI prints the
/// message after `error: `.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ApiError {
    /// What is wrong, in a user's words.
    pub message: String,
    /// The challenge's diagnostics when they are the reason (empty otherwise).
    pub diagnostics: Vec<JsonDiagnostic>,
}

impl ApiError {
    /// An error with a message only.
    pub fn new(message: impl Into<String>) -> ApiError {
        ApiError {
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// A challenge, read and checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Source {
    /// The text the diagnostics point into.
    pub text: String,
    /// Whether the text is DSL (diagnostics have lines and columns) or JSON (paths only).
    pub dsl: bool,
    /// The declarations that could be read.
    pub decls: Vec<Challenge>,
    /// Every error and warning, by position then code (JSON diagnostics, which have no
    /// position, by code after them).
    pub diagnostics: Vec<Diagnostic>,
}

impl Source {
    /// Reads and checks a challenge against `catalog`.
    pub fn read(input: TreeInput<'_>, catalog: &Catalog) -> Source {
        let (text, dsl) = input.resolve();
        let (decls, mut diagnostics, layout) = if dsl {
            let parsed = rules_dsl::parse(text);
            (parsed.decls, parsed.diagnostics, Layout::Single)
        } else {
            let trees = json::read_trees(text);
            let layout = if trees.array {
                Layout::Array
            } else {
                Layout::Single
            };
            (trees.decls, trees.diagnostics, layout)
        };
        diagnostics.extend(check::check_file(&decls, catalog, layout));
        diagnostics.sort_by_key(|d| (d.span.range().map_or(usize::MAX, |r| r.start), d.code));
        Source {
            text: text.to_owned(),
            dsl,
            decls,
            diagnostics,
        }
    }

    /// The diagnostics in their wire form (no file; UTF-16 offsets for DSL text).
    pub fn json_diagnostics(&self) -> Vec<JsonDiagnostic> {
        self.diagnostics
            .iter()
            .map(|d| JsonDiagnostic::new(d, self.dsl.then_some(self.text.as_str())))
            .collect()
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        has_errors(&self.diagnostics)
    }

    /// The checked challenges (templates left out) compiled for evaluation, or the reason
    /// they cannot be: the first error when the challenge has errors.
    pub fn plans(&self, catalog: &Catalog) -> Result<Vec<Plan>, ApiError> {
        if self.has_errors() {
            let diagnostics = self.json_diagnostics();
            let first = diagnostics
                .iter()
                .find(|d| d.severity == Severity::Error)
                .map(|d| format!("{}: {}", d.code, d.message))
                .unwrap_or_default();
            return Err(ApiError {
                message: format!("the challenge has errors; the first: {first}"),
                diagnostics,
            });
        }
        self.decls
            .iter()
            .filter(|d| d.kind == DeclKind::Challenge)
            .map(|d| {
                Plan::compile(d, catalog)
                    .map_err(|e| ApiError::new(format!("challenge `{}`: {e}", d.id)))
            })
            .collect()
    }
}

/// One diagnostic in its one wire form. The fields come in the order of cli.md's `check
/// --format json`; `file` is there when the challenge came from a named file, the UTF-16
/// offsets when it came to the WASM module (what JavaScript strings and editors index by).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct JsonDiagnostic {
    /// `error` or `warning`.
    pub severity: Severity,
    /// `E0001` ... `W0002` (language.md §7).
    pub code: &'static str,
    /// What is wrong.
    pub message: String,
    /// The file the challenge was read from (the CLI's form).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line of the first character (DSL text only).
    pub line: Option<usize>,
    /// 1-based column (characters) of the first character.
    pub column: Option<usize>,
    /// 1-based line of the position after the last character.
    pub end_line: Option<usize>,
    /// 1-based column of the position after the last character.
    pub end_column: Option<usize>,
    /// How to fix it, when there is something to say.
    pub help: Option<String>,
    /// The JSON path of the node (`goal.goals[1].target`); empty for the whole document.
    pub path: String,
    /// UTF-16 offsets (the editor's form).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub utf16: Option<Utf16Range>,
}

/// Where a diagnostic is in UTF-16 code units from the start of the text (`null` for JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Utf16Range {
    /// The offset of the first character.
    pub utf16_start: Option<usize>,
    /// The offset just after the last character.
    pub utf16_end: Option<usize>,
}

impl JsonDiagnostic {
    /// The editor's form of `d` (UTF-16 offsets, no file), located in `dsl` when the challenge
    /// was DSL text.
    pub fn new(d: &Diagnostic, dsl: Option<&str>) -> JsonDiagnostic {
        let utf16 = dsl.and_then(|text| rules_dsl::utf16_range(text, d.span));
        JsonDiagnostic {
            utf16: Some(Utf16Range {
                utf16_start: utf16.map(|r| r.0),
                utf16_end: utf16.map(|r| r.1),
            }),
            ..JsonDiagnostic::in_file(d, dsl, None)
        }
    }

    /// The CLI's and the server's form of `d` (cli.md `check --format json`): read from
    /// `file` when named, located in `dsl` when the challenge was DSL text.
    pub fn in_file(d: &Diagnostic, dsl: Option<&str>, file: Option<String>) -> JsonDiagnostic {
        let location = dsl.and_then(|text| rules_dsl::locate(text, d.span));
        JsonDiagnostic {
            severity: d.severity(),
            code: d.code.as_str(),
            message: d.message.clone(),
            file,
            line: location.map(|l| l.line),
            column: location.map(|l| l.column),
            end_line: location.map(|l| l.end_line),
            end_column: location.map(|l| l.end_column),
            help: d.help.clone(),
            path: d.path.clone(),
            utf16: None,
        }
    }
}

/// What `parse` gives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Parsed {
    /// The trees of the declarations that parsed (language.md §9).
    pub trees: Vec<Challenge>,
    /// Every syntax and check diagnostic of the text, in source order.
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `parse(text)`: DSL text to trees, with every diagnostic (syntax and checks) of the text.
pub fn parse(text: &str) -> Parsed {
    let source = Source::read(TreeInput::Text(text), &Catalog::builtin());
    let diagnostics = source.json_diagnostics();
    Parsed {
        trees: source.decls,
        diagnostics,
    }
}

/// `check(tree)`: the diagnostics of a challenge argument (the CLI's `check`).
pub fn check(input: TreeInput<'_>) -> Vec<JsonDiagnostic> {
    Source::read(input, &Catalog::builtin()).json_diagnostics()
}

/// What `format` and `decompile` give: the text, or `None` with the diagnostics that prevent it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Text {
    /// The DSL text; `null` when there are errors.
    pub text: Option<String>,
    /// The errors that prevent it (syntax errors for `format`; every diagnostic for
    /// `decompile`, warnings included).
    pub diagnostics: Vec<JsonDiagnostic>,
}

/// `format(text)`: canonical DSL text, keeping comments (the CLI's `fmt`).
pub fn format(text: &str) -> Text {
    match rules_dsl::format(text) {
        Ok(formatted) => Text {
            text: Some(formatted),
            diagnostics: Vec::new(),
        },
        Err(diagnostics) => Text {
            text: None,
            diagnostics: diagnostics
                .iter()
                .map(|d| JsonDiagnostic::new(d, Some(text)))
                .collect(),
        },
    }
}

/// `decompile(tree)`: DSL text of a tree or array of trees (the CLI's `decompile`); printed only
/// when the tree checks without errors, so the text compiles back to the same tree.
pub fn decompile(input: TreeInput<'_>) -> Text {
    let source = Source::read(input, &Catalog::builtin());
    let diagnostics = source.json_diagnostics();
    let text = (!source.has_errors()).then(|| rules_dsl::print_file(&source.decls));
    Text { text, diagnostics }
}

/// How many records a reader read, accepted and rejected (data.md: `read == accepted +
/// rejected`), with the reasons.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordReport {
    /// Records read.
    pub read: usize,
    /// Records accepted.
    pub accepted: usize,
    /// The rejected records: line (array index + 1 for arrays) and reason.
    pub rejected: Vec<Rejection>,
}

impl RecordReport {
    /// The counts and reasons of a reader's report.
    pub fn of<T>(report: &ReadReport<T>) -> RecordReport {
        RecordReport {
            read: report.read(),
            accepted: report.accepted.len(),
            rejected: report.rejected.clone(),
        }
    }
}

/// The workouts and users of an evaluation, read and upserted as the CLI does.
#[derive(Clone, Debug, PartialEq)]
pub struct Records {
    /// One workout per id, the later record winning.
    pub workouts: Vec<Workout>,
    /// One user per id.
    pub users: Vec<User>,
    /// What the workout reader made of its input.
    pub workout_report: RecordReport,
    /// What the user reader made of its input.
    pub user_report: RecordReport,
}

impl Records {
    /// Reads both record arguments.
    pub fn read(workouts: RecordsInput<'_>, users: RecordsInput<'_>) -> Result<Records, ApiError> {
        let w = read_records(workouts, "workouts", records::parse_workout)?;
        let u = read_records(users, "users", records::parse_user)?;
        Ok(Records {
            workout_report: RecordReport::of(&w),
            user_report: RecordReport::of(&u),
            workouts: records::upsert_workouts(w.into_records()),
            users: records::upsert_users(u.into_records()),
        })
    }

    /// Records rejected by both readers.
    pub fn rejected(&self) -> usize {
        self.workout_report.rejected.len() + self.user_report.rejected.len()
    }

    /// Whether `user` has a record or a workout.
    pub fn knows(&self, user: &str) -> bool {
        self.users.iter().any(|u| u.id == user) || self.workouts.iter().any(|w| w.user == user)
    }

    /// The users a command considers (data.md): those with an accepted record or an accepted
    /// workout, sorted by id; only `only` when given (an unknown id is a user in no group).
    pub fn users_to_evaluate(&self, only: Option<&str>) -> Vec<User> {
        records::users_to_evaluate(&self.users, &self.workouts, only)
    }

    /// Every plan for every considered user (or team), as `challenge eval` does: sorted by
    /// challenge then user (or team). With `only`, the user's results and the results of the
    /// teams that have that member (a team's result needs all its members, language.md §10).
    pub fn evaluate(&self, plans: &[Plan], as_of: &AsOf, only: Option<&str>) -> Vec<EvalResult> {
        let users = self.users_to_evaluate(only);
        let Some(only) = only.filter(|_| plans.iter().any(|p| !p.teams().is_empty())) else {
            return eval::evaluate_all(plans, &users, &self.workouts, as_of);
        };
        let (team_plans, user_plans): (Vec<&Plan>, Vec<&Plan>) =
            plans.iter().partition(|p| !p.teams().is_empty());
        let user_plans: Vec<Plan> = user_plans.into_iter().cloned().collect();
        let team_plans: Vec<Plan> = team_plans.into_iter().cloned().collect();
        let everyone = self.users_to_evaluate(None);
        let mut results = eval::evaluate_all(&user_plans, &users, &self.workouts, as_of);
        results.extend(
            eval::evaluate_all(&team_plans, &everyone, &self.workouts, as_of)
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
}

/// Reads JSON Lines or a JSON array of records with a record parser of `rules_core::records`.
fn read_records<T>(
    input: RecordsInput<'_>,
    what: &str,
    parse: impl Fn(&serde_json::Map<String, Value>) -> Result<T, String>,
) -> Result<ReadReport<T>, ApiError> {
    match input {
        RecordsInput::None => Ok(ReadReport {
            accepted: Vec::new(),
            rejected: Vec::new(),
        }),
        RecordsInput::Lines(text) => Ok(records::read_lines(text, parse)),
        RecordsInput::Array(text) => {
            // serde_json's default recursion limit (128) keeps this from overflowing the stack.
            let items = match serde_json::from_str::<Value>(text) {
                Ok(Value::Array(items)) => items,
                Ok(_) => {
                    return Err(ApiError::new(format!(
                        "{what} must be an array of records or a JSON Lines string"
                    )))
                }
                Err(e) => return Err(ApiError::new(format!("{what} are not valid JSON: {e}"))),
            };
            let mut report = ReadReport {
                accepted: Vec::new(),
                rejected: Vec::new(),
            };
            for (i, item) in items.iter().enumerate() {
                let outcome = match item {
                    Value::Object(map) => parse(map),
                    _ => Err("the record is not a JSON object".to_owned()),
                };
                match outcome {
                    Ok(record) => report.accepted.push((i + 1, record)),
                    Err(reason) => report.rejected.push(Rejection {
                        line: i + 1,
                        reason,
                    }),
                }
            }
            Ok(report)
        }
    }
}

/// Reads a time argument (`--as-of`, `asOf`, `at`): an RFC 3339 time with an offset, echoed
/// as given; `name` is what the caller calls it, for the message.
pub fn as_of(text: &str, name: &str) -> Result<AsOf, ApiError> {
    AsOf::parse(text).ok_or_else(|| {
        ApiError::new(format!(
            "{name} `{text}` is not an RFC 3339 time with an offset, such as 2026-08-15T12:00:00+08:00"
        ))
    })
}

/// What `evaluate` gives.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    /// One result per (challenge, user), sorted by challenge id then user id: the lines of
    /// `challenge eval`.
    pub results: Vec<EvalResult>,
    /// The challenge's warnings (a challenge with errors is an [`ApiError`]).
    pub diagnostics: Vec<JsonDiagnostic>,
    /// What the workout reader made of its input.
    pub workouts: RecordReport,
    /// What the user reader made of its input.
    pub users: RecordReport,
}

/// `evaluate(tree, workouts, users, asOf)`: every challenge of the argument (templates left out)
/// for every user with a record or a workout, as `challenge eval` does.
pub fn evaluate(
    tree: TreeInput<'_>,
    workouts: RecordsInput<'_>,
    users: RecordsInput<'_>,
    as_of_text: &str,
) -> Result<Evaluation, ApiError> {
    let as_of = as_of(as_of_text, "asOf")?;
    let catalog = Catalog::builtin();
    let source = Source::read(tree, &catalog);
    let plans = source.plans(&catalog)?;
    let records = Records::read(workouts, users)?;
    let results = records.evaluate(&plans, &as_of, None);
    Ok(Evaluation {
        results,
        diagnostics: source.json_diagnostics(),
        workouts: records.workout_report,
        users: records.user_report,
    })
}

/// `evaluateJsonl(...)`: the results as `challenge eval` prints them, one JSON line each.
pub fn evaluate_jsonl(
    tree: TreeInput<'_>,
    workouts: RecordsInput<'_>,
    users: RecordsInput<'_>,
    as_of_text: &str,
) -> Result<String, ApiError> {
    let evaluation = evaluate(tree, workouts, users, as_of_text)?;
    let mut out = String::new();
    for result in &evaluation.results {
        out.push_str(&to_json(result)?);
        out.push('\n');
    }
    Ok(out)
}

/// Serializes an output (infallible for these types; a failure is an error, not a panic).
pub fn to_json<T: Serialize>(value: &T) -> Result<String, ApiError> {
    serde_json::to_string(value).map_err(|e| ApiError::new(format!("cannot write JSON: {e}")))
}

/// The names an editor offers: exercises, categories, measures, units and periods.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Vocabulary {
    /// The built-in exercise catalog.
    pub exercises: Vec<rules_core::catalog::Exercise>,
    /// `strength`, `bodyweight`, `cardio`.
    pub categories: Vec<&'static str>,
    /// Measures with their dimension and canonical unit.
    pub measures: Vec<MeasureInfo>,
    /// Unit symbols with their dimension.
    pub units: Vec<UnitInfo>,
    /// `sum`, `count`, `max`, `min`, `avg`.
    pub aggregates: Vec<&'static str>,
    /// `day`, `week`, `month`.
    pub periods: Vec<&'static str>,
}

/// A measure of language.md §4.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MeasureInfo {
    /// Its name (`duration`).
    pub name: &'static str,
    /// Its dimension (`duration`).
    pub dimension: &'static str,
    /// Its canonical unit (`s`), null for counts.
    pub unit: Option<&'static str>,
}

/// A unit of language.md §6.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitInfo {
    /// The symbol (`km/h`).
    pub symbol: &'static str,
    /// Its dimension (`speed`).
    pub dimension: &'static str,
}

/// `vocabulary()`: the names the checker accepts, for an editor's menus.
pub fn vocabulary() -> Vocabulary {
    use rules_core::catalog::Category;
    use rules_core::tree::{Aggregate, Period};
    use rules_core::vocab::Measure;
    Vocabulary {
        exercises: Catalog::builtin().exercises().cloned().collect(),
        categories: Category::ALL.iter().map(|c| c.name()).collect(),
        measures: Measure::ALL
            .iter()
            .map(|m| MeasureInfo {
                name: m.name(),
                dimension: m.dimension().name(),
                unit: m.dimension().canonical_unit(),
            })
            .collect(),
        units: rules_core::units::UNITS
            .iter()
            .map(|u| UnitInfo {
                symbol: u.symbol,
                dimension: u.dimension.name(),
            })
            .collect(),
        aggregates: [
            Aggregate::Sum,
            Aggregate::Count,
            Aggregate::Max,
            Aggregate::Min,
            Aggregate::Avg,
        ]
        .iter()
        .map(|a| a.keyword())
        .collect(),
        periods: [Period::Day, Period::Week, Period::Month]
            .iter()
            .map(|p| p.singular())
            .collect(),
    }
}

pub mod recommend;

#[cfg(test)]
mod tests;
