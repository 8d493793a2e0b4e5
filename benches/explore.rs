//! Schedules explored per second by `synckit::testing::explore`, on the bounded queue of
//! `tests/explore.rs`: 2 producers + 2 consumers x 3 items through a queue of capacity 1
//! (a Lock and two Conditions).
//!
//! `cargo bench --bench explore`. Criterion's `thrpt` line is in schedules per second (one
//! element = one schedule: a fresh closed world, five OS threads run one at a time, every
//! switch a hand-over between OS threads). After criterion's groups, one full
//! bounded-exhaustive search (delay bound 2, the suite's test) is timed and printed.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, Throughput};
use synckit::testing::{self, Config, Run};
use synckit::{Condition, Lock};

struct BoundedQueue {
    items: Lock<VecDeque<u32>>,
    not_empty: Condition,
    not_full: Condition,
    capacity: usize,
}

impl BoundedQueue {
    fn new(capacity: usize) -> Self {
        BoundedQueue {
            items: Lock::new(VecDeque::new()).named("queue"),
            not_empty: Condition::new().named("not_empty"),
            not_full: Condition::new().named("not_full"),
            capacity,
        }
    }

    fn put(&self, item: u32) {
        let mut items = self.items.acquire();
        self.not_full
            .wait_while(&mut items, |items| items.len() >= self.capacity);
        items.push_back(item);
        drop(items);
        self.not_empty.notify(1);
    }

    fn get(&self) -> u32 {
        let mut items = self.items.acquire();
        self.not_empty
            .wait_while(&mut items, |items| items.is_empty());
        let item = items.pop_front().expect("non-empty after wait_while");
        drop(items);
        self.not_full.notify(1);
        item
    }
}

fn producers_and_consumers(run: &Run) {
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
    assert_eq!(got, vec![0, 1, 2, 10, 11, 12]);
}

fn main() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5))
        .sample_size(10)
        .without_plots()
        .configure_from_args();

    // One complete delay-bounded search (82 schedules) per iteration.
    let schedules = testing::explore(Config::delay_bounded(1), producers_and_consumers)
        .expect("the queue is correct")
        .schedules;
    let mut g = c.benchmark_group("explore_bounded_queue");
    g.throughput(Throughput::Elements(schedules as u64));
    g.bench_function("delay_bound_1", |b| {
        b.iter(|| testing::explore(Config::delay_bounded(1), producers_and_consumers).unwrap())
    });
    // 50 random schedules (many more switches each) per iteration.
    g.throughput(Throughput::Elements(50));
    g.bench_function("random_50", |b| {
        b.iter(|| {
            testing::explore(Config::random(50).seed(0x5eed), producers_and_consumers).unwrap()
        })
    });
    g.finish();
    c.final_summary();

    if std::env::args().any(|a| a == "--list" || a == "--test") {
        return;
    }
    let stats = testing::explore(Config::delay_bounded(2), producers_and_consumers).unwrap();
    println!(
        "explore: bounded queue (2 producers + 2 consumers x 3 items), delay bound 2: {stats}"
    );
}
