//! # Exercise 12 · Build your own: a Semaphore from a Lock and a Condition (solution)
//!
//! A semaphore is a counter of free permits plus a way to wait for one. The counter lives
//! behind a `Lock`; the waiting is a `Condition` over that lock.
//!
//! ## Why this works
//!
//! Every look at the count and every change to it happens under the one lock, so the
//! count is never read stale or updated twice (exercise 2): two threads cannot both see the
//! last permit and both take it.
//!
//! `acquire` decides to sleep in the same critical section in which it saw 0, and
//! `wait_while` puts it on the waiting list before it lets go of the lock (exercise 11):
//! a `release` comes either before the look (and the permit is seen) or after the thread is
//! listed (and its notify reaches it). After waking, `wait_while` looks again (exercise 6):
//! between the notify and the wake-up another thread may have taken the lock and the permit
//! with it (a plain `try_acquire`, say), and then this thread must sleep again.
//!
//! `release` notifies *one* waiter, for the one permit it added: a permit can satisfy one
//! waiter only, so waking all of them would only make the rest look and sleep again.
//! Forgetting the notify is the classic bug: the permit is free, the waiter sleeps next to
//! it forever, and the explorer's second scenario shows exactly that schedule.
//!
//! Notifying while still holding the lock is fine here: the woken thread cannot run
//! until the guard is dropped a moment later, and the notify cannot be lost because the
//! waiter is already listed.

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
        self.freed.notify(1); // one permit, one waiter
    }

    /// Free permits now.
    pub fn available(&self) -> usize {
        *self.permits.acquire()
    }
}
