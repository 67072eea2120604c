//! The report as CSV: one file per view (`review.csv`, `transfers_summary.csv`,
//! `donor_totals.csv`, `pauses.csv`, `forecast_lines.csv`), written by the `csv` crate (RFC 4180: fields with a
//! comma, a quote or a line break are quoted, quotes doubled; lines end with `\n`).
//!
//! Columns: a header row, then a row per review item, donor-view row, (donor, category), and
//! per (pause, what it holds back). Quantities are integers; money is the exact decimal text
//! of the report (`1234.50`) with the currency in a column of its own; times are RFC 3339
//! UTC; absent values are empty fields.
//!
//! Text that comes from records (ids, names, reasons) and begins with `=`, `+`, `-`, `@`, a
//! tab or a carriage return is written with a leading `'`, so that a spreadsheet opening the
//! file shows it as text instead of running it as a formula (OWASP's advice on CSV
//! injection). Numbers are never altered.

use qm_core::format_time_plain;

use super::{money_columns, scope_text, Report};

/// One CSV file of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsvFile {
    /// The file's name, e.g. `review.csv`.
    pub name: &'static str,
    pub text: String,
}

/// The report's views as CSV files, in this order: review, donor view, donor totals, pauses,
/// forecast lines.
pub fn files(report: &Report) -> Vec<CsvFile> {
    vec![
        CsvFile {
            name: "review.csv",
            text: review(report),
        },
        CsvFile {
            name: "transfers_summary.csv",
            text: donor_view(report),
        },
        CsvFile {
            name: "donor_totals.csv",
            text: donor_totals(report),
        },
        CsvFile {
            name: "pauses.csv",
            text: pauses(report),
        },
        CsvFile {
            name: "forecast_lines.csv",
            text: forecast_lines(report),
        },
    ]
}

/// What the review's production and consumption columns count: one row per plan (joint
/// production with its `partner`) and per interceptor-demand line, per item, in the
/// review's order.
pub fn forecast_lines(report: &Report) -> String {
    let header = ["item", "kind", "plan", "at", "partner", "over_horizon"];
    write(
        &header,
        report.review.items.iter().flat_map(|i| {
            i.flows.iter().map(move |f| {
                vec![
                    Field::Text(&i.item),
                    raw(f.kind),
                    f.id.as_deref().map_or(raw(""), Field::Text),
                    f.at.as_deref().map_or(raw(""), Field::Text),
                    f.partner.as_deref().map_or(raw(""), Field::Text),
                    raw(f.over_horizon),
                ]
            })
        }),
    )
}

/// A field of text from a record, defused for spreadsheets.
pub fn text_field(s: &str) -> std::borrow::Cow<'_, str> {
    match s.as_bytes().first() {
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r') => format!("'{s}").into(),
        _ => s.into(),
    }
}

/// Rows of fields; `Field::Text` is defused, `Field::Raw` (numbers, times, fixed words) is
/// written as it is.
enum Field<'a> {
    Text(&'a str),
    Raw(String),
}

fn raw(x: impl ToString) -> Field<'static> {
    Field::Raw(x.to_string())
}

fn opt<T: ToString>(x: Option<T>) -> Field<'static> {
    Field::Raw(x.map_or(String::new(), |x| x.to_string()))
}

fn write<'a>(header: &[&str], rows: impl Iterator<Item = Vec<Field<'a>>>) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        debug_assert_eq!(row.len(), header.len());
        let fields: Vec<std::borrow::Cow<'_, str>> = row
            .iter()
            .map(|f| match f {
                Field::Text(s) => text_field(s),
                Field::Raw(s) => s.as_str().into(),
            })
            .collect();
        w.write_record(fields.iter().map(|f| f.as_bytes()))
            .expect("writing to memory");
    }
    let bytes = w.into_inner().expect("writing to memory");
    String::from_utf8(bytes).expect("the fields are UTF-8")
}

/// The review: one row per item, in the review's order (earliest breach first).
pub fn review(report: &Report) -> String {
    let header = [
        "item",
        "name",
        "category",
        "on_hand",
        "floor",
        "headroom",
        "earmarked",
        "available",
        "in_transit",
        "production",
        "consumption",
        "months_of_cover",
        "first_breach",
        "on_hand_value",
        "available_value",
        "currency",
    ];
    write(
        &header,
        report.review.items.iter().map(|i| {
            let (values, currency) = money_columns(&[&i.on_hand_value, &i.available_value]);
            vec![
                Field::Text(&i.item),
                Field::Text(&i.name),
                Field::Text(&i.category),
                raw(i.on_hand),
                raw(i.floor),
                raw(i.headroom),
                raw(i.earmarked),
                raw(i.available),
                raw(i.in_transit),
                raw(i.production),
                raw(i.consumption),
                opt(i.months_of_cover),
                opt(i.first_breach.as_deref()),
                opt(values[0]),
                opt(values[1]),
                raw(currency),
            ]
        }),
    )
}

/// The donor view: one row per (donor, recipient, item).
pub fn donor_view(report: &Report) -> String {
    let header = [
        "donor",
        "recipient",
        "item",
        "category",
        "committed",
        "cancelled",
        "allocated",
        "dispatched",
        "delivered",
        "in_transit",
        "committed_value",
        "allocated_value",
        "delivered_value",
        "currency",
    ];
    write(
        &header,
        report.donor_view.iter().map(|r| {
            let (values, currency) =
                money_columns(&[&r.committed_value, &r.allocated_value, &r.delivered_value]);
            vec![
                Field::Text(&r.donor),
                Field::Text(&r.recipient),
                Field::Text(&r.item),
                Field::Text(&r.category),
                raw(r.committed),
                raw(r.cancelled),
                raw(r.allocated),
                raw(r.dispatched),
                raw(r.delivered),
                raw(r.in_transit),
                opt(values[0]),
                opt(values[1]),
                opt(values[2]),
                raw(currency),
            ]
        }),
    )
}

/// The donor view's totals: one row per (donor, category).
pub fn donor_totals(report: &Report) -> String {
    let header = [
        "donor",
        "category",
        "committed",
        "allocated",
        "dispatched",
        "delivered",
        "committed_value",
        "allocated_value",
        "delivered_value",
        "currency",
    ];
    write(
        &header,
        report.donor_totals.iter().map(|r| {
            let (values, currency) =
                money_columns(&[&r.committed_value, &r.allocated_value, &r.delivered_value]);
            vec![
                Field::Text(&r.donor),
                Field::Text(&r.category),
                raw(r.committed),
                raw(r.allocated),
                raw(r.dispatched),
                raw(r.delivered),
                opt(values[0]),
                opt(values[1]),
                opt(values[2]),
                raw(currency),
            ]
        }),
    )
}

/// The standing pauses: a row per (pause, recipient and item it holds back); a pause that
/// holds back nothing has one row with those fields empty and `held_back` 0.
pub fn pauses(report: &Report) -> String {
    let header = [
        "pause",
        "reason",
        "by",
        "since",
        "review_by",
        "scope",
        "recipient",
        "item",
        "held_back",
        "value",
        "currency",
    ];
    let rows = report.pauses.iter().flat_map(|p| {
        let scope = scope_text(&p.scope);
        let head = move |scope: &str| {
            vec![
                Field::Text(&p.id),
                Field::Text(&p.reason),
                Field::Text(&p.by),
                raw(format_time_plain(p.since)),
                opt(p.review_by.map(format_time_plain)),
                Field::Raw(text_field(scope).into_owned()),
            ]
        };
        let mut rows = Vec::new();
        if p.holds_back.is_empty() {
            let mut row = head(&scope);
            row.extend([raw(""), raw(""), raw(0), raw(""), raw("")]);
            rows.push(row);
        }
        for h in &p.holds_back {
            let mut row = head(&scope);
            row.extend([
                Field::Text(&h.recipient),
                Field::Text(&h.item),
                raw(h.qty),
                opt(h.value.as_ref().map(|v| v.amount.as_str())),
                opt(h.value.as_ref().map(|v| v.currency.as_str())),
            ]);
            rows.push(row);
        }
        rows
    });
    write(&header, rows)
}
