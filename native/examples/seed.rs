//! The seed's Python script in Rust: connect to www.example.com:443 with the default
//! context (Mozilla roots, host-name check, certificate required), send
//! `Hello, World!`, print the reply.
//!
//! ```sh
//! cargo run -p tlsferry --example seed [HOST [PORT]]
//! ```

use std::io::{Read, Write};

fn main() -> Result<(), tlsferry::Error> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "www.example.com".into());
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(443);

    let config = tlsferry::Config::builder().build()?;
    let mut tls = tlsferry::connect((host.as_str(), port), &host, &config)?;
    if let Some(info) = tls.info() {
        eprintln!(
            "{} {} ({})",
            info.version, info.cipher_suite, info.server_name
        );
    }
    tls.write_all(b"Hello, World!")?;
    let mut reply = Vec::new();
    // Ok only after the server's close_notify; a hang-up without it is an error.
    tls.read_to_end(&mut reply)?;
    print!("{}", String::from_utf8_lossy(&reply));
    Ok(())
}
