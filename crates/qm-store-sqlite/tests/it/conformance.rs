//! The backend-independent conformance suite of `qm-store`, on temporary SQLite files; the
//! views are queried through a read-only store of their own, as an analyst's tool would.

use qm_store::conformance::Fresh;
use qm_store::{OpenMode, Store};
use qm_store_sqlite::SqliteStore;

#[test]
fn conformance_suite() {
    let dir = tempfile::tempdir().unwrap();
    let mut n = 0;
    qm_store::conformance::run_all(&mut || {
        n += 1;
        let path = dir.path().join(format!("ledger-{n}.qm"));
        let queried = path.clone();
        Fresh {
            open: Box::new(move || Box::new(crate::open(&path)) as Box<dyn Store>),
            query: Box::new(move |sql| {
                SqliteStore::open(&queried, OpenMode::ReadOnly)
                    .and_then(|s| s.query_view(sql))
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }),
        }
    });
}
