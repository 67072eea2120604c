//! The analysts' views, checked value by value: every backend must give the same columns,
//! in the same order, with the same types and values, for the same journal.
//!
//! The representation every backend gives (see ARCHITECTURE.md, "Analysts read views"):
//! - times (`movements.time`, `movements.recorded_at`, `transfers.first_time` and
//!   `last_time`, every `time` and `recorded_at`, `pauses.review_by` and `resumed_at`) are
//!   RFC 3339 UTC text with exactly nine fractional digits, `2025-07-04T12:00:00.000000000Z`,
//!   so they sort as text in time order and keep every nanosecond (PostgreSQL's
//!   `timestamptz` keeps microseconds);
//! - `lot` is NULL when absent, everywhere (`balances` included);
//! - `serials`, `pauses.items` and `pauses.categories` are the JSON array as the record
//!   spells it, `records.json` the record's line;
//! - batch numbers, lines, quantities and counts are integers; absent fields are NULL.
//!
//! Each check appends canonical interchange lines (what `qm apply` writes to the journal) and
//! compares whole results; rows are sorted here, so the queries need no ORDER BY (collations
//! differ between backends) except where the order is what is checked. `transfer_lines` is
//! the one view over rows the application derives ([`crate::Derived`]): its check gives the
//! rows with the batches, as the application would.

use super::{
    append, append_at, append_derived, balance, canonical, org, sealed, snapshot_at, Fresh,
};
use crate::{Derived, DerivedState, StoreError, TransferLineRow, ViewRows, ViewValue};

/// The columns of each view, in order: the stable interface (columns may be added at the end).
const COLUMNS: [(&str, &[&str]); 7] = [
    ("records", &["batch", "line", "type", "json"]),
    (
        "movements",
        &[
            "batch",
            "recorded_at",
            "recorded_by",
            "id",
            "time",
            "item",
            "qty",
            "from_holder",
            "to_holder",
            "lot",
            "serials",
            "kind",
            "transfer",
            "note",
        ],
    ),
    (
        "transfers",
        &[
            "transfer",
            "item",
            "movements",
            "qty",
            "first_time",
            "last_time",
        ],
    ),
    ("balances", &["holder", "item", "lot", "qty"]),
    (
        "transfer_lines",
        &[
            "transfer",
            "item",
            "donor",
            "recipient",
            "line_qty",
            "committed",
            "cancelled",
            "allocated",
            "dispatched",
            "delivered",
            "in_transit",
        ],
    ),
    (
        "allocations",
        &[
            "batch",
            "recorded_at",
            "recorded_by",
            "id",
            "time",
            "transfer",
            "item",
            "qty",
            "from_holder",
            "lot",
            "override_reason",
            "override_by",
        ],
    ),
    (
        "pauses",
        &[
            "batch",
            "recorded_at",
            "recorded_by",
            "id",
            "time",
            "reason",
            "by",
            "items",
            "categories",
            "donor",
            "recipient",
            "transfer",
            "review_by",
            "resumed_at",
            "resume_id",
        ],
    ),
];

fn int(i: i64) -> ViewValue {
    ViewValue::Integer(i)
}

fn text(s: &str) -> ViewValue {
    ViewValue::Text(s.into())
}

fn opt(s: Option<&str>) -> ViewValue {
    s.map_or(ViewValue::Null, text)
}

/// `SELECT * FROM view`: checks the columns, and returns the rows sorted.
fn select_all(db: &mut Fresh, view: &str) -> Vec<Vec<ViewValue>> {
    let columns = COLUMNS
        .iter()
        .find(|(v, _)| *v == view)
        .map(|(_, c)| *c)
        .expect("a known view");
    let ViewRows {
        columns: got,
        mut rows,
    } = (db.query)(&format!("SELECT * FROM {view}"));
    assert_eq!(got, columns, "the columns of {view}, in order");
    rows.sort();
    rows
}

/// Asserts that `got` is `want` row by row, naming the first row that differs.
fn assert_rows(view: &str, got: &[Vec<ViewValue>], want: &[Vec<ViewValue>]) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert_eq!(g, w, "{view}: row {i}");
    }
    assert_eq!(got.len(), want.len(), "{view}: rows {got:#?}");
}

// The journal of the checks below: canonical interchange lines, as `qm apply` writes them.

const B1_ORG: &str = r#"{"type":"org","id":"US","name":"United States","kind":"donor"}"#;
const B1_HOLDER: &str =
    r#"{"type":"holder","id":"US-DEPOT-1","name":"Depot 1","org":"US","kind":"depot"}"#;
const B1_ITEM: &str = r#"{"type":"item","code":"155MM","name":"155 mm M795","category":"artillery","tracking":"lot"}"#;
const B1_M1: &str = r#"{"type":"movement","id":"m1","time":"2024-03-01T10:00:00Z","item":"155MM","qty":120,"from":"US-PROD","to":"US-DEPOT-1","lot":"L2023-07","kind":"production","note":"line \"A\", shift 2, é"}"#;
// Two movements of one transfer within one second, the later one first: `...00.5Z` sorts
// before `...00Z` as raw text, and the views must not let it.
const B2_M3: &str = r#"{"type":"movement","id":"m3","time":"2024-03-02T00:00:00.5Z","item":"JAVELIN","qty":1,"from":"US-DEPOT-1","to":"PL-HUB-1","serials":["J-3"],"transfer":"PDA-7"}"#;
const B2_M2: &str = r#"{"type":"movement","id":"m2","time":"2024-03-02T00:00:00Z","item":"JAVELIN","qty":2,"from":"US-DEPOT-1","to":"PL-HUB-1","serials":["J-1","J-2"],"transfer":"PDA-7"}"#;
const B2_M4: &str = r#"{"type":"movement","id":"m4","time":"2024-03-03T10:30:00.123456789Z","item":"155MM","qty":20,"from":"US-DEPOT-1","to":"PL-HUB-1","lot":"L2023-07","transfer":"PDA-7"}"#;
const B4_M5: &str = r#"{"type":"movement","id":"m5","time":"2024-03-04T00:00:00.000000001Z","item":"FUZE","qty":3,"from":"PL-HUB-1","to":"UA-BDE-7","kind":"transfer","transfer":"PDA-8"}"#;
const B5_M6: &str = r#"{"type":"movement","id":"m6","time":"2024-03-05T00:00:00Z","item":"FUZE","qty":3,"from":"UA-BDE-7","to":"UA-USED"}"#;

/// 2024-03-01T10:00:00.123456789Z, 2024-03-02T00:00:00Z and one nanosecond later, and one
/// before 1970 (the views must divide towards minus infinity).
const RECORDED_AT: [i64; 4] = [
    1_709_287_200_123_456_789,
    1_709_337_600_000_000_000,
    1_709_337_600_000_000_001,
    -1_000_000_001,
];

fn lines(records: &[&str]) -> String {
    records.iter().map(|r| format!("{r}\n")).collect()
}

/// Appends batches 1 to 4 (batch 3 is empty).
fn append_journal(db: &mut Fresh) -> Box<dyn crate::Store> {
    let mut s = (db.open)();
    append_at(
        &mut *s,
        RECORDED_AT[0],
        "alice",
        &lines(&[B1_ORG, B1_HOLDER, B1_ITEM, B1_M1]),
    );
    append_at(
        &mut *s,
        RECORDED_AT[1],
        "bob",
        &lines(&[B2_M3, B2_M2, B2_M4]),
    );
    append_at(&mut *s, RECORDED_AT[2], "carol", "");
    append_at(&mut *s, RECORDED_AT[3], "dave", &lines(&[B4_M5]));
    s
}

/// Every view of a new ledger is there, with its columns, and empty; an empty batch adds
/// nothing to any of them.
pub(super) fn empty(db: &mut Fresh) {
    let mut s = (db.open)();
    for (view, _) in COLUMNS {
        assert_rows(view, &select_all(db, view), &[]);
    }
    append(&mut *s, "tester", "");
    for (view, _) in COLUMNS {
        assert_rows(view, &select_all(db, view), &[]);
    }
}

/// Every column of every row of every view, then `balances` again over a snapshot's base.
pub(super) fn expand_the_journal(db: &mut Fresh) {
    let mut s = append_journal(db);

    let record =
        |batch, line, ty: &str, json: &str| vec![int(batch), int(line), text(ty), text(json)];
    assert_rows(
        "records",
        &select_all(db, "records"),
        &[
            record(1, 1, "org", B1_ORG),
            record(1, 2, "holder", B1_HOLDER),
            record(1, 3, "item", B1_ITEM),
            record(1, 4, "movement", B1_M1),
            record(2, 1, "movement", B2_M3),
            record(2, 2, "movement", B2_M2),
            record(2, 3, "movement", B2_M4),
            record(4, 1, "movement", B4_M5),
        ],
    );

    let l = Some("L2023-07");
    let bob = |id: &str, time: &str, item: &str, qty, lot, serials| {
        vec![
            int(2),
            text("2024-03-02T00:00:00.000000000Z"),
            text("bob"),
            text(id),
            text(time),
            text(item),
            int(qty),
            text("US-DEPOT-1"),
            text("PL-HUB-1"),
            opt(lot),
            opt(serials),
            ViewValue::Null,
            text("PDA-7"),
            ViewValue::Null,
        ]
    };
    assert_rows(
        "movements",
        &select_all(db, "movements"),
        &[
            vec![
                int(1),
                text("2024-03-01T10:00:00.123456789Z"),
                text("alice"),
                text("m1"),
                text("2024-03-01T10:00:00.000000000Z"),
                text("155MM"),
                int(120),
                text("US-PROD"),
                text("US-DEPOT-1"),
                opt(l),
                ViewValue::Null,
                text("production"),
                ViewValue::Null,
                text("line \"A\", shift 2, \u{e9}"),
            ],
            bob(
                "m2",
                "2024-03-02T00:00:00.000000000Z",
                "JAVELIN",
                2,
                None,
                Some(r#"["J-1","J-2"]"#),
            ),
            bob(
                "m3",
                "2024-03-02T00:00:00.500000000Z",
                "JAVELIN",
                1,
                None,
                Some(r#"["J-3"]"#),
            ),
            bob("m4", "2024-03-03T10:30:00.123456789Z", "155MM", 20, l, None),
            vec![
                int(4),
                text("1969-12-31T23:59:58.999999999Z"),
                text("dave"),
                text("m5"),
                text("2024-03-04T00:00:00.000000001Z"),
                text("FUZE"),
                int(3),
                text("PL-HUB-1"),
                text("UA-BDE-7"),
                ViewValue::Null,
                ViewValue::Null,
                text("transfer"),
                text("PDA-8"),
                ViewValue::Null,
            ],
        ],
    );

    let transfer = |t: &str, item: &str, movements, qty, first: &str, last: &str| {
        vec![
            text(t),
            text(item),
            int(movements),
            int(qty),
            text(first),
            text(last),
        ]
    };
    assert_rows(
        "transfers",
        &select_all(db, "transfers"),
        &[
            transfer(
                "PDA-7",
                "155MM",
                1,
                20,
                "2024-03-03T10:30:00.123456789Z",
                "2024-03-03T10:30:00.123456789Z",
            ),
            transfer(
                "PDA-7",
                "JAVELIN",
                2,
                3,
                "2024-03-02T00:00:00.000000000Z",
                "2024-03-02T00:00:00.500000000Z",
            ),
            transfer(
                "PDA-8",
                "FUZE",
                1,
                3,
                "2024-03-04T00:00:00.000000001Z",
                "2024-03-04T00:00:00.000000001Z",
            ),
        ],
    );

    let row = |holder: &str, item: &str, lot: Option<&str>, qty| {
        vec![text(holder), text(item), opt(lot), int(qty)]
    };
    // The test journal sends Javelins the depot never received: the view shows it.
    let from_the_journal = [
        row("PL-HUB-1", "155MM", l, 20),
        row("PL-HUB-1", "FUZE", None, -3),
        row("PL-HUB-1", "JAVELIN", None, 3),
        row("UA-BDE-7", "FUZE", None, 3),
        row("US-DEPOT-1", "155MM", l, 100),
        row("US-DEPOT-1", "JAVELIN", None, -3),
        row("US-PROD", "155MM", l, -120),
    ];
    assert_rows("balances", &select_all(db, "balances"), &from_the_journal);

    // A base at batch 4, then a batch after it: a balance back at zero disappears.
    let b4 = crate::conformance::batches_after(&mut *s, 3).remove(0);
    let base: Vec<_> = [
        ("PL-HUB-1", "155MM", "L2023-07", 20),
        ("PL-HUB-1", "FUZE", "", -3),
        ("PL-HUB-1", "JAVELIN", "", 3),
        ("UA-BDE-7", "FUZE", "", 3),
        ("US-DEPOT-1", "155MM", "L2023-07", 100),
        ("US-DEPOT-1", "JAVELIN", "", -3),
        ("US-PROD", "155MM", "L2023-07", -120),
    ]
    .iter()
    .map(|&(h, i, lot, q)| balance(h, i, lot, q))
    .collect();
    s.save_snapshot(&snapshot_at(&b4, b"base"), &base).unwrap();
    assert_rows("balances", &select_all(db, "balances"), &from_the_journal);
    append(&mut *s, "erin", &lines(&[B5_M6]));
    let mut after = from_the_journal.to_vec();
    after.retain(|r| r[0] != text("UA-BDE-7"));
    after.push(row("UA-USED", "FUZE", None, 3));
    after.sort();
    assert_rows("balances", &select_all(db, "balances"), &after);
}

/// Plain SQL over the views, as an analyst would write it: times order as text, a lot that
/// is not there is NULL, filters and aggregates give integers.
pub(super) fn analysts_queries(db: &mut Fresh) {
    let _s = append_journal(db);
    let mut query = |sql: &str| (db.query)(sql).rows;
    assert_eq!(
        query("SELECT id FROM movements ORDER BY time, id"),
        ["m1", "m2", "m3", "m4", "m5"]
            .iter()
            .map(|id| vec![text(id)])
            .collect::<Vec<_>>(),
        "times sort as text in time order, within one second too"
    );
    assert_eq!(
        query("SELECT count(*) FROM transfers WHERE first_time > last_time"),
        vec![vec![int(0)]]
    );
    assert_eq!(
        query("SELECT count(*) FROM movements WHERE batch = 2"),
        vec![vec![int(3)]]
    );
    let mut in_range = query(
        "SELECT id FROM movements WHERE time >= '2024-03-02T00:00:00.1' AND time < '2024-03-04'",
    );
    in_range.sort();
    assert_eq!(
        in_range,
        vec![vec![text("m3")], vec![text("m4")]],
        "a range of times is a range of text"
    );
    assert_eq!(
        query(
            "SELECT qty FROM balances WHERE holder = 'PL-HUB-1' AND item = 'JAVELIN' AND lot IS NULL"
        ),
        vec![vec![int(3)]]
    );
    assert_eq!(
        query("SELECT max(recorded_at), min(recorded_at) FROM movements"),
        vec![vec![
            text("2024-03-02T00:00:00.000000000Z"),
            text("1969-12-31T23:59:58.999999999Z")
        ]]
    );
    assert_eq!(
        query("SELECT batch, line FROM records WHERE type = 'item'"),
        vec![vec![int(1), int(3)]]
    );
}

/// Times the journal does not hold in canonical form (it never does: `qm apply` writes
/// canonical lines), converted the same way everywhere: a bare date is midnight UTC, an
/// offset is applied, a lower-case `t` or `z` is read.
pub(super) fn other_spellings_of_time(db: &mut Fresh) {
    let spellings = [
        ("d1", "2024-03-02", "2024-03-02T00:00:00.000000000Z"),
        (
            "d2",
            "2024-03-03T12:30:00+02:00",
            "2024-03-03T10:30:00.000000000Z",
        ),
        (
            "d3",
            "2024-03-03T12:30:00.25-01:30",
            "2024-03-03T14:00:00.250000000Z",
        ),
        (
            "d4",
            "2024-12-31T23:30:00-01:00",
            "2025-01-01T00:30:00.000000000Z",
        ),
        (
            "d5",
            "2024-03-01t10:00:00.1z",
            "2024-03-01T10:00:00.100000000Z",
        ),
    ];
    let body: String = spellings
        .iter()
        .map(|(id, time, _)| {
            format!(
                "{{\"type\":\"movement\",\"id\":\"{id}\",\"time\":\"{time}\",\"item\":\"I\",\"qty\":1,\"from\":\"A\",\"to\":\"B\",\"transfer\":\"T\"}}\n"
            )
        })
        .collect();
    let mut s = (db.open)();
    append(&mut *s, "tester", &body);
    let got = select_all(db, "movements");
    let mut want: Vec<Vec<ViewValue>> = spellings
        .iter()
        .map(|(id, _, normal)| vec![text(id), text(normal)])
        .collect();
    want.sort();
    let mut got: Vec<Vec<ViewValue>> = got
        .into_iter()
        .map(|r| vec![r[3].clone(), r[4].clone()])
        .collect();
    got.sort();
    assert_rows("movements (id, time)", &got, &want);
    assert_eq!(
        (db.query)("SELECT first_time, last_time FROM transfers").rows,
        vec![vec![
            text("2024-03-01T10:00:00.100000000Z"),
            text("2025-01-01T00:30:00.000000000Z")
        ]]
    );

    // The workflow's times, spelled otherwise: a date, offsets, lower case.
    append(
        &mut *s,
        "tester",
        concat!(
            r#"{"type":"allocate","id":"a1","time":"2024-03-03T12:30:00+02:00","transfer":"T","item":"I","qty":1,"from":"A"}"#,
            "\n",
            r#"{"type":"pause","id":"p1","time":"2024-03-02","reason":"r","by":"b","donor":"D","review_by":"2024-12-31T23:30:00.25-01:00"}"#,
            "\n",
            r#"{"type":"resume","id":"r1","time":"2024-03-05t10:00:00.1z","pause":"p1"}"#,
            "\n",
        ),
    );
    assert_eq!(
        (db.query)("SELECT time FROM allocations").rows,
        vec![vec![text("2024-03-03T10:30:00.000000000Z")]]
    );
    assert_eq!(
        (db.query)("SELECT time, review_by, resumed_at FROM pauses").rows,
        vec![vec![
            text("2024-03-02T00:00:00.000000000Z"),
            text("2025-01-01T00:30:00.250000000Z"),
            text("2024-03-05T10:00:00.100000000Z"),
        ]]
    );
}

// The workflow journal of the checks below, written readably and stored canonically.

/// Batch 1: the orgs, holders, items and two transfers.
const W1: &str = r#"
{"type":"org","id":"US","name":"United States","kind":"donor"}
{"type":"org","id":"UA","name":"Ukraine","kind":"recipient"}
{"type":"holder","id":"US-DEPOT-1","name":"Depot 1","org":"US","kind":"depot"}
{"type":"holder","id":"US-DEPOT-2","name":"Depot 2","org":"US","kind":"depot"}
{"type":"item","code":"155MM","name":"155 mm M795","category":"artillery","tracking":"lot"}
{"type":"item","code":"JAVELIN","name":"Javelin","category":"anti-armour \"ATGM\"\nportable","tracking":"serial"}
{"type":"transfer","id":"PDA-7","time":"2024-03-01T00:00:00Z","donor":"US","recipient":"UA","lines":[{"item":"155MM","qty":100},{"item":"JAVELIN","qty":10}]}
{"type":"transfer","id":"PDA-8","time":"2024-03-01T00:00:00Z","donor":"US","recipient":"UA","lines":[{"item":"155MM","qty":50}]}
"#;

/// Batch 2: allocations (a lot, an override with quotes and an accent, a time within a
/// second) and pauses (one to be reviewed, one of many scope fields that is never resumed).
const W2: &str = r#"
{"type":"allocate","id":"a1","time":"2024-03-02T00:00:00.5Z","transfer":"PDA-7","item":"155MM","qty":40,"from":"US-DEPOT-1","lot":"L2023-07"}
{"type":"allocate","id":"a2","time":"2024-03-02","transfer":"PDA-7","item":"JAVELIN","qty":4,"from":"US-DEPOT-2","override":{"reason":"urgent, \"approved\"","by":"Secretary \u00e9"}}
{"type":"pause","id":"p1","time":"2024-03-03T10:30:00.123456789Z","reason":"stockpile review","by":"DoD","items":["JAVELIN"],"review_by":"2024-04-01"}
{"type":"pause","id":"p2","time":"2024-03-04T00:00:00Z","reason":"audit","by":"IG","categories":["anti-armour \"ATGM\"\nportable","artillery"],"donor":"US","recipient":"UA","transfer":"PDA-7"}
"#;

/// Batch 3: p1 resumed.
const W3: &str = r#"
{"type":"resume","id":"r1","time":"2024-03-10T00:00:00Z","pause":"p1","reason":"done","by":"DoD"}
"#;

/// Batch 4, recorded before 1970: a pause resumed in its own batch, and an allocation of the
/// other transfer.
const W4: &str = r#"
{"type":"pause","id":"p3","time":"2024-03-11T00:00:00.000000001Z","reason":"count","by":"DoD","recipient":"UA"}
{"type":"resume","id":"r3","time":"2024-03-12T00:00:00Z","pause":"p3"}
{"type":"allocate","id":"a3","time":"2024-03-11T00:00:00Z","transfer":"PDA-8","item":"155MM","qty":50,"from":"US-DEPOT-2","lot":"L2024-01"}
"#;

/// Appends the workflow journal, batches 1 to 4, recorded at [`RECORDED_AT`].
fn append_workflow(db: &mut Fresh) -> Box<dyn crate::Store> {
    let mut s = (db.open)();
    for (i, (by, body)) in [("alice", W1), ("bob", W2), ("carol", W3), ("dave", W4)]
        .into_iter()
        .enumerate()
    {
        append_at(&mut *s, RECORDED_AT[i], by, &canonical(body));
    }
    s
}

/// Every column of every row of `allocations` and `pauses`, and `records` of the same
/// journal: the canonical lines, as stored.
pub(super) fn workflow(db: &mut Fresh) {
    let _s = append_workflow(db);
    let null = ViewValue::Null;
    let alloc = |batch, at: &str, by: &str, id: &str, time: &str, transfer: &str| {
        vec![
            int(batch),
            text(at),
            text(by),
            text(id),
            text(time),
            text(transfer),
        ]
    };
    let bob = "2024-03-02T00:00:00.000000000Z";
    let dave = "1969-12-31T23:59:58.999999999Z";
    let with = |mut row: Vec<ViewValue>, rest: Vec<ViewValue>| {
        row.extend(rest);
        row
    };
    assert_rows(
        "allocations",
        &select_all(db, "allocations"),
        &[
            with(
                alloc(
                    2,
                    bob,
                    "bob",
                    "a1",
                    "2024-03-02T00:00:00.500000000Z",
                    "PDA-7",
                ),
                vec![
                    text("155MM"),
                    int(40),
                    text("US-DEPOT-1"),
                    text("L2023-07"),
                    null.clone(),
                    null.clone(),
                ],
            ),
            with(
                alloc(
                    2,
                    bob,
                    "bob",
                    "a2",
                    "2024-03-02T00:00:00.000000000Z",
                    "PDA-7",
                ),
                vec![
                    text("JAVELIN"),
                    int(4),
                    text("US-DEPOT-2"),
                    null.clone(),
                    text("urgent, \"approved\""),
                    text("Secretary \u{e9}"),
                ],
            ),
            with(
                alloc(
                    4,
                    dave,
                    "dave",
                    "a3",
                    "2024-03-11T00:00:00.000000000Z",
                    "PDA-8",
                ),
                vec![
                    text("155MM"),
                    int(50),
                    text("US-DEPOT-2"),
                    text("L2024-01"),
                    null.clone(),
                    null.clone(),
                ],
            ),
        ],
    );

    let categories = r#"["anti-armour \"ATGM\"\nportable","artillery"]"#;
    assert_rows(
        "pauses",
        &select_all(db, "pauses"),
        &[
            vec![
                int(2),
                text(bob),
                text("bob"),
                text("p1"),
                text("2024-03-03T10:30:00.123456789Z"),
                text("stockpile review"),
                text("DoD"),
                text(r#"["JAVELIN"]"#),
                null.clone(),
                null.clone(),
                null.clone(),
                null.clone(),
                text("2024-04-01T00:00:00.000000000Z"),
                text("2024-03-10T00:00:00.000000000Z"),
                text("r1"),
            ],
            vec![
                int(2),
                text(bob),
                text("bob"),
                text("p2"),
                text("2024-03-04T00:00:00.000000000Z"),
                text("audit"),
                text("IG"),
                null.clone(),
                text(categories),
                text("US"),
                text("UA"),
                text("PDA-7"),
                null.clone(),
                null.clone(),
                null.clone(),
            ],
            vec![
                int(4),
                text(dave),
                text("dave"),
                text("p3"),
                text("2024-03-11T00:00:00.000000001Z"),
                text("count"),
                text("DoD"),
                null.clone(),
                null.clone(),
                null.clone(),
                text("UA"),
                null.clone(),
                null.clone(),
                text("2024-03-12T00:00:00.000000000Z"),
                text("r3"),
            ],
        ],
    );

    // The journal holds the canonical lines: `records` shows them as written.
    let stored: Vec<String> = [W1, W2, W3, W4]
        .iter()
        .flat_map(|b| canonical(b).lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    let mut json: Vec<String> = (db.query)("SELECT json FROM records")
        .rows
        .into_iter()
        .map(|r| match &r[0] {
            ViewValue::Text(t) => t.clone(),
            other => panic!("records.json is text, got {other:?}"),
        })
        .collect();
    json.sort();
    let mut want = stored.clone();
    want.sort();
    assert_eq!(json, want);
    assert!(
        stored
            .iter()
            .any(|l| l.contains(r#""time":"2024-03-02T00:00:00Z""#)),
        "a bare date is stored as its canonical time"
    );
}

/// Plain SQL over the workflow's views: standing pauses, overrides, totals.
pub(super) fn workflow_queries(db: &mut Fresh) {
    let _s = append_workflow(db);
    let mut query = |sql: &str| {
        let mut rows = (db.query)(sql).rows;
        rows.sort();
        rows
    };
    assert_eq!(
        query("SELECT id FROM pauses WHERE resumed_at IS NULL"),
        vec![vec![text("p2")]],
        "a pause stands until a resume names it"
    );
    assert_eq!(
        query(
            "SELECT id FROM pauses WHERE time <= '2024-03-11T12:00:00' \
             AND (resumed_at IS NULL OR resumed_at > '2024-03-11T12:00:00')"
        ),
        vec![vec![text("p2")], vec![text("p3")]],
        "standing at a time: a range of text"
    );
    assert_eq!(
        query("SELECT id, override_by FROM allocations WHERE override_reason IS NOT NULL"),
        vec![vec![text("a2"), text("Secretary \u{e9}")]]
    );
    assert_eq!(
        // (PostgreSQL's sum of bigints is numeric: cast it.)
        query("SELECT transfer, CAST(sum(qty) AS BIGINT) FROM allocations GROUP BY transfer"),
        vec![vec![text("PDA-7"), int(44)], vec![text("PDA-8"), int(50)]]
    );
    assert_eq!(
        query("SELECT count(*) FROM allocations WHERE lot IS NULL"),
        vec![vec![int(1)]]
    );
}

fn line(transfer: &str, item: &str, recipient: &str, figures: [i64; 7]) -> TransferLineRow {
    let [line_qty, committed, cancelled, allocated, dispatched, delivered, in_transit] = figures;
    TransferLineRow {
        transfer: transfer.into(),
        item: item.into(),
        donor: "US".into(),
        recipient: recipient.into(),
        line_qty,
        committed,
        cancelled,
        allocated,
        dispatched,
        delivered,
        in_transit,
    }
}

fn line_values(r: &TransferLineRow) -> Vec<ViewValue> {
    vec![
        text(&r.transfer),
        text(&r.item),
        text(&r.donor),
        text(&r.recipient),
        int(r.line_qty),
        int(r.committed),
        int(r.cancelled),
        int(r.allocated),
        int(r.dispatched),
        int(r.delivered),
        int(r.in_transit),
    ]
}

/// `transfer_lines`: the rows each commit brings, replacing those of its (transfer, item) and
/// leaving the others; none from a failed commit; a copy stored without rows makes the table
/// stale, and a whole replacement makes it exact; the store reads back what the view shows.
pub(super) fn transfer_lines(db: &mut Fresh) {
    let mut s = (db.open)();
    let max = 9_007_199_254_740_991; // QTY_MAX: the largest quantity a record holds.
    let a7 = line("PDA-7", "155MM", "UA", [100, 100, 0, 0, 0, 0, 0]);
    let j7 = line("PDA-7", "JAVELIN", "UA", [10, 10, 0, 0, 0, 0, 0]);
    let f8 = line(
        "PDA-8",
        "FUZE \u{e9}\"x\"",
        "UA-\u{e9}",
        [max, max, 0, 0, 0, 0, 0],
    );
    let check = |db: &mut Fresh, s: &mut dyn crate::Store, want: &[&TransferLineRow]| {
        let mut want: Vec<TransferLineRow> = want.iter().map(|r| (*r).clone()).collect();
        want.sort();
        let rows: Vec<Vec<ViewValue>> = want.iter().map(line_values).collect();
        assert_rows("transfer_lines", &select_all(db, "transfer_lines"), &rows);
        assert_eq!(
            s.read_transfer_lines().unwrap(),
            want,
            "read_transfer_lines"
        );
    };
    let derived = |rows: &[&TransferLineRow]| Derived {
        transfer_lines: rows.iter().map(|r| (*r).clone()).collect(),
    };

    append_derived(
        &mut *s,
        "alice",
        &org("US"),
        Some(&derived(&[&a7, &j7, &f8])),
    );
    check(db, &mut *s, &[&a7, &j7, &f8]);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);

    // A batch that touched PDA-7: its lines are replaced, PDA-8's stays.
    let a7b = line("PDA-7", "155MM", "UA", [100, 80, 20, 40, 30, 25, 5]);
    append_derived(&mut *s, "bob", &org("UA"), Some(&derived(&[&a7b, &j7])));
    check(db, &mut *s, &[&a7b, &j7, &f8]);

    // A batch that touched none writes nothing.
    append(&mut *s, "carol", &org("PL"));
    check(db, &mut *s, &[&a7b, &j7, &f8]);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);

    // A commit that fails writes none of its rows.
    s.begin_append().unwrap();
    let off_the_chain = sealed(crate::Head::default(), "mallory", &org("X"));
    let bad = line("PDA-7", "155MM", "UA", [1, 1, 1, 1, 1, 1, 1]);
    assert!(matches!(
        s.commit_append(&off_the_chain, Some(&derived(&[&bad]))),
        Err(StoreError::Conflict { .. })
    ));
    check(db, &mut *s, &[&a7b, &j7, &f8]);

    // A batch stored without its rows (a copy): stale from it on, the rows as they were; a
    // later batch's rows are still written.
    append_derived(&mut *s, "dave", &org("DE"), None);
    let f8b = line(
        "PDA-8",
        "FUZE \u{e9}\"x\"",
        "UA-\u{e9}",
        [max, 0, max, 0, 0, 0, 0],
    );
    append_derived(&mut *s, "erin", &org("FR"), Some(&derived(&[&f8b])));
    check(db, &mut *s, &[&a7b, &j7, &f8b]);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 3 });

    // Replaced whole: exactly the rows given, exact again.
    let head = s.begin_append().unwrap();
    assert_eq!(head.seq, 5);
    s.commit_derived(&derived(&[&a7b, &f8b])).unwrap();
    check(db, &mut *s, &[&a7b, &f8b]);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
    let mut again = (db.open)();
    assert_eq!(again.derived_state().unwrap(), DerivedState::Current);
    check(db, &mut *again, &[&a7b, &f8b]);
}
