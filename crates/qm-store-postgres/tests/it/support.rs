//! A real PostgreSQL server and a database per test (from `qm-testkit`), opened as a store.

use qm_store::conformance::Fresh;
use qm_store::{OpenMode, Store};
use qm_store_postgres::PgStore;
pub use qm_testkit::TestDb;

/// The one value of a one-row query, on a plain SQL session of `db`.
pub fn sql_value<T: postgres::types::FromSqlOwned>(db: &TestDb, sql: &str) -> T {
    db.sql()
        .query_one(sql, &[])
        .and_then(|row| row.try_get(0))
        .unwrap_or_else(|e| panic!("{sql}: {}", qm_testkit::why(&e)))
}

/// Opening a test database as the store under test.
pub trait OpenPg {
    /// A new store on this database (a new connection, as another process would have), for
    /// writing: the schema is created if missing.
    fn open(&self) -> PgStore;
    /// A new read-only store on this database.
    fn open_read_only(&self) -> PgStore;
    /// This database for the conformance suite: every open connects anew, every query on a
    /// read-only session of its own.
    fn fresh(self) -> Fresh;
}

impl OpenPg for TestDb {
    fn open(&self) -> PgStore {
        PgStore::connect(&self.url, OpenMode::Create)
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url))
    }

    fn open_read_only(&self) -> PgStore {
        PgStore::connect(&self.url, OpenMode::ReadOnly)
            .unwrap_or_else(|e| panic!("connecting to {} read-only: {e}", self.url))
    }

    fn fresh(self) -> Fresh {
        let db = std::sync::Arc::new(self);
        let queried = db.clone();
        Fresh {
            open: Box::new(move || Box::new(db.open()) as Box<dyn Store>),
            query: Box::new(move |sql| {
                queried
                    .open_read_only()
                    .query_view(sql)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            }),
        }
    }
}
