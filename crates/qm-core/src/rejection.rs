//! Why a batch was refused: data naming the facts a user needs to fix it.

use std::fmt;

use crate::{format_time_plain, Time};

/// A refused batch: every bad record (up to [`Rejection::MAX_ERRORS`]), none applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub errors: Vec<RecordError>,
    /// Errors found beyond [`Rejection::MAX_ERRORS`] and not listed.
    pub more: usize,
}

impl Rejection {
    pub const MAX_ERRORS: usize = 100;
}

/// One bad record of a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordError {
    /// Index of the record in the batch.
    pub index: usize,
    /// The field at fault.
    pub field: &'static str,
    pub violation: Violation,
}

/// A rule a record breaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    UnknownOrg {
        org: String,
    },
    UnknownHolder {
        holder: String,
    },
    UnknownItem {
        item: String,
    },
    /// A movement of nothing.
    QtyZero,
    /// `serials` does not have `qty` entries.
    SerialCount {
        qty: u64,
        serials: u64,
    },
    /// A serial listed twice in one movement.
    SerialRepeated {
        serial: String,
    },
    /// `from` and `to` are the same holder.
    SameHolder {
        holder: String,
    },
    /// Sources never receive.
    SourceReceives {
        holder: String,
    },
    /// Sinks only receive.
    SinkSends {
        holder: String,
    },
    LotRequired {
        item: String,
    },
    LotNotAllowed {
        item: String,
        tracking: &'static str,
    },
    SerialsRequired {
        item: String,
    },
    SerialsNotAllowed {
        item: String,
        tracking: &'static str,
    },
    /// A non-source balance would go negative at `at`.
    WouldGoNegative {
        holder: String,
        item: String,
        lot: Option<String>,
        at: Time,
        short_by: u64,
    },
    /// A serial does not stand at the holder it is moved from.
    SerialNotAt {
        item: String,
        serial: String,
        holder: String,
        at: Time,
        actually_at: Option<String>,
    },
    /// A late movement of a serial contradicts a later movement of it.
    SerialLaterMove {
        item: String,
        serial: String,
        at: Time,
        later_from: String,
    },
    /// Two movements of one serial at the same instant.
    SerialSameInstant {
        item: String,
        serial: String,
        at: Time,
    },
    /// An id already used by a different record of the same kind.
    IdReused {
        /// The kind: `movement`, `transfer`, `allocate`...
        what: &'static str,
        id: String,
        field: &'static str,
    },
    /// A quantity past [`crate::limits::QTY_MAX`].
    QtyTooLarge {
        qty: u64,
    },
    /// A record would take the total volume moved through a balance (or an org's stock of an
    /// item) past [`crate::limits::VOLUME_MAX`].
    VolumeExceeded {
        holder: String,
        item: String,
        lot: Option<String>,
    },
    /// A record would take the total volume moved through one of an org's aggregates of an
    /// item (its available stock at its depots, its earmarks, its stock in transit) past
    /// [`crate::limits::VOLUME_MAX`].
    OrgVolumeExceeded {
        org: String,
        item: String,
        /// Which aggregate: `available stock at its depots`, `earmarked stock`, `stock in
        /// transit`.
        stock: &'static str,
    },
    UnknownTransfer {
        transfer: String,
    },
    /// A transfer declared under an id that recorded movements already use as a plain label.
    TransferIdIsLabel {
        transfer: String,
    },
    UnknownPause {
        pause: String,
    },
    /// A pause names a category no item has.
    UnknownCategory {
        category: String,
    },
    /// A transfer from an org to itself.
    SameOrg {
        org: String,
    },
    /// An item listed twice among a transfer's lines.
    LineRepeated {
        item: String,
    },
    /// A record about a transfer's item that is not one of its lines.
    NotALine {
        transfer: String,
        item: String,
    },
    /// An allocation from a holder that is not a depot of the transfer's donor.
    NotDonorDepot {
        holder: String,
        donor: String,
    },
    /// A record dated before the transfer it refers to.
    BeforeTransfer {
        transfer: String,
        transfer_time: Time,
    },
    /// A pause in scope stands at the record's time.
    Paused {
        pause: String,
        reason: String,
        since: Time,
        review_by: Option<Time>,
        at: Time,
    },
    /// A transfer's allocations of an item would exceed what it commits.
    OverCommitted {
        transfer: String,
        item: String,
        committed: u64,
        allocated: u64,
        at: Time,
    },
    /// A depot's available stock (balance less earmarks) would go negative.
    DepotShort {
        holder: String,
        item: String,
        lot: Option<String>,
        at: Time,
        short_by: u64,
    },
    /// The donor's available stock over all its depots would fall below its floor.
    BelowFloor {
        item: String,
        org: String,
        floor: u64,
        available: i64,
        at: Time,
        short_by: u64,
    },
    /// A dispatch beyond what the transfer has earmarked at the depot.
    ExceedsEarmark {
        transfer: String,
        item: String,
        holder: String,
        lot: Option<String>,
        at: Time,
        short_by: u64,
    },
    /// A cancellation that would take the commitment below what is already dispatched.
    CancelBelowDispatched {
        transfer: String,
        item: String,
        committed: u64,
        dispatched: u64,
        qty: u64,
    },
    /// A `qty` on a cancellation without an `item`.
    QtyWithoutItem,
    /// A pause that names no scope field.
    PauseWithoutScope,
    /// A pause that is already resumed.
    AlreadyResumed {
        pause: String,
        resume: String,
        at: Time,
    },
    /// A resumption dated before its pause.
    ResumeBeforePause {
        pause: String,
        since: Time,
    },
    /// A holder that cannot take this record (production into a source or a sink).
    WrongHolderKind {
        holder: String,
        kind: &'static str,
        expected: &'static str,
    },
    /// An end before a start.
    EndsBeforeStart,
    /// An org, holder or item re-declared with a different value.
    Redeclared {
        what: &'static str,
        id: String,
        field: &'static str,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Violation::*;
        match self {
            UnknownOrg { org } => write!(f, "unknown org {org:?}"),
            UnknownHolder { holder } => write!(f, "unknown holder {holder:?}"),
            UnknownItem { item } => write!(f, "unknown item {item:?}"),
            QtyZero => write!(f, "a movement's qty is at least 1"),
            SerialCount { qty, serials } => write!(f, "{serials} serials for a qty of {qty}: they must match"),
            SerialRepeated { serial } => write!(f, "serial {serial:?} is listed twice"),
            SameHolder { holder } => write!(f, "moves from {holder:?} to itself"),
            SourceReceives { holder } => write!(f, "holder {holder:?} is a source: sources never receive"),
            SinkSends { holder } => write!(f, "holder {holder:?} is a sink: sinks only receive"),
            LotRequired { item } => write!(f, "item {item:?} is lot-tracked: a lot is required"),
            LotNotAllowed { item, tracking } => {
                write!(f, "item {item:?} is {tracking}-tracked: it has no lots")
            }
            SerialsRequired { item } => {
                write!(f, "item {item:?} is serial-tracked: serials are required")
            }
            SerialsNotAllowed { item, tracking } => {
                write!(f, "item {item:?} is {tracking}-tracked: it has no serials")
            }
            WouldGoNegative { holder, item, lot, at, short_by } => {
                write!(f, "balance of {item:?}")?;
                if let Some(lot) = lot {
                    write!(f, " lot {lot:?}")?;
                }
                write!(f, " at {holder:?} would go negative at {}: short by {short_by}", format_time_plain(*at))
            }
            SerialNotAt { item, serial, holder, at, actually_at } => {
                write!(f, "serial {serial:?} of {item:?} is not at {holder:?} at {}: ", format_time_plain(*at))?;
                match actually_at {
                    Some(h) => write!(f, "it is at {h:?}"),
                    None => write!(f, "it does not exist yet (a first movement comes from a source)"),
                }
            }
            SerialLaterMove { item, serial, at, later_from } => write!(
                f,
                "serial {serial:?} of {item:?} moves from {later_from:?} at {}, which this earlier movement contradicts",
                format_time_plain(*at)
            ),
            SerialSameInstant { item, serial, at } => write!(
                f,
                "serial {serial:?} of {item:?} already moves at {}: a serial moves at most once per instant",
                format_time_plain(*at)
            ),
            IdReused { what, id, field } => {
                write!(f, "{what} id {id:?} is already used by a different {what} (field {field:?} differs)")
            }
            QtyTooLarge { qty } => write!(
                f,
                "{qty} is more than the largest quantity a record may carry, {}",
                crate::limits::QTY_MAX
            ),
            VolumeExceeded { holder, item, lot } => {
                write!(f, "the total quantity moved through {item:?}")?;
                if let Some(lot) = lot {
                    write!(f, " lot {lot:?}")?;
                }
                write!(f, " at {holder:?} would pass the bound of {} (2^62)", crate::limits::VOLUME_MAX)
            }
            OrgVolumeExceeded { org, item, stock } => write!(
                f,
                "the total quantity moved through org {org:?}'s {stock} of {item:?} would pass the bound of {} (2^62)",
                crate::limits::VOLUME_MAX
            ),
            UnknownTransfer { transfer } => write!(f, "unknown transfer {transfer:?}"),
            TransferIdIsLabel { transfer } => write!(
                f,
                "recorded movements already name {transfer:?} as a plain label (no transfer of that id was declared when they were recorded): declare a transfer before the movements under it, or give it another id"
            ),
            UnknownPause { pause } => write!(f, "unknown pause {pause:?}"),
            UnknownCategory { category } => write!(f, "no item has category {category:?}"),
            SameOrg { org } => write!(f, "the donor and the recipient are both {org:?}"),
            LineRepeated { item } => write!(f, "item {item:?} is listed twice among the lines"),
            NotALine { transfer, item } => {
                write!(f, "item {item:?} is not a line of transfer {transfer:?}")
            }
            NotDonorDepot { holder, donor } => {
                write!(f, "holder {holder:?} is not a depot of the donor {donor:?}")
            }
            BeforeTransfer { transfer, transfer_time } => write!(
                f,
                "transfer {transfer:?} is committed at {}: this record is dated before it",
                format_time_plain(*transfer_time)
            ),
            Paused { pause, reason, since, review_by, at } => {
                write!(
                    f,
                    "pause {pause:?} stands at {} (since {}",
                    format_time_plain(*at),
                    format_time_plain(*since)
                )?;
                if let Some(r) = review_by {
                    write!(f, ", to be reviewed by {}", format_time_plain(*r))?;
                }
                write!(f, "): {reason}")
            }
            OverCommitted { transfer, item, committed, allocated, at } => write!(
                f,
                "allocations of {item:?} under transfer {transfer:?} would reach {allocated} at {}, more than the {committed} committed",
                format_time_plain(*at)
            ),
            DepotShort { holder, item, lot, at, short_by } => {
                write!(f, "available stock (balance less earmarks) of {item:?}")?;
                if let Some(lot) = lot {
                    write!(f, " lot {lot:?}")?;
                }
                write!(f, " at {holder:?} would go negative at {}: short by {short_by}", format_time_plain(*at))
            }
            BelowFloor { item, org, floor, available, at, short_by } => write!(
                f,
                "available stock of {item:?} for org {org:?} would fall to {available} at {}, below its floor of {floor}: short by {short_by} (an override with a reason accepts it)",
                format_time_plain(*at)
            ),
            ExceedsEarmark { transfer, item, holder, lot, at, short_by } => {
                write!(f, "dispatch of {item:?}")?;
                if let Some(lot) = lot {
                    write!(f, " lot {lot:?}")?;
                }
                write!(
                    f,
                    " from {holder:?} under transfer {transfer:?} exceeds its earmark there at {}: short by {short_by}",
                    format_time_plain(*at)
                )
            }
            CancelBelowDispatched { transfer, item, committed, dispatched, qty } => write!(
                f,
                "cancelling {qty} of {item:?} would take transfer {transfer:?}'s commitment from {committed} to {}, below the {dispatched} already dispatched",
                committed.saturating_sub(*qty)
            ),
            QtyWithoutItem => write!(f, "a cancelled qty needs the item it is of"),
            PauseWithoutScope => write!(
                f,
                "a pause names at least one of items, categories, donor, recipient, transfer"
            ),
            AlreadyResumed { pause, resume, at } => write!(
                f,
                "pause {pause:?} is already resumed by {resume:?} at {}",
                format_time_plain(*at)
            ),
            ResumeBeforePause { pause, since } => write!(
                f,
                "pause {pause:?} stands only from {}: a resumption cannot be earlier",
                format_time_plain(*since)
            ),
            WrongHolderKind { holder, kind, expected } => {
                write!(f, "holder {holder:?} is a {kind}: expected {expected}")
            }
            EndsBeforeStart => write!(f, "ends before it starts"),
            Redeclared { what, id, field } => {
                write!(f, "{what} {id:?} is already declared with a different {field:?}")
            }
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "record {}: field {:?}: {}",
            self.index + 1,
            self.field,
            self.violation
        )
    }
}
