//! Mutant `richer_first` of solutions/exercise_8.rs: a wrong fix, kept so that the course shows
//! its checks catch it.
//!
//! Wrong fix: take the richer account's lock first.
//! Why it fails: balances change, so the order changes: after 1→2 the second transfer takes
//! account-2 first, and the detector sees both orders (check
//! `opposite_transfers_one_after_the_other`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
    // The richer account first: an order every transfer can agree on?
    let richer_from = *from.balance.acquire() >= *to.balance.acquire();
    let (first, second) = if richer_from { (from, to) } else { (to, from) };
    let mut first_balance = first.balance.acquire();
    let mut second_balance = second.balance.acquire_nested(1); // 2nd lock of the class
    // The money flows from `from` to `to`: first -> second, or back.
    let flow = if first.id == from.id { amount } else { -amount };
    *first_balance -= flow;
    *second_balance += flow;
}
