//! Reports for people and spreadsheets: one [`Report`] gathers, once, everything `qm report`
//! shows (the stockpile review, the donor view and its totals per (donor, category), the
//! standing pauses, and the data of the charts), and the renderers turn it into bytes:
//!
//! - [`csv`] (`csv.rs`): one CSV file per view, for analysts' tools;
//! - [`xlsx`] (`xlsx.rs`): one workbook, a sheet per view, numbers as numbers;
//! - [`html`] (`html.rs`): one self-contained page with the tables and SVG charts drawn here
//!   (`charts.rs`), which opens offline;
//! - [`json`]: the whole report as one JSON document.
//!
//! Data of the charts: the projection of available stock against the floor per item
//! ([`crate::forecast::projection_series`]), deliveries per recipient and month (the lines'
//! `Delivered` events), and the flows of stock under transfers from donor depots through
//! transit to recipients and sinks ([`flow`]). The ledger does not keep movements, so the
//! flows are tallied from the journal's movements by the caller (the facade) and handed in.
//!
//! Architecture invariant: rendering does no I/O. Every renderer returns bytes or text and
//! the edge decides where they go; the same report renders to the same bytes (golden files
//! in `tests/it/golden` hold the CSV and JSON of a fixed scenario).

mod charts;
pub mod csv;
pub mod flow;
pub mod html;
pub mod xlsx;

use std::collections::{BTreeMap, BTreeSet};

use qm_core::{Ledger, Stage, Time};
use serde::Serialize;

use crate::forecast::{month_label, ItemSeries};
use crate::money::{MoneyOut, MoneySum};
use crate::{DonorTotal, PauseRow, Review, SummaryRow, TransferFilter};

pub use flow::{FlowEdge, FlowTally, HolderGroup};

/// What a report covers. The review is of `org` (every org when `None`); the transfer views
/// (donor view, totals, deliveries, flows) take in the transfers of `donor` to `recipient`
/// (any when `None`). Pauses are every pause standing at `as_of`.
#[derive(Debug, Clone, Copy)]
pub struct ReportQuery<'a> {
    pub org: Option<&'a str>,
    pub as_of: Time,
    /// Months the review's projection looks ahead.
    pub horizon: u32,
    pub donor: Option<&'a str>,
    pub recipient: Option<&'a str>,
}

impl<'a> ReportQuery<'a> {
    /// The filter of the transfer views.
    pub fn transfer_filter(&self) -> TransferFilter<'a> {
        TransferFilter {
            donor: self.donor,
            recipient: self.recipient,
            item: None,
            state: None,
        }
    }
}

/// What was delivered to one recipient of one item in one calendar month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    pub recipient: String,
    /// `YYYY-MM`.
    pub month: String,
    pub item: String,
    pub qty: u128,
    /// Known when every delivery of the row has a value (the line's, pro rata, else the
    /// item's unit value) in one currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<MoneyOut>,
}

/// The names the renderers print beside ids: of the orgs, holders and items a report names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Names {
    pub orgs: BTreeMap<String, String>,
    pub holders: BTreeMap<String, String>,
    pub items: BTreeMap<String, String>,
}

impl Names {
    pub fn org<'s>(&'s self, id: &'s str) -> &'s str {
        self.orgs.get(id).map_or(id, String::as_str)
    }

    pub fn holder<'s>(&'s self, id: &'s str) -> &'s str {
        self.holders.get(id).map_or(id, String::as_str)
    }

    pub fn item<'s>(&'s self, code: &'s str) -> &'s str {
        self.items.get(code).map_or(code, String::as_str)
    }
}

/// Everything one report shows, gathered at one state of the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    #[serde(serialize_with = "crate::ser_time")]
    pub as_of: Time,
    /// The org under review (`null`: every org).
    pub org: Option<String>,
    pub horizon: u32,
    /// The filters of the transfer views.
    pub donor: Option<String>,
    pub recipient: Option<String>,
    /// The last batch the ledger had folded in when the report was gathered.
    pub ledger_batch: u64,
    /// As `qm review --json` prints it.
    pub review: Review,
    /// As `qm transfers --summary --json` prints it.
    pub donor_view: Vec<SummaryRow>,
    /// As `qm transfers --totals --json` prints it.
    pub donor_totals: Vec<DonorTotal>,
    /// As `qm pauses --json` prints it.
    pub pauses: Vec<PauseRow>,
    /// Projected available stock and the floor per item, month by month, in the review's
    /// order.
    pub projections: Vec<ItemSeries>,
    /// Sorted by recipient, month and item.
    pub deliveries: Vec<DeliveryRow>,
    /// Sorted by item, from holder and to holder.
    pub flows: Vec<FlowEdge>,
    pub names: Names,
}

/// Gathers the report `q` asks for. Like every report, it trusts its references: the caller
/// checks that the orgs named exist (the facade refuses unknown names). `flows` are the
/// transfer flows tallied from the journal ([`FlowTally`]).
pub fn gather(ledger: &Ledger, q: &ReportQuery<'_>, flows: Vec<FlowEdge>) -> Report {
    let filter = q.transfer_filter();
    let review = crate::review_over(ledger, q.org, q.as_of, q.horizon);
    let projections = crate::forecast::projection_series(ledger, &review);
    let donor_view = crate::transfers_summary(ledger, &filter, q.as_of);
    let donor_totals = crate::donor_totals(ledger, &filter, q.as_of);
    let pauses = crate::pauses(ledger, q.as_of);
    let deliveries = deliveries(ledger, &filter, q.as_of);
    let names = names(ledger, q, &donor_view, &pauses, &deliveries, &flows);
    Report {
        as_of: q.as_of,
        org: q.org.map(str::to_owned),
        horizon: q.horizon,
        donor: q.donor.map(str::to_owned),
        recipient: q.recipient.map(str::to_owned),
        ledger_batch: ledger.seq(),
        review,
        donor_view,
        donor_totals,
        pauses,
        projections,
        deliveries,
        flows,
        names,
    }
}

/// Deliveries per (recipient, month, item) by `as_of` under the transfers the filter takes
/// in, from the lines' `Delivered` events.
pub fn deliveries(ledger: &Ledger, filter: &TransferFilter<'_>, as_of: Time) -> Vec<DeliveryRow> {
    let mut groups: BTreeMap<(&str, String, &str), (u128, MoneySum)> = BTreeMap::new();
    for s in ledger.transfers() {
        let r = &s.record;
        if r.time > as_of
            || filter.donor.is_some_and(|d| d != r.donor)
            || filter.recipient.is_some_and(|x| x != r.recipient)
        {
            continue;
        }
        for (line, rec) in s.lines.iter().zip(&r.lines) {
            let item = &ledger.items()[line.item as usize];
            for e in &line.events {
                if e.time > as_of {
                    break;
                }
                if e.stage != Stage::Delivered {
                    continue;
                }
                let g = groups
                    .entry((&r.recipient, month_label(e.time), &rec.item))
                    .or_default();
                g.0 += e.qty as u128;
                match (&rec.value, &item.unit_value) {
                    (Some(total), _) => g.1.add_share(total, e.qty, rec.qty),
                    (None, Some(unit)) => g.1.add_units(unit, e.qty as u128),
                    (None, None) => g.1.add("", None),
                }
            }
        }
    }
    groups
        .into_iter()
        .map(|((recipient, month, item), (qty, value))| DeliveryRow {
            recipient: recipient.to_owned(),
            month,
            item: item.to_owned(),
            qty,
            value: value.total(),
        })
        .collect()
}

fn names(
    ledger: &Ledger,
    q: &ReportQuery<'_>,
    donor_view: &[SummaryRow],
    pauses: &[PauseRow],
    deliveries: &[DeliveryRow],
    flows: &[FlowEdge],
) -> Names {
    let mut orgs: BTreeSet<&str> = BTreeSet::new();
    orgs.extend(q.org);
    orgs.extend(q.donor);
    orgs.extend(q.recipient);
    for r in donor_view {
        orgs.insert(&r.donor);
        orgs.insert(&r.recipient);
    }
    for p in pauses {
        orgs.extend(p.scope.donor.as_deref());
        orgs.extend(p.scope.recipient.as_deref());
        orgs.extend(p.holds_back.iter().map(|h| h.recipient.as_str()));
    }
    orgs.extend(deliveries.iter().map(|d| d.recipient.as_str()));
    let mut items: BTreeSet<&str> = BTreeSet::new();
    items.extend(deliveries.iter().map(|d| d.item.as_str()));
    items.extend(flows.iter().map(|f| f.item.as_str()));
    items.extend(donor_view.iter().map(|r| r.item.as_str()));
    let mut holders: BTreeSet<&str> = BTreeSet::new();
    for f in flows {
        holders.insert(&f.from);
        holders.insert(&f.to);
    }
    Names {
        orgs: orgs
            .into_iter()
            .filter_map(|o| Some((o.to_owned(), ledger.org(o)?.name.clone())))
            .collect(),
        holders: holders
            .into_iter()
            .filter_map(|h| {
                let i = ledger.holder_idx(h)?;
                Some((h.to_owned(), ledger.holders()[i as usize].name.clone()))
            })
            .collect(),
        items: items
            .into_iter()
            .filter_map(|c| {
                let i = ledger.item_idx(c)?;
                Some((c.to_owned(), ledger.items()[i as usize].name.clone()))
            })
            .collect(),
    }
}

/// The report as one JSON document, indented for people and diffs (a newline at the end),
/// as `qm report --format json` writes it.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("a report serialises");
    s.push('\n');
    s
}

/// `1234567` as `1,234,567`.
pub fn group_digits(n: i128) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A pause's scope as one line of text: `items: A, B; donor: US`.
pub fn scope_text(s: &crate::pauses::ScopeRow) -> String {
    let mut parts = Vec::new();
    if let Some(v) = &s.items {
        parts.push(format!("items: {}", v.join(", ")));
    }
    if let Some(v) = &s.categories {
        parts.push(format!("categories: {}", v.join(", ")));
    }
    for (what, v) in [
        ("donor", &s.donor),
        ("recipient", &s.recipient),
        ("transfer", &s.transfer),
    ] {
        if let Some(v) = v {
            parts.push(format!("{what}: {v}"));
        }
    }
    parts.join("; ")
}

/// The one currency of several amounts, and each amount when it is of that currency: a row's
/// money columns share one currency column. Amounts of another currency than the first
/// present are left out (the report structs never mix them: their sums see the same lines).
pub fn money_columns<'m>(values: &[&'m Option<MoneyOut>]) -> (Vec<Option<&'m str>>, &'m str) {
    let currency = values
        .iter()
        .find_map(|v| v.as_ref().map(|m| m.currency.as_str()))
        .unwrap_or("");
    let amounts = values
        .iter()
        .map(|v| {
            v.as_ref()
                .filter(|m| m.currency == currency)
                .map(|m| m.amount.as_str())
        })
        .collect();
    (amounts, currency)
}
