//! Progress of a tunnel, measured in bytes moved rather than in lock or task state: when
//! the last byte moved either way, and since when a write to either side has been waiting.
//! [`Metered`] wraps the client's TCP socket (under TLS, if any) so that every byte the
//! kernel takes or gives counts, including the WebSocket library's own writes.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Milliseconds on a process-wide monotonic clock, never 0 (0 means "not set" below).
pub(crate) fn now_ms() -> u64 {
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let ms = EPOCH.get_or_init(Instant::now).elapsed().as_millis();
    u64::try_from(ms).unwrap_or(u64::MAX - 1) + 1
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX / 4)
}

/// What a tunnel's watchdog found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stall {
    /// A write to the client made no progress for the write timeout.
    ClientNotReading,
    /// A write to the target made no progress for the write timeout.
    TargetNotReading,
    /// No byte moved either way for the idle timeout.
    Idle,
}

/// The progress stamps of one tunnel.
#[derive(Debug)]
pub(crate) struct Progress {
    last: AtomicU64,
    client_blocked: AtomicU64,
    target_blocked: AtomicU64,
}

impl Progress {
    pub(crate) fn new() -> Arc<Progress> {
        Arc::new(Progress {
            last: AtomicU64::new(now_ms()),
            client_blocked: AtomicU64::new(0),
            target_blocked: AtomicU64::new(0),
        })
    }

    /// Some bytes moved.
    pub(crate) fn moved(&self) {
        self.last.store(now_ms(), Ordering::Relaxed);
    }

    fn client_write_waiting(&self) {
        let _ =
            self.client_blocked
                .compare_exchange(0, now_ms(), Ordering::Relaxed, Ordering::Relaxed);
    }

    fn client_write_moved(&self) {
        self.client_blocked.store(0, Ordering::Relaxed);
        self.moved();
    }

    /// A write to the target starts, or moved some bytes and goes on: the stall clock
    /// (re)starts now.
    pub(crate) fn target_write_waiting(&self) {
        self.target_blocked.store(now_ms(), Ordering::Relaxed);
    }

    /// A write to the target completed.
    pub(crate) fn target_write_done(&self) {
        self.target_blocked.store(0, Ordering::Relaxed);
        self.moved();
    }

    /// What is wrong at `now`, if anything: a stalled write first (the truer reason),
    /// then idleness.
    pub(crate) fn check(&self, idle: Duration, write: Duration, now: u64) -> Option<Stall> {
        let stalled = |since: u64| since != 0 && now.saturating_sub(since) >= ms(write);
        if stalled(self.client_blocked.load(Ordering::Relaxed)) {
            return Some(Stall::ClientNotReading);
        }
        if stalled(self.target_blocked.load(Ordering::Relaxed)) {
            return Some(Stall::TargetNotReading);
        }
        if now.saturating_sub(self.last.load(Ordering::Relaxed)) >= ms(idle) {
            return Some(Stall::Idle);
        }
        None
    }

    /// When to look again: the earliest moment a check could find something, but no
    /// later than one write timeout from `now` (a write may start waiting meanwhile).
    pub(crate) fn next_check(&self, idle: Duration, write: Duration, now: u64) -> u64 {
        let mut at = self.last.load(Ordering::Relaxed).saturating_add(ms(idle));
        for since in [
            self.client_blocked.load(Ordering::Relaxed),
            self.target_blocked.load(Ordering::Relaxed),
        ] {
            if since != 0 {
                at = at.min(since.saturating_add(ms(write)));
            }
        }
        at.min(now.saturating_add(ms(write))).max(now + 1)
    }
}

/// A client socket that stamps [`Progress`] on every byte read or written.
#[derive(Debug)]
pub(crate) struct Metered<S> {
    inner: S,
    progress: Arc<Progress>,
}

impl<S> Metered<S> {
    pub(crate) fn new(inner: S, progress: Arc<Progress>) -> Metered<S> {
        Metered { inner, progress }
    }

    pub(crate) fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Metered<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.progress.moved();
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Metered<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.stamp(&r);
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.stamp(&r);
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

impl<S> Metered<S> {
    fn stamp(&self, r: &Poll<io::Result<usize>>) {
        match r {
            Poll::Ready(Ok(n)) if *n > 0 => self.progress.client_write_moved(),
            Poll::Pending => self.progress.client_write_waiting(),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stalls_are_found_before_idleness_and_deadlines_move() {
        let p = Progress::new();
        let (idle, write) = (Duration::from_secs(10), Duration::from_secs(3));
        let t0 = now_ms();
        assert_eq!(p.check(idle, write, t0), None);
        assert_eq!(
            p.next_check(idle, write, t0),
            t0 + 3000,
            "at most one write timeout"
        );
        assert_eq!(p.check(idle, write, t0 + 10_000), Some(Stall::Idle));
        p.target_write_waiting();
        let t1 = now_ms();
        assert_eq!(
            p.check(idle, write, t1 + 3000),
            Some(Stall::TargetNotReading)
        );
        p.target_write_done();
        assert_eq!(p.check(idle, write, t1 + 3000), None);
        p.client_write_waiting();
        assert_eq!(
            p.check(idle, write, now_ms() + 20_000),
            Some(Stall::ClientNotReading)
        );
        p.client_write_moved();
        assert_eq!(p.check(idle, write, now_ms() + 1), None);
    }
}
