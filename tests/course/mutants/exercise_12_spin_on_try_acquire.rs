//! Mutant `spin_on_try_acquire` of solutions/exercise_12.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: `acquire` as `while !self.try_acquire() {}`.
//! Why it fails: a spinning thread never sleeps: when the holder does not get to run, it spins
//! forever (a livelock) (check `every_schedule_keeps_count_and_wakes_waiters`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

use synckit::{Condition, Lock};

/// A counting semaphore (Python's `threading.Semaphore`), built from a Lock and a Condition.
pub struct Semaphore {
    /// Free permits.
    permits: Lock<usize>,
    /// Notified when a permit comes back.
    freed: Condition,
}

impl Semaphore {
    /// A semaphore with `permits` free permits.
    pub fn new(permits: usize) -> Self {
        Semaphore {
            permits: Lock::new(permits).named("permits"),
            freed: Condition::new().named("freed"),
        }
    }

    /// Takes a permit, waiting while there is none.
    pub fn acquire(&self) {
        while !self.try_acquire() {}
    }

    /// Takes a permit if one is free, without waiting; says whether it did.
    pub fn try_acquire(&self) -> bool {
        let mut permits = self.permits.acquire();
        if *permits == 0 {
            return false;
        }
        *permits -= 1;
        true
    }

    /// Gives a permit back (any thread may), waking a thread that waits for one.
    pub fn release(&self) {
        let mut permits = self.permits.acquire();
        *permits += 1;
        self.freed.notify(1); // one permit, one waiter
    }

    /// Free permits now.
    pub fn available(&self) -> usize {
        *self.permits.acquire()
    }
}
