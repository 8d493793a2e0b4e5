//! # Exercise 6 · Condition: a bounded producer/consumer queue (solution)
//!
//! A condition variable lets a thread sleep until shared state changes. You hold the lock,
//! look at the state, and if it is not what you need you `wait`: the lock is released while
//! you sleep and taken back before `wait` returns. Whoever changes the state notifies.
//!
//! ## Why this works
//!
//! 1. `get` re-checks after every wake-up (`while`). When one item wakes two consumers, the
//!    first to get the lock takes it; the second finds the queue empty, and instead of
//!    returning `None` as if the queue were closed, goes back to sleep until the next item.
//!    (`self.changed.wait_while(&mut state, |s| s.items.is_empty() && !s.closed)` is the
//!    same loop in one call.)
//! 2. `close` uses `notify_all`: closing is news for every consumer, so every one of them
//!    wakes, sees `closed`, and returns `None`. With `notify(1)` the others would sleep on
//!    a queue that will never change again, and the closed world reports them all blocked.
//!
//! `notify_all` in `put` and `get` too: producers and consumers sleep on the same Condition,
//! so a `notify(1)` may wake a thread of the wrong kind (a consumer, when the change is room
//! for a producer), which finds nothing for it and sleeps again, while the one who could
//! have used the change sleeps on: the check with two producers and two consumers finds that
//! schedule. `notify(1)` is right only when every waiter can use the change (one Condition
//! per kind of waiter: `not_empty` and `not_full`). When in doubt, `notify_all`: extra
//! waiters wake, look, and sleep again.

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
        while state.items.is_empty() && !state.closed {
            self.changed.wait(&mut state); // woken: look again
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
