use synckit::Lock;

pub struct Bank {
    accounts: Vec<Lock<i64>>,
}

impl Bank {
    pub fn new(n: usize, each: i64) -> Self {
        Bank {
            accounts: (0..n).map(|i| Lock::new(each).named(&format!("account-{i}"))).collect(),
        }
    }

    pub fn transfer(&self, from: usize, to: usize, amount: i64) {
        let (low, high) = (from.min(to), from.max(to));
        let mut low = self.accounts[low].acquire();
        let mut high = self.accounts[high].acquire();
        let (src, dst) = if from < to { (&mut *low, &mut *high) } else { (&mut *high, &mut *low) };
        *src -= amount;
        *dst += amount;
    }

    pub fn total(&self) -> i64 {
        self.accounts.iter().map(|a| *a.acquire()).sum()
    }
}
