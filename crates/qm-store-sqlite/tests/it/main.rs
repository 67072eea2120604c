//! Integration tests of the SQLite backend: the shared conformance suite (the analysts' views
//! included), open modes and read-only media, concurrent writers (threads and processes),
//! crash durability, and the on-disk format and its migrations.
//!
//! One test binary for the crate (see matklad's "Delete Cargo Integration Tests"). Some tests
//! re-run this binary as a child process (see [`child`]) to get real cross-process locking,
//! or a mount namespace of their own. The helpers shared with the PostgreSQL tests are in
//! `qm_store::conformance`.

mod child;
mod concurrency;
mod conformance;
mod format;
mod modes;

use std::path::Path;

use qm_store::OpenMode;
use qm_store_sqlite::SqliteStore;

/// Opens `path` for writing, creating it if missing, as `qm apply` does.
pub fn open(path: &Path) -> SqliteStore {
    SqliteStore::open(path, OpenMode::Create)
        .unwrap_or_else(|e| panic!("opening {}: {e}", path.display()))
}
