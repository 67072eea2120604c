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

/// The sections, in the order written (a part's section after those it refers to).
const SECTIONS: [(&[u8; 4], Absent); 10] = [
    (b"hed1", Absent::Refused),
    (b"mas1", Absent::Refused),
    (b"flo1", Absent::Refused),
    (b"sto1", Absent::Refused),
    (b"ser1", Absent::Refused),
    (b"ids1", Absent::Refused),
    (b"trf1", Absent::Empty),
    (b"pau1", Absent::Empty),
    (b"fcs1", Absent::Empty),
    (b"inv1", Absent::Empty),
];

/// What a missing section means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Absent {
    /// The snapshot is unusable.
    Refused,
    /// The part is empty: its state comes only from records of kinds an older snapshot
    /// could not hold.
    Empty,
}

impl Ledger {
    /// Encodes the whole state.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64 + self.stock.movements as usize * 12);
        buf.extend_from_slice(MAGIC);
        for (tag, _) in SECTIONS {
            buf.extend_from_slice(tag);
            let len_at = buf.len();
            buf.extend_from_slice(&[0; 8]);
            let start = buf.len();
            let mut w = W(&mut buf);
            match tag {
                b"hed1" => w.u(self.seq),
                b"mas1" => self.master.encode(&mut w),
                b"flo1" => self.floors.encode(&mut w),
                b"sto1" => self.stock.encode(&mut w),
                b"ser1" => self.serials.encode(&mut w),
                b"ids1" => self.ids.encode(&mut w),
                b"trf1" => self.transfers.encode(&mut w),
                b"pau1" => self.pauses.encode(&mut w),
                b"fcs1" => self.forecasts.encode(&mut w),
                b"inv1" => self.inventories.encode(&mut w),
                _ => unreachable!("every section is encoded"),
            }
            let len = (buf.len() - start) as u64;
            buf[len_at..len_at + 8].copy_from_slice(&len.to_le_bytes());
        }
        buf
    }

    /// Decodes a state encoded by [`Ledger::encode_snapshot`].
    pub fn decode_snapshot(bytes: &[u8]) -> Result<Ledger, SnapshotError> {
        let Some(mut rest) = bytes.strip_prefix(MAGIC.as_slice()) else {
            return Err(SnapshotError("not a version 3 snapshot".into()));
        };
        let mut found: [Option<&[u8]>; SECTIONS.len()] = [None; SECTIONS.len()];
        while !rest.is_empty() {
            if rest.len() < 12 {
                return Err(SnapshotError("truncated section header".into()));
            }
            let tag = &rest[..4];
            let len = u64::from_le_bytes(rest[4..12].try_into().expect("8 bytes"));
            let Some(i) = SECTIONS.iter().position(|(t, _)| t.as_slice() == tag) else {
                return Err(SnapshotError(format!(
                    "unknown section {:?}: written by another version",
                    String::from_utf8_lossy(tag)
                )));
            };
            let body_len = usize::try_from(len)
                .ok()
                .filter(|&l| l <= rest.len() - 12)
                .ok_or_else(|| SnapshotError("section longer than the snapshot".into()))?;
            if found[i].replace(&rest[12..12 + body_len]).is_some() {
                return Err(SnapshotError("section listed twice".into()));
            }
            rest = &rest[12 + body_len..];
        }
        for (i, (tag, absent)) in SECTIONS.iter().enumerate() {
            if found[i].is_none() && *absent == Absent::Refused {
                return Err(SnapshotError(format!(
                    "section {:?} is missing",
                    String::from_utf8_lossy(tag.as_slice())
                )));
            }
        }
        let section = |tag: &[u8; 4]| {
            let i = SECTIONS.iter().position(|(t, _)| *t == tag).expect("known");
            found[i]
        };
        /// Runs a section's decoder over all of its bytes (absent: `empty`).
        fn part<T>(
            name: &str,
            bytes: Option<&[u8]>,
            empty: impl FnOnce() -> T,
            dec: impl FnOnce(&mut R<'_>) -> Result<T, SnapshotError>,
        ) -> Result<T, SnapshotError> {
            let Some(bytes) = bytes else {
                return Ok(empty());
            };
            let mut r = R::new(bytes);
            let v = dec(&mut r).map_err(|e| SnapshotError(format!("{name}: {}", e.0)))?;
            if !r.done() {
                return Err(SnapshotError(format!("{name}: trailing bytes")));
            }
            Ok(v)
        }
        let ids_bytes = section(b"ids1");
        std::thread::scope(|scope| {
            let ids = scope.spawn(|| {
                part(
                    "ids",
                    ids_bytes,
                    Default::default,
                    crate::ledger::decode_ids,
                )
            });
            let mut l = Ledger {
                seq: part("head", section(b"hed1"), || 0, |r| r.u())?,
                ..Ledger::default()
            };
            l.master = part(
                "master data",
                section(b"mas1"),
                Default::default,
                crate::ledger::decode_master,
            )?;
            let master = &l.master;
            l.floors = part("floors", section(b"flo1"), Default::default, |r| {
                crate::ledger::decode_floors(r, master)
            })?;
            l.stock = part("stock", section(b"sto1"), Default::default, |r| {
                crate::ledger::decode_stock(r, master)
            })?;
            l.serials = part("serials", section(b"ser1"), Default::default, |r| {
                crate::ledger::decode_serials(r, master)
            })?;
            let stock = &l.stock;
            l.transfers = part("transfers", section(b"trf1"), Default::default, |r| {
                crate::ledger::decode_transfers(r, master, stock)
            })?;
            let transfers = &l.transfers;
            l.pauses = part("pauses", section(b"pau1"), Default::default, |r| {
                crate::ledger::decode_pauses(r, master, transfers)
            })?;
            l.forecasts = part("forecasts", section(b"fcs1"), Default::default, |r| {
                crate::ledger::decode_forecasts(r, master)
            })?;
            l.inventories = part("inventories", section(b"inv1"), Default::default, |r| {
                crate::ledger::decode_inventories(r, master)
            })?;
            l.ids = ids
                .join()
                .map_err(|_| SnapshotError("decoding the ids panicked".into()))??;
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
        for (tag, absent) in SECTIONS {
            let cut = without(&bytes, tag);
            match absent {
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
    }
}
