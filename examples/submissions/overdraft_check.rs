//! Bank assignment. Another student, the same mistake as `reentrant.rs`: the overdraft
//! check calls `balance(from)` while the account is locked. The grader puts both in one
//! group.
//!
//! expected verdict: deadlock

use std::sync::Arc;
use synckit::{Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    fn balance(&self, i: usize) -> i64 {
        *self.accounts[i].acquire()
    }

    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let mut from_guard = self.accounts[from].acquire();
        let allowed = self.balance(from) >= amount;
        if allowed {
            *from_guard -= amount;
            drop(from_guard);
            *self.accounts[to].acquire() += amount;
        }
    }
}

pub fn program() {
    let bank = Arc::new(Bank {
        accounts: vec![Lock::new(50).named("account-0"), Lock::new(0).named("account-1")],
    });
    let tellers: Vec<_> = (0..2)
        .map(|i| {
            let bank = bank.clone();
            thread::spawn_named(&format!("teller-{i}"), move || bank.transfer(0, 1, 20))
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
}
