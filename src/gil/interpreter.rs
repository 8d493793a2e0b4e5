//! The protocol: the [`Interpreter`] and its GIL, the switch interval, the drop request, and
//! the [`Py`] handle a thread runs "Python" through.

use std::fmt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::trace::{GilTrace, Recorder, Release, State};
use super::work::unit;
use crate::{Lock, LockGuard};

/// CPython's default switch interval (`sys.getswitchinterval()` is 0.005).
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// A simulated Python interpreter: a GIL (an instrumented synckit [`Lock`] named `GIL`), a
/// switch interval and the drop-request protocol of CPython ≥ 3.2. See the
/// [module docs](super).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use synckit::gil::Interpreter;
///
/// // Four threads that each wait 20 ms on "I/O": the waits overlap.
/// let trace = Interpreter::new().run_threads(4, |py| py.io(Duration::from_millis(20)));
/// assert!(trace.max_concurrent_io() >= 2);
/// ```
pub struct Interpreter {
    gil: Lock<()>,
    interval: Duration,
    epoch: Instant,
    shared: Shared,
}

/// The interpreter's bookkeeping beside the lock (CPython's `struct _gil_runtime_state`).
struct Shared {
    /// `gil_drop_request`, set by a waiter whose interval passed with no switch: the tenure
    /// (the `switch_number` its take made) of the holder it asks, 0 for none. Numbered rather
    /// than a flag, so that a request a waiter makes just as another thread takes the GIL
    /// (the waiter saw no switch yet) cannot cut the new holder's first interval short.
    drop_request: AtomicU64,
    /// `switch_number`: bumped every time a thread takes the GIL.
    switch_number: AtomicU64,
    /// Index + 1 of the last thread that took the GIL (0: none yet).
    last_holder: AtomicU64,
    /// When the last take happened (nanoseconds since `epoch`).
    last_take: AtomicU64,
    /// How many threads are waiting to take the GIL.
    waiting: AtomicUsize,
    /// How many drop requests were set.
    drop_requests: AtomicU64,
    /// `switch_cond`: a forced dropper waits here until another thread has taken the GIL.
    switch_mx: Mutex<()>,
    switch_cv: Condvar,
}

impl Default for Interpreter {
    #[track_caller]
    fn default() -> Self {
        Interpreter::new()
    }
}

impl fmt::Debug for Interpreter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Interpreter")
            .field("switch_interval", &self.interval)
            .field("gil_held", &self.gil.locked())
            .finish()
    }
}

impl Interpreter {
    /// An interpreter with the default switch interval, 5 ms.
    #[track_caller]
    pub fn new() -> Self {
        Interpreter {
            gil: Lock::new(()).named("GIL"),
            interval: DEFAULT_SWITCH_INTERVAL,
            epoch: Instant::now(),
            shared: Shared {
                drop_request: AtomicU64::new(0),
                switch_number: AtomicU64::new(0),
                last_holder: AtomicU64::new(0),
                last_take: AtomicU64::new(0),
                waiting: AtomicUsize::new(0),
                drop_requests: AtomicU64::new(0),
                switch_mx: Mutex::new(()),
                switch_cv: Condvar::new(),
            },
        }
    }

    /// Sets the switch interval (Python's `sys.setswitchinterval`).
    ///
    /// # Panics
    ///
    /// If `interval` is zero (Python raises `ValueError` for a non-positive interval).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let py = synckit::gil::Interpreter::new().with_switch_interval(Duration::from_millis(1));
    /// assert_eq!(py.switch_interval(), Duration::from_millis(1));
    /// ```
    pub fn with_switch_interval(mut self, interval: Duration) -> Self {
        assert!(
            !interval.is_zero(),
            "switch interval must be greater than 0 (as in sys.setswitchinterval)"
        );
        self.interval = interval;
        self
    }

    /// The switch interval (Python's `sys.getswitchinterval()`).
    pub fn switch_interval(&self) -> Duration {
        self.interval
    }

    /// Nanoseconds from the interpreter's creation to `t`.
    fn nanos(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.epoch).as_nanos() as u64
    }

    /// Whether some thread holds the GIL right now (a momentary answer).
    pub fn gil_held(&self) -> bool {
        self.gil.locked()
    }

    /// Runs `n` interpreter threads, named `py-0` … `py-{n-1}`, each calling `work` with its
    /// own [`Py`] handle (its index is [`Py::index`]), and returns the trace of who held the
    /// GIL when. Each thread takes the GIL before `work` starts and gives it back when `work`
    /// returns, like a Python thread's bootstrap. The threads are synckit threads: inside
    /// [`check`](crate::check) they belong to the closed world.
    ///
    /// # Panics
    ///
    /// If a thread's `work` panics (the first panic is re-raised, with its message, once
    /// every thread has finished), including a detector report under the default policy.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use synckit::gil::{Interpreter, units_for};
    ///
    /// let units = units_for(Duration::from_millis(5));
    /// let trace = Interpreter::new().run_threads(3, |py| {
    ///     py.compute(units);                      // holds the GIL
    ///     py.io(Duration::from_millis(5));        // releases it
    /// });
    /// assert_eq!(trace.threads(), 3);
    /// assert!(trace.voluntary_releases() >= 3);
    /// ```
    pub fn run_threads<F>(&self, n: usize, work: F) -> GilTrace
    where
        F: Fn(&mut Py<'_>) + Sync,
    {
        let epoch = Instant::now();
        let drop_requests_before = self.shared.drop_requests.load(Ordering::Relaxed);
        let work = &work;
        let origins: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
        let origins = &origins[..];
        let results: Vec<std::thread::Result<Recorder>> = crate::thread::scope(|s| {
            let handles: Vec<_> = (0..n)
                .map(|index| {
                    s.spawn_named(&format!("py-{index}"), move || {
                        let mut py = Py::start(self, origins, index);
                        work(&mut py);
                        py.finish()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join()).collect()
        });
        let mut recorders = Vec::with_capacity(n);
        let mut first_panic = None;
        for r in results {
            match r {
                Ok(rec) => recorders.push(rec),
                Err(payload) => {
                    if first_panic.is_none() {
                        first_panic = Some(payload);
                    }
                }
            }
        }
        if let Some(payload) = first_panic {
            std::panic::resume_unwind(payload);
        }
        let drop_requests =
            self.shared.drop_requests.load(Ordering::Relaxed) - drop_requests_before;
        GilTrace::build(epoch, self.interval, recorders, drop_requests)
    }
}

/// A thread's handle on the [`Interpreter`]: run "Python" with it. Given to the `work` of
/// [`Interpreter::run_threads`]; it holds the GIL whenever it is not inside [`io`](Py::io) or
/// [`blocking`](Py::blocking). Not `Send`: it belongs to its thread, like a `PyThreadState`.
pub struct Py<'a> {
    interp: &'a Interpreter,
    /// Per thread of the run: when its current wait's chain of intervals started
    /// (nanoseconds since the interpreter's epoch, plus one), 0 when not waiting.
    origins: &'a [AtomicU64],
    guard: Option<LockGuard<'a, ()>>,
    /// The `switch_number` this thread's last take made (see `drop_request`).
    tenure: u64,
    rec: Recorder,
}

impl fmt::Debug for Py<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Py")
            .field("index", &self.rec.index)
            .field("holds_gil", &self.guard.is_some())
            .finish()
    }
}

impl<'a> Py<'a> {
    #[track_caller]
    fn start(interp: &'a Interpreter, origins: &'a [AtomicU64], index: usize) -> Self {
        let now = Instant::now();
        let mut py = Py {
            interp,
            origins,
            guard: None,
            tenure: 0,
            rec: Recorder {
                index,
                spans: Vec::new(),
                current: Some((State::Waiting, now)),
                handovers: 0,
                forced: 0,
            },
        };
        py.take_gil(None);
        py
    }

    fn finish(mut self) -> Recorder {
        self.drop_gil(Release::Voluntary, None);
        std::mem::replace(
            &mut self.rec,
            Recorder {
                index: 0,
                spans: Vec::new(),
                current: None,
                handovers: 0,
                forced: 0,
            },
        )
    }

    /// This thread's index in [`Interpreter::run_threads`] (thread `py-N` has index `N`).
    pub fn index(&self) -> usize {
        self.rec.index
    }

    /// How many times this thread has been made to give the GIL up so far (forced switches).
    ///
    /// # Examples
    ///
    /// ```
    /// use synckit::gil::Interpreter;
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    ///
    /// // Compute until every thread has been preempted twice.
    /// let satisfied = AtomicUsize::new(0);
    /// let trace = Interpreter::new().run_threads(2, |py| {
    ///     let mut counted = false;
    ///     while satisfied.load(Ordering::SeqCst) < 2 {
    ///         py.compute(100);
    ///         if !counted && py.forced_switches() >= 2 {
    ///             counted = true;
    ///             satisfied.fetch_add(1, Ordering::SeqCst);
    ///         }
    ///     }
    /// });
    /// assert!(trace.forced_switches() >= 4);
    /// ```
    pub fn forced_switches(&self) -> u64 {
        self.rec.forced
    }

    /// The interpreter's switch interval.
    pub fn switch_interval(&self) -> Duration {
        self.interp.interval
    }

    /// Does `units` units of real CPU work while holding the GIL (see
    /// [`units_for`](super::units_for) to turn a duration into units). Between units it checks
    /// the drop request, like CPython's eval loop checks its eval breaker: when another thread
    /// has waited a whole switch interval, this thread drops the GIL (a forced switch), waits
    /// until another thread has taken it, and queues for it again. Returns a checksum of the
    /// work.
    ///
    /// # Panics
    ///
    /// Under the default detector policy, if taking the GIL back would close a deadlock
    /// cycle (see [`Lock::acquire`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use synckit::gil::Interpreter;
    /// let trace = Interpreter::new().run_threads(1, |py| {
    ///     assert_ne!(py.compute(1000), 0);
    /// });
    /// assert_eq!(trace.forced_switches(), 0); // alone: nobody asks it to switch
    /// ```
    #[track_caller]
    pub fn compute(&mut self, units: u64) -> u64 {
        let mut x = 0x9e37_79b9_7f4a_7c15u64 ^ self.rec.index as u64;
        for _ in 0..units {
            x = unit(std::hint::black_box(x));
            if self.drop_requested() {
                self.forced_switch();
            }
        }
        x
    }

    /// Simulated I/O: releases the GIL, sleeps `duration` (the thread is blocked, like in
    /// `time.sleep` or `socket.recv`), and takes the GIL back.
    ///
    /// # Panics
    ///
    /// As [`compute`](Py::compute), when taking the GIL back.
    #[track_caller]
    pub fn io(&mut self, duration: Duration) {
        self.blocking(|| std::thread::sleep(duration));
    }

    /// Runs `f` with the GIL released (CPython's `Py_BEGIN_ALLOW_THREADS` …
    /// `Py_END_ALLOW_THREADS`) and takes the GIL back before returning `f`'s result. Use it
    /// around anything that blocks: reading a file, waiting on a channel, acquiring a lock
    /// that another interpreter thread may hold, waiting on a process [`Pool`].
    ///
    /// [`Pool`]: crate::process::Pool
    ///
    /// # Panics
    ///
    /// If `f` panics (re-raised, after taking the GIL back); as [`compute`](Py::compute),
    /// when taking the GIL back.
    ///
    /// # Examples
    ///
    /// ```
    /// use synckit::gil::Interpreter;
    /// let trace = Interpreter::new().run_threads(2, |py| {
    ///     let data = py.blocking(|| std::fs::read("Cargo.toml").unwrap_or_default());
    ///     py.compute(data.len() as u64);
    /// });
    /// assert!(trace.voluntary_releases() >= 2);
    /// ```
    #[track_caller]
    pub fn blocking<R>(&mut self, f: impl FnOnce() -> R) -> R {
        self.drop_gil(Release::Voluntary, Some(State::Io));
        let result = std::panic::catch_unwind(AssertUnwindSafe(f));
        self.rec.switch(Some(State::Waiting), Instant::now(), None);
        self.take_gil(None);
        match result {
            Ok(r) => r,
            Err(payload) => std::panic::resume_unwind(payload),
        }
    }

    /// The eval breaker: a pending drop request, or a waiter's interval that has passed with
    /// no switch (the request its timed wait would set, had the OS woken it on time).
    #[inline]
    fn drop_requested(&self) -> bool {
        let shared = &self.interp.shared;
        let request = shared.drop_request.load(Ordering::Relaxed);
        if request != 0 && request == self.tenure {
            return true;
        }
        if shared.waiting.load(Ordering::Relaxed) == 0 {
            return false;
        }
        self.an_interval_has_passed()
    }

    #[cold]
    fn an_interval_has_passed(&self) -> bool {
        let interval = self.interp.interval.as_nanos() as u64;
        let now = self.interp.nanos(Instant::now());
        let taken = self.interp.shared.last_take.load(Ordering::Acquire);
        for origin in self.origins {
            let origin = origin.load(Ordering::Acquire);
            if origin == 0 {
                continue;
            }
            let origin = origin - 1;
            // The waiter's timed waits end at origin + k·interval; the first one that saw no
            // take is the first whose interval starts at or after the last take.
            let k = taken.saturating_sub(origin).div_ceil(interval) + 1;
            if now >= origin + k * interval {
                let shared = &self.interp.shared;
                if shared.drop_request.swap(self.tenure, Ordering::AcqRel) != self.tenure {
                    shared.drop_requests.fetch_add(1, Ordering::Relaxed);
                }
                return true;
            }
        }
        false
    }

    /// Gives the GIL back: ends the holding span (`released`) and starts `next`.
    fn drop_gil(&mut self, released: Release, next: Option<State>) {
        let now = Instant::now();
        self.rec.switch(next, now, Some(released));
        // The span ends before the release: no two holding spans can overlap on the trace.
        drop(self.guard.take());
    }

    /// The forced switch: drop, wait until another thread took the GIL, take it again.
    #[track_caller]
    fn forced_switch(&mut self) {
        let shared = &self.interp.shared;
        let seen = shared.switch_number.load(Ordering::Acquire);
        self.rec.forced += 1;
        self.drop_gil(Release::Forced, Some(State::Waiting));
        // FORCE_SWITCHING: do not race the requester for the GIL we just dropped. Bounded,
        // in case the requester is gone (it never is while run_threads runs).
        let deadline = Instant::now() + self.interp.interval;
        let mut g = shared.switch_mx.lock();
        while shared.switch_number.load(Ordering::Acquire) == seen {
            if shared.switch_cv.wait_until(&mut g, deadline).timed_out() {
                break;
            }
        }
        drop(g);
        // Woken by the switch: its chain of intervals starts at that take, as if on time.
        let origin = if shared.switch_number.load(Ordering::Acquire) != seen {
            Some(shared.last_take.load(Ordering::Acquire))
        } else {
            None
        };
        self.take_gil(origin);
    }

    /// CPython's `take_gil`: a timed wait of one interval; an interval with no switch sets
    /// the drop request; then an untimed wait. `origin`: when this thread's chain of intervals
    /// starts (now, if `None`).
    #[track_caller]
    fn take_gil(&mut self, origin: Option<u64>) {
        let interp = self.interp;
        let shared = &interp.shared;
        let slot = &self.origins[self.rec.index];
        let origin = origin.unwrap_or_else(|| interp.nanos(Instant::now()));
        slot.store(origin + 1, Ordering::Release);
        shared.waiting.fetch_add(1, Ordering::AcqRel);
        struct NotWaiting<'s>(&'s AtomicUsize, &'s AtomicU64);
        impl Drop for NotWaiting<'_> {
            fn drop(&mut self) {
                self.1.store(0, Ordering::Release);
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let not_waiting = NotWaiting(&shared.waiting, slot);
        // One timed wait of an interval, as CPython's waiter does; if nobody took the GIL
        // meanwhile, set the drop request. Then wait untimed: in the lock's queue (first come,
        // first served, where re-parking every interval would let later threads overtake
        // and starve this one), visible to the detector as a real wait. From then on the
        // holder's check keeps this waiter's intervals (`an_interval_has_passed`).
        let seen = shared.switch_number.load(Ordering::Acquire);
        let guard = match interp.gil.acquire_timeout(interp.interval) {
            Some(g) => g,
            None => {
                // A request against the holder this waiter saw (its tenure is `seen`).
                if seen != 0
                    && shared.switch_number.load(Ordering::Acquire) == seen
                    && shared.drop_request.swap(seen, Ordering::AcqRel) != seen
                {
                    shared.drop_requests.fetch_add(1, Ordering::Relaxed);
                }
                interp.gil.acquire()
            }
        };
        let now = Instant::now();
        shared.last_take.store(interp.nanos(now), Ordering::Release);
        // A new tenure: requests against earlier holders no longer match.
        self.tenure = shared.switch_number.fetch_add(1, Ordering::AcqRel) + 1;
        drop(not_waiting);
        let me = self.rec.index as u64 + 1;
        let previous = shared.last_holder.swap(me, Ordering::AcqRel);
        if previous != 0 && previous != me {
            self.rec.handovers += 1;
        }
        {
            let _g = shared.switch_mx.lock();
            shared.switch_cv.notify_all();
        }
        self.guard = Some(guard);
        self.rec.switch(Some(State::Holding), now, None);
    }
}

impl Drop for Py<'_> {
    fn drop(&mut self) {
        // On unwinding out of `work`: give the GIL back so the other threads can finish.
        drop(self.guard.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_run_has_an_empty_trace() {
        let t = Interpreter::new().run_threads(0, |_| {});
        assert_eq!((t.threads(), t.max_concurrent_holders()), (0, 0));
        assert_eq!(t.parallelism(), 0.0);
    }

    #[test]
    #[should_panic(expected = "switch interval")]
    fn a_zero_interval_is_refused() {
        let _ = Interpreter::new().with_switch_interval(Duration::ZERO);
    }
}
