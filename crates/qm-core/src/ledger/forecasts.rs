//! Forecast records: production plans (joint production with a partner org shown as such),
//! consumption plans, and threat reports, from which the review derives interceptor demand.
//! The ledger checks their references and keeps them; projections are `qm-report`'s.

use super::master::{HolderIdx, ItemIdx, Master, OrgIdx};
use super::{known, Declared, Outcome, Registry};
use crate::codec::{enc_struct, Enc, R, W};
use crate::limits::QTY_MAX;
use crate::rejection::Violation;
use crate::{Consumption, HolderKind, Production, SnapshotError, Threat, ThreatCounts};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductionState {
    pub record: Production,
    pub item: ItemIdx,
    pub to: HolderIdx,
    pub partner: Option<OrgIdx>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumptionState {
    pub record: Consumption,
    pub item: ItemIdx,
    pub org: OrgIdx,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreatState {
    pub record: Threat,
    /// The items of `interceptors_used`, in its order.
    pub interceptors: Vec<ItemIdx>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Forecasts {
    pub(crate) productions: Registry<ProductionState>,
    pub(crate) consumptions: Registry<ConsumptionState>,
    pub(crate) threats: Registry<ThreatState>,
}

fn rate(qty: u64) -> Result<(), Outcome> {
    if qty > QTY_MAX {
        return Err(("qty_per_month", Violation::QtyTooLarge { qty }));
    }
    Ok(())
}

impl Forecasts {
    pub(crate) fn begin(&mut self) {
        self.productions.begin();
        self.consumptions.begin();
        self.threats.begin();
    }

    pub(crate) fn rollback(&mut self) {
        self.productions.rollback(|p| &p.record.id);
        self.consumptions.rollback(|c| &c.record.id);
        self.threats.rollback(|t| &t.record.id);
    }

    pub(crate) fn declare_production(
        &mut self,
        master: &Master,
        p: &Production,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "production",
            &p.id,
            self.productions.get_record(&p.id, |s| &s.record),
            p,
        ) {
            return d;
        }
        let item = master.need_item("item", &p.item)?;
        let to = master.need_holder("to", &p.to)?;
        let kind = master.holder(to).kind;
        if matches!(kind, HolderKind::Source | HolderKind::Sink) {
            return Err((
                "to",
                Violation::WrongHolderKind {
                    holder: p.to.clone(),
                    kind: kind.as_str(),
                    expected: "a holder that keeps stock (depot, transit or unit)",
                },
            ));
        }
        let partner = p
            .partner
            .as_deref()
            .map(|o| master.need_org("partner", o))
            .transpose()?;
        rate(p.qty_per_month)?;
        if p.to_time.is_some_and(|t| t < p.from_time) {
            return Err(("to_time", Violation::EndsBeforeStart));
        }
        self.productions.push(
            &p.id,
            ProductionState {
                record: p.clone(),
                item,
                to,
                partner,
            },
        );
        Ok(Declared::New)
    }

    pub(crate) fn declare_consumption(
        &mut self,
        master: &Master,
        c: &Consumption,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "consumption",
            &c.id,
            self.consumptions.get_record(&c.id, |s| &s.record),
            c,
        ) {
            return d;
        }
        let item = master.need_item("item", &c.item)?;
        let org = master.need_org("org", &c.org)?;
        rate(c.qty_per_month)?;
        if c.to_time.is_some_and(|t| t < c.from_time) {
            return Err(("to_time", Violation::EndsBeforeStart));
        }
        self.consumptions.push(
            &c.id,
            ConsumptionState {
                record: c.clone(),
                item,
                org,
            },
        );
        Ok(Declared::New)
    }

    pub(crate) fn declare_threat(
        &mut self,
        master: &Master,
        t: &Threat,
    ) -> Result<Declared, Outcome> {
        if let Some(d) = known(
            "threat",
            &t.id,
            self.threats.get_record(&t.id, |s| &s.record),
            t,
        ) {
            return d;
        }
        let counts = [Some(t.launched), t.intercepted];
        for c in counts.iter().flatten() {
            for n in [c.drones, c.cruise_missiles, c.ballistic_missiles]
                .into_iter()
                .flatten()
            {
                if n > QTY_MAX {
                    return Err(("launched", Violation::QtyTooLarge { qty: n }));
                }
            }
        }
        let mut interceptors = Vec::new();
        for (code, qty) in t.interceptors_used.iter().flatten() {
            interceptors.push(master.need_item("interceptors_used", code)?);
            if *qty > QTY_MAX {
                return Err(("interceptors_used", Violation::QtyTooLarge { qty: *qty }));
            }
        }
        self.threats.push(
            &t.id,
            ThreatState {
                record: t.clone(),
                interceptors,
            },
        );
        Ok(Declared::New)
    }

    pub(crate) fn encode(&self, w: &mut W<'_>) {
        self.productions.list.enc(w);
        self.consumptions.list.enc(w);
        self.threats.list.enc(w);
    }

    pub(crate) fn decode(r: &mut R<'_>, master: &Master) -> Result<Forecasts, SnapshotError> {
        let (orgs, holders, items) = (master.orgs.len(), master.holders.len(), master.items.len());
        let mut out = Forecasts::default();
        for p in Vec::<ProductionState>::dec(r)? {
            if p.item as usize >= items
                || p.to as usize >= holders
                || p.partner.is_some_and(|o| o as usize >= orgs)
                || out.productions.get(&p.record.id).is_some()
            {
                return r.err("bad production");
            }
            let id = p.record.id.clone();
            out.productions.push(&id, p);
        }
        for c in Vec::<ConsumptionState>::dec(r)? {
            if c.item as usize >= items
                || c.org as usize >= orgs
                || out.consumptions.get(&c.record.id).is_some()
            {
                return r.err("bad consumption");
            }
            let id = c.record.id.clone();
            out.consumptions.push(&id, c);
        }
        for t in Vec::<ThreatState>::dec(r)? {
            if t.interceptors.iter().any(|&i| i as usize >= items)
                || out.threats.get(&t.record.id).is_some()
            {
                return r.err("bad threat report");
            }
            let id = t.record.id.clone();
            out.threats.push(&id, t);
        }
        Ok(out)
    }
}

enc_struct!(Production {
    id,
    item,
    to,
    qty_per_month,
    from_time,
    to_time,
    partner
});
enc_struct!(Consumption {
    id,
    item,
    org,
    qty_per_month,
    from_time,
    to_time
});
enc_struct!(ThreatCounts {
    drones,
    cruise_missiles,
    ballistic_missiles
});
enc_struct!(Threat {
    id,
    time,
    region,
    launched,
    intercepted,
    interceptors_used
});
enc_struct!(ProductionState {
    record,
    item,
    to,
    partner
});
enc_struct!(ConsumptionState { record, item, org });
enc_struct!(ThreatState {
    record,
    interceptors
});
