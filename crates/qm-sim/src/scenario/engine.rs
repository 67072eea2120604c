//! The engine of the realistic scenario: decides one movement at a time, keeps the books,
//! and emits batches.
//!
//! Bookkeeping is what the rules need and no more: per (holder, item) the quantity, the
//! parcels (lot and, in transit, the transfer they travel under) or the serials present, and
//! per (org, item) the total in depots. Its size is O(holders x items x lots alive) plus the
//! serials alive; nothing grows with the number of movements emitted.
//!
//! Time: each decision gets the next tick of a clock that runs from the start to the end of
//! the scenario, faster in busy quarters, so emitted times increase strictly except for the
//! late movements. A movement chosen to be late has its outflow booked at decision and its
//! inflow at emission, a few days and at least one batch later (see the crate docs for why
//! this keeps every balance the ledger sees non-negative).

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::Arc;

use qm_core::{HolderKind, Record, Time, Tracking};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::catalog::{Consumption, PAUSE_NOTE};
use super::{movement_record, Kind, Model, Mv, NONE, SERIALS_PER_MOVEMENT_MAX};
use crate::time::{year_month, NANOS_PER_DAY};

/// Share of movements recorded late.
const LATE_SHARE: f64 = 0.01;
/// Late movements are reported this many days after they happened (inclusive range).
const LATE_DAYS: (i64, i64) = (2, 10);
/// Opening lots and production lots are keyed by line; this "line" means opening balances.
const OPENING_LINE: u16 = u16::MAX;
/// Items drawn for one decision before falling back to producing the first item.
const ITEM_DRAWS_MAX: usize = 8;

/// Stock of one item that travels together.
#[derive(Debug, Clone, Copy)]
struct Parcel {
    lot: u32,
    transfer: u32,
    qty: u64,
}

/// What a holder has of one item.
#[derive(Debug, Default)]
struct Stock {
    qty: u64,
    /// Lot-tracked and bulk items (bulk: `lot == NONE`), oldest first.
    parcels: VecDeque<Parcel>,
    /// Serial-tracked items: (serial number, transfer), oldest first.
    serials: VecDeque<(u32, u32)>,
}

/// What one movement takes from its sender.
struct Taken {
    lot: u32,
    transfer: u32,
    qty: u64,
    serials: Vec<u32>,
}

/// A decided movement waiting to be reported.
struct Pending {
    due: Time,
    seq: u64,
    mv: Mv,
}

impl PartialEq for Pending {
    fn eq(&self, other: &Self) -> bool {
        (self.due, self.seq) == (other.due, other.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Pending {
    /// Reversed: the heap's top is the earliest due.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.due, other.seq).cmp(&(self.due, self.seq))
    }
}

/// The movement batches of a [`super::Scenario`], generated as they are pulled.
pub struct ScenarioBatches {
    model: Arc<Model>,
    rng: SmallRng,
    /// Movements emitted so far.
    emitted: u64,
    /// Opening movements emitted so far, and the position inside the current opening.
    opened: u64,
    opening_index: usize,
    opening_done_qty: u64,
    /// Decisions made so far (after the openings), the current quarter and decision time.
    step: u64,
    quarter: usize,
    now: Time,
    late_made: u64,
    pending: BinaryHeap<Pending>,
    pending_seq: u64,
    /// The latest time emitted in earlier batches, and in the current one.
    prev_batches_max: Time,
    batch_max: Time,
    n_items: usize,
    stocks: Vec<Stock>,
    /// Per (org, item): stock in the org's depots.
    depot_totals: Vec<u64>,
    next_serial: Vec<u32>,
    lots: Vec<String>,
    lot_ids: HashMap<(usize, u16, i32, u32), u32>,
    transfers: Vec<String>,
    transfer_ids: HashMap<(usize, i32, u32), u32>,
}

impl ScenarioBatches {
    pub(super) fn new(model: Arc<Model>) -> ScenarioBatches {
        let n_items = model.items.len();
        let n_holders = model.holder_ids.len();
        let n_orgs = model.donor_of_org.len();
        ScenarioBatches {
            rng: SmallRng::seed_from_u64(model.seed),
            emitted: 0,
            opened: 0,
            opening_index: 0,
            opening_done_qty: 0,
            step: 0,
            quarter: 0,
            now: model.start,
            late_made: 0,
            pending: BinaryHeap::new(),
            pending_seq: 0,
            prev_batches_max: Time::MIN,
            batch_max: Time::MIN,
            n_items,
            stocks: (0..n_holders * n_items).map(|_| Stock::default()).collect(),
            depot_totals: vec![0; n_orgs * n_items],
            next_serial: vec![1; n_items],
            lots: Vec::new(),
            lot_ids: HashMap::new(),
            transfers: Vec::new(),
            transfer_ids: HashMap::new(),
            model,
        }
    }

    /// The next movement to emit, with its inflow booked.
    fn next_mv(&mut self) -> Mv {
        if self.opened < self.model.n_open {
            self.opened += 1;
            let mv = self.next_opening();
            self.put(&mv);
            return mv;
        }
        loop {
            let remaining = self.model.movements - self.emitted;
            let must_release = remaining == self.pending.len() as u64;
            if let Some(top) = self.pending.peek() {
                if must_release || (top.due <= self.now && self.prev_batches_max > top.mv.time) {
                    let mv = self.pending.pop().expect("peeked").mv;
                    self.put(&mv);
                    return mv;
                }
            }
            debug_assert!(self.step < self.model.steps);
            self.step += 1;
            self.now = self.clock(self.step);
            let mv = self.decide(self.now);
            if self.make_late(&mv) {
                let delay = self.rng.gen_range(LATE_DAYS.0..=LATE_DAYS.1) * NANOS_PER_DAY;
                self.late_made += 1;
                self.pending_seq += 1;
                self.pending.push(Pending {
                    due: mv.time + delay,
                    seq: self.pending_seq,
                    mv,
                });
                continue;
            }
            self.put(&mv);
            return mv;
        }
    }

    fn make_late(&mut self, mv: &Mv) -> bool {
        mv.kind.may_be_late()
            && self.step < self.model.late_cut
            // Spread so that the share reaches LATE_SHARE of all movements at the cut.
            && (self.late_made as f64)
                < LATE_SHARE * self.model.movements as f64 * self.step as f64 / self.model.late_cut as f64
            && self.rng.gen_bool(0.05)
    }

    /// The time of decision `step` (1-based); also moves `self.quarter` forward.
    fn clock(&mut self, step: u64) -> Time {
        let quarters = &self.model.quarters;
        while step > quarters[self.quarter].first_step + quarters[self.quarter].steps {
            self.quarter += 1;
        }
        let q = &quarters[self.quarter];
        let offset = (step - q.first_step) as u128 * q.units as u128 / q.steps as u128;
        q.start + offset as i64 * q.resolution
    }

    fn next_opening(&mut self) -> Mv {
        let model = Arc::clone(&self.model);
        let o = &model.openings[self.opening_index];
        let tracking = model.items[o.item].tracking;
        let qty = match tracking {
            Tracking::Serial => (o.qty - self.opening_done_qty).min(SERIALS_PER_MOVEMENT_MAX),
            _ => o.qty,
        };
        self.opening_done_qty += qty;
        if self.opening_done_qty == o.qty {
            self.opening_index += 1;
            self.opening_done_qty = 0;
        }
        let lot = match o.lot {
            Some(ym) => self.lot_id(o.item, OPENING_LINE, model.items[o.item].tag, ym),
            None => NONE,
        };
        let serials = self.new_serials(o.item, qty);
        Mv {
            time: model.start,
            item: o.item,
            qty,
            from: o.source,
            to: o.depot,
            lot,
            transfer: NONE,
            serials,
            kind: Kind::Opening,
            note: None,
        }
    }

    /// Chooses what happens next: an item by the quarter's weights, then a stage by the item's;
    /// a stage that cannot happen (nothing to move) falls back to the one upstream of it. When
    /// nothing of the item can move, another item is drawn; production of the first item can
    /// always happen.
    fn decide(&mut self, t: Time) -> Mv {
        let model = Arc::clone(&self.model);
        for _ in 0..ITEM_DRAWS_MAX {
            let item = pick(&model.quarters[self.quarter].item_cum, &mut self.rng);
            let mut stage = pick(&model.items[item].stage_cum, &mut self.rng);
            loop {
                let mv = match stage {
                    0 => self.produce(item, t, false),
                    1 => self.dispatch(item, t),
                    2 => self.hand_over(item, t),
                    3 => self.receive(item, t),
                    _ => self.consume(item, t),
                };
                if let Some(mv) = mv {
                    return mv;
                }
                if stage == 0 {
                    break;
                }
                stage -= 1;
            }
        }
        self.produce(0, t, true)
            .expect("the fallback line is always active")
    }

    /// A production line delivers a lot (or serials, or a quantity) to one of its depots whose
    /// owner holds less than its reserve plus a working stock (or to any, if `always`).
    fn produce(&mut self, item: usize, t: Time, always: bool) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        let open = |e: &Self, l: &usize| {
            let line = &model.lines[*l];
            line.from <= t && (always || line.depots.iter().any(|&d| e.wants_production(d, item)))
        };
        let total: f64 = im
            .lines
            .iter()
            .filter(|l| open(self, l))
            .map(|&l| model.lines[l].weight)
            .sum();
        if total <= 0.0 {
            return None;
        }
        let mut r = self.rng.gen::<f64>() * total;
        let mut chosen = None;
        for &l in im.lines.iter().filter(|l| open(self, l)) {
            chosen = Some(l);
            r -= model.lines[l].weight;
            if r < 0.0 {
                break;
            }
        }
        let line_index = chosen.expect("an active line");
        let line = &model.lines[line_index];
        let first = self.rng.gen_range(0..line.depots.len());
        let depot = (0..line.depots.len())
            .map(|k| line.depots[(first + k) % line.depots.len()])
            .find(|&d| always || self.wants_production(d, item))
            .expect("an open line has a depot that wants production");
        let qty = self.chunk(im.chunks.produce, item);
        let lot = match model.items[item].tracking {
            Tracking::Lot => self.lot_id(item, line_index as u16, line.lot_prefix, year_month(t)),
            _ => NONE,
        };
        let serials = self.new_serials(item, qty);
        Some(Mv {
            time: t,
            item,
            qty,
            from: line.source,
            to: depot,
            lot,
            transfer: NONE,
            serials,
            kind: Kind::Production,
            note: None,
        })
    }

    /// A donor sends stock above its reserve from a depot to its staging area at the hub
    /// (the recipient issues straight to a unit); now and then a depot instead moves stock
    /// to another depot of the same donor, or demilitarises an old lot.
    fn dispatch(&mut self, item: usize, t: Time) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        if im.stocks.is_empty() {
            return None;
        }
        let side: f64 = self.rng.gen();
        if side < 0.01 {
            if let Some(mv) = self.redistribute(item, t) {
                return Some(mv);
            }
        } else if side < 0.013 {
            if let Some(mv) = self.demilitarise(item, t) {
                return Some(mv);
            }
        }
        let first = pick(&im.stock_cum, &mut self.rng);
        for k in 0..im.stocks.len() {
            let si = im.stocks[(first + k) % im.stocks.len()];
            let s = &model.stocks[si];
            if self.paused(s.org, item, t) {
                continue;
            }
            let available = self.depot_totals[s.org * self.n_items + item]
                .saturating_sub(model.reserve(si, self.quarter));
            if available == 0 {
                continue;
            }
            let Some(depot) = self.holder_with_stock(&s.depots, item) else {
                continue;
            };
            let want = self.chunk(im.chunks.dispatch, item).min(available);
            let taken = self.take(depot, item, want).expect("the depot has stock");
            let (to, kind, transfer) = match s.staging {
                Some(staging) => (staging, Kind::Dispatch, self.package(s.org, t)),
                None => (self.any_unit(item), Kind::Issue, NONE),
            };
            return Some(self.mv(t, item, depot, to, taken, kind, transfer, None));
        }
        None
    }

    fn redistribute(&mut self, item: usize, t: Time) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        let s = &model.stocks[im.stocks[self.rng.gen_range(0..im.stocks.len())]];
        if s.depots.len() < 2 {
            return None;
        }
        let from = self.holder_with_stock(&s.depots, item)?;
        let to = loop {
            let d = s.depots[self.rng.gen_range(0..s.depots.len())];
            if d != from {
                break d;
            }
        };
        let want = self.chunk(im.chunks.dispatch, item);
        let taken = self.take(from, item, want)?;
        Some(self.mv(t, item, from, to, taken, Kind::Redistribution, NONE, None))
    }

    /// US depots demilitarise small quantities of lot-tracked stock above the reserve.
    fn demilitarise(&mut self, item: usize, t: Time) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        if im.tracking != Tracking::Lot {
            return None;
        }
        let si = *im
            .stocks
            .iter()
            .find(|&&s| model.holder_orgs[model.demil] == model.stocks[s].org)?;
        let s = &model.stocks[si];
        let available = self.depot_totals[s.org * self.n_items + item]
            .saturating_sub(model.reserve(si, self.quarter));
        let from = self.holder_with_stock(&s.depots, item)?;
        let want = (self.chunk(im.chunks.receipt, item)).min(available);
        let taken = self.take(from, item, want)?;
        Some(self.mv(t, item, from, model.demil, taken, Kind::Demil, NONE, None))
    }

    /// The hub hands a consignment over to Ukrainian rail or road transport.
    fn hand_over(&mut self, item: usize, t: Time) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        if im.stocks.is_empty() {
            return None;
        }
        let first = self.rng.gen_range(0..im.stocks.len());
        for k in 0..im.stocks.len() {
            let s = &model.stocks[im.stocks[(first + k) % im.stocks.len()]];
            let Some(staging) = s.staging else { continue };
            if self.stock(staging, item).qty == 0 {
                continue;
            }
            let want = self.chunk(im.chunks.dispatch, item);
            if self.paused(s.org, item, t) {
                // Some of what was staged goes back to the depot.
                if !self.rng.gen_bool(0.3) {
                    continue;
                }
                let taken = self.take(staging, item, want).expect("staged stock");
                let transfer = taken.transfer;
                return Some(self.mv(
                    t,
                    item,
                    staging,
                    s.depots[0],
                    taken,
                    Kind::Return,
                    transfer,
                    Some(PAUSE_NOTE),
                ));
            }
            let taken = self.take(staging, item, want).expect("staged stock");
            let to = if self.rng.gen_bool(0.7) {
                model.rail
            } else {
                model.convoy
            };
            let transfer = taken.transfer;
            return Some(self.mv(t, item, staging, to, taken, Kind::Handover, transfer, None));
        }
        None
    }

    /// Rail or convoy delivers to a unit (or the Ukrainian depot issues to one).
    fn receive(&mut self, item: usize, t: Time) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        let holders = [model.rail, model.convoy, model.ua_depot];
        let first = self.rng.gen_range(0..holders.len());
        let from = (0..holders.len())
            .map(|k| holders[(first + k) % holders.len()])
            .find(|&h| self.stock(h, item).qty > 0)?;
        let want = self.chunk(im.chunks.receipt, item);
        let taken = self.take(from, item, want).expect("stock in transit");
        if from != model.ua_depot && self.rng.gen_bool(0.0005) {
            let transfer = taken.transfer;
            return Some(self.mv(
                t,
                item,
                from,
                model.destroyed,
                taken,
                Kind::Loss,
                transfer,
                Some("struck in transit"),
            ));
        }
        let to = self.any_unit(item);
        let (kind, transfer) = if from == model.ua_depot {
            (Kind::Issue, NONE)
        } else {
            (Kind::Receipt, taken.transfer)
        };
        Some(self.mv(t, item, from, to, taken, kind, transfer, None))
    }

    /// A unit expends, loses or returns what it holds.
    fn consume(&mut self, item: usize, t: Time) -> Option<Mv> {
        let model = Arc::clone(&self.model);
        let im = &model.items[item];
        let unit = self.holder_with_stock(&im.units, item)?;
        let want = self.chunk(im.chunks.consume, item);
        let taken = self.take(unit, item, want).expect("stock at the unit");
        let r: f64 = self.rng.gen();
        let (to, kind) = match im.consumption {
            Consumption::Expended if r < 0.97 => (model.expended, Kind::Expenditure),
            Consumption::Expended if r < 0.988 => (model.destroyed, Kind::Loss),
            Consumption::Expended if r < 0.995 => (model.lost, Kind::Loss),
            Consumption::Attrition if r < 0.80 => (model.destroyed, Kind::Loss),
            Consumption::Attrition if r < 0.92 => (model.lost, Kind::Loss),
            _ => (model.ua_depot, Kind::Return),
        };
        Some(self.mv(t, item, unit, to, taken, kind, NONE, None))
    }

    #[allow(clippy::too_many_arguments)]
    fn mv(
        &self,
        time: Time,
        item: usize,
        from: usize,
        to: usize,
        taken: Taken,
        kind: Kind,
        transfer: u32,
        note: Option<&'static str>,
    ) -> Mv {
        Mv {
            time,
            item,
            qty: taken.qty,
            from,
            to,
            lot: taken.lot,
            transfer,
            serials: taken.serials,
            kind,
            note,
        }
    }

    /// Whether the owner of `depot` holds less of `item` in its depots than its reserve plus
    /// a working stock (producers deliver what is ordered, not without end).
    fn wants_production(&self, depot: usize, item: usize) -> bool {
        let org = self.model.holder_orgs[depot];
        let Some(&si) = self.model.items[item]
            .stocks
            .iter()
            .find(|&&s| self.model.stocks[s].org == org)
        else {
            return false;
        };
        let c = &self.model.items[item].chunks;
        let working = (2 * c.produce.1).max(4 * c.dispatch.1);
        self.depot_totals[org * self.n_items + item]
            < self.model.reserve(si, self.quarter) + working
    }

    fn paused(&self, org: usize, item: usize, t: Time) -> bool {
        let (from, to) = self.model.pause;
        self.model.items[item].paused_2025
            && (from..to).contains(&t)
            && self.model.holder_orgs[self.model.demil] == org
    }

    /// A quantity in `range`, at most 12 for serial-tracked items.
    fn chunk(&mut self, (lo, hi): (u64, u64), item: usize) -> u64 {
        let q = self.rng.gen_range(lo..=hi);
        match self.model.items[item].tracking {
            Tracking::Serial => q.min(SERIALS_PER_MOVEMENT_MAX),
            _ => q,
        }
    }

    fn any_unit(&mut self, item: usize) -> usize {
        let units = &self.model.items[item].units;
        units[self.rng.gen_range(0..units.len())]
    }

    /// One of `holders` that has some of `item`, starting the search at a random one.
    fn holder_with_stock(&mut self, holders: &[usize], item: usize) -> Option<usize> {
        let first = self.rng.gen_range(0..holders.len());
        (0..holders.len())
            .map(|k| holders[(first + k) % holders.len()])
            .find(|&h| self.stock(h, item).qty > 0)
    }

    fn stock(&self, holder: usize, item: usize) -> &Stock {
        &self.stocks[holder * self.n_items + item]
    }

    fn new_serials(&mut self, item: usize, qty: u64) -> Vec<u32> {
        if self.model.items[item].tracking != Tracking::Serial {
            return Vec::new();
        }
        let first = self.next_serial[item];
        self.next_serial[item] += qty as u32;
        (first..first + qty as u32).collect()
    }

    fn lot_id(&mut self, item: usize, line: u16, prefix: &str, (y, m): (i32, u32)) -> u32 {
        let lots = &mut self.lots;
        *self.lot_ids.entry((item, line, y, m)).or_insert_with(|| {
            lots.push(format!("{prefix}-{y:04}-{m:02}"));
            (lots.len() - 1) as u32
        })
    }

    fn package(&mut self, org: usize, t: Time) -> u32 {
        let (y, m) = year_month(t);
        if let Some(&id) = self.transfer_ids.get(&(org, y, m)) {
            return id;
        }
        self.transfers.push(self.model.package_name(org, (y, m)));
        let id = (self.transfers.len() - 1) as u32;
        self.transfer_ids.insert((org, y, m), id);
        id
    }

    /// Takes up to `max` of the oldest stock of `item` at `holder`: one parcel's worth, or
    /// serials travelling under one transfer.
    fn take(&mut self, holder: usize, item: usize, max: u64) -> Option<Taken> {
        let kind = self.model.holder_kinds[holder];
        debug_assert!(kind != HolderKind::Source && kind != HolderKind::Sink);
        let tracking = self.model.items[item].tracking;
        let stock = &mut self.stocks[holder * self.n_items + item];
        if stock.qty == 0 || max == 0 {
            return None;
        }
        let taken = if tracking == Tracking::Serial {
            let transfer = stock.serials.front().expect("qty > 0").1;
            let mut serials = Vec::with_capacity(max as usize);
            while (serials.len() as u64) < max {
                match stock.serials.front() {
                    Some(&(s, tr)) if tr == transfer => {
                        serials.push(s);
                        stock.serials.pop_front();
                    }
                    _ => break,
                }
            }
            Taken {
                lot: NONE,
                transfer,
                qty: serials.len() as u64,
                serials,
            }
        } else {
            let parcel = stock.parcels.front_mut().expect("qty > 0");
            let qty = parcel.qty.min(max);
            parcel.qty -= qty;
            let taken = Taken {
                lot: parcel.lot,
                transfer: parcel.transfer,
                qty,
                serials: Vec::new(),
            };
            if parcel.qty == 0 {
                stock.parcels.pop_front();
            }
            taken
        };
        stock.qty -= taken.qty;
        if kind == HolderKind::Depot {
            self.depot_totals[self.model.holder_orgs[holder] * self.n_items + item] -= taken.qty;
        }
        Some(taken)
    }

    /// Books the inflow of `mv` at its receiver.
    fn put(&mut self, mv: &Mv) {
        let kind = self.model.holder_kinds[mv.to];
        if kind == HolderKind::Source || kind == HolderKind::Sink {
            return;
        }
        // Consignments keep their transfer while in transit; on arrival the stock is the
        // receiver's, whatever it came under.
        let transfer = if kind == HolderKind::Transit {
            mv.transfer
        } else {
            NONE
        };
        let stock = &mut self.stocks[mv.to * self.n_items + mv.item];
        if self.model.items[mv.item].tracking == Tracking::Serial {
            stock
                .serials
                .extend(mv.serials.iter().map(|&s| (s, transfer)));
        } else if let Some(p) = stock
            .parcels
            .iter_mut()
            .find(|p| p.lot == mv.lot && p.transfer == transfer)
        {
            p.qty += mv.qty;
        } else {
            stock.parcels.push_back(Parcel {
                lot: mv.lot,
                transfer,
                qty: mv.qty,
            });
        }
        stock.qty += mv.qty;
        if kind == HolderKind::Depot {
            self.depot_totals[self.model.holder_orgs[mv.to] * self.n_items + mv.item] += mv.qty;
        }
    }
}

/// An index drawn with the weights whose running sums are `cum`.
fn pick(cum: &[f64], rng: &mut SmallRng) -> usize {
    let total = *cum.last().expect("weights");
    let r = rng.gen::<f64>() * total;
    cum.iter().position(|&c| r < c).unwrap_or(cum.len() - 1)
}

impl Iterator for ScenarioBatches {
    type Item = Vec<Record>;

    fn next(&mut self) -> Option<Vec<Record>> {
        let model = Arc::clone(&self.model);
        if self.emitted == model.movements {
            return None;
        }
        let n = (model.movements - self.emitted).min(model.batch_size as u64) as usize;
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            let mv = self.next_mv();
            self.emitted += 1;
            self.batch_max = self.batch_max.max(mv.time);
            batch.push(movement_record(
                &model,
                self.emitted,
                &mv,
                &self.lots,
                &self.transfers,
            ));
        }
        self.prev_batches_max = self.prev_batches_max.max(self.batch_max);
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left =
            (self.model.movements - self.emitted).div_ceil(self.model.batch_size as u64) as usize;
        (left, Some(left))
    }
}
