//! The ledger's behaviour through the facade, on every backend from the same test code: the
//! embedded file and a real PostgreSQL (a throwaway cluster, or `QM_TEST_PG_URL`).

mod conformance;
mod support;
