//! # Exercise 11 · Lost wake-ups: a flag and a Condition (solution)
//!
//! A condition variable has no memory. `notify_all` wakes the threads that are waiting *at
//! that moment*; a thread that starts waiting a moment later missed it and sleeps until the
//! next notify, which may never come. So the decision to sleep must never rest on old news.
//!
//! ## Why this works
//!
//! `wait` takes the lock once and keeps it from the look to the sleep. `open` needs the same
//! lock to set the flag, so it runs either before the look (the waiter sees `true` and never
//! sleeps) or after the waiter is on the condition's waiting list (`wait` puts it there
//! before it releases the lock), where its `notify_all` reaches it. There is no third
//! place for it to run any more: the gap is gone.
//!
//! `wait_for` also looks again after every wake-up, so a wake-up that is not about the
//! gate (another notify on the same condition) sends the thread back to sleep instead of
//! through a closed gate.
//!
//! The other fix is an `Event`, which *is* a flag with waiting built in: `set()` is
//! remembered, so a `wait()` that comes later returns at once. The whole gate becomes
//! `opened: Event` with `open = set`, `is_open = is_set` and `wait = wait`. Reach for an
//! Event when the news is a one-way flag; keep Lock + Condition when waiters need a richer
//! predicate over shared state (a queue's length, a count of free permits).

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
        let mut open = self.open.acquire();
        // One critical section from the look to the sleep, and a look after every wake-up.
        self.opened.wait_for(&mut open, |open| *open);
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}
