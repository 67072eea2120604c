//! `qm bench --workflow`: the shipment workflow's figures.
//!
//! - durable ingest through `qm apply` of the workflow workload (`qm_sim::workflow_workload`:
//!   about one transfer per 100 movements, allocations, dispatches and deliveries under them,
//!   a few pauses) against the movement-only uniform workload, at the same size in the same
//!   run, `--rounds` times in the order movement-only, workflow, workflow, movement-only (so
//!   that a drift of the shared machine's speed weighs on both alike), each into a fresh
//!   database; the rates are the fastest round's (the least disturbed by other work on the
//!   machine), with the ratio of the means and of the CPU time `qm apply` used beside it;
//! - late `allocate` and late `pause` records (one-record batches dated early in the
//!   history) on the workflow ledger of `--history` movements built in memory, p50 and p99,
//!   like the late-record figure of the movement-only bench; then late allocations again
//!   once those pauses stand (an allocation looks only at the pauses filed under its
//!   transfer, item, category, recipient or donor);
//! - late allocations on one depot key whose history holds every movement: the first earmark
//!   there, which makes the key's available-stock mirror, apart from the ones after it.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::anyhow;
use qm_core::{
    Allocate, HolderKind, KeyIdx, Ledger, Originals, Pause, Record, Time, Transfer, TransferLine,
};
use qm_sim::{
    uniform_master_data, uniform_workload, workflow_master_data, workflow_workload, WorkflowConfig,
    RESERVE_CATEGORY, WORKFLOW_DONOR,
};

use crate::bench::{bar, bulk_movement, config, percentile, Figure, Report, Rng};

/// The workflow counterpart of the movement-only bench workload at `n` movements.
fn workflow_config(n: u64) -> WorkflowConfig {
    WorkflowConfig::like(&config(n))
}

pub fn run(
    report: &mut Report,
    dir: &Path,
    ingest: &[u64],
    rounds: u32,
    history: u64,
    next: &mut Rng,
) -> anyhow::Result<()> {
    for &n in ingest.iter().filter(|&&n| n > 0) {
        ingest_pair(report, dir, n, rounds)?;
    }
    if history > 0 {
        late_records(report, history, next)?;
        hot_key(report, history, next)?;
    }
    Ok(())
}

/// Durable ingest of both workloads at `n` movements, `rounds` times ABBA.
fn ingest_pair(report: &mut Report, dir: &Path, n: u64, rounds: u32) -> anyhow::Result<()> {
    let cfg = config(n);
    let plain = crate::bench::write_files(
        dir,
        &format!("movements-{n}"),
        n,
        &uniform_master_data(&cfg),
        uniform_workload(cfg.clone()),
        false,
    )?;
    let wcfg = workflow_config(n);
    let flow = crate::bench::write_files(
        dir,
        &format!("workflow-{n}"),
        n,
        &workflow_master_data(&wcfg),
        workflow_workload(wcfg),
        false,
    )?;
    let (mut plain_s, mut plain_cpu) = (Vec::new(), Vec::new());
    let (mut flow_s, mut flow_cpu) = (Vec::new(), Vec::new());
    let order = ["movements", "workflow", "workflow", "movements"];
    for (round, which) in order.iter().cycle().take(4 * rounds as usize).enumerate() {
        let files = if *which == "movements" { &plain } else { &flow };
        let db = dir.join(format!("ingest-{which}-{n}-{round}.db"));
        let (secs, cpu) = crate::bench::apply_files_cpu(&db, files)?;
        crate::out::err(&format!(
            "  round {}: {which}, {n} movements: {:.0} movements/s ({secs:.2} s, CPU {})",
            round + 1,
            n as f64 / secs,
            cpu.map_or("unknown".to_owned(), |c| format!("{c:.2} s"))
        ));
        crate::bench::remove_db(&db)?;
        if *which == "movements" {
            plain_s.push(secs);
            plain_cpu.push(cpu);
        } else {
            flow_s.push(secs);
            flow_cpu.push(cpu);
        }
    }
    plain.remove()?;
    flow.remove()?;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let best = |v: &[f64]| v.iter().copied().fold(f64::MAX, f64::min);
    let mean_cpu = |v: &[Option<f64>]| -> Option<f64> {
        let known: Option<Vec<f64>> = v.iter().copied().collect();
        known.map(|k| mean(&k))
    };
    let plain_rate = n as f64 / best(&plain_s);
    let flow_rate = n as f64 / best(&flow_s);
    let records = flow.counts.records;
    let records_rate = records as f64 / best(&flow_s);
    let ratio = flow_rate / plain_rate;
    let ratio_mean = mean(&plain_s) / mean(&flow_s);
    let ratio_cpu = match (mean_cpu(&plain_cpu), mean_cpu(&flow_cpu)) {
        (Some(p), Some(f)) if f > 0.0 => Some(p / f),
        _ => None,
    };
    report.say(
        &format!("workflow_ingest_{n}"),
        Figure::WorkflowIngest {
            allocations: flow.counts.allocations,
            movement_only_cpu_rounds_s: plain_cpu,
            movement_only_movements_per_s: plain_rate,
            movement_only_rounds_s: plain_s.clone(),
            movements: n,
            pauses: flow.counts.pauses,
            ratio,
            ratio_cpu,
            ratio_mean,
            transfers: flow.counts.transfers,
            workflow_cpu_rounds_s: flow_cpu,
            workflow_movements_per_s: flow_rate,
            workflow_records: records,
            workflow_records_per_s: records_rate,
            workflow_rounds_s: flow_s.clone(),
        },
        format!(
            "durable ingest through `qm apply`, {n} movements in batches of 10k (fastest of {} rounds each): workflow {flow_rate:.0} movements/s ({records_rate:.0} records/s: {} transfers, {} allocations, {} pauses) against movement-only {plain_rate:.0} movements/s; ratio {ratio:.3} (of the means {ratio_mean:.3}; of CPU time per movement {})",
            plain_s.len(),
            flow.counts.transfers,
            flow.counts.allocations,
            flow.counts.pauses,
            ratio_cpu.map_or("unknown".to_owned(), |r| format!("{r:.3}"))
        ),
    );
    Ok(())
}

/// Builds the workflow ledger of `n` movements in memory, then measures late allocations,
/// late pauses, and late allocations again with those pauses in the ledger.
fn late_records(report: &mut Report, n: u64, next: &mut Rng) -> anyhow::Result<()> {
    let cfg = workflow_config(n);
    let mut ledger = Ledger::new();
    ledger
        .apply(&workflow_master_data(&cfg), &Originals::default())
        .map_err(|r| anyhow!("{}", r.errors[0]))?;
    let b = bar(n, "workflow core apply");
    let mut apply_time = Duration::ZERO;
    let mut records = 0u64;
    for batch in workflow_workload(cfg) {
        let movements = batch
            .iter()
            .filter(|r| matches!(r, Record::Movement(_)))
            .count();
        records += batch.len() as u64;
        let t = Instant::now();
        ledger
            .apply(&batch, &Originals::default())
            .map_err(|r| anyhow!("{}", r.errors[0]))?;
        apply_time += t.elapsed();
        b.inc(movements as u64);
    }
    b.finish_and_clear();
    let rate = n as f64 / apply_time.as_secs_f64();
    report.say(
        "workflow_core_apply",
        Figure::WorkflowCoreApply {
            movements: n,
            movements_per_s: rate,
            records,
        },
        format!("workflow core apply without storage, {n} movements ({records} records) in batches of 10k movements: {rate:.0} movements/s"),
    );

    let mut picker = LatePicker::new(&ledger);
    let allocations = picker.allocations(&ledger, 5_000, next);
    if allocations.is_empty() {
        anyhow::bail!("no early transfer line left room for a late allocation");
    }
    let (half, rest) = allocations.split_at(allocations.len() / 2);
    let lat = time_each(&mut ledger, half)?;
    let pauses_before = ledger.pauses().len();
    report.say(
        "late_allocate",
        late_figure(n, &lat, pauses_before),
        format!(
            "late allocate at {n} history (one-record batches dated in the first tenth of the history, on early transfers' lines; {pauses_before} pauses in the ledger): p50 {:.2} µs, p99 {:.2} µs over {}",
            us(percentile(&lat, 0.5)),
            us(percentile(&lat, 0.99)),
            lat.len()
        ),
    );

    let pauses = picker.pauses(&ledger, 5_000, next);
    let lat = time_each(&mut ledger, &pauses)?;
    report.say(
        "late_pause",
        late_figure(n, &lat, pauses_before),
        format!(
            "late pause at {n} history (one-record batches dated in the first tenth of the history, scoped to the reserve item): p50 {:.2} µs, p99 {:.2} µs over {}",
            us(percentile(&lat, 0.5)),
            us(percentile(&lat, 0.99)),
            lat.len()
        ),
    );

    let standing = ledger.pauses().len();
    let lat = time_each(&mut ledger, rest)?;
    report.say(
        "late_allocate_after_pauses",
        late_figure(n, &lat, standing),
        format!(
            "late allocate at {n} history with {standing} pauses in the ledger (looked up by scope): p50 {:.2} µs, p99 {:.2} µs over {}",
            us(percentile(&lat, 0.5)),
            us(percentile(&lat, 0.99)),
            lat.len()
        ),
    );
    Ok(())
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn late_figure(history: u64, sorted: &[Duration], pauses: usize) -> Figure {
    Figure::LateWorkflowRecord {
        count: sorted.len(),
        history,
        p50_us: us(percentile(sorted, 0.5)),
        p99_us: us(percentile(sorted, 0.99)),
        pauses_in_ledger: pauses,
    }
}

/// Applies each record as its own batch, timing each apply; sorted latencies.
fn time_each(ledger: &mut Ledger, records: &[Record]) -> anyhow::Result<Vec<Duration>> {
    let mut lat = Vec::with_capacity(records.len());
    for r in records {
        let batch = std::slice::from_ref(r);
        let t = Instant::now();
        let outcome = ledger.apply(batch, &Originals::default());
        lat.push(t.elapsed());
        outcome.map_err(|rej| anyhow!("late {} refused: {}", r.type_name(), rej.errors[0]))?;
    }
    lat.sort_unstable();
    Ok(lat)
}

/// Chooses late records that the ledger must accept: allocations on early transfers' lines
/// that commit more than is allocated, from donor depot keys that never held an earmark and
/// whose balance stays at or above what is allocated there from the allocation's time on.
struct LatePicker {
    t0: Time,
    t1: Time,
    /// Donor depot keys that never held an earmark, by item.
    keys_by_item: HashMap<u32, Vec<KeyIdx>>,
    /// What the picked allocations take at each key.
    taken: HashMap<KeyIdx, i64>,
}

impl LatePicker {
    fn new(ledger: &Ledger) -> LatePicker {
        let donor = ledger.org_idx(WORKFLOW_DONOR).expect("the donor org");
        let earmarked: std::collections::HashSet<KeyIdx> =
            ledger.earmarks().iter().map(|e| e.key).collect();
        let mut keys_by_item: HashMap<u32, Vec<KeyIdx>> = HashMap::new();
        let (mut t0, mut t1) = (Time::MAX, Time::MIN);
        for k in 0..ledger.key_count() as KeyIdx {
            let key = ledger.key(k);
            if let Some(last) = key.timeline.last_time() {
                t1 = t1.max(last);
            }
            let holder = &ledger.holders()[key.holder as usize];
            if holder.kind == HolderKind::Depot
                && ledger.holder_org(key.holder) == donor
                && !earmarked.contains(&k)
            {
                keys_by_item.entry(key.item).or_default().push(k);
            }
        }
        for t in ledger.transfers() {
            t0 = t0.min(t.record.time);
        }
        LatePicker {
            t0,
            t1,
            keys_by_item,
            taken: HashMap::new(),
        }
    }

    fn early_end(&self) -> Time {
        self.t0 + (self.t1 - self.t0) / 10
    }

    /// Up to `count` allocations of 1, each on its own early (transfer, line) with room left,
    /// dated a little after its transfer.
    fn allocations(&mut self, ledger: &Ledger, count: usize, next: &mut Rng) -> Vec<Record> {
        let early_end = self.early_end();
        let span = ((self.t1 - self.t0) / 100).max(1);
        let mut out = Vec::new();
        let mut lines: Vec<(usize, usize)> = Vec::new();
        for (ti, t) in ledger.transfers().iter().enumerate() {
            if t.record.time > early_end {
                continue;
            }
            for (li, line) in t.lines.iter().enumerate() {
                let f = line.figures(t.record.time, None);
                if f.committed > f.allocated {
                    lines.push((ti, li));
                }
            }
        }
        // A random order, so that the picks spread over the early history.
        for i in (1..lines.len()).rev() {
            lines.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        for (ti, li) in lines {
            if out.len() == count {
                break;
            }
            let t = &ledger.transfers()[ti];
            let item = t.lines[li].item;
            let at = t.record.time + (next() % span as u64) as i64;
            let Some(keys) = self.keys_by_item.get(&item) else {
                continue;
            };
            let mut chosen = None;
            for _ in 0..16 {
                let k = keys[(next() % keys.len() as u64) as usize];
                let tl = ledger.key(k).timeline;
                let lowest = tl
                    .min_from(at)
                    .map_or(tl.balance_at(at), |(m, _)| m.min(tl.balance_at(at)));
                let taken = self.taken.get(&k).copied().unwrap_or(0);
                if lowest > taken {
                    chosen = Some(k);
                    break;
                }
            }
            let Some(k) = chosen else { continue };
            *self.taken.entry(k).or_default() += 1;
            let key = ledger.key(k);
            out.push(Record::Allocate(Allocate {
                id: format!("late-a{}", out.len() + 1),
                time: at,
                transfer: t.record.id.clone(),
                item: ledger.items()[item as usize].code.clone(),
                qty: 1,
                from: ledger.holders()[key.holder as usize].id.clone(),
                lot: None,
                override_: None,
            }));
        }
        out
    }

    /// `count` pauses of the reserve item (which no transfer carries, so that they refuse
    /// nothing), by item and by category in turn, dated at random in the first tenth.
    fn pauses(&self, ledger: &Ledger, count: usize, next: &mut Rng) -> Vec<Record> {
        let reserve = ledger
            .items()
            .iter()
            .find(|i| i.category == RESERVE_CATEGORY)
            .map(|i| i.code.clone())
            .expect("the workflow workload has a reserve item");
        let span = (self.early_end() - self.t0).max(1);
        (0..count)
            .map(|i| {
                let time = self.t0 + (next() % span as u64) as i64;
                let (items, categories) = if i.is_multiple_of(2) {
                    (Some(vec![reserve.clone()]), None)
                } else {
                    (None, Some(vec![RESERVE_CATEGORY.to_owned()]))
                };
                Record::Pause(Pause {
                    id: format!("late-p{}", i + 1),
                    time,
                    reason: "Late-recorded review".to_owned(),
                    by: WORKFLOW_DONOR.to_owned(),
                    items,
                    categories,
                    donor: None,
                    recipient: None,
                    transfer: None,
                    review_by: None,
                })
            })
            .collect()
    }
}

/// One depot receiving `n` deposits (one key with `n` entries, and the donor's per-item
/// aggregates with as many), transfers committed before them, then late allocations of 1 at
/// random times in the first tenth: the first makes the key's available-stock mirror.
fn hot_key(report: &mut Report, n: u64, next: &mut Rng) -> anyhow::Result<()> {
    const START: Time = 1_600_000_000_000_000_000;
    const STEP: i64 = 1_000_000_000;
    let count = 2_000u64.min(n / 10);
    if count < 2 {
        return Ok(());
    }
    let mut ledger = Ledger::new();
    let setup = qm_interchange::parse_text(
        "hot",
        r#"{"type":"org","id":"donor","name":"Donor","kind":"donor"}
{"type":"org","id":"recipient","name":"Recipient","kind":"recipient"}
{"type":"holder","id":"src","name":"S","org":"donor","kind":"source"}
{"type":"holder","id":"d1","name":"D1","org":"donor","kind":"depot"}
{"type":"item","code":"shell","name":"Shell","category":"ammo","tracking":"bulk"}"#,
        1,
    )
    .map_err(|e| anyhow!("{e}"))?;
    let mut first: Vec<Record> = setup.into_iter().map(|(_, r)| r).collect();
    first.extend((0..count).map(|i| {
        Record::Transfer(Transfer {
            id: format!("hot-t{i}"),
            time: START - STEP,
            donor: "donor".into(),
            recipient: "recipient".into(),
            lines: vec![TransferLine {
                item: "shell".into(),
                qty: 1,
                value: None,
            }],
            authority: None,
            note: None,
        })
    }));
    ledger
        .apply(&first, &Originals::default())
        .map_err(|r| anyhow!("{}", r.errors[0]))?;
    let b = bar(n, "hot key history");
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        batch.push(Record::Movement(bulk_movement(
            format!("h{i}"),
            START + i as i64 * STEP,
            "shell".into(),
            2,
            "src".into(),
            "d1".into(),
        )));
        if batch.len() == 10_000 || i + 1 == n {
            ledger
                .apply(&batch, &Originals::default())
                .map_err(|r| anyhow!("{}", r.errors[0]))?;
            b.inc(batch.len() as u64);
            batch.clear();
        }
    }
    b.finish_and_clear();
    // From the count-th deposit on, the balance (2 per deposit) exceeds every earmark made.
    let allocations: Vec<Record> = (0..count)
        .map(|i| {
            let at = START + (count + next() % (n / 10 - count).max(1)) as i64 * STEP + 1;
            Record::Allocate(Allocate {
                id: format!("hot-a{i}"),
                time: at,
                transfer: format!("hot-t{i}"),
                item: "shell".into(),
                qty: 1,
                from: "d1".into(),
                lot: None,
                override_: None,
            })
        })
        .collect();
    let t = Instant::now();
    ledger
        .apply(&allocations[..1], &Originals::default())
        .map_err(|r| anyhow!("late allocate refused: {}", r.errors[0]))?;
    let first_us = us(t.elapsed());
    let lat = time_each(&mut ledger, &allocations[1..])?;
    let (p50, p99) = (us(percentile(&lat, 0.5)), us(percentile(&lat, 0.99)));
    report.say(
        "late_allocate_hot_key",
        Figure::LateAllocateHotKey {
            count: lat.len(),
            first_us,
            history: n,
            p50_us: p50,
            p99_us: p99,
        },
        format!("late allocate from one depot key with {n} entries of history: the first (which copies the key's timeline into its available-stock mirror) {first_us:.0} µs; the {} after it p50 {p50:.2} µs, p99 {p99:.2} µs", lat.len()),
    );
    Ok(())
}
