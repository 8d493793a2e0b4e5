//! Mutant `running_total` of solutions/exercise_10.rs: a wrong fix, kept so that the course
//! shows its checks catch it.
//!
//! Wrong fix: keep a running total in the worker and send that back.
//! Why it fails: a worker that ran several chunks sends back the sum of all of them each time:
//! the parent counts them again and again (check `processes_match_the_serial_total`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
pub const CHUNK_STEPS: &str = "ex10.mutant.running_total";

/// Runs in a worker process, on one chunk of numbers: its total goes back as the result.
pub fn chunk_steps(chunk: Vec<u64>) -> u64 {
    static TOTAL: std::sync::LazyLock<synckit::Lock<u64>> =
        std::sync::LazyLock::new(|| synckit::Lock::new(0).named("TOTAL"));
    let mut total = TOTAL.acquire();
    *total += total_steps(&chunk);
    *total
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
