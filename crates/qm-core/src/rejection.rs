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
    /// A movement id already used by a different movement.
    IdReused {
        id: String,
        field: &'static str,
    },
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
            IdReused { id, field } => {
                write!(f, "movement id {id:?} is already used by a different movement (field {field:?} differs)")
            }
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
