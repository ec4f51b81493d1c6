//! Writes the Mozilla roots (webpki-roots, the version in Cargo.lock) as trust-anchor data
//! to `$OUT_DIR/tlsferry_roots.wasm`; wasm/build.sh copies it into the npm package as
//! `pkg/tlsferry_roots.wasm`. The main module has no roots compiled in: the package loads
//! that file only for connections that trust the built-in roots (`src/roots.rs`).
//!
//! The file is a WebAssembly module with no code and one custom section,
//! `tlsferry_roots`, that holds the data: so every runtime and bundler takes it the way it
//! takes the main module (bundlers copy it for `new URL("….wasm", import.meta.url)`,
//! Cloudflare and workerd import it as a compiled module), and the loader reads the
//! section (`WebAssembly.Module.customSections`, or from the bytes).
//!
//! The format is `tlsferry_core::encode_trust_anchors`' (`TFTA`, version 1, the number of
//! anchors, then subject, key and name constraints of each as length + bytes, numbers in
//! unsigned LEB128); `tlsferry_core::decode_trust_anchors` checks it when the module
//! loads the file. It is written here, by a build script with no dependency on the core,
//! so that building the wasm does not build the core for the host too.

use std::io::Write;
use std::path::PathBuf;

fn leb128(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn main() {
    let roots = webpki_roots::TLS_SERVER_ROOTS;
    let mut out = b"TFTA\x01".to_vec();
    leb128(&mut out, roots.len());
    for a in roots {
        let nc = a.name_constraints.as_ref().map_or(&[][..], |n| n.as_ref());
        for field in [a.subject.as_ref(), a.subject_public_key_info.as_ref(), nc] {
            leb128(&mut out, field.len());
            out.extend_from_slice(field);
        }
    }
    // "\0asm", version 1, then custom section 0: size, name, payload.
    let name = b"tlsferry_roots";
    let mut section = Vec::new();
    leb128(&mut section, name.len());
    section.extend_from_slice(name);
    section.extend_from_slice(&out);
    let mut module = b"\0asm\x01\0\0\0\0".to_vec();
    leb128(&mut module, section.len());
    module.extend_from_slice(&section);
    let dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::File::create(dir.join("tlsferry_roots.wasm"))
        .and_then(|mut f| f.write_all(&module))
        .expect("writing tlsferry_roots.wasm");
    println!("cargo::rerun-if-changed=build.rs");
}
