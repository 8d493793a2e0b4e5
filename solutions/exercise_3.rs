//! # Exercise 3 · Re-entrancy: a Lock that waits for itself (solution)
//!
//! A plain Lock protects data from *other* threads. When the thread that holds it asks for
//! it again, the second acquire waits for the lock to be released, and the only thread
//! that could release it is the one now waiting. In Python this hangs forever; synckit's
//! detector sees the cycle of length one and reports it at once, naming both lines.
//!
//! ## Why this works
//!
//! The lock is taken exactly once per public call. The audit's logic lives in
//! `audit_locked`, which takes the ledger itself (`&Ledger`): it can only be called by code
//! that already holds the guard, so the type system says "the lock is held here". `audit`
//! takes the lock and calls the helper; `deposit` calls the helper with the guard it has.
//!
//! The other fix, an `RLock<RefCell<Ledger>>`, also passes: the RLock lets the owner in
//! again (count 2) and frees the lock when the count is back to 0. It keeps the code as
//! written but hides the question "who holds the lock here?", and its guard gives only `&`
//! (two guards on one thread must not both hand out `&mut`), hence the `RefCell`:
//!
//! ```ignore
//! pub fn deposit(&self, amount: i64) -> i64 {
//!     let ledger = self.ledger.acquire();
//!     {
//!         let mut l = ledger.borrow_mut();
//!         l.balance += amount;
//!         l.entries.push(amount);
//!     } // the RefCell borrow ends before audit() borrows again
//!     assert!(self.audit(), "the books do not add up after a deposit");
//!     let receipt = ledger.borrow().balance;
//!     receipt
//! }
//! ```

use synckit::Lock;

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
    ledger: Lock<Ledger>,
}

impl Account {
    /// Opens an account with `opening` in it.
    pub fn new(opening: i64) -> Self {
        Account {
            ledger: Lock::new(Ledger {
                balance: opening,
                entries: vec![opening],
            })
            .named("account"),
        }
    }

    /// Puts `amount` in, audits the books before anyone else can look at them, and returns
    /// the receipt: the balance this deposit left, as audited.
    pub fn deposit(&self, amount: i64) -> i64 {
        let mut ledger = self.ledger.acquire();
        ledger.balance += amount;
        ledger.entries.push(amount);
        // Audit with the guard we already hold: no second acquire.
        assert!(
            Self::audit_locked(&ledger),
            "the books do not add up after a deposit"
        );
        ledger.balance // the receipt, read under the same guard
    }

    /// Whether the entries add up to the balance. Public: other code audits too.
    pub fn audit(&self) -> bool {
        Self::audit_locked(&self.ledger.acquire())
    }

    /// The audit itself, for callers that already hold the lock (they pass the ledger).
    fn audit_locked(ledger: &Ledger) -> bool {
        ledger.entries.iter().sum::<i64>() == ledger.balance
    }

    /// The current balance.
    pub fn balance(&self) -> i64 {
        self.ledger.acquire().balance
    }
}
