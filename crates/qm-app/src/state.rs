//! The committed state and the handle that shares it: one writer applies, any number of
//! readers (threads of a server, say) query, and no reader ever sees a batch half-applied.
//!
//! [`Shared`] is an `Arc<RwLock<State>>`. The writer ([`crate::App`]) takes the write lock
//! only for what must not be seen half-done: the core's check of a batch (which changes the
//! ledger in place and undoes on rejection) together with the durable commit of that batch,
//! and the replay of each batch written by another process. Parsing, encoding the journal
//! lines and reading the journal happen outside it. Readers take the read lock, so what a
//! reader sees is always the state after some committed batch: the one [`State::head`] names.
//!
//! The queries here check their references first: a filter naming an item, holder, lot or
//! org the ledger has never heard of is an error naming it ([`AppError::Unknown`]), not an
//! empty answer, so a typing mistake is never taken for "we hold none".

use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use qm_core::{BalanceQuery, Ledger, Time};
use qm_store::Head;

use crate::{output, AppError};

/// The ledger at a batch boundary and the batch it is at.
#[derive(Debug, Default)]
pub struct State {
    pub(crate) ledger: Ledger,
    /// The last batch folded into `ledger`.
    pub(crate) head: Head,
    /// Set when the writer could not bring the state back in step with the journal (a
    /// commit failed and the journal could not then be read): the state must not be
    /// queried until the writer's next operation has reloaded it.
    pub(crate) unavailable: bool,
}

impl State {
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The last committed batch this state includes.
    pub fn head(&self) -> Head {
        self.head
    }

    /// Every non-zero balance matching `q`, sorted by holder, item and lot. Unknown holders,
    /// items and lots in the filter are errors.
    pub fn balances(&self, q: &BalanceQuery<'_>) -> Result<Vec<output::Balance<'_>>, AppError> {
        self.check_balance_query(q)?;
        Ok(self
            .ledger
            .balances(q)
            .into_iter()
            .map(output::Balance::from)
            .collect())
    }

    /// Checks that every reference in a balance query is known to the ledger.
    pub fn check_balance_query(&self, q: &BalanceQuery<'_>) -> Result<(), AppError> {
        let ledger = &self.ledger;
        if let Some(h) = q.holder {
            if !ledger.holders().iter().any(|x| x.id == h) {
                return Err(AppError::unknown("holder", h));
            }
        }
        if let Some(i) = q.item {
            if !ledger.items().iter().any(|x| x.code == i) {
                return Err(AppError::unknown("item", i));
            }
        }
        if let Some(lot) = q.lot {
            // A lot is known once a movement has named it (of this item, when one is given).
            // Every stock comes from a source, and a source never receives, so a lot that
            // ever moved leaves a negative balance at a source for good: the lot is known
            // exactly when some balance of it, after every movement, is not zero.
            let ever = BalanceQuery {
                holder: None,
                item: q.item,
                lot: Some(lot),
                as_of: None,
            };
            if ledger.balances(&ever).is_empty() {
                return Err(AppError::Unknown {
                    kind: "lot",
                    id: lot.to_owned(),
                    item: q.item.map(str::to_owned),
                });
            }
        }
        Ok(())
    }

    /// The stockpile review of `org` (every org when `None`) at `as_of`. An unknown org is
    /// an error.
    pub fn review(&self, org: Option<&str>, as_of: Time) -> Result<output::Review, AppError> {
        self.review_report(org, as_of)
    }

    /// The same review as [`State::review`], as the report computes it (for tables).
    pub fn review_report(
        &self,
        org: Option<&str>,
        as_of: Time,
    ) -> Result<qm_report::Review, AppError> {
        self.review_over(org, as_of, qm_report::HORIZON_DEFAULT)
    }

    /// The review projecting `horizon` months ahead.
    pub fn review_over(
        &self,
        org: Option<&str>,
        as_of: Time,
        horizon: u32,
    ) -> Result<qm_report::Review, AppError> {
        self.check_org(org)?;
        Ok(qm_report::review_over(&self.ledger, org, as_of, horizon))
    }

    /// The review as `opts` asks for it.
    pub fn review_with(
        &self,
        org: Option<&str>,
        as_of: Time,
        opts: &qm_report::ReviewOptions,
    ) -> Result<qm_report::Review, AppError> {
        self.check_org(org)?;
        Ok(qm_report::review_with(&self.ledger, org, as_of, opts))
    }

    pub(crate) fn check_org(&self, org: Option<&str>) -> Result<(), AppError> {
        match org {
            Some(o) if self.ledger.org(o).is_none() => Err(AppError::unknown("org", o)),
            _ => Ok(()),
        }
    }
}

/// A handle on the committed state that many threads can hold and query while one writer
/// applies. Cheap to clone; `Send` and `Sync`.
#[derive(Debug, Clone, Default)]
pub struct Shared(Arc<RwLock<State>>);

impl Shared {
    pub(crate) fn new(state: State) -> Shared {
        Shared(Arc::new(RwLock::new(state)))
    }

    /// The state after the last committed batch, held until the guard is dropped (the writer
    /// waits for it before it applies the next batch: keep it briefly).
    ///
    /// Errors with [`AppError::Unavailable`] while the writer cannot bring the state in step
    /// with the journal, or after a writer panicked holding the lock.
    pub fn read(&self) -> Result<RwLockReadGuard<'_, State>, AppError> {
        match self.0.read() {
            Ok(g) if !g.unavailable => Ok(g),
            _ => Err(AppError::Unavailable),
        }
    }

    /// The last committed batch readers see (`Head::default()` while unavailable).
    pub fn head(&self) -> Head {
        self.read().map(|s| s.head).unwrap_or_default()
    }

    /// The head and whether the state is unavailable, for the writer.
    pub(crate) fn status(&self) -> (Head, bool) {
        match self.0.read() {
            Ok(g) => (g.head, g.unavailable),
            Err(_) => (Head::default(), true),
        }
    }

    /// The writer's lock. A lock poisoned by a panic in an earlier writer leaves a state that
    /// may be half-changed: it is marked unavailable, so that the writer reloads it.
    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, State> {
        match self.0.write() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                g.unavailable = true;
                self.0.clear_poison();
                g
            }
        }
    }
}
