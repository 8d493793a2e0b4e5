//! Bank assignment. Each teller locks the account it takes money from, then the one it
//! pays into. The tellers open together: each takes its first account, then waits for the
//! opening bell (a Barrier) before paying. Teller 0 pays 0 -> 1 while teller 1 pays
//! 1 -> 0: each holds what the other wants, on every run.
//!
//! expected verdict: deadlock

use std::sync::Arc;
use synckit::{Barrier, Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
    bell: Barrier,
}

impl Bank {
    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let mut src = self.accounts[from].acquire();
        let _ = self.bell.wait(); // everyone starts paying at once
        let mut dst = self.accounts[to].acquire();
        *src -= amount;
        *dst += amount;
    }
}

pub fn program() {
    let bank = Arc::new(Bank {
        accounts: vec![
            Lock::new(100).named("account-0"),
            Lock::new(100).named("account-1"),
        ],
        bell: Barrier::new(2).named("bell"),
    });
    let tellers: Vec<_> = [(0, 1), (1, 0)]
        .into_iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let bank = bank.clone();
            thread::spawn_named(&format!("teller-{i}"), move || bank.transfer(from, to, 10))
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
}
