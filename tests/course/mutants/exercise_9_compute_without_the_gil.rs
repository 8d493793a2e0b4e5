//! Mutant `compute_without_the_gil` of solutions/exercise_9.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: crunch right here inside `py.blocking`, with the GIL released.
//! Why it fails: a crunch job is Python code, which needs the GIL to run: the check sees jobs
//! that never reached a worker process (check `crunching_beats_the_gil`).
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
        Job::Crunch { units } => py.blocking(|| {
            std::hint::black_box(synckit::gil::spin(units));
        }),
        // I/O-bound: the thread releases the GIL while it waits; that is all it needs.
        Job::Fetch { wait } => py.io(wait),
    }
}
