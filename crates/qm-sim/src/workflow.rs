//! The workflow benchmark workload: the uniform workload's chains of movements with the
//! shipment workflow of interchange v1.1 running through them. A donor org owns the sources,
//! the depots and a transit hub; a recipient org owns units. About one movement in
//! [`WorkflowConfig::movements_per_transfer`] starts a transfer of 1 to
//! [`WorkflowConfig::lines_max`] lines, each line allocated at once from a depot where a
//! chain's stock is, then dispatched (depot → hub, under the transfer, in one or two parts)
//! and delivered (hub → a recipient unit) some movements later. Every
//! [`WorkflowConfig::movements_per_pause`] movements a pause is imposed and resumed half that
//! many movements later.
//!
//! Every record is valid by construction, as in `uniform.rs`, without a table of balances:
//! - a chain's stock at its depot is the chain's alone; a transfer *captures* part of it: the
//!   allocation earmarks at most what the chain still has there, and the chain goes on with
//!   the rest (it hops at most what is neither earmarked nor gone), so the depot's available
//!   stock (balance less earmarks) never goes negative, whatever other chains do there;
//! - each line commits what is allocated, a quarter of them more (a commitment not yet
//!   allocated in full), so allocations never exceed commitments;
//! - dispatches take exactly the earmark, later than the allocation, and deliveries take from
//!   the hub exactly what the dispatch brought, later than it, so neither the earmark nor the
//!   hub's balance goes negative;
//! - pauses name only the *reserve* item (the last item, in its own category `reserve`),
//!   which no transfer carries: by item, or by category. They never refuse a record of the
//!   workload.
//!
//! No record is late: the workflow's figures are compared with the movement-only workload's
//! at `late_fraction` 0. Each record takes the next instant (`interval` apart); a transfer
//! and its allocations share one.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use qm_core::{
    Allocate, Holder, HolderKind, Item, Movement, Org, OrgKind, Pause, Record, Resume, Time,
    Tracking, Transfer, TransferLine,
};
use rand::rngs::SmallRng;
use rand::{RngCore, SeedableRng};

use crate::fmt::padded;
use crate::time::{date, NANOS_PER_DAY, NANOS_PER_SEC};
use crate::uniform::WorkloadConfig;

/// The donor org: sources, depots and the hub are its own.
pub const WORKFLOW_DONOR: &str = "DONOR";
/// The recipient org: its units receive the deliveries.
pub const WORKFLOW_RECIPIENT: &str = "RECIPIENT";
/// The transit hub every dispatch goes through.
pub const WORKFLOW_HUB: &str = "H0001";
/// The category of the reserve item, which no transfer carries and pauses name.
pub const RESERVE_CATEGORY: &str = "reserve";

/// Shape of the workflow workload.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkflowConfig {
    /// Exactly this many movements (chain movements, dispatches and deliveries together).
    pub movements: u64,
    pub seed: u64,
    /// Movements per batch (at least 1; the last batch may be shorter). The transfers,
    /// allocations, pauses and resumptions decided among them come in the same batch.
    pub batch_size: usize,
    /// Bulk items `I00001`...; at least 2: the last is the reserve item.
    pub items: u32,
    /// The donor's sources `S0001`... and depots `D0001`... (at least one of each).
    pub sources: u32,
    pub depots: u32,
    /// The recipient's units `U0001`... (at least one).
    pub units: u32,
    /// Effective time of the first record.
    pub start: Time,
    /// Effective time between one record and the next, in ns.
    pub interval: i64,
    /// Quantities brought in from sources are 1..=`qty_max`.
    pub qty_max: u32,
    /// On average one transfer per this many movements (0: no transfers).
    pub movements_per_transfer: u32,
    /// Lines per transfer: 1..=`lines_max` (at least 1).
    pub lines_max: u32,
    /// One pause per this many movements (the first after half as many), each resumed half
    /// as many movements later (0: none).
    pub movements_per_pause: u64,
    /// A dispatch follows its allocation, and a delivery its dispatch, by 1..=this many
    /// movements.
    pub delay_max: u64,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        WorkflowConfig {
            movements: 1_000_000,
            seed: 1,
            batch_size: 10_000,
            items: 2_000,
            sources: 5,
            depots: 495,
            units: 50,
            start: date(2024, 1, 1),
            interval: NANOS_PER_SEC,
            qty_max: 100,
            movements_per_transfer: 100,
            lines_max: 3,
            movements_per_pause: 100_000,
            delay_max: 20_000,
        }
    }
}

impl WorkflowConfig {
    /// The workflow counterpart of a uniform workload: the same movements, seed, batch size,
    /// items, sources, depots, start, interval and quantities (its `late_fraction` is not
    /// used: this workload has no late records).
    pub fn like(u: &WorkloadConfig) -> WorkflowConfig {
        WorkflowConfig {
            movements: u.movements,
            seed: u.seed,
            batch_size: u.batch_size,
            items: u.items,
            sources: u.sources,
            depots: u.holders.saturating_sub(u.sources),
            start: u.start,
            interval: u.interval,
            qty_max: u.qty_max,
            ..WorkflowConfig::default()
        }
    }

    fn n_items(&self) -> u32 {
        self.items.max(2)
    }
    fn n_sources(&self) -> u32 {
        self.sources.max(1)
    }
    fn n_depots(&self) -> u32 {
        self.depots.max(1)
    }
    fn n_units(&self) -> u32 {
        self.units.max(1)
    }
}

fn item_code(i: u32) -> String {
    padded("I", "", i as u64 + 1, 5)
}

/// The orgs, holders and items the workload moves: apply them first.
pub fn workflow_master_data(config: &WorkflowConfig) -> Vec<Record> {
    let org = |id: &str, name: &str, kind| {
        Record::Org(Org {
            id: id.to_owned(),
            name: name.to_owned(),
            kind: Some(kind),
        })
    };
    let mut records = vec![
        org(WORKFLOW_DONOR, "Benchmark donor", OrgKind::Donor),
        org(
            WORKFLOW_RECIPIENT,
            "Benchmark recipient",
            OrgKind::Recipient,
        ),
    ];
    let holder = |id: String, org: &str, kind: HolderKind| {
        Record::Holder(Holder {
            name: format!("Benchmark {} {id}", kind.as_str()),
            id,
            org: org.to_owned(),
            kind,
            country: None,
            lat: None,
            lon: None,
        })
    };
    let donor = WORKFLOW_DONOR;
    records.extend(
        (0..config.n_sources())
            .map(|s| holder(padded("S", "", s as u64 + 1, 4), donor, HolderKind::Source)),
    );
    records.extend(
        (0..config.n_depots())
            .map(|d| holder(padded("D", "", d as u64 + 1, 4), donor, HolderKind::Depot)),
    );
    records.push(holder(WORKFLOW_HUB.to_owned(), donor, HolderKind::Transit));
    records.extend((0..config.n_units()).map(|u| {
        holder(
            padded("U", "", u as u64 + 1, 4),
            WORKFLOW_RECIPIENT,
            HolderKind::Unit,
        )
    }));
    let n = config.n_items();
    records.extend((0..n).map(|i| {
        Record::Item(Item {
            code: item_code(i),
            name: format!("Benchmark item {}", i + 1),
            category: if i + 1 == n {
                RESERVE_CATEGORY.to_owned()
            } else {
                "bench".to_owned()
            },
            tracking: Tracking::Bulk,
            unit: None,
            sensitive: None,
            unit_value: None,
            inventory_interval_days: None,
        })
    }));
    records
}

/// The workload's batches, generated as they are pulled.
pub fn workflow_workload(config: WorkflowConfig) -> WorkflowWorkload {
    WorkflowWorkload::new(config)
}

/// One chain of movements of the same stock (see `uniform.rs`).
#[derive(Debug, Clone, Copy, Default)]
struct Chain {
    item: u32,
    /// Holder index of the depot where the chain's stock is.
    at: u32,
    /// What the chain has there, neither earmarked nor moved on (0: nothing, or not started).
    qty: u32,
    /// Hops still to make; 0: the next movement starts a new chain from a source.
    hops_left: u32,
}

/// A step of a transfer waiting for its turn, or the end of a pause. Fields are indexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Action {
    Dispatch {
        transfer: u32,
        item: u32,
        depot: u32,
        qty: u32,
    },
    Deliver {
        transfer: u32,
        item: u32,
        unit: u32,
        qty: u32,
    },
    Resume {
        pause: u32,
    },
}

impl Action {
    /// Movements it and what follows from it will emit.
    fn movements(self) -> u64 {
        match self {
            Action::Dispatch { .. } => 2,
            Action::Deliver { .. } => 1,
            Action::Resume { .. } => 0,
        }
    }
}

/// Chains running interleaved.
const CHAINS: usize = 4096;
/// Hops per chain after its inflow: 1..=HOPS_MAX.
const HOPS_MAX: u64 = 7;

/// A uniform draw in `0..n` from 32 random bits.
fn below(bits: u64, n: u32) -> u32 {
    (((bits & 0xffff_ffff) * n as u64) >> 32) as u32
}

/// Iterator over the batches of [`workflow_workload`].
pub struct WorkflowWorkload {
    config: WorkflowConfig,
    rng: SmallRng,
    n_items: u32,
    n_sources: u32,
    n_depots: u32,
    n_units: u32,
    chains: Vec<Chain>,
    /// Sources, depots, the hub, units: the ids by holder index.
    holder_ids: Vec<String>,
    item_codes: Vec<String>,
    /// Movements emitted.
    emitted: u64,
    /// Records emitted (instants used).
    instants: u64,
    transfers: u32,
    allocations: u32,
    pauses: u32,
    next_pause_at: u64,
    /// (due at this many emitted movements, order of scheduling, what).
    pending: BinaryHeap<Reverse<(u64, u64, Action)>>,
    scheduled: u64,
    /// Movements the pending actions will still emit.
    pending_movements: u64,
    /// One movement in `movements_per_transfer` as a threshold on a uniform `u64` (0: never).
    transfer_threshold: u64,
    /// Set once the last batch is out.
    done: bool,
}

impl WorkflowWorkload {
    fn new(config: WorkflowConfig) -> WorkflowWorkload {
        let (n_items, n_sources, n_depots, n_units) = (
            config.n_items(),
            config.n_sources(),
            config.n_depots(),
            config.n_units(),
        );
        let holder_ids = (0..n_sources)
            .map(|s| padded("S", "", s as u64 + 1, 4))
            .chain((0..n_depots).map(|d| padded("D", "", d as u64 + 1, 4)))
            .chain(std::iter::once(WORKFLOW_HUB.to_owned()))
            .chain((0..n_units).map(|u| padded("U", "", u as u64 + 1, 4)))
            .collect();
        let transfer_threshold = match config.movements_per_transfer {
            0 => 0,
            n => u64::MAX / n as u64,
        };
        WorkflowWorkload {
            rng: SmallRng::seed_from_u64(config.seed ^ 0x776f_726b_666c_6f77),
            n_items,
            n_sources,
            n_depots,
            n_units,
            chains: vec![Chain::default(); CHAINS],
            holder_ids,
            item_codes: (0..n_items).map(item_code).collect(),
            emitted: 0,
            instants: 0,
            transfers: 0,
            allocations: 0,
            pauses: 0,
            next_pause_at: (config.movements_per_pause / 2).max(1),
            pending: BinaryHeap::new(),
            scheduled: 0,
            pending_movements: 0,
            transfer_threshold,
            done: false,
            config,
        }
    }

    fn hub(&self) -> u32 {
        self.n_sources + self.n_depots
    }

    fn reserve_item(&self) -> u32 {
        self.n_items - 1
    }

    /// The next instant.
    fn now(&mut self) -> Time {
        let t = self.config.start + self.instants as i64 * self.config.interval;
        self.instants += 1;
        t
    }

    fn schedule(&mut self, after: u64, action: Action) {
        let delay = 1 + self.rng.next_u64() % self.config.delay_max.max(1);
        self.pending_movements += action.movements();
        self.scheduled += 1;
        self.pending.push(Reverse((
            self.emitted + after + delay,
            self.scheduled,
            action,
        )));
    }

    fn movement(&mut self, time: Time, item: u32, from: u32, to: u32, qty: u32) -> Movement {
        self.emitted += 1;
        Movement {
            id: padded("w", "", self.emitted, 9),
            time,
            item: self.item_codes[item as usize].clone(),
            qty: qty as u64,
            from: self.holder_ids[from as usize].clone(),
            to: self.holder_ids[to as usize].clone(),
            lot: None,
            serials: None,
            kind: None,
            transfer: None,
            note: None,
        }
    }

    fn transfer_id(t: u32) -> String {
        padded("t", "", t as u64 + 1, 7)
    }

    /// The next step of a random chain: an inflow from a source into a depot, or a hop of
    /// part of the chain's stock to another depot.
    fn chain_movement(&mut self) -> Movement {
        let time = self.now();
        let r = self.rng.next_u64();
        let r2 = self.rng.next_u64();
        let c = (r >> 52) as usize % CHAINS;
        let chain = self.chains[c];
        let (item, from, to, qty) = if chain.hops_left == 0 || chain.qty == 0 || self.n_depots < 2 {
            let item = below(r, self.n_items);
            let depot = self.n_sources + below(r2, self.n_depots);
            let qty = 1 + below(r2 >> 32, self.config.qty_max.max(1));
            let source = below(r >> 32, self.n_sources);
            self.chains[c] = Chain {
                item,
                at: depot,
                qty,
                hops_left: 1 + ((r >> 40) % HOPS_MAX) as u32,
            };
            (item, source, depot, qty)
        } else {
            let other = self.n_sources + below(r, self.n_depots - 1);
            let to = if other >= chain.at { other + 1 } else { other };
            let qty = 1 + below(r2, chain.qty);
            self.chains[c] = Chain {
                at: to,
                qty,
                hops_left: chain.hops_left - 1,
                ..chain
            };
            (chain.item, chain.at, to, qty)
        };
        self.movement(time, item, from, to, qty)
    }

    /// A transfer of 1..=lines_max lines, each allocated from a depot where a chain's stock
    /// is, its dispatches scheduled. `None` when no chain had stock to give.
    fn start_transfer(&mut self, out: &mut Vec<Record>) -> Option<()> {
        let want = 1 + below(self.rng.next_u64(), self.config.lines_max.max(1)) as usize;
        let reserve = self.reserve_item();
        // (item, depot, allocated, committed)
        let mut lines: Vec<(u32, u32, u32, u32)> = Vec::with_capacity(want);
        for _ in 0..want * 4 {
            if lines.len() == want {
                break;
            }
            let r = self.rng.next_u64();
            let c = (r >> 52) as usize % CHAINS;
            let chain = &mut self.chains[c];
            if chain.qty == 0 || chain.item == reserve || lines.iter().any(|l| l.0 == chain.item) {
                continue;
            }
            let allocated = 1 + below(r, chain.qty);
            chain.qty -= allocated;
            if chain.qty == 0 {
                chain.hops_left = 0;
            }
            let committed = if (r >> 32) & 3 == 0 {
                allocated + 1 + below(r >> 34, allocated)
            } else {
                allocated
            };
            lines.push((chain.item, chain.at, allocated, committed));
        }
        if lines.is_empty() {
            return None;
        }
        let time = self.now();
        let t = self.transfers;
        self.transfers += 1;
        let id = Self::transfer_id(t);
        out.push(Record::Transfer(Transfer {
            id: id.clone(),
            time,
            donor: WORKFLOW_DONOR.to_owned(),
            recipient: WORKFLOW_RECIPIENT.to_owned(),
            lines: lines
                .iter()
                .map(|&(item, _, _, committed)| TransferLine {
                    item: self.item_codes[item as usize].clone(),
                    qty: committed as u64,
                    value: None,
                })
                .collect(),
            authority: Some(padded("PKG-", "", t as u64 / 100 + 1, 4)),
            note: None,
        }));
        for &(item, depot, allocated, _) in &lines {
            self.allocations += 1;
            out.push(Record::Allocate(Allocate {
                id: padded("a", "", self.allocations as u64, 7),
                time,
                transfer: id.clone(),
                item: self.item_codes[item as usize].clone(),
                qty: allocated as u64,
                from: self.holder_ids[depot as usize].clone(),
                lot: None,
                override_: None,
            }));
            // A quarter of the lines go in two parts.
            let r = self.rng.next_u64();
            let first = if allocated >= 2 && r & 3 == 0 {
                1 + below(r >> 2, allocated - 1)
            } else {
                allocated
            };
            for qty in [first, allocated - first] {
                if qty > 0 {
                    self.schedule(
                        0,
                        Action::Dispatch {
                            transfer: t,
                            item,
                            depot,
                            qty,
                        },
                    );
                }
            }
        }
        Some(())
    }

    fn pause(&mut self, out: &mut Vec<Record>) {
        let time = self.now();
        let p = self.pauses;
        self.pauses += 1;
        let reserve = self.item_codes[self.reserve_item() as usize].clone();
        let (items, categories) = if p.is_multiple_of(2) {
            (Some(vec![reserve]), None)
        } else {
            (None, Some(vec![RESERVE_CATEGORY.to_owned()]))
        };
        out.push(Record::Pause(Pause {
            id: padded("p", "", p as u64 + 1, 4),
            time,
            reason: "Stockpile review of the reserve".to_owned(),
            by: WORKFLOW_DONOR.to_owned(),
            items,
            categories,
            donor: None,
            recipient: None,
            transfer: None,
            review_by: Some(time + 30 * NANOS_PER_DAY),
        }));
        let delay = (self.config.movements_per_pause / 2).max(1);
        self.scheduled += 1;
        self.pending.push(Reverse((
            self.emitted + delay,
            self.scheduled,
            Action::Resume { pause: p },
        )));
    }

    /// Emits a pending action.
    fn act(&mut self, action: Action, out: &mut Vec<Record>) {
        self.pending_movements -= action.movements();
        let time = self.now();
        match action {
            Action::Dispatch {
                transfer,
                item,
                depot,
                qty,
            } => {
                let hub = self.hub();
                let mut m = self.movement(time, item, depot, hub, qty);
                m.transfer = Some(Self::transfer_id(transfer));
                out.push(Record::Movement(m));
                let unit = hub + 1 + below(self.rng.next_u64(), self.n_units);
                self.schedule(
                    0,
                    Action::Deliver {
                        transfer,
                        item,
                        unit,
                        qty,
                    },
                );
            }
            Action::Deliver {
                transfer,
                item,
                unit,
                qty,
            } => {
                let hub = self.hub();
                let mut m = self.movement(time, item, hub, unit, qty);
                m.transfer = Some(Self::transfer_id(transfer));
                out.push(Record::Movement(m));
            }
            Action::Resume { pause } => {
                out.push(Record::Resume(Resume {
                    id: padded("r", "", pause as u64 + 1, 4),
                    time,
                    pause: padded("p", "", pause as u64 + 1, 4),
                    reason: Some("Review done".to_owned()),
                    by: Some(WORKFLOW_DONOR.to_owned()),
                }));
            }
        }
    }

    /// Appends records to `out` until it holds `want` more movements.
    fn fill(&mut self, out: &mut Vec<Record>, want: u64) {
        let target = self.emitted + want;
        while self.emitted < target {
            let remaining = self.config.movements - self.emitted;
            if let Some(&Reverse((due, _, action))) = self.pending.peek() {
                if due <= self.emitted || remaining == self.pending_movements {
                    self.pending.pop();
                    self.act(action, out);
                    continue;
                }
            }
            if self.config.movements_per_pause > 0 && self.emitted >= self.next_pause_at {
                self.next_pause_at += self.config.movements_per_pause;
                self.pause(out);
                continue;
            }
            let free = remaining - self.pending_movements;
            if self.transfer_threshold > 0
                && free > 4 * self.config.lines_max.max(1) as u64
                && self.rng.next_u64() < self.transfer_threshold
                && self.start_transfer(out).is_some()
            {
                continue;
            }
            out.push(Record::Movement(self.chain_movement()));
        }
    }
}

impl Iterator for WorkflowWorkload {
    type Item = Vec<Record>;

    fn next(&mut self) -> Option<Vec<Record>> {
        if self.done || self.config.movements == 0 {
            return None;
        }
        let want = (self.config.movements - self.emitted).min(self.config.batch_size.max(1) as u64);
        let mut batch = Vec::with_capacity(want as usize + want as usize / 16);
        self.fill(&mut batch, want);
        if self.emitted == self.config.movements {
            // Only resumptions can still be waiting: the last batch carries them.
            while let Some(Reverse((_, _, action))) = self.pending.pop() {
                self.act(action, &mut batch);
            }
            self.done = true;
        }
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = if self.done {
            0
        } else {
            (self.config.movements - self.emitted).div_ceil(self.config.batch_size.max(1) as u64)
                as usize
        };
        (left, Some(left))
    }
}
