//! The clocks a native driver feeds the core: the system wall clock for certificate
//! validity, and a monotonic clock for timers.

use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use tlsferry_core::{Instant, TimeProvider, UnixTime};

/// The operating system's wall clock, for certificate validity checks.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl TimeProvider for SystemClock {
    fn current_time(&self) -> Option<UnixTime> {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
        Some(UnixTime::since_unix_epoch(since))
    }
}

/// A fixed wall clock (Unix seconds), for tests and replays.
#[derive(Debug, Clone, Copy)]
pub struct FixedClock(pub u64);

impl TimeProvider for FixedClock {
    fn current_time(&self) -> Option<UnixTime> {
        Some(UnixTime::since_unix_epoch(std::time::Duration::from_secs(
            self.0,
        )))
    }
}

/// Now on the core's monotonic clock, measured from the first call in this process.
pub fn now() -> Instant {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    let origin = *ORIGIN.get_or_init(std::time::Instant::now);
    Instant::from_duration(origin.elapsed())
}

/// The instant `deadline` as a `std::time::Instant`-relative duration from now
/// (zero if it has passed).
pub fn until(deadline: Instant) -> std::time::Duration {
    deadline.saturating_duration_since(now())
}
