//! # Exercise 8 · Lock-order inversion: the deadlock that did not happen this run
//!
//! `transfer(a, b)` locks a, then b. `transfer(b, a)` locks b, then a. Run one after the
//! other and nothing goes wrong; run them at the same moment and each can hold its first
//! lock while waiting for the other's: a deadlock. Most runs are fine, so tests pass and
//! production hangs once a month.
//!
//! The cause is visible in *every* run, though: two locks taken in both orders. synckit
//! records a lock-order graph (like the Linux kernel's lockdep): an edge A → B the first
//! time B is taken while A is held. An edge that closes a cycle is reported as a
//! lock-order inversion, with the lines of every edge, even though nothing deadlocked.
//!
//! Lock *classes* go one step further: `Account::in_class` puts every account's lock in
//! the class `ex8-account`, one node of the graph for all of them, so an order learned on
//! two accounts applies to every account. Taking two locks of one class then needs a
//! declared nesting level: the second one with `acquire_nested(1)`.
//!
//! ## What to do
//!
//! Make `transfer` take the two locks in one global order: the account with the lower `id`
//! first, whatever the direction of the transfer; take the second with `acquire_nested(1)`.
//! A transfer from an account to itself can simply do nothing.
//!
//! `cargo test exercise_8` checks it; `cargo run -- hint 8` if you are stuck.

use synckit::Lock;

/// A bank account with a unique id.
pub struct Account {
    /// Unique per account: the lock order.
    pub id: u32,
    /// The balance.
    pub balance: Lock<i64>,
}

impl Account {
    /// An account whose lock is its own node in the lock-order graph.
    pub fn new(id: u32, balance: i64) -> Self {
        Account {
            id,
            balance: Lock::new(balance).named(&format!("account-{id}")),
        }
    }

    /// An account whose lock is in the lock class `ex8-account`, with every other account
    /// made this way.
    pub fn in_class(id: u32, balance: i64) -> Self {
        Account {
            id,
            balance: Lock::new(balance)
                .named(&format!("account-{id}"))
                .class("ex8-account"),
        }
    }
}

/// Moves `amount` from `from` to `to`, holding both accounts' locks.
pub fn transfer(from: &Account, to: &Account, amount: i64) {
    // TODO: the locks are taken in argument order, so transfer(a, b) and transfer(b, a)
    // take them in opposite orders. Take the lower id first, the other with acquire_nested(1).
    let mut source = from.balance.acquire();
    let mut target = to.balance.acquire();
    *source -= amount;
    *target += amount;
}
