//! End-to-end tests of the `qm` binary, run as a user would run it: in a temporary
//! directory, against a real SQLite database file, through the commands and the interchange
//! format of `shared/spec/interchange.md`.
//!
//! - `bench`: `qm bench --workflow` and `--review` run on tiny sizes and print their figures
//!   (nothing timed).
//! - `cli`: the commands, their options, output shapes and exit statuses, and the ledger's
//!   rules as seen through them (atomic batches, idempotent ids, late records, round trips);
//!   messages, help, closed pipes, who recorded a batch, tables, the demo, the README.
//! - `crash`: `qm apply` killed with SIGKILL at random moments never loses an acknowledged
//!   batch, never leaves half a batch, and the database still verifies and accepts the rest.
//! - `follow`: `qm export --follow` sees batches other processes commit, promptly.
//! - `open_modes`: commands that only read never create a database, and refuse a path that
//!   holds none (or cannot hold one) with exit status 1, naming it.
//! - `report`: `qm report` in every format on a coalition scenario, and the HTML page in
//!   headless Chromium (renders, charts present, no console messages, a screenshot).
//! - `race`: eight `qm apply` processes racing for the same stock, on the embedded file and
//!   on PostgreSQL: no oversell, nothing acknowledged lost, nothing recorded twice.
//! - `tamper`: edits made behind `qm`'s back (rows changed, removed, bytes flipped) are caught
//!   by `qm verify` whenever they change what `qm` reports.
//! - `views`: the workflow's analysts' views (`transfer_lines`, `allocations`, `pauses`) seen
//!   from SQL after `qm apply`, checked by `qm verify`, and brought to an older file.

mod bench;
mod cli;
mod crash;
mod follow;
mod open_modes;
mod race;
mod report;
mod support;
mod tamper;
mod views;
mod workflow;
