//! A compact, canonical binary image of the ledger, so start-up need not replay history.
//!
//! Canonical: two ledgers holding the same facts encode to the same bytes, whatever the shape
//! of their trees or the order of their hash maps, so `verify` can compare a snapshot with a
//! replay byte for byte. Integers are LEB128 varints (times delta-encoded within a key), so
//! the image is small and decodes at memory speed.
//!
//! Layout (version 2): magic `QMSNAP02`, the byte offset of the ids section (8 bytes, little
//! endian), seq, movement count, orgs, holders, items, floors, lots, keys (holder, item, lot,
//! entries), serials (item, serial, moves), then the ids section (hash, batch), which a second
//! thread decodes while the first decodes the rest.

use std::fmt;

use crate::ledger::{Key, Ledger, Names, Serial, SerialMove};
use crate::timeline::Timeline;
use crate::{Floor, Holder, HolderKind, Item, Money, Org, OrgKind, Tracking};

const MAGIC: &[u8; 8] = b"QMSNAP02";

/// A snapshot that cannot be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotError(pub String);

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "snapshot: {}", self.0)
    }
}

struct W<'a>(&'a mut Vec<u8>);

impl W<'_> {
    fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    fn s(&mut self, v: &str) {
        self.u(v.len() as u64);
        self.0.extend_from_slice(v.as_bytes());
    }
    fn os(&mut self, v: &Option<String>) {
        match v {
            None => self.u(0),
            Some(s) => {
                self.u(1);
                self.s(s);
            }
        }
    }
    fn of(&mut self, v: Option<f64>) {
        match v {
            None => self.u(0),
            Some(x) => {
                self.u(1);
                self.0.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
    }
}

struct R<'a> {
    b: &'a [u8],
    at: usize,
}

impl R<'_> {
    fn err<T>(&self, what: &str) -> Result<T, SnapshotError> {
        Err(SnapshotError(format!("{what} at byte {}", self.at)))
    }
    fn u(&mut self) -> Result<u64, SnapshotError> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let Some(&byte) = self.b.get(self.at) else {
                return self.err("truncated");
            };
            self.at += 1;
            if shift >= 64 {
                return self.err("overlong integer");
            }
            v |= ((byte & 0x7f) as u64) << shift;
            if byte & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
        }
    }
    fn u32(&mut self) -> Result<u32, SnapshotError> {
        let v = self.u()?;
        u32::try_from(v).or_else(|_| self.err("index out of range"))
    }
    fn len(&mut self) -> Result<usize, SnapshotError> {
        let v = self.u()?;
        if v > (self.b.len() - self.at) as u64 * 8 + 16 {
            return self.err("implausible length");
        }
        Ok(v as usize)
    }
    fn i(&mut self) -> Result<i64, SnapshotError> {
        let v = self.u()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
    fn s(&mut self) -> Result<String, SnapshotError> {
        let n = self.len()?;
        let Some(bytes) = self.b.get(self.at..self.at + n) else {
            return self.err("truncated string");
        };
        self.at += n;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => self.err("invalid UTF-8"),
        }
    }
    fn os(&mut self) -> Result<Option<String>, SnapshotError> {
        match self.u()? {
            0 => Ok(None),
            1 => Ok(Some(self.s()?)),
            _ => self.err("bad option tag"),
        }
    }
    fn of(&mut self) -> Result<Option<f64>, SnapshotError> {
        match self.u()? {
            0 => Ok(None),
            1 => {
                let Some(bytes) = self.b.get(self.at..self.at + 8) else {
                    return self.err("truncated float");
                };
                self.at += 8;
                Ok(Some(f64::from_bits(u64::from_le_bytes(
                    bytes.try_into().expect("8 bytes"),
                ))))
            }
            _ => self.err("bad option tag"),
        }
    }
}

fn enum_index<T: PartialEq + Copy>(all: &[T], v: T) -> u64 {
    all.iter().position(|x| *x == v).expect("listed") as u64
}

fn enum_at<T: Copy>(r: &R<'_>, all: &[T], i: u64) -> Result<T, SnapshotError> {
    all.get(i as usize)
        .copied()
        .map_or_else(|| r.err("bad enum value"), Ok)
}

impl Ledger {
    /// Encodes the whole state.
    pub fn encode_snapshot(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64 + self.movements as usize * 12);
        let mut w = W(&mut buf);
        w.0.extend_from_slice(MAGIC);
        w.0.extend_from_slice(&[0; 8]);
        w.u(self.seq);
        w.u(self.movements);
        w.u(self.orgs.len() as u64);
        for o in &self.orgs {
            w.s(&o.id);
            w.s(&o.name);
            w.u(o.kind.map_or(0, |k| 1 + enum_index(&OrgKind::ALL, k)));
        }
        w.u(self.holders.len() as u64);
        for h in &self.holders {
            w.s(&h.id);
            w.s(&h.name);
            w.s(&h.org);
            w.u(enum_index(&HolderKind::ALL, h.kind));
            w.os(&h.country);
            w.of(h.lat);
            w.of(h.lon);
        }
        w.u(self.items.len() as u64);
        for it in &self.items {
            w.s(&it.code);
            w.s(&it.name);
            w.s(&it.category);
            w.u(enum_index(&Tracking::ALL, it.tracking));
            w.os(&it.unit);
            w.u(match it.sensitive {
                None => 0,
                Some(false) => 1,
                Some(true) => 2,
            });
            match &it.unit_value {
                None => w.u(0),
                Some(m) => {
                    w.u(1);
                    w.s(&m.amount);
                    w.s(&m.currency);
                }
            }
            w.u(it.inventory_interval_days.map_or(0, |d| d as u64 + 1));
        }
        w.u(self.floors.len() as u64);
        for f in &self.floors {
            w.s(&f.item);
            w.s(&f.org);
            w.u(f.min_qty);
            match f.time {
                None => w.u(0),
                Some(t) => {
                    w.u(1);
                    w.i(t);
                }
            }
        }
        w.u(self.lots.names.len() as u64);
        for l in &self.lots.names {
            w.s(l);
        }
        // Keys with history, in creation order (deterministic for a given journal).
        let live: Vec<&Key> = self
            .keys
            .iter()
            .filter(|k| !k.timeline.is_empty())
            .collect();
        w.u(live.len() as u64);
        for k in live {
            w.u(k.holder as u64);
            w.u(k.item as u64);
            w.u(k.lot as u64);
            w.u(k.timeline.len());
            let mut prev = 0i64;
            k.timeline.for_each(&mut |t, d| {
                w.i(t.wrapping_sub(prev));
                w.i(d);
                prev = t;
            });
        }
        w.u(self.serials.len() as u64);
        for s in &self.serials {
            w.u(s.item as u64);
            w.s(&s.serial);
            w.u(s.history.len() as u64);
            for m in &s.history {
                w.i(m.time);
                w.u(m.from as u64);
                w.u(m.to as u64);
            }
        }
        let ids_at = w.0.len() as u64;
        w.0[8..16].copy_from_slice(&ids_at.to_le_bytes());
        let mut recent: Vec<(u64, u64)> = self.ids.iter().map(|(&h, &s)| (h, s)).collect();
        recent.sort_unstable();
        let mut ids = Vec::with_capacity(self.ids_base.len() + recent.len());
        ids.extend_from_slice(&self.ids_base);
        ids.extend_from_slice(&recent);
        ids.sort_unstable();
        w.u(ids.len() as u64);
        let mut prev = 0u64;
        for (h, s) in ids {
            w.u(h.wrapping_sub(prev));
            w.u(s);
            prev = h;
        }
        let mut extra: Vec<(u64, &Vec<u64>)> =
            self.ids_extra.iter().map(|(&h, v)| (h, v)).collect();
        extra.sort_unstable();
        w.u(extra.len() as u64);
        for (h, seqs) in extra {
            w.u(h);
            w.u(seqs.len() as u64);
            for &s in seqs {
                w.u(s);
            }
        }
        buf
    }

    /// Decodes a state encoded by [`Ledger::encode_snapshot`].
    pub fn decode_snapshot(bytes: &[u8]) -> Result<Ledger, SnapshotError> {
        if bytes.get(..8) != Some(MAGIC.as_slice()) || bytes.len() < 16 {
            return Err(SnapshotError("not a version 2 snapshot".into()));
        }
        let ids_at = u64::from_le_bytes(bytes[8..16].try_into().expect("8 bytes"));
        if ids_at < 16 || ids_at > bytes.len() as u64 {
            return Err(SnapshotError("the ids section is out of bounds".into()));
        }
        let (head, tail) = bytes.split_at(ids_at as usize);
        std::thread::scope(|scope| {
            let ids = scope.spawn(|| decode_ids(tail));
            let mut l = decode_main(head)?;
            let (base, extra) = ids
                .join()
                .map_err(|_| SnapshotError("decoding the ids panicked".into()))??;
            l.ids_base = base;
            l.ids_extra = extra;
            Ok(l)
        })
    }
}

type IdsExtra = hashbrown::HashMap<u64, Vec<u64>, crate::idhash::PassThroughBuild>;

/// The ids section: (hash, batch) sorted by hash, then the hashes shared by several ids.
fn decode_ids(bytes: &[u8]) -> Result<(Vec<(u64, u64)>, IdsExtra), SnapshotError> {
    let mut r = R { b: bytes, at: 0 };
    let n = r.len()?;
    let mut base = Vec::with_capacity(n);
    let mut prev = 0u64;
    for i in 0..n {
        let h = prev.wrapping_add(r.u()?);
        if i > 0 && h <= prev {
            return r.err("ids out of order");
        }
        let s = r.u()?;
        base.push((h, s));
        prev = h;
    }
    let n = r.len()?;
    let mut extra = IdsExtra::default();
    for _ in 0..n {
        let h = r.u()?;
        let len = r.len()?;
        let mut seqs = Vec::with_capacity(len);
        for _ in 0..len {
            seqs.push(r.u()?);
        }
        extra.insert(h, seqs);
    }
    if r.at != bytes.len() {
        return r.err("trailing bytes");
    }
    Ok((base, extra))
}

/// Everything before the ids section.
fn decode_main(bytes: &[u8]) -> Result<Ledger, SnapshotError> {
    {
        let mut r = R { b: bytes, at: 16 };
        let mut l = Ledger {
            seq: r.u()?,
            movements: r.u()?,
            ..Ledger::default()
        };
        let n = r.len()?;
        for _ in 0..n {
            let id = r.s()?;
            let name = r.s()?;
            let kind = match r.u()? {
                0 => None,
                k => Some(enum_at(&r, &OrgKind::ALL, k - 1)?),
            };
            l.org_index.insert(id.as_str().into(), l.orgs.len() as u32);
            l.orgs.push(Org { id, name, kind });
        }
        let n = r.len()?;
        for _ in 0..n {
            let id = r.s()?;
            let name = r.s()?;
            let org = r.s()?;
            let k = r.u()?;
            let kind = enum_at(&r, &HolderKind::ALL, k)?;
            let h = Holder {
                id,
                name,
                org,
                kind,
                country: r.os()?,
                lat: r.of()?,
                lon: r.of()?,
            };
            l.holder_index
                .insert(h.id.as_str().into(), l.holders.len() as u32);
            l.holders.push(h);
            l.holder_keys.push(Vec::new());
        }
        let n = r.len()?;
        for _ in 0..n {
            let code = r.s()?;
            let name = r.s()?;
            let category = r.s()?;
            let t = r.u()?;
            let tracking = enum_at(&r, &Tracking::ALL, t)?;
            let unit = r.os()?;
            let sensitive = match r.u()? {
                0 => None,
                1 => Some(false),
                2 => Some(true),
                _ => return r.err("bad sensitive flag"),
            };
            let unit_value = match r.u()? {
                0 => None,
                1 => Some(Money {
                    amount: r.s()?,
                    currency: r.s()?,
                }),
                _ => return r.err("bad option tag"),
            };
            let inventory_interval_days = match r.u()? {
                0 => None,
                d => Some(u32::try_from(d - 1).or_else(|_| r.err("interval out of range"))?),
            };
            let it = Item {
                code,
                name,
                category,
                tracking,
                unit,
                sensitive,
                unit_value,
                inventory_interval_days,
            };
            l.item_index
                .insert(it.code.as_str().into(), l.items.len() as u32);
            l.items.push(it);
        }
        let n = r.len()?;
        for _ in 0..n {
            let item = r.s()?;
            let org = r.s()?;
            let min_qty = r.u()?;
            let time = match r.u()? {
                0 => None,
                1 => Some(r.i()?),
                _ => return r.err("bad option tag"),
            };
            l.floors.push(Floor {
                item,
                org,
                min_qty,
                time,
            });
        }
        let n = r.len()?;
        l.lots = Names::default();
        for _ in 0..n {
            let name = r.s()?;
            l.lots.intern(&name);
        }
        if l.lots.names.first().map(|s| &**s) != Some("") {
            return r.err("lot table does not start with the empty lot");
        }
        let n = r.len()?;
        l.keys.reserve(n);
        let mut times = Vec::new();
        let mut deltas = Vec::new();
        for _ in 0..n {
            let holder = r.u32()?;
            let item = r.u32()?;
            let lot = r.u32()?;
            if holder as usize >= l.holders.len()
                || item as usize >= l.items.len()
                || lot as usize >= l.lots.names.len()
            {
                return r.err("key refers to an unknown holder, item or lot");
            }
            let len = r.len()?;
            times.clear();
            deltas.clear();
            let mut prev = 0i64;
            for _ in 0..len {
                let t = prev.wrapping_add(r.i()?);
                if !times.is_empty() && t <= prev {
                    return r.err("times out of order");
                }
                times.push(t);
                deltas.push(r.i()?);
                prev = t;
            }
            let k = l.keys.len() as u32;
            if l.key_index.insert((holder, item, lot), k).is_some() {
                return r.err("key listed twice");
            }
            l.holder_keys[holder as usize].push(k);
            l.keys.push(Key {
                holder,
                item,
                lot,
                timeline: Timeline::from_sorted(&times, &deltas),
            });
        }
        let n = r.len()?;
        l.serials.reserve(n);
        for _ in 0..n {
            let item = r.u32()?;
            let serial: Box<str> = r.s()?.into();
            let len = r.len()?;
            let mut history = Vec::with_capacity(len);
            for _ in 0..len {
                let time = r.i()?;
                let from = r.u32()?;
                let to = r.u32()?;
                if from as usize >= l.holders.len() || to as usize >= l.holders.len() {
                    return r.err("serial move refers to an unknown holder");
                }
                history.push(SerialMove { time, from, to });
            }
            let i = l.serials.len() as u32;
            if l.serial_index.insert((item, serial.clone()), i).is_some() {
                return r.err("serial listed twice");
            }
            l.serials.push(Serial {
                item,
                serial,
                history,
            });
        }
        if r.at != bytes.len() {
            return r.err("the ids section does not start where the header says");
        }
        Ok(l)
    }
}
