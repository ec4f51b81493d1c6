//! PEM and configuration inputs: trust anchors, client certificate and key,
//! certificate summaries, the PEM encoder.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tlsferry_core_fuzz::drive::config_inputs(data));
