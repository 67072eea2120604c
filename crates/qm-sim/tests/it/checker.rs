//! A plain, slow validity checker, independent of the generators and of `qm-core`'s ledger:
//! it keeps every movement's delta per (holder, item, lot) in a `BTreeMap` by effective time
//! and every serial's moves by time, and checks the ledger rules for each movement in the
//! order it was emitted, given everything emitted before it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Bound::{Excluded, Unbounded};

use qm_core::{HolderKind, Movement, Record, Time, Tracking};

type Key = (String, String, Option<String>);

#[derive(Default)]
pub struct Checker {
    holders: HashMap<String, HolderKind>,
    items: HashMap<String, Tracking>,
    ids: HashSet<String>,
    /// (holder, item, lot) -> effective time -> summed delta, for non-source, non-sink holders.
    timelines: HashMap<Key, BTreeMap<Time, i64>>,
    /// (item, serial) -> effective time -> (from, to).
    serials: HashMap<(String, String), BTreeMap<Time, (String, String)>>,
    /// Latest time of the batches before the current one, and of all movements so far.
    prev_batches_max: Option<Time>,
    head: Option<Time>,
    pub movements: u64,
    pub batches: u64,
    /// Movements with a time before the latest time of an earlier batch.
    pub late_by_batch: u64,
    /// Movements with a time before the latest time emitted before them.
    pub behind_head: u64,
    /// Late (by batch) movements that take stock out of a holder whose balance is checked.
    pub late_outflows: u64,
    pub kinds: BTreeMap<String, u64>,
    /// Quantity received by non-source, non-sink holders from sources, per item.
    pub brought_in: BTreeMap<String, u64>,
    pub transfers: HashSet<String>,
    pub min_time: Option<Time>,
    pub max_time: Option<Time>,
}

impl Checker {
    /// Checks the master data and remembers holders and items.
    pub fn new(master: &[Record]) -> Checker {
        let mut c = Checker::default();
        let mut orgs = HashSet::new();
        for r in master {
            match r {
                Record::Org(o) => assert!(orgs.insert(o.id.clone()), "org {} twice", o.id),
                Record::Holder(h) => {
                    assert!(
                        orgs.contains(&h.org),
                        "holder {} of unknown org {}",
                        h.id,
                        h.org
                    );
                    assert!(
                        c.holders.insert(h.id.clone(), h.kind).is_none(),
                        "holder {} twice",
                        h.id
                    );
                }
                Record::Item(i) => {
                    assert!(
                        c.items.insert(i.code.clone(), i.tracking).is_none(),
                        "item {} twice",
                        i.code
                    );
                }
                Record::Floor(f) => {
                    assert!(
                        c.items.contains_key(&f.item),
                        "floor of unknown item {}",
                        f.item
                    );
                    assert!(orgs.contains(&f.org), "floor of unknown org {}", f.org);
                }
                other => panic!("a {} record in master data", other.type_name()),
            }
        }
        c
    }

    pub fn batch(&mut self, batch: &[Record]) -> Result<(), String> {
        self.batches += 1;
        let mut batch_max = None;
        for r in batch {
            let Record::Movement(m) = r else {
                return Err(format!("a {} record in a movement batch", r.type_name()));
            };
            self.movement(m)
                .map_err(|e| format!("movement {}: {e}", m.id))?;
            batch_max = batch_max.max(Some(m.time));
        }
        self.prev_batches_max = self.prev_batches_max.max(batch_max);
        Ok(())
    }

    fn movement(&mut self, m: &Movement) -> Result<(), String> {
        self.movements += 1;
        if !self.ids.insert(m.id.clone()) {
            return Err("id used twice".into());
        }
        if m.qty < 1 {
            return Err("qty below 1".into());
        }
        if m.from == m.to {
            return Err("from == to".into());
        }
        let tracking = *self.items.get(&m.item).ok_or("unknown item")?;
        let from_kind = *self.holders.get(&m.from).ok_or("unknown from")?;
        let to_kind = *self.holders.get(&m.to).ok_or("unknown to")?;
        if from_kind == HolderKind::Sink {
            return Err("a sink sends".into());
        }
        if to_kind == HolderKind::Source {
            return Err("a source receives".into());
        }
        match tracking {
            Tracking::Bulk if m.lot.is_some() || m.serials.is_some() => {
                return Err("bulk item with lot or serials".into())
            }
            Tracking::Lot if m.lot.is_none() || m.serials.is_some() => {
                return Err("lot item without lot, or with serials".into())
            }
            Tracking::Serial => match &m.serials {
                None => return Err("serial item without serials".into()),
                Some(s) if s.len() as u64 != m.qty => return Err("serials.len() != qty".into()),
                Some(s) if s.len() > 12 => return Err("more than 12 serials".into()),
                Some(s) if s.iter().collect::<HashSet<_>>().len() != s.len() => {
                    return Err("a serial twice in one movement".into())
                }
                Some(_) if m.lot.is_some() => return Err("serial item with a lot".into()),
                Some(_) => {}
            },
            _ => {}
        }
        if m.time < self.head.unwrap_or(Time::MIN) {
            self.behind_head += 1;
        }
        if m.time < self.prev_batches_max.unwrap_or(Time::MIN) {
            self.late_by_batch += 1;
            if tracked(from_kind) {
                self.late_outflows += 1;
            }
        }
        self.head = self.head.max(Some(m.time));
        self.min_time = Some(self.min_time.map_or(m.time, |t| t.min(m.time)));
        self.max_time = self.max_time.max(Some(m.time));
        *self
            .kinds
            .entry(m.kind.clone().unwrap_or_default())
            .or_default() += 1;
        if let Some(t) = &m.transfer {
            self.transfers.insert(t.clone());
        }
        if from_kind == HolderKind::Source && to_kind != HolderKind::Sink {
            *self.brought_in.entry(m.item.clone()).or_default() += m.qty;
        }

        // Serials: each moves from where it is at that time, and its later history still
        // starts where this movement leaves it.
        for s in m.serials.iter().flatten() {
            let history = self.serials.entry((m.item.clone(), s.clone())).or_default();
            if history.contains_key(&m.time) {
                return Err(format!("serial {s} moves twice at one time"));
            }
            match history.range(..m.time).next_back() {
                Some((_, (_, at))) if *at != m.from => {
                    return Err(format!("serial {s} is at {at}, not {}", m.from))
                }
                None if from_kind != HolderKind::Source => {
                    return Err(format!(
                        "serial {s} first moves from {}, not a source",
                        m.from
                    ))
                }
                _ => {}
            }
            if let Some((t, (next_from, _))) = history.range((Excluded(m.time), Unbounded)).next() {
                if *next_from != m.to {
                    return Err(format!(
                        "serial {s} later moves from {next_from} at {t}, not from {}",
                        m.to
                    ));
                }
            }
            history.insert(m.time, (m.from.clone(), m.to.clone()));
        }

        // Balances: the receiver gains; the sender's balance at every time from this one on
        // must stay non-negative.
        if tracked(to_kind) {
            let key = (m.to.clone(), m.item.clone(), m.lot.clone());
            *self
                .timelines
                .entry(key)
                .or_default()
                .entry(m.time)
                .or_default() += m.qty as i64;
        }
        if tracked(from_kind) {
            let key = (m.from.clone(), m.item.clone(), m.lot.clone());
            let timeline = self.timelines.entry(key).or_default();
            *timeline.entry(m.time).or_default() -= m.qty as i64;
            let mut balance = 0i64;
            for (&t, &delta) in timeline.iter() {
                balance += delta;
                if t >= m.time && balance < 0 {
                    return Err(format!(
                        "{} would hold {balance} of {} {:?} at {t}",
                        m.from, m.item, m.lot
                    ));
                }
            }
        }
        Ok(())
    }

    /// Recomputes every balance and every serial's history from scratch.
    pub fn finish(&self) -> Result<(), String> {
        for (key, timeline) in &self.timelines {
            let mut balance = 0i64;
            for (t, delta) in timeline {
                balance += delta;
                if balance < 0 {
                    return Err(format!("{key:?} is {balance} at {t}"));
                }
            }
        }
        for (key, history) in &self.serials {
            let mut at: Option<&String> = None;
            for (t, (from, to)) in history {
                match at {
                    None if self.holders[from] != HolderKind::Source => {
                        return Err(format!("{key:?} first moves from {from} at {t}"))
                    }
                    Some(a) if a != from => {
                        return Err(format!("{key:?} at {a} moves from {from} at {t}"))
                    }
                    _ => {}
                }
                at = Some(to);
            }
        }
        Ok(())
    }
}

fn tracked(kind: HolderKind) -> bool {
    kind != HolderKind::Source && kind != HolderKind::Sink
}

/// Runs `batches` through a checker, also checking that there are exactly `movements`
/// movements in batches of exactly `batch_size` (the last one possibly shorter).
pub fn check_stream(
    master: &[Record],
    batches: impl Iterator<Item = Vec<Record>>,
    movements: u64,
    batch_size: usize,
) -> Checker {
    let mut checker = Checker::new(master);
    let mut last_short = false;
    for batch in batches {
        assert!(!last_short, "a batch after a short one");
        assert!(
            !batch.is_empty() && batch.len() <= batch_size,
            "batch of {}",
            batch.len()
        );
        last_short = batch.len() < batch_size;
        if let Err(e) = checker.batch(&batch) {
            panic!("batch {}: {e}", checker.batches);
        }
    }
    checker.finish().unwrap();
    assert_eq!(checker.movements, movements);
    checker
}

#[cfg(test)]
mod tests {
    //! The checker itself: each rule, broken once.

    use qm_core::{Holder, HolderKind, Item, Movement, Org, Record, Tracking};

    use super::Checker;

    fn master() -> Vec<Record> {
        let holder = |id: &str, kind| {
            Record::Holder(Holder {
                id: id.into(),
                name: id.into(),
                org: "O".into(),
                kind,
                country: None,
                lat: None,
                lon: None,
            })
        };
        let item = |code: &str, tracking| {
            Record::Item(Item {
                code: code.into(),
                name: code.into(),
                category: "c".into(),
                tracking,
                unit: None,
                sensitive: None,
                unit_value: None,
                inventory_interval_days: None,
            })
        };
        vec![
            Record::Org(Org {
                id: "O".into(),
                name: "O".into(),
                kind: None,
            }),
            holder("S", HolderKind::Source),
            holder("A", HolderKind::Depot),
            holder("B", HolderKind::Depot),
            holder("X", HolderKind::Sink),
            item("BULK", Tracking::Bulk),
            item("LOT", Tracking::Lot),
            item("SER", Tracking::Serial),
        ]
    }

    fn mv(id: &str, time: i64, item: &str, qty: u64, from: &str, to: &str) -> Movement {
        Movement {
            id: id.into(),
            time,
            item: item.into(),
            qty,
            from: from.into(),
            to: to.into(),
            lot: (item == "LOT").then(|| "L1".into()),
            serials: None,
            kind: None,
            transfer: None,
            note: None,
        }
    }

    fn serial(mut m: Movement, serials: &[&str]) -> Movement {
        m.serials = Some(serials.iter().map(|s| s.to_string()).collect());
        m
    }

    /// The first error of `movements` applied as one batch each, or "ok".
    fn check(movements: Vec<Movement>) -> String {
        let mut c = Checker::new(&master());
        for m in movements {
            if let Err(e) = c.batch(&[Record::Movement(m)]) {
                return e;
            }
        }
        c.finish().err().unwrap_or_else(|| "ok".into())
    }

    #[test]
    fn balances() {
        assert_eq!(
            check(vec![
                mv("1", 10, "BULK", 5, "S", "A"),
                mv("2", 20, "BULK", 5, "A", "B")
            ]),
            "ok"
        );
        assert!(check(vec![mv("1", 10, "BULK", 5, "A", "B")]).contains("would hold -5"));
        // Late: taking out at 15 what was taken out at 20 already.
        let late = check(vec![
            mv("1", 10, "BULK", 5, "S", "A"),
            mv("2", 20, "BULK", 5, "A", "B"),
            mv("3", 15, "BULK", 1, "A", "X"),
        ]);
        assert!(
            late.contains("would hold -1") && late.contains("at 20"),
            "{late}"
        );
        // Late inflow before an outflow makes it fine; an outflow before the inflow does not.
        assert_eq!(
            check(vec![
                mv("1", 10, "BULK", 5, "S", "A"),
                mv("2", 5, "BULK", 5, "S", "A")
            ]),
            "ok"
        );
        assert!(check(vec![
            mv("1", 10, "BULK", 5, "S", "A"),
            mv("2", 5, "BULK", 1, "A", "B")
        ])
        .contains("-1"));
        // Per lot.
        let mut other_lot = mv("2", 20, "LOT", 1, "A", "B");
        other_lot.lot = Some("L2".into());
        assert!(check(vec![mv("1", 10, "LOT", 5, "S", "A"), other_lot]).contains("-1"));
    }

    #[test]
    fn holders_ids_and_fields() {
        assert!(check(vec![
            mv("1", 1, "BULK", 1, "S", "A"),
            mv("1", 2, "BULK", 1, "S", "A")
        ])
        .contains("twice"));
        assert!(check(vec![mv("1", 1, "BULK", 1, "A", "S")]).contains("source receives"));
        assert!(check(vec![mv("1", 1, "BULK", 1, "X", "A")]).contains("sink sends"));
        assert!(check(vec![mv("1", 1, "BULK", 1, "A", "A")]).contains("from == to"));
        assert!(check(vec![mv("1", 1, "BULK", 0, "S", "A")]).contains("qty"));
        let mut no_lot = mv("1", 1, "LOT", 1, "S", "A");
        no_lot.lot = None;
        assert!(check(vec![no_lot]).contains("without lot"));
        assert!(check(vec![mv("1", 1, "SER", 1, "S", "A")]).contains("without serials"));
        assert!(check(vec![serial(mv("1", 1, "SER", 2, "S", "A"), &["a"])]).contains("len"));
    }

    #[test]
    fn serials() {
        let ok = vec![
            serial(mv("1", 10, "SER", 1, "S", "A"), &["a"]),
            serial(mv("2", 20, "SER", 1, "A", "B"), &["a"]),
        ];
        assert_eq!(check(ok), "ok");
        assert!(
            check(vec![serial(mv("1", 10, "SER", 1, "A", "B"), &["a"])]).contains("not a source")
        );
        let wrong_place = vec![
            serial(mv("1", 10, "SER", 1, "S", "A"), &["a"]),
            serial(mv("2", 20, "SER", 1, "B", "X"), &["a"]),
        ];
        assert!(check(wrong_place).contains("is at A"));
        // Late: moving it A -> B at 15 breaks the later move from A at 20.
        let late = vec![
            serial(mv("1", 10, "SER", 1, "S", "A"), &["a"]),
            serial(mv("2", 20, "SER", 1, "A", "X"), &["a"]),
            serial(mv("3", 15, "SER", 1, "A", "B"), &["a"]),
        ];
        assert!(check(late).contains("later moves from A"));
    }
}
