//! Variant `alternative_wait_while` of solutions/exercise_6.rs: another accepted fix, kept so
//! that the course shows its checks let it pass.
//!
//! Accepted fix: `wait_while` in `get` instead of the `while` loop.
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

use std::collections::VecDeque;

use synckit::{Condition, Lock};

struct State<T> {
    items: VecDeque<T>,
    closed: bool,
}

/// A queue of at most `capacity` items, for several producers and consumers.
pub struct Queue<T> {
    state: Lock<State<T>>,
    changed: Condition,
    capacity: usize,
}

impl<T> Queue<T> {
    /// An empty, open queue.
    pub fn new(capacity: usize) -> Self {
        Queue {
            state: Lock::new(State {
                items: VecDeque::new(),
                closed: false,
            })
            .named("queue"),
            changed: Condition::new().named("changed"),
            capacity,
        }
    }

    /// Adds an item at the back, waiting while the queue is full.
    pub fn put(&self, item: T) {
        let mut state = self.state.acquire();
        while state.items.len() == self.capacity {
            self.changed.wait(&mut state);
        }
        state.items.push_back(item);
        self.changed.notify_all(); // consumers waiting for an item
    }

    /// Takes the oldest item, waiting while the queue is empty. `None` once the queue is
    /// closed and empty.
    pub fn get(&self) -> Option<T> {
        let mut state = self.state.acquire();
        self.changed
            .wait_while(&mut state, |s| s.items.is_empty() && !s.closed);
        let item = state.items.pop_front();
        if item.is_some() {
            self.changed.notify_all(); // producers waiting for room
        }
        item
    }

    /// Closes the queue: consumers take what is left, then get `None`.
    pub fn close(&self) {
        let mut state = self.state.acquire();
        state.closed = true;
        self.changed.notify_all(); // news for every waiter
    }

    /// How many threads are asleep on the condition right now (not yet notified).
    pub fn waiting(&self) -> usize {
        self.changed.waiters()
    }

    /// How many items are in the queue right now.
    pub fn len(&self) -> usize {
        self.state.acquire().items.len()
    }
}
