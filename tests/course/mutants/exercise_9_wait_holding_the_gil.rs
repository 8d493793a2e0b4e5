//! Mutant `wait_holding_the_gil` of solutions/exercise_9.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: send the crunch jobs to the workers, but wait for them without `py.blocking`.
//! Why it fails: each thread holds the GIL while its worker computes, so the threads still take
//! turns: parallelism stays at 1 (check `crunching_beats_the_gil`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
    match *job {
        // CPU-bound: to a process, with its own GIL; wait for it with ours released.
        Job::Crunch { .. } => workers.run(job),
        // I/O-bound: the thread releases the GIL while it waits; that is all it needs.
        Job::Fetch { wait } => py.io(wait),
    }
}
