//! # Exercise 12 · Build your own: a Semaphore from a Lock and a Condition
//!
//! A semaphore is a counter of free permits plus a way to wait for one. The counter lives
//! behind a `Lock`; the waiting is a `Condition` over that lock. `acquire` takes the lock,
//! waits while the count is 0 (a predicate, looked at again after every wake-up), then
//! takes a permit. `release` gives one back and notifies a waiter: a release that forgets
//! to notify leaves a waiter asleep next to a free permit. One `notify(1)` per permit is
//! enough, because each permit can satisfy exactly one waiter.
//!
//! ## How the checks judge it
//!
//! Two ways, the two tools of `synckit::testing`. First, sequences of operations (acquire,
//! try_acquire, release, available) are run one at a time through your semaphore and
//! through `testing::SemaphoreModel`, synckit's model of what a semaphore must do, and
//! compared step by step. Then `testing::explore_semaphore` runs threads against it under
//! every schedule with at most 2 preemptions: never more holders than permits, no permit
//! lost, and a release always wakes a waiter. A bug that needs an unlucky interleaving
//! is found on every run, and printed as one column per thread.
//!
//! ## What to do
//!
//! Write the four methods where they say `todo!()`. Keep the fields: a `Lock<usize>` of
//! free permits and a `Condition` to wait on.
//!
//! `cargo test exercise_12` checks it; `cargo run -- hint 12` if you are stuck.

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
        // TODO: take the lock, wait on `freed` while there are no free permits (a predicate,
        // not a single look), then take one.
        todo!("Semaphore::acquire")
    }

    /// Takes a permit if one is free, without waiting; says whether it did.
    pub fn try_acquire(&self) -> bool {
        // TODO: like `acquire`, but where `acquire` would wait, give up and say `false`.
        todo!("Semaphore::try_acquire")
    }

    /// Gives a permit back (any thread may), waking a thread that waits for one.
    pub fn release(&self) {
        // TODO: one more free permit, and a notify for a waiter.
        todo!("Semaphore::release")
    }

    /// Free permits now.
    pub fn available(&self) -> usize {
        // TODO: read the count.
        todo!("Semaphore::available")
    }
}
