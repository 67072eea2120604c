//! What stands paused, and what each pause holds back: per (recipient, item), what is
//! committed and not yet dispatched under the transfers in its scope, in quantity and, where
//! items carry a unit value, in value.

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
    /// The value of everything held back, when every item held has a unit value in one
    /// currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holds_back_value: Option<MoneyOut>,
}

/// The pauses standing at `as_of`, in the order recorded.
pub fn pauses(ledger: &Ledger, as_of: Time) -> Vec<PauseRow> {
    let mut out = Vec::new();
    for p in ledger.pauses() {
        if !ledger.pause_stands_at(p, as_of) {
            continue;
        }
        let mut held: BTreeMap<(&str, &str), u128> = BTreeMap::new();
        for (t, s) in ledger.transfers().iter().enumerate() {
            if s.record.time > as_of {
                continue;
            }
            for (line, rec) in s.lines.iter().zip(&s.record.lines) {
                if !ledger.pause_in_scope(p, t as u32, line.item) {
                    continue;
                }
                let f = line.figures(s.record.time, Some(as_of));
                let qty = f.committed.saturating_sub(f.dispatched);
                if qty > 0 {
                    *held.entry((&s.record.recipient, &rec.item)).or_default() += qty as u128;
                }
            }
        }
        let mut total = MoneySum::default();
        let mut all_valued = true;
        let holds_back = held
            .into_iter()
            .map(|((recipient, item), qty)| {
                let unit = ledger
                    .item_idx(item)
                    .and_then(|i| ledger.items()[i as usize].unit_value.as_ref());
                let value = unit.and_then(|u| {
                    let mut v = MoneySum::default();
                    v.add_units(u, qty);
                    v.total()
                });
                match unit {
                    Some(u) => total.add_units(u, qty),
                    None => all_valued = false,
                }
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
        });
    }
    out
}
