//! # Exercise 11 · Lost wake-ups: a flag and a Condition
//!
//! A condition variable has no memory. `notify_all` wakes the threads that are waiting *at
//! that moment*; a thread that starts waiting a moment later missed it and sleeps until the
//! next notify, which may never come. So the decision to sleep must never rest on old news:
//! look at the flag and go to sleep inside *one* critical section (`wait` releases the lock
//! only once you are on the waiting list), and look again whenever you wake up. Or let a
//! primitive remember for you: an `Event` is a flag that a late waiter still sees.
//!
//! The gate below opens once (say, when the configuration has loaded) and workers wait at
//! it. `wait` looks first, in a critical section of its own, and only then takes the lock
//! again to sleep: `open` can run in the gap, and its `notify_all` finds nobody waiting.
//!
//! ## How the check makes it fail every time
//!
//! Only one interleaving out of many loses the wake-up, so running the threads and hoping
//! would catch it once in a blue moon. The check runs them under
//! `synckit::testing::explore` instead: one thread at a time, switching only at synckit
//! operations, through *every* schedule with at most 2 preemptions. It finds the bad one on
//! every run, shrinks it, and prints it as one column per thread.
//!
//! ## What to do
//!
//! Fix `Gate::wait`. Two ways: keep the `Lock<bool>` and wait with a predicate in one
//! critical section (`wait_for` / `wait_while`), or rebuild the gate around an `Event`.
//!
//! `cargo test exercise_11` checks it; `cargo run -- hint 11` if you are stuck.

use synckit::{Condition, Lock};

/// A gate that opens once; threads wait at it until it does.
pub struct Gate {
    /// Whether the gate is open.
    open: Lock<bool>,
    /// Notified when the gate opens.
    opened: Condition,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Gate {
            open: Lock::new(false).named("gate"),
            opened: Condition::new().named("opened"),
        }
    }

    /// Opens the gate: every thread waiting at it goes through, and so does every later one.
    pub fn open(&self) {
        let mut open = self.open.acquire();
        *open = true;
        self.opened.notify_all();
    }

    /// Whether the gate is open now.
    pub fn is_open(&self) -> bool {
        *self.open.acquire()
    }

    /// Waits until the gate is open; returns at once if it already is.
    pub fn wait(&self) {
        // TODO: the look and the sleep are two critical sections. If `open` runs between
        // them, its notify_all wakes nobody, and this thread sleeps forever on old news.
        if self.is_open() {
            return;
        }
        let mut open = self.open.acquire();
        self.opened.wait(&mut open);
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}
