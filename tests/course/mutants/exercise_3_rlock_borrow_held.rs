//! Mutant `rlock_borrow_held` of solutions/exercise_3.rs: a wrong fix, kept so that the course
//! shows its checks catch it.
//!
//! Wrong fix: an `RLock<RefCell<Ledger>>`, with the `borrow_mut()` kept while calling `audit`.
//! Why it fails: the RLock lets the thread in again, but the RefCell does not: `audit`'s
//! `borrow()` panics (already mutably borrowed) (check `deposit_then_audit`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

use std::cell::RefCell;

use synckit::RLock;

/// The books of an account: the balance and every movement that made it.
#[derive(Debug, Default)]
pub struct Ledger {
    /// The current balance.
    pub balance: i64,
    /// Every movement, the opening balance first.
    pub entries: Vec<i64>,
}

/// An account whose methods may be called from any thread.
pub struct Account {
    ledger: RLock<RefCell<Ledger>>,
}

impl Account {
    /// Opens an account with `opening` in it.
    pub fn new(opening: i64) -> Self {
        Account {
            ledger: RLock::new(RefCell::new(Ledger {
                balance: opening,
                entries: vec![opening],
            }))
            .named("account"),
        }
    }

    /// Puts `amount` in, audits the books before anyone else can look at them, and returns
    /// the receipt: the balance this deposit left, as audited.
    pub fn deposit(&self, amount: i64) -> i64 {
        let guard = self.ledger.acquire();
        let mut ledger = guard.borrow_mut(); // kept to the end of the function
        ledger.balance += amount;
        ledger.entries.push(amount);
        assert!(self.audit(), "the books do not add up after a deposit");
        ledger.balance
    }

    /// Whether the entries add up to the balance. Public: other code audits too.
    pub fn audit(&self) -> bool {
        Self::audit_locked(&self.ledger.acquire().borrow())
    }

    /// The audit itself, for callers that already hold the lock (they pass the ledger).
    fn audit_locked(ledger: &Ledger) -> bool {
        ledger.entries.iter().sum::<i64>() == ledger.balance
    }

    /// The current balance.
    pub fn balance(&self) -> i64 {
        self.ledger.acquire().borrow().balance
    }
}
