//! Reports on small scenarios worked out by hand: the reasoning is in each test's comments,
//! and the test checks the report says the same.

mod forecast;
mod render;
mod review;

use qm_core::*;

/// A ledger built from records written compactly.
pub struct Scenario {
    pub ledger: Ledger,
}

pub fn t(s: &str) -> Time {
    // "2025-07-04" or "2025-07-04T12:00:00Z".
    let (date, time) = s.split_once('T').unwrap_or((s, "00:00:00Z"));
    let mut d = date.split('-').map(|x| x.parse::<i64>().unwrap());
    let (y, m, dd) = (d.next().unwrap(), d.next().unwrap(), d.next().unwrap());
    let mut h = time
        .trim_end_matches('Z')
        .split(':')
        .map(|x| x.parse::<i64>().unwrap());
    let secs = h.next().unwrap() * 3600 + h.next().unwrap() * 60 + h.next().unwrap();
    (days_from_civil(y, m as u32, dd as u32) * 86_400 + secs) * 1_000_000_000
}

impl Scenario {
    /// Orgs US (donor), UA (recipient) and UK (partner); depots D1, D2 of US, a US source and
    /// sink, a UA unit and sink; items.
    pub fn new(items: &[(&str, &str, Option<&str>)]) -> Scenario {
        let mut batch = Vec::new();
        for (id, kind) in [
            ("US", OrgKind::Donor),
            ("UA", OrgKind::Recipient),
            ("UK", OrgKind::Donor),
        ] {
            batch.push(Record::Org(Org {
                id: id.into(),
                name: id.into(),
                kind: Some(kind),
            }));
        }
        for (id, org, kind) in [
            ("SRC", "US", HolderKind::Source),
            ("D1", "US", HolderKind::Depot),
            ("D2", "US", HolderKind::Depot),
            ("HUB", "US", HolderKind::Transit),
            ("EXPENDED", "US", HolderKind::Sink),
            ("UA-U1", "UA", HolderKind::Unit),
            ("UA-SPENT", "UA", HolderKind::Sink),
        ] {
            batch.push(Record::Holder(Holder {
                id: id.into(),
                name: id.into(),
                org: org.into(),
                kind,
                country: None,
                lat: None,
                lon: None,
            }));
        }
        for (code, category, value) in items {
            batch.push(Record::Item(Item {
                code: (*code).into(),
                name: code.to_lowercase(),
                category: (*category).into(),
                tracking: Tracking::Bulk,
                unit: None,
                sensitive: None,
                unit_value: value.map(|v| Money {
                    amount: v.into(),
                    currency: "USD".into(),
                }),
                inventory_interval_days: None,
            }));
        }
        let mut s = Scenario {
            ledger: Ledger::new(),
        };
        s.apply(batch);
        s
    }

    pub fn apply(&mut self, batch: Vec<Record>) {
        if let Err(e) = self.ledger.apply(&batch, &Originals::default()) {
            panic!("rejected: {:?}", e.errors);
        }
    }
}

pub fn mv(id: &str, time: &str, item: &str, qty: u64, from: &str, to: &str) -> Record {
    Record::Movement(Movement {
        id: id.into(),
        time: t(time),
        item: item.into(),
        qty,
        from: from.into(),
        to: to.into(),
        lot: None,
        serials: None,
        kind: None,
        transfer: None,
        note: None,
    })
}

pub fn floor(item: &str, org: &str, min_qty: u64) -> Record {
    Record::Floor(Floor {
        item: item.into(),
        org: org.into(),
        min_qty,
        time: None,
    })
}

pub fn consumption(id: &str, item: &str, org: &str, qty: u64, from: &str) -> Record {
    Record::Consumption(Consumption {
        id: id.into(),
        item: item.into(),
        org: org.into(),
        qty_per_month: qty,
        from_time: t(from),
        to_time: None,
    })
}

pub fn production(
    id: &str,
    item: &str,
    to: &str,
    qty: u64,
    from: &str,
    partner: Option<&str>,
) -> Record {
    Record::Production(Production {
        id: id.into(),
        item: item.into(),
        to: to.into(),
        qty_per_month: qty,
        from_time: t(from),
        to_time: None,
        partner: partner.map(Into::into),
    })
}

pub fn threat(id: &str, time: &str, drones: u64, item: &str, used: u64) -> Record {
    Record::Threat(Threat {
        id: id.into(),
        time: t(time),
        region: "UA".into(),
        launched: ThreatCounts {
            drones: Some(drones),
            cruise_missiles: None,
            ballistic_missiles: None,
        },
        intercepted: None,
        interceptors_used: Some(vec![(item.into(), used)]),
    })
}
