//! A simulated Global Interpreter Lock: see, and measure, why CPU-bound Python threads do not
//! run in parallel while I/O-bound ones do.
//!
//! An [`Interpreter`] owns a GIL that is an ordinary, instrumented synckit [`Lock`] named
//! `GIL`: it shows in the detector's reports (who holds it, who waits for it, at which line of
//! *your* code), in closed worlds' dumps and in the lock-order graph. Threads run "Python"
//! through a [`Py`] handle:
//!
//! - [`Py::compute`] does real CPU work while holding the GIL. Like CPython's eval loop it
//!   checks a *drop request* between units of work and yields the GIL when one is set.
//! - [`Py::io`] and [`Py::blocking`] release the GIL around a blocking call and take it back
//!   after (what CPython does around `time.sleep`, `socket.recv`, `lock.acquire`, ...).
//!
//! **The switch interval** (CPython ≥ 3.2, `sys.getswitchinterval()`, 5 ms by default): a
//! thread that wants the GIL waits for it at most one interval; if no thread took the GIL
//! during that interval it sets the drop request, and the holder drops the GIL at its next
//! check (a *forced switch*) and then waits until another thread has taken it before asking
//! for it again (CPython's `FORCE_SWITCHING`), so the requester really gets its turn.
//!
//! Two idealisations, both so that the trace shows the protocol rather than the OS scheduler:
//!
//! - A waiter makes one timed wait of an interval (and sets the request if no switch
//!   happened), then waits in the lock's queue, untimed. CPython's waiter instead re-waits
//!   every interval, which on a busy machine wakes it late (a woken thread may wait several
//!   milliseconds for a CPU, stretching the interval) and sends it to the back of the queue
//!   each time (with three or more threads, one can starve). Here the holder's check keeps
//!   each waiter's intervals itself and sets the request the moment one has passed with no
//!   switch, exactly when the waiter's own timed wait would have.
//! - Because the waits are untimed, the detector sees them: a thread that holds the GIL and
//!   blocks on a lock held by a thread waiting for the GIL (C code that forgot
//!   `Py_BEGIN_ALLOW_THREADS`) is reported as a deadlock cycle through `GIL`.
//!
//! [`Interpreter::run_threads`] runs `n` threads and returns a [`GilTrace`]: every span of
//! every thread (holding, waiting for the GIL, outside it), the forced and voluntary releases,
//! the drop requests and the wait times. It renders as lanes:
//!
//! ```text
//!          0 ms                                                           80.4 ms
//!   py-0  │███·····███·····███·····█████······███······█████···│
//!   py-1  │···███·····███······█████·····████·····██████···████│
//! ```
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use synckit::gil::{Interpreter, units_for};
//!
//! let py = Interpreter::new().with_switch_interval(Duration::from_millis(1));
//! let work = units_for(Duration::from_millis(10));
//! let trace = py.run_threads(2, |py| {
//!     py.compute(work);
//! });
//! assert!(trace.max_concurrent_holders() <= 1); // the GIL: one thread at a time
//! println!("{trace}");
//! ```

use std::fmt::{self, Write as _};
use std::panic::AssertUnwindSafe;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::{Lock, LockGuard};

/// CPython's default switch interval (`sys.getswitchinterval()` is 0.005).
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// Rounds of the mixing function in one unit of [`Py::compute`] work.
const UNIT_ROUNDS: u32 = 128;

/// One unit of CPU work: a few dozen nanoseconds to a microsecond depending on the machine
/// (see [`units_for`]). Not inlined, so the optimiser cannot fold units together.
#[inline(never)]
fn unit(mut x: u64) -> u64 {
    for _ in 0..UNIT_ROUNDS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x = x.wrapping_mul(0x2545_f491_4f6c_dd1d);
    }
    x
}

/// Does `units` units of the same CPU work as [`Py::compute`], with no interpreter and no
/// GIL: what a worker process or a native extension runs. Returns a checksum (use it, or the
/// work may be optimised away).
///
/// # Examples
///
/// ```
/// let a = synckit::gil::spin(1000);
/// assert_eq!(a, synckit::gil::spin(1000)); // deterministic
/// ```
pub fn spin(units: u64) -> u64 {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..units {
        x = unit(std::hint::black_box(x));
    }
    x
}

/// How many units of [`Py::compute`] (or [`spin`]) work take about `duration` on this
/// machine. Calibrated once per process (about 20 ms, the first time), at least 1.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// let units = synckit::gil::units_for(Duration::from_millis(2));
/// assert!(units >= 1);
/// ```
pub fn units_for(duration: Duration) -> u64 {
    static PER_SEC: OnceLock<f64> = OnceLock::new();
    let per_sec = *PER_SEC.get_or_init(|| {
        // Warm up, then take the best of three short runs (least disturbed by the OS).
        let _ = spin(2_000);
        let mut best = 0.0f64;
        for _ in 0..3 {
            let n = 20_000u64;
            let start = Instant::now();
            std::hint::black_box(spin(n));
            let secs = start.elapsed().as_secs_f64().max(1e-9);
            best = best.max(n as f64 / secs);
        }
        best
    });
    ((per_sec * duration.as_secs_f64()).round() as u64).max(1)
}

/// A simulated Python interpreter: a GIL (an instrumented synckit [`Lock`] named `GIL`), a
/// switch interval and the drop-request protocol of CPython ≥ 3.2. See the
/// [module docs](self).
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
    /// `gil_drop_request`: set by a waiter whose interval passed with no switch.
    drop_request: AtomicBool,
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
                drop_request: AtomicBool::new(false),
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

/// What a thread is doing, as a [`GilTrace`] records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Holding the GIL: running "Python" (drawn `█`).
    Holding,
    /// Waiting to take the GIL (drawn `·`).
    Waiting,
    /// Outside the interpreter: in I/O or another blocking call, GIL released (drawn `~`).
    Io,
}

impl State {
    /// The character the lanes draw for this state.
    pub fn glyph(self) -> char {
        match self {
            State::Holding => '█',
            State::Waiting => '·',
            State::Io => '~',
        }
    }
}

/// Why a thread gave the GIL back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Release {
    /// A waiter's drop request (or its untimed wait) made the holder yield: a forced switch.
    Forced,
    /// The thread released it itself: around I/O or a blocking call, or when it finished.
    Voluntary,
}

/// One span of one thread's time, on the trace's clock (time since the run started).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The thread's index (`py-N`).
    pub thread: usize,
    /// What the thread was doing.
    pub state: State,
    /// When the span started.
    pub start: Duration,
    /// When it ended.
    pub end: Duration,
    /// For a [`State::Holding`] span: how the GIL was given back.
    pub released: Option<Release>,
}

impl Span {
    /// How long the span lasted.
    pub fn len(&self) -> Duration {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span has zero length.
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// One thread's records, kept on its own thread (no sharing while it runs).
struct Recorder {
    index: usize,
    spans: Vec<(State, Instant, Instant, Option<Release>)>,
    current: Option<(State, Instant)>,
    handovers: u64,
    forced: u64,
}

impl Recorder {
    /// Ends the current span (if any) at `now` and starts `next` there.
    fn switch(&mut self, next: Option<State>, now: Instant, released: Option<Release>) {
        if let Some((state, since)) = self.current.take() {
            let released = if state == State::Holding {
                released
            } else {
                None
            };
            self.spans.push((state, since, now, released));
        }
        self.current = next.map(|s| (s, now));
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

    /// Does `units` units of real CPU work while holding the GIL (see [`units_for`] to turn a
    /// duration into units). Between units it checks the drop request, like CPython's eval
    /// loop checks its eval breaker: when another thread has waited a whole switch interval,
    /// this thread drops the GIL (a forced switch), waits until another thread has taken it,
    /// and queues for it again. Returns a checksum of the work.
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
        if shared.drop_request.load(Ordering::Relaxed) {
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
                if !shared.drop_request.swap(true, Ordering::AcqRel) {
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
                if shared.switch_number.load(Ordering::Acquire) == seen
                    && !shared.drop_request.swap(true, Ordering::AcqRel)
                {
                    shared.drop_requests.fetch_add(1, Ordering::Relaxed);
                }
                interp.gil.acquire()
            }
        };
        let now = Instant::now();
        shared.drop_request.store(false, Ordering::Release);
        shared.last_take.store(interp.nanos(now), Ordering::Release);
        shared.switch_number.fetch_add(1, Ordering::AcqRel);
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

/// The record of one [`Interpreter::run_threads`]: every thread's spans and the GIL's
/// switches. `Display` draws the lanes and the summary.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use synckit::gil::{Interpreter, State, units_for};
///
/// let units = units_for(Duration::from_millis(20));
/// let trace = Interpreter::new().run_threads(2, |py| { py.compute(units); });
/// // Check the GIL's invariant yourself: holding spans never overlap.
/// let mut holds: Vec<_> = trace.spans().iter().filter(|s| s.state == State::Holding).collect();
/// holds.sort_by_key(|s| s.start);
/// assert!(holds.windows(2).all(|w| w[0].end <= w[1].start));
/// ```
#[derive(Clone, Debug)]
pub struct GilTrace {
    spans: Vec<Span>,
    threads: usize,
    wall: Duration,
    interval: Duration,
    drop_requests: u64,
    handovers: u64,
}

impl GilTrace {
    fn build(
        epoch: Instant,
        interval: Duration,
        recorders: Vec<Recorder>,
        drop_requests: u64,
    ) -> Self {
        let threads = recorders.len();
        let mut spans = Vec::new();
        let mut handovers = 0;
        for rec in recorders {
            handovers += rec.handovers;
            for (state, start, end, released) in rec.spans {
                spans.push(Span {
                    thread: rec.index,
                    state,
                    start: start.saturating_duration_since(epoch),
                    end: end.saturating_duration_since(epoch),
                    released,
                });
            }
        }
        spans.sort_by_key(|s| (s.start, s.thread));
        let wall = spans.iter().map(|s| s.end).max().unwrap_or_default();
        GilTrace {
            spans,
            threads,
            wall,
            interval,
            drop_requests,
            handovers,
        }
    }

    /// Every span of every thread, sorted by start time.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// How many threads ran.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// From the start of the run to the end of its last span.
    pub fn wall(&self) -> Duration {
        self.wall
    }

    /// The switch interval the interpreter ran with.
    pub fn switch_interval(&self) -> Duration {
        self.interval
    }

    fn total(&self, state: State) -> Duration {
        self.spans
            .iter()
            .filter(|s| s.state == state)
            .map(Span::len)
            .sum()
    }

    /// Total time the GIL was held, over all threads: the CPU time spent running "Python".
    pub fn cpu_busy(&self) -> Duration {
        self.total(State::Holding)
    }

    /// Total time threads spent outside the interpreter (I/O, blocking calls).
    pub fn io_time(&self) -> Duration {
        self.total(State::Io)
    }

    /// Total time threads spent waiting for the GIL.
    pub fn wait_time(&self) -> Duration {
        self.total(State::Waiting)
    }

    /// The longest single wait for the GIL.
    pub fn max_wait(&self) -> Duration {
        self.spans
            .iter()
            .filter(|s| s.state == State::Waiting)
            .map(Span::len)
            .max()
            .unwrap_or_default()
    }

    /// Parallelism achieved: time spent making progress (holding the GIL, or in I/O outside
    /// it), summed over threads, divided by the wall time. CPU-bound threads under one GIL
    /// stay at or below 1.0 however many cores there are; I/O-bound threads approach the
    /// number of threads. 0.0 for an empty trace.
    pub fn parallelism(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall == 0.0 {
            return 0.0;
        }
        (self.cpu_busy() + self.io_time()).as_secs_f64() / wall
    }

    /// How many times a holder gave the GIL up because a waiter asked (forced switches).
    pub fn forced_switches(&self) -> u64 {
        self.count_released(Release::Forced)
    }

    /// How many times a holder released the GIL itself (I/O, blocking calls, finishing).
    pub fn voluntary_releases(&self) -> u64 {
        self.count_released(Release::Voluntary)
    }

    fn count_released(&self, how: Release) -> u64 {
        self.spans
            .iter()
            .filter(|s| s.released == Some(how))
            .count() as u64
    }

    /// How many drop requests waiters set (a request is consumed by the next take).
    pub fn drop_requests(&self) -> u64 {
        self.drop_requests
    }

    /// How many times the GIL passed to a different thread than the one that held it last.
    pub fn handovers(&self) -> u64 {
        self.handovers
    }

    /// The most threads found in `state` at one instant (a sweep over the spans).
    pub fn max_concurrent(&self, state: State) -> usize {
        let mut edges: Vec<(Duration, i32)> = Vec::new();
        for s in self
            .spans
            .iter()
            .filter(|s| s.state == state && !s.is_empty())
        {
            edges.push((s.start, 1));
            edges.push((s.end, -1));
        }
        // At equal times, ends before starts: touching spans do not overlap.
        edges.sort();
        let (mut now, mut max) = (0i32, 0i32);
        for (_, d) in edges {
            now += d;
            max = max.max(now);
        }
        max as usize
    }

    /// The most threads holding the GIL at one instant: 1 for any run that held it at all
    /// (the invariant), 0 for none.
    pub fn max_concurrent_holders(&self) -> usize {
        self.max_concurrent(State::Holding)
    }

    /// The most threads in I/O at one instant.
    pub fn max_concurrent_io(&self) -> usize {
        self.max_concurrent(State::Io)
    }

    /// The holding spans that ended in a forced switch, in time order.
    pub fn forced_holds(&self) -> Vec<Span> {
        self.spans
            .iter()
            .filter(|s| s.released == Some(Release::Forced))
            .copied()
            .collect()
    }

    /// The lanes: one row per thread, time left to right in `width` columns, each column
    /// drawn with the state the thread spent most of that slice in (`█` holding the GIL,
    /// `·` waiting for it, `~` in I/O, blank when not running).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let trace = synckit::gil::Interpreter::new()
    ///     .run_threads(2, |py| py.io(Duration::from_millis(10)));
    /// let lanes = trace.lanes(40);
    /// assert_eq!(lanes.lines().count(), 3); // a time axis and two lanes
    /// assert!(lanes.contains('~'));
    /// ```
    pub fn lanes(&self, width: usize) -> String {
        let width = width.max(1);
        let wall = self.wall.as_secs_f64().max(1e-9);
        let slice = wall / width as f64;
        let mut out = String::new();
        let label_w = format!("py-{}", self.threads.saturating_sub(1))
            .len()
            .max(4);
        let left = "0 ms";
        let right = fmt_ms(self.wall);
        let gap = (width + 2).saturating_sub(left.len() + right.len());
        let _ = writeln!(
            out,
            "  {:label_w$}{left}{:gap$}{right}",
            "",
            "",
            label_w = label_w + 1
        );
        for t in 0..self.threads {
            // Time per state per column.
            let mut cells = vec![[0.0f64; 3]; width];
            for s in self.spans.iter().filter(|s| s.thread == t) {
                let (a, b) = (s.start.as_secs_f64(), s.end.as_secs_f64());
                let k = match s.state {
                    State::Holding => 0,
                    State::Waiting => 1,
                    State::Io => 2,
                };
                let first = ((a / slice) as usize).min(width - 1);
                let last = ((b / slice) as usize).min(width - 1);
                for (c, cell) in cells.iter_mut().enumerate().take(last + 1).skip(first) {
                    let lo = a.max(c as f64 * slice);
                    let hi = b.min((c + 1) as f64 * slice);
                    if hi > lo {
                        cell[k] += hi - lo;
                    }
                }
            }
            let row: String = cells
                .iter()
                .map(|c| {
                    let (mut best, mut k) = (0.0, None);
                    for (i, v) in c.iter().enumerate() {
                        if *v > best {
                            best = *v;
                            k = Some(i);
                        }
                    }
                    match k {
                        Some(0) => State::Holding.glyph(),
                        Some(1) => State::Waiting.glyph(),
                        Some(2) => State::Io.glyph(),
                        _ => ' ',
                    }
                })
                .collect();
            let _ = writeln!(out, "  {:label_w$} │{row}│", format!("py-{t}"));
        }
        out
    }

    /// One line: wall time, CPU-busy (GIL held) time, I/O time, parallelism achieved, the
    /// switches and the waits.
    pub fn summary(&self) -> String {
        format!(
            "wall {} · GIL held {} · I/O {} · parallelism {:.2}× · {} forced switches \
             ({} drop requests, interval {}), {} voluntary releases, {} handovers · \
             waited {} in total, {} at most",
            fmt_ms(self.wall),
            fmt_ms(self.cpu_busy()),
            fmt_ms(self.io_time()),
            self.parallelism(),
            self.forced_switches(),
            self.drop_requests,
            fmt_ms(self.interval),
            self.voluntary_releases(),
            self.handovers,
            fmt_ms(self.wait_time()),
            fmt_ms(self.max_wait()),
        )
    }
}

impl fmt::Display for GilTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}  {}", self.lanes(64), self.summary())
    }
}

/// What `cargo run -- gil` shows: `threads` CPU-bound threads sharing one amount of work,
/// and `threads` I/O-bound threads, each beside the same work done by one thread, with the
/// speedups. `Display` draws both pictures.
///
/// # Examples
///
/// ```no_run
/// println!("{}", synckit::gil::demonstrate(4));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Demonstration {
    /// One thread doing all the CPU-bound work.
    pub cpu_one: GilTrace,
    /// The same work split over the threads.
    pub cpu_many: GilTrace,
    /// One thread doing every I/O wait in turn.
    pub io_one: GilTrace,
    /// The same waits split over the threads.
    pub io_many: GilTrace,
}

/// CPU work in the demonstration, in total.
const DEMO_CPU: Duration = Duration::from_millis(200);
/// One I/O wait in the demonstration, and how many each thread makes.
const DEMO_IO: Duration = Duration::from_millis(20);
const DEMO_IO_WAITS: u32 = 5;

/// Runs the demonstration (about a second and a half) with the default switch interval.
///
/// # Panics
///
/// If `threads` is zero.
pub fn demonstrate(threads: usize) -> Demonstration {
    assert!(threads >= 1, "the demonstration needs at least one thread");
    let total = units_for(DEMO_CPU);
    let share = total / threads as u64;
    let small = units_for(Duration::from_micros(200));
    let cpu_one = Interpreter::new().run_threads(1, |py| {
        py.compute(total);
    });
    let cpu_many = Interpreter::new().run_threads(threads, |py| {
        py.compute(share);
    });
    let io_one = Interpreter::new().run_threads(1, |py| {
        for _ in 0..DEMO_IO_WAITS * threads as u32 {
            py.compute(small);
            py.io(DEMO_IO);
        }
    });
    let io_many = Interpreter::new().run_threads(threads, |py| {
        for _ in 0..DEMO_IO_WAITS {
            py.compute(small);
            py.io(DEMO_IO);
        }
    });
    Demonstration {
        cpu_one,
        cpu_many,
        io_one,
        io_many,
    }
}

impl Demonstration {
    /// How much faster the threads did the CPU-bound work than one thread (about 1.0).
    pub fn cpu_speedup(&self) -> f64 {
        speedup(&self.cpu_one, &self.cpu_many)
    }

    /// How much faster the threads did the I/O-bound work than one thread (about the number
    /// of threads).
    pub fn io_speedup(&self) -> f64 {
        speedup(&self.io_one, &self.io_many)
    }
}

fn speedup(one: &GilTrace, many: &GilTrace) -> f64 {
    one.wall().as_secs_f64() / many.wall().as_secs_f64().max(1e-9)
}

impl fmt::Display for Demonstration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.cpu_many.threads();
        writeln!(
            f,
            "The GIL, simulated (switch interval {}): █ holds the GIL, · waits for it, ~ in I/O\n",
            fmt_ms(self.cpu_many.switch_interval())
        )?;
        writeln!(
            f,
            "{n} CPU-bound threads share {} of computation:",
            fmt_ms(DEMO_CPU)
        )?;
        writeln!(f, "{}", self.cpu_many)?;
        writeln!(
            f,
            "  speedup over 1 thread doing all of it ({}): {:.2}×: one thread at a time holds \
             the GIL, however many cores there are\n",
            fmt_ms(self.cpu_one.wall()),
            self.cpu_speedup()
        )?;
        writeln!(
            f,
            "{n} I/O-bound threads, each waiting {} × {} on I/O:",
            DEMO_IO_WAITS,
            fmt_ms(DEMO_IO)
        )?;
        writeln!(f, "{}", self.io_many)?;
        write!(
            f,
            "  speedup over 1 thread making every wait ({}): {:.2}×: a thread waiting on I/O has \
             released the GIL, so the waits overlap",
            fmt_ms(self.io_one.wall()),
            self.io_speedup()
        )
    }
}

fn fmt_ms(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms >= 100.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{ms:.1} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spin_is_deterministic_and_units_scale() {
        assert_eq!(spin(10), spin(10));
        assert!(units_for(Duration::from_millis(10)) >= units_for(Duration::from_millis(1)));
    }

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
