//! # Exercise 10 · Processes: share nothing, send everything
//!
//! Threads share their process's memory; processes do not. A worker process of a
//! `synckit::process::Pool` is a fresh copy of this program (Python's `spawn` start
//! method) with memory of its own, statics included. It gets its work as bytes through a
//! pipe and sends its result back the same way: arguments in, results out, nothing else.
//! It can run only the functions registered in the `Registry` that `main` hands to
//! `synckit::process::hook` (Python: the target must be importable by the child), because
//! a closure's captured variables live in the parent's memory, which the worker cannot see.
//!
//! The job: the total number of Collatz steps of many numbers, a CPU-bound computation. The
//! stub sends chunks of numbers to the workers and has each worker add its chunk's steps
//! into `TOTAL`, a `Lock<u64>` that looks shared. It is not: each worker adds into *its
//! own* `TOTAL`, and this process's `TOTAL` stays 0. A Lock makes the threads of one process
//! take turns at one piece of memory; processes have no memory in common, so there is
//! nothing for a Lock to guard between them.
//!
//! ## Why the stub fails every time
//!
//! No race and no timing: nobody ever writes this process's `TOTAL` (the workers' writes
//! land in other address spaces), so the stub returns 0 on every run, on any machine.
//!
//! ## What to do
//!
//! 1. Make the worker function *return* its chunk's total (keep its type: a chunk in, a
//!    `u64` out) instead of adding it into `TOTAL`.
//! 2. Keep it registered under `CHUNK_STEPS` in `register`.
//! 3. In `total_steps_in_processes`, `pool.map` it over the chunks and add up the results
//!    here. The answer must equal the serial one, `total_steps(numbers)`.
//!
//! The course calls `register` from the test harness's `main`, first thing, and gives
//! `total_steps_in_processes` a pool of 2 workers.
//!
//! `cargo test exercise_10` checks it; `cargo run -- hint 10` if you are stuck.

use std::sync::LazyLock;

use synckit::Lock;
use synckit::process::{Pool, ProcessError, Registry};

/// How many Collatz steps take `n` down to 1 (halve it if even, `3n + 1` if odd). Some
/// numbers take a few steps, some hundreds: CPU-bound work, worth spreading over processes.
pub fn collatz_steps(mut n: u64) -> u64 {
    let mut steps = 0;
    while n > 1 {
        n = if n.is_multiple_of(2) {
            n / 2
        } else {
            3 * n + 1
        };
        steps += 1;
    }
    steps
}

/// The serial computation, on this thread: the answer the processes must reproduce.
pub fn total_steps(numbers: &[u64]) -> u64 {
    numbers.iter().map(|&n| collatz_steps(n)).sum()
}

/// How many numbers go to a worker in one chunk (one trip through the pipes).
pub const CHUNK: usize = 1000;

/// The name the worker function is registered under.
pub const CHUNK_STEPS: &str = "ex10.add_chunk_to_total";

/// A total that *looks* shared between the processes.
pub static TOTAL: LazyLock<Lock<u64>> = LazyLock::new(|| Lock::new(0).named("TOTAL"));

/// Runs in a worker process, on one chunk of numbers.
pub fn add_chunk_to_total(chunk: Vec<u64>) -> u64 {
    // TODO: this adds into TOTAL, but a worker's TOTAL is the worker's own copy: nobody
    // else will ever read it. Return the chunk's steps instead; that goes back through the
    // pipe. (What it returns now is only how many numbers it counted.)
    *TOTAL.acquire() += total_steps(&chunk);
    chunk.len() as u64
}

/// The functions the course's worker processes can run.
pub fn register(workers: Registry) -> Registry {
    workers.register(CHUNK_STEPS, add_chunk_to_total)
}

/// The total Collatz steps of `numbers`, computed by the pool's worker processes.
pub fn total_steps_in_processes(pool: &Pool, numbers: &[u64]) -> Result<u64, ProcessError> {
    *TOTAL.acquire() = 0;
    let chunks: Vec<Vec<u64>> = numbers.chunks(CHUNK).map(<[u64]>::to_vec).collect();
    // TODO: the workers add into their own TOTALs, and this process reads its own, which
    // nobody touched. Collect what the workers send back and add it up here instead.
    let _counted: Vec<u64> = pool.map(CHUNK_STEPS, &chunks)?;
    Ok(*TOTAL.acquire())
}
