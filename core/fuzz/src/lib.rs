//! Fuzz drivers for tlsferry-core; the targets in `fuzz_targets/` are one-line wrappers.
pub mod drive;
