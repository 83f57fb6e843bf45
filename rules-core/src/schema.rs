//! The JSON Schema of the syntax tree, generated from the Rust types (schemars).
//!
//! The committed copy at `schema/challenge-tree.schema.json` is what other teams build against;
//! a test fails when the types and the committed schema drift apart
//! (`UPDATE_SCHEMA=1 cargo test -p rules-core schema` rewrites it).

use crate::tree::Challenge;

/// The JSON Schema (draft 2020-12) of one challenge or template tree.
pub fn tree_schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(Challenge).to_value();
    if let Some(map) = schema.as_object_mut() {
        map.insert(
            "title".into(),
            "Challenge syntax tree, version 1 (language.md §9)".into(),
        );
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMITTED: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../schema/challenge-tree.schema.json"
    );

    #[test]
    fn the_committed_schema_is_current() {
        let text = serde_json::to_string_pretty(&tree_schema()).unwrap() + "\n";
        if std::env::var_os("UPDATE_SCHEMA").is_some() {
            std::fs::write(COMMITTED, &text).unwrap();
        }
        let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
        assert!(
            committed == text,
            "schema/challenge-tree.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test -p rules-core schema`"
        );
    }

    #[test]
    fn the_schema_names_every_node_kind() {
        let text = tree_schema().to_string();
        for kind in [
            "all",
            "any",
            "at_least",
            "every",
            "on",
            "streak",
            "one_workout",
            "metric",
            "and",
            "or",
            "not",
            "compare",
            "in",
            "binary",
            "call",
            "profile",
        ] {
            assert!(text.contains(&format!("\"{kind}\"")), "{kind}");
        }
    }
}
