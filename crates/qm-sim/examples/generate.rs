//! Times the generators and summarises what they produce.
//!
//! ```text
//! cargo run --release -p qm-sim --example generate -- realistic 10000000
//! cargo run --release -p qm-sim --example generate -- uniform 10000000
//! cargo run --release -p qm-sim --example generate -- realistic 1000000 stats
//! ```
//! Prints movements per second and the peak resident memory of the process (Linux); with
//! `stats`, also quantities per item and kind, late movements and a sample of records.

use std::collections::BTreeMap;
use std::time::Instant;

use qm_core::Record;
use qm_sim::{realistic, uniform_workload, ScenarioConfig, WorkloadConfig};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map(String::as_str).unwrap_or("realistic");
    let movements: u64 = args
        .get(1)
        .map(|s| s.parse().expect("movements"))
        .unwrap_or(1_000_000);
    let stats = args.get(2).map(String::as_str) == Some("stats");

    let started = Instant::now();
    let mut scenario = None;
    let batches: Box<dyn Iterator<Item = Vec<Record>>> = match which {
        "realistic" => {
            let s = realistic(ScenarioConfig {
                movements,
                ..ScenarioConfig::default()
            });
            println!(
                "scale {:.3}, opening movements {}",
                s.scale(),
                s.opening_movements()
            );
            let batches = s.batches();
            scenario = Some(s);
            Box::new(batches)
        }
        "uniform" => Box::new(uniform_workload(WorkloadConfig {
            movements,
            ..WorkloadConfig::default()
        })),
        other => panic!("unknown generator {other:?}: realistic or uniform"),
    };
    let mut summary = Summary::default();
    let mut n = 0u64;
    for batch in batches {
        n += batch.len() as u64;
        if stats {
            summary.batch(&batch);
        }
    }
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(n, movements);
    let cpu = cpu_seconds();
    println!(
        "{which}: {n} movements in {secs:.2} s wall = {:.2}M/s; {cpu:.2} s CPU = {:.2}M/s per core; peak RSS {}",
        n as f64 / secs / 1e6,
        n as f64 / cpu / 1e6,
        peak_rss()
    );
    if stats {
        summary.print();
        if let Some(scenario) = scenario {
            summary.review(&scenario);
        }
    }
}

#[derive(Default)]
struct Summary {
    /// (item, kind) -> (movements, quantity)
    by_item_kind: BTreeMap<(String, String), (u64, u64)>,
    late: u64,
    prev_batches_max: i64,
    samples: Vec<String>,
    first_time: Option<i64>,
    last_time: i64,
    /// Final balance per (holder, item).
    balances: BTreeMap<(String, String), i64>,
}

impl Summary {
    fn batch(&mut self, batch: &[Record]) {
        let mut batch_max = i64::MIN;
        for r in batch {
            let Record::Movement(m) = r else { continue };
            let e = self
                .by_item_kind
                .entry((m.item.clone(), m.kind.clone().unwrap_or_default()))
                .or_default();
            e.0 += 1;
            e.1 += m.qty;
            *self
                .balances
                .entry((m.from.clone(), m.item.clone()))
                .or_default() -= m.qty as i64;
            *self
                .balances
                .entry((m.to.clone(), m.item.clone()))
                .or_default() += m.qty as i64;
            if m.time < self.prev_batches_max {
                self.late += 1;
            }
            batch_max = batch_max.max(m.time);
            self.first_time.get_or_insert(m.time);
            self.last_time = self.last_time.max(m.time);
            if self.samples.len() < 12
                && (m.serials.is_some() || m.transfer.is_some())
                && m.id.ends_with('7')
            {
                self.samples.push(format!("{m:?}"));
            }
        }
        self.prev_batches_max = self.prev_batches_max.max(batch_max);
    }

    fn print(&self) {
        println!(
            "{:<18} {:<15} {:>10} {:>14}",
            "item", "kind", "movements", "quantity"
        );
        for ((item, kind), (n, q)) in &self.by_item_kind {
            println!("{item:<18} {kind:<15} {n:>10} {q:>14}");
        }
        println!(
            "late (time before the latest of earlier batches): {}",
            self.late
        );
        println!("times {:?} .. {}", self.first_time, self.last_time);
        for s in &self.samples {
            println!("{s}");
        }
    }
}

impl Summary {
    /// On hand in each donor's depots against its floor, at the end.
    fn review(&self, scenario: &qm_sim::Scenario) {
        println!(
            "{:<10} {:<18} {:>12} {:>10} {:>12}",
            "org", "item", "on_hand", "floor", "in_transit"
        );
        for org in scenario.donor_orgs() {
            for item in scenario.items() {
                let sum_kind = |kind: qm_core::HolderKind| -> i64 {
                    scenario
                        .holders()
                        .iter()
                        .filter(|h| h.org == org.id && h.kind == kind)
                        .map(|h| {
                            self.balances
                                .get(&(h.id.clone(), item.code.clone()))
                                .copied()
                                .unwrap_or(0)
                        })
                        .sum()
                };
                let on_hand = sum_kind(qm_core::HolderKind::Depot);
                let in_transit = sum_kind(qm_core::HolderKind::Transit);
                let floor = scenario
                    .floors()
                    .iter()
                    .find(|f| f.org == org.id && f.item == item.code);
                if on_hand != 0 || floor.is_some() || in_transit != 0 {
                    let floor = floor.map_or(0, |f| f.min_qty);
                    println!(
                        "{:<10} {:<18} {on_hand:>12} {floor:>10} {in_transit:>12}",
                        org.id, item.code
                    );
                }
            }
        }
    }
}

/// User plus system CPU time of this process so far, from /proc/self/stat (Linux only;
/// assumes 100 clock ticks a second).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    // Fields 14 and 15 of the file (utime, stime) are 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// Peak resident set size, from /proc/self/status (Linux only).
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l[6..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}
