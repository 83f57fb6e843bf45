//! Prints the benchmark table.
fn main() {}
