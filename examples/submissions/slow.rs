//! Bank assignment. Correct, but each transfer "calls the clearing house" (sleeps 100 ms)
//! while it holds both accounts, so the tellers take turns and one run of 70 transfers
//! takes 7 s. Each run is within the 10 s deadline, but five of them are not within the
//! 30 s limit: the process is killed with everything it started.
//!
//! expected verdict: timeout

use std::sync::Arc;
use std::time::Duration;
use synckit::{Lock, thread};

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let (low, high) = (from.min(to), from.max(to));
        let mut low = self.accounts[low].acquire();
        let mut high = self.accounts[high].acquire();
        std::thread::sleep(Duration::from_millis(100)); // the clearing house
        let (src, dst) = if from < to { (&mut *low, &mut *high) } else { (&mut *high, &mut *low) };
        *src -= amount;
        *dst += amount;
    }
}

pub fn program() {
    let bank = Arc::new(Bank {
        accounts: (0..2).map(|i| Lock::new(1000).named(&format!("account-{i}"))).collect(),
    });
    let tellers: Vec<_> = [(0, 1), (1, 0)]
        .into_iter()
        .enumerate()
        .map(|(i, (from, to))| {
            let bank = bank.clone();
            thread::spawn_named(&format!("teller-{i}"), move || {
                for _ in 0..35 {
                    bank.transfer(from, to, 1);
                }
            })
        })
        .collect();
    for t in tellers {
        t.join().unwrap();
    }
}
