//! Readiness floors ("enough for ourselves"): per (org, item), the minimum stock an org keeps,
//! as a step function of effective time. A floor record applies from its `time` (or always);
//! a later record for the same (org, item, time) replaces it; the floor in force at T is the
//! step with the latest start at or before T. Look-ups are a binary search of the (org, item)
//! steps.

use hashbrown::HashMap;

use super::master::{ItemIdx, Master, OrgIdx};
use super::{Declared, Outcome};
use crate::codec::{Enc, R, W};
use crate::limits::QTY_MAX;
use crate::rejection::Violation;
use crate::{Floor, SnapshotError, Time};

/// One step of an (org, item) floor: from `start` (`None`: the beginning of time) on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Step {
    start: Option<Time>,
    min_qty: u64,
}

/// The floor over a span of time: `min_qty` from `start` until `end` (exclusive; `None`: for
/// ever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FloorSpan {
    pub start: Time,
    pub end: Option<Time>,
    pub min_qty: u64,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Floors {
    /// Every floor record, in the order applied.
    pub(crate) records: Vec<Floor>,
    /// Steps per (org, item), sorted by start.
    steps: HashMap<(OrgIdx, ItemIdx), Vec<Step>>,
    mark: usize,
    /// What this batch's records replaced, so a rollback costs what the batch did.
    undo: Vec<StepUndo>,
}

/// A step a batch set: its key, its start and its earlier `min_qty` (`None`: it is new).
type StepUndo = ((OrgIdx, ItemIdx), Option<Time>, Option<u64>);

crate::codec::enc_struct!(Floor {
    item,
    org,
    min_qty,
    time
});

impl Floors {
    pub(crate) fn begin(&mut self) {
        self.mark = self.records.len();
        self.undo.clear();
    }

    pub(crate) fn rollback(&mut self) {
        self.records.truncate(self.mark);
        for (key, start, before) in self.undo.drain(..).rev() {
            let steps = self.steps.get_mut(&key).expect("undo of a known key");
            let i = steps
                .binary_search_by(|s| s.start.cmp(&start))
                .expect("undo of a step set in the batch");
            match before {
                Some(min_qty) => steps[i].min_qty = min_qty,
                None => {
                    steps.remove(i);
                    if steps.is_empty() {
                        self.steps.remove(&key);
                    }
                }
            }
        }
    }

    fn rebuild(&mut self, master: &Master) {
        self.steps.clear();
        for f in &self.records {
            let org = master.org_idx(&f.org).expect("floors refer to known orgs");
            let item = master
                .item_idx(&f.item)
                .expect("floors refer to known items");
            set_step(self.steps.entry((org, item)).or_default(), f);
        }
    }

    pub(crate) fn declare(&mut self, master: &Master, f: &Floor) -> Result<Declared, Outcome> {
        let item = master.need_item("item", &f.item)?;
        let org = master.need_org("org", &f.org)?;
        if f.min_qty > QTY_MAX {
            return Err(("min_qty", Violation::QtyTooLarge { qty: f.min_qty }));
        }
        let steps = self.steps.entry((org, item)).or_default();
        let current = steps.iter().find(|s| s.start == f.time);
        if current.is_some_and(|s| s.min_qty == f.min_qty) {
            return Ok(Declared::Same);
        }
        let before = set_step(steps, f);
        self.undo.push(((org, item), f.time, before));
        self.records.push(f.clone());
        Ok(Declared::New)
    }

    /// The floor in force for (org, item) at `at`.
    pub(crate) fn at(&self, org: OrgIdx, item: ItemIdx, at: Time) -> Option<u64> {
        let steps = self.steps.get(&(org, item))?;
        let pos = steps.partition_point(|s| s.start.is_none_or(|t| t <= at));
        pos.checked_sub(1).map(|p| steps[p].min_qty)
    }

    /// The floors in force from `from` on, as spans.
    pub(crate) fn spans_from(&self, org: OrgIdx, item: ItemIdx, from: Time) -> Vec<FloorSpan> {
        match self.steps.get(&(org, item)) {
            Some(steps) => spans_of(steps, from),
            None => Vec::new(),
        }
    }
}

/// The spans of a step function from `from` on.
fn spans_of(steps: &[Step], from: Time) -> Vec<FloorSpan> {
    let mut out: Vec<FloorSpan> = Vec::new();
    {
        for (i, s) in steps.iter().enumerate() {
            let end = steps.get(i + 1).and_then(|n| n.start);
            if end.is_some_and(|e| e <= from) {
                continue;
            }
            let start = s.start.map_or(from, |t| t.max(from));
            out.push(FloorSpan {
                start,
                end,
                min_qty: s.min_qty,
            });
        }
    }
    out
}

impl Floors {
    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.records.enc(w);
    }

    pub(crate) fn decode(r: &mut R<'_>, master: &Master) -> Result<Floors, SnapshotError> {
        let records = Vec::<Floor>::dec(r)?;
        if records
            .iter()
            .any(|f| master.org_idx(&f.org).is_none() || master.item_idx(&f.item).is_none())
        {
            return r.err("floor of an unknown org or item");
        }
        let mut floors = Floors {
            records,
            ..Floors::default()
        };
        floors.rebuild(master);
        Ok(floors)
    }
}

/// Puts a floor record's step in place, replacing the step with the same start; returns the
/// replaced step's `min_qty`.
fn set_step(steps: &mut Vec<Step>, f: &Floor) -> Option<u64> {
    let step = Step {
        start: f.time,
        min_qty: f.min_qty,
    };
    match steps.binary_search_by(|s| s.start.cmp(&f.time)) {
        Ok(i) => Some(std::mem::replace(&mut steps[i], step).min_qty),
        Err(i) => {
            steps.insert(i, step);
            None
        }
    }
}
