//! [`Barrier`]: Python's `threading.Barrier`, a meeting point for a fixed number of threads.
//!
//! Controlled schedules (`testing::explore`): wait, reset and abort start with a scheduling
//! point, and a wait passes the baton instead of waiting on the condvar.

use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::detector::registry::{Global, Kind, ResourceMeta, Site, Waitable};
use crate::detector::wait_for::begin_wait;
use crate::error::{BrokenBarrier, UsageError};
use crate::testing::hook::{self, Op, Park};

/// A barrier for a fixed number of parties, like Python's `threading.Barrier`: each
/// [`wait`](Barrier::wait) blocks until `parties` threads have called it, then all go on,
/// and the barrier is ready for the next round.
///
/// `wait` returns the arrival index (0 for the first to arrive, `parties - 1` for the last),
/// handy to pick one thread for a one-off job. A barrier is *broken* by
/// [`abort`](Barrier::abort), by [`reset`](Barrier::reset) while threads wait, or by a
/// timed-out wait; waiting on a broken barrier is an error, as in Python, until `reset()`.
///
/// The state machine follows CPython's `Lib/threading.py` (filling, draining, resetting,
/// broken), so corner cases behave the same.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use synckit::Barrier;
///
/// let start = Arc::new(Barrier::new(3).named("start"));
/// let threads: Vec<_> = (0..3)
///     .map(|_| {
///         let start = start.clone();
///         std::thread::spawn(move || start.wait().unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = threads.into_iter().map(|t| t.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, vec![0, 1, 2]);
/// ```
pub struct Barrier {
    state: Mutex<BarrierState>,
    cv: Condvar,
    parties: usize,
    meta: ResourceMeta,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    Filling,
    Draining,
    Resetting,
    Broken,
}

struct BarrierState {
    phase: Phase,
    count: usize,
}

impl Barrier {
    /// Creates a barrier for `parties` threads, named `Barrier@file:line`.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (Python raises `ValueError`); [`try_new`](Barrier::try_new) returns
    /// the error instead.
    #[track_caller]
    pub fn new(parties: usize) -> Self {
        match Self::try_new(parties) {
            Ok(b) => b,
            Err(e) => panic!("{e}"),
        }
    }

    /// Creates a barrier for `parties` threads.
    ///
    /// # Errors
    ///
    /// [`UsageError::ZeroParties`] if `parties` is 0.
    #[track_caller]
    pub fn try_new(parties: usize) -> Result<Self, UsageError> {
        if parties == 0 {
            return Err(UsageError::ZeroParties);
        }
        Ok(Barrier {
            state: Mutex::new(BarrierState {
                phase: Phase::Filling,
                count: 0,
            }),
            cv: Condvar::new(),
            parties,
            meta: ResourceMeta::new(Kind::Barrier, Location::caller()),
        })
    }

    /// Gives the barrier a name to show in reports.
    pub fn named(mut self, name: &str) -> Self {
        self.meta.set_name(name);
        self
    }

    /// Waits until all parties have arrived; returns this thread's arrival index.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is or becomes broken while waiting.
    #[track_caller]
    pub fn wait(&self) -> Result<usize, BrokenBarrier> {
        self.wait_inner(None, Location::caller())
    }

    /// Like [`wait`](Barrier::wait), but a wait longer than `timeout` breaks the barrier
    /// (for every party, as in Python) and returns [`BrokenBarrier`].
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] on timeout or if the barrier is or becomes broken.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrier> {
        self.wait_inner(
            Some(Instant::now().checked_add(timeout)),
            Location::caller(),
        )
    }

    fn wait_inner(
        &self,
        deadline: Option<Option<Instant>>,
        site: Site,
    ) -> Result<usize, BrokenBarrier> {
        hook::point(Op::Arrive, &self.meta);
        let mut st = self.state.lock();
        // Block while the previous round drains or a reset is in progress.
        while matches!(st.phase, Phase::Draining | Phase::Resetting) {
            if hook::active() {
                // Controlled schedule: pass the baton until the barrier reopens.
                let park = parking_lot::MutexGuard::unlocked(&mut st, || {
                    hook::park(&self.meta, false, &|| {
                        !matches!(self.state.lock().phase, Phase::Draining | Phase::Resetting)
                    })
                });
                if park == Park::Aborted {
                    hook::abort_unwind();
                }
                continue;
            }
            self.cv.wait(&mut st);
        }
        if st.phase == Phase::Broken {
            return Err(BrokenBarrier);
        }
        let index = st.count;
        st.count += 1;
        let result = if index + 1 == self.parties {
            st.phase = Phase::Draining;
            self.cv.notify_all();
            crate::world::note_progress();
            Ok(index)
        } else {
            drop(st);
            let registration =
                begin_wait(self, self.meta.info(), site, deadline.is_some(), false).ok();
            st = self.state.lock();
            let mut result = Ok(index);
            while st.phase == Phase::Filling {
                match deadline {
                    _ if hook::active() => {
                        // Controlled schedule: pass the baton until the round fills.
                        let timed = deadline.is_some();
                        let park = parking_lot::MutexGuard::unlocked(&mut st, || {
                            hook::park(&self.meta, timed, &|| {
                                self.state.lock().phase != Phase::Filling
                            })
                        });
                        match park {
                            Park::Retry => {}
                            Park::TimedOut => {
                                st.phase = Phase::Broken;
                                self.cv.notify_all();
                                break;
                            }
                            Park::Aborted => hook::abort_unwind(),
                        }
                    }
                    None | Some(None) => self.cv.wait(&mut st),
                    Some(Some(d)) => {
                        if self.cv.wait_until(&mut st, d).timed_out() && st.phase == Phase::Filling
                        {
                            st.phase = Phase::Broken;
                            self.cv.notify_all();
                            break;
                        }
                    }
                }
            }
            if matches!(st.phase, Phase::Broken | Phase::Resetting) {
                result = Err(BrokenBarrier);
            }
            crate::world::leaving_wait();
            drop(st);
            drop(registration);
            st = self.state.lock();
            result
        };
        // Leave: the last one out of a draining or resetting round reopens the barrier.
        st.count -= 1;
        if st.count == 0 && matches!(st.phase, Phase::Draining | Phase::Resetting) {
            st.phase = Phase::Filling;
            self.cv.notify_all();
        }
        result
    }

    /// Returns the barrier to its initial state; threads waiting on it get [`BrokenBarrier`].
    pub fn reset(&self) {
        hook::point(Op::Reset, &self.meta);
        let mut st = self.state.lock();
        if st.count > 0 {
            if matches!(st.phase, Phase::Filling | Phase::Broken) {
                st.phase = Phase::Resetting;
            }
        } else {
            st.phase = Phase::Filling;
        }
        self.cv.notify_all();
        drop(st);
        crate::world::note_progress();
    }

    /// Breaks the barrier: current and future waits fail with [`BrokenBarrier`] until
    /// [`reset`](Barrier::reset).
    pub fn abort(&self) {
        hook::point(Op::Abort, &self.meta);
        self.state.lock().phase = Phase::Broken;
        self.cv.notify_all();
        crate::world::note_progress();
    }

    /// The number of threads required to pass the barrier.
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// The number of threads waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        let st = self.state.lock();
        if st.phase == Phase::Filling {
            st.count
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state.lock().phase == Phase::Broken
    }
}

impl Waitable for Barrier {
    fn owners(&self, _out: &mut Vec<u64>) -> bool {
        false
    }

    fn satisfiable(&self, _waiter: u64) -> bool {
        self.state.lock().phase != Phase::Filling
    }

    fn evidence(&self, _g: &Global) -> Option<String> {
        let st = self.state.lock();
        Some(format!(
            "Barrier `{}` has {} of {} parties; {} more must arrive",
            self.meta.info().display_name(),
            st.count,
            self.parties,
            self.parties - st.count.min(self.parties)
        ))
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.meta.info().display_name())
            .field("parties", &self.parties)
            .field("n_waiting", &self.n_waiting())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_party_passes_at_once_and_zero_is_refused() {
        let b = Barrier::new(1);
        assert_eq!(b.wait(), Ok(0));
        assert_eq!(b.wait(), Ok(0), "the barrier is reusable");
        assert_eq!(Barrier::try_new(0).err(), Some(UsageError::ZeroParties));
    }

    #[test]
    fn abort_breaks_and_reset_mends() {
        let b = Barrier::new(2);
        b.abort();
        assert!(b.broken());
        assert_eq!(b.wait(), Err(BrokenBarrier));
        b.reset();
        assert!(!b.broken());
        assert_eq!(
            b.wait_timeout(Duration::from_millis(5)),
            Err(BrokenBarrier),
            "a timeout breaks it"
        );
        assert!(b.broken());
    }
}
