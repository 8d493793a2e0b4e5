//! A map keyed by the detector's own ids, hashed with one multiply.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Hashes the detector's own ids (thread and resource ids, small sequential integers) with
/// one multiply: SipHash's protection against chosen keys buys nothing for ids we hand out,
/// and its cost showed on the contended path, which looks these maps up on every park.
#[derive(Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u64(&mut self, id: u64) {
        // Fibonacci hashing: spreads sequential ids over the high bits hashbrown reads.
        self.0 = (self.0.rotate_left(5) ^ id).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by detector ids.
pub(crate) type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;
