//! One tunnel after the upgrade: bytes both ways between the WebSocket and the target's TCP
//! connection, in one task, the two directions as two futures that never wait on each
//! other, and a watchdog that ends the tunnel when no bytes move.
//!
//! - `binary` (websockify's): binary frames both ways; the target's FIN ends the tunnel
//!   after what was read is sent (close 1000).
//! - `tlsferry.v1`: the same, plus receive credit (`credit N`: the target is read only
//!   while the client has credit, so TCP flow control reaches the target) and half-close
//!   (`eof` each way); the tunnel ends when both directions have ended.
//!
//! However it ends (either side closes, fails, or stops making progress), both sides are
//! closed when [`run`] returns, and [`Ended`] says why.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio::net::tcp::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::error::{Error as WsError, ProtocolError};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::client_stream::ClientStream;
use super::control::{self, ClientMessage};
use super::metrics::Stats;
use super::progress::{now_ms, Progress, Stall};

/// Most target bytes read at once, and so the largest binary frame the bridge sends. Larger
/// reads move bulk data with fewer wake-ups (BENCHMARKS.md, the bridge section), but
/// tungstenite keeps its write buffer at the size of the largest frame sent, so this is
/// also what a tunnel that was busy keeps allocated once it idles.
pub(crate) const CHUNK: usize = 64 * 1024;
/// How long the closing handshake may take once the tunnel has ended.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

type Ws = WebSocketStream<ClientStream>;

/// The subprotocol of a tunnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// `binary`, or no subprotocol.
    Binary,
    /// `tlsferry.v1`.
    V1,
}

/// How a tunnel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ended {
    /// A stable word for metrics and logs (one of [`super::metrics::ENDS`]).
    pub word: &'static str,
    /// The close code the bridge sent or received, if any.
    pub close_code: Option<u16>,
    /// What happened, for people.
    pub reason: String,
    /// Payload bytes client → target.
    pub up: u64,
    /// Payload bytes target → client.
    pub down: u64,
}

/// What a tunnel needs from the bridge.
#[derive(Debug)]
pub(crate) struct Context<'a> {
    pub mode: Mode,
    pub idle_timeout: Duration,
    pub write_timeout: Duration,
    pub progress: &'a Progress,
    pub stats: &'a Stats,
}

/// Why a direction or the watchdog stopped the tunnel.
#[derive(Debug)]
enum End {
    /// `tlsferry.v1`: both sides sent `eof`.
    Completed,
    /// The client sent a close frame (with this code).
    ClientClosed(Option<u16>),
    /// The client's connection ended or failed without a close frame.
    ClientGone(String),
    /// `binary`: the target closed its side.
    TargetClosed,
    /// `tlsferry.v1`: the target closed its side and `eof` was sent (not an end by itself).
    TargetEof,
    /// Reading from or writing to the target failed.
    TargetError(String),
    /// The watchdog.
    Stalled(Stall),
    /// The client broke the protocol: close code and reason.
    Protocol(u16, String),
}

/// Shared between the two directions (same task: no lock, just atomics for `Sync`).
#[derive(Debug, Default)]
struct Flow {
    credit: AtomicU64,
    credit_granted: Notify,
    client_eof: AtomicBool,
    target_eof: AtomicBool,
    up: AtomicU64,
    down: AtomicU64,
}

/// Relays until the tunnel ends; both connections are closed when it returns.
pub(crate) async fn run(ws: Ws, mut target: TcpStream, cx: &Context<'_>) -> Ended {
    let flow = Flow::default();
    let (mut tx, mut rx) = ws.split();
    let end = {
        let (tr, mut tw) = target.split();
        let up = client_to_target(&mut rx, &mut tw, &flow, cx);
        let down = target_to_client(&mut tx, &tr, &flow, cx);
        tokio::pin!(up, down);
        let mut down_done = false;
        loop {
            let now = now_ms();
            let wake = cx
                .progress
                .next_check(cx.idle_timeout, cx.write_timeout, now);
            let sleep = tokio::time::sleep(Duration::from_millis(wake - now));
            tokio::select! {
                e = &mut up => break e,
                e = &mut down, if !down_done => match e {
                    End::TargetEof => {
                        down_done = true;
                        if flow.client_eof.load(Ordering::SeqCst) {
                            break End::Completed;
                        }
                    }
                    other => break other,
                },
                () = sleep => {
                    if let Some(s) = cx.progress.check(cx.idle_timeout, cx.write_timeout, now_ms()) {
                        break End::Stalled(s);
                    }
                }
            }
        }
    };
    let ended = describe(&end, cx);
    close(&mut tx, &mut rx, &end, &ended).await;
    if matches!(
        end,
        End::Stalled(Stall::TargetNotReading | Stall::ClientNotReading)
    ) {
        // Unsent bytes would keep the kernel retrying a peer that does not read: reset.
        abort(&target);
        let ws = tx.reunite(rx).ok();
        if let Some(ws) = &ws {
            abort(ws.get_ref().tcp());
        }
    }
    Ended {
        up: flow.up.load(Ordering::SeqCst),
        down: flow.down.load(Ordering::SeqCst),
        ..ended
    }
}

/// Closes with RST (SO_LINGER 0) instead of FIN.
fn abort(s: &TcpStream) {
    // Deprecated because a non-zero linger blocks in drop; zero does not.
    #[allow(deprecated)]
    let _ = s.set_linger(Some(Duration::ZERO));
}

/// The log and metrics view of an end, and the close frame to send.
fn describe(end: &End, cx: &Context<'_>) -> Ended {
    let secs = |d: Duration| d.as_secs_f64();
    let (word, code, reason) = match end {
        End::Completed => ("completed", Some(1000), "both sides sent eof".to_string()),
        End::ClientClosed(code) => (
            "client_closed",
            *code,
            match code {
                Some(c) => format!("client closed the WebSocket ({c})"),
                None => "client closed the WebSocket (no status)".into(),
            },
        ),
        End::ClientGone(r) => ("client_gone", None, r.clone()),
        End::TargetClosed | End::TargetEof => (
            "target_closed",
            Some(1000),
            "target closed the connection".into(),
        ),
        End::TargetError(r) => ("target_error", Some(1011), r.clone()),
        End::Stalled(Stall::Idle) => (
            "idle",
            Some(1001),
            format!(
                "idle timeout (no bytes moved for {} s)",
                secs(cx.idle_timeout)
            ),
        ),
        End::Stalled(Stall::ClientNotReading) => (
            "client_stalled",
            None,
            format!(
                "client stopped reading (no write progress for {} s)",
                secs(cx.write_timeout)
            ),
        ),
        End::Stalled(Stall::TargetNotReading) => (
            "target_stalled",
            Some(1011),
            format!(
                "target stopped reading (no write progress for {} s)",
                secs(cx.write_timeout)
            ),
        ),
        End::Protocol(code, r) => (
            if *code == 1009 {
                "too_big"
            } else {
                "protocol_error"
            },
            Some(*code),
            r.clone(),
        ),
    };
    Ended {
        word,
        close_code: code,
        reason,
        up: 0,
        down: 0,
    }
}

/// The closing handshake, bounded by [`CLOSE_TIMEOUT`]: answer the client's close, or send
/// ours and wait briefly for its answer; nothing when the client is gone or not reading.
async fn close(
    tx: &mut SplitSink<Ws, Message>,
    rx: &mut SplitStream<Ws>,
    end: &End,
    ended: &Ended,
) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, async {
        match end {
            End::ClientGone(_) | End::Stalled(Stall::ClientNotReading) => {}
            End::ClientClosed(_) => {
                // tungstenite queued the echo of the client's close frame; send it.
                let _ = tx.flush().await;
            }
            _ => {
                let Some(code) = ended.close_code else { return };
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: close_reason(&ended.reason).into(),
                };
                if tx.send(Message::Close(Some(frame))).await.is_err() {
                    return;
                }
                // Wait for the client's close frame, dropping any data still in flight.
                while let Some(Ok(m)) = rx.next().await {
                    if m.is_close() {
                        break;
                    }
                }
            }
        }
    })
    .await;
}

/// `reason` cut to the 123 bytes a close frame can carry, on a character boundary.
fn close_reason(reason: &str) -> String {
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    reason.get(..end).unwrap_or_default().to_string()
}

/// Client → target: data frames to the target, control messages to the flow.
async fn client_to_target(
    rx: &mut SplitStream<Ws>,
    tw: &mut WriteHalf<'_>,
    flow: &Flow,
    cx: &Context<'_>,
) -> End {
    loop {
        let msg = match rx.next().await {
            None => return End::ClientGone("client closed the connection".into()),
            Some(Err(e)) => return read_error(e),
            Some(Ok(m)) => m,
        };
        match msg {
            Message::Binary(data) => {
                if flow.client_eof.load(Ordering::SeqCst) {
                    return End::Protocol(1002, "data after eof".into());
                }
                if let Err(e) = write_target(tw, &data, cx).await {
                    return e;
                }
                flow.up.fetch_add(data.len() as u64, Ordering::SeqCst);
                cx.stats.up(data.len());
            }
            Message::Text(text) => {
                if cx.mode == Mode::Binary {
                    return End::Protocol(
                        1003,
                        "text frame: the binary subprotocol carries binary frames only".into(),
                    );
                }
                match control::parse_client_message(text.as_str()) {
                    Ok(ClientMessage::Credit(n)) => {
                        let outstanding = flow.credit.load(Ordering::SeqCst);
                        match control::add_credit(outstanding, n) {
                            Ok(total) => {
                                flow.credit.store(total, Ordering::SeqCst);
                                flow.credit_granted.notify_one();
                            }
                            Err(why) => return End::Protocol(1002, why.into()),
                        }
                    }
                    Ok(ClientMessage::Eof) => {
                        if flow.client_eof.swap(true, Ordering::SeqCst) {
                            return End::Protocol(1002, "eof sent twice".into());
                        }
                        if let Err(e) = tw.shutdown().await {
                            return End::TargetError(format!("target shutdown failed: {e}"));
                        }
                        if flow.target_eof.load(Ordering::SeqCst) {
                            return End::Completed;
                        }
                    }
                    Err(why) => return End::Protocol(1002, why.into()),
                }
            }
            Message::Close(frame) => {
                return End::ClientClosed(frame.map(|f| u16::from(f.code)));
            }
            // tungstenite answers pings itself; pongs and raw frames need nothing.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
        }
    }
}

/// Writes all of `data` to the target, stamping progress on every partial write.
async fn write_target(tw: &mut WriteHalf<'_>, data: &[u8], cx: &Context<'_>) -> Result<(), End> {
    let mut rest = data;
    while !rest.is_empty() {
        cx.progress.target_write_waiting();
        match tw.write(rest).await {
            Ok(0) => return Err(End::TargetError("target write returned 0".into())),
            Ok(n) => {
                rest = rest.get(n..).unwrap_or_default();
                cx.progress.moved();
            }
            Err(e) => return Err(End::TargetError(format!("target write failed: {e}"))),
        }
    }
    cx.progress.target_write_done();
    Ok(())
}

fn read_error(e: WsError) -> End {
    match e {
        WsError::ConnectionClosed | WsError::AlreadyClosed => {
            End::ClientGone("client closed the connection".into())
        }
        WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            End::ClientGone("client disconnected without a close frame".into())
        }
        WsError::Protocol(p) => End::Protocol(1002, format!("protocol error: {p}")),
        WsError::Capacity(c) => End::Protocol(1009, format!("message too big: {c}")),
        WsError::Utf8(_) => End::Protocol(1007, "text frame is not UTF-8".into()),
        WsError::Io(e) => End::ClientGone(format!("client read failed: {e}")),
        other => End::ClientGone(format!("client read failed: {other}")),
    }
}

fn write_error(e: WsError) -> End {
    match e {
        WsError::Io(e) => End::ClientGone(format!("client write failed: {e}")),
        other => End::ClientGone(format!("client write failed: {other}")),
    }
}

/// Target → client: reads the target (with `tlsferry.v1`, only within the credit) and
/// sends each read as one binary frame.
async fn target_to_client(
    tx: &mut SplitSink<Ws, Message>,
    tr: &ReadHalf<'_>,
    flow: &Flow,
    cx: &Context<'_>,
) -> End {
    loop {
        let limit = match cx.mode {
            Mode::Binary => CHUNK,
            Mode::V1 => loop {
                let credit = flow.credit.load(Ordering::SeqCst);
                if credit > 0 {
                    break usize::try_from(credit).unwrap_or(CHUNK).min(CHUNK);
                }
                flow.credit_granted.notified().await;
            },
        };
        if let Err(e) = tr.readable().await {
            return End::TargetError(format!("target read failed: {e}"));
        }
        let mut buf = BytesMut::with_capacity(limit);
        let n = match tr.try_read_buf(&mut (&mut buf).limit(limit)) {
            Ok(0) => {
                return match cx.mode {
                    Mode::Binary => End::TargetClosed,
                    Mode::V1 => match tx.send(Message::text(control::EOF)).await {
                        Ok(()) => {
                            flow.target_eof.store(true, Ordering::SeqCst);
                            End::TargetEof
                        }
                        Err(e) => write_error(e),
                    },
                };
            }
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(e) => return End::TargetError(format!("target read failed: {e}")),
        };
        cx.progress.moved();
        if cx.mode == Mode::V1 {
            flow.credit.fetch_sub(n as u64, Ordering::SeqCst);
        }
        flow.down.fetch_add(n as u64, Ordering::SeqCst);
        cx.stats.down(n);
        if let Err(e) = tx.send(Message::Binary(buf.freeze())).await {
            return write_error(e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_reasons_fit_a_control_frame() {
        let r = close_reason(&"é".repeat(100));
        assert!(r.len() <= 123);
        assert!(r.chars().all(|c| c == 'é'));
        assert_eq!(close_reason("short"), "short");
    }
}
