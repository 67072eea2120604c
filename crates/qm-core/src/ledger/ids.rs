//! Idempotency of movements without keeping every movement in memory: a 64-bit hash of each
//! movement id and the batch that holds it. When a batch reuses an id, the facade loads the
//! original movement from that batch ([`MovementIds::candidates`]) and the ledger compares:
//! identical is a no-op, different is rejected naming the first differing field.
//!
//! 16 bytes per id: recent ids in a hash table, older ones (after [`MovementIds::compact`])
//! in a vector sorted by hash, found by interpolation search.

use hashbrown::HashMap;

use crate::codec::{R, W};
use crate::idhash::{id_hash, PassThroughBuild};
use crate::{Record, SnapshotError};

#[derive(Debug, Clone, Default)]
pub(crate) struct MovementIds {
    /// Movement id hash → the batch that holds it, for ids recorded since the last compaction.
    pub(crate) recent: HashMap<u64, u64, PassThroughBuild>,
    /// The same for older ids: (hash, batch) sorted by hash. Loaded from a snapshot as it is
    /// stored (no hash table to rebuild at start-up).
    pub(crate) base: Vec<(u64, u64)>,
    /// Further batches for id hashes shared by different ids (hash collisions).
    pub(crate) extra: HashMap<u64, Vec<u64>, PassThroughBuild>,
    /// (hash, went to `extra`) of every id the batch added.
    undo: Vec<(u64, bool)>,
}

impl MovementIds {
    pub(crate) fn begin(&mut self) {
        self.undo.clear();
    }

    pub(crate) fn commit(&mut self) {
        self.undo.clear();
    }

    pub(crate) fn rollback(&mut self) {
        for (hash, extra) in std::mem::take(&mut self.undo).into_iter().rev() {
            if extra {
                let list = self.extra.get_mut(&hash).expect("extra ids");
                list.pop();
                if list.is_empty() {
                    self.extra.remove(&hash);
                }
            } else {
                self.recent.remove(&hash);
            }
        }
    }

    /// The batch holding the movement whose id has this hash.
    pub(crate) fn batch_of(&self, hash: u64) -> Option<u64> {
        if let Some(&seq) = self.recent.get(&hash) {
            return Some(seq);
        }
        find_hash(&self.base, hash).map(|i| self.base[i].1)
    }

    /// Records that batch `seq` holds a movement whose id hashes to `hash`; `known` when the
    /// hash is already taken by another id.
    pub(crate) fn insert(&mut self, hash: u64, seq: u64, known: bool) {
        if known {
            self.extra.entry(hash).or_default().push(seq);
        } else {
            self.recent.insert(hash, seq);
        }
        self.undo.push((hash, known));
    }

    /// Batches that hold movements whose ids the batch reuses (or whose id hashes collide
    /// with them).
    pub(crate) fn candidates(&self, batch: &[Record]) -> Vec<u64> {
        let mut seqs = Vec::new();
        for r in batch {
            if let Record::Movement(m) = r {
                let h = id_hash(&m.id);
                if let Some(seq) = self.batch_of(h) {
                    seqs.push(seq);
                    if let Some(extra) = self.extra.get(&h) {
                        seqs.extend_from_slice(extra);
                    }
                }
            }
        }
        seqs.sort_unstable();
        seqs.dedup();
        seqs
    }

    /// Moves the recent ids into the sorted base, so that memory stays at 16 bytes per id.
    pub(crate) fn compact(&mut self) {
        if self.recent.is_empty() {
            return;
        }
        let mut recent: Vec<(u64, u64)> = self.recent.drain().collect();
        recent.sort_unstable();
        let mut merged = Vec::with_capacity(self.base.len() + recent.len());
        merged.extend(Merged::new(&self.base, &recent));
        self.base = merged;
        self.recent.shrink_to_fit();
    }

    /// Every (hash, batch) sorted by hash, then the shared hashes.
    pub(crate) fn encode(&self, w: &mut W<'_>) {
        let mut recent: Vec<(u64, u64)> = self.recent.iter().map(|(&h, &s)| (h, s)).collect();
        recent.sort_unstable();
        w.u((self.base.len() + recent.len()) as u64);
        let mut prev = 0u64;
        for (h, s) in Merged::new(&self.base, &recent) {
            w.u(h.wrapping_sub(prev));
            w.u(s);
            prev = h;
        }
        let mut extra: Vec<(u64, &Vec<u64>)> = self.extra.iter().map(|(&h, v)| (h, v)).collect();
        extra.sort_unstable();
        w.u(extra.len() as u64);
        for (h, seqs) in extra {
            w.u(h);
            w.u(seqs.len() as u64);
            for &s in seqs {
                w.u(s);
            }
        }
    }

    pub(crate) fn decode(r: &mut R<'_>) -> Result<MovementIds, SnapshotError> {
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
        let mut extra: HashMap<u64, Vec<u64>, PassThroughBuild> = HashMap::default();
        for _ in 0..n {
            let h = r.u()?;
            let len = r.len()?;
            let mut seqs = Vec::with_capacity(len);
            for _ in 0..len {
                seqs.push(r.u()?);
            }
            extra.insert(h, seqs);
        }
        Ok(MovementIds {
            base,
            extra,
            ..MovementIds::default()
        })
    }
}

/// The entries of two slices sorted by hash, in order (the base and the sorted recent ids,
/// read without copying the base).
struct Merged<'a> {
    a: &'a [(u64, u64)],
    b: &'a [(u64, u64)],
}

impl<'a> Merged<'a> {
    fn new(a: &'a [(u64, u64)], b: &'a [(u64, u64)]) -> Self {
        Merged { a, b }
    }
}

impl Iterator for Merged<'_> {
    type Item = (u64, u64);

    fn next(&mut self) -> Option<(u64, u64)> {
        let from_a = match (self.a.first(), self.b.first()) {
            (Some(x), Some(y)) => x <= y,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return None,
        };
        let side = if from_a { &mut self.a } else { &mut self.b };
        let (&first, rest) = side.split_first().expect("non-empty");
        *side = rest;
        Some(first)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.a.len() + self.b.len();
        (n, Some(n))
    }
}

/// Finds `hash` in `sorted` (sorted by hash). The hashes are uniformly spread, so the
/// position is first guessed from the value (interpolation), then found by a short
/// exponential and binary search around the guess: a few cache misses instead of the ~23 of
/// a binary search over ten million entries.
fn find_hash(sorted: &[(u64, u64)], hash: u64) -> Option<usize> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let guess = ((hash as u128 * n as u128) >> 64) as usize;
    let at = |i: usize| sorted[i].0;
    let (mut lo, mut hi);
    if at(guess) <= hash {
        // Grow the window to the right until it holds `hash`.
        let mut step = 1;
        lo = guess;
        hi = guess + 1;
        while hi < n && at(hi) <= hash {
            lo = hi;
            hi = (hi + step).min(n);
            step *= 2;
        }
    } else {
        // Grow it to the left.
        let mut step = 1;
        hi = guess;
        lo = guess.saturating_sub(1);
        while lo > 0 && at(lo) > hash {
            hi = lo;
            lo = lo.saturating_sub(step);
            step *= 2;
        }
    }
    sorted[lo..hi]
        .binary_search_by_key(&hash, |&(h, _)| h)
        .ok()
        .map(|i| lo + i)
}

#[cfg(test)]
mod tests {
    use super::{find_hash, MovementIds};
    use crate::codec::{R, W};

    /// Ids recorded across compactions (some in the sorted base, some recent, hashes
    /// interleaved) encode as one sorted list, and decode to the same batches.
    #[test]
    fn ids_in_base_and_recent_encode_in_hash_order_and_decode_whole() {
        let mut ids = MovementIds::default();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut all = Vec::new();
        for round in 0..3u64 {
            for i in 0..1_000u64 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                ids.insert(x, round * 1_000 + i, false);
                all.push((x, round * 1_000 + i));
            }
            if round < 2 {
                ids.compact();
            }
        }
        assert!(!ids.base.is_empty() && !ids.recent.is_empty());
        let mut buf = Vec::new();
        ids.encode(&mut W(&mut buf));
        let back = MovementIds::decode(&mut R::new(&buf)).expect("decodes");
        all.sort_unstable();
        assert_eq!(back.base, all);
        for &(h, s) in &all {
            assert_eq!(ids.batch_of(h), Some(s));
            assert_eq!(back.batch_of(h), Some(s));
        }
        ids.compact();
        assert_eq!(ids.base, all);
    }

    #[test]
    fn find_hash_finds_every_hash_and_nothing_else() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut v: Vec<(u64, u64)> = (0..5_000)
            .map(|i| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x, i)
            })
            .collect();
        v.push((0, 1));
        v.push((u64::MAX, 2));
        v.sort_unstable();
        for (i, &(h, _)) in v.iter().enumerate() {
            assert_eq!(find_hash(&v, h), Some(i));
        }
        for probe in [1u64, 12345, u64::MAX - 1, 1 << 63] {
            assert_eq!(
                find_hash(&v, probe),
                v.binary_search_by_key(&probe, |&(h, _)| h).ok()
            );
        }
        assert_eq!(find_hash(&[], 5), None);
        assert_eq!(find_hash(&[(7, 0)], 7), Some(0));
        assert_eq!(find_hash(&[(7, 0)], 8), None);
        assert_eq!(find_hash(&[(7, 0)], 6), None);
    }
}
