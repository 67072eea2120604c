//! `qm bench --review`: how fast the stockpile review is, against the SQL a user would write.
//!
//! 1. A ledger of `--history` movements over `--review-items` items (the uniform workload,
//!    or with `--review-workload workflow` the workflow workload) is applied batch by batch
//!    through the facade (`App::apply_records`: the path of `qm apply` without the file
//!    parsing) into an SQLite file, and snapshotted, as `qm apply` leaves it.
//! 2. A `qm review --org ORG --as-of END --json` process is timed on it, whole: start, open
//!    (snapshot), compute, print (to a file).
//! 3. The file is opened read-only in-process, as `qm review` opens it, and
//!    `State::review_with` with the default options (what `qm review` computes: the figures
//!    from the per-(org, item) aggregates) is timed as of the end of the history and as of
//!    its middle, p50 of 7 runs, apart from encoding the review as JSON and from the
//!    per-depot breakdown (`--depots`, which visits every key of the org's depots, timed
//!    once); beside it, the same items' figures read from the aggregates alone, checked
//!    against the review's; then a
//!    what-if of a 100-record proposal (50 one-line transfers and their allocations, from
//!    depots that have the stock) through `App::what_if`, what `qm review --with FILE` runs
//!    (reading and parsing the file included), p50 of 5 runs.
//! 4. The same on-hand-per-item review by SQL (`SELECT item, SUM(...) - SUM(...) FROM
//!    movements GROUP BY item`, the org's depots spelled out in the query as a list), through
//!    the `movements` view of the ledger file (each batch's JSON lines expanded, the way an
//!    analyst would read the file) and through a plain `movements` table (one row per
//!    movement, keyed by its id: what a user would build instead; an index on item makes
//!    SQLite walk the index and fetch every row from it, two to three times slower than the
//!    scan and sort it does without), loaded with the same movements in a separate file.
//!    Each query runs twice (once when a run takes over two
//!    minutes); the faster run counts. Its answer is compared with the review's on-hand
//!    figures, item by item.

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use qm_app::{App, OpenMode};
use qm_core::{Allocate, Holder, HolderKind, Org, OrgKind, Record, Time, Transfer, TransferLine};
use qm_sim::{
    uniform_master_data, uniform_workload, workflow_master_data, workflow_workload, WorkflowConfig,
    WorkloadConfig, WORKFLOW_DONOR, WORKFLOW_RECIPIENT,
};
use rusqlite::{params, Connection, OpenFlags};
use serde::Serialize;

use crate::bench::{bar, Figure, Report};

/// The workload of the reviewed ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReviewWorkload {
    Uniform,
    Workflow,
}

/// An SQL comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlKind {
    // What each value means is said once, in `--review-sql`'s help.
    View,
    Table,
    None,
}

pub struct ReviewArgs {
    pub movements: u64,
    pub items: u32,
    pub workload: ReviewWorkload,
    pub sql: Vec<SqlKind>,
}

/// The figures of `qm bench --review`, one variant per figure. Fields in alphabetical order.
#[derive(Serialize)]
#[serde(untagged)]
pub enum ReviewFigure {
    Build {
        items: u32,
        keys: usize,
        movements: u64,
        movements_per_s: f64,
        records: u64,
        seconds: f64,
        snapshot_s: f64,
        workload: &'static str,
    },
    Process {
        median_s: f64,
        output_bytes: u64,
        runs: usize,
    },
    Compute {
        as_of: String,
        depot_rows: usize,
        depots_ms: f64,
        history: u64,
        items: usize,
        json_bytes: usize,
        json_encode_ms: f64,
        max_ms: f64,
        min_ms: f64,
        open_s: f64,
        org: String,
        p50_ms: f64,
        runs: usize,
    },
    /// The estimate of a review that reads only the per-(org, item) aggregates.
    AggregatesOnly {
        agrees: bool,
        as_of: String,
        max_ms: f64,
        min_ms: f64,
        p50_ms: f64,
        runs: usize,
    },
    WhatIf {
        items_changed: usize,
        max_ms: f64,
        min_ms: f64,
        p50_ms: f64,
        proposal_records: usize,
        runs: usize,
    },
    Sql {
        agrees: bool,
        kind: &'static str,
        load_rows_per_s: Option<f64>,
        now_s: f64,
        past_s: f64,
        plan: String,
        ratio_now: f64,
        ratio_past: f64,
        runs: usize,
    },
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The sorted run times' (p50, min, max) in ms.
fn spread(mut runs: Vec<Duration>) -> (f64, f64, f64) {
    runs.sort_unstable();
    (
        ms(crate::bench::percentile(&runs, 0.5)),
        ms(runs[0]),
        ms(runs[runs.len() - 1]),
    )
}

/// A time as the views write it: RFC 3339 UTC with nine fractional digits.
fn view_time(t: Time) -> String {
    let whole = t.div_euclid(1_000_000_000) * 1_000_000_000;
    let text = qm_core::format_time_plain(whole);
    format!("{}.{:09}Z", &text[..19], t.rem_euclid(1_000_000_000))
}

/// The reviewed ledger's records: (master data, batches, the org reviewed).
type Workload = (
    Vec<Record>,
    Box<dyn Iterator<Item = Vec<Record>>>,
    &'static str,
);

fn workload(args: &ReviewArgs) -> Workload {
    let cfg = WorkloadConfig {
        movements: args.movements,
        seed: 7,
        batch_size: 10_000,
        items: args.items,
        ..WorkloadConfig::default()
    };
    match args.workload {
        ReviewWorkload::Uniform => {
            // A recipient for the what-if's transfers.
            let mut master = uniform_master_data(&cfg);
            master.push(Record::Org(Org {
                id: WORKFLOW_RECIPIENT.to_owned(),
                name: "Benchmark recipient".to_owned(),
                kind: Some(OrgKind::Recipient),
            }));
            master.push(Record::Holder(Holder {
                id: "U0001".to_owned(),
                name: "Benchmark unit U0001".to_owned(),
                org: WORKFLOW_RECIPIENT.to_owned(),
                kind: HolderKind::Unit,
                country: None,
                lat: None,
                lon: None,
            }));
            (master, Box::new(uniform_workload(cfg)), "BENCH")
        }
        ReviewWorkload::Workflow => {
            let wcfg = WorkflowConfig::like(&cfg);
            (
                workflow_master_data(&wcfg),
                Box::new(workflow_workload(wcfg)),
                WORKFLOW_DONOR,
            )
        }
    }
}

pub fn run(report: &mut Report, dir: &Path, args: &ReviewArgs) -> anyhow::Result<()> {
    let n = args.movements;
    let db = dir.join(format!("review-{n}.db"));
    let db_str = db
        .to_str()
        .context("a scratch path that is not UTF-8")?
        .to_owned();
    let (master, batches, org) = workload(args);
    let depots: Vec<String> = master
        .iter()
        .filter_map(|r| match r {
            Record::Holder(h) if h.kind == HolderKind::Depot && h.org == org => Some(h.id.clone()),
            _ => None,
        })
        .collect();

    // 1. The ledger, through the facade into an SQLite file.
    let mut app = App::open(&db_str)?;
    let mut lines: Vec<u32> = (1..=master.len() as u32).collect();
    app.apply_records("master.jsonl", &master, &lines)?;
    let b = bar(n, "applying into SQLite");
    let (mut t_first, mut t_last) = (Time::MAX, Time::MIN);
    let mut records = 0u64;
    let t = Instant::now();
    for (i, batch) in batches.enumerate() {
        let mut movements = 0;
        for r in &batch {
            if let Record::Movement(m) = r {
                t_first = t_first.min(m.time);
                t_last = t_last.max(m.time);
                movements += 1;
            }
        }
        records += batch.len() as u64;
        while lines.len() < batch.len() {
            lines.push(lines.len() as u32 + 1);
        }
        app.apply_records(
            &format!("batch-{i:06}.jsonl"),
            &batch,
            &lines[..batch.len()],
        )?;
        b.inc(movements);
    }
    b.finish_and_clear();
    let build = t.elapsed();
    let t = Instant::now();
    app.snapshot()?;
    let snapshot = t.elapsed();
    let keys = app.read()?.ledger().key_count();
    drop(app);
    if n == 0 {
        bail!("--history 0: nothing to review");
    }
    report.say(
        "review_build",
        Figure::Review(ReviewFigure::Build {
            items: args.items,
            keys,
            movements: n,
            movements_per_s: n as f64 / build.as_secs_f64(),
            records,
            seconds: build.as_secs_f64(),
            snapshot_s: snapshot.as_secs_f64(),
            workload: match args.workload {
                ReviewWorkload::Uniform => "uniform",
                ReviewWorkload::Workflow => "workflow",
            },
        }),
        format!(
            "review ledger: {n} movements ({records} records, {} items, {keys} keys) applied through the facade into SQLite in {:.1} s ({:.0} movements/s), snapshot {:.1} s",
            args.items,
            build.as_secs_f64(),
            n as f64 / build.as_secs_f64(),
            snapshot.as_secs_f64()
        ),
    );
    let now = t_last + 1_000_000_000;
    let past = t_first + (t_last - t_first) / 2;

    // 2. A whole `qm review` process.
    let exe = std::env::current_exe()?;
    let out_file = dir.join("review.json");
    let mut times = Vec::new();
    let mut output_bytes = 0;
    for _ in 0..3 {
        let out = std::fs::File::create(&out_file)?;
        let t = Instant::now();
        let status = std::process::Command::new(&exe)
            .arg("--db")
            .arg(&db)
            .args(["review", "--org", org, "--as-of"])
            .arg(qm_core::format_time_plain(now))
            .arg("--json")
            .stdout(out)
            .status()?;
        times.push(t.elapsed());
        if !status.success() {
            bail!("qm review failed");
        }
        output_bytes = std::fs::metadata(&out_file)?.len();
    }
    std::fs::remove_file(&out_file)?;
    times.sort_unstable();
    let median = times[1].as_secs_f64();
    report.say(
        "review_process",
        Figure::Review(ReviewFigure::Process {
            median_s: median,
            output_bytes,
            runs: times.len(),
        }),
        format!("`qm review --org {org} --json` as a whole process at {n} movements (start, open, compute, print {output_bytes} bytes): {median:.3} s (median of 3)"),
    );

    // 3. In-process, as `qm review` opens and computes it.
    let t = Instant::now();
    let app = App::open_with(&db_str, OpenMode::ReadOnly)?;
    let open = t.elapsed();
    let mut on_hand: [HashMap<String, i128>; 2] = Default::default();
    let mut compute_p50 = [0f64; 2];
    for (slot, (label, at)) in [("now", now), ("past", past)].into_iter().enumerate() {
        let state = app.read()?;
        let mut runs = Vec::new();
        let mut review = None;
        for _ in 0..7 {
            let t = Instant::now();
            let r = state.review_with(Some(org), at, &qm_report::ReviewOptions::default())?;
            runs.push(t.elapsed());
            review = Some(r);
        }
        let review = review.expect("seven runs");
        let t = Instant::now();
        let json = serde_json::to_vec(&review)?;
        let encode = t.elapsed();
        // The per-depot breakdown (`qm review --depots`) visits every key of the org's
        // depots; timed once, apart.
        let t = Instant::now();
        let with_depots = state.review_with(
            Some(org),
            at,
            &qm_report::ReviewOptions {
                depots: true,
                ..Default::default()
            },
        )?;
        let depots_ms = ms(t.elapsed());
        let depot_rows: usize = with_depots
            .items
            .iter()
            .map(|i| i.depots.as_ref().map_or(0, Vec::len))
            .sum();
        on_hand[slot] = review
            .items
            .iter()
            .map(|i| (i.item.clone(), i.on_hand))
            .collect();
        let (p50, min, max) = spread(runs);
        compute_p50[slot] = p50;
        let suffix = if slot == 0 { "" } else { "_past" };
        let key = format!("review_compute{suffix}");
        report.say(
            &key,
            Figure::Review(ReviewFigure::Compute {
                as_of: qm_core::format_time_plain(at),
                depot_rows,
                depots_ms,
                history: n,
                items: review.items.len(),
                json_bytes: json.len(),
                json_encode_ms: ms(encode),
                max_ms: max,
                min_ms: min,
                open_s: open.as_secs_f64(),
                org: org.to_owned(),
                p50_ms: p50,
                runs: 7,
            }),
            format!(
                "review of {org} as of {label} ({}) at {n} movements, {} items, in-process (opened in {:.2} s): p50 {p50:.1} ms (min {min:.1}, max {max:.1}; 7 runs), excluding the JSON: encoding it ({} bytes) {:.1} ms more; with --depots ({depot_rows} per-depot rows) {depots_ms:.0} ms",
                qm_core::format_time_plain(at),
                review.items.len(),
                open.as_secs_f64(),
                json.len(),
                ms(encode)
            ),
        );

        // What the review costs when it reads only the maintained aggregates.
        let mut runs = Vec::new();
        let mut figures = Vec::new();
        for _ in 0..7 {
            let t = Instant::now();
            figures = aggregates_only(state.ledger(), org, at);
            runs.push(t.elapsed());
        }
        let by_code: HashMap<&str, &qm_report::ReviewItem> =
            review.items.iter().map(|i| (i.item.as_str(), i)).collect();
        let agrees = figures.len() == review.items.len()
            && figures.iter().all(|(code, f)| {
                by_code.get(code.as_str()).is_some_and(|r| {
                    (
                        r.on_hand,
                        r.earmarked,
                        r.available,
                        r.floor,
                        r.months_of_cover,
                    ) == (f.0, f.1, f.0 - f.1, f.2, f.3)
                })
            });
        let (p50, min, max) = spread(runs);
        report.say(
            &format!("review_aggregates_only{suffix}"),
            Figure::Review(ReviewFigure::AggregatesOnly {
                agrees,
                as_of: qm_core::format_time_plain(at),
                max_ms: max,
                min_ms: min,
                p50_ms: p50,
                runs: 7,
            }),
            format!(
                "  the same items' on hand, earmarked, available, floor and projection from the per-(org, item) aggregates alone (a cross-check: the figures read straight off the aggregates, without the review code): p50 {p50:.1} ms (min {min:.1}, max {max:.1}); figures {} the review's",
                if agrees { "agree with" } else { "DIFFER from" }
            ),
        );
    }

    // The what-if.
    let (proposal, items_proposed) = {
        let state = app.read()?;
        proposal(state.ledger(), org, now - 500_000_000)?
    };
    let proposal_file = dir.join("proposal.jsonl");
    let mut text = String::new();
    for r in &proposal {
        qm_interchange::write_record(r, &mut text);
        text.push('\n');
    }
    std::fs::write(&proposal_file, &text)?;
    let proposal_path = proposal_file.to_str().context("path")?;
    let mut runs = Vec::new();
    let mut items_changed = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let r = app.what_if(
            proposal_path,
            Some(org),
            now,
            &qm_report::ReviewOptions::default(),
        )?;
        runs.push(t.elapsed());
        items_changed = r
            .items
            .iter()
            .filter(|i| {
                i.before
                    .as_ref()
                    .is_some_and(|b| b.earmarked != i.earmarked)
            })
            .count();
    }
    if items_changed != items_proposed {
        bail!("the what-if changed {items_changed} items, the proposal {items_proposed}");
    }
    let (p50, min, max) = spread(runs);
    report.say(
        "review_what_if",
        Figure::Review(ReviewFigure::WhatIf {
            items_changed,
            max_ms: max,
            min_ms: min,
            p50_ms: p50,
            proposal_records: proposal.len(),
            runs: 5,
        }),
        format!(
            "what-if of a {}-record proposal ({items_proposed} transfers and their allocations) at {n} movements, in-process as `qm review --with` runs it: p50 {p50:.1} ms (min {min:.1}, max {max:.1}; 5 runs)",
            proposal.len()
        ),
    );
    drop(app);

    // 4. SQL.
    let sql_kinds: Vec<SqlKind> = args
        .sql
        .iter()
        .copied()
        .filter(|k| *k != SqlKind::None)
        .collect();
    for kind in sql_kinds {
        let (conn, load_rate) = match kind {
            SqlKind::View => (
                Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY)?,
                None,
            ),
            SqlKind::Table => {
                let (conn, rate) = plain_table(dir, args)?;
                (conn, Some(rate))
            }
            SqlKind::None => continue,
        };
        let times = match kind {
            SqlKind::View => [
                rusqlite::types::Value::Text(view_time(now)),
                rusqlite::types::Value::Text(view_time(past)),
            ],
            _ => [
                rusqlite::types::Value::Integer(now),
                rusqlite::types::Value::Integer(past),
            ],
        };
        let sql = on_hand_sql(&depots);
        let plan: String = {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
            let rows = stmt.query_map(params![times[0]], |r| r.get::<_, String>(3))?;
            rows.collect::<Result<Vec<_>, _>>()?.join("; ")
        };
        let mut best = [f64::MAX; 2];
        let mut agrees = true;
        let mut runs = 0;
        for run in 0..2 {
            if run == 1 && best.iter().any(|&s| s > 120.0) {
                break;
            }
            runs += 1;
            for slot in 0..2 {
                let t = Instant::now();
                let got = query_on_hand(&conn, &sql, &times[slot])?;
                best[slot] = best[slot].min(t.elapsed().as_secs_f64());
                let want = &on_hand[slot];
                let same = want
                    .iter()
                    .all(|(item, q)| got.get(item).copied().unwrap_or(0) == *q)
                    && got
                        .iter()
                        .all(|(item, q)| want.get(item).copied().unwrap_or(0) == *q);
                agrees &= same;
            }
        }
        let name = match kind {
            SqlKind::View => "view",
            _ => "table",
        };
        let ratio_now = best[0] * 1e3 / compute_p50[0];
        let ratio_past = best[1] * 1e3 / compute_p50[1];
        report.say(
            &format!("review_sql_{name}"),
            Figure::Review(ReviewFigure::Sql {
                agrees,
                kind: name,
                load_rows_per_s: load_rate,
                now_s: best[0],
                past_s: best[1],
                plan: plan.clone(),
                ratio_now,
                ratio_past,
                runs,
            }),
            format!(
                "on hand per item by SQL GROUP BY over {} ({n} movements{}): now {:.2} s, past {:.2} s (best of {runs}); the review is {ratio_now:.1}x / {ratio_past:.1}x faster; answers {} the review's; plan: {plan}",
                match kind {
                    SqlKind::View => "the ledger file's `movements` view".to_owned(),
                    _ => "a plain movements table".to_owned(),
                },
                load_rate.map_or(String::new(), |r| format!(", loaded at {r:.0} rows/s")),
                best[0],
                best[1],
                if agrees { "agree with" } else { "DIFFER from" }
            ),
        );
    }
    if std::env::var_os("QM_BENCH_KEEP_FILES").is_none() {
        crate::bench::remove_db(&db)?;
        crate::bench::remove_db(&dir.join("plain-review.db"))?;
    }
    Ok(())
}

/// On hand, earmarked, floor, months of cover.
type ItemAggregates = (i128, i128, i128, Option<u32>);

/// Per item (code): on hand, earmarked, floor and months of cover of `org` at `at`, from the
/// ledger's per-(org, item) aggregates and the review's own projection: a review without
/// the per-depot breakdown, transit, sent and sunk figures. Logarithmic per item.
fn aggregates_only(ledger: &qm_core::Ledger, org: &str, at: Time) -> Vec<(String, ItemAggregates)> {
    let Some(o) = ledger.org_idx(org) else {
        return Vec::new();
    };
    let fc = qm_report::forecast::Forecaster::new(ledger, &[o], at, qm_report::HORIZON_DEFAULT);
    ledger
        .items()
        .iter()
        .enumerate()
        .map(|(i, it)| {
            let i = i as u32;
            let (on_hand, earmarked) = ledger.org_stock(o, i).map_or((0, 0), |os| {
                (
                    os.on_hand_at(at) as i128,
                    os.earmarked.balance_at(at) as i128,
                )
            });
            let floor = ledger.floor_at(o, i, at).unwrap_or(0) as i128;
            let p = fc.project(i, on_hand - earmarked);
            (
                it.code.clone(),
                (on_hand, earmarked, floor, p.months_of_cover),
            )
        })
        .collect()
}

/// The on-hand-per-item query; `?1` is the as-of time.
fn on_hand_sql(depots: &[String]) -> String {
    let list = depots
        .iter()
        .map(|d| format!("'{}'", d.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        "SELECT item, \
                SUM(CASE WHEN to_holder IN ({list}) THEN qty ELSE 0 END) \
              - SUM(CASE WHEN from_holder IN ({list}) THEN qty ELSE 0 END) AS on_hand \
         FROM movements WHERE time <= ?1 GROUP BY item"
    )
}

fn query_on_hand(
    conn: &Connection,
    sql: &str,
    at: &rusqlite::types::Value,
) -> anyhow::Result<HashMap<String, i128>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map(params![at], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as i128))
    })?;
    Ok(rows.collect::<Result<HashMap<_, _>, _>>()?)
}

/// A plain movements table in its own file, loaded with the same movements in transactions
/// of 10k rows (WAL, `synchronous=FULL`, as the ledger file), times as integer nanoseconds.
/// Returns it and the load rate.
fn plain_table(dir: &Path, args: &ReviewArgs) -> anyhow::Result<(Connection, f64)> {
    let path = dir.join("plain-review.db");
    crate::bench::remove_db(&path)?;
    let mut conn = Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;
         CREATE TABLE movements (
             id          TEXT PRIMARY KEY,
             time        INTEGER NOT NULL,
             item        TEXT NOT NULL,
             qty         INTEGER NOT NULL,
             from_holder TEXT NOT NULL,
             to_holder   TEXT NOT NULL
         );",
    )?;
    let (_, batches, _) = workload(args);
    let b = bar(args.movements, "loading a plain table");
    let t = Instant::now();
    let mut rows = 0u64;
    for batch in batches {
        let tx = conn.transaction()?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO movements (id, time, item, qty, from_holder, to_holder)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?;
            for r in &batch {
                if let Record::Movement(m) = r {
                    insert.execute(params![m.id, m.time, m.item, m.qty as i64, m.from, m.to])?;
                    rows += 1;
                }
            }
        }
        tx.commit()?;
        b.set_position(rows);
    }
    b.finish_and_clear();
    let rate = rows as f64 / t.elapsed().as_secs_f64();
    Ok((conn, rate))
}

/// 50 one-line transfers from `org` to the recipient, each allocated at `at` from the depot
/// with the most stock available of its item (items with some, in declared order). Returns
/// the records and the number of transfers.
fn proposal(ledger: &qm_core::Ledger, org: &str, at: Time) -> anyhow::Result<(Vec<Record>, usize)> {
    let o = ledger.org_idx(org).ok_or_else(|| anyhow!("no org {org}"))?;
    let mut best: HashMap<u32, (i64, u32)> = HashMap::new();
    for (h, holder) in ledger.holders().iter().enumerate() {
        let h = h as u32;
        if holder.kind != HolderKind::Depot || ledger.holder_org(h) != o {
            continue;
        }
        for &k in ledger.holder_keys(h) {
            let key = ledger.key(k);
            let available = ledger.key_balance(k, None) - ledger.key_earmarked(k, None);
            if available > 0 && best.get(&key.item).is_none_or(|b| b.0 < available) {
                best.insert(key.item, (available, h));
            }
        }
    }
    let mut items: Vec<(u32, (i64, u32))> = best.into_iter().collect();
    items.sort_unstable_by_key(|(i, _)| *i);
    items.truncate(50);
    let mut records = Vec::with_capacity(2 * items.len());
    for (n, &(item, (available, holder))) in items.iter().enumerate() {
        let code = ledger.items()[item as usize].code.clone();
        let qty = available.min(10) as u64;
        let id = format!("whatif-t{}", n + 1);
        records.push(Record::Transfer(Transfer {
            id: id.clone(),
            time: at,
            donor: org.to_owned(),
            recipient: WORKFLOW_RECIPIENT.to_owned(),
            lines: vec![TransferLine {
                item: code.clone(),
                qty,
                value: None,
            }],
            authority: Some("What-if package".to_owned()),
            note: None,
        }));
        records.push(Record::Allocate(Allocate {
            id: format!("whatif-a{}", n + 1),
            time: at,
            transfer: id,
            item: code,
            qty,
            from: ledger.holders()[holder as usize].id.clone(),
            lot: None,
            override_: None,
        }));
    }
    Ok((records, items.len()))
}
