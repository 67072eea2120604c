//! The flows of stock under transfers, read from the journal, and the whole report that
//! draws them (`qm report`).
//!
//! The ledger keeps balances and the lines' stage events, not movements, so the flows (how
//! much of each item went from which holder to which under the transfers in view) are
//! tallied from the journal: only the batches that touch those transfers are read (each
//! transfer knows its batches), and their bodies are parsed with `qm_interchange`. When
//! those batches are most of the journal's span it is read in one pass
//! ([`qm_store::Store::read_batches`]), else batch by batch.
//!
//! The state is read-locked only to plan the tally and, after the journal is read, to
//! gather the report, never while the journal is read: a writer is not kept waiting on it.
//! A batch committed in between is not in the flows (it is in the rest of the report).

use qm_core::{Record, Time};
use qm_report::render::{self, FlowEdge, FlowTally, Report, ReportQuery};
use qm_report::TransferFilter;
use qm_store::StoreError;

use crate::{App, AppError, State};

impl State {
    /// Checks that the orgs a transfer filter names exist.
    fn check_filter_orgs(&self, f: &TransferFilter<'_>) -> Result<(), AppError> {
        for org in [f.donor, f.recipient].into_iter().flatten() {
            if self.ledger.org(org).is_none() {
                return Err(AppError::unknown("org", org));
            }
        }
        Ok(())
    }
}

impl App {
    /// The flows of stock by `as_of` under the transfers committed by `as_of` that `filter`
    /// takes in (donor and recipient; item and state are not used), per (item, from holder,
    /// to holder), each holder placed in its stage of the journey. An unknown org is an
    /// error.
    pub fn transfer_flows(
        &self,
        filter: &TransferFilter<'_>,
        as_of: Time,
    ) -> Result<Vec<FlowEdge>, AppError> {
        let tally = {
            let state = self.read()?;
            state.check_filter_orgs(filter)?;
            FlowTally::new(state.ledger(), filter, as_of)
        };
        Ok(self.tally_journal(tally)?.finish())
    }

    /// Everything `qm report` shows: the review of `q.org`, the donor view, its totals and
    /// the flows under the transfers `q.donor` and `q.recipient` take in, the standing
    /// pauses, and the data of the charts. Unknown orgs are errors.
    pub fn report(&self, q: &ReportQuery<'_>) -> Result<Report, AppError> {
        let filter = q.transfer_filter();
        let tally = {
            let state = self.read()?;
            state.check_org(q.org)?;
            state.check_filter_orgs(&filter)?;
            FlowTally::new(state.ledger(), &filter, q.as_of)
        };
        let flows = self.tally_journal(tally)?.finish();
        let state = self.read()?;
        Ok(render::gather(state.ledger(), q, flows))
    }

    /// Feeds the tally every movement of the batches it asks for.
    fn tally_journal(&self, mut tally: FlowTally) -> Result<FlowTally, AppError> {
        let wanted = tally.batches().to_vec();
        let (Some(&first), Some(&last)) = (wanted.first(), wanted.last()) else {
            return Ok(tally);
        };
        let parse = |tally: &mut FlowTally, seq: u64, body: &str| {
            qm_interchange::parse_text_with(&format!("batch {seq}"), body, 1, |_, r| {
                if let Record::Movement(m) = r {
                    tally.add(&m);
                }
            })
            .map_err(|e| AppError::Damaged(e.to_string()))
        };
        let mut store = self.lock_store();
        // Dense (a quarter or more of the span wanted): one pass over the span; sparse: one
        // look-up per batch.
        let span = last - first + 1;
        if wanted.len() as u64 * 4 >= span {
            let mut failure: Option<AppError> = None;
            let mut next = 0;
            // Set when the read is stopped here (with an error the store passes back): on
            // a failure to parse, and once the last wanted batch is in, so that nothing
            // after it is read.
            let mut stopped = false;
            let read = store.read_batches(first - 1, &mut |b| {
                if b.seq == wanted[next] {
                    next += 1;
                    if let Err(e) = parse(&mut tally, b.seq, &b.body) {
                        failure = Some(e);
                    }
                }
                // A wanted batch passed by is missing: stop and say so below.
                if failure.is_some() || next == wanted.len() || b.seq > wanted[next] {
                    stopped = true;
                    return Err(StoreError::Backend("stopped by the flows' reader".into()));
                }
                Ok(())
            });
            if let Some(e) = failure {
                return Err(e);
            }
            if !stopped {
                read.map_err(|e| self.store_err(e))?;
            }
            if next < wanted.len() {
                return Err(AppError::Damaged(format!(
                    "batch {} is missing from the journal",
                    wanted[next]
                )));
            }
        } else {
            for &seq in &wanted {
                let b = store
                    .read_batch(seq)
                    .map_err(|e| self.store_err(e))?
                    .ok_or_else(|| {
                        AppError::Damaged(format!("batch {seq} is missing from the journal"))
                    })?;
                parse(&mut tally, seq, &b.body)?;
            }
        }
        Ok(tally)
    }
}
