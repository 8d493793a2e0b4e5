//! # Exercise 2 · Race condition: check-then-act
//!
//! Two bank tellers serve the same account at the same time. Each one *checks* the
//! balance, decides, then *acts* (writes the new balance). If the other teller acts
//! between your check and your act, you act on a stale balance and an update is lost:
//! both pay out 80 from 100, and the balance says 20.
//!
//! Locking each access is not enough. The stub below takes the Lock to read and again to
//! write: two separate critical sections, with a gap between them. The read, the decision
//! and the write must be *one* critical section.
//!
//! ## How the check makes the race happen every time
//!
//! In real programs the gap lasts nanoseconds and the race shows up once in a million runs.
//! `between()` stands for that gap: the check runs the two tellers under synckit's explorer
//! (`synckit::testing::explore`), one thread at a time, and `between()` is a point where it
//! may let the other teller run. It tries every such schedule (with at most two preemptions),
//! in the same order on every run: if any of them loses an update, the check fails, every
//! time. A sleep changes nothing here; only one critical section does.
//!
//! ## What to do
//!
//! Make `withdraw` and `deposit` each one critical section: acquire the Lock once, keep the
//! guard across `between()`, and check and update through that guard. Keep the call to
//! `between()` between the check and the act.
//!
//! `cargo test exercise_2` checks it; `cargo run -- hint 2` if you are stuck.

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
    // TODO: two critical sections with a gap between them. Take the lock once instead.
    let balance = *account.balance.acquire(); // check (the guard is dropped at the `;`)
    between(); // ...another teller may run here...
    if balance < amount {
        return false;
    }
    *account.balance.acquire() = balance - amount; // act, on what we read before the gap
    true
}

/// Puts `amount` into the account.
pub fn deposit(account: &Account, amount: i64, between: impl Fn()) {
    // TODO: the same race: read, gap, write. Make it one critical section.
    let balance = *account.balance.acquire();
    between();
    *account.balance.acquire() = balance + amount;
}
