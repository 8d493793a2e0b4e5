//! Schedules explored per second by `synckit::testing::explore`, on the bounded queue of
//! `tests/explore.rs`: 2 producers + 2 consumers x 3 items through a queue of capacity 1
//! (a Lock and two Conditions).
//!
//! `cd benches && cargo bench --bench explore`. Criterion's `thrpt` line is in schedules per second (one
//! element = one schedule: a fresh closed world, five OS threads run one at a time, every
//! switch a hand-over between OS threads). After criterion's groups, one full
//! bounded-exhaustive search (delay bound 2, the suite's test) is timed and printed.

use std::time::Duration;

use criterion::{Criterion, Throughput};
use synckit::testing::{self, Config};

#[path = "../tests/support/bounded_queue.rs"]
mod bounded_queue;
use bounded_queue::producers_and_consumers;

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
