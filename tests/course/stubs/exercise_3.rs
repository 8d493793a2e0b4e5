//! # Exercise 3 · Re-entrancy: a Lock that waits for itself
//!
//! A plain Lock protects data from *other* threads. When the thread that holds it asks for
//! it again, the second acquire waits for the lock to be released, and the only thread
//! that could release it is the one now waiting. In Python this hangs forever; synckit's
//! detector sees the cycle of length one and reports it at once, naming both lines.
//!
//! It happens easily in object-oriented code: `deposit` takes the account's lock and, to
//! keep the books honest, calls `audit`, a public method that takes the same lock.
//!
//! ## What to do
//!
//! Make `deposit` able to audit while it holds the lock. Two classic fixes, both accepted:
//! - keep the `Lock`, and move the audit's body into a helper that expects the lock to be
//!   held (`fn audit_locked(ledger: &Ledger) -> bool`); `audit` takes the lock and calls it,
//!   `deposit` calls it with the guard it already has;
//! - or make the field an `RLock<RefCell<Ledger>>`: a re-entrant lock lets its owner in
//!   again (its guard gives `&`, so change the ledger through `borrow_mut()`).
//!
//! Either way, hold the lock from the deposit to the receipt. Letting go of it before the
//! audit also ends the hang, but then another thread's deposit can slip in between, and the
//! receipt (and the audit) are about the books as that thread left them.
//!
//! `cargo test exercise_3` checks it; `cargo run -- hint 3` if you are stuck.

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
        // TODO: `audit` takes `self.ledger` again, while this function still holds it.
        assert!(self.audit(), "the books do not add up after a deposit");
        ledger.balance // the receipt
    }

    /// Whether the entries add up to the balance. Public: other code audits too.
    pub fn audit(&self) -> bool {
        let ledger = self.ledger.acquire();
        ledger.entries.iter().sum::<i64>() == ledger.balance
    }

    /// The current balance.
    pub fn balance(&self) -> i64 {
        self.ledger.acquire().balance
    }
}
