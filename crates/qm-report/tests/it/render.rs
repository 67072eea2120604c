//! The renderers on one small fixed scenario: the CSV files and the JSON document compared
//! byte for byte with the golden files in `tests/it/golden` (refresh them with
//! `UPDATE_GOLDEN=1 cargo test -p qm-report`, then read the diff), the workbook read back
//! with `calamine` (sheets, headers, numbers as numbers, text as text, frozen header), and
//! the HTML page's escaping and charts; the flows' tally and stages.
//!
//! The scenario's names carry what breaks careless writers: a comma and quotes (CSV), markup
//! and an ampersand (HTML), a leading `=` (spreadsheet formulas).

use std::io::{Cursor, Read};
use std::path::PathBuf;

use calamine::{Data, Reader, Xlsx};
use qm_core::{HolderKind, Ledger, Originals, Record};
use qm_report::render::{self, FlowTally, HolderGroup, Report, ReportQuery};

use crate::t;

/// Three orgs (one with a comma and quotes in its name), depots, a hub, a unit, sinks; a
/// shell with a unit value and a floor, a rocket whose name looks like a formula and
/// markup, a generator valued in euros; a transfer partly delivered, onward to a unit and
/// partly expended, a cancellation, a second donor, a transfer held back by a pause.
const SCENARIO: &str = r#"{"type":"org","id":"US","name":"United States","kind":"donor"}
{"type":"org","id":"UA","name":"Ukraine","kind":"recipient"}
{"type":"org","id":"XX","name":"Acme, \"Arms\" & Co","kind":"donor"}
{"type":"holder","id":"SRC","name":"US production","org":"US","kind":"source"}
{"type":"holder","id":"D1","name":"Depot <One>","org":"US","kind":"depot"}
{"type":"holder","id":"HUB","name":"Hub","org":"US","kind":"transit"}
{"type":"holder","id":"UA-DEP","name":"Lviv depot","org":"UA","kind":"depot"}
{"type":"holder","id":"UA-U1","name":"1st Brigade","org":"UA","kind":"unit"}
{"type":"holder","id":"UA-SPENT","name":"Expended","org":"UA","kind":"sink"}
{"type":"holder","id":"XX-SRC","name":"Acme works","org":"XX","kind":"source"}
{"type":"holder","id":"XX-DEP","name":"Acme depot","org":"XX","kind":"depot"}
{"type":"item","code":"SHELL","name":"155 mm shell","category":"artillery","tracking":"bulk","unit_value":{"amount":"1000.50","currency":"USD"}}
{"type":"item","code":"=ROCKET","name":"=SUM(A1) <b>rocket</b>","category":"artillery","tracking":"bulk"}
{"type":"item","code":"GEN","name":"Generator","category":"support","tracking":"bulk","unit_value":{"amount":"250","currency":"EUR"}}
{"type":"floor","item":"SHELL","org":"US","min_qty":40}
{"type":"movement","id":"m1","time":"2025-01-01","item":"SHELL","qty":100,"from":"SRC","to":"D1"}
{"type":"movement","id":"m2","time":"2025-01-01","item":"=ROCKET","qty":20,"from":"SRC","to":"D1"}
{"type":"movement","id":"m3","time":"2025-01-01","item":"GEN","qty":50,"from":"XX-SRC","to":"XX-DEP"}
{"type":"consumption","id":"c1","item":"SHELL","org":"US","qty_per_month":20,"from_time":"2025-03-01"}
{"type":"transfer","id":"T1","time":"2025-01-10","donor":"US","recipient":"UA","authority":"PDA 1","lines":[{"item":"SHELL","qty":30,"value":{"amount":"33000.00","currency":"USD"}},{"item":"=ROCKET","qty":8}]}
{"type":"allocate","id":"a1","time":"2025-01-11","transfer":"T1","item":"SHELL","qty":30,"from":"D1"}
{"type":"allocate","id":"a2","time":"2025-01-11","transfer":"T1","item":"=ROCKET","qty":5,"from":"D1"}
{"type":"cancel","id":"x1","time":"2025-01-15","transfer":"T1","item":"=ROCKET","qty":3,"reason":"Not needed"}
{"type":"movement","id":"d1","time":"2025-01-12","item":"SHELL","qty":30,"from":"D1","to":"HUB","transfer":"T1"}
{"type":"movement","id":"d2","time":"2025-01-20","item":"SHELL","qty":20,"from":"HUB","to":"UA-DEP","transfer":"T1"}
{"type":"movement","id":"d3","time":"2025-02-03","item":"SHELL","qty":15,"from":"UA-DEP","to":"UA-U1","transfer":"T1"}
{"type":"movement","id":"d4","time":"2025-02-10","item":"SHELL","qty":5,"from":"UA-U1","to":"UA-SPENT","transfer":"T1"}
{"type":"movement","id":"d5","time":"2025-02-05","item":"=ROCKET","qty":5,"from":"D1","to":"UA-DEP","transfer":"T1"}
{"type":"transfer","id":"T2","time":"2025-02-01","donor":"XX","recipient":"UA","lines":[{"item":"GEN","qty":10}]}
{"type":"allocate","id":"a3","time":"2025-02-02","transfer":"T2","item":"GEN","qty":10,"from":"XX-DEP"}
{"type":"movement","id":"d6","time":"2025-02-15","item":"GEN","qty":10,"from":"XX-DEP","to":"UA-DEP","transfer":"T2"}
{"type":"transfer","id":"T3","time":"2025-02-25","donor":"US","recipient":"UA","lines":[{"item":"SHELL","qty":10}]}
{"type":"pause","id":"P1","time":"2025-02-20","reason":"Review, \"urgent\"","by":"J4","items":["SHELL"],"recipient":"UA","review_by":"2025-03-31"}
"#;

/// The scenario's ledger and its movements (for the flows).
fn scenario() -> (Ledger, Vec<qm_core::Movement>) {
    let records: Vec<Record> = qm_interchange::parse_text("scenario.jsonl", SCENARIO, 10)
        .unwrap_or_else(|e| panic!("{e}"))
        .into_iter()
        .map(|(_, r)| r)
        .collect();
    let mut ledger = Ledger::new();
    if let Err(e) = ledger.apply(&records, &Originals::default()) {
        panic!("rejected: {:?}", e.errors);
    }
    let movements = records
        .into_iter()
        .filter_map(|r| match r {
            Record::Movement(m) => Some(m),
            _ => None,
        })
        .collect();
    (ledger, movements)
}

fn report_with(q: &ReportQuery<'_>) -> Report {
    let (ledger, movements) = scenario();
    let mut tally = FlowTally::new(&ledger, &q.transfer_filter(), q.as_of);
    assert_eq!(tally.batches(), [1], "one batch holds everything");
    for m in &movements {
        tally.add(m);
    }
    render::gather(&ledger, q, tally.finish())
}

fn report() -> Report {
    report_with(&ReportQuery {
        org: None,
        as_of: t("2025-03-01"),
        horizon: 6,
        donor: None,
        recipient: None,
    })
}

/// Compares `actual` with the golden file `name`, byte for byte; with `UPDATE_GOLDEN=1`,
/// writes it instead.
#[track_caller]
fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (write it with UPDATE_GOLDEN=1 cargo test -p qm-report)",
            path.display()
        )
    });
    if expected != actual {
        let line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from what is rendered now, first at line {}:\n  golden: {:?}\n  now:    {:?}\n\
             (if the change is meant, refresh with UPDATE_GOLDEN=1 cargo test -p qm-report and read the diff)",
            path.display(),
            line + 1,
            expected.lines().nth(line),
            actual.lines().nth(line)
        );
    }
}

#[test]
fn csv_files_match_their_golden_files() {
    let r = report();
    let files = render::csv::files(&r);
    let names: Vec<&str> = files.iter().map(|f| f.name).collect();
    assert_eq!(
        names,
        [
            "review.csv",
            "transfers_summary.csv",
            "donor_totals.csv",
            "pauses.csv",
            "forecast_lines.csv"
        ]
    );
    for f in &files {
        golden(f.name, &f.text);
    }
    // The text a spreadsheet would run as a formula is defused; a negative number is not.
    let review = &files[0].text;
    assert!(review.contains("'=ROCKET,'=SUM(A1) <b>rocket</b>,artillery,"));
    assert!(files[1].text.contains(r#"XX,UA,GEN,support,"#));
}

#[test]
fn the_json_document_matches_its_golden_file() {
    let r = report();
    let text = render::json(&r);
    golden("report.json", &text);
    // It is the report, whole: reading it gives back every view.
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["review"]["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["donor_view"],
        serde_json::to_value(&r.donor_view).unwrap()
    );
}

#[test]
fn flows_place_each_holder_in_its_stage_of_the_journey() {
    let r = report();
    let edges: Vec<(&str, &str, HolderGroup, &str, HolderGroup, u128)> = r
        .flows
        .iter()
        .map(|e| {
            (
                e.item.as_str(),
                e.from.as_str(),
                e.from_group,
                e.to.as_str(),
                e.to_group,
                e.qty,
            )
        })
        .collect();
    use HolderGroup::*;
    assert_eq!(
        edges,
        [
            ("=ROCKET", "D1", DonorDepot, "UA-DEP", Recipient, 5),
            ("GEN", "XX-DEP", DonorDepot, "UA-DEP", Recipient, 10),
            ("SHELL", "D1", DonorDepot, "HUB", Transit, 30),
            ("SHELL", "HUB", Transit, "UA-DEP", Recipient, 20),
            ("SHELL", "UA-DEP", Recipient, "UA-U1", Recipient, 15),
            ("SHELL", "UA-U1", Recipient, "UA-SPENT", Sink, 5),
        ]
    );
    // As of before the onward movements, only what had happened counts.
    let early = report_with(&ReportQuery {
        org: None,
        as_of: t("2025-01-31"),
        horizon: 6,
        donor: Some("US"),
        recipient: None,
    });
    let qty: Vec<(&str, &str, u128)> = early
        .flows
        .iter()
        .map(|e| (e.from.as_str(), e.to.as_str(), e.qty))
        .collect();
    assert_eq!(qty, [("D1", "HUB", 30), ("HUB", "UA-DEP", 20)]);
    // A holder's stage is relative to the transfer: another donor's depot is on the way.
    assert_eq!(
        HolderGroup::of(HolderKind::Depot, "XX", "US", "UA"),
        HolderGroup::Transit
    );
    assert_eq!(
        HolderGroup::of(HolderKind::Source, "XX", "US", "UA"),
        HolderGroup::DonorDepot
    );
    assert_eq!(
        HolderGroup::of(HolderKind::Unit, "UA", "US", "UA"),
        HolderGroup::Recipient
    );
}

#[test]
fn deliveries_are_per_recipient_month_and_item_with_values_where_known() {
    let r = report();
    let rows: Vec<(&str, &str, &str, u128, Option<String>)> = r
        .deliveries
        .iter()
        .map(|d| {
            (
                d.recipient.as_str(),
                d.month.as_str(),
                d.item.as_str(),
                d.qty,
                d.value
                    .as_ref()
                    .map(|v| format!("{} {}", v.amount, v.currency)),
            )
        })
        .collect();
    // 20 shells of a 30-shell line worth 33,000.00: 22,000.00. Rockets have no value.
    assert_eq!(
        rows,
        [
            ("UA", "2025-01", "SHELL", 20, Some("22000.00 USD".into())),
            ("UA", "2025-02", "=ROCKET", 5, None),
            ("UA", "2025-02", "GEN", 10, Some("2500.00 EUR".into())),
        ]
    );
}

/// The workbook's sheets, read back.
fn workbook() -> Xlsx<Cursor<Vec<u8>>> {
    let bytes = render::xlsx::workbook(&report()).expect("the workbook");
    calamine::open_workbook_from_rs(Cursor::new(bytes)).expect("calamine reads it")
}

fn header(range: &calamine::Range<Data>) -> Vec<String> {
    range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect()
}

/// The row whose first cell is `key`, by column name.
fn row<'r>(range: &'r calamine::Range<Data>, key: &str) -> Vec<(String, &'r Data)> {
    let head = header(range);
    let r = range
        .rows()
        .find(|r| r[0] == Data::String(key.into()))
        .unwrap_or_else(|| panic!("no row {key}"));
    head.into_iter().zip(r.iter()).collect()
}

fn cell<'r>(row: &[(String, &'r Data)], col: &str) -> &'r Data {
    row.iter()
        .find(|(c, _)| c == col)
        .unwrap_or_else(|| panic!("no column {col}"))
        .1
}

#[test]
fn the_workbook_reads_back_with_a_sheet_per_view_and_numbers_as_numbers() {
    let mut wb = workbook();
    assert_eq!(
        wb.sheet_names(),
        ["Review", "Donor view", "Donor totals", "Pauses", "About"]
    );
    let review = wb.worksheet_range("Review").unwrap();
    assert_eq!(
        header(&review),
        [
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
            "Currency"
        ]
    );
    assert_eq!(review.height(), 4, "a header and three items");
    // Every org's depots: 100 shells at D1 less 30 dispatched, and 5 left at the recipient's
    // depot: 75 on hand, floor 40 (the US's); 20 a month from 1 March: 55 on 1 April, 35
    // on 1 May, so below the floor from mid-April: one whole month of cover.
    let shell = row(&review, "SHELL");
    assert_eq!(cell(&shell, "On hand"), &Data::Float(75.0));
    assert_eq!(cell(&shell, "Floor"), &Data::Float(40.0));
    assert_eq!(cell(&shell, "Headroom"), &Data::Float(35.0));
    assert_eq!(cell(&shell, "In transit"), &Data::Float(10.0));
    assert_eq!(cell(&shell, "Months of cover"), &Data::Float(1.0));
    let breach = cell(&shell, "First breach");
    assert_eq!(breach, &Data::String("2025-04".into()));
    assert_eq!(cell(&shell, "On hand value"), &Data::Float(75_037.5));
    assert_eq!(cell(&shell, "Currency"), &Data::String("USD".into()));
    // Text that looks like a formula is a string cell, as written.
    let rocket = row(&review, "=ROCKET");
    assert_eq!(
        cell(&rocket, "Name"),
        &Data::String("=SUM(A1) <b>rocket</b>".into())
    );
    assert_eq!(cell(&rocket, "On hand value"), &Data::Empty);
    let formulas = wb.worksheet_formula("Review").unwrap();
    assert!(
        formulas.used_cells().all(|(_, _, f)| f.is_empty()),
        "no cell is a formula"
    );

    let view = wb.worksheet_range("Donor view").unwrap();
    assert_eq!(
        header(&view)[..4],
        ["Donor", "Recipient", "Item", "Category"]
    );
    let gen = view
        .rows()
        .find(|r| r[2] == Data::String("GEN".into()))
        .unwrap();
    assert_eq!(gen[0], Data::String("XX".into()));
    assert_eq!(gen[4], Data::Float(10.0), "committed");
    assert_eq!(gen[8], Data::Float(10.0), "delivered");
    assert_eq!(gen[12], Data::Float(2500.0), "delivered value");
    assert_eq!(gen[13], Data::String("EUR".into()));

    let totals = wb.worksheet_range("Donor totals").unwrap();
    assert_eq!(header(&totals)[..3], ["Donor", "Category", "Committed"]);
    assert!(totals
        .rows()
        .skip(1)
        .all(|r| matches!(r[2], Data::Float(_))));

    let pauses = wb.worksheet_range("Pauses").unwrap();
    let p = row(&pauses, "P1");
    assert_eq!(
        cell(&p, "Reason"),
        &Data::String("Review, \"urgent\"".into())
    );
    assert!(
        matches!(cell(&p, "Since (UTC)"), Data::DateTime(_)),
        "a date-time cell: {:?}",
        cell(&p, "Since (UTC)")
    );
    assert_eq!(cell(&p, "Held back"), &Data::Float(10.0));
    assert_eq!(cell(&p, "Value"), &Data::Float(10_005.0));
}

#[test]
fn every_sheet_of_the_workbook_has_its_header_frozen_and_its_columns_sized() {
    let bytes = render::xlsx::workbook(&report()).unwrap();
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    for n in 1..=5 {
        let mut xml = String::new();
        zip.by_name(&format!("xl/worksheets/sheet{n}.xml"))
            .unwrap()
            .read_to_string(&mut xml)
            .unwrap();
        assert!(
            xml.contains(
                r#"<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>"#
            ),
            "sheet {n}: {xml}"
        );
        assert!(
            xml.contains("customWidth=\"1\""),
            "sheet {n} sizes its columns"
        );
        assert!(xml.contains("<autoFilter "), "sheet {n} filters its header");
    }
}

#[test]
fn the_html_page_escapes_every_text_and_draws_its_charts() {
    let r = report();
    let page = render::html::page(&r);
    assert!(page.starts_with("<!DOCTYPE html>"));
    // Names with markup are text.
    assert!(page.contains("=SUM(A1) &lt;b&gt;rocket&lt;/b&gt;"));
    assert!(!page.contains("<b>rocket</b>"));
    assert!(page.contains("Depot &lt;One&gt;"));
    assert!(page.contains("Acme, &quot;Arms&quot; &amp; Co (XX)"));
    assert!(page.contains("Review, &quot;urgent&quot;"));
    // Nothing outside the file.
    for outside in ["http://", "https://", "src=", "<script", "<link", "url("] {
        assert!(!page.contains(outside), "{outside}");
    }
    assert!(page.contains("default-src 'none'"));
    // The charts: a projection per item with anything (the shell at risk first), deliveries
    // for the one recipient, a flow per item moved.
    let count = |s: &str| page.matches(s).count();
    assert_eq!(count(r#"class="chart chart-projection""#), 3);
    assert_eq!(count(r#"class="chart chart-deliveries""#), 1);
    assert_eq!(count(r#"class="chart chart-flow""#), 3);
    let first = page.find(r#"id="chart-projection-0""#).unwrap();
    assert!(page[first..]
        .starts_with(r#"id="chart-projection-0" class="chart chart-projection" viewBox"#));
    assert!(
        page[..first].contains("<b>SHELL</b>"),
        "the item at risk first"
    );
    // Values of two currencies are not added up: the deliveries chart counts units.
    assert!(page.contains("(units delivered)"));
    // The plans behind the projection, each on its own line.
    assert!(page.contains("<h3>What the projection counts</h3>"));
    assert!(
        page.contains(">consumption</td>"),
        "the consumption plan c1 is listed"
    );
    // The same report renders to the same page.
    assert_eq!(page, render::html::page(&report()));
}

#[test]
fn an_empty_ledger_renders_every_format_with_its_empty_states() {
    let ledger = Ledger::new();
    let q = ReportQuery {
        org: None,
        as_of: t("2025-03-01"),
        horizon: 24,
        donor: None,
        recipient: None,
    };
    let r = render::gather(&ledger, &q, Vec::new());
    let page = render::html::page(&r);
    assert_eq!(page.matches("<svg").count(), 0);
    for empty in [
        "No item holds stock, has a floor or has plans.",
        "Nothing delivered under transfers by 2025-03-01T00:00:00Z.",
        "No movement under the transfers in view by 2025-03-01T00:00:00Z.",
        "No pause stands.",
    ] {
        assert!(page.contains(empty), "{empty}");
    }
    for f in render::csv::files(&r) {
        assert_eq!(f.text.lines().count(), 1, "{}: the header alone", f.name);
    }
    let mut wb: Xlsx<_> =
        calamine::open_workbook_from_rs(Cursor::new(render::xlsx::workbook(&r).unwrap())).unwrap();
    assert_eq!(wb.worksheet_range("Review").unwrap().height(), 1);
}
