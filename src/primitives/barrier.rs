//! [`Barrier`]: Python's `threading.Barrier`, a meeting point for a fixed number of threads.
//!
//! Controlled schedules (`testing::explore`): wait, reset and abort start with a scheduling
//! point, and a wait passes the baton instead of waiting on the condvar.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::blocking::{self, Deadline, OnCondvar, Wait};
use crate::detector::registry::{Waitable, notify_observer};
use crate::detector::report::{Evidence, Step};
use crate::detector::resource::{Kind, Resource, Site};
use crate::detector::{Deadlock, Delivery};
use crate::error::{BrokenBarrier, UsageError};
use crate::sched::{self, Op};

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
    meta: Resource,
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
            meta: Resource::new(Kind::Barrier, Location::caller()),
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
        match self.wait_inner(Deadline::Never, Location::caller(), Delivery::Policy) {
            Ok(result) => result,
            Err(refused) => refused.raise(),
        }
    }

    /// Like [`wait`](Barrier::wait), returning the detector's report as a value: the outer
    /// `Result` is the detector's verdict on the wait, the inner one the barrier's own.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] inside [`check`](crate::check), when this wait would leave every thread
    /// of the world blocked: the missing parties can never arrive. The thread's arrival is
    /// then taken back.
    ///
    /// # Examples
    ///
    /// ```
    /// let outcome = synckit::check(|| synckit::Barrier::new(2).named("meet").wait_checked());
    /// let report = outcome.unwrap().unwrap_err().into_report();
    /// assert!(report.to_string().contains("1 of 2 parties"));
    /// ```
    #[track_caller]
    pub fn wait_checked(&self) -> Result<Result<usize, BrokenBarrier>, Deadlock> {
        self.wait_inner(Deadline::Never, Location::caller(), Delivery::Return)
    }

    /// Like [`wait`](Barrier::wait), but a wait longer than `timeout` breaks the barrier
    /// (for every party, as in Python) and returns [`BrokenBarrier`].
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] on timeout or if the barrier is or becomes broken.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrier> {
        match self.wait_inner(
            Deadline::after(timeout),
            Location::caller(),
            Delivery::Policy,
        ) {
            Ok(result) => result,
            Err(refused) => refused.raise(),
        }
    }

    fn wait_inner(
        &self,
        deadline: Deadline,
        site: Site,
        how: Delivery,
    ) -> Result<Result<usize, BrokenBarrier>, Deadlock> {
        sched::point(Op::Arrive, &self.meta);
        let wait = |deadline| Wait::on(self, &self.meta, site, deadline, how);
        let reopened =
            |st: &mut BarrierState| !matches!(st.phase, Phase::Draining | Phase::Resetting);
        if !reopened(&mut self.state.lock()) {
            // The previous round drains or a reset is in progress: wait until it reopens.
            let mut sleeper = OnCondvar::new(&self.state, &self.cv, reopened, |_| {}, |_| {});
            blocking::block(&wait(Deadline::Never), &mut sleeper)?;
        }
        let mut st = self.state.lock();
        if st.phase == Phase::Broken {
            return Ok(Err(BrokenBarrier));
        }
        let index = st.count;
        st.count += 1;
        let result = if index + 1 == self.parties {
            st.phase = Phase::Draining;
            self.cv.notify_all();
            drop(st);
            notify_observer(|o, me| o.happened(me, Step::on(Op::Arrive, self.meta.info())));
            Ok(index)
        } else {
            drop(st);
            let mut sleeper = OnCondvar::new(
                &self.state,
                &self.cv,
                |st| st.phase != Phase::Filling,
                |_| {},
                |st| {
                    // A timeout breaks the barrier for every party, as in Python.
                    st.phase = Phase::Broken;
                    self.cv.notify_all();
                },
            );
            if let Err(refused) = blocking::block(&wait(deadline), &mut sleeper) {
                self.state.lock().count -= 1; // this party never arrived after all
                return Err(refused);
            }
            match self.state.lock().phase {
                Phase::Broken | Phase::Resetting => Err(BrokenBarrier),
                _ => Ok(index),
            }
        };
        // Leave: the last one out of a draining or resetting round reopens the barrier.
        let mut st = self.state.lock();
        st.count -= 1;
        if st.count == 0 && matches!(st.phase, Phase::Draining | Phase::Resetting) {
            st.phase = Phase::Filling;
            self.cv.notify_all();
        }
        Ok(result)
    }

    /// Returns the barrier to its initial state; threads waiting on it get [`BrokenBarrier`].
    pub fn reset(&self) {
        sched::point(Op::Reset, &self.meta);
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
        notify_observer(|o, me| o.happened(me, Step::on(Op::Reset, self.meta.info())));
    }

    /// Breaks the barrier: current and future waits fail with [`BrokenBarrier`] until
    /// [`reset`](Barrier::reset).
    pub fn abort(&self) {
        sched::point(Op::Abort, &self.meta);
        self.state.lock().phase = Phase::Broken;
        self.cv.notify_all();
        notify_observer(|o, me| o.happened(me, Step::on(Op::Abort, self.meta.info())));
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

    fn evidence(&self) -> Option<Evidence> {
        Some(Evidence::Barrier {
            name: self.meta.display_name(),
            arrived: self.state.lock().count,
            parties: self.parties,
        })
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("name", &self.meta.display_name())
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
