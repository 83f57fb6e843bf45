//! JSON paths of tree nodes, in the form of language.md §7 (`goal.goals[1].target`).
//!
//! Every diagnostic carries the path of its node relative to the declaration root (or, for a
//! file that is a JSON array, prefixed with `[i]`). Keys are exactly those of the JSON form of
//! §9. This module only builds strings; it never looks at the tree.

use std::fmt;

/// A JSON path under construction. Cheap enough to clone: trees are at most 64 levels deep.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Path(String);

impl Path {
    /// The root of a declaration: empty, or `[i]` inside a JSON array.
    pub(crate) fn root(index: Option<usize>) -> Path {
        match index {
            Some(i) => Path(format!("[{i}]")),
            None => Path(String::new()),
        }
    }

    /// The path of `key` under this node (`goal` → `goal.target`).
    pub(crate) fn key(&self, key: &str) -> Path {
        if self.0.is_empty() {
            Path(key.to_owned())
        } else {
            Path(format!("{}.{key}", self.0))
        }
    }

    /// The path of element `index` of this array (`goals` → `goals[1]`).
    pub(crate) fn index(&self, index: usize) -> Path {
        Path(format!("{}[{index}]", self.0))
    }

    /// The path as text.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_use_the_form_of_the_spec() {
        let root = Path::root(None);
        assert_eq!(
            root.key("goal")
                .key("goals")
                .index(1)
                .key("target")
                .as_str(),
            "goal.goals[1].target"
        );
        assert_eq!(
            root.key("params")
                .index(2)
                .key("expr")
                .key("args")
                .index(0)
                .as_str(),
            "params[2].expr.args[0]"
        );
        assert_eq!(Path::root(Some(3)).key("id").as_str(), "[3].id");
        assert_eq!(
            Path::root(Some(0)).key("window").key("end").to_string(),
            "[0].window.end"
        );
    }
}
