//! Syntax-level diagnostics: the code, the message in an admin's words, the help, and the
//! underlined place.

use rules_core::{Code, Diagnostic};

use crate::{diagnostics, with_goal, HEAD};

/// What a test expects of one diagnostic.
struct Want<'a> {
    code: Code,
    message: &'a str,
    help: Option<&'a str>,
    /// `(line, column)` of the span's start, and the underlined text.
    at: (usize, usize),
    text: &'a str,
}

fn check(source: &str, d: &Diagnostic, want: &Want<'_>) {
    let loc = rules_dsl::locate(source, d.span).unwrap();
    let text = source.get(d.span.range().unwrap()).unwrap();
    assert_eq!(
        (
            d.code,
            d.message.as_str(),
            d.help.as_deref(),
            (loc.line, loc.column),
            text
        ),
        (want.code, want.message, want.help, want.at, want.text)
    );
}

/// `source` has exactly one diagnostic, as wanted.
fn only(source: &str, want: Want<'_>) {
    let ds = diagnostics(source);
    assert_eq!(ds.len(), 1, "{ds:#?}");
    check(source, &ds[0], &want);
}

/// `goal` inside a complete challenge has exactly one diagnostic, on line 4.
fn goal_error(goal: &str, code: Code, message: &str, help: Option<&str>, text: &str) {
    let src = with_goal(goal);
    let column = 10 + goal.find(text).unwrap();
    only(
        &src,
        Want {
            code,
            message,
            help,
            at: (4, column),
            text,
        },
    );
}

#[test]
fn unknown_header_field_with_did_you_mean() {
    let src = format!("{HEAD}    titel \"x\"\n    goal count(workouts) >= 1\n}}\n");
    only(
        &src,
        Want {
            code: Code::E0001,
            message: "unknown header field `titel`",
            help: Some("did you mean `title`?"),
            at: (4, 5),
            text: "titel",
        },
    );
}

#[test]
fn expected_a_goal() {
    goal_error(
        "sumx(reps) >= 20",
        Code::E0001,
        "expected a goal such as `all {` or `sum(...) >= 30`, found `sumx`",
        Some("did you mean `sum`?"),
        "sumx",
    );
}

#[test]
fn expected_a_target() {
    goal_error(
        "sum(reps) >= kg",
        Code::E0001,
        "expected a quantity such as `30` or `20 min`, or a `$param`, found `kg`",
        None,
        "kg",
    );
}

#[test]
fn expected_to() {
    let src = "challenge \"x\" {\n    title \"T\"\n    window 2026-08-01 2026-08-31\n    goal count(workouts) >= 1\n}\n";
    only(
        src,
        Want {
            code: Code::E0001,
            message: "expected `to`, found `2026-08-31`",
            help: Some("the window is written `window 2026-08-01 to 2026-08-31`"),
            at: (3, 23),
            text: "2026-08-31",
        },
    );
}

#[test]
fn a_goal_compares_with_at_least_or_at_most() {
    goal_error(
        "sum(reps) > 20",
        Code::E0001,
        "expected `>=` or `<=`, found `>`",
        Some("a goal compares with `>=` (at least) or `<=` (at most)"),
        ">",
    );
}

#[test]
fn a_decimal_n() {
    goal_error(
        "on 2.5 days { count(workouts) >= 1 }",
        Code::E0001,
        "`2.5` is not a whole number; N must be whole",
        Some("write a whole number such as `2`"),
        "2.5",
    );
}

#[test]
fn bare_gym_and_quoted_weekday() {
    goal_error(
        "count(workouts where gym == gym01) >= 1",
        Code::E0001,
        "a `gym` value is written in quotes, found `gym01`",
        Some("write `gym == \"gym01\"`"),
        "gym01",
    );
    goal_error(
        "count(workouts where machine in (tm01)) >= 1",
        Code::E0001,
        "a `machine` value is written in quotes, found `tm01`",
        Some("write `machine in (\"tm01\")`"),
        "tm01",
    );
    // The help writes the whole list right, so that it parses (issue #19).
    goal_error(
        "count(workouts where machine in (\"m1\", m2)) >= 1",
        Code::E0001,
        "a `machine` value is written in quotes, found `m2`",
        Some("write `machine in (\"m1\", \"m2\")`"),
        "m2",
    );
    goal_error(
        "count(workouts where weekday in (sat, \"sun\")) >= 1",
        Code::E0001,
        "weekdays are written without quotes, found `\"sun\"`",
        Some("write `weekday in (sat, sun)`"),
        "\"sun\"",
    );
    // A quoted word that is no weekday gets the days, not a form that would not check.
    goal_error(
        "count(workouts where weekday == \"funday\") >= 1",
        Code::E0001,
        "weekdays are written without quotes, found `\"funday\"`",
        Some("write a day without quotes: `mon`, `tue`, `wed`, `thu`, `fri`, `sat` or `sun`"),
        "\"funday\"",
    );
    goal_error(
        "count(workouts where weekday == \"mon\") >= 1",
        Code::E0001,
        "weekdays are written without quotes, found `\"mon\"`",
        Some("write `weekday == mon`"),
        "\"mon\"",
    );
}

#[test]
fn keywords_are_not_exercise_ids() {
    goal_error(
        "sum(reps of streak) >= 1",
        Code::E0001,
        "`streak` is a reserved word and cannot be an exercise id",
        Some("exercise ids are names such as `leg_press` or `treadmill`"),
        "streak",
    );
    goal_error(
        "sum(reps of where) >= 1",
        Code::E0001,
        "`where` is a reserved word and cannot be an exercise id",
        Some("name an exercise or category, such as `of leg_press` or `of cardio`, or leave out `of`"),
        "where",
    );
    goal_error(
        "count(workouts where exercise == every) >= 1",
        Code::E0001,
        "`every` is a reserved word and cannot be an exercise id",
        Some("exercise ids are names such as `leg_press` or `treadmill`"),
        "every",
    );
}

#[test]
fn unknown_units() {
    goal_error(
        "sum(distance) >= 20 furlongs",
        Code::E0001,
        "unknown unit `furlongs`",
        Some("the units are `km/h`, `m/s`, `kcal`, `mph`, `bpm`, `min`, `kg`, `lb`, `km`, `mi`, `kJ`, `g`, `m`, `s`, `h` or `%`"),
        "furlongs",
    );
    goal_error(
        "sum(distance) >= 5 KM",
        Code::E0001,
        "unknown unit `KM`",
        Some("did you mean `km`?"),
        "KM",
    );
    goal_error(
        "sum(duration) >= 5 mins",
        Code::E0001,
        "unknown unit `mins`",
        Some("did you mean `min`?"),
        "mins",
    );
}

fn template(param: &str) -> String {
    format!("template \"t\" {{\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n    {param}\n    goal count(workouts) >= 1\n}}\n")
}

fn param_error(param: &str, message: &str, help: Option<&str>, text: &str) {
    let src = template(param);
    let column = 5 + param.find(text).unwrap();
    only(
        &src,
        Want {
            code: Code::E0001,
            message,
            help,
            at: (4, column),
            text,
        },
    );
}

/// A call with the wrong number of arguments gets a "write `...`" form that parses (issue #19).
#[test]
fn the_form_of_every_function_with_a_wrong_arity_parses() {
    for name in ["round", "floor", "ceil", "round_to", "min", "max", "clamp"] {
        for args in ["", "1, 2, 3, 4"] {
            let src = template(&format!("param n: count = {name}({args})"));
            let ds = diagnostics(&src);
            let form = ds[0]
                .help
                .as_deref()
                .and_then(|h| h.strip_prefix("write `")?.strip_suffix('`'))
                .unwrap_or_else(|| panic!("{name}({args}): {ds:?}"));
            let fixed = template(&format!("param n: count = {form}"));
            let parsed = rules_dsl::parse(&fixed);
            assert_eq!(parsed.diagnostics, vec![], "{fixed}");
        }
    }
}

#[test]
fn param_errors() {
    param_error(
        "param count: count = 3",
        "`count` is a reserved word and cannot be a param name",
        Some("choose another name, such as `count_target`"),
        "count",
    );
    param_error(
        "param n: count = roud(3)",
        "unknown function `roud`",
        Some("did you mean `round`?"),
        "roud",
    );
    param_error(
        "param n: count = clamp(3, 4)",
        "`clamp` takes 3 arguments, found 2",
        Some("write `clamp($x, $low, $high)`"),
        "clamp(3, 4)",
    );
    param_error(
        "param n: mas = 3",
        "unknown dimension `mas`",
        Some("did you mean `mass`?"),
        "mas",
    );
    param_error(
        "param n: mass = profile.one_rep_max(cardio)",
        "`cardio` is a reserved word and cannot be an exercise id",
        Some("exercise ids are names such as `leg_press` or `treadmill`"),
        "cardio",
    );
}

#[test]
fn header_field_twice_is_reported_at_the_second() {
    let src =
        format!("{HEAD}    window 2026-09-01 to 2026-09-30\n    goal count(workouts) >= 1\n}}\n");
    only(
        &src,
        Want {
            code: Code::E0002,
            message: "`window` is given twice",
            help: Some("a declaration has one `window`; remove one of them"),
            at: (4, 5),
            text: "window 2026-09-01 to 2026-09-30",
        },
    );
    let src = format!("{HEAD}    goal count(workouts) >= 1\n    goal count(sets) >= 1\n}}\n");
    let ds = diagnostics(&src);
    assert_eq!(ds.len(), 1);
    assert_eq!(
        (ds[0].code, ds[0].message.as_str()),
        (Code::E0002, "`goal` is given twice")
    );
}

#[test]
fn missing_fields_are_reported_at_the_head() {
    let src = "template \"t\" {\n    description \"only this\"\n}\n";
    let ds = diagnostics(src);
    let got: Vec<(Code, &str, Option<&str>)> = ds
        .iter()
        .map(|d| (d.code, d.message.as_str(), d.help.as_deref()))
        .collect();
    assert_eq!(
        got,
        vec![
            (
                Code::E0002,
                "this template has no `title`",
                Some("add a line such as `title \"Push-ups in August\"`")
            ),
            (
                Code::E0002,
                "this template has no `window`",
                Some("add a line such as `window 2026-08-01 to 2026-08-31`")
            ),
            (
                Code::E0002,
                "this template has no `goal`",
                Some("add a line such as `goal sum(reps of push_up) >= 30`")
            ),
        ]
    );
    for d in &ds {
        assert_eq!(src.get(d.span.range().unwrap()), Some("template \"t\""));
    }
}

#[test]
fn a_missing_title_or_a_repeated_field_still_gives_the_tree() {
    // So that the checker can report the declaration's other mistakes in the same run.
    let src = "challenge \"x\" {\n    window 2026-08-01 to 2026-08-31\n    timezone \"UTC\"\n    timezone \"Asia/Singapore\"\n    goal count(workouts) >= 1\n}\n";
    let parsed = rules_dsl::parse(src);
    let codes: Vec<Code> = parsed.diagnostics.iter().map(|d| d.code).collect();
    assert_eq!(codes, vec![Code::E0002, Code::E0002]);
    assert_eq!(parsed.decls.len(), 1);
    assert_eq!(parsed.decls[0].title.as_str(), "");
    assert_eq!(
        parsed.decls[0].timezone.as_str(),
        "UTC",
        "the first of the repeated fields"
    );
    let missing_window = "challenge \"x\" {\n    title \"T\"\n    goal count(workouts) >= 1\n}\n";
    assert!(
        rules_dsl::parse(missing_window).decls.is_empty(),
        "no window: nothing to check"
    );
}

#[test]
fn an_impossible_date_is_e0003() {
    let src = "challenge \"x\" {\n    title \"T\"\n    window 2026-02-30 to 2026-13-01\n    goal count(workouts) >= 1\n}\n";
    let ds = diagnostics(src);
    assert_eq!(ds.len(), 2);
    check(
        src,
        &ds[0],
        &Want {
            code: Code::E0003,
            message: "`2026-02-30` is not a calendar date",
            help: Some("February 2026 has 28 days"),
            at: (3, 12),
            text: "2026-02-30",
        },
    );
    check(
        src,
        &ds[1],
        &Want {
            code: Code::E0003,
            message: "`2026-13-01` is not a calendar date",
            help: Some("months run from 01 to 12"),
            at: (3, 26),
            text: "2026-13-01",
        },
    );
}

#[test]
fn bad_escapes_and_unterminated_text() {
    goal_error(
        "count(workouts where gym == \"a\\qb\") >= 1",
        Code::E0001,
        "unknown escape `\\q` in a quoted text",
        Some("the escapes are `\\\"`, `\\\\`, `\\n` and `\\t`"),
        "\\q",
    );
    let src = "challenge \"x {\n    title \"T\"\n}\n";
    let ds = diagnostics(src);
    assert_eq!(ds[0].code, Code::E0001);
}

#[test]
fn every_broken_declaration_and_item_is_reported() {
    let src = "challenge \"a\" {\n    titel \"A\"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps) > 1\n}\n\nchallenge \"b\" {\n    title \"B\"\n    window 2026-08-01 to 2026-08-31\n    goal sum(reps) >= 1\n}\n\ntemplate \"c\" {\n    title \"C\"\n    window 2026-02-30 to 2026-08-31\n    goal count(workouts where weekday == \"sun\") >= 1 furlong\n}\n";
    let parsed = rules_dsl::parse(src);
    let got: Vec<(Code, usize)> = parsed
        .diagnostics
        .iter()
        .map(|d| (d.code, rules_dsl::locate(src, d.span).unwrap().line))
        .collect();
    assert_eq!(
        got,
        vec![
            (Code::E0002, 1), // no title (the misspelt one does not count)
            (Code::E0001, 2), // titel
            (Code::E0001, 4), // `>`
            (Code::E0003, 15),
            (Code::E0001, 16), // quoted weekday
            (Code::E0001, 16), // unknown unit
        ]
    );
    let ids: Vec<&str> = parsed.decls.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, vec!["b"]);
}

#[test]
fn text_outside_declarations() {
    let src = format!("chalenge \"x\" {{}}\n{}", with_goal("count(workouts) >= 1"));
    let ds = diagnostics(&src);
    assert_eq!(ds.len(), 1);
    assert_eq!(
        ds[0].message,
        "expected a declaration (`challenge` or `template`), found `chalenge`"
    );
    assert_eq!(ds[0].help.as_deref(), Some("did you mean `challenge`?"));
    let src = format!("{}garbage\n", with_goal("count(workouts) >= 1"));
    let ds = diagnostics(&src);
    assert_eq!(
        ds[0].message,
        "expected the start of a new `challenge` or `template`, found `garbage`"
    );
    let ds = diagnostics("  // nothing here\n");
    assert_eq!(ds[0].message, "the file holds no declaration");
}

#[test]
fn the_end_of_the_file_is_pointed_at_after_the_last_token() {
    let src = format!("{HEAD}    goal all {{\n        sum(reps) >= 30\n\n\n");
    let ds = diagnostics(&src);
    assert_eq!(
        ds[0].message,
        "expected `}` or a goal such as `all {` or `sum(...) >= 30`, found the end of the file"
    );
    let loc = rules_dsl::locate(&src, ds[0].span).unwrap();
    assert_eq!((loc.line, loc.column), (5, 24));
}
