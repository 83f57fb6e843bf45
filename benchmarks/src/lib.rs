//! Benchmarks of the challenge evaluator against the engines users would pick instead.
