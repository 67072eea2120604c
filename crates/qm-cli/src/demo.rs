//! `qm demo`: builds the realistic scenario of `qm-sim` into a fresh database, batch by batch
//! through the same path as `qm apply`, then prints the stockpile review per donor.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use qm_app::{App, AppError};
use qm_core::{Ledger, Record};
use qm_report::Review;
use qm_sim::{realistic, ScenarioConfig};

#[derive(clap::Args)]
pub struct DemoArgs {
    /// Number of movements to generate (e.g. 1M, 100M).
    #[arg(long, default_value = "1M", value_parser = crate::parse_count)]
    movements: u64,
    /// Random seed of the scenario.
    #[arg(long, default_value_t = 2022)]
    seed: u64,
    /// Replace the database file if it exists.
    #[arg(long)]
    force: bool,
    /// Print the review as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(db: &str, args: DemoArgs) -> anyhow::Result<ExitCode> {
    if let qm_app::DbSpec::Sqlite(path) = qm_app::DbSpec::parse(db) {
        if path.exists() {
            if !args.force {
                return Err(AppError::Usage(format!(
                    "{} exists: pass --force to replace it, or choose another file with --db",
                    path.display()
                ))
                .into());
            }
            for suffix in ["", "-wal", "-shm"] {
                let p = format!("{}{suffix}", path.display());
                if std::path::Path::new(&p).exists() {
                    std::fs::remove_file(&p)?;
                }
            }
        }
    }
    let mut app = App::open(db)?;
    if app.head().seq != 0 {
        bail!(
            "the demo needs an empty database; {db} already holds {} batches",
            app.head().seq
        );
    }
    let scenario = realistic(ScenarioConfig {
        movements: args.movements,
        seed: args.seed,
        ..ScenarioConfig::default()
    });
    let started = Instant::now();
    let master = scenario.master_data();
    apply(&mut app, &master)?;
    let bar = ProgressBar::new(args.movements);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg} [{bar:40}] {human_pos}/{human_len} movements ({per_sec}, eta {eta})",
        )
        .expect("template")
        .progress_chars("=> "),
    );
    bar.set_message("recording");
    for batch in scenario.batches() {
        apply(&mut app, &batch)?;
        bar.inc(batch.len() as u64);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed();
    app.snapshot()?;
    let ledger = app.ledger();
    let at = ledger
        .keys()
        .iter()
        .filter_map(|k| k.timeline.last_time())
        .max()
        .unwrap_or(0);
    if args.json {
        let reviews: Vec<serde_json::Value> = scenario
            .donor_orgs()
            .map(|o| crate::review_json(&qm_report::review(ledger, Some(&o.id), at)))
            .collect();
        println!("{}", serde_json::Value::Array(reviews));
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "Recorded {} movements in {} batches in {:.1} s ({:.0} movements/s) into {db}",
        ledger.movement_count(),
        app.head().seq,
        elapsed.as_secs_f64(),
        ledger.movement_count() as f64 / elapsed.as_secs_f64()
    );
    println!();
    for org in scenario.donor_orgs() {
        let r = qm_report::review(ledger, Some(&org.id), at);
        print!("{}", review_table(ledger, &r));
        println!();
    }
    println!("Try: qm --db {db} balance --item PAC3-MSE --json | qm --db {db} review --org US-DOD --json | qm --db {db} verify");
    Ok(ExitCode::SUCCESS)
}

fn apply(app: &mut App, records: &[Record]) -> anyhow::Result<()> {
    let lines: Vec<u32> = (1..=records.len() as u32).collect();
    app.apply_records("demo", records, &lines)?;
    Ok(())
}

fn group(n: i64) -> String {
    let s = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// The review as a table: one line per item, then its stock per depot.
pub fn review_table(ledger: &Ledger, r: &Review) -> String {
    let mut time = String::new();
    qm_interchange::format_time(r.as_of, &mut time);
    let who = match &r.org {
        Some(o) => ledger
            .org(o)
            .map_or(o.clone(), |x| format!("{} ({o})", x.name)),
        None => "all orgs".into(),
    };
    let mut s = format!("Stockpile review: {who}, as of {time}\n");
    s += &format!(
        "  {:<16} {:<34} {:>12} {:>12} {:>12} {:>11}  {}\n",
        "ITEM", "NAME", "ON HAND", "FLOOR", "HEADROOM", "IN TRANSIT", "STATUS"
    );
    for i in r
        .items
        .iter()
        .filter(|i| i.on_hand != 0 || i.floor != 0 || i.in_transit != 0)
    {
        let status = if i.floor == 0 {
            "no floor"
        } else if i.headroom < 0 {
            "BELOW FLOOR"
        } else {
            "ok"
        };
        let name: String = i.name.chars().take(34).collect();
        s += &format!(
            "  {:<16} {:<34} {:>12} {:>12} {:>12} {:>11}  {}\n",
            i.item,
            name,
            group(i.on_hand),
            group(i.floor as i64),
            group(i.headroom),
            group(i.in_transit),
            status
        );
        for (depot, qty) in &i.depots {
            let name = ledger.holder_idx(depot).map_or(depot.as_str(), |h| {
                ledger.holders()[h as usize].name.as_str()
            });
            let name: String = name.chars().take(40).collect();
            s += &format!("      {:<52} {:>12}\n", name, group(*qty));
        }
    }
    s
}
