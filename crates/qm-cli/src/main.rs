//! `qm`: the Quartermaster command. Thin: parse flags, open the database through `qm-app`,
//! print what the facade answers (JSON through `qm_app::output`). Exit status: 0 success
//! (also when whoever reads standard output goes away), 1 rejected input or failed check,
//! 2 usage error.

#[cfg(feature = "bench-alloc")]
mod alloc;
mod bench;
mod bench_pg;
mod bench_review;
mod bench_workflow;
mod demo;
mod out;
mod report;
mod tables;

/// mimalloc rather than the system's allocator: the ledger is millions of small vectors
/// (timeline leaves, names) that grow and split, where glibc's frees and reallocations were
/// a sixth of a late record's time (ARCHITECTURE.md, "The allocator").
#[cfg(not(feature = "bench-alloc"))]
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[cfg(feature = "bench-alloc")]
#[global_allocator]
static ALLOC: alloc::Counting = alloc::Counting;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use qm_app::{output, App, AppError, OpenMode};
use qm_core::{BalanceQuery, Time};

#[derive(Parser)]
#[command(
    name = "qm",
    version,
    about = "Quartermaster: materiel accountability ledger"
)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// The options every command takes, before or after its name.
#[derive(clap::Args)]
pub struct Global {
    /// Database: a file path (embedded, the default) or a postgres:// URL.
    #[arg(long, global = true, env = "QM_DB", default_value = "quartermaster.db")]
    db: String,
    /// Who records the batches this command writes (default: the OS user running qm).
    #[arg(long, global = true, env = "QM_USER", value_name = "NAME")]
    by: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply interchange files, each as one atomic batch (`-` reads standard input).
    Apply {
        /// Interchange (JSON Lines) files, applied in order; `-` reads standard input.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<String>,
        /// Print a JSON summary (one element per file) instead of a line per file.
        #[arg(long)]
        json: bool,
    },
    /// Balances per holder, item and lot (non-zero only).
    Balance {
        /// Only this holder's balances.
        #[arg(long)]
        holder: Option<String>,
        /// Only balances of this item (its code).
        #[arg(long)]
        item: Option<String>,
        /// Only balances of this lot.
        #[arg(long)]
        lot: Option<String>,
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        /// Print a JSON array of {holder, item, lot, qty} instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The stockpile review: on hand against floors, per item, with months of cover and the
    /// first breach projected from production, consumption and threat reports.
    Review {
        /// Only this org's depots, transit holders, floors and plans (default: every org).
        #[arg(long)]
        org: Option<String>,
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        /// Months the projection looks ahead: 0 to 1200 (100 years); --as-of plus the
        /// horizon must end by 2262-04-11 (the last supported time).
        #[arg(long, default_value_t = qm_report::HORIZON_DEFAULT, value_name = "MONTHS",
              value_parser = horizon_arg)]
        horizon: u32,
        /// What-if: evaluate the records of FILE as if applied (nothing is stored) and show
        /// each item before and after.
        #[arg(long, value_name = "FILE")]
        with: Option<String>,
        /// Exit 1 when any item's first breach falls within the horizon.
        #[arg(long)]
        fail_on_breach: bool,
        /// Also the stock per depot of each item (it visits every balance of the org's
        /// depots; the totals come from maintained aggregates).
        #[arg(long)]
        depots: bool,
        /// The start of the period what was sent and lost is counted over (default: the
        /// whole history up to --as-of).
        #[arg(long, value_parser = parse_time_arg)]
        since: Option<Time>,
        /// Print the review as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// The threat model: per interceptor, threats launched and interceptors used over the
    /// window, the trend, and the forecast demand.
    Threats {
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        /// Months of forecast demand to show, as a review over that horizon counts it: 0 to
        /// 1200 (100 years); --as-of plus the horizon must end by 2262-04-11, and --as-of be
        /// 1677-12-01 or later (the window's months must exist).
        #[arg(long, default_value_t = 12, value_name = "MONTHS", value_parser = horizon_arg)]
        horizon: u32,
        /// Print JSON (the table is the same figures).
        #[arg(long)]
        json: bool,
    },
    /// Transfers: the list, or with --summary the donor view per (donor, recipient, item).
    Transfers {
        /// Print the donor view: per (donor, recipient, item), committed, cancelled,
        /// allocated, dispatched, delivered and in transit.
        #[arg(long)]
        summary: bool,
        /// Print the donor view's totals per (donor, category) instead: committed,
        /// allocated, dispatched, delivered, and their values where known.
        #[arg(long, conflicts_with = "summary")]
        totals: bool,
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        /// Only transfers from this donor org.
        #[arg(long)]
        donor: Option<String>,
        /// Only transfers to this recipient org.
        #[arg(long)]
        recipient: Option<String>,
        /// Only transfers with a line of this item (its code).
        #[arg(long)]
        item: Option<String>,
        /// Only transfers in this state (the list only: not with --summary or --totals):
        /// committed, allocated, dispatched, in_transit, delivered, cancelled, or
        /// not_yet_committed (declared, committed after --as-of; listed only when asked for).
        #[arg(long, value_parser = parse_state_arg, conflicts_with_all = ["summary", "totals"])]
        state: Option<qm_report::TransferState>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// One transfer.
    Transfer {
        #[command(subcommand)]
        command: TransferCommand,
    },
    /// The pauses standing, and what each holds back.
    Pauses {
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        /// Print a JSON array of pauses instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write the review, the donor view, its totals and the standing pauses to a file: a
    /// self-contained HTML page with charts, an XLSX workbook, CSV files in a directory, or
    /// JSON.
    Report(report::ReportArgs),
    /// Write the whole history as interchange records to standard output.
    Export {
        /// Then keep writing each new batch as it is committed (by any process) until
        /// interrupted.
        #[arg(long)]
        follow: bool,
    },
    /// Check the stored history: checksums, hash chain, invariants, derived tables.
    Verify {
        /// Print the result as JSON ({"ok": true, ...} or {"ok": false, "batch", "error"}).
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

#[derive(Subcommand)]
enum TransferCommand {
    /// The transfer, its lines with every stage's quantity, its allocations and
    /// cancellations, and every record that touched it (when and by whom it was recorded).
    Show {
        /// The transfer's id.
        id: String,
        /// RFC 3339 time or date (default: now).
        #[arg(long, value_parser = parse_time_arg)]
        as_of: Option<Time>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn parse_state_arg(s: &str) -> Result<qm_report::TransferState, String> {
    qm_report::TransferState::parse(s).ok_or_else(|| {
        format!("{s:?} is not a state: committed, allocated, dispatched, in_transit, delivered, cancelled, not_yet_committed")
    })
}

fn parse_time_arg(s: &str) -> Result<Time, String> {
    use qm_core::time::{parse_time_checked, ParseTimeError, TIME_MAX_TEXT, TIME_MIN_TEXT};
    parse_time_checked(s).map_err(|e| match e {
        ParseTimeError::OutOfRange => format!(
            "{s:?} is outside the supported range of times, {TIME_MIN_TEXT} to {TIME_MAX_TEXT}"
        ),
        ParseTimeError::Malformed => {
            format!("{s:?} is not an RFC 3339 time (2025-07-04T12:00:00Z) or a date (2025-07-04)")
        }
    })
}

/// Parses `--horizon`: whole months, 0 to `HORIZON_MAX` (1200: 100 years).
pub(crate) fn horizon_arg(s: &str) -> Result<u32, String> {
    let max = qm_report::forecast::HORIZON_MAX;
    match s.parse::<u64>() {
        Ok(n) if n <= max as u64 => Ok(n as u32),
        _ => Err(format!(
            "{s:?} is not a horizon: whole months from 0 to {max} (100 years)"
        )),
    }
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
        // The reader of standard output went away: stop, quietly, as Unix tools do.
        Err(_) if out::closed() => ExitCode::SUCCESS,
        Err(e) => {
            let chain: &(dyn std::error::Error + 'static) = e.as_ref();
            // A bare I/O error is the output's (files read are named by the facade's errors).
            let what = match e.downcast_ref::<std::io::Error>() {
                Some(_) => "writing the output: ",
                None => "",
            };
            out::err(&format!("qm: {what}{}", qm_app::chain_message(chain)));
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

/// Who records the batches this run writes: `--by` (or `QM_USER`) when given, else the
/// facade's default (the OS user).
fn recorded_by(g: &Global) -> Option<&str> {
    g.by.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Opens the database `--db` names for a command that writes (creating the ledger if there
/// is none), recording as `--by`.
pub fn open_app(g: &Global) -> anyhow::Result<App> {
    open_app_with(g, OpenMode::Create)
}

/// Opens the database `--db` names for a command that only reads: it must exist, and may be
/// on read-only media.
pub fn open_reader(g: &Global) -> anyhow::Result<App> {
    open_app_with(g, OpenMode::ReadOnly)
}

fn open_app_with(g: &Global, mode: OpenMode) -> anyhow::Result<App> {
    let mut app = App::open_with(&g.db, mode)?;
    if let Some(by) = recorded_by(g) {
        app.set_recorded_by(by);
    }
    Ok(app)
}

/// Opens only the store `--db` names (no ledger), for commands that read the journal as it
/// is stored.
fn open_store(g: &Global) -> anyhow::Result<qm_app::BoxStore> {
    Ok(qm_app::open_store(&g.db, OpenMode::ReadOnly)?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match cli.command {
        Command::Apply { files, json } => apply(g, &files, json),
        Command::Balance {
            holder,
            item,
            lot,
            as_of,
            json,
        } => {
            let app = open_reader(g)?;
            let q = BalanceQuery {
                holder: holder.as_deref(),
                item: item.as_deref(),
                lot: lot.as_deref(),
                as_of: Some(as_of.unwrap_or_else(now)),
            };
            let state = app.read()?;
            let rows = state.balances(&q)?;
            let mut out = out::buffered();
            if json {
                serde_json::to_writer(&mut out, &rows)?;
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
            drop(state);
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Review {
            org,
            as_of,
            horizon,
            with,
            fail_on_breach,
            depots,
            since,
            json,
        } => {
            let at = as_of.unwrap_or_else(now);
            qm_report::forecast::check_range(at, horizon)?;
            let app = open_reader(g)?;
            let opts = qm_report::ReviewOptions {
                horizon,
                depots,
                since,
            };
            let r = match &with {
                Some(file) => app.what_if(file, org.as_deref(), at, &opts)?,
                None => app.read()?.review_with(org.as_deref(), at, &opts)?,
            };
            let mut out = out::buffered();
            if json {
                serde_json::to_writer(&mut out, &r)?;
                writeln!(out)?;
            } else {
                let state = app.read()?;
                out.write_all(demo::review_table(state.ledger(), &r).as_bytes())?;
            }
            out.flush()?;
            let breach = r.items.iter().any(|i| i.breaches());
            app.close();
            Ok(if fail_on_breach && breach {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Threats {
            as_of,
            horizon,
            json,
        } => {
            let at = as_of.unwrap_or_else(now);
            qm_report::forecast::check_range(at, horizon)?;
            let app = open_reader(g)?;
            let state = app.read()?;
            let models = state.threats(at, horizon);
            let mut out = out::buffered();
            if json {
                serde_json::to_writer(&mut out, &models)?;
                writeln!(out)?;
            } else {
                out.write_all(tables::threats(&models).as_bytes())?;
            }
            out.flush()?;
            drop(state);
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Transfers {
            summary,
            totals,
            as_of,
            donor,
            recipient,
            item,
            state: wanted,
            json,
        } => {
            let app = open_reader(g)?;
            let state = app.read()?;
            let filter = qm_report::TransferFilter {
                donor: donor.as_deref(),
                recipient: recipient.as_deref(),
                item: item.as_deref(),
                state: wanted,
            };
            let at = as_of.unwrap_or_else(now);
            let mut out = out::buffered();
            if totals {
                let rows = state.donor_totals(&filter, at)?;
                if json {
                    serde_json::to_writer(&mut out, &rows)?;
                    writeln!(out)?;
                } else {
                    out.write_all(tables::totals(&rows).as_bytes())?;
                }
            } else if summary {
                let rows = state.transfers_summary(&filter, at)?;
                if json {
                    serde_json::to_writer(&mut out, &rows)?;
                    writeln!(out)?;
                } else {
                    out.write_all(tables::summary(&rows).as_bytes())?;
                }
            } else {
                let rows = state.transfers(&filter, at)?;
                if json {
                    serde_json::to_writer(&mut out, &rows)?;
                    writeln!(out)?;
                } else {
                    out.write_all(tables::list(&rows).as_bytes())?;
                }
            }
            out.flush()?;
            drop(state);
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Transfer {
            command: TransferCommand::Show { id, as_of, json },
        } => {
            let app = open_reader(g)?;
            let d = app.transfer_detail(&id, as_of.unwrap_or_else(now))?;
            let mut out = out::buffered();
            if json {
                serde_json::to_writer(&mut out, &d)?;
                writeln!(out)?;
            } else {
                out.write_all(tables::detail(&d).as_bytes())?;
            }
            out.flush()?;
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Pauses { as_of, json } => {
            let app = open_reader(g)?;
            let state = app.read()?;
            let rows = state.pauses(as_of.unwrap_or_else(now))?;
            let mut out = out::buffered();
            if json {
                serde_json::to_writer(&mut out, &rows)?;
                writeln!(out)?;
            } else {
                out.write_all(tables::pauses(&rows).as_bytes())?;
            }
            out.flush()?;
            drop(state);
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Report(args) => report::run(g, args),
        Command::Export { follow } => {
            let app = open_reader(g)?;
            let mut out = out::buffered();
            if follow {
                app.export_follow(&mut out, &|| true)?;
            } else {
                app.export(&mut out)?;
            }
            drop(out);
            app.close();
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { json } => {
            let mut store = open_store(g)?;
            let mut out = out::stdout();
            match qm_app::verify::verify(&mut *store) {
                Ok(r) => {
                    if json {
                        serde_json::to_writer(&mut out, &output::Verified::from(&r))?;
                        writeln!(out)?;
                    } else {
                        let tables = match r.transfer_lines {
                            Some(_) => "balances and transfer lines tables",
                            None => "balances table",
                        };
                        writeln!(out, "ok: {} batches, {} records, {} movements; chain, rules, snapshot and {tables} verified", r.batches, r.records, r.movements)?;
                        if r.snapshot_outdated {
                            writeln!(out, "note: the snapshot is in an older program's format, so start-up ignores it and replays the journal; `qm snapshot` rewrites it")?;
                        }
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(f) => {
                    if json {
                        serde_json::to_writer(&mut out, &output::VerifyFailed::from(&f))?;
                        writeln!(out)?;
                    }
                    out::err(&format!("qm: verify failed: {f}"));
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Snapshot => {
            // Only of a ledger that exists: a snapshot of nothing is a typo.
            let mut app = open_app_with(g, OpenMode::ReadWrite)?;
            app.snapshot()?;
            writeln!(out::stdout(), "snapshot at batch {}", app.head().seq)?;
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
            writeln!(
                out::stdout(),
                "migrated {} batches ({} records) from {from} to {to}; verified on both ends",
                m.batches,
                m.records
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo(args) => demo::run(g, args),
        Command::Bench(args) => bench::run(args),
    }
}

/// `qm apply`: each file one atomic batch, under the facade's policy for a run of files;
/// each acknowledgement is printed (and flushed) as soon as its batch is durable.
fn apply(g: &Global, files: &[String], json: bool) -> anyhow::Result<ExitCode> {
    // A ledger is created only for something to apply: when the database file does not
    // exist and no file named can be opened (a typo), fail naming them and create nothing,
    // so that a later read of that path fails rather than answering from an empty ledger.
    if let qm_app::DbSpec::Sqlite(path) = qm_app::DbSpec::parse(&g.db) {
        if !path.exists() {
            let unreadable: Vec<String> = files
                .iter()
                .filter(|f| f.as_str() != "-")
                .filter_map(|f| std::fs::File::open(f).err().map(|e| format!("{f}: {e}")))
                .collect();
            if !unreadable.is_empty() && unreadable.len() == files.len() {
                for u in &unreadable {
                    out::err(&format!("qm: reading {u}"));
                }
                out::err(&format!(
                    "qm: nothing to apply, so no ledger was created at {}",
                    path.display()
                ));
                return Ok(ExitCode::from(1));
            }
        }
    }
    let mut app = open_app(g)?;
    let mut out = out::stdout();
    let mut summary = Vec::new();
    let run = app.apply_files(files, &mut |file, outcome| {
        if json {
            summary.push(output::ApplyFile::new(file, outcome));
        }
        match outcome {
            Ok(a) if !json => writeln!(out, "{file}: {a}")
                .and_then(|()| out.flush())
                .map_err(AppError::Output)?,
            Ok(_) => {}
            Err(e) => {
                out::err(&e.message());
                out::err(&format!("{file}: rejected, nothing applied"));
            }
        }
        Ok(())
    })?;
    if json {
        serde_json::to_writer(&mut out, &summary)?;
        writeln!(out)?;
    }
    app.maybe_snapshot()?;
    app.close();
    Ok(if run.rejected > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
