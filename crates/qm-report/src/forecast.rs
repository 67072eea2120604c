//! Forecasts: where an item's available stock goes over the coming months, and when it
//! first falls below its floor.
//!
//! The projection of an org's (or every org's) available stock of an item starts from what
//! is available at `as_of` (on hand at its depots less earmarks) and adds, month by month up
//! to the horizon:
//! - production plans into its depots (`production`: `qty_per_month` from `from_time` until
//!   `to_time`; joint production with a `partner` is shown as such and counts for the org
//!   that owns the depot the output enters);
//! - less its consumption plans (`consumption` of the org);
//! - less the interceptor demand derived from threat reports (below).
//!
//! Rates are per calendar month: in a month of length L, a rate active for a part of length
//! l of it contributes `qty_per_month * l / L`, so a plan that starts on the first of a month
//! contributes exactly its rate each month. Between two consecutive instants where anything
//! changes (a month boundary, a plan's start or end, a floor's start) the projection is a
//! straight line, so the first instant it falls below the floor in force is found exactly.
//! `months_of_cover` is the number of whole months from `as_of` (calendar months: `as_of`
//! plus k months, the day clamped to the month's length) that end at or before that
//! instant; `first_breach` is the month (`YYYY-MM`) holding it. Both are `None` when the
//! projection stays at or above the floor until the horizon. Where no floor is set, the
//! floor is 0 (running out is the breach).
//!
//! **Interceptor demand** (the threat model). A threat report covers the calendar month its
//! `time` falls in. For an item, over the *window* of the three calendar months before the
//! month of `as_of` (the last three whole months): `per_threat` = interceptors of the item
//! used / threats launched (drones, cruise and ballistic missiles together), over the reports
//! that name the item in `interceptors_used`; the threats launched per month, over every
//! report of the window, are fitted with a straight line (least squares over the window's
//! months that have reports), and the forecast of threats in each month from the month of
//! `as_of` on is that line's value there, never below zero. Demand in that month =
//! `per_threat` * forecast (the month of `as_of` counted for its part after `as_of`). With
//! reports in only one month of the window the forecast is flat at that month's count. The demand is a forecast of
//! what will be used against the reported attacks, whoever holds the stock: the review counts
//! it against the stock under review (the question it answers is "if this stock had to meet
//! that demand, how long would it last"), once for all orgs together.
//!
//! **Exact arithmetic.** Numbers from outside are hostile: a rate may be any quantity up to
//! `QTY_MAX`, a threat count likewise, and nothing accepted may wrap or hide a breach.
//! Amounts in the projection are [`Amt`]: whole units (`i128`) plus a remainder over
//! [`DEN`], a multiple of every month's length in nanoseconds, so every prorated part of a
//! plan's rate, `qty_per_month * l / L`, is exact (its numerator is below 2^119), and so is
//! every sum of them: the totals over the horizon and the level at each instant are the
//! floor of the exact cumulative amount (never a sum of per-month floors). The interceptor
//! demand of a month is a ratio (`per_threat` times the fitted threats); its part over `l`
//! nanoseconds is computed in 256 bits and rounded *up* to the next 1/DEN unit (about
//! 3e-20), so it can only overstate demand, by less than a billionth over any horizon. Its
//! fit sums reports' counts in `i128`: each report's total is below 2^55 and a ledger holds
//! far fewer than 2^48 reports, so sums stay below 2^103 and the fit's numerators, times a
//! month index up to [`HORIZON_MAX`], below 2^120. A demand part past 2^110 units (more than
//! every org's stock and production together could ever be) is held at 2^110: it is a
//! breach either way. The instant a straight segment crosses the floor is found to within a
//! nanosecond (its month, and so `first_breach` and `months_of_cover`, exactly).
//!
//! **Range.** Horizons are at most [`HORIZON_MAX`] months (100 years), and the projection
//! and the threat model need every month they cover inside the range of `Time` (about
//! 1677-09-21 to 2262-04-11): [`check_range`] refuses an `as_of` and horizon that run past it
//! (the commands exit 1 naming the range), rather than cut or mislabel months.

use qm_core::{HolderKind, ItemIdx, Ledger, OrgIdx, Time};
use serde::Serialize;

pub use crate::wide::DEN as AMOUNT_DEN;
use crate::wide::{Amt, DEN, MONTH_DAYS_LCM, U256};

use qm_core::time::{days_in_month, month_start, shift_months};

/// The longest horizon, in months (100 years).
pub const HORIZON_MAX: u32 = 1200;

/// A demand part is held at this many units at most (see the module's comment).
const DEMAND_PART_MAX: u128 = 1 << 110;

/// (year, month) of a time.
pub fn year_month(t: Time) -> (i64, u32) {
    let (y, m) = qm_core::time::year_month(t);
    (y as i64, m)
}

/// `t` plus `k` calendar months, the day clamped to the month's length.
pub fn add_months(t: Time, k: i64) -> Time {
    shift_months(t, k)
}

/// `t` plus `k` calendar months (the day clamped), `None` outside the range of `Time`.
pub fn checked_add_months(t: Time, k: i64) -> Option<Time> {
    const DAY: i128 = 86_400_000_000_000;
    let days = t.div_euclid(DAY as i64);
    let tod = t.rem_euclid(DAY as i64) as i128;
    let (y, m, d) = qm_core::civil_from_days(days);
    let m0 = (m - 1) as i64 + k;
    let y = y + m0.div_euclid(12);
    let m = (m0.rem_euclid(12) + 1) as u32;
    let ns = qm_core::days_from_civil(y, m, d.min(days_in_month(y, m))) as i128 * DAY + tod;
    i64::try_from(ns).ok()
}

/// The first instant of month `m` of year `y`, `None` outside the range of `Time`.
fn checked_month_start(y: i64, m: i64) -> Option<Time> {
    let y = y + (m - 1).div_euclid(12);
    let m = ((m - 1).rem_euclid(12) + 1) as u32;
    i64::try_from(qm_core::days_from_civil(y, m, 1) as i128 * 86_400_000_000_000).ok()
}

/// Why a projection cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeError {
    /// `as_of` plus the horizon is past the last instant of `Time`.
    HorizonPastEnd { horizon: u32 },
    /// The threat model's window (the three months before `as_of`'s) starts before the
    /// first instant of `Time`.
    WindowBeforeStart,
    /// More than [`HORIZON_MAX`] months.
    HorizonTooLong { horizon: u32 },
}

impl std::fmt::Display for RangeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RangeError::HorizonPastEnd { horizon } => write!(
                f,
                "a horizon of {horizon} months from this --as-of runs past the last supported \
                 time, {}",
                qm_core::time::TIME_MAX_TEXT
            ),
            RangeError::WindowBeforeStart => write!(
                f,
                "the threat model's window (the three months before --as-of's month) starts \
                 before the first supported time, {}: --as-of must be 1677-12-01 or later",
                qm_core::time::TIME_MIN_TEXT
            ),
            RangeError::HorizonTooLong { horizon } => {
                write!(f, "--horizon {horizon}: at most {HORIZON_MAX} months")
            }
        }
    }
}

impl std::error::Error for RangeError {}

/// Whether a projection (review, report) or threat model from `as_of` over `horizon` months
/// stays inside the range of `Time`, every month it covers or reads included.
pub fn check_range(as_of: Time, horizon: u32) -> Result<(), RangeError> {
    if horizon > HORIZON_MAX {
        return Err(RangeError::HorizonTooLong { horizon });
    }
    let end =
        checked_add_months(as_of, horizon as i64).ok_or(RangeError::HorizonPastEnd { horizon })?;
    // The month `end` falls in may run past the range; its length is the calendar's all
    // the same, and nothing after `end` is read.
    let _ = end;
    let (y, m) = year_month(as_of);
    checked_month_start(y, m as i64 - 3).ok_or(RangeError::WindowBeforeStart)?;
    Ok(())
}

/// `YYYY-MM`.
pub fn month_label(t: Time) -> String {
    let (y, m) = year_month(t);
    format!("{y:04}-{m:02}")
}

/// One month of the threat model's window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreatMonth {
    pub month: String,
    /// Threat reports covering the month. A month with at least one report (even one with
    /// `launched: {}`) is a point of the fit; a month without any is not.
    pub reports: u32,
    /// Threats launched (all kinds), over every report of the month.
    pub launched: u128,
    /// Threats intercepted, where reports say.
    pub intercepted: u128,
    /// Interceptors of the item used.
    pub used: u128,
}

/// The threat model's inputs and forecast for one item.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThreatModel {
    pub item: String,
    /// The window's months, oldest first.
    pub window: Vec<ThreatMonth>,
    /// Interceptors used per threat launched over the reports naming the item (`null`
    /// without any).
    pub per_threat: Option<f64>,
    /// Threats launched per month, fitted: `intercept + slope * k` in the k-th month after
    /// the window's last month (k = 1 is the month of `as_of`).
    pub trend_intercept: f64,
    pub trend_slope: f64,
    /// Forecast demand for the item in each month the review's horizon covers (from the
    /// month of `as_of` to the one holding `as_of` plus the horizon).
    pub demand: Vec<DemandMonth>,
}

/// Forecast demand in one month.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DemandMonth {
    pub month: String,
    /// The fitted threats launched in the whole month (never below zero).
    pub threats: f64,
    /// The part of the month the review counts: 1 for a whole month, less for the month of
    /// `as_of` (its part after `as_of`) and the one the horizon ends in.
    pub share: f64,
    /// The interceptors the review counts in the month: `per_threat * threats * share`.
    pub interceptors: f64,
}

/// The model's numbers, exact.
#[derive(Debug, Clone, Default)]
pub(crate) struct Demand {
    /// (used, launched) over the window's reports naming the item.
    used: u128,
    launched_with_item: u128,
    /// Least-squares fit of launched per month over the window: value at k =
    /// (a_num + b_num * k) / den.
    a_num: i128,
    b_num: i128,
    den: i128,
}

impl Demand {
    /// The fitted threats in the k-th month after the window's last month (k = 1: the
    /// month of as_of), times `den`, never below zero.
    fn threats_num(&self, k: i64) -> u128 {
        self.a_num
            .saturating_add(self.b_num.saturating_mul(k as i128))
            .max(0) as u128
    }

    /// Demand over `l` nanoseconds of the k-th month, a month of `days` days: exactly
    /// `threats_num * used / (den * launched) * l / L`, rounded up to the next 1/DEN.
    pub(crate) fn part(&self, k: i64, l: i128, days: u32) -> Amt {
        if self.is_zero() || self.den == 0 || l <= 0 {
            return Amt::default();
        }
        let per_den = (l as u128) * (MONTH_DAYS_LCM / days as i128) as u128;
        let x = U256::mul(self.threats_num(k), self.used).checked_mul_u128(per_den);
        let Some(x) = x else {
            return Amt::units(DEMAND_PART_MAX as i128);
        };
        // ceil(ceil(x / a) / b) = ceil(x / (a b)) for positive integers.
        let x = x
            .div_ceil(self.den as u128)
            .div_ceil(self.launched_with_item);
        let (units, rem) = x.div_rem(DEN as u128);
        match units.to_u128() {
            Some(u) if u < DEMAND_PART_MAX => Amt {
                units: u as i128,
                rem: rem as i128,
            },
            _ => Amt::units(DEMAND_PART_MAX as i128),
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        self.launched_with_item == 0 || self.used == 0
    }
}

/// The threat model for `item` at `as_of`: its window and exact demand.
pub(crate) fn demand(ledger: &Ledger, item: ItemIdx, as_of: Time) -> (Demand, Vec<ThreatMonth>) {
    let (y, m) = year_month(as_of);
    let code = &ledger.items()[item as usize].code;
    // Slot i holds the month (i - 2) months after the window's last month, the month before
    // as_of's.
    let (y, m) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let mut window: Vec<ThreatMonth> = (0..3)
        .map(|i| ThreatMonth {
            month: format!(
                "{:04}-{:02}",
                y + (m as i64 - 3 + i).div_euclid(12),
                (m as i64 - 3 + i).rem_euclid(12) + 1
            ),
            reports: 0,
            launched: 0,
            intercepted: 0,
            used: 0,
        })
        .collect();
    let start = month_start(y, m as i64 - 2);
    let end = month_start(y, m as i64 + 1);
    let mut used = 0u128;
    let mut launched_with_item = 0u128;
    for t in ledger.threats() {
        let r = &t.record;
        if r.time < start || r.time >= end || r.time > as_of {
            continue;
        }
        let (ty, tm) = year_month(r.time);
        let Ok(slot) = usize::try_from((ty - y) * 12 + tm as i64 - m as i64 + 2) else {
            continue;
        };
        let Some(w) = window.get_mut(slot) else {
            continue;
        };
        let launched = r.launched.total() as u128;
        w.reports += 1;
        w.launched += launched;
        w.intercepted += r.intercepted.map_or(0, |c| c.total() as u128);
        if let Some(n) = r
            .interceptors_used
            .iter()
            .flatten()
            .find(|(c, _)| c == code)
            .map(|(_, n)| *n as u128)
        {
            w.used += n;
            used += n;
            launched_with_item += launched;
        }
    }
    // Least squares over the months with reports, x = month index relative to the window's
    // last month.
    let points: Vec<(i128, i128)> = (0..3)
        .filter(|&i| window[i].reports > 0)
        .map(|i| (i as i128 - 2, window[i].launched as i128))
        .collect();
    let n = points.len() as i128;
    let mut d = Demand {
        used,
        launched_with_item,
        ..Demand::default()
    };
    if n == 1 {
        d.a_num = points[0].1;
        d.b_num = 0;
        d.den = 1;
    } else if n > 1 {
        let sx: i128 = points.iter().map(|p| p.0).sum();
        let sy: i128 = points.iter().map(|p| p.1).sum();
        let sxx: i128 = points.iter().map(|p| p.0 * p.0).sum();
        let sxy: i128 = points.iter().map(|p| p.0 * p.1).sum();
        let den = n * sxx - sx * sx;
        // slope = (n sxy - sx sy) / den; intercept = (sy - slope sx) / n
        //       = (sy sxx - sx sxy) / den.
        d.b_num = n * sxy - sx * sy;
        d.a_num = sy * sxx - sx * sxy;
        d.den = den;
    }
    (d, window)
}

/// The months a projection from `as_of` to `end` steps through: for each, its start, the
/// part `[from, to)` of it counted, and its index k after the window's last month (k = 1:
/// the month of `as_of`).
fn horizon_months(as_of: Time, end: Time) -> Vec<(i64, u32, Time, Time, i64)> {
    let (y0, m0) = year_month(as_of);
    let mut out = Vec::new();
    let mut k = 1i64;
    loop {
        let ms = month_start(y0, m0 as i64 + k - 1);
        if ms >= end && k > 1 {
            break;
        }
        let me = month_start(y0, m0 as i64 + k);
        let (y, m) = year_month(ms.max(as_of));
        out.push((y, m, ms.max(as_of), me.min(end), k));
        if me >= end {
            break;
        }
        k += 1;
    }
    out
}

/// The threat model of every item named in a threat report, as `qm threats` prints it: the
/// demand shown for each month is what a review from `as_of` over `horizon` months counts
/// in it. The caller checks the range first ([`check_range`]).
pub fn threat_models(ledger: &Ledger, as_of: Time, horizon: u32) -> Vec<ThreatModel> {
    let mut items: Vec<ItemIdx> = ledger
        .threats()
        .iter()
        .flat_map(|t| t.interceptors.iter().copied())
        .collect();
    items.sort_unstable();
    items.dedup();
    let end = add_months(as_of, horizon.min(HORIZON_MAX) as i64);
    let months = horizon_months(as_of, end);
    items
        .into_iter()
        .map(|item| {
            let (d, window) = demand(ledger, item, as_of);
            let f = |num: i128| {
                if d.den == 0 {
                    0.0
                } else {
                    num as f64 / d.den as f64
                }
            };
            ThreatModel {
                item: ledger.items()[item as usize].code.clone(),
                window,
                per_threat: (d.launched_with_item > 0)
                    .then(|| d.used as f64 / d.launched_with_item as f64),
                trend_intercept: f(d.a_num),
                trend_slope: f(d.b_num),
                demand: months
                    .iter()
                    .filter(|(_, _, from, to, _)| from < to)
                    .map(|&(y, m, from, to, k)| {
                        let days = days_in_month(y, m);
                        let len = days as f64 * 86_400e9;
                        DemandMonth {
                            month: format!("{y:04}-{m:02}"),
                            threats: if d.den == 0 {
                                0.0
                            } else {
                                d.threats_num(k) as f64 / d.den as f64
                            },
                            share: (to - from) as f64 / len,
                            interceptors: d.part(k, (to - from) as i128, days).to_f64(),
                        }
                    })
                    .collect(),
            }
        })
        .collect()
}

/// A flow that moves the projection: a plan, or the threat model's demand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowLine {
    /// `production`, `consumption` or `interceptor_demand`.
    pub kind: &'static str,
    /// The plan's id (none for the demand).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The holder production enters, or the org that consumes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at: Option<String>,
    /// Joint production with this org.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partner: Option<String>,
    /// Its total over the horizon: the floor of the exact amount, whole units.
    pub over_horizon: i128,
}

/// The projection of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Projection {
    pub months_of_cover: Option<u32>,
    pub first_breach: Option<String>,
    /// Production over the horizon (the floor of the exact sum, whole units).
    pub production: i128,
    /// Consumption plans and interceptor demand over the horizon (the floor of the exact
    /// sum, whole units).
    pub consumption: i128,
    /// Available stock projected at the horizon's end (whole units, rounded down).
    pub available_at_horizon: i128,
    pub flows: Vec<FlowLine>,
    /// The instant it first falls below the floor, if it does within the horizon.
    #[serde(skip)]
    pub breach_at: Option<Time>,
    /// Projected available stock and the floor at `as_of` and at the end of each whole
    /// month after it (`as_of` plus k months), for charts.
    #[serde(skip)]
    pub series: Vec<SeriesPoint>,
}

/// One point of a projection: available stock (whole units, rounded down) and the floor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeriesPoint {
    #[serde(serialize_with = "crate::ser_time")]
    pub at: Time,
    pub available: i128,
    pub floor: i128,
}

/// A rate active over [from, to): a plan's `qty_per_month`, or the threat model's demand.
struct Rate {
    /// Production adds; consumption and demand take away.
    adds: bool,
    from: Time,
    to: Time,
    /// The plan's rate; `None` for the demand.
    qty_per_month: Option<u64>,
    line: usize,
}

/// Projections for one review: the plans indexed by item once.
pub struct Forecaster<'l> {
    ledger: &'l Ledger,
    orgs: Vec<OrgIdx>,
    as_of: Time,
    horizon: u32,
    productions: std::collections::HashMap<ItemIdx, Vec<usize>>,
    consumptions: std::collections::HashMap<ItemIdx, Vec<usize>>,
    threatened: std::collections::HashSet<ItemIdx>,
    /// The end of the horizon.
    end: Time,
    /// The instants the series is sampled at: `as_of` plus each whole month.
    samples: Vec<Time>,
    /// `as_of`, every month start inside the horizon, every sample and `end`, sorted and
    /// distinct: the instants every item's projection steps through (the same for all).
    points: Vec<Time>,
}

impl<'l> Forecaster<'l> {
    /// For the stock of `orgs` (every org's when all are given) as of `as_of`, over `horizon`
    /// months (at most [`HORIZON_MAX`]; the caller checks the range, [`check_range`]).
    pub fn new(ledger: &'l Ledger, orgs: &[OrgIdx], as_of: Time, horizon: u32) -> Forecaster<'l> {
        let mut productions: std::collections::HashMap<ItemIdx, Vec<usize>> = Default::default();
        for (i, p) in ledger.productions().iter().enumerate() {
            if orgs.contains(&ledger.holder_org(p.to))
                && ledger.holders()[p.to as usize].kind == HolderKind::Depot
            {
                productions.entry(p.item).or_default().push(i);
            }
        }
        let mut consumptions: std::collections::HashMap<ItemIdx, Vec<usize>> = Default::default();
        for (i, c) in ledger.consumptions().iter().enumerate() {
            if orgs.contains(&c.org) {
                consumptions.entry(c.item).or_default().push(i);
            }
        }
        let threatened = ledger
            .threats()
            .iter()
            .flat_map(|t| t.interceptors.iter().copied())
            .collect();
        let horizon = horizon.min(HORIZON_MAX);
        let end = add_months(as_of, horizon as i64);
        let (y0, m0) = year_month(as_of);
        let mut points: Vec<Time> = vec![as_of, end];
        let mut k = 1;
        loop {
            let b = month_start(y0, m0 as i64 + k);
            if b >= end {
                break;
            }
            points.push(b);
            k += 1;
        }
        let samples: Vec<Time> = (0..=horizon as i64).map(|k| add_months(as_of, k)).collect();
        points.extend(samples.iter().copied().filter(|&t| t > as_of && t < end));
        points.sort_unstable();
        points.dedup();
        Forecaster {
            ledger,
            orgs: orgs.to_vec(),
            as_of,
            horizon,
            productions,
            consumptions,
            threatened,
            end,
            samples,
            points,
        }
    }

    /// Projects the available stock of `item` from `available` at `as_of`.
    pub fn project(&self, item: ItemIdx, available: i128) -> Projection {
        project(self, item, available)
    }
}

fn project(fc: &Forecaster<'_>, item: ItemIdx, available: i128) -> Projection {
    let (ledger, orgs, as_of, horizon, end) =
        (fc.ledger, &fc.orgs[..], fc.as_of, fc.horizon, fc.end);
    let mut flows: Vec<FlowLine> = Vec::new();
    let mut rates: Vec<Rate> = Vec::new();
    for &i in fc.productions.get(&item).into_iter().flatten() {
        let p = &ledger.productions()[i];
        let r = &p.record;
        rates.push(Rate {
            adds: true,
            from: r.from_time.max(as_of),
            to: r.to_time.unwrap_or(Time::MAX).min(end),
            qty_per_month: Some(r.qty_per_month),
            line: flows.len(),
        });
        flows.push(FlowLine {
            kind: "production",
            id: Some(r.id.clone()),
            at: Some(r.to.clone()),
            partner: r.partner.clone(),
            over_horizon: 0,
        });
    }
    for &i in fc.consumptions.get(&item).into_iter().flatten() {
        let r = &ledger.consumptions()[i].record;
        rates.push(Rate {
            adds: false,
            from: r.from_time.max(as_of),
            to: r.to_time.unwrap_or(Time::MAX).min(end),
            qty_per_month: Some(r.qty_per_month),
            line: flows.len(),
        });
        flows.push(FlowLine {
            kind: "consumption",
            id: Some(r.id.clone()),
            at: Some(r.org.clone()),
            partner: None,
            over_horizon: 0,
        });
    }
    let demand = if fc.threatened.contains(&item) {
        demand(ledger, item, as_of).0
    } else {
        Demand::default()
    };
    if !demand.is_zero() {
        rates.push(Rate {
            adds: false,
            from: as_of,
            to: end,
            qty_per_month: None,
            line: flows.len(),
        });
        flows.push(FlowLine {
            kind: "interceptor_demand",
            id: None,
            at: None,
            partner: None,
            over_horizon: 0,
        });
    }
    let floor_sum = |t: Time| -> i128 {
        orgs.iter()
            .map(|&o| ledger.floor_at(o, item, t).unwrap_or(0) as i128)
            .sum::<i128>()
    };
    // Every instant where a slope or the floor may change: the month starts and samples
    // every item shares, and this item's own.
    let mut own: Vec<Time> = Vec::new();
    for r in &rates {
        own.extend([r.from, r.to].into_iter().filter(|&t| t > as_of && t < end));
    }
    let floor_changes = orgs
        .iter()
        .flat_map(|&o| ledger.floor_spans(o, item, as_of))
        .map(|span| span.start)
        .filter(|&t| t > as_of && t < end);
    let before = own.len();
    own.extend(floor_changes);
    // No floor changes inside the horizon: the floor is the one at as_of throughout.
    let floor_fixed = (own.len() == before).then(|| floor_sum(as_of));
    let floor_at = |t: Time| floor_fixed.unwrap_or_else(|| floor_sum(t));
    let points: std::borrow::Cow<'_, [Time]> = if own.is_empty() {
        (&fc.points[..]).into()
    } else {
        own.extend_from_slice(&fc.points);
        own.sort_unstable();
        own.dedup();
        own.into()
    };
    let samples = &fc.samples[..];
    let (y0, m0) = year_month(as_of);
    // Each rate's contribution over [p, q), inside one calendar month, exact: a plan's
    // `qty * l / L` is `qty * l * (LCM / days)` in 1/DEN units (below 2^119).
    let flow = |r: &Rate, p: Time, q: Time| -> Amt {
        let (a, b) = (p.max(r.from), q.min(r.to));
        if a >= b {
            return Amt::default();
        }
        let (y, m) = year_month(p);
        let days = days_in_month(y, m);
        let l = (b - a) as i128;
        match r.qty_per_month {
            Some(qty) => Amt::from_num(qty as i128 * l * (MONTH_DAYS_LCM / days as i128)),
            None => demand.part((y - y0) * 12 + m as i64 - m0 as i64 + 1, l, days),
        }
    };
    let mut level = Amt::units(available);
    let mut breach: Option<Time> = None;
    if level.below(floor_at(as_of)) {
        breach = Some(as_of);
    }
    let mut totals = vec![Amt::default(); flows.len()];
    let mut series = Vec::with_capacity(samples.len());
    let mut next_sample = 0;
    let mut sample = |t: Time, level: Amt, series: &mut Vec<SeriesPoint>| {
        while next_sample < samples.len() && samples[next_sample] == t {
            series.push(SeriesPoint {
                at: t,
                available: level.floor(),
                floor: floor_at(t),
            });
            next_sample += 1;
        }
    };
    sample(as_of, level, &mut series);
    for w in points.windows(2) {
        let (p, q) = (w[0], w[1]);
        let mut next = level;
        for r in &rates {
            let f = flow(r, p, q);
            totals[r.line] = totals[r.line].plus(f);
            next = if r.adds { next.plus(f) } else { next.minus(f) };
        }
        let floor = floor_at(p);
        if breach.is_none() && next.below(floor) {
            // The straight line from (p, level) to (q, next) meets the floor at t_c, in
            // [p, q): found to within a nanosecond; the month is exact either way.
            let t_c = if level.below(floor) || level == Amt::units(floor) {
                p
            } else {
                let need = level.minus(Amt::units(floor)).to_f64();
                let drop = level.minus(next).to_f64();
                let off = (need / drop * (q - p) as f64) as i64;
                p + off.clamp(0, q - p - 1)
            };
            breach = Some(t_c);
        }
        level = next;
        sample(q, level, &mut series);
        if breach.is_none() && q < end && level.below(floor_at(q)) {
            breach = Some(q);
        }
    }
    for (f, t) in flows.iter_mut().zip(&totals) {
        f.over_horizon = t.floor();
    }
    let sum = |production: bool| {
        totals
            .iter()
            .zip(&flows)
            .filter(|(_, f)| (f.kind == "production") == production)
            .fold(Amt::default(), |s, (t, _)| s.plus(*t))
            .floor()
    };
    let (months_of_cover, first_breach) = match breach {
        None => (None, None),
        Some(t_c) => {
            let mut k = 0u32;
            while k < horizon && add_months(as_of, k as i64 + 1) <= t_c {
                k += 1;
            }
            (Some(k), Some(month_label(t_c)))
        }
    };
    Projection {
        months_of_cover,
        first_breach,
        production: sum(true),
        consumption: sum(false),
        available_at_horizon: level.floor(),
        flows,
        breach_at: breach,
        series,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: i64, m: u32, d: u32) -> Time {
        qm_core::days_from_civil(y, m, d) * 86_400_000_000_000
    }

    #[test]
    fn months_are_calendar_months() {
        assert_eq!(add_months(at(2025, 1, 31), 1), at(2025, 2, 28));
        assert_eq!(add_months(at(2024, 1, 31), 1), at(2024, 2, 29));
        assert_eq!(add_months(at(2025, 11, 15), 3), at(2026, 2, 15));
        assert_eq!(month_label(at(2025, 7, 4)), "2025-07");
        assert_eq!(month_start(2025, 13), at(2026, 1, 1));
        assert_eq!(month_start(2025, 0), at(2024, 12, 1));
    }
}

/// The projection of every item for `org` (every org when `None`): what charts draw.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemSeries {
    pub item: String,
    pub name: String,
    pub points: Vec<SeriesPoint>,
}

/// Projected available stock against the floor, month by month over the horizon, for the
/// items of a review (in its order).
pub fn projection_series(ledger: &Ledger, review: &crate::Review) -> Vec<ItemSeries> {
    let orgs: Vec<OrgIdx> = match &review.org {
        Some(o) => ledger.org_idx(o).into_iter().collect(),
        None => (0..ledger.orgs().len() as OrgIdx).collect(),
    };
    let fc = Forecaster::new(ledger, &orgs, review.as_of, review.horizon);
    review
        .items
        .iter()
        .filter_map(|i| {
            let idx = ledger.item_idx(&i.item)?;
            Some(ItemSeries {
                item: i.item.clone(),
                name: i.name.clone(),
                points: fc.project(idx, i.available).series,
            })
        })
        .collect()
}
