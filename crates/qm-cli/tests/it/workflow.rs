//! The shipment workflow through the real `qm` binary (interchange v1.1): transfers,
//! allocations, dispatches, deliveries, cancellations, pauses and floors applied as files,
//! and `qm transfers [--summary|--totals]`, `qm transfer show`, `qm pauses`, `qm review`
//! (earmarked, available, what-if, `--fail-on-breach`) read back as JSON and tables, on the
//! embedded file and on PostgreSQL.

use serde_json::{json, Value};

use crate::support::*;

/// The world plus stock, floors, values and a transfer in every stage.
fn workflow() -> (Jsonl, Jsonl) {
    let mut master = world();
    master
        .push(json!({"type": "item", "code": "PAC3", "name": "PAC-3 MSE", "category": "air defence", "tracking": "bulk", "unit_value": {"amount": "4000000", "currency": "USD"}}))
        .floor("PAC3", "US", 20)
        .mv("s1", "2025-01-01", "AMMO", 1000, "FACTORY", "DEPOT-A")
        .mv("s2", "2025-01-01", "PAC3", 50, "FACTORY", "DEPOT-A")
        .mv("s3", "2025-01-01", "PAC3", 10, "FACTORY", "DEPOT-B");
    let mut wf = Jsonl::new();
    wf.push(json!({"type": "transfer", "id": "T1", "time": "2025-02-01", "donor": "US", "recipient": "UA", "authority": "PDA 1",
                    "lines": [{"item": "PAC3", "qty": 30}, {"item": "AMMO", "qty": 500, "value": {"amount": "250000", "currency": "USD"}}]}))
        .push(json!({"type": "allocate", "id": "A1", "time": "2025-02-02", "transfer": "T1", "item": "PAC3", "qty": 20, "from": "DEPOT-A"}))
        .push(json!({"type": "allocate", "id": "A2", "time": "2025-02-02", "transfer": "T1", "item": "AMMO", "qty": 500, "from": "DEPOT-A"}))
        .push(json!({"type": "movement", "id": "x1", "time": "2025-02-03", "item": "PAC3", "qty": 12, "from": "DEPOT-A", "to": "SHIP", "transfer": "T1"}))
        .push(json!({"type": "movement", "id": "x2", "time": "2025-02-05", "item": "PAC3", "qty": 8, "from": "SHIP", "to": "UA-UNIT", "transfer": "T1"}))
        .push(json!({"type": "movement", "id": "x3", "time": "2025-02-06", "item": "AMMO", "qty": 500, "from": "DEPOT-A", "to": "UA-DEPOT", "transfer": "T1"}))
        .push(json!({"type": "pause", "id": "P1", "time": "2025-07-01", "reason": "stockpile review", "by": "OSD", "items": ["PAC3"], "recipient": "UA", "review_by": "2025-08-01"}));
    (master, wf)
}

fn check_workflow(db: &Db) {
    let (mut master, wf) = workflow();
    // A higher floor, which the approvals below keep (available 40 after A1) until A4.
    master.floor("PAC3", "US", 35);
    db.apply_ok("master.jsonl", &master.text());
    db.apply_ok("wf.jsonl", &wf.text());

    // The donor view, exactly as workflow.md spells it.
    let summary = db.qm(&["transfers", "--summary", "--json"]).ok().json();
    assert_eq!(
        summary,
        json!([
            {"donor": "US", "recipient": "UA", "item": "AMMO", "category": "ammunition", "committed": 500, "cancelled": 0, "allocated": 500,
             "dispatched": 500, "delivered": 500, "in_transit": 0,
             "committed_value": {"amount": "250000.00", "currency": "USD"}, "allocated_value": {"amount": "250000.00", "currency": "USD"},
             "delivered_value": {"amount": "250000.00", "currency": "USD"}},
            {"donor": "US", "recipient": "UA", "item": "PAC3", "category": "air defence", "committed": 30, "cancelled": 0, "allocated": 20,
             "dispatched": 12, "delivered": 8, "in_transit": 4,
             "committed_value": {"amount": "120000000.00", "currency": "USD"}, "allocated_value": {"amount": "80000000.00", "currency": "USD"},
             "delivered_value": {"amount": "32000000.00", "currency": "USD"}}
        ])
    );
    // As of a time before the dispatches: nothing dispatched yet.
    let early = db
        .qm(&[
            "transfers",
            "--summary",
            "--as-of",
            "2025-02-02T12:00:00Z",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(early[1]["allocated"], 20);
    assert_eq!(early[1]["dispatched"], 0);
    let before = db
        .qm(&["transfers", "--summary", "--as-of", "2025-01-15", "--json"])
        .ok()
        .json();
    assert_eq!(before, json!([]), "nothing committed by then");
    // Filters name what exists, or exit 1 naming it.
    let r = db.qm(&["transfers", "--summary", "--donor", "NOPE", "--json"]);
    r.expect_code(1);
    assert!(r.stderr.contains("NOPE"), "{}", r.stderr);

    // One transfer in full, with every record that touched it and who recorded it.
    let show = db.qm(&["transfer", "show", "T1", "--json"]).ok().json();
    assert_eq!(show["donor"], "US");
    assert_eq!(show["state"], "in_transit");
    assert_eq!(show["paused_by"], json!(["P1"]));
    let kinds: Vec<&str> = show["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["transfer", "allocate", "allocate", "movement", "movement", "movement"]
    );
    assert!(show["records"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["recorded_by"] == "tester"));
    db.qm(&["transfer", "show", "NOPE"]).expect_code(1);

    // The standing pause and what it holds back: committed less dispatched, with its value.
    let pauses = db.qm(&["pauses", "--json"]).ok().json();
    assert_eq!(
        pauses,
        json!([{"id": "P1", "reason": "stockpile review", "by": "OSD", "since": "2025-07-01T00:00:00Z", "review_by": "2025-08-01T00:00:00Z",
                "scope": {"items": ["PAC3"], "recipient": "UA"},
                "holds_back": [{"recipient": "UA", "item": "PAC3", "qty": 18, "value": {"amount": "72000000.00", "currency": "USD"}}],
                "holds_back_value": {"amount": "72000000.00", "currency": "USD"},
                "accepted_before_recorded": []}])
    );
    assert_eq!(
        db.qm(&["pauses", "--as-of", "2025-06-30", "--json"])
            .ok()
            .json(),
        json!([])
    );

    // The review: earmarked and available per item.
    let review = db
        .qm(&["review", "--org", "US", "--as-of", "2025-03-01", "--json"])
        .ok()
        .json();
    let pac3 = item(&review, "PAC3");
    assert_eq!(
        (
            pac3["on_hand"].as_i64(),
            pac3["earmarked"].as_i64(),
            pac3["available"].as_i64()
        ),
        (Some(48), Some(8), Some(40))
    );

    // An approval while the pause stands is refused naming it, file:line:field.
    let bad = db.file("bad.jsonl", &format!("{}\n", json!({"type": "allocate", "id": "A3", "time": "2025-07-02", "transfer": "T1", "item": "PAC3", "qty": 5, "from": "DEPOT-B"})));
    let r = db.qm(&["apply", &bad]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(r#"bad.jsonl:1: field "transfer": pause "P1" stands at 2025-07-02T00:00:00Z (since 2025-07-01T00:00:00Z, to be reviewed by 2025-08-01T00:00:00Z): stockpile review"#),
        "{}",
        r.stderr
    );
    // Below the floor: refused naming item, org, floor and shortfall; accepted with an override.
    let low = json!({"type": "allocate", "id": "A4", "time": "2025-02-02", "transfer": "T1", "item": "PAC3", "qty": 10, "from": "DEPOT-B"});
    let f = db.file("low.jsonl", &format!("{low}\n"));
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(
            r#"low.jsonl:1: field "qty": available stock of "PAC3" for org "US" would fall to 30"#
        ),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("below its floor of 35: short by 5"),
        "{}",
        r.stderr
    );
    let mut over = low.clone();
    over["override"] = json!({"reason": "air defence of Kyiv", "by": "SecDef"});
    db.apply_ok("over.jsonl", &format!("{over}\n"));
    let show = db.qm(&["transfer", "show", "T1", "--json"]).ok().json();
    let a4 = show["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == "A4")
        .unwrap()
        .clone();
    assert_eq!(
        a4["override"],
        json!({"reason": "air defence of Kyiv", "by": "SecDef"})
    );
    assert_eq!(a4["breach"]["short_by"], 5);

    // A cancellation of the undispatched remainder releases the earmarks above it.
    db.apply_ok("cancel.jsonl", &format!("{}\n", json!({"type": "cancel", "id": "C1", "time": "2025-03-01", "transfer": "T1", "item": "PAC3", "reason": "review"})));
    let summary = db.qm(&["transfers", "--summary", "--json"]).ok().json();
    assert_eq!(
        (
            summary[1]["committed"].as_u64(),
            summary[1]["cancelled"].as_u64(),
            summary[1]["allocated"].as_u64()
        ),
        (Some(12), Some(18), Some(12))
    );
    assert_eq!(
        db.qm(&["pauses", "--json"]).ok().json()[0]["holds_back"],
        json!([])
    );

    // The tables say the same for people.
    let t = db.qm(&["transfers"]).ok().stdout.clone();
    assert!(
        t.contains("T1") && t.contains("in_transit") && t.contains("P1"),
        "{t}"
    );
    // Options of the list only conflict with the views that would ignore them.
    for view in ["--summary", "--totals"] {
        let r = db.qm(&["transfers", view, "--state", "delivered", "--json"]);
        r.expect_code(2);
        assert!(r.stderr.contains("cannot be used with"), "{}", r.stderr);
    }
    db.qm(&["transfers", "--summary", "--totals"])
        .expect_code(2);
    let t = db.qm(&["transfers", "--totals"]).ok().stdout.clone();
    assert!(t.contains("air defence"), "{t}");

    // The export holds every workflow record and rebuilds the same ledger.
    let export = db.export();
    assert!(export.contains(r#"{"type":"cancel","id":"C1""#), "{export}");
    let again = Db::new();
    again.apply_ok("export.jsonl", &export);
    assert_eq!(again.export(), export);
    assert_eq!(
        again.qm(&["transfers", "--summary", "--json"]).ok().json(),
        summary
    );
    db.qm(&["verify"]).ok();
}

fn item<'v>(review: &'v Value, code: &str) -> &'v Value {
    review["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == code)
        .unwrap()
}

#[test]
fn the_workflow_through_the_binary_on_the_embedded_file() {
    check_workflow(&Db::new());
}

#[test]
fn the_workflow_through_the_binary_on_postgres() {
    check_workflow(&Db::postgres());
}

/// The acceptance scenario of a late pause: it undoes nothing, and `transfer show` and `qm
/// pauses` show the records it covers that were accepted before it was recorded.
fn check_late_pause(db: &Db) {
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    let mut wf = Jsonl::new();
    wf.push(json!({"type": "transfer", "id": "T1", "time": "2025-01-15", "donor": "US", "recipient": "UA", "lines": [{"item": "PAC3", "qty": 30, "value": {"amount": "9000000", "currency": "EUR"}}]}))
        .push(json!({"type": "allocate", "id": "A1", "time": "2025-03-05", "transfer": "T1", "item": "PAC3", "qty": 20, "from": "DEPOT-A"}))
        .push(json!({"type": "movement", "id": "m1", "time": "2025-03-10", "item": "PAC3", "qty": 5, "from": "DEPOT-A", "to": "SHIP", "transfer": "T1"}))
        .push(json!({"type": "movement", "id": "m0", "time": "2025-02-20", "item": "AMMO", "qty": 1, "from": "DEPOT-A", "to": "SHIP"}));
    db.apply_ok("wf.jsonl", &wf.text());
    db.apply_ok("pause.jsonl", &format!("{}\n", json!({"type": "pause", "id": "P1", "time": "2025-03-01", "reason": "late review", "by": "SecDef", "items": ["PAC3"]})));
    // Recorded after the pause and inside it: refused, as ever.
    let bad = db.file("bad.jsonl", &format!("{}\n", json!({"type": "allocate", "id": "A2", "time": "2025-03-06", "transfer": "T1", "item": "PAC3", "qty": 1, "from": "DEPOT-A"})));
    db.qm(&["apply", &bad]).expect_code(1);

    let show = db.qm(&["transfer", "show", "T1", "--json"]).ok().json();
    let marks: Vec<(String, Value)> = show["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r.get("within_pauses").cloned().unwrap_or(Value::Null),
            )
        })
        .collect();
    assert_eq!(
        marks,
        [
            ("T1".to_owned(), Value::Null),
            ("A1".to_owned(), json!(["P1"])),
            ("m1".to_owned(), json!(["P1"]))
        ]
    );
    let table = db.qm(&["transfer", "show", "T1"]).ok().stdout.clone();
    assert!(
        table.contains("within pause P1 (accepted before it was recorded)"),
        "{table}"
    );
    let pauses = db.qm(&["pauses", "--json"]).ok().json();
    assert_eq!(
        pauses[0]["accepted_before_recorded"],
        json!([
            {"id": "A1", "type": "allocate", "transfer": "T1", "item": "PAC3", "qty": 20, "time": "2025-03-05T00:00:00Z"},
            {"id": "m1", "type": "movement", "transfer": "T1", "item": "PAC3", "qty": 5, "time": "2025-03-10T00:00:00Z"}
        ])
    );
    // What it holds back is valued as the donor view values the line: its own value (EUR),
    // pro rata (25 of 30), not the item's unit value (USD).
    assert_eq!(
        pauses[0]["holds_back"],
        json!([{"recipient": "UA", "item": "PAC3", "qty": 25, "value": {"amount": "7500000.00", "currency": "EUR"}}])
    );
    assert_eq!(
        pauses[0]["holds_back_value"],
        json!({"amount": "7500000.00", "currency": "EUR"})
    );
    let summary = db.qm(&["transfers", "--summary", "--json"]).ok().json();
    assert_eq!(
        (
            &summary[0]["committed_value"],
            &summary[0]["allocated_value"],
            &summary[0]["delivered_value"]
        ),
        (
            &json!({"amount": "9000000.00", "currency": "EUR"}),
            &json!({"amount": "6000000.00", "currency": "EUR"}),
            &json!({"amount": "0.00", "currency": "EUR"})
        )
    );
    let table = db.qm(&["transfers", "--summary"]).ok().stdout.clone();
    assert!(
        table.contains("COMMITTED VALUE")
            && table.contains("ALLOCATED VALUE")
            && table.contains("DELIVERED VALUE")
            && table.contains("6000000.00 EUR"),
        "{table}"
    );
    // As of a time between them, only what is dated by then.
    let early = db
        .qm(&["pauses", "--as-of", "2025-03-07", "--json"])
        .ok()
        .json();
    assert_eq!(
        early[0]["accepted_before_recorded"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let table = db.qm(&["pauses"]).ok().stdout.clone();
    assert!(table.contains("accepted before it was recorded"), "{table}");
    assert!(table.contains("m1"), "{table}");
    // The export rebuilds the same marks: file order is recording order.
    let again = Db::new();
    again.apply_ok("export.jsonl", &db.export());
    assert_eq!(again.qm(&["pauses", "--json"]).ok().json(), pauses);
    db.qm(&["verify"]).ok();
}

#[test]
fn a_late_pause_shows_what_it_covers_on_the_embedded_file() {
    check_late_pause(&Db::new());
}

#[test]
fn a_late_pause_shows_what_it_covers_on_postgres() {
    check_late_pause(&Db::postgres());
}

#[test]
fn a_late_cancel_releases_a_later_allocation() {
    let db = Db::new();
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    let mut wf = Jsonl::new();
    wf.push(json!({"type": "transfer", "id": "T1", "time": "2025-01-15", "donor": "US", "recipient": "UA", "lines": [{"item": "PAC3", "qty": 30}]}))
        .push(json!({"type": "allocate", "id": "A1", "time": "2025-02-01", "transfer": "T1", "item": "PAC3", "qty": 20, "from": "DEPOT-A"}))
        .push(json!({"type": "movement", "id": "m1", "time": "2025-03-01", "item": "PAC3", "qty": 15, "from": "DEPOT-A", "to": "SHIP", "transfer": "T1"}));
    db.apply_ok("wf.jsonl", &wf.text());
    let over = db.file("over.jsonl", &format!("{}\n", json!({"type": "cancel", "id": "C0", "time": "2025-01-20", "transfer": "T1", "item": "PAC3", "qty": 16})));
    let r = db.qm(&["apply", &over]);
    r.expect_code(1);
    assert!(
        r.stderr.contains(r#"over.jsonl:1: field "qty": cancelling 16 of "PAC3" would take transfer "T1"'s commitment from 30 to 14, below the 15 already dispatched"#),
        "{}",
        r.stderr
    );
    db.apply_ok("cancel.jsonl", &format!("{}\n", json!({"type": "cancel", "id": "C1", "time": "2025-01-20", "transfer": "T1", "item": "PAC3", "qty": 12})));
    let show = db.qm(&["transfer", "show", "T1", "--json"]).ok().json();
    assert_eq!(
        (
            &show["lines"][0]["committed"],
            &show["lines"][0]["allocated"]
        ),
        (&json!(18), &json!(18))
    );
    assert_eq!(
        show["cancellations"][0]["lines"],
        json!([{"item": "PAC3", "cancelled": 12, "released": 2}])
    );
    db.apply_ok(
        "rest.jsonl",
        &format!(
            "{}\n",
            json!({"type": "cancel", "id": "C2", "time": "2025-01-20", "transfer": "T1"})
        ),
    );
    let show = db.qm(&["transfer", "show", "T1", "--json"]).ok().json();
    assert_eq!(
        (
            &show["lines"][0]["committed"],
            &show["lines"][0]["allocated"]
        ),
        (&json!(15), &json!(15))
    );
    db.qm(&["verify"]).ok();
}

#[test]
fn a_transfer_committed_after_the_as_of_time_is_not_yet_committed() {
    let db = Db::new();
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    db.apply_ok("fut.jsonl", &format!("{}\n", json!({"type": "transfer", "id": "FUT", "time": "2030-01-01", "donor": "US", "recipient": "UA", "lines": [{"item": "PAC3", "qty": 3}]})));
    let show = db.qm(&["transfer", "show", "FUT", "--json"]).ok().json();
    assert_eq!(show["state"], "not_yet_committed");
    let table = db.qm(&["transfer", "show", "FUT"]).ok().stdout.clone();
    assert!(
        table.contains("not_yet_committed (committed on 2030-01-01T00:00:00Z)"),
        "{table}"
    );
    for (state, ids) in [
        ("cancelled", json!([])),
        ("committed", json!([])),
        ("not_yet_committed", json!(["FUT"])),
    ] {
        let list = db
            .qm(&["transfers", "--state", state, "--json"])
            .ok()
            .json();
        let got: Vec<Value> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].clone())
            .collect();
        assert_eq!(Value::Array(got), ids, "{state}");
    }
    let list = db
        .qm(&["transfers", "--state", "not_yet_committed", "--json"])
        .ok()
        .json();
    assert_eq!(list[0]["state"], "not_yet_committed");
    // As of its time, it is committed, in both.
    let at = ["--as-of", "2030-01-01"];
    assert_eq!(
        db.qm(&["transfer", "show", "FUT", at[0], at[1], "--json"])
            .ok()
            .json()["state"],
        "committed"
    );
    assert_eq!(
        db.qm(&["transfers", at[0], at[1], "--json"]).ok().json()[0]["state"],
        "committed"
    );
    assert_eq!(db.qm(&["transfers", "--json"]).ok().json(), json!([]));
}

#[test]
fn transfer_show_sizes_its_columns_to_long_ids() {
    let db = Db::new();
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    let mut wf = Jsonl::new();
    wf.push(json!({"type": "transfer", "id": "T1", "time": "2025-01-15", "donor": "US", "recipient": "UA", "lines": [{"item": "PAC3", "qty": 30}]}))
        .push(json!({"type": "allocate", "id": "ALLOC-2025-06-PAC3-LONGER", "time": "2025-02-01", "transfer": "T1", "item": "PAC3", "qty": 2, "from": "DEPOT-A"}))
        .push(json!({"type": "allocate", "id": "A1", "time": "2025-02-01", "transfer": "T1", "item": "PAC3", "qty": 1, "from": "DEPOT-A"}));
    db.apply_ok("wf.jsonl", &wf.text());
    let table = db.qm(&["transfer", "show", "T1"]).ok().stdout.clone();
    // In each section, the column after the id starts at one place on every row.
    for (section, marker) in [("ALLOCATIONS", "T00:00:00Z"), ("RECORDS", "T00:00:00Z")] {
        let rows: Vec<&str> = table
            .split(section)
            .nth(1)
            .unwrap()
            .lines()
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        let at: Vec<usize> = rows.iter().map(|l| l.find(marker).unwrap()).collect();
        assert!(
            rows.len() >= 2 && at.iter().all(|&x| x == at[0]),
            "{section}:\n{table}"
        );
    }
}

#[test]
fn a_rejected_file_lists_its_errors_in_line_order() {
    let db = Db::new();
    let (master, wf) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    db.apply_ok("wf.jsonl", &wf.text());
    // A changed allocation on line 2, a changed transfer (a declaration, judged first) on line
    // 3, and a shortfall (found on the final state) on line 1.
    let mut bad = Jsonl::new();
    bad.mv("big", "2025-01-02", "AMMO", 5000, "DEPOT-B", "SHIP")
        .push(json!({"type": "allocate", "id": "A1", "time": "2025-02-02", "transfer": "T1", "item": "PAC3", "qty": 21, "from": "DEPOT-A"}))
        .push(json!({"type": "transfer", "id": "T1", "time": "2025-02-01", "donor": "US", "recipient": "UA", "lines": [{"item": "PAC3", "qty": 31}]}));
    let f = db.file("mix.jsonl", &bad.text());
    let r = db.qm(&["apply", &f]);
    r.expect_code(1);
    let lines: Vec<u32> = r
        .stderr
        .lines()
        .filter_map(|l| l.split(':').nth(1)?.parse().ok())
        .collect();
    assert_eq!(lines, [1, 2, 3], "{}", r.stderr);
}

#[test]
fn a_what_if_changes_nothing_stored_and_fail_on_breach_exits_1() {
    let db = Db::new();
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    db.apply_ok(
        "plans.jsonl",
        &format!("{}\n", json!({"type": "consumption", "id": "C1", "item": "PAC3", "org": "US", "qty_per_month": 5, "from_time": "2025-02-01"})),
    );
    // 60 PAC-3, floor 20, 5 a month: 8 months of cover from 1 Feb 2025 (1 Oct: 20).
    let r = db
        .qm(&["review", "--org", "US", "--as-of", "2025-02-01", "--json"])
        .ok()
        .json();
    assert_eq!(item(&r, "PAC3")["months_of_cover"], 8);
    assert_eq!(item(&r, "PAC3")["first_breach"], "2025-10");
    let before = std::fs::read(&db.path).unwrap();
    let proposal = db.file(
        "proposal.jsonl",
        &[
            json!({"type": "transfer", "id": "T9", "time": "2025-02-01", "donor": "US", "recipient": "UA", "lines": [{"item": "PAC3", "qty": 20}]}),
            json!({"type": "allocate", "id": "A9", "time": "2025-02-01", "transfer": "T9", "item": "PAC3", "qty": 20, "from": "DEPOT-A", "override": {"reason": "what if", "by": "planner"}}),
        ]
        .iter()
        .map(|v| format!("{v}\n"))
        .collect::<String>(),
    );
    // With the proposal, 40 available: 4 months (1 Jun: 20); before it, 8.
    let w = db
        .qm(&[
            "review",
            "--org",
            "US",
            "--as-of",
            "2025-02-01",
            "--with",
            &proposal,
            "--json",
        ])
        .ok()
        .json();
    let pac3 = item(&w, "PAC3");
    assert_eq!(
        (pac3["available"].as_i64(), pac3["months_of_cover"].as_i64()),
        (Some(40), Some(4))
    );
    assert_eq!(pac3["before"]["available"], 60);
    assert_eq!(pac3["before"]["months_of_cover"], 8);
    assert_eq!(
        std::fs::read(&db.path).unwrap(),
        before,
        "a what-if writes nothing"
    );
    assert!(db
        .qm(&["transfers", "--json"])
        .ok()
        .json()
        .as_array()
        .unwrap()
        .is_empty());
    // A breach within the horizon fails the check for scripts; beyond it, it does not.
    db.qm(&[
        "review",
        "--org",
        "US",
        "--as-of",
        "2025-02-01",
        "--fail-on-breach",
    ])
    .expect_code(1);
    db.qm(&[
        "review",
        "--org",
        "US",
        "--as-of",
        "2025-02-01",
        "--horizon",
        "6",
        "--fail-on-breach",
    ])
    .ok();
    // A proposal the ledger would refuse is refused, naming file and line.
    let bad = db.file("bad.jsonl", &format!("{}\n", json!({"type": "allocate", "id": "A1", "time": "2025-02-01", "transfer": "NOPE", "item": "PAC3", "qty": 1, "from": "DEPOT-A"})));
    let r = db.qm(&["review", "--with", &bad]);
    r.expect_code(1);
    assert!(
        r.stderr
            .contains(r#"bad.jsonl:1: field "transfer": unknown transfer "NOPE""#),
        "{}",
        r.stderr
    );
}

#[test]
fn threat_reports_drive_interceptor_demand() {
    let db = Db::new();
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    let threats: String = [("T3", "2025-03-10", 100, 5), ("T4", "2025-04-10", 120, 6), ("T5", "2025-05-10", 140, 7)]
        .iter()
        .map(|(id, t, drones, used)| {
            format!("{}\n", json!({"type": "threat", "id": id, "time": t, "region": "UA", "launched": {"drones": drones}, "interceptors_used": {"PAC3": used}}))
        })
        .collect();
    db.apply_ok("threats.jsonl", &threats);
    let m = db
        .qm(&[
            "threats",
            "--as-of",
            "2025-06-01",
            "--horizon",
            "2",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(m[0]["item"], "PAC3");
    assert_eq!(m[0]["per_threat"], 0.05);
    assert_eq!(
        m[0]["demand"],
        json!([{"month": "2025-06", "threats": 160.0, "share": 1.0, "interceptors": 8.0}, {"month": "2025-07", "threats": 180.0, "share": 1.0, "interceptors": 9.0}])
    );
    let r = db
        .qm(&["review", "--org", "US", "--as-of", "2025-06-01", "--json"])
        .ok()
        .json();
    let flows = &item(&r, "PAC3")["flows"];
    assert_eq!(flows[0]["kind"], "interceptor_demand");
}

#[test]
fn horizons_are_bounded_and_stay_inside_the_time_range() {
    let db = Db::new();
    let (master, _) = workflow();
    db.apply_ok("master.jsonl", &master.text());
    let out = db.dir.path().join("r.json");
    let out = out.to_str().unwrap();
    // Past 1200 months: a usage error naming the range, before anything is opened or
    // allocated (4294967295 used to abort allocating 34 GB).
    for args in [
        vec!["review", "--horizon", "4294967295"],
        vec!["review", "--horizon", "1201", "--json"],
        vec!["threats", "--horizon", "1000000000"],
        vec![
            "report",
            "--format",
            "json",
            "--out",
            out,
            "--horizon",
            "4294967295",
        ],
    ] {
        let r = db.qm(&args);
        r.expect_code(2);
        assert!(
            r.stderr.contains("whole months from 0 to 1200"),
            "{args:?}: {}",
            r.stderr
        );
    }
    // The longest horizon is answered.
    let r = db
        .qm(&[
            "review",
            "--as-of",
            "2025-01-01",
            "--horizon",
            "1200",
            "--json",
        ])
        .ok()
        .json();
    assert_eq!(r["horizon"], 1200);
    // A horizon that runs past 2262-04-11, or a threat window before 1677-09-21, is
    // refused rather than cut short or labelled with the wrong months.
    for args in [
        vec!["review", "--as-of", "2200-01-01", "--horizon", "1200"],
        vec![
            "threats",
            "--as-of",
            "2262-04-11T23:47:16.854775807Z",
            "--json",
        ],
        vec![
            "report",
            "--format",
            "json",
            "--out",
            out,
            "--as-of",
            "2262-01-01",
        ],
    ] {
        let r = db.qm(&args);
        r.expect_code(1);
        assert!(
            r.stderr
                .contains("runs past the last supported time, 2262-04-11T23:47:16.854775807Z"),
            "{args:?}: {}",
            r.stderr
        );
    }
    let r = db.qm(&["threats", "--as-of", "1677-09-21T00:12:43.145224192Z"]);
    r.expect_code(1);
    assert!(
        r.stderr.contains("--as-of must be 1677-12-01 or later"),
        "{}",
        r.stderr
    );
    assert!(!std::path::Path::new(out).exists());
    // The last horizon that fits is answered.
    db.qm(&[
        "threats",
        "--as-of",
        "2262-03-01",
        "--horizon",
        "1",
        "--json",
    ])
    .ok();
}

#[test]
fn money_values_are_exact_at_the_largest_value_and_quantities() {
    const MAX: u64 = 9007199254740991;
    let db = Db::new();
    let mut master = world();
    master.push(json!({"type": "item", "code": "V", "name": "v", "category": "c", "tracking": "bulk", "unit_value": {"amount": "999999999999999.999999", "currency": "USD"}}));
    for i in 0..200 {
        master.mv(
            &format!("s{i}"),
            "2025-01-01",
            "V",
            MAX,
            "FACTORY",
            "DEPOT-A",
        );
    }
    for i in 0..20 {
        master.push(json!({"type": "transfer", "id": format!("T{i}"), "time": "2025-02-01", "donor": "US", "recipient": "UA", "lines": [{"item": "V", "qty": MAX}]}));
    }
    master.push(json!({"type": "pause", "id": "P1", "time": "2025-03-01", "reason": "review", "by": "OSD", "items": ["V"]}));
    db.apply_ok("master.jsonl", &master.text());
    // 20 (2^53 - 1) held back at 999,999,999,999,999.999999 each, exactly.
    let p = db
        .qm(&["pauses", "--as-of", "2025-04-01", "--json"])
        .ok()
        .json();
    let held = "180143985094819819999819856014905.18018";
    assert_eq!(p[0]["holds_back"][0]["value"]["amount"], held);
    assert_eq!(p[0]["holds_back_value"]["amount"], held);
    let table = db
        .qm(&["pauses", "--as-of", "2025-04-01"])
        .ok()
        .stdout
        .clone();
    assert!(table.contains(held), "{table}");
    // 200 (2^53 - 1) on hand.
    let r = db
        .qm(&["review", "--org", "US", "--as-of", "2025-04-01", "--json"])
        .ok()
        .json();
    let v = item(&r, "V");
    let on_hand = "1801439850948198199998198560149051.8018";
    assert_eq!(v["on_hand_value"]["amount"], on_hand);
    assert_eq!(v["available_value"]["amount"], on_hand);
    let dir = db.dir.path().join("csv");
    db.qm(&[
        "report",
        "--format",
        "csv",
        "--out",
        dir.to_str().unwrap(),
        "--as-of",
        "2025-04-01",
    ])
    .ok();
    let csv = std::fs::read_to_string(dir.join("review.csv")).unwrap();
    assert!(csv.contains(on_hand), "{csv}");
    let csv = std::fs::read_to_string(dir.join("pauses.csv")).unwrap();
    assert!(csv.contains(held), "{csv}");
}

#[test]
fn numbers_at_the_edges_are_refused_naming_the_bound_and_never_wrap() {
    let db = Db::new();
    db.apply_ok("world.jsonl", &world().text());
    // A quantity of 2^64 - 1 from a depot that holds nothing, one of 2^63 from a source, and
    // a floor of 2^64 - 1: all refused with the bound, nothing applied.
    for (name, line) in [
        (
            "wrap.jsonl",
            json!({"type": "movement", "id": "w1", "time": "2025-01-01", "item": "AMMO", "qty": 18446744073709550616u64, "from": "UA-DEPOT", "to": "DEPOT-A"}),
        ),
        (
            "big.jsonl",
            json!({"type": "movement", "id": "w2", "time": "2025-01-01", "item": "AMMO", "qty": 9223372036854775808u64, "from": "FACTORY", "to": "DEPOT-A"}),
        ),
        (
            "floor.jsonl",
            json!({"type": "floor", "item": "AMMO", "org": "US", "min_qty": 18446744073709551615u64}),
        ),
    ] {
        let f = db.file(name, &format!("{line}\n"));
        let r = db.qm(&["apply", &f]);
        r.expect_code(1);
        assert!(
            r.stderr.contains("of at most 9007199254740991"),
            "{name}: {}",
            r.stderr
        );
    }
    assert!(db.balances(None).is_empty());
    // At the bound itself: accepted, and the review's sums are exact.
    let f = db.file(
        "edge.jsonl",
        &[
            json!({"type": "movement", "id": "e1", "time": "2025-01-01", "item": "AMMO", "qty": 9007199254740991u64, "from": "FACTORY", "to": "DEPOT-A"}),
            json!({"type": "movement", "id": "e2", "time": "2025-01-01", "item": "AMMO", "qty": 9007199254740991u64, "from": "FACTORY", "to": "DEPOT-B"}),
            json!({"type": "floor", "item": "AMMO", "org": "US", "min_qty": 9007199254740991u64}),
        ]
        .iter()
        .map(|v| format!("{v}\n"))
        .collect::<String>(),
    );
    db.qm(&["apply", &f]).ok();
    let r = db.qm(&["review", "--org", "US", "--json"]).ok().json();
    let ammo = item(&r, "AMMO");
    assert_eq!(ammo["on_hand"].as_u64(), Some(2 * 9007199254740991));
    assert_eq!(ammo["headroom"].as_u64(), Some(9007199254740991));
    assert_eq!(
        db.balances(None)
            .iter()
            .find(|b| b.holder == "FACTORY")
            .unwrap()
            .qty,
        -2 * 9007199254740991
    );
    // Times outside the supported range say what the range is.
    let r = db.qm(&["balance", "--as-of", "3000-01-01"]);
    r.expect_code(2);
    assert!(
        r.stderr
            .contains("1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z"),
        "{}",
        r.stderr
    );
    db.qm(&["verify"]).ok();
}
