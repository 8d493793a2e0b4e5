//! Bank assignment. Transfers are locked correctly, but the 1% fee is taken from the payer
//! and paid to nobody: the bank's books no longer balance, and the assignment's own check
//! fails.
//!
//! expected verdict: panicked

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
        let fee = amount / 100;
        *src -= amount + fee;
        *dst += amount;
    }

    pub fn total(&self) -> i64 {
        self.accounts.iter().map(|a| *a.acquire()).sum()
    }
}

pub fn program() {
    let bank = Arc::new(Bank {
        accounts: (0..2).map(|i| Lock::new(1000).named(&format!("account-{i}"))).collect(),
    });
    let teller = {
        let bank = bank.clone();
        thread::spawn_named("teller-0", move || bank.transfer(0, 1, 500))
    };
    teller.join().unwrap();
    assert_eq!(bank.total(), 2000, "money was created or lost");
}
