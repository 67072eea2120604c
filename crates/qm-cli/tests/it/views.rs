//! The workflow's analysts' views seen from SQL, as an analyst's tool sees them: `qm apply`
//! of workflow files, then the file opened with rusqlite and `transfer_lines`, `allocations`
//! and `pauses` queried; the transfer lines agree with `qm transfers --summary`, a line
//! changed behind `qm`'s back fails `qm verify` naming it (and `qm snapshot` rewrites it),
//! and a file of the schema before these views gets them, complete, from its first writer.

use rusqlite::types::Value;
use rusqlite::Connection;

use crate::support::Db;

/// Batch 1: the world, stock, and a transfer of two lines.
const SETUP: &str = r#"{"type":"org","id":"US","name":"United States","kind":"donor"}
{"type":"org","id":"UA","name":"Ukraine","kind":"recipient"}
{"type":"holder","id":"US-PROD","name":"Production","org":"US","kind":"source"}
{"type":"holder","id":"US-DEPOT","name":"Depot","org":"US","kind":"depot"}
{"type":"holder","id":"PL-HUB","name":"Hub","org":"US","kind":"transit"}
{"type":"holder","id":"UA-BDE","name":"Brigade","org":"UA","kind":"unit"}
{"type":"item","code":"155MM","name":"155 mm","category":"artillery","tracking":"lot"}
{"type":"item","code":"JAVELIN","name":"Javelin","category":"anti-armour","tracking":"serial"}
{"type":"floor","item":"155MM","org":"US","min_qty":100}
{"type":"movement","id":"m1","time":"2025-01-01","item":"155MM","qty":500,"from":"US-PROD","to":"US-DEPOT","lot":"L1"}
{"type":"movement","id":"m2","time":"2025-01-01","item":"JAVELIN","qty":3,"from":"US-PROD","to":"US-DEPOT","serials":["J1","J2","J3"]}
{"type":"transfer","id":"PDA-1","time":"2025-02-01","donor":"US","recipient":"UA","lines":[{"item":"155MM","qty":450},{"item":"JAVELIN","qty":3}],"authority":"PDA 1"}
"#;

/// Batch 2: allocations (one below the floor, overridden) and a pause on Javelins.
const APPROVE: &str = r#"{"type":"allocate","id":"a1","time":"2025-02-02T08:00:00.25Z","transfer":"PDA-1","item":"155MM","qty":420,"from":"US-DEPOT","lot":"L1","override":{"reason":"urgent","by":"SecDef"}}
{"type":"allocate","id":"a2","time":"2025-02-02","transfer":"PDA-1","item":"JAVELIN","qty":2,"from":"US-DEPOT"}
{"type":"pause","id":"p1","time":"2025-02-03","reason":"stockpile review","by":"DoD","items":["JAVELIN"],"review_by":"2025-03-01"}
"#;

/// Batch 3: shells dispatched (the pause is on Javelins), the pause resumed.
const DISPATCH: &str = r#"{"type":"movement","id":"d1","time":"2025-02-05","item":"155MM","qty":300,"from":"US-DEPOT","to":"PL-HUB","lot":"L1","transfer":"PDA-1"}
{"type":"resume","id":"r1","time":"2025-02-10","pause":"p1"}
"#;

/// Batch 4: a Javelin dispatched, shells delivered.
const DELIVER: &str = r#"{"type":"movement","id":"d2","time":"2025-02-11","item":"JAVELIN","qty":1,"from":"US-DEPOT","to":"PL-HUB","serials":["J1"],"transfer":"PDA-1"}
{"type":"movement","id":"v1","time":"2025-02-12","item":"155MM","qty":250,"from":"PL-HUB","to":"UA-BDE","lot":"L1","transfer":"PDA-1"}
"#;

/// Batch 5: the undispatched remainder of every line cancelled; a pause that stands.
const CANCEL: &str = r#"{"type":"cancel","id":"c1","time":"2025-02-13","transfer":"PDA-1","reason":"reprioritised"}
{"type":"pause","id":"p2","time":"2025-02-14","reason":"audit \"Q1\"","by":"IG","recipient":"UA","transfer":"PDA-1"}
"#;

const FILES: [(&str, &str); 5] = [
    ("setup.jsonl", SETUP),
    ("approve.jsonl", APPROVE),
    ("dispatch.jsonl", DISPATCH),
    ("deliver.jsonl", DELIVER),
    ("cancel.jsonl", CANCEL),
];

/// `qm apply` of `files`, one batch each.
fn apply(db: &Db, files: &[(&str, &str)]) {
    let paths: Vec<String> = files.iter().map(|(n, t)| db.file(n, t)).collect();
    let mut args = vec!["apply"];
    args.extend(paths.iter().map(String::as_str));
    db.qm(&args).ok();
}

/// Every row of `sql`, values as rusqlite gives them.
fn rows(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut stmt = conn.prepare(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
    let n = stmt.column_count();
    stmt.query_map([], |r| (0..n).map(|i| r.get::<_, Value>(i)).collect())
        .and_then(|rows| rows.collect())
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn i(n: i64) -> Value {
    Value::Integer(n)
}

const NULL: Value = Value::Null;

/// The transfer lines after every file.
fn want_lines() -> Vec<Vec<Value>> {
    let line = |item: &str, f: [i64; 7]| {
        let mut row = vec![t("PDA-1"), t(item), t("US"), t("UA")];
        row.extend(f.into_iter().map(i));
        row
    };
    vec![
        // 150 of the shells' remainder cancelled, the 120 earmarked above 300 released.
        line("155MM", [450, 300, 150, 300, 300, 250, 50]),
        line("JAVELIN", [3, 1, 2, 1, 1, 0, 1]),
    ]
}

fn check_views(conn: &Connection) {
    assert_eq!(
        rows(conn, "SELECT * FROM transfer_lines ORDER BY transfer, item"),
        want_lines()
    );
    assert_eq!(
        rows(
            conn,
            "SELECT batch, recorded_by, id, time, transfer, item, qty, from_holder, lot, \
             override_reason, override_by FROM allocations ORDER BY id"
        ),
        vec![
            vec![
                i(2),
                t("tester"),
                t("a1"),
                t("2025-02-02T08:00:00.250000000Z"),
                t("PDA-1"),
                t("155MM"),
                i(420),
                t("US-DEPOT"),
                t("L1"),
                t("urgent"),
                t("SecDef"),
            ],
            vec![
                i(2),
                t("tester"),
                t("a2"),
                t("2025-02-02T00:00:00.000000000Z"),
                t("PDA-1"),
                t("JAVELIN"),
                i(2),
                t("US-DEPOT"),
                NULL,
                NULL,
                NULL,
            ],
        ]
    );
    assert_eq!(
        rows(
            conn,
            r#"SELECT batch, recorded_by, id, time, reason, "by", items, categories, donor,
                      recipient, transfer, review_by, resumed_at, resume_id
               FROM pauses ORDER BY id"#
        ),
        vec![
            vec![
                i(2),
                t("tester"),
                t("p1"),
                t("2025-02-03T00:00:00.000000000Z"),
                t("stockpile review"),
                t("DoD"),
                t(r#"["JAVELIN"]"#),
                NULL,
                NULL,
                NULL,
                NULL,
                t("2025-03-01T00:00:00.000000000Z"),
                t("2025-02-10T00:00:00.000000000Z"),
                t("r1"),
            ],
            vec![
                i(5),
                t("tester"),
                t("p2"),
                t("2025-02-14T00:00:00.000000000Z"),
                t("audit \"Q1\""),
                t("IG"),
                NULL,
                NULL,
                NULL,
                t("UA"),
                t("PDA-1"),
                NULL,
                NULL,
                NULL,
            ],
        ]
    );
    // The recorded times are the commits' own, in the one sortable form.
    for (view, id) in [("allocations", "a1"), ("pauses", "p2")] {
        let at: String = conn
            .query_row(
                &format!("SELECT recorded_at FROM {view} WHERE id = ?1"),
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            at.len() == 30 && at.ends_with('Z') && at.as_bytes()[19] == b'.',
            "{view}.recorded_at: {at}"
        );
    }
}

#[test]
fn the_workflow_views_after_qm_apply() {
    let db = Db::new();
    apply(&db, &FILES);
    let conn = Connection::open(&db.path).unwrap();
    check_views(&conn);

    // The table says what the donor view says.
    let summary = db.qm(&["transfers", "--summary", "--json"]).ok().json();
    let from_report: Vec<Vec<Value>> = summary
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = |f: &str| i(r[f].as_i64().unwrap_or_else(|| panic!("{f} in {r}")));
            vec![
                t(r["item"].as_str().unwrap()),
                n("committed"),
                n("cancelled"),
                n("allocated"),
                n("dispatched"),
                n("delivered"),
                n("in_transit"),
            ]
        })
        .collect();
    assert_eq!(
        rows(
            &conn,
            "SELECT item, committed, cancelled, allocated, dispatched, delivered, in_transit \
             FROM transfer_lines ORDER BY item"
        ),
        from_report
    );

    // An analyst's query: what is committed and not yet dispatched, per line.
    assert_eq!(
        rows(
            &conn,
            "SELECT item, committed - dispatched FROM transfer_lines WHERE committed > dispatched"
        ),
        Vec::<Vec<Value>>::new(),
        "the cancellation took every remainder"
    );
    let v = db.qm(&["verify"]).ok().stdout.clone();
    assert!(
        v.contains("balances and transfer lines tables verified"),
        "{v}"
    );
}

#[test]
fn a_line_changed_behind_qms_back_fails_verify_and_a_snapshot_rewrites_it() {
    let db = Db::new();
    apply(&db, &FILES);
    Connection::open(&db.path)
        .unwrap()
        .execute(
            "UPDATE transfer_line_figures SET in_transit = 0 WHERE item = 'JAVELIN'",
            [],
        )
        .unwrap();
    let r = db.qm(&["verify"]);
    r.expect_code(1);
    assert_eq!(
        r.stderr.trim_end(),
        "qm: verify failed: the transfer lines table differs from the history: transfer \
         \"PDA-1\", item \"JAVELIN\": in_transit: table says 0, history says 1"
    );
    db.qm(&["snapshot"]).ok();
    db.qm(&["verify"]).ok();
    check_views(&Connection::open(&db.path).unwrap());
}

/// Turns the file back into schema version 2 (before the workflow's views): step 3 undone.
const BACK_TO_VERSION_2: &str = r#"
DROP VIEW transfer_lines;
DROP VIEW allocations;
DROP VIEW pauses;
DROP TABLE transfer_line_figures;
DROP TRIGGER journal_anchor;
ALTER TABLE anchor DROP COLUMN transfer_lines_seq;
CREATE TRIGGER journal_anchor AFTER INSERT ON journal
BEGIN
    INSERT OR REPLACE INTO anchor (id, seq, hash) VALUES (1, NEW.seq, NEW.hash);
END;
UPDATE meta SET value = 2 WHERE key = 'schema_version';
"#;

fn schema_version(db: &Db) -> i64 {
    Connection::open(&db.path)
        .unwrap()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_file_of_the_schema_before_the_views_gets_them_complete_from_its_first_writer() {
    let db = Db::new();
    apply(&db, &FILES[..4]);
    Connection::open(&db.path)
        .unwrap()
        .execute_batch(BACK_TO_VERSION_2)
        .unwrap();
    // Commands that read leave it as it is, and verify what it has.
    let v = db.qm(&["verify"]).ok().stdout.clone();
    assert!(v.contains("snapshot and balances table verified"), "{v}");
    db.qm(&["transfers", "--summary", "--json"]).ok();
    assert_eq!(schema_version(&db), 2);
    // The first command that writes upgrades it and fills the table from the ledger, the
    // batches before the upgrade included.
    apply(&db, &FILES[4..]);
    assert_eq!(schema_version(&db), 3);
    check_views(&Connection::open(&db.path).unwrap());
    db.qm(&["verify"]).ok();
}
