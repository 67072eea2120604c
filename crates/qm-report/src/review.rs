//! The stockpile review: "what do we hold, against what we must keep, and for how long". Per
//! item: the stock at an org's depots (per depot and in total), its readiness floor, the
//! headroom between them, the earmarks standing for transfers, what is available (on hand
//! less earmarked), what is at the org's transit holders, what the org dispatched and
//! delivered per recipient and lost to sinks, and the projection over the horizon (see
//! `forecast.rs`): production, consumption, months of cover and the first month of breach.
//! Items are sorted by risk: earliest breach first, then in the order declared.
//!
//! On hand, earmarked and available come from the ledger's per-(org, item) aggregates (one
//! logarithmic look-up each for a past date); only the per-depot breakdown visits the keys of
//! the org's depots.

use std::collections::BTreeMap;

use qm_core::{HolderKind, Ledger, OrgIdx, Time};
use serde::Serialize;

use crate::forecast::{FlowLine, Forecaster};
use crate::money::{MoneyOut, MoneySum};

/// The horizon of a review when none is asked for, in months.
pub const HORIZON_DEFAULT: u32 = 24;

/// What a review covers besides its per-item totals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewOptions {
    /// Months the projection looks ahead.
    pub horizon: u32,
    /// Also the stock per depot. The totals come from the ledger's per-(org, item)
    /// aggregates; the breakdown visits every key of the org's depots, so it is the one
    /// part whose cost grows with the ledger, and it is asked for.
    pub depots: bool,
    /// The start of the period `sent` and `sunk` cover (what was dispatched, delivered and
    /// lost after it, up to `as_of`); `None`: all the history up to `as_of`.
    pub since: Option<Time>,
}

impl Default for ReviewOptions {
    fn default() -> Self {
        ReviewOptions {
            horizon: HORIZON_DEFAULT,
            depots: false,
            since: None,
        }
    }
}

/// On-hand stock at one depot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepotQty {
    pub holder: String,
    pub qty: i128,
}

/// What the org sent one recipient of the item (to date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentQty {
    pub recipient: String,
    pub dispatched: u128,
    pub delivered: u128,
}

/// What went into one of the org's sinks (expended, destroyed, lost...), to date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SunkQty {
    pub holder: String,
    pub qty: i128,
}

/// The figures of an item that a what-if changes: given for the review with the proposal,
/// and again in `before` without it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub available: i128,
    pub consumption: i128,
    pub earmarked: i128,
    pub first_breach: Option<String>,
    pub floor: i128,
    pub headroom: i128,
    pub months_of_cover: Option<u32>,
    pub on_hand: i128,
    pub production: i128,
}

/// One item of the review. Fields are in alphabetical order, the order the JSON has always
/// had (see `qm_app::output`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewItem {
    /// `on_hand - earmarked`.
    pub available: i128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_value: Option<MoneyOut>,
    /// The same figures without the proposal of a what-if.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Figures>,
    pub category: String,
    /// Consumption plans and interceptor demand over the horizon.
    pub consumption: i128,
    /// On-hand stock per depot, for depots that hold any, sorted by depot (when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub depots: Option<Vec<DepotQty>>,
    /// Earmarks standing at the org's depots for transfers.
    pub earmarked: i128,
    /// The first month (`YYYY-MM`) projected available stock falls below the floor, within
    /// the horizon.
    pub first_breach: Option<String>,
    /// The floor in force (summed over orgs without an org); 0 when none is set.
    pub floor: i128,
    /// The plans and demand that move the projection, each with its total over the horizon.
    pub flows: Vec<FlowLine>,
    /// `on_hand - floor`: negative when below the floor.
    pub headroom: i128,
    /// Stock at the org's transit holders.
    pub in_transit: i128,
    pub item: String,
    /// Whole months from `as_of` for which projected available stock stays at or above the
    /// floor; `null` when it never falls below within the horizon.
    pub months_of_cover: Option<u32>,
    pub name: String,
    /// Stock at the org's depots (every org's, without an org).
    pub on_hand: i128,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_hand_value: Option<MoneyOut>,
    /// Production into the org's depots over the horizon.
    pub production: i128,
    /// Dispatched and delivered per recipient under the org's transfers, over the period
    /// (from `since`, else from the start, to `as_of`).
    pub sent: Vec<SentQty>,
    /// Into the org's sinks (expended, destroyed, lost), over the period, per sink.
    pub sunk: Vec<SunkQty>,
}

impl ReviewItem {
    pub fn figures(&self) -> Figures {
        Figures {
            available: self.available,
            consumption: self.consumption,
            earmarked: self.earmarked,
            first_breach: self.first_breach.clone(),
            floor: self.floor,
            headroom: self.headroom,
            months_of_cover: self.months_of_cover,
            on_hand: self.on_hand,
            production: self.production,
        }
    }

    /// Whether the item's first breach falls within the horizon.
    pub fn breaches(&self) -> bool {
        self.first_breach.is_some()
    }
}

/// The stockpile review at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    #[serde(serialize_with = "crate::ser_time")]
    pub as_of: Time,
    /// The start of the period `sent` and `sunk` cover (`null`: from the start).
    #[serde(
        serialize_with = "crate::ser_opt_time",
        skip_serializing_if = "Option::is_none"
    )]
    pub since: Option<Time>,
    /// Months the projection looks ahead.
    pub horizon: u32,
    pub items: Vec<ReviewItem>,
    /// `null`: every org.
    pub org: Option<String>,
}

/// Builds the review for `org` (all orgs when `None`) at `as_of` over the default horizon.
pub fn review(ledger: &Ledger, org: Option<&str>, as_of: Time) -> Review {
    review_over(ledger, org, as_of, HORIZON_DEFAULT)
}

/// Builds the review for `org` (all orgs when `None`) at `as_of`, projecting `horizon`
/// months, with the stock per depot.
pub fn review_over(ledger: &Ledger, org: Option<&str>, as_of: Time, horizon: u32) -> Review {
    review_with(
        ledger,
        org,
        as_of,
        &ReviewOptions {
            horizon,
            depots: true,
            since: None,
        },
    )
}

/// Builds the review for `org` (all orgs when `None`) at `as_of`. An unknown org has no
/// stock: callers check the name first (the facade refuses unknown names).
pub fn review_with(
    ledger: &Ledger,
    org: Option<&str>,
    as_of: Time,
    opts: &ReviewOptions,
) -> Review {
    let horizon = opts.horizon;
    let orgs: Vec<OrgIdx> = match org {
        Some(o) => ledger.org_idx(o).into_iter().collect(),
        None => (0..ledger.orgs().len() as OrgIdx).collect(),
    };
    let n = ledger.items().len();
    let mut depots: Vec<BTreeMap<&str, i128>> = vec![Default::default(); n];
    let mut sunk: Vec<BTreeMap<&str, i128>> = vec![Default::default(); n];
    for (h, holder) in ledger.holders().iter().enumerate() {
        let h = h as u32;
        let wanted = match holder.kind {
            HolderKind::Depot => opts.depots,
            HolderKind::Sink => true,
            _ => false,
        };
        if !wanted || !orgs.contains(&ledger.holder_org(h)) {
            continue;
        }
        for &k in ledger.holder_keys(h) {
            let key = ledger.key(k);
            let qty = key.timeline.balance_at(as_of) as i128;
            let i = key.item as usize;
            match holder.kind {
                HolderKind::Depot if qty != 0 => *depots[i].entry(&holder.id).or_default() += qty,
                HolderKind::Sink => {
                    let before = opts.since.map_or(0, |t| key.timeline.balance_at(t) as i128);
                    if qty != before {
                        *sunk[i].entry(&holder.id).or_default() += qty - before;
                    }
                }
                _ => {}
            }
        }
    }
    let mut sent: Vec<BTreeMap<&str, (u128, u128)>> = vec![Default::default(); n];
    for s in ledger.transfers() {
        if s.record.time > as_of || !orgs.contains(&s.donor) {
            continue;
        }
        for line in &s.lines {
            let f = line.figures(s.record.time, Some(as_of));
            let b = opts
                .since
                .map(|t| line.figures(s.record.time, Some(t)))
                .unwrap_or_default();
            let (dispatched, delivered) = (
                f.dispatched.saturating_sub(b.dispatched),
                f.delivered.saturating_sub(b.delivered),
            );
            if dispatched > 0 || delivered > 0 {
                let e = sent[line.item as usize]
                    .entry(&s.record.recipient)
                    .or_default();
                e.0 += dispatched as u128;
                e.1 += delivered as u128;
            }
        }
    }
    let forecaster = Forecaster::new(ledger, &orgs, as_of, horizon);
    let mut items: Vec<(Option<i64>, usize, ReviewItem)> = ledger
        .items()
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let (mut on_hand, mut earmarked, mut floor, mut in_transit) =
                (0i128, 0i128, 0i128, 0i128);
            for &o in &orgs {
                if let Some(os) = ledger.org_stock(o, i as u32) {
                    on_hand += os.on_hand_at(as_of) as i128;
                    earmarked += os.earmarked.balance_at(as_of) as i128;
                    in_transit += os.in_transit.balance_at(as_of) as i128;
                }
                floor += ledger.floor_at(o, i as u32, as_of).unwrap_or(0) as i128;
            }
            let available = on_hand - earmarked;
            let p = forecaster.project(i as u32, available);
            let value = |qty: i128| {
                let unit = it.unit_value.as_ref()?;
                let mut v = MoneySum::default();
                v.add_units(unit, qty.max(0) as u128);
                v.total()
            };
            let risk = p.breach_at;
            let item = ReviewItem {
                item: it.code.clone(),
                name: it.name.clone(),
                category: it.category.clone(),
                on_hand,
                on_hand_value: value(on_hand),
                floor,
                headroom: on_hand - floor,
                in_transit,
                earmarked,
                available,
                available_value: value(available),
                depots: opts.depots.then(|| {
                    depots[i]
                        .iter()
                        .map(|(h, q)| DepotQty {
                            holder: h.to_string(),
                            qty: *q,
                        })
                        .collect()
                }),
                sent: sent[i]
                    .iter()
                    .map(|(r, (d, v))| SentQty {
                        recipient: r.to_string(),
                        dispatched: *d,
                        delivered: *v,
                    })
                    .collect(),
                sunk: sunk[i]
                    .iter()
                    .map(|(h, q)| SunkQty {
                        holder: h.to_string(),
                        qty: *q,
                    })
                    .collect(),
                months_of_cover: p.months_of_cover,
                first_breach: p.first_breach,
                production: p.production,
                consumption: p.consumption,
                flows: p.flows,
                before: None,
            };
            (risk, i, item)
        })
        .collect();
    // Earliest breach first; items without one keep their declared order after them.
    items.sort_by_key(|(risk, i, _)| (risk.unwrap_or(Time::MAX), *i));
    Review {
        as_of,
        since: opts.since,
        horizon,
        org: org.map(String::from),
        items: items.into_iter().map(|(_, _, item)| item).collect(),
    }
}

/// What-if: the review with `proposal` applied as if recorded, each item carrying `before`
/// (the same figures without it). The ledger is left exactly as it was. Errors with the
/// proposal's rejection when it would not be accepted.
pub fn what_if(
    ledger: &mut Ledger,
    proposal: &[qm_core::Record],
    originals: &qm_core::Originals,
    org: Option<&str>,
    as_of: Time,
    opts: &ReviewOptions,
) -> Result<Review, qm_core::Rejection> {
    let before = review_with(ledger, org, as_of, opts);
    let mut after = ledger.evaluate(proposal, originals, |l| review_with(l, org, as_of, opts))?;
    let before: std::collections::HashMap<&str, &ReviewItem> =
        before.items.iter().map(|i| (i.item.as_str(), i)).collect();
    for i in &mut after.items {
        i.before = before.get(i.item.as_str()).map(|b| b.figures());
    }
    Ok(after)
}
