//! A run of input files, as `qm apply a b c` makes one: the policy, here so that every edge
//! applies files the same way.
//!
//! - Each file is one atomic batch: all of it, or nothing of it.
//! - A file that cannot be read or parsed, or whose batch the rules refuse, is reported and
//!   the run goes on with the next file.
//! - A storage error (or a damaged history) stops the run: the file it happened on is not
//!   applied and the files after it are not tried ([`AppError::Stopped`]).
//! - A second thread reads and parses the next file while the current one is checked and
//!   committed, so parsing overlaps the commit's I/O wait. At most one parsed file waits.
//!
//! Reading an input is [`read_input`] and parsing it [`parse_text`]: one small function each.

use std::io::Read;

use qm_core::Record;
use qm_interchange::ERRORS_MAX_DEFAULT;

use crate::{App, AppError, Applied};

/// What a run of files did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApplyRun {
    /// Files applied (including those that held nothing new).
    pub applied: usize,
    /// Files of which nothing was applied: unreadable, unparsable or refused.
    pub rejected: usize,
}

/// What became of one file of a run: applied (possibly nothing new), or rejected.
pub type FileOutcome = Result<Applied, AppError>;

/// The records of one input and, for each, the line it came from.
pub(crate) struct Parsed {
    pub records: Vec<Record>,
    pub lines: Vec<u32>,
}

/// Reads one input whole, as bytes (a line that is not UTF-8 is the parser's to report, with
/// its number): a file, or standard input for `-`.
fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut s = Vec::new();
        std::io::stdin().read_to_end(&mut s)?;
        Ok(s)
    } else {
        std::fs::read(file)
    }
}

/// Parses one input's bytes, listing every bad line.
pub(crate) fn parse_bytes(file: &str, bytes: &[u8]) -> Result<Parsed, AppError> {
    let mut parsed = Parsed {
        records: Vec::new(),
        lines: Vec::new(),
    };
    qm_interchange::parse_bytes_with(file, bytes, ERRORS_MAX_DEFAULT, |line, r| {
        parsed.lines.push(line);
        parsed.records.push(r);
    })
    .map_err(AppError::Parse)?;
    Ok(parsed)
}

/// Reads and parses one input.
pub(crate) fn read_and_parse(file: &str) -> Result<Parsed, AppError> {
    let bytes = read_input(file).map_err(|source| AppError::Input {
        file: file.to_owned(),
        source,
    })?;
    parse_bytes(file, &bytes)
}

impl App {
    /// Applies each of `files` (`-`: standard input) as one atomic batch, in order, under
    /// the policy of this module. `report` is called with each file's outcome as soon as it
    /// is known (after its commit, before the next file is checked), so an acknowledgement
    /// it prints is never ahead of the journal; an error from `report` stops the run and is
    /// returned. Returns how many files were applied and how many rejected.
    pub fn apply_files(
        &mut self,
        files: &[String],
        report: &mut dyn FnMut(&str, &FileOutcome) -> Result<(), AppError>,
    ) -> Result<ApplyRun, AppError> {
        std::thread::scope(|scope| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(&str, Result<Parsed, AppError>)>(1);
            scope.spawn(move || {
                for f in files {
                    if tx.send((f, read_and_parse(f))).is_err() {
                        return; // The run stopped.
                    }
                }
            });
            let mut run = ApplyRun::default();
            for (file, parsed) in rx {
                let outcome = parsed.and_then(|p| self.apply_records(file, &p.records, &p.lines));
                match outcome {
                    Err(e) if !e.is_rejected_input() => {
                        return Err(AppError::Stopped {
                            file: file.to_owned(),
                            source: Box::new(e),
                        })
                    }
                    outcome => {
                        match outcome {
                            Ok(_) => run.applied += 1,
                            Err(_) => run.rejected += 1,
                        }
                        report(file, &outcome)?;
                    }
                }
            }
            Ok(run)
        })
    }
}
