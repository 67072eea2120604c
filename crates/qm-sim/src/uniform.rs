//! The uniform benchmark workload: bulk items moved at random between depots, like the plain
//! SQL ledger baselines in `DESIGN.md` (2,000 items, 500 holders, batches of 10k).
//!
//! Every movement is valid by construction, without a table of balances (whose random reads
//! cost more than everything else together): stock moves in *chains*. A chain brings a random
//! quantity of a random item from a source into a random depot, then hops part of it, several
//! times, to other random depots; a hop takes at most what the chain itself left where it is,
//! so no balance can go negative whatever else happens there. Thousands of chains run
//! interleaved, so the keys a batch touches look uniform. State: the chains (a few KiB) plus
//! the late movements waiting.
//!
//! A `late_fraction` of movements is emitted up to two batches after its effective time; the
//! chain that made it ends there, so nothing moves on from an arrival the ledger has not seen
//! yet. Late movements take stock out too (hops) and stay valid: what they take was the
//! chain's since before their time.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use qm_core::{Holder, HolderKind, Item, Movement, Org, OrgKind, Record, Time, Tracking};
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::fmt::padded;
use crate::time::{date, NANOS_PER_SEC};

/// Shape of the benchmark workload.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadConfig {
    /// Exactly this many movements in all batches together.
    pub movements: u64,
    pub seed: u64,
    /// At least 1; the last batch may be shorter.
    pub batch_size: usize,
    /// Bulk items `I00001`...
    pub items: u32,
    /// Holders in all: `sources` sources (`S0001`...), the rest depots (`D0001`...). At least
    /// one of each.
    pub holders: u32,
    pub sources: u32,
    /// Share of movements emitted after later ones (an effective time before the head).
    pub late_fraction: f64,
    /// Effective time of the first movement.
    pub start: Time,
    /// Effective time between one decision and the next, in ns.
    pub interval: i64,
    /// Quantities are 1..=`qty_max`.
    pub qty_max: u32,
}

impl Default for WorkloadConfig {
    fn default() -> Self {
        WorkloadConfig {
            movements: 1_000_000,
            seed: 1,
            batch_size: 10_000,
            items: 2_000,
            holders: 500,
            sources: 5,
            late_fraction: 0.0,
            start: date(2024, 1, 1),
            interval: NANOS_PER_SEC,
            qty_max: 100,
        }
    }
}

impl WorkloadConfig {
    fn depots(&self) -> u32 {
        self.holders.saturating_sub(self.sources).max(1)
    }

    fn sources(&self) -> u32 {
        self.sources.max(1)
    }
}

fn org_id() -> String {
    "BENCH".to_owned()
}

fn source_id(s: u32) -> String {
    padded("S", "", s as u64 + 1, 4)
}

fn depot_id(d: u32) -> String {
    padded("D", "", d as u64 + 1, 4)
}

fn item_code(i: u32) -> String {
    padded("I", "", i as u64 + 1, 5)
}

/// The org, holders and items the workload moves: apply them first.
pub fn uniform_master_data(config: &WorkloadConfig) -> Vec<Record> {
    let mut records = vec![Record::Org(Org {
        id: org_id(),
        name: "Benchmark org".to_owned(),
        kind: Some(OrgKind::Other),
    })];
    let holder = |id: String, kind| {
        Record::Holder(Holder {
            name: format!("Benchmark {} {id}", kind_name(kind)),
            id,
            org: org_id(),
            kind,
            country: None,
            lat: None,
            lon: None,
        })
    };
    records.extend((0..config.sources()).map(|s| holder(source_id(s), HolderKind::Source)));
    records.extend((0..config.depots()).map(|d| holder(depot_id(d), HolderKind::Depot)));
    records.extend((0..config.items.max(1)).map(|i| {
        Record::Item(Item {
            code: item_code(i),
            name: format!("Benchmark item {}", i + 1),
            category: "bench".to_owned(),
            tracking: Tracking::Bulk,
            unit: None,
            sensitive: None,
            unit_value: None,
            inventory_interval_days: None,
        })
    }));
    records
}

fn kind_name(kind: HolderKind) -> &'static str {
    kind.as_str()
}

/// The workload's movement batches, generated as they are pulled.
pub fn uniform_workload(config: WorkloadConfig) -> UniformWorkload {
    UniformWorkload::new(config)
}

/// A decided movement: holder indices are sources first, then depots.
#[derive(Debug, Clone, Copy)]
struct Mv {
    time: Time,
    item: u32,
    from: u32,
    to: u32,
    qty: u32,
}

/// One chain of movements of the same stock (see the module docs).
#[derive(Debug, Clone, Copy, Default)]
struct Chain {
    item: u32,
    /// Holder index of the depot where the chain's stock is.
    at: u32,
    /// What the chain has there.
    qty: u32,
    /// Hops still to make; 0: the next movement starts a new chain from a source.
    hops_left: u32,
}

/// Chains running interleaved.
const CHAINS: usize = 4096;
/// Hops per chain after its inflow: 1..=HOPS_MAX, so about a fifth of movements are inflows.
const HOPS_MAX: u64 = 7;

/// Iterator over the batches of [`uniform_workload`].
pub struct UniformWorkload {
    config: WorkloadConfig,
    rng: SmallRng,
    n_items: u32,
    n_sources: u32,
    n_depots: u32,
    chains: Vec<Chain>,
    holder_ids: Vec<String>,
    item_codes: Vec<String>,
    emitted: u64,
    decisions: u64,
    /// Late movements by the emission count at which they are due.
    pending: BinaryHeap<Reverse<(u64, u64)>>,
    pending_mvs: Vec<Option<Mv>>,
    free_slots: Vec<usize>,
    /// Longest delay of a late movement, in emitted movements.
    delay_max: u64,
    /// `late_fraction` as a threshold on a uniform `u64` (0: never).
    late_threshold: u64,
}

/// A uniform draw in `0..n` from 32 random bits.
fn below(bits: u64, n: u32) -> u32 {
    (((bits & 0xffff_ffff) * n as u64) >> 32) as u32
}

impl UniformWorkload {
    fn new(config: WorkloadConfig) -> UniformWorkload {
        let n_items = config.items.max(1);
        let n_sources = config.sources();
        let n_depots = config.depots();
        let holder_ids = (0..n_sources)
            .map(source_id)
            .chain((0..n_depots).map(depot_id))
            .collect();
        let late_threshold = if config.late_fraction <= 0.0 {
            0
        } else {
            (config.late_fraction.min(1.0) * u64::MAX as f64) as u64
        };
        let batch = config.batch_size.max(1) as u64;
        UniformWorkload {
            rng: SmallRng::seed_from_u64(config.seed ^ 0x756e_6966_6f72_6d00),
            n_items,
            n_sources,
            n_depots,
            chains: vec![Chain::default(); CHAINS],
            holder_ids,
            item_codes: (0..n_items).map(item_code).collect(),
            emitted: 0,
            decisions: 0,
            pending: BinaryHeap::new(),
            pending_mvs: Vec::new(),
            free_slots: Vec::new(),
            delay_max: 2 * batch,
            late_threshold,
            config,
        }
    }

    /// Decides the next movement: the next step of a random chain.
    fn decide(&mut self) -> (Mv, usize) {
        let time = self.config.start + self.decisions as i64 * self.config.interval;
        self.decisions += 1;
        let r = self.rng.next_u64();
        let r2 = self.rng.next_u64();
        let c = (r >> 52) as usize % CHAINS;
        let chain = &mut self.chains[c];
        let mv = if chain.hops_left == 0 || self.n_depots < 2 {
            let item = below(r, self.n_items);
            let depot = self.n_sources + below(r2, self.n_depots);
            let qty = 1 + below(r2 >> 32, self.config.qty_max.max(1));
            let source = below(r >> 32, self.n_sources);
            *chain = Chain {
                item,
                at: depot,
                qty,
                hops_left: 1 + ((r >> 40) % HOPS_MAX) as u32,
            };
            Mv {
                time,
                item,
                from: source,
                to: depot,
                qty,
            }
        } else {
            let other = self.n_sources + below(r, self.n_depots - 1);
            let to = if other >= chain.at { other + 1 } else { other };
            let qty = 1 + below(r2, chain.qty);
            let mv = Mv {
                time,
                item: chain.item,
                from: chain.at,
                to,
                qty,
            };
            *chain = Chain {
                at: to,
                qty,
                hops_left: chain.hops_left - 1,
                ..*chain
            };
            mv
        };
        (mv, c)
    }

    fn next_mv(&mut self) -> Mv {
        loop {
            let remaining = self.config.movements - self.emitted;
            if let Some(&Reverse((due, slot))) = self.pending.peek() {
                if due <= self.emitted || remaining == self.pending.len() as u64 {
                    self.pending.pop();
                    let mv = self.pending_mvs[slot as usize].take().expect("pending");
                    self.free_slots.push(slot as usize);
                    return mv;
                }
            }
            let (mv, chain) = self.decide();
            let decisions_left = remaining - self.pending.len() as u64;
            if self.late_threshold > 0
                && decisions_left > self.delay_max
                && self.rng.next_u64() < self.late_threshold
            {
                // Nothing may move on from this arrival before the ledger has seen it.
                self.chains[chain].hops_left = 0;
                let due = self.emitted + self.rng.gen_range(1..=self.delay_max);
                let slot = match self.free_slots.pop() {
                    Some(slot) => {
                        self.pending_mvs[slot] = Some(mv);
                        slot
                    }
                    None => {
                        self.pending_mvs.push(Some(mv));
                        self.pending_mvs.len() - 1
                    }
                };
                self.pending.push(Reverse((due, slot as u64)));
                continue;
            }
            return mv;
        }
    }
}

impl Iterator for UniformWorkload {
    type Item = Vec<Record>;

    fn next(&mut self) -> Option<Vec<Record>> {
        if self.emitted == self.config.movements {
            return None;
        }
        let n = (self.config.movements - self.emitted).min(self.config.batch_size.max(1) as u64)
            as usize;
        let mut batch = Vec::with_capacity(n);
        for _ in 0..n {
            let mv = self.next_mv();
            self.emitted += 1;
            batch.push(Record::Movement(Movement {
                id: padded("w", "", self.emitted, 9),
                time: mv.time,
                item: self.item_codes[mv.item as usize].clone(),
                qty: mv.qty as u64,
                from: self.holder_ids[mv.from as usize].clone(),
                to: self.holder_ids[mv.to as usize].clone(),
                lot: None,
                serials: None,
                kind: None,
                transfer: None,
                note: None,
            }));
        }
        Some(batch)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.config.movements - self.emitted)
            .div_ceil(self.config.batch_size.max(1) as u64) as usize;
        (left, Some(left))
    }
}
