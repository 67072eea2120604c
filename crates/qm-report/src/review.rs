//! The stockpile review: "what do we hold, against what we must keep". Per item, the stock
//! at an org's depots (per depot and in total), its readiness floor, the headroom between
//! them, the earmarks standing for transfers, what is available (on hand less earmarked), and
//! what is at the org's transit holders. On hand, earmarked and available come from the
//! ledger's per-(org, item) aggregates (one logarithmic look-up each for a past date).

use qm_core::{HolderKind, Ledger, OrgIdx, Time};
use serde::Serialize;

/// On-hand stock at one depot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepotQty {
    pub holder: String,
    pub qty: i128,
}

/// One item of the review. Fields are in alphabetical order, the order the JSON has always
/// had (see `qm_app::output`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    /// `on_hand - earmarked`.
    pub available: i128,
    pub category: String,
    /// On-hand stock per depot, for depots that hold any, sorted by depot.
    pub depots: Vec<DepotQty>,
    /// Earmarks standing at the org's depots for transfers.
    pub earmarked: i128,
    /// The floor in force (summed over orgs without an org); 0 when none is set.
    pub floor: i128,
    /// `on_hand - floor`: negative when below the floor.
    pub headroom: i128,
    /// Stock at the org's transit holders.
    pub in_transit: i128,
    pub item: String,
    pub name: String,
    /// Stock at the org's depots (every org's, without an org).
    pub on_hand: i128,
}

/// The stockpile review at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    #[serde(serialize_with = "crate::ser_time")]
    pub as_of: Time,
    pub items: Vec<ReviewItem>,
    /// `null`: every org.
    pub org: Option<String>,
}

/// Builds the review for `org` (all orgs when `None`) at `as_of`. An unknown org has no
/// stock: callers check the name first (the facade refuses unknown names).
pub fn review(ledger: &Ledger, org: Option<&str>, as_of: Time) -> Review {
    let orgs: Vec<OrgIdx> = match org {
        Some(o) => ledger.org_idx(o).into_iter().collect(),
        None => (0..ledger.orgs().len() as OrgIdx).collect(),
    };
    let n = ledger.items().len();
    let mut in_transit = vec![0i128; n];
    let mut depots: Vec<std::collections::BTreeMap<&str, i128>> = vec![Default::default(); n];
    for (h, holder) in ledger.holders().iter().enumerate() {
        let h = h as u32;
        if !orgs.contains(&ledger.holder_org(h))
            || !matches!(holder.kind, HolderKind::Depot | HolderKind::Transit)
        {
            continue;
        }
        for &k in ledger.holder_keys(h) {
            let key = &ledger.keys()[k as usize];
            let qty = key.timeline.balance_at(as_of) as i128;
            let i = key.item as usize;
            if holder.kind == HolderKind::Depot {
                if qty != 0 {
                    *depots[i].entry(&holder.id).or_default() += qty;
                }
            } else {
                in_transit[i] += qty;
            }
        }
    }
    let items = ledger
        .items()
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let (mut on_hand, mut earmarked, mut floor) = (0i128, 0i128, 0i128);
            for &o in &orgs {
                if let Some(os) = ledger.org_stock(o, i as u32) {
                    on_hand += os.on_hand_at(as_of) as i128;
                    earmarked += os.earmarked.balance_at(as_of) as i128;
                }
                floor += ledger.floor_at(o, i as u32, as_of).unwrap_or(0) as i128;
            }
            ReviewItem {
                item: it.code.clone(),
                name: it.name.clone(),
                category: it.category.clone(),
                on_hand,
                floor,
                headroom: on_hand - floor,
                in_transit: in_transit[i],
                earmarked,
                available: on_hand - earmarked,
                depots: depots[i]
                    .iter()
                    .map(|(h, q)| DepotQty {
                        holder: h.to_string(),
                        qty: *q,
                    })
                    .collect(),
            }
        })
        .collect();
    Review {
        as_of,
        org: org.map(String::from),
        items,
    }
}
