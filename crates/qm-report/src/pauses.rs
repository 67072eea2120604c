//! What stands paused, and what each pause holds back: per (recipient, item), what is
//! committed and not yet dispatched under the transfers in its scope, in quantity and, where
//! known, in value (as the donor view values lines: a line's own value pro rata, else its
//! item's unit value); and the allocations and dispatches a late pause covers.

use std::collections::BTreeMap;

use qm_core::{Ledger, Time};
use serde::Serialize;

use crate::money::{MoneyOut, MoneySum};

/// A pause's scope, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScopeRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub items: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub donor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transfer: Option<String>,
}

/// What a pause holds back of one item for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeldRow {
    pub recipient: String,
    pub item: String,
    pub qty: u128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<MoneyOut>,
}

/// An allocation or dispatch a late pause covers: dated within its span, in its scope, and
/// accepted before the pause was recorded, so it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CoveredRow {
    pub id: String,
    /// `allocate` or `movement` (a dispatch).
    #[serde(rename = "type")]
    pub kind: String,
    pub transfer: String,
    pub item: String,
    pub qty: u64,
    #[serde(serialize_with = "crate::ser_time")]
    pub time: Time,
}

/// A standing pause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PauseRow {
    pub id: String,
    pub reason: String,
    pub by: String,
    #[serde(serialize_with = "crate::ser_time")]
    pub since: Time,
    #[serde(serialize_with = "crate::ser_opt_time")]
    pub review_by: Option<Time>,
    pub scope: ScopeRow,
    pub holds_back: Vec<HeldRow>,
    /// The value of everything held back, when every line held has a value (its own or its
    /// item's unit value), all in one currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds_back_value: Option<MoneyOut>,
    /// The allocations and dispatches dated within it (by `as_of`) and in its scope that were
    /// accepted before it was recorded: a late pause undoes nothing, and shows them here.
    pub accepted_before_recorded: Vec<CoveredRow>,
}

/// The pauses standing at `as_of`, in the order recorded.
pub fn pauses(ledger: &Ledger, as_of: Time) -> Vec<PauseRow> {
    let mut out = Vec::new();
    for (pi, p) in ledger.pauses().iter().enumerate() {
        if !ledger.pause_stands_at(p, as_of) {
            continue;
        }
        let mut covered = Vec::new();
        // Per (recipient, item): the quantity, its value, and whether a line had no value.
        let mut held: BTreeMap<(&str, &str), (u128, MoneySum, bool)> = BTreeMap::new();
        for (t, s) in ledger.transfers().iter().enumerate() {
            if s.record.time > as_of || p.transfer.is_some_and(|x| x as usize != t) {
                continue;
            }
            for r in ledger.accepted_before_pause(pi as u32, t as u32) {
                if r.time <= as_of {
                    covered.push(CoveredRow {
                        id: r.id.to_string(),
                        kind: r.kind.type_name().to_owned(),
                        transfer: s.record.id.clone(),
                        item: s.record.lines[r.line as usize].item.clone(),
                        qty: r.qty,
                        time: r.time,
                    });
                }
            }
            for (line, rec) in s.lines.iter().zip(&s.record.lines) {
                if !ledger.pause_in_scope(p, t as u32, line.item) {
                    continue;
                }
                let f = line.figures(s.record.time, Some(as_of));
                let qty = f.committed.saturating_sub(f.dispatched);
                if qty > 0 {
                    let e = held.entry((&s.record.recipient, &rec.item)).or_default();
                    e.0 += qty as u128;
                    // Valued as the donor view values it: the line's own value, pro rata,
                    // else the item's unit value.
                    let unit = ledger.items()[line.item as usize].unit_value.as_ref();
                    match (&rec.value, unit) {
                        (Some(total), _) => e.1.add_share(total, qty, rec.qty),
                        (None, Some(u)) => e.1.add_units(u, u128::from(qty)),
                        (None, None) => e.2 = true,
                    }
                }
            }
        }
        let mut total = MoneySum::default();
        let mut all_valued = true;
        let holds_back = held
            .into_iter()
            .map(|((recipient, item), (qty, value, unvalued))| {
                let value = if unvalued {
                    all_valued = false;
                    None
                } else {
                    total.merge(&value);
                    value.total()
                };
                HeldRow {
                    recipient: recipient.to_owned(),
                    item: item.to_owned(),
                    qty,
                    value,
                }
            })
            .collect::<Vec<_>>();
        let r = &p.record;
        out.push(PauseRow {
            id: r.id.clone(),
            reason: r.reason.clone(),
            by: r.by.clone(),
            since: r.time,
            review_by: r.review_by,
            scope: ScopeRow {
                items: r.items.clone(),
                categories: r.categories.clone(),
                donor: r.donor.clone(),
                recipient: r.recipient.clone(),
                transfer: r.transfer.clone(),
            },
            holds_back_value: if all_valued && !holds_back.is_empty() {
                total.total()
            } else {
                None
            },
            holds_back,
            accepted_before_recorded: covered,
        });
    }
    out
}
