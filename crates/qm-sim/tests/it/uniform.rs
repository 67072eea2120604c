//! The uniform benchmark workload: valid, exact, deterministic, late when asked.

use qm_core::{HolderKind, Record};
use qm_sim::{uniform_master_data, uniform_workload, WorkloadConfig};

use crate::checker::{check_stream, Checker};

fn run(config: WorkloadConfig) -> Checker {
    check_stream(
        &uniform_master_data(&config),
        uniform_workload(config.clone()),
        config.movements,
        config.batch_size,
    )
}

#[test]
fn two_hundred_thousand_movements_are_valid() {
    let c = run(WorkloadConfig {
        movements: 200_000,
        ..WorkloadConfig::default()
    });
    assert_eq!(c.batches, 20);
    assert_eq!(c.behind_head, 0);
    // Stock flows both in from sources and between depots.
    let inflows: u64 = c.brought_in.values().sum();
    assert!(inflows > 0);
}

#[test]
fn late_movements_are_valid() {
    let c = run(WorkloadConfig {
        movements: 200_000,
        late_fraction: 0.05,
        ..WorkloadConfig::default()
    });
    let share = c.behind_head as f64 / c.movements as f64;
    assert!((0.04..=0.06).contains(&share), "{share}");
    assert!(c.late_by_batch > 0);
    assert!(c.late_outflows > 0);
}

#[test]
fn master_data_has_the_benchmark_shape() {
    let master = uniform_master_data(&WorkloadConfig::default());
    let items = master
        .iter()
        .filter(|r| matches!(r, Record::Item(_)))
        .count();
    let holders: Vec<HolderKind> = master
        .iter()
        .filter_map(|r| {
            if let Record::Holder(h) = r {
                Some(h.kind)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(items, 2_000);
    assert_eq!(holders.len(), 500);
    assert_eq!(
        holders.iter().filter(|k| **k == HolderKind::Source).count(),
        5
    );
}

#[test]
fn exact_counts_and_determinism() {
    for (movements, batch_size, late_fraction) in [
        (0, 10, 0.0),
        (1, 10, 0.5),
        (33, 4, 0.3),
        (12_345, 1_000, 0.1),
    ] {
        let config = WorkloadConfig {
            movements,
            batch_size,
            late_fraction,
            ..WorkloadConfig::default()
        };
        let c = run(config.clone());
        assert_eq!(c.batches, movements.div_ceil(batch_size as u64));
        let a: Vec<_> = uniform_workload(config.clone()).collect();
        let b: Vec<_> = uniform_workload(config.clone()).collect();
        assert_eq!(a, b);
    }
    let a = uniform_workload(WorkloadConfig {
        movements: 1_000,
        ..WorkloadConfig::default()
    })
    .next();
    let b = uniform_workload(WorkloadConfig {
        movements: 1_000,
        seed: 2,
        ..WorkloadConfig::default()
    })
    .next();
    assert_ne!(a, b);
}

#[test]
fn small_shapes_are_valid() {
    run(WorkloadConfig {
        movements: 20_000,
        items: 3,
        holders: 3,
        sources: 1,
        batch_size: 500,
        late_fraction: 0.2,
        ..WorkloadConfig::default()
    });
    run(WorkloadConfig {
        movements: 5_000,
        items: 1,
        holders: 2,
        sources: 1,
        batch_size: 100,
        ..WorkloadConfig::default()
    });
}
