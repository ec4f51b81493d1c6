//! `tlsferry demo --web`: the whole browser path on one machine, offline. It generates a CA,
//! starts the demo TLS server ([`crate::demo_server`]) with a certificate from it, a
//! [`bridge`](crate::bridge) allowed to reach only that server and only from this page,
//! and a small static HTTP server for the page (`wasm/www/`) and the npm package
//! (`wasm/js/`, `wasm/pkg/`). The page learns the bridge URL and the CA from
//! `demo-config.json`.
//!
//! ```text
//! tlsferry demo --web [--port 8000] [--dir PATH/TO/wasm]
//! ```

use crate::json::Json;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::bridge::{Bridge, BridgeOptions};
use crate::demo_server::{Behaviour, DemoServer};
use crate::pki::{KeyKind, TestPki};

/// Help for `tlsferry demo --web`.
pub const HELP: &str = "usage: tlsferry demo --web [--port PORT] [--dir PATH]

Serves the browser demo on http://127.0.0.1:PORT/ (default 8000; 0 picks a free port)
with a WebSocket bridge and a local TLS server whose CA is generated at startup, so the
whole path works offline. --dir is the wasm/ directory of the source tree (the default
is the one this binary was built from); build its package first with wasm/build.sh.";

/// Settings of the web demo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebDemoOptions {
    /// HTTP port on 127.0.0.1 (0: a free one).
    pub port: u16,
    /// The `wasm/` directory holding `www/`, `js/` and `pkg/`.
    pub dir: PathBuf,
}

impl Default for WebDemoOptions {
    /// Port 8000 and the `wasm/` directory of the source tree this binary was built from.
    fn default() -> Self {
        WebDemoOptions {
            port: 8000,
            dir: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wasm")),
        }
    }
}

/// Runs `tlsferry demo --web` and returns the process exit code.
pub fn cli(opts: &WebDemoOptions) -> ExitCode {
    match WebDemo::start(opts) {
        Ok(demo) => {
            println!("serving {}", demo.url());
            println!(
                "  page + package from {}\n  bridge           {}  (allows only {})\n  TLS server       {}  (certificate for localhost from a CA made just now)\n\nOpen {} in a browser and press Connect. Ctrl-C stops.",
                opts.dir.display(),
                demo.bridge_url,
                demo.target,
                demo.target,
                demo.url()
            );
            let _ = io::stdout().flush();
            demo.serve_forever();
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tlsferry demo --web: {e}");
            ExitCode::from(1)
        }
    }
}

/// A running web demo: page server, bridge and TLS server.
#[derive(Debug)]
pub struct WebDemo {
    listener: TcpListener,
    addr: SocketAddr,
    bridge_url: String,
    target: String,
    site: Arc<Site>,
    _server: DemoServer,
    _bridge: crate::bridge::BridgeHandle,
}

#[derive(Debug)]
struct Site {
    dir: PathBuf,
    config_json: String,
}

impl WebDemo {
    /// Generates the PKI and starts the TLS server, the bridge and the page server.
    pub fn start(opts: &WebDemoOptions) -> io::Result<WebDemo> {
        let pkg = opts.dir.join("pkg").join("tlsferry_wasm_bg.wasm");
        if !opts.dir.join("www").join("index.html").is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} has no www/index.html (use --dir PATH/TO/wasm)",
                    opts.dir.display()
                ),
            ));
        }
        if !pkg.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!(
                    "{} is missing: build the package first with wasm/build.sh",
                    pkg.display()
                ),
            ));
        }
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, opts.port))?;
        let addr = listener.local_addr()?;

        let pki = TestPki::new(KeyKind::EcdsaP256);
        let server = DemoServer::start(&pki.server, Behaviour::Greet)?;
        let target = format!("127.0.0.1:{}", server.port());

        let mut bo = BridgeOptions::new(&[&target]);
        bo.listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        bo.allow_origins = vec![
            format!("http://127.0.0.1:{}", addr.port()),
            format!("http://localhost:{}", addr.port()),
        ];
        bo.max_connections = Some(16);
        bo.idle_timeout = Duration::from_secs(60);
        let bridge = Bridge::bind(bo)?.spawn();
        let bridge_url = bridge.url();

        let config_json = Json::obj()
            .with("bridgeUrl", Json::str(bridge_url.as_str()))
            .with("serverName", Json::str("localhost"))
            .with("target", Json::str(target.as_str()))
            .with("caPem", Json::str(pki.root.pem.as_str()))
            .render();
        Ok(WebDemo {
            listener,
            addr,
            bridge_url,
            target,
            site: Arc::new(Site {
                dir: opts.dir.clone(),
                config_json,
            }),
            _server: server,
            _bridge: bridge,
        })
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Serves the page until the process ends.
    pub fn serve_forever(self) {
        for stream in self.listener.incoming() {
            let Ok(stream) = stream else { continue };
            let site = self.site.clone();
            let _ = thread::Builder::new()
                .name("tlsferry-webdemo-http".into())
                .spawn(move || {
                    let _ = serve_http(stream, &site);
                });
        }
    }
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        Some("png") => "image/png",
        Some("ts") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Maps a request path to a file under `www/`, `js/` or `pkg/` (nothing else, no `..`).
fn resolve(dir: &Path, path: &str) -> Option<PathBuf> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let rel = path.trim_start_matches('/');
    let rel = if rel.is_empty() || rel == "www" || rel == "www/" {
        "www/index.html"
    } else {
        rel
    };
    let rel = Path::new(rel);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let top = rel.components().next()?.as_os_str().to_str()?;
    if !matches!(top, "www" | "js" | "pkg") {
        return None;
    }
    let full = dir.join(rel);
    full.is_file().then_some(full)
}

fn respond(stream: &mut TcpStream, status: &str, ctype: &str, body: &[u8]) -> io::Result<()> {
    write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    stream.write_all(body)
}

fn serve_http(mut stream: TcpStream, site: &Site) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.by_ref().take(8192).read_line(&mut line)?;
    // Skip the headers (bounded).
    let mut header = String::new();
    for _ in 0..100 {
        header.clear();
        if reader.by_ref().take(8192).read_line(&mut header)? == 0 || header == "\r\n" {
            break;
        }
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            "405 Method Not Allowed",
            "text/plain",
            b"GET only\n",
        );
    }
    // The page lives at /www/ so that its relative import ../js/ works with any server.
    if path == "/" {
        write!(
            stream,
            "HTTP/1.1 302 Found\r\nLocation: /www/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    if path.trim_start_matches('/').trim_start_matches("www/") == "demo-config.json" {
        return respond(
            &mut stream,
            "200 OK",
            "application/json",
            site.config_json.as_bytes(),
        );
    }
    match resolve(&site.dir, path) {
        Some(file) => {
            let body = std::fs::read(&file)?;
            respond(&mut stream, "200 OK", content_type(&file), &body)
        }
        None => respond(&mut stream, "404 Not Found", "text/plain", b"not found\n"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolve_stays_inside_the_three_directories() {
        let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../wasm"));
        assert!(resolve(dir, "/www/index.html").is_some());
        assert!(resolve(dir, "/www/").is_some());
        assert!(resolve(dir, "/js/index.js?x=1").is_some());
        assert_eq!(resolve(dir, "/../Cargo.toml"), None);
        assert_eq!(resolve(dir, "/www/../../Cargo.toml"), None);
        assert_eq!(resolve(dir, "/Cargo.toml"), None);
        assert_eq!(resolve(dir, "/src/lib.rs"), None);
        assert_eq!(resolve(dir, "//etc/passwd"), None);
    }
}
