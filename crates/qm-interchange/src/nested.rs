//! Nested fields (objects, arrays of objects, a map of item codes): their shape read by
//! `serde` derive into typed structs, with the path of any problem (`lines[2].qty`,
//! `override.reason`, array indexes from 0) from `serde_path_to_error`.
//!
//! The structs hold each leaf as a [`Value`], which accepts any JSON value, so `serde` itself
//! only ever rejects the shape: a key the object does not have, a key twice, an object or
//! array where something else stands. Values are judged afterwards, in `judge.rs`, field by
//! field in the spec's order, with the same checks and messages as top-level fields. A
//! present `null` is a value (and so an error), never an absent field: absence is a missing
//! key, as at the top level.
//!
//! [`read`] turns `serde`'s wording of those few shape errors into the format's:
//! `field "lines[2].colour": unknown field for lines[2]: expected only item, qty and value`,
//! `field "unit_value.amount": duplicate field`, `field "override": expected an object like
//! {"reason": "...", "by": "..."}`.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use qm_core::limits::ARRAY_LEN_MAX;
use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as DeriveDeserialize;
use serde_path_to_error::Segment;

use crate::read::{FieldError, Key, Value};

/// Reads the raw JSON text of field `field` as a `T`; an error names the path inside it.
pub(crate) fn read<'de, T: Deserialize<'de>>(field: &str, raw: &'de str) -> Result<T, FieldError> {
    let mut de = serde_json::Deserializer::from_str(raw);
    serde_path_to_error::deserialize(&mut de).map_err(|e| shape_error(field, e))
}

/// The format's wording of a shape error that `serde` found at some path inside `field`.
fn shape_error(field: &str, e: serde_path_to_error::Error<serde_json::Error>) -> FieldError {
    // `parent` is the path without its last segment: for an unknown key, the object it is in.
    let mut path = field.to_owned();
    let mut parent = path.clone();
    for segment in e.path().iter() {
        parent.clone_from(&path);
        match segment {
            Segment::Seq { index } => path.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => {
                path.push('.');
                path.push_str(key);
            }
            Segment::Unknown => path.push_str(".?"),
        }
    }
    let inner = e.into_inner();
    // The position is within the field's own text: of no use to a person.
    let text = inner.to_string();
    let position = format!(" at line {} column {}", inner.line(), inner.column());
    let message = text.strip_suffix(&position).unwrap_or(&text);
    if message.starts_with("unknown field `") {
        // The path ends at the unknown key; `serde` lists the keys expected after the last
        // "`, expected " (our keys have no backticks, so the split is exact).
        let expected = message
            .rfind("`, expected ")
            .map(|i| &message[i + "`, expected ".len()..])
            .unwrap_or("");
        let names: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return FieldError::field(
            path,
            format!(
                "unknown field for {parent}: expected only {}",
                and_list(&names)
            ),
        );
    }
    if let Some(key) = message
        .strip_prefix("duplicate field `")
        .and_then(|k| k.strip_suffix('`'))
    {
        return FieldError::field(format!("{path}.{key}"), "duplicate field");
    }
    if message.starts_with("invalid type: ") {
        if let Some(i) = message.rfind(", expected ") {
            let expected = &message[i + ", expected ".len()..];
            return FieldError::field(path, format!("expected {expected}"));
        }
    }
    FieldError::field(path, message)
}

/// `a`, `a and b`, `a, b and c`.
pub(crate) fn and_list(names: &[&str]) -> String {
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// `Some` of the value for a key that is present, whatever its value (`null` included).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

/// What a nested object looks like, for messages.
pub(crate) trait Shape {
    /// `an object like {"reason": "...", "by": "..."}`
    const OBJECT: &'static str;
    /// `objects like {"reason": "...", "by": "..."}`
    const OBJECTS: &'static str;
}

/// A JSON object read into `T` by `serde` derive, and nothing else: derive alone would also
/// take an array of the fields' values in order for a struct.
pub(crate) struct Object<T>(pub(crate) T);

impl<'de, T: Deserialize<'de> + Shape> Deserialize<'de> for Object<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(ObjectVisitor(PhantomData))
    }
}

struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Shape> Visitor<'de> for ObjectVisitor<T> {
    type Value = Object<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::OBJECT)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(MapAccessDeserializer::new(map)).map(Object)
    }
}

/// A JSON array of objects, of which at most [`ARRAY_LEN_MAX`] + 1 are kept (one more than
/// allowed is enough to reject it; the rest are only checked for syntax).
pub(crate) struct Array<T>(pub(crate) Vec<T>);

impl<'de, T: Deserialize<'de> + Shape> Deserialize<'de> for Array<Object<T>> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ArrayVisitor(PhantomData))
    }
}

struct ArrayVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Shape> Visitor<'de> for ArrayVisitor<T> {
    type Value = Array<Object<T>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an array of {}", T::OBJECTS)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut elements = Vec::new();
        while elements.len() <= ARRAY_LEN_MAX {
            match seq.next_element::<Object<T>>()? {
                Some(e) => elements.push(e),
                None => return Ok(Array(elements)),
            }
        }
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Array(elements))
    }
}

/// A JSON object read as its entries in line order, duplicates kept (for a map of item codes
/// to quantities); at most [`ARRAY_LEN_MAX`] + 1 entries kept.
pub(crate) struct Entries<'de>(pub(crate) Vec<(Cow<'de, str>, Value<'de>)>);

impl<'de> Deserialize<'de> for Entries<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an object of item codes and quantities like {"PAC-3": 4}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while entries.len() <= ARRAY_LEN_MAX {
            match map.next_key::<Key<'de>>()? {
                Some(Key(k)) => entries.push((k, map.next_value::<Value<'de>>()?)),
                None => return Ok(Entries(entries)),
            }
        }
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Entries(entries))
    }
}

/// Declares a nested object's struct: every field optional to `serde` (a leaf is any value),
/// unknown keys rejected, and its [`Shape`] for messages.
macro_rules! nested_object {
    ($(#[$doc:meta])* $name:ident, $example:literal { $($field:ident: $ty:ty,)* }) => {
        $(#[$doc])*
        #[derive(DeriveDeserialize)]
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name<'a> {
            $(
                #[serde(borrow, default, deserialize_with = "present")]
                pub(crate) $field: Option<$ty>,
            )*
        }

        impl Shape for $name<'_> {
            const OBJECT: &'static str = concat!("an object like ", $example);
            const OBJECTS: &'static str = concat!("objects like ", $example);
        }
    };
}

nested_object! {
    /// An amount of money: `unit_value` of an item, `value` of a transfer line.
    MoneyWire, r#"{"amount": "1234.50", "currency": "USD"}"# {
        amount: Value<'a>,
        currency: Value<'a>,
    }
}

nested_object! {
    /// A line of a transfer.
    LineWire, r#"{"item": "155mm", "qty": 100}"# {
        item: Value<'a>,
        qty: Value<'a>,
        value: Object<MoneyWire<'a>>,
    }
}

nested_object! {
    /// The `override` of an allocation.
    OverrideWire, r#"{"reason": "...", "by": "..."}"# {
        reason: Value<'a>,
        by: Value<'a>,
    }
}

nested_object! {
    /// `launched` and `intercepted` of a threat report.
    ThreatCountsWire, r#"{"drones": 40, "cruise_missiles": 3, "ballistic_missiles": 1}"# {
        drones: Value<'a>,
        cruise_missiles: Value<'a>,
        ballistic_missiles: Value<'a>,
    }
}

nested_object! {
    /// One count of an inventory.
    CountWire, r#"{"item": "155mm", "qty": 100}"# {
        item: Value<'a>,
        qty: Value<'a>,
        lot: Value<'a>,
    }
}

#[cfg(test)]
mod tests {
    use expect_test::expect;

    use super::*;

    fn check<'de, T: Deserialize<'de>>(raw: &'de str) -> String {
        match read::<T>("f", raw) {
            Ok(_) => "ok".to_owned(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn shape_errors_are_worded_with_their_path() {
        let lines = |raw| check::<Array<Object<LineWire>>>(raw);
        let out = [
            lines(r#"[{"item":"a","qty":1}]"#),
            lines(r#"[{"item":"a","qty":1},{"item":"b","colour":1}]"#),
            lines(r#"[{"item":"a","qty":1,"value":{"amount":"1","bogus":2}}]"#),
            lines(r#"[{"item":"a","qty":1,"qty":2}]"#),
            lines(r#"[{"item":"a","qty":1,"value":{"amount":"1","amount":"2"}}]"#),
            lines(r#"[{"item":"a"},3]"#),
            lines(r#"{"item":"a"}"#),
            lines(r#"[["a",1]]"#),
            lines(r#"[{"item":"a","value":["1","USD"]}]"#),
            lines(r#"[{"it\u0065m":"a","qty":1,"we`ird":1}]"#),
            check::<Object<OverrideWire>>(r#"{"reason":"r","by":"b","who":1}"#),
            check::<Object<OverrideWire>>(r#""r""#),
            check::<Entries>(r#"[1]"#),
            check::<Entries>(r#"{"a":1,"a":2}"#),
        ]
        .join("\n");
        expect![[r#"
            ok
            field "f[1].colour": unknown field for f[1]: expected only item, qty and value
            field "f[0].value.bogus": unknown field for f[0].value: expected only amount and currency
            field "f[0].qty": duplicate field
            field "f[0].value.amount": duplicate field
            field "f[1]": expected an object like {"item": "155mm", "qty": 100}
            field "f": expected an array of objects like {"item": "155mm", "qty": 100}
            field "f[0]": expected an object like {"item": "155mm", "qty": 100}
            field "f[0].value": expected an object like {"amount": "1234.50", "currency": "USD"}
            field "f[0].we`ird": unknown field for f[0]: expected only item, qty and value
            field "f.who": unknown field for f: expected only reason and by
            field "f": expected an object like {"reason": "...", "by": "..."}
            field "f": expected an object of item codes and quantities like {"PAC-3": 4}
            ok"#]]
        .assert_eq(&out);
    }

    #[test]
    fn and_lists() {
        assert_eq!(and_list(&[]), "");
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b"]), "a and b");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }
}
