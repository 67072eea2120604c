//! Every rule and every rejection, as expect tests.

use std::collections::HashMap;

use expect_test::{expect, Expect};
use qm_core::*;

use crate::dsl::{parse_batches, secs};

/// A ledger plus what the journal would hold, standing in for the facade.
pub struct Harness {
    pub ledger: Ledger,
    pub committed: HashMap<String, Movement>,
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            ledger: Ledger::new(),
            committed: HashMap::new(),
        }
    }

    pub fn apply(&mut self, batch: &[Record]) -> Result<Receipt, Rejection> {
        let mut originals = Originals::default();
        for r in batch {
            if let Record::Movement(m) = r {
                if let Some(o) = self.committed.get(&m.id) {
                    originals.movements.insert(m.id.clone(), o.clone());
                }
            }
        }
        let receipt = self.ledger.apply(batch, &originals)?;
        for &i in &receipt.new_records {
            if let Record::Movement(m) = &batch[i] {
                self.committed.insert(m.id.clone(), m.clone());
            }
        }
        Ok(receipt)
    }
}

const SETUP: &str = "org o1; org o2
holder src o1 source; holder d1 o1 depot; holder d2 o1 depot; holder hub o1 transit; holder u1 o2 unit; holder gone o1 sink
item ammo lot; item drone bulk; item pac3 serial";

fn run(text: &str, probes: &[&str]) -> String {
    let mut h = Harness::new();
    let mut out = String::new();
    let batches = parse_batches(&format!("{SETUP}\n---\n{text}"));
    for (n, batch) in batches.iter().enumerate() {
        match h.apply(batch) {
            Ok(r) if n > 0 => {
                out += &format!(
                    "batch {n}: ok, {} new, {} duplicate\n",
                    r.new_records.len(),
                    r.duplicates
                )
            }
            Ok(_) => {}
            Err(rej) => {
                out += &format!("batch {n}: rejected\n");
                for e in &rej.errors {
                    out += &format!("  {e}\n");
                }
                if rej.more > 0 {
                    out += &format!("  ... and {} more\n", rej.more);
                }
            }
        }
    }
    let mut print = |label: String, as_of: Option<Time>| {
        out += &format!("{label}:");
        for b in h.ledger.balances(&BalanceQuery {
            as_of,
            ..Default::default()
        }) {
            out += &format!(
                " {}/{}{}={}",
                b.holder,
                b.item,
                b.lot.map(|l| format!("/{l}")).unwrap_or_default(),
                b.qty
            );
        }
        out += "\n";
    };
    for p in probes {
        print(format!("at {p}"), Some(secs(p)));
    }
    print("now".into(), None);
    out
}

fn check(text: &str, expect: Expect) {
    expect.assert_eq(&run(text, &[]));
}

fn check_at(text: &str, probes: &[&str], expect: Expect) {
    expect.assert_eq(&run(text, probes));
}

#[test]
fn sources_give_and_may_go_negative() {
    check(
        "mv m1 10 drone 5 src>d1; mv m2 20 drone 2 d1>u1",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            now: d1/drone=3 src/drone=-5 u1/drone=2
        "#]],
    );
}

#[test]
fn a_balance_never_goes_negative() {
    check(
        "mv m1 10 drone 5 src>d1
         ---
         mv m2 20 drone 6 d1>u1",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "drone" at "d1" would go negative at 1970-01-01T00:00:20Z: short by 1
            now: d1/drone=5 src/drone=-5
        "#]],
    );
}

#[test]
fn balances_count_by_effective_time_not_by_arrival() {
    check_at(
        "mv m1 30 drone 5 src>d1
         ---
         mv m2 10 drone 7 src>d1",
        &["9", "10", "29", "30"],
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            at 9:
            at 10: d1/drone=7 src/drone=-7
            at 29: d1/drone=7 src/drone=-7
            at 30: d1/drone=12 src/drone=-12
            now: d1/drone=12 src/drone=-12
        "#]],
    );
}

#[test]
fn a_late_withdrawal_must_keep_every_later_balance_non_negative() {
    // d1 holds 10 from t=10, ships 8 at t=30. A late withdrawal of 3 at t=20 would leave -1 at t=30.
    check(
        "mv m1 10 drone 10 src>d1; mv m2 30 drone 8 d1>u1
         ---
         mv m3 20 drone 3 d1>d2
         ---
         mv m4 20 drone 2 d1>d2",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "drone" at "d1" would go negative at 1970-01-01T00:00:30Z: short by 1
            batch 3: ok, 1 new, 0 duplicate
            now: d2/drone=2 src/drone=-10 u1/drone=8
        "#]],
    );
}

#[test]
fn a_late_withdrawal_before_any_stock_is_refused_at_its_own_time() {
    check(
        "mv m1 10 drone 10 src>d1
         ---
         mv m2 5 drone 1 d1>u1",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "drone" at "d1" would go negative at 1970-01-01T00:00:05Z: short by 1
            now: d1/drone=10 src/drone=-10
        "#]],
    );
}

#[test]
fn movements_at_the_same_time_count_together() {
    // A batch is atomic: a receipt listed after the issue it covers, at the same instant or
    // earlier, still covers it. Across batches, the issue must wait for its stock.
    check(
        "mv m1 10 drone 4 src>d1; mv m2 10 drone 4 d1>u1
         ---
         mv m3 20 drone 4 d1>u1; mv m4 20 drone 4 src>d1
         ---
         mv m5 30 drone 4 d1>u1
         ---
         mv m6 40 drone 4 d1>u1; mv m7 35 drone 4 src>d1",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: ok, 2 new, 0 duplicate
            batch 3: rejected
              record 1: field "qty": balance of "drone" at "d1" would go negative at 1970-01-01T00:00:30Z: short by 4
            batch 4: ok, 2 new, 0 duplicate
            now: src/drone=-12 u1/drone=12
        "#]],
    );
}

#[test]
fn lots_are_balances_of_their_own() {
    check(
        "mv m1 10 ammo 5 src>d1 lot=L1; mv m2 10 ammo 5 src>d1 lot=L2
         ---
         mv m3 20 ammo 6 d1>u1 lot=L1
         ---
         mv m4 20 ammo 5 d1>u1 lot=L1",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "ammo" lot "L1" at "d1" would go negative at 1970-01-01T00:00:20Z: short by 1
            batch 3: ok, 1 new, 0 duplicate
            now: d1/ammo/L2=5 src/ammo/L1=-5 src/ammo/L2=-5 u1/ammo/L1=5
        "#]],
    );
}

#[test]
fn tracking_decides_lot_and_serials() {
    check(
        "mv m1 10 ammo 5 src>d1
         mv m2 10 drone 5 src>d1 lot=L1
         mv m3 10 pac3 1 src>d1
         mv m4 10 drone 1 src>d1 serials=x
         mv m5 10 ammo 1 src>d1 lot=L1 serials=x",
        expect![[r#"
            batch 1: rejected
              record 1: field "lot": item "ammo" is lot-tracked: a lot is required
              record 2: field "lot": item "drone" is bulk-tracked: it has no lots
              record 3: field "serials": item "pac3" is serial-tracked: serials are required
              record 4: field "serials": item "drone" is bulk-tracked: it has no serials
              record 5: field "serials": item "ammo" is lot-tracked: it has no serials
            now:
        "#]],
    );
}

#[test]
fn holders_sources_and_sinks() {
    check(
        "mv m1 10 drone 5 src>d1
         mv m2 10 drone 1 d1>src
         mv m3 11 drone 1 d1>gone
         mv m4 12 drone 1 gone>d1
         mv m5 12 drone 1 d1>d1
         mv m6 12 drone 1 d1>nowhere
         mv m7 12 drone 1 nowhere>d1
         mv m8 12 nothing 1 src>d1",
        expect![[r#"
            batch 1: rejected
              record 2: field "to": holder "src" is a source: sources never receive
              record 4: field "from": holder "gone" is a sink: sinks only receive
              record 5: field "to": moves from "d1" to itself
              record 6: field "to": unknown holder "nowhere"
              record 7: field "from": unknown holder "nowhere"
              record 8: field "item": unknown item "nothing"
            now:
        "#]],
    );
}

#[test]
fn a_batch_applies_whole_or_not_at_all() {
    check(
        "mv m1 10 drone 5 src>d1
         ---
         mv m2 20 drone 1 src>d1; org o3; holder d3 o3 depot; mv m3 20 drone 9 d1>u1; mv m4 21 drone 1 d1>d3",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: rejected
              record 4: field "qty": balance of "drone" at "d1" would go negative at 1970-01-01T00:00:20Z: short by 3
            now: d1/drone=5 src/drone=-5
        "#]],
    );
    // Nothing of the rejected batch remains: its org, holder and ids are free again.
    check(
        "mv m1 10 drone 5 src>d1
         ---
         org o3; holder d3 o3 depot; mv m2 20 drone 9 d1>d3
         ---
         org o3 ; holder d3 o3 depot; mv m2 20 drone 1 d1>d3",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: rejected
              record 3: field "qty": balance of "drone" at "d1" would go negative at 1970-01-01T00:00:20Z: short by 4
            batch 3: ok, 3 new, 0 duplicate
            now: d1/drone=4 d3/drone=1 src/drone=-5
        "#]],
    );
}

#[test]
fn movement_ids_are_idempotency_keys() {
    check(
        "mv m1 10 drone 5 src>d1
         ---
         mv m1 10 drone 5 src>d1
         ---
         mv m1 10 drone 6 src>d1
         ---
         mv m1 10 drone 5 src>d1 note=again
         ---
         mv m2 11 drone 1 d1>u1; mv m2 11 drone 1 d1>u1; mv m2 11 drone 2 d1>u1",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: ok, 0 new, 1 duplicate
            batch 3: rejected
              record 1: field "id": movement id "m1" is already used by a different movement (field "qty" differs)
            batch 4: rejected
              record 1: field "id": movement id "m1" is already used by a different movement (field "note" differs)
            batch 5: rejected
              record 3: field "id": movement id "m2" is already used by a different movement (field "qty" differs)
            now: d1/drone=5 src/drone=-5
        "#]],
    );
}

#[test]
fn master_data_is_declared_once() {
    check(
        "org o1; item drone bulk; holder d1 o1 depot
         ---
         item drone lot
         ---
         holder d1 o2 depot
         ---
         holder d9 o9 depot; floor drone o9 5; floor nothing o1 5",
        expect![[r#"
            batch 1: ok, 0 new, 3 duplicate
            batch 2: rejected
              record 1: field "tracking": item "drone" is already declared with a different "tracking"
            batch 3: rejected
              record 1: field "org": holder "d1" is already declared with a different "org"
            batch 4: rejected
              record 1: field "org": unknown org "o9"
              record 2: field "org": unknown org "o9"
              record 3: field "item": unknown item "nothing"
            now:
        "#]],
    );
}

#[test]
fn floors_change_over_time() {
    let mut h = Harness::new();
    for b in parse_batches(&format!("{SETUP}\nfloor drone o1 100; floor drone o1 150 50; floor drone o1 120\n---\nfloor drone o1 120")) {
        h.apply(&b).unwrap();
    }
    let at = |t: &str| h.ledger.floor("drone", "o1", secs(t));
    assert_eq!(
        (at("10"), at("50"), at("60")),
        (Some(120), Some(150), Some(150))
    );
    assert_eq!(h.ledger.floor("ammo", "o1", 0), None);
    assert_eq!(h.ledger.floors().len(), 3, "an identical repeat is a no-op");
}

#[test]
fn serials_stand_at_one_holder_and_move_only_from_there() {
    check(
        "mv m1 10 pac3 2 src>d1 serials=a,b
         ---
         mv m2 20 pac3 1 d2>u1 serials=a
         ---
         mv m3 20 pac3 1 src>d2 serials=a
         ---
         mv m4 20 pac3 1 d1>u1 serials=a; mv m5 30 pac3 1 u1>gone serials=a
         ---
         mv m6 40 pac3 1 gone>d1 serials=a
         ---
         mv m7 5 pac3 1 d1>u1 serials=c",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "pac3" at "d2" would go negative at 1970-01-01T00:00:20Z: short by 1
              record 1: field "serials": serial "a" of "pac3" is not at "d2" at 1970-01-01T00:00:20Z: it is at "d1"
            batch 3: rejected
              record 1: field "serials": serial "a" of "pac3" is not at "src" at 1970-01-01T00:00:20Z: it is at "d1"
            batch 4: ok, 2 new, 0 duplicate
            batch 5: rejected
              record 1: field "from": holder "gone" is a sink: sinks only receive
            batch 6: rejected
              record 1: field "qty": balance of "pac3" at "d1" would go negative at 1970-01-01T00:00:05Z: short by 1
              record 1: field "serials": serial "c" of "pac3" is not at "d1" at 1970-01-01T00:00:05Z: it does not exist yet (a first movement comes from a source)
            now: d1/pac3=1 gone/pac3=1 src/pac3=-2
        "#]],
    );
}

#[test]
fn a_late_serial_movement_must_agree_with_its_later_history() {
    check(
        "mv m1 10 pac3 1 src>d1 serials=a; mv m2 30 pac3 1 d1>u1 serials=a
         ---
         mv m3 20 pac3 1 d1>d2 serials=a
         ---
         mv m4 20 pac3 1 d1>d2 serials=a; mv m5 25 pac3 1 d2>d1 serials=a
         ---
         mv m6 30 pac3 1 d1>d2 serials=a
         ---
         mv m7 10 pac3 2 src>d1 serials=x,x",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "pac3" at "d1" would go negative at 1970-01-01T00:00:30Z: short by 1
              record 1: field "serials": serial "a" of "pac3" moves from "d1" at 1970-01-01T00:00:30Z, which this earlier movement contradicts
            batch 3: ok, 2 new, 0 duplicate
            batch 4: rejected
              record 1: field "serials": serial "a" of "pac3" already moves at 1970-01-01T00:00:30Z: a serial moves at most once per instant
            batch 5: rejected
              record 1: field "serials": serial "x" is listed twice
            now: src/pac3=-1 u1/pac3=1
        "#]],
    );
}

#[test]
fn errors_are_listed_up_to_a_cap() {
    let text: String = (0..150)
        .map(|i| format!("mv m{i} 10 drone 1 d1>nowhere\n"))
        .collect();
    let out = run(&text, &[]);
    assert!(out.contains("record 100: "), "{out}");
    assert!(!out.contains("record 101: "), "{out}");
    assert!(out.contains("... and 50 more"), "{out}");
}

#[test]
fn snapshots_round_trip_canonically() {
    let mut h = Harness::new();
    let text = format!(
        "{SETUP}\nfloor drone o1 3 5\n---\nmv m1 10 drone 5 src>d1; mv m2 10 ammo 5 src>d1 lot=L1; mv m3 10 pac3 2 src>d1 serials=a,b\n---\nmv m4 5 drone 2 src>d2; mv m5 20 pac3 1 d1>u1 serials=b"
    );
    for b in parse_batches(&text) {
        h.apply(&b).unwrap();
    }
    // A rejected batch leaves no trace in the image.
    let before = h.ledger.encode_snapshot();
    assert!(h
        .apply(&crate::dsl::parse_batch(
            "org o9; holder x o9 depot; mv m9 1 ammo 1 d1>x lot=L7"
        ))
        .is_err());
    assert_eq!(h.ledger.encode_snapshot(), before);

    let back = Ledger::decode_snapshot(&before).unwrap();
    assert_eq!(back.encode_snapshot(), before);
    assert_eq!(back.seq(), 3);
    assert_eq!(back.balance("d1", "ammo", Some("L1"), None), 5);
    assert_eq!(back.balance("d2", "drone", None, Some(secs("4"))), 0);
    assert_eq!(
        back.serial("pac3", "b").unwrap().location(),
        back.holder_idx("u1")
    );
    // And it keeps answering: the idempotency index came back too.
    let mut h2 = Harness {
        ledger: back,
        committed: h.committed.clone(),
    };
    let r = h2
        .apply(&crate::dsl::parse_batch("mv m1 10 drone 5 src>d1"))
        .unwrap();
    assert_eq!(r.duplicates, 1);

    for cut in [0, 8, before.len() / 2, before.len() - 1] {
        assert!(
            Ledger::decode_snapshot(&before[..cut]).is_err(),
            "truncated at {cut}"
        );
    }
}
