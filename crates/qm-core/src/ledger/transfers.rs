//! The shipment workflow (interchange v1.1): transfers (commitments) and their lines,
//! allocations (earmarks at the donor's depots), dispatches and deliveries (v1 movements that
//! name a declared transfer), and cancellations.
//!
//! Every stage of a line is kept as dated events, so each figure (committed, cancelled,
//! allocated, dispatched, delivered, in transit) is known as of any time, and a record
//! recorded late is checked against the history as it stands at its effective time:
//!
//! - an allocation may not take the line's allocations past what it commits, at its time or
//!   later; it earmarks stock at one (depot, item, lot) key, which [`super::stock`] mirrors as
//!   available stock; after the batch, the depot's available stock may not go negative and
//!   the donor's available stock over its depots may not fall below its floor at or after the
//!   allocation's time (unless overridden, and the override is kept);
//! - a dispatch (a movement from a depot of the donor naming the transfer) uses up the
//!   earmark at that depot and may not exceed it at its time or later;
//! - a cancellation lowers the commitment, never below what is dispatched, and releases
//!   allocations above the new commitment, newest first.
//!
//! Pauses are checked against [`super::pauses`]. Lines and earmarks hold few events each, so
//! their figures are found by a scan of those events; stock-sized histories live in
//! timelines (see `stock.rs`).

use hashbrown::HashMap;

use super::master::{ItemIdx, Master, OrgIdx};
use super::pauses::Pauses;
use super::stock::{check_tracking, KeyIdx, Stock};
use super::{known, BatchCx, Declared, Effects, Errors, Outcome, Registry};
use crate::codec::{enc_struct, Enc, R, W};
use crate::limits::QTY_MAX;
use crate::rejection::Violation;
use crate::timeline::Timeline;
use crate::{
    Allocate, Cancel, HolderKind, Movement, Override, Record, SnapshotError, Time, Transfer,
    TransferLine,
};

/// Index of a transfer in [`Transfers::list`].
pub type TransferIdx = u32;

/// What an event of a line records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Taken off the commitment by a cancellation.
    Cancelled,
    /// Earmarked by an allocation.
    Allocated,
    /// An allocation released by a cancellation.
    Released,
    /// Left a depot of the donor under the transfer.
    Dispatched,
    /// Arrived at a holder of the recipient under the transfer.
    Delivered,
    /// Went to a sink under the transfer before arriving.
    Sunk,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Cancelled,
        Stage::Allocated,
        Stage::Released,
        Stage::Dispatched,
        Stage::Delivered,
        Stage::Sunk,
    ];
}

/// One dated change to a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineEvent {
    pub time: Time,
    pub stage: Stage,
    pub qty: u64,
}

/// One line of a transfer and its history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineState {
    pub item: ItemIdx,
    /// What the transfer record commits.
    pub qty: u64,
    /// Sorted by time; events at one time in the order recorded.
    pub events: Vec<LineEvent>,
}

/// A line's figures as of a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LineFigures {
    /// What is committed: the line's qty less what was cancelled (0 before the transfer).
    pub committed: u64,
    pub cancelled: u64,
    /// Allocated less released.
    pub allocated: u64,
    pub dispatched: u64,
    pub delivered: u64,
    /// Went to a sink before arriving.
    pub sunk: u64,
    /// Dispatched and neither arrived nor gone to a sink (0 when more arrived than was
    /// recorded as dispatched).
    pub in_transit: u64,
}

impl LineState {
    /// The figures as of `as_of` (`None`: after everything); the transfer is committed at
    /// `transfer_time`.
    pub fn figures(&self, transfer_time: Time, as_of: Option<Time>) -> LineFigures {
        let mut f = LineFigures::default();
        if as_of.is_some_and(|t| t < transfer_time) {
            return f;
        }
        let mut released = 0u64;
        let mut allocated = 0u64;
        for e in &self.events {
            if as_of.is_some_and(|t| e.time > t) {
                break;
            }
            let slot = match e.stage {
                Stage::Cancelled => &mut f.cancelled,
                Stage::Allocated => &mut allocated,
                Stage::Released => &mut released,
                Stage::Dispatched => &mut f.dispatched,
                Stage::Delivered => &mut f.delivered,
                Stage::Sunk => &mut f.sunk,
            };
            // Every stage's sum is bounded by what the line commits or by stock volumes.
            *slot = slot.saturating_add(e.qty);
        }
        f.committed = self.qty.saturating_sub(f.cancelled);
        f.allocated = allocated.saturating_sub(released);
        f.in_transit = f
            .dispatched
            .saturating_sub(f.delivered.saturating_add(f.sunk));
        f
    }

    /// The line's commitment and allocations (less releases) at `from` and at every later
    /// time either changes: `(time, committed, allocated)`, ascending, the first at `from`.
    fn commitment_from(&self, transfer_time: Time, from: Time) -> Vec<(Time, i128, i128)> {
        let mut deltas: Vec<(Time, i128, i128)> = Vec::with_capacity(self.events.len() + 1);
        deltas.push((transfer_time, self.qty as i128, 0));
        for e in &self.events {
            let q = e.qty as i128;
            deltas.push(match e.stage {
                Stage::Cancelled => (e.time, -q, 0),
                Stage::Allocated => (e.time, 0, q),
                Stage::Released => (e.time, 0, -q),
                _ => continue,
            });
        }
        deltas.sort_by_key(|d| d.0);
        let (mut committed, mut allocated) = (0i128, 0i128);
        let mut i = 0;
        while i < deltas.len() && deltas[i].0 <= from {
            committed += deltas[i].1;
            allocated += deltas[i].2;
            i += 1;
        }
        let mut out = vec![(from, committed, allocated)];
        while i < deltas.len() {
            let at = deltas[i].0;
            while i < deltas.len() && deltas[i].0 == at {
                committed += deltas[i].1;
                allocated += deltas[i].2;
                i += 1;
            }
            out.push((at, committed, allocated));
        }
        out
    }

    /// The earliest time at `from` or later when the line's allocations exceed what it
    /// commits, with the committed and allocated quantities then.
    fn over_commitment_from(&self, transfer_time: Time, from: Time) -> Option<(Time, u64, u64)> {
        self.commitment_from(transfer_time, from)
            .into_iter()
            .find(|&(_, c, a)| a > c)
            .map(|(at, c, a)| (at, c.max(0) as u64, a.max(0) as u64))
    }

    fn insert(&mut self, e: LineEvent) -> usize {
        let pos = self.events.partition_point(|x| x.time <= e.time);
        self.events.insert(pos, e);
        pos
    }
}

/// A declared transfer and its lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransferState {
    pub record: Transfer,
    pub donor: OrgIdx,
    pub recipient: OrgIdx,
    pub lines: Vec<LineState>,
    /// The batches that hold records touching the transfer, ascending.
    pub batches: Vec<u64>,
    /// Its allocations and dispatches, the records a pause refuses, in recording order.
    pub shipments: Vec<ShipmentRecord>,
}

/// Which record a [`ShipmentRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShipmentKind {
    /// An `allocate` record.
    Allocation,
    /// A `movement` leaving a depot of the donor under the transfer.
    Dispatch,
}

impl ShipmentKind {
    pub const ALL: [ShipmentKind; 2] = [ShipmentKind::Allocation, ShipmentKind::Dispatch];

    /// The record's interchange type.
    pub fn type_name(self) -> &'static str {
        match self {
            ShipmentKind::Allocation => "allocate",
            ShipmentKind::Dispatch => "movement",
        }
    }
}

/// An accepted allocation or dispatch under a transfer: what a pause in scope refuses, kept
/// so that reports can show those a late pause covers (dated within its span, accepted
/// before it was recorded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShipmentRecord {
    pub kind: ShipmentKind,
    pub id: Box<str>,
    pub line: u32,
    pub time: Time,
    pub qty: u64,
    /// How many pauses were recorded before it: it was accepted before the pause of index
    /// `p` (in recording order) exactly when `p >= pauses_before`.
    pub pauses_before: u32,
}

impl TransferState {
    pub fn line_of(&self, item: ItemIdx) -> Option<usize> {
        self.lines.iter().position(|l| l.item == item)
    }
}

/// The stock a transfer has earmarked at one (depot, item, lot) key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earmark {
    pub transfer: TransferIdx,
    pub line: u32,
    pub key: KeyIdx,
    /// (time, change): allocations add, dispatches and releases take away. Sorted by time.
    pub events: Vec<(Time, i64)>,
}

impl Earmark {
    /// What stands at `t` (`None`: after everything).
    pub fn standing_at(&self, t: Option<Time>) -> i64 {
        self.events
            .iter()
            .take_while(|(at, _)| t.is_none_or(|t| *at <= t))
            .map(|(_, d)| d)
            .sum()
    }

    /// The lowest standing earmark at `from` or later, and the earliest time it is reached.
    pub fn lowest_from(&self, from: Time) -> (i64, Time) {
        let mut acc = 0i64;
        let mut best: Option<(i64, Time)> = None;
        let mut i = 0;
        while i < self.events.len() {
            let at = self.events[i].0;
            while i < self.events.len() && self.events[i].0 == at {
                acc += self.events[i].1;
                i += 1;
            }
            if at >= from && best.is_none_or(|(b, _)| acc < b) {
                best = Some((acc, at));
            }
        }
        let at_from = (self.standing_at(Some(from)), from);
        match best {
            Some(b) if b.0 < at_from.0 => b,
            _ => at_from,
        }
    }

    /// The earliest time at or after `from` when the standing earmark is negative, and by
    /// how much.
    pub fn first_negative_from(&self, from: Time) -> Option<(Time, u64)> {
        let at_from = self.standing_at(Some(from));
        if at_from < 0 {
            return Some((from, at_from.unsigned_abs()));
        }
        let mut acc = 0i64;
        let mut i = 0;
        while i < self.events.len() {
            let at = self.events[i].0;
            while i < self.events.len() && self.events[i].0 == at {
                acc += self.events[i].1;
                i += 1;
            }
            if at > from && acc < 0 {
                return Some((at, acc.unsigned_abs()));
            }
        }
        None
    }

    fn insert(&mut self, t: Time, delta: i64) -> usize {
        let pos = self.events.partition_point(|x| x.0 <= t);
        self.events.insert(pos, (t, delta));
        pos
    }
}

/// A floor breach an override accepted: the facts the refusal would have named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorBreach {
    pub floor: u64,
    /// The lowest available stock over the donor's depots, at `at`.
    pub available: i64,
    pub at: Time,
    pub short_by: u64,
}

/// An accepted allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllocationState {
    pub record: Allocate,
    pub transfer: TransferIdx,
    pub line: u32,
    pub earmark: u32,
    /// Set when the allocation breached the donor's floor and its override accepted it.
    pub breach: Option<FloorBreach>,
}

/// What a cancellation did to one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CancelLine {
    pub line: u32,
    pub cancelled: u64,
    pub released: u64,
}

/// An accepted cancellation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelState {
    pub record: Cancel,
    pub transfer: TransferIdx,
    pub lines: Vec<CancelLine>,
}

#[derive(Debug, Clone)]
enum Undo {
    LineEvent {
        transfer: u32,
        line: u32,
        pos: usize,
    },
    EarmarkEvent {
        earmark: u32,
        pos: usize,
    },
    Batch {
        transfer: u32,
    },
    Shipment {
        transfer: u32,
    },
    Label(Box<str>),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Transfers {
    pub(crate) list: Registry<TransferState>,
    pub(crate) allocations: Registry<AllocationState>,
    pub(crate) cancels: Registry<CancelState>,
    pub(crate) earmarks: Vec<Earmark>,
    earmark_index: HashMap<(TransferIdx, KeyIdx), u32>,
    /// Transfer ids that movements used as plain labels (v1) while no transfer of that id was
    /// declared: a transfer may not be declared under one later, which would turn recorded
    /// movements into dispatches that no earmark covered.
    labels: hashbrown::HashSet<Box<str>>,
    undo: Vec<Undo>,
    earmarks_mark: usize,
}

impl Transfers {
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
        self.list.begin();
        self.allocations.begin();
        self.cancels.begin();
        self.earmarks_mark = self.earmarks.len();
    }

    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    pub(crate) fn rollback(&mut self) {
        let (transfers, earmarks) = (self.list.mark(), self.earmarks_mark);
        for u in std::mem::take(&mut self.undo).into_iter().rev() {
            match u {
                Undo::LineEvent {
                    transfer,
                    line,
                    pos,
                } if (transfer as usize) < transfers => {
                    self.list.list[transfer as usize].lines[line as usize]
                        .events
                        .remove(pos);
                }
                Undo::EarmarkEvent { earmark, pos } if (earmark as usize) < earmarks => {
                    self.earmarks[earmark as usize].events.remove(pos);
                }
                Undo::Batch { transfer } if (transfer as usize) < transfers => {
                    self.list.list[transfer as usize].batches.pop();
                }
                Undo::Shipment { transfer } if (transfer as usize) < transfers => {
                    self.list.list[transfer as usize].shipments.pop();
                }
                Undo::Label(label) => {
                    self.labels.remove(&label);
                }
                _ => {}
            }
        }
        for e in self.earmarks.drain(earmarks..) {
            self.earmark_index.remove(&(e.transfer, e.key));
        }
        self.list.rollback(|t| &t.record.id);
        self.allocations.rollback(|a| &a.record.id);
        self.cancels.rollback(|c| &c.record.id);
    }

    pub(crate) fn find(&self, id: &str) -> Option<TransferIdx> {
        self.list.get(id)
    }

    /// Notes a movement's `transfer` that names no declared transfer: a plain label.
    pub(crate) fn note_label(&mut self, label: &str) {
        if !self.labels.contains(label) {
            self.labels.insert(label.into());
            self.undo.push(Undo::Label(label.into()));
        }
    }

    fn need(&self, field: &'static str, id: &str) -> Result<TransferIdx, Outcome> {
        self.find(id).ok_or_else(|| {
            (
                field,
                Violation::UnknownTransfer {
                    transfer: id.to_owned(),
                },
            )
        })
    }

    /// Notes that batch `seq` touches transfer `t`.
    fn touch(&mut self, t: TransferIdx, seq: u64) {
        let batches = &mut self.list.list[t as usize].batches;
        if batches.last() != Some(&seq) {
            batches.push(seq);
            self.undo.push(Undo::Batch { transfer: t });
        }
    }

    fn shipment(&mut self, t: TransferIdx, r: ShipmentRecord) {
        self.list.list[t as usize].shipments.push(r);
        self.undo.push(Undo::Shipment { transfer: t });
    }

    fn line_event(&mut self, t: TransferIdx, line: u32, e: LineEvent) {
        let pos = self.list.list[t as usize].lines[line as usize].insert(e);
        self.undo.push(Undo::LineEvent {
            transfer: t,
            line,
            pos,
        });
    }

    fn earmark_event(&mut self, earmark: u32, t: Time, delta: i64) {
        let pos = self.earmarks[earmark as usize].insert(t, delta);
        self.undo.push(Undo::EarmarkEvent { earmark, pos });
    }

    pub(crate) fn declare_transfer(
        &mut self,
        master: &Master,
        t: &Transfer,
        seq: u64,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "transfer",
            &t.id,
            self.list.get_record(&t.id, |s| &s.record),
            t,
        ) {
            return d;
        }
        if self.labels.contains(t.id.as_str()) {
            return Err((
                "id",
                Violation::TransferIdIsLabel {
                    transfer: t.id.clone(),
                },
            ));
        }
        let donor = master.need_org("donor", &t.donor)?;
        let recipient = master.need_org("recipient", &t.recipient)?;
        if donor == recipient {
            return Err((
                "recipient",
                Violation::SameOrg {
                    org: t.recipient.clone(),
                },
            ));
        }
        let mut lines: Vec<LineState> = Vec::with_capacity(t.lines.len());
        for l in &t.lines {
            let item = master.need_item("lines", &l.item)?;
            if lines.iter().any(|x| x.item == item) {
                return Err((
                    "lines",
                    Violation::LineRepeated {
                        item: l.item.clone(),
                    },
                ));
            }
            if l.qty == 0 {
                return Err(("lines", Violation::QtyZero));
            }
            if l.qty > QTY_MAX {
                return Err(("lines", Violation::QtyTooLarge { qty: l.qty }));
            }
            lines.push(LineState {
                item,
                qty: l.qty,
                events: Vec::new(),
            });
        }
        self.list.push(
            &t.id,
            TransferState {
                record: t.clone(),
                donor,
                recipient,
                lines,
                batches: vec![seq],
                shipments: Vec::new(),
            },
        );
        Ok(Declared::New)
    }

    /// The transfer, its line of `item`, and the refusal when the record is dated before the
    /// transfer or the item is not a line.
    fn transfer_line(
        &self,
        master: &Master,
        transfer: &str,
        item: &str,
        time: Time,
    ) -> Result<(TransferIdx, u32, ItemIdx), Outcome> {
        let t = self.need("transfer", transfer)?;
        let state = &self.list.list[t as usize];
        if time < state.record.time {
            return Err((
                "time",
                Violation::BeforeTransfer {
                    transfer: transfer.to_owned(),
                    transfer_time: state.record.time,
                },
            ));
        }
        let item_idx = master.need_item("item", item)?;
        let line = state.line_of(item_idx).ok_or_else(|| {
            (
                "item",
                Violation::NotALine {
                    transfer: transfer.to_owned(),
                    item: item.to_owned(),
                },
            )
        })?;
        Ok((t, line as u32, item_idx))
    }

    fn earmark_of(&mut self, t: TransferIdx, line: u32, key: KeyIdx) -> u32 {
        if let Some(&e) = self.earmark_index.get(&(t, key)) {
            return e;
        }
        let e = self.earmarks.len() as u32;
        self.earmarks.push(Earmark {
            transfer: t,
            line,
            key,
            events: Vec::new(),
        });
        self.earmark_index.insert((t, key), e);
        e
    }

    #[allow(clippy::too_many_arguments)]
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn allocate(
        &mut self,
        master: &Master,
        stock: &mut Stock,
        floors: &super::floors::Floors,
        pauses: &Pauses,
        a: &Allocate,
        index: usize,
        cx: &mut BatchCx,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "allocate",
            &a.id,
            self.allocations.get_record(&a.id, |s| &s.record),
            a,
        ) {
            return d;
        }
        let (t, line, item) = self.transfer_line(master, &a.transfer, &a.item, a.time)?;
        if a.qty == 0 {
            return Err(("qty", Violation::QtyZero));
        }
        if a.qty > QTY_MAX {
            return Err(("qty", Violation::QtyTooLarge { qty: a.qty }));
        }
        let state = &self.list.list[t as usize];
        let donor = state.donor;
        let from = master.need_holder("from", &a.from)?;
        if master.holder(from).kind != HolderKind::Depot
            || master.holder_org[from as usize] != donor
        {
            return Err((
                "from",
                Violation::NotDonorDepot {
                    holder: a.from.clone(),
                    donor: state.record.donor.clone(),
                },
            ));
        }
        let it = master.item(item);
        check_tracking(&it.code, it.tracking, a.lot.as_deref(), None, false)?;
        if let Some(p) = pauses.matching(master, state, t, item, a.time) {
            return Err(("transfer", p));
        }
        let lot = a.lot.as_deref().map_or(0, |l| stock.lots.intern(l));
        let key = stock.key(from, item, lot);
        // Judged on the ledger as recorded before it: the depot's available stock must cover
        // it at its time and after, and the donor's available stock stay at or above the
        // floor (or the override accept the breach).
        let qty = a.qty as i64;
        let available = stock
            .mirror(key)
            .unwrap_or(&stock.keys[key as usize].timeline);
        if let Some((at, bal)) = first_short(available, a.time, qty) {
            return Err((
                "qty",
                Violation::DepotShort {
                    holder: a.from.clone(),
                    item: a.item.clone(),
                    lot: a.lot.clone(),
                    at,
                    short_by: (qty - bal) as u64,
                },
            ));
        }
        let breach = floor_breach(stock, floors, donor, item, a.time, qty);
        if let (Some(b), None) = (breach, &a.override_) {
            return Err((
                "qty",
                Violation::BelowFloor {
                    item: a.item.clone(),
                    org: state.record.donor.clone(),
                    floor: b.floor,
                    available: b.available,
                    at: b.at,
                    short_by: b.short_by,
                },
            ));
        }
        let earmark = self.earmark_of(t, line, key);
        self.earmark_event(earmark, a.time, a.qty as i64);
        self.line_event(
            t,
            line,
            LineEvent {
                time: a.time,
                stage: Stage::Allocated,
                qty: a.qty,
            },
        );
        if let Err(over) = stock.earmark(key, donor, a.time, a.qty as i64) {
            return Err(("qty", stock.volume_violation(master, over)));
        }
        self.touch(t, cx.seq);
        self.shipment(
            t,
            ShipmentRecord {
                kind: ShipmentKind::Allocation,
                id: a.id.as_str().into(),
                line,
                time: a.time,
                qty: a.qty,
                pauses_before: pauses.recorded(),
            },
        );
        self.allocations.push(
            &a.id,
            AllocationState {
                record: a.clone(),
                transfer: t,
                line,
                earmark,
                breach,
            },
        );
        cx.effects.lines.push((index, t, line, a.time));
        Ok(Declared::New)
    }

    /// A movement naming transfer `t`, after the stock has moved (`from_key` is the key it
    /// left): a dispatch when it leaves a depot of the donor, a delivery when it arrives at
    /// the recipient's, gone to a sink when it ends in one before arriving.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn on_movement(
        &mut self,
        master: &Master,
        stock: &mut Stock,
        pauses: &Pauses,
        t: TransferIdx,
        m: &Movement,
        item: ItemIdx,
        from_key: KeyIdx,
        index: usize,
        cx: &mut BatchCx,
    ) -> Result<(), Outcome> {
        let from = stock.key_meta[from_key as usize].holder;
        let to = master
            .holder_idx(&m.to)
            .expect("the movement's holders are known");
        let state = &self.list.list[t as usize];
        let (donor, recipient) = (state.donor, state.recipient);
        let from_org = master.holder_org[from as usize];
        let to_org = master.holder_org[to as usize];
        let line = state.line_of(item).map(|l| l as u32);
        let dispatch = master.holder(from).kind == HolderKind::Depot && from_org == donor;
        if dispatch {
            let Some(line) = line else {
                return Err((
                    "item",
                    Violation::NotALine {
                        transfer: state.record.id.clone(),
                        item: m.item.clone(),
                    },
                ));
            };
            if let Some(p) = pauses.matching(master, state, t, item, m.time) {
                return Err(("transfer", p));
            }
            // Checked once the whole batch is in: the earmark may come on a later line.
            let earmark = self.earmark_of(t, line, from_key);
            self.earmark_event(earmark, m.time, -(m.qty as i64));
            if let Err(over) = stock.earmark(from_key, donor, m.time, -(m.qty as i64)) {
                return Err(("qty", stock.volume_violation(master, over)));
            }
            self.line_event(
                t,
                line,
                LineEvent {
                    time: m.time,
                    stage: Stage::Dispatched,
                    qty: m.qty,
                },
            );
            cx.effects.dispatches.push((index, earmark, m.time));
            self.shipment(
                t,
                ShipmentRecord {
                    kind: ShipmentKind::Dispatch,
                    id: m.id.as_str().into(),
                    line,
                    time: m.time,
                    qty: m.qty,
                    pauses_before: pauses.recorded(),
                },
            );
        }
        if let Some(line) = line {
            let stage = if to_org == recipient && from_org != recipient {
                Some(Stage::Delivered)
            } else if master.holder(to).kind == HolderKind::Sink && from_org != recipient {
                Some(Stage::Sunk)
            } else {
                None
            };
            if let Some(stage) = stage {
                self.line_event(
                    t,
                    line,
                    LineEvent {
                        time: m.time,
                        stage,
                        qty: m.qty,
                    },
                );
            }
        }
        self.touch(t, cx.seq);
        Ok(())
    }

    pub(crate) fn cancel(
        &mut self,
        master: &Master,
        stock: &mut Stock,
        c: &Cancel,
        index: usize,
        cx: &mut BatchCx,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "cancel",
            &c.id,
            self.cancels.get_record(&c.id, |s| &s.record),
            c,
        ) {
            return d;
        }
        let t = self.need("transfer", &c.transfer)?;
        let state = &self.list.list[t as usize];
        if c.time < state.record.time {
            return Err((
                "time",
                Violation::BeforeTransfer {
                    transfer: c.transfer.clone(),
                    transfer_time: state.record.time,
                },
            ));
        }
        if c.qty.is_some() && c.item.is_none() {
            return Err(("qty", Violation::QtyWithoutItem));
        }
        if c.qty == Some(0) {
            return Err(("qty", Violation::QtyZero));
        }
        if let Some(q) = c.qty.filter(|&q| q > QTY_MAX) {
            return Err(("qty", Violation::QtyTooLarge { qty: q }));
        }
        let lines: Vec<u32> = match &c.item {
            Some(code) => {
                let item = master.need_item("item", code)?;
                let line = state.line_of(item).ok_or_else(|| {
                    (
                        "item",
                        Violation::NotALine {
                            transfer: c.transfer.clone(),
                            item: code.clone(),
                        },
                    )
                })?;
                vec![line as u32]
            }
            None => (0..state.lines.len() as u32).collect(),
        };
        let transfer_time = state.record.time;
        let donor = state.donor;
        let mut effects = Vec::with_capacity(lines.len());
        for line in lines {
            let l = &self.list.list[t as usize].lines[line as usize];
            let f = l.figures(transfer_time, None);
            let remainder = f.committed.saturating_sub(f.dispatched);
            let q = c.qty.unwrap_or(remainder);
            if q > remainder {
                return Err((
                    "qty",
                    Violation::CancelBelowDispatched {
                        transfer: c.transfer.clone(),
                        item: master.item(l.item).code.clone(),
                        committed: f.committed,
                        dispatched: f.dispatched,
                        qty: q,
                    },
                ));
            }
            // Release what the line's allocations would stand above the new commitment, at
            // the cancellation's time and at every later time they would (a late cancellation
            // releases a later allocation at that allocation's time): the newest earmarks
            // first, each as far as it stands from then on.
            let points = l.commitment_from(transfer_time, c.time);
            // Newest allocations first: the earmarks of this line, latest made first.
            let mine: Vec<u32> = (0..self.earmarks.len() as u32)
                .rev()
                .filter(|&e| {
                    let e = &self.earmarks[e as usize];
                    e.transfer == t && e.line == line
                })
                .collect();
            let mut released = 0u64;
            for (at, committed, allocated) in points {
                let excess = allocated - released as i128 - (committed - q as i128);
                if excess <= 0 {
                    continue;
                }
                let mut to_release = excess as u64;
                let mut released_at = 0u64;
                for &e in &mine {
                    if to_release == 0 {
                        break;
                    }
                    let (lowest, _) = self.earmarks[e as usize].lowest_from(at);
                    let take = to_release.min(lowest.max(0) as u64);
                    if take == 0 {
                        continue;
                    }
                    let key = self.earmarks[e as usize].key;
                    self.earmark_event(e, at, -(take as i64));
                    if let Err(over) = stock.earmark(key, donor, at, -(take as i64)) {
                        return Err(("transfer", stock.volume_violation(master, over)));
                    }
                    to_release -= take;
                    released_at += take;
                }
                if released_at > 0 {
                    self.line_event(
                        t,
                        line,
                        LineEvent {
                            time: at,
                            stage: Stage::Released,
                            qty: released_at,
                        },
                    );
                    released += released_at;
                }
            }
            if q > 0 {
                self.line_event(
                    t,
                    line,
                    LineEvent {
                        time: c.time,
                        stage: Stage::Cancelled,
                        qty: q,
                    },
                );
            }
            cx.effects.lines.push((index, t, line, c.time));
            effects.push(CancelLine {
                line,
                cancelled: q,
                released,
            });
        }
        self.touch(t, cx.seq);
        self.cancels.push(
            &c.id,
            CancelState {
                record: c.clone(),
                transfer: t,
                lines: effects,
            },
        );
        Ok(Declared::New)
    }

    /// After the whole batch: allocations within commitments and dispatches within their
    /// earmarks, at every time (what every accepted batch leaves true).
    pub(crate) fn check(
        &mut self,
        master: &Master,
        batch: &[Record],
        effects: &Effects,
        errors: &mut Errors,
    ) {
        let mut lines = effects.lines.clone();
        lines.sort_by_key(|&(index, t, line, time)| (t, line, time, index));
        let mut seen: Vec<(TransferIdx, u32)> = Vec::new();
        for &(index, t, line, time) in &lines {
            if seen.contains(&(t, line)) {
                continue;
            }
            let state = &self.list.list[t as usize];
            let l = &state.lines[line as usize];
            if let Some((at, committed, allocated)) =
                l.over_commitment_from(state.record.time, time)
            {
                seen.push((t, line));
                // Blame the batch's last record on this line at or before the time it happens.
                let blame = lines
                    .iter()
                    .filter(|x| x.1 == t && x.2 == line && x.3 <= at)
                    .map(|x| x.0)
                    .max()
                    .unwrap_or(index);
                // A cancellation is named by the field that sets how much it cancels.
                let field = match &batch[blame] {
                    Record::Cancel(c) if c.qty.is_none() && c.item.is_some() => "item",
                    Record::Cancel(c) if c.qty.is_none() => "transfer",
                    _ => "qty",
                };
                errors.push(
                    blame,
                    field,
                    Violation::OverCommitted {
                        transfer: state.record.id.clone(),
                        item: master.item(l.item).code.clone(),
                        committed,
                        allocated,
                        at,
                    },
                );
            }
        }
        // Dispatches per earmark: the earliest time at or after the batch's earliest dispatch
        // from it when the earmark goes negative, blamed on the batch's last dispatch from it
        // at or before that time (the one that takes it below zero).
        let mut dispatches = effects.dispatches.clone();
        dispatches.sort_by_key(|&(index, e, time)| (e, time, index));
        let mut i = 0;
        while i < dispatches.len() {
            let e = dispatches[i].1;
            let j = i + dispatches[i..].partition_point(|x| x.1 == e);
            let earmark = &self.earmarks[e as usize];
            if let Some((at, short)) = earmark.first_negative_from(dispatches[i].2) {
                let index = dispatches[i..j]
                    .iter()
                    .rev()
                    .find(|x| x.2 <= at)
                    .map_or(dispatches[i].0, |x| x.0);
                let Record::Movement(m) = &batch[index] else {
                    unreachable!("dispatches are movements")
                };
                let state = &self.list.list[earmark.transfer as usize];
                errors.push(
                    index,
                    "qty",
                    Violation::ExceedsEarmark {
                        transfer: state.record.id.clone(),
                        item: m.item.clone(),
                        holder: m.from.clone(),
                        lot: m.lot.clone(),
                        at,
                        short_by: short,
                    },
                );
            }
            i = j;
        }
    }

    /// The allocations of a transfer.
    pub(crate) fn allocations_of(&self, t: TransferIdx) -> impl Iterator<Item = &AllocationState> {
        self.allocations
            .list
            .iter()
            .filter(move |a| a.transfer == t)
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.list.list.enc(w);
        self.allocations.list.enc(w);
        self.cancels.list.enc(w);
        self.earmarks.enc(w);
        let mut labels: Vec<&str> = self.labels.iter().map(|l| &**l).collect();
        labels.sort_unstable();
        w.u(labels.len() as u64);
        for l in labels {
            w.s(l);
        }
    }

    pub(crate) fn decode(
        r: &mut R<'_>,
        master: &Master,
        stock: &Stock,
    ) -> Result<Transfers, SnapshotError> {
        let mut out = Transfers::default();
        for t in Vec::<TransferState>::dec(r)? {
            if t.donor as usize >= master.orgs.len()
                || t.recipient as usize >= master.orgs.len()
                || t.lines
                    .iter()
                    .any(|l| l.item as usize >= master.items.len())
                || t.shipments.iter().any(|x| x.line as usize >= t.lines.len())
            {
                return r.err("transfer refers to an unknown org, item or line");
            }
            if out.list.get(&t.record.id).is_some() {
                return r.err("transfer listed twice");
            }
            let id = t.record.id.clone();
            out.list.push(&id, t);
        }
        let transfers = out.list.list.len();
        for a in Vec::<AllocationState>::dec(r)? {
            if a.transfer as usize >= transfers || out.allocations.get(&a.record.id).is_some() {
                return r.err("bad allocation");
            }
            let id = a.record.id.clone();
            out.allocations.push(&id, a);
        }
        for c in Vec::<CancelState>::dec(r)? {
            if c.transfer as usize >= transfers || out.cancels.get(&c.record.id).is_some() {
                return r.err("bad cancellation");
            }
            let id = c.record.id.clone();
            out.cancels.push(&id, c);
        }
        out.earmarks = Vec::<Earmark>::dec(r)?;
        for (i, e) in out.earmarks.iter().enumerate() {
            let bad_line = out
                .list
                .list
                .get(e.transfer as usize)
                .is_none_or(|t| e.line as usize >= t.lines.len());
            if bad_line
                || e.key as usize >= stock.keys.len()
                || out
                    .earmark_index
                    .insert((e.transfer, e.key), i as u32)
                    .is_some()
            {
                return r.err("bad earmark");
            }
        }
        if out
            .allocations
            .list
            .iter()
            .any(|a| a.earmark as usize >= out.earmarks.len())
        {
            return r.err("allocation of an unknown earmark");
        }
        for l in Vec::<Box<str>>::dec(r)? {
            if out.list.get(&l).is_some() || !out.labels.insert(l) {
                return r.err("bad label");
            }
        }
        Ok(out)
    }
}

enc_struct!(TransferLine { item, qty, value });
enc_struct!(Transfer {
    id,
    time,
    donor,
    recipient,
    lines,
    authority,
    note
});
enc_struct!(Override { reason, by });
enc_struct!(Allocate {
    id,
    time,
    transfer,
    item,
    qty,
    from,
    lot,
    override_
});
enc_struct!(Cancel {
    id,
    time,
    transfer,
    item,
    qty,
    reason,
    by
});
crate::codec::enc_enum!(Stage);
crate::codec::enc_enum!(ShipmentKind);
enc_struct!(ShipmentRecord {
    kind,
    id,
    line,
    time,
    qty,
    pauses_before
});
enc_struct!(LineEvent { time, stage, qty });
enc_struct!(LineState { item, qty, events });
enc_struct!(TransferState {
    record,
    donor,
    recipient,
    lines,
    batches,
    shipments
});
enc_struct!(Earmark {
    transfer,
    line,
    key,
    events
});
enc_struct!(FloorBreach {
    floor,
    available,
    at,
    short_by
});
enc_struct!(AllocationState {
    record,
    transfer,
    line,
    earmark,
    breach
});
enc_struct!(CancelLine {
    line,
    cancelled,
    released
});
enc_struct!(CancelState {
    record,
    transfer,
    lines
});

/// The earliest time at or after `from` when `available` is below `qty`, and its value then.
fn first_short(available: &Timeline, from: Time, qty: i64) -> Option<(Time, i64)> {
    let at_from = available.balance_at(from);
    if at_from < qty {
        return Some((from, at_from));
    }
    available.first_below(from, qty)
}

/// The worst breach of the donor's floor for `item` that taking `qty` more of its available
/// stock from `from` on would make, if any.
fn floor_breach(
    stock: &Stock,
    floors: &super::floors::Floors,
    donor: OrgIdx,
    item: ItemIdx,
    from: Time,
    qty: i64,
) -> Option<FloorBreach> {
    let empty = Timeline::default();
    let available = stock
        .find_org_stock(donor, item)
        .map_or(&empty, |os| &os.available);
    let mut worst: Option<FloorBreach> = None;
    for span in floors.spans_from(donor, item, from) {
        let Some((lowest, at)) = available.lowest_in(span.start, span.end.unwrap_or(Time::MAX))
        else {
            continue;
        };
        let after = lowest as i128 - qty as i128;
        let short = span.min_qty as i128 - after;
        if short > 0 && worst.is_none_or(|w| short > w.short_by as i128) {
            worst = Some(FloorBreach {
                floor: span.min_qty,
                available: after as i64,
                at,
                short_by: short as u64,
            });
        }
    }
    worst
}
