//! A stable 64-bit hash of movement ids: the key of the idempotency index.
//!
//! Stable across processes and versions (it is stored in snapshots), so not the randomised
//! hasher of `std`. Collisions are harmless: a hit is confirmed against the original record.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x9E37_79B9_7F4A_7C15;

fn mix(mut x: u64) -> u64 {
    // splitmix64's finaliser.
    x ^= x >> 30;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Hash of a movement id.
pub fn id_hash(id: &str) -> u64 {
    let bytes = id.as_bytes();
    let mut h = mix(K.wrapping_add(bytes.len() as u64));
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
        h = mix(h ^ w).wrapping_add(K);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut buf = [0u8; 8];
        buf[..rest.len()].copy_from_slice(rest);
        h = mix(h ^ u64::from_le_bytes(buf)).wrapping_add(K);
    }
    mix(h)
}

/// A hasher for keys that are already hashes.
#[derive(Default)]
pub struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

pub type PassThroughBuild = BuildHasherDefault<PassThrough>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_stable_and_spreads() {
        assert_eq!(id_hash("m000000001"), id_hash("m000000001"));
        assert_ne!(id_hash("m000000001"), id_hash("m000000002"));
        assert_ne!(id_hash(""), id_hash("\0"));
        let mut seen = std::collections::HashSet::new();
        for i in 0..100_000 {
            assert!(seen.insert(id_hash(&format!("m{i:09}"))));
        }
    }
}
