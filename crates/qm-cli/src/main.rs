//! `qm`: the Quartermaster command. Thin: parse flags, open the database through `qm-app`,
//! print. Exit status: 0 success, 1 rejected input or failed check, 2 usage error.

mod alloc;
mod bench;
mod bench_pg;
mod demo;

#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

use std::io::{BufWriter, Read, Write};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use qm_app::{App, AppError};
use qm_core::{BalanceQuery, Time};

#[derive(Parser)]
#[command(
    name = "qm",
    version,
    about = "Quartermaster: materiel accountability ledger"
)]
struct Cli {
    /// Database: a file path (embedded, the default) or a postgres:// URL.
    #[arg(long, global = true, env = "QM_DB", default_value = "quartermaster.db")]
    db: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Apply interchange files, each as one atomic batch (`-` reads standard input).
    Apply {
        #[arg(required = true)]
        files: Vec<String>,
        /// Print a JSON summary.
        #[arg(long)]
        json: bool,
    },
    /// Balances per holder, item and lot (non-zero only).
    Balance {
        #[arg(long)]
        holder: Option<String>,
        #[arg(long)]
        item: Option<String>,
        #[arg(long)]
        lot: Option<String>,
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        #[arg(long)]
        json: bool,
    },
    /// The stockpile review: on hand against floors, per item.
    Review {
        #[arg(long)]
        org: Option<String>,
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        #[arg(long)]
        json: bool,
    },
    /// Write the whole history as interchange records to standard output.
    Export {
        /// Then keep writing each new batch as it is committed (by any process) until
        /// interrupted.
        #[arg(long)]
        follow: bool,
    },
    /// Check the stored history: checksums, hash chain, invariants, derived tables.
    Verify {
        #[arg(long)]
        json: bool,
    },
    /// Take a snapshot now, so the next start-up replays nothing.
    Snapshot,
    /// Copy a whole ledger into an empty database of either backend (verified on both ends).
    Migrate {
        /// The source database: a file path or a postgres:// URL.
        #[arg(long)]
        from: String,
        /// The target database, which must be empty.
        #[arg(long)]
        to: String,
    },
    /// Build a realistic scenario into a fresh database and print the stockpile review.
    Demo(demo::DemoArgs),
    /// Run the benchmarks and print the figures.
    Bench(bench::BenchArgs),
}

fn parse_time_arg(s: &str) -> Result<Time, String> {
    qm_interchange::parse_time(s).ok_or_else(|| {
        format!("{s:?} is not an RFC 3339 time (2025-07-04T12:00:00Z) or a date (2025-07-04)")
    })
}

/// Parses a count like `1M`, `10k`, `2500000`.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim().replace('_', "");
    let (num, mult) = match t.chars().last() {
        Some('k' | 'K') => (&t[..t.len() - 1], 1_000),
        Some('m' | 'M') => (&t[..t.len() - 1], 1_000_000),
        Some('g' | 'G' | 'b' | 'B') => (&t[..t.len() - 1], 1_000_000_000),
        _ => (&t[..], 1),
    };
    num.parse::<u64>()
        .map(|n| n * mult)
        .map_err(|_| format!("{s:?} is not a count (e.g. 1000000, 10k, 1M)"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("qm: {e:#}");
            match e.downcast_ref::<AppError>() {
                Some(AppError::Usage(_)) => ExitCode::from(2),
                _ => ExitCode::from(1),
            }
        }
    }
}

fn now() -> Time {
    qm_app::now_nanos()
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Apply { files, json } => apply(&cli.db, &files, json),
        Command::Balance {
            holder,
            item,
            lot,
            as_of,
            json,
        } => {
            let app = App::open(&cli.db)?;
            let q = BalanceQuery {
                holder: holder.as_deref(),
                item: item.as_deref(),
                lot: lot.as_deref(),
                as_of: Some(as_of.unwrap_or_else(now)),
            };
            let rows = app.ledger().balances(&q);
            let mut out = BufWriter::new(std::io::stdout().lock());
            if json {
                let v: Vec<serde_json::Value> = rows
                    .iter()
                    .map(|b| serde_json::json!({"holder": b.holder, "item": b.item, "lot": b.lot, "qty": b.qty}))
                    .collect();
                serde_json::to_writer(&mut out, &v)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{:<28} {:<20} {:<18} {:>14}",
                    "HOLDER", "ITEM", "LOT", "QTY"
                )?;
                for b in rows {
                    writeln!(
                        out,
                        "{:<28} {:<20} {:<18} {:>14}",
                        b.holder,
                        b.item,
                        b.lot.unwrap_or("-"),
                        b.qty
                    )?;
                }
            }
            out.flush()?;
            drop(out);
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Review { org, as_of, json } => {
            let app = App::open(&cli.db)?;
            if let Some(o) = &org {
                if app.ledger().org(o).is_none() {
                    return Err(AppError::Usage(format!("unknown org {o:?}")).into());
                }
            }
            let r = qm_report::review(app.ledger(), org.as_deref(), as_of.unwrap_or_else(now));
            if json {
                println!("{}", review_json(&r));
            } else {
                print!("{}", demo::review_table(app.ledger(), &r));
            }
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Export { follow } => {
            let mut app = App::open(&cli.db)?;
            let stdout = std::io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            app.export(&mut out)?;
            drop(out);
            if follow {
                let mut after = app.head().seq;
                let store = app.store();
                loop {
                    let head = store.wait_for_batches(after, std::time::Duration::from_secs(1))?;
                    if head.seq > after {
                        let mut out = std::io::stdout().lock();
                        let mut last = after;
                        store.read_batches(after, &mut |b| {
                            last = b.seq;
                            out.write_all(b.body.as_bytes())
                                .and_then(|()| out.flush())
                                .map_err(|e| qm_store::StoreError::Backend(format!("writing: {e}")))
                        })?;
                        after = last;
                    }
                }
            }
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { json } => {
            let mut store = qm_app::open_store(&cli.db)?;
            match qm_app::verify::verify(&mut *store) {
                Ok(r) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({"ok": true, "batches": r.batches, "records": r.records, "movements": r.movements, "snapshot_batch": r.snapshot_seq})
                        );
                    } else {
                        println!("ok: {} batches, {} records, {} movements; chain, rules, snapshot and balances table verified", r.batches, r.records, r.movements);
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(f) => {
                    if json {
                        println!(
                            "{}",
                            serde_json::json!({"ok": false, "batch": f.batch, "error": f.message})
                        );
                    }
                    eprintln!("qm: verify failed: {f}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Snapshot => {
            let mut app = App::open(&cli.db)?;
            app.snapshot()?;
            println!("snapshot at batch {}", app.head().seq);
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { from, to } => {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {msg} {human_pos} records ({per_sec})",
                )
                .expect("template"),
            );
            bar.set_message("copying");
            let m = qm_app::migrate(&from, &to, &mut |records| bar.set_position(records))?;
            bar.finish_and_clear();
            println!(
                "migrated {} batches ({} records) from {from} to {to}; verified on both ends",
                m.batches, m.records
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(&cli.db, args),
        Command::Bench(args) => bench::run(args),
    }
}

pub fn review_json(r: &qm_report::Review) -> serde_json::Value {
    let mut as_of = String::new();
    qm_interchange::format_time(r.as_of, &mut as_of);
    serde_json::json!({
        "as_of": as_of,
        "org": r.org,
        "items": r.items.iter().map(|i| serde_json::json!({
            "item": i.item,
            "name": i.name,
            "category": i.category,
            "on_hand": i.on_hand,
            "floor": i.floor,
            "headroom": i.headroom,
            "in_transit": i.in_transit,
            "depots": i.depots.iter().map(|(h, q)| serde_json::json!({"holder": h, "qty": q})).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

/// Reads a file's bytes (`-`: standard input); invalid UTF-8 is the parser's to report, by line.
fn read_input(file: &str) -> anyhow::Result<Vec<u8>> {
    if file == "-" {
        let mut s = Vec::new();
        std::io::stdin()
            .read_to_end(&mut s)
            .context("reading standard input")?;
        Ok(s)
    } else {
        std::fs::read(file).with_context(|| format!("reading {file}"))
    }
}

type Parsed = anyhow::Result<Result<(Vec<qm_core::Record>, Vec<u32>), qm_interchange::ParseErrors>>;

/// `qm apply`: files are read and parsed on a second thread while the first applies, so
/// parsing the next batch overlaps the commit of this one.
fn apply(db: &str, files: &[String], json: bool) -> anyhow::Result<ExitCode> {
    let mut app = App::open(db)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<(String, Parsed)>(1);
    let names: Vec<String> = files.to_vec();
    let reader = std::thread::spawn(move || {
        for f in names {
            let parsed = read_input(&f).map(|text| {
                let mut records = Vec::new();
                let mut lines = Vec::new();
                qm_interchange::parse_bytes_with(
                    &f,
                    &text,
                    qm_interchange::ERRORS_MAX_DEFAULT,
                    |line, r| {
                        lines.push(line);
                        records.push(r);
                    },
                )
                .map(|()| (records, lines))
            });
            if tx.send((f, parsed)).is_err() {
                return;
            }
        }
    });
    let mut failed = 0usize;
    let mut summary = Vec::new();
    let stdout = std::io::stdout();
    for (file, parsed) in rx {
        let outcome = match parsed {
            Err(e) => Err(AppError::Usage(format!("{e:#}"))),
            Ok(Err(pe)) => Err(AppError::Parse(pe)),
            Ok(Ok((records, lines))) => app.apply_records(&file, &records, &lines),
        };
        match outcome {
            Ok(a) => {
                if json {
                    summary.push(serde_json::json!({"file": file, "batch": a.batch, "new_records": a.new_records, "duplicates": a.duplicates}));
                } else {
                    let mut out = stdout.lock();
                    writeln!(out, "{file}: {a}")?;
                    out.flush()?;
                }
            }
            Err(AppError::Store { backend, source }) => {
                return Err(AppError::Store { backend, source })
                    .with_context(|| format!("{file}: not applied"));
            }
            Err(e) => {
                failed += 1;
                eprintln!("{e}");
                eprintln!("{file}: rejected, nothing applied");
                if json {
                    summary.push(serde_json::json!({"file": file, "rejected": e.to_string()}));
                }
            }
        }
    }
    reader
        .join()
        .map_err(|_| anyhow::anyhow!("the reader thread panicked"))?;
    if json {
        println!("{}", serde_json::Value::Array(summary));
    }
    app.maybe_snapshot()?;
    app.close();
    Ok(if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
