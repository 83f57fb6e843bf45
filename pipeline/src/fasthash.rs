//! A fast, deterministic hasher for the in-memory state's maps (session ids, user ids).
//!
//! The standard `RandomState` (SipHash with a random key) guards against hash flooding; the
//! state's keys come from the input, but a slow path there only costs time, never a wrong
//! view. This is the multiply-rotate hash of `rustc-hash` (FxHash), 8 bytes at a time; the
//! same key always hashes the same, in every process.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

/// FxHash.
#[derive(Clone, Copy, Debug, Default)]
pub struct FxHasher {
    hash: u64,
}

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in chunks.by_ref() {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            for (w, b) in word.iter_mut().zip(rest) {
                *w = *b;
            }
            self.add(u64::from_le_bytes(word));
        }
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// Builds [`FxHasher`]s.
pub type FxBuild = BuildHasherDefault<FxHasher>;

/// A `HashMap` with [`FxHasher`].
pub type FastMap<K, V> = HashMap<K, V, FxBuild>;

/// A `HashSet` with [`FxHasher`].
pub type FastSet<K> = HashSet<K, FxBuild>;

#[cfg(test)]
mod tests {
    use std::hash::BuildHasher;

    use super::*;

    #[test]
    fn stable_and_spread() {
        let b = FxBuild::default();
        assert_eq!(b.hash_one("s-u-0001-001"), b.hash_one("s-u-0001-001"));
        let mut seen = HashSet::new();
        for u in 0..10_000 {
            seen.insert(b.hash_one(format!("s-u-{u:04}-001")) >> 50);
        }
        // 14 top bits over 10,000 keys: most buckets distinct.
        assert!(seen.len() > 4_000, "{}", seen.len());
    }
}
