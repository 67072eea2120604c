//! The realistic demo scenario: a coalition supplying Ukraine, as master data plus a stream
//! of movement batches.
//!
//! [`realistic`] resolves the static catalog (`catalog.rs`) into a [`Model`]: indices instead
//! of names, quantities scaled so that the flows produce exactly the configured number of
//! movements, and a plan of how many decisions fall into each quarter. [`Scenario::batches`]
//! then runs the engine (`engine.rs`) over that model.
//!
//! The flow of stock: opening balances and production lines fill donor depots; donors
//! dispatch what is above their readiness reserve to their staging area at the Rzeszow hub
//! under monthly packages; the hub hands consignments over to Ukrainian rail or road convoys;
//! these deliver to brigades, which expend, lose or (rarely) return them. Interceptor drones
//! from Ukrainian lines go from a Ukrainian depot straight to units.

mod catalog;
mod engine;
pub mod story;

use std::sync::Arc;

use qm_core::{Floor, Holder, HolderKind, Item, Money, Movement, Org, Record, Time, Tracking};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::time::{add_months, date};
pub use engine::ScenarioBatches;

use catalog::{Chunks, Consumption};

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioConfig {
    /// Exactly this many movement records in all batches together.
    pub movements: u64,
    /// Same seed, same records.
    pub seed: u64,
    /// Movements per batch; the last batch may be shorter. At least 1.
    pub batch_size: usize,
    /// The first day (opening balances are dated here).
    pub start: Time,
    /// How long the scenario runs, in years of 12 months from `start`. At least 1.
    pub years: u32,
}

impl Default for ScenarioConfig {
    fn default() -> Self {
        ScenarioConfig {
            movements: 1_000_000,
            seed: 2022,
            batch_size: 10_000,
            start: date(2022, 3, 1),
            years: 4,
        }
    }
}

/// The realistic scenario: master data and a way to stream its movements.
#[derive(Debug, Clone)]
pub struct Scenario {
    config: ScenarioConfig,
    orgs: Vec<Org>,
    holders: Vec<Holder>,
    items: Vec<Item>,
    floors: Vec<Floor>,
    model: Arc<Model>,
}

/// Builds the scenario for `config`. Cheap: no movement is generated until
/// [`Scenario::batches`] is iterated.
pub fn realistic(config: ScenarioConfig) -> Scenario {
    let model = Model::new(&config);
    let orgs = catalog::ORGS
        .iter()
        .map(|o| Org {
            id: o.id.to_owned(),
            name: o.name.to_owned(),
            kind: Some(o.kind),
        })
        .collect();
    let holders = catalog::HOLDERS
        .iter()
        .map(|h| Holder {
            id: h.id.to_owned(),
            name: h.name.to_owned(),
            org: h.org.to_owned(),
            kind: h.kind,
            country: Some(h.country.to_owned()),
            lat: h.at.map(|(lat, _)| lat),
            lon: h.at.map(|(_, lon)| lon),
        })
        .collect();
    let items = catalog::ITEMS
        .iter()
        .map(|i| Item {
            code: i.code.to_owned(),
            name: i.name.to_owned(),
            category: i.category.to_owned(),
            tracking: i.tracking,
            unit: Some(i.unit.to_owned()),
            sensitive: Some(i.sensitive),
            unit_value: Some(Money {
                amount: i.unit_value.to_owned(),
                currency: "USD".to_owned(),
            }),
            inventory_interval_days: i.inventory_interval_days,
        })
        .collect();
    let floors = model
        .stocks
        .iter()
        .filter(|s| s.floor > 0)
        .map(|s| Floor {
            item: model.item_codes[s.item].clone(),
            org: catalog::ORGS[s.org].id.to_owned(),
            min_qty: s.floor,
            time: None,
        })
        .collect();
    Scenario {
        config,
        orgs,
        holders,
        items,
        floors,
        model: Arc::new(model),
    }
}

impl Scenario {
    pub fn config(&self) -> &ScenarioConfig {
        &self.config
    }

    /// Orgs, holders, items and floors, in that order: apply them before any batch.
    pub fn master_data(&self) -> Vec<Record> {
        let mut records = Vec::new();
        records.extend(self.orgs.iter().cloned().map(Record::Org));
        records.extend(self.holders.iter().cloned().map(Record::Holder));
        records.extend(self.items.iter().cloned().map(Record::Item));
        records.extend(self.floors.iter().cloned().map(Record::Floor));
        records
    }

    pub fn orgs(&self) -> &[Org] {
        &self.orgs
    }

    pub fn holders(&self) -> &[Holder] {
        &self.holders
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }

    /// Readiness reserves per donor org and item, scaled like every other quantity.
    pub fn floors(&self) -> &[Floor] {
        &self.floors
    }

    /// The orgs that give (kind `donor`).
    pub fn donor_orgs(&self) -> impl Iterator<Item = &Org> {
        self.orgs
            .iter()
            .filter(|o| o.kind == Some(qm_core::OrgKind::Donor))
    }

    /// The depots of `org`.
    pub fn depots_of<'a>(&'a self, org: &'a str) -> impl Iterator<Item = &'a Holder> + 'a {
        self.holders
            .iter()
            .filter(move |h| h.kind == HolderKind::Depot && h.org == org)
    }

    /// How many of the movements are opening balances (the first ones emitted).
    pub fn opening_movements(&self) -> u64 {
        self.model.n_open
    }

    /// The factor every catalog quantity is multiplied by (about 1.2 at 1M movements).
    pub fn scale(&self) -> f64 {
        self.model.scale
    }

    /// A fresh, deterministic stream of the scenario's movement batches.
    pub fn batches(&self) -> ScenarioBatches {
        ScenarioBatches::new(Arc::clone(&self.model))
    }
}

/// Marks "no lot", "no transfer".
const NONE: u32 = u32::MAX;
/// Serial-tracked movements carry at most this many serials.
const SERIALS_PER_MOVEMENT_MAX: u64 = 12;

/// The catalog with names resolved to indices and quantities scaled: everything the engine
/// needs, shared by every stream of one scenario.
#[derive(Debug)]
struct Model {
    seed: u64,
    batch_size: usize,
    movements: u64,
    start: Time,
    scale: f64,
    holder_ids: Vec<String>,
    holder_kinds: Vec<HolderKind>,
    holder_orgs: Vec<usize>,
    item_codes: Vec<String>,
    items: Vec<ItemModel>,
    stocks: Vec<StockModel>,
    lines: Vec<LineModel>,
    /// Per org: the staging-package naming (index into `catalog::DONORS`), if a donor.
    donor_of_org: Vec<Option<usize>>,
    openings: Vec<Opening>,
    /// Movements the openings take (capped at `movements`).
    n_open: u64,
    /// Decisions after the openings: `movements - n_open`.
    steps: u64,
    quarters: Vec<Quarter>,
    /// No movement is made late after this decision, so all are out well before the end.
    late_cut: u64,
    pause: (Time, Time),
    rail: usize,
    convoy: usize,
    ua_depot: usize,
    expended: usize,
    destroyed: usize,
    lost: usize,
    demil: usize,
}

#[derive(Debug)]
struct ItemModel {
    tracking: Tracking,
    tag: &'static str,
    chunks: Chunks,
    consumption: Consumption,
    tight: bool,
    paused_2025: bool,
    /// Cumulative weights of the stages: produce, dispatch, hand over, receive, consume.
    stage_cum: [f64; 5],
    units: Vec<usize>,
    /// Indices into `Model::stocks` and their cumulative dispatch shares.
    stocks: Vec<usize>,
    stock_cum: Vec<f64>,
    /// Indices into `Model::lines`.
    lines: Vec<usize>,
}

#[derive(Debug)]
struct StockModel {
    org: usize,
    item: usize,
    depots: Vec<usize>,
    staging: Option<usize>,
    floor: u64,
}

#[derive(Debug)]
struct LineModel {
    source: usize,
    item: usize,
    lot_prefix: &'static str,
    depots: Vec<usize>,
    from: Time,
    weight: f64,
}

/// One opening balance: a donor's stock of one item (and lot) at one depot on the first day.
#[derive(Debug, Clone, Copy)]
struct Opening {
    source: usize,
    depot: usize,
    item: usize,
    qty: u64,
    /// Year and month of the lot, for lot-tracked items.
    lot: Option<(i32, u32)>,
}

impl Opening {
    fn movements(&self, tracking: Tracking) -> u64 {
        match tracking {
            Tracking::Serial => self.qty.div_ceil(SERIALS_PER_MOVEMENT_MAX),
            _ => 1,
        }
    }
}

/// Three months of the scenario and the decisions made in them.
#[derive(Debug)]
struct Quarter {
    start: Time,
    /// Decisions numbered `first_step + 1 ..= first_step + steps` fall here.
    first_step: u64,
    steps: u64,
    /// Decision times are multiples of `resolution` ns: the coarsest of 1 s, 1 ms, 1 us, 1 ns
    /// that still gives every decision its own time.
    resolution: i64,
    /// The quarter's length in `resolution` units.
    units: u64,
    /// Cumulative weights of the items.
    item_cum: Vec<f64>,
}

fn mean((lo, hi): (u64, u64)) -> f64 {
    (lo + hi) as f64 / 2.0
}

fn month_start((y, m): (i32, u32)) -> Time {
    date(y, m, 1)
}

fn index_of<T>(list: &[T], id: &str, key: impl Fn(&T) -> &str, what: &str) -> usize {
    list.iter()
        .position(|x| key(x) == id)
        .unwrap_or_else(|| panic!("catalog: unknown {what} {id:?}"))
}

impl Model {
    fn new(config: &ScenarioConfig) -> Model {
        use catalog::{DONORS, HOLDERS, ITEMS, LINES, ORGS, STOCKS};
        let holder = |id: &str| index_of(HOLDERS, id, |h| h.id, "holder");
        let org = |id: &str| index_of(ORGS, id, |o| o.id, "org");
        let item = |code: &str| index_of(ITEMS, code, |i| i.code, "item");
        let years = config.years.max(1) as usize;
        let n_quarters = years * 4;
        let quarter_start = |q: usize| add_months(config.start, 3 * q as u32);

        // Movements per unit delivered, from the mean quantity of each stage's movements.
        let per_unit: Vec<f64> = ITEMS
            .iter()
            .enumerate()
            .map(|(i, def)| {
                let produced = LINES.iter().any(|l| item(l.item) == i);
                let c = &def.chunks;
                (if produced { 1.0 / mean(c.produce) } else { 0.0 })
                    + 2.0 / mean(c.dispatch)
                    + 1.0 / mean(c.receipt)
                    + def.consumed_share / mean(c.consume)
            })
            .collect();
        let active = |i: usize, q: usize| match ITEMS[i].from {
            None => true,
            Some(ym) => quarter_start(q) >= month_start(ym),
        };
        // Units of each item delivered per quarter at scale 1.
        let units_in = |i: usize, q: usize| -> f64 {
            if !active(i, q) {
                return 0.0;
            }
            let y = q / 4;
            let active_quarters = (y * 4..y * 4 + 4).filter(|&q| active(i, q)).count();
            ITEMS[i].per_year[y.min(3)] as f64 / active_quarters as f64
        };
        let expected: Vec<Vec<f64>> = (0..n_quarters)
            .map(|q| {
                (0..ITEMS.len())
                    .map(|i| units_in(i, q) * per_unit[i])
                    .collect()
            })
            .collect();
        let expected_total: f64 = expected.iter().flatten().sum();
        let scale = config.movements as f64 / expected_total;
        let scaled = |x: u64| (x as f64 * scale).round() as u64;

        let stocks: Vec<StockModel> = STOCKS
            .iter()
            .map(|s| {
                let o = org(s.org);
                let donor = DONORS
                    .iter()
                    .find(|d| d.org == s.org)
                    .expect("stock of a donor");
                StockModel {
                    org: o,
                    item: item(s.item),
                    depots: s.depots.iter().map(|d| holder(d)).collect(),
                    staging: donor.staging.map(holder),
                    floor: scaled(s.floor),
                }
            })
            .collect();
        let lines: Vec<LineModel> = LINES
            .iter()
            .map(|l| LineModel {
                source: holder(l.source),
                item: item(l.item),
                lot_prefix: l.lot_prefix,
                depots: l.depots.iter().map(|d| holder(d)).collect(),
                from: l.from.map_or(Time::MIN, month_start),
                weight: l.weight,
            })
            .collect();
        assert!(
            lines[0].item == 0 && lines[0].from == Time::MIN,
            "catalog: line 0 is the fallback"
        );

        let items: Vec<ItemModel> = ITEMS
            .iter()
            .enumerate()
            .map(|(i, def)| {
                let c = &def.chunks;
                let item_lines: Vec<usize> =
                    (0..lines.len()).filter(|&l| lines[l].item == i).collect();
                // Downstream stages try harder than upstream ones push, so that stock is pulled
                // through and waits at depots (above the reserve), not in transit.
                let weights = [
                    if item_lines.is_empty() {
                        0.0
                    } else {
                        0.5 / mean(c.produce)
                    },
                    0.9 / mean(c.dispatch),
                    1.0 / mean(c.dispatch),
                    1.1 / mean(c.receipt),
                    1.3 * def.consumed_share / mean(c.consume),
                ];
                let mut stage_cum = [0.0; 5];
                let mut acc = 0.0;
                for (k, w) in weights.iter().enumerate() {
                    acc += w;
                    stage_cum[k] = acc;
                }
                let item_stocks: Vec<usize> =
                    (0..stocks.len()).filter(|&s| stocks[s].item == i).collect();
                let mut stock_cum = Vec::new();
                let mut acc = 0.0;
                for &s in &item_stocks {
                    acc += STOCKS[s].share;
                    stock_cum.push(acc);
                }
                ItemModel {
                    tracking: def.tracking,
                    tag: def.tag,
                    chunks: def.chunks,
                    consumption: def.consumption,
                    tight: def.tight,
                    paused_2025: def.paused_2025,
                    stage_cum,
                    units: def.units.iter().map(|u| holder(u)).collect(),
                    stocks: item_stocks,
                    stock_cum,
                    lines: item_lines,
                }
            })
            .collect();
        // Every line delivers into depots of a donor that holds the item there.
        for l in &lines {
            for &d in &l.depots {
                assert!(
                    stocks
                        .iter()
                        .any(|s| s.item == l.item && s.depots.contains(&d)),
                    "catalog: line into {} holds no stock of item {}",
                    HOLDERS[d].id,
                    ITEMS[l.item].code
                );
            }
        }

        // Opening balances: each donor's stock split over its depots and, for lot-tracked
        // items, over three pre-war lots (oldest first).
        let mut rng = SmallRng::seed_from_u64(config.seed ^ 0x6f70_656e_696e_6773);
        let mut openings = Vec::new();
        for (si, s) in STOCKS.iter().enumerate() {
            let qty = scaled(s.opening);
            let Some(source) = DONORS
                .iter()
                .find(|d| d.org == s.org)
                .and_then(|d| d.opening)
            else {
                continue;
            };
            let model = &stocks[si];
            let nd = model.depots.len() as u64;
            for (k, &depot) in model.depots.iter().enumerate() {
                let share = qty / nd + if (k as u64) < qty % nd { 1 } else { 0 };
                if share == 0 {
                    continue;
                }
                let base = Opening {
                    source: holder(source),
                    depot,
                    item: model.item,
                    qty: share,
                    lot: None,
                };
                if ITEMS[model.item].tracking == Tracking::Lot {
                    let n_lots = share.min(3);
                    let mut lots: Vec<(i32, u32)> = (0..n_lots)
                        .map(|_| (rng.gen_range(2014..=2021), rng.gen_range(1..=12)))
                        .collect();
                    lots.sort_unstable();
                    for (j, lot) in lots.into_iter().enumerate() {
                        let q = share / n_lots + if (j as u64) < share % n_lots { 1 } else { 0 };
                        openings.push(Opening {
                            qty: q,
                            lot: Some(lot),
                            ..base
                        });
                    }
                } else {
                    openings.push(base);
                }
            }
        }
        let n_open_all: u64 = openings
            .iter()
            .map(|o| o.movements(ITEMS[o.item].tracking))
            .sum();
        let n_open = n_open_all.min(config.movements);
        let steps = config.movements - n_open;

        // Decisions per quarter in proportion to the movements expected there, so that the
        // busy years get more of them and every item keeps its proportions across years.
        let mut quarters = Vec::with_capacity(n_quarters);
        let mut cum_expected = 0.0;
        let mut first_step = 0;
        for (q, row) in expected.iter().enumerate() {
            let m_q: f64 = row.iter().sum();
            cum_expected += m_q;
            let boundary = if q + 1 == n_quarters {
                steps
            } else {
                ((steps as f64) * cum_expected / expected_total).round() as u64
            };
            let n = boundary.saturating_sub(first_step);
            let start = quarter_start(q);
            let span = (quarter_start(q + 1) - start) as u64;
            let resolution = [crate::time::NANOS_PER_SEC, 1_000_000, 1_000, 1]
                .into_iter()
                .find(|&r| span / r as u64 >= n)
                .expect("at most one decision per nanosecond");
            let mut item_cum = Vec::with_capacity(row.len());
            let mut acc = 0.0;
            for w in row {
                acc += w;
                item_cum.push(acc);
            }
            quarters.push(Quarter {
                start,
                first_step,
                steps: n,
                resolution,
                units: span / resolution as u64,
                item_cum,
            });
            first_step += n;
        }
        let span_days = (quarter_start(n_quarters) - config.start) / crate::time::NANOS_PER_DAY;
        let steps_per_12_days = steps * 12 / span_days.max(1) as u64;
        let late_margin = (3 * config.batch_size.max(1) as u64).max(steps_per_12_days);

        let donor_of_org = ORGS
            .iter()
            .map(|o| DONORS.iter().position(|d| d.org == o.id))
            .collect();
        let (py, pm, pd) = catalog::PAUSE_FROM;
        let (ty, tm, td) = catalog::PAUSE_TO;
        Model {
            seed: config.seed,
            batch_size: config.batch_size.max(1),
            movements: config.movements,
            start: config.start,
            scale,
            holder_ids: HOLDERS.iter().map(|h| h.id.to_owned()).collect(),
            holder_kinds: HOLDERS.iter().map(|h| h.kind).collect(),
            holder_orgs: HOLDERS.iter().map(|h| org(h.org)).collect(),
            item_codes: ITEMS.iter().map(|i| i.code.to_owned()).collect(),
            items,
            stocks,
            lines,
            donor_of_org,
            openings,
            n_open,
            steps,
            quarters,
            late_cut: steps.saturating_sub(late_margin),
            pause: (date(py, pm, pd), date(ty, tm, td)),
            rail: holder("UA-RAIL"),
            convoy: holder("UA-CONVOY"),
            ua_depot: holder("UA-DEPOT-W"),
            expended: holder("SINK-EXPENDED"),
            destroyed: holder("SINK-DESTROYED"),
            lost: holder("SINK-LOST"),
            demil: holder("SINK-DEMIL"),
        }
    }

    /// The readiness reserve below which the donor of `stock` stops dispatching, in quarter `q`.
    fn reserve(&self, stock: usize, q: usize) -> u64 {
        let s = &self.stocks[stock];
        let factors = if self.items[s.item].tight {
            catalog::RESERVE_FACTOR_TIGHT
        } else {
            catalog::RESERVE_FACTOR
        };
        (s.floor as f64 * factors[(q / 4).min(3)]).ceil() as u64
    }

    fn movement_id(n: u64) -> String {
        crate::fmt::padded("m", "", n, 9)
    }

    fn package_name(&self, org: usize, (y, m): (i32, u32)) -> String {
        let donor = &catalog::DONORS[self.donor_of_org[org].expect("packages are a donor's")];
        let prefix = if donor.package_prefix.is_empty() {
            catalog::us_package_prefix(y, m)
        } else {
            donor.package_prefix
        };
        format!("{prefix}-{y:04}-{m:02}")
    }
}

/// A movement as the engine sees it: indices, not names.
#[derive(Debug)]
struct Mv {
    time: Time,
    item: usize,
    qty: u64,
    from: usize,
    to: usize,
    lot: u32,
    transfer: u32,
    serials: Vec<u32>,
    kind: Kind,
    note: Option<&'static str>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Opening,
    Production,
    Dispatch,
    Handover,
    Receipt,
    Issue,
    Expenditure,
    Loss,
    Return,
    Redistribution,
    Demil,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Opening => "opening",
            Kind::Production => "production",
            Kind::Dispatch => "dispatch",
            Kind::Handover => "handover",
            Kind::Receipt => "receipt",
            Kind::Issue => "issue",
            Kind::Expenditure => "expenditure",
            Kind::Loss => "loss",
            Kind::Return => "return",
            Kind::Redistribution => "redistribution",
            Kind::Demil => "demil",
        }
    }

    /// Kinds that are plausibly reported late: arrivals at units, usage, production returns.
    fn may_be_late(self) -> bool {
        matches!(
            self,
            Kind::Production | Kind::Receipt | Kind::Issue | Kind::Expenditure | Kind::Loss
        )
    }
}

fn movement_record(
    model: &Model,
    n: u64,
    mv: &Mv,
    lots: &[String],
    transfers: &[String],
) -> Record {
    let item = &model.items[mv.item];
    Record::Movement(Movement {
        id: Model::movement_id(n),
        time: mv.time,
        item: model.item_codes[mv.item].clone(),
        qty: mv.qty,
        from: model.holder_ids[mv.from].clone(),
        to: model.holder_ids[mv.to].clone(),
        lot: (mv.lot != NONE).then(|| lots[mv.lot as usize].clone()),
        serials: (item.tracking == Tracking::Serial).then(|| {
            mv.serials
                .iter()
                .map(|&s| crate::fmt::padded(item.tag, "-", s as u64, 7))
                .collect()
        }),
        kind: Some(mv.kind.as_str().to_owned()),
        transfer: (mv.transfer != NONE).then(|| transfers[mv.transfer as usize].clone()),
        note: mv.note.map(str::to_owned),
    })
}
