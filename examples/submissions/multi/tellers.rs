use std::sync::Arc;

use crate::bank::Bank;

/// One teller per pair, each paying 5 twice.
pub fn run_day(bank: &Arc<Bank>, pairs: &[(usize, usize)]) {
    let tellers: Vec<_> = pairs
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| {
            let bank = bank.clone();
            synckit::thread::spawn_named(&format!("teller-{i}"), move || {
                bank.transfer(from, to, 5);
                bank.transfer(from, to, 5);
            })
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
}
