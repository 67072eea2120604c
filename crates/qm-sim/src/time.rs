//! Calendar helpers for generated effective times (nanoseconds since the Unix epoch, UTC).
//!
//! The calendar arithmetic itself is `qm-core`'s.

use qm_core::{civil_from_days, days_from_civil, Time};

pub const NANOS_PER_SEC: i64 = 1_000_000_000;
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

/// Midnight UTC of a date.
pub fn date(y: i32, m: u32, d: u32) -> Time {
    days_from_civil(y as i64, m, d) * NANOS_PER_DAY
}

/// The calendar year and month (1-12) of a time.
pub fn year_month(t: Time) -> (i32, u32) {
    let (y, m, _) = civil_from_days(t.div_euclid(NANOS_PER_DAY));
    (y as i32, m)
}

/// `t` moved by whole calendar months, keeping the time of day; the day of the month is
/// clamped to 28 so that every result exists.
pub fn add_months(t: Time, months: u32) -> Time {
    let days = t.div_euclid(NANOS_PER_DAY);
    let time_of_day = t.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let m0 = (m - 1) as i64 + months as i64;
    let y = y + m0.div_euclid(12);
    let m = (m0.rem_euclid(12) + 1) as u32;
    days_from_civil(y, m, d.min(28)) * NANOS_PER_DAY + time_of_day
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = date(2022, 3, 1);
        assert_eq!(t, 1_646_092_800 * NANOS_PER_SEC);
        assert_eq!(year_month(t), (2022, 3));
        assert_eq!(year_month(t - 1), (2022, 2));
        assert_eq!(add_months(t, 10), date(2023, 1, 1));
        assert_eq!(add_months(t, 48), date(2026, 3, 1));
    }
}
