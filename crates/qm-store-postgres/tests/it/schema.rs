//! Migrations and the journal's guards, seen from SQL.

use std::thread;

use qm_store::{Head, Store, StoreError, StoredBatch};
use qm_store_postgres::{PgStore, SCHEMA_VERSION};

use crate::support::{OpenPg, TestDb};

fn append_one(store: &mut PgStore) -> StoredBatch {
    let head = store.begin_append().unwrap();
    let body = "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n".to_string();
    let batch = StoredBatch::seal(head, 1_700_000_000_000_000_000, "tester".into(), body, 1);
    store.commit_append(&batch).unwrap();
    batch
}

fn schema_version(db: &TestDb) -> i32 {
    db.sql()
        .query_one("SELECT schema_version FROM qm_meta", &[])
        .unwrap()
        .get(0)
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
    let meta_rows: i64 = db
        .sql()
        .query_one("SELECT count(*) FROM qm_meta", &[])
        .unwrap()
        .get(0);
    assert_eq!(meta_rows, 1);
}

#[test]
fn concurrent_first_connections_migrate_once() {
    let db = TestDb::new();
    thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| PgStore::connect(&db.url).map(|_| ())))
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
    match PgStore::connect(&db.url) {
        Err(StoreError::Format(msg)) => assert!(msg.contains("newer"), "{msg}"),
        Err(other) => panic!("a newer schema must be refused as Format, got {other:?}"),
        Ok(_) => panic!("a newer schema must be refused"),
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
