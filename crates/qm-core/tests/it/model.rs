//! The ledger against a plain, slow model of the rules, on random batches: valid, invalid,
//! late, duplicate and serial-tracked movements. Every accept/reject, every record with an
//! error of its own, every balance at several times and every serial's place must agree.
//!
//! The model: a batch is accepted when each of its movements is well-formed on its own and
//! the list of all movements, with the batch's added, keeps every non-source balance
//! non-negative at every time and every serial's history one chain from a source.

use std::collections::{BTreeSet, HashMap};

use proptest::prelude::*;
use qm_core::*;

use crate::dsl::parse_batch;
use crate::rules::Harness;

const SETUP: &str = "org o1; holder src o1 source; holder d1 o1 depot; holder d2 o1 depot; holder u1 o1 unit; holder gone o1 sink
item drone bulk; item ammo lot; item pac3 serial";

fn kind(h: &str) -> Option<HolderKind> {
    Some(match h {
        "src" => HolderKind::Source,
        "d1" | "d2" => HolderKind::Depot,
        "u1" => HolderKind::Unit,
        "gone" => HolderKind::Sink,
        _ => return None,
    })
}

fn tracking(i: &str) -> Option<Tracking> {
    Some(match i {
        "drone" => Tracking::Bulk,
        "ammo" => Tracking::Lot,
        "pac3" => Tracking::Serial,
        _ => return None,
    })
}

/// The model: every accepted movement, in order; everything recomputed from scratch.
#[derive(Default)]
struct Model {
    moves: Vec<Movement>,
}

impl Model {
    fn balance(
        moves: &[Movement],
        holder: &str,
        item: &str,
        lot: &Option<String>,
        at: Time,
    ) -> i64 {
        moves
            .iter()
            .filter(|m| m.item == item && &m.lot == lot && m.time <= at)
            .map(|m| {
                if m.to == holder {
                    m.qty as i64
                } else if m.from == holder {
                    -(m.qty as i64)
                } else {
                    0
                }
            })
            .sum()
    }

    /// Checks one movement on its own; returns the field at fault.
    fn check(moves: &[Movement], m: &Movement) -> Option<&'static str> {
        if let Some(o) = moves.iter().find(|o| o.id == m.id) {
            return (o != m).then_some("id");
        }
        if m.qty == 0 {
            return Some("qty");
        }
        if let Some(s) = &m.serials {
            if s.len() as u64 != m.qty || s.iter().collect::<BTreeSet<_>>().len() != s.len() {
                return Some("serials");
            }
        }
        let Some(tr) = tracking(&m.item) else {
            return Some("item");
        };
        let Some(fk) = kind(&m.from) else {
            return Some("from");
        };
        let Some(tk) = kind(&m.to) else {
            return Some("to");
        };
        if m.from == m.to {
            return Some("to");
        }
        if fk == HolderKind::Sink {
            return Some("from");
        }
        if tk == HolderKind::Source {
            return Some("to");
        }
        match (tr, &m.lot, &m.serials) {
            (Tracking::Lot, None, _) | (Tracking::Bulk, Some(_), _) => return Some("lot"),
            (Tracking::Serial, _, None) | (Tracking::Bulk | Tracking::Lot, _, Some(_)) => {
                return Some("serials")
            }
            _ => {}
        }
        if let Some(serials) = &m.serials {
            let same_instant = moves.iter().any(|o| {
                o.item == m.item
                    && o.time == m.time
                    && o.serials
                        .as_ref()
                        .is_some_and(|v| v.iter().any(|x| serials.contains(x)))
            });
            if same_instant {
                return Some("serials");
            }
        }
        None
    }

    /// Whether a list of movements keeps every rule.
    fn valid(moves: &[Movement]) -> bool {
        for m in moves
            .iter()
            .filter(|m| kind(&m.from) != Some(HolderKind::Source))
        {
            let times: BTreeSet<Time> = moves
                .iter()
                .map(|o| o.time)
                .filter(|&t| t >= m.time)
                .collect();
            if times
                .iter()
                .any(|&t| Model::balance(moves, &m.from, &m.item, &m.lot, t) < 0)
            {
                return false;
            }
        }
        let serials: BTreeSet<&String> = moves
            .iter()
            .flat_map(|m| m.serials.iter().flatten())
            .collect();
        for s in serials {
            let mut hist: Vec<&Movement> = moves
                .iter()
                .filter(|o| o.serials.as_ref().is_some_and(|v| v.contains(s)))
                .collect();
            hist.sort_by_key(|o| o.time);
            for (p, m) in hist.iter().enumerate() {
                let ok = match p.checked_sub(1) {
                    None => kind(&m.from) == Some(HolderKind::Source),
                    Some(q) => hist[q].to == m.from,
                };
                if !ok {
                    return false;
                }
            }
        }
        true
    }

    /// Applies a batch; returns whether it was accepted and the records with errors of their own.
    fn apply(&mut self, batch: &[Movement]) -> (bool, Vec<usize>) {
        let mut pending = self.moves.clone();
        let mut errors = Vec::new();
        for (i, m) in batch.iter().enumerate() {
            match Model::check(&pending, m) {
                Some(_) => errors.push(i),
                None => {
                    if !pending.iter().any(|o| o.id == m.id) {
                        pending.push(m.clone());
                    }
                }
            }
        }
        let accepted = errors.is_empty() && Model::valid(&pending);
        if accepted {
            self.moves = pending;
        }
        (accepted, errors)
    }
}

fn movement() -> impl Strategy<Value = Movement> {
    let holder = prop_oneof![
        3 => Just("src"), 3 => Just("d1"), 2 => Just("d2"), 2 => Just("u1"), 1 => Just("gone"), 1 => Just("nowhere")
    ];
    let item =
        prop_oneof![3 => Just("drone"), 3 => Just("ammo"), 3 => Just("pac3"), 1 => Just("nothing")];
    (
        0u32..40,
        0i64..30,
        item,
        0u64..6,
        holder.clone(),
        holder,
        0u8..10,
        proptest::collection::vec(0u8..5, 1..3),
    )
        .prop_map(|(id, t, item, qty, from, to, lotpick, serialpicks)| {
            let mut m = Movement {
                id: format!("m{id}"),
                time: t * 1_000_000_000,
                item: item.into(),
                qty,
                from: from.into(),
                to: to.into(),
                lot: None,
                serials: None,
                kind: None,
                transfer: None,
                note: None,
            };
            match (item, lotpick) {
                ("ammo", 0) => {}
                ("ammo", p) => m.lot = Some(format!("L{}", p % 2)),
                ("drone", 0) => m.lot = Some("L0".into()),
                ("pac3", 0) => {}
                ("pac3", _) => {
                    let mut s: Vec<String> = serialpicks.iter().map(|p| format!("s{p}")).collect();
                    s.dedup();
                    m.qty = s.len() as u64;
                    m.serials = Some(s);
                }
                _ => {}
            }
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]
    #[test]
    fn the_ledger_agrees_with_the_model(batches in proptest::collection::vec(proptest::collection::vec(movement(), 1..8), 1..25)) {
        let mut h = Harness::new();
        h.apply(&parse_batch(SETUP)).unwrap();
        let mut model = Model::default();
        let mut committed: HashMap<String, Movement> = HashMap::new();
        for (n, batch) in batches.iter().enumerate() {
            // Retries: sometimes repeat a movement already committed, exactly.
            let mut batch = batch.clone();
            if n % 3 == 2 {
                if let Some(old) = committed.values().next() {
                    batch.push(old.clone());
                }
            }
            let records: Vec<Record> = batch.iter().cloned().map(Record::Movement).collect();
            let (accepted, own_errors) = model.apply(&batch);
            let got = h.apply(&records);
            prop_assert_eq!(got.is_ok(), accepted, "batch {}: {:?}: {:?}", n, batch, got);
            if let Err(rej) = &got {
                let indexes: BTreeSet<usize> = rej.errors.iter().map(|e| e.index).collect();
                for i in &own_errors {
                    prop_assert!(indexes.contains(i), "record {} has an error of its own: {:?}", i, rej);
                }
            }
            if accepted {
                for m in &batch {
                    committed.entry(m.id.clone()).or_insert_with(|| m.clone());
                }
            }
            for at in [0i64, 5, 12, 20, 29, 100] {
                let t = at * 1_000_000_000;
                for holder in ["src", "d1", "d2", "u1", "gone"] {
                    for (item, lot) in [("drone", None), ("ammo", Some("L0")), ("ammo", Some("L1")), ("pac3", None)] {
                        let lot_s = lot.map(String::from);
                        prop_assert_eq!(
                            h.ledger.balance(holder, item, lot, Some(t)),
                            Model::balance(&model.moves, holder, item, &lot_s, t),
                            "{} {} {:?} at {}", holder, item, lot, at
                        );
                    }
                }
            }
            // Serial locations agree too.
            for s in 0..5 {
                let name = format!("s{s}");
                let model_loc = {
                    let mut hist: Vec<&Movement> = model.moves.iter().filter(|m| m.serials.as_ref().is_some_and(|v| v.contains(&name))).collect();
                    hist.sort_by_key(|m| m.time);
                    hist.last().map(|m| m.to.clone())
                };
                let got_loc = h.ledger.serial("pac3", &name).and_then(|x| x.location()).map(|i| h.ledger.holders()[i as usize].id.clone());
                prop_assert_eq!(got_loc, model_loc);
            }
        }
        // The snapshot of the final state decodes to the same state.
        let snap = h.ledger.encode_snapshot();
        prop_assert_eq!(Ledger::decode_snapshot(&snap).unwrap().encode_snapshot(), snap);
    }
}
