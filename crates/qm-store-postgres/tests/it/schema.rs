//! Migrations (the upgrade from an older schema included), open modes, and the journal's
//! guards, seen from SQL.

use std::thread;

use qm_store::conformance::{all_batches, append, balance, movement, org, sealed_at};
use qm_store::{DerivedState, Head, OpenMode, Store, StoreError, StoredBatch, ViewValue};
use qm_store_postgres::{PgStore, SCHEMA_VERSION};

use crate::support::{sql_value, OpenPg, TestDb};

fn append_one(store: &mut PgStore) -> StoredBatch {
    append(store, "tester", &org("a"))
}

fn schema_version(db: &TestDb) -> i32 {
    sql_value(db, "SELECT schema_version FROM qm_meta")
}

#[test]
fn migrating_twice_is_a_no_op() {
    let db = TestDb::new();
    let batch = append_one(&mut db.open());
    assert_eq!(schema_version(&db), SCHEMA_VERSION);
    let mut again = db.open();
    assert_eq!(schema_version(&db), SCHEMA_VERSION);
    assert_eq!(
        again.head().unwrap(),
        Head {
            seq: 1,
            hash: batch.hash
        }
    );
    assert_eq!(sql_value::<i64>(&db, "SELECT count(*) FROM qm_meta"), 1);
}

#[test]
fn concurrent_first_connections_migrate_once() {
    let db = TestDb::new();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| PgStore::connect(&db.url, OpenMode::Create).map(|_| ())))
            .collect();
        for h in handles {
            h.join()
                .unwrap()
                .expect("every concurrent connect migrates or finds the schema migrated");
        }
    });
    assert_eq!(schema_version(&db), SCHEMA_VERSION);
}

#[test]
fn a_newer_schema_is_refused() {
    let db = TestDb::new();
    drop(db.open());
    db.sql()
        .execute(
            "UPDATE qm_meta SET schema_version = $1",
            &[&(SCHEMA_VERSION + 1)],
        )
        .unwrap();
    for mode in [OpenMode::Create, OpenMode::ReadWrite, OpenMode::ReadOnly] {
        match PgStore::connect(&db.url, mode) {
            Err(StoreError::Format(msg)) => assert!(msg.contains("newer"), "{msg}"),
            Err(other) => {
                panic!("{mode:?}: a newer schema must be refused as Format, got {other:?}")
            }
            Ok(_) => panic!("{mode:?}: a newer schema must be refused"),
        }
    }
    assert_eq!(
        schema_version(&db),
        SCHEMA_VERSION + 1,
        "the refusal changed nothing"
    );
}

#[test]
fn the_journal_refuses_update_delete_and_truncate() {
    let db = TestDb::new();
    let batch = append_one(&mut db.open());
    let mut sql = db.sql();
    for statement in [
        "UPDATE qm_journal SET recorded_by = 'mallory'",
        "UPDATE qm_journal SET body = body || body WHERE seq = 1",
        "DELETE FROM qm_journal",
        "DELETE FROM qm_journal WHERE seq = 1",
        "TRUNCATE qm_journal",
    ] {
        let err = sql.batch_execute(statement).expect_err(statement);
        let db_err = err
            .as_db_error()
            .unwrap_or_else(|| panic!("{statement}: {err}"));
        assert!(
            db_err.message().contains("append-only"),
            "{statement}: {}",
            db_err.message()
        );
    }
    assert_eq!(
        db.open().read_batch(1).unwrap(),
        Some(batch),
        "the batch is untouched"
    );
}

#[test]
fn the_journal_refuses_rows_that_do_not_extend_the_chain() {
    let db = TestDb::new();
    let batch = append_one(&mut db.open());
    let mut sql = db.sql();
    let insert =
        "INSERT INTO qm_journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash)
                  VALUES ($1, 0, 'mallory', 0, '', $2, $3)";
    let zero = vec![0u8; 32];
    let chained = batch.hash.0.to_vec();
    // The same seq again, a gap, and a next seq that does not link to the head.
    for (seq, prev) in [(1i64, &zero), (3, &chained), (2, &zero)] {
        let err = sql
            .execute(insert, &[&seq, prev, &zero])
            .expect_err("a row off the chain");
        assert!(err.as_db_error().is_some(), "{err}");
    }
    assert_eq!(
        db.open().head().unwrap(),
        Head {
            seq: 1,
            hash: batch.hash
        }
    );
}

#[test]
fn read_modes_refuse_a_database_without_a_ledger_and_create_nothing() {
    let db = TestDb::new();
    // Trust authentication ignores the password; messages must not show it.
    let url = db.url.replacen("://postgres@", "://postgres:hunter2@", 1);
    assert_ne!(url, db.url, "the test cluster's user is postgres");
    for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite] {
        match PgStore::connect(&url, mode) {
            Err(StoreError::NoLedger {
                place,
                reason: None,
            }) => {
                assert_eq!(
                    place,
                    db.url.replacen("://postgres@", "://postgres:***@", 1)
                )
            }
            Err(e) => panic!("{mode:?}: expected NoLedger, got {e:?}"),
            Ok(_) => panic!("{mode:?}: expected NoLedger, it connected"),
        }
    }
    assert!(
        !sql_value::<bool>(&db, "SELECT to_regclass('qm_meta') IS NOT NULL"),
        "no schema was created"
    );
    // A writer creates it; then every mode connects.
    let written = append_one(&mut db.open());
    for mode in [OpenMode::ReadOnly, OpenMode::ReadWrite] {
        let mut s = PgStore::connect(&url, mode).unwrap();
        assert_eq!(s.mode(), mode);
        assert_eq!(all_batches(&mut s), vec![written.clone()]);
    }
}

#[test]
fn a_read_only_session_writes_nothing() {
    let db = TestDb::new();
    let written = append_one(&mut db.open());
    let mut s = db.open_read_only();
    for refused in [
        s.begin_append().map(|_| ()),
        s.save_snapshot(&qm_store::conformance::snapshot_at(&written, b"x"), &[]),
    ] {
        match refused {
            Err(StoreError::Backend(m)) => assert!(m.contains("open read-only"), "{m}"),
            other => panic!("a read-only store must refuse to write, got {other:?}"),
        }
    }
    // The server refuses whatever the session tries.
    assert_eq!(
        s.query_view("SELECT current_setting('transaction_read_only')")
            .unwrap()
            .rows,
        vec![vec![ViewValue::Text("on".into())]]
    );
    assert!(s.query_view("CREATE TABLE intruder (x int)").is_err());
    // It still reads, and learns of what writers commit.
    s.listen().unwrap();
    let second = append(&mut db.open(), "tester", &org("b"));
    assert_eq!(
        s.wait_for_batches(1, std::time::Duration::from_secs(10))
            .unwrap()
            .seq,
        2
    );
    assert_eq!(s.read_batch(2).unwrap(), Some(second));
}

/// Writes `body` into the journal with plain SQL, as a Quartermaster of an older schema would
/// have (the journal table has not changed).
fn insert_batch(db: &TestDb, head: Head, recorded_at: i64, body: &str) -> StoredBatch {
    let b = sealed_at(head, recorded_at, "old", body);
    qm_store_postgres::append_as_older_writer(&mut db.sql(), &b).unwrap();
    b
}

#[test]
fn a_version_2_database_is_read_as_it_is_read_only_and_upgraded_by_a_writer() {
    use ViewValue::{Integer, Null, Text};
    let db = TestDb::new();
    qm_store_postgres::migrate_to_older_version(&db.url, 2).unwrap();
    assert_eq!(schema_version(&db), 2);
    let mut body = movement("m1", "SHELL", 30, "PROD", "DEPOT", Some("L1"));
    body += r#"{"type":"movement","id":"m2","time":"2024-03-02T00:00:00.5Z","item":"FUZE","qty":2,"from":"DEPOT","to":"HUB","transfer":"PDA-7"}"#;
    body += "\n";
    body += r#"{"type":"movement","id":"m3","time":"2024-03-02T00:00:00Z","item":"FUZE","qty":1,"from":"DEPOT","to":"HUB","transfer":"PDA-7"}"#;
    body += "\n";
    let b1 = insert_batch(&db, Head::default(), 1_709_287_200_123_456_789, &body);
    // Version 2 kept the recorded time to the microsecond and ordered the times as instants.
    let old_recorded_at: String = sql_value(
        &db,
        "SELECT to_char(recorded_at AT TIME ZONE 'UTC', 'HH24:MI:SS.US') FROM movements WHERE id = 'm1'",
    );
    assert_eq!(old_recorded_at, "10:00:00.123456");

    let want_balances = vec![
        balance("DEPOT", "FUZE", "", -3),
        balance("DEPOT", "SHELL", "L1", 30),
        balance("HUB", "FUZE", "", 3),
        balance("PROD", "SHELL", "L1", -30),
    ];
    {
        let mut s = db.open_read_only();
        assert_eq!(all_batches(&mut s), vec![b1.clone()]);
        assert_eq!(s.read_balances().unwrap(), want_balances);
        assert_eq!(s.derived_state().unwrap(), DerivedState::Absent);
        assert!(s.read_transfer_lines().unwrap().is_empty());
    }
    assert_eq!(schema_version(&db), 2, "a reader upgrades nothing");

    let mut s = PgStore::connect(&db.url, OpenMode::ReadWrite).unwrap();
    assert_eq!(schema_version(&db), SCHEMA_VERSION);
    assert_eq!(all_batches(&mut s), vec![b1]);
    assert_eq!(s.read_balances().unwrap(), want_balances);
    let t = |s: &str| Text(s.into());
    assert_eq!(
        s.query_view("SELECT * FROM transfers").unwrap().rows,
        vec![vec![
            t("PDA-7"),
            t("FUZE"),
            Integer(2),
            Integer(3),
            t("2024-03-02T00:00:00.000000000Z"),
            t("2024-03-02T00:00:00.500000000Z"),
        ]]
    );
    assert_eq!(
        s.query_view("SELECT recorded_at, lot, serials FROM movements WHERE id = 'm2'")
            .unwrap()
            .rows,
        vec![vec![t("2024-03-01T10:00:00.123456789Z"), Null, Null]]
    );
    // The derived table is new and empty: stale until the application fills it.
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 0 });
    for view in ["transfer_lines", "allocations", "pauses"] {
        assert_eq!(
            s.query_view(&format!("SELECT count(*) FROM {view}"))
                .unwrap()
                .rows,
            vec![vec![Integer(0)]]
        );
    }
    assert_eq!(
        append_one(&mut s).seq,
        2,
        "it goes on as a ledger of this version"
    );
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 0 });
    s.begin_append().unwrap();
    s.commit_derived(&qm_store::Derived::EMPTY).unwrap();
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
}

/// A writer of schema version 3 (before the derived tables) still connected after another
/// process upgraded the database appends without the derived rows: the table is then stale,
/// not silently wrong.
#[test]
fn a_batch_appended_by_an_older_writer_leaves_the_derived_tables_stale() {
    let db = TestDb::new();
    let mut s = db.open();
    let b1 = append_one(&mut s);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
    insert_batch(
        &db,
        Head {
            seq: 1,
            hash: b1.hash,
        },
        1,
        &org("b"),
    );
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 1 });
}

#[test]
fn the_views_do_not_depend_on_the_session_time_zone() {
    let db = TestDb::new();
    let mut s = db.open();
    append(
        &mut s,
        "tester",
        concat!(
            r#"{"type":"movement","id":"m1","time":"2024-03-02","item":"I","qty":1,"from":"A","to":"B"}"#,
            "\n",
            r#"{"type":"movement","id":"m2","time":"2024-03-03T12:30:00+02:00","item":"I","qty":1,"from":"A","to":"B"}"#,
            "\n",
        ),
    );
    let mut sql = db.sql();
    for zone in ["UTC", "America/New_York", "Asia/Kolkata"] {
        sql.batch_execute(&format!("SET TimeZone = '{zone}'"))
            .unwrap();
        let times: Vec<(String, String)> = sql
            .query("SELECT id, time FROM movements ORDER BY id", &[])
            .unwrap()
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        assert_eq!(
            times,
            [
                ("m1", "2024-03-02T00:00:00.000000000Z"),
                ("m2", "2024-03-03T10:30:00.000000000Z")
            ]
            .map(|(a, b)| (a.to_string(), b.to_string())),
            "{zone}"
        );
    }
}
