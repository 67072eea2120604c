//! Snapshots stored in chunks: round trips, replacement, and corruption detected on load.

use qm_store::conformance::{org, sealed};
use qm_store::{snapshot_checksum, Hash, OpenMode, Snapshot, Store, StoreError};
use qm_store_postgres::{PgConfig, PgStore};

use crate::support::{sql_value, OpenPg, TestDb};

fn snapshot(seq: u64, bytes: Vec<u8>) -> Snapshot {
    let head_hash = Hash([seq as u8; 32]);
    Snapshot {
        seq,
        head_hash,
        checksum: snapshot_checksum(seq, head_hash, &bytes),
        bytes,
    }
}

fn chunk_rows(db: &TestDb) -> i64 {
    sql_value(db, "SELECT count(*) FROM qm_snapshot_chunk")
}

#[test]
fn snapshots_round_trip_in_chunks() {
    let db = TestDb::new();
    let mut s = PgStore::connect_with(
        &db.url,
        OpenMode::Create,
        PgConfig {
            snapshot_chunk_bytes: 7,
        },
    )
    .unwrap();
    let big = snapshot(3, (0..100u8).collect());
    s.save_snapshot(&big, &[]).unwrap();
    assert_eq!(chunk_rows(&db), 15);
    assert_eq!(s.load_snapshot().unwrap(), Some(big));

    // A smaller one replaces it entirely; a store with another chunk size reads it.
    let small = snapshot(4, b"0123456789".to_vec());
    s.save_snapshot(&small, &[]).unwrap();
    assert_eq!(chunk_rows(&db), 2);
    assert_eq!(db.open().load_snapshot().unwrap(), Some(small));

    let empty = snapshot(5, Vec::new());
    s.save_snapshot(&empty, &[]).unwrap();
    assert_eq!(s.load_snapshot().unwrap(), Some(empty));
}

#[test]
fn a_corrupt_snapshot_is_refused() {
    let db = TestDb::new();
    let mut s = PgStore::connect_with(
        &db.url,
        OpenMode::Create,
        PgConfig {
            snapshot_chunk_bytes: 4,
        },
    )
    .unwrap();

    let mut bad = snapshot(1, b"state".to_vec());
    bad.bytes[0] ^= 1;
    assert!(
        matches!(s.save_snapshot(&bad, &[]), Err(StoreError::Format(_))),
        "a wrong checksum is not stored"
    );
    assert_eq!(s.load_snapshot().unwrap(), None);

    s.save_snapshot(&snapshot(1, b"state of the ledger".to_vec()), &[])
        .unwrap();
    let mut sql = db.sql();
    sql.execute(
        "UPDATE qm_snapshot_chunk SET bytes = 'evil' WHERE no = 1",
        &[],
    )
    .unwrap();
    match s.load_snapshot() {
        Err(StoreError::Format(msg)) => assert!(msg.contains("checksum"), "{msg}"),
        other => panic!("a corrupt snapshot must not load, got {other:?}"),
    }
    sql.execute("DELETE FROM qm_snapshot_chunk WHERE no = 2", &[])
        .unwrap();
    match s.load_snapshot() {
        Err(StoreError::Format(msg)) => assert!(msg.contains("missing"), "{msg}"),
        other => panic!("a snapshot with a missing chunk must not load, got {other:?}"),
    }
}

#[test]
fn no_snapshot_while_an_append_is_open() {
    let db = TestDb::new();
    let mut s = db.open();
    let head = s.begin_append().unwrap();
    assert!(matches!(
        s.save_snapshot(&snapshot(1, b"x".to_vec()), &[]),
        Err(StoreError::Backend(_))
    ));
    // The append goes on unharmed.
    s.commit_append(
        &sealed(head, "tester", &org("a")),
        Some(&qm_store::Derived::EMPTY),
    )
    .unwrap();
    assert_eq!(s.head().unwrap().seq, 1);
    assert_eq!(s.load_snapshot().unwrap(), None);
}
