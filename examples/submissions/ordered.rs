//! Bank assignment. Every transfer locks its two accounts in account-number order, so no
//! two tellers can ever wait for each other in a cycle.
//!
//! expected verdict: ok

use std::sync::Arc;
use synckit::{Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn new(balances: &[i64]) -> Self {
        let accounts = balances.iter().enumerate();
        Bank {
            accounts: accounts
                .map(|(i, &b)| Lock::new(b).named(&format!("account-{i}")))
                .collect(),
        }
    }

    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let (low, high) = (from.min(to), from.max(to));
        let mut low = self.accounts[low].acquire();
        let mut high = self.accounts[high].acquire();
        let (src, dst) = if from < to { (&mut *low, &mut *high) } else { (&mut *high, &mut *low) };
        *src -= amount;
        *dst += amount;
    }

    pub fn total(&self) -> i64 {
        self.accounts.iter().map(|a| *a.acquire()).sum()
    }
}

pub fn program() {
    let bank = Arc::new(Bank::new(&[100, 100, 100]));
    let tellers: Vec<_> = [(0, 1), (1, 2), (2, 0)]
        .into_iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let bank = bank.clone();
            thread::spawn_named(&format!("teller-{i}"), move || {
                for _ in 0..2 {
                    bank.transfer(from, to, 10);
                }
            })
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
    assert_eq!(bank.total(), 300, "money was created or lost");
}
