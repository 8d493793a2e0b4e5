//! Mutant `look_then_wait_apart` of solutions/exercise_12.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: look with `available()`, then take the lock to wait, then take it again to take
//! the permit.
//! Why it fails: three critical sections where there must be one: a release can fall between
//! the look and the wait (a lost wake-up), or two threads take the same permit (check
//! `every_schedule_keeps_count_and_wakes_waiters`).
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
        while self.available() == 0 {
            let mut permits = self.permits.acquire();
            self.freed.wait(&mut permits);
        }
        *self.permits.acquire() -= 1;
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
