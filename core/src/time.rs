//! Monotonic time as the driver sees it, and wall-clock formatting.
//!
//! The core's state machine never reads a clock. Drivers pass an [`Instant`] with every
//! input; certificate validity uses the wall clock of the configured `TimeProvider`
//! ([`SystemClock`] by default with the `std` feature).

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

#[cfg(feature = "std")]
mod std_clock {
    use super::Instant;
    use core::time::Duration;
    use std::sync::OnceLock;

    /// The process-wide origin of [`Instant`]s made from `std::time::Instant`s: the first
    /// conversion, moved a day back so that instants taken a little earlier (a runtime's
    /// paused clock, a timestamp taken before the first connection) still convert exactly.
    fn origin() -> std::time::Instant {
        static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
        *ORIGIN.get_or_init(|| {
            let now = std::time::Instant::now();
            [86_400, 3_600, 60, 1]
                .into_iter()
                .find_map(|s| now.checked_sub(Duration::from_secs(s)))
                .unwrap_or(now)
        })
    }

    impl Instant {
        /// Now, on the process's monotonic clock (`std::time::Instant`).
        pub fn now() -> Instant {
            Instant::from_std(std::time::Instant::now())
        }

        /// The core instant for a `std::time::Instant` (saturating at the origin).
        /// All conversions in a process share one origin, so `from_std` and
        /// [`Instant::to_std`] round-trip.
        pub fn from_std(instant: std::time::Instant) -> Instant {
            Instant::from_duration(instant.saturating_duration_since(origin()))
        }

        /// The `std::time::Instant` for this instant, for arming a timer (saturating in
        /// the far future).
        pub fn to_std(self) -> std::time::Instant {
            let origin = origin();
            let far = Duration::from_secs(100 * 365 * 86_400);
            let d = Duration::from_nanos(self.as_nanos()).min(far);
            origin.checked_add(d).unwrap_or(origin + far)
        }
    }

    impl From<std::time::Instant> for Instant {
        fn from(instant: std::time::Instant) -> Instant {
            Instant::from_std(instant)
        }
    }
}

/// The operating system's wall clock (`std::time::SystemTime`), for certificate validity.
/// The default time provider of [`ConfigBuilder`](crate::ConfigBuilder) with the `std`
/// feature.
#[cfg(feature = "std")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SystemClock;

#[cfg(feature = "std")]
impl rustls::time_provider::TimeProvider for SystemClock {
    fn current_time(&self) -> Option<rustls::pki_types::UnixTime> {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?;
        Some(rustls::pki_types::UnixTime::since_unix_epoch(since))
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

/// A proleptic Gregorian UTC date and time as Unix seconds; `None` for dates before 1970
/// or out-of-range fields. The inverse of [`civil_from_days`] (Hinnant's `days_from_civil`).
pub(crate) fn unix_from_civil(y: u64, m: u64, d: u64, hh: u64, mm: u64, ss: u64) -> Option<u64> {
    let leap = y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400));
    let month_days = [
        31,
        if leap { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    let max_day = *month_days.get(usize::try_from(m).ok()?.checked_sub(1)?)?;
    if y < 1970 || d == 0 || d > max_day || hh > 23 || mm > 59 || ss > 59 {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn civil_dates_round_trip() {
        assert_eq!(unix_from_civil(1970, 1, 1, 0, 0, 0), Some(0));
        assert_eq!(unix_from_civil(2000, 2, 29, 12, 0, 1), Some(951_825_601));
        for secs in [
            0u64,
            951_825_601,
            4_102_444_800,
            1_234_567_890,
            253_402_300_799,
        ] {
            let (y, m, d) = civil_from_days(secs / 86_400);
            let r = secs % 86_400;
            assert_eq!(
                unix_from_civil(y, m, d, r / 3600, r % 3600 / 60, r % 60),
                Some(secs)
            );
        }
        for bad in [
            (1969, 12, 31),
            (2001, 2, 29),
            (2024, 13, 1),
            (2024, 0, 1),
            (2024, 4, 31),
        ] {
            assert_eq!(
                unix_from_civil(bad.0, bad.1, bad.2, 0, 0, 0),
                None,
                "{bad:?}"
            );
        }
        assert_eq!(unix_from_civil(2024, 1, 1, 24, 0, 0), None);
        assert_eq!(unix_from_civil(2024, 1, 1, 0, 60, 0), None);
    }

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

    #[cfg(feature = "std")]
    #[test]
    fn std_instants_round_trip() {
        let earlier = std::time::Instant::now();
        let now = Instant::now();
        let later = earlier + Duration::from_millis(1500);
        assert!(Instant::from_std(earlier) <= now);
        assert_eq!(Instant::from_std(later).to_std(), later);
        assert_eq!(
            Instant::from(later).saturating_duration_since(Instant::from(earlier)),
            Duration::from_millis(1500)
        );
        // The far future saturates instead of panicking.
        let _ = Instant::from_nanos(u64::MAX).to_std();
    }

    #[cfg(feature = "std")]
    #[test]
    fn system_clock_reads_the_wall_clock() {
        use rustls::time_provider::TimeProvider;
        let t = SystemClock.current_time().unwrap().as_secs(); // ok: test code
        assert!(t > 1_700_000_000, "{t}");
    }
}
