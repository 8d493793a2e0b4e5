//! The per-thread caches that let a nested acquire skip the order graph: which edges this
//! thread has registered already. A hit means an edge with this very key (predecessor, new
//! lock, gates) is in the graph, so the caches change what an acquire costs, not what the
//! detector reports. (The edge cache folds the gates into one 64-bit sum of mixed ids; two
//! gate sets share a key only by a collision of that sum. The known chain compares ids.)

use crate::detector::registry::Hold;

const CACHE_SLOTS: usize = 512;

/// Per-thread cache of order edges already registered in the global graph: direct-mapped,
/// a fixed array (so a probe has no bounds check).
pub(crate) struct EdgeCache {
    slots: [(u64, u64, u64); CACHE_SLOTS],
}

impl Default for EdgeCache {
    fn default() -> Self {
        EdgeCache {
            slots: [(0, 0, 0); CACHE_SLOTS],
        }
    }
}

impl EdgeCache {
    #[inline(always)]
    fn slot(key: (u64, u64, u64)) -> usize {
        let mixed = key.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ key.1.wrapping_mul(0xC2B2_AE3D_27D4_EB4F).rotate_left(17)
            ^ key.2;
        (mixed >> 40) as usize % CACHE_SLOTS
    }

    #[inline(always)]
    pub fn contains(&self, key: (u64, u64, u64)) -> bool {
        self.slots[Self::slot(key)] == key
    }

    pub fn insert(&mut self, key: (u64, u64, u64)) {
        self.slots[Self::slot(key)] = key;
    }
}

/// The last chain of plain locks (no class, no subclass) a thread took one inside another,
/// outermost first, with the steps known to be registered order edges.
///
/// Step `d` is known when taking `ids[d]` while holding exactly `ids[..d]`, in that order, has
/// registered its edge: its predecessor is `ids[d - 1]` and its gates are `ids[..d - 1]`, the
/// whole key of the order graph's edge (`lock_order::edge_key` depends on nothing else, and
/// ids are never reused). So a nested acquire that matches a known step needs no order probe,
/// however deep: the 4-level nest costs what the 2-level one does per level.
#[derive(Clone, Copy)]
pub(crate) struct KnownChain {
    /// The chain, outermost lock first: the prefix a deeper step is taken under.
    ids: [u64; KnownChain::LEN],
    /// `ids[d]` where step `d` is known, 0 where it is not (ids are never 0; `known[0]` is
    /// always 0: the outermost lock has no edge). Apart from `ids` so that a depth-1 probe
    /// is two compares.
    known: [u64; KnownChain::LEN],
}

impl KnownChain {
    const LEN: usize = 8;
    pub const EMPTY: KnownChain = KnownChain {
        ids: [0; KnownChain::LEN],
        known: [0; KnownChain::LEN],
    };

    /// Whether taking `id` with `holds` held is a known step.
    #[inline(always)]
    pub fn knows(&self, holds: &[Hold], id: u64) -> bool {
        match holds {
            // The common nest, two compares (the general loop costs 8 instructions more).
            [only] => self.known[1] == id && self.ids[0] == only.resource.id,
            _ => {
                let Some(&step) = self.known.get(holds.len()) else {
                    return false;
                };
                step == id
                    && holds
                        .iter()
                        .zip(&self.ids)
                        .all(|(h, &k)| h.resource.id == k)
            }
        }
    }

    /// Records that taking `id` with `holds` held has registered its edge. Callers check that
    /// `holds` are plain locks and `id` is one.
    pub fn remember(&mut self, holds: &[Hold], id: u64) {
        let depth = holds.len();
        if depth == 0 || depth >= Self::LEN {
            return;
        }
        // A step stays known only while everything outside it is unchanged.
        if let Some(first) = (0..depth).find(|&j| self.ids[j] != holds[j].resource.id) {
            for (slot, h) in self.ids[first..depth].iter_mut().zip(&holds[first..]) {
                *slot = h.resource.id;
            }
            self.known[first..].fill(0);
        }
        if self.ids[depth] != id {
            self.ids[depth] = id;
            self.known[depth..].fill(0);
        }
        self.known[depth] = id;
    }
}

#[cfg(test)]
mod tests {
    use std::panic::Location;

    use super::*;
    use crate::detector::resource::{Kind, ResourceInfo};

    #[test]
    fn the_edge_cache_remembers_exact_keys_only() {
        let mut cache = EdgeCache::default();
        assert!(!cache.contains((1, 2, 0)));
        cache.insert((1, 2, 0));
        assert!(cache.contains((1, 2, 0)));
        assert!(!cache.contains((2, 1, 0)), "direction matters");
        assert!(!cache.contains((1, 2, 7)), "gates matter");
    }

    /// Holds of plain locks with these ids, outermost first.
    fn holds(ids: &[u64]) -> Vec<Hold> {
        ids.iter()
            .map(|&id| Hold {
                resource: ResourceInfo {
                    id,
                    name: None,
                    class: None,
                    created: Location::caller(),
                    kind: Kind::Lock,
                },
                site: Location::caller(),
                counted: 1,
                tag: 0,
            })
            .collect()
    }

    #[test]
    fn a_known_step_is_known_only_under_the_same_locks() {
        let mut chain = KnownChain::EMPTY;
        assert!(!chain.knows(&holds(&[1]), 2), "nothing is known at first");
        chain.remember(&holds(&[1, 2]), 3);
        assert!(chain.knows(&holds(&[1, 2]), 3));
        // Same predecessor, other gates (or none): a different edge key.
        assert!(!chain.knows(&holds(&[9, 2]), 3));
        assert!(!chain.knows(&holds(&[2]), 3));
        assert!(!chain.knows(&holds(&[1, 2, 4]), 3));
        // The outer steps were not registered by this call: not known.
        assert!(!chain.knows(&holds(&[1]), 2));
    }

    #[test]
    fn outer_steps_stay_known_while_the_chain_grows() {
        let mut chain = KnownChain::EMPTY;
        chain.remember(&holds(&[1]), 2);
        chain.remember(&holds(&[1, 2]), 3);
        chain.remember(&holds(&[1, 2, 3]), 4);
        assert!(chain.knows(&holds(&[1]), 2));
        assert!(chain.knows(&holds(&[1, 2]), 3));
        assert!(chain.knows(&holds(&[1, 2, 3]), 4));
        // Another lock at depth 2: the deeper step, taken under 3, is forgotten; the outer
        // ones stay.
        chain.remember(&holds(&[1, 2]), 5);
        assert!(chain.knows(&holds(&[1, 2]), 5));
        assert!(!chain.knows(&holds(&[1, 2, 3]), 4));
        assert!(!chain.knows(&holds(&[1, 2, 5]), 4));
        assert!(!chain.knows(&holds(&[1, 2]), 3), "one step per depth");
        assert!(chain.knows(&holds(&[1]), 2));
    }

    #[test]
    fn a_changed_prefix_forgets_every_step_from_it() {
        let mut chain = KnownChain::EMPTY;
        chain.remember(&holds(&[1]), 2);
        chain.remember(&holds(&[1, 2]), 3);
        // Released out of order: 1 then 3 held, taking 4. The step 1 -> 3 was never taken
        // with nothing between them, so it must not become known on the way.
        chain.remember(&holds(&[1, 3]), 4);
        assert!(chain.knows(&holds(&[1, 3]), 4));
        assert!(!chain.knows(&holds(&[1]), 3));
        assert!(
            !chain.knows(&holds(&[1]), 2),
            "one lock per depth: 3 took 2's place"
        );
        chain.remember(&holds(&[1]), 2);
        chain.remember(&holds(&[7, 3]), 4);
        assert!(!chain.knows(&holds(&[1]), 2), "its prefix changed");
        assert!(!chain.knows(&holds(&[1, 3]), 4));
        assert!(chain.knows(&holds(&[7, 3]), 4));
    }

    #[test]
    fn nests_deeper_than_the_chain_are_never_known() {
        let mut chain = KnownChain::EMPTY;
        let deep: Vec<u64> = (1..=KnownChain::LEN as u64).collect();
        chain.remember(&holds(&deep), 100);
        assert!(!chain.knows(&holds(&deep), 100));
        chain.remember(&holds(&[]), 100);
        assert!(!chain.knows(&holds(&[]), 100));
    }
}
