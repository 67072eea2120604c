//! The on-disk format: schema versioning, refusing files that are not ours, the append-only
//! journal, snapshots, and the protocol's misuse errors.

use qm_store::{snapshot_checksum, Hash, Head, Snapshot, Store, StoreError};
use qm_store_sqlite::{SqliteStore, SCHEMA_VERSION};

use crate::{all_batches, append, batch_after};

const ORG: &str = "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n";

fn open_err(path: &std::path::Path) -> StoreError {
    SqliteStore::open(path).expect_err("open must refuse this file")
}

#[test]
fn the_journal_refuses_update_delete_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(&dir.path().join("ledger.qm")).unwrap();
    let written = append(&mut store, "tester", ORG);
    let conn = store.connection();
    let refused = |sql: &str| {
        let err = conn.execute(sql, []).expect_err(sql).to_string();
        assert!(err.contains("journal is append-only"), "{sql}: {err}");
    };
    refused("UPDATE journal SET body = 'forged' WHERE seq = 1");
    refused("UPDATE journal SET recorded_by = 'someone else'");
    refused("DELETE FROM journal WHERE seq = 1");
    refused("DELETE FROM journal");
    refused(
        "INSERT OR REPLACE INTO journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash) \
         VALUES (1, 0, 'x', 0, '', zeroblob(32), zeroblob(32))",
    );
    // An insert must follow the head: not skip a number, not break the chain.
    refused(
        "INSERT INTO journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash) \
         VALUES (3, 0, 'x', 0, '', (SELECT hash FROM journal WHERE seq = 1), zeroblob(32))",
    );
    refused(
        "INSERT INTO journal (seq, recorded_at, recorded_by, records, body, prev_hash, hash) \
         VALUES (2, 0, 'x', 0, '', zeroblob(32), zeroblob(32))",
    );
    assert_eq!(all_batches(&mut store), vec![written]);
}

#[test]
fn a_newer_schema_version_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    {
        let store = SqliteStore::open(&path).unwrap();
        store
            .connection()
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'schema_version'",
                [SCHEMA_VERSION + 1],
            )
            .unwrap();
    }
    match open_err(&path) {
        StoreError::Format(m) => {
            assert!(
                m.contains("schema version 2, newer than this program knows (1)"),
                "{m}"
            )
        }
        e => panic!("expected a format error, got {e:?}"),
    }
}

#[test]
fn files_that_are_not_ledgers_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.txt");
    std::fs::write(
        &text,
        "these are not the droids you are looking for\n".repeat(100),
    )
    .unwrap();
    assert!(matches!(open_err(&text), StoreError::Format(_)));

    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    match open_err(&other) {
        StoreError::Format(m) => assert!(m.contains("not a Quartermaster database"), "{m}"),
        e => panic!("expected a format error, got {e:?}"),
    }
}

#[test]
fn opening_twice_and_reopening_is_safe() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let mut a = SqliteStore::open(&path).unwrap();
    let mut b = SqliteStore::open(&path).unwrap();
    assert_eq!(a.path(), path);
    let written = append(&mut a, "tester", ORG);
    assert_eq!(
        b.head().unwrap(),
        Head {
            seq: 1,
            hash: written.hash
        }
    );
    drop((a, b));
    let mut c = SqliteStore::open(&path).unwrap();
    assert_eq!(all_batches(&mut c), vec![written]);
    c.integrity_check().unwrap();
    let version: i64 = c
        .connection()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = c
        .connection()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let synchronous: i64 = c
        .connection()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    assert_eq!(synchronous, 2, "FULL");
}

#[test]
fn a_conflicting_prev_hash_releases_the_lock() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let mut a = SqliteStore::open(&path).unwrap();
    append(&mut a, "tester", ORG);
    let head = a.begin_append().unwrap();
    // Right number, wrong history.
    let forged = batch_after(
        Head {
            seq: head.seq,
            hash: Hash([7; 32]),
        },
        "tester",
        ORG,
    );
    assert!(matches!(
        a.commit_append(&forged),
        Err(StoreError::Conflict {
            expected: 1,
            actual: 1
        })
    ));
    // Another handle can write at once: the lock was released.
    let mut b = SqliteStore::open(&path).unwrap();
    append(&mut b, "other", ORG);
    assert_eq!(a.head().unwrap().seq, 2);
}

#[test]
fn protocol_misuse_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("ledger.qm")).unwrap();
    let b = batch_after(Head::default(), "tester", ORG);
    assert!(matches!(s.commit_append(&b), Err(StoreError::Backend(_))));
    assert!(matches!(s.abort_append(), Err(StoreError::Backend(_))));
    s.begin_append().unwrap();
    assert!(matches!(s.begin_append(), Err(StoreError::Backend(_))));
    let snap = Snapshot {
        seq: 0,
        head_hash: Hash::ZERO,
        checksum: Hash::ZERO,
        bytes: vec![],
    };
    assert!(matches!(
        s.save_snapshot(&snap, &[]),
        Err(StoreError::Backend(_))
    ));
    s.commit_append(&b).unwrap();
    assert_eq!(s.head().unwrap().seq, 1);
    assert!(
        s.last_commit_profile().is_some(),
        "a successful commit is profiled"
    );
}

#[test]
fn large_snapshots_round_trip_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    let mut s = SqliteStore::open(&path).unwrap();
    for len in [20 << 20, 1000, 0, (5 << 20) + 17] {
        let bytes: Vec<u8> = (0..len).map(|i: usize| (i * 31 % 251) as u8).collect();
        let seq = len as u64;
        let head_hash = Hash([len as u8; 32]);
        let checksum = snapshot_checksum(seq, head_hash, &bytes);
        let snapshot = Snapshot {
            seq,
            head_hash,
            checksum,
            bytes,
        };
        s.save_snapshot(&snapshot, &[]).unwrap();
        assert_eq!(s.load_snapshot().unwrap(), Some(snapshot.clone()));
        let mut other = SqliteStore::open(&path).unwrap();
        assert_eq!(other.load_snapshot().unwrap(), Some(snapshot));
    }
    let rows: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM snapshot", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 1);
}

#[test]
fn the_anchor_remembers_a_head_cut_from_the_journal() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = SqliteStore::open(&dir.path().join("ledger.qm")).unwrap();
    append(&mut s, "tester", ORG);
    let second = append(&mut s, "tester", ORG);
    // Someone determined drops the guard and cuts the last batch: the chain that is left is
    // intact, but the anchor still names the batch that was cut.
    s.connection()
        .execute_batch(
            "DROP TRIGGER journal_append_only_delete; DELETE FROM journal WHERE seq = 2;",
        )
        .unwrap();
    assert_eq!(s.head().unwrap().seq, 1);
    assert_eq!(
        s.anchor().unwrap(),
        Head {
            seq: 2,
            hash: second.hash
        }
    );
}

#[test]
fn a_snapshot_larger_than_one_part_is_stored_in_parts_and_read_back_whole() {
    use qm_store::{snapshot_checksum, Snapshot, Store};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parts.db");
    let options = qm_store_sqlite::SqliteOptions {
        snapshot_part_bytes: 1000,
        ..Default::default()
    };
    let mut s = qm_store_sqlite::SqliteStore::open_with(&path, &options).unwrap();
    let bytes: Vec<u8> = (0..10_500u32).map(|i| (i * 7 % 251) as u8).collect();
    let h = qm_store::Hash([3; 32]);
    let snap = Snapshot {
        seq: 4,
        head_hash: h,
        checksum: snapshot_checksum(4, h, &bytes),
        bytes: bytes.clone(),
    };
    s.save_snapshot(&snap, &[]).unwrap();
    let parts: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM snapshot_part", [], |r| r.get(0))
        .unwrap();
    assert_eq!(parts, 11);
    assert_eq!(s.load_snapshot().unwrap().unwrap(), snap);
    // A smaller snapshot replaces every part, and a missing part is reported, not papered over.
    let small = Snapshot {
        bytes: bytes[..1500].to_vec(),
        checksum: snapshot_checksum(4, h, &bytes[..1500]),
        ..snap
    };
    s.save_snapshot(&small, &[]).unwrap();
    assert_eq!(s.load_snapshot().unwrap().unwrap(), small);
    drop(s);
    let c = rusqlite::Connection::open(&path).unwrap();
    c.execute("DELETE FROM snapshot_part WHERE no = 0", [])
        .unwrap();
    drop(c);
    let mut s = qm_store_sqlite::SqliteStore::open(&path).unwrap();
    assert!(s.load_snapshot().is_err());
}
