//! The time module against `jiff`, over the whole range of `Time` (every `i64` nanosecond):
//! our canonical form is jiff's RFC 3339 in UTC under our trimming rule, it reads back to the
//! same instant, texts at any offset read as jiff reads them, and the calendar agrees with
//! jiff's dates.

use jiff::civil::Date;
use jiff::tz::{Offset, TimeZone};
use jiff::Timestamp;
use proptest::prelude::*;
use qm_core::time::{
    add_months, civil_from_days, date, days_from_civil, days_in_month, format_time,
    format_time_plain, month_start, parse_time, parse_time_checked, shift_months, year_month,
    ParseTimeError, NANOS_PER_DAY, TIME_MAX_TEXT, TIME_MIN_TEXT,
};
use qm_core::Time;

fn jiff(t: Time) -> Timestamp {
    Timestamp::from_nanosecond(t as i128).expect("every i64 nanosecond is a jiff timestamp")
}

/// Our trimming rule applied to jiff's text with all nine fractional digits: trailing zeros
/// of the fraction dropped, and the `.` with them when nothing is left.
fn trimmed(nine_digits: &str) -> String {
    let (head, z) = nine_digits.split_at(nine_digits.len() - 1);
    assert_eq!(z, "Z");
    let (secs, frac) = head.split_once('.').expect("nine fractional digits");
    assert_eq!(frac.len(), 9);
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{secs}Z")
    } else {
        format!("{secs}.{frac}Z")
    }
}

/// Instants all over the range, with its ends and whole seconds and days near often.
fn instant() -> impl Strategy<Value = Time> {
    prop_oneof![
        4 => any::<Time>(),
        1 => any::<i32>().prop_map(|s| s as i64 * 1_000_000_000),
        1 => (-106_751i64..=106_750).prop_map(|d| d * NANOS_PER_DAY),
        1 => (0i64..1000).prop_map(|d| Time::MIN + d),
        1 => (0i64..1000).prop_map(|d| Time::MAX - d),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn format_is_jiffs_rfc_3339_trimmed(t in instant()) {
        let ours = format_time_plain(t);
        prop_assert_eq!(&ours, &trimmed(&format!("{:.9}", jiff(t))));
        // jiff's own default form trims the same way.
        prop_assert_eq!(&ours, &jiff(t).to_string());
        let mut appended = String::from("x");
        format_time(t, &mut appended);
        prop_assert_eq!(&appended[1..], ours.as_str());
    }

    #[test]
    fn format_reads_back(t in instant()) {
        prop_assert_eq!(parse_time(&format_time_plain(t)), Some(t));
    }

    /// A text at any offset (up to ±23:59), with 0 to 9 fractional digits, lower-case `t`
    /// and `z` sometimes, reads as jiff reads it, or is out of range exactly when jiff's
    /// instant is outside ours.
    #[test]
    fn offsets_read_as_jiff_reads_them(
        t in instant(),
        offset_min in -(23 * 60 + 59)..=(23 * 60 + 59i32),
        digits in 0usize..=9,
        lower in any::<bool>(),
    ) {
        let offset = Offset::from_seconds(offset_min * 60).unwrap();
        // Truncated to `digits` fractional digits, so that the text says exactly `t2`.
        let unit = 10i64.pow(9 - digits as u32);
        let rem = t.rem_euclid(unit);
        let t2 = t.checked_sub(rem).unwrap_or_else(|| t + (unit - rem));
        let mut text = if digits == 0 {
            format!("{:.0}", jiff(t2).display_with_offset(offset))
        } else {
            format!("{:.*}", digits, jiff(t2).display_with_offset(offset))
        };
        if lower {
            text = text.replace('T', "t");
        }
        let theirs: Timestamp = text.parse().unwrap();
        prop_assert_eq!(theirs.as_nanosecond(), t2 as i128);
        prop_assert_eq!(parse_time(&text), Some(t2), "{}", text);
        // The same local time past either end of our range (shifted by days) is out of range.
        let years_300 = 300 * 365 * NANOS_PER_DAY as i128;
        let shifted = if t2 > 0 { t2 as i128 + years_300 } else { t2 as i128 - years_300 };
        let far = Timestamp::from_nanosecond(shifted).unwrap();
        let far_text = format!("{:.9}", far.display_with_offset(offset));
        prop_assert_eq!(parse_time_checked(&far_text), Err(ParseTimeError::OutOfRange), "{}", far_text);
    }

    /// `Z` texts with any number of digits, and bare dates, read as jiff reads them.
    #[test]
    fn dates_read_as_jiff_reads_them(day in -106_751i64..=106_750) {
        let (y, m, d) = civil_from_days(day);
        let text = format!("{y:04}-{m:02}-{d:02}");
        let theirs = Date::new(y as i16, m as i8, d as i8).unwrap()
            .to_zoned_datetime(TimeZone::UTC).unwrap().timestamp();
        prop_assert_eq!(parse_time(&text).map(|t| t as i128), Some(theirs.as_nanosecond()));
    }

    /// Day numbers to dates and back agree with jiff over every day of the range and more.
    #[test]
    fn civil_agrees_with_jiff(day in -3_000_000i64..=2_900_000) {
        let (y, m, d) = civil_from_days(day);
        let theirs = Date::new(y as i16, m as i8, d as i8).unwrap();
        let midnight = theirs.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp();
        prop_assert_eq!(midnight.as_second(), day * 86_400);
        prop_assert_eq!(days_from_civil(y, m, d), day);
        prop_assert!(d <= days_in_month(y, m));
        prop_assert_eq!(theirs.days_in_month() as u32, days_in_month(y, m));
    }

    #[test]
    fn months_agree_with_jiff(t in instant(), months in 0u32..1200) {
        let ts = jiff(t).to_zoned_datetime(TimeZone::UTC);
        prop_assert_eq!(year_month(t), (ts.year() as i32, ts.month() as u32));
        let (y, m, d) = civil_from_days(t.div_euclid(NANOS_PER_DAY));
        // (The first day of the range starts before it: its midnight is not a `Time`.)
        if let Some(midnight) = t.checked_sub(t.rem_euclid(NANOS_PER_DAY)) {
            prop_assert_eq!(date(y as i32, m, d), midnight);
        }
        // Within the range, `add_months` is jiff's month arithmetic on a day clamped to 28.
        let start = Date::new(y as i16, m as i8, d.min(28) as i8).unwrap();
        let Ok(theirs) = start.checked_add(jiff::Span::new().months(months as i64)) else {
            return Ok(());
        };
        let midnight = theirs.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp().as_nanosecond();
        let theirs_t = midnight + t.rem_euclid(NANOS_PER_DAY) as i128;
        if i64::try_from(midnight).is_ok() {
            if let Ok(theirs_t) = i64::try_from(theirs_t) {
                prop_assert_eq!(add_months(t, months), theirs_t);
            }
        }
    }

    #[test]
    fn calendar_months_agree_with_jiff(t in instant(), months in -600i64..600) {
        // `shift_months` is jiff's month arithmetic, which clamps the day to the month's
        // length, and `month_start` the first of the month it lands in.
        let (y, m, d) = civil_from_days(t.div_euclid(NANOS_PER_DAY));
        let start = Date::new(y as i16, m as i8, d as i8).unwrap();
        let Ok(theirs) = start.checked_add(jiff::Span::new().months(months)) else {
            return Ok(());
        };
        let midnight = theirs.to_zoned_datetime(TimeZone::UTC).unwrap().timestamp().as_nanosecond();
        let theirs_t = midnight + t.rem_euclid(NANOS_PER_DAY) as i128;
        if let (Ok(_), Ok(theirs_t)) = (i64::try_from(midnight), i64::try_from(theirs_t)) {
            prop_assert_eq!(shift_months(t, months), theirs_t);
            let first = theirs.first_of_month().to_zoned_datetime(TimeZone::UTC).unwrap();
            let first = first.timestamp().as_nanosecond();
            // (Within the range: the first of the range's first month is before it.)
            if i64::try_from(first).is_ok() {
                prop_assert_eq!(month_start(theirs.year() as i64, theirs.month() as i64) as i128, first);
                prop_assert_eq!(month_start(y, m as i64 + months) as i128, first);
            }
        }
    }
}

#[test]
fn the_range_is_i64_nanoseconds() {
    assert_eq!(jiff(Time::MIN).to_string(), TIME_MIN_TEXT);
    assert_eq!(jiff(Time::MAX).to_string(), TIME_MAX_TEXT);
    assert_eq!(parse_time(TIME_MIN_TEXT), Some(Time::MIN));
    assert_eq!(parse_time(TIME_MAX_TEXT), Some(Time::MAX));
}
