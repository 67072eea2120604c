//! Pauses: scoped stops on approvals and dispatches, and the resumptions that end them.
//!
//! A pause matches a (transfer, item) when every scope field it names matches (the item is in
//! `items`, its category in `categories`, the transfer's donor is `donor`, its recipient is
//! `recipient`, its id is `transfer`). It stands from its time until the time of the resume
//! naming it. A pause recorded late does not undo records accepted before it was recorded:
//! only records applied while it is in the ledger are refused.

use super::master::{ItemIdx, Master, OrgIdx};
use super::transfers::{TransferIdx, TransferState, Transfers};
use super::{known, Declared, Outcome, Registry};
use crate::codec::{enc_struct, Enc, R, W};
use crate::rejection::Violation;
use crate::{Pause, Resume, SnapshotError, Time};
use hashbrown::HashMap;

/// A pause as the ledger holds it: the record and its scope resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PauseState {
    pub record: Pause,
    pub items: Option<Vec<ItemIdx>>,
    pub donor: Option<OrgIdx>,
    pub recipient: Option<OrgIdx>,
    pub transfer: Option<TransferIdx>,
    /// The resumption that ends it, by index in the resumptions.
    pub resumed_by: Option<u32>,
}

/// A resumption and the pause it ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeState {
    pub record: Resume,
    pub pause: u32,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Pauses {
    pub(crate) list: Registry<PauseState>,
    pub(crate) resumes: Registry<ResumeState>,
    /// Pauses whose `resumed_by` the batch set.
    undo: Vec<u32>,
    /// The pauses filed by scope, so that a check looks at the pauses that can match, not
    /// at every pause (derived: rebuilt when a snapshot is read).
    index: ScopeIndex,
}

/// Pause indices filed under one field of each pause's scope: the transfer if it names one,
/// else each of its items, else each of its categories, else its recipient, else its donor.
/// A pause matches only when every field it names matches, so the buckets of a (transfer,
/// item)'s own transfer, item, category, recipient and donor hold every pause that can match
/// it. Each bucket lists its pauses in recording order.
#[derive(Debug, Clone, Default)]
struct ScopeIndex {
    by_transfer: HashMap<TransferIdx, Vec<u32>>,
    by_item: HashMap<ItemIdx, Vec<u32>>,
    by_category: HashMap<Box<str>, Vec<u32>>,
    by_recipient: HashMap<OrgIdx, Vec<u32>>,
    by_donor: HashMap<OrgIdx, Vec<u32>>,
}

impl ScopeIndex {
    /// Calls `f` on each bucket pause `p` is filed in.
    fn buckets(&mut self, p: &PauseState, mut f: impl FnMut(&mut Vec<u32>)) {
        if let Some(t) = p.transfer {
            f(self.by_transfer.entry(t).or_default());
        } else if let Some(items) = &p.items {
            for &i in items {
                f(self.by_item.entry(i).or_default());
            }
        } else if let Some(categories) = &p.record.categories {
            for c in categories {
                f(self.by_category.entry_ref(c.as_str()).or_default());
            }
        } else if let Some(r) = p.recipient {
            f(self.by_recipient.entry(r).or_default());
        } else if let Some(d) = p.donor {
            f(self.by_donor.entry(d).or_default());
        }
    }

    fn file(&mut self, i: u32, p: &PauseState) {
        self.buckets(p, |b| b.push(i));
    }

    /// Takes out pause `i`, the last one filed.
    fn unfile(&mut self, i: u32, p: &PauseState) {
        self.buckets(p, |b| {
            let last = b.pop();
            debug_assert_eq!(last, Some(i), "pauses are taken out newest first");
        });
    }
}

impl Pauses {
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
        self.list.begin();
        self.resumes.begin();
    }

    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    pub(crate) fn rollback(&mut self) {
        for p in std::mem::take(&mut self.undo) {
            if let Some(p) = self.list.list.get_mut(p as usize) {
                p.resumed_by = None;
            }
        }
        let mark = self.list.mark();
        for (i, p) in self.list.list.iter().enumerate().skip(mark).rev() {
            self.index.unfile(i as u32, p);
        }
        self.list.rollback(|p| &p.record.id);
        self.resumes.rollback(|r| &r.record.id);
    }

    /// How many pauses are recorded so far (the index the next one gets).
    pub(crate) fn recorded(&self) -> u32 {
        self.list.list.len() as u32
    }

    /// When the pause stops standing (`None`: it stands for ever, so far).
    pub(crate) fn until(&self, p: &PauseState) -> Option<Time> {
        p.resumed_by
            .map(|r| self.resumes.list[r as usize].record.time)
    }

    /// Whether the pause stands at `t`.
    pub(crate) fn stands_at(&self, p: &PauseState, t: Time) -> bool {
        p.record.time <= t && self.until(p).is_none_or(|u| t < u)
    }

    /// Whether the pause's scope takes in `item` of transfer `state`.
    pub(crate) fn in_scope(
        master: &Master,
        p: &PauseState,
        state: &TransferState,
        t: TransferIdx,
        item: ItemIdx,
    ) -> bool {
        let category = &master.item(item).category;
        p.items.as_ref().is_none_or(|items| items.contains(&item))
            && p.record
                .categories
                .as_ref()
                .is_none_or(|cs| cs.iter().any(|c| c == category))
            && p.donor.is_none_or(|d| d == state.donor)
            && p.recipient.is_none_or(|r| r == state.recipient)
            && p.transfer.is_none_or(|x| x == t)
    }

    /// The refusal for a record about `item` of transfer `state` at `time`, when a pause in
    /// scope, recorded before it, stands then (the earliest-recorded such pause).
    pub(crate) fn matching(
        &self,
        master: &Master,
        state: &TransferState,
        t: TransferIdx,
        item: ItemIdx,
        time: Time,
    ) -> Option<Violation> {
        let ix = &self.index;
        let category = master.item(item).category.as_str();
        let earliest_match = |bucket: Option<&Vec<u32>>| {
            bucket?.iter().copied().find(|&i| {
                let p = &self.list.list[i as usize];
                self.stands_at(p, time) && Self::in_scope(master, p, state, t, item)
            })
        };
        [
            earliest_match(ix.by_transfer.get(&t)),
            earliest_match(ix.by_item.get(&item)),
            earliest_match(ix.by_category.get(category)),
            earliest_match(ix.by_recipient.get(&state.recipient)),
            earliest_match(ix.by_donor.get(&state.donor)),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|i| &self.list.list[i as usize])
        .map(|p| Violation::Paused {
            pause: p.record.id.clone(),
            reason: p.record.reason.clone(),
            since: p.record.time,
            review_by: p.record.review_by,
            at: time,
        })
    }

    pub(crate) fn declare_pause(
        &mut self,
        master: &Master,
        transfers: &Transfers,
        p: &Pause,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "pause",
            &p.id,
            self.list.get_record(&p.id, |s| &s.record),
            p,
        ) {
            return d;
        }
        let items = match &p.items {
            None => None,
            Some(codes) => {
                let mut v = Vec::with_capacity(codes.len());
                for c in codes {
                    v.push(master.need_item("items", c)?);
                }
                Some(v)
            }
        };
        if let Some(c) = p
            .categories
            .iter()
            .flatten()
            .find(|c| !master.categories.contains_key(c.as_str()))
        {
            return Err((
                "categories",
                Violation::UnknownCategory {
                    category: c.clone(),
                },
            ));
        }
        let donor = p
            .donor
            .as_deref()
            .map(|d| master.need_org("donor", d))
            .transpose()?;
        let recipient = p
            .recipient
            .as_deref()
            .map(|r| master.need_org("recipient", r))
            .transpose()?;
        let transfer = match p.transfer.as_deref() {
            None => None,
            Some(id) => Some(transfers.find(id).ok_or_else(|| {
                (
                    "transfer",
                    Violation::UnknownTransfer {
                        transfer: id.to_owned(),
                    },
                )
            })?),
        };
        if items.is_none()
            && p.categories.is_none()
            && donor.is_none()
            && recipient.is_none()
            && transfer.is_none()
        {
            return Err(("items", Violation::PauseWithoutScope));
        }
        let state = PauseState {
            record: p.clone(),
            items,
            donor,
            recipient,
            transfer,
            resumed_by: None,
        };
        self.index.file(self.recorded(), &state);
        self.list.push(&p.id, state);
        Ok(Declared::New)
    }

    pub(crate) fn declare_resume(&mut self, r: &Resume) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "resume",
            &r.id,
            self.resumes.get_record(&r.id, |s| &s.record),
            r,
        ) {
            return d;
        }
        let Some(p) = self.list.get(&r.pause) else {
            return Err((
                "pause",
                Violation::UnknownPause {
                    pause: r.pause.clone(),
                },
            ));
        };
        let pause = &self.list.list[p as usize];
        if r.time < pause.record.time {
            return Err((
                "time",
                Violation::ResumeBeforePause {
                    pause: r.pause.clone(),
                    since: pause.record.time,
                },
            ));
        }
        if let Some(other) = pause.resumed_by {
            let other = &self.resumes.list[other as usize].record;
            return Err((
                "pause",
                Violation::AlreadyResumed {
                    pause: r.pause.clone(),
                    resume: other.id.clone(),
                    at: other.time,
                },
            ));
        }
        let i = self.resumes.push(
            &r.id,
            ResumeState {
                record: r.clone(),
                pause: p,
            },
        );
        self.list.list[p as usize].resumed_by = Some(i);
        self.undo.push(p);
        Ok(Declared::New)
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.list.list.enc(w);
        self.resumes.list.enc(w);
    }

    pub(crate) fn decode(
        r: &mut R<'_>,
        master: &Master,
        transfers: &Transfers,
    ) -> Result<Pauses, SnapshotError> {
        let mut out = Pauses::default();
        for p in Vec::<PauseState>::dec(r)? {
            let bad = p.donor.is_some_and(|o| o as usize >= master.orgs.len())
                || p.recipient.is_some_and(|o| o as usize >= master.orgs.len())
                || p.transfer
                    .is_some_and(|t| t as usize >= transfers.list.list.len())
                || p.items
                    .iter()
                    .flatten()
                    .any(|&i| i as usize >= master.items.len());
            if bad || out.list.get(&p.record.id).is_some() {
                return r.err("bad pause");
            }
            let id = p.record.id.clone();
            out.index.file(out.recorded(), &p);
            out.list.push(&id, p);
        }
        for x in Vec::<ResumeState>::dec(r)? {
            if x.pause as usize >= out.list.list.len() || out.resumes.get(&x.record.id).is_some() {
                return r.err("bad resumption");
            }
            let id = x.record.id.clone();
            out.resumes.push(&id, x);
        }
        if out.list.list.iter().any(|p| {
            p.resumed_by
                .is_some_and(|x| x as usize >= out.resumes.list.len())
        }) {
            return r.err("pause resumed by an unknown resumption");
        }
        Ok(out)
    }
}

enc_struct!(Pause {
    id,
    time,
    reason,
    by,
    items,
    categories,
    donor,
    recipient,
    transfer,
    review_by
});
enc_struct!(Resume {
    id,
    time,
    pause,
    reason,
    by
});
enc_struct!(PauseState {
    record,
    items,
    donor,
    recipient,
    transfer,
    resumed_by
});
enc_struct!(ResumeState { record, pause });
