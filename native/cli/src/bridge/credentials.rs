//! The bridge's reloadable secrets: the `wss://` certificate and key (served by rustls on
//! tlsferry-core's pure-Rust provider) and the bearer tokens. Both are read at start (a bad
//! file stops the start) and again on SIGHUP or when a file changes; a reload that fails
//! keeps what was loaded before, so a half-written key never takes the bridge down.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::SigningKey;
use rustls::{ServerConfig, SignatureScheme};
use tokio_rustls::TlsAcceptor;

use super::log::Logger;
use super::metrics::Stats;
use super::options::{BridgeOptions, TlsFiles};
use super::policy::Tokens;

/// What identifies a version of a file without reading it.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// The loaded certificate and tokens, swapped whole on reload.
#[derive(Debug)]
pub(crate) struct Credentials {
    tls_files: Option<TlsFiles>,
    token_file: Option<PathBuf>,
    tls: RwLock<Option<Arc<ServerConfig>>>,
    tokens: RwLock<Option<Arc<Tokens>>>,
    stamps: Mutex<Stamps>,
}

/// The stamps of the certificate and key, and of the token file.
type Stamps = ([Stamp; 2], Stamp);

impl Credentials {
    /// Loads what `opts` names; the error names the file and what is wrong with it.
    pub(crate) fn load(opts: &BridgeOptions) -> Result<Credentials, String> {
        let tls = opts.tls.as_ref().map(load_tls).transpose()?.map(Arc::new);
        let tokens = opts
            .auth_token_file
            .as_deref()
            .map(load_tokens)
            .transpose()?
            .map(Arc::new);
        let c = Credentials {
            tls_files: opts.tls.clone(),
            token_file: opts.auth_token_file.clone(),
            tls: RwLock::new(tls),
            tokens: RwLock::new(tokens),
            stamps: Mutex::new(([None, None], None)),
        };
        *c.stamps.lock().unwrap_or_else(|e| e.into_inner()) = c.current_stamps();
        Ok(c)
    }

    /// True when serving `wss://`.
    pub(crate) fn is_tls(&self) -> bool {
        self.tls_files.is_some()
    }

    /// True when there is anything to reload.
    pub(crate) fn is_reloadable(&self) -> bool {
        self.tls_files.is_some() || self.token_file.is_some()
    }

    /// A TLS acceptor with the current certificate (`None` for `ws://`).
    pub(crate) fn acceptor(&self) -> Option<TlsAcceptor> {
        let cfg = self.tls.read().unwrap_or_else(|e| e.into_inner()).clone()?;
        Some(TlsAcceptor::from(cfg))
    }

    /// The current tokens (`None`: no authentication).
    pub(crate) fn tokens(&self) -> Option<Arc<Tokens>> {
        self.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn current_stamps(&self) -> Stamps {
        let tls = match &self.tls_files {
            Some(f) => [stamp(&f.cert), stamp(&f.key)],
            None => [None, None],
        };
        (tls, self.token_file.as_deref().and_then(stamp))
    }

    /// Reloads if a file changed (or always, when `force`, e.g. on SIGHUP). Returns true if
    /// something was reloaded.
    pub(crate) fn reload(&self, force: bool, log: &Logger, stats: &Stats) -> bool {
        let now = self.current_stamps();
        let (tls_changed, tokens_changed) = {
            let mut seen = self.stamps.lock().unwrap_or_else(|e| e.into_inner());
            let changed = (seen.0 != now.0, seen.1 != now.1);
            *seen = now;
            changed
        };
        let mut reloaded = false;
        if let (Some(files), true) = (&self.tls_files, force || tls_changed) {
            match load_tls(files) {
                Ok(cfg) => {
                    *self.tls.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(cfg));
                    stats.reloaded(true);
                    log.note(&format!(
                        "reloaded the certificate {} and key {}",
                        files.cert.display(),
                        files.key.display()
                    ));
                    reloaded = true;
                }
                Err(e) => {
                    stats.reloaded(false);
                    log.note(&format!(
                        "certificate reload failed, keeping the previous one: {e}"
                    ));
                }
            }
        }
        if let (Some(path), true) = (&self.token_file, force || tokens_changed) {
            match load_tokens(path) {
                Ok(t) => {
                    let n = t.len();
                    *self.tokens.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(t));
                    stats.reloaded(true);
                    log.note(&format!("reloaded {n} token(s) from {}", path.display()));
                    reloaded = true;
                }
                Err(e) => {
                    stats.reloaded(false);
                    log.note(&format!(
                        "token reload failed, keeping the previous ones: {e}"
                    ));
                }
            }
        }
        reloaded
    }
}

/// The SIGHUP stream, registered before the bridge accepts its first connection (so that
/// a SIGHUP can never hit the default action, which ends the process).
#[cfg(unix)]
pub(crate) type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
pub(crate) type Hangup = Option<()>;

/// Registers for SIGHUP (within the runtime); `None`, with a note, if it cannot.
pub(crate) fn hangup(log: &Logger) -> Hangup {
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
            Ok(s) => Some(s),
            Err(e) => {
                log.note(&format!(
                    "cannot watch SIGHUP ({e}); reloading on file changes only"
                ));
                None
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = log;
        None
    }
}

/// Reloads on SIGHUP and when a file changes (checked every `interval`), until the
/// runtime stops.
pub(crate) async fn watch(
    creds: Arc<Credentials>,
    interval: Duration,
    log: Arc<Logger>,
    stats: Arc<Stats>,
    mut hup: Hangup,
) {
    let mut tick = tokio::time::interval(interval.max(Duration::from_millis(50)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let forced = tokio::select! {
            _ = tick.tick() => false,
            Some(()) = next_hangup(&mut hup) => true,
        };
        creds.reload(forced, &log, &stats);
    }
}

#[cfg(unix)]
async fn next_hangup(hup: &mut Hangup) -> Option<()> {
    match hup.as_mut() {
        Some(h) => h.recv().await,
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) -> Option<()> {
    std::future::pending().await
}

fn read(path: &Path, what: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{what} {}: {e}", path.display()))
}

/// A rustls server configuration for the chain and key in `files`: TLS 1.3 and 1.2 on
/// tlsferry-core's default provider (pure Rust), no client authentication, no ALPN.
pub(crate) fn load_tls(files: &TlsFiles) -> Result<ServerConfig, String> {
    let cert_pem = read(&files.cert, "--cert")?;
    let key_pem = read(&files.key, "--key")?;
    let certs = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("--cert {}: not PEM certificates: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!(
            "--cert {}: no CERTIFICATE block",
            files.cert.display()
        ));
    }
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| {
        format!(
            "--key {}: no usable PRIVATE KEY block: {e}",
            files.key.display()
        )
    })?;
    let provider = Arc::new(tlsferry_core::default_provider());
    let leaf = certs
        .first()
        .cloned()
        .unwrap_or_else(|| CertificateDer::from(Vec::new()));
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|e| format!("--key {}: {e}", files.key.display()))?;
    key_matches(&leaf, signing_key.as_ref(), &provider).map_err(|e| {
        format!(
            "--cert {} / --key {}: {e}",
            files.cert.display(),
            files.key.display()
        )
    })?;
    ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            format!(
                "--cert {} / --key {}: {e} (does the key match the certificate?)",
                files.cert.display(),
                files.key.display()
            )
        })
}

/// Checks that `key` belongs to the certificate `leaf` by signing with it and verifying
/// the signature with the certificate's public key (rustls cannot compare them itself when
/// a provider's keys do not expose their public half, as the pure-Rust ones do not).
fn key_matches(
    leaf: &CertificateDer<'_>,
    key: &dyn SigningKey,
    provider: &CryptoProvider,
) -> Result<(), String> {
    let algorithms = provider.signature_verification_algorithms.mapping;
    let schemes: Vec<SignatureScheme> = algorithms.iter().map(|(s, _)| *s).collect();
    let signer = key
        .choose_scheme(&schemes)
        .ok_or("the key can make none of the signatures TLS uses")?;
    let message = b"tlsferry bridge: does this key belong to this certificate?";
    let signature = signer
        .sign(message)
        .map_err(|e| format!("the key cannot sign: {e}"))?;
    let cert = webpki::EndEntityCert::try_from(leaf)
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let scheme = signer.scheme();
    let matches = algorithms
        .iter()
        .filter(|(s, _)| *s == scheme)
        .flat_map(|(_, algs)| algs.iter())
        .any(|alg| cert.verify_signature(*alg, message, &signature).is_ok());
    if matches {
        Ok(())
    } else {
        Err("the key does not match the certificate".into())
    }
}

fn load_tokens(path: &Path) -> Result<Tokens, String> {
    let bytes = read(path, "--auth-token-file")?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("--auth-token-file {}: not UTF-8", path.display()))?;
    Tokens::parse(&text).map_err(|e| format!("--auth-token-file {}: {e}", path.display()))
}
