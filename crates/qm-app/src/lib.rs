//! The application facade: opens a backend, keeps the ledger in step with the journal, applies, queries, exports, verifies.
