//! `qm report`: the stockpile review, the donor view, its totals and the standing pauses
//! written to a file for people and spreadsheets: a self-contained HTML page with charts,
//! an XLSX workbook, a directory of CSV files, or one JSON document. Thin: the facade
//! gathers the report ([`qm_app::App::report`], which checks the orgs named) and
//! `qm_report::render` turns it into bytes; this file parses the flags and writes the files.
//!
//! Every file is written next to its destination under a temporary name and then renamed
//! over it, so a reader never sees half a report and a failed run leaves the old one.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use qm_core::Time;
use qm_report::render::{self, ReportQuery};

use crate::{now, open_reader, out, parse_time_arg, Global};

/// What `--format` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One self-contained page (inline CSS and SVG charts, nothing fetched): opens offline.
    Html,
    /// One workbook: sheets Review, Donor view, Donor totals, Pauses, About.
    Xlsx,
    /// A directory: review.csv, transfers_summary.csv, donor_totals.csv, pauses.csv.
    Csv,
    /// One JSON document: every view and the data of the charts.
    Json,
}

#[derive(clap::Args)]
#[command(after_help = "\
Files written:
  --format html  --out FILE  one page: the review and the donor view as tables, with charts of
                             projected available stock against the floor per item, deliveries
                             per recipient per month, and the flows from donor depots through
                             transit to recipients
  --format xlsx  --out FILE  sheets Review, Donor view, Donor totals, Pauses, About; numbers
                             as numbers, money with a currency column, header row frozen
  --format csv   --out DIR   DIR/review.csv, DIR/transfers_summary.csv, DIR/donor_totals.csv,
                             DIR/pauses.csv (DIR is created if missing; those four files are
                             replaced, nothing else in DIR is touched)
  --format json  --out FILE  one document with every view and the charts' data

--org scopes the review; --donor and --recipient scope the transfer views (donor view,
totals, deliveries, flows). Pauses are every pause standing at --as-of.")]
pub struct ReportArgs {
    /// What to write: html, xlsx, csv or json.
    #[arg(long, value_enum)]
    format: Format,
    /// Where: a file for html, xlsx and json; a directory for csv.
    #[arg(long, value_name = "PATH")]
    out: PathBuf,
    /// Review only this org's depots, transit holders, floors and plans (default: every org).
    #[arg(long)]
    org: Option<String>,
    /// RFC 3339 time or date (default: now).
    #[arg(long, value_parser = parse_time_arg)]
    as_of: Option<Time>,
    /// Months the review's projection looks ahead: 0 to 1200 (100 years); --as-of plus the
    /// horizon must end by 2262-04-11 (the last supported time).
    #[arg(long, default_value_t = qm_report::HORIZON_DEFAULT, value_name = "MONTHS",
          value_parser = crate::horizon_arg)]
    horizon: u32,
    /// Only transfers from this donor org in the transfer views.
    #[arg(long)]
    donor: Option<String>,
    /// Only transfers to this recipient org in the transfer views.
    #[arg(long)]
    recipient: Option<String>,
}

pub fn run(g: &Global, args: ReportArgs) -> anyhow::Result<ExitCode> {
    let as_of = args.as_of.unwrap_or_else(now);
    qm_report::forecast::check_range(as_of, args.horizon)?;
    let app = open_reader(g)?;
    let q = ReportQuery {
        org: args.org.as_deref(),
        as_of,
        horizon: args.horizon,
        donor: args.donor.as_deref(),
        recipient: args.recipient.as_deref(),
    };
    let report = app.report(&q)?;
    app.close();
    let written: Vec<PathBuf> = match args.format {
        Format::Html => {
            write_file(&args.out, render::html::page(&report).as_bytes())?;
            vec![args.out.clone()]
        }
        Format::Json => {
            write_file(&args.out, render::json(&report).as_bytes())?;
            vec![args.out.clone()]
        }
        Format::Xlsx => {
            let bytes = render::xlsx::workbook(&report).context("writing the workbook")?;
            write_file(&args.out, &bytes)?;
            vec![args.out.clone()]
        }
        Format::Csv => {
            let dir = &args.out;
            if dir.exists() && !dir.is_dir() {
                anyhow::bail!(
                    "{} is not a directory: --format csv writes a directory of files",
                    dir.display()
                );
            }
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating directory {}", dir.display()))?;
            let mut paths = Vec::new();
            for f in render::csv::files(&report) {
                let path = dir.join(f.name);
                write_file(&path, f.text.as_bytes())?;
                paths.push(path);
            }
            paths
        }
    };
    let mut o = out::stdout();
    for p in written {
        writeln!(o, "wrote {}", p.display())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path` whole or not at all: into a temporary file beside it, synced,
/// then renamed over it.
fn write_file(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    if path.is_dir() {
        anyhow::bail!("{} is a directory: name the file to write", path.display());
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".qm-report-")
        .tempfile_in(dir)
        .with_context(|| format!("writing {}", path.display()))?;
    // A report is for others to read: not the temporary file's owner-only mode.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(0o644))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    tmp.write_all(bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
