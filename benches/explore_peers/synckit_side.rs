//! The workloads under `synckit::testing::explore`: the bounded queue is the test suite's
//! own (`tests/support/bounded_queue.rs`, included by `main.rs`), the semaphores are below.

use std::sync::Arc;
use std::time::Duration;

use synckit::testing::{self, Config, Run};
use synckit::{Condition, Lock};

use crate::bounded_queue::producers_and_consumers;
use crate::{BUG, Search, Workload, bug_hit, schedule_started};

/// A counting semaphore from a Lock and a Condition; `buggy` waits with `if`.
struct Semaphore {
    count: Lock<usize>,
    changed: Condition,
    buggy: bool,
    notify_all: bool,
}

impl Semaphore {
    fn acquire(&self) {
        let mut count = self.count.acquire();
        if self.buggy {
            if *count == 0 {
                self.changed.wait(&mut count);
            }
        } else {
            while *count == 0 {
                self.changed.wait(&mut count);
            }
        }
        if *count == 0 {
            bug_hit();
            panic!("{BUG}");
        }
        *count -= 1;
    }

    fn release(&self) {
        *self.count.acquire() += 1;
        if self.notify_all {
            self.changed.notify_all();
        } else {
            self.changed.notify(1);
        }
    }
}

/// Two waiters, one release, then a third thread (the barger) and two more releases.
fn semaphore_scenario(run: &Run, buggy: bool, notify_all: bool) {
    let sem = Arc::new(Semaphore {
        count: Lock::new(0).named("count"),
        changed: Condition::new().named("changed"),
        buggy,
        notify_all,
    });
    let spawn = |name: &str| {
        let sem = sem.clone();
        run.spawn(name, move || sem.acquire())
    };
    let waiters = [spawn("waiter-1"), spawn("waiter-2")];
    sem.release();
    let barger = spawn("barger");
    sem.release();
    sem.release();
    for t in waiters.into_iter().chain([barger]) {
        t.join().unwrap();
    }
}

pub fn search(mode: &str, w: Workload, budget: Duration, seed: u64) -> Search {
    let config = match mode {
        "random" => Config::random(usize::MAX).seed(seed),
        _ => Config::delay_bounded(2),
    }
    .time_limit(budget)
    .shrink(false);
    let result = match w {
        Workload::Queue => testing::explore(config, |run| {
            schedule_started();
            producers_and_consumers(run)
        }),
        Workload::Semaphore { buggy, notify_all } => testing::explore(config, move |run| {
            schedule_started();
            semaphore_scenario(run, buggy, notify_all)
        }),
    };
    match result {
        Ok(stats) => Search {
            schedules: stats.schedules as u64,
            complete: (mode == "delay2").then_some(stats.complete),
            failed: false,
        },
        Err(failure) => {
            eprintln!("{failure}");
            Search {
                schedules: crate::STARTED.load(std::sync::atomic::Ordering::Relaxed),
                complete: None,
                failed: true,
            }
        }
    }
}
