//! The static data of the realistic scenario: who, where, what, how much, and from where we
//! took the figures.
//!
//! Sources (copies and their terms in `shared/data/*/SOURCE.md`):
//! - **Kiel**: Kiel Institute, Ukraine Support Tracker (Antezza et al., Kiel Working Paper
//!   No. 2218), main sheet to Dec 2024 (`kiel-ust-r21-main`): committed quantities per donor
//!   (`item_numb`) and Kiel's unit prices (`item_price_USD`).
//! - **SIPRI**: SIPRI Arms Transfers Database, transfers to Ukraine, export of 17 Feb 2025
//!   (`sipri-ukraine-register`): numbers delivered per supplier and year.
//! - **Anchors**: `shared/ANCHORS.md` (the July 2025 capability review, EEUM 90-day inventories).
//! - Public reporting for production lines (Project Octopus: UK MoD at DSEI, Sep 2025,
//!   "thousands" a month; UA-UK licence signed 27 Nov 2025).
//!
//! Quantities are *units delivered to Ukraine per scenario year* (year 1 = Mar 2022 - Feb 2023)
//! at scale 1; the generator scales everything by one factor so that the total number of
//! movements comes out exactly as configured (about 1.2 at 1M movements). Unit designations,
//! depots and units are real; the split of an item between depots, the Ukrainian units an item
//! goes to, the European depot names and all per-movement quantities are illustrative.

use qm_core::{HolderKind, OrgKind, Tracking};

/// An organisation.
pub struct OrgDef {
    pub id: &'static str,
    pub name: &'static str,
    pub kind: OrgKind,
}

const fn o(id: &'static str, name: &'static str, kind: OrgKind) -> OrgDef {
    OrgDef { id, name, kind }
}

use OrgKind::{Donor, Monitor, Producer, Recipient};

#[rustfmt::skip]
pub const ORGS: &[OrgDef] = &[
    o("US-DOD", "United States Department of Defense", Donor),
    o("DE-BMVG", "Germany, Federal Ministry of Defence", Donor),
    o("PL-MON", "Poland, Ministry of National Defence", Donor),
    o("UK-MOD", "United Kingdom, Ministry of Defence", Donor),
    o("FR-MINARM", "France, Ministry of the Armed Forces", Donor),
    o("NL-MOD", "Netherlands, Ministry of Defence", Donor),
    o("NO-MOD", "Norway, Ministry of Defence", Donor),
    o("UA-AFU", "Armed Forces of Ukraine", Recipient),
    o("LMT", "Lockheed Martin", Producer),
    o("RTX", "RTX (Raytheon)", Producer),
    o("MBDA-DE", "MBDA Deutschland", Producer),
    o("RHM", "Rheinmetall", Producer),
    o("GD-OTS", "General Dynamics Ordnance and Tactical Systems", Producer),
    o("NAMMO", "Nammo", Producer),
    o("DIEHL", "Diehl Defence", Producer),
    o("UA-DRONE-IND", "Ukrainian interceptor-drone makers", Producer),
    o("OCTOPUS-JV", "Project Octopus, UK-Ukraine interceptor-drone joint production", Producer),
    o("DODIG", "US DoD Office of Inspector General", Monitor),
    o("ODC-KYIV", "Office of Defense Cooperation Kyiv (end-use monitoring)", Monitor),
];

/// A holder. `lat`/`lon` are approximate (a town near the site for depots and units).
pub struct HolderDef {
    pub id: &'static str,
    pub name: &'static str,
    pub org: &'static str,
    pub kind: HolderKind,
    pub country: &'static str,
    pub at: Option<(f64, f64)>,
}

const fn h(
    id: &'static str,
    name: &'static str,
    org: &'static str,
    kind: HolderKind,
    country: &'static str,
    at: Option<(f64, f64)>,
) -> HolderDef {
    HolderDef {
        id,
        name,
        org,
        kind,
        country,
        at,
    }
}

use HolderKind::{Depot, Sink, Source, Transit, Unit};

#[rustfmt::skip]
pub const HOLDERS: &[HolderDef] = &[
    // US donor depots.
    h("US-ANAD", "Anniston Army Depot", "US-DOD", Depot, "US", Some((33.63, -85.97))),
    h("US-LEAD", "Letterkenny Army Depot", "US-DOD", Depot, "US", Some((39.99, -77.70))),
    h("US-MCAAP", "McAlester Army Ammunition Plant", "US-DOD", Depot, "US", Some((34.83, -95.90))),
    h("US-CAAA", "Crane Army Ammunition Activity", "US-DOD", Depot, "US", Some((38.86, -86.84))),
    h("US-RRAD", "Red River Army Depot", "US-DOD", Depot, "US", Some((33.42, -94.30))),
    // European donor depots (illustrative names).
    h("DE-DEPOT-N", "Bundeswehr ammunition depot, Lower Saxony", "DE-BMVG", Depot, "DE", Some((52.80, 10.30))),
    h("DE-DEPOT-S", "Bundeswehr materiel depot, Bavaria", "DE-BMVG", Depot, "DE", Some((49.00, 11.50))),
    h("PL-DEPOT", "Polish Armed Forces depot, Podkarpackie", "PL-MON", Depot, "PL", Some((50.04, 21.99))),
    h("UK-DMKIN", "Defence Munitions Kineton", "UK-MOD", Depot, "GB", Some((52.16, -1.48))),
    h("FR-DEPOT", "French Army munitions depot, Champagne", "FR-MINARM", Depot, "FR", Some((48.95, 4.36))),
    h("NL-DEPOT", "Netherlands Defence munitions depot, Brabant", "NL-MOD", Depot, "NL", Some((51.60, 5.30))),
    h("NO-DEPOT", "Norwegian Armed Forces depot, Ostlandet", "NO-MOD", Depot, "NO", Some((60.80, 11.10))),
    h("UA-DEPOT-W", "Armed Forces of Ukraine logistics depot, western Ukraine", "UA-AFU", Depot, "UA", Some((49.84, 24.03))),
    // Each donor's consignments wait at the Rzeszow-Jasionka hub as that donor's stock.
    h("RZE-US", "US staging, Rzeszow-Jasionka logistics hub", "US-DOD", Transit, "PL", Some((50.11, 22.02))),
    h("RZE-DE", "German staging, Rzeszow-Jasionka logistics hub", "DE-BMVG", Transit, "PL", Some((50.11, 22.02))),
    h("RZE-PL", "Polish staging, Rzeszow-Jasionka logistics hub", "PL-MON", Transit, "PL", Some((50.11, 22.02))),
    h("RZE-UK", "UK staging, Rzeszow-Jasionka logistics hub", "UK-MOD", Transit, "PL", Some((50.11, 22.02))),
    h("RZE-FR", "French staging, Rzeszow-Jasionka logistics hub", "FR-MINARM", Transit, "PL", Some((50.11, 22.02))),
    h("RZE-NL", "Dutch staging, Rzeszow-Jasionka logistics hub", "NL-MOD", Transit, "PL", Some((50.11, 22.02))),
    h("RZE-NO", "Norwegian staging, Rzeszow-Jasionka logistics hub", "NO-MOD", Transit, "PL", Some((50.11, 22.02))),
    // Handed over at the border: from here on it is Ukraine's.
    h("UA-RAIL", "Military rail transit, Ukrzaliznytsia", "UA-AFU", Transit, "UA", Some((49.84, 24.00))),
    h("UA-CONVOY", "Road convoy, western border to the front", "UA-AFU", Transit, "UA", Some((50.25, 28.66))),
    // Recipient units (operating areas approximate).
    h("UA-45ART", "45th Separate Artillery Brigade", "UA-AFU", Unit, "UA", Some((48.72, 37.56))),
    h("UA-43ART", "43rd Separate Artillery Brigade", "UA-AFU", Unit, "UA", Some((49.99, 36.23))),
    h("UA-47MECH", "47th Separate Mechanized Brigade", "UA-AFU", Unit, "UA", Some((48.28, 37.18))),
    h("UA-93MECH", "93rd Separate Mechanized Brigade", "UA-AFU", Unit, "UA", Some((48.59, 38.00))),
    h("UA-3ASLT", "3rd Separate Assault Brigade", "UA-AFU", Unit, "UA", Some((49.71, 37.62))),
    h("UA-72MECH", "72nd Separate Mechanized Brigade", "UA-AFU", Unit, "UA", Some((47.78, 37.25))),
    h("UA-RKT", "Rocket artillery brigade (HIMARS)", "UA-AFU", Unit, "UA", Some((48.46, 35.05))),
    h("UA-96AD", "96th Anti-Aircraft Missile Brigade", "UA-AFU", Unit, "UA", Some((50.45, 30.52))),
    h("UA-PATRIOT-S", "Patriot battalion, southern air-defence group", "UA-AFU", Unit, "UA", Some((46.48, 30.72))),
    h("UA-AD-E", "Anti-aircraft missile regiment (FrankenSAM), eastern group", "UA-AFU", Unit, "UA", Some((48.46, 35.05))),
    h("UA-MFG", "Mobile fire groups, Kyiv region", "UA-AFU", Unit, "UA", Some((50.40, 30.40))),
    // Opening balances: what each donor held on the first day.
    h("SRC-OPEN-US", "Opening balances, United States", "US-DOD", Source, "US", None),
    h("SRC-OPEN-DE", "Opening balances, Germany", "DE-BMVG", Source, "DE", None),
    h("SRC-OPEN-PL", "Opening balances, Poland", "PL-MON", Source, "PL", None),
    h("SRC-OPEN-UK", "Opening balances, United Kingdom", "UK-MOD", Source, "GB", None),
    h("SRC-OPEN-FR", "Opening balances, France", "FR-MINARM", Source, "FR", None),
    h("SRC-OPEN-NL", "Opening balances, Netherlands", "NL-MOD", Source, "NL", None),
    h("SRC-OPEN-NO", "Opening balances, Norway", "NO-MOD", Source, "NO", None),
    // Production lines.
    h("SRC-LMT-CAMDEN", "Lockheed Martin, Camden (AR): PAC-3 MSE, GMLRS, HIMARS", "LMT", Source, "US", Some((33.58, -92.83))),
    h("SRC-JAV-TROY", "Javelin Joint Venture (Raytheon/Lockheed Martin), Troy (AL)", "LMT", Source, "US", Some((31.81, -85.97))),
    h("SRC-RTX-TUCSON", "Raytheon, Tucson (AZ): Stinger", "RTX", Source, "US", Some((32.15, -110.93))),
    h("SRC-MBDA-SCHRO", "MBDA Deutschland, Schrobenhausen: Stinger licence production", "MBDA-DE", Source, "DE", Some((48.56, 11.26))),
    h("SRC-RHM-UNTERLUESS", "Rheinmetall, Unterluess: 155 mm", "RHM", Source, "DE", Some((52.83, 10.29))),
    h("SRC-GDOTS-SCRANTON", "GD-OTS, Scranton Army Ammunition Plant (PA): 155 mm, 105 mm", "GD-OTS", Source, "US", Some((41.40, -75.67))),
    h("SRC-NAMMO-RAUFOSS", "Nammo, Raufoss: 155 mm", "NAMMO", Source, "NO", Some((60.72, 10.61))),
    h("SRC-DIEHL-UEB", "Diehl Defence, Ueberlingen: IRIS-T SLM", "DIEHL", Source, "DE", Some((47.77, 9.16))),
    h("SRC-UA-DRONE", "Interceptor-drone lines, Ukraine", "UA-DRONE-IND", Source, "UA", Some((50.45, 30.52))),
    h("SRC-OCTOPUS", "Project Octopus joint interceptor-drone line (UK, Ukrainian design)", "OCTOPUS-JV", Source, "GB", Some((52.48, -1.90))),
    // Where stock ends.
    h("SINK-EXPENDED", "Expended", "UA-AFU", Sink, "UA", None),
    h("SINK-DESTROYED", "Destroyed", "UA-AFU", Sink, "UA", None),
    h("SINK-LOST", "Lost", "UA-AFU", Sink, "UA", None),
    h("SINK-DEMIL", "Demilitarised (US depots)", "US-DOD", Sink, "US", None),
];

/// A donor's (or the recipient's) holders that are not depots, and how its transfers are named.
pub struct DonorDef {
    pub org: &'static str,
    /// Its consignments wait here at the hub; `None`: it issues straight to units.
    pub staging: Option<&'static str>,
    /// Where its opening balances come from; `None`: it has none.
    pub opening: Option<&'static str>,
    /// Transfer ids are `PREFIX-YYYY-MM`, one package a month; the US names its packages by
    /// authority instead (`PDA-`, `USAI-`, `PURL-`, see `us_package_prefix`).
    pub package_prefix: &'static str,
}

const fn d(
    org: &'static str,
    staging: Option<&'static str>,
    opening: Option<&'static str>,
    package_prefix: &'static str,
) -> DonorDef {
    DonorDef {
        org,
        staging,
        opening,
        package_prefix,
    }
}

#[rustfmt::skip]
pub const DONORS: &[DonorDef] = &[
    d("US-DOD", Some("RZE-US"), Some("SRC-OPEN-US"), ""),
    d("DE-BMVG", Some("RZE-DE"), Some("SRC-OPEN-DE"), "DE"),
    d("PL-MON", Some("RZE-PL"), Some("SRC-OPEN-PL"), "PL"),
    d("UK-MOD", Some("RZE-UK"), Some("SRC-OPEN-UK"), "UK"),
    d("FR-MINARM", Some("RZE-FR"), Some("SRC-OPEN-FR"), "FR"),
    d("NL-MOD", Some("RZE-NL"), Some("SRC-OPEN-NL"), "NL"),
    d("NO-MOD", Some("RZE-NO"), Some("SRC-OPEN-NO"), "NO"),
    d("UA-AFU", None, None, "UA"),
];

/// The authority a US package of this month falls under: Presidential Drawdown Authority to
/// January 2025, then Ukraine Security Assistance Initiative contracts, and from August 2025
/// NATO's Prioritized Ukraine Requirements List (allies pay for US stock).
pub fn us_package_prefix(year: i32, month: u32) -> &'static str {
    match (year, month) {
        (y, _) if y < 2025 => "PDA",
        (2025, m) if m < 2 => "PDA",
        (2025, m) if m < 8 => "USAI",
        _ => "PURL",
    }
}

/// How a unit of an item ends its life at a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consumption {
    /// Munitions: expended, occasionally destroyed or lost.
    Expended,
    /// Vehicles and launchers: only ever destroyed or lost (and returned for repair).
    Attrition,
}

/// Ranges (inclusive) of the quantity of one movement at each stage.
#[derive(Debug, Clone, Copy)]
pub struct Chunks {
    /// Source to depot (a production lot delivery).
    pub produce: (u64, u64),
    /// Depot to hub, and hub to rail or convoy.
    pub dispatch: (u64, u64),
    /// Rail or convoy to unit.
    pub receipt: (u64, u64),
    /// Unit to sink.
    pub consume: (u64, u64),
}

/// An item type and its flow.
pub struct ItemDef {
    pub code: &'static str,
    pub name: &'static str,
    pub category: &'static str,
    pub tracking: Tracking,
    pub unit: &'static str,
    pub sensitive: bool,
    /// USD per unit.
    pub unit_value: &'static str,
    pub inventory_interval_days: Option<u32>,
    /// Serial prefix (`PAC3` gives `PAC3-0001234`) or the lot prefix of opening balances.
    pub tag: &'static str,
    /// Units delivered to Ukraine in scenario years 1..4 (later years repeat year 4), scale 1.
    pub per_year: [u64; 4],
    /// First month of deliveries; `None`: from the start.
    pub from: Option<(i32, u32)>,
    pub chunks: Chunks,
    pub consumption: Consumption,
    /// Share of what units receive that they eventually consume or lose.
    pub consumed_share: f64,
    /// Interceptors and the like: donors draw them below their floors from the third year.
    pub tight: bool,
    /// Held up by the US capability review of July 2025 (ANCHORS.md section 3).
    pub paused_2025: bool,
    pub units: &'static [&'static str],
}

const ARTILLERY_UNITS: &[&str] = &["UA-45ART", "UA-43ART", "UA-47MECH", "UA-93MECH", "UA-3ASLT"];
const MANOEUVRE_UNITS: &[&str] = &["UA-47MECH", "UA-93MECH", "UA-3ASLT", "UA-72MECH"];

/// The items. Index 0 is the fallback: always produced, always in demand.
pub const ITEMS: &[ItemDef] = &[
    ItemDef {
        // Kiel: US committed 5.39M 155 mm rounds (Germany 0.47M). The US had sent more than
        // 3M by 2024. Value per the brief: ~USD 3,000 at current production prices (Kiel's
        // list price, USD 775.60, is an older estimate).
        code: "AMMO-155-M795",
        name: "155 mm HE projectile M795",
        category: "artillery ammunition",
        tracking: Tracking::Lot,
        unit: "round",
        sensitive: false,
        unit_value: "3000.00",
        inventory_interval_days: None,
        tag: "M795",
        per_year: [900_000, 1_100_000, 900_000, 700_000],
        from: None,
        chunks: Chunks {
            produce: (4_000, 12_000),
            dispatch: (1_000, 5_000),
            receipt: (200, 1_200),
            consume: (2, 14),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: false,
        paused_2025: true,
        units: ARTILLERY_UNITS,
    },
    ItemDef {
        // European production ramping up (Rheinmetall, Nammo); Kiel: Germany 469k, Norway 42k,
        // France 45.5k, Belgium 50k committed to Dec 2024, more since.
        code: "AMMO-155-EU",
        name: "155 mm HE projectile, European production",
        category: "artillery ammunition",
        tracking: Tracking::Lot,
        unit: "round",
        sensitive: false,
        unit_value: "4000.00",
        inventory_interval_days: None,
        tag: "EU155",
        per_year: [150_000, 300_000, 450_000, 650_000],
        from: None,
        chunks: Chunks {
            produce: (3_000, 10_000),
            dispatch: (1_000, 4_000),
            receipt: (200, 1_000),
            consume: (2, 14),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: false,
        paused_2025: false,
        units: ARTILLERY_UNITS,
    },
    ItemDef {
        // Kiel: US committed 1.50M 105 mm rounds, France 10k; Kiel price USD 400.
        code: "AMMO-105-M1",
        name: "105 mm HE cartridge M1",
        category: "artillery ammunition",
        tracking: Tracking::Lot,
        unit: "round",
        sensitive: false,
        unit_value: "400.00",
        inventory_interval_days: None,
        tag: "M1",
        per_year: [300_000, 500_000, 400_000, 200_000],
        from: Some((2022, 6)),
        chunks: Chunks {
            produce: (3_000, 8_000),
            dispatch: (1_000, 4_000),
            receipt: (200, 1_000),
            consume: (2, 18),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: false,
        paused_2025: false,
        units: &["UA-47MECH", "UA-93MECH", "UA-72MECH", "UA-45ART"],
    },
    ItemDef {
        // SIPRI: US delivered ~7,000 GMLRS in 2022 and ~12,500 in 2023; UK 820, Germany 294.
        code: "MSL-GMLRS-M31",
        name: "GMLRS M31 unitary rocket",
        category: "rocket artillery ammunition",
        tracking: Tracking::Lot,
        unit: "rocket",
        sensitive: false,
        unit_value: "160000.00",
        inventory_interval_days: None,
        tag: "M31",
        per_year: [8_000, 9_000, 5_000, 3_000],
        from: Some((2022, 6)),
        chunks: Chunks {
            produce: (36, 144),
            dispatch: (12, 72),
            receipt: (6, 36),
            consume: (1, 6),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: true,
        paused_2025: true,
        units: &["UA-RKT"],
    },
    ItemDef {
        // SIPRI: 300 PAC-3 from the US in 2023; Germany and the Netherlands sent Patriot
        // units with missiles. Lockheed Martin built about 500 PAC-3 MSE in 2024.
        code: "MSL-PAC3-MSE",
        name: "PAC-3 MSE interceptor",
        category: "air defence missiles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: true,
        unit_value: "4100000.00",
        inventory_interval_days: Some(365),
        tag: "PAC3",
        per_year: [0, 150, 250, 300],
        from: Some((2023, 6)),
        chunks: Chunks {
            produce: (4, 12),
            dispatch: (4, 12),
            receipt: (2, 8),
            consume: (1, 3),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: true,
        paused_2025: true,
        units: &["UA-96AD", "UA-PATRIOT-S"],
    },
    ItemDef {
        // SIPRI: AIM-7M, 400 from the US (2023), 288 from Canada, 8 from Germany; fired from
        // ground launchers ("FrankenSAM"). Kiel price USD 125,000.
        code: "MSL-AIM7M",
        name: "AIM-7M Sparrow, surface-launched",
        category: "air defence missiles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: true,
        unit_value: "125000.00",
        inventory_interval_days: Some(365),
        tag: "AIM7",
        per_year: [0, 300, 300, 100],
        from: Some((2023, 9)),
        chunks: Chunks {
            produce: (4, 12),
            dispatch: (4, 12),
            receipt: (2, 8),
            consume: (1, 2),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: false,
        paused_2025: true,
        units: &["UA-AD-E", "UA-96AD"],
    },
    ItemDef {
        // SIPRI: AIM-9M, 600 from the US (2023), 43 from Canada. Kiel price USD 454,689.66.
        code: "MSL-AIM9M",
        name: "AIM-9M Sidewinder, surface-launched",
        category: "air defence missiles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: true,
        unit_value: "454689.66",
        inventory_interval_days: Some(365),
        tag: "AIM9M",
        per_year: [0, 300, 250, 100],
        from: Some((2023, 9)),
        chunks: Chunks {
            produce: (4, 12),
            dispatch: (4, 12),
            receipt: (2, 8),
            consume: (1, 2),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: true,
        paused_2025: true,
        units: &["UA-AD-E", "UA-96AD"],
    },
    ItemDef {
        // SIPRI: US 1,450 (2022) + 600 (2023), Germany 500, Netherlands 200; Kiel: US 5,300
        // committed. Kiel price USD 480,000. An EEUM article: serial inventory within 90 days.
        code: "MSL-STINGER",
        name: "FIM-92 Stinger missile",
        category: "air defence missiles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: true,
        unit_value: "480000.00",
        inventory_interval_days: Some(90),
        tag: "STGR",
        per_year: [1_600, 700, 400, 300],
        from: None,
        chunks: Chunks {
            produce: (6, 12),
            dispatch: (6, 12),
            receipt: (2, 8),
            consume: (1, 2),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: true,
        paused_2025: true,
        units: &["UA-47MECH", "UA-93MECH", "UA-3ASLT", "UA-72MECH", "UA-MFG"],
    },
    ItemDef {
        // SIPRI: US ~7,700 (2022) + ~5,300 (2023); Kiel: US 11,750 and UK 6,200 committed.
        // An EEUM article.
        code: "MSL-JAVELIN",
        name: "FGM-148 Javelin missile",
        category: "anti-tank missiles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: true,
        unit_value: "178000.00",
        inventory_interval_days: Some(90),
        tag: "JAV",
        per_year: [7_000, 4_000, 1_500, 1_000],
        from: None,
        chunks: Chunks {
            produce: (6, 12),
            dispatch: (6, 12),
            receipt: (3, 12),
            consume: (1, 3),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: false,
        paused_2025: false,
        units: MANOEUVRE_UNITS,
    },
    ItemDef {
        // SIPRI: IRIS-T SLM, 100 (2022) + 400 (2023) from Germany; 100 IRIS-T from Norway.
        // Kiel price USD 616,680.64.
        code: "MSL-IRIST-SLM",
        name: "IRIS-T SLM missile",
        category: "air defence missiles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: true,
        unit_value: "616680.64",
        inventory_interval_days: Some(365),
        tag: "IRIST",
        per_year: [100, 250, 250, 250],
        from: Some((2022, 9)),
        chunks: Chunks {
            produce: (4, 8),
            dispatch: (4, 8),
            receipt: (2, 8),
            consume: (1, 2),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: true,
        paused_2025: false,
        units: &["UA-96AD", "UA-AD-E"],
    },
    ItemDef {
        // Interceptor drones against Shahed-type drones: Ukrainian lines from 2025, and
        // Project Octopus (UK production of a Ukrainian design, ~2,000 a month announced,
        // licence signed 27 Nov 2025). About USD 2,500 each ("less than 10%" of a Shahed).
        code: "DRN-INTERCEPTOR",
        name: "Interceptor drone",
        category: "drones",
        tracking: Tracking::Bulk,
        unit: "each",
        sensitive: false,
        unit_value: "2500.00",
        inventory_interval_days: None,
        tag: "DRN",
        per_year: [0, 0, 0, 75_000],
        from: Some((2025, 3)),
        chunks: Chunks {
            produce: (200, 1_000),
            dispatch: (100, 600),
            receipt: (20, 200),
            consume: (1, 6),
        },
        consumption: Consumption::Expended,
        consumed_share: 1.0,
        tight: false,
        paused_2025: false,
        units: &["UA-MFG", "UA-96AD", "UA-AD-E"],
    },
    ItemDef {
        // SIPRI: 20 (2022) + 19 (2023) HIMARS from the US; Kiel: 41 committed, price
        // USD 15,076,313.03.
        code: "VEH-HIMARS",
        name: "M142 HIMARS launcher",
        category: "launchers",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: false,
        unit_value: "15076313.03",
        inventory_interval_days: None,
        tag: "HIMARS",
        per_year: [20, 19, 1, 0],
        from: Some((2022, 6)),
        chunks: Chunks {
            produce: (1, 2),
            dispatch: (1, 3),
            receipt: (1, 2),
            consume: (1, 1),
        },
        consumption: Consumption::Attrition,
        consumed_share: 0.05,
        tight: false,
        paused_2025: false,
        units: &["UA-RKT"],
    },
    ItemDef {
        // Kiel: US 900 M113 committed, with Lithuania, Australia, Germany, Denmark, Portugal,
        // Spain, Canada and others about 400 more; Kiel price USD 56,812.58.
        code: "VEH-M113",
        name: "M113 armoured personnel carrier",
        category: "vehicles",
        tracking: Tracking::Serial,
        unit: "each",
        sensitive: false,
        unit_value: "56812.58",
        inventory_interval_days: None,
        tag: "M113",
        per_year: [700, 400, 100, 0],
        from: None,
        chunks: Chunks {
            produce: (4, 12),
            dispatch: (4, 12),
            receipt: (2, 6),
            consume: (1, 2),
        },
        consumption: Consumption::Attrition,
        consumed_share: 0.35,
        tight: false,
        paused_2025: false,
        units: MANOEUVRE_UNITS,
    },
];

/// What one donor holds of one item: where, its floor, what it had on the first day, and
/// its share of the item's dispatches. Quantities at scale 1 (see the module comment).
pub struct StockDef {
    pub org: &'static str,
    pub item: &'static str,
    pub share: f64,
    pub depots: &'static [&'static str],
    pub floor: u64,
    pub opening: u64,
}

const fn s(
    org: &'static str,
    item: &'static str,
    share: f64,
    depots: &'static [&'static str],
    floor: u64,
    opening: u64,
) -> StockDef {
    StockDef {
        org,
        item,
        share,
        depots,
        floor,
        opening,
    }
}

#[rustfmt::skip]
pub const STOCKS: &[StockDef] = &[
    s("US-DOD", "AMMO-155-M795", 0.94, &["US-MCAAP", "US-CAAA", "US-ANAD"], 250_000, 1_500_000),
    s("UK-MOD", "AMMO-155-M795", 0.06, &["UK-DMKIN"], 20_000, 120_000),
    s("DE-BMVG", "AMMO-155-EU", 0.45, &["DE-DEPOT-N"], 60_000, 200_000),
    s("NO-MOD", "AMMO-155-EU", 0.15, &["NO-DEPOT"], 15_000, 60_000),
    s("FR-MINARM", "AMMO-155-EU", 0.15, &["FR-DEPOT"], 30_000, 120_000),
    s("PL-MON", "AMMO-155-EU", 0.15, &["PL-DEPOT"], 40_000, 150_000),
    s("NL-MOD", "AMMO-155-EU", 0.10, &["NL-DEPOT"], 10_000, 50_000),
    s("US-DOD", "AMMO-105-M1", 0.95, &["US-CAAA", "US-MCAAP"], 100_000, 600_000),
    s("FR-MINARM", "AMMO-105-M1", 0.05, &["FR-DEPOT"], 5_000, 20_000),
    s("US-DOD", "MSL-GMLRS-M31", 0.90, &["US-MCAAP"], 3_000, 9_000),
    s("UK-MOD", "MSL-GMLRS-M31", 0.07, &["UK-DMKIN"], 300, 2_000),
    s("DE-BMVG", "MSL-GMLRS-M31", 0.03, &["DE-DEPOT-S"], 100, 500),
    s("US-DOD", "MSL-PAC3-MSE", 0.70, &["US-LEAD"], 300, 450),
    s("DE-BMVG", "MSL-PAC3-MSE", 0.20, &["DE-DEPOT-N"], 80, 140),
    s("NL-MOD", "MSL-PAC3-MSE", 0.10, &["NL-DEPOT"], 40, 80),
    s("US-DOD", "MSL-AIM7M", 1.0, &["US-CAAA"], 150, 900),
    s("US-DOD", "MSL-AIM9M", 1.0, &["US-ANAD"], 200, 850),
    s("US-DOD", "MSL-STINGER", 0.75, &["US-ANAD"], 800, 2_800),
    s("DE-BMVG", "MSL-STINGER", 0.15, &["DE-DEPOT-S"], 100, 600),
    s("NL-MOD", "MSL-STINGER", 0.10, &["NL-DEPOT"], 50, 300),
    s("US-DOD", "MSL-JAVELIN", 0.90, &["US-ANAD"], 2_000, 9_000),
    s("UK-MOD", "MSL-JAVELIN", 0.07, &["UK-DMKIN"], 200, 900),
    s("FR-MINARM", "MSL-JAVELIN", 0.03, &["FR-DEPOT"], 50, 150),
    s("DE-BMVG", "MSL-IRIST-SLM", 0.85, &["DE-DEPOT-N"], 60, 160),
    s("NO-MOD", "MSL-IRIST-SLM", 0.15, &["NO-DEPOT"], 0, 100),
    s("UA-AFU", "DRN-INTERCEPTOR", 0.70, &["UA-DEPOT-W"], 0, 0),
    s("UK-MOD", "DRN-INTERCEPTOR", 0.30, &["UK-DMKIN"], 0, 0),
    s("US-DOD", "VEH-HIMARS", 1.0, &["US-RRAD"], 10, 30),
    s("US-DOD", "VEH-M113", 0.70, &["US-RRAD"], 200, 1_200),
    s("NO-MOD", "VEH-M113", 0.15, &["NO-DEPOT"], 20, 200),
    s("DE-BMVG", "VEH-M113", 0.15, &["DE-DEPOT-S"], 20, 200),
];

/// A production line of one item into donor depots.
pub struct LineDef {
    pub source: &'static str,
    pub item: &'static str,
    /// Lot codes are `PREFIX-YYYY-MM` (one lot per line and month).
    pub lot_prefix: &'static str,
    pub depots: &'static [&'static str],
    /// First month of deliveries; `None`: from before the start.
    pub from: Option<(i32, u32)>,
    pub weight: f64,
}

const fn l(
    source: &'static str,
    item: &'static str,
    lot_prefix: &'static str,
    depots: &'static [&'static str],
    from: Option<(i32, u32)>,
    weight: f64,
) -> LineDef {
    LineDef {
        source,
        item,
        lot_prefix,
        depots,
        from,
        weight,
    }
}

/// Index 0 must be a line of item 0 active from the start: the fallback when nothing else
/// can move.
#[rustfmt::skip]
pub const LINES: &[LineDef] = &[
    l("SRC-GDOTS-SCRANTON", "AMMO-155-M795", "M795", &["US-MCAAP", "US-CAAA"], None, 1.0),
    l("SRC-RHM-UNTERLUESS", "AMMO-155-EU", "RH155", &["DE-DEPOT-N"], None, 0.7),
    l("SRC-NAMMO-RAUFOSS", "AMMO-155-EU", "NM155", &["NO-DEPOT"], None, 0.3),
    l("SRC-GDOTS-SCRANTON", "AMMO-105-M1", "M1", &["US-CAAA"], None, 1.0),
    l("SRC-LMT-CAMDEN", "MSL-GMLRS-M31", "M31", &["US-MCAAP"], None, 1.0),
    l("SRC-LMT-CAMDEN", "MSL-PAC3-MSE", "", &["US-LEAD", "DE-DEPOT-N"], None, 1.0),
    l("SRC-RTX-TUCSON", "MSL-STINGER", "", &["US-ANAD"], Some((2023, 6)), 0.8),
    // Illustrative start date for German licence production.
    l("SRC-MBDA-SCHRO", "MSL-STINGER", "", &["DE-DEPOT-S"], Some((2025, 3)), 0.2),
    l("SRC-JAV-TROY", "MSL-JAVELIN", "", &["US-ANAD"], None, 1.0),
    l("SRC-DIEHL-UEB", "MSL-IRIST-SLM", "", &["DE-DEPOT-N"], None, 1.0),
    l("SRC-UA-DRONE", "DRN-INTERCEPTOR", "", &["UA-DEPOT-W"], Some((2025, 3)), 0.7),
    l("SRC-OCTOPUS", "DRN-INTERCEPTOR", "", &["UK-DMKIN"], Some((2025, 12)), 0.3),
    l("SRC-LMT-CAMDEN", "VEH-HIMARS", "", &["US-RRAD"], None, 1.0),
];

/// Readiness-reserve factor on the floor below which a donor stops dispatching, per scenario
/// year: generous at first, then, for tight items, drawn below the floor (the state that
/// prompted the July 2025 capability review).
pub const RESERVE_FACTOR: [f64; 4] = [1.4, 1.3, 1.2, 1.15];
pub const RESERVE_FACTOR_TIGHT: [f64; 4] = [1.3, 1.1, 0.85, 0.8];

/// The US capability review: US dispatches of paused items stop, some staged stock returns
/// to depots (ANCHORS.md: announced 2 July 2025, lifted within about a week).
pub const PAUSE_FROM: (i32, u32, u32) = (2025, 7, 2);
pub const PAUSE_TO: (i32, u32, u32) = (2025, 7, 9);
pub const PAUSE_NOTE: &str = "returned to depot during the July 2025 capability review";
