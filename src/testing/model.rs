//! Sequential models: what each primitive must do, one operation at a time, and the adapters
//! that run the same operations on the real thing.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::explore::{Config, Failure, Stats, explore};
use super::ops::{BarrierOp, ConditionOp, EventOp, LockOp, RLockOp, SemaphoreOp};
use crate::{
    Barrier, BoundedSemaphore, Condition, Event, Lock, LockGuard, RLock, RLockGuard, Semaphore,
};

/// What an operation was seen to do; the models and the adapters below both speak it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observed {
    /// It ran; nothing to compare.
    Done,
    /// A try-acquire: whether it got the permit or lock.
    Acquired(bool),
    /// A number: free permits, a recursion count, waiters, threads woken, an arrival index.
    Value(usize),
    /// A flag: `locked()`, `is_set()`, `broken()`, a poll's result.
    Flag(bool),
    /// The primitive refused a misuse (a bounded semaphore's over-release).
    Refused,
    /// A barrier wait failed with `BrokenBarrier`.
    Broken,
}

/// A sequential model of a primitive (or the primitive itself, behind an adapter): apply an
/// operation, get what it should be (or was) seen to do. [`check_model`] runs the same
/// operations through a model and a real primitive and compares, step by step.
///
/// # Examples
///
/// A counter-based model of a semaphore you wrote, checked against synckit's model:
///
/// ```
/// use synckit::testing::{self, Model, Observed, SemaphoreModel, SemaphoreOp};
///
/// struct Mine { free: usize }
/// impl Model for Mine {
///     type Op = SemaphoreOp;
///     type Outcome = Observed;
///     fn apply(&mut self, op: &SemaphoreOp) -> Observed {
///         match op {
///             SemaphoreOp::Acquire => { self.free -= 1; Observed::Done }
///             SemaphoreOp::TryAcquire => {
///                 let got = self.free > 0;
///                 if got { self.free -= 1 }
///                 Observed::Acquired(got)
///             }
///             SemaphoreOp::Release => { self.free += 1; Observed::Done }
///             SemaphoreOp::Value => Observed::Value(self.free),
///         }
///     }
/// }
/// let ops = [SemaphoreOp::TryAcquire, SemaphoreOp::Acquire, SemaphoreOp::Release, SemaphoreOp::Value];
/// testing::check_model(SemaphoreModel::new(2), Mine { free: 2 }, &ops).unwrap();
/// ```
pub trait Model {
    /// The operations.
    type Op: fmt::Debug;
    /// What an operation is seen to do.
    type Outcome: PartialEq + fmt::Debug;

    /// Whether `op` may run now (asked of the model only): an operation that would block
    /// forever in a one-thread check (an `acquire` with no permit) is skipped.
    fn precondition(&self, op: &Self::Op) -> bool {
        let _ = op;
        true
    }

    /// Runs `op` and says what it did.
    fn apply(&mut self, op: &Self::Op) -> Self::Outcome;
}

/// The first step where the real primitive and the model disagreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The step's index in the operation sequence.
    pub step: usize,
    /// The operation.
    pub op: String,
    /// What the model said.
    pub expected: String,
    /// What the primitive did.
    pub actual: String,
    /// The operations applied before it, with what they did.
    pub history: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "step {}: {} did {} but the model says {}",
            self.step, self.op, self.actual, self.expected
        )?;
        if !self.history.is_empty() {
            writeln!(f, "after:")?;
            for h in &self.history {
                writeln!(f, "  {h}")?;
            }
        }
        Ok(())
    }
}

/// Inside `proptest!`, `?` turns a mismatch into a failing case (proptest converts any error).
impl std::error::Error for Mismatch {}

/// Applies `ops` to `model` and `real` in turn (skipping those whose precondition the model
/// refuses) and compares what each did.
///
/// # Errors
///
/// The first [`Mismatch`]; inside `proptest!`, `?` turns it into a failing case that
/// proptest shrinks.
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, SemaphoreModel, SemaphoreOp, SemaphoreUnderTest};
///
/// let ops = [SemaphoreOp::Release, SemaphoreOp::TryAcquire, SemaphoreOp::Value];
/// let real = SemaphoreUnderTest(synckit::BoundedSemaphore::new(1));
/// testing::check_model(SemaphoreModel::bounded(1), real, &ops).unwrap();
/// ```
pub fn check_model<M, R>(mut model: M, mut real: R, ops: &[M::Op]) -> Result<(), Mismatch>
where
    M: Model,
    R: Model<Op = M::Op, Outcome = M::Outcome>,
{
    let mut history = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        if !model.precondition(op) {
            continue;
        }
        let expected = model.apply(op);
        let actual = real.apply(op);
        if expected != actual {
            return Err(Mismatch {
                step,
                op: format!("{op:?}"),
                expected: format!("{expected:?}"),
                actual: format!("{actual:?}"),
                history,
            });
        }
        history.push(format!("{step}: {op:?} -> {actual:?}"));
    }
    Ok(())
}

/// Waits (yielding, up to 10 s) until `done` holds: helper threads reaching their wait.
fn await_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "synckit::testing: {what} did not happen within 10 s"
        );
        std::thread::yield_now();
    }
}

// ---------------------------------------------------------------------------------------
// Semaphores
// ---------------------------------------------------------------------------------------

/// The model of a counting semaphore (Python's `Semaphore`, or `BoundedSemaphore` with
/// [`bounded`](SemaphoreModel::bounded)): a number of free permits.
///
/// See [`ops`](super::ops) for a proptest check against [`SemaphoreUnderTest`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SemaphoreModel {
    value: usize,
    bound: Option<usize>,
}

impl SemaphoreModel {
    /// A semaphore with `value` free permits and no upper bound.
    pub fn new(value: usize) -> Self {
        SemaphoreModel { value, bound: None }
    }

    /// A bounded semaphore: `value` permits, and a release above `value` is refused.
    pub fn bounded(value: usize) -> Self {
        SemaphoreModel {
            value,
            bound: Some(value),
        }
    }

    /// Free permits now.
    pub fn value(&self) -> usize {
        self.value
    }
}

impl Model for SemaphoreModel {
    type Op = SemaphoreOp;
    type Outcome = Observed;

    fn precondition(&self, op: &SemaphoreOp) -> bool {
        *op != SemaphoreOp::Acquire || self.value > 0
    }

    fn apply(&mut self, op: &SemaphoreOp) -> Observed {
        match op {
            SemaphoreOp::Acquire => {
                self.value -= 1;
                Observed::Done
            }
            SemaphoreOp::TryAcquire => {
                let got = self.value > 0;
                if got {
                    self.value -= 1;
                }
                Observed::Acquired(got)
            }
            SemaphoreOp::Release => {
                if self.bound.is_some_and(|max| self.value >= max) {
                    Observed::Refused
                } else {
                    self.value += 1;
                    Observed::Done
                }
            }
            SemaphoreOp::Value => Observed::Value(self.value),
        }
    }
}

/// A semaphore with Python's bare API, so that [`SemaphoreUnderTest`] can check it against
/// [`SemaphoreModel`] and [`explore_semaphore`] can explore its schedules. Implemented for
/// synckit's [`Semaphore`] and [`BoundedSemaphore`]; implement it for your own.
///
/// # Examples
///
/// ```
/// use synckit::{Condition, Lock};
/// use synckit::testing::SemaphoreLike;
///
/// /// A semaphore built from a Lock and a Condition.
/// struct MySemaphore { permits: Lock<usize>, freed: Condition }
///
/// impl SemaphoreLike for MySemaphore {
///     fn acquire(&self) {
///         let mut permits = self.permits.acquire();
///         self.freed.wait_while(&mut permits, |p| *p == 0);
///         *permits -= 1;
///     }
///     fn try_acquire(&self) -> bool {
///         let mut permits = self.permits.acquire();
///         let got = *permits > 0;
///         if got { *permits -= 1 }
///         got
///     }
///     fn release(&self) {
///         *self.permits.acquire() += 1;
///         self.freed.notify(1);
///     }
///     fn available(&self) -> usize {
///         *self.permits.acquire()
///     }
/// }
/// ```
pub trait SemaphoreLike: Send + Sync {
    /// Takes a permit, blocking while there is none.
    fn acquire(&self);
    /// Takes a permit if one is free.
    fn try_acquire(&self) -> bool;
    /// Gives a permit back (from any thread).
    fn release(&self);
    /// Like `release`, but says `false` when the semaphore refuses (a bounded semaphore's
    /// over-release). The default releases and says `true`.
    fn try_release(&self) -> bool {
        self.release();
        true
    }
    /// Free permits now.
    fn available(&self) -> usize;
}

impl SemaphoreLike for Semaphore {
    #[track_caller]
    fn acquire(&self) {
        Semaphore::acquire(self).forget();
    }
    #[track_caller]
    fn try_acquire(&self) -> bool {
        Semaphore::try_acquire(self).map(|p| p.forget()).is_some()
    }
    #[track_caller]
    fn release(&self) {
        Semaphore::release(self);
    }
    fn available(&self) -> usize {
        Semaphore::available(self)
    }
}

impl SemaphoreLike for BoundedSemaphore {
    #[track_caller]
    fn acquire(&self) {
        BoundedSemaphore::acquire(self).forget();
    }
    #[track_caller]
    fn try_acquire(&self) -> bool {
        BoundedSemaphore::try_acquire(self)
            .map(|p| p.forget())
            .is_some()
    }
    #[track_caller]
    fn release(&self) {
        let _ = BoundedSemaphore::release(self);
    }
    #[track_caller]
    fn try_release(&self) -> bool {
        BoundedSemaphore::release(self).is_ok()
    }
    fn available(&self) -> usize {
        BoundedSemaphore::available(self)
    }
}

impl<S: SemaphoreLike + ?Sized> SemaphoreLike for Arc<S> {
    fn acquire(&self) {
        (**self).acquire();
    }
    fn try_acquire(&self) -> bool {
        (**self).try_acquire()
    }
    fn release(&self) {
        (**self).release();
    }
    fn try_release(&self) -> bool {
        (**self).try_release()
    }
    fn available(&self) -> usize {
        (**self).available()
    }
}

/// Runs [`SemaphoreOp`]s on a real semaphore, for [`check_model`] against
/// [`SemaphoreModel`].
#[derive(Debug)]
pub struct SemaphoreUnderTest<S>(pub S);

impl<S: SemaphoreLike> Model for SemaphoreUnderTest<S> {
    type Op = SemaphoreOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &SemaphoreOp) -> Observed {
        match op {
            SemaphoreOp::Acquire => {
                self.0.acquire();
                Observed::Done
            }
            SemaphoreOp::TryAcquire => Observed::Acquired(self.0.try_acquire()),
            SemaphoreOp::Release => {
                if self.0.try_release() {
                    Observed::Done
                } else {
                    Observed::Refused
                }
            }
            SemaphoreOp::Value => Observed::Value(self.0.available()),
        }
    }
}

/// Explores the schedules of a semaphore made by `make(permits)` (yours, through
/// [`SemaphoreLike`]) in two scenarios, each a closed world under `config`:
///
/// 1. **Mutual exclusion.** `permits + 1` threads each take a permit, check that at most
///    `permits` threads are inside, yield, leave and give it back; at the end all permits
///    are free again. Catches a permit handed out twice or lost.
/// 2. **Signalling.** With `make(0)`, one thread waits in `acquire()` while another calls
///    `release()`. Catches a release that does not wake a waiter (a missing notify): the
///    waiter is left blocked, which is a deadlock of that schedule.
///
/// # Errors
///
/// The first failing schedule, shrunk (see [`explore`]).
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, Config};
///
/// let stats = testing::explore_semaphore(Config::exhaustive(1), 1, synckit::Semaphore::new).unwrap();
/// assert!(stats.complete);
/// ```
pub fn explore_semaphore<S, F>(config: Config, permits: usize, make: F) -> Result<Stats, Failure>
where
    S: SemaphoreLike + 'static,
    F: Fn(usize) -> S + Send + Sync + 'static,
{
    let make = Arc::new(make);
    let first = {
        let make = make.clone();
        explore(config.clone(), move |run| {
            let sem = Arc::new(make(permits));
            let inside = Arc::new(AtomicUsize::new(0));
            let workers: Vec<_> = (0..=permits)
                .map(|i| {
                    let (sem, inside) = (sem.clone(), inside.clone());
                    run.spawn(&format!("worker-{i}"), move || {
                        sem.acquire();
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        assert!(
                            now <= permits,
                            "{now} threads hold a permit of a semaphore with {permits}"
                        );
                        crate::thread::yield_point();
                        inside.fetch_sub(1, Ordering::SeqCst);
                        sem.release();
                    })
                })
                .collect();
            for w in workers {
                w.join().expect("a worker panicked");
            }
            assert_eq!(
                sem.available(),
                permits,
                "every permit was given back, but the semaphore does not have them all"
            );
        })?
    };
    let second = explore(config, move |run| {
        let sem = Arc::new(make(0));
        let waiter = {
            let sem = sem.clone();
            run.spawn("waiter", move || sem.acquire())
        };
        let signaller = {
            let sem = sem.clone();
            run.spawn("signaller", move || sem.release())
        };
        signaller.join().expect("the signaller panicked");
        waiter.join().expect("the waiter panicked");
        assert_eq!(sem.available(), 0, "the one permit released was taken");
    })?;
    Ok(Stats {
        schedules: first.schedules + second.schedules,
        complete: first.complete && second.complete,
        elapsed: first.elapsed + second.elapsed,
        seed: first.seed,
        max_preemptions: first.max_preemptions.max(second.max_preemptions),
        diverged: first.diverged + second.diverged,
    })
}

// ---------------------------------------------------------------------------------------
// Lock and RLock
// ---------------------------------------------------------------------------------------

/// The model of a [`Lock`] used by one thread: held or not.
///
/// # Examples
///
/// ```
/// use synckit::Lock;
/// use synckit::testing::{self, LockModel, LockOp, LockUnderTest};
///
/// let lock = Lock::new(0);
/// let ops = [LockOp::Acquire, LockOp::TryAcquire, LockOp::Locked, LockOp::Release, LockOp::Locked];
/// testing::check_model(LockModel::new(), LockUnderTest::new(&lock), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockModel {
    held: bool,
}

impl LockModel {
    /// An unlocked lock.
    pub fn new() -> Self {
        LockModel::default()
    }
}

impl Model for LockModel {
    type Op = LockOp;
    type Outcome = Observed;

    fn precondition(&self, op: &LockOp) -> bool {
        match op {
            LockOp::Acquire => !self.held,
            LockOp::Release => self.held,
            _ => true,
        }
    }

    fn apply(&mut self, op: &LockOp) -> Observed {
        match op {
            LockOp::Acquire => {
                self.held = true;
                Observed::Done
            }
            LockOp::TryAcquire => {
                let got = !self.held;
                self.held = true;
                Observed::Acquired(got)
            }
            LockOp::Release => {
                self.held = false;
                Observed::Done
            }
            LockOp::Locked => Observed::Flag(self.held),
        }
    }
}

/// Runs [`LockOp`]s on a real [`Lock`], keeping the guard between steps.
pub struct LockUnderTest<'a, T> {
    lock: &'a Lock<T>,
    guard: Option<LockGuard<'a, T>>,
}

impl<'a, T> LockUnderTest<'a, T> {
    /// Drives `lock` (which must be unlocked).
    pub fn new(lock: &'a Lock<T>) -> Self {
        LockUnderTest { lock, guard: None }
    }
}

impl<T> Model for LockUnderTest<'_, T> {
    type Op = LockOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &LockOp) -> Observed {
        match op {
            LockOp::Acquire => {
                self.guard = Some(self.lock.acquire());
                Observed::Done
            }
            LockOp::TryAcquire => match self.lock.try_acquire() {
                Some(g) => {
                    self.guard = Some(g);
                    Observed::Acquired(true)
                }
                None => Observed::Acquired(false),
            },
            LockOp::Release => {
                self.guard = None;
                Observed::Done
            }
            LockOp::Locked => Observed::Flag(self.lock.locked()),
        }
    }
}

/// The model of an [`RLock`] used by one thread: its recursion count.
///
/// # Examples
///
/// ```
/// use synckit::RLock;
/// use synckit::testing::{self, RLockModel, RLockOp, RLockUnderTest};
///
/// let lock = RLock::new(());
/// let ops = [RLockOp::Acquire, RLockOp::Acquire, RLockOp::Count, RLockOp::TryFromOtherThread];
/// testing::check_model(RLockModel::new(), RLockUnderTest::new(&lock), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RLockModel {
    count: usize,
}

impl RLockModel {
    /// An unlocked re-entrant lock.
    pub fn new() -> Self {
        RLockModel::default()
    }
}

impl Model for RLockModel {
    type Op = RLockOp;
    type Outcome = Observed;

    fn precondition(&self, op: &RLockOp) -> bool {
        *op != RLockOp::Release || self.count > 0
    }

    fn apply(&mut self, op: &RLockOp) -> Observed {
        match op {
            RLockOp::Acquire => {
                self.count += 1;
                Observed::Done
            }
            RLockOp::TryAcquire => {
                self.count += 1;
                Observed::Acquired(true)
            }
            RLockOp::Release => {
                self.count -= 1;
                Observed::Done
            }
            RLockOp::Count => Observed::Value(self.count),
            RLockOp::Owned => Observed::Flag(self.count > 0),
            RLockOp::TryFromOtherThread => Observed::Acquired(self.count == 0),
        }
    }
}

/// Runs [`RLockOp`]s on a real [`RLock`], keeping its guards between steps.
pub struct RLockUnderTest<'a, T> {
    lock: &'a RLock<T>,
    guards: Vec<RLockGuard<'a, T>>,
}

impl<'a, T> RLockUnderTest<'a, T> {
    /// Drives `lock` (which must be unlocked).
    pub fn new(lock: &'a RLock<T>) -> Self {
        RLockUnderTest {
            lock,
            guards: Vec::new(),
        }
    }
}

impl<T: Send> Model for RLockUnderTest<'_, T> {
    type Op = RLockOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &RLockOp) -> Observed {
        match op {
            RLockOp::Acquire => {
                self.guards.push(self.lock.acquire());
                Observed::Done
            }
            RLockOp::TryAcquire => match self.lock.try_acquire() {
                Some(g) => {
                    self.guards.push(g);
                    Observed::Acquired(true)
                }
                None => Observed::Acquired(false),
            },
            RLockOp::Release => {
                self.guards.pop();
                Observed::Done
            }
            RLockOp::Count => Observed::Value(self.lock.count() as usize),
            RLockOp::Owned => Observed::Flag(self.lock.is_owned()),
            RLockOp::TryFromOtherThread => {
                let lock = self.lock;
                let got = std::thread::scope(|s| {
                    s.spawn(|| lock.try_acquire().is_some())
                        .join()
                        .expect("the other thread panicked")
                });
                Observed::Acquired(got)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Condition, Event, Barrier
// ---------------------------------------------------------------------------------------

/// The model of a [`Condition`] with helper threads waiting on it: how many wait.
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, ConditionModel, ConditionOp, ConditionUnderTest};
///
/// let ops = [ConditionOp::AddWaiter, ConditionOp::AddWaiter, ConditionOp::Notify(1), ConditionOp::Waiters];
/// testing::check_model(ConditionModel::new(), ConditionUnderTest::new(), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionModel {
    waiting: usize,
}

impl ConditionModel {
    /// Nobody waits.
    pub fn new() -> Self {
        ConditionModel::default()
    }
}

impl Model for ConditionModel {
    type Op = ConditionOp;
    type Outcome = Observed;

    fn precondition(&self, op: &ConditionOp) -> bool {
        *op != ConditionOp::AddWaiter || self.waiting < 4
    }

    fn apply(&mut self, op: &ConditionOp) -> Observed {
        match op {
            ConditionOp::AddWaiter => {
                self.waiting += 1;
                Observed::Done
            }
            ConditionOp::Notify(n) => {
                let woke = (*n).min(self.waiting);
                self.waiting -= woke;
                Observed::Value(woke)
            }
            ConditionOp::NotifyAll => Observed::Value(std::mem::take(&mut self.waiting)),
            ConditionOp::Waiters => Observed::Value(self.waiting),
            ConditionOp::WaitTimeoutZero => Observed::Flag(true),
        }
    }
}

/// Runs [`ConditionOp`]s on a real [`Condition`] (over a `Lock<()>`), with helper threads
/// (plain std threads: run it outside [`explore`]). Dropping it wakes and joins them.
///
/// # Panics
///
/// `apply(AddWaiter)` panics if the helper has not reached its wait within 10 s.
pub struct ConditionUnderTest {
    lock: Arc<Lock<()>>,
    cond: Arc<Condition>,
    helpers: Vec<std::thread::JoinHandle<()>>,
}

impl ConditionUnderTest {
    /// A fresh lock and condition.
    #[track_caller]
    pub fn new() -> Self {
        ConditionUnderTest {
            lock: Arc::new(Lock::new(()).named("model-lock")),
            cond: Arc::new(Condition::new().named("model-condition")),
            helpers: Vec::new(),
        }
    }
}

impl Default for ConditionUnderTest {
    fn default() -> Self {
        ConditionUnderTest::new()
    }
}

impl Model for ConditionUnderTest {
    type Op = ConditionOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &ConditionOp) -> Observed {
        match op {
            ConditionOp::AddWaiter => {
                let before = self.cond.waiters();
                let (lock, cond) = (self.lock.clone(), self.cond.clone());
                self.helpers.push(std::thread::spawn(move || {
                    let mut guard = lock.acquire();
                    cond.wait(&mut guard);
                }));
                await_until("a helper thread's wait", || self.cond.waiters() > before);
                Observed::Done
            }
            ConditionOp::Notify(n) => Observed::Value(self.cond.notify(*n)),
            ConditionOp::NotifyAll => Observed::Value(self.cond.notify_all()),
            ConditionOp::Waiters => Observed::Value(self.cond.waiters()),
            ConditionOp::WaitTimeoutZero => {
                let mut guard = self.lock.acquire();
                let r = self.cond.wait_timeout(&mut guard, Duration::ZERO);
                Observed::Flag(r.timed_out())
            }
        }
    }
}

impl Drop for ConditionUnderTest {
    fn drop(&mut self) {
        for h in self.helpers.drain(..) {
            while !h.is_finished() {
                self.cond.notify_all();
                std::thread::yield_now();
            }
            let _ = h.join();
        }
    }
}

/// The model of an [`Event`]: a flag.
///
/// # Examples
///
/// ```
/// use synckit::Event;
/// use synckit::testing::{self, EventModel, EventOp, EventUnderTest};
///
/// let event = Event::new();
/// let ops = [EventOp::Poll, EventOp::Set, EventOp::WaitIfSet, EventOp::Clear, EventOp::IsSet];
/// testing::check_model(EventModel::new(), EventUnderTest(&event), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventModel {
    flag: bool,
}

impl EventModel {
    /// A clear event.
    pub fn new() -> Self {
        EventModel::default()
    }
}

impl Model for EventModel {
    type Op = EventOp;
    type Outcome = Observed;

    fn precondition(&self, op: &EventOp) -> bool {
        *op != EventOp::WaitIfSet || self.flag
    }

    fn apply(&mut self, op: &EventOp) -> Observed {
        match op {
            EventOp::Set => {
                self.flag = true;
                Observed::Done
            }
            EventOp::Clear => {
                self.flag = false;
                Observed::Done
            }
            EventOp::IsSet | EventOp::Poll => Observed::Flag(self.flag),
            EventOp::WaitIfSet => Observed::Done,
        }
    }
}

/// Runs [`EventOp`]s on a real [`Event`].
#[derive(Debug)]
pub struct EventUnderTest<'a>(pub &'a Event);

impl Model for EventUnderTest<'_> {
    type Op = EventOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &EventOp) -> Observed {
        match op {
            EventOp::Set => {
                self.0.set();
                Observed::Done
            }
            EventOp::Clear => {
                self.0.clear();
                Observed::Done
            }
            EventOp::IsSet => Observed::Flag(self.0.is_set()),
            EventOp::Poll => Observed::Flag(self.0.wait_timeout(Duration::ZERO)),
            EventOp::WaitIfSet => {
                self.0.wait();
                Observed::Done
            }
        }
    }
}

/// The model of a [`Barrier`] for `parties` threads, with helper threads: how many wait in
/// this round, and whether it is broken.
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, BarrierModel, BarrierOp, BarrierUnderTest};
///
/// let ops = [BarrierOp::ArriveHelper, BarrierOp::Waiting, BarrierOp::ArriveLast, BarrierOp::Abort, BarrierOp::ArriveLast];
/// testing::check_model(BarrierModel::new(2), BarrierUnderTest::new(2), &ops).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarrierModel {
    parties: usize,
    waiting: usize,
    broken: bool,
}

impl BarrierModel {
    /// A barrier for `parties` threads (at least 1).
    pub fn new(parties: usize) -> Self {
        BarrierModel {
            parties: parties.max(1),
            waiting: 0,
            broken: false,
        }
    }
}

impl Model for BarrierModel {
    type Op = BarrierOp;
    type Outcome = Observed;

    fn precondition(&self, op: &BarrierOp) -> bool {
        match op {
            BarrierOp::ArriveHelper => !self.broken && self.waiting + 1 < self.parties,
            BarrierOp::ArriveLast => self.broken || self.waiting + 1 == self.parties,
            _ => true,
        }
    }

    fn apply(&mut self, op: &BarrierOp) -> Observed {
        match op {
            BarrierOp::ArriveHelper => {
                self.waiting += 1;
                Observed::Done
            }
            BarrierOp::ArriveLast if self.broken => Observed::Broken,
            BarrierOp::ArriveLast => {
                self.waiting = 0;
                Observed::Value(self.parties - 1)
            }
            BarrierOp::Waiting => Observed::Value(if self.broken { 0 } else { self.waiting }),
            BarrierOp::Abort => {
                self.broken = true;
                self.waiting = 0;
                Observed::Done
            }
            BarrierOp::Reset => {
                self.broken = false;
                self.waiting = 0;
                Observed::Done
            }
            BarrierOp::Broken => Observed::Flag(self.broken),
        }
    }
}

/// Runs [`BarrierOp`]s on a real [`Barrier`], with helper threads (plain std threads: run
/// it outside [`explore`]). Dropping it breaks the barrier and joins them.
///
/// # Panics
///
/// `apply` panics if the helpers have not arrived (or left) within 10 s.
pub struct BarrierUnderTest {
    barrier: Arc<Barrier>,
    helpers: Vec<std::thread::JoinHandle<()>>,
    /// Helpers that arrived in the current round (what `n_waiting` must reach).
    arrived: usize,
}

impl BarrierUnderTest {
    /// A fresh barrier for `parties` threads (at least 1).
    #[track_caller]
    pub fn new(parties: usize) -> Self {
        BarrierUnderTest {
            barrier: Arc::new(Barrier::new(parties.max(1)).named("model-barrier")),
            helpers: Vec::new(),
            arrived: 0,
        }
    }

    /// Waits until the barrier shows `n` waiting helpers (a round still draining or
    /// resetting shows 0 until it is done).
    fn settle(&self) {
        let n = self.arrived;
        await_until("the helpers' arrival", || {
            self.barrier.n_waiting() == n && (n > 0 || !self.draining())
        });
    }

    fn draining(&self) -> bool {
        self.helpers.iter().any(|h| !h.is_finished()) && self.arrived == 0
    }
}

impl Model for BarrierUnderTest {
    type Op = BarrierOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &BarrierOp) -> Observed {
        match op {
            BarrierOp::ArriveHelper => {
                let barrier = self.barrier.clone();
                self.helpers.push(std::thread::spawn(move || {
                    let _ = barrier.wait();
                }));
                self.arrived += 1;
                self.settle();
                Observed::Done
            }
            BarrierOp::ArriveLast => {
                let r = match self.barrier.wait() {
                    Ok(i) => Observed::Value(i),
                    Err(_) => Observed::Broken,
                };
                self.arrived = 0;
                self.settle();
                r
            }
            BarrierOp::Waiting => Observed::Value(self.barrier.n_waiting()),
            BarrierOp::Abort => {
                self.barrier.abort();
                self.arrived = 0;
                self.settle();
                Observed::Done
            }
            BarrierOp::Reset => {
                self.barrier.reset();
                self.arrived = 0;
                self.settle();
                Observed::Done
            }
            BarrierOp::Broken => Observed::Flag(self.barrier.broken()),
        }
    }
}

impl Drop for BarrierUnderTest {
    fn drop(&mut self) {
        self.barrier.abort();
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}
