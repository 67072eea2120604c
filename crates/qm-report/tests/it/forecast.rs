//! The projection's arithmetic against a slow exact model of the month-proration convention
//! (a rate active for `l` of a month of length `L` contributes `qty * l / L`), for rates up
//! to `QTY_MAX` and horizons up to `HORIZON_MAX`; and the threat model at the bounds of its
//! counts.

use proptest::prelude::*;
use qm_core::limits::QTY_MAX;
use qm_core::time::{days_in_month, month_start, year_month};
use qm_core::*;
use qm_report::forecast::{add_months, threat_models, HORIZON_MAX};
use qm_report::*;

use crate::*;

const DAY: u128 = 86_400_000_000_000;

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// An exact non-negative rational: `int + num / den`, `num < den`.
#[derive(Clone, Copy, Debug)]
struct Exact {
    int: u128,
    num: u128,
    den: u128,
}

impl Exact {
    const ZERO: Exact = Exact {
        int: 0,
        num: 0,
        den: 1,
    };

    fn add_ratio(self, n: u128, d: u128) -> Exact {
        let (int, n) = (self.int + n / d, n % d);
        let l = self.den / gcd(self.den, d) * d;
        let num = self.num * (l / self.den) + n * (l / d);
        let g = gcd(num, l).max(1);
        let (num, den) = (num / g, l / g);
        Exact {
            int: int + num / den,
            num: num % den,
            den,
        }
    }

    fn add(self, o: Exact) -> Exact {
        Exact {
            int: self.int + o.int,
            ..self
        }
        .add_ratio(o.num, o.den)
    }

    fn floor(self) -> u128 {
        self.int
    }

    /// Whether it is more than the whole number `x`.
    fn above(self, x: i128) -> bool {
        x < 0 || self.int > x as u128 || (self.int == x as u128 && self.num > 0)
    }
}

#[derive(Clone, Debug)]
struct Plan {
    produce: bool,
    qty: u64,
    from: Time,
    to: Option<Time>,
}

/// What `plan` contributes over [as_of, t): month by month, the overlap's `qty * l / L`.
fn model_cum(plan: &Plan, as_of: Time, t: Time) -> Exact {
    let (y, m) = year_month(as_of);
    let mut sum = Exact::ZERO;
    let mut k = 0i64;
    loop {
        let ms = month_start(y as i64, m as i64 + k);
        if ms >= t {
            break;
        }
        let me = month_start(y as i64, m as i64 + k + 1);
        let a = ms.max(as_of).max(plan.from);
        let b = me.min(t).min(plan.to.unwrap_or(Time::MAX));
        if a < b {
            let (yy, mm) = year_month(ms);
            let len = days_in_month(yy as i64, mm) as u128 * DAY;
            sum = sum.add_ratio(plan.qty as u128 * (b - a) as u128, len);
        }
        k += 1;
    }
    sum
}

fn plan_strategy() -> impl Strategy<Value = Plan> {
    (
        any::<bool>(),
        prop_oneof![0..=QTY_MAX, Just(QTY_MAX), 1..1000u64],
        // From 1999 to about 2040, to the nanosecond.
        0i64..1_300_000_000_000_000_000,
        proptest::option::of(0i64..3_000_000_000_000_000_000),
    )
        .prop_map(|(produce, qty, from, len)| Plan {
            produce,
            qty,
            from: t("1999-01-01") + from,
            to: len.map(|l| t("1999-01-01") + from + 1 + l),
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn totals_levels_and_breaches_are_those_of_exact_proration(
        plans in proptest::collection::vec(plan_strategy(), 1..4),
        as_of in 0i64..1_500_000_000_000_000_000,
        horizon in prop_oneof![0..=HORIZON_MAX, Just(HORIZON_MAX), 0..30u32],
        on_hand in prop_oneof![0..=QTY_MAX, 0..5000u64],
        floor_qty in prop_oneof![0..=QTY_MAX, 0..5000u64],
    ) {
        let as_of = t("2000-01-01") + as_of;
        let mut s = Scenario::new(&[("A", "c", None)]);
        let mut batch = vec![floor("A", "US", floor_qty)];
        if on_hand > 0 {
            batch.push(mv("m1", "1999-01-01", "A", on_hand, "SRC", "D1"));
        }
        for (i, p) in plans.iter().enumerate() {
            batch.push(if p.produce {
                Record::Production(Production {
                    id: format!("p{i}"),
                    item: "A".into(),
                    to: "D1".into(),
                    qty_per_month: p.qty,
                    from_time: p.from,
                    to_time: p.to,
                    partner: None,
                })
            } else {
                Record::Consumption(Consumption {
                    id: format!("c{i}"),
                    item: "A".into(),
                    org: "US".into(),
                    qty_per_month: p.qty,
                    from_time: p.from,
                    to_time: p.to,
                })
            });
        }
        s.apply(batch);
        let r = review_over(&s.ledger, Some("US"), as_of, horizon);
        let i = &r.items[0];
        let end = add_months(as_of, horizon as i64);
        let (mut produced, mut consumed) = (Exact::ZERO, Exact::ZERO);
        for (n, p) in plans.iter().enumerate() {
            let id = format!("{}{n}", if p.produce { "p" } else { "c" });
            let f = i.flows.iter().find(|f| f.id.as_deref() == Some(id.as_str())).unwrap();
            let cum = model_cum(p, as_of, end);
            prop_assert_eq!(f.over_horizon, cum.floor() as i128, "flow {:?}", p);
            if p.produce { produced = produced.add(cum) } else { consumed = consumed.add(cum) }
        }
        prop_assert_eq!(i.production, produced.floor() as i128);
        prop_assert_eq!(i.consumption, consumed.floor() as i128);
        // Level at the horizon, and the first breach, when only consumption moves it (so
        // the level falls monotonically and the model's answer is simple).
        if plans.iter().all(|p| !p.produce) {
            let cum = |t: Time| plans.iter().fold(Exact::ZERO, |s, p| s.add(model_cum(p, as_of, t)));
            let room = on_hand as i128 - floor_qty as i128;
            let c = cum(end);
            let at_horizon = on_hand as i128 - c.int as i128 - (c.num > 0) as i128;
            let series = qm_report::forecast::projection_series(&s.ledger, &r);
            prop_assert_eq!(series[0].points.last().unwrap().available, at_horizon);
            // The first month whose end (or the horizon's) sees the level below the floor.
            let (y, m) = year_month(as_of);
            let mut expected = None;
            for k in 0..=horizon as i64 {
                let me = month_start(y as i64, m as i64 + k + 1).min(end);
                if cum(me).above(room) {
                    expected = Some(month_start(y as i64, m as i64 + k));
                    break;
                }
                if me >= end {
                    break;
                }
            }
            if room < 0 {
                expected = Some(as_of);
            }
            let label = expected.map(|t| {
                let (y, m) = year_month(t);
                format!("{y:04}-{m:02}")
            });
            prop_assert_eq!(&i.first_breach, &label);
            if label.is_some() {
                let cover = (1..=horizon as i64)
                    .take_while(|&k| !cum(add_months(as_of, k)).above(room))
                    .count() as u32;
                prop_assert_eq!(i.months_of_cover, Some(cover));
            }
        }
    }
}

fn consumption_between(id: &str, qty: u64, from: &str, to: Option<&str>) -> Record {
    Record::Consumption(Consumption {
        id: id.into(),
        item: "A".into(),
        org: "US".into(),
        qty_per_month: qty,
        from_time: t(from),
        to_time: to.map(t),
    })
}

#[test]
fn a_rate_near_the_bound_is_neither_wrapped_nor_hides_its_breach() {
    // 63,523,440,658,778 a month wrapped the old fixed point (rate * 10^9 * nanoseconds);
    // from 1,000 on hand and a floor of 400 it breaches at once.
    let mut s = Scenario::new(&[("A", "c", None)]);
    s.apply(vec![
        mv("m1", "2024-12-01", "A", 1000, "SRC", "D1"),
        floor("A", "US", 400),
        consumption_between("c1", 63_523_440_658_778, "2025-01-01", None),
        consumption_between("c2", QTY_MAX, "2025-01-01", Some("2025-02-01")),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-01-01"), 1);
    let i = &r.items[0];
    assert_eq!(i.consumption, 63_523_440_658_778 + QTY_MAX as i128);
    assert_eq!(i.first_breach.as_deref(), Some("2025-01"));
    let r = review_over(&s.ledger, Some("US"), t("2025-01-01"), 24);
    let over: Vec<i128> = r.items[0].flows.iter().map(|f| f.over_horizon).collect();
    assert_eq!(over, [24 * 63_523_440_658_778, QTY_MAX as i128]);
    // Totals grow with the horizon.
    let mut last = 0;
    for h in [1, 2, 12, 100, 1200] {
        let c = review_over(&s.ledger, Some("US"), t("2025-01-01"), h).items[0].consumption;
        assert!(c > last, "horizon {h}: {c} after {last}");
        last = c;
    }
}

#[test]
fn the_total_over_a_horizon_is_the_floor_of_the_exact_sum() {
    // 100 a month from 1 January, as of 16 January, 24 months: 1600/31 of January, 23 whole
    // months, 1500/31 of the January 2027 up to the 16th: 2400 exactly (not 2399 from
    // flooring each month's part).
    let mut s = Scenario::new(&[("A", "c", None)]);
    s.apply(vec![
        mv("m1", "2024-12-01", "A", 10_000, "SRC", "D1"),
        consumption_between("c1", 100, "2025-01-01", None),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-01-16"), 24);
    let i = &r.items[0];
    assert_eq!((i.consumption, i.flows[0].over_horizon), (2400, 2400));
    let series = qm_report::forecast::projection_series(&s.ledger, &r);
    assert_eq!(series[0].points.last().unwrap().available, 10_000 - 2400);
}

fn threat_at_bounds(id: &str, time: &str, kinds: u32) -> Record {
    let n = |k: u32| (kinds > k).then_some(QTY_MAX);
    Record::Threat(Threat {
        id: id.into(),
        time: t(time),
        region: "X".into(),
        launched: ThreatCounts {
            drones: n(0),
            cruise_missiles: n(1),
            ballistic_missiles: n(2),
        },
        intercepted: None,
        interceptors_used: Some(vec![("INT".into(), QTY_MAX)]),
    })
}

#[test]
fn interceptor_demand_is_exact_for_counts_at_their_bounds() {
    // One report of 2^53 - 1 drones and as many interceptors used: per threat 1, the
    // forecast flat at 2^53 - 1 threats, so 2^53 - 1 interceptors a month (the old fit
    // saturated an i128 and showed 18,889,465,931,478.58).
    let mut s = Scenario::new(&[("INT", "air defence", None)]);
    s.apply(vec![
        mv("m1", "2025-01-01", "INT", 1000, "SRC", "D1"),
        threat_at_bounds("t1", "2025-04-10", 1),
    ]);
    let m = &threat_models(&s.ledger, t("2025-05-01"), 12)[0];
    assert_eq!(m.per_threat, Some(1.0));
    assert_eq!(m.demand.len(), 12);
    for d in &m.demand {
        assert_eq!(
            (d.threats, d.share, d.interceptors),
            (QTY_MAX as f64, 1.0, QTY_MAX as f64)
        );
    }
    let r = review_over(&s.ledger, Some("US"), t("2025-05-01"), 12);
    assert_eq!(r.items[0].consumption, 12 * QTY_MAX as i128);
    assert_eq!(r.items[0].first_breach.as_deref(), Some("2025-05"));

    // Many reports of every kind at the bound: 100 a month for three months, each of
    // 3 (2^53 - 1) threats and 2^53 - 1 used: a third per threat, 300 (2^53 - 1) threats a
    // month, so 100 (2^53 - 1) interceptors a month, exactly.
    let mut s = Scenario::new(&[("INT", "air defence", None)]);
    let mut batch = vec![mv("m1", "2025-01-01", "INT", QTY_MAX, "SRC", "D1")];
    for month in ["2025-02-10", "2025-03-10", "2025-04-10"] {
        for j in 0..100 {
            batch.push(threat_at_bounds(&format!("t{month}-{j}"), month, 3));
        }
    }
    s.apply(batch);
    let r = review_over(&s.ledger, Some("US"), t("2025-05-01"), 24);
    let i = &r.items[0];
    assert_eq!(i.flows[0].over_horizon, 2400 * QTY_MAX as i128);
    assert_eq!(i.first_breach.as_deref(), Some("2025-05"));
    let m = &threat_models(&s.ledger, t("2025-05-01"), 1)[0];
    assert_eq!(m.demand[0].interceptors, 100.0 * QTY_MAX as f64);
}

#[test]
fn qm_threats_shows_what_the_review_counts_and_the_fit_s_inputs() {
    // Reports: February 100 drones (50 used), March none, April 300 (150). As of 16 May:
    // per threat 0.5; the fit is over February and April only (the months with reports),
    // slope 100 a month (300 in April, the intercept), 400 in May; the review counts May from the 16th, 16/31 of it:
    // 0.5 * 400 * 16/31 = 103.2 interceptors.
    let mut s = Scenario::new(&[("INT", "air defence", None)]);
    s.apply(vec![
        mv("m1", "2025-01-01", "INT", 100_000, "SRC", "D1"),
        threat("t2", "2025-02-10", 100, "INT", 50),
        threat("t4", "2025-04-10", 300, "INT", 150),
    ]);
    let m = &threat_models(&s.ledger, t("2025-05-16"), 2)[0];
    let inputs: Vec<(&str, u32, u128)> = m
        .window
        .iter()
        .map(|w| (w.month.as_str(), w.reports, w.launched))
        .collect();
    assert_eq!(
        inputs,
        [("2025-02", 1, 100), ("2025-03", 0, 0), ("2025-04", 1, 300)]
    );
    assert_eq!((m.trend_intercept, m.trend_slope), (300.0, 100.0));
    // May from the 16th, June, July up to the 16th: the months a 2-month review counts.
    let months: Vec<&str> = m.demand.iter().map(|d| d.month.as_str()).collect();
    assert_eq!(months, ["2025-05", "2025-06", "2025-07"]);
    let may = &m.demand[0];
    assert_eq!(may.threats, 400.0);
    assert!((may.share - 16.0 / 31.0).abs() < 1e-12);
    assert!(
        (may.interceptors - 200.0 * 16.0 / 31.0).abs() < 1e-9,
        "{}",
        may.interceptors
    );
    // The review subtracts the same: 103.2 + 250 + 0.5 * 600 * 15/31 = 498.4, floored.
    let r = review_over(&s.ledger, Some("US"), t("2025-05-16"), 2);
    assert_eq!(r.items[0].consumption, 498);
    let shown: f64 = m.demand.iter().map(|d| d.interceptors).sum();
    assert!((shown - (200.0 * 16.0 / 31.0 + 250.0 + 300.0 * 15.0 / 31.0)).abs() < 1e-9);

    // A March report of `launched: {}` is a point of the fit (at 0), unlike no report: the
    // inputs say so. Fit over (-2, 100), (-1, 0), (0, 300): slope 100, intercept 233.33.
    s.apply(vec![Record::Threat(Threat {
        id: "t3".into(),
        time: t("2025-03-10"),
        region: "UA".into(),
        launched: ThreatCounts::default(),
        intercepted: None,
        interceptors_used: None,
    })]);
    let m = &threat_models(&s.ledger, t("2025-05-16"), 2)[0];
    assert_eq!((m.window[1].reports, m.window[1].launched), (1, 0));
    assert!(
        (m.trend_intercept - 700.0 / 3.0).abs() < 1e-9,
        "{}",
        m.trend_intercept
    );
}
