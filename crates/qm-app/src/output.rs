//! The JSON the edges print: one typed, `Serialize` struct per output, shared by the CLI
//! (`--json`) and, later, the HTTP server, so that both say exactly the same thing.
//!
//! API boundary: these shapes are what scripts and acceptance checks read. Field names and
//! nesting never change; fields may be added. Fields are declared in alphabetical order
//! because that is the order the outputs have always had (they were first built from
//! `serde_json` maps, which sort their keys): keep new fields in that order too, so that
//! the bytes of an output only change when its content does.

use serde::Serialize;

use crate::{AppError, Applied, VerifyFailure, VerifyReport};

/// One row of `qm balance --json`: the balance of a (holder, item, lot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Balance<'a> {
    pub holder: &'a str,
    pub item: &'a str,
    /// `null` for an item that is not lot-tracked.
    pub lot: Option<&'a str>,
    pub qty: i64,
}

impl<'a> From<qm_core::Balance<'a>> for Balance<'a> {
    fn from(b: qm_core::Balance<'a>) -> Balance<'a> {
        Balance {
            holder: b.holder,
            item: b.item,
            lot: b.lot,
            qty: b.qty,
        }
    }
}

/// `qm review --json`, and the other reports (`qm transfers`, `qm transfer show`, `qm
/// pauses`): the report's own types, which serialise as these outputs (the review's fields
/// in alphabetical order like those here).
pub use qm_report::{
    CoveredRow, DepotQty, PauseRow, Review, ReviewItem, SummaryRow, TransferDetail, TransferRow,
};

/// One element of `qm apply --json` (an array, one per file in the order given).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ApplyFile {
    /// The file was applied (or held nothing new).
    Applied {
        /// The batch it became; `null` when every record was already recorded.
        batch: Option<u64>,
        duplicates: usize,
        file: String,
        new_records: usize,
    },
    /// Nothing of the file was applied.
    Rejected {
        file: String,
        /// Every reason, one per line (`file:line: field "f": message`).
        rejected: String,
    },
}

impl ApplyFile {
    /// The summary of one file's outcome.
    pub fn new(file: &str, outcome: &Result<Applied, AppError>) -> ApplyFile {
        match outcome {
            Ok(a) => ApplyFile::Applied {
                file: file.to_owned(),
                batch: a.batch,
                new_records: a.new_records,
                duplicates: a.duplicates,
            },
            Err(e) => ApplyFile::Rejected {
                file: file.to_owned(),
                rejected: e.message(),
            },
        }
    }
}

/// `qm verify --json` when everything holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    pub batches: u64,
    pub movements: u64,
    /// Always `true`.
    pub ok: bool,
    pub records: u64,
    /// The batch the snapshot was taken at; `null`: no snapshot.
    pub snapshot_batch: Option<u64>,
    /// The snapshot is in another program's format: ignored at start-up, not compared.
    pub snapshot_outdated: bool,
}

impl From<&VerifyReport> for Verified {
    fn from(r: &VerifyReport) -> Verified {
        Verified {
            ok: true,
            batches: r.batches,
            records: r.records,
            movements: r.movements,
            snapshot_batch: r.snapshot_seq,
            snapshot_outdated: r.snapshot_outdated,
        }
    }
}

/// `qm verify --json` when something does not hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifyFailed {
    /// The first bad batch, when the failure is in one.
    pub batch: Option<u64>,
    pub error: String,
    /// Always `false`.
    pub ok: bool,
}

impl From<&VerifyFailure> for VerifyFailed {
    fn from(f: &VerifyFailure) -> VerifyFailed {
        VerifyFailed {
            ok: false,
            batch: f.batch,
            error: f.message.clone(),
        }
    }
}
