//! Mutant `let_go_between_look_and_wait` of solutions/exercise_11.rs: a wrong fix, kept so that
//! the course shows its checks catch it.
//!
//! Wrong fix: look under the lock, let go of it, then take it again to wait.
//! Why it fails: the gate can open in the gap: its notify wakes nobody, and the worker then
//! sleeps forever (check `no_schedule_loses_the_wake_up`).
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
        let open = self.open.acquire();
        if *open {
            return;
        }
        drop(open);
        let mut open = self.open.acquire();
        self.opened.wait(&mut open);
    }
}

impl Default for Gate {
    fn default() -> Self {
        Gate::new()
    }
}
