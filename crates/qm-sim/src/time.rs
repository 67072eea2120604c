//! Calendar helpers for generated effective times (nanoseconds since the Unix epoch, UTC).
//!
//! Thin re-exports: the calendar is `qm_core::time`, the project's one time module.

pub use qm_core::time::{add_months, date, year_month, NANOS_PER_DAY, NANOS_PER_SEC};
