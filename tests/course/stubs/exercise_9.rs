//! # Exercise 9 · The GIL: threads for waiting, processes for computing
//!
//! CPython runs Python code under a Global Interpreter Lock: a thread must hold the GIL to
//! run bytecode, so only one thread of an interpreter computes at any instant, however many
//! cores the machine has. A thread lets go of the GIL while it waits (for the disk, the
//! network, a sleep, another process), and a thread that computes for long is made to let
//! go every switch interval (5 ms) so the others get their turn. Hence the rule of thumb:
//! threads for I/O-bound work (the waits overlap), processes for CPU-bound work (each
//! process runs its own interpreter, with its own GIL).
//!
//! `synckit::gil` simulates an interpreter: `py.compute(units)` computes *holding* the GIL,
//! `py.io(wait)` and `py.blocking(|| ...)` release it around a blocking call. Every run
//! returns a `GilTrace` of who held the GIL when (`cargo run -- gil` draws one). Its
//! *parallelism* is the time threads spent making progress (holding the GIL, or outside it
//! in a blocking call) divided by the wall time: how many threads were getting somewhere,
//! on average.
//!
//! ## The targets
//!
//! The checks run one job per interpreter thread and read the trace:
//! - 4 crunch jobs (CPU-bound): a parallelism of at least 1.5, the crunching done in
//!   worker processes;
//! - 4 fetch jobs (I/O-bound): a parallelism of at least 2.5, with no worker process;
//! - a crawler, 4 crunch and 4 fetch jobs at once: both targets, each on its own threads.
//!
//! ## Why the stub fails every time
//!
//! The targets are read on the trace, not on a stopwatch. Holding spans never overlap on a
//! trace (that is the GIL), so threads that only compute reach a parallelism of 1.0 at
//! most, on any machine, at any load: the stub, which crunches on its own thread, misses
//! 1.5 on every run, and no amount of luck or hardware changes that.
//!
//! ## What to do
//!
//! In `run_job`, choose where each job runs. `workers.run(job)` runs a job in one of the
//! course's worker processes and waits until it is done; it is a blocking call, so make it
//! outside the GIL, as Python's `pool.apply` does: `py.blocking(|| workers.run(job))`. Do
//! not change `Job` or `Workers`: the checks build the jobs and the workers.
//!
//! `cargo test exercise_9` checks it; `cargo run -- hint 9` if you are stuck.

use std::time::Duration;

use synckit::gil::Py;

/// One job of the batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Job {
    /// CPU-bound: `units` of computation (`synckit::gil::units_for` turns a duration into
    /// units), like parsing a page or resizing an image.
    Crunch {
        /// How much to compute.
        units: u64,
    },
    /// I/O-bound: a download that waits `wait` for the network.
    Fetch {
        /// How long the network takes to answer.
        wait: Duration,
    },
}

/// The course's worker processes (a `synckit::process::Pool` of 2, started by the checks).
pub trait Workers: Sync {
    /// Runs `job` in a worker process (its own memory, its own interpreter, its own GIL)
    /// and returns when it is done. The calling thread blocks meanwhile.
    fn run(&self, job: &Job);
}

/// Runs one job on the interpreter thread `py` (or from it).
pub fn run_job(py: &mut Py<'_>, workers: &impl Workers, job: &Job) {
    // TODO: every job runs right here, on this interpreter thread. Fetching is fine: `py.io`
    // releases the GIL while it waits. Crunching holds the GIL, so four crunching threads
    // take turns. Send the crunch jobs to `workers`, and wait for them outside the GIL.
    let _ = workers; // not used yet
    match *job {
        Job::Crunch { units } => {
            py.compute(units);
        }
        Job::Fetch { wait } => py.io(wait),
    }
}
