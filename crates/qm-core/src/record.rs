//! The records of the ledger: master data (orgs, holders, items, floors), movements, and the
//! workflow of interchange v1.1 (transfers, allocations, cancellations, pauses, resumptions,
//! forecasts, threat reports, inventories).
//!
//! These mirror the interchange format (`shared/spec/interchange.md`, `workflow.md`) field
//! for field, so that an export reproduces exactly what was applied. Optional fields stay
//! `Option` so that "absent" and "present with the default value" survive a round trip.

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
    Transfer(Transfer),
    Allocate(Allocate),
    Cancel(Cancel),
    Pause(Pause),
    Resume(Resume),
    Production(Production),
    Consumption(Consumption),
    Threat(Threat),
    Inventory(Inventory),
}

impl Record {
    /// The `type` of the record in the interchange format.
    pub fn type_name(&self) -> &'static str {
        self.kind().name()
    }

    /// The kind of the record.
    pub fn kind(&self) -> RecordKind {
        match self {
            Record::Org(_) => RecordKind::Org,
            Record::Holder(_) => RecordKind::Holder,
            Record::Item(_) => RecordKind::Item,
            Record::Floor(_) => RecordKind::Floor,
            Record::Movement(_) => RecordKind::Movement,
            Record::Transfer(_) => RecordKind::Transfer,
            Record::Allocate(_) => RecordKind::Allocate,
            Record::Cancel(_) => RecordKind::Cancel,
            Record::Pause(_) => RecordKind::Pause,
            Record::Resume(_) => RecordKind::Resume,
            Record::Production(_) => RecordKind::Production,
            Record::Consumption(_) => RecordKind::Consumption,
            Record::Threat(_) => RecordKind::Threat,
            Record::Inventory(_) => RecordKind::Inventory,
        }
    }

    /// The record's own id (its idempotency key), for the kinds that have one.
    pub fn id(&self) -> Option<&str> {
        match self {
            Record::Org(r) => Some(&r.id),
            Record::Holder(r) => Some(&r.id),
            Record::Item(r) => Some(&r.code),
            Record::Floor(_) => None,
            Record::Movement(r) => Some(&r.id),
            Record::Transfer(r) => Some(&r.id),
            Record::Allocate(r) => Some(&r.id),
            Record::Cancel(r) => Some(&r.id),
            Record::Pause(r) => Some(&r.id),
            Record::Resume(r) => Some(&r.id),
            Record::Production(r) => Some(&r.id),
            Record::Consumption(r) => Some(&r.id),
            Record::Threat(r) => Some(&r.id),
            Record::Inventory(r) => Some(&r.id),
        }
    }
}

/// A transfer a record names (see [`Record::transfer_named`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferNamed<'a> {
    pub id: &'a str,
    /// The record's effective time.
    pub time: Time,
    /// Whether the record can change the transfer's figures (declare it, allocate, cancel,
    /// dispatch or deliver under it); a pause scoped to it changes none.
    pub changes_figures: bool,
}

impl Record {
    /// The transfer the record names, if any (a movement's `transfer` may also be a plain
    /// label). Exhaustive: a new kind of record must say whether it names a transfer.
    pub fn transfer_named(&self) -> Option<TransferNamed<'_>> {
        let (id, time, changes_figures) = match self {
            Record::Transfer(t) => (t.id.as_str(), t.time, true),
            Record::Allocate(a) => (a.transfer.as_str(), a.time, true),
            Record::Cancel(c) => (c.transfer.as_str(), c.time, true),
            Record::Movement(m) => (m.transfer.as_deref()?, m.time, true),
            Record::Pause(p) => (p.transfer.as_deref()?, p.time, false),
            Record::Resume(_)
            | Record::Org(_)
            | Record::Holder(_)
            | Record::Item(_)
            | Record::Floor(_)
            | Record::Production(_)
            | Record::Consumption(_)
            | Record::Threat(_)
            | Record::Inventory(_) => return None,
        };
        Some(TransferNamed {
            id,
            time,
            changes_figures,
        })
    }
}

/// The kinds of record, in the order a batch applies them (see [`RecordKind::ALL`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecordKind {
    Org,
    Holder,
    Item,
    Transfer,
    Production,
    Consumption,
    Threat,
    Inventory,
    Floor,
    Pause,
    Resume,
    Allocate,
    Movement,
    Cancel,
}

impl RecordKind {
    /// Every kind: first the *declarations*, which a batch applies kind by kind in this
    /// order before anything else (a kind's records refer only to kinds before it), so that
    /// a file may name an org, holder, item or transfer on a line before the line declaring
    /// it; then the kinds *recorded in order*, which a batch applies in file order, each
    /// judged on the ledger as recorded before it (earlier batches and earlier lines): a
    /// pause refuses only what is recorded after it, a floor judges only the approvals after
    /// it, a cancellation's "undispatched remainder" is what is dispatched so far. The rules
    /// about the final state of stock (no balance negative at any time, serials' chains,
    /// earmarks never negative, allocations within commitments) are checked once the whole
    /// batch is in, so within a file a movement may come before the one that supplies it.
    /// Because file order is recording order, the whole history as one file (`qm export`)
    /// applies to the same state.
    pub const ALL: [RecordKind; 14] = [
        RecordKind::Org,
        RecordKind::Holder,
        RecordKind::Item,
        RecordKind::Transfer,
        RecordKind::Production,
        RecordKind::Consumption,
        RecordKind::Threat,
        RecordKind::Inventory,
        RecordKind::Floor,
        RecordKind::Pause,
        RecordKind::Resume,
        RecordKind::Allocate,
        RecordKind::Movement,
        RecordKind::Cancel,
    ];

    /// Whether a batch applies this kind's records before the others (see
    /// [`RecordKind::ALL`]).
    pub fn is_declaration(self) -> bool {
        match self {
            RecordKind::Org
            | RecordKind::Holder
            | RecordKind::Item
            | RecordKind::Transfer
            | RecordKind::Production
            | RecordKind::Consumption
            | RecordKind::Threat
            | RecordKind::Inventory => true,
            RecordKind::Floor
            | RecordKind::Pause
            | RecordKind::Resume
            | RecordKind::Allocate
            | RecordKind::Movement
            | RecordKind::Cancel => false,
        }
    }

    /// The `type` in the interchange format.
    pub fn name(self) -> &'static str {
        match self {
            RecordKind::Org => "org",
            RecordKind::Holder => "holder",
            RecordKind::Item => "item",
            RecordKind::Floor => "floor",
            RecordKind::Movement => "movement",
            RecordKind::Transfer => "transfer",
            RecordKind::Allocate => "allocate",
            RecordKind::Cancel => "cancel",
            RecordKind::Pause => "pause",
            RecordKind::Resume => "resume",
            RecordKind::Production => "production",
            RecordKind::Consumption => "consumption",
            RecordKind::Threat => "threat",
            RecordKind::Inventory => "inventory",
        }
    }

    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.name() == s)
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

/// An amount of money, kept as the decimal text it was given in (no float rounding): a
/// non-negative decimal of at most [`crate::limits::MONEY_INT_DIGITS_MAX`] integer and
/// [`crate::limits::MONEY_FRAC_DIGITS_MAX`] fractional digits, and an ISO 4217 code.
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

/// A donor's decision to give a recipient items: the commitment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    pub id: String,
    pub time: Time,
    /// Org that gives.
    pub donor: String,
    /// Org that receives.
    pub recipient: String,
    /// At least one line; each item at most once.
    pub lines: Vec<TransferLine>,
    /// A drawdown package, a contract, a partner-funded purchase.
    pub authority: Option<String>,
    pub note: Option<String>,
}

/// One line of a transfer: how much of an item is committed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferLine {
    pub item: String,
    /// At least 1.
    pub qty: u64,
    /// The line's total value.
    pub value: Option<Money>,
}

/// An approval that earmarks stock at one of the donor's depots for a transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocate {
    pub id: String,
    pub time: Time,
    pub transfer: String,
    pub item: String,
    /// At least 1.
    pub qty: u64,
    /// A depot of the donor.
    pub from: String,
    pub lot: Option<String>,
    /// Accepts an allocation that breaches the donor's floor, with the reason kept.
    pub override_: Option<Override>,
}

/// Who overrode a refusal, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub reason: String,
    pub by: String,
}

/// Lowers what a transfer commits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancel {
    pub id: String,
    pub time: Time,
    pub transfer: String,
    /// With `qty`: that much of this item; alone: this item's whole undispatched remainder;
    /// absent: every line's whole undispatched remainder.
    pub item: Option<String>,
    /// Only with `item`; at least 1.
    pub qty: Option<u64>,
    pub reason: Option<String>,
    pub by: Option<String>,
}

/// A scoped stop on approvals and dispatches. At least one scope field is present.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub id: String,
    pub time: Time,
    pub reason: String,
    pub by: String,
    /// Item codes.
    pub items: Option<Vec<String>>,
    pub categories: Option<Vec<String>>,
    pub donor: Option<String>,
    pub recipient: Option<String>,
    pub transfer: Option<String>,
    /// When the pause is to be reviewed.
    pub review_by: Option<Time>,
}

/// Ends a pause from its time on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resume {
    pub id: String,
    pub time: Time,
    pub pause: String,
    pub reason: Option<String>,
    pub by: Option<String>,
}

/// A production plan: a rate per calendar month into a holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Production {
    pub id: String,
    pub item: String,
    /// The holder the output enters.
    pub to: String,
    pub qty_per_month: u64,
    pub from_time: Time,
    /// `None`: for ever.
    pub to_time: Option<Time>,
    /// Joint production with this org.
    pub partner: Option<String>,
}

/// A consumption plan: a rate per calendar month of an org's use of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consumption {
    pub id: String,
    pub item: String,
    pub org: String,
    pub qty_per_month: u64,
    pub from_time: Time,
    pub to_time: Option<Time>,
}

/// A report of attacks over one month in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threat {
    pub id: String,
    /// The month it covers (any time in it).
    pub time: Time,
    pub region: String,
    pub launched: ThreatCounts,
    pub intercepted: Option<ThreatCounts>,
    /// Item code -> quantity used, sorted by item code, each code once.
    pub interceptors_used: Option<Vec<(String, u64)>>,
}

/// Counts of threats by kind; an absent count is kept absent (it reads as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ThreatCounts {
    pub drones: Option<u64>,
    pub cruise_missiles: Option<u64>,
    pub ballistic_missiles: Option<u64>,
}

impl ThreatCounts {
    /// Every threat counted, absent counts as 0.
    pub fn total(&self) -> u64 {
        [self.drones, self.cruise_missiles, self.ballistic_missiles]
            .into_iter()
            .map(|c| c.unwrap_or(0))
            .fold(0u64, u64::saturating_add)
    }
}

/// A monitor's count at a holder on a date. It never changes a balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    pub id: String,
    pub time: Time,
    pub holder: String,
    /// The org of the monitor.
    pub by: String,
    pub serials_seen: Option<Vec<String>>,
    pub counts: Option<Vec<InventoryCount>>,
}

/// One counted quantity of an inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryCount {
    pub item: String,
    pub qty: u64,
    pub lot: Option<String>,
}

/// The first field, in interchange order, in which two records of one kind differ: what a
/// rejection of a reused id or a changed re-declaration names.
pub trait FirstDifference {
    fn first_difference(&self, other: &Self) -> Option<&'static str>;
}

macro_rules! first_difference {
    ($t:ty { $($f:ident => $name:literal),* $(,)? }) => {
        impl FirstDifference for $t {
            fn first_difference(&self, other: &Self) -> Option<&'static str> {
                $( if self.$f != other.$f { return Some($name); } )*
                None
            }
        }
    };
}

first_difference!(Org { id => "id", name => "name", kind => "kind" });
first_difference!(Item {
    code => "code", name => "name", category => "category", tracking => "tracking",
    unit => "unit", sensitive => "sensitive", unit_value => "unit_value",
    inventory_interval_days => "inventory_interval_days",
});
first_difference!(Transfer {
    id => "id", time => "time", donor => "donor", recipient => "recipient", lines => "lines",
    authority => "authority", note => "note",
});
first_difference!(Allocate {
    id => "id", time => "time", transfer => "transfer", item => "item", qty => "qty",
    from => "from", lot => "lot", override_ => "override",
});
first_difference!(Cancel {
    id => "id", time => "time", transfer => "transfer", item => "item", qty => "qty",
    reason => "reason", by => "by",
});
first_difference!(Pause {
    id => "id", time => "time", reason => "reason", by => "by", items => "items",
    categories => "categories", donor => "donor", recipient => "recipient",
    transfer => "transfer", review_by => "review_by",
});
first_difference!(Resume { id => "id", time => "time", pause => "pause", reason => "reason", by => "by" });
first_difference!(Production {
    id => "id", item => "item", to => "to", qty_per_month => "qty_per_month",
    from_time => "from_time", to_time => "to_time", partner => "partner",
});
first_difference!(Consumption {
    id => "id", item => "item", org => "org", qty_per_month => "qty_per_month",
    from_time => "from_time", to_time => "to_time",
});
first_difference!(Threat {
    id => "id", time => "time", region => "region", launched => "launched",
    intercepted => "intercepted", interceptors_used => "interceptors_used",
});
first_difference!(Inventory {
    id => "id", time => "time", holder => "holder", by => "by",
    serials_seen => "serials_seen", counts => "counts",
});

impl FirstDifference for Holder {
    fn first_difference(&self, other: &Self) -> Option<&'static str> {
        let bits = |v: Option<f64>| v.map(f64::to_bits);
        [
            ("id", self.id != other.id),
            ("name", self.name != other.name),
            ("org", self.org != other.org),
            ("kind", self.kind != other.kind),
            ("country", self.country != other.country),
            ("lat", bits(self.lat) != bits(other.lat)),
            ("lon", bits(self.lon) != bits(other.lon)),
        ]
        .into_iter()
        .find_map(|(name, differs)| differs.then_some(name))
    }
}

impl FirstDifference for Movement {
    fn first_difference(&self, other: &Self) -> Option<&'static str> {
        self.first_differing_field(other)
    }
}
