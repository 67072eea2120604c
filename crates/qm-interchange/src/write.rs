//! Writing records in their canonical one-line form.
//!
//! Canonical means: compact JSON (no spaces), `type` first, then the required fields in the
//! order of the spec's table, then the optional fields present, in table order (the tables of
//! `schema.rs`; a test checks every record's keys against them); absent optional fields are
//! left out. Nested objects likewise: `lines[]` as `item`, `qty`, `value`; money as `amount`,
//! `currency`; `override` as `reason`, `by`; threat counts as `drones`, `cruise_missiles`,
//! `ballistic_missiles`; `interceptors_used` sorted by item code; `counts[]` as `item`, `qty`,
//! `lot`. Strings are escaped as `serde_json` does (`\"`, `\\`, `\n`, `\r`, `\t`,
//! `\b`, `\f`, other control characters as `\u00XX`; everything else, non-ASCII included, as
//! UTF-8). Integers are written by `itoa`, coordinates by `serde_json`'s own float formatter
//! (shortest text that reads back to the same `f64`), times by [`format_time`].
//!
//! The writer appends to a `String` with no intermediate values: it is on the export path.

use qm_core::{
    Allocate, Cancel, Consumption, Floor, Holder, Inventory, Item, Money, Movement, Org, Pause,
    Production, Record, Resume, Threat, ThreatCounts, Time, Transfer,
};
use serde_json::ser::{CompactFormatter, Formatter};

use crate::time::format_time;

/// Appends the canonical one-line JSON of `rec` (no trailing newline) to `out`.
///
/// A record that breaks the format's own rules (say, a `lat` that is not finite) is written as
/// faithfully as JSON allows (`null`) and will not parse back: the ledger never holds one.
pub fn write_record(rec: &Record, out: &mut String) {
    match rec {
        Record::Org(r) => write_org(r, out),
        Record::Holder(r) => write_holder(r, out),
        Record::Item(r) => write_item(r, out),
        Record::Floor(r) => write_floor(r, out),
        Record::Movement(r) => write_movement(r, out),
        Record::Transfer(r) => write_transfer(r, out),
        Record::Allocate(r) => write_allocate(r, out),
        Record::Cancel(r) => write_cancel(r, out),
        Record::Pause(r) => write_pause(r, out),
        Record::Resume(r) => write_resume(r, out),
        Record::Production(r) => write_production(r, out),
        Record::Consumption(r) => write_consumption(r, out),
        Record::Threat(r) => write_threat(r, out),
        Record::Inventory(r) => write_inventory(r, out),
    }
}

/// Appends each record's canonical line to `out`, each followed by `\n`: a whole file.
pub fn write_text<'a>(records: impl IntoIterator<Item = &'a Record>, out: &mut String) {
    for rec in records {
        write_record(rec, out);
        out.push('\n');
    }
}

fn write_org(r: &Org, out: &mut String) {
    out.push_str(r#"{"type":"org","id":"#);
    write_str(&r.id, out);
    out.push_str(r#","name":"#);
    write_str(&r.name, out);
    if let Some(kind) = r.kind {
        out.push_str(r#","kind":""#);
        out.push_str(kind.as_str());
        out.push('"');
    }
    out.push('}');
}

fn write_holder(r: &Holder, out: &mut String) {
    out.push_str(r#"{"type":"holder","id":"#);
    write_str(&r.id, out);
    out.push_str(r#","name":"#);
    write_str(&r.name, out);
    out.push_str(r#","org":"#);
    write_str(&r.org, out);
    out.push_str(r#","kind":""#);
    out.push_str(r.kind.as_str());
    out.push('"');
    opt_str(",\"country\":", r.country.as_deref(), out);
    if let Some(lat) = r.lat {
        out.push_str(r#","lat":"#);
        write_f64(lat, out);
    }
    if let Some(lon) = r.lon {
        out.push_str(r#","lon":"#);
        write_f64(lon, out);
    }
    out.push('}');
}

fn write_item(r: &Item, out: &mut String) {
    out.push_str(r#"{"type":"item","code":"#);
    write_str(&r.code, out);
    out.push_str(r#","name":"#);
    write_str(&r.name, out);
    out.push_str(r#","category":"#);
    write_str(&r.category, out);
    out.push_str(r#","tracking":""#);
    out.push_str(r.tracking.as_str());
    out.push('"');
    opt_str(",\"unit\":", r.unit.as_deref(), out);
    if let Some(sensitive) = r.sensitive {
        out.push_str(if sensitive {
            r#","sensitive":true"#
        } else {
            r#","sensitive":false"#
        });
    }
    if let Some(Money { amount, currency }) = &r.unit_value {
        out.push_str(r#","unit_value":{"amount":"#);
        write_str(amount, out);
        out.push_str(r#","currency":"#);
        write_str(currency, out);
        out.push('}');
    }
    if let Some(days) = r.inventory_interval_days {
        out.push_str(r#","inventory_interval_days":"#);
        out.push_str(itoa::Buffer::new().format(days));
    }
    out.push('}');
}

fn write_floor(r: &Floor, out: &mut String) {
    out.push_str(r#"{"type":"floor","item":"#);
    write_str(&r.item, out);
    out.push_str(r#","org":"#);
    write_str(&r.org, out);
    out.push_str(r#","min_qty":"#);
    out.push_str(itoa::Buffer::new().format(r.min_qty));
    if let Some(time) = r.time {
        out.push_str(r#","time":""#);
        format_time(time, out);
        out.push('"');
    }
    out.push('}');
}

fn write_movement(r: &Movement, out: &mut String) {
    out.push_str(r#"{"type":"movement","id":"#);
    write_str(&r.id, out);
    out.push_str(r#","time":""#);
    format_time(r.time, out);
    out.push_str(r#"","item":"#);
    write_str(&r.item, out);
    out.push_str(r#","qty":"#);
    out.push_str(itoa::Buffer::new().format(r.qty));
    out.push_str(r#","from":"#);
    write_str(&r.from, out);
    out.push_str(r#","to":"#);
    write_str(&r.to, out);
    opt_str(",\"lot\":", r.lot.as_deref(), out);
    if let Some(serials) = &r.serials {
        out.push_str(r#","serials":["#);
        for (i, s) in serials.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(s, out);
        }
        out.push(']');
    }
    opt_str(",\"kind\":", r.kind.as_deref(), out);
    opt_str(",\"transfer\":", r.transfer.as_deref(), out);
    opt_str(",\"note\":", r.note.as_deref(), out);
    out.push('}');
}

/// Writes one JSON object member by member: `{`, then `"key":value` separated by commas.
///
/// The v1 writers above spell their keys out by hand (they are on the export path of every
/// movement); the v1.1 records, rarer, use this.
struct Obj<'o> {
    out: &'o mut String,
    /// No member written yet.
    first: bool,
}

impl<'o> Obj<'o> {
    /// A record: `{"type":"<name>"`.
    fn record(name: &str, out: &'o mut String) -> Obj<'o> {
        out.push_str(r#"{"type":""#);
        out.push_str(name);
        out.push('"');
        Obj { out, first: false }
    }

    /// A nested object.
    fn nested(out: &'o mut String) -> Obj<'o> {
        out.push('{');
        Obj { out, first: true }
    }

    /// `"key":` after a comma if needed; the value is the caller's to write.
    fn key(&mut self, key: &str) -> &mut String {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_str(key, self.out);
        self.out.push(':');
        self.out
    }

    fn str(&mut self, key: &str, v: &str) {
        write_str(v, self.key(key));
    }

    fn opt_str(&mut self, key: &str, v: Option<&str>) {
        if let Some(v) = v {
            self.str(key, v);
        }
    }

    fn u64(&mut self, key: &str, v: u64) {
        self.key(key).push_str(itoa::Buffer::new().format(v));
    }

    fn opt_u64(&mut self, key: &str, v: Option<u64>) {
        if let Some(v) = v {
            self.u64(key, v);
        }
    }

    fn time(&mut self, key: &str, t: Time) {
        let out = self.key(key);
        out.push('"');
        format_time(t, out);
        out.push('"');
    }

    fn opt_time(&mut self, key: &str, t: Option<Time>) {
        if let Some(t) = t {
            self.time(key, t);
        }
    }

    fn strs(&mut self, key: &str, v: Option<&[String]>) {
        if let Some(v) = v {
            let out = self.key(key);
            out.push('[');
            for (i, s) in v.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(s, out);
            }
            out.push(']');
        }
    }

    fn money(&mut self, key: &str, m: &Money) {
        let mut o = Obj::nested(self.key(key));
        o.str("amount", &m.amount);
        o.str("currency", &m.currency);
        o.end();
    }

    fn threat_counts(&mut self, key: &str, c: &ThreatCounts) {
        let mut o = Obj::nested(self.key(key));
        o.opt_u64("drones", c.drones);
        o.opt_u64("cruise_missiles", c.cruise_missiles);
        o.opt_u64("ballistic_missiles", c.ballistic_missiles);
        o.end();
    }

    /// An array of nested objects, each written by `each`.
    fn objects<T>(&mut self, key: &str, v: &[T], mut each: impl FnMut(&mut Obj<'_>, &T)) {
        let out = self.key(key);
        out.push('[');
        for (i, x) in v.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let mut o = Obj::nested(out);
            each(&mut o, x);
            o.end();
        }
        out.push(']');
    }

    fn end(self) {
        self.out.push('}');
    }
}

fn write_transfer(r: &Transfer, out: &mut String) {
    let mut o = Obj::record("transfer", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("donor", &r.donor);
    o.str("recipient", &r.recipient);
    o.objects("lines", &r.lines, |o, line| {
        o.str("item", &line.item);
        o.u64("qty", line.qty);
        if let Some(value) = &line.value {
            o.money("value", value);
        }
    });
    o.opt_str("authority", r.authority.as_deref());
    o.opt_str("note", r.note.as_deref());
    o.end();
}

fn write_allocate(r: &Allocate, out: &mut String) {
    let mut o = Obj::record("allocate", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("transfer", &r.transfer);
    o.str("item", &r.item);
    o.u64("qty", r.qty);
    o.str("from", &r.from);
    o.opt_str("lot", r.lot.as_deref());
    if let Some(ov) = &r.override_ {
        let mut n = Obj::nested(o.key("override"));
        n.str("reason", &ov.reason);
        n.str("by", &ov.by);
        n.end();
    }
    o.end();
}

fn write_cancel(r: &Cancel, out: &mut String) {
    let mut o = Obj::record("cancel", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("transfer", &r.transfer);
    o.opt_str("item", r.item.as_deref());
    o.opt_u64("qty", r.qty);
    o.opt_str("reason", r.reason.as_deref());
    o.opt_str("by", r.by.as_deref());
    o.end();
}

fn write_pause(r: &Pause, out: &mut String) {
    let mut o = Obj::record("pause", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("reason", &r.reason);
    o.str("by", &r.by);
    o.strs("items", r.items.as_deref());
    o.strs("categories", r.categories.as_deref());
    o.opt_str("donor", r.donor.as_deref());
    o.opt_str("recipient", r.recipient.as_deref());
    o.opt_str("transfer", r.transfer.as_deref());
    o.opt_time("review_by", r.review_by);
    o.end();
}

fn write_resume(r: &Resume, out: &mut String) {
    let mut o = Obj::record("resume", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("pause", &r.pause);
    o.opt_str("reason", r.reason.as_deref());
    o.opt_str("by", r.by.as_deref());
    o.end();
}

fn write_production(r: &Production, out: &mut String) {
    let mut o = Obj::record("production", out);
    o.str("id", &r.id);
    o.str("item", &r.item);
    o.str("to", &r.to);
    o.u64("qty_per_month", r.qty_per_month);
    o.time("from_time", r.from_time);
    o.opt_time("to_time", r.to_time);
    o.opt_str("partner", r.partner.as_deref());
    o.end();
}

fn write_consumption(r: &Consumption, out: &mut String) {
    let mut o = Obj::record("consumption", out);
    o.str("id", &r.id);
    o.str("item", &r.item);
    o.str("org", &r.org);
    o.u64("qty_per_month", r.qty_per_month);
    o.time("from_time", r.from_time);
    o.opt_time("to_time", r.to_time);
    o.end();
}

fn write_threat(r: &Threat, out: &mut String) {
    let mut o = Obj::record("threat", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("region", &r.region);
    o.threat_counts("launched", &r.launched);
    if let Some(c) = &r.intercepted {
        o.threat_counts("intercepted", c);
    }
    if let Some(used) = &r.interceptors_used {
        // Sorted by code, each once, as the reader keeps it (and the core requires).
        debug_assert!(used.windows(2).all(|w| w[0].0 < w[1].0));
        let mut n = Obj::nested(o.key("interceptors_used"));
        for (code, qty) in used {
            n.u64(code, *qty);
        }
        n.end();
    }
    o.end();
}

fn write_inventory(r: &Inventory, out: &mut String) {
    let mut o = Obj::record("inventory", out);
    o.str("id", &r.id);
    o.time("time", r.time);
    o.str("holder", &r.holder);
    o.str("by", &r.by);
    o.strs("serials_seen", r.serials_seen.as_deref());
    if let Some(counts) = &r.counts {
        o.objects("counts", counts, |o, c| {
            o.str("item", &c.item);
            o.u64("qty", c.qty);
            o.opt_str("lot", c.lot.as_deref());
        });
    }
    o.end();
}

/// `prefix` and the string, when there is one.
fn opt_str(prefix: &str, value: Option<&str>, out: &mut String) {
    if let Some(v) = value {
        out.push_str(prefix);
        write_str(v, out);
    }
}

/// A coordinate, with `serde_json`'s own formatter; `null` when not finite (as `serde_json`).
fn write_f64(v: f64, out: &mut String) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    let mut buf = [0u8; 40];
    let mut rest = &mut buf[..];
    CompactFormatter
        .write_f64(&mut rest, v)
        .expect("a float's shortest text fits 40 bytes");
    let len = 40 - rest.len();
    out.push_str(std::str::from_utf8(&buf[..len]).expect("a float's text is ASCII"));
}

/// Appends `s` as a quoted JSON string, escaped as `serde_json` escapes.
pub(crate) fn write_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // Every byte that needs escaping is ASCII, so `i` is a character boundary.
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x08 => out.push_str("\\b"),
            0x0c => out.push_str("\\f"),
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 0xf) as usize] as char);
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn strings_are_escaped_as_serde_json_escapes(s in "(?s).{0,16}") {
            let mut out = String::new();
            super::write_str(&s, &mut out);
            prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn coordinates_are_written_as_serde_json_writes(v in proptest::num::f64::ANY) {
            let mut out = String::new();
            super::write_f64(v, &mut out);
            prop_assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
    }
}
