//! rustc-style rendering of diagnostics, and spans as lines, columns and UTF-16 offsets.

use rules_core::span::Span;
use rules_core::{Code, Diagnostic};

#[test]
fn renders_like_rustc() {
    let source = "challenge \"x\" {\n    title \"T\"\n    window 2026-08-01 to 2026-08-31\n    goal all {\n        sum(duration of cardio) >= 20 kg\n    }\n}\n";
    let start = source.find("20 kg").unwrap();
    let d = Diagnostic::new(
        Code::E0007,
        "`duration` is a duration but `20 kg` is a mass",
        Span::new(start, start + 5),
        "goal.goals[0].target",
    )
    .with_help("write a duration such as `20 min`");
    let expected = "\
error[E0007]: `duration` is a duration but `20 kg` is a mass
  --> file.chal:5:36
   |
 5 |         sum(duration of cardio) >= 20 kg
   |                                    ^^^^^
   |
   = help: write a duration such as `20 min`

";
    assert_eq!(
        rules_dsl::render(&[d], source, "file.chal", false),
        expected
    );
}

#[test]
fn warnings_without_help_and_wide_line_numbers() {
    let mut source = "\n".repeat(11);
    source.push_str("\ton 40 days {\n");
    let start = source.find("40").unwrap();
    let d = Diagnostic::new(
        Code::W0001,
        "too many days",
        Span::new(start, start + 2),
        "",
    );
    let expected = "\
warning[W0001]: too many days
   --> f.chal:12:5
    |
 12 |     on 40 days {
    |        ^^
";
    assert_eq!(
        rules_dsl::render(&[d], &source, "f.chal", false),
        format!("{expected}\n")
    );
}

#[test]
fn json_diagnostics_name_their_path() {
    let d = Diagnostic::new(Code::E0007, "wrong", Span::NONE, "goal.goals[1].target")
        .with_help("fix it");
    let out = rules_dsl::render(&[d], "", "tree.json", false);
    assert_eq!(
        out,
        "error[E0007]: wrong\n  --> tree.json at goal.goals[1].target\n   = help: fix it\n\n"
    );
}

#[test]
fn colour_only_when_asked() {
    let src = crate::with_goal("sum(reps) > 1");
    let ds = rules_dsl::parse(&src).diagnostics;
    assert!(rules_dsl::render(&ds, &src, "f", true).contains("\x1b["));
    assert!(!rules_dsl::render(&ds, &src, "f", false).contains('\x1b'));
}

#[test]
fn spans_that_do_not_fit_render_without_a_snippet() {
    let d = Diagnostic::new(Code::E0001, "odd", Span::new(100, 200), "");
    assert_eq!(
        rules_dsl::render(&[d], "short", "f", false),
        "error[E0001]: odd\n  --> f\n\n"
    );
}

#[test]
fn locate_counts_characters_and_utf16_counts_code_units() {
    let source = "title \"é😀\"\n  x";
    let start = source.find('x').unwrap();
    let loc = rules_dsl::locate(source, Span::new(start, start + 1)).unwrap();
    assert_eq!(
        (loc.line, loc.column, loc.end_line, loc.end_column),
        (2, 3, 2, 4)
    );
    let s = source.find('"').unwrap();
    let e = source.rfind('"').unwrap() + 1;
    let loc = rules_dsl::locate(source, Span::new(s, e)).unwrap();
    assert_eq!((loc.column, loc.end_column), (7, 11));
    // `"` `é` (1 unit) `😀` (2 units) `"`.
    assert_eq!(
        rules_dsl::utf16_range(source, Span::new(s, e)),
        Some((6, 11))
    );
    assert_eq!(
        rules_dsl::utf16_range(source, Span::new(start, start + 1)),
        Some((14, 15))
    );
    // Inside a character, out of range, or no span: nothing.
    assert_eq!(rules_dsl::utf16_range(source, Span::new(s + 2, e)), None);
    assert_eq!(rules_dsl::locate(source, Span::new(s + 2, e)), None);
    assert_eq!(rules_dsl::locate(source, Span::new(0, 999)), None);
    assert_eq!(rules_dsl::locate(source, Span::NONE), None);
    assert_eq!(rules_dsl::utf16_range(source, Span::NONE), None);
}

#[test]
fn carets_line_up_under_wide_characters() {
    // A CJK title and an emoji before the error: each takes two columns in a terminal.
    let source = "challenge \"x\" {\n    title \"跑步 🏃\" oops\n}\n";
    let start = source.find("oops").unwrap();
    let d = Diagnostic::new(
        Code::E0001,
        "unexpected `oops`",
        Span::new(start, start + 4),
        "",
    );
    let out = rules_dsl::render(&[d], source, "f.chal", false);
    let expected = "\
error[E0001]: unexpected `oops`
  --> f.chal:2:18
   |
 2 |     title \"跑步 🏃\" oops
   |                     ^^^^
";
    assert_eq!(out, format!("{expected}\n"));
}
