//! Counters of the bridge and their Prometheus text exposition (`--metrics ADDR`: `GET
//! /metrics`, and `GET /healthz` for load balancers).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::admission::Admission;
use super::http_head;

/// Why connections were refused before a tunnel opened (label `reason`).
pub(crate) const REFUSALS: &[&str] = &[
    "abandoned",
    "bad_request",
    "too_large",
    "handshake_timeout",
    "tls_handshake",
    "unauthorized",
    "origin",
    "target",
    "no_target",
    "subprotocol",
    "handshakes_full",
    "tunnels_full",
    "per_ip_full",
    "dropped",
    "target_unreachable",
    "other",
];

/// How tunnels ended (label `reason`).
pub(crate) const ENDS: &[&str] = &[
    "completed",
    "client_closed",
    "client_gone",
    "target_closed",
    "target_error",
    "idle",
    "client_stalled",
    "target_stalled",
    "protocol_error",
    "too_big",
];

/// Upper bounds of the tunnel-duration histogram, in seconds.
const BUCKETS: &[f64] = &[
    0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 14_400.0, 86_400.0,
];

/// The bridge's counters (all monotonic; gauges come from [`Admission`]).
#[derive(Debug)]
pub(crate) struct Stats {
    tunnels_opened: AtomicU64,
    bytes_up: AtomicU64,
    bytes_down: AtomicU64,
    refusals: Vec<AtomicU64>,
    ends: Vec<AtomicU64>,
    buckets: Vec<AtomicU64>,
    duration_count: AtomicU64,
    duration_sum_micros: AtomicU64,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
}

fn counters(n: usize) -> Vec<AtomicU64> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

fn bump(list: &[AtomicU64], names: &[&str], word: &str) {
    let i = names
        .iter()
        .position(|n| *n == word)
        .or_else(|| names.iter().position(|n| *n == "other"));
    if let Some(c) = i.and_then(|i| list.get(i)) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

impl Stats {
    pub(crate) fn new() -> Stats {
        Stats {
            tunnels_opened: AtomicU64::new(0),
            bytes_up: AtomicU64::new(0),
            bytes_down: AtomicU64::new(0),
            refusals: counters(REFUSALS.len()),
            ends: counters(ENDS.len()),
            buckets: counters(BUCKETS.len()),
            duration_count: AtomicU64::new(0),
            duration_sum_micros: AtomicU64::new(0),
            reloads_ok: AtomicU64::new(0),
            reloads_failed: AtomicU64::new(0),
        }
    }

    pub(crate) fn refused(&self, word: &str) {
        bump(&self.refusals, REFUSALS, word);
    }

    pub(crate) fn tunnel_opened(&self) {
        self.tunnels_opened.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn up(&self, n: usize) {
        self.bytes_up.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn down(&self, n: usize) {
        self.bytes_down.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub(crate) fn tunnel_ended(&self, word: &str, duration: Duration) {
        bump(&self.ends, ENDS, word);
        let secs = duration.as_secs_f64();
        for (b, c) in BUCKETS.iter().zip(&self.buckets) {
            if secs <= *b {
                c.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_sum_micros.fetch_add(
            u64::try_from(duration.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    pub(crate) fn reloaded(&self, ok: bool) {
        if ok {
            self.reloads_ok.fetch_add(1, Ordering::Relaxed);
        } else {
            self.reloads_failed.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition (format 0.0.4).
    pub(crate) fn render(&self, adm: &Admission) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let l = adm.limits();
        let mut o = String::with_capacity(4096);
        let mut metric = |name: &str, kind: &str, help: &str, lines: &[(String, u64)]| {
            let _ = writeln!(o, "# HELP tlsferry_bridge_{name} {help}");
            let _ = writeln!(o, "# TYPE tlsferry_bridge_{name} {kind}");
            for (labels, v) in lines {
                let _ = writeln!(o, "tlsferry_bridge_{name}{labels} {v}");
            }
        };
        let one = |v: u64| [(String::new(), v)];
        metric(
            "tunnels_active",
            "gauge",
            "Tunnels open now (including those connecting to their target).",
            &one(adm.tunnels() as u64),
        );
        metric(
            "handshakes_in_progress",
            "gauge",
            "Connections in the TLS or WebSocket handshake now.",
            &one(adm.handshakes() as u64),
        );
        metric(
            "client_addresses",
            "gauge",
            "Client addresses (IPv6: /64 prefixes) with a connection now.",
            &one(adm.addresses() as u64),
        );
        metric(
            "tunnels_max",
            "gauge",
            "The tunnel limit.",
            &one(l.tunnels as u64),
        );
        metric(
            "handshakes_max",
            "gauge",
            "The limit of handshakes in progress.",
            &one(l.handshakes as u64),
        );
        metric(
            "fd_limit",
            "gauge",
            "The soft RLIMIT_NOFILE the limits were sized to.",
            &one(l.fd_limit),
        );
        metric(
            "tunnels_opened_total",
            "counter",
            "Tunnels opened (the client got 101 Switching Protocols).",
            &one(get(&self.tunnels_opened)),
        );
        let labelled = |names: &[&str], list: &[AtomicU64]| -> Vec<(String, u64)> {
            names
                .iter()
                .zip(list)
                .map(|(n, c)| (format!("{{reason=\"{n}\"}}"), get(c)))
                .collect()
        };
        metric(
            "refusals_total",
            "counter",
            "Connections refused before a tunnel opened, by reason.",
            &labelled(REFUSALS, &self.refusals),
        );
        metric(
            "tunnel_ends_total",
            "counter",
            "Tunnels ended, by reason.",
            &labelled(ENDS, &self.ends),
        );
        metric(
            "bytes_total",
            "counter",
            "Payload bytes relayed: up = client to target, down = target to client.",
            &[
                ("{direction=\"up\"}".into(), get(&self.bytes_up)),
                ("{direction=\"down\"}".into(), get(&self.bytes_down)),
            ],
        );
        metric(
            "certificate_reloads_total",
            "counter",
            "Reloads of the wss:// certificate and the token file, by result.",
            &[
                ("{result=\"ok\"}".into(), get(&self.reloads_ok)),
                ("{result=\"error\"}".into(), get(&self.reloads_failed)),
            ],
        );
        let _ = writeln!(
            o,
            "# HELP tlsferry_bridge_tunnel_duration_seconds How long tunnels lasted.\n# TYPE tlsferry_bridge_tunnel_duration_seconds histogram"
        );
        for (b, c) in BUCKETS.iter().zip(&self.buckets) {
            let _ = writeln!(
                o,
                "tlsferry_bridge_tunnel_duration_seconds_bucket{{le=\"{b}\"}} {}",
                get(c)
            );
        }
        let count = get(&self.duration_count);
        let _ = writeln!(
            o,
            "tlsferry_bridge_tunnel_duration_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            o,
            "tlsferry_bridge_tunnel_duration_seconds_sum {}",
            get(&self.duration_sum_micros) as f64 / 1e6
        );
        let _ = writeln!(o, "tlsferry_bridge_tunnel_duration_seconds_count {count}");
        o
    }
}

/// Serves `/metrics` and `/healthz` until the runtime stops.
pub(crate) async fn serve(listener: TcpListener, stats: Arc<Stats>, adm: Arc<Admission>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let (stats, adm) = (stats.clone(), adm.clone());
        tokio::spawn(async move {
            let _ =
                tokio::time::timeout(Duration::from_secs(5), answer(stream, &stats, &adm)).await;
        });
    }
}

async fn answer(mut s: TcpStream, stats: &Stats, adm: &Admission) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut from = 0;
    let end = loop {
        if s.read_buf(&mut buf).await? == 0 {
            return Ok(());
        }
        match http_head::scan(&buf, from) {
            Ok(Some(end)) => break end,
            Ok(None) => from = http_head::resume_at(buf.len()),
            Err(_) => return reply(&mut s, "400 Bad Request", "text/plain", "bad request\n").await,
        }
    };
    let head = String::from_utf8_lossy(buf.get(..end).unwrap_or_default()).into_owned();
    let mut parts = head.split(' ');
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let path = path.split('?').next().unwrap_or("");
    match (method, path) {
        ("GET", "/metrics") => {
            let body = stats.render(adm);
            reply(
                &mut s,
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                &body,
            )
            .await
        }
        ("GET", "/healthz") => reply(&mut s, "200 OK", "text/plain", "ok\n").await,
        ("GET", _) => {
            reply(
                &mut s,
                "404 Not Found",
                "text/plain",
                "not found: try /metrics or /healthz\n",
            )
            .await
        }
        _ => reply(&mut s, "405 Method Not Allowed", "text/plain", "GET only\n").await,
    }
}

async fn reply(s: &mut TcpStream, status: &str, ctype: &str, body: &str) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    s.write_all(body.as_bytes()).await?;
    s.shutdown().await
}
