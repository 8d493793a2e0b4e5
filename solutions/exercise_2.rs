//! # Exercise 2 · Race condition: check-then-act (solution)
//!
//! Two bank tellers serve the same account at the same time. Each one *checks* the
//! balance, decides, then *acts* (writes the new balance). If the other teller acts
//! between your check and your act, you act on a stale balance and an update is lost:
//! both pay out 80 from 100, and the balance says 20.
//!
//! ## Why this works
//!
//! Each function now takes the Lock once and keeps the guard until it returns. The check,
//! the decision and the write happen inside one critical section, so no other teller can
//! read the balance while this one is between its check and its act: the second teller
//! waits at `acquire()` and then reads the balance the first one wrote. `between()` is
//! still called, but with the lock held the gap no longer lets anyone in.
//!
//! The rule: a lock protects an *invariant*, not a variable. Everything that relies on
//! "the balance is still what I read" must happen before the guard is dropped.

use synckit::Lock;

/// A bank account shared by the tellers.
pub struct Account {
    /// The balance, behind a Lock.
    pub balance: Lock<i64>,
}

impl Account {
    /// An account holding `balance`.
    pub fn new(balance: i64) -> Self {
        Account {
            balance: Lock::new(balance).named("balance"),
        }
    }
}

/// Takes `amount` out of the account if the balance covers it; returns whether it did.
pub fn withdraw(account: &Account, amount: i64, between: impl Fn()) -> bool {
    let mut balance = account.balance.acquire(); // one critical section from here...
    between(); // the gap, now harmless: nobody else can read the balance
    if *balance < amount {
        return false;
    }
    *balance -= amount;
    true // ...to here, where the guard is dropped
}

/// Puts `amount` into the account.
pub fn deposit(account: &Account, amount: i64, between: impl Fn()) {
    let mut balance = account.balance.acquire();
    between();
    *balance += amount;
}
