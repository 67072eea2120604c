//! The readable tables of the workflow's commands (`qm transfers`, `qm transfers --summary`,
//! `qm transfer show`, `qm pauses`): the same facts as their `--json`, for people.

use qm_core::format_time_plain as time;
use qm_report::money::MoneyOut;
use qm_report::{PauseRow, SummaryRow, TransferDetail, TransferRow};

use crate::demo::{fit, group};

fn money(m: &Option<MoneyOut>) -> String {
    m.as_ref()
        .map_or("-".into(), |m| format!("{} {}", m.amount, m.currency))
}

/// Width of a column: its heading or its widest cell.
fn width<'a>(head: &str, cells: impl Iterator<Item = &'a str>) -> usize {
    cells.map(str::len).chain([head.len()]).max().unwrap_or(0)
}

/// The donor view.
pub fn summary(rows: &[SummaryRow]) -> String {
    let dw = width("DONOR", rows.iter().map(|r| r.donor.as_str()));
    let rw = width("RECIPIENT", rows.iter().map(|r| r.recipient.as_str()));
    let iw = width("ITEM", rows.iter().map(|r| r.item.as_str()));
    let values: Vec<[String; 3]> = rows
        .iter()
        .map(|r| {
            [
                money(&r.committed_value),
                money(&r.allocated_value),
                money(&r.delivered_value),
            ]
        })
        .collect();
    let cvw = width("COMMITTED VALUE", values.iter().map(|v| v[0].as_str()));
    let avw = width("ALLOCATED VALUE", values.iter().map(|v| v[1].as_str()));
    let mut s = format!(
        "{:<dw$}  {:<rw$}  {:<iw$}  {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}  {:<cvw$}  {:<avw$}  {}\n",
        "DONOR",
        "RECIPIENT",
        "ITEM",
        "COMMITTED",
        "CANCELLED",
        "ALLOCATED",
        "DISPATCHED",
        "DELIVERED",
        "IN TRANSIT",
        "COMMITTED VALUE",
        "ALLOCATED VALUE",
        "DELIVERED VALUE"
    );
    for (r, v) in rows.iter().zip(&values) {
        s += &format!(
            "{:<dw$}  {:<rw$}  {:<iw$}  {:>11} {:>11} {:>11} {:>11} {:>11} {:>11}  {:<cvw$}  {:<avw$}  {}\n",
            r.donor,
            r.recipient,
            r.item,
            group(r.committed as i128),
            group(r.cancelled as i128),
            group(r.allocated as i128),
            group(r.dispatched as i128),
            group(r.delivered as i128),
            group(r.in_transit as i128),
            v[0],
            v[1],
            v[2]
        );
    }
    if rows.is_empty() {
        s += "(nothing committed)\n";
    }
    s
}

/// The donor view's totals per (donor, category).
pub fn totals(rows: &[qm_report::DonorTotal]) -> String {
    let dw = width("DONOR", rows.iter().map(|r| r.donor.as_str()));
    let cw = width("CATEGORY", rows.iter().map(|r| r.category.as_str()));
    let mut s = format!(
        "{:<dw$}  {:<cw$}  {:>11} {:>11} {:>11} {:>11}  {:<24} {}\n",
        "DONOR",
        "CATEGORY",
        "COMMITTED",
        "ALLOCATED",
        "DISPATCHED",
        "DELIVERED",
        "COMMITTED VALUE",
        "DELIVERED VALUE"
    );
    for r in rows {
        s += &format!(
            "{:<dw$}  {:<cw$}  {:>11} {:>11} {:>11} {:>11}  {:<24} {}\n",
            r.donor,
            r.category,
            group(r.committed as i128),
            group(r.allocated as i128),
            group(r.dispatched as i128),
            group(r.delivered as i128),
            money(&r.committed_value),
            money(&r.delivered_value)
        );
    }
    if rows.is_empty() {
        s += "(nothing committed)\n";
    }
    s
}

/// The list of transfers, a line each, then a line per item.
pub fn list(rows: &[TransferRow]) -> String {
    let idw = width("TRANSFER", rows.iter().map(|r| r.id.as_str()));
    let mut s = format!(
        "{:<idw$}  {:<20}  {:<24}  {:<10}  {}\n",
        "TRANSFER", "COMMITTED AT", "DONOR > RECIPIENT", "STATE", "PAUSED BY"
    );
    for r in rows {
        s += &format!(
            "{:<idw$}  {:<20}  {}  {:<10}  {}\n",
            r.id,
            time(r.time),
            fit(&format!("{} > {}", r.donor, r.recipient), 24),
            r.state_text(),
            if r.paused_by.is_empty() {
                "-".into()
            } else {
                r.paused_by.join(", ")
            }
        );
        for l in &r.lines {
            s += &format!(
                "{:idw$}    {:<18} committed {:>9}  allocated {:>9}  dispatched {:>9}  delivered {:>9}  in transit {:>9}\n",
                "",
                l.item,
                group(l.committed),
                group(l.allocated),
                group(l.dispatched),
                group(l.delivered),
                group(l.in_transit)
            );
        }
    }
    if rows.is_empty() {
        s += "(no transfers)\n";
    }
    s
}

/// One transfer in full.
pub fn detail(d: &TransferDetail) -> String {
    let mut s = format!(
        "Transfer {}: {} > {}, committed {}{}\n",
        d.id,
        d.donor,
        d.recipient,
        time(d.time),
        d.authority
            .as_ref()
            .map_or(String::new(), |a| format!(" under {a}"))
    );
    s += &format!("  as of {}: {}", time(d.as_of), d.state_text());
    if d.time > d.as_of {
        s += &format!(" (committed on {})", time(d.time));
    }
    if !d.paused_by.is_empty() {
        s += &format!(", paused by {}", d.paused_by.join(", "));
    }
    s += "\n\n  LINES\n";
    let lw = width("", d.lines.iter().map(|l| l.item.as_str()));
    for l in &d.lines {
        s += &format!(
            "  {:<lw$} qty {:>9}  committed {:>9}  cancelled {:>9}  allocated {:>9}  dispatched {:>9}  delivered {:>9}  in transit {:>9}  value {}\n",
            l.item,
            group(l.qty),
            group(l.committed),
            group(l.cancelled),
            group(l.allocated),
            group(l.dispatched),
            group(l.delivered),
            group(l.in_transit),
            money(&l.value)
        );
    }
    if !d.allocations.is_empty() {
        s += "\n  ALLOCATIONS\n";
        let aw = width("", d.allocations.iter().map(|a| a.id.as_str()));
        let pad = " ".repeat(aw + 3);
        for a in &d.allocations {
            s += &format!(
                "  {:<aw$} {}  {:>9} {} from {}{}\n",
                a.id,
                time(a.time),
                group(a.qty),
                a.item,
                a.from,
                a.lot
                    .as_ref()
                    .map_or(String::new(), |l| format!(" lot {l}"))
            );
            if let Some(o) = &a.override_ {
                s += &format!("{pad}override by {}: {}\n", o.by, o.reason);
            }
            if let Some(b) = &a.breach {
                s += &format!(
                    "{pad}floor {} breached: available {} at {}, short by {}\n",
                    group(b.floor),
                    group(b.available),
                    time(b.at),
                    group(b.short_by)
                );
            }
        }
    }
    if !d.cancellations.is_empty() {
        s += "\n  CANCELLATIONS\n";
        let cw = width("", d.cancellations.iter().map(|c| c.id.as_str()));
        for c in &d.cancellations {
            s += &format!("  {:<cw$} {}", c.id, time(c.time));
            for l in &c.lines {
                s += &format!(
                    "  {}: {} cancelled, {} released",
                    l.item,
                    group(l.cancelled),
                    group(l.released)
                );
            }
            if let Some(r) = &c.reason {
                s += &format!("  ({r})");
            }
            s += "\n";
        }
    }
    s += "\n  RECORDS\n";
    let kw = width("", d.records.iter().map(|r| r.kind.as_str()));
    let rw = width("", d.records.iter().map(|r| r.id.as_str()));
    for r in &d.records {
        s += &format!(
            "  batch {:>6}  {:<kw$} {:<rw$} {}  recorded {} by {}{}\n",
            r.batch,
            r.kind,
            r.id,
            r.time.map_or("-".into(), time),
            time(r.recorded_at),
            r.recorded_by,
            if r.within_pauses.is_empty() {
                String::new()
            } else {
                format!(
                    "  within pause {} (accepted before it was recorded)",
                    r.within_pauses.join(", ")
                )
            }
        );
    }
    s
}

/// The standing pauses and what each holds back.
pub fn pauses(rows: &[PauseRow]) -> String {
    let mut s = String::new();
    for p in rows {
        s += &format!(
            "Pause {} since {}{} by {}: {}\n",
            p.id,
            time(p.since),
            p.review_by.map_or(String::new(), |r| format!(
                ", to be reviewed by {}",
                time(r)
            )),
            p.by,
            p.reason
        );
        let sc = &p.scope;
        let mut scope = Vec::new();
        if let Some(v) = &sc.items {
            scope.push(format!("items {}", v.join(", ")));
        }
        if let Some(v) = &sc.categories {
            scope.push(format!("categories {}", v.join(", ")));
        }
        for (what, v) in [
            ("donor", &sc.donor),
            ("recipient", &sc.recipient),
            ("transfer", &sc.transfer),
        ] {
            if let Some(v) = v {
                scope.push(format!("{what} {v}"));
            }
        }
        s += &format!("  scope: {}\n", scope.join("; "));
        if p.holds_back.is_empty() {
            s += "  holds back nothing committed\n";
        }
        for h in &p.holds_back {
            s += &format!(
                "  holds back {:>9} {:<18} for {:<10} value {}\n",
                group(h.qty as i128),
                h.item,
                h.recipient,
                money(&h.value)
            );
        }
        if let Some(v) = &p.holds_back_value {
            s += &format!("  in all: {} {}\n", v.amount, v.currency);
        }
        if !p.accepted_before_recorded.is_empty() {
            s += "  accepted before it was recorded, dated within it:\n";
            let iw = width("", p.accepted_before_recorded.iter().map(|c| c.id.as_str()));
            let tw = width(
                "",
                p.accepted_before_recorded
                    .iter()
                    .map(|c| c.transfer.as_str()),
            );
            let itw = width(
                "",
                p.accepted_before_recorded.iter().map(|c| c.item.as_str()),
            );
            for c in &p.accepted_before_recorded {
                s += &format!(
                    "    {:<8} {:<iw$}  {}  transfer {:<tw$}  {:>9} {:<itw$}\n",
                    c.kind,
                    c.id,
                    time(c.time),
                    c.transfer,
                    group(c.qty),
                    c.item
                );
            }
        }
    }
    if rows.is_empty() {
        s += "(no pause stands)\n";
    }
    s
}

/// The threat model per interceptor.
pub fn threats(models: &[qm_report::forecast::ThreatModel]) -> String {
    let mut s = String::new();
    for m in models {
        s += &format!("Interceptor {}\n  window:", m.item);
        for w in &m.window {
            s += &format!(
                "  {} reports {} launched {} used {}",
                w.month,
                w.reports,
                group(w.launched as i128),
                group(w.used as i128)
            );
        }
        s += &format!(
            "\n  (the fit is over the months with at least one report)\n  per threat: {}; threats per month: {:.1} {:+.1} a month\n  forecast:",
            m.per_threat.map_or("-".into(), |p| format!("{p:.3}")),
            m.trend_intercept,
            m.trend_slope
        );
        for d in &m.demand {
            if d.share < 1.0 {
                // A month the review counts only in part (from --as-of, or to the horizon).
                s += &format!(
                    "  {} {:.1} ({:.0}% of the month)",
                    d.month,
                    d.interceptors,
                    d.share * 100.0
                );
            } else {
                s += &format!("  {} {:.0}", d.month, d.interceptors);
            }
        }
        s += "\n";
    }
    if models.is_empty() {
        s += "(no threat report names an interceptor)\n";
    }
    s
}
