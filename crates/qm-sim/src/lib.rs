//! Generated workloads and the realistic demo scenario, for the demo, benchmarks and tests.
//!
//! Three generators, all pure (no I/O), deterministic from a seed, and streaming: they yield
//! movement batches one at a time and keep only small bookkeeping, so 100M movements fit in
//! a few MiB of generator state.
//!
//! - [`realistic`]: a coalition supplying Ukraine from March 2022, with real donors, depots,
//!   producers, items, unit values and proportions drawn from the Kiel Ukraine Support Tracker
//!   and the SIPRI Arms Transfers Database (see `scenario/catalog.rs` for the figures used).
//! - [`uniform_workload`]: a plain benchmark workload (2,000 bulk items, 500 holders), like the
//!   SQL ledger baselines in `DESIGN.md`.
//! - [`workflow_workload`]: the uniform workload's chains with the shipment workflow running
//!   through them (transfers, allocations, dispatches, deliveries, pauses), for benchmarks.
//!
//! Architecture invariant: every movement either generator emits is valid under the ledger
//! rules given every record emitted before it, including the ~1% recorded late (an effective
//! time earlier than movements already emitted). The trick that makes late records valid
//! without looking back in time: when a movement is decided, its outflow is taken from the
//! sender's bookkeeping at once; its inflow is credited to the receiver only when the movement
//! is emitted. Between the two, every balance the ledger will see is at least the generator's,
//! and the generator never lets its own go negative.

mod fmt;
mod scenario;
pub mod time;
mod uniform;
mod workflow;

pub use scenario::{realistic, story, Scenario, ScenarioBatches, ScenarioConfig};
pub use uniform::{uniform_master_data, uniform_workload, UniformWorkload, WorkloadConfig};
pub use workflow::{
    workflow_master_data, workflow_workload, WorkflowConfig, WorkflowWorkload, RESERVE_CATEGORY,
    WORKFLOW_DONOR, WORKFLOW_HUB, WORKFLOW_RECIPIENT,
};
