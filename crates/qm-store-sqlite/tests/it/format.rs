//! The on-disk format: schema versioning and migrations (a file written by schema version 1
//! is kept in `data/`), refusing files that are not ours, the append-only journal, the
//! balances base, snapshots, and the protocol's misuse errors.

use std::path::Path;

use qm_store::conformance::{all_batches, append, balance, movement, org, sealed, snapshot_at};
use qm_store::{
    snapshot_checksum, DerivedState, Hash, Head, OpenMode, Snapshot, Store, StoreError,
};
use qm_store_sqlite::{SqliteStore, SCHEMA_VERSION};

use crate::open;

const ORG: &str = "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n";

fn open_err(path: &Path) -> StoreError {
    SqliteStore::open(path, OpenMode::Create).expect_err("open must refuse this file")
}

#[test]
fn the_journal_refuses_update_delete_and_replace() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("ledger.qm"));
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
        let store = open(&path);
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
            let want = format!(
                "schema version {}, newer than this program knows ({SCHEMA_VERSION})",
                SCHEMA_VERSION + 1
            );
            assert!(m.contains(&want), "{m}")
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
    let mut a = open(&path);
    let mut b = open(&path);
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
    let mut c = open(&path);
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
    let mut a = open(&path);
    append(&mut a, "tester", ORG);
    let head = a.begin_append().unwrap();
    // Right number, wrong history.
    let forged = sealed(
        Head {
            seq: head.seq,
            hash: Hash([7; 32]),
        },
        "tester",
        ORG,
    );
    assert!(matches!(
        a.commit_append(&forged, Some(&qm_store::Derived::EMPTY)),
        Err(StoreError::Conflict {
            expected: 1,
            actual: 1
        })
    ));
    // Another handle can write at once: the lock was released.
    let mut b = open(&path);
    append(&mut b, "other", ORG);
    assert_eq!(a.head().unwrap().seq, 2);
}

#[test]
fn protocol_misuse_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("ledger.qm"));
    let b = sealed(Head::default(), "tester", ORG);
    assert!(matches!(
        s.commit_append(&b, Some(&qm_store::Derived::EMPTY)),
        Err(StoreError::Backend(_))
    ));
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
    s.commit_append(&b, Some(&qm_store::Derived::EMPTY))
        .unwrap();
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
    let mut s = open(&path);
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
        let mut other = open(&path);
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
    let mut s = open(&dir.path().join("ledger.qm"));
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
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parts.db");
    let options = qm_store_sqlite::SqliteOptions {
        snapshot_part_bytes: 1000,
        ..Default::default()
    };
    let mut s = SqliteStore::open_with(&path, OpenMode::Create, &options).unwrap();
    let bytes: Vec<u8> = (0..10_500u32).map(|i| (i * 7 % 251) as u8).collect();
    let h = Hash([3; 32]);
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
    let mut s = open(&path);
    assert!(s.load_snapshot().is_err());
}

#[test]
fn other_databases_are_refused_before_anything_is_written_to_them() {
    let dir = tempfile::tempdir().unwrap();
    let other = dir.path().join("other.sqlite");
    let c = rusqlite::Connection::open(&other).unwrap();
    c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(c);
    let before = std::fs::read(&other).unwrap();
    for mode in [OpenMode::Create, OpenMode::ReadWrite, OpenMode::ReadOnly] {
        match SqliteStore::open(&other, mode) {
            Err(StoreError::Format(m)) => {
                assert!(m.contains("not a Quartermaster database"), "{m}")
            }
            other => panic!("{mode:?}: expected a format error, got {other:?}"),
        }
    }
    // Not switched to WAL mode, not given a page size: not one byte changed.
    assert_eq!(std::fs::read(&other).unwrap(), before);
}

#[test]
fn the_balances_base_is_replaced_whole_and_the_view_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("ledger.qm"));
    let b1 = append(
        &mut s,
        "tester",
        &(movement("m1", "shell", 10, "plant", "depot", Some("L1"))
            + &movement("m2", "fuze", 3, "plant", "depot", None)),
    );
    let base = s.read_balances().unwrap();
    s.save_snapshot(&snapshot_at(&b1, b"s"), &base).unwrap();
    let count = |s: &SqliteStore, sql: &str| -> i64 {
        s.connection().query_row(sql, [], |r| r.get(0)).unwrap()
    };
    assert_eq!(count(&s, "SELECT count(*) FROM balances_base"), 4);
    assert_eq!(
        count(&s, "SELECT value FROM meta WHERE key = 'balances_base_seq'"),
        1
    );
    // The base keeps '' as the key of a balance without a lot; the view shows NULL.
    assert_eq!(
        count(&s, "SELECT count(*) FROM balances_base WHERE lot = ''"),
        2
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM balances WHERE lot IS NULL"),
        2
    );
    let b2 = append(
        &mut s,
        "tester",
        &movement("m3", "fuze", 3, "depot", "unit", None),
    );
    let after = s.read_balances().unwrap();
    s.save_snapshot(&snapshot_at(&b2, b"t"), &after).unwrap();
    // The depot's fuzes are gone: the base is replaced whole, not merged.
    assert_eq!(count(&s, "SELECT count(*) FROM balances_base"), 4);
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM balances_base WHERE holder = 'depot' AND item = 'fuze'"
        ),
        0
    );
    assert_eq!(
        after,
        vec![
            balance("depot", "shell", "L1", 10),
            balance("plant", "fuze", "", -3),
            balance("plant", "shell", "L1", -10),
            balance("unit", "fuze", "", 3),
        ]
    );
    let err = s
        .connection()
        .execute("INSERT INTO balances VALUES ('x', 'y', 'z', 1)", [])
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot modify balances because it is a view"),
        "{err}"
    );
}

/// A copy of the file written by schema version 1 (`data/ledger-v1.qm`: three batches, the
/// second with a snapshot and its balances base), in a directory of its own.
fn v1_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.qm");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/ledger-v1.qm"),
        &path,
    )
    .unwrap();
    (dir, path)
}

fn schema_version(path: &Path) -> i64 {
    rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap()
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

/// The balances of the version 1 file: its base (at batch 2) plus batch 3.
fn v1_balances() -> Vec<qm_store::BalanceRow> {
    vec![
        balance("DEPOT", "FUZE", "", 2),
        balance("DEPOT", "SHELL", "L1", 90),
        balance("HUB", "FUZE", "", 1),
        balance("HUB", "SHELL", "L1", 30),
        balance("PROD", "FUZE", "", -3),
        balance("PROD", "SHELL", "L1", -120),
    ]
}

#[test]
fn a_version_1_file_is_read_as_it_is_by_a_read_only_open() {
    let (_dir, path) = v1_copy();
    let before = std::fs::read(&path).unwrap();
    {
        let mut s = SqliteStore::open(&path, OpenMode::ReadOnly).unwrap();
        let batches = all_batches(&mut s);
        qm_store::conformance::assert_chain(&batches);
        assert_eq!(batches.len(), 3);
        assert_eq!(s.load_snapshot().unwrap().unwrap().seq, 2);
        assert_eq!(s.read_balances().unwrap(), v1_balances());
        assert_eq!(s.derived_state().unwrap(), DerivedState::Absent);
        assert!(s.read_transfer_lines().unwrap().is_empty());
    }
    assert_eq!(schema_version(&path), 1, "a reader upgrades nothing");
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_version_1_file_is_upgraded_by_a_writer() {
    use qm_store::ViewValue::{Integer, Null, Text};
    let (_dir, path) = v1_copy();
    let old = all_batches(&mut SqliteStore::open(&path, OpenMode::ReadOnly).unwrap());
    let mut s = SqliteStore::open(&path, OpenMode::ReadWrite).unwrap();
    assert_eq!(schema_version(&path), SCHEMA_VERSION);
    // The journal, the snapshot and the base are untouched; the views are the new ones.
    assert_eq!(all_batches(&mut s), old);
    assert_eq!(s.load_snapshot().unwrap().unwrap().bytes, b"v1 state");
    assert_eq!(s.read_balances().unwrap(), v1_balances());
    let t = |s: &str| Text(s.into());
    assert_eq!(
        s.query_view("SELECT * FROM transfers ORDER BY item")
            .unwrap()
            .rows,
        vec![
            vec![
                t("PDA-7"),
                t("FUZE"),
                Integer(1),
                Integer(1),
                t("2024-03-03T10:30:00.123456789Z"),
                t("2024-03-03T10:30:00.123456789Z"),
            ],
            // Version 1 gave first_time '...00.5Z' and last_time '...00Z'.
            vec![
                t("PDA-7"),
                t("SHELL"),
                Integer(2),
                Integer(30),
                t("2024-03-02T00:00:00.000000000Z"),
                t("2024-03-02T00:00:00.500000000Z"),
            ],
        ]
    );
    assert_eq!(
        s.query_view("SELECT batch, recorded_at, lot FROM movements WHERE id = 'm2'")
            .unwrap()
            .rows,
        vec![vec![Integer(1), t("2024-03-01T10:00:00.123456789Z"), Null]]
    );
    assert_eq!(
        s.query_view("SELECT lot, qty FROM balances WHERE holder = 'HUB' AND item = 'FUZE'")
            .unwrap()
            .rows,
        vec![vec![Null, Integer(1)]]
    );
    assert_eq!(
        s.query_view("SELECT line, json FROM records WHERE batch = 3")
            .unwrap()
            .rows,
        vec![vec![Integer(1), t(old[2].body.trim_end())]]
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
    // It goes on as a ledger of this version.
    let next = append(&mut s, "tester", &org("UA"));
    assert_eq!(next.seq, 4);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 0 });
    drop(s);
    let mut again = open(&path);
    assert_eq!(all_batches(&mut again).len(), 4);
    again.integrity_check().unwrap();
    again.begin_append().unwrap();
    again.commit_derived(&qm_store::Derived::EMPTY).unwrap();
    assert_eq!(again.derived_state().unwrap(), DerivedState::Current);
}

/// A writer of schema version 2 (before the derived tables) that still has the file open
/// after another process upgraded it appends without the derived rows: the journal trigger
/// carries the anchor's `transfer_lines_seq` over, so the table is then stale, not silently
/// wrong.
#[test]
fn a_batch_appended_by_an_older_writer_leaves_the_derived_tables_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(&dir.path().join("ledger.qm"));
    let b1 = append(&mut s, "tester", ORG);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
    let b2 = sealed(
        Head {
            seq: 1,
            hash: b1.hash,
        },
        "old",
        &org("b"),
    );
    qm_store_sqlite::append_as_older_writer(s.connection(), &b2).unwrap();
    assert_eq!(s.anchor().unwrap().seq, 2);
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 1 });
}
