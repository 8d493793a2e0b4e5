//! How the next thread is picked where more than one can run: a seeded generator, the
//! choosers (random, a DFS prefix, deviations from the default schedule) and the record of
//! each decision, with what it costs in preemptions.

use std::collections::HashMap;

/// A small, fast, seedable generator (splitmix64): schedules replay from a printed seed.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub(super) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// How the next thread is picked where more than one can run.
pub(crate) enum Chooser {
    /// Uniformly at random.
    Random(Rng),
    /// The i-th decision takes `prefix[i]`; the default schedule after it (DFS), avoiding
    /// the threads of the sleep set, which starts as `sleep` after the prefix (see
    /// [`Footprint`]; empty without the partial-order reduction).
    Prefix {
        prefix: Vec<usize>,
        sleep: Vec<(usize, Footprint)>,
    },
    /// The default schedule, except where a deviation keyed `(thread, its n-th decision)`
    /// names a runnable thread (replay and shrinking).
    Deviations(HashMap<(usize, u32), usize>),
}

impl Chooser {
    pub(super) fn pick(
        &mut self,
        index: usize,
        key: (usize, u32),
        runnable: &[usize],
        default: usize,
    ) -> (usize, bool) {
        match self {
            Chooser::Random(rng) => (runnable[rng.below(runnable.len())], false),
            Chooser::Prefix { prefix, .. } => match prefix.get(index) {
                Some(t) if runnable.contains(t) => (*t, false),
                Some(_) => (default, true),
                None => (default, false),
            },
            Chooser::Deviations(map) => match map.get(&key) {
                Some(t) if runnable.contains(t) => (*t, false),
                _ => (default, false),
            },
        }
    }
}

/// What a thread's next step touches, for the partial-order reduction: two steps of two
/// threads that touch different primitives commute (either order leaves the same state), so
/// a search need not try both orders. Code between synckit operations is invisible and
/// assumed not to race (the explorer's model: threads switch only at synckit operations); a
/// step that may touch anything (a yield point, a thread's start, a scope's end) is `Any`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Footprint {
    /// One primitive, by its detector id.
    Res(u64),
    /// Another thread's life, by slot: a join waits for its end, a spawn begins it. Any step
    /// of that thread may be its last, so it commutes with none of them.
    Thread(usize),
    /// Anything: commutes with nothing.
    Any,
}

impl Footprint {
    /// Whether `a`'s next step, by thread `ta`, commutes with `b`'s, by thread `tb`.
    pub fn independent(ta: usize, a: Footprint, tb: usize, b: Footprint) -> bool {
        if ta == tb {
            return false;
        }
        match (a, b) {
            (Footprint::Any, _) | (_, Footprint::Any) => false,
            (Footprint::Res(x), Footprint::Res(y)) => x != y,
            (Footprint::Thread(x), Footprint::Thread(y)) => x != tb && y != ta,
            (Footprint::Thread(x), Footprint::Res(_)) => x != tb,
            (Footprint::Res(_), Footprint::Thread(y)) => y != ta,
        }
    }
}

/// One place where more than one thread could run, as the run took it.
#[derive(Clone, Debug)]
pub(crate) struct Decision {
    /// The thread that held the baton.
    pub me: usize,
    /// Its how-many-th decision this was (with `me`: the deviation key).
    pub nth: u32,
    /// The threads that could run, when the search asked for them (a depth-first search
    /// branches on them; other searches leave this empty).
    pub runnable: Vec<usize>,
    /// What each of `runnable`'s next step touches (same order; with `runnable` only).
    pub pending: Vec<Footprint>,
    /// The sleep set here, as the run kept it after its prefix (a depth-first search only).
    pub sleep: Vec<(usize, Footprint)>,
    /// What the default schedule picks: `me` at an ordinary point; the next thread after
    /// `me` (cyclically) at a yield point or when `me` blocked or finished.
    pub default: usize,
    pub chosen: usize,
    /// `me` could have gone on (an ordinary point or a yield point).
    pub me_runnable: bool,
    /// The point was a `yield_point()`.
    pub yielding: bool,
}

impl Decision {
    /// What `t`'s next step touches here (`Any` if unknown).
    pub fn footprint(&self, t: usize) -> Footprint {
        self.runnable
            .iter()
            .position(|&r| r == t)
            .and_then(|i| self.pending.get(i).copied())
            .unwrap_or(Footprint::Any)
    }

    /// Preemptions it costs to pick `t` here: switching away from a thread that could go on
    /// costs one, except at a yield point, where *staying* costs one (the thread asked to let
    /// the others go first; a decision is recorded only where another thread could run).
    /// Switches forced by a block or an exit are free.
    pub fn cost(&self, t: usize) -> u32 {
        if !self.me_runnable {
            0
        } else if self.yielding {
            u32::from(t == self.me)
        } else {
            u32::from(t != self.me)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_reproducible_and_spreads() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(7);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        let mut r = Rng::new(1);
        let mut seen = [false; 3];
        for _ in 0..64 {
            seen[r.below(3)] = true;
        }
        assert_eq!(seen, [true; 3]);
    }

    #[test]
    fn steps_on_different_primitives_commute_and_nothing_else_does() {
        let indep = Footprint::independent;
        let (a, b) = (Footprint::Res(1), Footprint::Res(2));
        assert!(indep(0, a, 1, b) && indep(1, b, 0, a));
        assert!(
            !indep(0, a, 1, a),
            "two steps on one primitive do not commute"
        );
        assert!(!indep(0, a, 0, b), "nor two steps of one thread");
        assert!(!indep(0, a, 1, Footprint::Any) && !indep(0, Footprint::Any, 1, b));
        // Joining thread 2 commutes with thread 1's steps, not with thread 2's (its last
        // step may be its exit).
        let join2 = Footprint::Thread(2);
        assert!(indep(0, join2, 1, a));
        assert!(!indep(0, join2, 2, a) && !indep(2, a, 0, join2));
    }

    #[test]
    fn preemption_costs_follow_the_rules() {
        let d = Decision {
            me: 0,
            nth: 0,
            runnable: vec![0, 1],
            pending: Vec::new(),
            sleep: Vec::new(),
            default: 0,
            chosen: 0,
            me_runnable: true,
            yielding: false,
        };
        assert_eq!(
            (d.cost(0), d.cost(1)),
            (0, 1),
            "leaving a runnable thread costs one"
        );
        let y = Decision {
            yielding: true,
            default: 1,
            ..d.clone()
        };
        assert_eq!(
            (y.cost(0), y.cost(1)),
            (1, 0),
            "staying at a yield point costs one"
        );
        let forced = Decision {
            me_runnable: false,
            runnable: vec![1, 2],
            ..d
        };
        assert_eq!(
            (forced.cost(1), forced.cost(2)),
            (0, 0),
            "a forced switch is free"
        );
    }
}
