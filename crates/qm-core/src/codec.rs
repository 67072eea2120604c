//! The binary codec of snapshots: LEB128 varints (zigzag for signed), length-prefixed strings,
//! and an [`Enc`] trait with a derive-like macro, so that each part of the ledger writes its
//! own section in a few lines.
//!
//! Decoding is defensive: every length is checked against the bytes left, every index against
//! its table, so a damaged snapshot is an error (and start-up replays the journal), never a
//! panic or a misread.

use crate::timeline::Timeline;
use crate::{HolderKind, Money, OrgKind, SnapshotError, Tracking};

/// Appends to a snapshot.
pub(crate) struct W<'a>(pub(crate) &'a mut Vec<u8>);

impl W<'_> {
    pub(crate) fn u(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    pub(crate) fn i(&mut self, v: i64) {
        self.u(((v << 1) ^ (v >> 63)) as u64);
    }
    pub(crate) fn s(&mut self, v: &str) {
        self.u(v.len() as u64);
        self.0.extend_from_slice(v.as_bytes());
    }
}

/// Reads a snapshot.
pub(crate) struct R<'a> {
    pub(crate) b: &'a [u8],
    pub(crate) at: usize,
}

impl<'a> R<'a> {
    pub(crate) fn new(b: &'a [u8]) -> R<'a> {
        R { b, at: 0 }
    }
    pub(crate) fn err<T>(&self, what: &str) -> Result<T, SnapshotError> {
        Err(SnapshotError(format!("{what} at byte {}", self.at)))
    }
    pub(crate) fn done(&self) -> bool {
        self.at == self.b.len()
    }
    pub(crate) fn u(&mut self) -> Result<u64, SnapshotError> {
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
    pub(crate) fn u32(&mut self) -> Result<u32, SnapshotError> {
        let v = self.u()?;
        u32::try_from(v).or_else(|_| self.err("index out of range"))
    }
    /// An index below `len`.
    pub(crate) fn idx(&mut self, len: usize) -> Result<u32, SnapshotError> {
        let v = self.u32()?;
        if v as usize >= len {
            return self.err("index refers to nothing");
        }
        Ok(v)
    }
    /// A count of things still to read: at most one per remaining byte (each takes one).
    pub(crate) fn len(&mut self) -> Result<usize, SnapshotError> {
        let v = self.u()?;
        if v > (self.b.len() - self.at) as u64 * 8 + 16 {
            return self.err("implausible length");
        }
        Ok(v as usize)
    }
    pub(crate) fn i(&mut self) -> Result<i64, SnapshotError> {
        let v = self.u()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }
    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], SnapshotError> {
        let Some(bytes) = self.b.get(self.at..self.at.saturating_add(n)) else {
            return self.err("truncated");
        };
        self.at += n;
        Ok(bytes)
    }
    pub(crate) fn s(&mut self) -> Result<&'a str, SnapshotError> {
        let n = self.len()?;
        let bytes = self.bytes(n)?;
        std::str::from_utf8(bytes).or_else(|_| self.err("invalid UTF-8"))
    }
}

/// A value a snapshot holds.
pub(crate) trait Enc: Sized {
    fn enc(&self, w: &mut W<'_>);
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError>;
}

impl Enc for u64 {
    fn enc(&self, w: &mut W<'_>) {
        w.u(*self)
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        r.u()
    }
}

impl Enc for u32 {
    fn enc(&self, w: &mut W<'_>) {
        w.u(*self as u64)
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        r.u32()
    }
}

impl Enc for i64 {
    fn enc(&self, w: &mut W<'_>) {
        w.i(*self)
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        r.i()
    }
}

impl Enc for bool {
    fn enc(&self, w: &mut W<'_>) {
        w.u(*self as u64)
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        match r.u()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => r.err("bad boolean"),
        }
    }
}

impl Enc for f64 {
    fn enc(&self, w: &mut W<'_>) {
        w.0.extend_from_slice(&self.to_bits().to_le_bytes())
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        let b = r.bytes(8)?;
        Ok(f64::from_bits(u64::from_le_bytes(
            b.try_into().expect("8 bytes"),
        )))
    }
}

impl Enc for String {
    fn enc(&self, w: &mut W<'_>) {
        w.s(self)
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        r.s().map(str::to_owned)
    }
}

impl Enc for Box<str> {
    fn enc(&self, w: &mut W<'_>) {
        w.s(self)
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        r.s().map(Box::from)
    }
}

impl<T: Enc> Enc for Option<T> {
    fn enc(&self, w: &mut W<'_>) {
        match self {
            None => w.u(0),
            Some(v) => {
                w.u(1);
                v.enc(w);
            }
        }
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        match r.u()? {
            0 => Ok(None),
            1 => Ok(Some(T::dec(r)?)),
            _ => r.err("bad option tag"),
        }
    }
}

impl<T: Enc> Enc for Vec<T> {
    fn enc(&self, w: &mut W<'_>) {
        w.u(self.len() as u64);
        for v in self {
            v.enc(w);
        }
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        let n = r.len()?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(T::dec(r)?);
        }
        Ok(out)
    }
}

impl<A: Enc, B: Enc> Enc for (A, B) {
    fn enc(&self, w: &mut W<'_>) {
        self.0.enc(w);
        self.1.enc(w);
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        Ok((A::dec(r)?, B::dec(r)?))
    }
}

impl<A: Enc, B: Enc, C: Enc> Enc for (A, B, C) {
    fn enc(&self, w: &mut W<'_>) {
        self.0.enc(w);
        self.1.enc(w);
        self.2.enc(w);
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        Ok((A::dec(r)?, B::dec(r)?, C::dec(r)?))
    }
}

/// Implements [`Enc`] for a struct, field by field in the order given.
macro_rules! enc_struct {
    ($t:ident { $($f:ident),* $(,)? }) => {
        impl $crate::codec::Enc for $t {
            fn enc(&self, w: &mut $crate::codec::W<'_>) {
                $( $crate::codec::Enc::enc(&self.$f, w); )*
            }
            fn dec(r: &mut $crate::codec::R<'_>) -> Result<Self, $crate::SnapshotError> {
                Ok($t { $( $f: $crate::codec::Enc::dec(r)?, )* })
            }
        }
    };
}
pub(crate) use enc_struct;

/// Implements [`Enc`] for a field-less enum through its `ALL` table.
macro_rules! enc_enum {
    ($t:ty) => {
        impl $crate::codec::Enc for $t {
            fn enc(&self, w: &mut $crate::codec::W<'_>) {
                let i = <$t>::ALL.iter().position(|x| x == self).expect("listed");
                w.u(i as u64);
            }
            fn dec(r: &mut $crate::codec::R<'_>) -> Result<Self, $crate::SnapshotError> {
                let i = r.u()?;
                match <$t>::ALL.get(i as usize) {
                    Some(v) => Ok(*v),
                    None => r.err("bad enum value"),
                }
            }
        }
    };
}
pub(crate) use enc_enum;

enc_enum!(OrgKind);
enc_enum!(HolderKind);
enc_enum!(Tracking);
enc_struct!(Money { amount, currency });

/// A timeline as its entries: times delta-coded, deltas zigzag.
impl Enc for Timeline {
    fn enc(&self, w: &mut W<'_>) {
        w.u(self.len());
        let mut prev = 0i64;
        self.for_each(&mut |t, d| {
            w.i(t.wrapping_sub(prev));
            w.i(d);
            prev = t;
        });
    }
    fn dec(r: &mut R<'_>) -> Result<Self, SnapshotError> {
        let n = r.len()?;
        let mut prev = 0i64;
        let mut first = true;
        let tl = Timeline::try_from_sorted(n, || {
            let t = prev.wrapping_add(r.i()?);
            if !first && t <= prev {
                return r.err("times out of order");
            }
            let d = r.i()?;
            if d.unsigned_abs() > crate::timeline::DELTA_MAX {
                return r.err("delta out of range");
            }
            first = false;
            prev = t;
            Ok((t, d))
        })?;
        if !tl.within_volume() {
            return r.err("timeline past the volume bound");
        }
        Ok(tl)
    }
}
