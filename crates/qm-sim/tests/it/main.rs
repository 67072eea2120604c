//! Integration tests of the generators: every record they emit is checked against the ledger
//! rules by an independent, plain checker (`checker.rs`).

mod checker;
mod scenario;
mod uniform;
