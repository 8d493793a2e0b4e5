//! [`Condition`]: Python's `threading.Condition`, used with a [`Lock`](crate::Lock) or [`RLock`](crate::RLock) guard.
//!
//! Controlled schedules (`testing::explore`): wait and notify start with a scheduling point,
//! and a wait passes the baton instead of waiting on the condvar.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::blocking::{self, Deadline, Ended, OnCondvar, Wait};
use super::core::{LockCore, Patience};
use super::lock::LockGuard;
use super::rlock::RLockGuard;
use crate::detector::registry::{Waitable, current_thread_id, notify_observer};
use crate::detector::report::{Evidence, Signal, Step, Target};
use crate::detector::resource::{Kind, Resource, Site};
use crate::detector::{Deadlock, Delivery};
use crate::error::UsageError;
use crate::sched::{self, Op};

/// A condition variable, like Python's `threading.Condition`: threads wait on it while
/// holding a lock, and other threads wake them with [`notify`](Condition::notify) or
/// [`notify_all`](Condition::notify_all).
///
/// A wait releases the lock (an [`RLock`](crate::RLock) held n times is released fully),
/// sleeps until notified, and takes the lock back (n times) before returning. Wake-ups are
/// first come, first served: `notify(n)` wakes the n longest waiters.
///
/// Differences from Python, both made by the types: waiting requires the guard (`&mut`), so
/// "cannot wait on un-acquired lock" cannot happen; notifying does not require holding the
/// lock (as with `std::sync::Condvar`), since a notify can never corrupt the condition's
/// state — but notify while holding it when the waiters check shared data, or a wake-up
/// can slip between their check and their wait.
///
/// # Panics
///
/// A condition belongs to one lock: waiting on it with a guard of a different lock panics
/// with [`UsageError::ConditionLockMismatch`].
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use synckit::{Condition, Lock};
///
/// let queue = Arc::new((Lock::new(Vec::new()).named("queue"), Condition::new().named("not_empty")));
/// let consumer = {
///     let queue = queue.clone();
///     std::thread::spawn(move || {
///         let (lock, not_empty) = &*queue;
///         let mut items = lock.acquire();
///         not_empty.wait_while(&mut items, |items| items.is_empty()); // `while`, not `if`
///         items.pop().unwrap()
///     })
/// };
/// let (lock, not_empty) = &*queue;
/// lock.acquire().push(42);
/// not_empty.notify(1);
/// assert_eq!(consumer.join().unwrap(), 42);
/// ```
pub struct Condition {
    state: Mutex<CondState>,
    cv: Condvar,
    meta: Resource,
    /// Id of the lock this condition is used with (0 until the first wait).
    bound_to: AtomicU64,
    /// Display name of that lock, for the mismatch message (set once, right after binding).
    bound_name: std::sync::OnceLock<String>,
}

struct CondState {
    next_ticket: u64,
    /// `(ticket, thread)` of each waiter not yet notified, oldest first.
    waiting: VecDeque<(u64, u64)>,
    /// Tickets notified but not yet woken up.
    woken: Vec<(u64, u64)>,
    /// The last notify and how many it woke, for closed-world evidence.
    last_notify: Option<(Signal, usize)>,
}

/// Whether a timed wait ended by a notify or by its timeout.
#[must_use]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult {
    timed_out: bool,
}

impl WaitTimeoutResult {
    /// `true` if the wait ended because the timeout passed (Python's `wait` returning False).
    pub fn timed_out(&self) -> bool {
        self.timed_out
    }
}

/// A guard a [`Condition`] can wait with: a [`LockGuard`] or an [`RLockGuard`].
///
/// Sealed: only synckit's guards implement it.
pub trait ConditionGuard: sealed::Sealed {}

impl<T: ?Sized> ConditionGuard for LockGuard<'_, T> {}
impl<T: ?Sized> ConditionGuard for RLockGuard<'_, T> {}

mod sealed {
    use super::*;

    /// What a condition wait needs from a guard. Private: the methods hand out internals.
    #[allow(private_interfaces)]
    pub trait Sealed {
        fn core(&self) -> &LockCore;
        /// Releases the lock for the wait; returns how many times it was held.
        fn release_for_wait(&mut self) -> u32;
        /// Takes the lock back (`count` times). On `Err` the lock is not held, and the
        /// guard knows it: dropping it releases nothing.
        fn reacquire_after_wait(
            &mut self,
            site: Site,
            count: u32,
            how: Delivery,
        ) -> Result<(), Deadlock>;
        /// The lock was not taken back (a checked wait refused): the guard holds nothing.
        fn forget_lock(&mut self);
    }

    #[allow(private_interfaces)]
    impl<T: ?Sized> Sealed for LockGuard<'_, T> {
        fn core(&self) -> &LockCore {
            self.lock().core()
        }
        fn release_for_wait(&mut self) -> u32 {
            self.lock().core().release();
            1
        }
        fn reacquire_after_wait(
            &mut self,
            site: Site,
            _count: u32,
            how: Delivery,
        ) -> Result<(), Deadlock> {
            // Until the lock is ours again the guard must not release it if this thread
            // unwinds: a refused re-acquire, or a controlled schedule torn down mid-acquire.
            self.held = false;
            self.lock()
                .core()
                .acquire(site, Patience::FOREVER, how, 0)?;
            self.held = true;
            Ok(())
        }
        fn forget_lock(&mut self) {
            self.held = false;
        }
    }

    #[allow(private_interfaces)]
    impl<T: ?Sized> Sealed for RLockGuard<'_, T> {
        fn core(&self) -> &LockCore {
            self.rlock().core()
        }
        fn release_for_wait(&mut self) -> u32 {
            self.rlock().release_all()
        }
        fn reacquire_after_wait(
            &mut self,
            site: Site,
            count: u32,
            how: Delivery,
        ) -> Result<(), Deadlock> {
            // A refused restore leaves the count at 0: the guard's drop then releases nothing.
            self.rlock().restore(site, count, how)
        }
        fn forget_lock(&mut self) {}
    }
}

impl Default for Condition {
    #[track_caller]
    fn default() -> Self {
        Condition::new()
    }
}

impl Condition {
    /// Creates a condition, named `Condition@file:line` until [`named`](Condition::named).
    /// A `const fn`: a `static` condition needs no `LazyLock`.
    #[track_caller]
    pub const fn new() -> Self {
        Condition {
            state: Mutex::new(CondState {
                next_ticket: 0,
                waiting: VecDeque::new(),
                woken: Vec::new(),
                last_notify: None,
            }),
            cv: Condvar::new(),
            meta: Resource::new(Kind::Condition, Location::caller()),
            bound_to: AtomicU64::new(0),
            bound_name: std::sync::OnceLock::new(),
        }
    }

    /// Gives the condition a name to show in reports.
    pub fn named(mut self, name: &str) -> Self {
        self.meta.set_name(name);
        self
    }

    /// Releases the guard's lock, waits until notified, and takes the lock back.
    ///
    /// A wait can end only by a notify (there are no spurious wake-ups here), but another
    /// thread may run between the notify and the re-acquire and change the data: check the
    /// condition in a loop, or use [`wait_while`](Condition::wait_while).
    ///
    /// # Panics
    ///
    /// If this condition was used with a different lock (see the type's docs); or, under
    /// the default detector policy, if re-taking the lock would deadlock.
    #[track_caller]
    pub fn wait<G: ConditionGuard>(&self, guard: &mut G) {
        let site = Location::caller();
        if let Err(refused) = self.wait_inner(guard, Deadline::Never, site, Delivery::Policy) {
            refused.raise();
        }
    }

    /// Like [`wait`](Condition::wait), returning the detector's report as a value instead of
    /// following the policy. The guard is given back only when the lock is held again.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] when re-taking the lock would close a cycle of owned waits, or, inside
    /// [`check`](crate::check), when this wait would leave every thread of the world blocked
    /// (nobody is left to notify). The guard is then gone and the lock is not held.
    ///
    /// # Panics
    ///
    /// If this condition was used with a different lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use synckit::{Condition, Lock};
    ///
    /// let outcome = synckit::check(|| {
    ///     let lock = Lock::new(false);
    ///     let ready = Condition::new().named("ready");
    ///     // Nobody else is left to notify: the report comes back as a value.
    ///     ready.wait_checked(lock.acquire()).map(|_| ()).unwrap_err()
    /// });
    /// assert!(outcome.unwrap().report().headline().contains("no one is left to wake"));
    /// ```
    #[track_caller]
    pub fn wait_checked<G: ConditionGuard>(&self, mut guard: G) -> Result<G, Deadlock> {
        let site = Location::caller();
        self.wait_inner(&mut guard, Deadline::Never, site, Delivery::Return)?;
        Ok(guard)
    }

    /// Like [`wait`](Condition::wait), giving up after `timeout` (zero: a poll that releases
    /// and re-takes the lock). A timed wait is never reported as a deadlock.
    ///
    /// # Panics
    ///
    /// As for [`wait`](Condition::wait).
    #[track_caller]
    pub fn wait_timeout<G: ConditionGuard>(
        &self,
        guard: &mut G,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        let site = Location::caller();
        match self.wait_inner(guard, Deadline::after(timeout), site, Delivery::Policy) {
            Ok(notified) => WaitTimeoutResult {
                timed_out: !notified,
            },
            Err(refused) => refused.raise(),
        }
    }

    /// Waits while `condition` holds: checks it first, and again after every wake-up
    /// (`std::sync::Condvar::wait_while`; the opposite sense of Python's `wait_for`).
    ///
    /// # Panics
    ///
    /// As for [`wait`](Condition::wait).
    #[track_caller]
    pub fn wait_while<G, F>(&self, guard: &mut G, mut condition: F)
    where
        G: ConditionGuard + std::ops::Deref,
        F: FnMut(&G::Target) -> bool,
    {
        let site = Location::caller();
        while condition(&**guard) {
            if let Err(refused) = self.wait_inner(guard, Deadline::Never, site, Delivery::Policy) {
                refused.raise();
            }
        }
    }

    /// Waits until `predicate` holds, like Python's `Condition.wait_for`.
    ///
    /// # Panics
    ///
    /// As for [`wait`](Condition::wait).
    #[track_caller]
    pub fn wait_for<G, F>(&self, guard: &mut G, mut predicate: F)
    where
        G: ConditionGuard + std::ops::Deref,
        F: FnMut(&G::Target) -> bool,
    {
        self.wait_while(guard, move |v| !predicate(v));
    }

    /// Waits until `predicate` holds or `timeout` passes; returns the predicate's last
    /// value, like Python's `wait_for(predicate, timeout)`.
    ///
    /// # Panics
    ///
    /// As for [`wait`](Condition::wait).
    #[track_caller]
    pub fn wait_for_timeout<G, F>(&self, guard: &mut G, timeout: Duration, mut predicate: F) -> bool
    where
        G: ConditionGuard + std::ops::Deref,
        F: FnMut(&G::Target) -> bool,
    {
        let site = Location::caller();
        let deadline = Deadline::after(timeout);
        loop {
            if predicate(&**guard) {
                return true;
            }
            if deadline.passed() {
                return false;
            }
            if let Err(refused) = self.wait_inner(guard, deadline, site, Delivery::Policy) {
                refused.raise();
            }
        }
    }

    /// Wakes at most `n` waiting threads, longest-waiting first. Returns how many it woke.
    #[track_caller]
    pub fn notify(&self, n: usize) -> usize {
        sched::point(Op::Notify, &self.meta);
        let signal = Signal::here(Location::caller());
        let mut st = self.state.lock();
        let mut woke = 0;
        while woke < n {
            let Some(waiter) = st.waiting.pop_front() else {
                break;
            };
            st.woken.push(waiter);
            woke += 1;
        }
        st.last_notify = Some((signal, woke));
        drop(st);
        if woke > 0 {
            self.cv.notify_all();
        }
        notify_observer(|o, me| {
            o.happened(
                me,
                Step::Op {
                    op: Op::Notify,
                    target: Target::Resource(self.meta.info()),
                    timed: false,
                    woke: Some(woke),
                },
            )
        });
        woke
    }

    /// Wakes every waiting thread. Returns how many it woke.
    #[track_caller]
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// How many threads are waiting and not yet notified.
    pub fn waiters(&self) -> usize {
        self.state.lock().waiting.len()
    }

    #[track_caller]
    fn bind(&self, core: &LockCore) {
        let id = core.meta.id();
        match self
            .bound_to
            .compare_exchange(0, id, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => {
                let _ = self.bound_name.set(core.meta.display_name());
            }
            Err(bound) if bound == id => {}
            Err(bound) => {
                let first = match self.bound_name.get() {
                    Some(name) => name.clone(),
                    None => format!("lock #{bound}"), // bound this very moment by another thread
                };
                let err = UsageError::ConditionLockMismatch {
                    condition: self.meta.display_name(),
                    first,
                    second: core.meta.display_name(),
                };
                panic!("{err}");
            }
        }
    }

    /// Returns whether the wait was notified (`false`: timed out). On `Err` the lock was not
    /// taken back and the guard knows it (it releases nothing when dropped).
    #[track_caller]
    fn wait_inner<G: ConditionGuard>(
        &self,
        guard: &mut G,
        deadline: Deadline,
        site: Site,
        how: Delivery,
    ) -> Result<bool, Deadlock> {
        sched::point(Op::Wait, &self.meta);
        self.bind(guard.core());
        let me = current_thread_id();
        let ticket = {
            let mut st = self.state.lock();
            let t = st.next_ticket;
            st.next_ticket += 1;
            st.waiting.push_back((t, me));
            t
        };
        let count = guard.release_for_wait();
        let leave_queue = |st: &mut CondState| st.waiting.retain(|&(t, _)| t != ticket);
        // Not owned: only a notify ends this wait, so it never closes a wait-for cycle; the
        // registration makes it visible to closed worlds and reports.
        let wait = Wait::on(self, &self.meta, site, deadline, how).returning_on_abort();
        let mut sleeper = OnCondvar::new(
            &self.state,
            &self.cv,
            |st| st.woken.iter().any(|&(t, _)| t == ticket),
            |st| st.woken.retain(|&(t, _)| t != ticket),
            leave_queue,
        );
        let ended = match blocking::block(&wait, &mut sleeper) {
            Ok(ended) => ended,
            Err(refused) => {
                // Nobody is left to notify (a checked wait in a closed world): the lock stays
                // released, and the guard gives nothing back.
                leave_queue(&mut self.state.lock());
                guard.forget_lock();
                return Err(refused);
            }
        };
        guard.reacquire_after_wait(site, count, how)?;
        if ended == Ended::Aborted {
            sched::abort_unwind();
        }
        Ok(ended == Ended::Done)
    }
}

impl Waitable for Condition {
    fn owners(&self, _out: &mut Vec<u64>) -> bool {
        false
    }

    fn satisfiable(&self, waiter: u64) -> bool {
        self.state.lock().woken.iter().any(|&(_, t)| t == waiter)
    }

    fn evidence(&self) -> Option<Evidence> {
        Some(Evidence::Condition {
            name: self.meta.display_name(),
            last_notify: self.state.lock().last_notify.clone(),
        })
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("name", &self.meta.display_name())
            .field("waiters", &self.waiters())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Lock, RLock};

    #[test]
    fn a_timed_wait_without_notify_times_out_and_keeps_the_lock() {
        let lock = Lock::new(0);
        let cond = Condition::new();
        let mut g = lock.acquire();
        assert!(
            cond.wait_timeout(&mut g, Duration::from_millis(5))
                .timed_out()
        );
        *g += 1; // still held
        assert_eq!(cond.waiters(), 0, "a timed-out waiter leaves the queue");
    }

    #[test]
    fn notify_without_waiters_wakes_nobody() {
        let cond = Condition::new();
        assert_eq!(cond.notify(3), 0);
        assert_eq!(cond.notify_all(), 0);
    }

    #[test]
    fn a_wait_over_an_rlock_restores_its_count() {
        let lock = RLock::new(());
        let cond = Condition::new();
        let _outer = lock.acquire();
        let mut inner = lock.acquire();
        let _ = cond.wait_timeout(&mut inner, Duration::from_millis(1));
        assert_eq!(lock.count(), 2);
    }
}
