//! Integration tests of the SQLite backend: the shared conformance suite, concurrent writers
//! (threads and processes), crash durability, the on-disk format, and the analysts' views.
//!
//! One test binary for the crate (see matklad's "Delete Cargo Integration Tests"). Some tests
//! re-run this binary as a child process (see [`child`]) to get real cross-process locking.

mod child;
mod concurrency;
mod conformance;
mod format;
mod views;

use qm_store::{Head, Store, StoredBatch};
use qm_store_sqlite::SqliteStore;

/// A batch of `body` sealed to follow `head`.
pub fn batch_after(head: Head, recorded_by: &str, body: &str) -> StoredBatch {
    let records = body.lines().count() as u64;
    StoredBatch::seal(
        head,
        1_700_000_000_000_000_000 + head.seq as i64,
        recorded_by.into(),
        body.into(),
        records,
    )
}

/// Appends `body` at the head, whatever it is now.
pub fn append(store: &mut SqliteStore, recorded_by: &str, body: &str) -> StoredBatch {
    let head = store.begin_append().expect("begin_append");
    let batch = batch_after(head, recorded_by, body);
    store.commit_append(&batch).expect("commit_append");
    batch
}

/// Every batch in the file, in order.
pub fn all_batches(store: &mut SqliteStore) -> Vec<StoredBatch> {
    let mut out = Vec::new();
    store
        .read_batches(0, &mut |b| {
            out.push(b);
            Ok(())
        })
        .expect("read_batches");
    out
}

/// One movement line of the interchange format.
pub fn movement(id: &str, item: &str, qty: u64, from: &str, to: &str, lot: Option<&str>) -> String {
    let lot = lot.map(|l| format!(",\"lot\":\"{l}\"")).unwrap_or_default();
    format!(
        "{{\"type\":\"movement\",\"id\":\"{id}\",\"time\":\"2025-01-01T00:00:00Z\",\"item\":\"{item}\",\"qty\":{qty},\"from\":\"{from}\",\"to\":\"{to}\"{lot}}}\n"
    )
}

/// Asserts that `batches` is a whole, intact chain: numbered 1.., each sealed with its hash
/// and linked to the one before.
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
