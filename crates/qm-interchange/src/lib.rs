//! Interchange format v1: JSON Lines records in and out, with file:line:field errors.
//!
//! The format is `shared/spec/interchange.md`; the records are [`qm_core::Record`].
//!
//! - [`parse_record`] reads one line, [`parse_text`] a whole file (every bad line reported,
//!   up to a cap), [`parse_text_with`] a whole file into a callback.
//! - [`write_record`] writes one record in its canonical form, [`write_text`] a whole file.
//! - [`parse_time`] and [`format_time`] are the format's times, also for command-line options
//!   such as `--as-of`.
//!
//! API boundary: this crate checks each record on its own (types, required and unknown fields,
//! ranges, serial counts); rules across records (an unknown holder, a lot on a bulk item,
//! balances) belong to the ledger core. Round-trip invariant: for every valid record `r`,
//! `parse_record(write_record(r)) == r`, and writing what a valid line parses to gives a line
//! that parses to the same record.
//!
//! Map: `read.rs` (one line to a record, and its errors), `scan.rs` (the fast path of reading a
//! line), `text.rs` (a file), `write.rs` (canonical writing), `time.rs` (times in and out).

mod read;
mod scan;
mod text;
mod time;
mod write;

pub use qm_core::{Record, Time};
pub use read::{parse_record, FieldError};
pub use text::{parse_text, parse_text_with, ParseError, ParseErrors, ERRORS_MAX_DEFAULT};
pub use time::{format_time, parse_time};
pub use write::{write_record, write_text};
