//! Round trips, as properties: every record written canonically reads back equal, and every
//! valid line, however it is spelled (key order, spacing, escapes, offsets, number forms),
//! reads to a record whose canonical line reads back to the same record.

use proptest::prelude::*;
use qm_core::limits::{is_valid_id, ID_BYTES_MAX, QTY_MAX};
use qm_core::{
    Allocate, Cancel, Consumption, Floor, Holder, HolderKind, Inventory, InventoryCount, Item,
    Money, Movement, Org, OrgKind, Override, Pause, Production, Record, Resume, Threat,
    ThreatCounts, Tracking, Transfer, TransferLine,
};
use qm_interchange::{format_time, parse_record, parse_text, write_record, write_text, Time};

/// Any string, control characters and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "(?s).{0,12}",
        8 => "[a-z0-9\"\\\\\u{0}-\u{1f}\u{7f}\u{e9}\u{2028}\u{1f600}]{0,8}",
        1 => "[a-z]{4096}",
    ]
}

/// A name: text that is not empty nor only white space.
fn name() -> impl Strategy<Value = String> {
    text().prop_filter("not blank", |s| !s.trim().is_empty())
}

/// An identifier: `is_valid_id`, the longest allowed included.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => "[A-Za-z0-9_-]{1,10}",
        8 => "(?s).{1,8}".prop_filter("valid id", |s| is_valid_id(s)),
        1 => Just("x".repeat(ID_BYTES_MAX)),
        1 => Just("é".repeat(ID_BYTES_MAX / 2)),
    ]
}

/// A quantity from `min` to `QTY_MAX`, the bounds included.
fn qty(min: u64) -> impl Strategy<Value = u64> {
    prop_oneof![min..=QTY_MAX, Just(min), Just(QTY_MAX), min..=1000]
}

fn time() -> impl Strategy<Value = Time> {
    prop_oneof![any::<Time>(), Just(Time::MIN), Just(Time::MAX)]
}

fn money() -> impl Strategy<Value = Money> {
    ("[0-9]{1,15}(\\.[0-9]{1,6})?", "[A-Z]{3}")
        .prop_map(|(amount, currency)| Money { amount, currency })
}

fn coordinate(limit: f64) -> impl Strategy<Value = f64> {
    prop_oneof![
        -limit..=limit,
        Just(limit),
        Just(-limit),
        Just(0.0),
        Just(-0.0),
        proptest::num::f64::SUBNORMAL | proptest::num::f64::POSITIVE | proptest::num::f64::NEGATIVE,
    ]
    .prop_filter("in range", move |v| v.abs() <= limit)
}

fn org() -> impl Strategy<Value = Record> {
    (
        ident(),
        name(),
        proptest::option::of(proptest::sample::select(OrgKind::ALL.to_vec())),
    )
        .prop_map(|(id, name, kind)| Record::Org(Org { id, name, kind }))
}

fn holder() -> impl Strategy<Value = Record> {
    (
        (
            ident(),
            name(),
            ident(),
            proptest::sample::select(HolderKind::ALL.to_vec()),
        ),
        (
            proptest::option::of("[A-Z]{2}"),
            proptest::option::of(coordinate(90.0)),
            proptest::option::of(coordinate(180.0)),
        ),
    )
        .prop_map(|((id, name, org, kind), (country, lat, lon))| {
            Record::Holder(Holder {
                id,
                name,
                org,
                kind,
                country,
                lat,
                lon,
            })
        })
}

fn item() -> impl Strategy<Value = Record> {
    (
        (
            ident(),
            name(),
            text(),
            proptest::sample::select(Tracking::ALL.to_vec()),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(money()),
            proptest::option::of(any::<u32>()),
        ),
    )
        .prop_map(
            |((code, name, category, tracking), (unit, sensitive, unit_value, days))| {
                Record::Item(Item {
                    code,
                    name,
                    category,
                    tracking,
                    unit,
                    sensitive,
                    unit_value,
                    inventory_interval_days: days,
                })
            },
        )
}

fn floor() -> impl Strategy<Value = Record> {
    (ident(), ident(), qty(0), proptest::option::of(time())).prop_map(
        |(item, org, min_qty, time)| {
            Record::Floor(Floor {
                item,
                org,
                min_qty,
                time,
            })
        },
    )
}

fn movement() -> impl Strategy<Value = Record> {
    (
        (ident(), time(), ident(), ident(), ident()),
        (
            proptest::option::of(ident()),
            prop_oneof![
                qty(1).prop_map(|q| (q, None)),
                proptest::collection::btree_set(ident(), 1..6)
                    .prop_map(|s| (s.len() as u64, Some(s.into_iter().collect()))),
            ],
            proptest::option::of(text()),
            proptest::option::of(ident()),
            proptest::option::of(text()),
        ),
    )
        .prop_map(
            |((id, time, item, from, to), (lot, (qty, serials), kind, transfer, note))| {
                Record::Movement(Movement {
                    id,
                    time,
                    item,
                    qty,
                    from,
                    to,
                    lot,
                    serials,
                    kind,
                    transfer,
                    note,
                })
            },
        )
}

fn transfer() -> impl Strategy<Value = Record> {
    let line = (qty(1), proptest::option::of(money()));
    (
        (ident(), time(), ident(), ident()),
        proptest::collection::btree_map(ident(), line, 1..5),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|((id, time, donor, recipient), lines, authority, note)| {
            Record::Transfer(Transfer {
                id,
                time,
                donor,
                recipient,
                lines: lines
                    .into_iter()
                    .map(|(item, (qty, value))| TransferLine { item, qty, value })
                    .collect(),
                authority,
                note,
            })
        })
}

fn allocate() -> impl Strategy<Value = Record> {
    (
        (ident(), time(), ident(), ident(), qty(1), ident()),
        proptest::option::of(ident()),
        proptest::option::of((name(), name())),
    )
        .prop_map(|((id, time, transfer, item, qty, from), lot, ov)| {
            Record::Allocate(Allocate {
                id,
                time,
                transfer,
                item,
                qty,
                from,
                lot,
                override_: ov.map(|(reason, by)| Override { reason, by }),
            })
        })
}

fn cancel() -> impl Strategy<Value = Record> {
    (
        (ident(), time(), ident()),
        proptest::option::of((ident(), proptest::option::of(qty(1)))),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|((id, time, transfer), what, reason, by)| {
            let (item, qty) = match what {
                Some((item, qty)) => (Some(item), qty),
                None => (None, None),
            };
            Record::Cancel(Cancel {
                id,
                time,
                transfer,
                item,
                qty,
                reason,
                by,
            })
        })
}

fn pause() -> impl Strategy<Value = Record> {
    let set = |s: std::collections::BTreeSet<String>| s.into_iter().collect::<Vec<_>>();
    (
        (ident(), time(), name(), name()),
        (
            proptest::option::of(proptest::collection::btree_set(ident(), 1..4).prop_map(set)),
            proptest::option::of(proptest::collection::btree_set(text(), 1..3).prop_map(set)),
            proptest::option::of(ident()),
            proptest::option::of(ident()),
            proptest::option::of(ident()),
        ),
        proptest::option::of(time()),
    )
        .prop_map(
            |(
                (id, time, reason, by),
                (items, categories, donor, recipient, transfer),
                review_by,
            )| {
                let none = items.is_none()
                    && categories.is_none()
                    && donor.is_none()
                    && recipient.is_none()
                    && transfer.is_none();
                Record::Pause(Pause {
                    id,
                    time,
                    reason,
                    by,
                    items,
                    categories,
                    // At least one scope field.
                    donor: if none { Some("D".to_owned()) } else { donor },
                    recipient,
                    transfer,
                    review_by,
                })
            },
        )
}

fn resume() -> impl Strategy<Value = Record> {
    (
        (ident(), time(), ident()),
        proptest::option::of(text()),
        proptest::option::of(text()),
    )
        .prop_map(|((id, time, pause), reason, by)| {
            Record::Resume(Resume {
                id,
                time,
                pause,
                reason,
                by,
            })
        })
}

/// `from_time` and an optional `to_time` not before it.
fn period() -> impl Strategy<Value = (Time, Option<Time>)> {
    (time(), proptest::option::of(time()), any::<bool>()).prop_map(|(a, b, same)| match b {
        Some(_) if same => (a, Some(a)),
        Some(b) => (a.min(b), Some(a.max(b))),
        None => (a, None),
    })
}

fn production() -> impl Strategy<Value = Record> {
    (
        (ident(), ident(), ident(), qty(0)),
        period(),
        proptest::option::of(ident()),
    )
        .prop_map(
            |((id, item, to, qty_per_month), (from_time, to_time), partner)| {
                Record::Production(Production {
                    id,
                    item,
                    to,
                    qty_per_month,
                    from_time,
                    to_time,
                    partner,
                })
            },
        )
}

fn consumption() -> impl Strategy<Value = Record> {
    ((ident(), ident(), ident(), qty(0)), period()).prop_map(
        |((id, item, org, qty_per_month), (from_time, to_time))| {
            Record::Consumption(Consumption {
                id,
                item,
                org,
                qty_per_month,
                from_time,
                to_time,
            })
        },
    )
}

fn threat_counts() -> impl Strategy<Value = ThreatCounts> {
    let count = || proptest::option::of(qty(0));
    (count(), count(), count()).prop_map(|(drones, cruise_missiles, ballistic_missiles)| {
        ThreatCounts {
            drones,
            cruise_missiles,
            ballistic_missiles,
        }
    })
}

fn threat() -> impl Strategy<Value = Record> {
    (
        (ident(), time(), name(), threat_counts()),
        proptest::option::of(((0u64..=100), (0u64..=100), (0u64..=100), any::<[bool; 3]>())),
        proptest::option::of(proptest::collection::btree_map(ident(), qty(0), 0..4)),
    )
        .prop_map(|((id, time, region, launched), intercepted, used)| {
            // Intercepted: a share of what was launched (absent reads as 0).
            let share = |l: Option<u64>, pct: u64, keep: bool| {
                keep.then(|| (l.unwrap_or(0) as u128 * pct as u128 / 100) as u64)
            };
            let intercepted = intercepted.map(|(a, b, c, keep)| ThreatCounts {
                drones: share(launched.drones, a, keep[0]),
                cruise_missiles: share(launched.cruise_missiles, b, keep[1]),
                ballistic_missiles: share(launched.ballistic_missiles, c, keep[2]),
            });
            Record::Threat(Threat {
                id,
                time,
                region,
                launched,
                intercepted,
                interceptors_used: used.map(|m| m.into_iter().collect()),
            })
        })
}

fn inventory() -> impl Strategy<Value = Record> {
    (
        (ident(), time(), ident(), ident()),
        proptest::option::of(proptest::collection::btree_set(ident(), 0..5)),
        proptest::option::of(proptest::collection::btree_map(
            (ident(), proptest::option::of(ident())),
            qty(0),
            0..4,
        )),
    )
        .prop_map(|((id, time, holder, by), serials_seen, counts)| {
            Record::Inventory(Inventory {
                id,
                time,
                holder,
                by,
                serials_seen: serials_seen.map(|s| s.into_iter().collect()),
                counts: counts.map(|c| {
                    c.into_iter()
                        .map(|((item, lot), qty)| InventoryCount { item, qty, lot })
                        .collect()
                }),
            })
        })
}

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![
        1 => org(),
        1 => holder(),
        1 => item(),
        1 => floor(),
        3 => movement(),
        1 => transfer(),
        1 => allocate(),
        1 => cancel(),
        1 => pause(),
        1 => resume(),
        1 => production(),
        1 => consumption(),
        1 => threat(),
        1 => inventory(),
    ]
}

/// How a test line is spelled, beyond the record it holds.
#[derive(Debug, Clone)]
struct Spelling {
    /// Sort keys used to reorder the fields.
    order: Vec<u8>,
    /// Whitespace choices, used round-robin.
    spaces: Vec<u8>,
    /// Write every character of strings as a `\uXXXX` escape (a surrogate pair beyond the BMP).
    escape_all: bool,
    /// Offset of times, in minutes east of UTC.
    offset_min: i32,
    /// Pad fractional seconds to 9 digits.
    pad_fraction: bool,
    /// Write coordinates in exponent form.
    exponent: bool,
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (
        proptest::collection::vec(any::<u8>(), 16),
        proptest::collection::vec(0u8..4, 8),
        any::<bool>(),
        -(23 * 60 + 59)..=(23 * 60 + 59),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(order, spaces, escape_all, offset_min, pad_fraction, exponent)| Spelling {
                order,
                spaces,
                escape_all,
                offset_min,
                pad_fraction,
                exponent,
            },
        )
}

impl Spelling {
    fn space(&self, i: usize) -> &'static str {
        ["", " ", "\t", "  "][self.spaces[i % self.spaces.len()] as usize]
    }

    fn string(&self, s: &str) -> String {
        if !self.escape_all {
            return serde_json::to_string(s).unwrap();
        }
        let mut out = String::from("\"");
        for c in s.chars() {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04X}"));
            }
        }
        out.push('"');
        out
    }

    /// `t` in local time at the spelling's offset, when that stays within `Time`.
    fn time(&self, t: Time) -> String {
        let offset_ns = self.offset_min as i64 * 60 * 1_000_000_000;
        let Some(local) = t.checked_add(offset_ns) else {
            return format!("\"{}\"", canonical_time(t));
        };
        let mut s = canonical_time(local);
        s.pop(); // the Z
        if self.pad_fraction {
            match s.find('.') {
                Some(dot) => {
                    let digits = s.len() - dot - 1;
                    s.push_str(&"0".repeat(9 - digits));
                }
                None => s.push_str(".000000000"),
            }
        }
        let sign = if self.offset_min < 0 { '-' } else { '+' };
        let m = self.offset_min.unsigned_abs();
        format!("\"{s}{sign}{:02}:{:02}\"", m / 60, m % 60)
    }

    fn coordinate(&self, v: f64) -> String {
        if self.exponent {
            format!("{v:e}")
        } else {
            serde_json::to_string(&v).unwrap()
        }
    }

    /// The record's fields, reordered and spaced.
    fn line(&self, fields: Vec<(&str, String)>) -> String {
        let mut keyed: Vec<(u8, usize, (&str, String))> = fields
            .into_iter()
            .enumerate()
            .map(|(i, f)| (self.order[i % self.order.len()], i, f))
            .collect();
        keyed.sort_by_key(|(k, i, _)| (*k, *i));
        let mut out = String::from(self.space(0));
        out.push('{');
        for (n, (_, _, (key, value))) in keyed.into_iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            out.push_str(self.space(n + 1));
            out.push_str(&self.string(key));
            out.push_str(self.space(n + 2));
            out.push(':');
            out.push_str(self.space(n + 3));
            out.push_str(&value);
        }
        out.push_str(self.space(5));
        out.push('}');
        out.push_str(self.space(6));
        out
    }

    fn spell(&self, rec: &Record) -> String {
        let s = |v: &str| self.string(v);
        let mut f: Vec<(&str, String)> = vec![("type", s(rec.type_name()))];
        match rec {
            Record::Org(r) => {
                f.push(("id", s(&r.id)));
                f.push(("name", s(&r.name)));
                if let Some(k) = r.kind {
                    f.push(("kind", s(k.as_str())));
                }
            }
            Record::Holder(r) => {
                f.push(("id", s(&r.id)));
                f.push(("name", s(&r.name)));
                f.push(("org", s(&r.org)));
                f.push(("kind", s(r.kind.as_str())));
                if let Some(c) = &r.country {
                    f.push(("country", s(c)));
                }
                if let Some(v) = r.lat {
                    f.push(("lat", self.coordinate(v)));
                }
                if let Some(v) = r.lon {
                    f.push(("lon", self.coordinate(v)));
                }
            }
            Record::Item(r) => {
                f.push(("code", s(&r.code)));
                f.push(("name", s(&r.name)));
                f.push(("category", s(&r.category)));
                f.push(("tracking", s(r.tracking.as_str())));
                if let Some(u) = &r.unit {
                    f.push(("unit", s(u)));
                }
                if let Some(b) = r.sensitive {
                    f.push(("sensitive", b.to_string()));
                }
                if let Some(m) = &r.unit_value {
                    f.push(("unit_value", self.money(m)));
                }
                if let Some(d) = r.inventory_interval_days {
                    f.push(("inventory_interval_days", d.to_string()));
                }
            }
            Record::Floor(r) => {
                f.push(("item", s(&r.item)));
                f.push(("org", s(&r.org)));
                f.push(("min_qty", r.min_qty.to_string()));
                if let Some(t) = r.time {
                    f.push(("time", self.time(t)));
                }
            }
            Record::Movement(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("item", s(&r.item)));
                f.push(("qty", r.qty.to_string()));
                f.push(("from", s(&r.from)));
                f.push(("to", s(&r.to)));
                if let Some(v) = &r.lot {
                    f.push(("lot", s(v)));
                }
                if let Some(v) = &r.serials {
                    let items: Vec<String> = v.iter().map(|x| s(x)).collect();
                    f.push((
                        "serials",
                        format!("[{}]", items.join(&format!(",{}", self.space(3)))),
                    ));
                }
                if let Some(v) = &r.kind {
                    f.push(("kind", s(v)));
                }
                if let Some(v) = &r.transfer {
                    f.push(("transfer", s(v)));
                }
                if let Some(v) = &r.note {
                    f.push(("note", s(v)));
                }
            }
            Record::Transfer(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("donor", s(&r.donor)));
                f.push(("recipient", s(&r.recipient)));
                let lines = r.lines.iter().map(|l| {
                    let mut g = vec![("item", s(&l.item)), ("qty", l.qty.to_string())];
                    if let Some(m) = &l.value {
                        g.push(("value", self.money(m)));
                    }
                    self.line(g)
                });
                f.push(("lines", self.array(lines)));
                self.opt(&mut f, "authority", r.authority.as_deref());
                self.opt(&mut f, "note", r.note.as_deref());
            }
            Record::Allocate(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("transfer", s(&r.transfer)));
                f.push(("item", s(&r.item)));
                f.push(("qty", r.qty.to_string()));
                f.push(("from", s(&r.from)));
                self.opt(&mut f, "lot", r.lot.as_deref());
                if let Some(o) = &r.override_ {
                    let inner = vec![("reason", s(&o.reason)), ("by", s(&o.by))];
                    f.push(("override", self.line(inner)));
                }
            }
            Record::Cancel(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("transfer", s(&r.transfer)));
                self.opt(&mut f, "item", r.item.as_deref());
                if let Some(q) = r.qty {
                    f.push(("qty", q.to_string()));
                }
                self.opt(&mut f, "reason", r.reason.as_deref());
                self.opt(&mut f, "by", r.by.as_deref());
            }
            Record::Pause(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("reason", s(&r.reason)));
                f.push(("by", s(&r.by)));
                if let Some(v) = &r.items {
                    f.push(("items", self.array(v.iter().map(|x| s(x)))));
                }
                if let Some(v) = &r.categories {
                    f.push(("categories", self.array(v.iter().map(|x| s(x)))));
                }
                self.opt(&mut f, "donor", r.donor.as_deref());
                self.opt(&mut f, "recipient", r.recipient.as_deref());
                self.opt(&mut f, "transfer", r.transfer.as_deref());
                if let Some(t) = r.review_by {
                    f.push(("review_by", self.time(t)));
                }
            }
            Record::Resume(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("pause", s(&r.pause)));
                self.opt(&mut f, "reason", r.reason.as_deref());
                self.opt(&mut f, "by", r.by.as_deref());
            }
            Record::Production(r) => {
                f.push(("id", s(&r.id)));
                f.push(("item", s(&r.item)));
                f.push(("to", s(&r.to)));
                f.push(("qty_per_month", r.qty_per_month.to_string()));
                f.push(("from_time", self.time(r.from_time)));
                if let Some(t) = r.to_time {
                    f.push(("to_time", self.time(t)));
                }
                self.opt(&mut f, "partner", r.partner.as_deref());
            }
            Record::Consumption(r) => {
                f.push(("id", s(&r.id)));
                f.push(("item", s(&r.item)));
                f.push(("org", s(&r.org)));
                f.push(("qty_per_month", r.qty_per_month.to_string()));
                f.push(("from_time", self.time(r.from_time)));
                if let Some(t) = r.to_time {
                    f.push(("to_time", self.time(t)));
                }
            }
            Record::Threat(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("region", s(&r.region)));
                f.push(("launched", self.threat_counts(&r.launched)));
                if let Some(c) = &r.intercepted {
                    f.push(("intercepted", self.threat_counts(c)));
                }
                if let Some(used) = &r.interceptors_used {
                    // Keys are spelled by the caller: this object's keys are item codes.
                    let entries: Vec<String> = used
                        .iter()
                        .map(|(code, q)| format!("{}:{}{q}", s(code), self.space(1)))
                        .collect();
                    let mut entries = entries;
                    // Any order: the reader sorts by code.
                    if self.escape_all {
                        entries.reverse();
                    }
                    f.push(("interceptors_used", format!("{{{}}}", entries.join(","))));
                }
            }
            Record::Inventory(r) => {
                f.push(("id", s(&r.id)));
                f.push(("time", self.time(r.time)));
                f.push(("holder", s(&r.holder)));
                f.push(("by", s(&r.by)));
                if let Some(v) = &r.serials_seen {
                    f.push(("serials_seen", self.array(v.iter().map(|x| s(x)))));
                }
                if let Some(counts) = &r.counts {
                    let counts = counts.iter().map(|c| {
                        let mut g = vec![("item", s(&c.item)), ("qty", c.qty.to_string())];
                        if let Some(lot) = &c.lot {
                            g.push(("lot", s(lot)));
                        }
                        self.line(g)
                    });
                    f.push(("counts", self.array(counts)));
                }
            }
        }
        self.line(f)
    }

    /// An optional string field, when present.
    fn opt<'k>(&self, f: &mut Vec<(&'k str, String)>, key: &'k str, v: Option<&str>) {
        if let Some(v) = v {
            f.push((key, self.string(v)));
        }
    }

    /// A JSON array of already spelled values.
    fn array(&self, values: impl Iterator<Item = String>) -> String {
        let values: Vec<String> = values.collect();
        format!("[{}]", values.join(&format!(",{}", self.space(3))))
    }

    fn money(&self, m: &Money) -> String {
        self.line(vec![
            ("amount", self.string(&m.amount)),
            ("currency", self.string(&m.currency)),
        ])
    }

    fn threat_counts(&self, c: &ThreatCounts) -> String {
        let mut g = Vec::new();
        for (key, v) in [
            ("drones", c.drones),
            ("cruise_missiles", c.cruise_missiles),
            ("ballistic_missiles", c.ballistic_missiles),
        ] {
            if let Some(v) = v {
                g.push((key, v.to_string()));
            }
        }
        self.line(g)
    }
}

fn canonical_time(t: Time) -> String {
    let mut s = String::new();
    format_time(t, &mut s);
    s
}

fn write(rec: &Record) -> String {
    let mut s = String::new();
    write_record(rec, &mut s);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn canonical_line_reads_back(rec in record()) {
        let line = write(&rec);
        prop_assert!(!line.contains('\n'), "one line: {line}");
        prop_assert_eq!(parse_record(&line), Ok(rec.clone()), "line: {}", line);
        // And through serde_json: the line is plain JSON, with `type` first.
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        prop_assert_eq!(v["type"].as_str(), Some(rec.type_name()));
        let prefix = format!("{{\"type\":\"{}\"", rec.type_name());
        prop_assert!(line.starts_with(&prefix), "type first: {}", line);
    }

    #[test]
    fn any_spelling_reads_to_the_record_and_writes_canonically(rec in record(), sp in spelling()) {
        let line = sp.spell(&rec);
        let parsed = parse_record(&line);
        prop_assert_eq!(&parsed, &Ok(rec.clone()), "line: {}", line);
        let canonical = write(&rec);
        prop_assert_eq!(write(&parsed.unwrap()), canonical.clone());
        prop_assert_eq!(parse_record(&canonical), Ok(rec));
    }

    #[test]
    fn time_round_trips(t in any::<Time>()) {
        prop_assert_eq!(qm_interchange::parse_time(&canonical_time(t)), Some(t));
    }

    #[test]
    fn whole_files_round_trip(recs in proptest::collection::vec(record(), 0..8)) {
        let mut text = String::new();
        write_text(&recs, &mut text);
        let parsed = parse_text("f.jsonl", &text, 10).unwrap();
        let lines: Vec<u32> = parsed.iter().map(|(l, _)| *l).collect();
        prop_assert_eq!(lines, (1..=recs.len() as u32).collect::<Vec<_>>());
        prop_assert_eq!(parsed.into_iter().map(|(_, r)| r).collect::<Vec<_>>(), recs);
    }

    /// Arbitrary text never panics the reader, and whatever it accepts round-trips.
    #[test]
    fn arbitrary_lines_do_not_panic(line in "(?s).{0,64}") {
        if let Ok(rec) = parse_record(&line) {
            prop_assert_eq!(parse_record(&write(&rec)), Ok(rec));
        }
    }
}
