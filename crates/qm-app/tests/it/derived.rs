//! The analysts' transfer lines through the facade, on every backend: exact after every
//! commit whatever the batch (declarations, allocations, dispatches, deliveries, a
//! cancellation of the remainder, plain movements, repeats), with writers in turn catching up
//! on each other; compared line by line by `verify` (and repaired by a snapshot); complete
//! after `migrate`, and after the first writer opens a ledger of an older schema.

use qm_app::{App, OpenMode};
use qm_store::{DerivedState, Head, StoredBatch, TransferLineRow};

use crate::support::{on_every_backend, postgres, sqlite, Db};

const SETUP: &str = r#"{"type":"org","id":"US","name":"United States","kind":"donor"}
{"type":"org","id":"UA","name":"Ukraine","kind":"recipient"}
{"type":"holder","id":"PROD","name":"Production","org":"US","kind":"source"}
{"type":"holder","id":"DEPOT","name":"Depot","org":"US","kind":"depot"}
{"type":"holder","id":"HUB","name":"Hub","org":"US","kind":"transit"}
{"type":"holder","id":"BDE","name":"Brigade","org":"UA","kind":"unit"}
{"type":"item","code":"SHELL","name":"155 mm","category":"ammunition","tracking":"lot"}
{"type":"item","code":"FUZE","name":"Fuze","category":"ammunition","tracking":"bulk"}
{"type":"floor","item":"SHELL","org":"US","min_qty":50}
{"type":"movement","id":"p1","time":"2025-01-01","item":"SHELL","qty":300,"from":"PROD","to":"DEPOT","lot":"L1"}
{"type":"movement","id":"p2","time":"2025-01-01","item":"FUZE","qty":100,"from":"PROD","to":"DEPOT"}
"#;

/// The batches after [`SETUP`], each with the lines it leaves (figures: line_qty, committed,
/// cancelled, allocated, dispatched, delivered, in_transit).
fn steps() -> Vec<(&'static str, Vec<TransferLineRow>)> {
    let t1_shell = |f| line("T1", "SHELL", f);
    let t1_fuze = |f| line("T1", "FUZE", f);
    let t2_shell = line("T2", "SHELL", [10, 10, 0, 0, 0, 0, 0]);
    vec![
        (
            r#"{"type":"transfer","id":"T1","time":"2025-01-05","donor":"US","recipient":"UA","lines":[{"item":"SHELL","qty":100},{"item":"FUZE","qty":20}]}
{"type":"transfer","id":"T2","time":"2025-01-05","donor":"US","recipient":"UA","lines":[{"item":"SHELL","qty":10}]}
"#,
            vec![
                t1_fuze([20, 20, 0, 0, 0, 0, 0]),
                t1_shell([100, 100, 0, 0, 0, 0, 0]),
                t2_shell.clone(),
            ],
        ),
        (
            r#"{"type":"allocate","id":"a1","time":"2025-01-06","transfer":"T1","item":"SHELL","qty":60,"from":"DEPOT","lot":"L1"}
{"type":"allocate","id":"a2","time":"2025-01-06","transfer":"T1","item":"FUZE","qty":20,"from":"DEPOT"}
"#,
            vec![
                t1_fuze([20, 20, 0, 20, 0, 0, 0]),
                t1_shell([100, 100, 0, 60, 0, 0, 0]),
                t2_shell.clone(),
            ],
        ),
        (
            r#"{"type":"movement","id":"d1","time":"2025-01-07","item":"SHELL","qty":40,"from":"DEPOT","to":"HUB","lot":"L1","transfer":"T1"}
{"type":"movement","id":"d2","time":"2025-01-07","item":"FUZE","qty":5,"from":"DEPOT","to":"HUB","transfer":"T1"}
"#,
            vec![
                t1_fuze([20, 20, 0, 20, 5, 0, 5]),
                t1_shell([100, 100, 0, 60, 40, 0, 40]),
                t2_shell.clone(),
            ],
        ),
        (
            r#"{"type":"movement","id":"v1","time":"2025-01-08","item":"SHELL","qty":30,"from":"HUB","to":"BDE","lot":"L1","transfer":"T1"}
"#,
            vec![
                t1_fuze([20, 20, 0, 20, 5, 0, 5]),
                t1_shell([100, 100, 0, 60, 40, 30, 10]),
                t2_shell.clone(),
            ],
        ),
        (
            // The undispatched remainder of the fuzes, as it stands: 15 cancelled, and the
            // earmark above the new commitment released.
            r#"{"type":"cancel","id":"c1","time":"2025-01-09","transfer":"T1","item":"FUZE"}
"#,
            final_lines(),
        ),
        (
            // Plain movements, one under a label that names no transfer: nothing changes.
            r#"{"type":"movement","id":"p3","time":"2025-01-10","item":"SHELL","qty":10,"from":"PROD","to":"DEPOT","lot":"L1"}
{"type":"movement","id":"p4","time":"2025-01-10","item":"FUZE","qty":1,"from":"DEPOT","to":"HUB","transfer":"PKG-9"}
"#,
            final_lines(),
        ),
    ]
}

/// The lines once every step is applied.
fn final_lines() -> Vec<TransferLineRow> {
    vec![
        line("T1", "FUZE", [20, 5, 15, 5, 5, 0, 5]),
        line("T1", "SHELL", [100, 100, 0, 60, 40, 30, 10]),
        line("T2", "SHELL", [10, 10, 0, 0, 0, 0, 0]),
    ]
}

fn line(transfer: &str, item: &str, f: [i64; 7]) -> TransferLineRow {
    TransferLineRow {
        transfer: transfer.into(),
        item: item.into(),
        donor: "US".into(),
        recipient: "UA".into(),
        line_qty: f[0],
        committed: f[1],
        cancelled: f[2],
        allocated: f[3],
        dispatched: f[4],
        delivered: f[5],
        in_transit: f[6],
    }
}

fn lines(app: &mut App) -> Vec<TransferLineRow> {
    app.store().read_transfer_lines().unwrap()
}

/// Applies [`SETUP`] and every step.
fn applied(db: &Db) -> App {
    let mut app = db.open();
    app.apply_text("setup.jsonl", SETUP).unwrap();
    for (i, (text, _)) in steps().into_iter().enumerate() {
        app.apply_text(&format!("step{i}.jsonl"), text).unwrap();
    }
    app
}

/// Runs SQL on the database under the store, as an analyst's tool (or a tamperer) would.
fn sql(db: &Db, statement: &str) {
    match db {
        Db::Sqlite { path, .. } => rusqlite::Connection::open(path)
            .and_then(|c| c.execute_batch(statement))
            .unwrap_or_else(|e| panic!("{statement}: {e}")),
        Db::Postgres(pg) => pg
            .sql()
            .batch_execute(statement)
            .unwrap_or_else(|e| panic!("{statement}: {e}")),
    }
}

#[test]
fn transfer_lines_are_exact_after_every_commit() {
    on_every_backend(|fresh| {
        let db = fresh();
        let mut app = db.open();
        app.apply_text("setup.jsonl", SETUP).unwrap();
        assert_eq!(lines(&mut app), vec![]);
        for (i, (text, want)) in steps().into_iter().enumerate() {
            let applied = app.apply_text(&format!("step{i}.jsonl"), text).unwrap();
            assert!(applied.batch.is_some());
            assert_eq!(lines(&mut app), want, "after step {i}");
            assert_eq!(
                app.store().derived_state().unwrap(),
                DerivedState::Current,
                "after step {i}"
            );
        }
        // A repeat of recorded records commits nothing and changes nothing.
        let again = app.apply_text("again.jsonl", steps()[1].0).unwrap();
        assert_eq!(again.batch, None);
        assert_eq!(lines(&mut app), final_lines());
        let report = app.verify().unwrap();
        assert_eq!(report.transfer_lines, Some(3));
        // Another process reads the same.
        let mut reader = App::open_with(db.url(), OpenMode::ReadOnly).unwrap();
        assert_eq!(lines(&mut reader), final_lines());
    });
}

#[test]
fn a_writer_that_catches_up_writes_the_lines_as_they_stand_after_everything() {
    on_every_backend(|fresh| {
        let db = fresh();
        let mut a = db.open();
        let mut b = db.open();
        let steps = steps();
        a.apply_text("setup.jsonl", SETUP).unwrap();
        a.apply_text("t.jsonl", steps[0].0).unwrap();
        // b has read nothing of it: it catches up under the lock, then commits.
        b.apply_text("a.jsonl", steps[1].0).unwrap();
        assert_eq!(lines(&mut b), steps[1].1);
        a.apply_text("d.jsonl", steps[2].0).unwrap();
        b.apply_text("v.jsonl", steps[3].0).unwrap();
        a.apply_text("c.jsonl", steps[4].0).unwrap();
        assert_eq!(lines(&mut b), final_lines());
        assert_eq!(b.verify().unwrap().transfer_lines, Some(3));
    });
}

#[test]
fn verify_names_the_first_line_the_table_gets_wrong_and_a_snapshot_repairs_it() {
    on_every_backend(|fresh| {
        let db = fresh();
        applied(&db).close();
        let table = match &db {
            Db::Sqlite { .. } => "transfer_line_figures",
            Db::Postgres(_) => "qm_transfer_lines",
        };
        let verify = |db: &Db| {
            let app = App::open_with(db.url(), OpenMode::ReadOnly).unwrap();
            app.verify()
                .map(|r| r.transfer_lines.expect("the schema has transfer lines"))
                .map_err(|f| f.message)
        };
        sql(
            &db,
            &format!("UPDATE {table} SET delivered = 31 WHERE transfer = 'T1' AND item = 'SHELL'"),
        );
        assert_eq!(
            verify(&db).unwrap_err(),
            "the transfer lines table differs from the history: transfer \"T1\", item \
             \"SHELL\": delivered: table says 31, history says 30"
        );
        sql(
            &db,
            &format!("DELETE FROM {table} WHERE transfer = 'T1' AND item = 'FUZE'"),
        );
        assert_eq!(
            verify(&db).unwrap_err(),
            "the transfer lines table differs from the history: transfer \"T1\", item \
             \"FUZE\": missing from the table"
        );
        sql(
            &db,
            &format!("INSERT INTO {table} VALUES ('T0', 'SHELL', 'US', 'UA', 1, 1, 0, 0, 0, 0, 0)"),
        );
        assert_eq!(
            verify(&db).unwrap_err(),
            "the transfer lines table differs from the history: transfer \"T0\", item \
             \"SHELL\": not in the history"
        );
        let mut app = db.open();
        app.snapshot().unwrap();
        assert_eq!(lines(&mut app), final_lines());
        assert_eq!(verify(&db), Ok(3));
    });
}

#[test]
fn migrate_leaves_the_targets_transfer_lines_complete() {
    let (from, to) = (sqlite(), postgres());
    applied(&from).close();
    qm_app::migrate(from.url(), to.url(), &mut |_| {}).unwrap();
    let mut there = App::open_with(to.url(), OpenMode::ReadOnly).unwrap();
    assert_eq!(
        there.store().derived_state().unwrap(),
        DerivedState::Current
    );
    assert_eq!(lines(&mut there), final_lines());
    let back = sqlite();
    qm_app::migrate(to.url(), back.url(), &mut |_| {}).unwrap();
    let mut here = App::open_with(back.url(), OpenMode::ReadOnly).unwrap();
    assert_eq!(here.store().derived_state().unwrap(), DerivedState::Current);
    assert_eq!(lines(&mut here), final_lines());
}

/// The journal of [`SETUP`] and every step, sealed as an older Quartermaster sealed it (the
/// journal's format has not changed): canonical lines, chained.
fn older_journal() -> Vec<StoredBatch> {
    let mut head = Head::default();
    let texts = std::iter::once(SETUP).chain(steps().into_iter().map(|(t, _)| t));
    texts
        .map(|text| {
            let records = qm_interchange::parse_text("old", text, 1).unwrap();
            let mut body = String::new();
            for (_, r) in &records {
                qm_interchange::write_record(r, &mut body);
                body.push('\n');
            }
            let b = StoredBatch::seal(
                head,
                1_700_000_000_000_000_000 + head.seq as i64,
                "old".into(),
                body,
                records.len() as u64,
            );
            head = Head {
                seq: b.seq,
                hash: b.hash,
            };
            b
        })
        .collect()
}

/// A ledger of the schema before the derived tables (SQLite 2, PostgreSQL 3), its journal
/// written with plain SQL as that version wrote it.
fn older_ledger(db: &Db) {
    let journal = older_journal();
    match db {
        Db::Sqlite { path, .. } => {
            qm_store_sqlite::create_at_older_version(std::path::Path::new(path), 2).unwrap();
            let conn = rusqlite::Connection::open(path).unwrap();
            for b in &journal {
                qm_store_sqlite::append_as_older_writer(&conn, b).unwrap();
            }
        }
        Db::Postgres(pg) => {
            qm_store_postgres::migrate_to_older_version(&pg.url, 3).unwrap();
            let mut client = pg.sql();
            for b in &journal {
                qm_store_postgres::append_as_older_writer(&mut client, b).unwrap();
            }
        }
    }
}

#[test]
fn the_first_writer_to_open_an_older_ledger_fills_its_transfer_lines() {
    on_every_backend(|fresh| {
        let db = fresh();
        older_ledger(&db);
        // Read as it is: no derived tables, nothing to check of them.
        let mut reader = App::open_with(db.url(), OpenMode::ReadOnly).unwrap();
        assert_eq!(
            reader.store().derived_state().unwrap(),
            DerivedState::Absent
        );
        assert_eq!(reader.verify().unwrap().transfer_lines, None);
        drop(reader);
        // The first writer upgrades the schema and fills the table from the ledger.
        let mut app = App::open_with(db.url(), OpenMode::ReadWrite).unwrap();
        assert_eq!(app.store().derived_state().unwrap(), DerivedState::Current);
        assert_eq!(lines(&mut app), final_lines());
        assert_eq!(app.verify().unwrap().transfer_lines, Some(3));
        // And goes on writing them with each commit.
        app.apply_text(
            "more.jsonl",
            r#"{"type":"movement","id":"v2","time":"2025-01-11","item":"SHELL","qty":10,"from":"HUB","to":"BDE","lot":"L1","transfer":"T1"}
"#,
        )
        .unwrap();
        let mut want = final_lines();
        want[1] = line("T1", "SHELL", [100, 100, 0, 60, 40, 40, 0]);
        assert_eq!(lines(&mut app), want);
    });
}
