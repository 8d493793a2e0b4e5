//! The peer detectors as [`BenchLock`]s: tracing-mutex, no_deadlocks, deloxide. Shared by the
//! criterion benches and the instruction counter, so that each is measured through one
//! definition.

use super::BenchLock;

/// deloxide's name in this build: its `lock-order-graph` feature is part of `detectors`.
#[cfg(not(feature = "detectors"))]
pub const DELOXIDE_NAME: &str = "deloxide::Mutex";
#[cfg(feature = "detectors")]
pub const DELOXIDE_NAME: &str = "deloxide::Mutex +lock-order-graph";

/// tracing-mutex's std-like Mutex. Its `stdsync::Mutex` is plain std in release builds
/// (it traces only under `debug_assertions`), so the bench names the tracing one directly.
pub struct TracingMutex(tracing_mutex::stdsync::tracing::Mutex<u64>);
impl BenchLock for TracingMutex {
    const NAME: &'static str = "tracing_mutex::Mutex";
    fn new(v: u64) -> Self {
        TracingMutex(tracing_mutex::stdsync::tracing::Mutex::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.lock().unwrap())
    }
}

pub struct NoDeadlocks(no_deadlocks::Mutex<u64>);
impl BenchLock for NoDeadlocks {
    const NAME: &'static str = "no_deadlocks::Mutex";
    fn new(v: u64) -> Self {
        NoDeadlocks(no_deadlocks::Mutex::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.lock().unwrap())
    }
}

pub struct Deloxide(deloxide::Mutex<u64>);
impl BenchLock for Deloxide {
    const NAME: &'static str = DELOXIDE_NAME;
    fn new(v: u64) -> Self {
        Deloxide(deloxide::Mutex::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.lock())
    }
}
