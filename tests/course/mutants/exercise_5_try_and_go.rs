//! Mutant `try_and_go` of solutions/exercise_5.rs: a wrong fix, kept so that the course shows
//! its checks catch it.
//!
//! Wrong fix: `try_acquire` for the connection, and run the job either way.
//! Why it fails: a worker that finds no permit runs anyway: three workers are connected through
//! a pool of 2 (check `pool_of_2_for_3_workers`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
        let _permit = self.permits.try_acquire(); // never keep a worker waiting // held until the end of this function
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
