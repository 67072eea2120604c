//! The shipment workflow (interchange v1.1): every transition and every refusal of transfers,
//! allocations, dispatches, deliveries, cancellations, pauses and floors, as expect tests.
//! Each case prints the batches' outcomes, then every transfer line's figures, the earmarks
//! standing at each depot and the donor's available stock, at the probe times and now.

use expect_test::{expect, Expect};
use qm_core::*;

use crate::dsl::{parse_batches, secs};
use crate::rules::Harness;

const SETUP: &str = "org us; org ua; org uk
holder src us source; holder d1 us depot; holder d2 us depot; holder hub us transit; holder lost us sink
holder ua1 ua unit; holder uad ua depot; holder spent ua sink; holder uksrc uk source; holder ukd uk depot
item drone bulk category=uav; item shell lot category=artillery; item pac3 serial category=missile
---
mv o1 1 drone 100 src>d1; mv o2 1 drone 50 src>d2; mv o3 1 shell 40 src>d1 lot=L1
mv o4 1 pac3 3 src>d1 serials=s1,s2,s3; mv o5 1 drone 10 uksrc>ukd";

fn run(text: &str, probes: &[&str]) -> String {
    let mut h = Harness::new();
    let mut out = String::new();
    let batches = parse_batches(&format!("{SETUP}\n---\n{text}"));
    for (n, batch) in batches.iter().enumerate() {
        match h.apply(batch) {
            Ok(_) if n < 2 => {}
            Ok(r) => {
                out += &format!(
                    "batch {}: ok, {} new, {} duplicate\n",
                    n - 1,
                    r.new_records.len(),
                    r.duplicates
                )
            }
            Err(rej) => {
                out += &format!("batch {}: rejected\n", n - 1);
                for e in &rej.errors {
                    out += &format!("  {e}\n");
                }
            }
        }
    }
    let l = &h.ledger;
    let mut print = |label: String, as_of: Option<Time>| {
        out += &format!("{label}:\n");
        for t in l.transfers() {
            for line in &t.lines {
                let f = line.figures(t.record.time, as_of);
                out += &format!(
                    "  {} {}: committed {} cancelled {} allocated {} dispatched {} delivered {} in_transit {}\n",
                    t.record.id,
                    l.items()[line.item as usize].code,
                    f.committed,
                    f.cancelled,
                    f.allocated,
                    f.dispatched,
                    f.delivered,
                    f.in_transit
                );
            }
        }
        for (k, key) in l.keys().enumerate() {
            let e = l.key_earmarked(k as KeyIdx, as_of);
            if e != 0 {
                out += &format!(
                    "  earmarked at {} {}: {e}\n",
                    l.holders()[key.holder as usize].id,
                    l.items()[key.item as usize].code
                );
            }
        }
        let us = l.org_idx("us").unwrap();
        for item in ["drone"] {
            if let Some(os) = l.org_stock(us, l.item_idx(item).unwrap()) {
                let t = as_of.unwrap_or(Time::MAX);
                out += &format!(
                    "  us {item}: on hand {} available {}\n",
                    os.on_hand_at(t),
                    os.available.balance_at(t)
                );
            }
        }
        for p in l.pauses() {
            if as_of.is_none_or(|t| l.pause_stands_at(p, t))
                && l.pause_until(p)
                    .is_none_or(|u| as_of.is_some_and(|t| t < u))
            {
                out += &format!("  pause {} stands\n", p.record.id);
            }
        }
    };
    for p in probes {
        print(format!("at {p}"), Some(secs(p)));
    }
    print("now".into(), None);
    for a in l.allocations() {
        if let (Some(o), Some(b)) = (&a.record.override_, &a.breach) {
            out += &format!(
                "override {} ({}): floor {} available {} short by {}\n",
                a.record.id, o.reason, b.floor, b.available, b.short_by
            );
        }
    }
    out
}

fn check(text: &str, expect: Expect) {
    expect.assert_eq(&run(text, &[]));
}

fn check_at(text: &str, probes: &[&str], expect: Expect) {
    expect.assert_eq(&run(text, probes));
}

#[test]
fn a_transfer_goes_from_commitment_to_partial_deliveries() {
    check_at(
        "xfer t1 10 us>ua drone:30
         ---
         alloc a1 11 t1 drone 30 d1
         ---
         mv x1 12 drone 20 d1>hub transfer=t1
         ---
         mv x2 13 drone 12 hub>ua1 transfer=t1; mv x3 14 drone 8 hub>ua1 transfer=t1",
        &["9", "11", "12", "13"],
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            batch 3: ok, 1 new, 0 duplicate
            batch 4: ok, 2 new, 0 duplicate
            at 9:
              t1 drone: committed 0 cancelled 0 allocated 0 dispatched 0 delivered 0 in_transit 0
              us drone: on hand 150 available 150
            at 11:
              t1 drone: committed 30 cancelled 0 allocated 30 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 30
              us drone: on hand 150 available 120
            at 12:
              t1 drone: committed 30 cancelled 0 allocated 30 dispatched 20 delivered 0 in_transit 20
              earmarked at d1 drone: 10
              us drone: on hand 130 available 120
            at 13:
              t1 drone: committed 30 cancelled 0 allocated 30 dispatched 20 delivered 12 in_transit 8
              earmarked at d1 drone: 10
              us drone: on hand 130 available 120
            now:
              t1 drone: committed 30 cancelled 0 allocated 30 dispatched 20 delivered 20 in_transit 0
              earmarked at d1 drone: 10
              us drone: on hand 130 available 120
        "#]],
    );
}

#[test]
fn a_batch_holding_the_whole_workflow_applies_in_any_line_order() {
    check(
        "mv x2 13 drone 5 hub>ua1 transfer=t1; mv x1 12 drone 5 d1>hub transfer=t1; alloc a1 11 t1 drone 5 d1; xfer t1 10 us>ua drone:5",
        expect![[r#"
            batch 1: ok, 4 new, 0 duplicate
            now:
              t1 drone: committed 5 cancelled 0 allocated 5 dispatched 5 delivered 5 in_transit 0
              us drone: on hand 145 available 145
        "#]],
    );
}

#[test]
fn a_pause_refuses_allocations_and_dispatches_in_its_scope_by_every_scope_field() {
    // Each batch tries one allocation of drones under t1 (us -> ua) while one pause stands.
    let base = "xfer t1 10 us>ua drone:30,pac3:1; xfer t2 10 us>ua drone:30\n---\n";
    for (pause, refused) in [
        ("items=drone", true),
        ("items=pac3", false),
        ("categories=uav", true),
        ("categories=missile", false),
        ("donor=us", true),
        ("donor=uk", false),
        ("recipient=ua", true),
        ("recipient=uk", false),
        ("transfer=t1", true),
        ("transfer=t2", false),
        ("items=drone donor=us transfer=t1", true),
        ("items=drone donor=uk", false),
    ] {
        let out = run(
            &format!(
                "{base}pause p1 5 {pause} reason=review review=60\n---\nalloc a1 20 t1 drone 5 d1"
            ),
            &[],
        );
        let was_refused = out.contains("batch 3: rejected");
        assert_eq!(was_refused, refused, "pause {pause}:\n{out}");
        if refused {
            assert!(
                out.contains(r#"field "transfer": pause "p1" stands at 1970-01-01T00:00:20Z (since 1970-01-01T00:00:05Z, to be reviewed by 1970-01-01T00:01:00Z): review"#),
                "{out}"
            );
        }
    }
}

#[test]
fn pauses_read_back_from_a_snapshot_refuse_what_they_refused_before() {
    // The pauses' look-up by scope is derived state, rebuilt when a snapshot is read: after a
    // round trip, an allocation in each scope is refused by the same pause as before, and
    // one outside every scope is accepted.
    let mut h = Harness::new();
    let text = format!(
        "{SETUP}\n---\nxfer t1 10 us>ua drone:30,pac3:1,shell:5; xfer t2 10 us>ua drone:30\n---\n\
         pause p1 5 items=pac3 reason=a; pause p2 5 categories=artillery reason=b\n\
         pause p3 5 transfer=t2 reason=c; pause p4 5 recipient=uk reason=d; pause p5 5 donor=uk reason=e"
    );
    for b in parse_batches(&text) {
        h.apply(&b).unwrap();
    }
    let ledger = Ledger::decode_snapshot(&h.ledger.encode_snapshot()).unwrap();
    h.ledger = ledger;
    for (alloc, pause) in [
        ("alloc a1 20 t1 pac3 1 d1", Some("p1")),
        ("alloc a2 20 t1 shell 5 d1 lot=L1", Some("p2")),
        ("alloc a3 20 t2 drone 5 d1", Some("p3")),
        ("alloc a4 20 t1 drone 5 d1", None),
    ] {
        let result = h.apply(&parse_batches(alloc)[0]);
        match pause {
            Some(p) => {
                let rej = result.expect_err(alloc);
                let msg = rej.errors[0].to_string();
                assert!(
                    msg.contains(&format!("pause \"{p}\" stands")),
                    "{alloc}: {msg}"
                );
            }
            None => {
                result.unwrap_or_else(|r| panic!("{alloc}: {}", r.errors[0]));
            }
        }
    }
}

#[test]
fn a_resumed_pause_stands_only_until_its_resumption() {
    check(
        "xfer t1 10 us>ua drone:30; pause p1 5 items=drone; resume r1 30 p1
         ---
         alloc a1 20 t1 drone 5 d1
         ---
         alloc a2 30 t1 drone 5 d1; mv x1 25 drone 1 d1>hub transfer=t1
         ---
         alloc a3 30 t1 drone 5 d1; mv x2 35 drone 1 d1>hub transfer=t1",
        expect![[r#"
            batch 1: ok, 3 new, 0 duplicate
            batch 2: rejected
              record 1: field "transfer": pause "p1" stands at 1970-01-01T00:00:20Z (since 1970-01-01T00:00:05Z): stockpile review
            batch 3: rejected
              record 2: field "transfer": pause "p1" stands at 1970-01-01T00:00:25Z (since 1970-01-01T00:00:05Z): stockpile review
            batch 4: ok, 2 new, 0 duplicate
            now:
              t1 drone: committed 30 cancelled 0 allocated 5 dispatched 1 delivered 0 in_transit 1
              earmarked at d1 drone: 4
              us drone: on hand 149 available 145
        "#]],
    );
}

#[test]
fn a_late_dispatch_dated_before_a_pause_is_accepted_and_a_late_pause_undoes_nothing() {
    check(
        "xfer t1 10 us>ua drone:40; alloc a0 11 t1 drone 10 d1; alloc a1 25 t1 drone 30 d1
         ---
         pause p1 20 items=drone
         ---
         mv x1 15 drone 10 d1>hub transfer=t1
         ---
         mv x2 26 drone 10 d1>hub transfer=t1",
        expect![[r#"
            batch 1: ok, 3 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            batch 3: ok, 1 new, 0 duplicate
            batch 4: rejected
              record 1: field "transfer": pause "p1" stands at 1970-01-01T00:00:26Z (since 1970-01-01T00:00:20Z): stockpile review
            now:
              t1 drone: committed 40 cancelled 0 allocated 40 dispatched 10 delivered 0 in_transit 10
              earmarked at d1 drone: 30
              us drone: on hand 140 available 110
              pause p1 stands
        "#]],
    );
}

#[test]
fn stock_already_dispatched_moves_on_from_transit_during_a_pause() {
    check(
        "xfer t1 10 us>ua drone:30; alloc a1 11 t1 drone 30 d1; mv x1 12 drone 10 d1>hub transfer=t1
         ---
         pause p1 20 recipient=ua
         ---
         mv x2 25 drone 10 hub>ua1 transfer=t1",
        expect![[r#"
            batch 1: ok, 3 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            batch 3: ok, 1 new, 0 duplicate
            now:
              t1 drone: committed 30 cancelled 0 allocated 30 dispatched 10 delivered 10 in_transit 0
              earmarked at d1 drone: 20
              us drone: on hand 140 available 120
              pause p1 stands
        "#]],
    );
}

#[test]
fn an_allocation_below_the_floor_is_refused_unless_overridden_and_the_override_is_kept() {
    check(
        "floor drone us 120; xfer t1 10 us>ua drone:60
         ---
         alloc a1 11 t1 drone 20 d1
         ---
         alloc a2 12 t1 drone 20 d1
         ---
         alloc a3 13 t1 drone 20 d1 override=urgent-air-defence",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            batch 3: rejected
              record 1: field "qty": available stock of "drone" for org "us" would fall to 110 at 1970-01-01T00:00:12Z, below its floor of 120: short by 10 (an override with a reason accepts it)
            batch 4: ok, 1 new, 0 duplicate
            now:
              t1 drone: committed 60 cancelled 0 allocated 40 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 40
              us drone: on hand 150 available 110
            override a3 (urgent-air-defence): floor 120 available 110 short by 10
        "#]],
    );
}

#[test]
fn a_floor_is_checked_at_and_after_the_allocation_including_floors_that_start_later() {
    check(
        "xfer t1 10 us>ua drone:60; floor drone us 100 50
         ---
         alloc a1 11 t1 drone 60 d1
         ---
         alloc a2 11 t1 drone 50 d1",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": available stock of "drone" for org "us" would fall to 90 at 1970-01-01T00:00:50Z, below its floor of 100: short by 10 (an override with a reason accepts it)
            batch 3: ok, 1 new, 0 duplicate
            now:
              t1 drone: committed 60 cancelled 0 allocated 50 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 50
              us drone: on hand 150 available 100
        "#]],
    );
}

#[test]
fn allocations_may_not_exceed_the_commitment_nor_the_depots_free_stock() {
    check(
        "xfer t1 10 us>ua drone:30; xfer t2 10 us>ua drone:80
         ---
         alloc a1 11 t1 drone 20 d1; alloc a2 12 t1 drone 20 d2
         ---
         alloc a3 11 t2 drone 60 d2
         ---
         alloc a4 11 t2 drone 40 d2; alloc a5 11 t2 drone 20 d2
         ---
         alloc a6 11 t1 drone 10 d2",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 2: field "qty": allocations of "drone" under transfer "t1" would reach 40 at 1970-01-01T00:00:12Z, more than the 30 committed
            batch 3: rejected
              record 1: field "qty": available stock (balance less earmarks) of "drone" at "d2" would go negative at 1970-01-01T00:00:11Z: short by 10
            batch 4: rejected
              record 2: field "qty": available stock (balance less earmarks) of "drone" at "d2" would go negative at 1970-01-01T00:00:11Z: short by 10
            batch 5: ok, 1 new, 0 duplicate
            now:
              t1 drone: committed 30 cancelled 0 allocated 10 dispatched 0 delivered 0 in_transit 0
              t2 drone: committed 80 cancelled 0 allocated 0 dispatched 0 delivered 0 in_transit 0
              earmarked at d2 drone: 10
              us drone: on hand 150 available 140
        "#]],
    );
}

#[test]
fn a_dispatch_may_not_exceed_its_earmark_at_that_depot() {
    check(
        "xfer t1 10 us>ua drone:30,shell:5; alloc a1 11 t1 drone 10 d1
         ---
         mv x1 12 drone 15 d1>hub transfer=t1
         ---
         mv x2 12 drone 5 d2>hub transfer=t1
         ---
         mv x3 12 pac3 1 d1>hub serials=s1 transfer=t1
         ---
         mv x4 12 drone 6 d1>hub transfer=t1; mv x5 13 drone 6 d1>hub transfer=t1
         ---
         mv x6 12 drone 10 d1>ua1 transfer=t1",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": dispatch of "drone" from "d1" under transfer "t1" exceeds its earmark there at 1970-01-01T00:00:12Z: short by 5
            batch 3: rejected
              record 1: field "qty": dispatch of "drone" from "d2" under transfer "t1" exceeds its earmark there at 1970-01-01T00:00:12Z: short by 5
            batch 4: rejected
              record 1: field "item": item "pac3" is not a line of transfer "t1"
            batch 5: rejected
              record 2: field "qty": dispatch of "drone" from "d1" under transfer "t1" exceeds its earmark there at 1970-01-01T00:00:13Z: short by 2
            batch 6: ok, 1 new, 0 duplicate
            now:
              t1 drone: committed 30 cancelled 0 allocated 10 dispatched 10 delivered 10 in_transit 0
              t1 shell: committed 5 cancelled 0 allocated 0 dispatched 0 delivered 0 in_transit 0
              us drone: on hand 140 available 140
        "#]],
    );
}

#[test]
fn a_cancellation_lowers_the_commitment_never_below_dispatched_and_releases_earmarks() {
    check_at(
        "xfer t1 10 us>ua drone:30; alloc a1 11 t1 drone 20 d1; alloc a2 12 t1 drone 10 d2; mv x1 13 drone 10 d1>hub transfer=t1
         ---
         cancel c1 20 t1 drone 25
         ---
         cancel c2 20 t1 drone 5
         ---
         cancel c3 30 t1",
        &["19", "25"],
        expect![[r#"
            batch 1: ok, 4 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": cancelling 25 of "drone" would take transfer "t1"'s commitment from 30 to 5, below the 10 already dispatched
            batch 3: ok, 1 new, 0 duplicate
            batch 4: ok, 1 new, 0 duplicate
            at 19:
              t1 drone: committed 30 cancelled 0 allocated 30 dispatched 10 delivered 0 in_transit 10
              earmarked at d1 drone: 10
              earmarked at d2 drone: 10
              us drone: on hand 140 available 120
            at 25:
              t1 drone: committed 25 cancelled 5 allocated 25 dispatched 10 delivered 0 in_transit 10
              earmarked at d1 drone: 10
              earmarked at d2 drone: 5
              us drone: on hand 140 available 125
            now:
              t1 drone: committed 10 cancelled 20 allocated 10 dispatched 10 delivered 0 in_transit 10
              us drone: on hand 140 available 140
        "#]],
    );
}

#[test]
fn a_late_cancellation_releases_allocations_made_after_it() {
    // Recorded after an allocation (at 20) and a dispatch (at 30) it predates: the commitment
    // falls from 15 on, and the allocation is released above it from its own time; never below
    // what is dispatched later (15).
    check_at(
        "xfer t1 10 us>ua drone:30; alloc a1 20 t1 drone 20 d1; mv x1 30 drone 15 d1>hub transfer=t1
         ---
         cancel c1 15 t1 drone 12
         ---
         cancel c2 15 t1 drone 4
         ---
         cancel c3 16 t1",
        &["15", "16", "20", "30"],
        expect![[r#"
            batch 1: ok, 3 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            batch 3: rejected
              record 1: field "qty": cancelling 4 of "drone" would take transfer "t1"'s commitment from 18 to 14, below the 15 already dispatched
            batch 4: ok, 1 new, 0 duplicate
            at 15:
              t1 drone: committed 18 cancelled 12 allocated 0 dispatched 0 delivered 0 in_transit 0
              us drone: on hand 150 available 150
            at 16:
              t1 drone: committed 15 cancelled 15 allocated 0 dispatched 0 delivered 0 in_transit 0
              us drone: on hand 150 available 150
            at 20:
              t1 drone: committed 15 cancelled 15 allocated 15 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 15
              us drone: on hand 150 available 135
            at 30:
              t1 drone: committed 15 cancelled 15 allocated 15 dispatched 15 delivered 0 in_transit 15
              us drone: on hand 135 available 135
            now:
              t1 drone: committed 15 cancelled 15 allocated 15 dispatched 15 delivered 0 in_transit 15
              us drone: on hand 135 available 135
        "#]],
    );
}

#[test]
fn a_late_cancellation_of_the_whole_remainder_keeps_what_is_dispatched_later() {
    // No item, no qty: the undispatched remainder as recorded (30 committed less the 15
    // dispatched at 30), so 15 stay committed from 15 on and 5 of the allocation is released
    // at its own time.
    check_at(
        "xfer t1 10 us>ua drone:30; alloc a1 20 t1 drone 20 d1; mv x1 30 drone 15 d1>hub transfer=t1
         ---
         cancel c1 15 t1",
        &["20"],
        expect![[r#"
            batch 1: ok, 3 new, 0 duplicate
            batch 2: ok, 1 new, 0 duplicate
            at 20:
              t1 drone: committed 15 cancelled 15 allocated 15 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 15
              us drone: on hand 150 available 135
            now:
              t1 drone: committed 15 cancelled 15 allocated 15 dispatched 15 delivered 0 in_transit 15
              us drone: on hand 135 available 135
        "#]],
    );
}

#[test]
fn records_about_transfers_name_what_is_wrong() {
    check(
        "xfer t1 10 us>ua drone:30
         ---
         alloc a1 11 nope drone 5 d1
         ---
         alloc a1 11 t1 pac3 1 d1
         ---
         alloc a1 11 t1 drone 5 uad
         ---
         alloc a1 11 t1 drone 5 hub
         ---
         alloc a1 9 t1 drone 5 d1
         ---
         cancel c1 9 t1
         ---
         xfer t2 10 us>us drone:1
         ---
         resume r1 20 nope
         ---
         pause p1 20 categories=nothing
         ---
         pause p1 20 items=drone; resume r1 19 p1
         ---
         pause p1 20 items=drone; resume r1 21 p1; resume r2 22 p1",
        expect![[r#"
            batch 1: ok, 1 new, 0 duplicate
            batch 2: rejected
              record 1: field "transfer": unknown transfer "nope"
            batch 3: rejected
              record 1: field "item": item "pac3" is not a line of transfer "t1"
            batch 4: rejected
              record 1: field "from": holder "uad" is not a depot of the donor "us"
            batch 5: rejected
              record 1: field "from": holder "hub" is not a depot of the donor "us"
            batch 6: rejected
              record 1: field "time": transfer "t1" is committed at 1970-01-01T00:00:10Z: this record is dated before it
            batch 7: rejected
              record 1: field "time": transfer "t1" is committed at 1970-01-01T00:00:10Z: this record is dated before it
            batch 8: rejected
              record 1: field "recipient": the donor and the recipient are both "us"
            batch 9: rejected
              record 1: field "pause": unknown pause "nope"
            batch 10: rejected
              record 1: field "categories": no item has category "nothing"
            batch 11: rejected
              record 2: field "time": pause "p1" stands only from 1970-01-01T00:00:20Z: a resumption cannot be earlier
            batch 12: rejected
              record 3: field "pause": pause "p1" is already resumed by "r1" at 1970-01-01T00:00:21Z
            now:
              t1 drone: committed 30 cancelled 0 allocated 0 dispatched 0 delivered 0 in_transit 0
              us drone: on hand 150 available 150
        "#]],
    );
}

#[test]
fn workflow_ids_are_idempotency_keys() {
    check(
        "xfer t1 10 us>ua drone:30; alloc a1 11 t1 drone 5 d1; pause p1 20 items=pac3
         ---
         xfer t1 10 us>ua drone:30; alloc a1 11 t1 drone 5 d1; pause p1 20 items=pac3
         ---
         xfer t1 10 us>ua drone:31
         ---
         alloc a1 11 t1 drone 6 d1
         ---
         pause p1 20 items=drone",
        expect![[r#"
            batch 1: ok, 3 new, 0 duplicate
            batch 2: ok, 0 new, 3 duplicate
            batch 3: rejected
              record 1: field "id": transfer id "t1" is already used by a different transfer (field "lines" differs)
            batch 4: rejected
              record 1: field "id": allocate id "a1" is already used by a different allocate (field "qty" differs)
            batch 5: rejected
              record 1: field "id": pause id "p1" is already used by a different pause (field "items" differs)
            now:
              t1 drone: committed 30 cancelled 0 allocated 5 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 5
              us drone: on hand 150 available 145
              pause p1 stands
        "#]],
    );
}

#[test]
fn a_rejected_batch_leaves_no_workflow_state_behind() {
    let text = "xfer t1 10 us>ua drone:30; alloc a1 11 t1 drone 5 d1; pause p1 20 items=pac3; mv x1 12 drone 500 d1>hub";
    let mut h = Harness::new();
    for b in parse_batches(SETUP) {
        h.apply(&b).unwrap();
    }
    let before = h.ledger.encode_snapshot();
    assert!(h.apply(&parse_batches(text)[0]).is_err());
    assert_eq!(h.ledger.encode_snapshot(), before);
    // The same records, valid now, are accepted: nothing of the rejected batch stayed.
    h.apply(&parse_batches(&text.replace("500", "5"))[0])
        .unwrap();
    assert_eq!(h.ledger.transfers().len(), 1);
    // And the state survives a snapshot round trip exactly.
    let bytes = h.ledger.encode_snapshot();
    assert_eq!(
        Ledger::decode_snapshot(&bytes).unwrap().encode_snapshot(),
        bytes
    );
}

#[test]
fn a_late_pause_undoes_nothing_and_names_what_it_covers() {
    // Late pauses recorded after an allocation and a dispatch dated within them (which stand
    // and are named; a0, dated before p1, only by p2), then an allocation within p1 (refused)
    // and one after p1's resumption (refused by p2, which still stands).
    let mut h = Harness::new();
    let batches = parse_batches(&format!(
        "{SETUP}
         ---
         xfer t1 10 us>ua drone:30,shell:5; alloc a1 20 t1 drone 20 d1; mv x1 25 drone 5 d1>hub transfer=t1
         alloc a0 11 t1 drone 1 d2
         ---
         pause p1 15 items=drone; resume r1 40 p1; pause p2 5 transfer=t1
         ---
         alloc a2 21 t1 drone 1 d1
         ---
         alloc a3 41 t1 drone 1 d1"
    ));
    let mut out = String::new();
    for b in &batches {
        out += &match h.apply(b) {
            Ok(_) => "ok\n".to_owned(),
            Err(r) => format!("rejected: {}\n", r.errors[0]),
        };
    }
    let l = &h.ledger;
    let t = l.transfer_idx("t1").unwrap();
    for (p, pause) in l.pauses().iter().enumerate() {
        let covered: Vec<String> = l
            .accepted_before_pause(p as u32, t)
            .map(|r| format!("{} {} {}", r.kind.type_name(), r.id, r.qty))
            .collect();
        out += &format!("{}: {}\n", pause.record.id, covered.join(", "));
    }
    expect![[r#"
        ok
        ok
        ok
        ok
        rejected: record 1: field "transfer": pause "p1" stands at 1970-01-01T00:00:21Z (since 1970-01-01T00:00:15Z): stockpile review
        rejected: record 1: field "transfer": pause "p2" stands at 1970-01-01T00:00:41Z (since 1970-01-01T00:00:05Z): stockpile review
        p1: allocate a1 20, movement x1 5
        p2: allocate a1 20, movement x1 5, allocate a0 1
    "#]]
    .assert_eq(&out);
}

#[test]
fn a_rejection_lists_its_errors_in_record_order() {
    // The transfer is a declaration, judged first; the final-state check of the shortfall
    // comes last: listed by record all the same.
    check(
        "xfer t1 10 us>ua drone:30; alloc a1 11 t1 drone 5 d1
         ---
         mv y1 12 drone 500 d2>hub; alloc a1 11 t1 drone 6 d1; xfer t1 10 us>ua drone:31",
        expect![[r#"
            batch 1: ok, 2 new, 0 duplicate
            batch 2: rejected
              record 1: field "qty": balance of "drone" at "d2" would go negative at 1970-01-01T00:00:12Z: short by 450
              record 2: field "id": allocate id "a1" is already used by a different allocate (field "qty" differs)
              record 3: field "id": transfer id "t1" is already used by a different transfer (field "lines" differs)
            now:
              t1 drone: committed 30 cancelled 0 allocated 5 dispatched 0 delivered 0 in_transit 0
              earmarked at d1 drone: 5
              us drone: on hand 150 available 145
        "#]],
    );
}
