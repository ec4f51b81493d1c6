//! `tlsferry::tokio` next to tokio-rustls, with the same crypto provider (the default
//! pure-Rust one) and the same rustls server, in one process on 127.0.0.1, interleaved
//! round by round: full handshakes per second, resumed handshakes per second, and bulk
//! receive MB/s. Prints a Markdown table (and `RESULT name value` lines for tests/bench).
//!
//! `cargo bench -p tlsferry-tests --bench tokio_client` (env: ROUNDS [7], HS [200], MIB [128])

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use rustls::pki_types::ServerName;
use tlsferry_cli::pki::{KeyKind, TestPki};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(tlsferry_core::default_provider())
}

/// The server: one byte `h` → "ok" and close; `b` + u64 → that many bytes, then close.
fn start_server(pki: &TestPki) -> SocketAddr {
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(pki.server.chain_der.clone(), pki.server.private_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = std_listener.local_addr().unwrap();
    std_listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                tcp.set_nodelay(true).unwrap();
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut s) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let mut cmd = [0u8; 1];
                    if s.read_exact(&mut cmd).await.is_err() {
                        return;
                    }
                    if cmd[0] == b'b' {
                        let mut n = [0u8; 8];
                        if s.read_exact(&mut n).await.is_err() {
                            return;
                        }
                        let mut left = u64::from_be_bytes(n) as usize;
                        let block = vec![0x5au8; 64 * 1024];
                        while left > 0 {
                            let k = left.min(block.len());
                            if s.write_all(&block[..k]).await.is_err() {
                                return;
                            }
                            left -= k;
                        }
                    } else {
                        let _ = s.write_all(b"ok").await;
                    }
                    let _ = s.shutdown().await;
                    let mut rest = [0u8; 64];
                    let _ = s.read(&mut rest).await;
                });
            }
        });
    });
    addr
}

/// One request over an established stream: returns the bytes received.
async fn request<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, bulk: Option<u64>) -> usize {
    match bulk {
        Some(n) => {
            let mut cmd = vec![b'b'];
            cmd.extend_from_slice(&n.to_be_bytes());
            s.write_all(&cmd).await.unwrap();
        }
        None => s.write_all(b"h").await.unwrap(),
    }
    s.flush().await.unwrap();
    let mut buf = vec![0u8; 64 * 1024];
    let mut total = 0;
    loop {
        match s.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(e) => panic!("read: {e}"),
        }
    }
    let _ = s.shutdown().await;
    total
}

struct Clients {
    ferry: tlsferry::Config,
    ferry_resume: tlsferry::Config,
    rustls: tokio_rustls::TlsConnector,
    rustls_resume: tokio_rustls::TlsConnector,
}

impl Clients {
    fn new(pki: &TestPki) -> Clients {
        let ferry = |resume: bool| {
            tlsferry::Config::builder()
                .root_certificates_pem(pki.root.pem.as_bytes())
                .resumption(resume)
                .build()
                .unwrap()
        };
        let rustls = |resume: bool| {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(pki.root.der.clone()).unwrap();
            let mut cfg = rustls::ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
            if !resume {
                cfg.resumption = rustls::client::Resumption::disabled();
            }
            tokio_rustls::TlsConnector::from(Arc::new(cfg))
        };
        Clients {
            ferry: ferry(false),
            ferry_resume: ferry(true),
            rustls: rustls(false),
            rustls_resume: rustls(true),
        }
    }
}

async fn ferry_once(addr: SocketAddr, cfg: &tlsferry::Config, bulk: Option<u64>) -> usize {
    let mut s = tlsferry::tokio::connect(addr, "localhost", cfg)
        .await
        .unwrap();
    request(&mut s, bulk).await
}

async fn rustls_once(addr: SocketAddr, c: &tokio_rustls::TlsConnector, bulk: Option<u64>) -> usize {
    let tcp = TcpStream::connect(addr).await.unwrap();
    tcp.set_nodelay(true).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let mut s = c.connect(name, tcp).await.unwrap();
    request(&mut s, bulk).await
}

/// CPU time this thread has run, in seconds (`/proc/thread-self/schedstat`, nanoseconds;
/// the client runs on the main thread, the server on its own).
fn thread_cpu() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // cargo bench probes the harness
    }
    let rounds = env("ROUNDS", 7);
    let hs = env("HS", 200);
    let mib = env("MIB", 128) as u64;
    let pki = TestPki::new(KeyKind::EcdsaP256);
    let addr = start_server(&pki);
    let clients = Clients::new(&pki);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let names = [
        "tlsferry full hs/s",
        "tokio-rustls full hs/s",
        "tlsferry resumed hs/s",
        "tokio-rustls resumed hs/s",
        "tlsferry bulk MB/s",
        "tokio-rustls bulk MB/s",
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    // Client CPU per handshake (µs): full and resumed, tlsferry then tokio-rustls.
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); 4];
    rt.block_on(async {
        // Warm up both (and fill the session caches).
        ferry_once(addr, &clients.ferry_resume, None).await;
        rustls_once(addr, &clients.rustls_resume, None).await;
        for round in 0..rounds {
            // Alternate who goes first, so neither always meets a warmer machine.
            let order: [usize; 3] = [0, 1, 2];
            for kind in order {
                for pass in 0..2 {
                    let ferry_first = (round + pass) % 2 == 0;
                    for who in [ferry_first, !ferry_first] {
                        let start = Instant::now();
                        let cpu_start = thread_cpu();
                        match kind {
                            0 | 1 => {
                                let resume = kind == 1;
                                for _ in 0..hs {
                                    if who {
                                        let c = if resume {
                                            &clients.ferry_resume
                                        } else {
                                            &clients.ferry
                                        };
                                        ferry_once(addr, c, None).await;
                                    } else {
                                        let c = if resume {
                                            &clients.rustls_resume
                                        } else {
                                            &clients.rustls
                                        };
                                        rustls_once(addr, c, None).await;
                                    }
                                }
                                let rate = hs as f64 / start.elapsed().as_secs_f64();
                                samples[kind * 2 + usize::from(!who)].push(rate);
                                let per = (thread_cpu() - cpu_start) / hs as f64 * 1e6;
                                cpu[kind * 2 + usize::from(!who)].push(per);
                            }
                            _ => {
                                let bytes = mib << 20;
                                let got = if who {
                                    ferry_once(addr, &clients.ferry, Some(bytes)).await
                                } else {
                                    rustls_once(addr, &clients.rustls, Some(bytes)).await
                                };
                                assert_eq!(got as u64, bytes);
                                let rate = bytes as f64 / 1e6 / start.elapsed().as_secs_f64();
                                samples[4 + usize::from(!who)].push(rate);
                            }
                        }
                    }
                }
            }
        }
    });
    let m: Vec<f64> = samples.into_iter().map(median).collect();
    let c: Vec<f64> = cpu.into_iter().map(median).collect();
    for (name, v) in names.iter().zip(&m) {
        println!("RESULT {name} {v:.1}");
    }
    for (name, v) in [
        "tlsferry full client CPU us",
        "tokio-rustls full client CPU us",
        "tlsferry resumed client CPU us",
        "tokio-rustls resumed client CPU us",
    ]
    .iter()
    .zip(&c)
    {
        println!("RESULT {name} {v:.0}");
    }
    println!();
    println!("| measure ({rounds} rounds, medians) | tlsferry::tokio | tokio-rustls | ratio |");
    println!("|---|---:|---:|---:|");
    for (i, what) in [
        "full handshakes/s",
        "resumed handshakes/s",
        &format!("bulk receive MB/s ({mib} MiB)"),
    ]
    .iter()
    .enumerate()
    {
        println!(
            "| {what} | {:.0} | {:.0} | {:.2}× |",
            m[i * 2],
            m[i * 2 + 1],
            m[i * 2] / m[i * 2 + 1]
        );
    }
    println!(
        "| client CPU per full handshake | {:.0} µs | {:.0} µs | {:.2}× |",
        c[0],
        c[1],
        c[1] / c[0]
    );
    println!(
        "| client CPU per resumed handshake | {:.0} µs | {:.0} µs | {:.2}× |",
        c[2],
        c[3],
        c[3] / c[2]
    );
}
