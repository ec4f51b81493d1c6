//! Monotonic time as the driver sees it, and wall-clock formatting.
//!
//! The core never reads a clock. Drivers pass an [`Instant`] with every input;
//! certificate validity uses the wall clock of the configured `TimeProvider`.

use core::fmt;
use core::ops::Add;
use core::time::Duration;

/// A point on the driver's monotonic clock, in nanoseconds since an origin the
/// driver chooses (process start, `performance.now()`, a simulated zero, …).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(u64);

impl Instant {
    /// The driver's origin.
    pub const ZERO: Instant = Instant(0);

    /// An instant `nanos` nanoseconds after the origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// An instant `millis` milliseconds after the origin (saturating).
    pub const fn from_millis(millis: u64) -> Self {
        Instant(millis.saturating_mul(1_000_000))
    }

    /// An instant `d` after the origin (saturating).
    pub fn from_duration(d: Duration) -> Self {
        Instant(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// Nanoseconds since the origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Time elapsed from `earlier` to `self`, zero if `earlier` is later.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// Saturates at the far future instead of overflowing.
    fn add(self, d: Duration) -> Instant {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }
}

/// A Unix timestamp (seconds) shown as `YYYY-MM-DD HH:MM:SS UTC`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime(pub u64);

impl fmt::Display for UtcTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0;
        let days = secs / 86_400;
        let rem = secs % 86_400;
        let (y, m, d) = civil_from_days(days);
        write!(
            f,
            "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
            rem / 3600,
            (rem % 3600) / 60,
            rem % 60
        )
    }
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
/// Howard Hinnant's `civil_from_days`, unsigned because certificates never predate 1970 here.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn formats_known_dates() {
        assert_eq!(UtcTime(0).to_string(), "1970-01-01 00:00:00 UTC");
        assert_eq!(
            UtcTime(1_704_067_200).to_string(),
            "2024-01-01 00:00:00 UTC"
        );
        assert_eq!(UtcTime(951_825_600).to_string(), "2000-02-29 12:00:00 UTC");
        assert_eq!(
            UtcTime(4_102_444_799).to_string(),
            "2099-12-31 23:59:59 UTC"
        );
    }

    #[test]
    fn instant_arithmetic_saturates() {
        let far = Instant::from_nanos(u64::MAX - 1) + Duration::from_secs(5);
        assert_eq!(far.as_nanos(), u64::MAX);
        let a = Instant::from_millis(10);
        assert_eq!(
            a.saturating_duration_since(Instant::from_millis(4)),
            Duration::from_millis(6)
        );
        assert_eq!(Instant::ZERO.saturating_duration_since(a), Duration::ZERO);
    }
}
