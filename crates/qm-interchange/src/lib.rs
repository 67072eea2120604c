//! Interchange format v1 and v1.1: JSON Lines records in and out, with file:line:field errors.
//!
//! The format is `shared/spec/interchange.md` (v1: orgs, holders, items, floors, movements)
//! and `shared/spec/workflow.md` (v1.1: transfers, allocations, cancels, pauses, resumes,
//! production and consumption forecasts, threat reports, inventories); the records are
//! [`qm_core::Record`]. `docs/interchange.md` is the repository's own copy of the format as
//! implemented: every bound, and every choice where the spec is silent.
//!
//! - [`parse_record`] reads one line, [`parse_text`] a whole file (every bad line reported,
//!   up to a cap), [`parse_text_with`] a whole file into a callback; [`parse_bytes`] and
//!   [`parse_bytes_with`] the same for a file's bytes, reporting each line that is not UTF-8
//!   by its number (`f.jsonl:3: invalid UTF-8 at byte 17 of the line`).
//! - [`write_record`] writes one record in its canonical form, [`write_text`] a whole file.
//! - [`parse_time`] and [`format_time`] are the format's times (`qm_core::time`, re-exported),
//!   also for command-line options such as `--as-of`.
//!
//! Bounds on outside input (`qm_core::limits`), checked where a value enters:
//! - every quantity (`qty`, `min_qty`, `lines[].qty`, `qty_per_month`, `counts[].qty`,
//!   threat counts, `interceptors_used` values) is an integer of at most `QTY_MAX`
//!   (9007199254740991, 2^53 - 1): `expected a positive integer of at most 9007199254740991`;
//! - ids, codes, references to other records, lots, serials and item codes follow
//!   `is_valid_id`: 1 to 256 bytes, no control characters (C0, DEL, C1: rejected, so that an
//!   id always prints as what it is), no leading or trailing white space;
//! - names of orgs, holders and items are not empty and not only white space; free text
//!   (names, `note`, `reason`, `authority`, `by`, `region`, `category`, `unit`, `kind`) is at
//!   most `TEXT_BYTES_MAX` (4096) bytes;
//! - money (`unit_value`, `lines[].value`) is a non-negative decimal string of at most 15
//!   integer and 6 fractional digits;
//! - arrays (and the entries of `interceptors_used`) have at most `ARRAY_LEN_MAX` (100,000)
//!   elements;
//! - times are within `1677-09-21T00:12:43.145224192Z` to `2262-04-11T23:47:16.854775807Z`
//!   (`i64` nanoseconds), and a well-formed time outside it is told so.
//!
//! API boundary: this crate checks each record on its own (types, required and unknown fields,
//! nested shapes, the bounds above, serial counts, an item once per transfer); rules across
//! records (an unknown holder, a lot on a bulk item, balances, pauses, floors) belong to the
//! ledger core. Round-trip invariant: for every valid record `r`,
//! `parse_record(write_record(r)) == r`, and writing what a valid line parses to gives a line
//! that parses to the same record.
//!
//! Map: `schema.rs` (field names and one table per record type, declared once), `read.rs`
//! (a line to raw values, with `serde_json`), `scan.rs` (the fast path of reading a line),
//! `judge.rs` (raw values to a record, or the error naming its field), `nested.rs` (nested
//! objects and arrays, by `serde` derive), `text.rs` (a file, as text or bytes), `write.rs`
//! (canonical writing), `time.rs` (what messages say about times).

mod judge;
mod nested;
mod read;
mod scan;
mod schema;
mod text;
mod time;
mod write;

pub use qm_core::{Record, Time};
pub use read::{parse_record, FieldError};
pub use text::{
    parse_bytes, parse_bytes_with, parse_text, parse_text_with, ParseError, ParseErrors,
    ERRORS_MAX_DEFAULT,
};
pub use time::{format_time, parse_time, parse_time_checked};
pub use write::{write_record, write_text};
