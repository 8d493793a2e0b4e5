//! The bounded queue that `tests/explore.rs` checks under every bounded schedule,
//! `benches/explore.rs` times and `benches/explore_peers/` runs beside shuttle and loom (which
//! run it rewritten in their own types, statement for statement): one workload, included by
//! all three with `#[path]`.

use std::collections::VecDeque;
use std::sync::Arc;

use synckit::testing::Run;
use synckit::{Condition, Lock};

/// A correct bounded queue: a Lock and two Conditions, waits in `while` loops.
pub struct BoundedQueue {
    items: Lock<VecDeque<u32>>,
    not_empty: Condition,
    not_full: Condition,
    capacity: usize,
}

impl BoundedQueue {
    pub fn new(capacity: usize) -> Self {
        BoundedQueue {
            items: Lock::new(VecDeque::new()).named("queue"),
            not_empty: Condition::new().named("not_empty"),
            not_full: Condition::new().named("not_full"),
            capacity,
        }
    }

    pub fn put(&self, item: u32) {
        let mut items = self.items.acquire();
        self.not_full
            .wait_while(&mut items, |items| items.len() >= self.capacity);
        items.push_back(item);
        drop(items);
        self.not_empty.notify(1);
    }

    pub fn get(&self) -> u32 {
        let mut items = self.items.acquire();
        self.not_empty
            .wait_while(&mut items, |items| items.is_empty());
        let item = items.pop_front().expect("non-empty after wait_while");
        drop(items);
        self.not_full.notify(1);
        item
    }
}

/// 2 producers put 3 items each into a queue of capacity 1; 2 consumers take 3 each.
pub fn producers_and_consumers(run: &Run) {
    let queue = Arc::new(BoundedQueue::new(1));
    let producers: Vec<_> = (0..2u32)
        .map(|p| {
            let queue = queue.clone();
            run.spawn(&format!("producer-{p}"), move || {
                for i in 0..3 {
                    queue.put(p * 10 + i);
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..2)
        .map(|c| {
            let queue = queue.clone();
            run.spawn(&format!("consumer-{c}"), move || {
                (0..3).map(|_| queue.get()).collect::<Vec<u32>>()
            })
        })
        .collect();
    for p in producers {
        p.join().unwrap();
    }
    let mut got: Vec<u32> = consumers
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![0, 1, 2, 10, 11, 12],
        "every item taken exactly once"
    );
}
