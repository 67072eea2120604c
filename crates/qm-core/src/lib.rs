//! Quartermaster's ledger core: the domain, its rules and its in-memory indexes.
//!
//! Architecture invariant: no I/O, no async, no JSON, no database. Broken input comes back as
//! data ([`Rejection`]) beside the result; the same journal always rebuilds the same state.

mod codec;
mod idhash;
mod ledger;
pub mod limits;
mod record;
mod rejection;
mod snapshot;
pub mod time;
pub mod timeline;

pub use idhash::id_hash;
pub use ledger::*;
pub use record::*;
pub use rejection::*;
pub use snapshot::{snapshot_format_is_current, SnapshotError};
pub use time::{
    civil_from_days, days_from_civil, format_time, format_time_plain, parse_time,
    parse_time_checked, ParseTimeError,
};
