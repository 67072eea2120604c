//! The workflow benchmark workload: every batch is accepted by the ledger, the workflow has
//! the shares it promises, every transfer ends delivered, and the generator is exact and
//! deterministic.

use qm_core::{HolderKind, Ledger, Originals, Record};
use qm_sim::{
    workflow_master_data, workflow_workload, WorkflowConfig, RESERVE_CATEGORY, WORKFLOW_DONOR,
    WORKFLOW_HUB,
};

/// Counts of what the workload emitted.
#[derive(Debug, Default)]
struct Counts {
    batches: u64,
    movements: u64,
    transfers: u64,
    lines: u64,
    allocations: u64,
    dispatches: u64,
    deliveries: u64,
    pauses: u64,
    resumes: u64,
}

/// Applies the master data and every batch to a fresh ledger, failing on the first
/// rejection, and counts what was applied.
fn apply_all(config: &WorkflowConfig) -> (Ledger, Counts) {
    let mut ledger = Ledger::new();
    ledger
        .apply(&workflow_master_data(config), &Originals::default())
        .expect("master data");
    let mut c = Counts::default();
    let mut last_time = i64::MIN;
    for batch in workflow_workload(config.clone()) {
        c.batches += 1;
        let mut in_batch = 0;
        for r in &batch {
            let time = match r {
                Record::Movement(m) => {
                    in_batch += 1;
                    match (&m.transfer, m.to.as_str()) {
                        (None, _) => {}
                        (Some(_), WORKFLOW_HUB) => c.dispatches += 1,
                        (Some(_), _) => c.deliveries += 1,
                    }
                    m.time
                }
                Record::Transfer(t) => {
                    c.transfers += 1;
                    c.lines += t.lines.len() as u64;
                    assert!((1..=config.lines_max as usize).contains(&t.lines.len()));
                    t.time
                }
                Record::Allocate(a) => {
                    c.allocations += 1;
                    a.time
                }
                Record::Pause(p) => {
                    c.pauses += 1;
                    p.time
                }
                Record::Resume(r) => {
                    c.resumes += 1;
                    r.time
                }
                other => panic!("unexpected {} record", other.type_name()),
            };
            assert!(time >= last_time, "records come in time order");
            last_time = time;
        }
        assert!(in_batch <= config.batch_size as u64);
        c.movements += in_batch;
        if let Err(r) = ledger.apply(&batch, &Originals::default()) {
            panic!("batch {} rejected: {}", c.batches, r.errors[0]);
        }
    }
    (ledger, c)
}

#[test]
fn two_hundred_thousand_movements_apply_without_a_rejection() {
    let config = WorkflowConfig {
        movements: 200_000,
        ..WorkflowConfig::default()
    };
    let (ledger, c) = apply_all(&config);
    assert_eq!(c.movements, 200_000);
    assert_eq!(ledger.movement_count(), 200_000);
    assert_eq!(c.batches, 20);
    // About one transfer per 100 movements, 1 to 3 lines each, one allocation per line.
    assert!((1_700..=2_300).contains(&c.transfers), "{c:?}");
    assert_eq!(c.allocations, c.lines);
    let per_transfer = c.lines as f64 / c.transfers as f64;
    assert!((1.8..=2.2).contains(&per_transfer), "{c:?}");
    // Every line dispatched in one or two parts, each part delivered.
    assert!(
        c.dispatches >= c.lines && c.dispatches <= 2 * c.lines,
        "{c:?}"
    );
    assert_eq!(c.deliveries, c.dispatches);
    let workflow_share = (c.dispatches + c.deliveries) as f64 / c.movements as f64;
    assert!((0.03..=0.08).contains(&workflow_share), "{c:?}");
    // A pause every 100k movements, each resumed.
    assert_eq!(c.pauses, 2);
    assert_eq!(c.resumes, 2);

    // Everything allocated was dispatched and delivered; nothing is left earmarked or in
    // transit; some lines commit more than was allocated.
    let mut open_lines = 0;
    for t in ledger.transfers() {
        assert_eq!(t.record.donor, WORKFLOW_DONOR);
        for line in &t.lines {
            let f = line.figures(t.record.time, None);
            assert_eq!(f.dispatched, f.allocated, "{}", t.record.id);
            assert_eq!(f.delivered, f.dispatched, "{}", t.record.id);
            assert_eq!(f.in_transit, 0);
            if f.committed > f.allocated {
                open_lines += 1;
            }
        }
    }
    let open_share = open_lines as f64 / c.lines as f64;
    assert!((0.2..=0.3).contains(&open_share), "{open_share}");
    for k in 0..ledger.key_count() as qm_core::KeyIdx {
        assert_eq!(ledger.key_earmarked(k, None), 0);
    }
    let hub = ledger.holder_idx(WORKFLOW_HUB).expect("hub");
    assert!(ledger
        .holder_keys(hub)
        .iter()
        .all(|&k| ledger.key_balance(k, None) == 0));
    // No transfer carries the reserve item the pauses name.
    let reserve = ledger
        .items()
        .iter()
        .position(|i| i.category == RESERVE_CATEGORY)
        .expect("a reserve item") as u32;
    assert!(ledger
        .transfers()
        .iter()
        .all(|t| t.lines.iter().all(|l| l.item != reserve)));
}

#[test]
fn small_shapes_apply_and_counts_are_exact() {
    for (movements, batch_size, items, depots, units) in [
        (0u64, 10usize, 2u32, 1u32, 1u32),
        (1, 10, 2, 1, 1),
        (33, 4, 3, 2, 1),
        (5_000, 100, 2, 1, 1),
        (12_345, 1_000, 5, 3, 2),
    ] {
        let config = WorkflowConfig {
            movements,
            batch_size,
            items,
            depots,
            units,
            sources: 1,
            movements_per_transfer: 20,
            movements_per_pause: 1_000,
            delay_max: 50,
            ..WorkflowConfig::default()
        };
        let (_, c) = apply_all(&config);
        assert_eq!(c.movements, movements);
        assert_eq!(c.batches, movements.div_ceil(batch_size as u64));
        assert_eq!(c.pauses, c.resumes);
        assert_eq!(c.deliveries, c.dispatches);
        if movements >= 5_000 {
            assert!(c.transfers > 0 && c.pauses > 0, "{c:?}");
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_records() {
    let config = WorkflowConfig {
        movements: 30_000,
        ..WorkflowConfig::default()
    };
    let a: Vec<_> = workflow_workload(config.clone()).collect();
    let b: Vec<_> = workflow_workload(config.clone()).collect();
    assert_eq!(a, b);
    let c: Vec<_> = workflow_workload(WorkflowConfig { seed: 2, ..config }).collect();
    assert_ne!(a, c);
}

#[test]
fn master_data_has_the_workflow_shape() {
    let config = WorkflowConfig::default();
    let master = workflow_master_data(&config);
    let kinds: Vec<HolderKind> = master
        .iter()
        .filter_map(|r| match r {
            Record::Holder(h) => Some(h.kind),
            _ => None,
        })
        .collect();
    let count = |k: HolderKind| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(count(HolderKind::Source), 5);
    assert_eq!(count(HolderKind::Depot), 495);
    assert_eq!(count(HolderKind::Transit), 1);
    assert_eq!(count(HolderKind::Unit), 50);
    let items = master
        .iter()
        .filter(|r| matches!(r, Record::Item(_)))
        .count();
    assert_eq!(items, 2_000);
    // The same shape as the uniform workload it is compared with.
    let like = WorkflowConfig::like(&qm_sim::WorkloadConfig::default());
    assert_eq!((like.sources, like.depots, like.items), (5, 495, 2_000));
}
