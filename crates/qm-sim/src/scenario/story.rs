//! The mid-2025 story the demo tells on top of the scenario's movements: a US drawdown
//! package to Ukraine is committed and approved, one approval breaches the US readiness floor
//! for Patriot interceptors and goes through only with a recorded override, stock is
//! dispatched to the Rzeszow hub and part of it delivered, then a pause on interceptors and
//! 155 mm to Ukraine is imposed pending a review of US stockpiles, with a review date; an
//! approval tried while it stands is refused naming it, while a dispatch dated before it,
//! recorded late, is still accepted.
//!
//! The story brings its own stock (a new lot of 155 mm and new Patriot serials, delivered in
//! May 2025), which the scenario's movements never touch, so the approvals are covered by
//! their depots at every later time whatever the scale; the quantities and, where needed, a
//! revised Patriot floor are read off the ledger, so that every step that should be accepted
//! is and the refusals are refused for the reasons the story names.

use qm_core::time::date;
use qm_core::{
    Allocate, Consumption, Ledger, Money, Movement, Override, Pause, Production, Record, Threat,
    ThreatCounts, Time, Tracking, Transfer, TransferLine,
};

/// One step of the story: records applied as one batch, and whether the ledger must refuse
/// them.
#[derive(Debug, Clone)]
pub struct Step {
    /// The effective date and what happens, for the reader.
    pub title: String,
    pub records: Vec<Record>,
    /// The ledger must refuse the batch (the refusal is part of the story).
    pub refused: bool,
}

/// The ids the story uses, for the commands the demo suggests.
pub const TRANSFER: &str = "PDA-2025-06";
pub const PAUSE: &str = "PAUSE-2025-07";
const DONOR: &str = "US-DOD";
const RECIPIENT: &str = "UA-AFU";
const SHELL: &str = "AMMO-155-M795";
const PAC3: &str = "MSL-PAC3-MSE";
const HUB: &str = "RZE-US";
const UNIT: &str = "UA-45ART";
const SHELL_DEPOT: &str = "US-CAAA";
const SHELL_SOURCE: &str = "SRC-GDOTS-SCRANTON";
const SHELL_LOT: &str = "M795-2025-05";
const PAC3_DEPOT: &str = "US-LEAD";
const PAC3_SOURCE: &str = "SRC-LMT-CAMDEN";
const DRONE: &str = "DRN-INTERCEPTOR";
const DRONE_DEPOT: &str = "UA-DEPOT-W";
const DRONE_PARTNER: &str = "OCTOPUS-JV";
/// Patriot interceptors in the package.
const PAC3_QTY: u64 = 12;

/// How far the donor's available stock of `item` stays above its floor from `from` on.
fn floor_headroom(ledger: &Ledger, item: &str, from: Time) -> i64 {
    let (Some(i), Some(o)) = (ledger.item_idx(item), ledger.org_idx(DONOR)) else {
        return 0;
    };
    let Some(os) = ledger.org_stock(o, i) else {
        return 0;
    };
    ledger
        .floor_spans(o, i, from)
        .iter()
        .filter_map(|s| {
            let (low, _) = os
                .available
                .lowest_in(s.start, s.end.unwrap_or(Time::MAX))?;
            Some(low - s.min_qty as i64)
        })
        .min()
        .unwrap_or_else(|| os.available.lowest_in(from, Time::MAX).map_or(0, |x| x.0))
}

fn value(ledger: &Ledger, item: &str, qty: u64) -> Option<Money> {
    let it = &ledger.items()[ledger.item_idx(item)? as usize];
    let unit = it.unit_value.as_ref()?;
    let (int, frac) = unit.amount.split_once('.').unwrap_or((&unit.amount, ""));
    let micros =
        int.parse::<u128>().ok()? * 1_000_000 + format!("{frac:0<6}")[..6].parse::<u128>().ok()?;
    let total = micros.checked_mul(qty as u128)?;
    Some(Money {
        amount: format!("{}.{:02}", total / 1_000_000, total % 1_000_000 / 10_000),
        currency: unit.currency.clone(),
    })
}

fn movement(
    id: &str,
    time: Time,
    item: &str,
    qty: u64,
    from: &str,
    to: &str,
    lot: &Option<String>,
) -> Record {
    Record::Movement(Movement {
        id: id.into(),
        time,
        item: item.into(),
        qty,
        from: from.into(),
        to: to.into(),
        lot: lot.clone(),
        serials: None,
        kind: Some("transfer".into()),
        transfer: Some(TRANSFER.into()),
        note: None,
    })
}

/// A delivery from a producer into a depot (not under a transfer).
#[allow(clippy::too_many_arguments)]
fn delivery(
    id: &str,
    time: Time,
    item: &str,
    from: &str,
    to: &str,
    lot: Option<&str>,
    serials: Option<Vec<String>>,
    qty: u64,
) -> Record {
    Record::Movement(Movement {
        id: id.into(),
        time,
        item: item.into(),
        qty,
        from: from.into(),
        to: to.into(),
        lot: lot.map(Into::into),
        serials,
        kind: Some("production".into()),
        transfer: None,
        note: None,
    })
}

/// The story's steps, in order, for the ledger the scenario built; `None` when the scenario
/// is too small to tell it (no US 155 mm or Patriot stock in mid-2025).
pub fn mid_2025(ledger: &Ledger) -> Option<Vec<Step>> {
    let produced = date(2025, 5, 20);
    let floor_raised = date(2025, 5, 30);
    let committed = date(2025, 6, 2);
    let approved = date(2025, 6, 3);
    let dispatched = date(2025, 6, 10);
    let delivered = date(2025, 6, 20);
    let late_dispatch = date(2025, 6, 25);
    let paused = date(2025, 7, 1);
    let review_by = date(2025, 8, 15);
    let tried = date(2025, 7, 8);

    for id in [DONOR, RECIPIENT] {
        ledger.org_idx(id)?;
    }
    ledger.org_idx(DRONE_PARTNER)?;
    ledger.item_idx(DRONE)?;
    for id in [
        DRONE_DEPOT,
        HUB,
        UNIT,
        SHELL_DEPOT,
        SHELL_SOURCE,
        PAC3_DEPOT,
        PAC3_SOURCE,
    ] {
        ledger.holder_idx(id)?;
    }
    let shell_tracking = ledger.items()[ledger.item_idx(SHELL)? as usize].tracking;
    let pac3_tracking = ledger.items()[ledger.item_idx(PAC3)? as usize].tracking;
    if shell_tracking != Tracking::Lot || pac3_tracking != Tracking::Serial {
        return None;
    }
    // 155 mm: half of a new lot approved; enough that the US stays above its floor even where
    // its stock is lowest later.
    let shell_room = floor_headroom(ledger, SHELL, approved);
    let shell_qty = (10_000i64).max(1_000 - shell_room) as u64;
    let shell_lot = Some(SHELL_LOT.to_owned());
    // Patriot: the US floor must be breached by the approval of 12, for the override to be
    // needed: if it would not be (the US is above its floor by 12 or more from June on), the
    // Joint Staff raises the floor first.
    let pac3_room = floor_headroom(ledger, PAC3, approved);
    let current_floor = ledger.floor(PAC3, DONOR, approved).unwrap_or(0) as i64;
    let raise_to = (pac3_room >= 0).then(|| current_floor + pac3_room + 5);
    let pac3_lot: Option<String> = None;
    let serials: Vec<String> = (1..=PAC3_QTY)
        .map(|n| format!("PAC3-2025-05-{n:03}"))
        .collect();
    let (pac3_depot, shell_depot) = (PAC3_DEPOT.to_owned(), SHELL_DEPOT.to_owned());
    let pac3_qty = PAC3_QTY;
    let transfer = Record::Transfer(Transfer {
        id: TRANSFER.into(),
        time: committed,
        donor: DONOR.into(),
        recipient: RECIPIENT.into(),
        lines: vec![
            TransferLine {
                item: SHELL.into(),
                qty: shell_qty * 2,
                value: value(ledger, SHELL, shell_qty * 2),
            },
            TransferLine {
                item: PAC3.into(),
                qty: pac3_qty,
                value: value(ledger, PAC3, pac3_qty),
            },
        ],
        authority: Some("Presidential Drawdown Authority, package 2025-06".into()),
        note: Some("155 mm and Patriot interceptors for the summer".into()),
    });
    let allocate = |id: &str,
                    time,
                    item: &str,
                    qty,
                    from: &str,
                    lot: &Option<String>,
                    over: Option<Override>| {
        Record::Allocate(Allocate {
            id: id.into(),
            time,
            transfer: TRANSFER.into(),
            item: item.into(),
            qty,
            from: from.into(),
            lot: lot.clone(),
            override_: over,
        })
    };
    let mut steps = vec![Step {
        title: format!(
            "2025-05-20  deliveries: lot {SHELL_LOT} of {} rounds of 155 mm to {SHELL_DEPOT}, {PAC3_QTY} PAC-3 MSE to {PAC3_DEPOT}",
            shell_qty * 2
        ),
        records: vec![
            delivery("PROD-2025-05-155", produced, SHELL, SHELL_SOURCE, SHELL_DEPOT, Some(SHELL_LOT), None, shell_qty * 2),
            delivery("PROD-2025-05-PAC3", produced, PAC3, PAC3_SOURCE, PAC3_DEPOT, None, Some(serials), PAC3_QTY),
        ],
        refused: false,
    }];
    if let Some(floor) = raise_to {
        steps.push(Step {
            title: format!("2025-05-30  the Joint Staff raises the US readiness floor for PAC-3 MSE to {floor}"),
            records: vec![Record::Floor(qm_core::Floor {
                item: PAC3.into(),
                org: DONOR.into(),
                min_qty: floor as u64,
                time: Some(floor_raised),
            })],
            refused: false,
        });
    }
    steps.extend(vec![
        Step {
            title: format!("2025-06-02  {TRANSFER} committed: {} rounds of 155 mm and {pac3_qty} PAC-3 MSE to Ukraine", shell_qty * 2),
            records: vec![transfer],
            refused: false,
        },
        Step {
            title: format!("2025-06-03  {shell_qty} rounds of 155 mm approved and earmarked at {shell_depot}"),
            records: vec![allocate("ALLOC-2025-06-155", approved, SHELL, shell_qty, &shell_depot, &shell_lot, None)],
            refused: false,
        },
        Step {
            title: format!("2025-06-03  {pac3_qty} PAC-3 MSE: the approval would take US stock below its readiness floor"),
            records: vec![allocate("ALLOC-2025-06-PAC3", approved, PAC3, pac3_qty, &pac3_depot, &pac3_lot, None)],
            refused: true,
        },
        Step {
            title: format!("2025-06-03  {pac3_qty} PAC-3 MSE approved with a recorded override of the floor"),
            records: vec![allocate(
                "ALLOC-2025-06-PAC3",
                approved,
                PAC3,
                pac3_qty,
                &pac3_depot,
                &pac3_lot,
                Some(Override {
                    reason: "Patriot interceptors for the air defence of Kyiv: decided by the President".into(),
                    by: "Deputy Secretary of Defense".into(),
                }),
            )],
            refused: false,
        },
        Step {
            title: format!("2025-06-10  {} rounds dispatched to {HUB}; 2025-06-20 {} delivered to {UNIT}", shell_qty / 2, shell_qty / 4),
            records: vec![
                movement("DISP-2025-06-155-1", dispatched, SHELL, shell_qty / 2, &shell_depot, HUB, &shell_lot),
                movement("DLVR-2025-06-155-1", delivered, SHELL, shell_qty / 4, HUB, UNIT, &shell_lot),
            ],
            refused: false,
        },
        Step {
            title: format!("2025-07-01  {PAUSE}: interceptors and 155 mm to Ukraine paused pending a review of US stockpiles (review by 2025-08-15)"),
            records: vec![Record::Pause(Pause {
                id: PAUSE.into(),
                time: paused,
                reason: "pending a review of US stockpiles: do we still keep enough for ourselves?".into(),
                by: "US Secretary of Defense".into(),
                items: Some(vec![PAC3.into(), SHELL.into()]),
                categories: None,
                donor: None,
                recipient: Some(RECIPIENT.into()),
                transfer: None,
                review_by: Some(review_by),
            })],
            refused: false,
        },
        Step {
            title: "2025-07-02  the review's inputs: PAC-3 MSE production, joint interceptor-drone production, US use of 155 mm, monthly threat reports".into(),
            records: review_inputs(ledger, shell_qty),
            refused: false,
        },
        Step {
            title: format!("2025-07-08  the rest of the 155 mm ({shell_qty} rounds) put up for approval while the pause stands"),
            records: vec![allocate("ALLOC-2025-07-155", tried, SHELL, shell_qty, &shell_depot, &shell_lot, None)],
            refused: true,
        },
        Step {
            title: format!("2025-06-25  a dispatch of {} rounds dated before the pause, recorded late: accepted", shell_qty / 4),
            records: vec![movement("DISP-2025-06-155-2", late_dispatch, SHELL, shell_qty / 4, &shell_depot, HUB, &shell_lot)],
            refused: false,
        },
    ]);
    Some(steps)
}

/// What the stockpile review projects from (illustrative rates, of the order of public
/// reporting in 2025): Lockheed Martin's PAC-3 MSE output (about 600 a year), Project
/// Octopus's joint UK-Ukrainian interceptor-drone line (about 2,000 a month announced, from
/// December 2025), the US Army's own use of 155 mm, and monthly threat reports for Ukraine
/// from April 2025 to February 2026 (drones and missiles launched, of the order of the
/// Ukrainian Air Force's monthly totals; the reports after the pause are recorded with it,
/// so that the review at the scenario's end has its window of three months; the PAC-3 MSE used against ballistic missiles is an assumption of
/// the demo, not a reported figure), from which the review derives interceptor demand.
fn review_inputs(ledger: &Ledger, shell_qty: u64) -> Vec<Record> {
    let mut records = vec![
        Record::Production(Production {
            id: "PLAN-PAC3-LMT-2025".into(),
            item: PAC3.into(),
            to: PAC3_DEPOT.into(),
            qty_per_month: 50,
            from_time: date(2025, 1, 1),
            to_time: None,
            partner: None,
        }),
        Record::Consumption(Consumption {
            id: "PLAN-155-US-USE-2025".into(),
            item: SHELL.into(),
            org: DONOR.into(),
            // Of the order of the approval: the review shows what US use leaves.
            qty_per_month: (shell_qty / 4).max(1),
            from_time: date(2025, 7, 1),
            to_time: None,
        }),
    ];
    if ledger.holder_idx(DRONE_DEPOT).is_some() {
        records.push(Record::Production(Production {
            id: "PLAN-OCTOPUS-2025-12".into(),
            item: DRONE.into(),
            to: DRONE_DEPOT.into(),
            qty_per_month: 2_000,
            from_time: date(2025, 12, 1),
            to_time: None,
            partner: Some(DRONE_PARTNER.into()),
        }));
    }
    for (year, month, drones, cruise, ballistic, pac3) in [
        (2025, 4, 4_300, 60, 50, 30),
        (2025, 5, 4_200, 70, 40, 25),
        (2025, 6, 5_400, 80, 70, 40),
        (2025, 7, 6_300, 90, 60, 35),
        (2025, 8, 4_100, 60, 40, 25),
        (2025, 9, 5_600, 90, 60, 35),
        (2025, 10, 5_300, 110, 70, 45),
        (2025, 11, 5_400, 100, 60, 40),
        (2025, 12, 5_100, 90, 60, 35),
        (2026, 1, 4_800, 80, 70, 40),
        (2026, 2, 5_000, 90, 60, 35),
    ] {
        records.push(Record::Threat(Threat {
            id: format!("THREAT-UA-{year}-{month:02}"),
            time: date(year, month, 15),
            region: "Ukraine".into(),
            launched: ThreatCounts {
                drones: Some(drones),
                cruise_missiles: Some(cruise),
                ballistic_missiles: Some(ballistic),
            },
            intercepted: None,
            interceptors_used: Some(vec![(PAC3.into(), pac3)]),
        }));
    }
    records
}
