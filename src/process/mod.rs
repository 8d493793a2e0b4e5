//! Worker processes and pipes: the other half of "threads vs processes".
//!
//! Threads share one address space (and, in Python, one GIL); processes share nothing, so
//! CPU-bound work in several processes really runs in parallel, and the price is that every
//! argument and result must be copied through a pipe. A [`Pool`] here is Python's
//! `multiprocessing.Pool` with the `spawn` start method:
//!
//! - **Starting a worker** re-executes the current program with the environment variable
//!   `SYNCKIT_PROCESS_WORKER=1`. Its `main` must call [`hook`] first thing: in a worker, the
//!   hook never returns (it serves tasks until the pool closes the pipe, then exits); in any
//!   other process it returns at once. Nothing is `fork()`ed, so a multi-threaded parent is
//!   safe. A program without the hook is detected by the handshake (a worker's first bytes
//!   are a fixed greeting) and [`Pool::new`] says which line is missing.
//! - **Functions run by name.** A worker can only run what its [`Registry`] names (Python's
//!   "the target must be importable by the child"): a closure cannot cross a process
//!   boundary, its captured memory is not there.
//! - **Data goes through pipes**: the worker's stdin and stdout, as length-prefixed frames of
//!   bytes in a small serialization of synckit's own ([`Wire`]). In the worker, the hook moves
//!   the protocol off fds 0 and 1, so a `println!` in a task goes to stderr and cannot
//!   corrupt it.
//! - **Faults are values.** A task that panics, a worker that exits or is killed, a task that
//!   runs past the pool's timeout: each is a [`ProcessError`] naming the task (function, item,
//!   argument) and the worker (pid, exit status). The worker is replaced and the pool stays
//!   usable. No call waits without a bound: start-up and every task have a timeout.
//!
//! # The one line
//!
//! ```no_run
//! use synckit::process::{Pool, Registry};
//!
//! fn registry() -> Registry {
//!     Registry::new().register("square", |x: u64| x * x)
//! }
//!
//! fn main() {
//!     synckit::process::hook(registry); // first line: a worker starts here and stays here
//!
//!     let pool = Pool::new(2).expect("workers start");
//!     let squares: Vec<u64> = pool.map("square", &[1u64, 2, 3]).unwrap();
//!     assert_eq!(squares, [1, 4, 9]);
//! }
//! ```
//!
//! **In tests.** A `cargo test` binary's `main` belongs to libtest, which would run the whole
//! test suite in every worker. Put pool tests in a test target with `harness = false` whose
//! own `main` calls the hook and then runs the tests (synckit's `tests/process.rs` does this
//! with `libtest-mimic`). [`Pool::new`] refuses to start workers from a program that never
//! called the hook, so a forgotten hook is an error, never a swarm of test runs.

mod compare;
mod dispatch;
mod error;
mod handle;
mod pool;
mod wire;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};

pub use compare::{Comparison, compare};
pub use error::{ProcessError, TaskRef};
pub use pool::{Pool, PoolBuilder, Task};
pub use wire::{MAX_FRAME, Wire, WireError, from_bytes, to_bytes};
pub use worker::Registry;

/// The environment variable that tells a re-executed program it is a worker.
pub const WORKER_ENV: &str = "SYNCKIT_PROCESS_WORKER";

/// Whether this process called [`hook`] (so its re-executions will serve as workers).
static HOOKED: AtomicBool = AtomicBool::new(false);

/// The one line a program that starts worker processes must run first in `main`.
///
/// In a process started by a [`Pool`] (the environment has `SYNCKIT_PROCESS_WORKER=1`), it
/// builds the registry, announces its functions to the pool and serves tasks until the pool
/// closes the pipe; then the process exits. It never returns there. In any other process it
/// notes that the hook is installed and returns at once (the registry is not even built).
///
/// # Panics
///
/// In a worker, if `registry` panics.
///
/// # Examples
///
/// ```no_run
/// fn registry() -> synckit::process::Registry {
///     synckit::process::Registry::new().register("len", |s: String| s.len() as u64)
/// }
///
/// fn main() {
///     synckit::process::hook(registry);
///     // ... the program, which may create Pools ...
/// }
/// ```
pub fn hook(registry: impl FnOnce() -> Registry) {
    HOOKED.store(true, Ordering::SeqCst);
    if is_worker() {
        worker::serve(registry());
    }
}

/// Whether this process was started as a pool's worker.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some_and(|v| v == "1")
}
