//! Heap bytes held by one idle, established tlsferry-core connection: a counting global
//! allocator measures the live bytes that dropping the client frees, after the handshake
//! and a small exchange have been drained (the server side is freed first).
//!
//! Run: `cargo bench -p tlsferry-tests --bench idle_memory`.

use rustls::version::{TLS12, TLS13};
use tlsferry_tests::counting::{live, Counting};
use tlsferry_tests::pair::{client_config, server_config, Pair};
use tlsferry_tests::pki::{KeyKind, TestPki};

#[global_allocator]
static A: Counting = Counting;

fn main() {
    println!("| idle established connection (after handshake + 16 KiB each way) | heap bytes held by the client |");
    println!("|---|---|");
    for (label, v, key) in [
        ("TLS 1.3, ECDSA P-256 chain", &TLS13, KeyKind::EcdsaP256),
        ("TLS 1.2, ECDSA P-256 chain", &TLS12, KeyKind::EcdsaP256),
        ("TLS 1.3, RSA-2048 chain", &TLS13, KeyKind::Rsa2048),
    ] {
        let pki = TestPki::new(key);
        let cfg = client_config(&pki).build().unwrap();
        let server = server_config(&pki.server, &[v], &[], None);
        let mut pair = Pair::new(&cfg, server, "localhost").unwrap();
        pair.handshake().unwrap();
        pair.client.send(&[7u8; 16 * 1024]).unwrap();
        pair.run().unwrap();
        pair.server_send(&[9u8; 16 * 1024]);
        pair.run().unwrap();
        // Keep only the client: the server, events and test buffers are dropped here.
        let client = {
            let Pair { client, .. } = pair;
            client
        };
        // What the client holds is exactly what dropping it frees.
        let with_client = live();
        let own = client.buffered_capacity();
        drop(client);
        let held = with_client - live();
        println!(
            "| {label} | {held} B ({:.1} KiB; own buffers {} B) |",
            held as f64 / 1024.0,
            own
        );
    }
}
