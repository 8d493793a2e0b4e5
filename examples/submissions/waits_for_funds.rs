//! Bank assignment, with a twist: a withdrawal waits until the account has the money. The
//! look and the sleep happen in one critical section (`wait_while` re-checks the balance
//! under the lock every time it wakes), so no deposit can slip in between.
//!
//! expected verdict: ok

use std::sync::Arc;
use synckit::{Condition, Lock, thread};

pub struct Account {
    balance: Lock<i64>,
    funded: Condition,
}

impl Account {
    pub fn deposit(&self, amount: i64) {
        *self.balance.acquire() += amount;
        self.funded.notify_all();
    }

    pub fn withdraw(&self, amount: i64) {
        let mut balance = self.balance.acquire();
        self.funded.wait_while(&mut balance, |b| *b < amount);
        *balance -= amount;
    }
}

pub fn program() {
    let account = Arc::new(Account {
        balance: Lock::new(0).named("account-0"),
        funded: Condition::new().named("funded"),
    });
    let teller = {
        let account = account.clone();
        thread::spawn_named("teller", move || account.withdraw(50))
    };
    account.deposit(100); // payroll
    teller.join().unwrap();
    assert_eq!(*account.balance.acquire(), 50);
}
