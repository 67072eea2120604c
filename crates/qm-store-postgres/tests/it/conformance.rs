//! The storage conformance suite, the analysts' views included, every check on a fresh
//! database.

use crate::support::{OpenPg, TestDb};

#[test]
fn conformance_suite() {
    qm_store::conformance::run_all(&mut || TestDb::new().fresh());
}
