//! The challenge DSL. Being written.
