//! Reports: pure functions over the ledger.
//!
//! The stockpile review answers "what do we hold, against what we must keep": per item, the
//! stock at an org's depots, its readiness floor, the headroom between them, and what is in
//! transit at the org's transit holders. It reads the ledger's maintained balances (one
//! logarithmic look-up per balance for a past date), never the history.

use qm_core::{HolderKind, Ledger, Time};

/// One item of the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewItem {
    pub item: String,
    pub name: String,
    pub category: String,
    /// Stock at the org's depots (every org's, without `--org`).
    pub on_hand: i64,
    /// The floor in force (summed over orgs without `--org`); 0 when none is set.
    pub floor: u64,
    /// `on_hand - floor`: negative when below the floor.
    pub headroom: i64,
    /// Stock at the org's transit holders.
    pub in_transit: i64,
    /// On-hand stock per depot, for depots that hold any, sorted by depot.
    pub depots: Vec<(String, i64)>,
}

/// The stockpile review at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    pub as_of: Time,
    pub org: Option<String>,
    pub items: Vec<ReviewItem>,
}

/// Builds the review for `org` (all orgs when `None`) at `as_of`.
pub fn review(ledger: &Ledger, org: Option<&str>, as_of: Time) -> Review {
    let holders = ledger.holders();
    let mut on_hand = vec![0i64; ledger.items().len()];
    let mut in_transit = vec![0i64; ledger.items().len()];
    let mut depots: Vec<std::collections::BTreeMap<&str, i64>> =
        vec![Default::default(); ledger.items().len()];
    for key in ledger.keys() {
        let h = &holders[key.holder as usize];
        if org.is_some_and(|o| o != h.org)
            || !matches!(h.kind, HolderKind::Depot | HolderKind::Transit)
        {
            continue;
        }
        let qty = key.timeline.balance_at(as_of);
        let i = key.item as usize;
        if h.kind == HolderKind::Depot {
            on_hand[i] += qty;
            if qty != 0 {
                *depots[i].entry(&h.id).or_default() += qty;
            }
        } else {
            in_transit[i] += qty;
        }
    }
    let orgs: Vec<&str> = match org {
        Some(o) => vec![o],
        None => ledger.orgs().iter().map(|o| o.id.as_str()).collect(),
    };
    let items = ledger
        .items()
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let floor: u64 = orgs
                .iter()
                .filter_map(|o| ledger.floor(&it.code, o, as_of))
                .sum();
            ReviewItem {
                item: it.code.clone(),
                name: it.name.clone(),
                category: it.category.clone(),
                on_hand: on_hand[i],
                floor,
                headroom: on_hand[i] - floor as i64,
                in_transit: in_transit[i],
                depots: depots[i].iter().map(|(h, q)| (h.to_string(), *q)).collect(),
            }
        })
        .collect();
    Review {
        as_of,
        org: org.map(String::from),
        items,
    }
}
