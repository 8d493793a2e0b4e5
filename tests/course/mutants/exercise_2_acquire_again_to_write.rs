//! Mutant `acquire_again_to_write` of solutions/exercise_2.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: keep the guard across the gap, but take the lock again for the write.
//! Why it fails: the second acquire is a re-entrant acquire of a plain Lock: the detector stops
//! it (exercise 3) (check `two_tellers_withdraw`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
    *account.balance.acquire() = *balance - amount;
    true
}

/// Puts `amount` into the account.
pub fn deposit(account: &Account, amount: i64, between: impl Fn()) {
    let mut balance = account.balance.acquire();
    between();
    *balance += amount;
}
