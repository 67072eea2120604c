//! The core's behaviour, through one `check` helper per concern: batches written in a tiny
//! text notation, outcomes and balances compared with expect tests; a property test
//! against a plain, slow model of the rules.

mod bounds;
mod dsl;
mod model;
mod rules;
mod time;
mod workflow;
mod workflow_model;
