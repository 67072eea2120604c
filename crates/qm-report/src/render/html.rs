//! The report as one self-contained HTML page: inline CSS, inline SVG charts (`charts.rs`),
//! no script, and a Content-Security-Policy that forbids fetching anything, so the file
//! opens offline and shows the same wherever it is copied.
//!
//! The page, top to bottom: what it covers (org, as of, horizon, filters, the ledger's
//! batch) and a few headline figures; the projection of available stock against the floor
//! for the items at risk (then the next items of the review, up to
//! [`PROJECTION_CHARTS_MAX`]) and the review table; deliveries per recipient per month, the
//! donor view and its totals per (donor, category); the flows from donor depots through
//! transit to recipients and sinks, one chart per item (the items that moved most first, up
//! to [`FLOW_CHARTS_MAX`]); the standing pauses. Every text from records is escaped.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use qm_core::format_time_plain;

use super::charts::{self, esc, ItemColors, Measure};
use super::flow::HolderGroup;
use super::{group_digits, money_columns, scope_text, DeliveryRow, Report};
use crate::money::{Amount, MoneyOut, MoneySum};
use crate::ReviewItem;

/// Projection charts drawn: the items at risk first (the review's order), then the next
/// items that hold stock or have plans.
pub const PROJECTION_CHARTS_MAX: usize = 8;
/// Recipients with a delivery chart.
pub const DELIVERY_CHARTS_MAX: usize = 8;
/// Months a delivery chart shows: the last ones up to `as_of`.
pub const DELIVERY_MONTHS_MAX: usize = 36;
/// Items with a flow chart.
pub const FLOW_CHARTS_MAX: usize = 6;

const STYLE: &str = r#"
:root { --ink:#1f2937; --muted:#6b7280; --line:#e5e7eb; --bg:#f9fafb; --risk:#b91c1c; --ok:#047857; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color:var(--ink); background:#fff; }
header { padding:20px 32px 14px; border-bottom:1px solid var(--line); background:var(--bg); }
h1 { margin:0 0 4px; font-size:22px; }
h2 { margin:0 0 4px; font-size:18px; }
h3 { margin:22px 0 8px; font-size:15px; }
.meta { margin:0; color:var(--muted); }
.meta b { color:var(--ink); font-weight:600; }
nav { margin-top:8px; }
nav a { color:#1d4ed8; margin-right:14px; text-decoration:none; }
main { padding:8px 32px 40px; max-width:1480px; }
section { margin-top:26px; }
.lede { margin:2px 0 12px; color:var(--muted); max-width:900px; }
.cards { display:flex; flex-wrap:wrap; gap:12px; margin-top:14px; }
.card { border:1px solid var(--line); border-radius:8px; padding:10px 14px; min-width:160px; background:#fff; }
.card .v { font-size:22px; font-weight:650; }
.card .k { color:var(--muted); font-size:12px; }
.card.risk .v { color:var(--risk); }
.grid { display:grid; grid-template-columns:repeat(auto-fill, minmax(420px, 1fr)); gap:14px; }
.grid.wide { grid-template-columns:repeat(auto-fill, minmax(620px, 1fr)); }
.stack { display:grid; gap:14px; }
figure { margin:0; border:1px solid var(--line); border-radius:8px; padding:10px 12px 8px; background:#fff; }
figcaption { font-size:13px; margin-bottom:4px; }
figcaption .sub { display:block; color:var(--muted); font-size:12px; }
figcaption .sub.risk { color:var(--risk); }
svg.chart { width:100%; height:auto; display:block; font-size:11px; }
svg .grid { stroke:#eef0f3; }
svg .axis, svg .zero { stroke:#9ca3af; }
svg .tick { fill:var(--muted); font-size:10.5px; }
svg .available { fill:none; stroke:#2563eb; stroke-width:2.2; }
svg .floor { fill:none; stroke:var(--risk); stroke-width:1.6; stroke-dasharray:5 4; }
svg .pt { fill:#2563eb; }
svg .pt.below { fill:var(--risk); }
svg .breach { fill:#fee2e2; }
svg .breach-label { fill:var(--risk); font-size:11px; font-weight:600; }
svg .band { opacity:.45; }
svg .band:hover { opacity:.75; }
svg .node.g-depot { fill:#1e3a8a; }
svg .node.g-transit { fill:#b45309; }
svg .node.g-recipient { fill:#047857; }
svg .node.g-sink { fill:#6b7280; }
svg .node-label { fill:var(--ink); font-size:11.5px; paint-order:stroke; stroke:#fff; stroke-width:3px; stroke-linejoin:round; }
svg .node-label .qty { fill:var(--muted); }
svg .stage { fill:var(--muted); font-size:11px; font-weight:600; text-transform:uppercase; letter-spacing:.04em; }
.legend { display:flex; flex-wrap:wrap; gap:4px 14px; font-size:12px; color:var(--muted); margin-top:4px; }
.legend i { display:inline-block; width:10px; height:10px; border-radius:2px; margin-right:5px; vertical-align:-1px; }
.legend .l-line { width:18px; height:0; border-top:2.2px solid #2563eb; border-radius:0; vertical-align:3px; }
.legend .l-floor { width:18px; height:0; border-top:1.6px dashed var(--risk); border-radius:0; vertical-align:3px; }
.legend .l-breach { background:#fee2e2; }
.table-wrap { overflow-x:auto; border:1px solid var(--line); border-radius:8px; }
table { border-collapse:collapse; width:100%; font-size:13px; }
th, td { padding:5px 8px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
th { background:var(--bg); font-weight:600; position:sticky; top:0; }
td.n, th.n { text-align:right; font-variant-numeric:tabular-nums; }
td.n, td.nw { white-space:nowrap; }
td.wrap { min-width:180px; }
tbody tr:nth-child(even) { background:#fcfcfd; }
tr.risk td { background:#fef2f2; }
tr.risk td.breach { color:var(--risk); font-weight:600; }
td.neg { color:var(--risk); }
.empty { color:var(--muted); font-style:italic; }
.note { color:var(--muted); font-size:12px; margin:6px 0 0; }
code { font-family:ui-monospace, "DejaVu Sans Mono", monospace; font-size:12px; }
footer { padding:14px 32px 28px; color:var(--muted); font-size:12px; border-top:1px solid var(--line); }
@media print { nav { display:none; } figure, .table-wrap { break-inside:avoid; } }
"#;

fn n(v: impl Into<i128>) -> String {
    group_digits(v.into())
}

fn money(m: &Option<MoneyOut>) -> String {
    m.as_ref().map_or(String::new(), |m| {
        let (int, frac) = m.amount.split_once('.').unwrap_or((&m.amount, ""));
        let int = int.parse::<i128>().map_or(int.to_owned(), group_digits);
        let frac = if frac.is_empty() {
            String::new()
        } else {
            format!(".{frac}")
        };
        format!("{int}{frac} {}", m.currency)
    })
}

/// Whether an item belongs in the page's review table: it has stock, a floor, earmarks,
/// stock in transit, plans, or a breach.
fn shown(i: &ReviewItem) -> bool {
    i.on_hand != 0
        || i.floor != 0
        || i.earmarked != 0
        || i.in_transit != 0
        || i.production != 0
        || i.consumption != 0
        || i.breaches()
}

/// A cell: escaped text and its class (`""`, `"n"` for numbers, `"nw"`, `"wrap"`).
type Cell = (String, &'static str);

/// A row: its class (`"risk"`) and cells.
type Row = (Option<&'static str>, Vec<Cell>);

/// A table: headings (`true` for numbers) and rows of already escaped cells.
struct Table {
    head: Vec<(&'static str, bool)>,
    rows: Vec<Row>,
}

impl Table {
    fn render(&self, out: &mut String, empty: &str) {
        if self.rows.is_empty() {
            let _ = write!(out, r#"<p class="empty">{}</p>"#, esc(empty));
            return;
        }
        out.push_str(r#"<div class="table-wrap"><table><thead><tr>"#);
        for (h, num) in &self.head {
            let _ = write!(
                out,
                r#"<th{}>{}</th>"#,
                if *num { r#" class="n""# } else { "" },
                esc(h)
            );
        }
        out.push_str("</tr></thead><tbody>");
        for (class, cells) in &self.rows {
            match class {
                Some(c) => {
                    let _ = write!(out, r#"<tr class="{c}">"#);
                }
                None => out.push_str("<tr>"),
            }
            for (cell, class) in cells {
                if class.is_empty() {
                    let _ = write!(out, "<td>{cell}</td>");
                } else {
                    let _ = write!(out, r#"<td class="{class}">{cell}</td>"#);
                }
            }
            out.push_str("</tr>");
        }
        out.push_str("</tbody></table></div>");
    }
}

fn num_cell(v: i128) -> Cell {
    (n(v), if v < 0 { "n neg" } else { "n" })
}

fn text_cell(s: &str) -> Cell {
    (esc(s), "")
}

/// An id or a time: never broken across lines.
fn id_cell(s: &str) -> Cell {
    (esc(s), "nw")
}

/// The page.
pub fn page(report: &Report) -> String {
    let names = &report.names;
    let as_of = format_time_plain(report.as_of);
    let who = match &report.org {
        Some(o) if names.org(o) != o => format!("{} ({o})", names.org(o)),
        Some(o) => o.clone(),
        None => "every org".into(),
    };
    let mut s = String::with_capacity(1 << 16);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    // Nothing may be fetched: no script, no image, no font, no frame.
    s.push_str("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n");
    s.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(
        s,
        "<title>{}</title>",
        esc(&format!("Quartermaster report: {who}, as of {as_of}"))
    );
    let _ = writeln!(s, "<style>{STYLE}</style>\n</head>\n<body>");

    // What the page covers.
    let _ = write!(
        s,
        r#"<header><h1>Stockpile and transfers report</h1><p class="meta">Review of <b>{}</b> · as of <b><time datetime="{}">{}</time></b> · horizon <b>{} months</b>"#,
        esc(&who),
        esc(&as_of),
        esc(&as_of),
        report.horizon
    );
    for (what, v) in [("donor", &report.donor), ("recipient", &report.recipient)] {
        if let Some(v) = v {
            let _ = write!(s, " · {what} <b>{}</b>", esc(&label_org(report, v)));
        }
    }
    let _ = write!(
        s,
        r##" · ledger at batch <b>{}</b></p><nav><a href="#stock">Stock against floors</a><a href="#deliveries">Deliveries</a><a href="#donor-view">Donor view</a><a href="#flows">Flows</a><a href="#pauses">Pauses</a></nav>"##,
        report.ledger_batch
    );
    let at_risk = report.review.items.iter().filter(|i| i.breaches()).count();
    // Committed and delivered in value where every row has one in one currency (units of
    // different items do not add up to anything), else in units.
    let headline = |qty: fn(&crate::SummaryRow) -> u128,
                    value: fn(&crate::SummaryRow) -> &Option<MoneyOut>,
                    what: &str| {
        let mut sum = MoneySum::default();
        for r in &report.donor_view {
            match value(r) {
                Some(m) => sum.add(&m.currency, Amount::parse(&m.amount)),
                None => sum.add("", None),
            }
        }
        match sum.total() {
            Some(m) => (
                format!(
                    "{} {}",
                    charts::short_number(m.amount.parse().unwrap_or(0.0)),
                    m.currency
                ),
                format!("{what} (value)"),
            ),
            None => (
                n(report.donor_view.iter().map(qty).sum::<u128>() as i128),
                format!("units {what}, all items"),
            ),
        }
    };
    let committed = headline(|r| r.committed, |r| &r.committed_value, "committed");
    let delivered = headline(|r| r.delivered, |r| &r.delivered_value, "delivered");
    let in_transit: u128 = report.donor_view.iter().map(|r| r.in_transit).sum();
    s.push_str(r#"<div class="cards">"#);
    for (v, k, risk) in [
        (
            n(at_risk as i128),
            format!(
                "items projected below their floor within {} months",
                report.horizon
            ),
            at_risk > 0,
        ),
        (committed.0, committed.1, false),
        (delivered.0, delivered.1, false),
        (
            n(in_transit as i128),
            "units in transit, all items".to_owned(),
            false,
        ),
        (
            n(report.pauses.len() as i128),
            "pauses standing".to_owned(),
            !report.pauses.is_empty(),
        ),
    ] {
        let _ = write!(
            s,
            r#"<div class="card{}"><div class="v">{v}</div><div class="k">{}</div></div>"#,
            if risk { " risk" } else { "" },
            esc(&k)
        );
    }
    s.push_str("</div></header>\n<main>\n");

    stock_section(&mut s, report);
    deliveries_section(&mut s, report);
    donor_view_section(&mut s, report);
    flows_section(&mut s, report);
    pauses_section(&mut s, report);

    let _ = write!(
        s,
        "</main>\n<footer>Written by <code>qm report</code> from the ledger at batch {}, as of {}. Quantities are whole units; values are as recorded (a line's value pro rata, else the item's unit value). The same figures: <code>qm review --json</code>, <code>qm transfers --summary --json</code>, <code>qm transfers --totals --json</code>, <code>qm pauses --json</code>.</footer>\n</body>\n</html>\n",
        report.ledger_batch,
        esc(&as_of)
    );
    s
}

fn label_org(report: &Report, id: &str) -> String {
    let name = report.names.org(id);
    if name == id {
        id.to_owned()
    } else {
        format!("{name} ({id})")
    }
}

fn stock_section(s: &mut String, report: &Report) {
    let r = &report.review;
    s.push_str(r#"<section id="stock"><h2>Projected available stock against the floor</h2>"#);
    let _ = write!(
        s,
        r#"<p class="lede">Available stock (on hand at the depots less what is earmarked for transfers), projected month by month over {} months from production, consumption plans and interceptor demand, against the floor in force. Items at risk first.</p>"#,
        r.horizon
    );
    let series: BTreeMap<&str, &crate::forecast::ItemSeries> = report
        .projections
        .iter()
        .map(|p| (p.item.as_str(), p))
        .collect();
    let chosen: Vec<&ReviewItem> = r
        .items
        .iter()
        .filter(|i| i.breaches())
        .chain(r.items.iter().filter(|i| !i.breaches() && shown(i)))
        .filter(|i| series.contains_key(i.item.as_str()))
        .take(PROJECTION_CHARTS_MAX)
        .collect();
    if chosen.is_empty() {
        s.push_str(r#"<p class="empty">No item holds stock, has a floor or has plans.</p>"#);
    } else {
        s.push_str(r#"<div class="grid">"#);
        for (k, i) in chosen.iter().enumerate() {
            let sub = match (&i.first_breach, i.months_of_cover) {
                (Some(m), Some(c)) => format!(
                    r#"<span class="sub risk">below the floor in {} · {} whole month{} of cover</span>"#,
                    esc(m),
                    c,
                    if c == 1 { "" } else { "s" }
                ),
                _ => format!(
                    r#"<span class="sub">stays at or above the floor for {} months</span>"#,
                    r.horizon
                ),
            };
            let _ = write!(
                s,
                r#"<figure><figcaption><b>{}</b> {}{sub}</figcaption>{}<div class="legend"><span><i class="l-line"></i>available (projected)</span><span><i class="l-floor"></i>floor {}</span>{}</div></figure>"#,
                esc(&i.item),
                esc(&i.name),
                charts::projection(&format!("chart-projection-{k}"), i, series[i.item.as_str()]),
                esc(&n(i.floor)),
                if i.breaches() {
                    r#"<span><i class="l-breach"></i>month of the first breach</span>"#
                } else {
                    ""
                }
            );
        }
        s.push_str("</div>");
        let rest = r
            .items
            .iter()
            .filter(|i| shown(i))
            .count()
            .saturating_sub(chosen.len());
        if rest > 0 {
            let _ = write!(
                s,
                r#"<p class="note">{} more item{} in the table below.</p>"#,
                rest,
                if rest == 1 { "" } else { "s" }
            );
        }
    }
    s.push_str("<h3>Review</h3>");
    let mut t = Table {
        head: vec![
            ("Item", false),
            ("Name", false),
            ("Category", false),
            ("On hand", true),
            ("Floor", true),
            ("Headroom", true),
            ("Earmarked", true),
            ("Available", true),
            ("In transit", true),
            ("Production", true),
            ("Consumption", true),
            ("Cover (months)", true),
            ("First breach", false),
            ("Available value", true),
        ],
        rows: Vec::new(),
    };
    for i in r.items.iter().filter(|i| shown(i)) {
        t.rows.push((
            i.breaches().then_some("risk"),
            vec![
                id_cell(&i.item),
                text_cell(&i.name),
                text_cell(&i.category),
                num_cell(i.on_hand),
                num_cell(i.floor),
                num_cell(i.headroom),
                num_cell(i.earmarked),
                num_cell(i.available),
                num_cell(i.in_transit),
                num_cell(i.production),
                num_cell(i.consumption),
                (i.months_of_cover.map_or("–".into(), |m| m.to_string()), "n"),
                (
                    esc(i.first_breach.as_deref().unwrap_or("–")),
                    if i.breaches() { "breach" } else { "" },
                ),
                (esc(&money(&i.available_value)), "n"),
            ],
        ));
    }
    t.render(s, "The review has no item with stock, a floor or plans.");
    // The plans and the demand behind the production and consumption columns, joint
    // production with its partner.
    s.push_str("<h3>What the projection counts</h3>");
    let mut plans = Table {
        head: vec![
            ("Item", false),
            ("Kind", false),
            ("Plan", false),
            ("Into / by", false),
            ("Over the horizon", true),
        ],
        rows: Vec::new(),
    };
    for i in &r.items {
        for f in &i.flows {
            let kind = match (f.kind, &f.partner) {
                ("production", Some(p)) => format!("joint production with {p}"),
                ("interceptor_demand", _) => "interceptor demand (threat reports)".to_owned(),
                (k, _) => k.to_owned(),
            };
            plans.rows.push((
                None,
                vec![
                    id_cell(&i.item),
                    text_cell(&kind),
                    id_cell(f.id.as_deref().unwrap_or("–")),
                    id_cell(f.at.as_deref().unwrap_or("–")),
                    num_cell(f.over_horizon),
                ],
            ));
        }
    }
    plans.render(
        s,
        "No production or consumption plan and no threat report counts.",
    );
    let hidden = r.items.iter().filter(|i| !shown(i)).count();
    if hidden > 0 {
        let _ = write!(
            s,
            r#"<p class="note">{hidden} item{} with no stock, floor, earmark or plan not shown (the CSV and XLSX files list every item).</p>"#,
            if hidden == 1 { "" } else { "s" }
        );
    }
    s.push_str("</section>\n");
}

/// The months a delivery chart spans: from the first delivery's month to the month of
/// `as_of`, the last [`DELIVERY_MONTHS_MAX`] of them.
fn delivery_months(report: &Report) -> Vec<String> {
    let Some(first) = report.deliveries.iter().map(|d| d.month.as_str()).min() else {
        return Vec::new();
    };
    let last = crate::forecast::month_label(report.as_of);
    let parse = |m: &str| -> (i64, i64) {
        let (y, mm) = m.split_once('-').expect("YYYY-MM");
        (y.parse().expect("year"), mm.parse().expect("month"))
    };
    let (y0, m0) = parse(first);
    let (y1, m1) = parse(&last);
    let (start, end) = (y0 * 12 + m0 - 1, y1 * 12 + m1 - 1);
    let start = start.max(end - DELIVERY_MONTHS_MAX as i64 + 1);
    (start..=end)
        .map(|k| format!("{:04}-{:02}", k.div_euclid(12), k.rem_euclid(12) + 1))
        .collect()
}

fn deliveries_section(s: &mut String, report: &Report) {
    s.push_str(r#"<section id="deliveries"><h2>Deliveries per recipient</h2>"#);
    let measure = Measure::of(&report.deliveries);
    let _ = write!(
        s,
        r#"<p class="lede">What arrived at holders of each recipient under transfers, month by month ({}), stacked by item.</p>"#,
        esc(&measure.label())
    );
    let months = delivery_months(report);
    // Colours: the items delivered most first.
    let mut per_item: BTreeMap<&str, f64> = BTreeMap::new();
    for d in &report.deliveries {
        *per_item.entry(&d.item).or_default() += measure.amount(d);
    }
    let mut order: Vec<(&str, f64)> = per_item.into_iter().collect();
    order.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
    let colors = ItemColors::new(order.iter().map(|(i, _)| i.to_string()).collect());
    let mut by_recipient: BTreeMap<&str, Vec<&DeliveryRow>> = BTreeMap::new();
    for d in &report.deliveries {
        if months.binary_search(&d.month).is_ok() {
            by_recipient.entry(&d.recipient).or_default().push(d);
        }
    }
    if by_recipient.is_empty() {
        let _ = write!(
            s,
            r#"<p class="empty">Nothing delivered under transfers by {}.</p>"#,
            esc(&format_time_plain(report.as_of))
        );
    } else {
        // The recipients that received most first.
        let mut recipients: Vec<(&str, f64)> = by_recipient
            .iter()
            .map(|(r, rows)| (*r, rows.iter().map(|d| measure.amount(d)).sum()))
            .collect();
        recipients.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        s.push_str(r#"<div class="grid wide">"#);
        for (k, (r, total)) in recipients.iter().take(DELIVERY_CHARTS_MAX).enumerate() {
            let rows = &by_recipient[r];
            let items: BTreeSet<(Option<usize>, &str)> = rows
                .iter()
                .map(|d| (colors.slot(&d.item), d.item.as_str()))
                .collect();
            let mut legend = String::new();
            let mut other = false;
            for (slot, item) in &items {
                match slot {
                    Some(_) => {
                        let _ = write!(
                            legend,
                            r#"<span><i style="background:{}"></i>{}</span>"#,
                            colors.color(item),
                            esc(item)
                        );
                    }
                    None => other = true,
                }
            }
            if other {
                let _ = write!(
                    legend,
                    r#"<span><i style="background:{}"></i>other items</span>"#,
                    charts::OTHER_COLOR
                );
            }
            let _ = write!(
                s,
                r#"<figure><figcaption><b>{}</b><span class="sub">{} in the {} months shown</span></figcaption>{}<div class="legend">{legend}</div></figure>"#,
                esc(&label_org(report, r)),
                esc(&measure.show(*total)),
                months.len(),
                charts::deliveries(
                    &format!("chart-deliveries-{k}"),
                    r,
                    &months,
                    rows,
                    &measure,
                    &colors,
                    &report.names
                )
            );
        }
        s.push_str("</div>");
        if recipients.len() > DELIVERY_CHARTS_MAX {
            let _ = write!(
                s,
                r#"<p class="note">{} more recipients in the donor view below.</p>"#,
                recipients.len() - DELIVERY_CHARTS_MAX
            );
        }
    }
    s.push_str("</section>\n");
}

fn donor_view_section(s: &mut String, report: &Report) {
    s.push_str(r#"<section id="donor-view"><h2>Donor view</h2><p class="lede">Per donor, recipient and item: what was committed, cancelled, allocated (earmarked at the donor's depots), dispatched (left them), delivered (arrived at the recipient's holders) and what is in transit.</p>"#);
    let mut t = Table {
        head: vec![
            ("Donor", false),
            ("Recipient", false),
            ("Item", false),
            ("Category", false),
            ("Committed", true),
            ("Cancelled", true),
            ("Allocated", true),
            ("Dispatched", true),
            ("Delivered", true),
            ("In transit", true),
            ("Committed value", true),
            ("Delivered value", true),
        ],
        rows: Vec::new(),
    };
    for r in &report.donor_view {
        let (v, currency) =
            money_columns(&[&r.committed_value, &r.allocated_value, &r.delivered_value]);
        let m = |a: Option<&str>| {
            money(&a.map(|a| MoneyOut {
                amount: a.to_owned(),
                currency: currency.to_owned(),
            }))
        };
        t.rows.push((
            None,
            vec![
                id_cell(&label_org(report, &r.donor)),
                id_cell(&label_org(report, &r.recipient)),
                id_cell(&r.item),
                text_cell(&r.category),
                num_cell(r.committed as i128),
                num_cell(r.cancelled as i128),
                num_cell(r.allocated as i128),
                num_cell(r.dispatched as i128),
                num_cell(r.delivered as i128),
                num_cell(r.in_transit as i128),
                (esc(&m(v[0])), "n"),
                (esc(&m(v[2])), "n"),
            ],
        ));
    }
    t.render(s, "Nothing committed under the transfers in view.");
    s.push_str("<h3>Totals per donor and category</h3>");
    let mut t = Table {
        head: vec![
            ("Donor", false),
            ("Category", false),
            ("Committed", true),
            ("Allocated", true),
            ("Dispatched", true),
            ("Delivered", true),
            ("Committed value", true),
            ("Allocated value", true),
            ("Delivered value", true),
        ],
        rows: Vec::new(),
    };
    for r in &report.donor_totals {
        t.rows.push((
            None,
            vec![
                id_cell(&label_org(report, &r.donor)),
                text_cell(&r.category),
                num_cell(r.committed as i128),
                num_cell(r.allocated as i128),
                num_cell(r.dispatched as i128),
                num_cell(r.delivered as i128),
                (esc(&money(&r.committed_value)), "n"),
                (esc(&money(&r.allocated_value)), "n"),
                (esc(&money(&r.delivered_value)), "n"),
            ],
        ));
    }
    t.render(s, "Nothing committed under the transfers in view.");
    s.push_str("</section>\n");
}

fn flows_section(s: &mut String, report: &Report) {
    s.push_str(r#"<section id="flows"><h2>Flows from donor depots through transit to recipients</h2><p class="lede">Every movement under the transfers in view, by item: from the donors' depots, through transit holders, to the recipients' holders and sinks. A band is as wide as what went along it; a holder's bar as tall as what passed through it.</p>"#);
    let mut by_item: BTreeMap<&str, Vec<&super::FlowEdge>> = BTreeMap::new();
    for e in &report.flows {
        by_item.entry(&e.item).or_default().push(e);
    }
    if by_item.is_empty() {
        let _ = write!(
            s,
            r#"<p class="empty">No movement under the transfers in view by {}.</p>"#,
            esc(&format_time_plain(report.as_of))
        );
        s.push_str("</section>\n");
        return;
    }
    // The items that left the donors' depots most first.
    let mut items: Vec<(&str, u128)> = by_item
        .iter()
        .map(|(i, es)| {
            (
                *i,
                es.iter()
                    .filter(|e| e.from_group == HolderGroup::DonorDepot)
                    .map(|e| e.qty)
                    .sum(),
            )
        })
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    s.push_str(r#"<div class="stack">"#);
    for (k, (item, out)) in items.iter().take(FLOW_CHARTS_MAX).enumerate() {
        let color = charts::PALETTE[k % charts::PALETTE.len()];
        let chart = charts::flow(
            &format!("chart-flow-{k}"),
            item,
            &by_item[item],
            color,
            &report.names,
        );
        let mut notes = Vec::new();
        if chart.merged > 0 {
            notes.push(format!("{} holders drawn as “others”", chart.merged));
        }
        if chart.not_drawn > 0 {
            notes.push(format!(
                "{} flow{} back to an earlier stage not drawn",
                chart.not_drawn,
                if chart.not_drawn == 1 { "" } else { "s" }
            ));
        }
        let _ = write!(
            s,
            r#"<figure><figcaption><b>{}</b> {}<span class="sub">{} units left donor depots{}</span></figcaption>{}</figure>"#,
            esc(item),
            esc(report.names.item(item)),
            n(*out as i128),
            if notes.is_empty() {
                String::new()
            } else {
                esc(&format!(" · {}", notes.join(" · ")))
            },
            chart.svg
        );
    }
    s.push_str("</div>");
    if items.len() > FLOW_CHARTS_MAX {
        let _ = write!(
            s,
            r#"<p class="note">{} more items moved under transfers (the JSON report lists every flow).</p>"#,
            items.len() - FLOW_CHARTS_MAX
        );
    }
    s.push_str("</section>\n");
}

fn pauses_section(s: &mut String, report: &Report) {
    s.push_str(r#"<section id="pauses"><h2>Standing pauses</h2><p class="lede">Shipments stopped, and what each stop holds back: committed and not yet dispatched within its scope.</p>"#);
    let mut t = Table {
        head: vec![
            ("Pause", false),
            ("Since", false),
            ("Review by", false),
            ("By", false),
            ("Reason", false),
            ("Scope", false),
            ("Holds back", false),
            ("Value", true),
        ],
        rows: Vec::new(),
    };
    for p in &report.pauses {
        let held = if p.holds_back.is_empty() {
            "nothing committed".to_owned()
        } else {
            p.holds_back
                .iter()
                .map(|h| format!("{} {} for {}", n(h.qty as i128), h.item, h.recipient))
                .collect::<Vec<_>>()
                .join("; ")
        };
        t.rows.push((
            None,
            vec![
                id_cell(&p.id),
                id_cell(&format_time_plain(p.since)),
                id_cell(&p.review_by.map_or("–".into(), format_time_plain)),
                text_cell(&p.by),
                (esc(&p.reason), "wrap"),
                (esc(&scope_text(&p.scope)), "wrap"),
                (esc(&held), "wrap"),
                (esc(&money(&p.holds_back_value)), "n"),
            ],
        ));
    }
    t.render(s, "No pause stands.");
    s.push_str("</section>\n");
}
