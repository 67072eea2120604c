//! Master data: orgs, holders and items, declared once and never changed under recorded
//! history (an identical re-declaration is a no-op, a different one is refused naming the
//! field). Append-only, so a rejected batch rolls back by truncating to the lengths it
//! started with.

use hashbrown::HashMap;

use super::{Declared, Outcome};
use crate::codec::{Enc, R, W};
use crate::rejection::Violation;
use crate::{FirstDifference, Holder, HolderKind, Item, Org, SnapshotError};

/// Index of an org in [`Master::orgs`].
pub type OrgIdx = u32;
/// Index of a holder in [`Master::holders`].
pub type HolderIdx = u32;
/// Index of an item in [`Master::items`].
pub type ItemIdx = u32;

#[derive(Debug, Clone, Default)]
pub(crate) struct Master {
    pub(crate) orgs: Vec<Org>,
    pub(crate) org_index: HashMap<Box<str>, OrgIdx>,
    pub(crate) holders: Vec<Holder>,
    pub(crate) holder_index: HashMap<Box<str>, HolderIdx>,
    /// The org of each holder, by holder index: the hot path's way to a holder's owner.
    pub(crate) holder_org: Vec<OrgIdx>,
    /// The kind of each holder, by holder index (one byte each, so the hot path does not
    /// read whole holder records).
    pub(crate) holder_kind: Vec<HolderKind>,
    pub(crate) items: Vec<Item>,
    pub(crate) item_index: HashMap<Box<str>, ItemIdx>,
    /// Every category some item has, so that a pause naming a category no item has (a typo
    /// that would pause nothing) is refused; with how many items have it, so that a
    /// rollback removes just the categories its drained items brought.
    pub(crate) categories: HashMap<Box<str>, u32>,
    marks: (usize, usize, usize),
}

impl Master {
    pub(crate) fn begin(&mut self) {
        self.marks = (self.orgs.len(), self.holders.len(), self.items.len());
    }

    pub(crate) fn rollback(&mut self) {
        let (orgs, holders, items) = self.marks;
        for o in self.orgs.drain(orgs..) {
            self.org_index.remove(o.id.as_str());
        }
        for h in self.holders.drain(holders..) {
            self.holder_index.remove(h.id.as_str());
        }
        self.holder_org.truncate(holders);
        self.holder_kind.truncate(holders);
        for i in self.items.drain(items..) {
            self.item_index.remove(i.code.as_str());
            if let Some(n) = self.categories.get_mut(i.category.as_str()) {
                *n -= 1;
                if *n == 0 {
                    self.categories.remove(i.category.as_str());
                }
            }
        }
    }

    fn count_category(&mut self, category: &str) {
        *self.categories.entry_ref(category).or_insert(0) += 1;
    }

    pub(crate) fn org_idx(&self, id: &str) -> Option<OrgIdx> {
        self.org_index.get(id).copied()
    }
    pub(crate) fn holder_idx(&self, id: &str) -> Option<HolderIdx> {
        self.holder_index.get(id).copied()
    }
    pub(crate) fn item_idx(&self, code: &str) -> Option<ItemIdx> {
        self.item_index.get(code).copied()
    }
    pub(crate) fn holder(&self, h: HolderIdx) -> &Holder {
        &self.holders[h as usize]
    }
    pub(crate) fn kind(&self, h: HolderIdx) -> HolderKind {
        self.holder_kind[h as usize]
    }
    pub(crate) fn item(&self, i: ItemIdx) -> &Item {
        &self.items[i as usize]
    }
    pub(crate) fn org(&self, o: OrgIdx) -> &Org {
        &self.orgs[o as usize]
    }

    /// An org by id, or the violation naming it.
    pub(crate) fn need_org(&self, field: &'static str, id: &str) -> Result<OrgIdx, Outcome> {
        self.org_idx(id)
            .ok_or_else(|| (field, Violation::UnknownOrg { org: id.to_owned() }))
    }
    pub(crate) fn need_holder(&self, field: &'static str, id: &str) -> Result<HolderIdx, Outcome> {
        self.holder_idx(id).ok_or_else(|| {
            (
                field,
                Violation::UnknownHolder {
                    holder: id.to_owned(),
                },
            )
        })
    }
    pub(crate) fn need_item(&self, field: &'static str, code: &str) -> Result<ItemIdx, Outcome> {
        self.item_idx(code).ok_or_else(|| {
            (
                field,
                Violation::UnknownItem {
                    item: code.to_owned(),
                },
            )
        })
    }

    pub(crate) fn declare_org(&mut self, o: &Org) -> Result<Declared, Outcome> {
        if let Some(i) = self.org_idx(&o.id) {
            return redeclared("org", &o.id, self.orgs[i as usize].first_difference(o));
        }
        self.org_index
            .insert(o.id.as_str().into(), self.orgs.len() as OrgIdx);
        self.orgs.push(o.clone());
        Ok(Declared::New)
    }

    pub(crate) fn declare_holder(&mut self, h: &Holder) -> Result<Declared, Outcome> {
        if let Some(i) = self.holder_idx(&h.id) {
            return redeclared(
                "holder",
                &h.id,
                self.holders[i as usize].first_difference(h),
            );
        }
        let org = self.need_org("org", &h.org)?;
        self.holder_index
            .insert(h.id.as_str().into(), self.holders.len() as HolderIdx);
        self.holders.push(h.clone());
        self.holder_org.push(org);
        self.holder_kind.push(h.kind);
        Ok(Declared::New)
    }

    pub(crate) fn declare_item(&mut self, it: &Item) -> Result<Declared, Outcome> {
        if let Some(i) = self.item_idx(&it.code) {
            return redeclared(
                "item",
                &it.code,
                self.items[i as usize].first_difference(it),
            );
        }
        self.item_index
            .insert(it.code.as_str().into(), self.items.len() as ItemIdx);
        self.count_category(it.category.as_str());
        self.items.push(it.clone());
        Ok(Declared::New)
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.orgs.enc(w);
        self.holders.enc(w);
        self.items.enc(w);
    }

    pub(crate) fn decode(r: &mut R<'_>) -> Result<Master, SnapshotError> {
        let mut m = Master::default();
        for o in Vec::<Org>::dec(r)? {
            if m.org_index
                .insert(o.id.as_str().into(), m.orgs.len() as OrgIdx)
                .is_some()
            {
                return r.err("org listed twice");
            }
            m.orgs.push(o);
        }
        for h in Vec::<Holder>::dec(r)? {
            let Some(org) = m.org_idx(&h.org) else {
                return r.err("holder of an unknown org");
            };
            if m.holder_index
                .insert(h.id.as_str().into(), m.holders.len() as HolderIdx)
                .is_some()
            {
                return r.err("holder listed twice");
            }
            m.holder_org.push(org);
            m.holder_kind.push(h.kind);
            m.holders.push(h);
        }
        for it in Vec::<Item>::dec(r)? {
            if m.item_index
                .insert(it.code.as_str().into(), m.items.len() as ItemIdx)
                .is_some()
            {
                return r.err("item listed twice");
            }
            m.count_category(it.category.as_str());
            m.items.push(it);
        }
        Ok(m)
    }
}

crate::codec::enc_struct!(Org { id, name, kind });
crate::codec::enc_struct!(Holder {
    id,
    name,
    org,
    kind,
    country,
    lat,
    lon
});
crate::codec::enc_struct!(Item {
    code,
    name,
    category,
    tracking,
    unit,
    sensitive,
    unit_value,
    inventory_interval_days
});

/// A re-declaration: identical is a no-op; otherwise it is refused, naming the first field
/// (in interchange order) that differs.
pub(crate) fn redeclared(
    what: &'static str,
    id: &str,
    first_difference: Option<&'static str>,
) -> Result<Declared, Outcome> {
    match first_difference {
        None => Ok(Declared::Same),
        Some(field) => Err((
            field,
            Violation::Redeclared {
                what,
                id: id.to_owned(),
                field,
            },
        )),
    }
}
