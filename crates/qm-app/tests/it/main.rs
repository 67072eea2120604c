//! The ledger's behaviour through the facade, on every backend from the same test code: the
//! embedded file and a real PostgreSQL (a throwaway cluster, or `QM_TEST_PG_URL`).
//!
//! - `conformance`: rules, idempotency, late records, round trips, snapshots, racing writers.
//! - `derived`: the analysts' transfer lines, exact after every commit, checked by `verify`,
//!   complete after `migrate` and after the first writer opens an older ledger.
//! - `facade`: the facade's own policy: checked query references, exact JSON outputs, runs
//!   of files, who records a batch, following the journal.
//! - `shared`: reader threads querying while a writer thread applies.

mod conformance;
mod derived;
mod facade;
mod shared;
mod support;
mod workflow;
