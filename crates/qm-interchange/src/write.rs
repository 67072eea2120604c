//! Writing records in their canonical one-line form.
//!
//! Canonical means: compact JSON (no spaces), `type` first, then the required fields in the
//! order of the spec's table, then the optional fields present, in table order; absent optional
//! fields are left out. Strings are escaped as `serde_json` does (`\"`, `\\`, `\n`, `\r`, `\t`,
//! `\b`, `\f`, other control characters as `\u00XX`; everything else, non-ASCII included, as
//! UTF-8). Integers are written by `itoa`, coordinates by `serde_json`'s own float formatter
//! (shortest text that reads back to the same `f64`), times by [`format_time`].
//!
//! The writer appends to a `String` with no intermediate values: it is on the export path.

use qm_core::{Floor, Holder, Item, Money, Movement, Org, Record};
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
        // Transitional: the reader does not produce the v1.1 workflow records yet, so no
        // ledger holds one; their canonical writers come with their reader.
        Record::Transfer(_)
        | Record::Allocate(_)
        | Record::Cancel(_)
        | Record::Pause(_)
        | Record::Resume(_)
        | Record::Production(_)
        | Record::Consumption(_)
        | Record::Threat(_)
        | Record::Inventory(_) => unreachable!("v1.1 records are not read yet"),
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
