//! A server with a certificate from a private CA, and a client certificate: trust only
//! the CA's root, verify the name the certificate must cover, present our own chain.
//!
//! ```sh
//! cargo run -p tlsferry --example private_ca -- 10.0.0.5:8443 api.internal ca.pem \
//!     [client.pem client.key]
//! ```

use std::io::{Read, Write};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [addr, name, ca, rest @ ..] = args.as_slice() else {
        eprintln!("usage: private_ca ADDR:PORT SERVER_NAME CA.pem [CLIENT.pem CLIENT.key]");
        std::process::exit(2);
    };
    let mut builder = tlsferry::Config::builder()
        .root_certificates_pem(&std::fs::read(ca)?) // only this CA, not the Mozilla roots
        .alpn(["http/1.1"])
        .handshake_timeout(Some(Duration::from_secs(5)))
        .idle_timeout(Some(Duration::from_secs(30)));
    if let [cert, key] = rest {
        builder = builder.client_auth_pem(&std::fs::read(cert)?, &std::fs::read(key)?);
    }
    let config = builder.build()?;

    match tlsferry::connect(addr.as_str(), name, &config) {
        Ok(mut tls) => {
            tls.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut reply = Vec::new();
            tls.read_to_end(&mut reply)?;
            println!("{}", String::from_utf8_lossy(&reply));
            Ok(())
        }
        Err(e) => {
            // Certificate failures explain themselves, with the chain the server sent.
            if let Some(cert) = e.tls().and_then(tlsferry::TlsError::certificate) {
                eprint!("{}", cert.report());
            }
            Err(e.into())
        }
    }
}
