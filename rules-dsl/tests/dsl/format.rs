//! format tests.
