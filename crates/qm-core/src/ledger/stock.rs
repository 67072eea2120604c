//! Stock: every (holder, item, lot) balance as a timeline of effective-time deltas, and the
//! aggregates the workflow and the review read:
//!
//! - per *key* (holder, item, lot): the balance timeline;
//! - per key that ever held an earmark: a mirror timeline of its *available* stock (balance
//!   less earmarks), made when the first earmark arrives, so that "would the depot's
//!   available stock go negative at or after T" is one logarithmic question;
//! - per (org, item): the available stock over the org's depots (balance less earmarks) and
//!   the earmarks alone, as timelines, so that floors are checked and the review is read
//!   without a pass over every key. On-hand stock is their sum.
//!
//! Every add goes through [`Timeline::try_add`], so no accepted record can take a balance or
//! a sum of balances past [`crate::limits::VOLUME_MAX`]. Changes are logged and undone in
//! reverse when a batch is rejected.

use hashbrown::HashMap;

use super::master::{HolderIdx, ItemIdx, Master, OrgIdx};
use super::{Effects, Errors, Outcome};
use crate::codec::{Enc, R, W};
use crate::rejection::Violation;
use crate::timeline::{Added, Timeline};
use crate::{HolderKind, SnapshotError, Time, Tracking};

/// Index of a lot name; 0 is "no lot".
pub type LotIdx = u32;
/// Index of a (holder, item, lot) balance.
pub type KeyIdx = u32;

/// "No mirror" in [`Key::mirror`].
const NO_MIRROR: u32 = u32::MAX;

/// One (holder, item, lot) balance and its history: the part every movement touches, 64
/// bytes, so that a key's look-up on the hot path costs one cache line. The holder and lot,
/// which only queries and messages need, are in [`KeyMeta`].
#[derive(Debug, Clone)]
pub(crate) struct Key {
    pub(crate) item: ItemIdx,
    /// Index of the key's available-stock mirror in [`Stock::mirrors`], or `NO_MIRROR`.
    mirror: u32,
    pub(crate) timeline: Timeline,
}

/// The holder and lot of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyMeta {
    pub(crate) holder: HolderIdx,
    pub(crate) lot: LotIdx,
}

/// A (holder, item, lot) balance and its history, as queries see it.
#[derive(Debug, Clone, Copy)]
pub struct KeyRef<'a> {
    pub holder: HolderIdx,
    pub item: ItemIdx,
    pub lot: LotIdx,
    pub timeline: &'a Timeline,
}

/// One org's stock of one item at its depots, and at its transit holders.
#[derive(Debug, Clone, Default)]
pub struct OrgStock {
    pub org: OrgIdx,
    pub item: ItemIdx,
    /// Balance over the org's depots less the earmarks standing there.
    pub available: Timeline,
    /// The earmarks standing at the org's depots.
    pub earmarked: Timeline,
    /// Balance over the org's transit holders (hubs, convoys, ships).
    pub in_transit: Timeline,
}

impl OrgStock {
    /// Stock at the org's depots at `t`.
    pub fn on_hand_at(&self, t: Time) -> i64 {
        self.available.balance_at(t) + self.earmarked.balance_at(t)
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

/// Which timeline an undo entry is for.
#[derive(Debug, Clone, Copy)]
enum Line {
    Key(KeyIdx),
    Mirror(u32),
    OrgAvailable(u32),
    OrgEarmarked(u32),
    OrgInTransit(u32),
}

#[derive(Debug, Clone, Copy)]
struct Undo {
    line: Line,
    time: Time,
    delta: i64,
    added: Added,
}

#[derive(Debug, Clone, Copy, Default)]
struct Marks {
    lots: usize,
    keys: usize,
    mirrors: usize,
    org_stocks: usize,
    movements: u64,
}

#[derive(Debug, Clone)]
pub(crate) struct Stock {
    /// Lot names; index 0 is the empty name, meaning "no lot".
    pub(crate) lots: Names,
    pub(crate) keys: Vec<Key>,
    /// The holder and lot of each key, by key index.
    pub(crate) key_meta: Vec<KeyMeta>,
    pub(crate) key_index: HashMap<(HolderIdx, ItemIdx, LotIdx), KeyIdx>,
    /// Keys per holder, for filtered balance queries.
    pub(crate) holder_keys: Vec<Vec<KeyIdx>>,
    /// Available-stock mirrors of the keys that ever held an earmark.
    mirrors: Vec<Timeline>,
    /// Key of each mirror.
    mirror_keys: Vec<KeyIdx>,
    pub(crate) org_stocks: Vec<OrgStock>,
    org_stock_index: HashMap<(OrgIdx, ItemIdx), u32>,
    /// Number of movements applied.
    pub(crate) movements: u64,
    undo: Vec<Undo>,
    marks: Marks,
}

impl Default for Stock {
    fn default() -> Stock {
        let mut lots = Names::default();
        lots.intern("");
        Stock {
            lots,
            keys: Vec::new(),
            key_meta: Vec::new(),
            key_index: HashMap::new(),
            holder_keys: Vec::new(),
            mirrors: Vec::new(),
            mirror_keys: Vec::new(),
            org_stocks: Vec::new(),
            org_stock_index: HashMap::new(),
            movements: 0,
            undo: Vec::new(),
            marks: Marks::default(),
        }
    }
}

/// Which aggregate of an org a holder's stock counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aggregate {
    Depots,
    Transit,
}

/// What a volume bound refused: a key's balance (or its mirror), or one of an org's
/// aggregates of an item (by index in the org stocks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    Key(KeyIdx),
    Org(u32, OrgLine),
}

/// One of an org's aggregates of an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrgLine {
    Available,
    Earmarked,
    InTransit,
}

/// A movement's quantities as the stock sees them.
pub(crate) struct Move {
    pub(crate) from: HolderIdx,
    pub(crate) to: HolderIdx,
    pub(crate) item: ItemIdx,
    pub(crate) lot: LotIdx,
    pub(crate) time: Time,
    pub(crate) qty: u64,
}

impl Stock {
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
        self.marks = Marks {
            lots: self.lots.names.len(),
            keys: self.keys.len(),
            mirrors: self.mirrors.len(),
            org_stocks: self.org_stocks.len(),
            movements: self.movements,
        };
    }

    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    pub(crate) fn rollback(&mut self, holders: usize) {
        let marks = self.marks;
        for u in std::mem::take(&mut self.undo).into_iter().rev() {
            let tl = match u.line {
                Line::Key(k) if (k as usize) < marks.keys => &mut self.keys[k as usize].timeline,
                Line::Mirror(m) if (m as usize) < marks.mirrors => &mut self.mirrors[m as usize],
                Line::OrgAvailable(o) if (o as usize) < marks.org_stocks => {
                    &mut self.org_stocks[o as usize].available
                }
                Line::OrgEarmarked(o) if (o as usize) < marks.org_stocks => {
                    &mut self.org_stocks[o as usize].earmarked
                }
                Line::OrgInTransit(o) if (o as usize) < marks.org_stocks => {
                    &mut self.org_stocks[o as usize].in_transit
                }
                // Made by this batch: dropped whole below.
                _ => continue,
            };
            tl.undo_add(u.time, u.delta, u.added);
        }
        for k in self.mirror_keys.drain(marks.mirrors..) {
            if let Some(key) = self.keys.get_mut(k as usize) {
                key.mirror = NO_MIRROR;
            }
        }
        self.mirrors.truncate(marks.mirrors);
        for os in self.org_stocks.drain(marks.org_stocks..) {
            self.org_stock_index.remove(&(os.org, os.item));
        }
        self.lots.truncate(marks.lots);
        let mut holders_with_new_keys = Vec::new();
        for (k, meta) in self
            .keys
            .drain(marks.keys..)
            .zip(self.key_meta.drain(marks.keys..))
        {
            self.key_index.remove(&(meta.holder, k.item, meta.lot));
            holders_with_new_keys.push(meta.holder);
        }
        for h in holders_with_new_keys {
            if let Some(list) = self.holder_keys.get_mut(h as usize) {
                while list.last().is_some_and(|&k| k as usize >= marks.keys) {
                    list.pop();
                }
            }
        }
        self.holder_keys.truncate(holders);
        self.movements = marks.movements;
    }

    /// Makes room for the keys of a newly declared holder.
    pub(crate) fn add_holders(&mut self, holders: usize) {
        self.holder_keys.resize_with(holders, Vec::new);
    }

    pub(crate) fn lot_name(&self, lot: LotIdx) -> Option<&str> {
        (lot != 0).then(|| &*self.lots.names[lot as usize])
    }

    /// A key as queries see it.
    pub(crate) fn key_ref(&self, k: KeyIdx) -> KeyRef<'_> {
        let (key, meta) = (&self.keys[k as usize], self.key_meta[k as usize]);
        KeyRef {
            holder: meta.holder,
            item: key.item,
            lot: meta.lot,
            timeline: &key.timeline,
        }
    }

    pub(crate) fn key_idx(&self, holder: HolderIdx, item: ItemIdx, lot: LotIdx) -> Option<KeyIdx> {
        self.key_index.get(&(holder, item, lot)).copied()
    }

    /// The key of (holder, item, lot), made if new.
    pub(crate) fn key(&mut self, holder: HolderIdx, item: ItemIdx, lot: LotIdx) -> KeyIdx {
        if let Some(&k) = self.key_index.get(&(holder, item, lot)) {
            return k;
        }
        let k = self.keys.len() as KeyIdx;
        self.keys.push(Key {
            item,
            mirror: NO_MIRROR,
            timeline: Timeline::default(),
        });
        self.key_meta.push(KeyMeta { holder, lot });
        self.key_index.insert((holder, item, lot), k);
        self.holder_keys[holder as usize].push(k);
        k
    }

    fn timeline(&mut self, line: Line) -> &mut Timeline {
        match line {
            Line::Key(k) => &mut self.keys[k as usize].timeline,
            Line::Mirror(m) => &mut self.mirrors[m as usize],
            Line::OrgAvailable(o) => &mut self.org_stocks[o as usize].available,
            Line::OrgEarmarked(o) => &mut self.org_stocks[o as usize].earmarked,
            Line::OrgInTransit(o) => &mut self.org_stocks[o as usize].in_transit,
        }
    }

    /// Adds to one timeline, logging the undo; `false` when the volume bound refuses it.
    fn add(&mut self, line: Line, time: Time, delta: i64) -> bool {
        match self.timeline(line).try_add(time, delta) {
            Ok(added) => {
                self.undo.push(Undo {
                    line,
                    time,
                    delta,
                    added,
                });
                true
            }
            Err(_) => false,
        }
    }

    /// The (org, item) stock, made if new.
    pub(crate) fn org_stock(&mut self, org: OrgIdx, item: ItemIdx) -> u32 {
        if let Some(&i) = self.org_stock_index.get(&(org, item)) {
            return i;
        }
        let i = self.org_stocks.len() as u32;
        self.org_stocks.push(OrgStock {
            org,
            item,
            ..OrgStock::default()
        });
        self.org_stock_index.insert((org, item), i);
        i
    }

    pub(crate) fn find_org_stock(&self, org: OrgIdx, item: ItemIdx) -> Option<&OrgStock> {
        self.org_stock_index
            .get(&(org, item))
            .map(|&i| &self.org_stocks[i as usize])
    }

    /// A balance change of `delta` at a key at `time`: the key, its mirror, and the org's
    /// depot or transit stock when the holder is one (`org`).
    fn change(
        &mut self,
        key: KeyIdx,
        org: Option<(OrgIdx, Aggregate)>,
        time: Time,
        delta: i64,
    ) -> Result<(), Over> {
        if !self.add(Line::Key(key), time, delta) {
            return Err(Over::Key(key));
        }
        let mirror = self.keys[key as usize].mirror;
        if mirror != NO_MIRROR && !self.add(Line::Mirror(mirror), time, delta) {
            return Err(Over::Key(key));
        }
        if let Some((org, which)) = org {
            let item = self.keys[key as usize].item;
            let os = self.org_stock(org, item);
            let line = match which {
                Aggregate::Depots => Line::OrgAvailable(os),
                Aggregate::Transit => Line::OrgInTransit(os),
            };
            if !self.add(line, time, delta) {
                return Err(Over::Org(
                    os,
                    match which {
                        Aggregate::Depots => OrgLine::Available,
                        Aggregate::Transit => OrgLine::InTransit,
                    },
                ));
            }
        }
        Ok(())
    }

    /// The refusal of a change the volume bound refused, naming the balance or the org's
    /// aggregate whose volume it would take past the bound.
    pub(crate) fn volume_violation(&self, master: &Master, over: Over) -> Violation {
        match over {
            Over::Key(key) => {
                let k = self.key_ref(key);
                Violation::VolumeExceeded {
                    holder: master.holder(k.holder).id.clone(),
                    item: master.item(k.item).code.clone(),
                    lot: self.lot_name(k.lot).map(str::to_owned),
                }
            }
            Over::Org(os, which) => {
                let os = &self.org_stocks[os as usize];
                Violation::OrgVolumeExceeded {
                    org: master.orgs[os.org as usize].id.clone(),
                    item: master.item(os.item).code.clone(),
                    stock: match which {
                        OrgLine::Available => "available stock at its depots",
                        OrgLine::Earmarked => "earmarked stock",
                        OrgLine::InTransit => "stock in transit",
                    },
                }
            }
        }
    }

    /// Moves `qty` from one holder to another at `time`: both keys, their mirrors, and the
    /// orgs' depot stock (unless both are depots of one org: then the org's stock does not
    /// change). On `Err` the caller rejects the batch, which undoes what was done.
    pub(crate) fn apply_move(
        &mut self,
        master: &Master,
        mv: &Move,
    ) -> Result<(KeyIdx, KeyIdx), Over> {
        let aggregate = |h: HolderIdx| {
            let which = match master.kind(h) {
                HolderKind::Depot => Aggregate::Depots,
                HolderKind::Transit => Aggregate::Transit,
                _ => return None,
            };
            Some((master.holder_org[h as usize], which))
        };
        // Between two depots (or two transit holders) of one org, the org's aggregate does
        // not change: nothing to add.
        let (mut from_org, mut to_org) = (aggregate(mv.from), aggregate(mv.to));
        if from_org.is_some() && from_org == to_org {
            (from_org, to_org) = (None, None);
        }
        let qty = mv.qty as i64;
        let from_key = self.key(mv.from, mv.item, mv.lot);
        self.change(from_key, from_org, mv.time, -qty)?;
        let to_key = self.key(mv.to, mv.item, mv.lot);
        self.change(to_key, to_org, mv.time, qty)?;
        self.movements += 1;
        Ok((from_key, to_key))
    }

    /// Changes the earmarks standing at a depot key by `delta` from `time` on: the key's
    /// available mirror (made now if the key has none), and the org's available stock and
    /// earmarks. `Err` when a volume bound refuses it, naming what it would take past it.
    pub(crate) fn earmark(
        &mut self,
        key: KeyIdx,
        org: OrgIdx,
        time: Time,
        delta: i64,
    ) -> Result<(), Over> {
        if self.keys[key as usize].mirror == NO_MIRROR {
            let m = self.mirrors.len() as u32;
            self.mirrors.push(self.keys[key as usize].timeline.clone());
            self.mirror_keys.push(key);
            self.keys[key as usize].mirror = m;
        }
        let mirror = self.keys[key as usize].mirror;
        let item = self.keys[key as usize].item;
        let os = self.org_stock(org, item);
        if !self.add(Line::Mirror(mirror), time, -delta) {
            return Err(Over::Key(key));
        }
        if !self.add(Line::OrgAvailable(os), time, -delta) {
            return Err(Over::Org(os, OrgLine::Available));
        }
        if !self.add(Line::OrgEarmarked(os), time, delta) {
            return Err(Over::Org(os, OrgLine::Earmarked));
        }
        Ok(())
    }

    /// The available mirror of a key, if it ever held an earmark.
    pub(crate) fn mirror(&self, key: KeyIdx) -> Option<&Timeline> {
        let m = self.keys[key as usize].mirror;
        (m != NO_MIRROR).then(|| &self.mirrors[m as usize])
    }

    /// The earmarks standing at a key at `t` (`None`: after everything).
    pub(crate) fn key_earmarked(&self, key: KeyIdx, t: Option<Time>) -> i64 {
        match self.mirror(key) {
            None => 0,
            Some(m) => {
                let tl = &self.keys[key as usize].timeline;
                match t {
                    None => tl.total() - m.total(),
                    Some(t) => tl.balance_at(t) - m.balance_at(t),
                }
            }
        }
    }

    /// The balance of a key at `as_of` (`None`: after every movement).
    pub(crate) fn key_balance(&self, key: KeyIdx, as_of: Option<Time>) -> i64 {
        let t = &self.keys[key as usize].timeline;
        match as_of {
            None => t.total(),
            Some(at) => t.balance_at(at),
        }
    }

    /// After the whole batch: no balance it withdrew from may be negative at or after the
    /// earliest withdrawal. Each shortfall names the earliest time the balance goes negative
    /// and is blamed on the batch's last withdrawal at or before that time: the one that
    /// makes it go negative.
    pub(crate) fn check_withdrawals(
        &self,
        master: &Master,
        effects: &mut Effects,
        errors: &mut Errors,
    ) {
        let w = &mut effects.withdrawals;
        w.sort_unstable();
        let mut i = 0;
        while i < w.len() {
            let key = w[i].0;
            let j = i + w[i..].partition_point(|x| x.0 == key);
            let (_, earliest, _) = w[i];
            if let Some((at, bal)) = self.keys[key as usize].timeline.first_below(earliest, 0) {
                let blame = w[i..j]
                    .iter()
                    .rev()
                    .find(|x| x.1 <= at)
                    .map_or(w[i].2, |x| x.2);
                let k = self.key_ref(key);
                let item = master.item(k.item).code.clone();
                let holder = master.holder(k.holder).id.clone();
                let lot = self.lot_name(k.lot).map(str::to_owned);
                // Only movements withdraw (earmarks have their own checks).
                errors.push(
                    blame,
                    "qty",
                    Violation::WouldGoNegative {
                        holder,
                        item,
                        lot,
                        at,
                        short_by: bal.unsigned_abs(),
                    },
                );
            }
            i = j;
        }
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.movements.enc(w);
        self.lots.names.enc(w);
        // Keys with history, in creation order (deterministic for a given journal).
        let live: Vec<(&Key, &KeyMeta)> = self
            .keys
            .iter()
            .zip(&self.key_meta)
            .filter(|(k, _)| !k.timeline.is_empty() || k.mirror != NO_MIRROR)
            .collect();
        w.u(live.len() as u64);
        for (k, meta) in live {
            w.u(meta.holder as u64);
            w.u(k.item as u64);
            w.u(meta.lot as u64);
            k.timeline.enc(w);
            match k.mirror {
                NO_MIRROR => w.u(0),
                m => {
                    w.u(1);
                    self.mirrors[m as usize].enc(w);
                }
            }
        }
        w.u(self.org_stocks.len() as u64);
        for os in &self.org_stocks {
            w.u(os.org as u64);
            w.u(os.item as u64);
            os.available.enc(w);
            os.earmarked.enc(w);
            os.in_transit.enc(w);
        }
    }

    pub(crate) fn decode(r: &mut R<'_>, master: &Master) -> Result<Stock, SnapshotError> {
        let mut s = Stock {
            movements: r.u()?,
            ..Stock::default()
        };
        s.lots = Names::default();
        for name in Vec::<Box<str>>::dec(r)? {
            if s.lots.get(&name).is_some() {
                return r.err("lot listed twice");
            }
            s.lots.intern(&name);
        }
        if s.lots.names.first().map(|n| &**n) != Some("") {
            return r.err("lot table does not start with the empty lot");
        }
        s.holder_keys = vec![Vec::new(); master.holders.len()];
        let n = r.len()?;
        s.keys.reserve(n);
        for _ in 0..n {
            let holder = r.idx(master.holders.len())?;
            let item = r.idx(master.items.len())?;
            let lot = r.idx(s.lots.names.len())?;
            let timeline = Timeline::dec(r)?;
            let k = s.keys.len() as KeyIdx;
            if s.key_index.insert((holder, item, lot), k).is_some() {
                return r.err("key listed twice");
            }
            let mirror = match r.u()? {
                0 => NO_MIRROR,
                1 => {
                    let m = s.mirrors.len() as u32;
                    s.mirrors.push(Timeline::dec(r)?);
                    s.mirror_keys.push(k);
                    m
                }
                _ => return r.err("bad mirror tag"),
            };
            s.holder_keys[holder as usize].push(k);
            s.keys.push(Key {
                item,
                mirror,
                timeline,
            });
            s.key_meta.push(KeyMeta { holder, lot });
        }
        let n = r.len()?;
        for _ in 0..n {
            let org = r.idx(master.orgs.len())?;
            let item = r.idx(master.items.len())?;
            let i = s.org_stocks.len() as u32;
            if s.org_stock_index.insert((org, item), i).is_some() {
                return r.err("org stock listed twice");
            }
            s.org_stocks.push(OrgStock {
                org,
                item,
                available: Timeline::dec(r)?,
                earmarked: Timeline::dec(r)?,
                in_transit: Timeline::dec(r)?,
            });
        }
        Ok(s)
    }
}

/// The lot rules of an item's tracking, for a record that names a lot and serials: a bulk
/// item has neither, a lot item needs a lot, a serial item needs serials (and may carry a lot).
pub(crate) fn check_tracking(
    item_code: &str,
    tracking: Tracking,
    lot: Option<&str>,
    serials: Option<usize>,
    serials_expected: bool,
) -> Result<(), Outcome> {
    match (tracking, lot, serials) {
        (Tracking::Lot, None, _) => Err((
            "lot",
            Violation::LotRequired {
                item: item_code.to_owned(),
            },
        )),
        (Tracking::Bulk, Some(_), _) => Err((
            "lot",
            Violation::LotNotAllowed {
                item: item_code.to_owned(),
                tracking: "bulk",
            },
        )),
        (Tracking::Serial, _, None) if serials_expected => Err((
            "serials",
            Violation::SerialsRequired {
                item: item_code.to_owned(),
            },
        )),
        (Tracking::Bulk | Tracking::Lot, _, Some(_)) => Err((
            "serials",
            Violation::SerialsNotAllowed {
                item: item_code.to_owned(),
                tracking: tracking.as_str(),
            },
        )),
        _ => Ok(()),
    }
}
