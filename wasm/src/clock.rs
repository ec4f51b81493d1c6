//! Time from JavaScript, two clocks:
//!
//! - the **wall clock**, `Date.now()`, for certificate validity only ([`JsClock`]);
//! - a **monotonic clock**, `performance.timeOrigin + performance.now()`, for the core's
//!   [`Instant`]s, that is for the handshake and idle timeouts. The wall clock can step
//!   (NTP, a laptop waking from sleep, a user changing the date); a timer driven by it
//!   would then fire at once or far too late. `performance.now()` never steps.
//!
//! Where a runtime has no `performance.now()`, the wall clock is used for timers too, but
//! made never to go backwards.

use core::cell::Cell;
use core::time::Duration;

use js_sys::{Function, Reflect};
use tlsferry_core::{Instant, TimeProvider, UnixTime};
use wasm_bindgen::{JsCast, JsValue};

/// Milliseconds since the Unix epoch, from `Date.now()`: the wall clock.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// `performance` and its `now` method, looked up once.
struct Monotonic {
    performance: JsValue,
    now: Function,
    origin: f64,
}

fn monotonic_source() -> Option<Monotonic> {
    let performance = Reflect::get(&js_sys::global(), &JsValue::from_str("performance")).ok()?;
    if !performance.is_object() {
        return None;
    }
    let now: Function = Reflect::get(&performance, &JsValue::from_str("now"))
        .ok()?
        .dyn_into()
        .ok()?;
    let origin = Reflect::get(&performance, &JsValue::from_str("timeOrigin"))
        .ok()
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 0.0)
        .unwrap_or(0.0);
    Some(Monotonic {
        performance,
        now,
        origin,
    })
}

thread_local! {
    static MONOTONIC: Option<Monotonic> = monotonic_source();
    /// The last reading, so that the fallback never goes backwards.
    static LAST: Cell<f64> = const { Cell::new(0.0) };
}

/// Milliseconds on the monotonic clock: `performance.timeOrigin + performance.now()`
/// (or the wall clock, never going backwards, where there is no `performance`).
pub fn monotonic_ms() -> f64 {
    let reading = MONOTONIC
        .with(|m| {
            let m = m.as_ref()?;
            let now = m.now.call0(&m.performance).ok()?.as_f64()?;
            Some(m.origin + now)
        })
        .filter(|ms| ms.is_finite())
        .unwrap_or_else(now_ms);
    LAST.with(|last| {
        let ms = reading.max(last.get());
        last.set(ms);
        ms
    })
}

/// The current time as the core's [`Instant`]: monotonic milliseconds.
pub fn now() -> Instant {
    // Float-to-integer casts saturate: a negative or NaN clock reads as zero.
    Instant::from_millis(monotonic_ms() as u64)
}

/// An [`Instant`] as whole milliseconds on the monotonic clock, for JavaScript timers.
///
/// Rounded up, so that a timer set for the result finds the deadline due. Converted
/// from whole milliseconds: nanoseconds since the epoch exceed 2^53, and dividing
/// them as a float came out a fraction of a millisecond early.
pub fn to_ms(instant: Instant) -> f64 {
    instant.as_nanos().div_ceil(1_000_000) as f64
}

/// Milliseconds from `now` (monotonic) until `deadline`, at least 0.
pub fn ms_until(deadline: Instant, now_ms: f64) -> f64 {
    (to_ms(deadline) - now_ms.floor()).max(0.0)
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

    #[test]
    fn time_until_a_deadline_is_never_negative() {
        let deadline = Instant::from_millis(10_000);
        assert_eq!(ms_until(deadline, 9_000.0), 1_000.0);
        assert_eq!(ms_until(deadline, 9_000.7), 1_000.0);
        assert_eq!(ms_until(deadline, 12_000.0), 0.0);
    }
}
