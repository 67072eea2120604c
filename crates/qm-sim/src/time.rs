//! Calendar helpers for generated effective times (nanoseconds since the Unix epoch, UTC).
//!
//! Kept here rather than borrowed from `qm-core` so that the generators depend on nothing but
//! the record types.

use qm_core::Time;

pub const NANOS_PER_SEC: i64 = 1_000_000_000;
pub const NANOS_PER_DAY: i64 = 86_400 * NANOS_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

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
