//! `tlsferry demo`: the seed's exchange, offline. Generates a throw-away CA, starts a
//! local TLS server ([`DemoServer`]) on 127.0.0.1, then runs `tlsferry connect` against
//! it — the same code path — trusting only that CA, and narrates each step on stderr.
//! The reply goes to stdout.

use std::process::ExitCode;

use crate::args::ConnectArgs;
use crate::connect::{self, Style};
use crate::demo_server::{Behaviour, DemoServer};
use crate::pki::{KeyKind, TempDir, TestPki};
use crate::report::{say, Exit};

/// Help for `tlsferry demo`.
pub const HELP: &str = "\
tlsferry demo: the seed's exchange, offline

USAGE:
  tlsferry demo [OPTIONS]
  tlsferry demo --web [ARGS]     the browser demo (see `tlsferry demo --web --help`)

Generates a throw-away CA (root -> intermediate -> leaf for localhost), starts a TLS
server on 127.0.0.1 with it, and runs `tlsferry connect 127.0.0.1:PORT --cafile ROOT
--servername localhost --send 'Hello, World!'` against it, narrating each step on
stderr. The server's reply is printed on stdout.

OPTIONS (as for `tlsferry connect`):
  --send TEXT | --send-file PATH   what to send (default: Hello, World!)
  --tls1.2 | --tls1.3              allow only that version
  --alpn LIST  --timeout SECS  --show-certs  --json  --output PATH  --keylog PATH
";

/// Runs `tlsferry demo` with parsed arguments (the target, trust and name are the
/// demo's own).
pub fn run(mut a: ConnectArgs) -> ExitCode {
    say!("tlsferry demo: the seed's exchange against a local TLS server, offline");
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let leaf = pki
        .server
        .chain_der
        .first()
        .map(|c| tlsferry_core::CertSummary::from_der(c));
    say!(
        "==> generated a throw-away PKI: root {:?} -> intermediate -> server certificate for {}",
        tlsferry_core::CertSummary::from_der(&pki.root.der).subject,
        leaf.map(|l| l.names.join(", ")).unwrap_or_default()
    );
    let server = match DemoServer::start(&pki.server, Behaviour::Greet) {
        Ok(s) => s,
        Err(e) => {
            say!("tlsferry: cannot start the demo server on 127.0.0.1: {e}");
            return ExitCode::from(Exit::Network.code());
        }
    };
    say!(
        "==> started a TLS server (rustls with tlsferry's pure-Rust provider) on 127.0.0.1:{}",
        server.port()
    );
    let dir = TempDir::new("tlsferry-demo");
    let root = dir.write("root.pem", &pki.root.pem);
    say!(
        "==> the client trusts only that root (--cafile {}), and verifies the name \"localhost\"",
        root.display()
    );
    a.host = "127.0.0.1".into();
    a.port = server.port();
    a.servername = Some("localhost".into());
    a.cafile = Some(root);
    connect::run(&a, Style::Narrate)
}
