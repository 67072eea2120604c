//! The ledger: the state machine that applies batches of records and answers for balances,
//! transfers, pauses and forecasts. Its state is split into one part per kind of state, each
//! owning its apply, its undo, its snapshot section and its queries:
//!
//! | part | holds | records |
//! |---|---|---|
//! | `master.rs` | orgs, holders, items | `org`, `holder`, `item` |
//! | `floors.rs` | floors as steps of effective time per (org, item) | `floor` |
//! | `stock.rs` | balances per (holder, item, lot), available-stock mirrors, per-(org, item) depot stock | `movement` (quantities) |
//! | `serials.rs` | each serial's history | `movement` (serials) |
//! | `ids.rs` | movement idempotency | `movement` (ids) |
//! | `transfers.rs` | transfers, lines, earmarks, allocations, cancellations | `transfer`, `allocate`, `cancel`, `movement` (under a transfer) |
//! | `pauses.rs` | pauses and resumptions | `pause`, `resume` |
//! | `forecasts.rs` | production and consumption plans, threat reports | `production`, `consumption`, `threat` |
//! | `inventory.rs` | inventories | `inventory` |
//!
//! A batch is atomic: nobody ever sees the ledger halfway through one, so the rules are
//! checked on the ledger as it stands after the whole batch. Declarations are applied first,
//! kind by kind, then the other records in file order (see [`RecordKind::ALL`]), each
//! checked on its own (references, kinds, tracking, idempotency, pauses) by an exhaustive
//! `match` — a new kind of record does not compile until it has a home. Then the
//! checks that depend on the whole batch run: every balance it withdrew from, at and after
//! its earliest withdrawal; every serial it moved, as one chain; every allocation against its
//! commitment, its depot's available stock and its donor's floor; every dispatch against its
//! earmark. Any error rejects the whole batch: every part undoes its changes, so the state is
//! exactly what it was, and the rejection lists every bad record found (up to
//! [`Rejection::MAX_ERRORS`]), each blamed on the record that causes it.

// A refusal carries the facts a user needs (names, times, quantities), so it is large; it is
// also rare, and the accepted path returns a one-byte `Declared` through the same out-pointer.
#![allow(clippy::result_large_err)]

mod floors;
mod forecasts;
mod ids;
mod inventory;
mod master;
mod pauses;
mod serials;
mod stock;
mod transfers;

use hashbrown::HashMap;

pub use floors::FloorSpan;
pub use forecasts::{ConsumptionState, ProductionState, ThreatState};
pub use inventory::InventoryState;
pub use master::{HolderIdx, ItemIdx, OrgIdx};
pub use pauses::{PauseState, ResumeState};
pub use serials::{Serial, SerialMove};
pub use stock::{KeyIdx, KeyRef, LotIdx, OrgStock};
pub use transfers::{
    AllocationState, CancelLine, CancelState, Earmark, FloorBreach, LineEvent, LineFigures,
    LineState, ShipmentKind, ShipmentRecord, Stage, TransferIdx, TransferState,
};

use crate::idhash::{id_hash, PassThroughBuild};
use crate::limits::QTY_MAX;
use crate::rejection::{RecordError, Rejection, Violation};
use crate::{
    FirstDifference, Floor, Holder, HolderKind, Item, Movement, Org, Record, RecordKind, Time,
};

/// The error of one record: the field at fault and the rule it breaks.
pub(crate) type Outcome = (&'static str, Violation);

/// What applying one record did.
pub(crate) enum Declared {
    /// It was new and is now in the ledger.
    New,
    /// It was already there, identically: a no-op.
    Same,
}

/// Records of one kind that carry their own id, with the ids indexed, append-only within a
/// batch so that a rejected batch truncates back.
#[derive(Debug, Clone)]
pub(crate) struct Registry<S> {
    pub(crate) list: Vec<S>,
    index: HashMap<Box<str>, u32>,
    mark: usize,
}

impl<S> Default for Registry<S> {
    fn default() -> Self {
        Registry {
            list: Vec::new(),
            index: HashMap::new(),
            mark: 0,
        }
    }
}

impl<S> Registry<S> {
    pub(crate) fn begin(&mut self) {
        self.mark = self.list.len();
    }
    pub(crate) fn mark(&self) -> usize {
        self.mark
    }
    pub(crate) fn rollback(&mut self, id_of: impl Fn(&S) -> &str) {
        for s in self.list.drain(self.mark..) {
            self.index.remove(id_of(&s));
        }
    }
    pub(crate) fn get(&self, id: &str) -> Option<u32> {
        self.index.get(id).copied()
    }
    pub(crate) fn get_record<R>(&self, id: &str, record: impl Fn(&S) -> &R) -> Option<&R> {
        self.get(id).map(|i| record(&self.list[i as usize]))
    }
    pub(crate) fn push(&mut self, id: &str, s: S) -> u32 {
        let i = self.list.len() as u32;
        self.list.push(s);
        self.index.insert(id.into(), i);
        i
    }
}

/// Idempotency of a record with an id: `None` when the id is new; otherwise a no-op when the
/// record is the same, or the refusal naming the first differing field.
pub(crate) fn known<R: FirstDifference>(
    what: &'static str,
    id: &str,
    existing: Option<&R>,
    new: &R,
) -> Option<Result<Declared, Outcome>> {
    let old = existing?;
    Some(match old.first_difference(new) {
        None => Ok(Declared::Same),
        Some(field) => Err(id_reused(what, id, field)),
    })
}

/// Collects a batch's errors: at most one per record from applying it, and at most one per
/// balance, serial, line or earmark from the checks on the final state, so O(batch).
#[derive(Default)]
pub(crate) struct Errors {
    list: Vec<RecordError>,
}

impl Errors {
    pub(crate) fn push(&mut self, index: usize, field: &'static str, violation: Violation) {
        self.list.push(RecordError {
            index,
            field,
            violation,
        });
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty()
    }
    /// The rejection: errors in the order of the records they blame (stably, so one record's
    /// errors keep the order they were found in), the first [`Rejection::MAX_ERRORS`] listed.
    fn into_rejection(mut self) -> Rejection {
        self.list.sort_by_key(|e| e.index);
        let more = self.list.len().saturating_sub(Rejection::MAX_ERRORS);
        self.list.truncate(Rejection::MAX_ERRORS);
        Rejection {
            errors: self.list,
            more,
        }
    }
}

/// What the records of a batch did, for the checks made once the whole batch is in.
#[derive(Default)]
pub(crate) struct Effects {
    /// (key, time, record index) of every withdrawal from a non-source balance.
    pub(crate) withdrawals: Vec<(KeyIdx, Time, usize)>,
    /// (serial, time) → record index of every serial movement.
    pub(crate) serial_moves: HashMap<(u32, Time), usize>,
    /// (record index, transfer, line, time) of every allocation and cancellation.
    pub(crate) lines: Vec<(usize, TransferIdx, u32, Time)>,
    /// (record index, earmark, time) of every dispatch.
    pub(crate) dispatches: Vec<(usize, u32, Time)>,
}

/// The batch being applied.
pub(crate) struct BatchCx {
    /// The sequence number the batch gets if it is accepted.
    pub(crate) seq: u64,
    pub(crate) effects: Effects,
}

/// Previously committed movements whose ids a batch reuses, loaded from the journal by the
/// caller (see [`Ledger::duplicate_candidates`]), so the core can tell a harmless retry from
/// a conflicting reuse without doing I/O.
#[derive(Debug, Default, Clone)]
pub struct Originals {
    pub movements: std::collections::HashMap<String, Movement>,
}

/// What a successful apply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Receipt {
    /// The ledger's batch sequence number after the apply (unchanged when nothing was new).
    pub seq: u64,
    /// Indexes of the records that were new, in batch order: what the journal must store.
    pub new_records: Vec<usize>,
    /// Records already in the ledger, identically: no-ops.
    pub duplicates: usize,
}

/// Filters for [`Ledger::balances`].
#[derive(Debug, Clone, Default)]
pub struct BalanceQuery<'a> {
    pub holder: Option<&'a str>,
    pub item: Option<&'a str>,
    pub lot: Option<&'a str>,
    /// `None`: after every movement.
    pub as_of: Option<Time>,
}

/// One balance, as answered by [`Ledger::balances`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance<'a> {
    pub holder: &'a str,
    pub item: &'a str,
    pub lot: Option<&'a str>,
    pub qty: i64,
}

/// The whole in-memory state: the fold of the journal.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Sequence number of the last applied batch.
    pub(crate) seq: u64,
    pub(crate) master: master::Master,
    pub(crate) floors: floors::Floors,
    pub(crate) stock: stock::Stock,
    pub(crate) serials: serials::Serials,
    pub(crate) ids: ids::MovementIds,
    pub(crate) transfers: transfers::Transfers,
    pub(crate) pauses: pauses::Pauses,
    pub(crate) forecasts: forecasts::Forecasts,
    pub(crate) inventories: inventory::Inventories,
}

/// Movement ids first seen in this batch: id hash → index in the batch, and, for the rare ids
/// whose hash another id of the batch already has, by name.
struct BatchIds<'b> {
    by_hash: HashMap<u64, usize, PassThroughBuild>,
    colliding: HashMap<&'b str, usize>,
}

impl Ledger {
    pub fn new() -> Ledger {
        Ledger::default()
    }

    // begin, commit and rollback name every part (a destructuring, not a list), so that a
    // new part of the state does not compile until it says what a batch does to it.

    fn begin(&mut self) {
        let Ledger {
            seq: _,
            master,
            floors,
            stock,
            serials,
            ids,
            transfers,
            pauses,
            forecasts,
            inventories,
        } = self;
        master.begin();
        floors.begin();
        stock.begin();
        serials.begin();
        ids.begin();
        transfers.begin();
        pauses.begin();
        forecasts.begin();
        inventories.begin();
    }

    fn commit(&mut self) {
        let Ledger {
            seq: _,
            // These parts keep only marks into their lists, which the next begin resets.
            master: _,
            floors: _,
            forecasts: _,
            inventories: _,
            stock,
            serials,
            ids,
            transfers,
            pauses,
        } = self;
        stock.commit();
        serials.commit();
        ids.commit();
        transfers.commit();
        pauses.commit();
    }

    /// Undoes the batch, part by part (each part's changes are its own; the dependants first).
    fn rollback(&mut self) {
        let Ledger {
            seq: _,
            master,
            floors,
            stock,
            serials,
            ids,
            transfers,
            pauses,
            forecasts,
            inventories,
        } = self;
        inventories.rollback();
        forecasts.rollback();
        pauses.rollback();
        transfers.rollback();
        ids.rollback();
        serials.rollback();
        master.rollback();
        stock.rollback(master.holders.len());
        floors.rollback();
    }

    /// Applies a batch whole, or not at all.
    pub fn apply(&mut self, batch: &[Record], originals: &Originals) -> Result<Receipt, Rejection> {
        let receipt = self.apply_uncommitted(batch, originals)?;
        self.commit();
        Ok(receipt)
    }

    /// Applies a batch whole or not at all, keeping every part's undo log until the caller
    /// either keeps it ([`Ledger::keep_staged`], once the batch is durable) or undoes it
    /// ([`Ledger::discard_staged`], when making it durable failed), at the cost of the
    /// batch rather than of a reload. Nothing else may be applied in between.
    pub fn stage(&mut self, batch: &[Record], originals: &Originals) -> Result<Receipt, Rejection> {
        self.apply_uncommitted(batch, originals)
    }

    /// Keeps the batch [`Ledger::stage`] applied.
    pub fn keep_staged(&mut self) {
        self.commit();
    }

    /// Undoes the batch [`Ledger::stage`] applied (its receipt): the ledger is exactly as
    /// it was before it.
    pub fn discard_staged(&mut self, receipt: &Receipt) {
        self.rollback();
        if !receipt.new_records.is_empty() {
            self.seq = receipt.seq - 1;
        }
    }

    /// What-if: applies a batch, hands the ledger holding it to `f`, then undoes it, so that
    /// the ledger is exactly as it was (its snapshot bytes included). Costs what applying
    /// and undoing the batch cost, not a copy of the state.
    pub fn evaluate<R>(
        &mut self,
        batch: &[Record],
        originals: &Originals,
        f: impl FnOnce(&Ledger) -> R,
    ) -> Result<R, Rejection> {
        let seq = self.seq;
        self.apply_uncommitted(batch, originals)?;
        let r = f(self);
        self.rollback();
        self.seq = seq;
        Ok(r)
    }

    /// Applies a batch, keeping every part's undo log, so that the caller either commits it
    /// or rolls it back.
    fn apply_uncommitted(
        &mut self,
        batch: &[Record],
        originals: &Originals,
    ) -> Result<Receipt, Rejection> {
        let seq = self.seq + 1;
        self.begin();
        let mut errors = Errors::default();
        let mut cx = BatchCx {
            seq,
            effects: Effects::default(),
        };
        let mut new_records = Vec::with_capacity(batch.len());
        let mut duplicates = 0usize;
        let mut batch_ids = BatchIds {
            by_hash: HashMap::with_capacity_and_hasher(batch.len(), Default::default()),
            colliding: HashMap::new(),
        };
        for index in kind_order(batch) {
            let outcome = match &batch[index] {
                Record::Org(o) => self.master.declare_org(o),
                Record::Holder(h) => self.declare_holder(h),
                Record::Item(i) => self.master.declare_item(i),
                Record::Floor(f) => self.floors.declare(&self.master, f),
                Record::Transfer(t) => self.transfers.declare_transfer(&self.master, t, seq),
                Record::Pause(p) => self.pauses.declare_pause(&self.master, &self.transfers, p),
                Record::Resume(r) => self.pauses.declare_resume(r),
                Record::Allocate(a) => self.transfers.allocate(
                    &self.master,
                    &mut self.stock,
                    &self.floors,
                    &self.pauses,
                    a,
                    index,
                    &mut cx,
                ),
                Record::Movement(m) => {
                    self.movement(batch, m, index, originals, &mut batch_ids, &mut cx)
                }
                Record::Cancel(c) => {
                    self.transfers
                        .cancel(&self.master, &mut self.stock, c, index, &mut cx)
                }
                Record::Production(p) => self.forecasts.declare_production(&self.master, p),
                Record::Consumption(c) => self.forecasts.declare_consumption(&self.master, c),
                Record::Threat(t) => self.forecasts.declare_threat(&self.master, t),
                Record::Inventory(i) => self.inventories.declare(&self.master, i),
            };
            match outcome {
                Ok(Declared::New) => new_records.push(index),
                Ok(Declared::Same) => duplicates += 1,
                Err((field, violation)) => errors.push(index, field, violation),
            }
        }

        self.stock
            .check_withdrawals(&self.master, &mut cx.effects, &mut errors);
        self.serials
            .check_chains(&self.master, &cx.effects, &mut errors);
        self.transfers
            .check(&self.master, batch, &cx.effects, &mut errors);
        if !errors.is_empty() {
            self.rollback();
            return Err(errors.into_rejection());
        }
        new_records.sort_unstable();
        if !new_records.is_empty() {
            self.seq = seq;
        }
        Ok(Receipt {
            seq: self.seq,
            new_records,
            duplicates,
        })
    }

    fn declare_holder(&mut self, h: &Holder) -> Result<Declared, Outcome> {
        let r = self.master.declare_holder(h);
        self.stock.add_holders(self.master.holders.len());
        r
    }

    /// A movement: a repeat within the batch is compared with its first occurrence; otherwise
    /// it is applied.
    fn movement<'b>(
        &mut self,
        batch: &'b [Record],
        m: &'b Movement,
        index: usize,
        originals: &Originals,
        batch_ids: &mut BatchIds<'b>,
        cx: &mut BatchCx,
    ) -> Result<Declared, Outcome> {
        let hash = id_hash(&m.id);
        let first = match batch_ids.by_hash.get(&hash) {
            Some(&i) if movement_id(&batch[i]) == m.id => Some(i),
            Some(_) => batch_ids.colliding.get(m.id.as_str()).copied(),
            None => None,
        };
        if let Some(first) = first {
            let Record::Movement(earlier) = &batch[first] else {
                unreachable!("movement ids index movements")
            };
            return match earlier.first_differing_field(m) {
                None => Ok(Declared::Same),
                Some(field) => Err(id_reused("movement", &m.id, field)),
            };
        }
        let r = self.apply_movement(m, hash, index, originals, cx);
        if matches!(r, Ok(Declared::New)) {
            if batch_ids.by_hash.contains_key(&hash) {
                batch_ids.colliding.insert(m.id.as_str(), index);
            } else {
                batch_ids.by_hash.insert(hash, index);
            }
        }
        r
    }

    fn apply_movement(
        &mut self,
        m: &Movement,
        hash: u64,
        index: usize,
        originals: &Originals,
        cx: &mut BatchCx,
    ) -> Result<Declared, Outcome> {
        // Idempotency: a known id is either this very record again, or a conflict.
        let known = self.ids.batch_of(hash).is_some();
        if known {
            if let Some(orig) = originals.movements.get(&m.id) {
                return match orig.first_differing_field(m) {
                    None => Ok(Declared::Same),
                    Some(field) => Err(id_reused("movement", &m.id, field)),
                };
            }
            // The hash matched another id: this one is new.
        }

        if m.qty == 0 {
            return Err(("qty", Violation::QtyZero));
        }
        if m.qty > QTY_MAX {
            return Err(("qty", Violation::QtyTooLarge { qty: m.qty }));
        }
        if let Some(serials) = &m.serials {
            if serials.len() as u64 != m.qty {
                return Err((
                    "serials",
                    Violation::SerialCount {
                        qty: m.qty,
                        serials: serials.len() as u64,
                    },
                ));
            }
            let mut seen = hashbrown::HashSet::with_capacity(serials.len());
            if let Some(s) = serials.iter().find(|s| !seen.insert(s.as_str())) {
                return Err(("serials", Violation::SerialRepeated { serial: s.clone() }));
            }
        }
        let master = &self.master;
        let item = master.need_item("item", &m.item)?;
        let from = master.need_holder("from", &m.from)?;
        let to = master.need_holder("to", &m.to)?;
        if from == to {
            return Err((
                "to",
                Violation::SameHolder {
                    holder: m.to.clone(),
                },
            ));
        }
        let from_kind = master.kind(from);
        if from_kind == HolderKind::Sink {
            return Err((
                "from",
                Violation::SinkSends {
                    holder: m.from.clone(),
                },
            ));
        }
        if master.kind(to) == HolderKind::Source {
            return Err((
                "to",
                Violation::SourceReceives {
                    holder: m.to.clone(),
                },
            ));
        }
        let tracking = master.item(item).tracking;
        stock::check_tracking(
            &m.item,
            tracking,
            m.lot.as_deref(),
            m.serials.as_ref().map(Vec::len),
            true,
        )?;
        if let Some(serials) = &m.serials {
            self.serials
                .check_instants(item, &m.item, serials, m.time)?;
        }

        let lot = match &m.lot {
            Some(l) => self.stock.lots.intern(l),
            None => 0,
        };
        let mv = stock::Move {
            from,
            to,
            item,
            lot,
            time: m.time,
            qty: m.qty,
        };
        let (from_key, _) = self
            .stock
            .apply_move(&self.master, &mv)
            .map_err(|over| ("qty", self.stock.volume_violation(&self.master, over)))?;
        if from_kind != HolderKind::Source {
            cx.effects.withdrawals.push((from_key, m.time, index));
        }
        if let Some(serials) = &m.serials {
            self.serials.apply_move(
                item,
                serials,
                SerialMove {
                    time: m.time,
                    from,
                    to,
                },
                index,
                &mut cx.effects,
            );
        }
        if let Some(label) = m.transfer.as_deref() {
            match self.transfers.find(label) {
                Some(t) => self.transfers.on_movement(
                    &self.master,
                    &mut self.stock,
                    &self.pauses,
                    t,
                    m,
                    item,
                    from_key,
                    index,
                    cx,
                )?,
                None => self.transfers.note_label(label),
            }
        }
        self.ids.insert(hash, cx.seq, known);
        Ok(Declared::New)
    }
}

/// The order a batch's records are applied in: the declarations kind by kind in
/// [`RecordKind::ALL`]'s order (file order within a kind), then every other record in file
/// order (a counting sort: the batch is read twice, never compared).
fn kind_order(batch: &[Record]) -> Vec<usize> {
    const KINDS: usize = RecordKind::ALL.len();
    // The declarations' slots, then one shared slot (KINDS) for records in file order.
    let slot_of = |r: &Record| {
        let k = r.kind();
        if k.is_declaration() {
            k as usize
        } else {
            KINDS
        }
    };
    let mut starts = [0usize; KINDS + 2];
    for r in batch {
        starts[slot_of(r) + 1] += 1;
    }
    for k in 0..=KINDS {
        starts[k + 1] += starts[k];
    }
    let mut order = vec![0usize; batch.len()];
    for (i, r) in batch.iter().enumerate() {
        let slot = &mut starts[slot_of(r)];
        order[*slot] = i;
        *slot += 1;
    }
    order
}

fn id_reused(what: &'static str, id: &str, field: &'static str) -> Outcome {
    (
        "id",
        Violation::IdReused {
            what,
            id: id.to_owned(),
            field,
        },
    )
}

fn movement_id(r: &Record) -> &str {
    match r {
        Record::Movement(m) => &m.id,
        _ => "",
    }
}

/// Read access: the state the journal folds into.
impl Ledger {
    /// Sequence number of the last applied batch (0: none).
    pub fn seq(&self) -> u64 {
        self.seq
    }
    pub fn orgs(&self) -> &[Org] {
        &self.master.orgs
    }
    pub fn holders(&self) -> &[Holder] {
        &self.master.holders
    }
    pub fn items(&self) -> &[Item] {
        &self.master.items
    }
    /// Every floor record, in the order applied.
    pub fn floors(&self) -> &[Floor] {
        &self.floors.records
    }
    /// Every (holder, item, lot) key, in the order made.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = KeyRef<'_>> + Clone + '_ {
        (0..self.stock.keys.len() as KeyIdx).map(|k| self.stock.key_ref(k))
    }
    /// One key.
    pub fn key(&self, k: KeyIdx) -> KeyRef<'_> {
        self.stock.key_ref(k)
    }
    /// Number of keys.
    pub fn key_count(&self) -> usize {
        self.stock.keys.len()
    }
    pub fn serials(&self) -> &[Serial] {
        &self.serials.serials
    }
    /// Number of movements in the ledger.
    pub fn movement_count(&self) -> u64 {
        self.stock.movements
    }
    pub fn org_idx(&self, id: &str) -> Option<OrgIdx> {
        self.master.org_idx(id)
    }
    pub fn holder_idx(&self, id: &str) -> Option<HolderIdx> {
        self.master.holder_idx(id)
    }
    pub fn item_idx(&self, code: &str) -> Option<ItemIdx> {
        self.master.item_idx(code)
    }
    /// The org that owns a holder.
    pub fn holder_org(&self, h: HolderIdx) -> OrgIdx {
        self.master.holder_org[h as usize]
    }
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.master.org_idx(id).map(|i| self.master.org(i))
    }
    /// Whether a lot of this name was ever recorded.
    pub fn lot_known(&self, name: &str) -> bool {
        self.stock.lots.get(name).is_some_and(|l| l != 0)
    }
    /// The name of a lot index (`None` for "no lot").
    pub fn lot_name(&self, lot: LotIdx) -> Option<&str> {
        self.stock.lot_name(lot)
    }
    /// A serial by item and number.
    pub fn serial(&self, item: &str, serial: &str) -> Option<&Serial> {
        self.serials.find(self.item_idx(item)?, serial)
    }

    /// Batches that hold movements whose ids the batch reuses (or whose id hashes collide with
    /// them): load their movements into [`Originals`] before calling [`Ledger::apply`].
    pub fn duplicate_candidates(&self, batch: &[Record]) -> Vec<u64> {
        self.ids.candidates(batch)
    }

    /// Moves the ids recorded since the last compaction into the sorted base (after a
    /// snapshot, say), so that memory stays at 16 bytes per id.
    pub fn compact_ids(&mut self) {
        self.ids.compact();
    }

    /// The balance of one (holder, item, lot) at `as_of` (`None`: after every movement).
    pub fn balance(&self, holder: &str, item: &str, lot: Option<&str>, as_of: Option<Time>) -> i64 {
        let (Some(h), Some(i)) = (self.holder_idx(holder), self.item_idx(item)) else {
            return 0;
        };
        let l = match lot {
            Some(l) => match self.stock.lots.get(l) {
                Some(l) => l,
                None => return 0,
            },
            None => 0,
        };
        match self.stock.key_idx(h, i, l) {
            Some(k) => self.stock.key_balance(k, as_of),
            None => 0,
        }
    }

    /// The balance of a key at `as_of`.
    pub fn key_balance(&self, key: KeyIdx, as_of: Option<Time>) -> i64 {
        self.stock.key_balance(key, as_of)
    }

    /// The earmarks standing at a key at `as_of`.
    pub fn key_earmarked(&self, key: KeyIdx, as_of: Option<Time>) -> i64 {
        self.stock.key_earmarked(key, as_of)
    }

    /// Every non-zero balance matching the query, sorted by holder, item, lot.
    pub fn balances(&self, q: &BalanceQuery<'_>) -> Vec<Balance<'_>> {
        let item = match q.item {
            Some(code) => match self.item_idx(code) {
                Some(i) => Some(i),
                None => return Vec::new(),
            },
            None => None,
        };
        let lot = match q.lot {
            Some(name) => match self.stock.lots.get(name) {
                Some(l) if l != 0 => Some(l),
                _ => return Vec::new(),
            },
            None => None,
        };
        let mut out = Vec::new();
        let mut visit = |k: KeyIdx| {
            let key = self.stock.key_ref(k);
            if item.is_some_and(|i| i != key.item) || lot.is_some_and(|l| l != key.lot) {
                return;
            }
            let qty = self.key_balance(k, q.as_of);
            if qty != 0 {
                out.push(Balance {
                    holder: &self.master.holders[key.holder as usize].id,
                    item: &self.master.items[key.item as usize].code,
                    lot: self.lot_name(key.lot),
                    qty,
                });
            }
        };
        match q.holder {
            Some(id) => match self.holder_idx(id) {
                Some(h) => self.stock.holder_keys[h as usize]
                    .iter()
                    .for_each(|&k| visit(k)),
                None => return Vec::new(),
            },
            None => (0..self.stock.keys.len() as KeyIdx).for_each(&mut visit),
        }
        out.sort_unstable_by(|a, b| (a.holder, a.item, a.lot).cmp(&(b.holder, b.item, b.lot)));
        out
    }

    /// The floor in force for an item and org at `at`: the latest-recorded floor among those
    /// with the latest start time at or before `at` (or with no start time).
    pub fn floor(&self, item: &str, org: &str, at: Time) -> Option<u64> {
        self.floors.at(self.org_idx(org)?, self.item_idx(item)?, at)
    }

    /// The floor in force for (org, item) at `at`, by index.
    pub fn floor_at(&self, org: OrgIdx, item: ItemIdx, at: Time) -> Option<u64> {
        self.floors.at(org, item, at)
    }

    /// The keys (balances) of a holder.
    pub fn holder_keys(&self, h: HolderIdx) -> &[KeyIdx] {
        &self.stock.holder_keys[h as usize]
    }

    /// The floors in force for (org, item) from `from` on.
    pub fn floor_spans(&self, org: OrgIdx, item: ItemIdx, from: Time) -> Vec<FloorSpan> {
        self.floors.spans_from(org, item, from)
    }

    /// An org's stock of an item at its depots (`None`: it never had any).
    pub fn org_stock(&self, org: OrgIdx, item: ItemIdx) -> Option<&OrgStock> {
        self.stock.find_org_stock(org, item)
    }

    /// Every (org, item) depot stock.
    pub fn org_stocks(&self) -> &[OrgStock] {
        &self.stock.org_stocks
    }

    pub fn transfers(&self) -> &[TransferState] {
        &self.transfers.list.list
    }
    pub fn transfer(&self, id: &str) -> Option<&TransferState> {
        self.transfers
            .find(id)
            .map(|t| &self.transfers.list.list[t as usize])
    }
    pub fn transfer_idx(&self, id: &str) -> Option<TransferIdx> {
        self.transfers.find(id)
    }
    pub fn allocations(&self) -> &[AllocationState] {
        &self.transfers.allocations.list
    }
    /// The allocations of one transfer.
    pub fn allocations_of(&self, t: TransferIdx) -> impl Iterator<Item = &AllocationState> {
        self.transfers.allocations_of(t)
    }
    pub fn cancels(&self) -> &[CancelState] {
        &self.transfers.cancels.list
    }
    pub fn earmarks(&self) -> &[Earmark] {
        &self.transfers.earmarks
    }
    pub fn pauses(&self) -> &[PauseState] {
        &self.pauses.list.list
    }
    pub fn resumes(&self) -> &[ResumeState] {
        &self.pauses.resumes.list
    }
    /// When a pause stops standing (`None`: not resumed).
    pub fn pause_until(&self, p: &PauseState) -> Option<Time> {
        self.pauses.until(p)
    }
    /// Whether a pause stands at `t`.
    pub fn pause_stands_at(&self, p: &PauseState, t: Time) -> bool {
        self.pauses.stands_at(p, t)
    }
    /// The allocations and dispatches under transfer `t` that pause `p` (its index in
    /// [`Ledger::pauses`]) covers but that were accepted before it was recorded: in its scope,
    /// dated within its span (from its time until its resumption), in recording order. They
    /// stand (a late pause undoes nothing); reports show them. O(the transfer's shipments).
    pub fn accepted_before_pause(
        &self,
        p: u32,
        t: TransferIdx,
    ) -> impl Iterator<Item = &ShipmentRecord> + '_ {
        let pause = &self.pauses.list.list[p as usize];
        let state = &self.transfers.list.list[t as usize];
        let until = self.pauses.until(pause);
        let scope: Vec<bool> = state
            .lines
            .iter()
            .map(|l| pauses::Pauses::in_scope(&self.master, pause, state, t, l.item))
            .collect();
        state.shipments.iter().filter(move |r| {
            p >= r.pauses_before
                && scope[r.line as usize]
                && pause.record.time <= r.time
                && until.is_none_or(|u| r.time < u)
        })
    }
    /// Whether a pause's scope takes in `item` of transfer `t`.
    pub fn pause_in_scope(&self, p: &PauseState, t: TransferIdx, item: ItemIdx) -> bool {
        let state = &self.transfers.list.list[t as usize];
        pauses::Pauses::in_scope(&self.master, p, state, t, item)
    }
    pub fn productions(&self) -> &[ProductionState] {
        &self.forecasts.productions.list
    }
    pub fn consumptions(&self) -> &[ConsumptionState] {
        &self.forecasts.consumptions.list
    }
    pub fn threats(&self) -> &[ThreatState] {
        &self.forecasts.threats.list
    }
    pub fn inventories(&self) -> &[InventoryState] {
        &self.inventories.list.list
    }
}

/// The snapshot's section decoders, for `snapshot.rs`.
pub(crate) fn decode_master(
    r: &mut crate::codec::R<'_>,
) -> Result<master::Master, crate::SnapshotError> {
    master::Master::decode(r)
}
pub(crate) fn decode_floors(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
) -> Result<floors::Floors, crate::SnapshotError> {
    floors::Floors::decode(r, m)
}
pub(crate) fn decode_stock(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
) -> Result<stock::Stock, crate::SnapshotError> {
    stock::Stock::decode(r, m)
}
pub(crate) fn decode_serials(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
) -> Result<serials::Serials, crate::SnapshotError> {
    serials::Serials::decode(r, m)
}
pub(crate) fn decode_ids(
    r: &mut crate::codec::R<'_>,
) -> Result<ids::MovementIds, crate::SnapshotError> {
    ids::MovementIds::decode(r)
}
pub(crate) fn decode_transfers(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
    s: &stock::Stock,
) -> Result<transfers::Transfers, crate::SnapshotError> {
    transfers::Transfers::decode(r, m, s)
}
pub(crate) fn decode_pauses(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
    t: &transfers::Transfers,
) -> Result<pauses::Pauses, crate::SnapshotError> {
    pauses::Pauses::decode(r, m, t)
}
pub(crate) fn decode_forecasts(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
) -> Result<forecasts::Forecasts, crate::SnapshotError> {
    forecasts::Forecasts::decode(r, m)
}
pub(crate) fn decode_inventories(
    r: &mut crate::codec::R<'_>,
    m: &master::Master,
) -> Result<inventory::Inventories, crate::SnapshotError> {
    inventory::Inventories::decode(r, m)
}
