//! Reading one interchange line into a typed [`Record`].
//!
//! Two stages, so that every problem names its field:
//! 1. The JSON object is read into [`RawRecord`]: one slot per field name the format knows,
//!    holding the JSON value as it came ([`Scalar`], borrowed from the line when it has no
//!    escapes). Nothing is judged yet besides JSON syntax; duplicate and unknown keys are only
//!    noted. Two readers fill it: the scanner of `scan.rs`, fast but only for the common plain
//!    spelling (it gives up on anything else, and its partial work is thrown away), then, when
//!    it gave up, a hand-written serde visitor over `serde_json`, for all of JSON. No
//!    `serde_json::Value`, no buffering of the object.
//! 2. [`RawRecord::judge`] judges: duplicate keys, then `type`, then fields the type does not
//!    have, then each field of the type in the order of the spec's table. The first problem
//!    found is the error.
//!
//! Only the rules of one record are checked here; rules across records (an unknown holder, a
//! lot on a bulk item, balances) belong to the ledger core.

use std::borrow::Cow;
use std::fmt;

use qm_core::{
    Floor, Holder, HolderKind, Item, Money, Movement, Org, OrgKind, Record, Time, Tracking,
};
use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

use crate::time::{parse_time, TIME_EXPECTED};

/// A problem with one line: the field it is in (`None` for the whole line) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The JSON key at fault; `None` for problems of the whole line (invalid JSON, not an object).
    pub field: Option<String>,
    /// What is wrong, for a person: `expected a positive integer`.
    pub message: String,
}

impl FieldError {
    fn line(message: impl Into<String>) -> FieldError {
        FieldError {
            field: None,
            message: message.into(),
        }
    }

    fn field(field: impl Into<String>, message: impl Into<String>) -> FieldError {
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
        Some(field) => {
            let mut quoted = String::new();
            crate::write::write_str(field, &mut quoted);
            write!(f, "field {quoted}: ")
        }
        None => Ok(()),
    }
}

impl std::error::Error for FieldError {}

/// Parses one line (without its newline) into a record.
///
/// The error names the field at fault, or none for problems of the whole line.
pub fn parse_record(line: &str) -> Result<Record, FieldError> {
    let mut raw = RawRecord::default();
    if !crate::scan::scan(line, &mut raw) {
        raw = RawRecord::default();
        read_with_serde(line, &mut raw)?;
    }
    raw.judge()
}

/// [`parse_record`] without the fast scanner: the reference its results are tested against.
#[cfg(test)]
pub(crate) fn parse_record_with_serde(line: &str) -> Result<Record, FieldError> {
    let mut raw = RawRecord::default();
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
        Err(e) => Err(FieldError::line(format!("invalid JSON: {e}"))),
    }
}

/// Every field name of the format, across all record types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    Type,
    Id,
    Name,
    Kind,
    Org,
    Country,
    Lat,
    Lon,
    Code,
    Category,
    Tracking,
    Unit,
    Sensitive,
    UnitValue,
    InventoryIntervalDays,
    Item,
    MinQty,
    Time,
    Qty,
    From,
    To,
    Lot,
    Serials,
    Transfer,
    Note,
}

const FIELD_COUNT: usize = 25;

impl Field {
    const ALL: [Field; FIELD_COUNT] = [
        Field::Type,
        Field::Id,
        Field::Name,
        Field::Kind,
        Field::Org,
        Field::Country,
        Field::Lat,
        Field::Lon,
        Field::Code,
        Field::Category,
        Field::Tracking,
        Field::Unit,
        Field::Sensitive,
        Field::UnitValue,
        Field::InventoryIntervalDays,
        Field::Item,
        Field::MinQty,
        Field::Time,
        Field::Qty,
        Field::From,
        Field::To,
        Field::Lot,
        Field::Serials,
        Field::Transfer,
        Field::Note,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Type => "type",
            Field::Id => "id",
            Field::Name => "name",
            Field::Kind => "kind",
            Field::Org => "org",
            Field::Country => "country",
            Field::Lat => "lat",
            Field::Lon => "lon",
            Field::Code => "code",
            Field::Category => "category",
            Field::Tracking => "tracking",
            Field::Unit => "unit",
            Field::Sensitive => "sensitive",
            Field::UnitValue => "unit_value",
            Field::InventoryIntervalDays => "inventory_interval_days",
            Field::Item => "item",
            Field::MinQty => "min_qty",
            Field::Time => "time",
            Field::Qty => "qty",
            Field::From => "from",
            Field::To => "to",
            Field::Lot => "lot",
            Field::Serials => "serials",
            Field::Transfer => "transfer",
            Field::Note => "note",
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Field> {
        Some(match key {
            "type" => Field::Type,
            "id" => Field::Id,
            "name" => Field::Name,
            "kind" => Field::Kind,
            "org" => Field::Org,
            "country" => Field::Country,
            "lat" => Field::Lat,
            "lon" => Field::Lon,
            "code" => Field::Code,
            "category" => Field::Category,
            "tracking" => Field::Tracking,
            "unit" => Field::Unit,
            "sensitive" => Field::Sensitive,
            "unit_value" => Field::UnitValue,
            "inventory_interval_days" => Field::InventoryIntervalDays,
            "item" => Field::Item,
            "min_qty" => Field::MinQty,
            "time" => Field::Time,
            "qty" => Field::Qty,
            "from" => Field::From,
            "to" => Field::To,
            "lot" => Field::Lot,
            "serials" => Field::Serials,
            "transfer" => Field::Transfer,
            "note" => Field::Note,
            _ => return None,
        })
    }

    pub(crate) fn bit(self) -> u32 {
        1 << self as u32
    }
}

/// The record types, with the fields each has (the spec's table).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RecordType {
    Org,
    Holder,
    Item,
    Floor,
    Movement,
}

impl RecordType {
    fn parse(s: &str) -> Option<RecordType> {
        Some(match s {
            "org" => RecordType::Org,
            "holder" => RecordType::Holder,
            "item" => RecordType::Item,
            "floor" => RecordType::Floor,
            "movement" => RecordType::Movement,
            _ => return None,
        })
    }

    /// How messages name a record of this type.
    fn describe(self) -> &'static str {
        match self {
            RecordType::Org => "an org record",
            RecordType::Holder => "a holder record",
            RecordType::Item => "an item record",
            RecordType::Floor => "a floor record",
            RecordType::Movement => "a movement record",
        }
    }

    /// The fields a record of this type may have, `type` included.
    fn fields(self) -> &'static [Field] {
        use Field as F;
        match self {
            RecordType::Org => &[F::Type, F::Id, F::Name, F::Kind],
            RecordType::Holder => &[
                F::Type,
                F::Id,
                F::Name,
                F::Org,
                F::Kind,
                F::Country,
                F::Lat,
                F::Lon,
            ],
            RecordType::Item => &[
                F::Type,
                F::Code,
                F::Name,
                F::Category,
                F::Tracking,
                F::Unit,
                F::Sensitive,
                F::UnitValue,
                F::InventoryIntervalDays,
            ],
            RecordType::Floor => &[F::Type, F::Item, F::Org, F::MinQty, F::Time],
            RecordType::Movement => &[
                F::Type,
                F::Id,
                F::Time,
                F::Item,
                F::Qty,
                F::From,
                F::To,
                F::Lot,
                F::Serials,
                F::Kind,
                F::Transfer,
                F::Note,
            ],
        }
    }

    fn field_mask(self) -> u32 {
        self.fields().iter().fold(0, |mask, f| mask | f.bit())
    }
}

/// A JSON value as it came, for fields whose value is a scalar. Arrays and objects are skipped,
/// only their kind kept, since no scalar field accepts them.
#[derive(Debug)]
pub(crate) enum Scalar<'de> {
    Str(Cow<'de, str>),
    UInt(u64),
    NegInt,
    Float,
    Bool(bool),
    Null,
    Array,
    Object,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

/// Implements every `visit_*` of the JSON data model, mapping scalars through `$scalar` and
/// arrays and objects through the given bodies.
macro_rules! json_visitor_scalars {
    ($scalar:expr) => {
        fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::Str(Cow::Borrowed(v))))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::Str(Cow::Owned(v.to_owned()))))
        }
        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::Str(Cow::Owned(v))))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::UInt(v)))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok($scalar(match u64::try_from(v) {
                Ok(v) => Scalar::UInt(v),
                Err(_) => Scalar::NegInt,
            }))
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::Float))
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::Bool(v)))
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($scalar(Scalar::Null))
        }
    };
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    json_visitor_scalars!(|s| s);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

/// The value of `serials`: its elements when it is an array.
#[derive(Debug)]
pub(crate) enum SerialsValue<'de> {
    Array(Vec<Scalar<'de>>),
    NotArray,
}

impl<'de> Deserialize<'de> for SerialsValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SerialsVisitor)
    }
}

struct SerialsVisitor;

impl<'de> Visitor<'de> for SerialsVisitor {
    type Value = SerialsValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    json_visitor_scalars!(|_| SerialsValue::NotArray);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut serials = Vec::new();
        while let Some(s) = seq.next_element::<Scalar<'de>>()? {
            serials.push(s);
        }
        Ok(SerialsValue::Array(serials))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(SerialsValue::NotArray)
    }
}

/// The value of `unit_value`: its members when it is an object.
#[derive(Debug)]
pub(crate) enum UnitValueValue<'de> {
    Object {
        amount: Option<Scalar<'de>>,
        currency: Option<Scalar<'de>>,
        /// The first key seen twice.
        duplicate: Option<Cow<'de, str>>,
        /// The first key that is neither `amount` nor `currency`.
        unknown: Option<Cow<'de, str>>,
    },
    NotObject,
}

impl<'de> Deserialize<'de> for UnitValueValue<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UnitValueVisitor)
    }
}

struct UnitValueVisitor;

impl<'de> Visitor<'de> for UnitValueVisitor {
    type Value = UnitValueValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    json_visitor_scalars!(|_| UnitValueValue::NotObject);

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(UnitValueValue::NotObject)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut amount = None;
        let mut currency = None;
        let mut duplicate = None;
        let mut unknown = None;
        while let Some(key) = map.next_key::<Key<'de>>()? {
            let slot = match key.0.as_ref() {
                "amount" => &mut amount,
                "currency" => &mut currency,
                _ => {
                    unknown.get_or_insert(key.0);
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if slot.is_some() {
                duplicate.get_or_insert(key.0);
                map.next_value::<IgnoredAny>()?;
            } else {
                *slot = Some(map.next_value::<Scalar<'de>>()?);
            }
        }
        Ok(UnitValueValue::Object {
            amount,
            currency,
            duplicate,
            unknown,
        })
    }
}

/// An object key, borrowed from the line when it has no escapes.
struct Key<'de>(Cow<'de, str>);

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

    json_visitor_scalars!(|s: Scalar<'_>| Some(match s {
        Scalar::Str(_) => "a string",
        Scalar::UInt(_) | Scalar::NegInt | Scalar::Float => "a number",
        Scalar::Bool(_) => "a boolean",
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
            if raw.present & field.bit() != 0 {
                raw.duplicate.get_or_insert(field);
                map.next_value::<IgnoredAny>()?;
                continue;
            }
            raw.present |= field.bit();
            raw.position[field as usize] = position;
            match field {
                Field::Lat => raw.lat = Some(map.next_value::<&'de RawValue>()?.get()),
                Field::Lon => raw.lon = Some(map.next_value::<&'de RawValue>()?.get()),
                Field::Serials => raw.serials = Some(map.next_value()?),
                Field::UnitValue => raw.unit_value = Some(map.next_value()?),
                _ => raw.scalars[field as usize] = Some(map.next_value()?),
            }
        }
        Ok(None)
    }
}

/// One JSON object as read, before judging: a slot per known field name.
#[derive(Default)]
pub(crate) struct RawRecord<'de> {
    /// The values of the fields that take a scalar, by `Field as usize`.
    pub(crate) scalars: [Option<Scalar<'de>>; FIELD_COUNT],
    /// Coordinates as raw JSON text (any JSON value), parsed by `str::parse` (correctly
    /// rounded) when it is a number.
    pub(crate) lat: Option<&'de str>,
    pub(crate) lon: Option<&'de str>,
    pub(crate) serials: Option<SerialsValue<'de>>,
    pub(crate) unit_value: Option<UnitValueValue<'de>>,
    /// One bit per `Field` present.
    pub(crate) present: u32,
    /// Where each present field's key stood in the object (1-based), so that the first
    /// offending key in line order is the one reported.
    pub(crate) position: [u32; FIELD_COUNT],
    /// The first known key seen twice.
    pub(crate) duplicate: Option<Field>,
    /// The first key the format does not know, with its position.
    pub(crate) unknown: Option<(Cow<'de, str>, u32)>,
}

/// Messages shared by several fields.
const EXPECTED_STRING: &str = "expected a string";
const EXPECTED_NON_EMPTY: &str = "expected a non-empty string";
const EXPECTED_POSITIVE: &str = "expected a positive integer";
const EXPECTED_NON_NEGATIVE: &str = "expected a non-negative integer";

impl<'de> RawRecord<'de> {
    /// Judges the fields read, taking the values out.
    pub(crate) fn judge(&mut self) -> Result<Record, FieldError> {
        if let Some(field) = self.duplicate {
            return Err(FieldError::field(field.name(), "duplicate field"));
        }
        let ty = match self.scalars[Field::Type as usize].take() {
            None => return Err(FieldError::field("type", "missing required field")),
            Some(Scalar::Str(s)) => RecordType::parse(&s).ok_or_else(|| {
                let mut quoted = String::new();
                crate::write::write_str(&s, &mut quoted);
                FieldError::field(
                    "type",
                    format!(
                        "unknown record type {quoted}: expected org, holder, item, floor or movement"
                    ),
                )
            })?,
            Some(_) => return Err(FieldError::field("type", EXPECTED_STRING)),
        };
        self.check_unknown(ty)?;
        let mut r = Judge { raw: self, ty };
        Ok(match ty {
            RecordType::Org => Record::Org(Org {
                id: r.id(Field::Id)?,
                name: r.string(Field::Name)?,
                kind: r.opt_enum(
                    Field::Kind,
                    OrgKind::parse,
                    "donor, recipient, producer, monitor, other",
                )?,
            }),
            RecordType::Holder => Record::Holder(Holder {
                id: r.id(Field::Id)?,
                name: r.string(Field::Name)?,
                org: r.id(Field::Org)?,
                kind: r.required(Field::Kind, |r, f| {
                    r.opt_enum(f, HolderKind::parse, "depot, transit, unit, source, sink")
                })?,
                country: r.opt_country()?,
                lat: r.opt_coordinate(Field::Lat, 90.0)?,
                lon: r.opt_coordinate(Field::Lon, 180.0)?,
            }),
            RecordType::Item => Record::Item(Item {
                code: r.id(Field::Code)?,
                name: r.string(Field::Name)?,
                category: r.string(Field::Category)?,
                tracking: r.required(Field::Tracking, |r, f| {
                    r.opt_enum(f, Tracking::parse, "bulk, lot, serial")
                })?,
                unit: r.opt_string(Field::Unit)?,
                sensitive: r.opt_bool(Field::Sensitive)?,
                unit_value: r.opt_unit_value()?,
                inventory_interval_days: r.opt_u32(Field::InventoryIntervalDays)?,
            }),
            RecordType::Floor => Record::Floor(Floor {
                item: r.id(Field::Item)?,
                org: r.id(Field::Org)?,
                min_qty: r.required(Field::MinQty, |r, f| r.opt_u64(f, 0))?,
                time: r.opt_time(Field::Time)?,
            }),
            RecordType::Movement => {
                let id = r.id(Field::Id)?;
                let time = r.required(Field::Time, Judge::opt_time)?;
                let item = r.id(Field::Item)?;
                let qty = r.required(Field::Qty, |r, f| r.opt_u64(f, 1))?;
                let from = r.id(Field::From)?;
                let to = r.id(Field::To)?;
                let lot = r.opt_id(Field::Lot)?;
                let serials = r.opt_serials(qty)?;
                Record::Movement(Movement {
                    id,
                    time,
                    item,
                    qty,
                    from,
                    to,
                    lot,
                    serials,
                    kind: r.opt_string(Field::Kind)?,
                    transfer: r.opt_id(Field::Transfer)?,
                    note: r.opt_string(Field::Note)?,
                })
            }
        })
    }

    /// Rejects the first key (in line order) that a record of type `ty` does not have.
    fn check_unknown(&self, ty: RecordType) -> Result<(), FieldError> {
        let foreign = self.present & !ty.field_mask();
        let first_foreign = Field::ALL
            .iter()
            .filter(|f| foreign & f.bit() != 0)
            .min_by_key(|f| self.position[**f as usize]);
        let unknown_position = self.unknown.as_ref().map_or(u32::MAX, |(_, p)| *p);
        let name: &str = match first_foreign {
            Some(f) if self.position[*f as usize] < unknown_position => f.name(),
            _ => match &self.unknown {
                Some((key, _)) => key,
                None => return Ok(()),
            },
        };
        Err(FieldError::field(
            name,
            format!("unknown field for {}", ty.describe()),
        ))
    }
}

/// Judges the fields of a record of a known type, taking each value out as it goes.
struct Judge<'r, 'de> {
    raw: &'r mut RawRecord<'de>,
    ty: RecordType,
}

impl<'de> Judge<'_, 'de> {
    fn take(&mut self, f: Field) -> Option<Scalar<'de>> {
        self.raw.scalars[f as usize].take()
    }

    /// Turns an optional field's reading into a required one.
    fn required<T>(
        &mut self,
        f: Field,
        read: impl FnOnce(&mut Self, Field) -> Result<Option<T>, FieldError>,
    ) -> Result<T, FieldError> {
        read(self, f)?.ok_or_else(|| {
            FieldError::field(
                f.name(),
                format!("missing required field of {}", self.ty.describe()),
            )
        })
    }

    fn string(&mut self, f: Field) -> Result<String, FieldError> {
        self.required(f, Self::opt_string)
    }

    fn id(&mut self, f: Field) -> Result<String, FieldError> {
        self.required(f, Self::opt_id)
    }

    /// Any string, empty included (names, notes).
    fn opt_string(&mut self, f: Field) -> Result<Option<String>, FieldError> {
        match self.take(f) {
            None => Ok(None),
            Some(Scalar::Str(s)) => Ok(Some(s.into_owned())),
            Some(_) => Err(FieldError::field(f.name(), EXPECTED_STRING)),
        }
    }

    /// An identifier: a non-empty string.
    fn opt_id(&mut self, f: Field) -> Result<Option<String>, FieldError> {
        match self.take(f) {
            None => Ok(None),
            Some(Scalar::Str(s)) if !s.is_empty() => Ok(Some(s.into_owned())),
            Some(_) => Err(FieldError::field(f.name(), EXPECTED_NON_EMPTY)),
        }
    }

    fn opt_enum<T>(
        &mut self,
        f: Field,
        parse: fn(&str) -> Option<T>,
        values: &str,
    ) -> Result<Option<T>, FieldError> {
        match self.take(f) {
            None => Ok(None),
            Some(Scalar::Str(s)) if parse(&s).is_some() => Ok(parse(&s)),
            Some(_) => Err(FieldError::field(
                f.name(),
                format!("expected one of {values}"),
            )),
        }
    }

    /// An integer of at least `min` (0 or 1).
    fn opt_u64(&mut self, f: Field, min: u64) -> Result<Option<u64>, FieldError> {
        match self.take(f) {
            None => Ok(None),
            Some(Scalar::UInt(n)) if n >= min => Ok(Some(n)),
            Some(_) if min == 0 => Err(FieldError::field(f.name(), EXPECTED_NON_NEGATIVE)),
            Some(_) => Err(FieldError::field(f.name(), EXPECTED_POSITIVE)),
        }
    }

    fn opt_u32(&mut self, f: Field) -> Result<Option<u32>, FieldError> {
        match self.opt_u64(f, 0)? {
            None => Ok(None),
            Some(n) => u32::try_from(n).map(Some).map_err(|_| {
                FieldError::field(
                    f.name(),
                    format!("{EXPECTED_NON_NEGATIVE} of at most {}", u32::MAX),
                )
            }),
        }
    }

    fn opt_bool(&mut self, f: Field) -> Result<Option<bool>, FieldError> {
        match self.take(f) {
            None => Ok(None),
            Some(Scalar::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(FieldError::field(f.name(), "expected true or false")),
        }
    }

    fn opt_time(&mut self, f: Field) -> Result<Option<Time>, FieldError> {
        match self.take(f) {
            None => Ok(None),
            Some(Scalar::Str(s)) if parse_time(&s).is_some() => Ok(parse_time(&s)),
            Some(_) => Err(FieldError::field(f.name(), TIME_EXPECTED)),
        }
    }

    fn opt_country(&mut self) -> Result<Option<String>, FieldError> {
        match self.take(Field::Country) {
            None => Ok(None),
            Some(Scalar::Str(s)) if is_upper_ascii(&s, 2) => Ok(Some(s.into_owned())),
            Some(_) => Err(FieldError::field(
                "country",
                "expected two uppercase ASCII letters (ISO 3166 alpha-2)",
            )),
        }
    }

    /// A JSON number from `-limit` to `limit`.
    fn opt_coordinate(&mut self, f: Field, limit: f64) -> Result<Option<f64>, FieldError> {
        let raw = match f {
            Field::Lat => self.raw.lat.take(),
            _ => self.raw.lon.take(),
        };
        let Some(raw) = raw else { return Ok(None) };
        let text = raw.trim();
        let is_number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
        match text.parse::<f64>() {
            Ok(v) if is_number && (-limit..=limit).contains(&v) => Ok(Some(v)),
            _ => Err(FieldError::field(
                f.name(),
                format!("expected a number from -{limit} to {limit}"),
            )),
        }
    }

    fn opt_unit_value(&mut self) -> Result<Option<Money>, FieldError> {
        const EXPECTED_OBJECT: &str =
            r#"expected an object like {"amount": "1234.50", "currency": "USD"}"#;
        let (amount, currency, duplicate, unknown) = match self.raw.unit_value.take() {
            None => return Ok(None),
            Some(UnitValueValue::NotObject) => {
                return Err(FieldError::field("unit_value", EXPECTED_OBJECT))
            }
            Some(UnitValueValue::Object {
                amount,
                currency,
                duplicate,
                unknown,
            }) => (amount, currency, duplicate, unknown),
        };
        if let Some(key) = duplicate {
            return Err(FieldError::field(
                format!("unit_value.{key}"),
                "duplicate field",
            ));
        }
        if let Some(key) = unknown {
            return Err(FieldError::field(
                format!("unit_value.{key}"),
                "unknown field for unit_value: expected only amount and currency",
            ));
        }
        let amount = match amount {
            None => {
                return Err(FieldError::field(
                    "unit_value.amount",
                    "missing required field of unit_value",
                ))
            }
            Some(Scalar::Str(s)) if is_decimal(&s) => s.into_owned(),
            Some(_) => {
                return Err(FieldError::field(
                    "unit_value.amount",
                    r#"expected a decimal string like "1234.50" or "-0.5""#,
                ))
            }
        };
        let currency = match currency {
            None => {
                return Err(FieldError::field(
                    "unit_value.currency",
                    "missing required field of unit_value",
                ))
            }
            Some(Scalar::Str(s)) if is_upper_ascii(&s, 3) => s.into_owned(),
            Some(_) => {
                return Err(FieldError::field(
                    "unit_value.currency",
                    "expected three uppercase ASCII letters (ISO 4217)",
                ))
            }
        };
        Ok(Some(Money { amount, currency }))
    }

    /// `serials`: non-empty, distinct strings, as many as `qty`.
    fn opt_serials(&mut self, qty: u64) -> Result<Option<Vec<String>>, FieldError> {
        let elements = match self.raw.serials.take() {
            None => return Ok(None),
            Some(SerialsValue::NotArray) => {
                return Err(FieldError::field(
                    "serials",
                    "expected an array of non-empty strings",
                ))
            }
            Some(SerialsValue::Array(elements)) => elements,
        };
        let len = elements.len();
        let mut serials = Vec::with_capacity(len);
        for (i, e) in elements.into_iter().enumerate() {
            match e {
                Scalar::Str(s) if !s.is_empty() => serials.push(s.into_owned()),
                _ => {
                    return Err(FieldError::field(
                        "serials",
                        format!("serial {} of {len}: {EXPECTED_NON_EMPTY}", i + 1),
                    ))
                }
            }
        }
        if serials.len() as u64 != qty {
            return Err(FieldError::field(
                "serials",
                format!("expected as many serials as qty ({qty}), found {len}"),
            ));
        }
        if let Some(dup) = first_duplicate(&serials) {
            let mut quoted = String::new();
            crate::write::write_str(dup, &mut quoted);
            return Err(FieldError::field(
                "serials",
                format!("duplicate serial {quoted}"),
            ));
        }
        Ok(Some(serials))
    }
}

/// The first string that repeats an earlier one, if any.
fn first_duplicate(serials: &[String]) -> Option<&str> {
    if serials.len() <= 16 {
        return (1..serials.len())
            .find(|&i| serials[..i].contains(&serials[i]))
            .map(|i| serials[i].as_str());
    }
    let mut seen = std::collections::HashSet::with_capacity(serials.len());
    serials
        .iter()
        .find(|s| !seen.insert(s.as_str()))
        .map(String::as_str)
}

/// `s` is exactly `len` ASCII letters `A` to `Z`.
fn is_upper_ascii(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// `s` is a decimal: optional `-`, digits, and optionally `.` and more digits.
fn is_decimal(s: &str) -> bool {
    let s = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match s.split_once('.') {
        Some((int, frac)) => (int, Some(frac)),
        None => (s, None),
    };
    let all_digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    all_digits(int) && frac.is_none_or(all_digits)
}
