//! The format's vocabulary, declared once: every field name with the shape of its value, and
//! one table per record type (its name, how messages describe it, its fields in the order of
//! the spec's table, each required or optional).
//!
//! Everything else is derived from these tables: the reader's field slots and bitsets, the
//! unknown-field check, the "expected org, holder, ..." of an unknown type, the "missing
//! required field" checks (`judge.rs` reads each type's fields in table order and asserts, in
//! debug builds, that it reads exactly the table's fields with the table's presence), and the
//! tests that drop each required field and each optional one in turn.

use qm_core::RecordKind;

/// How a field's value is read off the line, before judging.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A string, number, boolean or null (arrays and objects noted only by kind): the byte
    /// scanner reads the plain spelling.
    Scalar,
    /// An array of strings (its elements kept as scalars): the byte scanner reads the plain
    /// spelling.
    Strings,
    /// Kept as raw JSON text and read when judged: coordinates (parsed as numbers, correctly
    /// rounded) and nested objects and arrays of objects (read by `serde` derive, see
    /// `nested.rs`). The byte scanner gives up on these.
    Raw,
}

/// Declares [`Field`] with its JSON name and [`Shape`], and everything derived from the list.
macro_rules! fields {
    ($($variant:ident = $name:literal : $shape:ident,)*) => {
        /// Every field name of the format, across all record types (nested fields excepted).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Field {
            $($variant,)*
        }

        impl Field {
            /// Every field, in declaration order (`Field as usize` is the index).
            pub(crate) const ALL: &'static [Field] = &[$(Field::$variant,)*];

            /// The JSON key.
            pub(crate) fn name(self) -> &'static str {
                match self {
                    $(Field::$variant => $name,)*
                }
            }

            pub(crate) fn shape(self) -> Shape {
                match self {
                    $(Field::$variant => Shape::$shape,)*
                }
            }

            pub(crate) fn from_key(key: &str) -> Option<Field> {
                match key {
                    $($name => Some(Field::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

fields! {
    Type = "type": Scalar,
    Id = "id": Scalar,
    Name = "name": Scalar,
    Kind = "kind": Scalar,
    Org = "org": Scalar,
    Country = "country": Scalar,
    Lat = "lat": Raw,
    Lon = "lon": Raw,
    Code = "code": Scalar,
    Category = "category": Scalar,
    Tracking = "tracking": Scalar,
    Unit = "unit": Scalar,
    Sensitive = "sensitive": Scalar,
    UnitValue = "unit_value": Raw,
    InventoryIntervalDays = "inventory_interval_days": Scalar,
    Item = "item": Scalar,
    MinQty = "min_qty": Scalar,
    Time = "time": Scalar,
    Qty = "qty": Scalar,
    From = "from": Scalar,
    To = "to": Scalar,
    Lot = "lot": Scalar,
    Serials = "serials": Strings,
    Transfer = "transfer": Scalar,
    Note = "note": Scalar,
    Donor = "donor": Scalar,
    Recipient = "recipient": Scalar,
    Lines = "lines": Raw,
    Authority = "authority": Scalar,
    Override = "override": Raw,
    Reason = "reason": Scalar,
    By = "by": Scalar,
    Items = "items": Strings,
    Categories = "categories": Strings,
    ReviewBy = "review_by": Scalar,
    Pause = "pause": Scalar,
    QtyPerMonth = "qty_per_month": Scalar,
    FromTime = "from_time": Scalar,
    ToTime = "to_time": Scalar,
    Partner = "partner": Scalar,
    Region = "region": Scalar,
    Launched = "launched": Raw,
    Intercepted = "intercepted": Raw,
    InterceptorsUsed = "interceptors_used": Raw,
    Holder = "holder": Scalar,
    SerialsSeen = "serials_seen": Strings,
    Counts = "counts": Raw,
}

pub(crate) const FIELD_COUNT: usize = Field::ALL.len();

/// Words of a [`FieldSet`]: as many 64-bit words as the fields need.
const WORDS: usize = FIELD_COUNT.div_ceil(64);

/// A set of fields: one bit per [`Field`], as wide as the list of fields needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct FieldSet([u64; WORDS]);

impl FieldSet {
    pub(crate) const EMPTY: FieldSet = FieldSet([0; WORDS]);

    pub(crate) const fn with(mut self, f: Field) -> FieldSet {
        let i = f as usize;
        self.0[i / 64] |= 1 << (i % 64);
        self
    }

    pub(crate) fn insert(&mut self, f: Field) {
        *self = self.with(f);
    }

    pub(crate) fn contains(&self, f: Field) -> bool {
        let i = f as usize;
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    /// The fields of `self` not in `other`.
    pub(crate) fn minus(&self, other: &FieldSet) -> FieldSet {
        let mut out = *self;
        for (w, o) in out.0.iter_mut().zip(other.0) {
            *w &= !o;
        }
        out
    }

    /// The fields in the set, in declaration order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().enumerate().flat_map(|(i, &word)| {
            let mut w = word;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let bit = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(Field::ALL[i * 64 + bit])
            })
        })
    }
}

/// Whether a record of a type must have a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Presence {
    Required,
    Optional,
}

/// One record type: the spec's table row.
#[derive(Debug)]
pub(crate) struct TypeSpec {
    pub(crate) kind: RecordKind,
    /// How messages name a record of this type: `a movement record`.
    pub(crate) describe: &'static str,
    /// Its fields besides `type`, in the order of the spec's table (the canonical order).
    pub(crate) fields: &'static [(Field, Presence)],
    /// Every field a record of this type may have, `type` included.
    pub(crate) allowed: FieldSet,
}

impl TypeSpec {
    /// The `type` of the record.
    pub(crate) fn name(&self) -> &'static str {
        self.kind.name()
    }

    /// The row of a type, with [`TypeSpec::allowed`] computed from its fields.
    const fn new(
        kind: RecordKind,
        describe: &'static str,
        fields: &'static [(Field, Presence)],
    ) -> TypeSpec {
        let mut allowed = FieldSet::EMPTY.with(Field::Type);
        let mut i = 0;
        while i < fields.len() {
            allowed = allowed.with(fields[i].0);
            i += 1;
        }
        TypeSpec {
            kind,
            describe,
            fields,
            allowed,
        }
    }

    /// Where `f` stands in the table, and whether it is required.
    pub(crate) fn position(&self, f: Field) -> Option<(usize, Presence)> {
        self.fields
            .iter()
            .position(|&(g, _)| g == f)
            .map(|i| (i, self.fields[i].1))
    }
}

use Field as F;
use Presence::{Optional as Opt, Required as Req};

/// Every record type, in the order of the spec's tables (v1, then v1.1).
pub(crate) static TYPES: [TypeSpec; 14] = [
    TypeSpec::new(
        RecordKind::Org,
        "an org record",
        &[(F::Id, Req), (F::Name, Req), (F::Kind, Opt)],
    ),
    TypeSpec::new(
        RecordKind::Holder,
        "a holder record",
        &[
            (F::Id, Req),
            (F::Name, Req),
            (F::Org, Req),
            (F::Kind, Req),
            (F::Country, Opt),
            (F::Lat, Opt),
            (F::Lon, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Item,
        "an item record",
        &[
            (F::Code, Req),
            (F::Name, Req),
            (F::Category, Req),
            (F::Tracking, Req),
            (F::Unit, Opt),
            (F::Sensitive, Opt),
            (F::UnitValue, Opt),
            (F::InventoryIntervalDays, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Floor,
        "a floor record",
        &[
            (F::Item, Req),
            (F::Org, Req),
            (F::MinQty, Req),
            (F::Time, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Movement,
        "a movement record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Item, Req),
            (F::Qty, Req),
            (F::From, Req),
            (F::To, Req),
            (F::Lot, Opt),
            (F::Serials, Opt),
            (F::Kind, Opt),
            (F::Transfer, Opt),
            (F::Note, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Transfer,
        "a transfer record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Donor, Req),
            (F::Recipient, Req),
            (F::Lines, Req),
            (F::Authority, Opt),
            (F::Note, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Allocate,
        "an allocate record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Transfer, Req),
            (F::Item, Req),
            (F::Qty, Req),
            (F::From, Req),
            (F::Lot, Opt),
            (F::Override, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Cancel,
        "a cancel record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Transfer, Req),
            (F::Item, Opt),
            (F::Qty, Opt),
            (F::Reason, Opt),
            (F::By, Opt),
        ],
    ),
    // The scope fields are each optional; `judge.rs` requires at least one of them.
    TypeSpec::new(
        RecordKind::Pause,
        "a pause record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Reason, Req),
            (F::By, Req),
            (F::Items, Opt),
            (F::Categories, Opt),
            (F::Donor, Opt),
            (F::Recipient, Opt),
            (F::Transfer, Opt),
            (F::ReviewBy, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Resume,
        "a resume record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Pause, Req),
            (F::Reason, Opt),
            (F::By, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Production,
        "a production record",
        &[
            (F::Id, Req),
            (F::Item, Req),
            (F::To, Req),
            (F::QtyPerMonth, Req),
            (F::FromTime, Req),
            (F::ToTime, Opt),
            (F::Partner, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Consumption,
        "a consumption record",
        &[
            (F::Id, Req),
            (F::Item, Req),
            (F::Org, Req),
            (F::QtyPerMonth, Req),
            (F::FromTime, Req),
            (F::ToTime, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Threat,
        "a threat record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Region, Req),
            (F::Launched, Req),
            (F::Intercepted, Opt),
            (F::InterceptorsUsed, Opt),
        ],
    ),
    TypeSpec::new(
        RecordKind::Inventory,
        "an inventory record",
        &[
            (F::Id, Req),
            (F::Time, Req),
            (F::Holder, Req),
            (F::By, Req),
            (F::SerialsSeen, Opt),
            (F::Counts, Opt),
        ],
    ),
];

/// The type named `name`.
pub(crate) fn lookup(name: &str) -> Option<&'static TypeSpec> {
    // Movements are nearly every line of a large file: one comparison for them.
    if name == "movement" {
        return Some(&TYPES[4]);
    }
    TYPES.iter().find(|t| t.name() == name)
}

/// `org, holder, ..., threat or inventory`: every type, for the message of an unknown one.
pub(crate) fn type_names() -> String {
    let names: Vec<&str> = TYPES.iter().map(TypeSpec::name).collect();
    let (last, rest) = names.split_last().expect("types");
    format!("{} or {last}", rest.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_table() {
        for kind in RecordKind::ALL {
            assert_eq!(
                TYPES.iter().filter(|t| t.kind == kind).count(),
                1,
                "{kind:?}"
            );
        }
        assert_eq!(
            lookup("movement").map(|t| t.kind),
            Some(RecordKind::Movement)
        );
        for t in &TYPES {
            assert_eq!(lookup(t.name()).map(|t| t.kind), Some(t.kind));
            assert_eq!(t.allowed.iter().count(), t.fields.len() + 1);
            let mut seen = FieldSet::EMPTY;
            for &(f, _) in t.fields {
                assert!(!seen.contains(f), "{} lists {} twice", t.name(), f.name());
                assert_ne!(f, Field::Type);
                seen.insert(f);
            }
        }
    }

    /// `docs/interchange.md` lists every type with its fields in table order, the required
    /// ones among its required fields.
    #[test]
    fn the_docs_tables_match() {
        let doc = include_str!("../../../docs/interchange.md");
        for t in &TYPES {
            let row_start = format!("| `{}` |", t.name());
            let row = doc
                .lines()
                .find(|l| l.starts_with(&row_start))
                .unwrap_or_else(|| panic!("docs/interchange.md has no row for {}", t.name()));
            let columns: Vec<&str> = row.split('|').collect();
            let fields_in = |column: &str| -> Vec<Field> {
                column
                    .split('`')
                    .skip(1)
                    .step_by(2)
                    .filter_map(Field::from_key)
                    .filter(|f| t.position(*f).is_some())
                    .collect()
            };
            let (required, optional) = (fields_in(columns[2]), fields_in(columns[3]));
            let listed: Vec<Field> = required.iter().chain(&optional).copied().collect();
            let table: Vec<Field> = t.fields.iter().map(|(f, _)| *f).collect();
            assert_eq!(listed, table, "docs row of {}", t.name());
            for (f, presence) in t.fields {
                if *presence == Presence::Required {
                    assert!(required.contains(f), "{} of {}", f.name(), t.name());
                }
            }
        }
    }

    #[test]
    fn fields_are_named_once() {
        for (i, &f) in Field::ALL.iter().enumerate() {
            assert_eq!(f as usize, i);
            assert_eq!(Field::from_key(f.name()), Some(f));
        }
        let mut set = FieldSet::EMPTY;
        for &f in Field::ALL.iter().rev().step_by(3) {
            set.insert(f);
        }
        let listed: Vec<Field> = set.iter().collect();
        let mut expected: Vec<Field> = Field::ALL.iter().rev().step_by(3).copied().collect();
        expected.reverse();
        assert_eq!(listed, expected);
        assert_eq!(set.minus(&set), FieldSet::EMPTY);
        assert_eq!(set.minus(&FieldSet::EMPTY), set);
    }
}
