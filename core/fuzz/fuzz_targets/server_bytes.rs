//! Arbitrary server bytes, in arbitrary fragmentation, interleaved with ticks, EOF,
//! `send` and `close`, fed to a client after its real ClientHello.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tlsferry_core_fuzz::drive::server_bytes(data);
});
