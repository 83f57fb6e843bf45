//! The evaluator (language.md §8). Being written.
