//! Quantities at the edges of 64-bit arithmetic: no accepted batch can wrap a balance, make
//! a non-source balance negative, or leave a balance the ledger cannot read back. Quantities
//! past `QTY_MAX` are refused; sums past `VOLUME_MAX` are refused naming the balance.

use proptest::prelude::*;
use qm_core::limits::{QTY_MAX, VOLUME_MAX};
use qm_core::*;

use crate::dsl::{parse_batch, secs};
use crate::rules::Harness;

const SETUP: &str = "org o1; holder src o1 source; holder d1 o1 depot; holder d2 o1 depot; holder u1 o1 unit; holder gone o1 sink
item drone bulk";

fn mv(id: usize, t: i64, qty: u64, from: &str, to: &str) -> Record {
    Record::Movement(Movement {
        id: format!("m{id}"),
        time: secs(&t.to_string()),
        item: "drone".into(),
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

/// Quantities near the bounds, and small ones.
fn qty() -> impl Strategy<Value = u64> {
    prop_oneof![
        Just(QTY_MAX),
        Just(QTY_MAX - 1),
        Just(QTY_MAX + 1),
        Just(u64::MAX),
        Just(1u64 << 63),
        Just(i64::MAX as u64),
        (QTY_MAX / 2)..=QTY_MAX,
        1u64..1000,
    ]
}

fn holder() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("src"),
        Just("d1"),
        Just("d2"),
        Just("u1"),
        Just("gone")
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_accepted_batch_wraps_or_makes_a_balance_negative(
        batches in proptest::collection::vec(
            proptest::collection::vec((0i64..50, qty(), holder(), holder()), 1..30),
            1..30,
        )
    ) {
        let mut h = Harness::new();
        h.apply(&parse_batch(SETUP)).unwrap();
        let mut n = 0;
        for batch in &batches {
            let records: Vec<Record> = batch
                .iter()
                .map(|&(t, q, from, to)| {
                    n += 1;
                    mv(n, t, q, from, to)
                })
                .collect();
            let accepted = h.apply(&records).is_ok();
            if accepted {
                for r in &records {
                    let Record::Movement(m) = r else { unreachable!() };
                    prop_assert!(m.qty <= QTY_MAX, "a qty of {} was accepted", m.qty);
                }
            }
            // Whatever was accepted or refused, every balance reads back, non-sources are
            // never negative, and each is within the volume bound.
            for t in (0..=50).step_by(5) {
                for b in h.ledger.balances(&BalanceQuery { as_of: Some(secs(&t.to_string())), ..Default::default() }) {
                    prop_assert!(b.qty.unsigned_abs() <= VOLUME_MAX, "{b:?}");
                    if b.holder != "src" {
                        prop_assert!(b.qty >= 0, "{b:?} at {t}");
                    }
                }
            }
        }
        // And the state survives a snapshot round trip.
        let bytes = h.ledger.encode_snapshot();
        prop_assert_eq!(Ledger::decode_snapshot(&bytes).unwrap().encode_snapshot(), bytes);
    }
}

#[test]
fn quantities_past_the_bound_are_refused_naming_it() {
    let mut h = Harness::new();
    h.apply(&parse_batch(SETUP)).unwrap();
    for q in [QTY_MAX + 1, 1 << 63, u64::MAX] {
        let e = h.apply(&[mv(1, 1, q, "src", "d1")]).unwrap_err();
        assert_eq!(
            e.errors[0].to_string(),
            format!("record 1: field \"qty\": {q} is more than the largest quantity a record may carry, 9007199254740991")
        );
    }
    // A floor past the bound, too: the review never sees it.
    let e = h
        .apply(&[Record::Floor(Floor {
            item: "drone".into(),
            org: "o1".into(),
            min_qty: u64::MAX,
            time: None,
        })])
        .unwrap_err();
    assert_eq!(e.errors[0].field, "min_qty");
}

#[test]
fn the_volume_through_one_balance_is_bounded() {
    // 512 movements of QTY_MAX into d1 and out again take d1's volume to just under 2^62;
    // the next one is refused, naming the balance, and nothing of its batch stays.
    let mut h = Harness::new();
    h.apply(&parse_batch(SETUP)).unwrap();
    let mut n = 0;
    let mut t = 0;
    let rounds = VOLUME_MAX / QTY_MAX / 2;
    for _ in 0..rounds {
        n += 2;
        t += 2;
        h.apply(&[
            mv(n, t, QTY_MAX, "src", "d1"),
            mv(n + 1, t + 1, QTY_MAX, "d1", "gone"),
        ])
        .unwrap();
    }
    let before = h.ledger.encode_snapshot();
    let e = h
        .apply(&[
            mv(n + 2, t + 2, QTY_MAX, "src", "d1"),
            mv(n + 3, t + 3, QTY_MAX, "d1", "gone"),
        ])
        .unwrap_err();
    assert!(
        e.errors.iter().any(|e| e
            .to_string()
            .contains("would pass the bound of 4611686018427387904 (2^62)")),
        "{:?}",
        e.errors
    );
    assert_eq!(h.ledger.encode_snapshot(), before);
    assert_eq!(h.ledger.balance("d1", "drone", None, None), 0);
}

#[test]
fn the_volume_through_an_orgs_depot_stock_is_bounded_naming_the_org() {
    // The same volume spread over two depots of one org: each depot's own volume stays near
    // 2^61, the org's depot stock of the item reaches the bound, and the refusal names the org.
    let mut h = Harness::new();
    h.apply(&parse_batch(SETUP)).unwrap();
    let mut n = 0;
    let mut t = 0;
    let rounds = VOLUME_MAX / QTY_MAX / 2;
    for r in 0..rounds {
        let d = if r % 2 == 0 { "d1" } else { "d2" };
        n += 2;
        t += 2;
        h.apply(&[
            mv(n, t, QTY_MAX, "src", d),
            mv(n + 1, t + 1, QTY_MAX, d, "gone"),
        ])
        .unwrap();
    }
    let e = h
        .apply(&[mv(n + 2, t + 2, QTY_MAX, "src", "d1")])
        .unwrap_err();
    assert_eq!(
        e.errors[0].to_string(),
        r#"record 1: field "qty": the total quantity moved through org "o1"'s available stock at its depots of "drone" would pass the bound of 4611686018427387904 (2^62)"#
    );
}
