//! Reading one interchange line into a typed [`Record`].
//!
//! Two stages, so that every problem names its field:
//! 1. The JSON object is read into [`RawRecord`]: one slot per field name the format knows
//!    (`schema.rs`), holding the JSON value as it came ([`Value`], borrowed from the line when
//!    it has no escapes; nested objects and arrays of objects as their raw JSON text). Nothing
//!    is judged yet besides JSON syntax; duplicate and unknown keys are only noted. Two readers
//!    fill it: the scanner of `scan.rs`, fast but only for the common plain spelling (it gives
//!    up on anything else, and its partial work is thrown away), then, when it gave up, a
//!    hand-written serde visitor over `serde_json`, for all of JSON. No `serde_json::Value`,
//!    no buffering of the object.
//! 2. `judge.rs` judges: duplicate keys, then `type`, then fields the type does not have, then
//!    each field of the type in the order of the spec's table (nested fields read by `serde`
//!    derive, `nested.rs`). The first problem found is the error.
//!
//! Only the rules of one record are checked here; rules across records (an unknown holder, a
//! lot on a bulk item, balances) belong to the ledger core.

use std::borrow::Cow;
use std::fmt;

use qm_core::limits::ARRAY_LEN_MAX;
use qm_core::Record;
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

use crate::schema::{Field, FieldSet, Shape, FIELD_COUNT, TYPES};

/// A problem with one line: the field it is in (`None` for the whole line) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The JSON key at fault, with its path inside a nested field (`lines[2].qty`,
    /// `override.reason`; array indexes from 0); `None` for problems of the whole line
    /// (invalid JSON, not an object, invalid UTF-8).
    pub field: Option<String>,
    /// What is wrong, for a person: `expected a positive integer`.
    pub message: String,
}

impl FieldError {
    pub(crate) fn line(message: impl Into<String>) -> FieldError {
        FieldError {
            field: None,
            message: message.into(),
        }
    }

    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

/// `field "qty": expected a positive integer`, or the message alone for the whole line.
impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_field_prefix(self.field.as_deref(), f)?;
        f.write_str(&self.message)
    }
}

/// `field "qty": ` (the name quoted and escaped as a JSON string), or nothing without a field.
pub(crate) fn write_field_prefix(field: Option<&str>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match field {
        Some(field) => write!(f, "field {}: ", quoted(field)),
        None => Ok(()),
    }
}

/// `s` quoted and escaped as a JSON string, for messages.
pub(crate) fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    crate::write::write_str(s, &mut out);
    out
}

impl std::error::Error for FieldError {}

/// Parses one line (without its newline) into a record.
///
/// The error names the field at fault, or none for problems of the whole line.
pub fn parse_record(line: &str) -> Result<Record, FieldError> {
    let mut raw = RawRecord::new();
    if !crate::scan::scan(line, &mut raw) {
        raw = RawRecord::new();
        read_with_serde(line, &mut raw)?;
    }
    raw.judge()
}

/// [`parse_record`] without the fast scanner: the reference its results are tested against.
#[cfg(test)]
pub(crate) fn parse_record_with_serde(line: &str) -> Result<Record, FieldError> {
    let mut raw = RawRecord::new();
    read_with_serde(line, &mut raw)?;
    raw.judge()
}

/// Reads `line` into `raw` with `serde_json`: any JSON; errors are those of the whole line.
fn read_with_serde<'de>(line: &'de str, raw: &mut RawRecord<'de>) -> Result<(), FieldError> {
    let mut de = serde_json::Deserializer::from_str(line);
    let top = TopSeed(raw)
        .deserialize(&mut de)
        .and_then(|top| de.end().map(|()| top));
    match top {
        Ok(None) => Ok(()),
        Ok(Some(found)) => Err(FieldError::line(format!(
            "expected a JSON object, found {found}"
        ))),
        Err(e) => Err(FieldError::line(format!(
            "invalid JSON: {}",
            json_error_text(&e)
        ))),
    }
}

/// A `serde_json` syntax error without its `at line 1 column N` (a line is always line 1 of
/// its own text, and the file's line number is given already): `expected ',' or '}' at
/// column 57`, the column counted in bytes from 1.
pub(crate) fn json_error_text(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(bare) if e.line() > 0 => format!("{bare} at column {}", e.column()),
        _ => text,
    }
}

/// A JSON value as it came, as the reader keeps it for judging.
///
/// Which variants a field can get depends on its [`Shape`]: scalar fields get the scalar
/// variants (arrays and objects skipped, only their kind kept, since no scalar field accepts
/// them); array-of-strings fields get [`Value::Elements`] for an array and a scalar variant
/// for anything else; raw fields always get [`Value::Raw`].
#[derive(Debug)]
pub(crate) enum Value<'de> {
    Str(Cow<'de, str>),
    UInt(u64),
    NegInt,
    Float,
    Bool(bool),
    Null,
    Array,
    Object,
    /// The elements of an array (each a scalar variant), at most [`ARRAY_LEN_MAX`] + 1 of them
    /// kept: one more than allowed is enough to reject the array.
    Elements(Vec<Value<'de>>),
    /// The raw JSON text of the value.
    Raw(&'de str),
}

impl<'de> Deserialize<'de> for Value<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Implements every scalar `visit_*` of the JSON data model, mapping the [`Value`] read
/// through `$scalar`.
macro_rules! json_visitor_scalars {
    ($scalar:expr) => {
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok($scalar(Value::Str(Cow::Borrowed(v))))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok($scalar(Value::Str(Cow::Owned(v.to_owned()))))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok($scalar(Value::Str(Cow::Owned(v))))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($scalar(Value::UInt(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($scalar(match u64::try_from(v) {
                Ok(v) => Value::UInt(v),
                Err(_) => Value::NegInt,
            }))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($scalar(Value::Float))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($scalar(Value::Bool(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($scalar(Value::Null))
        }
    };
}

/// Reads any JSON value as a scalar [`Value`]: arrays and objects are skipped.
struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Value<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    json_visitor_scalars!(|s| s);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Value::Object)
    }
}

/// The value of an array-of-strings field: [`Value::Elements`] for an array, a scalar
/// variant otherwise.
struct ElementsValue<'de>(Value<'de>);

impl<'de> Deserialize<'de> for ElementsValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ElementsVisitor)
    }
}

struct ElementsVisitor;

impl<'de> Visitor<'de> for ElementsVisitor {
    type Value = ElementsValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    json_visitor_scalars!(ElementsValue);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::new();
        while elements.len() <= ARRAY_LEN_MAX {
            match seq.next_element::<Value<'de>>()? {
                Some(e) => elements.push(e),
                None => return Ok(ElementsValue(Value::Elements(elements))),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(ElementsValue(Value::Elements(elements)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(ElementsValue(Value::Object))
    }
}

/// An object key, borrowed from the line when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Key(Cow::Owned(v)))
    }
}

/// Reads the whole line into the `RawRecord` it holds; gives back what the line was instead
/// when it is not an object (`an array`).
struct TopSeed<'r, 'de>(&'r mut RawRecord<'de>);

impl<'de> DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = Option<&'static str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, 'de> {
    type Value = Option<&'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    json_visitor_scalars!(|s: Value<'_>| Some(match s {
        Value::Str(_) => "a string",
        Value::UInt(_) | Value::NegInt | Value::Float => "a number",
        Value::Bool(_) => "a boolean",
        _ => "null",
    }));

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Some("an array"))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let raw = self.0;
        let mut position = 0u32;
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            position += 1;
            let Some(field) = Field::from_key(&key) else {
                if raw.unknown.is_none() {
                    raw.unknown = Some((key, position));
                }
                map.next_value::<IgnoredAny>()?;
                continue;
            };
            if raw.present.contains(field) {
                raw.duplicate.get_or_insert(field);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            *raw.slot(field, position) = Some(match field.shape() {
                Shape::Scalar => map.next_value::<Value<'de>>()?,
                Shape::Strings => map.next_value::<ElementsValue<'de>>()?.0,
                Shape::Raw => Value::Raw(map.next_value::<&'de RawValue>()?.get()),
            });
        }
        Ok(None)
    }
}

/// The most fields besides `type` that a record of any type has: a line with more distinct
/// known fields has one its type does not have, and is rejected before any value is judged.
const VALUES_MAX: usize = max_fields();

const fn max_fields() -> usize {
    let mut max = 0;
    let mut i = 0;
    while i < TYPES.len() {
        if TYPES[i].fields.len() > max {
            max = TYPES[i].fields.len();
        }
        i += 1;
    }
    max
}

/// `RawRecord::slot` of a field whose value is not kept.
const NO_SLOT: u8 = u8::MAX;

const _: () = assert!(VALUES_MAX < NO_SLOT as usize);

/// One JSON object as read, before judging: the known fields present and their values.
///
/// Values sit in a few slots in line order rather than one slot per field name, so that
/// making and dropping one (for every line read) costs a dozen slots, not one per name the
/// format knows.
pub(crate) struct RawRecord<'de> {
    /// The value of `type`.
    ty: Option<Value<'de>>,
    /// Where the values not kept go (see `slot`).
    spare: Option<Value<'de>>,
    /// The values of the other fields present, in line order, up to [`VALUES_MAX`] of them.
    values: [Option<Value<'de>>; VALUES_MAX],
    /// How many of `values` are used.
    len: u8,
    /// Where each present field's value is in `values`, by `Field as usize`; [`NO_SLOT`]
    /// beyond the first [`VALUES_MAX`] (the line has a field its type does not have).
    slot: [u8; FIELD_COUNT],
    /// The fields present.
    pub(crate) present: FieldSet,
    /// Where each present field's key stood in the object (1-based), so that the first
    /// offending key in line order is the one reported.
    pub(crate) position: [u32; FIELD_COUNT],
    /// The first known key seen twice.
    pub(crate) duplicate: Option<Field>,
    /// The first key the format does not know, with its position.
    pub(crate) unknown: Option<(Cow<'de, str>, u32)>,
}

impl<'de> RawRecord<'de> {
    pub(crate) fn new() -> Self {
        RawRecord {
            ty: None,
            spare: None,
            values: [const { None }; VALUES_MAX],
            len: 0,
            slot: [NO_SLOT; FIELD_COUNT],
            present: FieldSet::EMPTY,
            position: [0; FIELD_COUNT],
            duplicate: None,
            unknown: None,
        }
    }

    /// Notes field `f` (not present yet) as the `position`-th key of the object, and gives
    /// the slot its value goes in (the value is written in place: on the path of every line).
    pub(crate) fn slot(&mut self, f: Field, position: u32) -> &mut Option<Value<'de>> {
        debug_assert!(!self.present.contains(f));
        self.present.insert(f);
        self.position[f as usize] = position;
        if f == Field::Type {
            &mut self.ty
        } else if (self.len as usize) < VALUES_MAX {
            let i = self.len;
            self.slot[f as usize] = i;
            self.len += 1;
            &mut self.values[i as usize]
        } else {
            &mut self.spare
        }
    }

    /// The value of field `f`, if present (read in place: see `judge.rs`).
    pub(crate) fn get(&self, f: Field) -> Option<&Value<'de>> {
        if f == Field::Type {
            return self.ty.as_ref();
        }
        match self.slot[f as usize] {
            NO_SLOT => {
                debug_assert!(!self.present.contains(f), "{} not kept", f.name());
                None
            }
            i => self.values[i as usize].as_ref(),
        }
    }
}
