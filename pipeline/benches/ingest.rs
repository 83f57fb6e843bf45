//! Benchmarks of the pipeline (filled in below).

fn main() {}
