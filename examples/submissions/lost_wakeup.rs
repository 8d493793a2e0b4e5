//! Bank assignment, with a twist: a withdrawal waits until the account has the money.
//! `withdraw` looks at the balance in one critical section and goes to sleep in another;
//! a deposit that lands in between notifies nobody, and the teller sleeps for ever.
//!
//! On a real machine the payroll deposit (made right after the teller is started) almost
//! always lands before the teller even looks, so `check` passes it run after run. The
//! explorer tries the other orders and finds the one that loses the wake-up.
//!
//! expected verdict: deadlock (found by explore)

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
        let enough = *self.balance.acquire() >= amount; // look...
        if !enough {
            let mut balance = self.balance.acquire(); // ...then sleep: the notify may be gone
            self.funded.wait(&mut balance);
        }
        *self.balance.acquire() -= amount;
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
