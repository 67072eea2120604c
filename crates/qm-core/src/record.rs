//! The records of the ledger: master data (orgs, holders, items, floors) and movements.
//!
//! These mirror interchange format v1 (`shared/spec/interchange.md`) field for field, so
//! that an export reproduces exactly what was applied. Optional fields stay `Option` so
//! that "absent" and "present with the default value" survive a round trip.

/// Effective time: nanoseconds since the Unix epoch, UTC.
pub type Time = i64;

/// One record of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    Org(Org),
    Holder(Holder),
    Item(Item),
    Floor(Floor),
    Movement(Movement),
}

impl Record {
    /// The `type` of the record in the interchange format.
    pub fn type_name(&self) -> &'static str {
        match self {
            Record::Org(_) => "org",
            Record::Holder(_) => "holder",
            Record::Item(_) => "item",
            Record::Floor(_) => "floor",
            Record::Movement(_) => "movement",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrgKind {
    Donor,
    Recipient,
    Producer,
    Monitor,
    Other,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] = [
        OrgKind::Donor,
        OrgKind::Recipient,
        OrgKind::Producer,
        OrgKind::Monitor,
        OrgKind::Other,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Donor => "donor",
            OrgKind::Recipient => "recipient",
            OrgKind::Producer => "producer",
            OrgKind::Monitor => "monitor",
            OrgKind::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<OrgKind> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Org {
    pub id: String,
    pub name: String,
    pub kind: Option<OrgKind>,
}

/// Where stock is and who answers for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolderKind {
    /// A store of the owning org.
    Depot,
    /// A hub, a convoy, a ship.
    Transit,
    /// A recipient's unit.
    Unit,
    /// Where stock comes from (production, opening balances, purchases): may go negative, never receives.
    Source,
    /// Where stock ends (expended, destroyed, lost, demilitarised): only receives.
    Sink,
}

impl HolderKind {
    pub const ALL: [HolderKind; 5] = [
        HolderKind::Depot,
        HolderKind::Transit,
        HolderKind::Unit,
        HolderKind::Source,
        HolderKind::Sink,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::Depot => "depot",
            HolderKind::Transit => "transit",
            HolderKind::Unit => "unit",
            HolderKind::Source => "source",
            HolderKind::Sink => "sink",
        }
    }
    pub fn parse(s: &str) -> Option<HolderKind> {
        HolderKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Holder {
    pub id: String,
    pub name: String,
    pub org: String,
    pub kind: HolderKind,
    /// ISO 3166 alpha-2.
    pub country: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tracking {
    /// Quantity only.
    Bulk,
    /// Quantity per lot.
    Lot,
    /// Each piece by serial number.
    Serial,
}

impl Tracking {
    pub const ALL: [Tracking; 3] = [Tracking::Bulk, Tracking::Lot, Tracking::Serial];
    pub fn as_str(self) -> &'static str {
        match self {
            Tracking::Bulk => "bulk",
            Tracking::Lot => "lot",
            Tracking::Serial => "serial",
        }
    }
    pub fn parse(s: &str) -> Option<Tracking> {
        Tracking::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A value per unit, kept as the decimal text it was given in (no float rounding).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: String,
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub code: String,
    pub name: String,
    pub category: String,
    pub tracking: Tracking,
    /// Absent means `each`.
    pub unit: Option<String>,
    pub sensitive: Option<bool>,
    pub unit_value: Option<Money>,
    pub inventory_interval_days: Option<u32>,
}

/// The readiness reserve of an item for an org ("enough for ourselves").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Floor {
    pub item: String,
    pub org: String,
    pub min_qty: u64,
    /// From when it applies; `None`: always.
    pub time: Option<Time>,
}

/// An immutable movement of stock from one holder to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    /// Idempotency key.
    pub id: String,
    /// Effective time: when it happened.
    pub time: Time,
    pub item: String,
    /// At least 1.
    pub qty: u64,
    pub from: String,
    pub to: String,
    pub lot: Option<String>,
    /// For serial-tracked items; its length equals `qty`.
    pub serials: Option<Vec<String>>,
    pub kind: Option<String>,
    pub transfer: Option<String>,
    pub note: Option<String>,
}

impl Movement {
    /// The name of the first field in which `self` and `other` differ, in interchange order.
    pub fn first_differing_field(&self, other: &Movement) -> Option<&'static str> {
        let checks: [(&'static str, bool); 11] = [
            ("id", self.id != other.id),
            ("time", self.time != other.time),
            ("item", self.item != other.item),
            ("qty", self.qty != other.qty),
            ("from", self.from != other.from),
            ("to", self.to != other.to),
            ("lot", self.lot != other.lot),
            ("serials", self.serials != other.serials),
            ("kind", self.kind != other.kind),
            ("transfer", self.transfer != other.transfer),
            ("note", self.note != other.note),
        ];
        checks
            .into_iter()
            .find(|(_, differs)| *differs)
            .map(|(name, _)| name)
    }
}
