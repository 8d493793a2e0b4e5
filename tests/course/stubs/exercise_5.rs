//! # Exercise 5 · Semaphore: a pool of permits
//!
//! A semaphore is a counter of permits: `acquire` takes one (waiting while there are none)
//! and gives you a guard; dropping the guard gives the permit back. With 3 permits, at
//! most 3 threads are inside at once: a connection pool, a limit on downloads.
//!
//! A plain `Semaphore` also lets any thread call `release()` (a signal), so a permit
//! returned twice goes unnoticed and the pool of 3 silently becomes a pool of 4. A
//! `BoundedSemaphore` refuses to grow past its initial value and returns a `UsageError`.
//!
//! Mind the Rust trap: `let _ = sem.acquire();` binds nothing (`_` is not a variable), so
//! the guard is dropped on the spot and the permit goes back before the work starts.
//!
//! ## How the check sees an over-subscribed pool every time
//!
//! Three workers share a pool of 2, under synckit's explorer (`synckit::testing::explore`):
//! the threads run one at a time, each job pauses in the middle at a point where another
//! worker may run, and the explorer tries every schedule with at most two preemptions, the
//! same ones on every run. If any schedule lets a third worker in, the check fails, every
//! time. Check-ins are tried the same way, two at once.
//!
//! ## What to do
//!
//! 1. Make `with_connection` keep its permit until `job` has finished.
//! 2. Make the pool a `BoundedSemaphore`, so that `check_in` without a matching `check_out`
//!    is an error (`release()` then returns `Result<(), UsageError>`: return it).
//!
//! `cargo test exercise_5` checks it; `cargo run -- hint 5` if you are stuck.

use synckit::{Semaphore, UsageError};

/// At most `size` jobs talk to the database at once.
pub struct Pool {
    // TODO (2): a plain Semaphore lets a double check-in grow the pool. Use a BoundedSemaphore.
    permits: Semaphore,
}

impl Pool {
    /// A pool of `size` connections.
    pub fn new(size: usize) -> Self {
        Pool {
            permits: Semaphore::new(size).named("connections"),
        }
    }

    /// Free connections right now.
    pub fn free(&self) -> usize {
        self.permits.available()
    }

    /// Runs `job` while holding a connection.
    pub fn with_connection<R>(&self, job: impl FnOnce() -> R) -> R {
        // TODO (1): `let _ =` drops the permit at once. Keep it until `job` returns.
        let _ = self.permits.acquire();
        job()
    }

    /// Takes a connection for code that cannot keep a guard around (Python's bare
    /// `acquire()`): the permit stays taken until `check_in`.
    pub fn check_out(&self) {
        self.permits.acquire().forget();
    }

    /// Gives back a connection taken with `check_out`.
    pub fn check_in(&self) -> Result<(), UsageError> {
        // TODO (2): with a BoundedSemaphore, `release()` reports a release too many.
        self.permits.release();
        Ok(())
    }
}
