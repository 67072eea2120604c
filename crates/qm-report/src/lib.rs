//! Reports: pure functions over the ledger, each answering one question as typed structs that
//! serialise to the JSON the CLI prints (and the HTTP server will serve):
//!
//! - [`review`] (`review.rs`): what do we hold against what we must keep — per item, stock at
//!   an org's depots, its floor, the headroom, what is earmarked for transfers and what is
//!   available;
//! - [`transfers`] (`transfers.rs`): what did we promise and send — the donor view per
//!   (donor, recipient, item), the list of transfers with their state, one transfer in full;
//! - [`pauses`] (`pauses.rs`): what stands paused and what each pause holds back;
//! - [`money`]: exact sums of money;
//! - [`render`]: the report for people and spreadsheets, gathered once and rendered as CSV,
//!   XLSX, JSON and a self-contained HTML page with charts.
//!
//! They read the ledger's maintained state (per-(org, item) aggregates, line events), never
//! the journal. Sums of quantities are `i128`/`u128`, so no report can overflow whatever the
//! ledger holds.

pub mod forecast;
pub mod money;
pub mod pauses;
pub mod render;
pub mod review;
pub mod transfers;
pub mod wide;

pub use pauses::{pauses, CoveredRow, PauseRow};
pub use review::{
    review, review_over, review_with, what_if, DepotQty, Figures, Review, ReviewItem,
    ReviewOptions, HORIZON_DEFAULT,
};
pub use transfers::{
    donor_totals, transfer_detail, transfers_list, transfers_summary, DonorTotal, SummaryRow,
    TransferDetail, TransferFilter, TransferRow, TransferState,
};

/// Times in reports: RFC 3339 UTC, as the interchange writes them.
pub(crate) fn ser_time<S: serde::Serializer>(t: &qm_core::Time, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&qm_core::format_time_plain(*t))
}

pub(crate) fn ser_opt_time<S: serde::Serializer>(
    t: &Option<qm_core::Time>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => s.serialize_str(&qm_core::format_time_plain(*t)),
        None => s.serialize_none(),
    }
}
