//! The HTML report's charts, drawn here as inline SVG (no script, no library, nothing
//! fetched): the projection of available stock against the floor of one item, deliveries to
//! one recipient per month stacked by item, and the flow of one item from donor depots
//! through transit to recipients and sinks (a Sankey diagram laid out by stage).
//!
//! Every text from records is escaped ([`esc`]); every exact figure is also in a `<title>`
//! (the browser shows it on hover) and in the report's tables. Each chart is bounded: the
//! months drawn, the items stacked, the holders of a stage (the rest are drawn as one
//! "others" node) are capped by the constants below.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

use crate::forecast::ItemSeries;
use crate::ReviewItem;

use super::flow::{FlowEdge, HolderGroup};
use super::{group_digits, DeliveryRow, Names};

/// Holders drawn per stage of a flow; the rest are merged into one node.
pub const FLOW_NODES_PER_STAGE_MAX: usize = 8;
/// Columns a stage of a flow may take (holders passing stock on within a stage, such as
/// hub to hub, are drawn a column further on).
pub const FLOW_SUBCOLUMNS_MAX: usize = 3;
/// Items stacked in a delivery chart; the rest are drawn as "other items".
pub const DELIVERY_ITEMS_MAX: usize = 9;

/// Text for HTML and SVG: `&`, `<`, `>`, `"` and `'` escaped, so that no text of a record can
/// open an element or leave an attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// At most `n` characters of `s`, ended with `…` when cut.
pub fn cut(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// Colours that stay apart for most kinds of colour vision (Tableau 10).
pub const PALETTE: [&str; 10] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac",
];
/// The colour of "other items".
pub const OTHER_COLOR: &str = "#9ca3af";

/// Round numbers for an axis from `lo` to `hi`: about `n` steps of 1, 2 or 5 times a power
/// of ten, covering both.
fn ticks(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo, lo + 1.0) };
    let raw = (hi - lo) / n.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
        .max(1.0);
    let start = (lo / step).floor() * step;
    let mut out = Vec::new();
    let mut v = start;
    while out.len() < 50 {
        out.push(v);
        if v >= hi {
            break;
        }
        v += step;
    }
    out
}

/// An axis label: `12,500`, `1.25M`.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    if a >= 1e9 {
        format!("{:.3}", v / 1e9)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
            + "B"
    } else if a >= 1e6 {
        format!("{:.3}", v / 1e6)
            .trim_end_matches('0')
            .trim_end_matches('.')
            .to_owned()
            + "M"
    } else {
        group_digits(v.round() as i128)
    }
}

fn f(x: f64) -> String {
    // One decimal is finer than a pixel: shorter files, same picture.
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map_or(s.clone(), str::to_owned)
}

/// A chart's y axis: gridlines and labels at `ticks`, mapped by `y`.
fn y_axis(svg: &mut String, ticks: &[f64], y: &dyn Fn(f64) -> f64, left: f64, right: f64) {
    for &t in ticks {
        let yy = y(t);
        let _ = write!(
            svg,
            r##"<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/><text class="tick" x="{}" y="{}" text-anchor="end">{}</text>"##,
            f(left),
            f(right),
            f(yy),
            f(yy),
            f(left - 6.0),
            f(yy + 4.0),
            esc(&short_number(t))
        );
    }
}

/// Projected available stock (a line) against the floor (a dashed step line) month by
/// month, the month of the first breach shaded.
pub fn projection(id: &str, item: &ReviewItem, series: &ItemSeries) -> String {
    let (w, h) = (440.0, 230.0);
    // The right margin leaves room for half of the last month's label.
    let (left, right, top, bottom) = (58.0, 24.0, 24.0, 34.0);
    let pts = &series.points;
    let n = pts.len().saturating_sub(1).max(1) as f64;
    let mut lo = 0f64;
    let mut hi = 1f64;
    for p in pts {
        lo = lo.min(p.available as f64).min(p.floor as f64);
        hi = hi.max(p.available as f64).max(p.floor as f64);
    }
    let ts = ticks(lo, hi * 1.05, 5);
    let (d0, d1) = (ts[0], *ts.last().expect("ticks"));
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let x = |k: f64| left + k / n * plot_w;
    let y = |v: f64| top + (d1 - v) / (d1 - d0) * plot_h;
    let mut svg = format!(
        r##"<svg id="{id}" class="chart chart-projection" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"##,
        esc(&format!(
            "Projected available stock of {} against its floor",
            item.item
        ))
    );
    let _ = write!(
        svg,
        "<title>{}</title>",
        esc(&format!(
            "{}: projected available stock against the floor",
            item.item
        ))
    );
    if let (Some(k), Some(month)) = (item.months_of_cover, &item.first_breach) {
        let k = k as f64;
        let x0 = x(k.min(n));
        let x1 = x((k + 1.0).min(n));
        let _ = write!(
            svg,
            r##"<rect class="breach" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect><text class="breach-label" x="{}" y="{}" text-anchor="{}">breach {}</text>"##,
            f(x0),
            f(top),
            f((x1 - x0).max(2.0)),
            f(plot_h),
            esc(&format!("First breach in {month}")),
            f(x0 + 3.0),
            f(top - 8.0),
            if x0 > w * 0.7 { "end" } else { "start" },
            esc(month)
        );
    }
    y_axis(&mut svg, &ts, &y, left, w - right);
    // Months along the bottom, about six labels.
    let every = (pts.len() / 6).max(1);
    for (k, p) in pts.iter().enumerate() {
        if k % every == 0 {
            let _ = write!(
                svg,
                r##"<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>"##,
                f(x(k as f64)),
                f(h - bottom + 16.0),
                esc(&crate::forecast::month_label(p.at))
            );
        }
    }
    if lo < 0.0 {
        let _ = write!(
            svg,
            r##"<line class="zero" x1="{}" x2="{}" y1="{}" y2="{}"/>"##,
            f(left),
            f(w - right),
            f(y(0.0)),
            f(y(0.0))
        );
    }
    // The floor: in force from each sample to the next.
    let mut floor = String::new();
    for (k, p) in pts.iter().enumerate() {
        let yy = y(p.floor as f64);
        if k == 0 {
            let _ = write!(floor, "M{} {}", f(x(0.0)), f(yy));
        } else {
            let _ = write!(floor, "V{}", f(yy));
        }
        let _ = write!(floor, "H{}", f(x(((k + 1) as f64).min(n))));
    }
    let _ = write!(svg, r##"<path class="floor" d="{floor}"/>"##);
    let line: Vec<String> = pts
        .iter()
        .enumerate()
        .map(|(k, p)| format!("{},{}", f(x(k as f64)), f(y(p.available as f64))))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline class="available" points="{}"/>"##,
        line.join(" ")
    );
    for (k, p) in pts.iter().enumerate() {
        let below = p.available < p.floor;
        let _ = write!(
            svg,
            r##"<circle class="{}" cx="{}" cy="{}" r="{}"><title>{}</title></circle>"##,
            if below { "pt below" } else { "pt" },
            f(x(k as f64)),
            f(y(p.available as f64)),
            if pts.len() > 40 { 1.5 } else { 2.5 },
            esc(&format!(
                "{}: available {}, floor {}",
                qm_core::format_time_plain(p.at),
                group_digits(p.available),
                group_digits(p.floor)
            ))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// What a delivery chart measures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    Units,
    /// Value in one currency.
    Value(String),
}

impl Measure {
    /// Value when every delivery has one in one currency, else units.
    pub fn of(rows: &[DeliveryRow]) -> Measure {
        let mut currency: Option<&str> = None;
        for r in rows {
            match (&r.value, currency) {
                (None, _) => return Measure::Units,
                (Some(v), None) => currency = Some(&v.currency),
                (Some(v), Some(c)) if v.currency != c => return Measure::Units,
                _ => {}
            }
        }
        currency.map_or(Measure::Units, |c| Measure::Value(c.to_owned()))
    }

    pub fn amount(&self, r: &DeliveryRow) -> f64 {
        match self {
            Measure::Units => r.qty as f64,
            Measure::Value(_) => r
                .value
                .as_ref()
                .and_then(|v| v.amount.parse().ok())
                .unwrap_or(0.0),
        }
    }

    pub fn label(&self) -> String {
        match self {
            Measure::Units => "units delivered".into(),
            Measure::Value(c) => format!("value delivered ({c})"),
        }
    }

    pub fn show(&self, v: f64) -> String {
        match self {
            Measure::Units => group_digits(v.round() as i128),
            Measure::Value(c) => format!("{} {c}", group_digits(v.round() as i128)),
        }
    }
}

/// Colours of items, the same in every chart of a report: the items delivered most (by the
/// measure) first; past the palette, "other items".
#[derive(Debug, Clone, Default)]
pub struct ItemColors {
    order: Vec<String>,
}

impl ItemColors {
    pub fn new(order: Vec<String>) -> ItemColors {
        ItemColors { order }
    }

    /// The item's slot: its colour, or `None` for "other items".
    pub fn slot(&self, item: &str) -> Option<usize> {
        self.order
            .iter()
            .position(|i| i == item)
            .filter(|&p| p < DELIVERY_ITEMS_MAX)
    }

    pub fn color(&self, item: &str) -> &'static str {
        self.slot(item).map_or(OTHER_COLOR, |p| PALETTE[p])
    }
}

/// Monthly bars of what one recipient received, stacked by item (in colour order, "other
/// items" on top).
pub fn deliveries(
    id: &str,
    recipient: &str,
    months: &[String],
    rows: &[&DeliveryRow],
    measure: &Measure,
    colors: &ItemColors,
    names: &Names,
) -> String {
    let (w, h) = (660.0, 250.0);
    let (left, right, top, bottom) = (70.0, 12.0, 14.0, 36.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    // month -> slot -> (amount, parts for the tooltip)
    let mut stacks: BTreeMap<&str, BTreeMap<usize, (f64, Vec<String>)>> = BTreeMap::new();
    for r in rows {
        let slot = colors.slot(&r.item).unwrap_or(DELIVERY_ITEMS_MAX);
        let e = stacks
            .entry(r.month.as_str())
            .or_default()
            .entry(slot)
            .or_default();
        let a = measure.amount(r);
        e.0 += a;
        e.1.push(format!(
            "{} ({}): {}",
            names.item(&r.item),
            r.item,
            measure.show(a)
        ));
    }
    let hi = stacks
        .values()
        .map(|s| s.values().map(|(a, _)| a).sum::<f64>())
        .fold(1f64, f64::max);
    let ts = ticks(0.0, hi, 4);
    let d1 = *ts.last().expect("ticks");
    let y = |v: f64| top + (d1 - v) / d1 * plot_h;
    let band = plot_w / months.len().max(1) as f64;
    // A bar is most of its month, but never a slab when few months are shown.
    let bar_w = (band * 0.7).clamp(1.0, 44.0);
    let mut svg = format!(
        r##"<svg id="{id}" class="chart chart-deliveries" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"##,
        esc(&format!(
            "Deliveries to {recipient} per month, {}",
            measure.label()
        ))
    );
    let _ = write!(
        svg,
        "<title>{}</title>",
        esc(&format!(
            "Deliveries to {} ({recipient}) per month",
            names.org(recipient)
        ))
    );
    y_axis(&mut svg, &ts, &y, left, w - right);
    let every = months.len().div_ceil(9).max(1);
    for (k, m) in months.iter().enumerate() {
        let x0 = left + k as f64 * band;
        if k % every == 0 {
            let _ = write!(
                svg,
                r##"<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>"##,
                f(x0 + band / 2.0),
                f(h - bottom + 16.0),
                esc(m)
            );
        }
        let Some(stack) = stacks.get(m.as_str()) else {
            continue;
        };
        let mut acc = 0.0;
        for (slot, (a, parts)) in stack {
            let color = PALETTE.get(*slot).copied().unwrap_or(OTHER_COLOR);
            let (y0, y1) = (y(acc), y(acc + a));
            acc += a;
            let _ = write!(
                svg,
                r##"<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{color}"><title>{}</title></rect>"##,
                f(x0 + (band - bar_w) / 2.0),
                f(y1),
                f(bar_w),
                f((y0 - y1).max(0.5)),
                esc(&format!("{m}: {}", parts.join("; ")))
            );
        }
    }
    let _ = write!(
        svg,
        r##"<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>"##,
        f(left),
        f(w - right),
        f(y(0.0)),
        f(y(0.0))
    );
    svg.push_str("</svg>");
    svg
}

/// A node of a flow chart: a holder (or the merged rest of a stage) at a column.
struct Node {
    group: HolderGroup,
    /// The holder's id; `None` for the merged rest of its stage.
    holder: Option<String>,
    label: String,
    title: String,
    sub: usize,
    col: usize,
    value: f64,
    y: f64,
    h: f64,
}

/// What a flow chart drew.
pub struct FlowChart {
    pub svg: String,
    /// Edges not drawn: backwards (to an earlier stage) or in a cycle within a stage.
    pub not_drawn: usize,
    /// Holders merged into an "others" node.
    pub merged: usize,
}

/// The flow of one item: a column per stage (donor depots, transit, recipient holders,
/// sinks), a node per holder with its throughput, a band per (from, to) as wide as what
/// went along it.
pub fn flow(id: &str, item: &str, edges: &[&FlowEdge], color: &str, names: &Names) -> FlowChart {
    // Every label stands right of its node, the last column's in the right margin.
    let (w, left, right, top, bottom) = (1300.0, 8.0, 200.0, 30.0, 8.0);
    let node_w = 12.0;
    // Room for a label between two nodes, however thin they are.
    let gap = 16.0;
    // Throughput per holder, to choose which to draw.
    let mut through: HashMap<(HolderGroup, &str), u128> = HashMap::new();
    for e in edges {
        *through.entry((e.from_group, &e.from)).or_default() += e.qty;
        *through.entry((e.to_group, &e.to)).or_default() += e.qty;
    }
    let mut per_group: BTreeMap<HolderGroup, Vec<(&str, u128)>> = BTreeMap::new();
    for (&(g, hld), &q) in &through {
        per_group.entry(g).or_default().push((hld, q));
    }
    // (group, holder) -> node index.
    let mut index: HashMap<(HolderGroup, &str), usize> = HashMap::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut merged = 0;
    for (g, mut hs) in per_group {
        hs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        let keep = if hs.len() > FLOW_NODES_PER_STAGE_MAX {
            FLOW_NODES_PER_STAGE_MAX - 1
        } else {
            hs.len()
        };
        for (hld, _) in &hs[..keep] {
            index.insert((g, hld), nodes.len());
            let name = names.holder(hld);
            nodes.push(Node {
                group: g,
                holder: Some(hld.to_string()),
                label: cut(name, 30),
                title: if name == *hld {
                    name.to_owned()
                } else {
                    format!("{name} ({hld})")
                },
                sub: 0,
                col: 0,
                value: 0.0,
                y: 0.0,
                h: 0.0,
            });
        }
        if hs.len() > keep {
            let rest = hs.len() - keep;
            merged += rest;
            let at = nodes.len();
            for (hld, _) in &hs[keep..] {
                index.insert((g, hld), at);
            }
            nodes.push(Node {
                group: g,
                holder: None,
                label: format!("{rest} others"),
                title: format!("{rest} other holders: {}", g.title().to_lowercase()),
                sub: 0,
                col: 0,
                value: 0.0,
                y: 0.0,
                h: 0.0,
            });
        }
    }
    // Links between nodes, merged.
    let mut links: BTreeMap<(usize, usize), u128> = BTreeMap::new();
    for e in edges {
        let a = index[&(e.from_group, e.from.as_str())];
        let b = index[&(e.to_group, e.to.as_str())];
        if a != b {
            *links.entry((a, b)).or_default() += e.qty;
        }
    }
    // Within a stage, a holder that receives from another of its stage stands a column
    // further on (bounded, so a cycle stops).
    for _ in 0..nodes.len() {
        let mut changed = false;
        for &(a, b) in links.keys() {
            if nodes[a].group == nodes[b].group
                && nodes[b].sub <= nodes[a].sub
                && nodes[a].sub + 1 < FLOW_SUBCOLUMNS_MAX
            {
                nodes[b].sub = nodes[a].sub + 1;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let key = |n: &Node| (n.group, n.sub);
    let drawn: Vec<(usize, usize, u128)> = links
        .iter()
        .filter(|(&(a, b), _)| key(&nodes[a]) < key(&nodes[b]))
        .map(|(&(a, b), &q)| (a, b, q))
        .collect();
    let not_drawn = links.len() - drawn.len();
    let mut cols: Vec<(HolderGroup, usize)> = drawn
        .iter()
        .flat_map(|&(a, b, _)| [key(&nodes[a]), key(&nodes[b])])
        .collect();
    cols.sort_unstable();
    cols.dedup();
    let mut inflow = vec![0f64; nodes.len()];
    let mut outflow = vec![0f64; nodes.len()];
    for &(a, b, q) in &drawn {
        outflow[a] += q as f64;
        inflow[b] += q as f64;
    }
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); cols.len()];
    for (i, n) in nodes.iter_mut().enumerate() {
        n.value = inflow[i].max(outflow[i]);
        if n.value > 0.0 {
            n.col = cols
                .binary_search(&key(n))
                .expect("a drawn node has a column");
            columns[n.col].push(i);
        }
    }
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(1) as f64;
    let plot_h = (tallest * 50.0).clamp(120.0, 420.0);
    let h = top + plot_h + bottom;
    let scale = columns
        .iter()
        .filter(|c| !c.is_empty())
        .map(|c| {
            let total: f64 = c.iter().map(|&i| nodes[i].value).sum();
            (plot_h - gap * (c.len() as f64 - 1.0)).max(plot_h / 2.0) / total.max(1.0)
        })
        .fold(f64::INFINITY, f64::min);
    let scale = if scale.is_finite() { scale } else { 1.0 };
    let ncols = cols.len().max(2);
    let col_x = |c: usize| left + c as f64 * (w - left - right - node_w) / (ncols - 1) as f64;
    // Order each column: the first by size, the next by where their stock comes from.
    for (c, column) in columns.iter_mut().enumerate() {
        let mut order: Vec<(f64, f64, usize)> = column
            .iter()
            .map(|&i| {
                let (mut wsum, mut ysum) = (0.0, 0.0);
                for &(a, b, q) in &drawn {
                    if b == i && nodes[a].col < c {
                        wsum += q as f64;
                        ysum += q as f64 * (nodes[a].y + nodes[a].h / 2.0);
                    }
                }
                let bary = if wsum > 0.0 { ysum / wsum } else { f64::MAX };
                (bary, -nodes[i].value, i)
            })
            .collect();
        order.sort_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.cmp(&b.2))
        });
        let total: f64 = order.iter().map(|o| nodes[o.2].value * scale).sum::<f64>()
            + gap * (order.len() as f64 - 1.0).max(0.0);
        let mut yy = top + ((plot_h - total) / 2.0).max(0.0);
        for (_, _, i) in order {
            nodes[i].y = yy;
            nodes[i].h = (nodes[i].value * scale).max(1.5);
            yy += nodes[i].h + gap;
        }
        column.sort_by(|&a, &b| nodes[a].y.total_cmp(&nodes[b].y));
    }
    let mut svg = format!(
        r##"<svg id="{id}" class="chart chart-flow" viewBox="0 0 {w} {h}" role="img" aria-label="{}">"##,
        esc(&format!(
            "Flow of {item} from donor depots through transit to recipients"
        ))
    );
    let _ = write!(
        svg,
        "<title>{}</title>",
        esc(&format!(
            "Flow of {} ({item}) under transfers",
            names.item(item)
        ))
    );
    // Stage headings over the first column of each stage.
    let mut seen = Vec::new();
    for (c, (g, _)) in cols.iter().enumerate() {
        if seen.contains(g) {
            continue;
        }
        seen.push(*g);
        let _ = write!(
            svg,
            r##"<text class="stage" x="{}" y="16">{}</text>"##,
            f(col_x(c)),
            esc(g.title())
        );
    }
    // Bands: stacked at each end in the order of the other end.
    let mut out_off = vec![0f64; nodes.len()];
    let mut in_off = vec![0f64; nodes.len()];
    let mut by_source = drawn.clone();
    by_source.sort_by(|x, y| x.0.cmp(&y.0).then(nodes[x.1].y.total_cmp(&nodes[y.1].y)));
    let mut ends: HashMap<(usize, usize), f64> = HashMap::new();
    let mut by_target = drawn.clone();
    by_target.sort_by(|x, y| x.1.cmp(&y.1).then(nodes[x.0].y.total_cmp(&nodes[y.0].y)));
    for &(a, b, q) in &by_target {
        ends.insert((a, b), nodes[b].y + in_off[b]);
        in_off[b] += q as f64 * scale;
    }
    for &(a, b, q) in &by_source {
        let t = (q as f64 * scale).max(1.0);
        let y0 = nodes[a].y + out_off[a];
        out_off[a] += q as f64 * scale;
        let y1 = ends[&(a, b)];
        let x0 = col_x(nodes[a].col) + node_w;
        let x1 = col_x(nodes[b].col);
        let xm = (x0 + x1) / 2.0;
        let _ = write!(
            svg,
            r##"<path class="band" fill="{color}" d="M{} {}C{} {} {} {} {} {}L{} {}C{} {} {} {} {} {}Z"><title>{}</title></path>"##,
            f(x0),
            f(y0),
            f(xm),
            f(y0),
            f(xm),
            f(y1),
            f(x1),
            f(y1),
            f(x1),
            f(y1 + t),
            f(xm),
            f(y1 + t),
            f(xm),
            f(y0 + t),
            f(x0),
            f(y0 + t),
            esc(&format!(
                "{} → {}: {}",
                nodes[a].title,
                nodes[b].title,
                group_digits(q as i128)
            ))
        );
    }
    for n in nodes.iter().filter(|n| n.value > 0.0) {
        let x = col_x(n.col);
        let _ = write!(
            svg,
            r##"<rect class="node {}" x="{}" y="{}" width="{node_w}" height="{}"><title>{}</title></rect><text class="node-label" x="{}" y="{}">{} <tspan class="qty">{}</tspan></text>"##,
            match n.group {
                HolderGroup::DonorDepot => "g-depot",
                HolderGroup::Transit => "g-transit",
                HolderGroup::Recipient => "g-recipient",
                HolderGroup::Sink => "g-sink",
            },
            f(x),
            f(n.y),
            f(n.h),
            esc(&format!(
                "{}: {}{}",
                n.title,
                group_digits(n.value as i128),
                if n.holder.is_none() { " in all" } else { "" }
            )),
            f(x + node_w + 5.0),
            f(n.y + n.h / 2.0 + 4.0),
            esc(&n.label),
            esc(&group_digits(n.value as i128))
        );
    }
    svg.push_str("</svg>");
    FlowChart {
        svg,
        not_drawn,
        merged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 100.0, 5), [0.0, 20.0, 40.0, 60.0, 80.0, 100.0]);
        // 125 in about 5 steps: 25 rounds up to 50.
        assert_eq!(ticks(-30.0, 95.0, 5), [-50.0, 0.0, 50.0, 100.0]);
        assert_eq!(ticks(0.0, 3.0, 4), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(ticks(5.0, 5.0, 4), [5.0, 6.0]);
    }

    #[test]
    fn text_cannot_open_an_element_or_leave_an_attribute() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abc", 4), "abc");
        assert_eq!(short_number(1_250_000.0), "1.25M");
        assert_eq!(short_number(12_500.0), "12,500");
    }
}
