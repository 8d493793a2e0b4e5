//! Bank assignment. `transfer` refuses overdrafts by asking `balance(from)`, which takes
//! the account's Lock again while `transfer` already holds it. A Lock is not re-entrant:
//! the teller waits for itself.
//!
//! expected verdict: deadlock

use std::sync::Arc;
use synckit::{Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn balance(&self, account: usize) -> i64 {
        *self.accounts[account].acquire()
    }

    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let mut src = self.accounts[from].acquire();
        if self.balance(from) < amount {
            return; // no overdrafts
        }
        *src -= amount;
        drop(src);
        *self.accounts[to].acquire() += amount;
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
}
