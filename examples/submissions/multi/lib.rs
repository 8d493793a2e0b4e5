//! Bank assignment, in three files: the bank in `bank.rs`, the tellers in `tellers.rs`,
//! and the entry point here. Transfers lock in account-number order.
//!
//! expected verdict: ok

mod bank;
mod tellers;

use std::sync::Arc;

pub fn program() {
    let bank = Arc::new(bank::Bank::new(3, 100));
    tellers::run_day(&bank, &[(0, 1), (2, 1), (1, 0)]);
    assert_eq!(bank.total(), 300, "money was created or lost");
}
