//! # Exercise 8 · Lock-order inversion: the deadlock that did not happen this run (solution)
//!
//! `transfer(a, b)` locks a, then b. `transfer(b, a)` locks b, then a. Run one after the
//! other and nothing goes wrong; run them at the same moment and each can hold its first
//! lock while waiting for the other's: a deadlock. The cause is visible in every run: two
//! locks taken in both orders, which synckit's lock-order graph reports.
//!
//! ## Why this works
//!
//! Whatever the direction of the money, the locks are taken in one global order: lower id
//! first. Two transfers between the same accounts now want the same lock first, so one of
//! them waits *before* holding anything the other needs: no cycle can form, and the
//! lock-order graph only ever sees edges from lower to higher ids.
//!
//! For accounts in a lock class, every account is one node of the graph, so "account then
//! account" looks like a lock taken inside itself. `acquire_nested(1)` says: this is the
//! second lock of the class I hold, and I order them myself (here by id). The detector then
//! records class/0 → class/1 and stays quiet; the id order is what makes that promise true.
//!
//! A transfer to the same account returns early: taking its lock twice would be exercise
//! 3's re-entrant acquire.

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
    if from.id == to.id {
        return;
    }
    // One global order: lower id first, whatever the direction of the transfer.
    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };
    let mut first_balance = first.balance.acquire();
    let mut second_balance = second.balance.acquire_nested(1); // 2nd lock of the class
    // The money flows from `from` to `to`: first -> second, or back.
    let flow = if first.id == from.id { amount } else { -amount };
    *first_balance -= flow;
    *second_balance += flow;
}
