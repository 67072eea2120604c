//! The stockpile review and its projection, on scenarios worked by hand.

use qm_core::*;
use qm_report::*;

use crate::*;

fn item<'r>(r: &'r Review, code: &str) -> &'r ReviewItem {
    r.items
        .iter()
        .find(|i| i.item == code)
        .expect("item in the review")
}

#[test]
fn months_of_cover_count_whole_months_until_the_floor_is_crossed() {
    // 100 shells at D1; floor 40; consumption 20 a month from 1 Feb 2025. Projected
    // available: 1 Feb 100, 1 Mar 80, 1 Apr 60, 1 May 40 (at the floor: still covered), and
    // below it from then on. So three whole months of cover, first breach in May 2025.
    let mut s = Scenario::new(&[("SHELL", "artillery", None)]);
    s.apply(vec![
        mv("m1", "2025-01-01", "SHELL", 100, "SRC", "D1"),
        floor("SHELL", "US", 40),
        consumption("c1", "SHELL", "US", 20, "2025-02-01"),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-02-01"), 24);
    let i = item(&r, "SHELL");
    assert_eq!((i.on_hand, i.available, i.floor), (100, 100, 40));
    // The chart's series: month by month, 100, 80, 60, 40, 20, 0, -20...
    let series = qm_report::forecast::projection_series(&s.ledger, &r);
    let shell = series.iter().find(|x| x.item == "SHELL").unwrap();
    assert_eq!(shell.points.len(), 25);
    assert_eq!(
        shell.points[..6]
            .iter()
            .map(|p| (p.available, p.floor))
            .collect::<Vec<_>>(),
        [(100, 40), (80, 40), (60, 40), (40, 40), (20, 40), (0, 40)]
    );
    assert_eq!(shell.points[24].available, 100 - 24 * 20);
    assert_eq!(i.months_of_cover, Some(3));
    assert_eq!(i.first_breach.as_deref(), Some("2025-05"));
    // Over 24 months, 480 consumed.
    assert_eq!(i.consumption, 480);
    // A horizon that ends before the breach sees none.
    let r = review_over(&s.ledger, Some("US"), t("2025-02-01"), 3);
    assert_eq!(item(&r, "SHELL").months_of_cover, None);
    assert_eq!(item(&r, "SHELL").first_breach, None);
}

#[test]
fn joint_production_slows_the_fall_and_is_shown_with_its_partner() {
    // As above, with 10 a month produced into D1 jointly with the UK from 1 Feb: net -10 a
    // month, so 100 falls to the floor of 40 on 1 Aug 2025: six months of cover, breach in
    // August. Over 24 months: 240 produced, 480 consumed.
    let mut s = Scenario::new(&[("SHELL", "artillery", None)]);
    s.apply(vec![
        mv("m1", "2025-01-01", "SHELL", 100, "SRC", "D1"),
        floor("SHELL", "US", 40),
        consumption("c1", "SHELL", "US", 20, "2025-02-01"),
        production("p1", "SHELL", "D1", 10, "2025-02-01", Some("UK")),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-02-01"), 24);
    let i = item(&r, "SHELL");
    assert_eq!(i.months_of_cover, Some(6));
    assert_eq!(i.first_breach.as_deref(), Some("2025-08"));
    assert_eq!((i.production, i.consumption), (240, 480));
    let p = i.flows.iter().find(|f| f.kind == "production").unwrap();
    assert_eq!(p.partner.as_deref(), Some("UK"));
    assert_eq!(p.over_horizon, 240);
    // The partner's own review does not count it: the output enters a US depot.
    let uk = review_over(&s.ledger, Some("UK"), t("2025-02-01"), 24);
    assert_eq!(item(&uk, "SHELL").production, 0);
}

#[test]
fn interceptor_demand_follows_the_threat_reports_trend() {
    // Threat reports: March 100 drones (50 interceptors used), April 120 (60), May 140
    // (70). As of 1 June the window is March to May: 0.5 interceptors per threat; threats
    // rise 20 a month, so June 160, July 180, August 200, September 220, October 240, and
    // demand 80, 90, 100, 110, 120. From 500 interceptors (floor 100): 1 Jul 420, 1 Aug 330,
    // 1 Sep 230, 1 Oct 120, and 100 is crossed in October (120 - 120 * 5/31 days). Four
    // whole months of cover, first breach October 2025.
    let mut s = Scenario::new(&[("INT", "air defence", Some("100000"))]);
    s.apply(vec![
        mv("m1", "2025-01-01", "INT", 500, "SRC", "D1"),
        floor("INT", "US", 100),
        threat("t3", "2025-03-31", 100, "INT", 50),
        threat("t4", "2025-04-15", 120, "INT", 60),
        threat("t5", "2025-05-01", 140, "INT", 70),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-06-01"), 24);
    let i = item(&r, "INT");
    assert_eq!(i.months_of_cover, Some(4));
    assert_eq!(i.first_breach.as_deref(), Some("2025-10"));
    let d = i
        .flows
        .iter()
        .find(|f| f.kind == "interceptor_demand")
        .unwrap();
    // 24 months of demand: 80 + 90 + ... + 310 = 24 * (80 + 310) / 2 = 4680.
    assert_eq!(d.over_horizon, 4680);
    assert_eq!(i.available_value.as_ref().unwrap().amount, "50000000.00");
    // The model's inputs, as `qm threats` shows them.
    let m = &qm_report::forecast::threat_models(&s.ledger, t("2025-06-01"), 3)[0];
    assert_eq!(m.item, "INT");
    assert_eq!(
        m.window.iter().map(|w| w.launched).collect::<Vec<_>>(),
        [100, 120, 140]
    );
    assert_eq!(m.per_threat, Some(0.5));
    assert_eq!((m.trend_intercept, m.trend_slope), (140.0, 20.0));
    assert_eq!(
        m.demand
            .iter()
            .map(|d| (d.month.as_str(), d.interceptors))
            .collect::<Vec<_>>(),
        [("2025-06", 80.0), ("2025-07", 90.0), ("2025-08", 100.0)]
    );
}

#[test]
fn stock_already_below_its_floor_has_no_cover_and_items_are_sorted_by_risk() {
    // DRONE: 30 on hand, floor 50: breached now (June 2025), no cover. SHELL: 100 less 20 a
    // month from 1 June reaches its floor of 40 on 1 September. PAC3: no floor, nothing
    // consumed: no breach. Sorted by risk: DRONE, SHELL, then PAC3.
    let mut s = Scenario::new(&[
        ("PAC3", "missile", None),
        ("SHELL", "artillery", None),
        ("DRONE", "uav", None),
    ]);
    s.apply(vec![
        mv("m1", "2025-01-01", "SHELL", 100, "SRC", "D1"),
        mv("m2", "2025-01-01", "DRONE", 30, "SRC", "D2"),
        mv("m3", "2025-01-01", "PAC3", 3, "SRC", "D2"),
        floor("SHELL", "US", 40),
        floor("DRONE", "US", 50),
        consumption("c1", "SHELL", "US", 20, "2025-06-01"),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-06-01"), 24);
    let order: Vec<&str> = r.items.iter().map(|i| i.item.as_str()).collect();
    assert_eq!(order, ["DRONE", "SHELL", "PAC3"]);
    let drone = item(&r, "DRONE");
    assert_eq!(
        (drone.months_of_cover, drone.first_breach.as_deref()),
        (Some(0), Some("2025-06"))
    );
    // SHELL: 1 Jun 100, 1 Jul 80, 1 Aug 60, 1 Sep 40, then below: 3 months, September.
    let shell = item(&r, "SHELL");
    assert_eq!(
        (shell.months_of_cover, shell.first_breach.as_deref()),
        (Some(3), Some("2025-09"))
    );
    assert_eq!(item(&r, "PAC3").first_breach, None);
}

#[test]
fn a_what_if_shows_each_item_before_and_after_and_changes_nothing() {
    // 500 interceptors, floor 100, consumption 50 a month from 1 June: 8 months of cover
    // (1 Feb 2026: 100). A proposal commits and allocates 200 to UA on 1 June: available
    // 300, which reaches 100 after 4 months (1 Oct 2025).
    let mut s = Scenario::new(&[("INT", "air defence", None)]);
    s.apply(vec![
        mv("m1", "2025-01-01", "INT", 500, "SRC", "D1"),
        floor("INT", "US", 100),
        consumption("c1", "INT", "US", 50, "2025-06-01"),
    ]);
    let proposal = vec![
        Record::Transfer(Transfer {
            id: "T-NEW".into(),
            time: t("2025-06-01"),
            donor: "US".into(),
            recipient: "UA".into(),
            lines: vec![TransferLine {
                item: "INT".into(),
                qty: 200,
                value: None,
            }],
            authority: None,
            note: None,
        }),
        Record::Allocate(Allocate {
            id: "A-NEW".into(),
            time: t("2025-06-01"),
            transfer: "T-NEW".into(),
            item: "INT".into(),
            qty: 200,
            from: "D1".into(),
            lot: None,
            override_: None,
        }),
    ];
    let before_bytes = s.ledger.encode_snapshot();
    let r = what_if(
        &mut s.ledger,
        &proposal,
        &Originals::default(),
        Some("US"),
        t("2025-06-01"),
        &ReviewOptions {
            horizon: 24,
            depots: false,
            since: None,
        },
    )
    .expect("the proposal applies");
    assert_eq!(
        s.ledger.encode_snapshot(),
        before_bytes,
        "a what-if changes nothing"
    );
    let i = item(&r, "INT");
    assert_eq!(
        (i.available, i.earmarked, i.months_of_cover),
        (300, 200, Some(4))
    );
    assert_eq!(i.first_breach.as_deref(), Some("2025-10"));
    let b = i.before.as_ref().unwrap();
    assert_eq!(
        (b.available, b.earmarked, b.months_of_cover),
        (500, 0, Some(8))
    );
    assert_eq!(b.first_breach.as_deref(), Some("2026-02"));
}

#[test]
fn the_review_shows_what_was_sent_per_recipient_and_what_went_to_sinks() {
    let mut s = Scenario::new(&[("SHELL", "artillery", None)]);
    s.apply(vec![
        mv("m1", "2025-01-01", "SHELL", 100, "SRC", "D1"),
        Record::Transfer(Transfer {
            id: "T1".into(),
            time: t("2025-01-02"),
            donor: "US".into(),
            recipient: "UA".into(),
            lines: vec![TransferLine {
                item: "SHELL".into(),
                qty: 50,
                value: None,
            }],
            authority: None,
            note: None,
        }),
        Record::Allocate(Allocate {
            id: "A1".into(),
            time: t("2025-01-03"),
            transfer: "T1".into(),
            item: "SHELL".into(),
            qty: 50,
            from: "D1".into(),
            lot: None,
            override_: None,
        }),
    ]);
    let mut m2 = mv("m2", "2025-01-04", "SHELL", 30, "D1", "HUB");
    let mut m3 = mv("m3", "2025-01-05", "SHELL", 20, "HUB", "UA-U1");
    for m in [&mut m2, &mut m3] {
        if let Record::Movement(m) = m {
            m.transfer = Some("T1".into());
        }
    }
    s.apply(vec![
        m2,
        m3,
        mv("m4", "2025-01-06", "SHELL", 5, "D1", "EXPENDED"),
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-02-01"), 24);
    let i = item(&r, "SHELL");
    assert_eq!(
        (i.on_hand, i.earmarked, i.available, i.in_transit),
        (65, 20, 45, 10)
    );
    assert_eq!(
        (
            i.sent[0].recipient.as_str(),
            i.sent[0].dispatched,
            i.sent[0].delivered
        ),
        ("UA", 30, 20)
    );
    assert_eq!((i.sunk[0].holder.as_str(), i.sunk[0].qty), ("EXPENDED", 5));
    // Over a period from 4 January 12:00: nothing more dispatched, 20 delivered, 5 expended.
    let opts = ReviewOptions {
        horizon: 24,
        depots: false,
        since: Some(t("2025-01-04T12:00:00Z")),
    };
    let r = review_with(&s.ledger, Some("US"), t("2025-02-01"), &opts);
    let i = item(&r, "SHELL");
    assert_eq!((i.sent[0].dispatched, i.sent[0].delivered), (0, 20));
    assert_eq!(i.sunk[0].qty, 5);
    let r = review_with(
        &s.ledger,
        Some("US"),
        t("2025-02-01"),
        &ReviewOptions {
            since: Some(t("2025-01-07")),
            ..opts
        },
    );
    assert!(item(&r, "SHELL").sent.is_empty() && item(&r, "SHELL").sunk.is_empty());
}

#[test]
fn a_floor_raised_inside_the_horizon_is_a_breach_without_any_plan() {
    // 80 shells at D1, no plan: the level stays 80. The floor is 40 until 15 Jun 2025, then
    // 100. Reviewed as of 1 Feb 2025: covered through the months before the raise (1 Mar,
    // 1 Apr, 1 May, 1 Jun: four whole months), breached on 15 Jun. The series shows the floor
    // at each month's end: 40 until 1 Jun, 100 from 1 Jul.
    let mut s = Scenario::new(&[("SHELL", "artillery", None)]);
    let mut raised = floor("SHELL", "US", 100);
    if let Record::Floor(f) = &mut raised {
        f.time = Some(t("2025-06-15"));
    }
    s.apply(vec![
        mv("m1", "2025-01-01", "SHELL", 80, "SRC", "D1"),
        floor("SHELL", "US", 40),
        raised,
    ]);
    let r = review_over(&s.ledger, Some("US"), t("2025-02-01"), 24);
    let i = item(&r, "SHELL");
    assert_eq!((i.available, i.floor), (80, 40));
    assert_eq!(i.months_of_cover, Some(4));
    assert_eq!(i.first_breach.as_deref(), Some("2025-06"));
    let series = qm_report::forecast::projection_series(&s.ledger, &r);
    let shell = series.iter().find(|x| x.item == "SHELL").unwrap();
    assert_eq!(
        shell.points[..7]
            .iter()
            .map(|p| (p.available, p.floor))
            .collect::<Vec<_>>(),
        [
            (80, 40),
            (80, 40),
            (80, 40),
            (80, 40),
            (80, 40),
            (80, 100),
            (80, 100)
        ]
    );
    // As of after the raise, the floor is 100 from the start: no cover at all.
    let r = review_over(&s.ledger, Some("US"), t("2025-07-01"), 24);
    assert_eq!(item(&r, "SHELL").months_of_cover, Some(0));
}
