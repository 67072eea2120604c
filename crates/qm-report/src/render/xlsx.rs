//! The report as one XLSX workbook (written by `rust_xlsxwriter`, in memory): a sheet per
//! view, `Review`, `Donor view` (per donor, recipient and item), `Donor totals` (per donor
//! and category) and `Pauses`, then `About` (what the report covers: as of, org, horizon,
//! filters, the ledger's batch).
//!
//! Each view's sheet has one header row, frozen and with an autofilter, then its rows, with
//! the same columns as the CSV files (`csv.rs`). Quantities and money are number cells
//! (`#,##0` and `#,##0.00`), with the currency in a column of its own; an absent value is an
//! empty cell; times are date-time cells in UTC (text when outside Excel's years 1900 to
//! 9999). Text is always a string cell, never a formula, whatever it begins with. Column
//! widths follow the widest cell, within bounds.

use rust_xlsxwriter::{
    Color, DocProperties, ExcelDateTime, Format, FormatBorder, Workbook, Worksheet, XlsxError,
};

use qm_core::{format_time_plain, Time};

use super::{money_columns, scope_text, Report};

/// The sheets, in order.
pub const SHEETS: [&str; 5] = ["Review", "Donor view", "Donor totals", "Pauses", "About"];

/// The longest text a cell holds (Excel's limit).
const CELL_CHARS_MAX: usize = 32_767;
/// Column widths, in characters.
const WIDTH_MIN: f64 = 8.0;
const WIDTH_MAX: f64 = 60.0;

/// A cell of a view's row.
enum Cell<'a> {
    Text(&'a str),
    Owned(String),
    /// A quantity: a number cell while an IEEE double holds it exactly (up to 2^53), else
    /// its exact digits as text.
    Qty(i128),
    Money(Option<f64>),
    Int(Option<f64>),
    Time(Option<Time>),
}

fn qty(n: impl Into<i128>) -> Cell<'static> {
    Cell::Qty(n.into())
}

/// The largest integer every number cell holds exactly.
const EXACT_MAX: i128 = 1 << 53;

/// A number cell while a double holds the amount exactly (at most 15 significant digits),
/// else its exact text.
fn money(a: Option<&str>) -> Cell<'static> {
    match a {
        Some(a)
            if a.trim_start_matches('0')
                .bytes()
                .filter(u8::is_ascii_digit)
                .count()
                > 15 =>
        {
            Cell::Owned(a.to_owned())
        }
        _ => Cell::Money(a.and_then(|a| a.parse::<f64>().ok())),
    }
}

struct Formats {
    header: Format,
    qty: Format,
    money: Format,
    time: Format,
    text: Format,
}

/// Writes one view: header, rows, frozen header, autofilter and widths.
fn sheet(
    ws: &mut Worksheet,
    f: &Formats,
    header: &[&str],
    rows: &[Vec<Cell<'_>>],
) -> Result<(), XlsxError> {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count() + 3).collect();
    for (c, h) in header.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &f.header)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let col = c as u16;
            let chars = match cell {
                Cell::Text(s) => write_text(ws, r, col, s, &f.text)?,
                Cell::Owned(s) => write_text(ws, r, col, s, &f.text)?,
                Cell::Qty(n) if n.unsigned_abs() <= EXACT_MAX as u128 => {
                    ws.write_number_with_format(r, col, *n as f64, &f.qty)?;
                    super::group_digits(*n).len()
                }
                Cell::Qty(n) => write_text(ws, r, col, &n.to_string(), &f.text)?,
                Cell::Int(Some(n)) => {
                    ws.write_number_with_format(r, col, *n, &f.qty)?;
                    super::group_digits(*n as i128).len()
                }
                Cell::Money(Some(n)) => {
                    ws.write_number_with_format(r, col, *n, &f.money)?;
                    super::group_digits(*n as i128).len() + 3
                }
                Cell::Time(Some(t)) => {
                    match ExcelDateTime::from_timestamp(t.div_euclid(1_000_000_000)) {
                        Ok(dt) => {
                            ws.write_datetime_with_format(r, col, &dt, &f.time)?;
                            19
                        }
                        Err(_) => write_text(ws, r, col, &format_time_plain(*t), &f.text)?,
                    }
                }
                Cell::Int(None) | Cell::Money(None) | Cell::Time(None) => 0,
            };
            widths[c] = widths[c].max(chars + 2);
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, (*w as f64).clamp(WIDTH_MIN, WIDTH_MAX))?;
    }
    ws.set_freeze_panes(1, 0)?;
    let last_col = header.len().saturating_sub(1) as u16;
    ws.autofilter(0, 0, rows.len() as u32, last_col)?;
    Ok(())
}

/// A string cell (cut to Excel's limit); returns its width in characters.
fn write_text(ws: &mut Worksheet, r: u32, c: u16, s: &str, f: &Format) -> Result<usize, XlsxError> {
    let n = s.chars().count();
    if n > CELL_CHARS_MAX {
        let cut: String = s.chars().take(CELL_CHARS_MAX - 1).chain(['…']).collect();
        ws.write_string_with_format(r, c, cut, f)?;
    } else {
        ws.write_string_with_format(r, c, s, f)?;
    }
    Ok(s.lines().map(|l| l.chars().count()).max().unwrap_or(0))
}

/// The workbook's bytes.
pub fn workbook(report: &Report) -> Result<Vec<u8>, XlsxError> {
    let border = Color::RGB(0x9CA3AF);
    let f = Formats {
        header: Format::new()
            .set_bold()
            .set_background_color(Color::RGB(0xE5E7EB))
            .set_border_bottom(FormatBorder::Thin)
            .set_border_bottom_color(border),
        qty: Format::new().set_num_format("#,##0"),
        money: Format::new().set_num_format("#,##0.00"),
        time: Format::new().set_num_format("yyyy-mm-dd hh:mm:ss"),
        text: Format::new(),
    };
    let mut wb = Workbook::new();
    wb.set_properties(
        &DocProperties::new()
            .set_title("Quartermaster report")
            .set_subject(format!(
                "Review of {} and the donor view, as of {}",
                report.org.as_deref().unwrap_or("every org"),
                format_time_plain(report.as_of)
            ))
            .set_comment("Written by qm report"),
    );

    let review: Vec<Vec<Cell<'_>>> = report
        .review
        .items
        .iter()
        .map(|i| {
            let (v, currency) = money_columns(&[&i.on_hand_value, &i.available_value]);
            vec![
                Cell::Text(&i.item),
                Cell::Text(&i.name),
                Cell::Text(&i.category),
                qty(i.on_hand),
                qty(i.floor),
                qty(i.headroom),
                qty(i.earmarked),
                qty(i.available),
                qty(i.in_transit),
                qty(i.production),
                qty(i.consumption),
                Cell::Int(i.months_of_cover.map(f64::from)),
                Cell::Text(i.first_breach.as_deref().unwrap_or("")),
                money(v[0]),
                money(v[1]),
                Cell::Text(currency),
            ]
        })
        .collect();
    sheet(
        wb.add_worksheet().set_name(SHEETS[0])?,
        &f,
        &[
            "Item",
            "Name",
            "Category",
            "On hand",
            "Floor",
            "Headroom",
            "Earmarked",
            "Available",
            "In transit",
            "Production",
            "Consumption",
            "Months of cover",
            "First breach",
            "On hand value",
            "Available value",
            "Currency",
        ],
        &review,
    )?;

    let donor_view: Vec<Vec<Cell<'_>>> = report
        .donor_view
        .iter()
        .map(|r| {
            let (v, currency) =
                money_columns(&[&r.committed_value, &r.allocated_value, &r.delivered_value]);
            vec![
                Cell::Text(&r.donor),
                Cell::Text(&r.recipient),
                Cell::Text(&r.item),
                Cell::Text(&r.category),
                qty(r.committed as i128),
                qty(r.cancelled as i128),
                qty(r.allocated as i128),
                qty(r.dispatched as i128),
                qty(r.delivered as i128),
                qty(r.in_transit as i128),
                money(v[0]),
                money(v[1]),
                money(v[2]),
                Cell::Text(currency),
            ]
        })
        .collect();
    sheet(
        wb.add_worksheet().set_name(SHEETS[1])?,
        &f,
        &[
            "Donor",
            "Recipient",
            "Item",
            "Category",
            "Committed",
            "Cancelled",
            "Allocated",
            "Dispatched",
            "Delivered",
            "In transit",
            "Committed value",
            "Allocated value",
            "Delivered value",
            "Currency",
        ],
        &donor_view,
    )?;

    let totals: Vec<Vec<Cell<'_>>> = report
        .donor_totals
        .iter()
        .map(|r| {
            let (v, currency) =
                money_columns(&[&r.committed_value, &r.allocated_value, &r.delivered_value]);
            vec![
                Cell::Text(&r.donor),
                Cell::Text(&r.category),
                qty(r.committed as i128),
                qty(r.allocated as i128),
                qty(r.dispatched as i128),
                qty(r.delivered as i128),
                money(v[0]),
                money(v[1]),
                money(v[2]),
                Cell::Text(currency),
            ]
        })
        .collect();
    sheet(
        wb.add_worksheet().set_name(SHEETS[2])?,
        &f,
        &[
            "Donor",
            "Category",
            "Committed",
            "Allocated",
            "Dispatched",
            "Delivered",
            "Committed value",
            "Allocated value",
            "Delivered value",
            "Currency",
        ],
        &totals,
    )?;

    let mut pauses: Vec<Vec<Cell<'_>>> = Vec::new();
    for p in &report.pauses {
        let head = || {
            vec![
                Cell::Text(&p.id),
                Cell::Text(&p.reason),
                Cell::Text(&p.by),
                Cell::Time(Some(p.since)),
                Cell::Time(p.review_by),
                Cell::Owned(scope_text(&p.scope)),
            ]
        };
        if p.holds_back.is_empty() {
            let mut row = head();
            row.extend([
                Cell::Text(""),
                Cell::Text(""),
                qty(0),
                Cell::Money(None),
                Cell::Text(""),
            ]);
            pauses.push(row);
        }
        for h in &p.holds_back {
            let mut row = head();
            row.extend([
                Cell::Text(&h.recipient),
                Cell::Text(&h.item),
                qty(h.qty as i128),
                money(h.value.as_ref().map(|v| v.amount.as_str())),
                Cell::Text(h.value.as_ref().map_or("", |v| v.currency.as_str())),
            ]);
            pauses.push(row);
        }
    }
    sheet(
        wb.add_worksheet().set_name(SHEETS[3])?,
        &f,
        &[
            "Pause",
            "Reason",
            "By",
            "Since (UTC)",
            "Review by (UTC)",
            "Scope",
            "Recipient",
            "Item",
            "Held back",
            "Value",
            "Currency",
        ],
        &pauses,
    )?;

    let about: Vec<Vec<Cell<'_>>> = vec![
        vec![Cell::Text("As of (UTC)"), Cell::Time(Some(report.as_of))],
        vec![
            Cell::Text("Org under review"),
            Cell::Text(report.org.as_deref().unwrap_or("every org")),
        ],
        vec![
            Cell::Text("Horizon (months)"),
            Cell::Int(Some(report.horizon as f64)),
        ],
        vec![
            Cell::Text("Donor"),
            Cell::Text(report.donor.as_deref().unwrap_or("any")),
        ],
        vec![
            Cell::Text("Recipient"),
            Cell::Text(report.recipient.as_deref().unwrap_or("any")),
        ],
        vec![
            Cell::Text("Ledger at batch"),
            Cell::Int(Some(report.ledger_batch as f64)),
        ],
    ];
    sheet(
        wb.add_worksheet().set_name(SHEETS[4])?,
        &f,
        &["Report", "Value"],
        &about,
    )?;
    wb.save_to_buffer()
}
