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

/// An [`Instant`] as whole milliseconds since the Unix epoch, for JavaScript timers.
///
/// Rounded up, so that a timer set for the result finds the deadline due. Converted
/// from whole milliseconds: nanoseconds since the epoch exceed 2^53, and dividing
/// them as a float came out a fraction of a millisecond early.
pub fn to_ms(instant: Instant) -> f64 {
    instant.as_nanos().div_ceil(1_000_000) as f64
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_convert_to_exact_whole_milliseconds() {
        // A deadline CI saw reported as ...649.9998: ns since the epoch exceed 2^53.
        let ms = 1_795_895_696_650u64;
        assert_eq!(to_ms(Instant::from_millis(ms)), ms as f64);
        assert_eq!(
            to_ms(Instant::from_millis(ms) + Duration::from_nanos(1)),
            (ms + 1) as f64
        );
        assert_eq!(to_ms(Instant::ZERO), 0.0);
        assert_eq!(to_ms(Instant::from_nanos(u64::MAX)), 18_446_744_073_710.0);
    }
}
