//! A real PostgreSQL server and a database per test (from `qm-testkit`), opened as a store.

use qm_store::Store;
use qm_store_postgres::PgStore;
pub use qm_testkit::TestDb;

/// Opening a test database as the store under test.
pub trait OpenPg {
    /// A new store on this database (a new connection, as another process would have).
    fn open(&self) -> PgStore;
    /// An opener for the conformance suite: every call connects anew to this database.
    fn opener(self) -> Box<dyn FnMut() -> Box<dyn Store>>;
}

impl OpenPg for TestDb {
    fn open(&self) -> PgStore {
        PgStore::connect(&self.url).unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url))
    }

    fn opener(self) -> Box<dyn FnMut() -> Box<dyn Store>> {
        Box::new(move || Box::new(self.open()) as Box<dyn Store>)
    }
}
