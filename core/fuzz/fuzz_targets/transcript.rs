//! The transcript parser (`tlsferry_core::testing`), its printer, and replay.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tlsferry_core_fuzz::drive::transcript(data));
