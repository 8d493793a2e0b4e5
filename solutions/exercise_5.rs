//! # Exercise 5 · Semaphore: a pool of permits (solution)
//!
//! A semaphore is a counter of permits: `acquire` takes one (waiting while there are none)
//! and gives you a guard; dropping the guard gives the permit back. With 3 permits, at
//! most 3 threads are inside at once: a connection pool, a limit on downloads.
//!
//! ## Why this works
//!
//! 1. `let _permit = ...` binds the guard to a variable, which lives to the end of the
//!    function: the permit is held for the whole job and returned when the job is done
//!    (even if it panics: the guard is dropped while unwinding). At most 3 jobs run at once.
//! 2. A `BoundedSemaphore` knows its maximum. `check_in` without a matching `check_out`
//!    would take it above 3, so `release()` refuses with `UsageError::OverRelease` and
//!    leaves the value unchanged: the bug is reported where it happens instead of turning
//!    into a pool that quietly lets 4 in.

use synckit::{BoundedSemaphore, UsageError};

/// At most `size` jobs talk to the database at once.
pub struct Pool {
    permits: BoundedSemaphore,
}

impl Pool {
    /// A pool of `size` connections.
    pub fn new(size: usize) -> Self {
        Pool {
            permits: BoundedSemaphore::new(size).named("connections"),
        }
    }

    /// Free connections right now.
    pub fn free(&self) -> usize {
        self.permits.available()
    }

    /// Runs `job` while holding a connection.
    pub fn with_connection<R>(&self, job: impl FnOnce() -> R) -> R {
        let _permit = self.permits.acquire(); // held until the end of this function
        job()
    }

    /// Takes a connection for code that cannot keep a guard around (Python's bare
    /// `acquire()`): the permit stays taken until `check_in`.
    pub fn check_out(&self) {
        self.permits.acquire().forget();
    }

    /// Gives back a connection taken with `check_out`.
    pub fn check_in(&self) -> Result<(), UsageError> {
        self.permits.release()
    }
}
