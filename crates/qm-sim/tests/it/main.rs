//! Integration tests of the generators: every record they emit is checked against the ledger
//! rules by an independent, plain checker (`checker.rs`); the workflow workload's transfers,
//! allocations and pauses, which that checker does not know, by the ledger itself.

mod checker;
mod scenario;
mod uniform;
mod workflow;
