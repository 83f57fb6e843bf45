//! grammar tests.
