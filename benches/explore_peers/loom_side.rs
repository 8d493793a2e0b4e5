//! The workloads under loom (its own Mutex, Condvar and threads; no `--cfg loom` needed,
//! that is only for code that swaps std for loom behind a cfg).

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use loom::sync::{Condvar, Mutex};
use loom::thread;

use crate::{BUG, STARTED, Search, Workload, bug_hit, schedule_started};

std_shaped_programs!();

/// Loom's search (DPOR) with a preemption bound, stopped at `budget`.
pub fn search(preemption_bound: usize, w: Workload, budget: Duration) -> Search {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(preemption_bound);
    builder.max_duration = Some(budget);
    // Loom looks at the clock only every `checkpoint_interval` iterations (default 20,000).
    builder.checkpoint_interval = 100;
    let started = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| match w {
        Workload::Queue => builder.check(|| {
            schedule_started();
            producers_and_consumers()
        }),
        Workload::Semaphore { buggy, notify_all } => builder.check(move || {
            schedule_started();
            semaphore_scenario(buggy, notify_all)
        }),
    }));
    Search {
        schedules: STARTED.load(Ordering::Relaxed),
        // check returns at the time budget (seen only every 100 iterations) or at the end of
        // the bounded space.
        complete: result.is_ok().then(|| started.elapsed() < budget),
        failed: result.is_err(),
    }
}
