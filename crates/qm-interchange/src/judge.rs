//! Judging a line read into a [`RawRecord`]: from JSON values to a typed [`Record`], or the
//! first problem, naming its field.
//!
//! Order: a duplicate key, then `type`, then the first key (in line order) the type does not
//! have, then each field of the type in the order of its table in `schema.rs` (which is the
//! spec's), each checked for presence when required, then for its value. The per-type code
//! below reads exactly the table's fields in the table's order with the table's presence; in
//! debug builds `Judge` asserts it, so a table and its code cannot drift apart unnoticed.
//!
//! The bounds (`qm_core::limits`), checked where a value enters:
//! - quantities (`qty`, `min_qty`, `lines[].qty`, `qty_per_month`, `counts[].qty`, threat
//!   counts, `interceptors_used` values): integers of at most `QTY_MAX` (2^53 - 1); `qty` of
//!   a movement, an allocation, a cancel and a transfer line at least 1, the others at least 0;
//! - identifiers (ids, codes, references to orgs, holders, items, transfers and pauses, lots,
//!   serials, item codes in arrays and maps): `is_valid_id` (1 to 256 bytes, no control
//!   characters, no leading or trailing white space);
//! - names of orgs, holders and items: not empty and not only white space; the required
//!   `reason` and `by` of a pause and of an override, and a threat's `region`, likewise;
//! - free text (names, `note`, `reason`, `authority`, `by`, `region`, `category`, `unit`,
//!   `kind`): at most `TEXT_BYTES_MAX` (4096) bytes;
//! - money (`unit_value.amount`, `lines[].value.amount`): a non-negative decimal of at most
//!   15 integer and 6 fractional digits;
//! - arrays (and the entries of `interceptors_used`): at most `ARRAY_LEN_MAX` (100,000)
//!   elements.

use std::borrow::Cow;
use std::collections::HashMap;

use qm_core::limits::{
    is_valid_id, ARRAY_LEN_MAX, ID_BYTES_MAX, MONEY_FRAC_DIGITS_MAX, MONEY_INT_DIGITS_MAX, QTY_MAX,
    TEXT_BYTES_MAX,
};
use qm_core::{
    Allocate, Cancel, Consumption, Floor, Holder, HolderKind, Inventory, InventoryCount, Item,
    Money, Movement, Org, OrgKind, Override, Pause, Production, Record, RecordKind, Resume, Threat,
    ThreatCounts, Time, Tracking, Transfer, TransferLine,
};

use crate::nested::{
    self, Array, CountWire, Entries, LineWire, MoneyWire, Object, OverrideWire, ThreatCountsWire,
};
use crate::read::{quoted, FieldError, RawRecord, Value};
use crate::schema::{self, Field, Presence, TypeSpec};
use crate::time::{parse_time_checked, time_message};

/// What is wrong with a value, before it is placed at a path.
type Msg = Cow<'static, str>;

const EXPECTED_STRING: &str = "expected a string";
const EXPECTED_NON_EMPTY: &str = "expected a non-empty string";

impl<'de> RawRecord<'de> {
    /// Judges the fields read.
    pub(crate) fn judge(&self) -> Result<Record, FieldError> {
        if let Some(field) = self.duplicate {
            return Err(FieldError::field(field.name(), "duplicate field"));
        }
        let ty = match self.get(Field::Type) {
            None => return Err(FieldError::field("type", "missing required field")),
            Some(Value::Str(s)) => schema::lookup(s).ok_or_else(|| {
                FieldError::field(
                    "type",
                    format!(
                        "unknown record type {}: expected {}",
                        quoted(s),
                        schema::type_names()
                    ),
                )
            })?,
            Some(_) => return Err(FieldError::field("type", EXPECTED_STRING)),
        };
        self.check_unknown(ty)?;
        let mut j = Judge {
            raw: self,
            ty,
            next: 0,
        };
        let rec = j.record()?;
        debug_assert_eq!(
            j.next,
            ty.fields.len(),
            "{} record: the last fields of its table were not judged",
            ty.name()
        );
        Ok(rec)
    }

    /// Rejects the first key (in line order) that a record of type `ty` does not have.
    fn check_unknown(&self, ty: &TypeSpec) -> Result<(), FieldError> {
        let foreign = self.present.minus(&ty.allowed);
        let first_foreign = foreign.iter().min_by_key(|f| self.position[*f as usize]);
        let unknown_position = self.unknown.as_ref().map_or(u32::MAX, |(_, p)| *p);
        let name: &str = match first_foreign {
            Some(f) if self.position[f as usize] < unknown_position => f.name(),
            _ => match &self.unknown {
                Some((key, _)) => key,
                None => return Ok(()),
            },
        };
        Err(FieldError::field(
            name,
            format!("unknown field for {}", ty.describe),
        ))
    }
}

/// Judges the fields of a record of a known type, reading each value where it is (moving
/// values out cost a tenth of the time of reading a movement).
struct Judge<'r, 'de> {
    raw: &'r RawRecord<'de>,
    ty: &'static TypeSpec,
    /// The index in the type's table of the next field to judge (checked in debug builds).
    next: usize,
}

impl<'de> Judge<'_, 'de> {
    /// Asserts that `f` is the type's next field in table order (none skipped), with
    /// `presence`.
    fn note(&mut self, f: Field, presence: Presence) {
        if cfg!(debug_assertions) {
            let (i, declared) = self.ty.position(f).unwrap_or_else(|| {
                panic!("{} is not a field of a {} record", f.name(), self.ty.name())
            });
            assert_eq!(
                declared,
                presence,
                "{} of a {} record",
                f.name(),
                self.ty.name()
            );
            assert_eq!(
                i,
                self.next,
                "{} of a {} record judged out of table order",
                f.name(),
                self.ty.name()
            );
            self.next = i + 1;
        }
    }

    /// A required field, read by `read` from its value.
    fn req<T>(
        &mut self,
        f: Field,
        read: impl FnOnce(&str, &Value<'de>) -> Result<T, FieldError>,
    ) -> Result<T, FieldError> {
        self.note(f, Presence::Required);
        match self.raw.get(f) {
            Some(v) => read(f.name(), v),
            None => Err(FieldError::field(
                f.name(),
                format!("missing required field of {}", self.ty.describe),
            )),
        }
    }

    /// An optional field, read by `read` from its value when present.
    fn opt<T>(
        &mut self,
        f: Field,
        read: impl FnOnce(&str, &Value<'de>) -> Result<T, FieldError>,
    ) -> Result<Option<T>, FieldError> {
        self.note(f, Presence::Optional);
        match self.raw.get(f) {
            Some(v) => read(f.name(), v).map(Some),
            None => Ok(None),
        }
    }

    fn record(&mut self) -> Result<Record, FieldError> {
        use Field as F;
        Ok(match self.ty.kind {
            RecordKind::Org => Record::Org(Org {
                id: self.req(F::Id, leaf(id))?,
                name: self.req(F::Name, leaf(name))?,
                kind: self.opt(F::Kind, leaf(org_kind))?,
            }),
            RecordKind::Holder => Record::Holder(Holder {
                id: self.req(F::Id, leaf(id))?,
                name: self.req(F::Name, leaf(name))?,
                org: self.req(F::Org, leaf(id))?,
                kind: self.req(F::Kind, leaf(holder_kind))?,
                country: self.opt(F::Country, leaf(country))?,
                lat: self.opt(F::Lat, leaf(|v| coordinate(v, 90.0)))?,
                lon: self.opt(F::Lon, leaf(|v| coordinate(v, 180.0)))?,
            }),
            RecordKind::Item => Record::Item(Item {
                code: self.req(F::Code, leaf(id))?,
                name: self.req(F::Name, leaf(name))?,
                category: self.req(F::Category, leaf(text))?,
                tracking: self.req(F::Tracking, leaf(tracking))?,
                unit: self.opt(F::Unit, leaf(text))?,
                sensitive: self.opt(F::Sensitive, leaf(boolean))?,
                unit_value: self.opt(F::UnitValue, money_field)?,
                inventory_interval_days: self.opt(F::InventoryIntervalDays, leaf(days))?,
            }),
            RecordKind::Floor => Record::Floor(Floor {
                item: self.req(F::Item, leaf(id))?,
                org: self.req(F::Org, leaf(id))?,
                min_qty: self.req(F::MinQty, leaf(qty0))?,
                time: self.opt(F::Time, leaf(time))?,
            }),
            RecordKind::Movement => {
                let id = self.req(F::Id, leaf(id))?;
                let time = self.req(F::Time, leaf(time))?;
                let item = self.req(F::Item, leaf(self::id))?;
                let qty = self.req(F::Qty, leaf(qty1))?;
                let from = self.req(F::From, leaf(self::id))?;
                let to = self.req(F::To, leaf(self::id))?;
                let lot = self.opt(F::Lot, leaf(self::id))?;
                let serials = self.opt(F::Serials, |p, v| serials(p, v, qty))?;
                Record::Movement(Movement {
                    id,
                    time,
                    item,
                    qty,
                    from,
                    to,
                    lot,
                    serials,
                    kind: self.opt(F::Kind, leaf(text))?,
                    transfer: self.opt(F::Transfer, leaf(self::id))?,
                    note: self.opt(F::Note, leaf(text))?,
                })
            }
            RecordKind::Transfer => Record::Transfer(Transfer {
                id: self.req(F::Id, leaf(id))?,
                time: self.req(F::Time, leaf(time))?,
                donor: self.req(F::Donor, leaf(id))?,
                recipient: self.req(F::Recipient, leaf(id))?,
                lines: self.req(F::Lines, lines)?,
                authority: self.opt(F::Authority, leaf(text))?,
                note: self.opt(F::Note, leaf(text))?,
            }),
            RecordKind::Allocate => Record::Allocate(Allocate {
                id: self.req(F::Id, leaf(id))?,
                time: self.req(F::Time, leaf(time))?,
                transfer: self.req(F::Transfer, leaf(id))?,
                item: self.req(F::Item, leaf(id))?,
                qty: self.req(F::Qty, leaf(qty1))?,
                from: self.req(F::From, leaf(id))?,
                lot: self.opt(F::Lot, leaf(id))?,
                override_: self.opt(F::Override, override_)?,
            }),
            RecordKind::Cancel => {
                let id = self.req(F::Id, leaf(id))?;
                let time = self.req(F::Time, leaf(time))?;
                let transfer = self.req(F::Transfer, leaf(self::id))?;
                let item = self.opt(F::Item, leaf(self::id))?;
                let qty = self.opt(F::Qty, leaf(qty1))?;
                if qty.is_some() && item.is_none() {
                    return Err(FieldError::field(
                        "qty",
                        "expected only with item (a cancel without item takes every line's whole undispatched remainder)",
                    ));
                }
                Record::Cancel(Cancel {
                    id,
                    time,
                    transfer,
                    item,
                    qty,
                    reason: self.opt(F::Reason, leaf(text))?,
                    by: self.opt(F::By, leaf(text))?,
                })
            }
            RecordKind::Pause => {
                let pause = Pause {
                    id: self.req(F::Id, leaf(id))?,
                    time: self.req(F::Time, leaf(time))?,
                    reason: self.req(F::Reason, leaf(name))?,
                    by: self.req(F::By, leaf(name))?,
                    items: self.opt(F::Items, |p, v| {
                        strings(p, v, &ITEM_CODES, id).and_then(|s| non_empty(p, s, &ITEM_CODES))
                    })?,
                    categories: self.opt(F::Categories, |p, v| {
                        strings(p, v, &CATEGORIES, text).and_then(|s| non_empty(p, s, &CATEGORIES))
                    })?,
                    donor: self.opt(F::Donor, leaf(id))?,
                    recipient: self.opt(F::Recipient, leaf(id))?,
                    transfer: self.opt(F::Transfer, leaf(id))?,
                    review_by: self.opt(F::ReviewBy, leaf(time))?,
                };
                let scoped = pause.items.is_some()
                    || pause.categories.is_some()
                    || pause.donor.is_some()
                    || pause.recipient.is_some()
                    || pause.transfer.is_some();
                if !scoped {
                    return Err(FieldError::line(
                        "a pause record needs at least one scope field: items, categories, donor, recipient or transfer",
                    ));
                }
                Record::Pause(pause)
            }
            RecordKind::Resume => Record::Resume(Resume {
                id: self.req(F::Id, leaf(id))?,
                time: self.req(F::Time, leaf(time))?,
                pause: self.req(F::Pause, leaf(id))?,
                reason: self.opt(F::Reason, leaf(text))?,
                by: self.opt(F::By, leaf(text))?,
            }),
            RecordKind::Production => {
                let id = self.req(F::Id, leaf(id))?;
                let item = self.req(F::Item, leaf(self::id))?;
                let to = self.req(F::To, leaf(self::id))?;
                let qty_per_month = self.req(F::QtyPerMonth, leaf(qty0))?;
                let from_time = self.req(F::FromTime, leaf(time))?;
                let to_time = self.opt(F::ToTime, |p, v| to_time(p, v, from_time))?;
                Record::Production(Production {
                    id,
                    item,
                    to,
                    qty_per_month,
                    from_time,
                    to_time,
                    partner: self.opt(F::Partner, leaf(self::id))?,
                })
            }
            RecordKind::Consumption => {
                let id = self.req(F::Id, leaf(id))?;
                let item = self.req(F::Item, leaf(self::id))?;
                let org = self.req(F::Org, leaf(self::id))?;
                let qty_per_month = self.req(F::QtyPerMonth, leaf(qty0))?;
                let from_time = self.req(F::FromTime, leaf(time))?;
                let to_time = self.opt(F::ToTime, |p, v| to_time(p, v, from_time))?;
                Record::Consumption(Consumption {
                    id,
                    item,
                    org,
                    qty_per_month,
                    from_time,
                    to_time,
                })
            }
            RecordKind::Threat => {
                let id = self.req(F::Id, leaf(id))?;
                let time = self.req(F::Time, leaf(time))?;
                let region = self.req(F::Region, leaf(name))?;
                let launched = self.req(F::Launched, |p, v| threat_counts(p, v, None))?;
                let intercepted =
                    self.opt(F::Intercepted, |p, v| threat_counts(p, v, Some(&launched)))?;
                Record::Threat(Threat {
                    id,
                    time,
                    region,
                    launched,
                    intercepted,
                    interceptors_used: self.opt(F::InterceptorsUsed, interceptors_used)?,
                })
            }
            RecordKind::Inventory => Record::Inventory(Inventory {
                id: self.req(F::Id, leaf(id))?,
                time: self.req(F::Time, leaf(time))?,
                holder: self.req(F::Holder, leaf(id))?,
                by: self.req(F::By, leaf(id))?,
                serials_seen: self.opt(F::SerialsSeen, |p, v| {
                    let s = strings(p, v, &SERIALS, id)?;
                    no_duplicates(p, s, &SERIALS)
                })?,
                counts: self.opt(F::Counts, counts)?,
            }),
        })
    }
}

/// A reader of a field from a check of its value.
fn leaf<'de, T>(
    check: impl FnOnce(&Value<'de>) -> Result<T, Msg>,
) -> impl FnOnce(&str, &Value<'de>) -> Result<T, FieldError> {
    move |path, v| check(v).map_err(|m| FieldError::field(path, m))
}

/// A required field of a nested object at `parent`: present, and passing `check`.
fn member<'de, T>(
    parent: &str,
    key: &str,
    v: Option<Value<'de>>,
    check: impl FnOnce(&Value<'de>) -> Result<T, Msg>,
) -> Result<T, FieldError> {
    let path = format!("{parent}.{key}");
    match v {
        None => Err(FieldError::field(
            path,
            format!("missing required field of {parent}"),
        )),
        Some(v) => check(&v).map_err(|m| FieldError::field(path, m)),
    }
}

/// An optional field of a nested object at `parent`.
fn opt_member<'de, T>(
    parent: &str,
    key: &str,
    v: Option<Value<'de>>,
    check: impl FnOnce(&Value<'de>) -> Result<T, Msg>,
) -> Result<Option<T>, FieldError> {
    v.map(|v| check(&v).map_err(|m| FieldError::field(format!("{parent}.{key}"), m)))
        .transpose()
}

/// The raw JSON text of a `Raw`-shaped field (see `schema.rs`).
fn raw<'de>(v: &Value<'de>) -> &'de str {
    match v {
        &Value::Raw(text) => text,
        other => unreachable!("a raw field is read as raw text, not {other:?}"),
    }
}

/// An identifier: [`is_valid_id`], with a message saying which rule it breaks.
///
/// The common case (plain ASCII) is inlined where ids are read; the rest is out of line, so
/// that the value need not go through memory on the path of every movement.
#[inline]
fn id(v: &Value<'_>) -> Result<String, Msg> {
    match v {
        Value::Str(s) if is_plain_id(s.as_bytes()) => Ok(String::from(&**s)),
        v => id_slow(v),
    }
}

#[cold]
#[inline(never)]
fn id_slow(v: &Value<'_>) -> Result<String, Msg> {
    let s = match v {
        Value::Str(s) if !s.is_empty() => s,
        _ => return Err(EXPECTED_NON_EMPTY.into()),
    };
    if is_valid_id(s) {
        return Ok(String::from(&**s));
    }
    if s.len() > ID_BYTES_MAX {
        return Err(format!(
            "expected an identifier of at most {ID_BYTES_MAX} bytes, found {}",
            s.len()
        )
        .into());
    }
    if let Some((at, c)) = s.char_indices().find(|(_, c)| c.is_control()) {
        return Err(format!(
            "expected an identifier without control characters, found U+{:04X} at byte {}",
            c as u32,
            at + 1
        )
        .into());
    }
    if let Some((at, c)) = s
        .char_indices()
        .find(|(_, c)| qm_core::limits::is_format_char(*c))
    {
        return Err(format!(
            "expected an identifier without invisible format characters, found U+{:04X} at byte {}",
            c as u32,
            at + 1
        )
        .into());
    }
    Err("expected an identifier without leading or trailing white space".into())
}

/// [`is_valid_id`] for the common case, ASCII, a word at a time: printable ASCII (space
/// included, DEL and C0 controls not), not starting or ending with a space, at most
/// [`ID_BYTES_MAX`] bytes. `false` means "not plain ASCII, or invalid": ask `is_valid_id`.
///
/// Without a loop over bytes (ids are short, and a per-byte loop of unpredictable length
/// cost a tenth of the time of reading a movement): whole words, then one word overlapping
/// the end; under 8 bytes, two overlapping halves; under 4, the first, middle and last byte.
#[inline]
fn is_plain_id(b: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    /// The high bit of each byte that is 0x80 or more, below 0x20, or 0x7f (as "any" tests,
    /// exact: a borrow only disturbs bytes above a flagged one).
    fn bad(x: u64) -> u64 {
        let del = x ^ (ONES * 0x7f);
        (x | (x.wrapping_sub(ONES * 0x20) & !x) | (del.wrapping_sub(ONES) & !del)) & HIGHS
    }
    let n = b.len();
    if n == 0 || n > ID_BYTES_MAX || b[0] == b' ' || b[n - 1] == b' ' {
        return false;
    }
    let word = |i: usize| u64::from_le_bytes(b[i..i + 8].try_into().expect("eight bytes"));
    let half = |i: usize| u32::from_le_bytes(b[i..i + 4].try_into().expect("four bytes"));
    let flags = if n >= 8 {
        let mut acc = bad(word(n - 8));
        let mut i = 0;
        while i + 8 <= n {
            acc |= bad(word(i));
            i += 8;
        }
        acc
    } else if n >= 4 {
        bad(half(0) as u64 | (half(n - 4) as u64) << 32)
    } else {
        // `a` (valid) in the five bytes not taken.
        let x = u64::from_le_bytes([b[0], b[n / 2], b[n - 1], b'a', b'a', b'a', b'a', b'a']);
        bad(x)
    };
    flags == 0
}

/// Free text: any string of at most [`TEXT_BYTES_MAX`] bytes.
fn text(v: &Value<'_>) -> Result<String, Msg> {
    match v {
        Value::Str(s) if s.len() <= TEXT_BYTES_MAX => Ok(String::from(&**s)),
        Value::Str(s) => Err(format!(
            "expected a string of at most {TEXT_BYTES_MAX} bytes, found {}",
            s.len()
        )
        .into()),
        _ => Err(EXPECTED_STRING.into()),
    }
}

/// A name (or another text that must say something): free text, not empty and not only
/// white space.
fn name(v: &Value<'_>) -> Result<String, Msg> {
    let s = text(v)?;
    if s.trim().is_empty() {
        return Err("expected a non-empty string that is not only white space".into());
    }
    Ok(s)
}

/// An integer from `min` (0 or 1) to [`QTY_MAX`].
fn qty(v: &Value<'_>, min: u64) -> Result<u64, Msg> {
    match v {
        &Value::UInt(n) if (min..=QTY_MAX).contains(&n) => Ok(n),
        _ if min == 0 => {
            Err(format!("expected a non-negative integer of at most {QTY_MAX}").into())
        }
        _ => Err(format!("expected a positive integer of at most {QTY_MAX}").into()),
    }
}

fn qty0(v: &Value<'_>) -> Result<u64, Msg> {
    qty(v, 0)
}

fn qty1(v: &Value<'_>) -> Result<u64, Msg> {
    qty(v, 1)
}

fn days(v: &Value<'_>) -> Result<u32, Msg> {
    match v {
        &Value::UInt(n) => u32::try_from(n)
            .map_err(|_| format!("expected a non-negative integer of at most {}", u32::MAX).into()),
        _ => Err(format!("expected a non-negative integer of at most {}", u32::MAX).into()),
    }
}

fn boolean(v: &Value<'_>) -> Result<bool, Msg> {
    match v {
        &Value::Bool(b) => Ok(b),
        _ => Err("expected true or false".into()),
    }
}

fn time(v: &Value<'_>) -> Result<Time, Msg> {
    match v {
        Value::Str(s) => parse_time_checked(s).map_err(|e| time_message(e).into()),
        _ => Err(time_message(qm_core::ParseTimeError::Malformed).into()),
    }
}

/// `to_time`: a time not before `from_time`.
fn to_time(path: &str, v: &Value<'_>, from_time: Time) -> Result<Time, FieldError> {
    let t = time(v).map_err(|m| FieldError::field(path, m))?;
    if t < from_time {
        return Err(FieldError::field(
            path,
            format!(
                "expected a time at or after from_time ({})",
                qm_core::format_time_plain(from_time)
            ),
        ));
    }
    Ok(t)
}

/// One of the values that `parse` knows, listed in `values` for the message.
fn one_of<T>(v: &Value<'_>, parse: fn(&str) -> Option<T>, values: &str) -> Result<T, Msg> {
    match v {
        Value::Str(s) => parse(s).ok_or(()),
        _ => Err(()),
    }
    .map_err(|()| format!("expected one of {values}").into())
}

fn org_kind(v: &Value<'_>) -> Result<OrgKind, Msg> {
    one_of(
        v,
        OrgKind::parse,
        "donor, recipient, producer, monitor, other",
    )
}

fn holder_kind(v: &Value<'_>) -> Result<HolderKind, Msg> {
    one_of(v, HolderKind::parse, "depot, transit, unit, source, sink")
}

fn tracking(v: &Value<'_>) -> Result<Tracking, Msg> {
    one_of(v, Tracking::parse, "bulk, lot, serial")
}

fn country(v: &Value<'_>) -> Result<String, Msg> {
    match v {
        Value::Str(s) if is_upper_ascii(s, 2) => Ok(String::from(&**s)),
        _ => Err("expected two uppercase ASCII letters (ISO 3166 alpha-2)".into()),
    }
}

/// A JSON number from `-limit` to `limit`, from its raw text (parsed correctly rounded).
fn coordinate(v: &Value<'_>, limit: f64) -> Result<f64, Msg> {
    let text = raw(v).trim();
    let is_number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    match text.parse::<f64>() {
        Ok(v) if is_number && (-limit..=limit).contains(&v) => Ok(v),
        _ => Err(format!("expected a number from -{limit} to {limit}").into()),
    }
}

/// `unit_value` of an item.
fn money_field(path: &str, v: &Value<'_>) -> Result<Money, FieldError> {
    let Object(wire) = nested::read::<Object<MoneyWire>>(path, raw(v))?;
    money(path, wire)
}

/// An amount of money at `path`: a non-negative decimal amount and a currency.
fn money(path: &str, wire: MoneyWire<'_>) -> Result<Money, FieldError> {
    let amount = member(path, "amount", wire.amount, |v| {
        match v {
        Value::Str(s) if is_amount(s) => Ok(String::from(&**s)),
        _ => Err(format!(
            r#"expected a non-negative decimal string like "1234.50", of at most {MONEY_INT_DIGITS_MAX} integer and {MONEY_FRAC_DIGITS_MAX} fractional digits"#
        )
        .into()),
    }
    })?;
    let currency = member(path, "currency", wire.currency, |v| match v {
        Value::Str(s) if is_upper_ascii(s, 3) => Ok(String::from(&**s)),
        _ => Err("expected three uppercase ASCII letters (ISO 4217)".into()),
    })?;
    Ok(Money { amount, currency })
}

/// What the elements of an array of strings are called in messages.
struct Noun {
    one: &'static str,
    many: &'static str,
    /// What the array holds: `non-empty strings`.
    elements: &'static str,
}

const SERIALS: Noun = Noun {
    one: "serial",
    many: "serials",
    elements: "non-empty strings",
};
const ITEM_CODES: Noun = Noun {
    one: "item",
    many: "items",
    elements: "non-empty strings",
};
const CATEGORIES: Noun = Noun {
    one: "category",
    many: "categories",
    elements: "strings",
};

/// An array of strings, each passing `check`, at most [`ARRAY_LEN_MAX`] of them.
fn strings(
    path: &str,
    v: &Value<'_>,
    noun: &Noun,
    check: fn(&Value<'_>) -> Result<String, Msg>,
) -> Result<Vec<String>, FieldError> {
    let elements = match v {
        Value::Elements(elements) => elements,
        _ => {
            return Err(FieldError::field(
                path,
                format!("expected an array of {}", noun.elements),
            ))
        }
    };
    let len = elements.len();
    if len > ARRAY_LEN_MAX {
        return Err(FieldError::field(
            path,
            format!("expected at most {ARRAY_LEN_MAX} {}", noun.many),
        ));
    }
    let mut out = Vec::with_capacity(len);
    for (i, e) in elements.iter().enumerate() {
        let s = check(e).map_err(|m| {
            FieldError::field(path, format!("{} {} of {len}: {m}", noun.one, i + 1))
        })?;
        out.push(s);
    }
    Ok(out)
}

/// `strings` unless one repeats an earlier one.
fn no_duplicates(path: &str, strings: Vec<String>, noun: &Noun) -> Result<Vec<String>, FieldError> {
    match first_duplicate(&strings) {
        Some(i) => Err(FieldError::field(
            path,
            format!("duplicate {} {}", noun.one, quoted(&strings[i])),
        )),
        None => Ok(strings),
    }
}

/// A scope list of a pause: distinct, and not empty (an empty list would match nothing).
fn non_empty(path: &str, strings: Vec<String>, noun: &Noun) -> Result<Vec<String>, FieldError> {
    if strings.is_empty() {
        return Err(FieldError::field(
            path,
            format!("expected at least one of the {} to pause", noun.many),
        ));
    }
    no_duplicates(path, strings, noun)
}

/// `serials` of a movement: identifiers, as many as `qty`, distinct.
fn serials(path: &str, v: &Value<'_>, qty: u64) -> Result<Vec<String>, FieldError> {
    let serials = strings(path, v, &SERIALS, id)?;
    if serials.len() as u64 != qty {
        return Err(FieldError::field(
            path,
            format!(
                "expected as many serials as qty ({qty}), found {}",
                serials.len()
            ),
        ));
    }
    no_duplicates(path, serials, &SERIALS)
}

/// `lines` of a transfer: at least one, each item at most once.
fn lines(path: &str, v: &Value<'_>) -> Result<Vec<TransferLine>, FieldError> {
    let Array(wires) = nested::read::<Array<Object<LineWire>>>(path, raw(v))?;
    if wires.is_empty() {
        return Err(FieldError::field(path, "expected at least one line"));
    }
    if wires.len() > ARRAY_LEN_MAX {
        return Err(FieldError::field(
            path,
            format!("expected at most {ARRAY_LEN_MAX} lines"),
        ));
    }
    let mut lines: Vec<TransferLine> = Vec::with_capacity(wires.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (i, Object(w)) in wires.into_iter().enumerate() {
        let at = format!("{path}[{i}]");
        let item = member(&at, "item", w.item, id)?;
        if let Some(first) = seen.get(&item) {
            return Err(FieldError::field(
                format!("{at}.item"),
                format!("item {} is already on {path}[{first}]", quoted(&item)),
            ));
        }
        let qty = member(&at, "qty", w.qty, qty1)?;
        let value = match w.value {
            Some(Object(m)) => Some(money(&format!("{at}.value"), m)?),
            None => None,
        };
        seen.insert(item.clone(), i);
        lines.push(TransferLine { item, qty, value });
    }
    Ok(lines)
}

/// `override` of an allocation: why, and who.
fn override_(path: &str, v: &Value<'_>) -> Result<Override, FieldError> {
    let Object(w) = nested::read::<Object<OverrideWire>>(path, raw(v))?;
    Ok(Override {
        reason: member(path, "reason", w.reason, name)?,
        by: member(path, "by", w.by, name)?,
    })
}

/// `launched` or `intercepted` of a threat; intercepted counts at most the launched ones
/// (an absent count is 0).
fn threat_counts(
    path: &str,
    v: &Value<'_>,
    launched: Option<&ThreatCounts>,
) -> Result<ThreatCounts, FieldError> {
    let Object(w) = nested::read::<Object<ThreatCountsWire>>(path, raw(v))?;
    let counts = ThreatCounts {
        drones: opt_member(path, "drones", w.drones, qty0)?,
        cruise_missiles: opt_member(path, "cruise_missiles", w.cruise_missiles, qty0)?,
        ballistic_missiles: opt_member(path, "ballistic_missiles", w.ballistic_missiles, qty0)?,
    };
    if let Some(l) = launched {
        let pairs = [
            ("drones", counts.drones, l.drones),
            ("cruise_missiles", counts.cruise_missiles, l.cruise_missiles),
            (
                "ballistic_missiles",
                counts.ballistic_missiles,
                l.ballistic_missiles,
            ),
        ];
        for (key, intercepted, launched) in pairs {
            let launched = launched.unwrap_or(0);
            if intercepted.unwrap_or(0) > launched {
                return Err(FieldError::field(
                    format!("{path}.{key}"),
                    format!("expected at most launched.{key} ({launched})"),
                ));
            }
        }
    }
    Ok(counts)
}

/// `interceptors_used` of a threat: item code -> quantity, kept sorted by code, each once.
fn interceptors_used(path: &str, v: &Value<'_>) -> Result<Vec<(String, u64)>, FieldError> {
    let Entries(entries) = nested::read::<Entries>(path, raw(v))?;
    if entries.len() > ARRAY_LEN_MAX {
        return Err(FieldError::field(
            path,
            format!("expected at most {ARRAY_LEN_MAX} item codes"),
        ));
    }
    let mut used = Vec::with_capacity(entries.len());
    for (code, v) in entries {
        let code_text = code.to_string();
        let code = id(&Value::Str(code)).map_err(|m| {
            FieldError::field(path, format!("item code {}: {m}", quoted(&code_text)))
        })?;
        let qty = qty0(&v).map_err(|m| FieldError::field(format!("{path}.{code}"), m))?;
        used.push((code, qty));
    }
    used.sort_by(|a, b| a.0.cmp(&b.0));
    if let Some(w) = used.windows(2).find(|w| w[0].0 == w[1].0) {
        return Err(FieldError::field(
            format!("{path}.{}", w[0].0),
            "duplicate item code",
        ));
    }
    Ok(used)
}

/// `counts` of an inventory: each (item, lot) at most once.
fn counts(path: &str, v: &Value<'_>) -> Result<Vec<InventoryCount>, FieldError> {
    let Array(wires) = nested::read::<Array<Object<CountWire>>>(path, raw(v))?;
    if wires.len() > ARRAY_LEN_MAX {
        return Err(FieldError::field(
            path,
            format!("expected at most {ARRAY_LEN_MAX} counts"),
        ));
    }
    let mut counts: Vec<InventoryCount> = Vec::with_capacity(wires.len());
    let mut seen: HashMap<(String, Option<String>), usize> = HashMap::new();
    for (i, Object(w)) in wires.into_iter().enumerate() {
        let at = format!("{path}[{i}]");
        let item = member(&at, "item", w.item, id)?;
        let qty = member(&at, "qty", w.qty, qty0)?;
        let lot = opt_member(&at, "lot", w.lot, id)?;
        let key = (item, lot);
        if let Some(first) = seen.get(&key) {
            let lot = match &key.1 {
                Some(lot) => format!(" lot {}", quoted(lot)),
                None => String::new(),
            };
            return Err(FieldError::field(
                format!("{at}.item"),
                format!(
                    "item {}{lot} is already counted in {path}[{first}]",
                    quoted(&key.0)
                ),
            ));
        }
        seen.insert(key.clone(), i);
        let (item, lot) = key;
        counts.push(InventoryCount { item, qty, lot });
    }
    Ok(counts)
}

/// The index of the first string that repeats an earlier one, if any.
fn first_duplicate(strings: &[String]) -> Option<usize> {
    if strings.len() <= 16 {
        return (1..strings.len()).find(|&i| strings[..i].contains(&strings[i]));
    }
    let mut seen = std::collections::HashSet::with_capacity(strings.len());
    strings.iter().position(|s| !seen.insert(s.as_str()))
}

/// `s` is exactly `len` ASCII letters `A` to `Z`.
fn is_upper_ascii(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `s` is a non-negative decimal: 1 to 15 digits, and optionally `.` and 1 to 6 digits.
fn is_amount(s: &str) -> bool {
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    let digits =
        |t: &str, max: usize| (1..=max).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    digits(int, MONEY_INT_DIGITS_MAX) && frac.is_none_or(|f| digits(f, MONEY_FRAC_DIGITS_MAX))
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};

    use crate::read::parse_record;
    use crate::schema::{Presence, TYPES};

    /// One line per record type, in the order of `TYPES`, with every field present.
    pub(crate) const FULL: [&str; 14] = [
        r#"{"type":"org","id":"A","name":"a","kind":"donor"}"#,
        r#"{"type":"holder","id":"h","name":"H","org":"A","kind":"depot","country":"UA","lat":50.5,"lon":30.5}"#,
        r#"{"type":"item","code":"c","name":"C","category":"x","tracking":"lot","unit":"round","sensitive":true,"unit_value":{"amount":"1.5","currency":"USD"},"inventory_interval_days":30}"#,
        r#"{"type":"floor","item":"c","org":"A","min_qty":5,"time":"2025-01-01"}"#,
        r#"{"type":"movement","id":"m","time":"2025-01-01","item":"c","qty":1,"from":"a","to":"b","lot":"L","serials":["S"],"kind":"issue","transfer":"t","note":"n"}"#,
        r#"{"type":"transfer","id":"t","time":"2025-01-01","donor":"A","recipient":"B","lines":[{"item":"c","qty":2,"value":{"amount":"3","currency":"EUR"}}],"authority":"PDA 1","note":"n"}"#,
        r#"{"type":"allocate","id":"al","time":"2025-01-01","transfer":"t","item":"c","qty":2,"from":"d","lot":"L","override":{"reason":"urgent","by":"minister"}}"#,
        r#"{"type":"cancel","id":"x","time":"2025-01-01","transfer":"t","item":"c","qty":1,"reason":"r","by":"b"}"#,
        r#"{"type":"pause","id":"p","time":"2025-01-01","reason":"r","by":"b","items":["c"],"categories":["x"],"donor":"A","recipient":"B","transfer":"t","review_by":"2025-02-01"}"#,
        r#"{"type":"resume","id":"rs","time":"2025-01-02","pause":"p","reason":"r","by":"b"}"#,
        r#"{"type":"production","id":"pr","item":"c","to":"src","qty_per_month":100,"from_time":"2025-01-01","to_time":"2026-01-01","partner":"B"}"#,
        r#"{"type":"consumption","id":"co","item":"c","org":"B","qty_per_month":10,"from_time":"2025-01-01","to_time":"2026-01-01"}"#,
        r#"{"type":"threat","id":"th","time":"2025-01-01","region":"Kyiv","launched":{"drones":40,"cruise_missiles":3,"ballistic_missiles":1},"intercepted":{"drones":35},"interceptors_used":{"PAC-3":2}}"#,
        r#"{"type":"inventory","id":"in","time":"2025-01-01","holder":"h","by":"M","serials_seen":["S"],"counts":[{"item":"c","qty":5,"lot":"L"}]}"#,
    ];

    proptest::proptest! {
        /// The ASCII fast path never accepts what `is_valid_id` rejects, and accepts every
        /// valid ASCII id.
        #[test]
        fn plain_ids_are_valid_ids(s in proptest::prop_oneof![
            "[ -~]{0,24}",
            "[ -~\u{0}-\u{1f}\u{7f}\u{85}\u{a0}é]{0,24}",
            "[ -~]{0,12}[\u{0}-\u{1f}\u{7f}\u{80}-\u{ff}][ -~]{0,12}",
            "[a ]{255,258}",
        ]) {
            let plain = super::is_plain_id(s.as_bytes());
            let valid = qm_core::limits::is_valid_id(&s);
            proptest::prop_assert!(!plain || valid, "{:?}", s);
            proptest::prop_assert_eq!(plain, valid && s.is_ascii(), "{:?}", s);
        }
    }

    /// The keys of a JSON object, in line order.
    fn keys(line: &str) -> Vec<String> {
        struct Keys;
        impl<'de> Visitor<'de> for Keys {
            type Value = Vec<String>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some((k, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(k);
                }
                Ok(keys)
            }
        }
        serde_json::Deserializer::from_str(line)
            .deserialize_map(Keys)
            .unwrap()
    }

    /// `line` without its field `key`.
    fn without(line: &str, key: &str) -> String {
        let mut v: serde_json::Map<String, serde_json::Value> = serde_json::from_str(line).unwrap();
        assert!(v.remove(key).is_some(), "{key} in {line}");
        serde_json::to_string(&v).unwrap()
    }

    fn write(line: &str) -> String {
        let mut out = String::new();
        crate::write::write_record(&parse_record(line).unwrap(), &mut out);
        out
    }

    /// The writer writes `type`, then every field in table order.
    #[test]
    fn canonical_keys_are_in_table_order() {
        for (ty, line) in TYPES.iter().zip(FULL) {
            let mut expected = vec!["type"];
            expected.extend(ty.fields.iter().map(|(f, _)| f.name()));
            assert_eq!(keys(&write(line)), expected, "{}", ty.name());
            assert_eq!(keys(line), expected, "FULL lists every field in order");
        }
    }

    /// Dropping a required field is the error that names it; dropping an optional one is not
    /// an error (the cancel's `qty` needs its `item`).
    #[test]
    fn presence_follows_the_tables() {
        for (ty, line) in TYPES.iter().zip(FULL) {
            for &(f, presence) in ty.fields {
                let result = parse_record(&without(line, f.name()));
                match (ty.name(), f.name(), presence) {
                    ("cancel", "item", _) => {
                        assert_eq!(result.unwrap_err().field.as_deref(), Some("qty"));
                    }
                    (_, _, Presence::Optional) => {
                        assert!(
                            result.is_ok(),
                            "{} without {}: {result:?}",
                            ty.name(),
                            f.name()
                        )
                    }
                    (_, _, Presence::Required) => {
                        let e = result.unwrap_err();
                        assert_eq!(e.field.as_deref(), Some(f.name()));
                        assert_eq!(
                            e.message,
                            format!("missing required field of {}", ty.describe)
                        );
                    }
                }
            }
        }
    }
}
