//! The WASM module's JSON API — the front door `rules_front` and `rules_wasm::live`, what every export of
//! the module calls with the strings JavaScript passes — on input anyone can forge: never a
//! panic (a panic is a trap in the browser), every output serializes, and what the API promises
//! holds:
//!
//! - diagnostics of DSL text have 1-based lines and columns and UTF-16 offsets inside the text;
//! - `decompile` prints only text that parses back without errors; `format` is idempotent;
//! - `evaluate` gives progress in [0, 1] and record counts that add up (read = accepted +
//!   rejected);
//! - a `LiveSession` takes any events after a valid start and keeps progress in [0, 1].
//!
//! Input: sections separated by NUL bytes — `[selector][challenge] \0 workouts \0 users \0
//! asOf \0 event \0 event ...`. The selector byte picks how the arguments arrived: bit 0, the
//! challenge as a JSON value (else a string, DSL or JSON text); bits 1–2 and 3–4, the workouts
//! and users as JSON Lines (0), a JSON array (1) or absent (2, 3). `seed.sh` writes seeds in
//! this form from the fixtures.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules_core::Severity;
use rules_front::{self as api, JsonDiagnostic, RecordsInput, TreeInput};
use rules_wasm::live::Live;

fn records(form: u8, text: &str) -> RecordsInput<'_> {
    match form & 3 {
        0 => RecordsInput::Lines(text),
        1 => RecordsInput::Array(text),
        _ => RecordsInput::None,
    }
}

fn check_located(diagnostics: &[JsonDiagnostic], text: &str) {
    let utf16_len = text.encode_utf16().count();
    for d in diagnostics {
        let utf16 = d.utf16.map(|u| (u.utf16_start, u.utf16_end));
        if let Some((Some(start), Some(end))) = utf16 {
            assert!(start <= end && end <= utf16_len, "{d:?} outside {utf16_len} UTF-16 units");
        }
        assert!(d.line.is_none_or(|l| l >= 1) && d.column.is_none_or(|c| c >= 1), "{d:?}");
    }
}

fn serializes<T: serde::Serialize>(value: &T) {
    assert!(api::to_json(value).is_ok());
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut sections = text.split('\0');
    let head = sections.next().unwrap_or_default();
    let (selector, challenge) = match head.as_bytes().first() {
        Some(&b) if b.is_ascii() => (b, &head[1..]),
        _ => (0, head),
    };
    let workouts = sections.next().unwrap_or_default();
    let users = sections.next().unwrap_or_default();
    let as_of = sections.next().unwrap_or_default();
    let events: Vec<&str> = sections.collect();

    let tree = if selector & 1 == 1 {
        TreeInput::Json(challenge)
    } else {
        TreeInput::Text(challenge)
    };

    // parse / check / format / decompile.
    let parsed = api::parse(challenge);
    check_located(&parsed.diagnostics, challenge);
    serializes(&parsed);
    let checked = api::check(tree);
    serializes(&checked);
    let formatted = api::format(challenge);
    check_located(&formatted.diagnostics, challenge);
    if let Some(f) = &formatted.text {
        assert_eq!(api::format(f).text.as_deref(), Some(f.as_str()), "format is not idempotent");
    }
    let decompiled = api::decompile(tree);
    serializes(&decompiled);
    if let Some(dsl) = &decompiled.text {
        let back = api::parse(dsl);
        assert!(
            back.diagnostics.iter().all(|d| d.severity != Severity::Error),
            "decompiled text has errors: {:?}\n{dsl}",
            back.diagnostics
        );
    }

    // evaluate.
    let (workouts, users) = (records(selector >> 1, workouts), records(selector >> 3, users));
    if let Ok(evaluation) = api::evaluate(tree, workouts, users, as_of) {
        for report in [&evaluation.workouts, &evaluation.users] {
            assert_eq!(report.read, report.accepted + report.rejected.len());
        }
        for result in &evaluation.results {
            assert!((0.0..=1.0).contains(&result.progress), "{result:?}");
        }
        serializes(&evaluation);
    }

    // a live session.
    let Some((start, rest)) = events.split_first() else {
        return;
    };
    if let Ok(mut live) = Live::new(tree, workouts, as_of, start, users) {
        for event in rest.iter().take(64) {
            let update = live.push(event);
            assert!((0.0..=1.0).contains(&update.result.progress), "{update:?}");
            serializes(&update);
        }
        serializes(&live.current());
    }
});
