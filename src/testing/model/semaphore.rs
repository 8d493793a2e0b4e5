//! Semaphores: the model, the [`SemaphoreLike`] seam for semaphores of your own, its adapter,
//! and [`explore_semaphore`], the same contract under controlled schedules.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{Model, Observed};
use crate::testing::explore::{Config, Failure, Stats, explore};
use crate::testing::ops::SemaphoreOp;
use crate::{BoundedSemaphore, Semaphore};

/// The model of a counting semaphore (Python's `Semaphore`, or `BoundedSemaphore` with
/// [`bounded`](SemaphoreModel::bounded)): a number of free permits.
///
/// See [`ops`](crate::testing::ops) for a proptest check against [`SemaphoreUnderTest`].
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

/// Runs [`SemaphoreOp`]s on a real semaphore, for [`check_model`](super::check_model) against
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
/// 3. **Barging.** With `make(0)`, two threads wait in `acquire()`; the body releases one
///    permit and at once tries to take it itself (`try_acquire`: the *barger*), then releases
///    two more.
///    Every `acquire()` that returns must have a permit that some release gave: between a
///    notify and the woken waiter taking its lock back the barger may take the permit first
///    (as in Python and with every real condition variable), so an `acquire` that waits with
///    `if` instead of `while` returns without one, and the schedule fails.
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
    let second = {
        let make = make.clone();
        explore(config.clone(), move |run| {
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
        })?
    };
    let third = explore(config, move |run| barging(run, make(0)))?;
    Ok(first.and(second).and(third))
}

/// Scenario 3 of [`explore_semaphore`]: two waiters, a release and a barger, two releases.
fn barging<S: SemaphoreLike + 'static>(run: &crate::testing::explore::Run, sem: S) {
    let sem = Arc::new(sem);
    // Counted before each release and after each acquire: atomics are no scheduling points,
    // so no schedule separates a count from its operation.
    let released = Arc::new(AtomicUsize::new(0));
    let taken = Arc::new(AtomicUsize::new(0));
    let waiter = |name: &str| {
        let (sem, released, taken) = (sem.clone(), released.clone(), taken.clone());
        run.spawn(name, move || {
            sem.acquire();
            took_a_permit(&*sem, &released, &taken);
        })
    };
    let release = || {
        released.fetch_add(1, Ordering::SeqCst);
        sem.release();
    };
    let waiters = [waiter("waiter-1"), waiter("waiter-2")];
    // The default schedule lets both waiters run first here: they wait for a permit.
    crate::thread::yield_point();
    release();
    // The barger: this thread takes the permit it just released if it is still free, before
    // the woken waiter has its lock back (one preemption then lets that waiter come back to
    // a semaphore with no permit).
    if sem.try_acquire() {
        took_a_permit(&*sem, &released, &taken);
    }
    release();
    release();
    for t in waiters {
        t.join().expect("a waiter panicked");
    }
    let (given, got) = (
        released.load(Ordering::SeqCst),
        taken.load(Ordering::SeqCst),
    );
    assert_eq!(
        sem.available(),
        given - got,
        "{given} permits released and {got} taken, but the semaphore does not have the rest"
    );
}

/// After an `acquire()` returned in [`barging`]: never more permits out, nor more free, than
/// were released. A waiter that came back without a permit drove the count below zero (or
/// wrapped it).
fn took_a_permit(sem: &dyn SemaphoreLike, released: &AtomicUsize, taken: &AtomicUsize) {
    let got = taken.fetch_add(1, Ordering::SeqCst) + 1;
    let free = sem.available();
    let given = released.load(Ordering::SeqCst);
    assert!(
        got <= given && free <= given,
        "acquire() returned without a permit: {got} acquires returned and {free} permits are \
         free, but only {given} were released (a woken waiter must check again, `while` and \
         not `if`: another thread may take the permit between the notify and the wake-up)"
    );
}
