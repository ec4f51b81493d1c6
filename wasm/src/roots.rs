//! The Mozilla roots as data. The main module has no roots compiled in (tlsferry-core
//! without its `mozilla-roots` feature, so pages that pass `caPem` never download them;
//! `BENCHMARKS.md` has the size). The package ships them as `pkg/tlsferry_roots.wasm`
//! (written by `build.rs`), and `connect()` and `verifyChain()` hand that file to
//! [`set_mozilla_roots`] the first time a connection's options trust the built-in roots
//! (no `caPem`); applications that always pass `caPem` never load it. The replay module
//! (feature `replay`) has them compiled in.

use std::sync::OnceLock;

use tlsferry_core::{ConfigBuilder, ConfigError};
use wasm_bindgen::prelude::*;

use crate::convert;

/// The roots file's bytes, kept for the life of the module (the trust stores borrow them).
static MOZILLA_ROOTS: OnceLock<&'static [u8]> = OnceLock::new();

/// Whether the core was built with the roots compiled in (the replay module).
const COMPILED_IN: bool = cfg!(feature = "replay");

/// Takes the Mozilla roots (the `tlsferry_roots` section of `pkg/tlsferry_roots.wasm`) and
/// returns how many
/// roots they hold. `loadMozillaRoots()` calls it; once loaded, later calls change nothing.
#[wasm_bindgen(js_name = setMozillaRoots)]
pub fn set_mozilla_roots(data: Vec<u8>) -> Result<usize, JsValue> {
    if let Some(loaded) = MOZILLA_ROOTS.get() {
        return count(loaded).map_err(convert::config_error);
    }
    let n = count(&data).map_err(convert::config_error)?;
    let _ = MOZILLA_ROOTS.set(Box::leak(data.into_boxed_slice()));
    Ok(n)
}

fn count(data: &[u8]) -> Result<usize, ConfigError> {
    tlsferry_core::decode_trust_anchors(data).map(|anchors| anchors.len())
}

/// The builder with the built-in roots, when `needed` (no `caPem`, not `insecure`): an
/// error if they are not loaded yet.
pub fn with_builtin_roots(
    builder: ConfigBuilder,
    needed: bool,
) -> Result<ConfigBuilder, ConfigError> {
    match MOZILLA_ROOTS.get() {
        Some(data) => Ok(builder.builtin_roots(data)),
        None if !needed || COMPILED_IN => Ok(builder),
        None => Err(ConfigError::Unusable(
            "the Mozilla roots are not loaded: connect() and verifyChain() load them \
             (tlsferry_roots.wasm) when the options have no caPem; before new TlsClient() \
             without caPem, await loadMozillaRoots()"
                .into(),
        )),
    }
}
