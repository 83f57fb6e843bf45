//! Snapshot tests over `tests/fixtures/*.chal`: a file that parses is snapshotted formatted (and
//! must keep its trees and format idempotently); one that does not, as rendered diagnostics.

use crate::json;

#[test]
fn fixtures() {
    insta::glob!("../fixtures", "*.chal", |path| {
        let source = std::fs::read_to_string(path).unwrap();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let parsed = rules_dsl::parse(&source);
        if name.starts_with("ok-") {
            assert!(
                parsed.diagnostics.is_empty(),
                "{name}: {:#?}",
                parsed.diagnostics
            );
            let formatted = rules_dsl::format(&source).unwrap();
            let again = rules_dsl::parse(&formatted);
            let trees = |p: &rules_dsl::Parsed| p.decls.iter().map(json).collect::<Vec<_>>();
            assert_eq!(
                trees(&again),
                trees(&parsed),
                "{name}: formatting changed the trees"
            );
            assert_eq!(
                rules_dsl::format(&formatted).unwrap(),
                formatted,
                "{name}: not idempotent"
            );
            insta::assert_snapshot!(formatted);
        } else {
            assert!(!parsed.diagnostics.is_empty(), "{name}: expected errors");
            insta::assert_snapshot!(rules_dsl::render(
                &parsed.diagnostics,
                &source,
                &name,
                false
            ));
        }
    });
}
