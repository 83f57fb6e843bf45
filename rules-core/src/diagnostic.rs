//! Diagnostics: the compiler's errors and warnings (language.md §7).
//!
//! A diagnostic knows its code, message, optional help, and where it is: a [`Span`] into the
//! DSL source when the tree came from text, and always the JSON path of the node (such as
//! `goal.goals[1].target`), which is what a JSON tree's diagnostics report. Rendering them for
//! people (rustc style) lives in `rules-dsl`; this type is plain data.

use std::fmt;

use serde::Serialize;

use crate::span::Span;

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The challenge cannot be used.
    Error,
    /// The challenge works but probably not as meant.
    Warning,
}

/// The diagnostic codes of language.md §7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// Syntax error, or a JSON tree of the wrong shape.
    E0001,
    /// Duplicate header field; missing `title`, `window` or `goal`.
    E0002,
    /// Window ends before it starts; an impossible date.
    E0003,
    /// Unknown timezone.
    E0004,
    /// Unknown exercise or category.
    E0005,
    /// Unknown measure or field, or a measure the aggregate does not take.
    E0006,
    /// Dimension mismatch.
    E0007,
    /// Set-level field in a workout-level aggregate.
    E0008,
    /// `at least N of` with N too large; N = 0.
    E0009,
    /// A period block inside a period block of the same or a shorter period, or in one workout.
    E0010,
    /// Unknown, duplicate or forward-referenced `$param`; params in a challenge.
    E0011,
    /// Duplicate or invalid declaration id.
    E0012,
    /// Nesting or size limit exceeded.
    E0013,
    /// Tiers and teams (since 1.1): a bad threshold, a duplicate or unknown tier, a duplicate or
    /// empty team, `teams` with `groups` or in a template.
    E0014,
    /// `streak`/`on` N larger than the periods available.
    W0001,
    /// A set-level measure on cardio exercises only.
    W0002,
}

impl Code {
    /// Errors make a challenge unusable; warnings do not.
    pub fn severity(self) -> Severity {
        match self {
            Code::W0001 | Code::W0002 => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// The code as printed (`E0007`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E0001 => "E0001",
            Code::E0002 => "E0002",
            Code::E0003 => "E0003",
            Code::E0004 => "E0004",
            Code::E0005 => "E0005",
            Code::E0006 => "E0006",
            Code::E0007 => "E0007",
            Code::E0008 => "E0008",
            Code::E0009 => "E0009",
            Code::E0010 => "E0010",
            Code::E0011 => "E0011",
            Code::E0012 => "E0012",
            Code::E0013 => "E0013",
            Code::E0014 => "E0014",
            Code::W0001 => "W0001",
            Code::W0002 => "W0002",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// One error or warning, with where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Diagnostic {
    /// The code.
    pub code: Code,
    /// What is wrong, in an admin's words, user input in backticks.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
    /// Where in the DSL source ([`Span::NONE`] for JSON trees).
    pub span: Span,
    /// The JSON path of the node (`goal.goals[1].target`); empty for the whole file.
    pub path: String,
}

impl Diagnostic {
    /// A diagnostic at a span and path.
    pub fn new(
        code: Code,
        message: impl Into<String>,
        span: Span,
        path: impl Into<String>,
    ) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            help: None,
            span,
            path: path.into(),
        }
    }

    /// Adds a help line.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line, when there is one.
    #[must_use]
    pub fn with_optional_help(mut self, help: Option<String>) -> Self {
        self.help = help;
        self
    }

    /// Error or warning, from the code.
    pub fn severity(&self) -> Severity {
        self.code.severity()
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity() == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}[{}]: {}",
            match self.severity() {
                Severity::Error => "error",
                Severity::Warning => "warning",
            },
            self.code,
            self.message
        )?;
        if !self.path.is_empty() {
            write!(f, " (at `{}`)", self.path)?;
        }
        Ok(())
    }
}

/// The diagnostics of one source, in source order.
pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(Diagnostic::is_error)
}

/// "did you mean `x`?" for the closest candidate, when one is close enough.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    closest(word, candidates).map(|c| format!("did you mean `{c}`?"))
}

/// The candidate closest to `word`, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).clamp(1, 3);
    candidates
        .into_iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|&(d, _)| d <= limit)
        .min_by_key(|&(d, c)| (d, c))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            closest("leg_pres", ["leg_press", "leg_curl"]),
            Some("leg_press")
        );
        assert_eq!(
            closest("tredmill", ["treadmill", "rower"]),
            Some("treadmill")
        );
        assert_eq!(closest("swimming", ["treadmill", "rower"]), None);
        assert_eq!(
            did_you_mean("wieght", ["weight", "reps"]).as_deref(),
            Some("did you mean `weight`?")
        );
    }

    #[test]
    fn severity_follows_the_code() {
        assert_eq!(Code::W0002.severity(), Severity::Warning);
        assert_eq!(Code::E0013.severity(), Severity::Error);
    }
}
