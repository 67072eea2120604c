//! The flows of stock under transfers: how much of each item went from which holder to
//! which, over the movements that name a declared transfer, with each holder placed in the
//! stage of the journey it stands for (donor depots, transit, recipient holders, sinks).
//!
//! The ledger keeps balances, not movements, so the movements come from the journal: the
//! caller (the facade) asks a [`FlowTally`] which batches to read
//! ([`FlowTally::batches`]: those holding records that touch the transfers taken in), feeds
//! it every movement of them ([`FlowTally::add`]), and takes the edges ([`FlowTally::finish`]).
//! The tally copies what it needs from the ledger when it is made, so no lock on the ledger
//! is held while the journal is read.

use std::collections::{BTreeMap, HashMap};

use qm_core::{HolderKind, Ledger, Movement, Time};
use serde::Serialize;

use crate::TransferFilter;

/// The stage of a transfer's journey a holder stands for, relative to the transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HolderGroup {
    /// A depot of the transfer's donor, or a source: where the stock starts.
    DonorDepot,
    /// A transit holder (a hub, a convoy), or any other holder on the way that is neither
    /// the recipient's nor a sink.
    Transit,
    /// A holder of the transfer's recipient (not a sink).
    Recipient,
    /// A sink: expended, destroyed, lost.
    Sink,
}

impl HolderGroup {
    pub const ALL: [HolderGroup; 4] = [
        HolderGroup::DonorDepot,
        HolderGroup::Transit,
        HolderGroup::Recipient,
        HolderGroup::Sink,
    ];

    /// The heading of the stage in charts.
    pub fn title(self) -> &'static str {
        match self {
            HolderGroup::DonorDepot => "Donor depots",
            HolderGroup::Transit => "Transit",
            HolderGroup::Recipient => "Recipient holders",
            HolderGroup::Sink => "Sinks",
        }
    }

    /// Where a holder of `kind` and `org` stands in a transfer from `donor` to `recipient`.
    pub fn of(kind: HolderKind, org: &str, donor: &str, recipient: &str) -> HolderGroup {
        match kind {
            HolderKind::Sink => HolderGroup::Sink,
            HolderKind::Source => HolderGroup::DonorDepot,
            HolderKind::Depot if org == donor => HolderGroup::DonorDepot,
            HolderKind::Transit => HolderGroup::Transit,
            _ if org == recipient => HolderGroup::Recipient,
            _ => HolderGroup::Transit,
        }
    }
}

/// What went from one holder to another of one item under the transfers taken in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowEdge {
    pub item: String,
    pub from: String,
    pub from_group: HolderGroup,
    pub to: String,
    pub to_group: HolderGroup,
    pub qty: u128,
}

/// Adds up the movements under the transfers a filter takes in, by (item, from, from's
/// stage, to, to's stage). Self-contained: it borrows nothing from the ledger.
#[derive(Debug, Clone)]
pub struct FlowTally {
    as_of: Time,
    /// The transfers taken in: id -> (donor, recipient).
    transfers: HashMap<String, (String, String)>,
    /// Every holder: id -> (kind, org).
    holders: HashMap<String, (HolderKind, String)>,
    /// The batches holding records that touch the transfers taken in, ascending.
    batches: Vec<u64>,
    edges: BTreeMap<(String, String, HolderGroup, String, HolderGroup), u128>,
}

impl FlowTally {
    /// A tally of the movements by `as_of` under the transfers committed by `as_of` that
    /// `filter` takes in (its donor and recipient; its item and state are not used).
    pub fn new(ledger: &Ledger, filter: &TransferFilter<'_>, as_of: Time) -> FlowTally {
        let mut transfers = HashMap::new();
        let mut batches = Vec::new();
        for s in ledger.transfers() {
            let r = &s.record;
            if r.time > as_of
                || filter.donor.is_some_and(|d| d != r.donor)
                || filter.recipient.is_some_and(|x| x != r.recipient)
            {
                continue;
            }
            transfers.insert(r.id.clone(), (r.donor.clone(), r.recipient.clone()));
            batches.extend_from_slice(&s.batches);
        }
        batches.sort_unstable();
        batches.dedup();
        let holders = ledger
            .holders()
            .iter()
            .map(|h| (h.id.clone(), (h.kind, h.org.clone())))
            .collect();
        FlowTally {
            as_of,
            transfers,
            holders,
            batches,
            edges: BTreeMap::new(),
        }
    }

    /// The journal's batches whose movements the tally needs, ascending.
    pub fn batches(&self) -> &[u64] {
        &self.batches
    }

    /// Counts `m` if it names a transfer taken in and happened by `as_of`; anything else is
    /// ignored, so every record of a batch may be offered.
    pub fn add(&mut self, m: &Movement) {
        let Some(t) = m.transfer.as_deref() else {
            return;
        };
        if m.time > self.as_of {
            return;
        }
        let Some((donor, recipient)) = self.transfers.get(t) else {
            return;
        };
        let group = |id: &str| {
            self.holders
                .get(id)
                .map(|(kind, org)| HolderGroup::of(*kind, org, donor, recipient))
        };
        let (Some(fg), Some(tg)) = (group(&m.from), group(&m.to)) else {
            return;
        };
        *self
            .edges
            .entry((m.item.clone(), m.from.clone(), fg, m.to.clone(), tg))
            .or_default() += m.qty as u128;
    }

    /// The edges, sorted by item, from holder and to holder.
    pub fn finish(self) -> Vec<FlowEdge> {
        self.edges
            .into_iter()
            .map(|((item, from, from_group, to, to_group), qty)| FlowEdge {
                item,
                from,
                from_group,
                to,
                to_group,
                qty,
            })
            .collect()
    }
}
