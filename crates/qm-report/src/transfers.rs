//! What was promised and what was sent: the donor view per (donor, recipient, item), the list
//! of transfers with their state, and one transfer in full. Both meanings of "delivered" come
//! from the same records: `dispatched` (left the donor's depots under the transfer) and
//! `delivered` (arrived at a holder of the recipient under it).

use std::collections::BTreeMap;

use qm_core::{Ledger, LineFigures, Time, TransferIdx};
use serde::Serialize;

use crate::money::{MoneyOut, MoneySum};

/// One row of the donor view: everything one donor committed to one recipient of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SummaryRow {
    pub donor: String,
    pub recipient: String,
    pub item: String,
    pub category: String,
    pub committed: u128,
    pub cancelled: u128,
    pub allocated: u128,
    pub dispatched: u128,
    pub delivered: u128,
    pub in_transit: u128,
    /// Where values are known: from the lines' values (pro rata), else the item's unit value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed_value: Option<MoneyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_value: Option<MoneyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_value: Option<MoneyOut>,
}

/// Which transfers a list or summary takes in.
#[derive(Debug, Clone, Default)]
pub struct TransferFilter<'a> {
    pub donor: Option<&'a str>,
    pub recipient: Option<&'a str>,
    pub item: Option<&'a str>,
    pub state: Option<TransferState>,
}

/// Where a transfer stands, as of a time, from its figures summed over its lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferState {
    /// Committed; nothing allocated yet.
    Committed,
    /// Some stock earmarked; nothing dispatched.
    Allocated,
    /// Some dispatched, nothing in transit now, not everything arrived.
    Dispatched,
    /// Some stock dispatched and not yet arrived.
    InTransit,
    /// Everything committed arrived (or went to a sink on the way): closed.
    Delivered,
    /// Everything cancelled before any was dispatched.
    Cancelled,
    /// Declared, but committed after the as-of time: nothing of it counts yet.
    NotYetCommitted,
}

impl TransferState {
    pub const ALL: [TransferState; 7] = [
        TransferState::Committed,
        TransferState::Allocated,
        TransferState::Dispatched,
        TransferState::InTransit,
        TransferState::Delivered,
        TransferState::Cancelled,
        TransferState::NotYetCommitted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TransferState::Committed => "committed",
            TransferState::Allocated => "allocated",
            TransferState::Dispatched => "dispatched",
            TransferState::InTransit => "in_transit",
            TransferState::Delivered => "delivered",
            TransferState::Cancelled => "cancelled",
            TransferState::NotYetCommitted => "not_yet_committed",
        }
    }

    pub fn parse(s: &str) -> Option<TransferState> {
        TransferState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The state of a transfer committed at `committed_at`, as of `as_of`, from its lines'
    /// figures then.
    fn of(committed_at: Time, as_of: Time, lines: &[LineFigures]) -> TransferState {
        if committed_at > as_of {
            return TransferState::NotYetCommitted;
        }
        let sum = |f: fn(&LineFigures) -> u64| lines.iter().map(|l| f(l) as u128).sum::<u128>();
        let committed = sum(|l| l.committed);
        let arrived = sum(|l| l.delivered) + sum(|l| l.sunk);
        if committed == 0 {
            TransferState::Cancelled
        } else if lines
            .iter()
            .all(|l| l.delivered as u128 + l.sunk as u128 >= l.committed as u128)
            && arrived > 0
        {
            TransferState::Delivered
        } else if sum(|l| l.in_transit) > 0 {
            TransferState::InTransit
        } else if sum(|l| l.dispatched) > 0 {
            TransferState::Dispatched
        } else if sum(|l| l.allocated) > 0 {
            TransferState::Allocated
        } else {
            TransferState::Committed
        }
    }
}

/// A line's figures, as lists and details print them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineRow {
    pub item: String,
    /// What the transfer record committed.
    pub qty: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<MoneyOut>,
    pub committed: u64,
    pub cancelled: u64,
    pub allocated: u64,
    pub dispatched: u64,
    pub delivered: u64,
    pub in_transit: u64,
}

/// One transfer of the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferRow {
    pub id: String,
    #[serde(serialize_with = "crate::ser_time")]
    pub time: Time,
    pub donor: String,
    pub recipient: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    pub state: TransferState,
    /// Pauses standing over any of its lines.
    pub paused_by: Vec<String>,
    pub lines: Vec<LineRow>,
}

fn rows_of(ledger: &Ledger, t: TransferIdx, as_of: Time) -> (Vec<LineFigures>, Vec<LineRow>) {
    let state = &ledger.transfers()[t as usize];
    let mut figures = Vec::new();
    let mut rows = Vec::new();
    for (line, rec) in state.lines.iter().zip(&state.record.lines) {
        let f = line.figures(state.record.time, Some(as_of));
        figures.push(f);
        rows.push(LineRow {
            item: rec.item.clone(),
            qty: rec.qty,
            value: rec.value.as_ref().map(|v| MoneyOut {
                amount: v.amount.clone(),
                currency: v.currency.clone(),
            }),
            committed: f.committed,
            cancelled: f.cancelled,
            allocated: f.allocated,
            dispatched: f.dispatched,
            delivered: f.delivered,
            in_transit: f.in_transit,
        });
    }
    (figures, rows)
}

/// The pauses standing at `as_of` over any line of transfer `t`.
fn paused_by(ledger: &Ledger, t: TransferIdx, as_of: Time) -> Vec<String> {
    let state = &ledger.transfers()[t as usize];
    ledger
        .pauses()
        .iter()
        .filter(|p| {
            ledger.pause_stands_at(p, as_of)
                && state
                    .lines
                    .iter()
                    .any(|l| ledger.pause_in_scope(p, t, l.item))
        })
        .map(|p| p.record.id.clone())
        .collect()
}

fn takes(ledger: &Ledger, t: TransferIdx, f: &TransferFilter<'_>) -> bool {
    let s = &ledger.transfers()[t as usize];
    f.donor.is_none_or(|d| d == s.record.donor)
        && f.recipient.is_none_or(|r| r == s.record.recipient)
        && f.item
            .is_none_or(|i| s.record.lines.iter().any(|l| l.item == i))
}

/// Every transfer committed by `as_of` that the filter takes in, in the order declared; with
/// the filter's state `not_yet_committed`, those declared but committed after `as_of`.
pub fn transfers_list(
    ledger: &Ledger,
    filter: &TransferFilter<'_>,
    as_of: Time,
) -> Vec<TransferRow> {
    let mut out = Vec::new();
    for (t, s) in ledger.transfers().iter().enumerate() {
        let t = t as TransferIdx;
        let later = s.record.time > as_of;
        let wanted_later = filter.state == Some(TransferState::NotYetCommitted);
        if later != wanted_later || !takes(ledger, t, filter) {
            continue;
        }
        let (figures, lines) = rows_of(ledger, t, as_of);
        let state = TransferState::of(s.record.time, as_of, &figures);
        if filter.state.is_some_and(|x| x != state) {
            continue;
        }
        out.push(TransferRow {
            id: s.record.id.clone(),
            time: s.record.time,
            donor: s.record.donor.clone(),
            recipient: s.record.recipient.clone(),
            authority: s.record.authority.clone(),
            state,
            paused_by: paused_by(ledger, t, as_of),
            lines,
        });
    }
    out
}

/// The donor view: per (donor, recipient, item) with anything committed by `as_of`, sorted by
/// donor, recipient, item.
pub fn transfers_summary(
    ledger: &Ledger,
    filter: &TransferFilter<'_>,
    as_of: Time,
) -> Vec<SummaryRow> {
    #[derive(Default)]
    struct Acc {
        figures: [u128; 6],
        committed_value: MoneySum,
        allocated_value: MoneySum,
        delivered_value: MoneySum,
        unknown_value: bool,
    }
    let mut groups: BTreeMap<(&str, &str, &str), Acc> = BTreeMap::new();
    for (t, s) in ledger.transfers().iter().enumerate() {
        if s.record.time > as_of || !takes(ledger, t as TransferIdx, filter) {
            continue;
        }
        for (line, rec) in s.lines.iter().zip(&s.record.lines) {
            if filter.item.is_some_and(|i| i != rec.item) {
                continue;
            }
            let f = line.figures(s.record.time, Some(as_of));
            let acc = groups
                .entry((&s.record.donor, &s.record.recipient, &rec.item))
                .or_default();
            for (slot, v) in acc.figures.iter_mut().zip([
                f.committed,
                f.cancelled,
                f.allocated,
                f.dispatched,
                f.delivered,
                f.in_transit,
            ]) {
                *slot += v as u128;
            }
            let item = &ledger.items()[line.item as usize];
            match (&rec.value, &item.unit_value) {
                (Some(total), _) => {
                    acc.committed_value.add_share(total, f.committed, rec.qty);
                    acc.allocated_value.add_share(total, f.allocated, rec.qty);
                    acc.delivered_value.add_share(total, f.delivered, rec.qty);
                }
                (None, Some(unit)) => {
                    acc.committed_value.add_units(unit, f.committed as u128);
                    acc.allocated_value.add_units(unit, f.allocated as u128);
                    acc.delivered_value.add_units(unit, f.delivered as u128);
                }
                (None, None) => acc.unknown_value = true,
            }
        }
    }
    groups
        .into_iter()
        .map(|((donor, recipient, item), acc)| {
            let value = |m: &MoneySum| if acc.unknown_value { None } else { m.total() };
            let category = ledger.item_idx(item).map_or(String::new(), |i| {
                ledger.items()[i as usize].category.clone()
            });
            let [committed, cancelled, allocated, dispatched, delivered, in_transit] = acc.figures;
            SummaryRow {
                donor: donor.to_owned(),
                recipient: recipient.to_owned(),
                item: item.to_owned(),
                category,
                committed,
                cancelled,
                allocated,
                dispatched,
                delivered,
                in_transit,
                committed_value: value(&acc.committed_value),
                allocated_value: value(&acc.allocated_value),
                delivered_value: value(&acc.delivered_value),
            }
        })
        .collect()
}

/// An override as a detail prints it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverrideRow {
    pub reason: String,
    pub by: String,
}

/// The floor breach an override accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BreachRow {
    pub floor: u64,
    pub available: i64,
    #[serde(serialize_with = "crate::ser_time")]
    pub at: Time,
    pub short_by: u64,
}

/// An allocation of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AllocationRow {
    pub id: String,
    #[serde(serialize_with = "crate::ser_time")]
    pub time: Time,
    pub item: String,
    pub qty: u64,
    pub from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lot: Option<String>,
    #[serde(rename = "override", skip_serializing_if = "Option::is_none")]
    pub override_: Option<OverrideRow>,
    /// Set when the override accepted a floor breach.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub breach: Option<BreachRow>,
}

/// What a cancellation did to one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelLineRow {
    pub item: String,
    pub cancelled: u64,
    pub released: u64,
}

/// A cancellation of a transfer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CancelRow {
    pub id: String,
    #[serde(serialize_with = "crate::ser_time")]
    pub time: Time,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub lines: Vec<CancelLineRow>,
}

/// A record that touched a transfer, with when and by whom it was recorded (filled in by the
/// facade, which reads the journal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TouchRow {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: String,
    #[serde(serialize_with = "crate::ser_opt_time")]
    pub time: Option<Time>,
    pub batch: u64,
    #[serde(serialize_with = "crate::ser_time")]
    pub recorded_at: Time,
    pub recorded_by: String,
    /// The pauses whose span and scope cover it but that were recorded after it was
    /// accepted (late pauses: it stands, and is shown); omitted when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub within_pauses: Vec<String>,
}

impl TransferRow {
    pub fn state_text(&self) -> &'static str {
        self.state.as_str()
    }
}

impl TransferDetail {
    pub fn state_text(&self) -> &'static str {
        self.state.as_str()
    }
}

/// One transfer in full.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransferDetail {
    pub id: String,
    #[serde(serialize_with = "crate::ser_time")]
    pub time: Time,
    pub donor: String,
    pub recipient: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(serialize_with = "crate::ser_time")]
    pub as_of: Time,
    pub state: TransferState,
    pub paused_by: Vec<String>,
    pub lines: Vec<LineRow>,
    pub allocations: Vec<AllocationRow>,
    pub cancellations: Vec<CancelRow>,
    /// Every record that touched the transfer, in recording order.
    pub records: Vec<TouchRow>,
    /// The batches holding those records, for the facade to read.
    #[serde(skip)]
    pub batches: Vec<u64>,
    /// The allocations and dispatches late pauses cover, for the facade to mark in
    /// `records`: (type, id, the pauses).
    #[serde(skip)]
    pub within_pauses: Vec<(&'static str, String, Vec<String>)>,
}

impl TransferDetail {
    /// The pauses that cover the record `kind`/`id` but were recorded after it.
    pub fn pauses_covering(&self, kind: &str, id: &str) -> Vec<String> {
        self.within_pauses
            .iter()
            .find(|(k, i, _)| *k == kind && i == id)
            .map(|x| x.2.clone())
            .unwrap_or_default()
    }
}

/// Per allocation or dispatch of transfer `t` that a pause covers (scope and span) but that
/// was accepted before the pause was recorded: (type, id, those pauses in recording order).
fn within_pauses(ledger: &Ledger, t: TransferIdx) -> Vec<(&'static str, String, Vec<String>)> {
    let mut out: Vec<(&'static str, String, Vec<String>)> = Vec::new();
    for (p, pause) in ledger.pauses().iter().enumerate() {
        for r in ledger.accepted_before_pause(p as u32, t) {
            let kind = r.kind.type_name();
            let id = &*r.id;
            match out.iter_mut().find(|x| x.0 == kind && x.1 == id) {
                Some(x) => x.2.push(pause.record.id.clone()),
                None => out.push((kind, id.to_owned(), vec![pause.record.id.clone()])),
            }
        }
    }
    out
}

/// One transfer in full as of `as_of`; `records` is left for the facade to fill from
/// `batches`. `None` for an unknown id.
pub fn transfer_detail(ledger: &Ledger, id: &str, as_of: Time) -> Option<TransferDetail> {
    let t = ledger.transfer_idx(id)?;
    let s = &ledger.transfers()[t as usize];
    let (figures, lines) = rows_of(ledger, t, as_of);
    let allocations = ledger
        .allocations_of(t)
        .map(|a| AllocationRow {
            id: a.record.id.clone(),
            time: a.record.time,
            item: a.record.item.clone(),
            qty: a.record.qty,
            from: a.record.from.clone(),
            lot: a.record.lot.clone(),
            override_: a.record.override_.as_ref().map(|o| OverrideRow {
                reason: o.reason.clone(),
                by: o.by.clone(),
            }),
            breach: a.breach.map(|b| BreachRow {
                floor: b.floor,
                available: b.available,
                at: b.at,
                short_by: b.short_by,
            }),
        })
        .collect();
    let cancellations = ledger
        .cancels()
        .iter()
        .filter(|c| c.transfer == t)
        .map(|c| CancelRow {
            id: c.record.id.clone(),
            time: c.record.time,
            reason: c.record.reason.clone(),
            by: c.record.by.clone(),
            lines: c
                .lines
                .iter()
                .map(|l| CancelLineRow {
                    item: s.record.lines[l.line as usize].item.clone(),
                    cancelled: l.cancelled,
                    released: l.released,
                })
                .collect(),
        })
        .collect();
    Some(TransferDetail {
        id: s.record.id.clone(),
        time: s.record.time,
        donor: s.record.donor.clone(),
        recipient: s.record.recipient.clone(),
        authority: s.record.authority.clone(),
        note: s.record.note.clone(),
        as_of,
        state: TransferState::of(s.record.time, as_of, &figures),
        paused_by: paused_by(ledger, t, as_of),
        lines,
        allocations,
        cancellations,
        records: Vec::new(),
        batches: s.batches.clone(),
        within_pauses: within_pauses(ledger, t),
    })
}

/// The donor view's totals: per donor and category, what is committed, allocated, dispatched
/// and delivered, in quantity and, where values are known, in value: the shape an aid
/// tracker publishes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DonorTotal {
    pub donor: String,
    pub category: String,
    pub committed: u128,
    pub allocated: u128,
    pub dispatched: u128,
    pub delivered: u128,
    /// Known only when every row of the group has a value in one currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub committed_value: Option<MoneyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allocated_value: Option<MoneyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivered_value: Option<MoneyOut>,
}

/// Per (donor, category) totals of the donor view as of `as_of`, sorted by donor and category.
pub fn donor_totals(ledger: &Ledger, filter: &TransferFilter<'_>, as_of: Time) -> Vec<DonorTotal> {
    #[derive(Default)]
    struct Acc {
        q: [u128; 4],
        values: [MoneySum; 3],
    }
    let mut groups: BTreeMap<(String, String), Acc> = BTreeMap::new();
    for r in transfers_summary(ledger, filter, as_of) {
        let acc = groups
            .entry((r.donor.clone(), r.category.clone()))
            .or_default();
        for (slot, v) in acc
            .q
            .iter_mut()
            .zip([r.committed, r.allocated, r.dispatched, r.delivered])
        {
            *slot += v;
        }
        for (sum, v) in
            acc.values
                .iter_mut()
                .zip([&r.committed_value, &r.allocated_value, &r.delivered_value])
        {
            match v {
                Some(m) => sum.add(&m.currency, crate::money::Amount::parse(&m.amount)),
                None => sum.add("", None),
            }
        }
    }
    groups
        .into_iter()
        .map(|((donor, category), acc)| DonorTotal {
            donor,
            category,
            committed: acc.q[0],
            allocated: acc.q[1],
            dispatched: acc.q[2],
            delivered: acc.q[3],
            committed_value: acc.values[0].total(),
            allocated_value: acc.values[1].total(),
            delivered_value: acc.values[2].total(),
        })
        .collect()
}
