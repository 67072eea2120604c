//! The conformance suite every storage backend must pass.
//!
//! A backend's tests call [`run_all`] with a function that opens (or re-opens) one database:
//! calling it twice must give two handles on the same data, as two processes would have.
//! The end-to-end ledger behaviour (rules, balances, export) is checked on every backend by
//! `qm-app`'s conformance tests, which drive the whole facade over each backend.

use crate::{BalanceRow, Head, Snapshot, Store, StoreError, StoredBatch};

/// Opens (or re-opens) one database.
pub type Opener = dyn FnMut() -> Box<dyn Store>;

/// One check of the suite.
type Check = fn(&mut Opener);

/// Runs every check against fresh databases made by `fresh`, which returns an opener for a
/// new, empty database.
pub fn run_all(fresh: &mut dyn FnMut() -> Box<Opener>) {
    let checks: [(&str, Check); 8] = [
        ("empty_journal", empty_journal),
        ("append_then_read", append_then_read),
        ("append_must_follow_head", append_must_follow_head),
        ("abort_writes_nothing", abort_writes_nothing),
        ("reopen_keeps_everything", reopen_keeps_everything),
        ("snapshots_replace", snapshots_replace),
        (
            "balances_base_plus_journal_tail",
            balances_base_plus_journal_tail,
        ),
        ("anchor_follows_commits", anchor_follows_commits),
    ];
    for (name, check) in checks {
        eprintln!("conformance: {name}");
        let mut open = fresh();
        check(&mut *open);
    }
}

fn batch(prev: Head, body: &str) -> StoredBatch {
    let records = body.lines().count() as u64;
    StoredBatch::seal(
        prev,
        1_700_000_000_000_000_000 + prev.seq as i64,
        "tester".into(),
        body.into(),
        records,
    )
}

fn append(store: &mut dyn Store, body: &str) -> StoredBatch {
    let head = store.begin_append().expect("begin_append");
    let b = batch(head, body);
    store.commit_append(&b).expect("commit_append");
    b
}

fn snapshot_at(b: &StoredBatch, bytes: &[u8]) -> Snapshot {
    Snapshot {
        seq: b.seq,
        head_hash: b.hash,
        checksum: crate::snapshot_checksum(b.seq, b.hash, bytes),
        bytes: bytes.to_vec(),
    }
}

fn all_batches(store: &mut dyn Store, after: u64) -> Vec<StoredBatch> {
    let mut out = Vec::new();
    store
        .read_batches(after, &mut |b| {
            out.push(b);
            Ok(())
        })
        .expect("read_batches");
    out
}

fn empty_journal(open: &mut Opener) {
    let mut s = open();
    assert_eq!(
        s.head().unwrap(),
        Head {
            seq: 0,
            hash: crate::Hash::ZERO
        }
    );
    assert!(all_batches(&mut *s, 0).is_empty());
    assert!(s.read_batch(1).unwrap().is_none());
    assert!(s.load_snapshot().unwrap().is_none());
    assert!(s.read_balances().unwrap().is_empty());
}

fn append_then_read(open: &mut Opener) {
    let mut s = open();
    let b1 = append(&mut *s, "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n");
    let b2 = append(&mut *s, "{\"type\":\"org\",\"id\":\"b\",\"name\":\"B \\u00e9\"}\n{\"type\":\"org\",\"id\":\"c\",\"name\":\"C\"}\n");
    assert_eq!(b2.prev_hash, b1.hash);
    assert_eq!(
        s.head().unwrap(),
        Head {
            seq: 2,
            hash: b2.hash
        }
    );
    assert_eq!(all_batches(&mut *s, 0), vec![b1.clone(), b2.clone()]);
    assert_eq!(all_batches(&mut *s, 1), vec![b2.clone()]);
    assert_eq!(s.read_batch(1).unwrap(), Some(b1.clone()));
    for b in all_batches(&mut *s, 0) {
        assert_eq!(
            b.expected_hash(),
            b.hash,
            "stored batch {} reads back with its hash",
            b.seq
        );
    }
}

fn append_must_follow_head(open: &mut Opener) {
    let mut s = open();
    append(&mut *s, "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n");
    let head = s.begin_append().unwrap();
    assert_eq!(head.seq, 1);
    let stale = batch(
        Head::default(),
        "{\"type\":\"org\",\"id\":\"b\",\"name\":\"B\"}\n",
    );
    match s.commit_append(&stale) {
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1,
        }) => {}
        other => panic!("a batch that does not follow the head must conflict, got {other:?}"),
    }
    // The failed commit released the lock and wrote nothing.
    assert_eq!(s.head().unwrap().seq, 1);
    append(&mut *s, "{\"type\":\"org\",\"id\":\"b\",\"name\":\"B\"}\n");
    assert_eq!(s.head().unwrap().seq, 2);
}

fn abort_writes_nothing(open: &mut Opener) {
    let mut s = open();
    let head = s.begin_append().unwrap();
    assert_eq!(head.seq, 0);
    s.abort_append().unwrap();
    assert_eq!(s.head().unwrap().seq, 0);
    // A second handle can take the lock after the abort.
    let mut t = open();
    append(&mut *t, "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n");
    assert_eq!(
        s.head().unwrap().seq,
        1,
        "a second handle sees what the first wrote"
    );
}

fn reopen_keeps_everything(open: &mut Opener) {
    let rows = vec![BalanceRow {
        holder: "h".into(),
        item: "i".into(),
        lot: "".into(),
        qty: 5,
    }];
    let written = {
        let mut s = open();
        let b = append(&mut *s, "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n");
        s.save_snapshot(&snapshot_at(&b, b"state"), &rows).unwrap();
        b
    };
    let mut s = open();
    assert_eq!(all_batches(&mut *s, 0), vec![written.clone()]);
    let snap = s
        .load_snapshot()
        .unwrap()
        .expect("snapshot survives reopen");
    assert_eq!(snap.seq, 1);
    assert_eq!(snap.head_hash, written.hash);
    assert_eq!(snap.bytes, b"state");
    assert_eq!(s.read_balances().unwrap(), rows);
}

fn snapshots_replace(open: &mut Opener) {
    let mut s = open();
    let b1 = append(&mut *s, "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n");
    s.save_snapshot(&snapshot_at(&b1, b"one"), &[]).unwrap();
    let b2 = append(&mut *s, "{\"type\":\"org\",\"id\":\"b\",\"name\":\"B\"}\n");
    s.save_snapshot(&snapshot_at(&b2, b"two, longer"), &[])
        .unwrap();
    let snap = s.load_snapshot().unwrap().unwrap();
    assert_eq!((snap.seq, snap.bytes.as_slice()), (2, &b"two, longer"[..]));
    assert_eq!(
        snap.checksum,
        crate::snapshot_checksum(2, snap.head_hash, &snap.bytes)
    );
}

fn mv(id: &str, qty: u64, from: &str, to: &str, lot: Option<&str>) -> String {
    let lot = lot.map(|l| format!(",\"lot\":\"{l}\"")).unwrap_or_default();
    format!("{{\"type\":\"movement\",\"id\":\"{id}\",\"time\":\"2025-01-01T00:00:00Z\",\"item\":\"i\",\"qty\":{qty},\"from\":\"{from}\",\"to\":\"{to}\"{lot}}}\n")
}

fn balances_base_plus_journal_tail(open: &mut Opener) {
    let mut s = open();
    let row = |holder: &str, lot: &str, qty| BalanceRow {
        holder: holder.into(),
        item: "i".into(),
        lot: lot.into(),
        qty,
    };
    let sorted = |mut v: Vec<BalanceRow>| {
        v.sort_by(|a, b| (&a.holder, &a.lot).cmp(&(&b.holder, &b.lot)));
        v
    };
    // Before any snapshot, the balances come from the whole journal.
    let b1 = append(
        &mut *s,
        &(mv("m1", 5, "src", "h1", None) + &mv("m2", 7, "src", "h2", Some("L1"))),
    );
    assert_eq!(
        sorted(s.read_balances().unwrap()),
        vec![
            row("h1", "", 5),
            row("h2", "L1", 7),
            row("src", "", -5),
            row("src", "L1", -7)
        ]
    );
    // A base at batch 1, then batches after it.
    s.save_snapshot(
        &snapshot_at(&b1, b"s1"),
        &[
            row("h1", "", 5),
            row("h2", "L1", 7),
            row("src", "", -5),
            row("src", "L1", -7),
        ],
    )
    .unwrap();
    append(
        &mut *s,
        &(mv("m3", 5, "h1", "h3", None) + &mv("m4", 2, "src", "h2", Some("L1"))),
    );
    assert_eq!(
        sorted(s.read_balances().unwrap()),
        // A balance back at zero is not listed.
        vec![
            row("h2", "L1", 9),
            row("h3", "", 5),
            row("src", "", -5),
            row("src", "L1", -9)
        ]
    );
}

fn anchor_follows_commits(open: &mut Opener) {
    let mut s = open();
    assert_eq!(s.anchor().unwrap(), Head::default());
    let b1 = append(&mut *s, "{\"type\":\"org\",\"id\":\"a\",\"name\":\"A\"}\n");
    assert_eq!(
        s.anchor().unwrap(),
        Head {
            seq: 1,
            hash: b1.hash
        }
    );
    s.begin_append().unwrap();
    s.abort_append().unwrap();
    let mut t = open();
    assert_eq!(
        t.anchor().unwrap(),
        Head {
            seq: 1,
            hash: b1.hash
        },
        "the anchor survives reopening"
    );
}
