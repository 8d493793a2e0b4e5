//! [`Lock`]: Python's `threading.Lock`, owning its data like `std::sync::Mutex`.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::panic::Location;
use std::time::Duration;

use super::blocking::Deadline;
use super::core::{LockCore, Patience};
use crate::detector::resource::Kind;
use crate::detector::{Deadlock, Delivery};

/// A mutual-exclusion lock, like Python's `threading.Lock`, that owns the data it protects
/// and reports every acquisition to the deadlock detector.
///
/// Acquire it with [`acquire`](Lock::acquire); the returned [`LockGuard`] gives access to
/// the data and releases the lock when dropped.
///
/// **One deliberate difference from Python.** A Python `Lock` has no owner: any thread may
/// release it, so a thread that acquires it twice might be waiting for another thread's
/// `release()`. A synckit `Lock` is released only by dropping its guard, and the guard cannot
/// leave the thread (it is not `Send`). So a second acquire by the holder is a *certain*
/// deadlock, and the detector reports it at once as a re-entrant acquire (a cycle of length
/// one) instead of hanging. For the signalling use of a Python lock (acquire here, release
/// there) use a [`Semaphore`](crate::Semaphore) or an [`Event`](crate::Event); for a lock the
/// same thread may take again, an [`RLock`](crate::RLock).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use synckit::Lock;
///
/// let balance = Arc::new(Lock::new(100).named("balance"));
/// let worker = {
///     let balance = balance.clone();
///     std::thread::spawn(move || *balance.acquire() -= 30)
/// };
/// worker.join().unwrap();
/// assert_eq!(*balance.acquire(), 70);
/// ```
pub struct Lock<T: ?Sized = ()> {
    core: LockCore,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out access to `T` to one thread at a time (through a guard), so
// sharing the lock between threads is like sharing a `std::sync::Mutex<T>`: it needs only
// `T: Send`.
unsafe impl<T: ?Sized + Send> Sync for Lock<T> {}
// SAFETY: moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for Lock<T> {}

impl<T> Lock<T> {
    /// Creates an unlocked lock holding `value`. Its name in reports is `Lock@file:line` of
    /// this call until you give it one with [`named`](Lock::named).
    ///
    /// A `const fn`, like `std::sync::Mutex::new`: a `static` lock needs no `LazyLock`.
    ///
    /// # Examples
    ///
    /// ```
    /// use synckit::Lock;
    ///
    /// static HITS: Lock<u64> = Lock::new(0);
    /// *HITS.acquire() += 1;
    /// assert_eq!(*HITS.acquire(), 1);
    /// ```
    #[track_caller]
    pub const fn new(value: T) -> Self {
        Lock {
            core: LockCore::new(Kind::Lock, Location::caller()),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: Default> Default for Lock<T> {
    #[track_caller]
    fn default() -> Self {
        Lock::new(T::default())
    }
}

impl<T: ?Sized> Lock<T> {
    /// Gives the lock a name to show in reports.
    pub fn named(mut self, name: &str) -> Self
    where
        T: Sized,
    {
        self.core.meta.set_name(name);
        self
    }

    /// Puts the lock in a lock *class* (like the Linux kernel's lockdep): every lock of a
    /// class is one node of the lock-order graph, so an order learned on one account's lock
    /// applies to all of them. Taking two locks of one class needs
    /// [`acquire_nested`](Lock::acquire_nested) with a documented order.
    ///
    /// # Examples
    ///
    /// ```
    /// use synckit::Lock;
    ///
    /// let accounts: Vec<Lock<i64>> = (0..3).map(|_| Lock::new(100).class("account")).collect();
    /// // Transfer 0 -> 2, always taking the lower id first: subclass 0, then 1.
    /// let from = accounts[0].acquire();
    /// let to = accounts[2].acquire_nested(1);
    /// # drop((from, to));
    /// ```
    pub fn class(mut self, class: &str) -> Self
    where
        T: Sized,
    {
        self.core.meta.set_class(class);
        self
    }

    /// Blocks until the lock is free, takes it, and returns a guard that releases it on drop.
    ///
    /// # Panics
    ///
    /// Under the default detector [`Policy`](crate::detector::Policy), if this acquire would
    /// deadlock: the calling thread already holds this lock (re-entrant acquire), or it would
    /// close a cycle of threads waiting for each other, or it takes locks in an order that
    /// contradicts an order seen before (lock-order inversion). The panic message is the
    /// detector's report. [`acquire_checked`](Lock::acquire_checked) returns it instead.
    #[track_caller]
    #[inline]
    pub fn acquire(&self) -> LockGuard<'_, T> {
        self.core.acquire_policy(Location::caller());
        LockGuard::new(self)
    }

    /// Like [`acquire`](Lock::acquire), but a deadlock or lock-order inversion is returned as
    /// an error instead of handled by the policy. The lock is not held when it errs.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] with the report, when blocking would never end or the order is inverted.
    #[track_caller]
    pub fn acquire_checked(&self) -> Result<LockGuard<'_, T>, Deadlock> {
        let site = Location::caller();
        self.core
            .acquire(site, Patience::FOREVER, Delivery::Return, 0)?;
        Ok(LockGuard::new(self))
    }

    /// Takes the lock, as the `subclass`-th lock of its class held at once (see
    /// [`class`](Lock::class)). You promise a consistent order among the members, e.g. by id.
    #[track_caller]
    pub fn acquire_nested(&self, subclass: u32) -> LockGuard<'_, T> {
        let site = Location::caller();
        if let Err(refused) = self
            .core
            .acquire(site, Patience::FOREVER, Delivery::Policy, subclass)
        {
            refused.raise();
        }
        LockGuard::new(self)
    }

    /// Takes the lock if it is free; never blocks, so it can never deadlock and adds no
    /// lock-order edge.
    #[track_caller]
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn try_acquire(&self) -> Option<LockGuard<'_, T>> {
        let site = Location::caller();
        match self.core.acquire(site, Patience::Try, Delivery::Policy, 0) {
            Ok(true) => Some(LockGuard::new(self)),
            Ok(false) => None,
            Err(refused) => refused.raise(),
        }
    }

    /// Waits at most `timeout` for the lock. A zero timeout is a poll. A timed wait is never
    /// reported as a deadlock (it ends by itself), but it does record the lock order.
    ///
    /// # Panics
    ///
    /// On a lock-order inversion, under the default policy (see [`acquire`](Lock::acquire)).
    #[track_caller]
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<LockGuard<'_, T>> {
        let site = Location::caller();
        let patience = Patience::Wait(Deadline::after(timeout));
        match self.core.acquire(site, patience, Delivery::Policy, 0) {
            Ok(true) => Some(LockGuard::new(self)),
            Ok(false) => None,
            Err(refused) => refused.raise(),
        }
    }

    /// Whether the lock is held by some thread (Python's `locked()`); a momentary answer.
    pub fn locked(&self) -> bool {
        self.core.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    pub(crate) fn core(&self) -> &LockCore {
        &self.core
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Lock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Lock");
        d.field("name", &self.core.meta.info().display_name());
        match self.try_acquire() {
            Some(guard) => d.field("data", &&*guard),
            None => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

/// Access to a [`Lock`]'s data; the lock is released when the guard is dropped.
///
/// Not `Send`: a lock is released by the thread that took it.
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a, T: ?Sized> {
    lock: &'a Lock<T>,
    /// False only while unwinding from a Condition wait whose re-acquire was refused.
    pub(crate) held: bool,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing `&LockGuard` only shares `&T`.
unsafe impl<T: ?Sized + Sync> Sync for LockGuard<'_, T> {}

impl<'a, T: ?Sized> LockGuard<'a, T> {
    fn new(lock: &'a Lock<T>) -> Self {
        LockGuard {
            lock,
            held: true,
            _not_send: PhantomData,
        }
    }

    /// The lock this guard holds (used by `Condition`).
    pub(crate) fn lock(&self) -> &'a Lock<T> {
        self.lock
    }
}

impl<T: ?Sized> Deref for LockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for LockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard exists only while this thread holds the lock, and `&mut self`
        // means no other reference from this guard is live.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for LockGuard<'_, T> {
    fn drop(&mut self) {
        if self.held {
            self.lock.core.release();
        }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for LockGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_refuses_try_and_times_out() {
        let lock = Lock::new(1);
        let guard = lock.acquire();
        assert!(lock.locked());
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(lock.try_acquire().is_none());
                assert!(
                    lock.acquire_timeout(Duration::ZERO).is_none(),
                    "zero is a poll"
                );
                assert!(lock.acquire_timeout(Duration::from_millis(5)).is_none());
            });
        });
        drop(guard);
        assert!(!lock.locked());
        assert_eq!(*lock.try_acquire().expect("free again"), 1);
    }

    #[test]
    fn the_guard_writes_through_and_into_inner_returns_the_data() {
        let mut lock = Lock::new(vec![1]).named("list");
        lock.acquire().push(2);
        lock.get_mut().push(3);
        assert_eq!(
            format!("{lock:?}"),
            "Lock { name: \"list\", data: [1, 2, 3] }"
        );
        assert_eq!(lock.into_inner(), vec![1, 2, 3]);
    }
}
