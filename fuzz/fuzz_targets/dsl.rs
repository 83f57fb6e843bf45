//! DSL text → parse → check → format → parse again: never a panic, and the formatted text
//! parses to the same trees (the formatter keeps meaning) and formats to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rules_core::check::{self, Layout};
use rules_core::Catalog;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = rules_dsl::parse(text);
    let catalog = Catalog::builtin();
    let _ = check::check_file(&parsed.decls, &catalog, Layout::Single);
    let _ = rules_dsl::render(&parsed.diagnostics, text, "fuzz.chal", false);
    for d in &parsed.diagnostics {
        let _ = rules_dsl::locate(text, d.span);
        let _ = rules_dsl::utf16_range(text, d.span);
    }
    if let Ok(formatted) = rules_dsl::format(text) {
        let again = rules_dsl::parse(&formatted);
        assert!(again.diagnostics.is_empty(), "formatted text does not parse:\n{formatted}");
        assert_eq!(again.decls, parsed.decls, "formatting changed the meaning:\n{formatted}");
        assert_eq!(rules_dsl::format(&formatted).as_deref(), Ok(formatted.as_str()), "format is not idempotent");
        let printed = rules_dsl::print_file(&parsed.decls);
        assert_eq!(rules_dsl::parse(&printed).decls, parsed.decls, "print does not round-trip:\n{printed}");
    }
});
