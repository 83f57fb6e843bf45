//! Reading the JSON syntax tree (language.md §9) from untrusted input.
//!
//! A tree from a browser may be of any shape. This reader walks a `serde_json::Value` by hand so
//! that it can report *every* problem with the JSON path of the offending node (`goal.goals[1].
//! target`): an unknown key, a wrong type or a missing required key is E0001 at its path, an
//! impossible date E0003. Keys whose default §9 gives (`timezone`, `groups`, `gyms`,
//! `description`, `points`) may be left out, and so may the empty lists and nulls of `rewards`,
//! `params`, `of`, `where`, `fallback` and a profile lookup's `exercise`, and the 1.1 keys
//! (`teams`, `tiers`, a reward's `tier`; language.md §10).
//!
//! **Invariant:** nothing here recurses deeper than [`MAX_JSON_DEPTH`]: the text is scanned for
//! its nesting depth before it is parsed, and a deeper document is E0013, never a stack overflow.

use chrono::NaiveDate;
use serde::Deserialize;
use serde_json::{Map, Value as Json};

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{Span, Spanned};
use crate::tree::{
    Aggregate, BinOp, Challenge, CmpOp, Condition, Count, DeclKind, Expr, Goal, GoalOp, Metric,
    Param, ParamRef, Period, Quantity, Reward, Target, Tier, Value, Window, TREE_VERSION,
};
use crate::units::{self, Dimension};

use crate::limits::{MAX_JSON_DEPTH, MAX_SOURCE_BYTES};

/// What [`read_trees`] made of a JSON document.
#[derive(Clone, Debug, PartialEq)]
pub struct JsonTrees {
    /// The declarations that were read completely.
    pub decls: Vec<Challenge>,
    /// Whether the document was an array of trees (paths are then prefixed `[i].`).
    pub array: bool,
    /// Problems found while reading.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads one tree or an array of trees.
pub fn read_trees(text: &str) -> JsonTrees {
    let mut out = JsonTrees {
        decls: Vec::new(),
        array: text.trim_start().starts_with('['),
        diagnostics: Vec::new(),
    };
    let document = match parse_document(text) {
        Ok(document) => document,
        Err(diagnostic) => {
            out.diagnostics.push(diagnostic);
            return out;
        }
    };
    match &document {
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let mut reader = Reader::default();
                let decl = reader.challenge(item, &format!("[{i}]"));
                out.diagnostics.append(&mut reader.diagnostics);
                out.decls.extend(decl);
            }
        }
        other => {
            let mut reader = Reader::default();
            let decl = reader.challenge(other, "");
            out.diagnostics = reader.diagnostics;
            out.decls.extend(decl);
        }
    }
    out
}

/// Reads a single tree from a parsed JSON value; paths are relative to it.
pub fn read_tree(value: &Json) -> Result<Challenge, Vec<Diagnostic>> {
    let mut reader = Reader::default();
    match reader.challenge(value, "") {
        Some(decl) if reader.diagnostics.is_empty() => Ok(decl),
        _ => Err(reader.diagnostics),
    }
}

/// Parses JSON text after checking its size and nesting depth.
pub fn parse_document(text: &str) -> Result<Json, Diagnostic> {
    if text.len() > MAX_SOURCE_BYTES {
        return Err(Diagnostic::new(
            Code::E0013,
            format!("the tree is {} bytes; the limit is 1 MiB", text.len()),
            Span::NONE,
            "",
        ));
    }
    if let Some(depth) = nesting_depth(text).filter(|&d| d > MAX_JSON_DEPTH) {
        return Err(Diagnostic::new(
            Code::E0013,
            format!("the tree is nested {depth} levels deep; the limit is {MAX_JSON_DEPTH}"),
            Span::NONE,
            "",
        )
        .with_help("a goal or a condition may have at most 64 nested levels"));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    deserializer.disable_recursion_limit();
    let value = Json::deserialize(&mut deserializer)
        .and_then(|v| deserializer.end().map(|()| v))
        .map_err(|e| {
            Diagnostic::new(
                Code::E0001,
                format!("the tree is not valid JSON: {e}"),
                Span::NONE,
                "",
            )
        })?;
    Ok(value)
}

/// The deepest nesting of arrays and objects in JSON text (strings skipped), stopping early
/// once past the limit. `None` for empty text.
fn nesting_depth(text: &str) -> Option<usize> {
    let (mut depth, mut deepest, mut in_string, mut escaped) = (0usize, 0usize, false, false);
    for byte in text.bytes() {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
                if deepest > MAX_JSON_DEPTH {
                    break;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    (!text.trim().is_empty()).then_some(deepest)
}

/// Walks a JSON value, collecting diagnostics.
#[derive(Default)]
struct Reader {
    diagnostics: Vec<Diagnostic>,
}

/// `path.key`, or `key` at the root.
fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

fn describe(value: &Json) -> &'static str {
    match value {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "a list",
        Json::Object(_) => "an object",
    }
}

impl Reader {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::new(Code::E0001, message, Span::NONE, path));
    }

    fn wrong<T>(&mut self, path: &str, expected: &str, found: &Json) -> Option<T> {
        let at = if path.is_empty() { "the tree" } else { path };
        self.error(
            path,
            format!("`{at}` must be {expected}, found {}", describe(found)),
        );
        None
    }

    /// The object at `path` whose keys are all in `allowed` (unknown keys are reported).
    fn object<'a>(
        &mut self,
        value: &'a Json,
        path: &str,
        expected: &str,
        allowed: &[&str],
    ) -> Option<&'a Map<String, Json>> {
        let Json::Object(map) = value else {
            return self.wrong(path, expected, value);
        };
        for key in map.keys() {
            if !allowed.contains(&key.as_str()) {
                let help = crate::diagnostic::did_you_mean(key, allowed.iter().copied())
                    .unwrap_or_else(|| format!("the keys here are {}", quoted_list(allowed)));
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0001,
                        format!("unknown key `{key}`"),
                        Span::NONE,
                        join(path, key),
                    )
                    .with_help(help),
                );
            }
        }
        Some(map)
    }

    /// A required key.
    fn required<'a>(
        &mut self,
        map: &'a Map<String, Json>,
        path: &str,
        key: &str,
    ) -> Option<&'a Json> {
        let value = map.get(key);
        if value.is_none() {
            let at = if path.is_empty() { "the tree" } else { path };
            self.error(path, format!("`{at}` is missing the key `{key}`"));
        }
        value
    }

    /// An optional key: absent and `null` are both `None`.
    fn optional<'a>(map: &'a Map<String, Json>, key: &str) -> Option<&'a Json> {
        map.get(key).filter(|v| !v.is_null())
    }

    fn string(&mut self, value: &Json, path: &str) -> Option<Spanned<String>> {
        match value {
            Json::String(s) => Some(Spanned::bare(s.clone())),
            other => self.wrong(path, "a string", other),
        }
    }

    fn strings(
        &mut self,
        map: &Map<String, Json>,
        path: &str,
        key: &str,
    ) -> Option<Vec<Spanned<String>>> {
        let path = join(path, key);
        match Reader::optional(map, key) {
            None => Some(Vec::new()),
            Some(Json::Array(items)) => self.items(items, &path, |r, v, p| r.string(v, p)),
            Some(other) => self.wrong(&path, "a list of strings", other),
        }
    }

    fn challenge(&mut self, value: &Json, path: &str) -> Option<Challenge> {
        const KEYS: &[&str] = &[
            "version",
            "kind",
            "id",
            "title",
            "description",
            "window",
            "timezone",
            "groups",
            "gyms",
            "teams",
            "rewards",
            "tiers",
            "params",
            "goal",
        ];
        let map = self.object(value, path, "a challenge tree (an object)", KEYS)?;
        let version = self.required(map, path, "version").and_then(|v| {
            let p = join(path, "version");
            match v.as_u64() {
                Some(n) if n == u64::from(TREE_VERSION) => Some(TREE_VERSION),
                _ => {
                    self.error(&p, format!("unsupported tree version {v}; this reader knows version {TREE_VERSION}"));
                    None
                }
            }
        });
        let kind = self
            .required(map, path, "kind")
            .and_then(|v| match v.as_str() {
                Some("challenge") => Some(DeclKind::Challenge),
                Some("template") => Some(DeclKind::Template),
                _ => {
                    self.error(
                        &join(path, "kind"),
                        format!("`kind` must be \"challenge\" or \"template\", found {v}"),
                    );
                    None
                }
            });
        let id = self
            .required(map, path, "id")
            .and_then(|v| self.string(v, &join(path, "id")));
        let title = self
            .required(map, path, "title")
            .and_then(|v| self.string(v, &join(path, "title")));
        let description = match Reader::optional(map, "description") {
            None => Some(None),
            Some(v) => self.string(v, &join(path, "description")).map(Some),
        };
        let window = self
            .required(map, path, "window")
            .and_then(|v| self.window(v, &join(path, "window")));
        let timezone = match Reader::optional(map, "timezone") {
            None => Some(Spanned::bare("UTC".to_owned())),
            Some(v) => self.string(v, &join(path, "timezone")),
        };
        let groups = self.strings(map, path, "groups");
        let gyms = self.strings(map, path, "gyms");
        let teams = self.strings(map, path, "teams");
        let rewards = self.list(map, path, "rewards", Reader::reward);
        let tiers = self.list(map, path, "tiers", Reader::tier);
        let params = self.list(map, path, "params", Reader::param);
        let goal = self
            .required(map, path, "goal")
            .and_then(|v| self.goal(v, &join(path, "goal"), 0));
        Some(Challenge {
            version: version?,
            kind: kind?,
            id: id?,
            title: title?,
            description: description?,
            window: window?,
            timezone: timezone?,
            groups: groups?,
            gyms: gyms?,
            teams: teams?,
            rewards: rewards?,
            tiers: tiers?,
            params: params?,
            goal: goal?,
            span: Span::NONE,
        })
    }

    /// An optional list under `key`, each item read by `item`.
    fn list<T>(
        &mut self,
        map: &Map<String, Json>,
        path: &str,
        key: &str,
        item: impl FnMut(&mut Reader, &Json, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let path = join(path, key);
        match Reader::optional(map, key) {
            None => Some(Vec::new()),
            Some(Json::Array(items)) => self.items(items, &path, item),
            Some(other) => self.wrong(&path, "a list", other),
        }
    }

    /// Reads every item (reporting all problems); `None` when any item failed.
    fn items<T>(
        &mut self,
        items: &[Json],
        path: &str,
        mut item: impl FnMut(&mut Reader, &Json, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let mut out = Vec::with_capacity(items.len());
        let mut ok = true;
        for (i, value) in items.iter().enumerate() {
            match item(self, value, &format!("{path}[{i}]")) {
                Some(v) => out.push(v),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn window(&mut self, value: &Json, path: &str) -> Option<Window> {
        let map = self.object(
            value,
            path,
            "an object with `start` and `end`",
            &["start", "end"],
        )?;
        let start = self
            .required(map, path, "start")
            .and_then(|v| self.date(v, &join(path, "start")));
        let end = self
            .required(map, path, "end")
            .and_then(|v| self.date(v, &join(path, "end")));
        Some(Window {
            start: start?,
            end: end?,
        })
    }

    fn date(&mut self, value: &Json, path: &str) -> Option<Spanned<NaiveDate>> {
        let Json::String(text) = value else {
            return self.wrong(path, "a date string such as \"2026-08-01\"", value);
        };
        let shaped = text.len() == 10
            && text.bytes().enumerate().all(|(i, b)| {
                if i == 4 || i == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            });
        if !shaped {
            self.error(
                path,
                format!("`{text}` is not a date of the form YYYY-MM-DD"),
            );
            return None;
        }
        match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) => Some(Spanned::bare(date)),
            Err(_) => {
                self.diagnostics.push(Diagnostic::new(
                    Code::E0003,
                    format!("`{text}` is not a real calendar date"),
                    Span::NONE,
                    path,
                ));
                None
            }
        }
    }

    fn reward(&mut self, value: &Json, path: &str) -> Option<Reward> {
        let map = self.object(
            value,
            path,
            "an object with `name` and `points`",
            &["name", "points", "tier"],
        )?;
        let name = self
            .required(map, path, "name")
            .and_then(|v| self.string(v, &join(path, "name")));
        let points = match Reader::optional(map, "points") {
            None => Some(None),
            Some(v) => match v.as_u64() {
                Some(n) => Some(Some(n)),
                None => self.wrong(&join(path, "points"), "a whole number or null", v),
            },
        };
        let tier = match Reader::optional(map, "tier") {
            None => Some(None),
            Some(v) => self.string(v, &join(path, "tier")).map(Some),
        };
        Some(Reward {
            name: name?.node,
            points: points?,
            tier: tier?,
            span: Span::NONE,
        })
    }

    /// A tier: `{"name": "bronze", "at": {"value": 50, "unit": "%"}}`. The threshold's range and
    /// unit are the checker's (E0014); here it only has to be a quantity.
    fn tier(&mut self, value: &Json, path: &str) -> Option<Tier> {
        let map = self.object(
            value,
            path,
            "an object with `name` and `at`",
            &["name", "at"],
        )?;
        let name = self
            .required(map, path, "name")
            .and_then(|v| self.string(v, &join(path, "name")));
        let at = self
            .required(map, path, "at")
            .and_then(|v| self.tier_threshold(v, &join(path, "at")));
        Some(Tier {
            name: name?.node,
            at: at?,
            span: Span::NONE,
        })
    }

    fn kind<'a>(
        &mut self,
        map: &'a Map<String, Json>,
        path: &str,
        kinds: &[&str],
    ) -> Option<&'a str> {
        let kind = self.required(map, path, "kind")?;
        match kind.as_str() {
            Some(k) if kinds.contains(&k) => Some(k),
            _ => {
                self.error(
                    &join(path, "kind"),
                    format!(
                        "unknown node kind {kind}; expected one of {}",
                        quoted_list(kinds)
                    ),
                );
                None
            }
        }
    }

    fn goal(&mut self, value: &Json, path: &str, depth: usize) -> Option<Goal> {
        const KINDS: &[&str] = &[
            "all",
            "any",
            "at_least",
            "every",
            "on",
            "streak",
            "one_workout",
            "metric",
        ];
        let Json::Object(map) = value else {
            return self.wrong(path, "a goal (an object with `kind`)", value);
        };
        let kind = self.kind(map, path, KINDS)?;
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        let allowed: &[&str] = match kind {
            "all" | "any" => &["kind", "goals"],
            "at_least" => &["kind", "count", "goals"],
            "every" => &["kind", "period", "goal"],
            "on" | "streak" => &["kind", "count", "period", "goal"],
            "one_workout" => &["kind", "goal"],
            _ => &[
                "kind",
                "aggregate",
                "measure",
                "of",
                "where",
                "op",
                "target",
            ],
        };
        self.object(value, path, "a goal", allowed)?;
        let span = Span::NONE;
        let goals = |r: &mut Reader| -> Option<Vec<Goal>> {
            let p = join(path, "goals");
            match r.required(map, path, "goals")? {
                Json::Array(items) if items.is_empty() => {
                    r.error(&p, "a goal list needs at least one goal");
                    None
                }
                Json::Array(items) => r.items(items, &p, |r, v, p| r.goal(v, p, depth + 1)),
                other => r.wrong(&p, "a list of goals", other),
            }
        };
        let child = |r: &mut Reader| -> Option<Box<Goal>> {
            let v = r.required(map, path, "goal")?;
            r.goal(v, &join(path, "goal"), depth + 1).map(Box::new)
        };
        let period = |r: &mut Reader| -> Option<Period> {
            let v = r.required(map, path, "period")?;
            match v.as_str() {
                Some("day") => Some(Period::Day),
                Some("week") => Some(Period::Week),
                Some("month") => Some(Period::Month),
                _ => {
                    r.error(
                        &join(path, "period"),
                        format!("`period` must be \"day\", \"week\" or \"month\", found {v}"),
                    );
                    None
                }
            }
        };
        let count = |r: &mut Reader| -> Option<Count> {
            let v = r.required(map, path, "count")?;
            r.count(v, &join(path, "count"))
        };
        Some(match kind {
            "all" => Goal::All {
                goals: goals(self)?,
                span,
            },
            "any" => Goal::Any {
                goals: goals(self)?,
                span,
            },
            "at_least" => {
                let (count, goals) = (count(self), goals(self));
                Goal::AtLeast {
                    count: count?,
                    goals: goals?,
                    span,
                }
            }
            "every" => {
                let (period, goal) = (period(self), child(self));
                Goal::Every {
                    period: period?,
                    goal: goal?,
                    span,
                }
            }
            "on" | "streak" => {
                let (count, period, goal) = (count(self), period(self), child(self));
                let (count, period, goal) = (count?, period?, goal?);
                if kind == "on" {
                    Goal::On {
                        count,
                        period,
                        goal,
                        span,
                    }
                } else {
                    Goal::Streak {
                        count,
                        period,
                        goal,
                        span,
                    }
                }
            }
            "one_workout" => Goal::OneWorkout {
                goal: child(self)?,
                span,
            },
            _ => Goal::Metric(self.metric(map, path)?),
        })
    }

    fn metric(&mut self, map: &Map<String, Json>, path: &str) -> Option<Metric> {
        let aggregate = self.required(map, path, "aggregate").and_then(|v| {
            let found = match v.as_str() {
                Some("sum") => Some(Aggregate::Sum),
                Some("count") => Some(Aggregate::Count),
                Some("max") => Some(Aggregate::Max),
                Some("min") => Some(Aggregate::Min),
                Some("avg") => Some(Aggregate::Avg),
                _ => None,
            };
            if found.is_none() {
                self.error(&join(path, "aggregate"), format!("`aggregate` must be one of \"sum\", \"count\", \"max\", \"min\", \"avg\", found {v}"));
            }
            found
        });
        let measure = self
            .required(map, path, "measure")
            .and_then(|v| self.string(v, &join(path, "measure")));
        let of = self.strings(map, path, "of");
        let where_ = match Reader::optional(map, "where") {
            None => Some(None),
            Some(v) => self.condition(v, &join(path, "where"), 0).map(Some),
        };
        let op = self
            .required(map, path, "op")
            .and_then(|v| match v.as_str() {
                Some(">=") => Some(GoalOp::Ge),
                Some("<=") => Some(GoalOp::Le),
                _ => {
                    self.error(
                        &join(path, "op"),
                        format!("a goal's `op` must be \">=\" or \"<=\", found {v}"),
                    );
                    None
                }
            });
        let target = self.required(map, path, "target").and_then(|v| {
            let p = join(path, "target");
            match self.operand(v, &p, false)? {
                Value::Quantity(q) => Some(Target::Quantity(q)),
                Value::Param(r) => Some(Target::Param(r)),
                Value::Str(_) => None,
            }
        });
        Some(Metric {
            aggregate: aggregate?,
            measure: measure?,
            of: of?,
            where_: where_?,
            op: op?,
            target: target?,
            span: Span::NONE,
        })
    }

    fn condition(&mut self, value: &Json, path: &str, depth: usize) -> Option<Condition> {
        const KINDS: &[&str] = &["and", "or", "not", "compare", "in"];
        let Json::Object(map) = value else {
            return self.wrong(path, "a condition (an object with `kind`)", value);
        };
        let kind = self.kind(map, path, KINDS)?;
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        let allowed: &[&str] = match kind {
            "and" | "or" => &["kind", "terms"],
            "not" => &["kind", "term"],
            "compare" => &["kind", "field", "op", "value"],
            _ => &["kind", "field", "values"],
        };
        self.object(value, path, "a condition", allowed)?;
        let span = Span::NONE;
        let field = |r: &mut Reader| -> Option<Spanned<String>> {
            let v = r.required(map, path, "field")?;
            r.string(v, &join(path, "field"))
        };
        Some(match kind {
            "and" | "or" => {
                let p = join(path, "terms");
                let terms = match self.required(map, path, "terms")? {
                    Json::Array(items) if items.len() < 2 => {
                        self.error(&p, format!("`{kind}` needs at least two terms"));
                        return None;
                    }
                    Json::Array(items) => {
                        self.items(items, &p, |r, v, p| r.condition(v, p, depth + 1))?
                    }
                    other => return self.wrong(&p, "a list of conditions", other),
                };
                if kind == "and" {
                    Condition::And { terms, span }
                } else {
                    Condition::Or { terms, span }
                }
            }
            "not" => {
                let v = self.required(map, path, "term")?;
                let term = self.condition(v, &join(path, "term"), depth + 1)?;
                Condition::Not {
                    term: Box::new(term),
                    span,
                }
            }
            "compare" => {
                let field = field(self);
                let op = self.required(map, path, "op").and_then(|v| {
                    let op = v.as_str().and_then(CmpOp::from_symbol);
                    if op.is_none() {
                        self.error(&join(path, "op"), format!("`op` must be one of \"==\", \"!=\", \"<\", \"<=\", \">\", \">=\", found {v}"));
                    }
                    op
                });
                let value = self
                    .required(map, path, "value")
                    .and_then(|v| self.operand(v, &join(path, "value"), true));
                Condition::Compare {
                    field: field?,
                    op: op?,
                    value: value?,
                    span,
                }
            }
            _ => {
                let field = field(self);
                let p = join(path, "values");
                let values = match self.required(map, path, "values") {
                    Some(Json::Array(items)) if items.is_empty() => {
                        self.error(&p, "`in` needs at least one value");
                        None
                    }
                    Some(Json::Array(items)) => {
                        self.items(items, &p, |r, v, p| r.operand(v, p, true))
                    }
                    Some(other) => self.wrong(&p, "a list of values", other),
                    None => None,
                };
                Condition::In {
                    field: field?,
                    values: values?,
                    span,
                }
            }
        })
    }

    /// A quantity, a `{"param": ...}`, or (when `strings` is set) a string.
    fn operand(&mut self, value: &Json, path: &str, strings: bool) -> Option<Value> {
        match value {
            Json::String(s) if strings => Some(Value::Str(Spanned::bare(s.clone()))),
            Json::Object(map) if map.contains_key("param") => {
                let map = self.object(value, path, "a param reference", &["param"])?;
                let name = self
                    .required(map, path, "param")
                    .and_then(|v| self.string(v, &join(path, "param")))?;
                Some(Value::Param(ParamRef {
                    param: name.node,
                    span: Span::NONE,
                }))
            }
            Json::Object(_) => self.quantity(value, path).map(Value::Quantity),
            other => {
                let expected = if strings {
                    "a quantity such as {\"value\": 40, \"unit\": \"kg\"}, a string, or {\"param\": \"name\"}"
                } else {
                    "a quantity such as {\"value\": 40, \"unit\": \"kg\"} or {\"param\": \"name\"}"
                };
                self.wrong(path, expected, other)
            }
        }
    }

    /// A tier's `at`: a literal quantity (a `{"param": ...}` is E0001, as `at $x` is in the DSL).
    fn tier_threshold(&mut self, value: &Json, path: &str) -> Option<Quantity> {
        if let Json::Object(map) = value {
            if map.contains_key("param") {
                self.diagnostics.push(
                    Diagnostic::new(
                        Code::E0001,
                        "a tier threshold cannot be a `$param`",
                        Span::NONE,
                        path,
                    )
                    .with_help("write a literal percent such as {\"value\": 50, \"unit\": \"%\"}"),
                );
                return None;
            }
        }
        self.quantity(value, path)
    }

    fn quantity(&mut self, value: &Json, path: &str) -> Option<Quantity> {
        let map = self.object(
            value,
            path,
            "a quantity such as {\"value\": 40, \"unit\": \"kg\"}",
            &["value", "unit"],
        )?;
        let number = self.required(map, path, "value").and_then(|v| {
            let p = join(path, "value");
            match v.as_f64() {
                Some(x) if x.is_finite() && x >= 0.0 => Some(x),
                Some(_) => {
                    self.error(
                        &p,
                        format!("`{v}` is negative; numbers in challenges are 0 or more"),
                    );
                    None
                }
                None => self.wrong(&p, "a number", v),
            }
        });
        let unit = match Reader::optional(map, "unit") {
            None => Some(None),
            Some(Json::String(u)) if units::lookup(u).is_some() => Some(Some(u.clone())),
            Some(other) => {
                let symbols: Vec<&str> = units::UNITS.iter().map(|u| u.symbol).collect();
                let mut d = Diagnostic::new(
                    Code::E0001,
                    format!("unknown unit {other}"),
                    Span::NONE,
                    join(path, "unit"),
                )
                .with_help(format!(
                    "units are {}, or null for a count",
                    quoted_list(&symbols)
                ));
                if let Some(s) = other.as_str() {
                    if let Some(help) = crate::diagnostic::did_you_mean(s, symbols.iter().copied())
                    {
                        d = d.with_help(help);
                    }
                }
                self.diagnostics.push(d);
                None
            }
        };
        Some(Quantity {
            value: number?,
            unit: unit?,
            span: Span::NONE,
        })
    }

    fn count(&mut self, value: &Json, path: &str) -> Option<Count> {
        match value {
            Json::Number(n) => match n.as_u64() {
                Some(n) => Some(Count::Literal(Spanned::bare(n))),
                None => {
                    self.error(path, format!("`{n}` is not a whole number, 0 or more"));
                    None
                }
            },
            // Also accept a count quantity ({"value": 3, "unit": null}), which some writers emit.
            Json::Object(map) if map.contains_key("value") => {
                let q = self.quantity(value, path)?;
                if q.unit.is_some() || q.value.fract() != 0.0 {
                    self.error(path, format!("a count must be a whole number, found `{q}`"));
                    return None;
                }
                Some(Count::Literal(Spanned::bare(q.value as u64)))
            }
            _ => match self.operand(value, path, false)? {
                Value::Param(r) => Some(Count::Param(r)),
                _ => None,
            },
        }
    }

    fn param(&mut self, value: &Json, path: &str) -> Option<Param> {
        let map = self.object(
            value,
            path,
            "a param (an object)",
            &["name", "dimension", "expr", "fallback"],
        )?;
        let name = self
            .required(map, path, "name")
            .and_then(|v| self.string(v, &join(path, "name")));
        let dimension = self.required(map, path, "dimension").and_then(|v| {
            let found = v.as_str().and_then(Dimension::from_name);
            if found.is_none() {
                let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.name()).collect();
                self.error(
                    &join(path, "dimension"),
                    format!(
                        "unknown dimension {v}; dimensions are {}",
                        quoted_list(&names)
                    ),
                );
            }
            found.map(Spanned::bare)
        });
        let expr = self
            .required(map, path, "expr")
            .and_then(|v| self.expr(v, &join(path, "expr"), 0));
        let fallback = match Reader::optional(map, "fallback") {
            None => Some(None),
            Some(v) => self.expr(v, &join(path, "fallback"), 0).map(Some),
        };
        Some(Param {
            name: name?,
            dimension: dimension?,
            expr: expr?,
            fallback: fallback?,
            span: Span::NONE,
        })
    }

    fn expr(&mut self, value: &Json, path: &str, depth: usize) -> Option<Expr> {
        const KINDS: &[&str] = &["number", "param", "binary", "call", "profile"];
        let Json::Object(map) = value else {
            return self.wrong(path, "an expression (an object with `kind`)", value);
        };
        let kind = self.kind(map, path, KINDS)?;
        if depth > MAX_JSON_DEPTH {
            return None;
        }
        let allowed: &[&str] = match kind {
            "number" => &["kind", "value"],
            "param" => &["kind", "name"],
            "binary" => &["kind", "op", "left", "right"],
            "call" => &["kind", "func", "args"],
            _ => &["kind", "metric", "exercise"],
        };
        self.object(value, path, "an expression", allowed)?;
        let span = Span::NONE;
        Some(match kind {
            "number" => {
                let v = self.required(map, path, "value")?;
                Expr::Number {
                    value: self.quantity(v, &join(path, "value"))?,
                    span,
                }
            }
            "param" => {
                let v = self.required(map, path, "name")?;
                Expr::Param {
                    name: self.string(v, &join(path, "name"))?,
                    span,
                }
            }
            "binary" => {
                let op = self
                    .required(map, path, "op")
                    .and_then(|v| match v.as_str() {
                        Some("+") => Some(BinOp::Add),
                        Some("-") => Some(BinOp::Sub),
                        Some("*") => Some(BinOp::Mul),
                        Some("/") => Some(BinOp::Div),
                        _ => {
                            self.error(
                                &join(path, "op"),
                                format!(
                                    "`op` must be one of \"+\", \"-\", \"*\", \"/\", found {v}"
                                ),
                            );
                            None
                        }
                    });
                let left = self
                    .required(map, path, "left")
                    .and_then(|v| self.expr(v, &join(path, "left"), depth + 1));
                let right = self
                    .required(map, path, "right")
                    .and_then(|v| self.expr(v, &join(path, "right"), depth + 1));
                Expr::Binary {
                    op: op?,
                    left: Box::new(left?),
                    right: Box::new(right?),
                    span,
                }
            }
            "call" => {
                let func = self
                    .required(map, path, "func")
                    .and_then(|v| self.string(v, &join(path, "func")));
                let p = join(path, "args");
                let args = match self.required(map, path, "args") {
                    Some(Json::Array(items)) => {
                        self.items(items, &p, |r, v, p| r.expr(v, p, depth + 1))
                    }
                    Some(other) => self.wrong(&p, "a list of expressions", other),
                    None => None,
                };
                Expr::Call {
                    func: func?,
                    args: args?,
                    span,
                }
            }
            _ => {
                let metric = self
                    .required(map, path, "metric")
                    .and_then(|v| self.string(v, &join(path, "metric")));
                let exercise = match Reader::optional(map, "exercise") {
                    None => Some(None),
                    Some(v) => self.string(v, &join(path, "exercise")).map(Some),
                };
                Expr::Profile {
                    metric: metric?,
                    exercise: exercise?,
                    span,
                }
            }
        })
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = r#"{
      "version": 1, "kind": "challenge", "id": "national-day-2026",
      "title": "National Day Challenge 2026", "description": null,
      "window": {"start": "2026-08-01", "end": "2026-08-31"},
      "timezone": "Asia/Singapore", "groups": ["nsfit", "staff"], "gyms": ["gym-01", "gym-02"],
      "rewards": [{"name": "National Day finisher", "points": 100}], "params": [],
      "goal": {"kind": "every", "period": "day", "goal": {"kind": "any", "goals": [
        {"kind": "metric", "aggregate": "sum", "measure": "reps", "of": ["leg_press"],
         "where": {"kind": "compare", "field": "weight", "op": ">=", "value": {"value": 40, "unit": "kg"}},
         "op": ">=", "target": {"value": 30, "unit": null}},
        {"kind": "metric", "aggregate": "sum", "measure": "duration", "of": ["cardio"],
         "where": null, "op": ">=", "target": {"value": 20, "unit": "min"}}]}}
    }"#;

    fn paths(text: &str) -> Vec<(Code, String)> {
        read_trees(text)
            .diagnostics
            .into_iter()
            .map(|d| (d.code, d.path))
            .collect()
    }

    #[test]
    fn the_spec_example_round_trips() {
        let trees = read_trees(SPEC_EXAMPLE);
        assert_eq!(trees.diagnostics, vec![]);
        assert!(!trees.array);
        let tree = &trees.decls[0];
        let written = serde_json::to_value(tree).unwrap_or_default();
        let original: Json = serde_json::from_str(SPEC_EXAMPLE).unwrap_or_default();
        assert_eq!(written, original);
        let again = read_tree(&written).map_err(|d| d.len());
        assert_eq!(again.as_ref(), Ok(tree));
    }

    #[test]
    fn defaults_may_be_left_out() {
        let text = r#"{"version": 1, "kind": "challenge", "id": "c", "title": "T",
            "window": {"start": "2026-08-01", "end": "2026-08-31"},
            "goal": {"kind": "metric", "aggregate": "count", "measure": "workouts", "op": ">=",
                     "target": {"value": 3, "unit": null}}}"#;
        let trees = read_trees(text);
        assert_eq!(trees.diagnostics, vec![]);
        let tree = &trees.decls[0];
        assert_eq!(tree.timezone.as_str(), "UTC");
        assert!(tree.groups.is_empty() && tree.rewards.is_empty() && tree.description.is_none());
    }

    #[test]
    fn every_problem_is_reported_at_its_path() {
        let text = SPEC_EXAMPLE
            .replace(r#""title": "National Day Challenge 2026", "#, "")
            .replace(r#""unit": "min""#, r#""unit": "minutes""#)
            .replace(r#""field": "weight""#, r#""field": "weight", "colour": 1"#)
            .replace(r#""end": "2026-08-31""#, r#""end": "2026-02-30""#)
            .replace(r#""period": "day""#, r#""period": "fortnight""#);
        let found = paths(&text);
        assert!(found.contains(&(Code::E0001, String::new())), "{found:?}");
        assert!(
            found.contains(&(Code::E0001, "goal.goal.goals[1].target.unit".into())),
            "{found:?}"
        );
        assert!(
            found.contains(&(Code::E0001, "goal.goal.goals[0].where.colour".into())),
            "{found:?}"
        );
        assert!(
            found.contains(&(Code::E0003, "window.end".into())),
            "{found:?}"
        );
        assert!(
            found.contains(&(Code::E0001, "goal.period".into())),
            "{found:?}"
        );
    }

    #[test]
    fn wrong_types_name_what_was_expected() {
        let text = SPEC_EXAMPLE.replace(
            r#""groups": ["nsfit", "staff"]"#,
            r#""groups": ["nsfit", 7]"#,
        );
        let trees = read_trees(&text);
        let d = &trees.diagnostics[0];
        assert_eq!(d.path, "groups[1]");
        assert_eq!(d.message, "`groups[1]` must be a string, found a number");
    }

    #[test]
    fn arrays_prefix_paths_with_the_index() {
        let text = format!(
            "[{SPEC_EXAMPLE}, {}]",
            SPEC_EXAMPLE
                .replace(r#""op": "<=""#, "")
                .replace(r#""kind": "any""#, r#""kind": "some""#)
        );
        let trees = read_trees(&text);
        assert!(trees.array);
        assert_eq!(trees.decls.len(), 1);
        assert_eq!(trees.diagnostics[0].path, "[1].goal.goal.kind");
    }

    #[test]
    fn not_json_and_not_objects_are_e0001() {
        assert_eq!(paths("{"), vec![(Code::E0001, String::new())]);
        assert_eq!(paths("42"), vec![(Code::E0001, String::new())]);
        assert_eq!(paths(""), vec![(Code::E0001, String::new())]);
    }

    #[test]
    fn a_deep_tree_is_e0013_without_recursion() {
        let depth = 100_000;
        let mut text = String::with_capacity(depth * 40);
        for _ in 0..depth {
            text.push_str(r#"{"kind": "all", "goals": ["#);
        }
        let found = paths(&text);
        assert_eq!(found, vec![(Code::E0013, String::new())]);
    }

    #[test]
    fn negative_numbers_and_fractional_counts_are_refused() {
        let text = SPEC_EXAMPLE.replace(r#""value": 30"#, r#""value": -30"#);
        assert_eq!(
            paths(&text),
            vec![(Code::E0001, "goal.goal.goals[0].target.value".into())]
        );
        let text = SPEC_EXAMPLE.replace(
            r#""kind": "every", "period": "day""#,
            r#""kind": "on", "count": 2.5, "period": "day""#,
        );
        assert_eq!(paths(&text), vec![(Code::E0001, "goal.count".into())]);
    }
    #[test]
    fn teams_tiers_and_reward_tiers_are_read_with_defaults_when_absent() {
        let text = SPEC_EXAMPLE
            .replace(r#""groups": ["nsfit", "staff"]"#, r#""groups": [], "teams": ["coy-a", "coy-b"]"#)
            .replace(
                r#""points": 100}]"#,
                r#""points": 100, "tier": "gold"}], "tiers": [{"name": "gold", "at": {"value": 100, "unit": "%"}}]"#,
            );
        let trees = read_trees(&text);
        assert_eq!(trees.diagnostics, vec![]);
        let tree = &trees.decls[0];
        assert_eq!(tree.teams.len(), 2);
        assert_eq!(tree.tiers[0].name, "gold");
        assert_eq!(
            tree.rewards[0].tier.as_ref().map(|t| t.node.as_str()),
            Some("gold")
        );
        // Absent keys give the defaults, and the defaults are not written back.
        let plain = &read_trees(SPEC_EXAMPLE).decls[0];
        assert!(plain.teams.is_empty() && plain.tiers.is_empty());
        assert!(plain.rewards[0].tier.is_none());
        let written = serde_json::to_value(plain).unwrap_or_default();
        assert!(written.get("teams").is_none() && written.get("tiers").is_none());
        assert!(written["rewards"][0].get("tier").is_none());
        // `null` for a reward's tier is the default too.
        let null_tier =
            SPEC_EXAMPLE.replace(r#""points": 100}"#, r#""points": 100, "tier": null}"#);
        assert_eq!(read_trees(&null_tier).diagnostics, vec![]);
    }

    #[test]
    fn bad_teams_and_tiers_are_e0001_at_their_paths() {
        let text = SPEC_EXAMPLE.replace(
            r#""params": []"#,
            r#""params": [], "teams": "coy-a", "tiers": [{"name": "x", "at": {"param": "p"}}, {"name": "y", "at": 50}, {"name": "z", "at": {"value": 5, "unit": "%"}, "color": "gold"}]"#,
        );
        assert_eq!(
            paths(&text),
            vec![
                (Code::E0001, "teams".into()),
                (Code::E0001, "tiers[0].at".into()),
                (Code::E0001, "tiers[1].at".into()),
                (Code::E0001, "tiers[2].color".into()),
            ]
        );
        let text = SPEC_EXAMPLE.replace(r#""points": 100}"#, r#""points": 100, "tier": 3}"#);
        assert_eq!(paths(&text), vec![(Code::E0001, "rewards[0].tier".into())]);
    }
}
