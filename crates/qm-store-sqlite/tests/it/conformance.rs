//! The backend-independent conformance suite of `qm-store`, on temporary SQLite files.

use qm_store::Store;
use qm_store_sqlite::SqliteStore;

#[test]
fn conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    qm_store::conformance::run_all(&mut || {
        n += 1;
        let path = dir.path().join(format!("ledger-{n}.qm"));
        Box::new(move || Box::new(SqliteStore::open(&path).expect("open")) as Box<dyn Store>)
    });
}
