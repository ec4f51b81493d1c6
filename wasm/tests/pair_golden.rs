//! The in-memory `Pair` gives the same bytes in wasm as natively: the canonical
//! scenario's wire digest equals the golden one the native tests check
//! (`tests/tests/pair.rs`, `tests/data/pair-golden.txt`).

#![cfg(all(target_arch = "wasm32", feature = "replay"))]

use tlsferry_core::testing::{hex_encode, Pair, Scenario};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
fn canonical_scenario_matches_the_native_digest() {
    let mut p = Pair::new(Scenario::new()).unwrap();
    p.client.send(b"Hello, World!").unwrap();
    p.drive().unwrap();
    p.client.close().unwrap();
    p.drive().unwrap();
    let golden = include_str!("../../tests/data/pair-golden.txt");
    assert_eq!(hex_encode(&p.wire_digest()), golden.trim());
}
