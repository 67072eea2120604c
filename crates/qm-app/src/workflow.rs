//! The workflow's queries (`workflow.md`): the donor view per (donor, recipient, item), the
//! list of transfers, one transfer in full with every record that touched it, and the
//! standing pauses with what they hold back. Like every query of [`State`], each checks its
//! references first: a filter naming an org, item or transfer the ledger does not know is an
//! error naming it, never an empty answer.

use qm_core::Time;
use qm_report::transfers::TouchRow;
use qm_report::{PauseRow, SummaryRow, TransferDetail, TransferFilter, TransferRow};

use crate::{App, AppError, State};

impl State {
    fn check_transfer_filter(&self, f: &TransferFilter<'_>) -> Result<(), AppError> {
        for org in [f.donor, f.recipient].into_iter().flatten() {
            if self.ledger.org(org).is_none() {
                return Err(AppError::unknown("org", org));
            }
        }
        if let Some(i) = f.item {
            if self.ledger.item_idx(i).is_none() {
                return Err(AppError::unknown("item", i));
            }
        }
        Ok(())
    }

    /// The donor view as of `as_of`.
    pub fn transfers_summary(
        &self,
        f: &TransferFilter<'_>,
        as_of: Time,
    ) -> Result<Vec<SummaryRow>, AppError> {
        self.check_transfer_filter(f)?;
        Ok(qm_report::transfers_summary(&self.ledger, f, as_of))
    }

    /// The donor view's totals per (donor, category) as of `as_of`.
    pub fn donor_totals(
        &self,
        f: &TransferFilter<'_>,
        as_of: Time,
    ) -> Result<Vec<qm_report::DonorTotal>, AppError> {
        self.check_transfer_filter(f)?;
        Ok(qm_report::donor_totals(&self.ledger, f, as_of))
    }

    /// The transfers committed by `as_of` that the filter takes in.
    pub fn transfers(
        &self,
        f: &TransferFilter<'_>,
        as_of: Time,
    ) -> Result<Vec<TransferRow>, AppError> {
        self.check_transfer_filter(f)?;
        Ok(qm_report::transfers_list(&self.ledger, f, as_of))
    }

    /// The threat model of every item threat reports name, as of `as_of`.
    pub fn threats(&self, as_of: Time, horizon: u32) -> Vec<qm_report::forecast::ThreatModel> {
        qm_report::forecast::threat_models(&self.ledger, as_of, horizon)
    }

    /// The pauses standing at `as_of`.
    pub fn pauses(&self, as_of: Time) -> Result<Vec<PauseRow>, AppError> {
        Ok(qm_report::pauses(&self.ledger, as_of))
    }
}

impl App {
    /// What-if: the review of `org` with the records of `file` evaluated as if applied,
    /// each item carrying its figures without them (`before`). Nothing is stored and the
    /// ledger is left exactly as it was; the proposal is checked like any batch (a rejected
    /// proposal is an error naming its lines).
    pub fn what_if(
        &self,
        file: &str,
        org: Option<&str>,
        as_of: Time,
        opts: &qm_report::ReviewOptions,
    ) -> Result<qm_report::Review, AppError> {
        let parsed = crate::files::read_and_parse(file)?;
        let seqs = {
            let state = self.read()?;
            state.check_org(org)?;
            state.ledger().duplicate_candidates(&parsed.records)
        };
        let originals = {
            let mut store = self.lock_store();
            crate::load_originals(&mut **store, self.backend, &parsed.records, seqs)?
        };
        let mut state = self.shared.write();
        qm_report::what_if(
            &mut state.ledger,
            &parsed.records,
            &originals,
            org,
            as_of,
            opts,
        )
        .map_err(|rejection| AppError::Rejected {
            file: file.to_owned(),
            lines: parsed.lines.clone(),
            rejection,
        })
    }

    /// One transfer in full as of `as_of`, with every record that touched it and when and by
    /// whom each was recorded (read from the journal's batches).
    pub fn transfer_detail(&self, id: &str, as_of: Time) -> Result<TransferDetail, AppError> {
        let mut detail = {
            let state = self.read()?;
            qm_report::transfer_detail(state.ledger(), id, as_of)
                .ok_or_else(|| AppError::unknown("transfer", id))?
        };
        let mut store = self.lock_store();
        for &seq in &detail.batches {
            let b = store
                .read_batch(seq)
                .map_err(|e| self.store_err(e))?
                .ok_or_else(|| {
                    AppError::Damaged(format!("batch {seq} is missing from the journal"))
                })?;
            let records = qm_interchange::parse_text(&format!("batch {seq}"), &b.body, 1)
                .map_err(|e| AppError::Damaged(e.to_string()))?;
            for (_, r) in records {
                let named = r.transfer_named().filter(|n| n.id == id);
                if let Some(named) = named {
                    let rid = r.id().unwrap_or_default();
                    detail.records.push(TouchRow {
                        kind: r.type_name().to_owned(),
                        id: rid.to_owned(),
                        time: Some(named.time),
                        batch: seq,
                        recorded_at: b.recorded_at,
                        recorded_by: b.recorded_by.clone(),
                        within_pauses: detail.pauses_covering(r.type_name(), rid),
                    });
                }
            }
        }
        Ok(detail)
    }
}
