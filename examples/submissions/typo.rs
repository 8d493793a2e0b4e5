//! Bank assignment. A balance is an `i64`, but this transfer adds a `u32` to it.
//!
//! expected verdict: compile_error

use synckit::Lock;

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn transfer(&self, from: usize, to: usize, amount: u32) {
        *self.accounts[from].acquire() -= amount;
        *self.accounts[to].acquire() += amount;
    }
}

pub fn program() {
    let bank = Bank {
        accounts: vec![Lock::new(100), Lock::new(0)],
    };
    bank.transfer(0, 1, 10);
}
