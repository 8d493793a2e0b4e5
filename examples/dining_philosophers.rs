//! Five philosophers, five forks, each takes the left fork then the right: the classic
//! deadlock. The detector reports the cycle through the forks instead of hanging; run it
//! inside `synckit::check` so the outcome is a value.
//!
//! ```sh
//! cargo run --example dining_philosophers
//! ```

use std::sync::Arc;

use synckit::{Barrier, Lock, Outcome, check, thread::spawn_named};

fn main() {
    let outcome = check(|| {
        let forks: Arc<Vec<Lock<()>>> = Arc::new(
            (0..5)
                .map(|i| Lock::new(()).named(&format!("fork-{i}")))
                .collect(),
        );
        // Everyone picks up their left fork before anyone reaches for the right one.
        let all_hold_left = Arc::new(Barrier::new(5));
        let philosophers: Vec<_> = (0..5)
            .map(|i| {
                let (forks, all_hold_left) = (forks.clone(), all_hold_left.clone());
                spawn_named(&format!("philosopher-{i}"), move || {
                    let _left = forks[i].acquire();
                    let _ = all_hold_left.wait();
                    let _right = forks[(i + 1) % 5].acquire();
                })
            })
            .collect();
        for p in philosophers {
            let _ = p.join();
        }
    });
    match outcome {
        Outcome::Deadlock(report) => println!("{report}"),
        other => println!("no deadlock this time: {other}"),
    }
}
