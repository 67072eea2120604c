//! Times of the interchange format: RFC 3339 in, one canonical UTC form out.
//!
//! Accepted: `YYYY-MM-DDTHH:MM:SS[.F]{Z|±HH:MM}` (`T` and `Z` may be lower case, as RFC 3339
//! allows; `F` is 1 to 9 digits; an offset is converted to UTC), or a bare date `YYYY-MM-DD`
//! meaning midnight UTC. Rejected: invalid dates (month 13, 30 February, 29 February of a
//! common year), hour 24, leap second 60 (a `Time` cannot represent it), a space instead of
//! `T`, more than 9 fractional digits, and anything outside the range of [`Time`]
//! (1677-09-21 to 2262-04-11).
//!
//! Canonical form written: `2025-07-04T12:00:00Z`; fractional seconds only when non-zero, with
//! trailing zeros trimmed (`.5`, `.000001`, `.123456789`), always `Z`. This is the same text
//! as `qm_core::format_time_plain`, so messages and exports agree.
//!
//! The parser is written on bytes: the common canonical form costs a few dozen comparisons and
//! multiplications, with no allocation.

use qm_core::{civil_from_days, days_from_civil, Time};

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;

/// What the message of a bad time names as accepted.
pub(crate) const TIME_EXPECTED: &str =
    "expected an RFC 3339 time like \"2025-07-04T12:00:00Z\" (any offset, up to 9 fractional digits) or a date like \"2025-07-04\" (midnight UTC)";

/// Parses an RFC 3339 time (any offset, converted to UTC) or a bare date (midnight UTC).
///
/// `None` when `s` is not one of the accepted forms, names an invalid date or time of day, or
/// lies outside the range of [`Time`].
pub fn parse_time(s: &str) -> Option<Time> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let days = days_from_civil(year as i64, month, day);
    if b.len() == 10 {
        return to_time(days * SECS_PER_DAY, 0);
    }
    if b.len() < 20 || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let mut rest = &b[19..];
    let mut nanos = 0i64;
    if let [b'.', frac @ ..] = rest {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(&frac[..n])? as i64 * 10i64.pow(9 - n as u32);
        rest = &frac[n..];
    }
    let offset_secs = match rest {
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let oh = digits(&[*h1, *h2])?;
            let om = digits(&[*m1, *m2])?;
            if oh > 23 || om > 59 {
                return None;
            }
            let secs = (oh * 3600 + om * 60) as i64;
            if *sign == b'-' {
                -secs
            } else {
                secs
            }
        }
        _ => return None,
    };
    let secs = days * SECS_PER_DAY + (hour * 3600 + minute * 60 + second) as i64 - offset_secs;
    to_time(secs, nanos)
}

/// Appends the canonical UTC form of `t` to `out`: `2025-07-04T12:00:00Z`, with `.F` before
/// the `Z` only when there are fractional seconds, trailing zeros trimmed.
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

/// Nanoseconds from whole seconds and a fraction, if within the range of [`Time`].
fn to_time(secs: i64, nanos: i64) -> Option<Time> {
    Time::try_from(secs as i128 * NANOS_PER_SEC as i128 + nanos as i128).ok()
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

fn is_leap_year(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if is_leap_year(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}
