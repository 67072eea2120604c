//! Appends across connections: serialised writers, lost connections, misuse.

use std::collections::HashMap;
use std::thread;

use qm_store::conformance::{all_batches, append, assert_chain, balance, org, sealed};
use qm_store::{snapshot_checksum, Head, Snapshot, Store, StoreError, StoredBatch};

use crate::support::{OpenPg, TestDb};

fn org_batch(head: Head, id: &str) -> StoredBatch {
    sealed(head, "tester", &org(id))
}

#[test]
fn concurrent_appenders_serialise() {
    const WRITERS: usize = 4;
    const BATCHES: usize = 50;
    let db = TestDb::new();
    thread::scope(|scope| {
        for w in 0..WRITERS {
            let db = &db;
            scope.spawn(move || {
                let mut store = db.open();
                let mut known = 0u64;
                for i in 0..BATCHES {
                    let head = store.begin_append().expect("begin_append");
                    // Catch up inside the append transaction, as the application does.
                    let mut next = known + 1;
                    store
                        .read_batches(known, &mut |b| {
                            assert_eq!(b.seq, next);
                            next += 1;
                            Ok(())
                        })
                        .expect("catching up");
                    assert_eq!(next, head.seq + 1, "caught up exactly to the head");
                    let batch = org_batch(head, &format!("w{w}-b{i}"));
                    store
                        .commit_append(&batch, Some(&qm_store::Derived::EMPTY))
                        .expect("commit_append under the lock never conflicts");
                    known = batch.seq;
                }
            });
        }
    });

    let mut store = db.open();
    let batches = all_batches(&mut store);
    assert_eq!(batches.len(), WRITERS * BATCHES);
    assert_chain(&batches);
    let mut count: HashMap<&str, usize> = HashMap::new();
    for b in &batches {
        *count.entry(b.body.as_str()).or_default() += 1;
    }
    for w in 0..WRITERS {
        for i in 0..BATCHES {
            let body = org(&format!("w{w}-b{i}"));
            assert_eq!(
                count.get(body.as_str()),
                Some(&1),
                "{body} is in the journal exactly once"
            );
        }
    }
}

#[test]
fn killed_connection_mid_append_writes_nothing() {
    let db = TestDb::new();
    let mut a = db.open();
    let b1 = append(&mut a, "tester", &org("a"));

    let head = a.begin_append().unwrap();
    assert_eq!(head.seq, 1);
    let b2 = org_batch(head, "b");

    // Another session finds the holder of the append lock and kills its server process.
    let mut sql = db.sql();
    let pids: Vec<i32> = sql
        .query(
            "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database
             WHERE l.locktype = 'advisory' AND l.granted AND d.datname = current_database()",
            &[],
        )
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(pids.len(), 1, "exactly one session holds the append lock");
    let killed: bool = sql
        .query_one("SELECT pg_terminate_backend($1, 10000)", &[&pids[0]])
        .unwrap()
        .get(0);
    assert!(killed);

    match a.commit_append(&b2, Some(&qm_store::Derived::EMPTY)) {
        Err(StoreError::Backend(msg)) => assert!(msg.starts_with("postgres: "), "{msg}"),
        other => panic!("a commit on a killed connection must fail as Backend, got {other:?}"),
    }
    assert!(
        matches!(a.head(), Err(StoreError::Backend(_))),
        "the dead store keeps failing cleanly"
    );

    // Nothing of batch 2 was written, the lock was released with the session, and another
    // connection appends the same batch.
    let mut b = db.open();
    assert_eq!(all_batches(&mut b), vec![b1.clone()]);
    assert_eq!(
        b.anchor().unwrap(),
        Head {
            seq: 1,
            hash: b1.hash
        }
    );
    let head = b.begin_append().unwrap();
    assert_eq!(
        head,
        Head {
            seq: 1,
            hash: b1.hash
        }
    );
    b.commit_append(&b2, Some(&qm_store::Derived::EMPTY))
        .unwrap();
    assert_eq!(all_batches(&mut b), vec![b1, b2]);
    assert!(
        b.read_balances().unwrap().is_empty(),
        "org batches move nothing"
    );
}

#[test]
fn the_same_batch_twice_conflicts() {
    let db = TestDb::new();
    let mut s = db.open();
    let b1 = append(&mut s, "tester", &org("a"));
    s.begin_append().unwrap();
    match s.commit_append(&b1, Some(&qm_store::Derived::EMPTY)) {
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1,
        }) => {}
        other => panic!("appending batch 1 again must conflict, got {other:?}"),
    }
    assert_eq!(all_batches(&mut s), vec![b1]);
}

#[test]
fn a_batch_whose_hash_is_wrong_is_refused() {
    let db = TestDb::new();
    let mut s = db.open();
    let head = s.begin_append().unwrap();
    let mut b1 = org_batch(head, "a");
    b1.body
        .push_str("{\"type\":\"org\",\"id\":\"smuggled\",\"name\":\"S\"}\n");
    match s.commit_append(&b1, Some(&qm_store::Derived::EMPTY)) {
        Err(StoreError::Format(msg)) => assert!(msg.contains("hash"), "{msg}"),
        other => panic!("expected a Format error, got {other:?}"),
    }
    assert_eq!(s.head().unwrap(), Head::default());
    // The lock was released: the next append goes through.
    let head = s.begin_append().unwrap();
    s.commit_append(&org_batch(head, "a"), Some(&qm_store::Derived::EMPTY))
        .unwrap();
}

#[test]
fn commit_without_begin_is_an_error_and_abort_is_idempotent() {
    let db = TestDb::new();
    let mut s = db.open();
    let b1 = org_batch(Head::default(), "a");
    assert!(matches!(
        s.commit_append(&b1, Some(&qm_store::Derived::EMPTY)),
        Err(StoreError::Backend(_))
    ));
    s.abort_append().unwrap();
    s.begin_append().unwrap();
    assert!(
        matches!(s.begin_append(), Err(StoreError::Backend(_))),
        "one append at a time per store"
    );
    s.abort_append().unwrap();
    s.abort_append().unwrap();
    assert_eq!(s.head().unwrap(), Head::default());
}

#[test]
fn balances_base_is_replaced_whole_in_one_statement() {
    let db = TestDb::new();
    let mut s = db.open();
    let rows: Vec<_> = (0..5_000)
        .map(|i| balance(&format!("h{}", i % 50), &format!("i{}", i / 50), "", i + 1))
        .collect();
    let b1 = append(&mut s, "tester", &org("a"));
    let snap = |b: &StoredBatch| Snapshot {
        seq: b.seq,
        head_hash: b.hash,
        checksum: snapshot_checksum(b.seq, b.hash, b"x"),
        bytes: b"x".to_vec(),
    };
    s.save_snapshot(&snap(&b1), &rows).unwrap();
    assert_eq!(s.read_balances().unwrap().len(), 5_000);

    // The next base replaces the whole table; zero balances are left out.
    let mut second: Vec<_> = rows
        .iter()
        .map(|r| qm_store::BalanceRow {
            qty: 0,
            ..r.clone()
        })
        .collect();
    second.push(balance("h0", "i0", "L1", 7));
    second.push(balance("h0", "i0", "", 3));
    let b2 = append(&mut s, "tester", &org("b"));
    s.save_snapshot(&snap(&b2), &second).unwrap();
    assert_eq!(
        s.read_balances().unwrap(),
        vec![balance("h0", "i0", "", 3), balance("h0", "i0", "L1", 7)]
    );
}

#[test]
fn the_anchor_only_moves_forward_whoever_writes_it() {
    // How it follows commits is in the conformance suite; here, its guards against SQL.
    let db = TestDb::new();
    let mut s = db.open();
    let b1 = append(&mut s, "tester", &org("a"));
    let mut sql = db.sql();
    for statement in [
        "UPDATE qm_anchor SET seq = 0",
        "UPDATE qm_anchor SET seq = 5",
        "DELETE FROM qm_anchor",
        "TRUNCATE qm_anchor",
    ] {
        let err = sql.batch_execute(statement).expect_err(statement);
        assert!(
            err.as_db_error()
                .is_some_and(|e| e.message().contains("qm_anchor")),
            "{statement}: {err}"
        );
    }
    assert_eq!(
        db.open().anchor().unwrap(),
        Head {
            seq: 1,
            hash: b1.hash
        }
    );
}
