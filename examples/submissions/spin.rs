//! Bank assignment. A withdrawal that waits for the money by asking for the balance over
//! and over (a busy-wait) instead of waiting on a Condition. Nobody deposits, so the teller
//! spins for ever, burning a core; `check`'s deadline stops the run and shows where every
//! thread was. (With a --timeout shorter than the --deadline it is killed first: timeout.)
//!
//! expected verdict: stalled

use std::sync::Arc;
use synckit::{Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn withdraw(&self, account: usize, amount: i64) {
        while *self.accounts[account].acquire() < amount {
            std::hint::spin_loop(); // wait for the money to arrive
        }
        *self.accounts[account].acquire() -= amount;
    }
}

pub fn program() {
    let bank = Arc::new(Bank {
        accounts: vec![Lock::new(100).named("account-0")],
    });
    let teller = {
        let bank = bank.clone();
        thread::spawn_named("teller-0", move || bank.withdraw(0, 150))
    };
    teller.join().unwrap();
}
