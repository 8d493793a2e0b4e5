//! The workloads under shuttle: the same programs with shuttle's Mutex, Condvar and threads.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::Duration;

use shuttle::scheduler::{DfsScheduler, PctScheduler, RandomScheduler, Scheduler};
use shuttle::sync::{Condvar, Mutex};
use shuttle::{Config, FailurePersistence, Runner, thread};

use crate::{BUG, Search, Workload, bug_hit, schedule_started};

std_shaped_programs!();

fn run<S: Scheduler + 'static>(scheduler: S, w: Workload, budget: Duration) -> Search {
    let mut config = Config::new();
    config.max_time = Some(budget);
    // The failing schedule goes to stderr (the script's log), once.
    config.failure_persistence = FailurePersistence::Print;
    let runner = Runner::new(scheduler, config);
    let started = std::time::Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| match w {
        Workload::Queue => runner.run(|| {
            schedule_started();
            producers_and_consumers()
        }),
        Workload::Semaphore { buggy, notify_all } => runner.run(move || {
            schedule_started();
            semaphore_scenario(buggy, notify_all)
        }),
    }));
    match result {
        Ok(n) => Search {
            schedules: n as u64,
            // Runner::run returns at the time budget or when the scheduler has no schedule left.
            complete: Some(started.elapsed() < budget),
            failed: false,
        },
        Err(_) => Search {
            schedules: crate::STARTED.load(std::sync::atomic::Ordering::Relaxed),
            complete: None,
            failed: true,
        },
    }
}

pub fn search(mode: &str, w: Workload, budget: Duration, seed: u64) -> Search {
    let mut s = match mode {
        "random" => run(RandomScheduler::new_from_seed(seed, usize::MAX), w, budget),
        "pct" => run(PctScheduler::new_from_seed(seed, 3, usize::MAX), w, budget),
        _ => run(DfsScheduler::new(None, false), w, budget),
    };
    if mode != "dfs" {
        // A random search has no end of its own.
        s.complete = None;
    }
    s
}
