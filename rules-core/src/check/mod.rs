//! The checker (language.md §7). Being written.
