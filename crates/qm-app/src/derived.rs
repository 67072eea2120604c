//! The analysts' tables derived from the ledger rather than from the journal's text: every
//! transfer line's figures (`transfer_lines`), which no SQL over the journal can compute
//! honestly (a cancellation without a quantity cancels the remainder as it stood, releases
//! are newest first, dispatch and delivery depend on the holders' orgs).
//!
//! The store writes them in the transaction of each commit: the lines of the transfers the
//! batch touched ([`touched`]), so the table is exact after every commit and a batch of plain
//! movements writes nothing. When the store says the table lags behind the journal (an
//! upgraded ledger, a copy made by `migrate`, a batch of an older writer), the first writer to
//! open it rewrites it whole ([`refresh`]), as every snapshot does ([`rewrite`]: `qm snapshot`
//! also repairs a table changed behind Quartermaster's back); `verify` compares it with
//! [`all`] of the replayed ledger.

use qm_core::{Ledger, Record, TransferState};
use qm_store::{Derived, DerivedState, Head, Store, TransferLineRow};

use crate::{AppError, State};

/// The lines, after the batch, of every transfer batch `seq` touched: those its new records
/// (`new`, indexes into `records`) name whose last batch is `seq` (a movement's `transfer`
/// may be a plain label, which names no transfer). Costs a look-up per distinct transfer the
/// batch names, and nothing for a batch of plain movements.
pub(crate) fn touched(ledger: &Ledger, records: &[Record], new: &[usize], seq: u64) -> Derived {
    let mut names: Vec<&str> = new
        .iter()
        .filter_map(|&i| records[i].transfer_named())
        .filter(|n| n.changes_figures)
        .map(|n| n.id)
        .collect();
    names.sort_unstable();
    names.dedup();
    let mut out = Derived::default();
    for id in names {
        if let Some(t) = ledger
            .transfer(id)
            .filter(|t| t.batches.last() == Some(&seq))
        {
            lines_of(ledger, t, &mut out.transfer_lines);
        }
    }
    // The core notes every batch that touches a transfer: none is missed by the names.
    debug_assert_eq!(
        out.transfer_lines.len(),
        ledger
            .transfers()
            .iter()
            .filter(|t| t.batches.last() == Some(&seq))
            .map(|t| t.lines.len())
            .sum::<usize>(),
        "the transfers batch {seq} touched are the ones its records name"
    );
    out
}

/// Every line of every transfer: the whole table.
pub(crate) fn all(ledger: &Ledger) -> Derived {
    let mut out = Derived::default();
    for t in ledger.transfers() {
        lines_of(ledger, t, &mut out.transfer_lines);
    }
    out
}

/// A quantity as the table holds it. Each record's quantity is at most 2^53 - 1; a sum that
/// does not fit an i64 (the ledger's own saturate at u64::MAX) saturates there.
fn qty(q: u64) -> i64 {
    i64::try_from(q).unwrap_or(i64::MAX)
}

/// The rows of a transfer's lines, with their figures after everything.
fn lines_of(ledger: &Ledger, t: &TransferState, out: &mut Vec<TransferLineRow>) {
    let donor = &ledger.orgs()[t.donor as usize].id;
    let recipient = &ledger.orgs()[t.recipient as usize].id;
    for line in &t.lines {
        let f = line.figures(t.record.time, None);
        out.push(TransferLineRow {
            transfer: t.record.id.clone(),
            item: ledger.items()[line.item as usize].code.clone(),
            donor: donor.clone(),
            recipient: recipient.clone(),
            line_qty: qty(line.qty),
            committed: qty(f.committed),
            cancelled: qty(f.cancelled),
            allocated: qty(f.allocated),
            dispatched: qty(f.dispatched),
            delivered: qty(f.delivered),
            in_transit: qty(f.in_transit),
        });
    }
}

/// Rewrites the derived tables whole ([`rewrite`]) when the store says they lag behind the
/// journal. Nothing for a store that only reads, or when they are exact.
pub(crate) fn refresh(store: &mut dyn Store, state: &mut State) -> Result<(), AppError> {
    if !store.mode().writes() {
        return Ok(());
    }
    let backend = store.backend();
    match store.derived_state() {
        Ok(DerivedState::Stale { .. }) => rewrite(store, state),
        Ok(DerivedState::Current | DerivedState::Absent) => Ok(()),
        Err(source) => Err(AppError::Store { backend, source }),
    }
}

/// Rewrites the derived tables whole under the write lock, from `state` caught up with the
/// journal first (another writer may have appended since it was read).
pub(crate) fn rewrite(store: &mut dyn Store, state: &mut State) -> Result<(), AppError> {
    let backend = store.backend();
    let store_err = |source| AppError::Store { backend, source };
    let head = store.begin_append().map_err(store_err)?;
    let done = (|| {
        if head.seq < state.head.seq {
            return Err(AppError::Damaged(format!(
                "the journal ends at batch {} but this process has read up to batch {}",
                head.seq, state.head.seq
            )));
        }
        crate::read_tail(store, state.head.seq, &mut |b| {
            crate::replay_batch(&mut state.ledger, state.head, b)?;
            state.head = Head {
                seq: b.seq,
                hash: b.hash,
            };
            Ok(())
        })?;
        store.commit_derived(&all(&state.ledger)).map_err(store_err)
    })();
    if done.is_err() {
        // A failed commit has released the lock already; anything else has not.
        let _ = store.abort_append();
    }
    done
}

/// The first difference between the table (`got`) and the history (`want`), both sorted by
/// (transfer, item), naming the line.
pub(crate) fn first_difference(
    want: &[TransferLineRow],
    got: &[TransferLineRow],
) -> Option<String> {
    fn key(r: &TransferLineRow) -> (&str, &str) {
        (&r.transfer, &r.item)
    }
    let name = |r: &TransferLineRow| format!("transfer {:?}, item {:?}", r.transfer, r.item);
    let (mut w, mut g) = (want.iter().peekable(), got.iter().peekable());
    loop {
        match (w.peek(), g.peek()) {
            (None, None) => return None,
            (Some(a), None) => return Some(format!("{}: missing from the table", name(a))),
            (None, Some(b)) => return Some(format!("{}: not in the history", name(b))),
            (Some(a), Some(b)) if key(a) < key(b) => {
                return Some(format!("{}: missing from the table", name(a)))
            }
            (Some(a), Some(b)) if key(a) > key(b) => {
                return Some(format!("{}: not in the history", name(b)))
            }
            (Some(a), Some(b)) => {
                if let Some(field) = field_difference(a, b) {
                    return Some(format!("{}: {field}", name(a)));
                }
                w.next();
                g.next();
            }
        }
    }
}

/// The first field in which the table's row `got` differs from the history's `want`.
fn field_difference(want: &TransferLineRow, got: &TransferLineRow) -> Option<String> {
    let texts = [
        ("donor", &want.donor, &got.donor),
        ("recipient", &want.recipient, &got.recipient),
    ];
    if let Some((field, w, g)) = texts.into_iter().find(|(_, w, g)| w != g) {
        return Some(format!("{field}: table says {g:?}, history says {w:?}"));
    }
    let figures = [
        ("line_qty", want.line_qty, got.line_qty),
        ("committed", want.committed, got.committed),
        ("cancelled", want.cancelled, got.cancelled),
        ("allocated", want.allocated, got.allocated),
        ("dispatched", want.dispatched, got.dispatched),
        ("delivered", want.delivered, got.delivered),
        ("in_transit", want.in_transit, got.in_transit),
    ];
    figures
        .into_iter()
        .find(|(_, w, g)| w != g)
        .map(|(field, w, g)| format!("{field}: table says {g}, history says {w}"))
}
