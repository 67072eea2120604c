//! `qm demo`: builds the realistic scenario of `qm-sim` into a fresh database, batch by batch
//! through the same path as `qm apply`, then prints the stockpile review per donor and a
//! few commands to try next (each one line, working as pasted). Also the review's table,
//! which `qm review` prints too.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use indicatif::{ProgressBar, ProgressStyle};
use qm_app::{App, AppError};
use qm_core::{Ledger, Record, Tracking};
use qm_report::Review;
use qm_sim::{realistic, ScenarioConfig};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

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

pub fn run(g: &crate::Global, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let db = g.db.as_str();
    if let qm_app::DbSpec::Sqlite(path) = qm_app::DbSpec::parse(db) {
        if path.exists() {
            // Only ever delete a regular file: `--db /dev/null demo --force` must not remove
            // a device, nor a directory.
            if !std::fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
                return Err(AppError::NoLedger(format!(
                    "{} is not a regular file: it cannot hold a ledger",
                    path.display()
                ))
                .into());
            }
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
    let mut app = crate::open_app(g)?;
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
    let movements = app.read()?.ledger().movement_count();
    // The mid-2025 story, on top of the movements: each step one batch, through `qm apply`'s
    // path; the refusals are part of it.
    let steps = {
        let state = app.read()?;
        qm_sim::story::mid_2025(state.ledger())
    };
    let mut told = Vec::new();
    for step in steps.iter().flatten() {
        let lines: Vec<u32> = (1..=step.records.len() as u32).collect();
        match (
            app.apply_records("story", &step.records, &lines),
            step.refused,
        ) {
            (Ok(_), false) => told.push(format!("  ok       {}", step.title)),
            (Err(AppError::Rejected { rejection, .. }), true) => {
                told.push(format!("  REFUSED  {}", step.title));
                for e in &rejection.errors {
                    told.push(format!("           {}", e.violation));
                }
            }
            (Ok(_), true) => bail!(
                "the story's step was accepted, but must be refused: {}",
                step.title
            ),
            (Err(e), _) => return Err(anyhow::Error::from(e).context(step.title.clone())),
        }
    }
    app.snapshot()?;
    let state = app.read()?;
    let ledger = state.ledger();
    let at = ledger
        .keys()
        .filter_map(|k| k.timeline.last_time())
        .max()
        .unwrap_or(0);
    let mut out = crate::out::buffered();
    let reviews: Vec<Review> = scenario
        .donor_orgs()
        .map(|o| state.review_report(Some(&o.id), at))
        .collect::<Result<_, _>>()?;
    if args.json {
        let json = &reviews;
        serde_json::to_writer(&mut out, &json)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    writeln!(
        out,
        "Recorded {} movements in {} batches in {:.1} s ({} movements/s) into {db}",
        group(movements as i64),
        group(state.head().seq as i64),
        elapsed.as_secs_f64(),
        group((movements as f64 / elapsed.as_secs_f64().max(1e-9)).round() as i64)
    )?;
    writeln!(out)?;
    for r in &reviews {
        out.write_all(review_table(ledger, r).as_bytes())?;
        writeln!(out)?;
    }
    if !told.is_empty() {
        writeln!(out, "The mid-2025 pause, recorded on top of the movements:")?;
        for line in &told {
            writeln!(out, "{line}")?;
        }
        writeln!(out)?;
        writeln!(
            out,
            "What the standing pause holds back, as of {}:",
            qm_core::format_time_plain(at)
        )?;
        let pauses = state.pauses(at)?;
        out.write_all(crate::tables::pauses(&pauses).as_bytes())?;
        writeln!(out)?;
    }
    let qm = format!("{} --db {}", shell_word(&program()), shell_word(db));
    let org = reviews.first().and_then(|r| r.org.clone());
    writeln!(out, "Try:")?;
    if let Some(item) = example_item(ledger, reviews.first()) {
        writeln!(out, "  {qm} balance --item {} --json", shell_word(&item))?;
    }
    if let Some(org) = org {
        writeln!(out, "  {qm} review --org {}", shell_word(&org))?;
    }
    if !told.is_empty() {
        writeln!(out, "  {qm} pauses")?;
        writeln!(out, "  {qm} transfer show {}", qm_sim::story::TRANSFER)?;
        writeln!(out, "  {qm} transfers --summary")?;
        writeln!(
            out,
            "  {qm} threats --as-of {}",
            qm_core::format_time_plain(at)
        )?;
    }
    writeln!(out, "  {qm} verify")?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn apply(app: &mut App, records: &[Record]) -> anyhow::Result<()> {
    let lines: Vec<u32> = (1..=records.len() as u32).collect();
    app.apply_records("demo", records, &lines)?;
    Ok(())
}

/// An item worth asking about: one the first donor holds, serial-tracked if it has one.
fn example_item(ledger: &Ledger, review: Option<&Review>) -> Option<String> {
    let held: Vec<&str> = review?
        .items
        .iter()
        .filter(|i| i.on_hand > 0)
        .map(|i| i.item.as_str())
        .collect();
    let serial = held.iter().find(|code| {
        ledger
            .items()
            .iter()
            .any(|it| it.code == **code && it.tracking == Tracking::Serial)
    });
    serial.or(held.first()).map(|c| c.to_string())
}

/// How to run this very `qm` from the current directory: `qm` when that is what a shell
/// finds on PATH, else the path of this executable (relative when it lies below here).
fn program() -> String {
    let Ok(exe) = std::env::current_exe() else {
        return "qm".into();
    };
    let exe = exe.canonicalize().unwrap_or(exe);
    if let Some(path) = std::env::var_os("PATH") {
        let first = std::env::split_paths(&path)
            .map(|d| d.join("qm"))
            .find(|c| c.is_file());
        if first.and_then(|c| c.canonicalize().ok()).as_ref() == Some(&exe) {
            return "qm".into();
        }
    }
    if let Some(rel) = std::env::current_dir()
        .and_then(|d| d.canonicalize())
        .ok()
        .and_then(|cwd| exe.strip_prefix(cwd).ok().map(|r| r.to_path_buf()))
    {
        return rel.display().to_string();
    }
    exe.display().to_string()
}

/// `s` as one word of a POSIX shell command line: as it is when nothing in it is special,
/// else in single quotes.
fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// `1234567` as `1,234,567`.
pub fn group(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
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

/// `s` in exactly `width` terminal columns: padded with spaces, or cut on a character
/// boundary and ended with `…` when it is wider.
pub fn fit(s: &str, width: usize) -> String {
    let w = s.width();
    if w <= width {
        return format!("{s}{}", " ".repeat(width - w));
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in s.chars() {
        let cw = c.width().unwrap_or(0);
        if used + cw > width.saturating_sub(1) {
            break;
        }
        cut.push(c);
        used += cw;
    }
    let cut = cut.trim_end();
    let used = cut.width();
    format!("{cut}…{}", " ".repeat(width.saturating_sub(used + 1)))
}

/// Width of the NAME column of the review table.
const NAME_WIDTH: usize = 34;
/// How much deeper a depot line is indented than its item's line.
const DEPOT_INDENT: usize = 4;

/// The review as a table: one line per item, then its stock per depot, each depot's quantity
/// under ON HAND.
pub fn review_table(ledger: &Ledger, r: &Review) -> String {
    let mut time = String::new();
    qm_interchange::format_time(r.as_of, &mut time);
    let who = match &r.org {
        Some(o) => ledger
            .org(o)
            .map_or(o.clone(), |x| format!("{} ({o})", x.name)),
        None => "all orgs".into(),
    };
    let names: std::collections::HashMap<&str, &str> = ledger
        .holders()
        .iter()
        .map(|h| (h.id.as_str(), h.name.as_str()))
        .collect();
    let rows: Vec<_> = r
        .items
        .iter()
        .filter(|i| i.on_hand != 0 || i.floor != 0 || i.in_transit != 0 || i.earmarked != 0)
        .collect();
    let code_w = rows
        .iter()
        .map(|i| i.item.width())
        .chain(["ITEM".len(), 16])
        .max()
        .unwrap_or(16);
    let num_w = rows
        .iter()
        .flat_map(|i| {
            [
                i.on_hand,
                i.floor,
                i.headroom,
                i.earmarked,
                i.available,
                i.in_transit,
                i.production,
                i.consumption,
            ]
            .into_iter()
            .chain(i.depots.iter().flatten().map(|d| d.qty))
        })
        .map(|n| group(n).len())
        .chain([12])
        .max()
        .unwrap_or(12);
    // A depot line: its name where the item's code and name are, its quantity under ON HAND.
    let depot_w = code_w + 1 + NAME_WIDTH - DEPOT_INDENT;
    let mut s = format!(
        "Stockpile review: {who}, as of {time}; production and consumption over {} months\n",
        r.horizon
    );
    s += &format!(
        "  {} {} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>6} {:>7}  {}\n",
        fit("ITEM", code_w),
        fit("NAME", NAME_WIDTH),
        "ON HAND",
        "FLOOR",
        "HEADROOM",
        "EARMARKED",
        "AVAILABLE",
        "IN TRANSIT",
        "PRODUCTION",
        "CONSUMPTION",
        "COVER",
        "BREACH",
        "STATUS"
    );
    for i in rows {
        let status = if i.floor == 0 {
            "no floor"
        } else if i.headroom < 0 {
            "BELOW FLOOR"
        } else if i.available < i.floor {
            "EARMARKED BELOW FLOOR"
        } else if i.first_breach.is_some() {
            "breach ahead"
        } else {
            "ok"
        };
        s += &format!(
            "  {} {} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>num_w$} {:>6} {:>7}  {}\n",
            fit(&i.item, code_w),
            fit(&i.name, NAME_WIDTH),
            group(i.on_hand),
            group(i.floor),
            group(i.headroom),
            group(i.earmarked),
            group(i.available),
            group(i.in_transit),
            group(i.production),
            group(i.consumption),
            i.months_of_cover.map_or("-".into(), |m| format!("{m} mo")),
            i.first_breach.as_deref().unwrap_or("-"),
            status
        );
        if let Some(b) = &i.before {
            s += &format!(
                "  {}without the proposal: available {}, cover {}, breach {}\n",
                " ".repeat(DEPOT_INDENT),
                group(b.available),
                b.months_of_cover.map_or("-".into(), |m| format!("{m} mo")),
                b.first_breach.as_deref().unwrap_or("-")
            );
        }
        for d in i.depots.iter().flatten() {
            let name = names.get(d.holder.as_str()).copied().unwrap_or(&d.holder);
            s += &format!(
                "  {}{} {:>num_w$}\n",
                " ".repeat(DEPOT_INDENT),
                fit(name, depot_w),
                group(d.qty)
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_pads_or_cuts_on_a_character_boundary_with_an_ellipsis() {
        assert_eq!(fit("abc", 5), "abc  ");
        assert_eq!(fit("abcdef", 5), "abcd…");
        assert_eq!(fit("ab def", 5), "ab d…");
        // A space before the cut is not kept before the ellipsis.
        assert_eq!(fit("abc defgh", 5), "abc… ");
        assert_eq!(fit("Ракета «Бук»", 8), "Ракета… ");
        // Wide characters take two columns; a cut never splits one.
        assert_eq!(fit("日本語の名前", 6), "日本… ");
        assert_eq!(fit("日本語の名前", 6).width(), 6);
    }

    #[test]
    fn shell_words_are_quoted_only_when_needed() {
        assert_eq!(shell_word("demo.db"), "demo.db");
        assert_eq!(shell_word("/tmp/a b.db"), "'/tmp/a b.db'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(
            shell_word("postgres://u@h:5432/qm"),
            "postgres://u@h:5432/qm"
        );
    }

    #[test]
    fn numbers_are_grouped_in_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1_000_000), "1,000,000");
        assert_eq!(group(-12_345), "-12,345");
    }
}
