//! Time from JavaScript: `Date.now()` for certificate validity and for the core's
//! monotonic [`Instant`]s (milliseconds).

use core::time::Duration;

use tlsferry_core::{Instant, TimeProvider, UnixTime};

/// Milliseconds since the Unix epoch, from `Date.now()`.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The current time as the core's [`Instant`] (milliseconds since the epoch).
pub fn now() -> Instant {
    // Float-to-integer casts saturate: a negative or NaN clock reads as zero.
    Instant::from_millis(now_ms() as u64)
}

/// An [`Instant`] as milliseconds since the Unix epoch, for JavaScript timers.
pub fn to_ms(instant: Instant) -> f64 {
    instant.as_nanos() as f64 / 1_000_000.0
}

/// The wall clock for certificate validity: `Date.now()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct JsClock;

impl TimeProvider for JsClock {
    fn current_time(&self) -> Option<UnixTime> {
        let ms = now_ms();
        if ms.is_finite() && ms >= 0.0 {
            Some(UnixTime::since_unix_epoch(Duration::from_millis(ms as u64)))
        } else {
            None
        }
    }
}
