//! `qm bench`: the issue's figures on generated workloads, reproducible from a seed.
//!
//! - durable ingest: files of 10k movements written to a scratch folder, then the real
//!   `qm apply` run as a child process on all of them, timed as a whole;
//! - core apply rate without storage, and heap memory per movement of history (live heap
//!   growth while the ledger is built, divided by movements; exact, from a counting global
//!   allocator that only a build with the `bench-alloc` feature installs:
//!   `cargo run --release -p qm-cli --features bench-alloc -- bench`; without it the memory
//!   figures say they are unavailable);
//! - late-record insertion cost at the full history, on spread keys and on one hot key whose
//!   history holds every movement;
//! - as-of balance latency, p50 and p99;
//! - restart time: opening the ingested database (snapshot + tail) in a new process.
//!
//! `qm bench --workflow` measures the shipment workflow instead (`bench_workflow.rs`),
//! `qm bench --review` the stockpile review against SQL (`bench_review.rs`), and
//! `qm bench --pg URL` ingest on PostgreSQL (`bench_pg.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use qm_core::{HolderKind, Ledger, Movement, Originals, Record};
use qm_sim::{uniform_master_data, uniform_workload, WorkloadConfig};
use serde::Serialize;

#[derive(clap::Args)]
pub struct BenchArgs {
    /// History sizes for durable ingest (comma-separated, e.g. 1M,10M; default 1M,10M, and
    /// 1M with --workflow; 0 skips it).
    #[arg(long, value_delimiter = ',', value_parser = crate::parse_count)]
    ingest: Option<Vec<u64>>,
    /// History size for the in-memory figures (core rate, memory, late records, as-of,
    /// restart; with --workflow, late allocations and pauses; with --review, the ledger
    /// reviewed).
    #[arg(long, default_value = "10M", value_parser = crate::parse_count)]
    history: u64,
    /// Scratch folder for generated files and databases (default: a temporary folder).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
    /// Also measure durable ingest of 1M movements through `qm apply` on this PostgreSQL
    /// database (which must be empty), against a hand-written INSERT ledger with a
    /// balance-checking trigger on the same workload. Skips the other figures.
    #[arg(long, conflicts_with_all = ["workflow", "review"])]
    pg: Option<String>,
    /// Measure the shipment workflow instead: durable ingest of the workflow workload
    /// against the movement-only one at the same size (--ingest), and late allocations and
    /// pauses at --history. Skips the other figures.
    #[arg(long, conflicts_with = "review")]
    workflow: bool,
    /// With --workflow: rounds of ingest, each movement-only, workflow, workflow,
    /// movement-only.
    #[arg(long, value_name = "N", default_value_t = 2)]
    rounds: u32,
    /// Measure the stockpile review instead: a ledger of --history movements over
    /// --review-items items, applied into an SQLite file, reviewed in-process, by a `qm
    /// review` process, as a what-if of 100 records, and by SQL GROUP BY over its movements.
    /// Skips the other figures.
    #[arg(long)]
    review: bool,
    /// The workload of the reviewed ledger: `uniform` (movements only) or `workflow` (with
    /// transfers, earmarks and deliveries).
    #[arg(long, value_enum, value_name = "WORKLOAD", default_value_t = crate::bench_review::ReviewWorkload::Uniform)]
    review_workload: crate::bench_review::ReviewWorkload,
    /// Items of the reviewed ledger.
    #[arg(long, value_name = "N", default_value = "10k", value_parser = crate::parse_count)]
    review_items: u64,
    /// The SQL comparisons to run (comma-separated): `view` (the `movements` view of the
    /// ledger file), `table` (a plain movements table loaded with the same movements), or
    /// `none`.
    #[arg(
        long,
        value_enum,
        value_name = "KINDS",
        value_delimiter = ',',
        default_value = "view,table"
    )]
    review_sql: Vec<crate::bench_review::SqlKind>,
}

pub(crate) fn config(movements: u64) -> WorkloadConfig {
    WorkloadConfig {
        movements,
        seed: 7,
        batch_size: 10_000,
        ..WorkloadConfig::default()
    }
}

/// Live heap bytes (the counting allocator's figure: exact, unlike the resident set);
/// `None` in a build without the `bench-alloc` feature.
fn heap_bytes() -> Option<u64> {
    #[cfg(feature = "bench-alloc")]
    return Some(crate::alloc::live_bytes() as u64);
    #[cfg(not(feature = "bench-alloc"))]
    None
}

/// What the memory figures say when this build cannot measure them.
const MEMORY_UNAVAILABLE: &str = "unavailable in this build (measure it with `cargo run --release -p qm-cli --features bench-alloc -- bench`)";

/// Heap growth between two readings, per movement.
fn per_movement(before: Option<u64>, after: Option<u64>, n: u64) -> (Option<u64>, Option<f64>) {
    match (before, after) {
        (Some(b), Some(a)) => {
            let growth = a.saturating_sub(b);
            (Some(growth), Some(growth as f64 / n as f64))
        }
        _ => (None, None),
    }
}

/// One figure of `qm bench --json`, printed under its name (the names sort as they print).
/// Fields in alphabetical order, as the output has always had them.
#[derive(Serialize)]
#[serde(untagged)]
pub(crate) enum Figure {
    Machine {
        cores: usize,
    },
    PostgresIngest {
        movements: u64,
        plain_movements_per_s: f64,
        qm_movements_per_s: f64,
        ratio: f64,
    },
    Ingest {
        movements: u64,
        movements_per_s: f64,
        seconds: f64,
    },
    CoreApply {
        movements: u64,
        movements_per_s: f64,
    },
    /// `null` figures: not measurable in this build.
    Memory {
        bytes_per_movement: Option<f64>,
        movements: u64,
        heap_growth_bytes: Option<u64>,
    },
    MemoryRestarted {
        bytes_per_movement: Option<f64>,
        decode_s: f64,
        encode_s: f64,
        movements: u64,
        snapshot_bytes: usize,
    },
    AsOfBalance {
        checksum: i64,
        history: u64,
        p50_us: f64,
        p99_us: f64,
    },
    LateRecord {
        history: u64,
        p50_us: f64,
        p99_us: f64,
    },
    Restart {
        history: u64,
        open_s: f64,
        process_median_s: f64,
    },
    /// Rates from the fastest round of each; `mean` from the mean of the rounds; `cpu`
    /// from the mean CPU seconds (`null` where unknown).
    WorkflowIngest {
        allocations: u64,
        movement_only_cpu_rounds_s: Vec<Option<f64>>,
        movement_only_movements_per_s: f64,
        movement_only_rounds_s: Vec<f64>,
        movements: u64,
        pauses: u64,
        ratio: f64,
        ratio_cpu: Option<f64>,
        ratio_mean: f64,
        transfers: u64,
        workflow_cpu_rounds_s: Vec<Option<f64>>,
        workflow_movements_per_s: f64,
        workflow_records: u64,
        workflow_records_per_s: f64,
        workflow_rounds_s: Vec<f64>,
    },
    WorkflowCoreApply {
        movements: u64,
        movements_per_s: f64,
        records: u64,
    },
    LateWorkflowRecord {
        count: usize,
        history: u64,
        p50_us: f64,
        p99_us: f64,
        pauses_in_ledger: usize,
    },
    LateAllocateHotKey {
        count: usize,
        first_us: f64,
        history: u64,
        p50_us: f64,
        p99_us: f64,
    },
    /// The review's figures (`bench_review.rs`).
    Review(crate::bench_review::ReviewFigure),
}

/// The figures of a run, printed as they come and kept for `--json`.
#[derive(Default)]
pub(crate) struct Report {
    figures: BTreeMap<String, Figure>,
}

impl Report {
    /// Prints a figure's text on standard error and keeps it under `key`.
    pub(crate) fn say(&mut self, key: &str, value: Figure, text: String) {
        crate::out::err(&text);
        self.figures.insert(key.into(), value);
    }
}

/// The benches' random numbers (xorshift: cheap and reproducible).
pub(crate) type Rng = dyn FnMut() -> u64;

fn xorshift() -> impl FnMut() -> u64 {
    let mut rng = 0x2545F4914F6CDD1Du64;
    move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    }
}

/// Prints the figures as one JSON object on standard output.
fn print_json(figures: &BTreeMap<String, Figure>) -> anyhow::Result<()> {
    let mut out = crate::out::stdout();
    serde_json::to_writer(&mut out, figures)?;
    writeln!(out)?;
    Ok(())
}

pub(crate) fn bar(len: u64, msg: &'static str) -> ProgressBar {
    let b = ProgressBar::new(len);
    b.set_style(
        ProgressStyle::with_template(
            "{msg:>24} [{bar:40}] {human_pos}/{human_len} ({per_sec}, eta {eta})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    b.set_message(msg);
    b
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let scratch = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d)?;
            tempfile::Builder::new().prefix("qm-bench").tempdir_in(d)?
        }
        None => tempfile::Builder::new().prefix("qm-bench").tempdir()?,
    };
    let mut report = Report::default();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    report.say(
        "machine",
        Figure::Machine { cores },
        format!("machine: {cores} cores"),
    );
    let mut next = xorshift();
    if let Some(url) = &args.pg {
        let n = args
            .ingest
            .iter()
            .flatten()
            .copied()
            .find(|&n| n > 0)
            .unwrap_or(1_000_000);
        let (qm, plain) = crate::bench_pg::run(url, scratch.path(), n)?;
        report.say(
            "postgres_ingest",
            Figure::PostgresIngest {
                movements: n,
                qm_movements_per_s: qm,
                plain_movements_per_s: plain,
                ratio: qm / plain,
            },
            format!(
                "PostgreSQL, {n} movements in batches of 10k: `qm apply` {qm:.0} movements/s; plain INSERT ledger with a balance-checking trigger {plain:.0} movements/s; ratio {:.1}x",
                qm / plain
            ),
        );
    } else if args.workflow {
        let ingest = args.ingest.clone().unwrap_or(vec![1_000_000]);
        crate::bench_workflow::run(
            &mut report,
            scratch.path(),
            &ingest,
            args.rounds.max(1),
            args.history,
            &mut next,
        )?;
    } else if args.review {
        crate::bench_review::run(
            &mut report,
            scratch.path(),
            &crate::bench_review::ReviewArgs {
                movements: args.history,
                items: u32::try_from(args.review_items)
                    .map_err(|_| anyhow::anyhow!("--review-items: too many"))?,
                workload: args.review_workload,
                sql: args.review_sql.clone(),
            },
        )?;
    } else {
        movement_figures(&args, scratch.path(), &mut report, &mut next)?;
    }
    if args.json {
        print_json(&report.figures)?;
    }
    if std::env::var_os("QM_BENCH_KEEP_FILES").is_some() {
        crate::out::err(&format!("kept {}", scratch.keep().display()));
    }
    Ok(ExitCode::SUCCESS)
}

/// The movement-only figures: ingest, core apply, memory, as-of, late records, restart.
fn movement_figures(
    args: &BenchArgs,
    scratch: &Path,
    report: &mut Report,
    next: &mut Rng,
) -> anyhow::Result<()> {
    let mut restart_db: Option<PathBuf> = None;
    let ingest = args.ingest.clone().unwrap_or(vec![1_000_000, 10_000_000]);
    for &n in ingest.iter().filter(|&&n| n > 0) {
        let (rate, secs, db) = ingest_movements(scratch, n)?;
        report.say(
            &format!("ingest_{n}"),
            Figure::Ingest {
                movements: n,
                seconds: secs,
                movements_per_s: rate,
            },
            format!("durable ingest through `qm apply`, {n} movements in batches of 10k: {rate:.0} movements/s ({secs:.2} s)"),
        );
        if n == args.history {
            restart_db = Some(db);
        }
    }

    // In-memory figures at the full history.
    let n = args.history;
    let cfg = config(n);
    let heap_before = heap_bytes();
    let mut ledger = Ledger::new();
    ledger
        .apply(&uniform_master_data(&cfg), &Originals::default())
        .map_err(|r| anyhow::anyhow!("{:?}", r.errors[0]))?;
    let b = bar(n, "core apply");
    let mut apply_time = Duration::ZERO;
    for batch in uniform_workload(cfg) {
        let t = Instant::now();
        ledger
            .apply(&batch, &Originals::default())
            .map_err(|r| anyhow::anyhow!("{}", r.errors[0]))?;
        apply_time += t.elapsed();
        b.inc(batch.len() as u64);
    }
    b.finish_and_clear();
    let heap_after = heap_bytes();
    let core_rate = n as f64 / apply_time.as_secs_f64();
    report.say(
        "core_apply",
        Figure::CoreApply {
            movements: n,
            movements_per_s: core_rate,
        },
        format!("core apply without storage, {n} movements in batches of 10k: {core_rate:.0} movements/s"),
    );
    let (growth, per) = per_movement(heap_before, heap_after, n);
    report.say(
        "memory",
        Figure::Memory {
            movements: n,
            bytes_per_movement: per,
            heap_growth_bytes: growth,
        },
        match per {
            Some(per) => format!("heap memory per movement of history at {n}, ledger built by applying batches: {per:.1} bytes"),
            None => format!("heap memory per movement of history at {n}: {MEMORY_UNAVAILABLE}"),
        },
    );
    // The same state as a restarted process holds it: decoded from its snapshot.
    let t = Instant::now();
    let image = ledger.encode_snapshot();
    let encode = t.elapsed();
    drop(ledger);
    let heap_before = heap_bytes();
    let t = Instant::now();
    let mut ledger = Ledger::decode_snapshot(&image).map_err(|e| anyhow::anyhow!("{e}"))?;
    let decode = t.elapsed();
    let heap_after = heap_bytes();
    let (_, per) = per_movement(heap_before, heap_after, n);
    report.say(
        "memory_restarted",
        Figure::MemoryRestarted {
            movements: n,
            bytes_per_movement: per,
            snapshot_bytes: image.len(),
            encode_s: encode.as_secs_f64(),
            decode_s: decode.as_secs_f64(),
        },
        format!(
            "heap memory per movement of history at {n}, as a restarted process holds it: {} (snapshot {} bytes: encoded in {:.2} s, decoded in {:.2} s)",
            per.map_or(MEMORY_UNAVAILABLE.to_owned(), |p| format!("{p:.1} bytes")),
            image.len(),
            encode.as_secs_f64(),
            decode.as_secs_f64()
        ),
    );
    drop(image);

    // As-of balance latency on random keys and times.
    let keys: Vec<(String, String)> = ledger
        .keys()
        .step_by((ledger.keys().len() / 50_000).max(1))
        .map(|k| {
            (
                ledger.holders()[k.holder as usize].id.clone(),
                ledger.items()[k.item as usize].code.clone(),
            )
        })
        .collect();
    let (t0, t1) = ledger
        .keys()
        .filter_map(|k| k.timeline.last_time())
        .fold((i64::MAX, i64::MIN), |(a, b), t| (a.min(t), b.max(t)));
    let mut lat = Vec::with_capacity(100_000);
    let mut sink = 0i64;
    for _ in 0..100_000 {
        let (h, i) = &keys[(next() % keys.len() as u64) as usize];
        let at = t0 + (next() % (t1 - t0).max(1) as u64) as i64;
        let t = Instant::now();
        sink = sink.wrapping_add(ledger.balance(h, i, None, Some(at)));
        lat.push(t.elapsed());
    }
    lat.sort_unstable();
    let (p50, p99) = (percentile(&lat, 0.5), percentile(&lat, 0.99));
    report.say(
        "as_of_balance",
        Figure::AsOfBalance {
            history: n,
            p50_us: p50.as_secs_f64() * 1e6,
            p99_us: p99.as_secs_f64() * 1e6,
            checksum: sink,
        },
        format!(
            "as-of balance of one (holder, item) at {n} history: p50 {:.2} µs, p99 {:.2} µs",
            p50.as_secs_f64() * 1e6,
            p99.as_secs_f64() * 1e6
        ),
    );

    // Late records on spread keys: a deposit at a random earlier time, each its own batch.
    let late = late_records(&mut ledger, 20_000, t0, t1, next)?;
    report.say(
        "late_record_spread",
        Figure::LateRecord {
            history: n,
            p50_us: late.0,
            p99_us: late.1,
        },
        format!("late record at {n} history (spread keys, ~{} entries each): p50 {:.2} µs, p99 {:.2} µs per one-movement batch", n / ledger.keys().len().max(1) as u64, late.0, late.1),
    );
    drop(ledger);

    // One hot key whose history holds every movement.
    let (hot_p50, hot_p99) = hot_key(n, next)?;
    report.say(
        "late_record_hot_key",
        Figure::LateRecord {
            history: n,
            p50_us: hot_p50,
            p99_us: hot_p99,
        },
        format!("late withdrawal into one key with {n} entries of history: p50 {hot_p50:.2} µs, p99 {hot_p99:.2} µs per one-movement batch"),
    );

    if let Some(db) = restart_db {
        let exe = std::env::current_exe()?;
        let mut times = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            let out = std::process::Command::new(&exe)
                .arg("--db")
                .arg(&db)
                .args(["balance", "--holder", "D0007", "--json"])
                .output()?;
            if !out.status.success() {
                bail!(
                    "qm balance failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            times.push(t.elapsed());
        }
        times.sort_unstable();
        let t = Instant::now();
        let app = qm_app::App::open(db.to_str().context("path")?)?;
        let open = t.elapsed();
        let history = app.read()?.ledger().movement_count();
        report.say(
            "restart",
            Figure::Restart {
                history,
                process_median_s: times[2].as_secs_f64(),
                open_s: open.as_secs_f64(),
            },
            format!(
                "restart at {history} movements: a new `qm balance` process takes {:.3} s (median of 5); opening in-process {:.3} s",
                times[2].as_secs_f64(),
                open.as_secs_f64()
            ),
        );
    }
    Ok(())
}

/// Interchange files written for an ingest: the master data, then one file per batch.
pub(crate) struct WrittenFiles {
    pub(crate) folder: PathBuf,
    pub(crate) master: PathBuf,
    pub(crate) files: Vec<PathBuf>,
    /// Every record written, when asked for.
    pub(crate) records: Vec<Record>,
    pub(crate) counts: RecordCounts,
}

/// What the batch files hold.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct RecordCounts {
    pub(crate) records: u64,
    pub(crate) movements: u64,
    pub(crate) transfers: u64,
    pub(crate) allocations: u64,
    pub(crate) pauses: u64,
}

impl WrittenFiles {
    /// Removes the files (unless `QM_BENCH_KEEP_FILES` is set).
    pub(crate) fn remove(&self) -> anyhow::Result<()> {
        if std::env::var_os("QM_BENCH_KEEP_FILES").is_none() {
            std::fs::remove_dir_all(&self.folder)?;
        }
        Ok(())
    }
}

/// Writes the master data and each batch (of `movements` in all) as interchange files in
/// `dir/name`; keeps every record in memory when `keep` says so.
pub(crate) fn write_files(
    dir: &Path,
    name: &str,
    movements: u64,
    master: &[Record],
    batches: impl Iterator<Item = Vec<Record>>,
    keep: bool,
) -> anyhow::Result<WrittenFiles> {
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder)?;
    let mut text = String::new();
    for r in master {
        qm_interchange::write_record(r, &mut text);
        text.push('\n');
    }
    let master_file = folder.join("master.jsonl");
    std::fs::write(&master_file, &text)?;
    let mut records = if keep { master.to_vec() } else { Vec::new() };
    let mut counts = RecordCounts::default();
    let mut files = Vec::new();
    let b = bar(movements, "writing files");
    for (i, batch) in batches.enumerate() {
        text.clear();
        let before = counts.movements;
        for r in &batch {
            qm_interchange::write_record(r, &mut text);
            text.push('\n');
            counts.records += 1;
            match r {
                Record::Movement(_) => counts.movements += 1,
                Record::Transfer(_) => counts.transfers += 1,
                Record::Allocate(_) => counts.allocations += 1,
                Record::Pause(_) => counts.pauses += 1,
                _ => {}
            }
        }
        let f = folder.join(format!("batch-{i:06}.jsonl"));
        std::fs::write(&f, &text)?;
        files.push(f);
        b.inc(counts.movements - before);
        if keep {
            records.extend(batch);
        }
    }
    b.finish_and_clear();
    Ok(WrittenFiles {
        folder,
        master: master_file,
        files,
        records,
        counts,
    })
}

/// Writes the uniform workload as interchange files: the master data, then one file per
/// batch of 10k movements. Returns (batch files, master file, every record).
pub fn write_workload(dir: &Path, n: u64) -> anyhow::Result<(Vec<PathBuf>, PathBuf, Vec<Record>)> {
    let cfg = config(n);
    let w = write_files(
        dir,
        &format!("workload-{n}"),
        n,
        &uniform_master_data(&cfg),
        uniform_workload(cfg.clone()),
        n <= 2_000_000,
    )?;
    Ok((w.files, w.master, w.records))
}

/// CPU seconds (user and system) of the children this process has waited for, from
/// `/proc/self/stat` (`cutime`, `cstime`, in Linux's fixed 100 ticks per second); `None`
/// where there is no such file.
pub(crate) fn children_cpu_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces: state is
    // field 3, so cutime (16) and cstime (17) are the 14th and 15th after it.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some((ticks(13)? + ticks(14)?) as f64 / 100.0)
}

/// Applies the master data with `qm apply`, then times one `qm apply` of every batch file,
/// into a fresh database `db`. Returns the seconds of the timed run.
pub(crate) fn apply_files(db: &Path, w: &WrittenFiles) -> anyhow::Result<f64> {
    Ok(apply_files_cpu(db, w)?.0)
}

/// [`apply_files`], also returning the CPU seconds the timed `qm apply` used (all its
/// threads), when known.
pub(crate) fn apply_files_cpu(db: &Path, w: &WrittenFiles) -> anyhow::Result<(f64, Option<f64>)> {
    let exe = std::env::current_exe()?;
    let status = std::process::Command::new(&exe)
        .arg("--db")
        .arg(db)
        .arg("apply")
        .arg(&w.master)
        .stdout(std::process::Stdio::null())
        .status()?;
    if !status.success() {
        bail!("applying the master data failed");
    }
    crate::out::err(&format!(
        "applying {} files of 10k movements with `qm apply`...",
        w.files.len()
    ));
    let cpu_before = children_cpu_s();
    let t = Instant::now();
    let status = std::process::Command::new(&exe)
        .arg("--db")
        .arg(db)
        .arg("apply")
        .args(&w.files)
        .stdout(std::process::Stdio::null())
        .status()?;
    let secs = t.elapsed().as_secs_f64();
    let cpu = match (cpu_before, children_cpu_s()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    if !status.success() {
        bail!("qm apply failed during the ingest benchmark");
    }
    Ok((secs, cpu))
}

/// Removes an SQLite database and its WAL and shared-memory files.
pub(crate) fn remove_db(db: &Path) -> anyhow::Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

/// Writes the uniform workload as files of 10k movements and times `qm apply` on all of them.
fn ingest_movements(dir: &Path, n: u64) -> anyhow::Result<(f64, f64, PathBuf)> {
    let cfg = config(n);
    let w = write_files(
        dir,
        &format!("workload-{n}"),
        n,
        &uniform_master_data(&cfg),
        uniform_workload(cfg.clone()),
        false,
    )?;
    let db = dir.join(format!("ingest-{n}.db"));
    let secs = apply_files(&db, &w)?;
    w.remove()?;
    Ok((n as f64 / secs, secs, db))
}

/// A movement of a bulk item: no lot, serials, kind, transfer or note.
pub(crate) fn bulk_movement(
    id: String,
    time: i64,
    item: String,
    qty: u64,
    from: String,
    to: String,
) -> Movement {
    Movement {
        id,
        time,
        item,
        qty,
        from,
        to,
        lot: None,
        serials: None,
        kind: None,
        transfer: None,
        note: None,
    }
}

fn one_batch(m: Movement) -> [Record; 1] {
    [Record::Movement(m)]
}

/// Late deposits from a source into random depots at random earlier times.
fn late_records(
    ledger: &mut Ledger,
    count: usize,
    t0: i64,
    t1: i64,
    next: &mut dyn FnMut() -> u64,
) -> anyhow::Result<(f64, f64)> {
    let sources: Vec<String> = ledger
        .holders()
        .iter()
        .filter(|h| h.kind == HolderKind::Source)
        .map(|h| h.id.clone())
        .collect();
    let depots: Vec<String> = ledger
        .holders()
        .iter()
        .filter(|h| h.kind == HolderKind::Depot)
        .map(|h| h.id.clone())
        .collect();
    let items: Vec<String> = ledger.items().iter().map(|i| i.code.clone()).collect();
    let mut lat = Vec::with_capacity(count);
    for i in 0..count {
        let m = bulk_movement(
            format!("late-{i}"),
            t0 + (next() % (t1 - t0).max(1) as u64) as i64,
            items[(next() % items.len() as u64) as usize].clone(),
            1,
            sources[(next() % sources.len() as u64) as usize].clone(),
            depots[(next() % depots.len() as u64) as usize].clone(),
        );
        let batch = one_batch(m);
        let t = Instant::now();
        ledger
            .apply(&batch, &Originals::default())
            .map_err(|r| anyhow::anyhow!("{}", r.errors[0]))?;
        lat.push(t.elapsed());
    }
    lat.sort_unstable();
    Ok((
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
    ))
}

/// A depot receiving `n` deposits (one key with `n` entries), then late withdrawals at random
/// earlier times, each checked against every later balance.
fn hot_key(n: u64, next: &mut dyn FnMut() -> u64) -> anyhow::Result<(f64, f64)> {
    let mut ledger = Ledger::new();
    let setup = qm_interchange::parse_text(
        "hot",
        r#"{"type":"org","id":"o","name":"O"}
{"type":"holder","id":"src","name":"S","org":"o","kind":"source"}
{"type":"holder","id":"d1","name":"D1","org":"o","kind":"depot"}
{"type":"holder","id":"d2","name":"D2","org":"o","kind":"depot"}
{"type":"item","code":"shell","name":"Shell","category":"ammo","tracking":"bulk"}"#,
        1,
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    ledger
        .apply(
            &setup.into_iter().map(|(_, r)| r).collect::<Vec<_>>(),
            &Originals::default(),
        )
        .map_err(|r| anyhow::anyhow!("{}", r.errors[0]))?;
    let b = bar(n, "hot key history");
    let mut batch = Vec::with_capacity(10_000);
    for i in 0..n {
        batch.push(Record::Movement(bulk_movement(
            format!("h{i}"),
            1_600_000_000_000_000_000 + i as i64 * 1_000_000_000,
            "shell".into(),
            2,
            "src".into(),
            "d1".into(),
        )));
        if batch.len() == 10_000 || i + 1 == n {
            ledger
                .apply(&batch, &Originals::default())
                .map_err(|r| anyhow::anyhow!("{}", r.errors[0]))?;
            b.inc(batch.len() as u64);
            batch.clear();
        }
    }
    b.finish_and_clear();
    // Each deposit is 2 and each withdrawal 1: at most n/4 withdrawals can never exhaust it.
    let count = (n / 4).min(20_000);
    let mut lat = Vec::with_capacity(count as usize);
    for i in 0..count {
        let at = 1_600_000_000_000_000_000 + (next() % n) as i64 * 1_000_000_000 + 1;
        let m = bulk_movement(
            format!("late-{i}"),
            at,
            "shell".into(),
            1,
            "d1".into(),
            "d2".into(),
        );
        let batch = one_batch(m);
        let t = Instant::now();
        let r = ledger.apply(&batch, &Originals::default());
        lat.push(t.elapsed());
        r.map_err(|r| anyhow::anyhow!("{}", r.errors[0]))?;
    }
    lat.sort_unstable();
    Ok((
        percentile(&lat, 0.5).as_secs_f64() * 1e6,
        percentile(&lat, 0.99).as_secs_f64() * 1e6,
    ))
}
