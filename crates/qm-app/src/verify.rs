//! `qm verify`: proves the stored history is what was committed.
//!
//! 1. The chain: batches numbered 1, 2, 3... with no gap, each naming the hash of the one
//!    before, each hash recomputed from its content.
//! 2. The rules: the whole journal replays into a fresh ledger without a rejection (so every
//!    invariant holds at every batch), each batch adding exactly the records it says.
//! 3. The derived state: the snapshot's checksum holds and it equals, byte for byte, the
//!    replayed state at its batch (one in another program's format, which start-up ignores,
//!    is reported as outdated instead); the analysts' balances (the view: base plus journal tail)
//!    equal the replayed balances; the transfer lines table is exact after the last batch and
//!    equals, line by line, the replayed ledger's figures (a schema from before the table, read
//!    as it is, has none to check).
//!
//! The first failure is reported, naming the batch (and line) where it is.

use std::collections::BTreeMap;
use std::fmt;

use qm_core::{BalanceQuery, Ledger, Originals, Record};
use qm_store::{DerivedState, Hash, Store, StoreError};

/// What a successful verify checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub batches: u64,
    pub records: u64,
    pub movements: u64,
    /// The batch the snapshot was taken at, if there is one.
    pub snapshot_seq: Option<u64>,
    /// The snapshot is in another program's format: start-up ignores it and replays the
    /// journal (`qm snapshot` rewrites it), so it is not compared with the replay.
    pub snapshot_outdated: bool,
    /// How many transfer lines the table holds, each equal to the history's; `None` when the
    /// schema has no such table (an older one, read as it is).
    pub transfer_lines: Option<u64>,
}

/// The first thing found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyFailure {
    /// The first bad batch, when the failure is in one.
    pub batch: Option<u64>,
    pub message: String,
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.batch {
            Some(b) => write!(f, "batch {b}: {}", self.message),
            None => write!(f, "{}", self.message),
        }
    }
}

fn fail<T>(batch: Option<u64>, message: impl Into<String>) -> Result<T, VerifyFailure> {
    Err(VerifyFailure {
        batch,
        message: message.into(),
    })
}

pub fn verify(store: &mut dyn Store) -> Result<VerifyReport, VerifyFailure> {
    let storage = |e: StoreError| VerifyFailure {
        batch: None,
        message: format!("cannot read the store: {e}"),
    };
    let snapshot = store.load_snapshot().map_err(storage)?;
    let mut ledger = Ledger::new();
    let mut prev_hash = Hash::ZERO;
    let mut expected_seq = 1u64;
    let mut records = 0u64;
    let mut failure: Option<VerifyFailure> = None;
    let mut snapshot_image: Option<(Hash, Vec<u8>)> = None;
    let snap_seq = snapshot.as_ref().map(|s| s.seq);
    let read = store.read_batches(0, &mut |b| {
        let check = (|| {
            let here = Some(b.seq);
            if b.seq != expected_seq {
                return fail(
                    Some(expected_seq),
                    format!("missing or out of order: found batch {} instead", b.seq),
                );
            }
            if b.prev_hash != prev_hash {
                return fail(
                    here,
                    "does not chain to the batch before it (its previous-hash differs)",
                );
            }
            if b.expected_hash() != b.hash {
                return fail(
                    here,
                    "content does not match its hash: the batch was altered",
                );
            }
            let name = format!("batch {}", b.seq);
            let parsed = match qm_interchange::parse_text(&name, &b.body, 1) {
                Ok(p) => p,
                Err(e) => return fail(here, format!("unreadable record: {e}")),
            };
            if parsed.len() as u64 != b.records {
                return fail(
                    here,
                    format!("holds {} records but says {}", parsed.len(), b.records),
                );
            }
            let recs: Vec<Record> = parsed.into_iter().map(|(_, r)| r).collect();
            match ledger.apply(&recs, &Originals::default()) {
                Ok(r) if r.new_records.len() == recs.len() => {}
                Ok(_) => return fail(here, "repeats records already in the journal"),
                Err(rej) => {
                    let e = &rej.errors[0];
                    return fail(
                        here,
                        format!(
                            "record {} breaks a rule: field {:?}: {}",
                            e.index + 1,
                            e.field,
                            e.violation
                        ),
                    );
                }
            }
            records += b.records;
            if snap_seq == Some(b.seq) {
                snapshot_image = Some((b.hash, ledger.encode_snapshot()));
            }
            prev_hash = b.hash;
            expected_seq += 1;
            Ok(())
        })();
        if let Err(f) = check {
            failure = Some(f);
            return Err(StoreError::Backend("stop".into()));
        }
        Ok(())
    });
    if let Some(f) = failure {
        return Err(f);
    }
    read.map_err(storage)?;
    let last = expected_seq - 1;

    let head = store.head().map_err(storage)?;
    if head.seq != last || head.hash != prev_hash {
        return fail(
            Some(head.seq),
            "the journal's head is not the end of its chain",
        );
    }
    let anchor = store.anchor().map_err(storage)?;
    if anchor.seq != last || anchor.hash != prev_hash {
        return fail(
            Some(last.min(anchor.seq) + 1),
            format!(
                "the journal ends at batch {last} but the recorded head is batch {}: batches were removed or altered",
                anchor.seq
            ),
        );
    }

    let mut snapshot_outdated = false;
    if let Some(s) = &snapshot {
        if qm_store::snapshot_checksum(s.seq, s.head_hash, &s.bytes) != s.checksum {
            return fail(
                None,
                format!(
                    "the snapshot at batch {} does not match its checksum",
                    s.seq
                ),
            );
        }
        match &snapshot_image {
            None => {
                return fail(
                    None,
                    format!(
                        "the snapshot is at batch {}, which the journal does not hold",
                        s.seq
                    ),
                )
            }
            Some((hash, _)) if *hash != s.head_hash => {
                return fail(Some(s.seq), "the snapshot belongs to a different history")
            }
            Some((_, image))
                if *image != s.bytes && !qm_core::snapshot_format_is_current(&s.bytes) =>
            {
                snapshot_outdated = true;
            }
            Some((_, image)) if *image != s.bytes => {
                return fail(
                    Some(s.seq),
                    "the snapshot differs from the replayed state at its batch",
                )
            }
            Some(_) => {}
        }
    }

    let mut want: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for b in ledger.balances(&BalanceQuery::default()) {
        want.insert(
            (b.holder.into(), b.item.into(), b.lot.unwrap_or("").into()),
            b.qty,
        );
    }
    let mut got: BTreeMap<(String, String, String), i64> = BTreeMap::new();
    for r in store.read_balances().map_err(storage)? {
        got.insert((r.holder, r.item, r.lot), r.qty);
    }
    if want != got {
        let diff = want
            .iter()
            .find(|(k, v)| got.get(*k) != Some(v))
            .map(|(k, v)| {
                format!(
                    "{}/{}/{}: table says {:?}, history says {v}",
                    k.0,
                    k.1,
                    k.2,
                    got.get(k)
                )
            })
            .or_else(|| {
                got.iter()
                    .find(|(k, _)| !want.contains_key(*k))
                    .map(|(k, v)| {
                        format!("{}/{}/{}: table says {v}, history says 0", k.0, k.1, k.2)
                    })
            })
            .unwrap_or_default();
        return fail(
            None,
            format!("the balances table differs from the history: {diff}"),
        );
    }

    let transfer_lines = match store.derived_state().map_err(storage)? {
        DerivedState::Absent => None,
        DerivedState::Stale { at } => {
            return fail(
                Some(at + 1),
                format!(
                    "the transfer lines table holds the lines as of batch {at}, not after batch \
                     {last}: a command that writes (qm snapshot) brings it up to date"
                ),
            )
        }
        DerivedState::Current => {
            let mut want = crate::derived::all(&ledger).transfer_lines;
            want.sort_unstable();
            let got = store.read_transfer_lines().map_err(storage)?;
            if let Some(diff) = crate::derived::first_difference(&want, &got) {
                return fail(
                    None,
                    format!("the transfer lines table differs from the history: {diff}"),
                );
            }
            Some(got.len() as u64)
        }
    };

    Ok(VerifyReport {
        batches: last,
        records,
        movements: ledger.movement_count(),
        snapshot_seq: snap_seq,
        snapshot_outdated,
        transfer_lines,
    })
}
