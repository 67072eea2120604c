//! Quartermaster's ledger core: the domain, its rules and its in-memory indexes.
//!
//! Architecture invariant: no I/O, no async, no JSON, no database. Broken input comes back as
//! data ([`Rejection`]) beside the result; the same journal always rebuilds the same state.

mod record;

pub use record::*;
