//! # Exercise 6 · Condition: a bounded producer/consumer queue
//!
//! A condition variable lets a thread sleep until shared state changes. You hold the lock,
//! look at the state, and if it is not what you need you `wait`: the lock is released while
//! you sleep and taken back before `wait` returns. Whoever changes the state notifies.
//!
//! Two rules make it correct:
//! 1. **`while`, not `if`.** Waking up means "something changed, look again". Between the
//!    notify and your wake-up another consumer may take the lock first and take the item
//!    you were woken for.
//! 2. **Notify everyone who must hear.** `notify(1)` wakes one waiter. If the news is for
//!    all of them (the queue is closed), the others sleep forever: a lost wake-up.
//!
//! ## How the checks make it fail every time
//!
//! The checks run the producers and consumers under synckit's explorer
//! (`synckit::testing::explore`): one thread at a time, switching only at synckit operations,
//! through every schedule within a small bound, the same ones on every run. The first
//! schedule already lines the consumers up asleep on the condition before anything arrives;
//! the others try the rest. A bug that needs one bad interleaving fails every run.
//!
//! ## What to do
//!
//! `put` is done (read it: it waits in a `while` loop). Fix `get` (rule 1) and `close`
//! (rule 2).
//!
//! `cargo test exercise_6` checks it; `cargo run -- hint 6` if you are stuck.

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
        // TODO (rule 1): `if` checks once. After waking, the queue may be empty again.
        if state.items.is_empty() && !state.closed {
            self.changed.wait(&mut state);
        }
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
        // TODO (rule 2): every waiting consumer must hear that the queue is closed.
        self.changed.notify(1);
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
