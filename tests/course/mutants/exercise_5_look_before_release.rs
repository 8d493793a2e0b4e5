//! Mutant `look_before_release` of solutions/exercise_5.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: keep the plain `Semaphore`, and refuse a check-in when `available()` says every
//! connection is back.
//! Why it fails: two clerks can both look before either releases: both check-ins are accepted
//! and the pool of 2 has 3 (check `two_check_ins_at_once`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

use synckit::{Semaphore, UsageError};

/// At most `size` jobs talk to the database at once.
pub struct Pool {
    permits: Semaphore,
    size: usize,
}

impl Pool {
    /// A pool of `size` connections.
    pub fn new(size: usize) -> Self {
        Pool {
            permits: Semaphore::new(size).named("connections"),
            size,
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
        if self.permits.available() >= self.size {
            return Err(UsageError::OverRelease {
                name: "connections".to_string(),
                max: self.size,
                guarded: 0,
            });
        }
        self.permits.release();
        Ok(())
    }
}
