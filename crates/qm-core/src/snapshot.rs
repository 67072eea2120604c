//! A compact, canonical binary image of the ledger, so start-up need not replay history.
//!
//! Canonical: two ledgers holding the same facts encode to the same bytes, whatever the shape
//! of their trees or the order of their hash maps, so `verify` can compare a snapshot with a
//! replay byte for byte. Integers are LEB128 varints (times delta-encoded within a timeline),
//! so the image is small and decodes at memory speed.
//!
//! Layout (version 3): magic `QMSNAP03`, then *sections*, one per part of the ledger, each a
//! 4-byte tag naming the part and the version of its encoding (`mas1`: master data, version
//! 1), an 8-byte little-endian length, and the part's bytes (see each part's `encode`). A new
//! kind of state adds a section; a changed encoding bumps its tag's digit. Decoding refuses a
//! section it does not know (a newer program wrote it, or an older encoding of a part): the
//! caller then ignores the snapshot and replays the journal, so a snapshot is either read
//! exactly or not at all, never misread. A part whose state comes only from its own kinds of
//! record may be absent (a snapshot taken before that kind existed holds none of it): it
//! decodes as empty. The ids section, the largest, is decoded on a second thread.

use std::fmt;

use crate::codec::{R, W};
use crate::ledger::Ledger;

const MAGIC: &[u8; 8] = b"QMSNAP03";

/// A snapshot that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot: {}", self.0)
    }
}

/// The parts of the ledger, one section each. Encoding and decoding are exhaustive matches
/// on this enum, so a new part does not compile until it has both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Head,
    Master,
    Floors,
    Stock,
    Serials,
    Ids,
    Transfers,
    Pauses,
    Forecasts,
    Inventories,
}

impl Section {
    /// Every section, in the order written and decoded (a part after those it refers to).
    const ALL: [Section; 10] = [
        Section::Head,
        Section::Master,
        Section::Floors,
        Section::Stock,
        Section::Serials,
        Section::Ids,
        Section::Transfers,
        Section::Pauses,
        Section::Forecasts,
        Section::Inventories,
    ];

    /// The tag: the part's name and the version of its encoding.
    fn tag(self) -> &'static [u8; 4] {
        match self {
            Section::Head => b"hed1",
            Section::Master => b"mas1",
            Section::Floors => b"flo1",
            Section::Stock => b"sto1",
            Section::Serials => b"ser1",
            Section::Ids => b"ids1",
            Section::Transfers => b"trf2",
            Section::Pauses => b"pau1",
            Section::Forecasts => b"fcs1",
            Section::Inventories => b"inv1",
        }
    }

    /// What a missing section means.
    fn absent(self) -> Absent {
        match self {
            // Transfers' state also comes from movements (labels, dispatches): a snapshot
            // without it cannot be read as "no transfers".
            Section::Head
            | Section::Master
            | Section::Floors
            | Section::Stock
            | Section::Serials
            | Section::Ids
            | Section::Transfers => Absent::Refused,
            Section::Pauses | Section::Forecasts | Section::Inventories => Absent::Empty,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Section::Head => "head",
            Section::Master => "master data",
            Section::Floors => "floors",
            Section::Stock => "stock",
            Section::Serials => "serials",
            Section::Ids => "ids",
            Section::Transfers => "transfers",
            Section::Pauses => "pauses",
            Section::Forecasts => "forecasts",
            Section::Inventories => "inventories",
        }
    }
}

/// What a missing section means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Absent {
    /// The snapshot is unusable.
    Refused,
    /// The part is empty: its state comes only from records of kinds an older snapshot
    /// could not hold.
    Empty,
}

/// Whether `bytes` is laid out as this program writes snapshots (its magic, and every section
/// tag one it knows). A snapshot that is not, written by an older or newer program, is
/// ignored at start-up (the journal is replayed), never misread.
pub fn snapshot_format_is_current(bytes: &[u8]) -> bool {
    !matches!(split(bytes), Err(Unreadable::OtherFormat(_)))
}

/// Why a snapshot's sections cannot be read.
enum Unreadable {
    /// Another program's layout: another magic, a section tag this one does not know, or a
    /// section it needs missing.
    OtherFormat(String),
    /// The layout is this program's but the bytes are not whole.
    Damaged(&'static str),
}

impl From<Unreadable> for SnapshotError {
    fn from(u: Unreadable) -> SnapshotError {
        match u {
            Unreadable::OtherFormat(m) => SnapshotError(m),
            Unreadable::Damaged(m) => SnapshotError(m.into()),
        }
    }
}

/// The bytes of each section, in [`Section::ALL`]'s order (`None`: absent).
type Found<'a> = [Option<&'a [u8]>; Section::ALL.len()];

/// Splits a snapshot into its sections.
fn split(bytes: &[u8]) -> Result<Found<'_>, Unreadable> {
    let Some(mut rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
        return Err(Unreadable::OtherFormat("not a version 3 snapshot".into()));
    };
    let mut found: Found<'_> = [None; Section::ALL.len()];
    while !rest.is_empty() {
        if rest.len() < 12 {
            return Err(Unreadable::Damaged("truncated section header"));
        }
        let tag = &rest[..4];
        let len = u64::from_le_bytes(rest[4..12].try_into().expect("8 bytes"));
        let Some(i) = Section::ALL.iter().position(|s| s.tag().as_slice() == tag) else {
            return Err(Unreadable::OtherFormat(format!(
                "unknown section {:?}: written by another version",
                String::from_utf8_lossy(tag)
            )));
        };
        let body_len = usize::try_from(len)
            .ok()
            .filter(|&l| l <= rest.len() - 12)
            .ok_or(Unreadable::Damaged("section longer than the snapshot"))?;
        if found[i].replace(&rest[12..12 + body_len]).is_some() {
            return Err(Unreadable::Damaged("section listed twice"));
        }
        rest = &rest[12..][body_len..];
    }
    for (i, section) in Section::ALL.into_iter().enumerate() {
        if found[i].is_none() && section.absent() == Absent::Refused {
            return Err(Unreadable::OtherFormat(format!(
                "section {:?} is missing",
                String::from_utf8_lossy(section.tag().as_slice())
            )));
        }
    }
    Ok(found)
}

impl Ledger {
    /// Encodes the whole state.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        // About 27 bytes a movement (its timeline entry and its id hash): reserved once, as
        // growing a buffer of hundreds of megabytes copies it and faults in fresh pages.
        let mut buf = Vec::with_capacity(
            (self.stock.movements as usize)
                .saturating_mul(32)
                .saturating_add(64),
        );
        buf.extend_from_slice(MAGIC);
        for section in Section::ALL {
            buf.extend_from_slice(section.tag());
            let len_at = buf.len();
            buf.extend_from_slice(&[0; 8]);
            let start = buf.len();
            let mut w = W(&mut buf);
            match section {
                Section::Head => w.u(self.seq),
                Section::Master => self.master.encode(&mut w),
                Section::Floors => self.floors.encode(&mut w),
                Section::Stock => self.stock.encode(&mut w),
                Section::Serials => self.serials.encode(&mut w),
                Section::Ids => self.ids.encode(&mut w),
                Section::Transfers => self.transfers.encode(&mut w),
                Section::Pauses => self.pauses.encode(&mut w),
                Section::Forecasts => self.forecasts.encode(&mut w),
                Section::Inventories => self.inventories.encode(&mut w),
            }
            let len = (buf.len() - start) as u64;
            buf[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
        }
        buf
    }

    /// Decodes a state encoded by [`Ledger::encode_snapshot`].
    pub fn decode_snapshot(bytes: &[u8]) -> Result<Ledger, SnapshotError> {
        let found = split(bytes)?;
        /// Runs a section's decoder over all of its bytes (absent: the default).
        fn part<T: Default>(
            section: Section,
            bytes: Option<&[u8]>,
            dec: impl FnOnce(&mut R<'_>) -> Result<T, SnapshotError>,
        ) -> Result<T, SnapshotError> {
            let Some(bytes) = bytes else {
                return Ok(T::default());
            };
            let mut r = R::new(bytes);
            let v =
                dec(&mut r).map_err(|e| SnapshotError(format!("{}: {}", section.name(), e.0)))?;
            if !r.done() {
                return Err(SnapshotError(format!("{}: trailing bytes", section.name())));
            }
            Ok(v)
        }
        let ids_at = Section::ALL
            .iter()
            .position(|s| *s == Section::Ids)
            .expect("listed");
        let ids_bytes = found[ids_at];
        std::thread::scope(|scope| {
            // The ids, the largest part, refer to nothing: decoded beside the others.
            let mut ids =
                Some(scope.spawn(|| part(Section::Ids, ids_bytes, crate::ledger::decode_ids)));
            let mut l = Ledger::default();
            // Every section found is decoded here, in dependency order.
            for (section, bytes) in Section::ALL.into_iter().zip(found) {
                match section {
                    Section::Head => l.seq = part(section, bytes, |r| r.u())?,
                    Section::Master => {
                        l.master = part(section, bytes, crate::ledger::decode_master)?
                    }
                    Section::Floors => {
                        l.floors = part(section, bytes, |r| {
                            crate::ledger::decode_floors(r, &l.master)
                        })?
                    }
                    Section::Stock => {
                        l.stock = part(section, bytes, |r| {
                            crate::ledger::decode_stock(r, &l.master)
                        })?
                    }
                    Section::Serials => {
                        l.serials = part(section, bytes, |r| {
                            crate::ledger::decode_serials(r, &l.master)
                        })?
                    }
                    Section::Ids => {
                        l.ids = ids
                            .take()
                            .expect("one ids section")
                            .join()
                            .map_err(|_| SnapshotError("decoding the ids panicked".into()))??
                    }
                    Section::Transfers => {
                        l.transfers = part(section, bytes, |r| {
                            crate::ledger::decode_transfers(r, &l.master, &l.stock)
                        })?
                    }
                    Section::Pauses => {
                        l.pauses = part(section, bytes, |r| {
                            crate::ledger::decode_pauses(r, &l.master, &l.transfers)
                        })?
                    }
                    Section::Forecasts => {
                        l.forecasts = part(section, bytes, |r| {
                            crate::ledger::decode_forecasts(r, &l.master)
                        })?
                    }
                    Section::Inventories => {
                        l.inventories = part(section, bytes, |r| {
                            crate::ledger::decode_inventories(r, &l.master)
                        })?
                    }
                }
            }
            Ok(l)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Drops one section from a snapshot.
    fn without(bytes: &[u8], tag: &[u8; 4]) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        let mut rest = &bytes[8..];
        while !rest.is_empty() {
            let len = u64::from_le_bytes(rest[4..12].try_into().unwrap()) as usize;
            if &rest[..4] != tag {
                out.extend_from_slice(&rest[..12 + len]);
            }
            rest = &rest[12 + len..];
        }
        out
    }

    #[test]
    fn sections_of_new_kinds_may_be_absent_others_may_not() {
        let bytes = Ledger::new().encode_snapshot();
        for section in Section::ALL {
            let cut = without(&bytes, section.tag());
            match section.absent() {
                Absent::Empty => assert_eq!(
                    Ledger::decode_snapshot(&cut)
                        .expect("decodes")
                        .encode_snapshot(),
                    bytes
                ),
                Absent::Refused => assert!(Ledger::decode_snapshot(&cut).is_err()),
            }
        }
    }

    #[test]
    fn unknown_sections_and_old_versions_are_refused_not_misread() {
        let mut bytes = Ledger::new().encode_snapshot();
        bytes.extend_from_slice(b"new1");
        bytes.extend_from_slice(&0u64.to_le_bytes());
        let e = Ledger::decode_snapshot(&bytes).unwrap_err();
        assert!(e.0.contains("unknown section \"new1\""), "{e}");
        assert!(Ledger::decode_snapshot(b"QMSNAP02\0\0\0\0\0\0\0\0").is_err());
        assert!(!snapshot_format_is_current(&bytes));
        assert!(!snapshot_format_is_current(b"QMSNAP02\0\0\0\0\0\0\0\0"));
        assert!(snapshot_format_is_current(&Ledger::new().encode_snapshot()));
    }
}
