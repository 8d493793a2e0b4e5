//! Bank assignment. Transfers lock in account order, correctly. But the nightly audit,
//! which runs after the tellers have gone home, locks every account from the last to the
//! first. This run cannot deadlock (nobody transfers during the audit), but the two orders
//! together can: the grader calls that a lock-order inversion.
//!
//! expected verdict: inversion

use std::sync::Arc;
use synckit::{Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let (low, high) = (from.min(to), from.max(to));
        let mut low = self.accounts[low].acquire();
        let mut high = self.accounts[high].acquire();
        let (src, dst) = if from < to { (&mut *low, &mut *high) } else { (&mut *high, &mut *low) };
        *src -= amount;
        *dst += amount;
    }

    /// Holds every account at once, so the total is a consistent snapshot.
    pub fn audit(&self) -> i64 {
        let guards: Vec<_> = self.accounts.iter().rev().map(|a| a.acquire()).collect();
        guards.iter().map(|g| **g).sum()
    }
}

pub fn program() {
    let bank = Arc::new(Bank {
        accounts: (0..2).map(|i| Lock::new(100).named(&format!("account-{i}"))).collect(),
    });
    let teller = {
        let bank = bank.clone();
        thread::spawn_named("teller-0", move || bank.transfer(0, 1, 10))
    };
    teller.join().unwrap();
    assert_eq!(bank.audit(), 200, "money was created or lost");
}
