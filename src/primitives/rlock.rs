//! [`RLock`]: Python's `threading.RLock`, a lock its owner may take again.

use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Deref;
use std::panic::Location;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::blocking::Deadline;
use super::core::{LockCore, Patience};
use crate::detector::holds::{Taken, on_acquire, on_release};
use crate::detector::registry::current_thread_id;
use crate::detector::resource::Kind;
use crate::detector::{self, Deadlock, Delivery};

/// A re-entrant lock, like Python's `threading.RLock`: the thread that holds it may acquire
/// it again, and it is released when every acquisition has been released.
///
/// The guard gives `&T`, not `&mut T`: while one guard is alive, the same thread can take
/// a second guard, and two `&mut T` to the same data would break Rust's aliasing rule. Put
/// the parts you change in a `Cell`, `RefCell` or atomics inside (an `RLock<RefCell<T>>` is
/// the usual shape), so the re-entrant code borrows mutably only for as long as it needs.
///
/// Ownership is enforced by the types: a guard cannot leave the thread that took it (it is
/// not `Send`), so a thread that does not own the lock cannot release it — the error Python
/// raises as `RuntimeError: cannot release un-acquired lock` cannot happen here.
///
/// ```compile_fail
/// let lock = std::sync::Arc::new(synckit::RLock::new(()));
/// let guard = lock.acquire();
/// std::thread::spawn(move || drop(guard)); // error: `RLockGuard` cannot be sent
/// ```
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use synckit::RLock;
///
/// let log = RLock::new(RefCell::new(Vec::new())).named("log");
/// fn record(log: &RLock<RefCell<Vec<u32>>>, depth: u32) {
///     let guard = log.acquire(); // re-entered on every level
///     guard.borrow_mut().push(depth);
///     if depth < 3 {
///         record(log, depth + 1);
///     }
/// }
/// record(&log, 0);
/// assert_eq!(*log.acquire().borrow(), vec![0, 1, 2, 3]);
/// ```
pub struct RLock<T: ?Sized = ()> {
    core: LockCore,
    /// Acquisitions by the owner; touched only by the owning thread.
    count: AtomicU32,
    data: UnsafeCell<T>,
}

// SAFETY: every guard alive at once belongs to the owning thread (guards are not Send), so
// `&T` is used by one thread at a time and `T: Send` suffices, as for
// `std::sync::ReentrantLock`.
unsafe impl<T: ?Sized + Send> Sync for RLock<T> {}
// SAFETY: moving the lock moves the `T`.
unsafe impl<T: ?Sized + Send> Send for RLock<T> {}

impl<T> RLock<T> {
    /// Creates an unlocked re-entrant lock holding `value`, named `RLock@file:line`.
    ///
    /// A `const fn`: a `static` RLock needs no `LazyLock`.
    #[track_caller]
    pub const fn new(value: T) -> Self {
        RLock {
            core: LockCore::new(Kind::RLock, Location::caller()),
            count: AtomicU32::new(0),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock and returns the data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }

    /// Gives the lock a name to show in reports.
    pub fn named(mut self, name: &str) -> Self {
        self.core.meta.set_name(name);
        self
    }

    /// Puts the lock in a lock class; see [`Lock::class`](crate::Lock::class).
    pub fn class(mut self, class: &str) -> Self {
        self.core.meta.set_class(class);
        self
    }
}

impl<T: Default> Default for RLock<T> {
    #[track_caller]
    fn default() -> Self {
        RLock::new(T::default())
    }
}

impl<T: ?Sized> RLock<T> {
    /// Takes the lock, or takes it once more if this thread already holds it.
    ///
    /// # Panics
    ///
    /// Under the default detector policy, if waiting would deadlock (another thread holds it
    /// and waits, directly or through others, for something this thread holds) or the
    /// first acquire inverts a lock order seen before. Re-entry never panics and adds no
    /// lock-order edge.
    #[track_caller]
    pub fn acquire(&self) -> RLockGuard<'_, T> {
        let site = Location::caller();
        if !self.reenter(site) {
            // The same inline path as `Lock::acquire`: the count is ours alone once it is
            // taken, so a first acquisition costs one store more than a Lock's.
            self.core.acquire_policy(site);
            self.core.own_if_untracked();
            self.count.store(1, Ordering::Relaxed);
        }
        RLockGuard::new(self)
    }

    /// Like [`acquire`](RLock::acquire) but returns a deadlock as an error.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] with the report; the lock is then not held by this call.
    #[track_caller]
    pub fn acquire_checked(&self) -> Result<RLockGuard<'_, T>, Deadlock> {
        self.enter(Location::caller(), Patience::FOREVER, Delivery::Return)?;
        Ok(RLockGuard::new(self))
    }

    /// Takes the lock if it is free or already ours; never blocks.
    #[track_caller]
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn try_acquire(&self) -> Option<RLockGuard<'_, T>> {
        match self.enter(Location::caller(), Patience::Try, Delivery::Policy) {
            Ok(true) => Some(RLockGuard::new(self)),
            Ok(false) => None,
            Err(refused) => refused.raise(),
        }
    }

    /// Waits at most `timeout` for the lock (zero: a poll).
    #[track_caller]
    #[must_use = "the lock is released at once if the guard is not kept"]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<RLockGuard<'_, T>> {
        let patience = Patience::Wait(Deadline::after(timeout));
        match self.enter(Location::caller(), patience, Delivery::Policy) {
            Ok(true) => Some(RLockGuard::new(self)),
            Ok(false) => None,
            Err(refused) => refused.raise(),
        }
    }

    /// Whether the calling thread holds the lock (Python's `_is_owned()`).
    pub fn is_owned(&self) -> bool {
        // The owner first: it is what tells threads apart, and the count is read only by
        // the owner's own thread after that.
        self.core.owner() == self.owner_id() && self.count.load(Ordering::Relaxed) > 0
    }

    /// How many times the calling thread holds the lock (0 if it does not).
    pub fn count(&self) -> u32 {
        if self.is_owned() {
            self.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Whether some thread holds the lock; a momentary answer.
    pub fn locked(&self) -> bool {
        self.core.is_locked()
    }

    /// Mutable access without locking: `&mut self` proves no guard exists.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The owner id to compare with: ours, tracked even with the detector off.
    fn owner_id(&self) -> u64 {
        current_thread_id()
    }

    fn enter(
        &self,
        site: &'static Location<'static>,
        patience: Patience,
        how: Delivery,
    ) -> Result<bool, Deadlock> {
        if self.reenter(site) {
            return Ok(true);
        }
        let got = self.core.acquire_owned(site, patience, how)?;
        if got {
            self.count.store(1, Ordering::Relaxed);
        }
        Ok(got)
    }

    /// Takes the lock once more if this thread holds it; `false` if it does not.
    #[inline(always)]
    fn reenter(&self, site: &'static Location<'static>) -> bool {
        let me = self.owner_id();
        // `me == 0`: the thread's detector state is gone (thread-local teardown), and 0 is
        // also the "no owner" mark: never treat that as re-entry.
        if me == 0 || self.core.owner() != me {
            return false;
        }
        // Only the owner's thread writes the count while it holds the lock: a load and a
        // store, not a locked read-modify-write on a line the other threads are reading.
        let count = self.count.load(Ordering::Relaxed);
        self.count.store(count + 1, Ordering::Relaxed);
        if detector::enabled() {
            on_acquire(&self.core.meta, site, Taken::Again);
        }
        true
    }

    #[inline]
    fn exit(&self) {
        if !self.is_owned() {
            // Only after a Condition wait's re-acquire was refused (the thread is unwinding
            // with the report): this thread holds nothing to release.
            return;
        }
        let count = self.count.load(Ordering::Relaxed);
        self.count.store(count - 1, Ordering::Relaxed);
        if count == 1 {
            self.core.clear_owner();
            self.core.release();
        } else if detector::enabled() {
            on_release(&self.core.meta);
        }
    }

    /// Releases every acquisition at once and returns how many there were (Condition wait).
    pub(crate) fn release_all(&self) -> u32 {
        let n = self.count.swap(0, Ordering::Relaxed);
        if detector::enabled() {
            // The hold counts every acquisition; the core's release gives back the last one.
            for _ in 1..n {
                on_release(&self.core.meta);
            }
        }
        self.core.clear_owner();
        self.core.release();
        n
    }

    /// Re-takes the lock `n` times after [`release_all`](RLock::release_all).
    pub(crate) fn restore(
        &self,
        site: &'static Location<'static>,
        n: u32,
        how: Delivery,
    ) -> Result<(), Deadlock> {
        self.core.acquire_owned(site, Patience::FOREVER, how)?;
        self.count.store(n, Ordering::Relaxed);
        if detector::enabled() {
            for _ in 1..n {
                on_acquire(&self.core.meta, site, Taken::Again);
            }
        }
        Ok(())
    }

    pub(crate) fn core(&self) -> &LockCore {
        &self.core
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLock")
            .field("name", &self.core.meta.info().display_name())
            .field("locked", &self.locked())
            .finish_non_exhaustive()
    }
}

/// Shared access to an [`RLock`]'s data; one acquisition is released on drop.
#[must_use = "the acquisition is released as soon as the guard is dropped"]
pub struct RLockGuard<'a, T: ?Sized> {
    lock: &'a RLock<T>,
    _not_send: PhantomData<*const ()>,
}

// SAFETY: sharing `&RLockGuard` with another thread only shares `&T` (the guard gives no
// `&mut T`, and it is dropped on its own thread, since it is not `Send`), which is sound
// exactly when `T: Sync`; as for `std::sync::ReentrantLockGuard`.
unsafe impl<T: ?Sized + Sync> Sync for RLockGuard<'_, T> {}

impl<'a, T: ?Sized> RLockGuard<'a, T> {
    fn new(lock: &'a RLock<T>) -> Self {
        RLockGuard {
            lock,
            _not_send: PhantomData,
        }
    }

    pub(crate) fn rlock(&self) -> &'a RLock<T> {
        self.lock
    }
}

impl<T: ?Sized> Deref for RLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread owns the lock; every other live
        // guard is on this thread too and also gives only `&T`.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Drop for RLockGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.exit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_reenters_and_counts() {
        let lock = RLock::new(5);
        assert_eq!(lock.count(), 0);
        let a = lock.acquire();
        let b = lock.try_acquire().expect("re-entry never fails");
        assert_eq!((lock.count(), *a + *b), (2, 10));
        drop(a);
        assert!(lock.is_owned());
        drop(b);
        assert!(!lock.locked());
    }

    #[test]
    fn another_thread_cannot_take_it_while_held() {
        let lock = RLock::new(());
        let _held = lock.acquire();
        std::thread::scope(|s| {
            s.spawn(|| {
                assert!(!lock.is_owned());
                assert!(lock.try_acquire().is_none());
                assert!(lock.acquire_timeout(Duration::from_millis(5)).is_none());
            });
        });
    }
}
