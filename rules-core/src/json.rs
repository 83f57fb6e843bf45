//! Reading JSON trees. Being written.
