//! Mutant `release_without_notify` of solutions/exercise_12.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: `release` adds the permit but does not notify.
//! Why it fails: a thread asleep in `acquire` is never told that a permit came back: it sleeps
//! forever (check `every_schedule_keeps_count_and_wakes_waiters`).
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
        let mut permits = self.permits.acquire();
        self.freed.wait_while(&mut permits, |free| *free == 0); // looked at under the lock
        *permits -= 1;
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
    }

    /// Free permits now.
    pub fn available(&self) -> usize {
        *self.permits.acquire()
    }
}
