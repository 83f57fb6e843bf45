//! The `challenge` command line. Being written.
fn main() {}
