//! The conformance suite every storage backend must pass, and the helpers the backends' own
//! tests share (sealing and appending batches, reading them back, interchange lines).
//!
//! A backend's tests call [`run_all`] with a function that makes a new, empty database and
//! returns a [`Fresh`]: an opener (calling it twice must give two handles on the same data,
//! as two processes would have) and a way to run SQL over the analysts' views, as an
//! analyst's tool would. [`views`] checks every view value by value, so both backends give
//! the same columns, types and values. The end-to-end ledger behaviour (rules, balances,
//! export) is checked on every backend by `qm-app`'s conformance tests, which drive the
//! whole facade over each backend.

pub mod views;

use crate::{
    BalanceRow, Derived, DerivedState, Hash, Head, Snapshot, Store, StoreError, StoredBatch,
    ViewRows,
};

/// Opens (or re-opens) one database.
pub type Opener = dyn FnMut() -> Box<dyn Store>;

/// Runs one SQL query over the analysts' views of the same database, on a session of its own.
/// It panics on failure: it is test support.
pub type ViewQuery = dyn FnMut(&str) -> ViewRows;

/// One new, empty database of the backend under test.
pub struct Fresh {
    /// Opens it as a store; every call is a new handle (a new connection).
    pub open: Box<Opener>,
    /// Queries its views.
    pub query: Box<ViewQuery>,
}

/// One check of the suite.
type Check = fn(&mut Fresh);

/// Runs every check, each against a new database made by `fresh`.
pub fn run_all(fresh: &mut dyn FnMut() -> Fresh) {
    let checks: [(&str, Check); 17] = [
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
        (
            "derived_tables_follow_commits",
            derived_tables_follow_commits,
        ),
        (
            "a_store_moves_between_threads",
            a_store_moves_between_threads,
        ),
        ("views_of_an_empty_journal", views::empty),
        ("views_expand_the_journal", views::expand_the_journal),
        ("views_answer_analysts_queries", views::analysts_queries),
        (
            "views_convert_other_spellings_of_time",
            views::other_spellings_of_time,
        ),
        ("views_of_the_workflow", views::workflow),
        ("views_of_transfer_lines", views::transfer_lines),
        (
            "views_of_the_workflow_answer_analysts_queries",
            views::workflow_queries,
        ),
    ];
    for (name, check) in checks {
        eprintln!("conformance: {name}");
        let mut db = fresh();
        check(&mut db);
    }
}

/// The recorded time [`sealed`] gives the batch after `head`: a fixed base plus its seq, so
/// tests can state it.
pub const RECORDED_AT_BASE: i64 = 1_700_000_000_000_000_000;

/// `body` sealed as the batch after `head`, recorded by `recorded_by` at
/// [`RECORDED_AT_BASE`] + `head.seq`.
pub fn sealed(head: Head, recorded_by: &str, body: &str) -> StoredBatch {
    sealed_at(head, RECORDED_AT_BASE + head.seq as i64, recorded_by, body)
}

/// `body` sealed as the batch after `head`, recorded at `recorded_at` (nanoseconds since
/// the Unix epoch).
pub fn sealed_at(head: Head, recorded_at: i64, recorded_by: &str, body: &str) -> StoredBatch {
    let records = body.lines().count() as u64;
    StoredBatch::seal(head, recorded_at, recorded_by.into(), body.into(), records)
}

/// Appends `body` at the head, whatever it is now (see [`sealed`]), as a batch that touched no
/// transfer (nothing derived).
pub fn append(store: &mut dyn Store, recorded_by: &str, body: &str) -> StoredBatch {
    append_derived(store, recorded_by, body, Some(&Derived::EMPTY))
}

/// Appends `body` at the head with `derived` (see [`Store::commit_append`]).
pub fn append_derived(
    store: &mut dyn Store,
    recorded_by: &str,
    body: &str,
    derived: Option<&Derived>,
) -> StoredBatch {
    let head = store.begin_append().expect("begin_append");
    let b = sealed(head, recorded_by, body);
    store.commit_append(&b, derived).expect("commit_append");
    b
}

/// Appends `body` at the head, recorded at `recorded_at`.
pub fn append_at(
    store: &mut dyn Store,
    recorded_at: i64,
    recorded_by: &str,
    body: &str,
) -> StoredBatch {
    let head = store.begin_append().expect("begin_append");
    let b = sealed_at(head, recorded_at, recorded_by, body);
    store
        .commit_append(&b, Some(&Derived::EMPTY))
        .expect("commit_append");
    b
}

/// `text` (interchange lines, however spelled) as the journal holds it: the canonical line of
/// each record, as `qm apply` writes them ([`qm_interchange::write_record`]).
pub fn canonical(text: &str) -> String {
    let records = qm_interchange::parse_text("conformance", text, 1)
        .unwrap_or_else(|e| panic!("test records must parse: {e}"));
    let mut body = String::new();
    for (_, r) in &records {
        qm_interchange::write_record(r, &mut body);
        body.push('\n');
    }
    body
}

/// Every batch after `after`, in order.
pub fn batches_after(store: &mut dyn Store, after: u64) -> Vec<StoredBatch> {
    let mut out = Vec::new();
    store
        .read_batches(after, &mut |b| {
            out.push(b);
            Ok(())
        })
        .expect("read_batches");
    out
}

/// Every batch of the journal, in order.
pub fn all_batches(store: &mut dyn Store) -> Vec<StoredBatch> {
    batches_after(store, 0)
}

/// Asserts that `batches` is a whole, intact chain: numbered 1.. without gaps, each sealed
/// with the hash of its content and linked to the one before.
pub fn assert_chain(batches: &[StoredBatch]) {
    let mut prev = Head::default();
    for b in batches {
        assert_eq!(b.seq, prev.seq + 1, "batches are numbered without gaps");
        assert_eq!(
            b.prev_hash, prev.hash,
            "batch {} links to the one before",
            b.seq
        );
        assert_eq!(
            b.expected_hash(),
            b.hash,
            "batch {} reads back with its hash",
            b.seq
        );
        prev = Head {
            seq: b.seq,
            hash: b.hash,
        };
    }
}

/// A snapshot of `bytes` taken at batch `b`.
pub fn snapshot_at(b: &StoredBatch, bytes: &[u8]) -> Snapshot {
    Snapshot {
        seq: b.seq,
        head_hash: b.hash,
        checksum: crate::snapshot_checksum(b.seq, b.hash, bytes),
        bytes: bytes.to_vec(),
    }
}

/// The canonical interchange line (with its newline) of an org whose name is its id.
pub fn org(id: &str) -> String {
    format!("{{\"type\":\"org\",\"id\":\"{id}\",\"name\":\"{id}\"}}\n")
}

/// The canonical interchange line (with its newline) of a movement at 2025-01-01T00:00:00Z.
pub fn movement(id: &str, item: &str, qty: u64, from: &str, to: &str, lot: Option<&str>) -> String {
    let lot = lot.map(|l| format!(",\"lot\":\"{l}\"")).unwrap_or_default();
    format!(
        "{{\"type\":\"movement\",\"id\":\"{id}\",\"time\":\"2025-01-01T00:00:00Z\",\"item\":\"{item}\",\"qty\":{qty},\"from\":\"{from}\",\"to\":\"{to}\"{lot}}}\n"
    )
}

/// A row of the analysts' balances (`lot` empty: not lot-tracked).
pub fn balance(holder: &str, item: &str, lot: &str, qty: i64) -> BalanceRow {
    BalanceRow {
        holder: holder.into(),
        item: item.into(),
        lot: lot.into(),
        qty,
    }
}

fn empty_journal(db: &mut Fresh) {
    let mut s = (db.open)();
    assert_eq!(
        s.head().unwrap(),
        Head {
            seq: 0,
            hash: Hash::ZERO
        }
    );
    assert!(all_batches(&mut *s).is_empty());
    assert!(s.read_batch(1).unwrap().is_none());
    assert!(s.load_snapshot().unwrap().is_none());
    assert!(s.read_balances().unwrap().is_empty());
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
    assert!(s.read_transfer_lines().unwrap().is_empty());
}

fn append_then_read(db: &mut Fresh) {
    let mut s = (db.open)();
    let b1 = append(&mut *s, "tester", &org("a"));
    let b2 = append(&mut *s, "tester", "{\"type\":\"org\",\"id\":\"b\",\"name\":\"B \\u00e9\"}\n{\"type\":\"org\",\"id\":\"c\",\"name\":\"C \u{e9}\"}\n");
    assert_eq!(b2.prev_hash, b1.hash);
    assert_eq!(
        s.head().unwrap(),
        Head {
            seq: 2,
            hash: b2.hash
        }
    );
    assert_eq!(all_batches(&mut *s), vec![b1.clone(), b2.clone()]);
    assert_eq!(batches_after(&mut *s, 1), vec![b2.clone()]);
    assert_eq!(s.read_batch(1).unwrap(), Some(b1.clone()));
    assert_chain(&all_batches(&mut *s));
}

fn append_must_follow_head(db: &mut Fresh) {
    let mut s = (db.open)();
    append(&mut *s, "tester", &org("a"));
    let head = s.begin_append().unwrap();
    assert_eq!(head.seq, 1);
    let stale = sealed(Head::default(), "tester", &org("b"));
    match s.commit_append(&stale, Some(&Derived::EMPTY)) {
        Err(StoreError::Conflict {
            expected: 0,
            actual: 1,
        }) => {}
        other => panic!("a batch that does not follow the head must conflict, got {other:?}"),
    }
    // The failed commit released the lock and wrote nothing.
    assert_eq!(s.head().unwrap().seq, 1);
    append(&mut *s, "tester", &org("b"));
    assert_eq!(s.head().unwrap().seq, 2);
}

fn abort_writes_nothing(db: &mut Fresh) {
    let mut s = (db.open)();
    let head = s.begin_append().unwrap();
    assert_eq!(head.seq, 0);
    s.abort_append().unwrap();
    assert_eq!(s.head().unwrap().seq, 0);
    // A second handle can take the lock after the abort.
    let mut t = (db.open)();
    append(&mut *t, "tester", &org("a"));
    assert_eq!(
        s.head().unwrap().seq,
        1,
        "a second handle sees what the first wrote"
    );
}

fn reopen_keeps_everything(db: &mut Fresh) {
    let rows = vec![balance("h", "i", "", 5)];
    let written = {
        let mut s = (db.open)();
        let b = append(&mut *s, "tester", &org("a"));
        s.save_snapshot(&snapshot_at(&b, b"state"), &rows).unwrap();
        b
    };
    let mut s = (db.open)();
    assert_eq!(all_batches(&mut *s), vec![written.clone()]);
    let snap = s
        .load_snapshot()
        .unwrap()
        .expect("snapshot survives reopen");
    assert_eq!(snap.seq, 1);
    assert_eq!(snap.head_hash, written.hash);
    assert_eq!(snap.bytes, b"state");
    assert_eq!(s.read_balances().unwrap(), rows);
}

fn snapshots_replace(db: &mut Fresh) {
    let mut s = (db.open)();
    let b1 = append(&mut *s, "tester", &org("a"));
    s.save_snapshot(&snapshot_at(&b1, b"one"), &[]).unwrap();
    let b2 = append(&mut *s, "tester", &org("b"));
    s.save_snapshot(&snapshot_at(&b2, b"two, longer"), &[])
        .unwrap();
    let snap = s.load_snapshot().unwrap().unwrap();
    assert_eq!((snap.seq, snap.bytes.as_slice()), (2, &b"two, longer"[..]));
    assert_eq!(
        snap.checksum,
        crate::snapshot_checksum(2, snap.head_hash, &snap.bytes)
    );
}

fn balances_base_plus_journal_tail(db: &mut Fresh) {
    let mut s = (db.open)();
    let row = |holder: &str, lot: &str, qty| balance(holder, "i", lot, qty);
    let mv = |id: &str, qty, from: &str, to: &str, lot| movement(id, "i", qty, from, to, lot);
    let sorted = |mut v: Vec<BalanceRow>| {
        v.sort_by(|a, b| (&a.holder, &a.lot).cmp(&(&b.holder, &b.lot)));
        v
    };
    // Before any snapshot, the balances come from the whole journal.
    let b1 = append(
        &mut *s,
        "tester",
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
        "tester",
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

fn anchor_follows_commits(db: &mut Fresh) {
    let mut s = (db.open)();
    assert_eq!(s.anchor().unwrap(), Head::default());
    let b1 = append(&mut *s, "tester", &org("a"));
    assert_eq!(
        s.anchor().unwrap(),
        Head {
            seq: 1,
            hash: b1.hash
        }
    );
    // Neither an abort nor a failed commit moves it.
    s.begin_append().unwrap();
    s.abort_append().unwrap();
    s.begin_append().unwrap();
    assert!(s
        .commit_append(
            &sealed(Head::default(), "tester", &org("x")),
            Some(&Derived::EMPTY)
        )
        .is_err());
    let mut t = (db.open)();
    assert_eq!(
        t.anchor().unwrap(),
        Head {
            seq: 1,
            hash: b1.hash
        },
        "the anchor survives reopening"
    );
}

/// The state of the derived tables: exact while every batch comes with its rows, stale from
/// the first batch stored without them (whatever comes after), exact again once replaced
/// whole; misuse is an error that leaves the lock free.
fn derived_tables_follow_commits(db: &mut Fresh) {
    let mut s = (db.open)();
    assert_eq!(s.mode(), crate::OpenMode::Create);
    append(&mut *s, "tester", &org("a"));
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
    append_derived(&mut *s, "tester", &org("b"), None);
    append(&mut *s, "tester", &org("c"));
    assert_eq!(s.derived_state().unwrap(), DerivedState::Stale { at: 1 });
    let mut t = (db.open)();
    assert_eq!(
        t.derived_state().unwrap(),
        DerivedState::Stale { at: 1 },
        "another handle sees it"
    );
    // Neither an abort nor a failed commit changes it.
    s.begin_append().unwrap();
    s.abort_append().unwrap();
    assert!(
        s.commit_derived(&Derived::EMPTY).is_err(),
        "not inside an append"
    );
    let head = s.begin_append().unwrap();
    assert_eq!(head.seq, 3);
    s.commit_derived(&Derived::EMPTY).unwrap();
    assert_eq!(t.derived_state().unwrap(), DerivedState::Current);
    append(&mut *t, "tester", &org("d"));
    assert_eq!(s.derived_state().unwrap(), DerivedState::Current);
    assert_eq!(
        all_batches(&mut *s).len(),
        4,
        "commit_derived adds no batch"
    );
    assert_eq!(s.anchor().unwrap().seq, 4);
}

/// `Store: Send`: a store opened on one thread appends on another (a server hands stores to
/// worker threads), and comes back.
fn a_store_moves_between_threads(db: &mut Fresh) {
    let mut s = (db.open)();
    let b1 = append(&mut *s, "tester", &org("a"));
    let (mut s, b2) = std::thread::spawn(move || {
        assert_eq!(s.head().unwrap().seq, 1);
        let b2 = append(&mut *s, "worker", &org("b"));
        (s, b2)
    })
    .join()
    .expect("the worker thread");
    assert_eq!(all_batches(&mut *s), vec![b1, b2]);
}
