//! Variant `alternative_rlock` of solutions/exercise_3.rs: another accepted fix, kept so that
//! the course shows its checks let it pass.
//!
//! Accepted fix: an `RLock<RefCell<Ledger>>`, the borrow ended before `audit`.
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
        let ledger = self.ledger.acquire();
        {
            let mut l = ledger.borrow_mut();
            l.balance += amount;
            l.entries.push(amount);
        } // the RefCell borrow ends before audit() borrows again
        assert!(self.audit(), "the books do not add up after a deposit");
        let receipt = ledger.borrow().balance;
        receipt
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
