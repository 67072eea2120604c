//! Times of the interchange format: the reader and writer are `qm_core::time` (the project's
//! one time module, re-exported here as [`parse_time`] and [`format_time`]); this file holds
//! what messages say about a bad time.
//!
//! Accepted: RFC 3339 `YYYY-MM-DDTHH:MM:SS[.F]{Z|±HH:MM}` (up to 9 fractional digits, any
//! offset up to ±23:59, converted to UTC) or a bare date `YYYY-MM-DD` (midnight UTC), from
//! `1677-09-21T00:12:43.145224192Z` to `2262-04-11T23:47:16.854775807Z` (the range of `i64`
//! nanoseconds). Written: `2025-07-04T12:00:00Z`, fraction only when non-zero, trailing zeros
//! trimmed, always `Z`.

pub use qm_core::time::{format_time, parse_time, parse_time_checked};
use qm_core::time::{ParseTimeError, TIME_MAX_TEXT, TIME_MIN_TEXT};

/// What the message of a malformed time names as accepted.
pub(crate) const TIME_EXPECTED: &str =
    "expected an RFC 3339 time like \"2025-07-04T12:00:00Z\" (any offset, up to 9 fractional digits) or a date like \"2025-07-04\" (midnight UTC)";

/// The message for a text that is not a time.
pub(crate) fn time_message(e: ParseTimeError) -> String {
    match e {
        ParseTimeError::Malformed => TIME_EXPECTED.to_owned(),
        ParseTimeError::OutOfRange => format!(
            "expected an RFC 3339 time within the supported range, {TIME_MIN_TEXT} to {TIME_MAX_TEXT}"
        ),
    }
}
