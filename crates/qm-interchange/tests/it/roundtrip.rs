//! Round trips, as properties: every record written canonically reads back equal, and every
//! valid line, however it is spelled (key order, spacing, escapes, offsets, number forms),
//! reads to a record whose canonical line reads back to the same record.

use proptest::prelude::*;
use qm_core::{Floor, Holder, HolderKind, Item, Money, Movement, Org, OrgKind, Record, Tracking};
use qm_interchange::{format_time, parse_record, parse_text, write_record, write_text, Time};

/// Any string, control characters and non-ASCII included.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        "(?s).{0,12}",
        "[a-z0-9\"\\\\\u{0}-\u{1f}\u{7f}\u{e9}\u{2028}\u{1f600}]{0,8}",
    ]
}

/// An identifier: any non-empty string.
fn ident() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9_-]{1,10}", "(?s).{1,8}"]
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
        text(),
        proptest::option::of(proptest::sample::select(OrgKind::ALL.to_vec())),
    )
        .prop_map(|(id, name, kind)| Record::Org(Org { id, name, kind }))
}

fn holder() -> impl Strategy<Value = Record> {
    (
        (
            ident(),
            text(),
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
            text(),
            text(),
            proptest::sample::select(Tracking::ALL.to_vec()),
        ),
        (
            proptest::option::of(text()),
            proptest::option::of(any::<bool>()),
            proptest::option::of(("-?[0-9]{1,12}(\\.[0-9]{1,4})?", "[A-Z]{3}")),
            proptest::option::of(any::<u32>()),
        ),
    )
        .prop_map(
            |((code, name, category, tracking), (unit, sensitive, value, days))| {
                Record::Item(Item {
                    code,
                    name,
                    category,
                    tracking,
                    unit,
                    sensitive,
                    unit_value: value.map(|(amount, currency)| Money { amount, currency }),
                    inventory_interval_days: days,
                })
            },
        )
}

fn floor() -> impl Strategy<Value = Record> {
    (
        ident(),
        ident(),
        any::<u64>(),
        proptest::option::of(any::<Time>()),
    )
        .prop_map(|(item, org, min_qty, time)| {
            Record::Floor(Floor {
                item,
                org,
                min_qty,
                time,
            })
        })
}

fn movement() -> impl Strategy<Value = Record> {
    (
        (ident(), any::<Time>(), ident(), ident(), ident()),
        (
            proptest::option::of(ident()),
            prop_oneof![
                (1..=u64::MAX).prop_map(|q| (q, None)),
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

fn record() -> impl Strategy<Value = Record> {
    prop_oneof![1 => org(), 1 => holder(), 1 => item(), 1 => floor(), 3 => movement()]
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
                    let inner = vec![("amount", s(&m.amount)), ("currency", s(&m.currency))];
                    f.push(("unit_value", self.line(inner)));
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
            _ => unreachable!("the generator makes v1 records only"),
        }
        self.line(f)
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
