//! Placeholder replaced in the benchmark step.
fn main() {}
