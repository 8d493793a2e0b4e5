//! Mutant `sleep_first` of solutions/exercise_11.rs: a wrong fix, kept so that the course shows
//! its checks catch it.
//!
//! Wrong fix: sleep a moment before looking, so the loader opens the gate first.
//! Why it fails: a sleep changes no interleaving: under the explorer the gate can still open
//! between the look and the wait (check `no_schedule_loses_the_wake_up`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
        std::thread::sleep(std::time::Duration::from_millis(1)); // the loader goes first
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
