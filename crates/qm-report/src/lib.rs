//! Reports: pure functions over the ledger (stockpile review).
