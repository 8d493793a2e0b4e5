//! # Exercise 10 · Processes: share nothing, send everything (solution)
//!
//! Threads share their process's memory; processes do not. A worker process of a
//! `synckit::process::Pool` is a fresh copy of this program with memory of its own,
//! statics included. It gets its work as bytes through a pipe and sends its result back
//! the same way: arguments in, results out, nothing else.
//!
//! ## Why this works
//!
//! The worker function no longer writes anywhere: it returns its chunk's total, and the
//! pool carries that `u64` back through the pipe. The parent receives one partial total
//! per chunk, in order, and adds them up itself, in one place, on one thread: there is no
//! shared state left, so there is nothing to lock. Addition does not care how the numbers
//! were split, so the sum of the partial totals is the serial total.
//!
//! This is the shape of almost every use of a process pool (Python's `pool.map`, or
//! map-reduce at scale): split the input, send each piece, compute with no side effects,
//! send the results back, combine. Chunks matter: each call costs a round trip through the
//! pipes, so a chunk of a thousand numbers pays it once instead of a thousand times.
//!
//! Python does have shared memory between processes (`multiprocessing.Value`, `Array`,
//! a `Manager`), but it is a special, explicitly shared object with its own lock, never an
//! ordinary variable; results sent back are simpler and safer.
//!
//! (The registered name differs from the stub's, `ex10.add_chunk_to_total`, because the
//! project's own test run registers both files in one worker registry.)

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
pub const CHUNK_STEPS: &str = "ex10.chunk_steps";

/// Runs in a worker process, on one chunk of numbers: its total goes back as the result.
pub fn chunk_steps(chunk: Vec<u64>) -> u64 {
    total_steps(&chunk)
}

/// The functions the course's worker processes can run.
pub fn register(workers: Registry) -> Registry {
    workers.register(CHUNK_STEPS, chunk_steps)
}

/// The total Collatz steps of `numbers`, computed by the pool's worker processes.
pub fn total_steps_in_processes(pool: &Pool, numbers: &[u64]) -> Result<u64, ProcessError> {
    let chunks: Vec<Vec<u64>> = numbers.chunks(CHUNK).map(<[u64]>::to_vec).collect();
    // Each chunk crosses the pipe to a worker; each partial total crosses back.
    let partials: Vec<u64> = pool.map(CHUNK_STEPS, &chunks)?;
    Ok(partials.iter().sum())
}
