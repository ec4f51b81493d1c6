//! Real TLS servers on 127.0.0.1 for interop tests: `openssl s_server` ([`OpenSslServer`])
//! and a Python `ssl` server ([`PythonTlsServer`], script in `tests/servers/`).
//!
//! Each binds port 0 (the kernel picks a free port), is waited for until it accepts
//! (with a timeout), keeps its combined stdout+stderr for diagnostics, and is killed
//! when dropped. Certificates come from [`crate::pki`] and are written to a
//! [`TempDir`] that lives as long as the server.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::pki::{Leaf, TempDir};

/// How long a server may take to start listening.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// A port on 127.0.0.1 where nothing listens (bound once, then released).
pub fn refused_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// A PEM string holding `leaf`'s intermediates (the chain without the leaf).
pub fn intermediates_pem(leaf: &Leaf) -> String {
    leaf.chain_der
        .iter()
        .skip(1)
        .map(|c| tlsferry_core::cert::to_pem(c))
        .collect()
}

/// `key_pem` in a form OpenSSL 3.0 reads: ring writes Ed25519 keys as PKCS#8 v2 (with the
/// public key), which OpenSSL 3.0 refuses, so those are rewritten as PKCS#8 v1.
/// Other keys are returned unchanged.
pub fn key_pem_for_openssl(key_pem: &str) -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::PrivatePkcs8KeyDer;
    // SEQUENCE { INTEGER 1, SEQUENCE { OID 1.3.101.112 }, OCTET STRING { OCTET STRING (32) } ...
    const V2_ED25519: &[u8] = &[
        0x30, 0x51, 0x02, 0x01, 0x01, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    const V1_ED25519: &[u8] = &[
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20,
    ];
    let Ok(der) = PrivatePkcs8KeyDer::from_pem_slice(key_pem.as_bytes()) else {
        return key_pem.into();
    };
    let der = der.secret_pkcs8_der();
    match der.strip_prefix(V2_ED25519) {
        Some(rest) if rest.len() >= 32 => {
            let mut v1 = V1_ED25519.to_vec();
            v1.extend_from_slice(&rest[..32]);
            tlsferry_core::cert::to_pem(&v1).replace("CERTIFICATE", "PRIVATE KEY")
        }
        _ => key_pem.into(),
    }
}

/// Combined output of a child process, collected by reader threads.
#[derive(Debug, Default)]
pub struct Captured {
    text: Mutex<Vec<u8>>,
    changed: Condvar,
}

impl Captured {
    /// Starts threads that copy `readers` into a new capture, line by line.
    fn spawn(readers: Vec<Box<dyn Read + Send>>) -> Arc<Captured> {
        let cap = Arc::new(Captured::default());
        for r in readers {
            let cap = cap.clone();
            thread::spawn(move || {
                let mut r = BufReader::new(r);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            cap.text.lock().unwrap().extend_from_slice(&line);
                            cap.changed.notify_all();
                        }
                    }
                }
            });
        }
        cap
    }

    /// Everything captured so far (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.text.lock().unwrap()).into_owned()
    }

    /// Waits until `pred` holds for the captured text, or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, mut pred: impl FnMut(&str) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = self.text.lock().unwrap();
        loop {
            if pred(&String::from_utf8_lossy(&guard)) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self.changed.wait_timeout(guard, left).unwrap().0;
        }
    }
}

/// A child process killed (and reaped) on drop.
#[derive(Debug)]
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits for `pattern` followed by a port number in `cap` (e.g. `ACCEPT 127.0.0.1:`),
/// panicking with the output if the process exits or the timeout passes first.
fn wait_for_port(what: &str, child: &mut Child, cap: &Captured, pattern: &str) -> u16 {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    loop {
        let text = cap.text();
        if let Some(port) = text.lines().find_map(|l| {
            l.strip_prefix(pattern)
                .and_then(|rest| rest.trim().parse::<u16>().ok())
        }) {
            return port;
        }
        if let Ok(Some(status)) = child.try_wait() {
            // Give the reader threads a moment to collect the last words.
            cap.wait_for(Duration::from_millis(200), |_| false);
            panic!(
                "{what} exited before listening ({status}); output:\n{}",
                cap.text()
            );
        }
        if Instant::now() >= deadline {
            panic!(
                "{what} did not start listening within {STARTUP_TIMEOUT:?}; output:\n{}",
                cap.text()
            );
        }
        cap.wait_for(Duration::from_millis(100), |t| t.contains(pattern));
    }
}

/// True if coreutils' `stdbuf` is available.
fn has_stdbuf() -> bool {
    static HAS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *HAS.get_or_init(|| {
        Command::new("stdbuf")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    })
}

/// What `openssl s_server` does with a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpenSslMode {
    /// Interactive: prints what the client sends, sends what is written to its stdin
    /// (see [`OpenSslServer::send_line`]) and obeys one-letter commands (`k`, `K`, `R`, `Q`).
    Plain,
    /// `-www`: answers `GET /` with an HTML status page.
    Www,
    /// `-WWW`: answers `GET /name` with the file `name` from the server's directory
    /// (see [`OpenSslServerBuilder::file`]), byte-exact.
    Files,
    /// `-rev`: sends each received line back reversed.
    Rev,
}

/// Configures an [`OpenSslServer`].
#[derive(Debug)]
pub struct OpenSslServerBuilder {
    chain_der: Vec<Vec<u8>>,
    key_pem: String,
    client_ca: Option<(String, bool)>,
    version: Option<&'static str>,
    alpn: Option<String>,
    mode: OpenSslMode,
    naccept: Option<u32>,
    files: Vec<(String, Vec<u8>)>,
    keylog: bool,
    extra: Vec<String>,
}

impl OpenSslServerBuilder {
    /// Asks for a client certificate issued under the PEM root `ca_pem`;
    /// `required` refuses clients without one (`-Verify`), otherwise it is optional
    /// (`-verify`).
    pub fn client_ca(mut self, ca_pem: &str, required: bool) -> Self {
        self.client_ca = Some((ca_pem.into(), required));
        self
    }

    /// Only TLS 1.2.
    pub fn tls12(mut self) -> Self {
        self.version = Some("-tls1_2");
        self
    }

    /// Only TLS 1.3.
    pub fn tls13(mut self) -> Self {
        self.version = Some("-tls1_3");
        self
    }

    /// Offers ALPN protocols (comma-separated, e.g. `h2,http/1.1`).
    pub fn alpn(mut self, protocols: &str) -> Self {
        self.alpn = Some(protocols.into());
        self
    }

    /// What the server does with a connection (default [`OpenSslMode::Plain`]).
    pub fn mode(mut self, mode: OpenSslMode) -> Self {
        self.mode = mode;
        self
    }

    /// Exits after `n` connections (`-naccept`).
    pub fn naccept(mut self, n: u32) -> Self {
        self.naccept = Some(n);
        self
    }

    /// Puts a file in the server's directory (served in [`OpenSslMode::Files`]).
    pub fn file(mut self, name: &str, contents: impl Into<Vec<u8>>) -> Self {
        self.files.push((name.into(), contents.into()));
        self
    }

    /// Writes the server's TLS secrets to `keylog.txt` in its directory
    /// (see [`OpenSslServer::keylog`]).
    pub fn keylog(mut self) -> Self {
        self.keylog = true;
        self
    }

    /// Appends raw `s_server` arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.extra.extend(args.into_iter().map(Into::into));
        self
    }

    /// Starts the server and waits until it accepts connections.
    /// Panics (with the server's output) if it does not start.
    pub fn start(self) -> OpenSslServer {
        let dir = TempDir::new("tlsferry-openssl");
        let leaf = self.chain_der.first().expect("a certificate");
        let cert = dir.write("cert.pem", tlsferry_core::cert::to_pem(leaf));
        let key = dir.write("key.pem", key_pem_for_openssl(&self.key_pem));
        // s_server reports some events (`SSL_do_handshake -> 1` after a `k`/`K`/`R`
        // command) with C stdio, which is block-buffered on a pipe: line-buffer it so
        // tests can wait for them.
        let mut cmd = if has_stdbuf() {
            let mut c = Command::new("stdbuf");
            c.args(["-oL", "-eL", "openssl"]);
            c
        } else {
            Command::new("openssl")
        };
        cmd.current_dir(dir.path())
            .arg("s_server")
            .args(["-accept", "127.0.0.1:0"])
            .arg("-cert")
            .arg(&cert)
            .arg("-key")
            .arg(&key)
            // Keep reading stdin commands even when stdin is not a terminal.
            .arg("-ign_eof");
        if self.chain_der.len() > 1 {
            let chain: String = self
                .chain_der
                .iter()
                .skip(1)
                .map(|c| tlsferry_core::cert::to_pem(c))
                .collect();
            cmd.arg("-cert_chain").arg(dir.write("chain.pem", chain));
        }
        if let Some((ca, required)) = &self.client_ca {
            let ca = dir.write("client-ca.pem", ca);
            cmd.arg(if *required { "-Verify" } else { "-verify" })
                .arg("4")
                .arg("-CAfile")
                .arg(ca)
                .arg("-verify_return_error");
        }
        if let Some(v) = self.version {
            cmd.arg(v);
        }
        if let Some(alpn) = &self.alpn {
            cmd.args(["-alpn", alpn]);
        }
        match self.mode {
            OpenSslMode::Plain => {}
            OpenSslMode::Www => {
                cmd.arg("-www");
            }
            OpenSslMode::Files => {
                cmd.args(["-WWW", "-http_server_binmode"]);
            }
            OpenSslMode::Rev => {
                cmd.arg("-rev");
            }
        }
        if let Some(n) = self.naccept {
            cmd.args(["-naccept", &n.to_string()]);
        }
        for (name, contents) in &self.files {
            dir.write(name, contents);
        }
        let keylog = self.keylog.then(|| dir.path().join("keylog.txt"));
        if let Some(k) = &keylog {
            cmd.arg("-keylogfile").arg(k);
        }
        cmd.args(&self.extra);
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| {
            panic!("cannot run `openssl s_server` ({e}); is openssl installed?")
        });
        let stdin = child.stdin.take();
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        let output = Captured::spawn(vec![out, err]);
        let port = wait_for_port("openssl s_server", &mut child, &output, "ACCEPT 127.0.0.1:");
        OpenSslServer {
            stdin,
            output,
            port,
            keylog,
            child: Killed(child),
            dir,
        }
    }
}

/// A running `openssl s_server` on 127.0.0.1, killed on drop.
#[derive(Debug)]
pub struct OpenSslServer {
    child: Killed,
    stdin: Option<ChildStdin>,
    output: Arc<Captured>,
    port: u16,
    keylog: Option<PathBuf>,
    dir: TempDir,
}

impl OpenSslServer {
    /// A builder for a server presenting `leaf` with its intermediates.
    pub fn builder(leaf: &Leaf) -> OpenSslServerBuilder {
        OpenSslServer::builder_with_chain(
            leaf.chain_der.iter().map(|c| c.to_vec()).collect(),
            &leaf.key_pem,
        )
    }

    /// A builder for a server presenting exactly `chain_der` (leaf first) with `key_pem`,
    /// for chains [`Leaf`] cannot describe (reordered, missing intermediates, …).
    pub fn builder_with_chain(chain_der: Vec<Vec<u8>>, key_pem: &str) -> OpenSslServerBuilder {
        OpenSslServerBuilder {
            chain_der,
            key_pem: key_pem.into(),
            client_ca: None,
            version: None,
            alpn: None,
            mode: OpenSslMode::Plain,
            naccept: None,
            files: Vec::new(),
            keylog: false,
            extra: Vec::new(),
        }
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's directory (certificates, served files, key log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Writes raw bytes to the server's stdin: in [`OpenSslMode::Plain`] with a client
    /// connected, a line is sent to the client, or a one-letter line is a command
    /// (`k`: KeyUpdate, `K`: KeyUpdate requesting one back, `R`: renegotiate with a
    /// certificate request, `q`: end this connection, `Q`: quit).
    pub fn send_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        // One write: s_server may read "R" and "\n" separately, and then takes neither
        // for a command.
        let mut bytes = line.as_bytes().to_vec();
        bytes.push(b'\n');
        stdin
            .write_all(&bytes)
            .and_then(|()| stdin.flush())
            .expect("write to s_server's stdin");
    }

    /// Sends a one-letter command (see [`OpenSslServer::send_line`]).
    pub fn command(&mut self, letter: char) {
        self.send_line(&letter.to_string());
    }

    /// The results s_server printed for handshake commands (`k`, `K`, `r`, `R`) so far,
    /// in order (`SSL_do_handshake -> 1`: done; `0` or less: failed). A command's line
    /// must be read alone: s_server drops the rest of the same read, so wait for its
    /// result before sending the next line.
    pub fn handshake_results(&self) -> Vec<i32> {
        self.output()
            .lines()
            .filter_map(|l| l.strip_prefix("SSL_do_handshake -> "))
            .filter_map(|n| n.trim().parse().ok())
            .collect()
    }

    /// The server's stdout and stderr so far.
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// Waits up to `timeout` for `needle` to appear in the server's output.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        self.output.wait_for(timeout, |t| t.contains(needle))
    }

    /// Waits up to `timeout` for `needle` to appear `count` times in the server's output.
    pub fn wait_for_output_count(&self, needle: &str, count: usize, timeout: Duration) -> bool {
        self.output
            .wait_for(timeout, |t| t.matches(needle).count() >= count)
    }

    /// The server's key log (NSS format), if [`OpenSslServerBuilder::keylog`] was set.
    pub fn keylog(&self) -> Option<String> {
        self.keylog
            .as_ref()
            .map(|p| std::fs::read_to_string(p).unwrap_or_default())
    }

    /// True while the process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.0.try_wait(), Ok(None))
    }
}

/// Configures a [`PythonTlsServer`].
#[derive(Debug)]
pub struct PythonTlsServerBuilder {
    chain_pem: String,
    key_pem: String,
    client_ca: Option<String>,
    args: Vec<String>,
}

impl PythonTlsServerBuilder {
    /// Replies with `greeting` followed by the request (the default mode, empty greeting).
    pub fn echo(mut self, greeting: &str) -> Self {
        self.args.extend([
            "--mode".into(),
            "echo".into(),
            "--greeting".into(),
            greeting.into(),
        ]);
        self
    }

    /// Replies with `count` bytes of [`pattern`].
    pub fn send_bytes(mut self, count: usize) -> Self {
        self.args.extend([
            "--mode".into(),
            "bytes".into(),
            "--count".into(),
            count.to_string(),
        ]);
        self
    }

    /// Closes the TCP connection after the reply without sending close_notify.
    pub fn without_close_notify(mut self) -> Self {
        self.args.push("--no-close-notify".into());
        self
    }

    /// Requires a client certificate issued under the PEM root `ca_pem`.
    pub fn client_ca(mut self, ca_pem: &str) -> Self {
        self.client_ca = Some(ca_pem.into());
        self
    }

    /// Only TLS 1.2.
    pub fn tls12(mut self) -> Self {
        self.args.push("--tls12".into());
        self
    }

    /// Only TLS 1.3.
    pub fn tls13(mut self) -> Self {
        self.args.push("--tls13".into());
        self
    }

    /// Offers ALPN protocols (comma-separated).
    pub fn alpn(mut self, protocols: &str) -> Self {
        self.args.extend(["--alpn".into(), protocols.into()]);
        self
    }

    /// Serves `n` connections, one after the other, then exits (default 1).
    pub fn connections(mut self, n: u32) -> Self {
        self.args.extend(["--connections".into(), n.to_string()]);
        self
    }

    /// Starts the server and waits until it listens. Panics (with its output) if it
    /// does not start.
    pub fn start(self) -> PythonTlsServer {
        let dir = TempDir::new("tlsferry-python");
        let cert = dir.write("chain.pem", &self.chain_pem);
        let key = dir.write("key.pem", key_pem_for_openssl(&self.key_pem));
        let mut cmd = Command::new("python3");
        cmd.arg("-u")
            .arg(PythonTlsServer::script())
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key);
        if let Some(ca) = &self.client_ca {
            cmd.arg("--client-ca").arg(dir.write("client-ca.pem", ca));
        }
        cmd.args(&self.args);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run python3 ({e}); is Python 3 installed?"));
        let out: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
        let err: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
        let output = Captured::spawn(vec![out, err]);
        let port = wait_for_port("python3 tls_server.py", &mut child, &output, "PORT ");
        PythonTlsServer {
            child: Killed(child),
            output,
            port,
            dir,
        }
    }
}

/// A running Python `ssl` server on 127.0.0.1 (`tests/servers/tls_server.py`), killed
/// on drop.
#[derive(Debug)]
pub struct PythonTlsServer {
    child: Killed,
    output: Arc<Captured>,
    port: u16,
    dir: TempDir,
}

/// The byte pattern of [`PythonTlsServerBuilder::send_bytes`]: byte `i` is `(i * 7 + 3) % 256`.
pub fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(7) + 3) as u8).collect()
}

impl PythonTlsServer {
    /// A builder for a server presenting `leaf` with its intermediates.
    pub fn builder(leaf: &Leaf) -> PythonTlsServerBuilder {
        PythonTlsServerBuilder {
            chain_pem: leaf.chain_pem.clone(),
            key_pem: leaf.key_pem.clone(),
            client_ca: None,
            args: Vec::new(),
        }
    }

    /// Path of the server script.
    pub fn script() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("servers/tls_server.py")
    }

    /// The port it listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `127.0.0.1:PORT`.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The server's directory (its certificate files).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The server's stdout and stderr so far.
    pub fn output(&self) -> String {
        self.output.text()
    }

    /// Waits up to `timeout` for `needle` to appear in the server's output.
    pub fn wait_for_output(&self, needle: &str, timeout: Duration) -> bool {
        self.output.wait_for(timeout, |t| t.contains(needle))
    }

    /// Waits up to `timeout` for `needle` to appear `count` times in the server's output.
    pub fn wait_for_output_count(&self, needle: &str, count: usize, timeout: Duration) -> bool {
        self.output
            .wait_for(timeout, |t| t.matches(needle).count() >= count)
    }

    /// Waits up to `timeout` for the server to exit after its last connection;
    /// true if it exited successfully.
    pub fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.child.0.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) => {
                    self.output.wait_for(Duration::from_millis(50), |_| false);
                }
                Err(_) => return false,
            }
        }
        false
    }
}

/// The path of the `tlsferry` CLI under test (`tests/src/bin/tlsferry-cli.rs`, the same
/// entry point as the real binary). Expands only in this package's integration tests,
/// where cargo builds it fresh.
#[macro_export]
macro_rules! tlsferry_cli {
    () => {
        std::path::Path::new(env!("CARGO_BIN_EXE_tlsferry-cli"))
    };
}

/// What a CLI run produced.
#[derive(Debug)]
pub struct CliOutput {
    /// Exit code (`None` if killed by a signal).
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: Vec<u8>,
    /// Everything written to stderr (lossy UTF-8).
    pub stderr: String,
}

impl CliOutput {
    /// stdout as (lossy) text.
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
}

/// How long a CLI run may take before it is killed and the test fails.
pub const CLI_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `bin args…` with `stdin` as its standard input (closed afterwards) and `env`
/// added to its environment; kills it and panics if it runs longer than [`CLI_TIMEOUT`].
pub fn run_cli(bin: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> CliOutput {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_remove("SSLKEYLOGFILE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let deadline = Instant::now() + CLI_TIMEOUT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned();
            panic!(
                "`{} {}` ran longer than {CLI_TIMEOUT:?}; stderr:\n{stderr}",
                bin.display(),
                args.join(" ")
            );
        }
        thread::sleep(Duration::from_millis(10));
    };
    let _ = writer.join();
    CliOutput {
        code: status.code(),
        stdout: out_t.join().unwrap_or_default(),
        stderr: String::from_utf8_lossy(&err_t.join().unwrap_or_default()).into_owned(),
    }
}
