//! The realistic scenario: valid, exact, deterministic, ~1% late, realistic in proportion.

use std::collections::HashSet;
use std::sync::OnceLock;

use qm_core::{HolderKind, Record, Tracking};
use qm_sim::time::{add_months, date};
use qm_sim::{realistic, ScenarioConfig};

use crate::checker::{check_stream, Checker};

fn config(movements: u64, batch_size: usize) -> ScenarioConfig {
    ScenarioConfig {
        movements,
        batch_size,
        seed: 7,
        ..ScenarioConfig::default()
    }
}

fn run(config: ScenarioConfig) -> Checker {
    let scenario = realistic(config.clone());
    check_stream(
        &scenario.master_data(),
        scenario.batches(),
        config.movements,
        config.batch_size,
    )
}

/// 200k movements, generated and checked once for the tests that look at them.
fn two_hundred_thousand() -> &'static Checker {
    static CHECKED: OnceLock<Checker> = OnceLock::new();
    CHECKED.get_or_init(|| run(config(200_000, 10_000)))
}

#[test]
fn two_hundred_thousand_movements_are_valid_and_about_one_percent_late() {
    let c = two_hundred_thousand();
    assert_eq!(c.batches, 20);
    let late_share = c.late_by_batch as f64 / c.movements as f64;
    assert!(
        (0.008..=0.012).contains(&late_share),
        "late share {late_share}"
    );
    // Most late movements take stock out of a holder (receipts from transit, expenditures).
    assert!(
        c.late_outflows as f64 > 0.5 * c.late_by_batch as f64,
        "{} of {}",
        c.late_outflows,
        c.late_by_batch
    );
    for kind in [
        "opening",
        "production",
        "dispatch",
        "handover",
        "receipt",
        "issue",
        "expenditure",
        "loss",
        "return",
    ] {
        assert!(
            c.kinds.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} movements: {:?}",
            c.kinds
        );
    }
    assert!(c.kinds["expenditure"] > c.movements / 2, "{:?}", c.kinds);
    for prefix in [
        "PDA-2022-",
        "USAI-2025-",
        "PURL-2025-",
        "DE-2023-",
        "UK-2024-",
    ] {
        assert!(
            c.transfers.iter().any(|t| t.starts_with(prefix)),
            "no transfer {prefix}*"
        );
    }
    // Everything happens between the start and the end of the four years.
    let start = ScenarioConfig::default().start;
    assert_eq!(c.min_time, Some(start));
    assert!(c.max_time.unwrap() <= add_months(start, 48));
    assert!(c.max_time.unwrap() > date(2026, 2, 1));
}

#[test]
fn proportions_are_realistic() {
    let c = two_hundred_thousand();
    let brought = |item: &str| c.brought_in.get(item).copied().unwrap_or(0) as f64;
    let shells = brought("AMMO-155-M795") + brought("AMMO-155-EU");
    let pac3 = brought("MSL-PAC3-MSE");
    let drones = brought("DRN-INTERCEPTOR");
    let javelins = brought("MSL-JAVELIN");
    // At 1M movements: shells in the millions, PAC-3 in the hundreds, drones in the tens of
    // thousands; a fifth of that here.
    assert!(shells > 500_000.0, "{shells}");
    assert!((50.0..1_000.0).contains(&pac3), "{pac3}");
    assert!((5_000.0..50_000.0).contains(&drones), "{drones}");
    assert!(shells / pac3 > 1_000.0);
    assert!(javelins > 5.0 * pac3);
}

#[test]
fn exact_counts_for_any_size() {
    for (movements, batch_size) in [
        (0, 10),
        (1, 10),
        (7, 3),
        (1_000, 7),
        (25_000, 999),
        (30_000, 100_000),
    ] {
        let c = run(config(movements, batch_size));
        assert_eq!(
            c.batches,
            movements.div_ceil(batch_size as u64),
            "{movements} in batches of {batch_size}"
        );
    }
}

#[test]
fn other_spans_and_seeds_are_valid() {
    run(ScenarioConfig {
        movements: 40_000,
        batch_size: 1_000,
        seed: 99,
        years: 2,
        ..ScenarioConfig::default()
    });
    run(ScenarioConfig {
        movements: 40_000,
        batch_size: 5_000,
        seed: 3,
        years: 6,
        ..ScenarioConfig::default()
    });
}

#[test]
fn same_seed_same_records() {
    let a = realistic(config(50_000, 10_000));
    let b = realistic(config(50_000, 10_000));
    assert_eq!(a.master_data(), b.master_data());
    assert!(a.batches().zip(b.batches()).all(|(x, y)| x == y));
    // A second stream of the same scenario starts over.
    assert!(a.batches().zip(a.batches()).all(|(x, y)| x == y));
    let other = realistic(ScenarioConfig {
        seed: 8,
        ..config(50_000, 10_000)
    });
    assert!(a.batches().zip(other.batches()).any(|(x, y)| x != y));
}

#[test]
fn master_data_names_the_real_actors() {
    let s = realistic(ScenarioConfig::default());
    let master = s.master_data();
    assert_eq!(
        master.len(),
        s.orgs().len() + s.holders().len() + s.items().len() + s.floors().len()
    );
    let holder = |id: &str| {
        s.holders()
            .iter()
            .find(|h| h.id == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    for (id, kind) in [
        ("US-ANAD", HolderKind::Depot),
        ("US-LEAD", HolderKind::Depot),
        ("US-MCAAP", HolderKind::Depot),
        ("US-CAAA", HolderKind::Depot),
        ("RZE-US", HolderKind::Transit),
        ("UA-RAIL", HolderKind::Transit),
        ("UA-47MECH", HolderKind::Unit),
        ("SRC-OPEN-US", HolderKind::Source),
        ("SRC-OCTOPUS", HolderKind::Source),
        ("SINK-EXPENDED", HolderKind::Sink),
        ("SINK-DEMIL", HolderKind::Sink),
    ] {
        assert_eq!(holder(id).kind, kind, "{id}");
    }
    assert_eq!(holder("RZE-US").country.as_deref(), Some("PL"));
    for h in s.holders() {
        assert_eq!(h.country.as_ref().map(|c| c.len()), Some(2), "{}", h.id);
        if h.kind != HolderKind::Source && h.kind != HolderKind::Sink {
            assert!(h.lat.is_some() && h.lon.is_some(), "{} has no place", h.id);
        }
    }
    for org in [
        "US-DOD",
        "DE-BMVG",
        "PL-MON",
        "UK-MOD",
        "FR-MINARM",
        "NL-MOD",
        "NO-MOD",
        "UA-AFU",
        "LMT",
        "RTX",
        "RHM",
        "OCTOPUS-JV",
        "DODIG",
    ] {
        assert!(s.orgs().iter().any(|o| o.id == org), "{org}");
    }
    for item in s.items() {
        let value = &item.unit_value.as_ref().unwrap().amount;
        assert!(
            value.parse::<f64>().unwrap() > 0.0 && value.split('.').nth(1).map(str::len) == Some(2),
            "{value}"
        );
        if item.sensitive == Some(true) {
            assert_eq!(item.tracking, Tracking::Serial, "{}", item.code);
            assert!(
                matches!(item.inventory_interval_days, Some(90 | 365)),
                "{}",
                item.code
            );
        }
    }
    let pac3 = s.items().iter().find(|i| i.code == "MSL-PAC3-MSE").unwrap();
    assert_eq!(pac3.unit_value.as_ref().unwrap().amount, "4100000.00");
    // Every donor has floors, and every floor is for a donor.
    let donors: HashSet<&str> = s.donor_orgs().map(|o| o.id.as_str()).collect();
    assert_eq!(donors.len(), 7);
    for f in s.floors() {
        assert!(donors.contains(f.org.as_str()) && f.min_qty > 0, "{f:?}");
    }
    for d in &donors {
        assert!(s.floors().iter().any(|f| f.org == *d), "no floor for {d}");
        assert!(s.depots_of(d).count() > 0, "no depot for {d}");
    }
    assert!(master.iter().all(|r| !matches!(r, Record::Movement(_))));
}

#[test]
fn serials_and_lots_look_real() {
    let s = realistic(config(20_000, 5_000));
    let mut saw_serial = false;
    let mut saw_lot = false;
    for batch in s.batches() {
        for r in &batch {
            let Record::Movement(m) = r else {
                unreachable!()
            };
            assert_eq!(m.id.len(), 10, "{}", m.id);
            if let Some(serials) = &m.serials {
                saw_serial = true;
                let (prefix, number) = serials[0].split_once('-').unwrap();
                assert!(!prefix.is_empty() && number.len() == 7, "{}", serials[0]);
            }
            if let Some(lot) = &m.lot {
                saw_lot = true;
                let parts: Vec<&str> = lot.rsplitn(3, '-').collect();
                assert_eq!(parts.len(), 3, "{lot}");
                let (month, year) = (
                    parts[0].parse::<u32>().unwrap(),
                    parts[1].parse::<i32>().unwrap(),
                );
                assert!(
                    (1..=12).contains(&month) && (2014..=2026).contains(&year),
                    "{lot}"
                );
            }
        }
    }
    assert!(saw_serial && saw_lot);
    assert_eq!(
        realistic(config(20_000, 5_000)).batches().next().unwrap()[0].type_name(),
        "movement"
    );
}

#[test]
fn the_mid_2025_story_is_told_at_every_scale() {
    // Applied to the ledger the scenario builds, each step is accepted or refused exactly as
    // the story says, at small and large scales alike; the pause stands at the end and holds
    // back what the package commits and has not dispatched.
    for movements in [20_000, 60_000, 150_000] {
        let scenario = realistic(config(movements, 10_000));
        let mut ledger = qm_core::Ledger::new();
        let none = qm_core::Originals::default();
        ledger.apply(&scenario.master_data(), &none).unwrap();
        for batch in scenario.batches() {
            ledger.apply(&batch, &none).unwrap();
        }
        let steps = qm_sim::story::mid_2025(&ledger).expect("the story can be told");
        assert!(steps.iter().filter(|s| s.refused).count() >= 2);
        for step in &steps {
            let outcome = ledger.apply(&step.records, &none);
            assert_eq!(
                outcome.is_err(),
                step.refused,
                "{movements}: {}: {outcome:?}",
                step.title
            );
        }
        let t = ledger.transfer(qm_sim::story::TRANSFER).unwrap();
        let pause = ledger
            .pauses()
            .iter()
            .find(|p| p.record.id == qm_sim::story::PAUSE)
            .unwrap();
        assert!(ledger.pause_until(pause).is_none(), "the pause stands");
        let end = date(2026, 3, 1);
        let held: u64 = t
            .lines
            .iter()
            .map(|l| {
                let f = l.figures(t.record.time, Some(end));
                f.committed - f.dispatched
            })
            .sum();
        assert!(held > 0, "{movements}: the pause holds something back");
        assert!(
            ledger.allocations().iter().any(|a| a.breach.is_some()),
            "an override accepted a breach"
        );
    }
}
