//! Effective times: the one calendar and the one RFC 3339 reader and writer of the project.
//!
//! A [`Time`] is nanoseconds since 1970-01-01T00:00:00Z in an `i64`, so the supported range
//! is [`TIME_MIN_TEXT`] to [`TIME_MAX_TEXT`] (about 1677-09-21 to 2262-04-11), UTC, on the
//! proleptic Gregorian calendar, without leap seconds.
//!
//! - Reading: [`parse_time`] (or [`parse_time_checked`], which also tells a malformed text
//!   from a well-formed time outside the range) takes `YYYY-MM-DDTHH:MM:SS[.F]{Z|±HH:MM}`
//!   (`T` and `Z` may be lower case, as RFC 3339 allows; `F` is 1 to 9 digits; an offset is
//!   converted to UTC, `-00:00` reads as UTC) or a bare date `YYYY-MM-DD`, meaning midnight
//!   UTC. Rejected: invalid dates (month 13, 30 February, 29 February of a common year), hour
//!   24, leap second 60 (a `Time` cannot represent it), offsets beyond ±23:59, a space instead
//!   of `T`, more than 9 fractional digits, and anything outside the range.
//! - Writing: [`format_time`] appends the canonical UTC form `2025-07-04T12:00:00Z`, with
//!   `.F` before the `Z` only when there are fractional seconds, trailing zeros trimmed (`.5`,
//!   `.000001`, `.123456789`); [`format_time_plain`] returns it as a `String`, for messages.
//!   Every `Time` has exactly one canonical text and it reads back to the same `Time`.
//! - The calendar: [`days_from_civil`] and [`civil_from_days`] (day numbers since
//!   1970-01-01), and the month helpers [`date`], [`year_month`] and [`add_months`].
//!
//! The reader and writer work on bytes with no allocation: the canonical form costs a few
//! dozen comparisons and multiplications (they are on the path of every movement read or
//! exported). `tests/it/time.rs` checks all of it against `jiff` over the whole range.

use crate::Time;

pub const NANOS_PER_SEC: i64 = 1_000_000_000;
pub const SECS_PER_DAY: i64 = 86_400;
pub const NANOS_PER_DAY: i64 = SECS_PER_DAY * NANOS_PER_SEC;

/// The earliest `Time` (`i64::MIN` nanoseconds) in its canonical form.
pub const TIME_MIN_TEXT: &str = "1677-09-21T00:12:43.145224192Z";

/// The latest `Time` (`i64::MAX` nanoseconds) in its canonical form.
pub const TIME_MAX_TEXT: &str = "2262-04-11T23:47:16.854775807Z";

/// Why a text is not a [`Time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParseTimeError {
    /// Not one of the accepted forms, or an invalid date or time of day.
    Malformed,
    /// A well-formed time (or date) outside [`TIME_MIN_TEXT`]..=[`TIME_MAX_TEXT`].
    OutOfRange,
}

/// Parses an RFC 3339 time (any offset, converted to UTC) or a bare date (midnight UTC).
///
/// `None` when `s` is not one of the accepted forms, names an invalid date or time of day, or
/// lies outside the range of [`Time`].
#[inline]
pub fn parse_time(s: &str) -> Option<Time> {
    parse_time_checked(s).ok()
}

/// [`parse_time`], telling a malformed text from a well-formed time outside the range.
#[inline]
pub fn parse_time_checked(s: &str) -> Result<Time, ParseTimeError> {
    use ParseTimeError::Malformed;
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(Malformed);
    }
    let year = digits(&b[0..4]).ok_or(Malformed)?;
    let month = digits(&b[5..7]).ok_or(Malformed)?;
    let day = digits(&b[8..10]).ok_or(Malformed)?;
    if !(1..=12).contains(&month) || day < 1 || day > month_days(year, month) {
        return Err(Malformed);
    }
    let days = days_from_civil(year as i64, month, day);
    if b.len() == 10 {
        return to_time(days * SECS_PER_DAY, 0);
    }
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return Err(Malformed);
    }
    let hour = digits(&b[11..13]).ok_or(Malformed)?;
    let minute = digits(&b[14..16]).ok_or(Malformed)?;
    let second = digits(&b[17..19]).ok_or(Malformed)?;
    if hour > 23 || minute > 59 || second > 59 {
        return Err(Malformed);
    }
    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let [b'.', frac @ ..] = rest {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return Err(Malformed);
        }
        nanos = digits(&frac[..n]).ok_or(Malformed)? as i64 * 10i64.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset_secs = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = digits(&[*h1, *h2]).ok_or(Malformed)?;
            let om = digits(&[*m1, *m2]).ok_or(Malformed)?;
            if oh > 23 || om > 59 {
                return Err(Malformed);
            }
            let secs = (oh * 3600 + om * 60) as i64;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return Err(Malformed),
    };
    let secs = days * SECS_PER_DAY + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    to_time(secs, nanos)
}

/// Appends the canonical UTC form of `t` to `out`: `2025-07-04T12:00:00Z`, with `.F` before
/// the `Z` only when there are fractional seconds, trailing zeros trimmed.
#[inline]
pub fn format_time(t: Time, out: &mut String) {
    let secs = t.div_euclid(NANOS_PER_SEC);
    let nanos = t.rem_euclid(NANOS_PER_SEC) as u32;
    let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
    let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
    // The range of `Time` is years 1677 to 2262: always four digits.
    debug_assert!((1000..=9999).contains(&y));
    let mut buf = [0u8; 30];
    put4(&mut buf[0..4], y as u32);
    buf[4] = b'-';
    put2(&mut buf[5..7], m);
    buf[7] = b'-';
    put2(&mut buf[8..10], d);
    buf[10] = b'T';
    put2(&mut buf[11..13], sod / 3600);
    buf[13] = b':';
    put2(&mut buf[14..16], sod / 60 % 60);
    buf[16] = b':';
    put2(&mut buf[17..19], sod % 60);
    let mut len = 19;
    if nanos != 0 {
        buf[19] = b'.';
        let mut frac = nanos;
        let mut n = 9;
        while frac.is_multiple_of(10) {
            frac /= 10;
            n -= 1;
        }
        for i in (0..n).rev() {
            buf[20 + i] = b'0' + (frac % 10) as u8;
            frac /= 10;
        }
        len = 20 + n;
    }
    buf[len] = b'Z';
    len += 1;
    out.push_str(std::str::from_utf8(&buf[..len]).expect("only ASCII digits and separators"));
}

/// The canonical form of `t` (as [`format_time`] writes it) as a new `String`.
pub fn format_time_plain(t: Time) -> String {
    let mut s = String::with_capacity(30);
    format_time(t, &mut s);
    s
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
#[inline]
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date (year, month 1-12, day 1-31) of a day number since 1970-01-01.
#[inline]
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
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

/// Whether `y` is a leap year of the proleptic Gregorian calendar.
pub fn is_leap_year(y: i64) -> bool {
    y.rem_euclid(4) == 0 && (y.rem_euclid(100) != 0 || y.rem_euclid(400) == 0)
}

/// The number of days of month `m` (1-12) of year `y`.
pub fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// [`days_in_month`] for the years of the text form, 0 to 9999, in cheaper unsigned
/// arithmetic (it is on the path of every time read).
fn month_days(y: u32, m: u32) -> u32 {
    match m {
        2 if y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
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

/// `t` moved by `months` calendar months (either way), keeping the time of day, the day of
/// the month clamped to the length of the month it lands in (31 January plus one month is
/// 28 or 29 February). Unlike [`add_months`], which clamps every day to 28 for generators
/// that step month by month, this is the calendar arithmetic of reports.
pub fn shift_months(t: Time, months: i64) -> Time {
    let days = t.div_euclid(NANOS_PER_DAY);
    let time_of_day = t.rem_euclid(NANOS_PER_DAY);
    let (y, m, d) = civil_from_days(days);
    let m0 = (m - 1) as i64 + months;
    let y = y + m0.div_euclid(12);
    let m = (m0.rem_euclid(12) + 1) as u32;
    days_from_civil(y, m, d.min(days_in_month(y, m)))
        .saturating_mul(NANOS_PER_DAY)
        .saturating_add(time_of_day)
}

/// The first instant of month `m` of year `y`; months past 12 or below 1 roll into the
/// years after or before (month 13 of 2025 is January 2026).
pub fn month_start(y: i64, m: i64) -> Time {
    let y = y + (m - 1).div_euclid(12);
    let m = ((m - 1).rem_euclid(12) + 1) as u32;
    days_from_civil(y, m, 1).saturating_mul(NANOS_PER_DAY)
}

/// Nanoseconds from whole seconds and a fraction, if within the range of [`Time`].
fn to_time(secs: i64, nanos: i64) -> Result<Time, ParseTimeError> {
    Time::try_from(secs as i128 * NANOS_PER_SEC as i128 + nanos as i128)
        .map_err(|_| ParseTimeError::OutOfRange)
}

/// The value of a run of ASCII digits (at most 9).
fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

fn put2(buf: &mut [u8], v: u32) {
    buf[0] = b'0' + (v / 10) as u8;
    buf[1] = b'0' + (v % 10) as u8;
}

fn put4(buf: &mut [u8], v: u32) {
    put2(&mut buf[0..2], v / 100);
    put2(&mut buf[2..4], v % 100);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_days() {
        for z in [-1_000_000i64, -1, 0, 1, 19_000, 2_932_896] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(days_from_civil(2025, 7, 4), 20_273);
    }

    #[test]
    fn formats() {
        assert_eq!(format_time_plain(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            format_time_plain(20_273 * NANOS_PER_DAY + 12 * 3600 * NANOS_PER_SEC),
            "2025-07-04T12:00:00Z"
        );
        assert_eq!(format_time_plain(1_500_000_000), "1970-01-01T00:00:01.5Z");
        assert_eq!(format_time_plain(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(format_time_plain(i64::MIN), TIME_MIN_TEXT);
        assert_eq!(format_time_plain(i64::MAX), TIME_MAX_TEXT);
    }

    #[test]
    fn tells_out_of_range_from_malformed() {
        assert_eq!(parse_time_checked(TIME_MIN_TEXT), Ok(i64::MIN));
        assert_eq!(parse_time_checked(TIME_MAX_TEXT), Ok(i64::MAX));
        for s in [
            "1677-09-21T00:12:43.145224191Z",
            "2262-04-11T23:47:16.854775808Z",
            "2262-04-12T01:47:16.854775808+02:00",
            "9999-12-31",
            "0000-01-01",
        ] {
            assert_eq!(
                parse_time_checked(s),
                Err(ParseTimeError::OutOfRange),
                "{s}"
            );
        }
        for s in [
            "",
            "9999-13-31",
            "0000-02-30",
            "2262-04-12T24:00:00Z",
            "2300-01-01T",
        ] {
            assert_eq!(parse_time_checked(s), Err(ParseTimeError::Malformed), "{s}");
        }
    }

    #[test]
    fn months() {
        let t = date(2022, 3, 1);
        assert_eq!(t, 1_646_092_800 * NANOS_PER_SEC);
        assert_eq!(year_month(t), (2022, 3));
        assert_eq!(year_month(t - 1), (2022, 2));
        assert_eq!(add_months(t, 10), date(2023, 1, 1));
        assert_eq!(add_months(t, 48), date(2026, 3, 1));
        assert_eq!(add_months(date(2024, 1, 31), 1), date(2024, 2, 28));
    }
}
