//! Inventory records: a monitor's count at a holder on a date (serials seen, quantities
//! counted). An inventory never changes a balance; the ledger checks its references and keeps
//! it, and end-use reports compare it with the ledger.

use super::master::{HolderIdx, Master, OrgIdx};
use super::{known, Declared, Outcome, Registry};
use crate::codec::{enc_struct, Enc, R, W};
use crate::limits::QTY_MAX;
use crate::rejection::Violation;
use crate::{Inventory, InventoryCount, SnapshotError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InventoryState {
    pub record: Inventory,
    pub holder: HolderIdx,
    pub by: OrgIdx,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Inventories {
    pub(crate) list: Registry<InventoryState>,
}

impl Inventories {
    pub(crate) fn begin(&mut self) {
        self.list.begin();
    }

    pub(crate) fn rollback(&mut self) {
        self.list.rollback(|i| &i.record.id);
    }

    pub(crate) fn declare(&mut self, master: &Master, i: &Inventory) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "inventory",
            &i.id,
            self.list.get_record(&i.id, |s| &s.record),
            i,
        ) {
            return d;
        }
        let holder = master.need_holder("holder", &i.holder)?;
        let by = master.need_org("by", &i.by)?;
        for c in i.counts.iter().flatten() {
            master.need_item("counts", &c.item)?;
            if c.qty > QTY_MAX {
                return Err(("counts", Violation::QtyTooLarge { qty: c.qty }));
            }
        }
        self.list.push(
            &i.id,
            InventoryState {
                record: i.clone(),
                holder,
                by,
            },
        );
        Ok(Declared::New)
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.list.list.enc(w);
    }

    pub(crate) fn decode(r: &mut R<'_>, master: &Master) -> Result<Inventories, SnapshotError> {
        let mut out = Inventories::default();
        for i in Vec::<InventoryState>::dec(r)? {
            if i.holder as usize >= master.holders.len()
                || i.by as usize >= master.orgs.len()
                || out.list.get(&i.record.id).is_some()
            {
                return r.err("bad inventory");
            }
            let id = i.record.id.clone();
            out.list.push(&id, i);
        }
        Ok(out)
    }
}

enc_struct!(InventoryCount { item, qty, lot });
enc_struct!(Inventory {
    id,
    time,
    holder,
    by,
    serials_seen,
    counts
});
enc_struct!(InventoryState { record, holder, by });
