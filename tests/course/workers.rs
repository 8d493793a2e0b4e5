//! The course's worker processes (exercises 9 and 10).
//!
//! A `synckit::process::Pool` starts its workers by running this very test binary again;
//! `main` in tests/exercises.rs hands [`registry`]'s functions to `synckit::process::hook`
//! before anything else, so a worker serves them and never runs a check.
//!
//! Exercise 9's worker function is the course's own (`course.ex9.job`: crunch or fetch, in
//! the worker, and say which worker did it). Exercise 10's are the learner's: tests/exercises.rs
//! adds them with the exercise's own `register`.

use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use synckit::process::{Pool, ProcessError, Registry};

/// How many worker processes a check's pool has.
pub const WORKERS: usize = 2;

/// The name of exercise 9's worker function.
const EX9_JOB: &str = "course.ex9.job";

/// The course's own worker functions.
pub fn course_functions(workers: Registry) -> Registry {
    workers.register(EX9_JOB, ex9_job)
}

/// In a worker: crunch (`kind` 0, `amount` units of `gil::spin`) or fetch (`kind` 1, sleep
/// `amount` nanoseconds). Returns the worker's pid, so the check knows a process did it.
fn ex9_job((kind, amount): (u8, u64)) -> u32 {
    match kind {
        0 => {
            std::hint::black_box(synckit::gil::spin(amount));
        }
        _ => std::thread::sleep(Duration::from_nanos(amount)),
    }
    std::process::id()
}

/// A pool of [`WORKERS`] for one check.
pub fn pool() -> Result<Pool, ProcessError> {
    Pool::builder()
        .workers(WORKERS)
        .task_timeout(Duration::from_secs(20))
        .build()
}

/// The kind of an exercise 9 job, as the workers log it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Crunch,
    Fetch,
}

/// Exercise 9's workers: runs jobs in the pool and logs which kind ran in which process.
pub struct CourseWorkers {
    pool: Pool,
    log: Mutex<Vec<(Kind, u32)>>,
}

impl CourseWorkers {
    /// Starts the pool.
    pub fn start() -> Result<Self, ProcessError> {
        Ok(CourseWorkers {
            pool: pool()?,
            log: Mutex::new(Vec::new()),
        })
    }

    /// Runs one job in a worker and logs it. A failing worker is the course's problem, not
    /// the learner's: it panics with the pool's explanation.
    pub fn run_in_worker(&self, kind: Kind, amount: u64) {
        let code = match kind {
            Kind::Crunch => 0u8,
            Kind::Fetch => 1,
        };
        match self.pool.apply::<(u8, u64), u32>(EX9_JOB, &(code, amount)) {
            Ok(pid) => self
                .log
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((kind, pid)),
            Err(e) => panic!("the course's worker processes failed: {e}"),
        }
    }

    /// How many jobs of `kind` ran in worker processes, and in how many distinct ones.
    pub fn ran(&self, kind: Kind) -> (usize, usize) {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        let mut pids: Vec<u32> = log
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, p)| *p)
            .collect();
        let jobs = pids.len();
        pids.sort_unstable();
        pids.dedup();
        (jobs, pids.len())
    }
}

/// Units of `gil::spin` for one crunch job: about 40 ms of this machine's time (calibrated
/// once). The checks never time anything with it: they read the GIL's trace.
pub fn crunch_units() -> u64 {
    static UNITS: OnceLock<u64> = OnceLock::new();
    *UNITS.get_or_init(|| synckit::gil::units_for(Duration::from_millis(40)))
}
