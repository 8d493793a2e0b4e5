//! # Exercise 9 · The GIL: threads for waiting, processes for computing (solution)
//!
//! CPython runs Python code under a Global Interpreter Lock: a thread must hold the GIL to
//! run bytecode, so only one thread of an interpreter computes at any instant, however many
//! cores the machine has. A thread lets go of the GIL while it waits, and a thread that
//! computes for long is made to let go every switch interval. Hence the rule of thumb:
//! threads for I/O-bound work, processes for CPU-bound work.
//!
//! ## Why this works
//!
//! A crunch job now runs in a worker process, which has its own interpreter and its own
//! GIL: the four crunch jobs no longer queue for *this* interpreter's GIL. The thread that
//! sent the job waits for it inside `py.blocking`, which releases the GIL first, so on the
//! trace it is `~` (outside the interpreter) instead of `█` or `·`, and the other threads
//! can send their jobs too. Had it waited holding the GIL, the trace would show one thread
//! holding the GIL while its worker computes and three waiting for it: parallelism 1.0
//! again, the same as computing here.
//!
//! A fetch job stays on its thread: `py.io` releases the GIL while it waits, so four waits
//! already overlap. A process would buy nothing here and cost a start-up, memory of its
//! own and a round trip through the pipes per call (`cargo run -- compare` measures them).
//!
//! And pure computation *in this process* with the GIL released
//! (`py.blocking(|| synckit::gil::spin(units))`) would pass the parallelism target but
//! is not allowed: that is what C extensions such as numpy do for their native loops;
//! Python code needs the GIL to run at all.

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
        Job::Crunch { .. } => py.blocking(|| workers.run(job)),
        // I/O-bound: the thread releases the GIL while it waits; that is all it needs.
        Job::Fetch { wait } => py.io(wait),
    }
}
