//! pest errors → E0001 diagnostics in an admin's words.
//!
//! pest reports a position and the set of grammar rules it expected there. Users must never see
//! those rule names: each rule maps to a phrase ("a goal such as `all {` or `sum(...) >= 30`"),
//! the phrases are joined ("expected `of`, `where` or `)`"), and what was found at the position
//! is described ("found `titel`"). A few common situations get a message of their own, such as
//! an unknown header field with a "did you mean".

use rules_core::catalog::is_keyword;
use rules_core::diagnostic::{did_you_mean, Code, Diagnostic};
use rules_core::span::Span;

use crate::parser::{PestError, Rule};

/// The words that may start an item of a declaration.
pub const HEADER_WORDS: [&str; 11] = [
    "title",
    "description",
    "window",
    "timezone",
    "groups",
    "gyms",
    "teams",
    "reward",
    "tier",
    "param",
    "goal",
];

/// The words that may start a goal.
const GOAL_WORDS: [&str; 12] = [
    "all", "any", "at", "every", "on", "streak", "in", "sum", "count", "max", "min", "avg",
];

/// What was being parsed when pest failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// A whole declaration (`decl_file`).
    Declaration,
    /// One item of a declaration, during error recovery (`item_only`).
    Item,
    /// The last item of a declaration and its `}`, during error recovery (`last_item`).
    LastItem,
}

/// Converts a pest error found while parsing `source[base..]` into a diagnostic.
pub fn syntax_error(err: &PestError, source: &str, base: usize, context: Context) -> Diagnostic {
    let pos = base
        + match err.location {
            pest::error::InputLocation::Pos(p) => p,
            pest::error::InputLocation::Span((p, _)) => p,
        };
    let found = Found::at(source, pos);
    match &err.variant {
        pest::error::ErrorVariant::ParsingError { positives, .. } => {
            let mut positives = positives.clone();
            if context == Context::Item && positives.contains(&Rule::EOI) {
                // The end of an item piece is where the next item or the `}` may come.
                positives.retain(|r| *r != Rule::EOI);
                positives.extend([Rule::item, Rule::rbrace]);
            }
            expected_error(&positives, &found)
        }
        pest::error::ErrorVariant::CustomError { message } => {
            Diagnostic::new(Code::E0001, message.clone(), found.span, "")
        }
    }
}

/// What stands in the source where something else was expected.
#[derive(Clone, Debug)]
struct Found {
    /// The token's span (empty at the end of the text).
    span: Span,
    /// The word, when the token is one (`[A-Za-z_][A-Za-z0-9_]*`).
    word: Option<String>,
    /// How to name it in a message: "`titel`", "the end of the file".
    description: String,
}

impl Found {
    fn at(source: &str, pos: usize) -> Found {
        let rest = source.get(pos..).unwrap_or_default();
        let Some(first) = rest.chars().next() else {
            // At the end: point just after the last token rather than at trailing blank lines.
            let end = source.trim_end().len();
            return Found {
                span: Span::new(end, end),
                word: None,
                description: "the end of the file".into(),
            };
        };
        let take = |pred: &dyn Fn(char) -> bool| -> &str {
            let n = rest.find(|c: char| !pred(c)).unwrap_or(rest.len());
            rest.get(..n).unwrap_or_default()
        };
        let (text, word) = if first.is_ascii_alphabetic() || first == '_' {
            let w = take(&|c| c.is_ascii_alphanumeric() || c == '_');
            (w, Some(w.to_owned()))
        } else if first.is_ascii_digit() {
            (take(&|c| c.is_ascii_digit() || c == '.' || c == '-'), None)
        } else if first == '"' {
            let end = rest
                .get(1..)
                .and_then(|r| r.find(['"', '\n']))
                .map_or(rest.len(), |n| n + 2);
            (rest.get(..end).unwrap_or(rest), None)
        } else {
            (rest.get(..first.len_utf8()).unwrap_or_default(), None)
        };
        let description = if first == '"' && text.chars().count() > 30 {
            "a quoted text".to_owned()
        } else if first == '\n' || first == '\r' {
            "the end of the line".to_owned()
        } else {
            format!("`{}`", text.escape_debug())
        };
        Found {
            span: Span::new(pos, pos + text.len().max(1).min(rest.len())),
            word,
            description,
        }
    }
}

/// The message for "expected one of `positives`".
fn expected_error(positives: &[Rule], found: &Found) -> Diagnostic {
    let has = |r: Rule| positives.contains(&r);
    let found_word = found.word.as_deref();

    if let Some(w) = found_word.filter(|w| is_keyword(w)) {
        if has(Rule::sel_word) || has(Rule::sel_list) {
            return Diagnostic::new(
                Code::E0001,
                format!("`{w}` is a reserved word and cannot be an exercise id"),
                found.span,
                "",
            )
            .with_help("name an exercise or category, such as `of leg_press` or `of cardio`, or leave out `of`");
        }
    }
    if has(Rule::item) {
        if let Some(w) = found_word {
            if !is_keyword(w) {
                let help = did_you_mean(w, HEADER_WORDS).unwrap_or_else(|| {
                    "a declaration holds `title`, `description`, `window`, `timezone`, `groups`, \
                     `gyms`, `teams`, `reward`, `tier`, `param` and `goal`"
                        .to_owned()
                });
                return Diagnostic::new(
                    Code::E0001,
                    format!("unknown header field `{w}`"),
                    found.span,
                    "",
                )
                .with_help(help);
            }
        }
    }
    if has(Rule::decl_kind) && positives.len() == 1 {
        let mut d = Diagnostic::new(
            Code::E0001,
            format!(
                "expected a declaration (`challenge` or `template`), found {}",
                found.description
            ),
            found.span,
            "",
        );
        d.help = Some(
            found_word
                .and_then(|w| did_you_mean(w, ["challenge", "template"]))
                .unwrap_or_else(|| {
                    "a file holds declarations such as `challenge \"id\" { ... }`".into()
                }),
        );
        return d;
    }

    let mut phrases: Vec<&'static str> = Vec::new();
    // A unit is optional after any number, so pest lists it wherever a number ended; it is
    // worth naming only when nothing else would do.
    let only_units = positives
        .iter()
        .all(|r| matches!(r, Rule::unit | Rule::bad_unit));
    for rule in positives {
        if !only_units && matches!(rule, Rule::unit | Rule::bad_unit) {
            continue;
        }
        if let Some(p) = phrase(*rule) {
            if !phrases.contains(&p) {
                phrases.push(p);
            }
        }
    }
    let expected = if phrases.is_empty() {
        "something else".to_owned()
    } else {
        join_or(&phrases)
    };
    let mut d = Diagnostic::new(
        Code::E0001,
        format!("expected {expected}, found {}", found.description),
        found.span,
        "",
    );
    d.help = help_for(positives, found_word);
    d
}

/// Extra advice for some expected sets.
fn help_for(positives: &[Rule], found_word: Option<&str>) -> Option<String> {
    let has = |r: Rule| positives.contains(&r);
    if has(Rule::goal) {
        return Some(
            found_word
                .and_then(|w| did_you_mean(w, GOAL_WORDS))
                .unwrap_or_else(|| {
                    "a goal is a block (`all`, `any`, `at least N of`, `every day`, `on N days`, \
                     `streak N days`, `in one workout`) or a comparison such as \
                     `sum(reps of push_up) >= 30`"
                        .into()
                }),
        );
    }
    if has(Rule::goal_op) {
        return Some("a goal compares with `>=` (at least) or `<=` (at most)".into());
    }
    if has(Rule::period) {
        return found_word
            .and_then(|w| did_you_mean(w, ["day", "days", "week", "weeks", "month", "months"]));
    }
    if has(Rule::date) {
        return Some("dates are written `YYYY-MM-DD`, such as `2026-08-01`".into());
    }
    if has(Rule::kw_to) {
        return Some("the window is written `window 2026-08-01 to 2026-08-31`".into());
    }
    if has(Rule::cmp_op) {
        return Some("a condition compares a field with `==`, `!=`, `<`, `<=`, `>` or `>=`, or tests `FIELD in (a, b)`".into());
    }
    if has(Rule::string) && found_word.is_some() {
        return Some("text is written in double quotes, such as `\"gym-01\"`".into());
    }
    None
}

/// The admin's words for one grammar rule; `None` for rules never worth naming.
fn phrase(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::decl_file
        | Rule::declaration
        | Rule::decl_kind
        | Rule::kw_challenge
        | Rule::kw_template => "`challenge` or `template`",
        Rule::EOI => "the start of a new `challenge` or `template`",
        Rule::item => "a header field such as `title`, `window` or `goal`",
        Rule::string | Rule::string_inner => "a quoted text such as `\"gym-01\"`",
        Rule::date => "a date such as `2026-08-01`",
        Rule::number => "a number",
        Rule::quantity => "a quantity such as `40 kg`",
        Rule::unit | Rule::bad_unit => "a unit such as `kg` or `min`",
        Rule::target => "a quantity such as `30` or `20 min`, or a `$param`",
        Rule::param_ref => "a `$param`",
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::lparen => "`(`",
        Rule::rparen => "`)`",
        Rule::comma => "`,`",
        Rule::colon => "`:`",
        Rule::equals => "`=`",
        Rule::pipe => "`|`",
        Rule::dot => "`.`",
        Rule::title_field => "`title`",
        Rule::description_field => "`description`",
        Rule::window_field => "`window`",
        Rule::timezone_field => "`timezone`",
        Rule::groups_field => "`groups`",
        Rule::gyms_field => "`gyms`",
        Rule::reward_field => "`reward`",
        Rule::teams_field => "`teams`",
        Rule::tier_field => "`tier`",
        Rule::reward_tier => "`tier`",
        Rule::goal_field => "`goal`",
        Rule::kw_title => "`title`",
        Rule::kw_description => "`description`",
        Rule::kw_window => "`window`",
        Rule::kw_to => "`to`",
        Rule::kw_timezone => "`timezone`",
        Rule::kw_groups => "`groups`",
        Rule::kw_gyms => "`gyms`",
        Rule::kw_reward => "`reward`",
        Rule::kw_teams => "`teams`",
        Rule::kw_tier => "`tier`",
        Rule::kw_points => "`points`",
        Rule::kw_param | Rule::param_decl => "`param`",
        Rule::kw_goal => "`goal`",
        Rule::goal
        | Rule::all_goal
        | Rule::any_goal
        | Rule::at_least_goal
        | Rule::every_goal
        | Rule::on_goal
        | Rule::streak_goal
        | Rule::one_workout_goal
        | Rule::metric
        | Rule::block => "a goal such as `all {` or `sum(...) >= 30`",
        Rule::kw_all => "`all`",
        Rule::kw_any => "`any`",
        Rule::kw_at => "`at`",
        Rule::kw_least => "`least`",
        Rule::kw_of => "`of`",
        Rule::kw_on => "`on`",
        Rule::kw_every => "`every`",
        Rule::kw_streak => "`streak`",
        Rule::kw_in => "`in`",
        Rule::kw_one => "`one`",
        Rule::kw_workout => "`workout`",
        Rule::kw_where | Rule::where_clause => "`where`",
        Rule::kw_and => "`and`",
        Rule::kw_or => "`or`",
        Rule::kw_not => "`not`",
        Rule::kw_else => "`else`",
        Rule::kw_profile | Rule::profile => "`profile.`",
        Rule::period => "`day`, `week` or `month`",
        Rule::count_n => "a whole number or a `$param`",
        Rule::aggregate => "`sum`, `count`, `max`, `min` or `avg`",
        Rule::measure => "a measure such as `reps` or `duration`",
        Rule::selector => "`of`",
        Rule::sel_list | Rule::sel_word => {
            "an exercise or category such as `leg_press` or `cardio`"
        }
        Rule::goal_op => "`>=` or `<=`",
        Rule::or_cond
        | Rule::and_cond
        | Rule::not_cond
        | Rule::cond_atom
        | Rule::paren_cond
        | Rule::compare
        | Rule::in_cond
        | Rule::field => "a condition such as `weight >= 40 kg`",
        Rule::cmp_op => "a comparison such as `>=` or `==`",
        Rule::value | Rule::bare_word => "a value such as `40 kg`, `\"gym-01\"` or `mon`",
        Rule::param_name => "a param name",
        Rule::dimension => "a dimension such as `count` or `mass`",
        Rule::expr | Rule::term | Rule::factor | Rule::paren_expr | Rule::call => {
            "a value such as `10`, `$other` or `profile.max_reps(push_up)`"
        }
        Rule::add_op | Rule::mul_op => "an operator such as `+` or `*`",
        Rule::word | Rule::keyword => "a name",
        _ => return None,
    })
}

/// `a`, `a or b`, `a, b or c`.
pub fn join_or<S: AsRef<str>>(items: &[S]) -> String {
    match items.split_last() {
        Some((last, rest)) if !rest.is_empty() => {
            let rest: Vec<&str> = rest.iter().map(AsRef::as_ref).collect();
            format!("{} or {}", rest.join(", "), last.as_ref())
        }
        Some((last, _)) => last.as_ref().to_owned(),
        None => String::new(),
    }
}
