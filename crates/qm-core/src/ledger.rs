//! The ledger: the state machine that applies batches of records and answers for balances.
//!
//! A batch is atomic: nobody ever sees the ledger halfway through one, so the rules are
//! checked on the ledger as it stands after the whole batch, and the order of records within
//! a batch does not matter. Records are first checked one by one (references, holder kinds,
//! tracking, idempotency) and applied; then every balance the batch withdrew from is checked
//! at and after its earliest withdrawal, and every serial it moved has its history checked
//! as one chain. Any error rejects the whole batch: every change is undone from an undo log,
//! so the state is exactly what it was, and the rejection lists every bad record found (up
//! to [`Rejection::MAX_ERRORS`]), each blamed on the record that causes it.

use hashbrown::HashMap;

use crate::idhash::{id_hash, PassThroughBuild};
use crate::rejection::{RecordError, Rejection, Violation};
use crate::timeline::{Added, Timeline};
use crate::{Floor, Holder, HolderKind, Item, Movement, Org, Record, Time, Tracking};

/// Index of a holder in [`Ledger::holders`].
pub type HolderIdx = u32;
/// Index of an item in [`Ledger::items`].
pub type ItemIdx = u32;
/// Index of a lot name; 0 is "no lot".
pub type LotIdx = u32;
/// Index of a (holder, item, lot) balance.
pub type KeyIdx = u32;

/// One (holder, item, lot) balance and its history.
#[derive(Debug, Clone, Default)]
pub struct Key {
    pub holder: HolderIdx,
    pub item: ItemIdx,
    pub lot: LotIdx,
    pub timeline: Timeline,
}

/// One movement of a serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SerialMove {
    pub time: Time,
    pub from: HolderIdx,
    pub to: HolderIdx,
}

/// A serial-tracked piece and its own history, ordered by time.
#[derive(Debug, Clone)]
pub struct Serial {
    pub item: ItemIdx,
    pub serial: Box<str>,
    pub history: Vec<SerialMove>,
}

impl Serial {
    /// Where the serial is after its last movement.
    pub fn location(&self) -> Option<HolderIdx> {
        self.history.last().map(|m| m.to)
    }

    /// Where the serial is at time `t` (after every movement at or before `t`).
    pub fn location_at(&self, t: Time) -> Option<HolderIdx> {
        let pos = self.history.partition_point(|m| m.time <= t);
        pos.checked_sub(1).map(|p| self.history[p].to)
    }
}

/// A name table with stable indexes.
#[derive(Debug, Clone, Default)]
pub(crate) struct Names {
    pub(crate) index: HashMap<Box<str>, u32>,
    pub(crate) names: Vec<Box<str>>,
}

impl Names {
    pub(crate) fn get(&self, name: &str) -> Option<u32> {
        self.index.get(name).copied()
    }

    pub(crate) fn intern(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.index.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.into());
        self.index.insert(name.into(), i);
        i
    }

    fn truncate(&mut self, len: usize) {
        for name in self.names.drain(len..) {
            self.index.remove(&name);
        }
    }
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

enum Undo {
    Timeline {
        key: KeyIdx,
        time: Time,
        delta: i64,
        added: Added,
    },
    SerialInsert {
        serial: u32,
        pos: usize,
    },
    Id {
        hash: u64,
        extra: bool,
    },
}

/// Lengths of the append-only tables when a batch started, to roll back to.
struct Marks {
    orgs: usize,
    holders: usize,
    items: usize,
    floors: usize,
    lots: usize,
    keys: usize,
    serials: usize,
    movements: u64,
}

/// The whole in-memory state: the fold of the journal.
#[derive(Debug, Clone, Default)]
pub struct Ledger {
    /// Sequence number of the last applied batch.
    pub(crate) seq: u64,
    pub(crate) orgs: Vec<Org>,
    pub(crate) org_index: HashMap<Box<str>, u32>,
    pub(crate) holders: Vec<Holder>,
    pub(crate) holder_index: HashMap<Box<str>, HolderIdx>,
    pub(crate) items: Vec<Item>,
    pub(crate) item_index: HashMap<Box<str>, ItemIdx>,
    pub(crate) floors: Vec<Floor>,
    /// Lot names; index 0 is the empty name, meaning "no lot".
    pub(crate) lots: Names,
    pub(crate) keys: Vec<Key>,
    pub(crate) key_index: HashMap<(HolderIdx, ItemIdx, LotIdx), KeyIdx>,
    /// Keys per holder, for filtered balance queries.
    pub(crate) holder_keys: Vec<Vec<KeyIdx>>,
    pub(crate) serials: Vec<Serial>,
    pub(crate) serial_index: HashMap<(ItemIdx, Box<str>), u32>,
    /// Movement id hash → the batch that holds it, for ids recorded since the last compaction.
    pub(crate) ids: HashMap<u64, u64, PassThroughBuild>,
    /// The same for older ids: (hash, batch) sorted by hash. 16 bytes per id, loaded from a
    /// snapshot as it is stored (no hash table to rebuild at start-up).
    pub(crate) ids_base: Vec<(u64, u64)>,
    /// Further batches for id hashes shared by different ids (hash collisions).
    pub(crate) ids_extra: HashMap<u64, Vec<u64>, PassThroughBuild>,
    /// Number of movements applied.
    pub(crate) movements: u64,
}

/// Collects errors up to the cap.
struct Errors {
    list: Vec<RecordError>,
    more: usize,
}

impl Errors {
    fn push(&mut self, index: usize, field: &'static str, violation: Violation) {
        if self.list.len() < Rejection::MAX_ERRORS {
            self.list.push(RecordError {
                index,
                field,
                violation,
            });
        } else {
            self.more += 1;
        }
    }
    fn is_empty(&self) -> bool {
        self.list.is_empty() && self.more == 0
    }
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

impl Ledger {
    pub fn new() -> Ledger {
        let mut l = Ledger::default();
        l.lots.intern("");
        l
    }

    /// Sequence number of the last applied batch (0: none).
    pub fn seq(&self) -> u64 {
        self.seq
    }

    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }
    pub fn holders(&self) -> &[Holder] {
        &self.holders
    }
    pub fn items(&self) -> &[Item] {
        &self.items
    }
    pub fn floors(&self) -> &[Floor] {
        &self.floors
    }
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }
    pub fn serials(&self) -> &[Serial] {
        &self.serials
    }
    /// Number of movements in the ledger.
    pub fn movement_count(&self) -> u64 {
        self.movements
    }
    pub fn holder_idx(&self, id: &str) -> Option<HolderIdx> {
        self.holder_index.get(id).copied()
    }
    pub fn item_idx(&self, code: &str) -> Option<ItemIdx> {
        self.item_index.get(code).copied()
    }
    pub fn org(&self, id: &str) -> Option<&Org> {
        self.org_index.get(id).map(|&i| &self.orgs[i as usize])
    }
    /// The name of a lot index (`None` for "no lot").
    pub fn lot_name(&self, lot: LotIdx) -> Option<&str> {
        (lot != 0).then(|| &*self.lots.names[lot as usize])
    }
    /// A serial by item and number.
    pub fn serial(&self, item: &str, serial: &str) -> Option<&Serial> {
        let item = self.item_idx(item)?;
        let i = self.serial_index.get(&(item, Box::<str>::from(serial)))?;
        Some(&self.serials[*i as usize])
    }

    /// The batch holding the movement whose id has this hash.
    fn id_batch(&self, hash: u64) -> Option<u64> {
        if let Some(&seq) = self.ids.get(&hash) {
            return Some(seq);
        }
        find_hash(&self.ids_base, hash).map(|i| self.ids_base[i].1)
    }

    /// Moves the ids recorded since the last compaction into the sorted base (after a
    /// snapshot, say), so that memory stays at 16 bytes per id.
    pub fn compact_ids(&mut self) {
        if self.ids.is_empty() {
            return;
        }
        let mut recent: Vec<(u64, u64)> = self.ids.drain().collect();
        recent.sort_unstable();
        let base = std::mem::take(&mut self.ids_base);
        let mut merged = Vec::with_capacity(base.len() + recent.len());
        let (mut a, mut b) = (base.into_iter().peekable(), recent.into_iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(x), Some(y)) => {
                    if x <= y {
                        a.next()
                    } else {
                        b.next()
                    }
                }
                (Some(_), None) => a.next(),
                (None, Some(_)) => b.next(),
                (None, None) => break,
            };
            merged.extend(next);
        }
        self.ids_base = merged;
        self.ids.shrink_to_fit();
    }

    /// Batches that hold movements whose ids the batch reuses (or whose id hashes collide with
    /// them): load their movements into [`Originals`] before calling [`Ledger::apply`].
    pub fn duplicate_candidates(&self, batch: &[Record]) -> Vec<u64> {
        let mut seqs = Vec::new();
        for r in batch {
            if let Record::Movement(m) = r {
                let h = id_hash(&m.id);
                if let Some(seq) = self.id_batch(h) {
                    seqs.push(seq);
                    if let Some(extra) = self.ids_extra.get(&h) {
                        seqs.extend_from_slice(extra);
                    }
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        seqs
    }

    /// Applies a batch whole, or not at all.
    pub fn apply(&mut self, batch: &[Record], originals: &Originals) -> Result<Receipt, Rejection> {
        let marks = Marks {
            orgs: self.orgs.len(),
            holders: self.holders.len(),
            items: self.items.len(),
            floors: self.floors.len(),
            lots: self.lots.names.len(),
            keys: self.keys.len(),
            serials: self.serials.len(),
            movements: self.movements,
        };
        let seq = self.seq + 1;
        let mut undo: Vec<Undo> = Vec::with_capacity(batch.len() * 2);
        let mut errors = Errors {
            list: Vec::new(),
            more: 0,
        };
        let mut new_records = Vec::with_capacity(batch.len());
        let mut duplicates = 0usize;
        // Movement ids first seen in this batch: id hash → index in the batch (and, for the
        // rare ids whose hash another id of the batch already has, by name).
        let mut batch_ids: HashMap<u64, usize, PassThroughBuild> =
            HashMap::with_capacity_and_hasher(batch.len(), Default::default());
        let mut batch_ids_colliding: HashMap<&str, usize> = HashMap::new();
        let mut effects = Effects::default();

        // Master data, in dependency order, then movements; file order within each.
        for pass in 0..5 {
            for (index, record) in batch.iter().enumerate() {
                let outcome = match (pass, record) {
                    (0, Record::Org(o)) => self.declare_org(o),
                    (1, Record::Holder(h)) => self.declare_holder(h),
                    (2, Record::Item(i)) => self.declare_item(i),
                    (3, Record::Floor(f)) => self.declare_floor(f),
                    (4, Record::Movement(m)) => {
                        let hash = id_hash(&m.id);
                        let first = match batch_ids.get(&hash) {
                            Some(&i) if movement_id(&batch[i]) == m.id => Some(i),
                            Some(_) => batch_ids_colliding.get(m.id.as_str()).copied(),
                            None => None,
                        };
                        if let Some(first) = first {
                            let Record::Movement(earlier) = &batch[first] else {
                                unreachable!()
                            };
                            match earlier.first_differing_field(m) {
                                None => Ok(Declared::Same),
                                Some(field) => Err((
                                    "id",
                                    Violation::IdReused {
                                        id: m.id.clone(),
                                        field,
                                    },
                                )),
                            }
                        } else {
                            let r = self.apply_movement(
                                m,
                                hash,
                                index,
                                seq,
                                originals,
                                &mut undo,
                                &mut effects,
                            );
                            if matches!(r, Ok(Declared::New)) {
                                if let Some(&i) = batch_ids.get(&hash) {
                                    debug_assert_ne!(movement_id(&batch[i]), m.id);
                                    batch_ids_colliding.insert(m.id.as_str(), index);
                                } else {
                                    batch_ids.insert(hash, index);
                                }
                            }
                            r
                        }
                    }
                    _ => continue,
                };
                match outcome {
                    Ok(Declared::New) => new_records.push(index),
                    Ok(Declared::Same) => duplicates += 1,
                    Err((field, violation)) => errors.push(index, field, violation),
                }
            }
        }

        self.check_withdrawals(batch, &mut effects, &mut errors);
        self.check_serial_chains(batch, &mut effects, &mut errors);
        if !errors.is_empty() {
            self.rollback(marks, undo);
            return Err(Rejection {
                errors: errors.list,
                more: errors.more,
            });
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

    fn rollback(&mut self, marks: Marks, undo: Vec<Undo>) {
        for u in undo.into_iter().rev() {
            match u {
                Undo::Timeline {
                    key,
                    time,
                    delta,
                    added,
                } => {
                    if (key as usize) < marks.keys {
                        self.keys[key as usize]
                            .timeline
                            .undo_add(time, delta, added);
                    }
                }
                Undo::SerialInsert { serial, pos } => {
                    if (serial as usize) < marks.serials {
                        self.serials[serial as usize].history.remove(pos);
                    }
                }
                Undo::Id { hash, extra } => {
                    if extra {
                        let list = self.ids_extra.get_mut(&hash).expect("extra ids");
                        list.pop();
                        if list.is_empty() {
                            self.ids_extra.remove(&hash);
                        }
                    } else {
                        self.ids.remove(&hash);
                    }
                }
            }
        }
        for o in self.orgs.drain(marks.orgs..) {
            self.org_index.remove(o.id.as_str());
        }
        for h in self.holders.drain(marks.holders..) {
            self.holder_index.remove(h.id.as_str());
        }
        self.holder_keys.truncate(marks.holders);
        for i in self.items.drain(marks.items..) {
            self.item_index.remove(i.code.as_str());
        }
        self.floors.truncate(marks.floors);
        self.lots.truncate(marks.lots);
        let mut holders_with_new_keys = Vec::new();
        for k in self.keys.drain(marks.keys..) {
            self.key_index.remove(&(k.holder, k.item, k.lot));
            holders_with_new_keys.push(k.holder);
        }
        for h in holders_with_new_keys {
            if let Some(list) = self.holder_keys.get_mut(h as usize) {
                while list.last().is_some_and(|&k| k as usize >= marks.keys) {
                    list.pop();
                }
            }
        }
        for s in self.serials.drain(marks.serials..) {
            self.serial_index.remove(&(s.item, s.serial));
        }
        self.movements = marks.movements;
    }

    fn declare_org(&mut self, o: &Org) -> Result<Declared, (&'static str, Violation)> {
        if let Some(&i) = self.org_index.get(o.id.as_str()) {
            let old = &self.orgs[i as usize];
            return redeclared(
                "org",
                &o.id,
                &[("name", old.name != o.name), ("kind", old.kind != o.kind)],
            );
        }
        self.org_index
            .insert(o.id.as_str().into(), self.orgs.len() as u32);
        self.orgs.push(o.clone());
        Ok(Declared::New)
    }

    fn declare_holder(&mut self, h: &Holder) -> Result<Declared, (&'static str, Violation)> {
        if let Some(&i) = self.holder_index.get(h.id.as_str()) {
            let old = &self.holders[i as usize];
            return redeclared(
                "holder",
                &h.id,
                &[
                    ("name", old.name != h.name),
                    ("org", old.org != h.org),
                    ("kind", old.kind != h.kind),
                    ("country", old.country != h.country),
                    ("lat", old.lat.map(f64::to_bits) != h.lat.map(f64::to_bits)),
                    ("lon", old.lon.map(f64::to_bits) != h.lon.map(f64::to_bits)),
                ],
            );
        }
        if !self.org_index.contains_key(h.org.as_str()) {
            return Err(("org", Violation::UnknownOrg { org: h.org.clone() }));
        }
        self.holder_index
            .insert(h.id.as_str().into(), self.holders.len() as u32);
        self.holders.push(h.clone());
        self.holder_keys.push(Vec::new());
        Ok(Declared::New)
    }

    fn declare_item(&mut self, it: &Item) -> Result<Declared, (&'static str, Violation)> {
        if let Some(&i) = self.item_index.get(it.code.as_str()) {
            let old = &self.items[i as usize];
            return redeclared(
                "item",
                &it.code,
                &[
                    ("name", old.name != it.name),
                    ("category", old.category != it.category),
                    ("tracking", old.tracking != it.tracking),
                    ("unit", old.unit != it.unit),
                    ("sensitive", old.sensitive != it.sensitive),
                    ("unit_value", old.unit_value != it.unit_value),
                    (
                        "inventory_interval_days",
                        old.inventory_interval_days != it.inventory_interval_days,
                    ),
                ],
            );
        }
        self.item_index
            .insert(it.code.as_str().into(), self.items.len() as u32);
        self.items.push(it.clone());
        Ok(Declared::New)
    }

    fn declare_floor(&mut self, f: &Floor) -> Result<Declared, (&'static str, Violation)> {
        if !self.item_index.contains_key(f.item.as_str()) {
            return Err((
                "item",
                Violation::UnknownItem {
                    item: f.item.clone(),
                },
            ));
        }
        if !self.org_index.contains_key(f.org.as_str()) {
            return Err(("org", Violation::UnknownOrg { org: f.org.clone() }));
        }
        // The latest record for an (item, org, time) is the one in force; an identical
        // repeat is a no-op.
        let current = self
            .floors
            .iter()
            .rev()
            .find(|x| x.item == f.item && x.org == f.org && x.time == f.time);
        if current.is_some_and(|x| x.min_qty == f.min_qty) {
            return Ok(Declared::Same);
        }
        self.floors.push(f.clone());
        Ok(Declared::New)
    }

    fn key(&mut self, holder: HolderIdx, item: ItemIdx, lot: LotIdx) -> KeyIdx {
        if let Some(&k) = self.key_index.get(&(holder, item, lot)) {
            return k;
        }
        let k = self.keys.len() as KeyIdx;
        self.keys.push(Key {
            holder,
            item,
            lot,
            timeline: Timeline::default(),
        });
        self.key_index.insert((holder, item, lot), k);
        self.holder_keys[holder as usize].push(k);
        k
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_movement(
        &mut self,
        m: &Movement,
        hash: u64,
        index: usize,
        seq: u64,
        originals: &Originals,
        undo: &mut Vec<Undo>,
        effects: &mut Effects,
    ) -> Result<Declared, (&'static str, Violation)> {
        // Idempotency: a known id is either this very record again, or a conflict.
        let known = self.id_batch(hash).is_some();
        if known {
            if let Some(orig) = originals.movements.get(&m.id) {
                return match orig.first_differing_field(m) {
                    None => Ok(Declared::Same),
                    Some(field) => Err((
                        "id",
                        Violation::IdReused {
                            id: m.id.clone(),
                            field,
                        },
                    )),
                };
            }
            // The hash matched another id: this one is new.
        }

        if m.qty == 0 {
            return Err(("qty", Violation::QtyZero));
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
        let Some(item) = self.item_idx(&m.item) else {
            return Err((
                "item",
                Violation::UnknownItem {
                    item: m.item.clone(),
                },
            ));
        };
        let Some(from) = self.holder_idx(&m.from) else {
            return Err((
                "from",
                Violation::UnknownHolder {
                    holder: m.from.clone(),
                },
            ));
        };
        let Some(to) = self.holder_idx(&m.to) else {
            return Err((
                "to",
                Violation::UnknownHolder {
                    holder: m.to.clone(),
                },
            ));
        };
        if from == to {
            return Err((
                "to",
                Violation::SameHolder {
                    holder: m.to.clone(),
                },
            ));
        }
        let from_kind = self.holders[from as usize].kind;
        if from_kind == HolderKind::Sink {
            return Err((
                "from",
                Violation::SinkSends {
                    holder: m.from.clone(),
                },
            ));
        }
        if self.holders[to as usize].kind == HolderKind::Source {
            return Err((
                "to",
                Violation::SourceReceives {
                    holder: m.to.clone(),
                },
            ));
        }
        let tracking = self.items[item as usize].tracking;
        match (tracking, &m.lot, &m.serials) {
            (Tracking::Lot, None, _) => {
                return Err((
                    "lot",
                    Violation::LotRequired {
                        item: m.item.clone(),
                    },
                ))
            }
            (Tracking::Bulk, Some(_), _) => {
                return Err((
                    "lot",
                    Violation::LotNotAllowed {
                        item: m.item.clone(),
                        tracking: "bulk",
                    },
                ))
            }
            (Tracking::Serial, _, None) => {
                return Err((
                    "serials",
                    Violation::SerialsRequired {
                        item: m.item.clone(),
                    },
                ))
            }
            (Tracking::Bulk | Tracking::Lot, _, Some(_)) => {
                return Err((
                    "serials",
                    Violation::SerialsNotAllowed {
                        item: m.item.clone(),
                        tracking: tracking.as_str(),
                    },
                ))
            }
            _ => {}
        }
        // Two movements of one serial at one instant would leave its place ambiguous.
        if let Some(serials) = &m.serials {
            for sn in serials {
                if let Some(&i) = self
                    .serial_index
                    .get(&(item, Box::<str>::from(sn.as_str())))
                {
                    if self.serials[i as usize]
                        .history
                        .iter()
                        .any(|x| x.time == m.time)
                    {
                        return Err((
                            "serials",
                            Violation::SerialSameInstant {
                                item: m.item.clone(),
                                serial: sn.clone(),
                                at: m.time,
                            },
                        ));
                    }
                }
            }
        }

        let lot = match &m.lot {
            Some(l) => self.lots.intern(l),
            None => 0,
        };
        let qty = m.qty as i64;
        let from_key = self.key(from, item, lot);
        let added = self.keys[from_key as usize].timeline.add(m.time, -qty);
        undo.push(Undo::Timeline {
            key: from_key,
            time: m.time,
            delta: -qty,
            added,
        });
        if from_kind != HolderKind::Source {
            effects.withdrawals.push((from_key, m.time, index));
        }
        let to_key = self.key(to, item, lot);
        let added = self.keys[to_key as usize].timeline.add(m.time, qty);
        undo.push(Undo::Timeline {
            key: to_key,
            time: m.time,
            delta: qty,
            added,
        });

        if let Some(serials) = &m.serials {
            for sn in serials {
                let idx = match self
                    .serial_index
                    .get(&(item, Box::<str>::from(sn.as_str())))
                {
                    Some(&i) => i,
                    None => {
                        let i = self.serials.len() as u32;
                        self.serials.push(Serial {
                            item,
                            serial: sn.as_str().into(),
                            history: Vec::new(),
                        });
                        self.serial_index.insert((item, sn.as_str().into()), i);
                        i
                    }
                };
                let history = &mut self.serials[idx as usize].history;
                let pos = history.partition_point(|x| x.time <= m.time);
                history.insert(
                    pos,
                    SerialMove {
                        time: m.time,
                        from,
                        to,
                    },
                );
                undo.push(Undo::SerialInsert { serial: idx, pos });
                effects.serial_moves.insert((idx, m.time), index);
            }
        }

        if known {
            self.ids_extra.entry(hash).or_default().push(seq);
            undo.push(Undo::Id { hash, extra: true });
        } else {
            self.ids.insert(hash, seq);
            undo.push(Undo::Id { hash, extra: false });
        }
        self.movements += 1;
        Ok(Declared::New)
    }

    /// After the whole batch: no balance it withdrew from may be negative at or after the
    /// earliest withdrawal. Each shortfall is blamed on the batch's last withdrawal at or
    /// before the time the balance is lowest.
    fn check_withdrawals(&self, batch: &[Record], effects: &mut Effects, errors: &mut Errors) {
        let w = &mut effects.withdrawals;
        w.sort_unstable();
        let mut i = 0;
        while i < w.len() {
            let key = w[i].0;
            let j = i + w[i..].partition_point(|x| x.0 == key);
            let (_, earliest, _) = w[i];
            if let Some((bal, at)) = self.keys[key as usize].timeline.min_from(earliest) {
                if bal < 0 {
                    let blame = w[i..j]
                        .iter()
                        .rev()
                        .find(|x| x.1 <= at)
                        .map_or(w[i].2, |x| x.2);
                    let Record::Movement(m) = &batch[blame] else {
                        unreachable!("withdrawals are movements")
                    };
                    errors.push(
                        blame,
                        "qty",
                        Violation::WouldGoNegative {
                            holder: m.from.clone(),
                            item: m.item.clone(),
                            lot: m.lot.clone(),
                            at,
                            short_by: bal.unsigned_abs(),
                        },
                    );
                }
            }
            i = j;
        }
    }

    /// After the whole batch: the history of every serial it moved is one chain, from a
    /// source, each movement leaving from where the one before arrived.
    fn check_serial_chains(&self, batch: &[Record], effects: &mut Effects, errors: &mut Errors) {
        let mut serials: Vec<u32> = effects.serial_moves.keys().map(|&(s, _)| s).collect();
        serials.sort_unstable();
        serials.dedup();
        for s in serials {
            let serial = &self.serials[s as usize];
            let h = &serial.history;
            for p in 0..h.len() {
                let here = p.checked_sub(1).map(|q| h[q].to);
                let ok = match here {
                    Some(x) => h[p].from == x,
                    None => self.holders[h[p].from as usize].kind == HolderKind::Source,
                };
                if ok {
                    continue;
                }
                let name = |x: HolderIdx| self.holders[x as usize].id.clone();
                let item = self.items[serial.item as usize].code.clone();
                if let Some(&index) = effects.serial_moves.get(&(s, h[p].time)) {
                    errors.push(
                        index,
                        "serials",
                        Violation::SerialNotAt {
                            item,
                            serial: serial.serial.to_string(),
                            holder: name(h[p].from),
                            at: h[p].time,
                            actually_at: here.map(name),
                        },
                    );
                } else {
                    // An earlier movement of this batch contradicts a recorded later one.
                    let index = p
                        .checked_sub(1)
                        .and_then(|q| effects.serial_moves.get(&(s, h[q].time)))
                        .or_else(|| {
                            effects
                                .serial_moves
                                .iter()
                                .find(|((x, _), _)| *x == s)
                                .map(|(_, i)| i)
                        })
                        .copied()
                        .expect("a serial checked here was moved by the batch");
                    errors.push(
                        index,
                        "serials",
                        Violation::SerialLaterMove {
                            item,
                            serial: serial.serial.to_string(),
                            at: h[p].time,
                            later_from: name(h[p].from),
                        },
                    );
                }
                break;
            }
        }
        let _ = batch;
    }

    /// The balance of one (holder, item, lot) at `as_of` (`None`: after every movement).
    pub fn balance(&self, holder: &str, item: &str, lot: Option<&str>, as_of: Option<Time>) -> i64 {
        let (Some(h), Some(i)) = (self.holder_idx(holder), self.item_idx(item)) else {
            return 0;
        };
        let l = match lot {
            Some(l) => match self.lots.get(l) {
                Some(l) => l,
                None => return 0,
            },
            None => 0,
        };
        match self.key_index.get(&(h, i, l)) {
            Some(&k) => self.key_balance(k, as_of),
            None => 0,
        }
    }

    /// The balance of a key at `as_of`.
    pub fn key_balance(&self, key: KeyIdx, as_of: Option<Time>) -> i64 {
        let t = &self.keys[key as usize].timeline;
        match as_of {
            None => t.total(),
            Some(at) => t.balance_at(at),
        }
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
            Some(name) => match self.lots.get(name) {
                Some(l) if l != 0 => Some(l),
                _ => return Vec::new(),
            },
            None => None,
        };
        let mut out = Vec::new();
        let mut visit = |k: KeyIdx| {
            let key = &self.keys[k as usize];
            if item.is_some_and(|i| i != key.item) || lot.is_some_and(|l| l != key.lot) {
                return;
            }
            let qty = self.key_balance(k, q.as_of);
            if qty != 0 {
                out.push(Balance {
                    holder: &self.holders[key.holder as usize].id,
                    item: &self.items[key.item as usize].code,
                    lot: self.lot_name(key.lot),
                    qty,
                });
            }
        };
        match q.holder {
            Some(id) => match self.holder_idx(id) {
                Some(h) => self.holder_keys[h as usize].iter().for_each(|&k| visit(k)),
                None => return Vec::new(),
            },
            None => (0..self.keys.len() as KeyIdx).for_each(&mut visit),
        }
        out.sort_unstable_by(|a, b| (a.holder, a.item, a.lot).cmp(&(b.holder, b.item, b.lot)));
        out
    }

    /// The floor in force for an item and org at `at`: the latest-recorded floor among those
    /// with the latest start time at or before `at` (or with no start time).
    pub fn floor(&self, item: &str, org: &str, at: Time) -> Option<u64> {
        let mut best: Option<(Option<Time>, usize)> = None;
        for (i, f) in self.floors.iter().enumerate() {
            if f.item != item || f.org != org || f.time.is_some_and(|t| t > at) {
                continue;
            }
            if best.is_none_or(|(bt, _)| f.time >= bt) {
                best = Some((f.time, i));
            }
        }
        best.map(|(_, i)| self.floors[i].min_qty)
    }
}

/// Finds `hash` in `sorted` (sorted by hash). The hashes are uniformly spread, so the
/// position is first guessed from the value (interpolation), then found by a short
/// exponential and binary search around the guess: a few cache misses instead of the ~23 of
/// a binary search over ten million entries.
fn find_hash(sorted: &[(u64, u64)], hash: u64) -> Option<usize> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let guess = ((hash as u128 * n as u128) >> 64) as usize;
    let at = |i: usize| sorted[i].0;
    let (mut lo, mut hi);
    if at(guess) <= hash {
        // Grow the window to the right until it holds `hash`.
        let mut step = 1;
        lo = guess;
        hi = guess + 1;
        while hi < n && at(hi) <= hash {
            lo = hi;
            hi = (hi + step).min(n);
            step *= 2;
        }
    } else {
        // Grow it to the left.
        let mut step = 1;
        hi = guess;
        lo = guess.saturating_sub(1);
        while lo > 0 && at(lo) > hash {
            hi = lo;
            lo = lo.saturating_sub(step);
            step *= 2;
        }
    }
    sorted[lo..hi]
        .binary_search_by_key(&hash, |&(h, _)| h)
        .ok()
        .map(|i| lo + i)
}

/// A re-declaration: identical is a no-op; otherwise it is refused, naming the first field
/// (in interchange order) that differs.
fn redeclared(
    what: &'static str,
    id: &str,
    differs: &[(&'static str, bool)],
) -> Result<Declared, (&'static str, Violation)> {
    match differs.iter().find(|(_, d)| *d) {
        None => Ok(Declared::Same),
        Some(&(field, _)) => Err((
            field,
            Violation::Redeclared {
                what,
                id: id.to_owned(),
                field,
            },
        )),
    }
}

fn movement_id(r: &Record) -> &str {
    match r {
        Record::Movement(m) => &m.id,
        _ => "",
    }
}

enum Declared {
    New,
    Same,
}

/// What the movements of a batch did, for the checks made once the whole batch is in.
#[derive(Default)]
struct Effects {
    /// (key, time, record index) of every withdrawal from a non-source balance.
    withdrawals: Vec<(KeyIdx, Time, usize)>,
    /// (serial, time) → record index of every serial movement.
    serial_moves: HashMap<(u32, Time), usize>,
}

#[cfg(test)]
mod tests {
    use super::find_hash;

    #[test]
    fn find_hash_finds_every_hash_and_nothing_else() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut v: Vec<(u64, u64)> = (0..5_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x, i)
            })
            .collect();
        v.push((0, 1));
        v.push((u64::MAX, 2));
        v.sort_unstable();
        for (i, &(h, _)) in v.iter().enumerate() {
            assert_eq!(find_hash(&v, h), Some(i));
        }
        for probe in [1u64, 12345, u64::MAX - 1, 1 << 63] {
            assert_eq!(
                find_hash(&v, probe),
                v.binary_search_by_key(&probe, |&(h, _)| h).ok()
            );
        }
        assert_eq!(find_hash(&[], 5), None);
        assert_eq!(find_hash(&[(7, 0)], 7), Some(0));
        assert_eq!(find_hash(&[(7, 0)], 8), None);
        assert_eq!(find_hash(&[(7, 0)], 6), None);
    }
}
