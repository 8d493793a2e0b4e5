//! [`Semaphore`] and [`BoundedSemaphore`]: Python's counting semaphores, one core and one
//! surface for both; they differ only in `new` and `release`.
//!
//! Controlled schedules (`testing::explore`): acquire and release start with a scheduling
//! point, and a blocked acquire passes the baton instead of waiting on the condvar.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::blocking::{self, Deadline, Ended, OnCondvar, Wait};
use crate::detector::holds::{Taken, on_acquire, on_release};
use crate::detector::registry::{Waitable, current_thread_id, notify_observer};
use crate::detector::report::{Evidence, Signal, Step};
use crate::detector::resource::{Kind, Resource, Site};
use crate::detector::{self, Deadlock, Delivery};
use crate::error::UsageError;
use crate::sched::{self, Op};

/// The state both semaphores share.
struct SemCore {
    state: Mutex<SemState>,
    cv: Condvar,
    meta: Resource,
    /// `Some(initial)` for a bounded semaphore.
    bound: Option<usize>,
}

struct SemState {
    value: usize,
    /// How many permits there are in all: the initial value plus every bare `release()` (an
    /// upper bound: a release may give back a forgotten permit), or the bound.
    in_all: usize,
    /// Threads holding permits through guards, with how many.
    holders: Vec<(u64, u32)>,
    /// The last bare `release()`, for closed-world evidence.
    last_release: Option<Signal>,
}

impl SemState {
    fn guard_held(&self) -> usize {
        self.holders.iter().map(|&(_, n)| n as usize).sum()
    }
}

/// `None`: a poll (`try_acquire`), which never blocks.
type Patience = Option<Deadline>;

impl SemCore {
    const fn new(kind: Kind, value: usize, bound: Option<usize>, created: Site) -> Self {
        SemCore {
            state: Mutex::new(SemState {
                value,
                in_all: value,
                holders: Vec::new(),
                last_release: None,
            }),
            cv: Condvar::new(),
            meta: Resource::new(kind, created),
            bound,
        }
    }

    /// Takes a permit for thread `me` (the state is locked, and a permit is free).
    fn take(&self, st: &mut SemState, me: u64, site: Site) {
        st.value -= 1;
        let taken = match st.holders.iter_mut().find(|(t, _)| *t == me) {
            Some((_, n)) => {
                *n += 1;
                Taken::Again // one more permit on the hold it has
            }
            None => {
                st.holders.push((me, 1));
                Taken::Permit {
                    in_all: u32::try_from(st.in_all).unwrap_or(u32::MAX),
                }
            }
        };
        // The thread's own list of holds, for reports ("holds `pool` x2").
        if detector::enabled() {
            on_acquire(&self.meta, site, taken);
        }
    }

    /// `Ok(true)`: got a permit; `Ok(false)`: timed out / busy.
    fn acquire(&self, site: Site, patience: Patience, how: Delivery) -> Result<bool, Deadlock> {
        sched::point(Op::Acquire, &self.meta);
        let me = current_thread_id();
        {
            let mut st = self.state.lock();
            if st.value > 0 {
                self.take(&mut st, me, site);
                return Ok(true);
            }
        }
        // A poll (try_acquire, or a timeout already past) never blocks: no wait to register.
        let deadline = match patience {
            Some(d) if !d.passed() => d,
            _ => return Ok(false),
        };
        // Only a bounded semaphore can be owned (see `owners`); asking costs one look.
        let wait = Wait::on(self, &self.meta, site, deadline, how).owned(self.bound.is_some());
        let mut sleeper = OnCondvar::new(
            &self.state,
            &self.cv,
            |st| st.value > 0,
            |st| self.take(st, me, site),
            |_| {},
        );
        Ok(blocking::block(&wait, &mut sleeper)? == Ended::Done)
    }

    /// `acquire` as a guard under the policy: `None` when a poll or timed wait got nothing.
    fn permit(&self, site: Site, patience: Patience) -> Option<SemaphorePermit<'_>> {
        match self.acquire(site, patience, Delivery::Policy) {
            Ok(true) => Some(SemaphorePermit::new(self)),
            Ok(false) => None,
            Err(refused) => refused.raise(),
        }
    }

    fn available(&self) -> usize {
        self.state.lock().value
    }

    /// Forgets one guard-held permit of the calling thread (the permit itself is given back
    /// by the caller, or stays taken).
    fn unhold(&self, st: &mut SemState, me: u64) {
        if let Some(pos) = st.holders.iter().position(|&(t, _)| t == me) {
            st.holders[pos].1 -= 1;
            if st.holders[pos].1 == 0 {
                st.holders.swap_remove(pos);
            }
        }
    }

    /// A permit guard is dropped on the thread that took it.
    fn release_guarded(&self) {
        sched::point(Op::Release, &self.meta);
        let me = current_thread_id();
        let mut st = self.state.lock();
        self.unhold(&mut st, me);
        st.value += 1;
        drop(st);
        self.cv.notify_one();
        if detector::enabled() {
            on_release(&self.meta);
        }
    }

    /// A permit guard is forgotten: the permit stays taken, owned by nobody.
    fn disown(&self) {
        let me = current_thread_id();
        self.unhold(&mut self.state.lock(), me);
        if detector::enabled() {
            on_release(&self.meta);
        }
    }

    fn release_bare(&self, n: usize, site: Site) -> Result<(), UsageError> {
        sched::point(Op::Release, &self.meta);
        let signal = Signal::here(site);
        let mut st = self.state.lock();
        // Permits held through guards come back when the guards drop: counting them is what
        // makes a fully guard-held bounded semaphore refuse a bare release (so only its
        // holders can end a wait on it, which the detector relies on).
        if let Some(max) = self.bound
            && st.value.saturating_add(st.guard_held()).saturating_add(n) > max
        {
            return Err(UsageError::OverRelease {
                name: self.meta.display_name(),
                max,
                guarded: st.guard_held(),
            });
        }
        st.value += n;
        if self.bound.is_none() {
            st.in_all = st.in_all.saturating_add(n);
        }
        st.last_release = Some(signal);
        drop(st);
        for _ in 0..n {
            self.cv.notify_one();
        }
        notify_observer(|o, me| o.happened(me, Step::on(Op::Release, self.meta.info())));
        Ok(())
    }
}

impl Waitable for SemCore {
    fn owners(&self, out: &mut Vec<u64>) -> bool {
        // Owned only when it is bounded and every permit is held through a guard: then a
        // bare `release()` would be an over-release error, so only the holders can end it.
        let Some(max) = self.bound else { return false };
        let st = self.state.lock();
        if st.value != 0 || st.guard_held() != max {
            return false;
        }
        out.extend(st.holders.iter().map(|&(t, _)| t));
        true
    }

    fn satisfiable(&self, _waiter: u64) -> bool {
        self.state.lock().value > 0
    }

    fn evidence(&self) -> Option<Evidence> {
        let st = self.state.lock();
        Some(Evidence::Permits {
            kind: self.meta.kind(),
            name: self.meta.display_name(),
            held_by: st.holders.clone(),
            last_release: st.last_release.clone(),
        })
    }
}

/// The surface both semaphores share, written once.
macro_rules! permits {
    ($ty:ident) => {
        impl $ty {
            /// Gives the semaphore a name to show in reports.
            pub fn named(mut self, name: &str) -> Self {
                self.core.meta.set_name(name);
                self
            }

            /// Takes a permit, blocking while there is none.
            ///
            /// # Panics
            ///
            /// Under the default detector policy, when the detector proves the wait never
            /// ends (a bounded semaphore whose permits are all held by threads that wait,
            /// directly or through others, for the calling thread).
            #[track_caller]
            pub fn acquire(&self) -> SemaphorePermit<'_> {
                self.core
                    .permit(Location::caller(), Some(Deadline::Never))
                    .expect("an untimed acquire returns with a permit")
            }

            /// Like [`acquire`](Self::acquire), returning the detector's report as a value.
            ///
            /// # Errors
            ///
            /// [`Deadlock`] with the report, when the wait would never end: a cycle through a
            /// fully held bounded semaphore, or, inside [`check`](crate::check), a wait that
            /// would leave every thread of the world blocked. No permit is taken.
            #[track_caller]
            pub fn acquire_checked(&self) -> Result<SemaphorePermit<'_>, Deadlock> {
                self.core
                    .acquire(Location::caller(), Some(Deadline::Never), Delivery::Return)?;
                Ok(SemaphorePermit::new(&self.core))
            }

            /// Takes a permit if one is free; never blocks.
            #[track_caller]
            #[must_use = "the permit is given back at once if it is not kept"]
            pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
                self.core.permit(Location::caller(), None)
            }

            /// Waits at most `timeout` for a permit (zero: a poll).
            #[track_caller]
            #[must_use = "the permit is given back at once if it is not kept"]
            pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
                self.core
                    .permit(Location::caller(), Some(Deadline::after(timeout)))
            }

            /// Free permits right now.
            pub fn available(&self) -> usize {
                self.core.available()
            }
        }

        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($ty))
                    .field("name", &self.core.meta.display_name())
                    .field("available", &self.available())
                    .finish()
            }
        }
    };
}

/// A counting semaphore, like Python's `threading.Semaphore`: `acquire` takes one of its
/// permits (blocking while there are none), and dropping the [`SemaphorePermit`] or calling
/// [`release`](Semaphore::release) gives one back.
///
/// Any thread may call `release()`, so a semaphore can be a signal (one thread releases,
/// another acquires). For the same reason a cycle through a plain semaphore is not a
/// certain deadlock outside a closed world; see [`check`](crate::check).
///
/// The initial value is a `usize`, so Python's "semaphore initial value must be >= 0" is a
/// compile error here.
///
/// # Examples
///
/// ```
/// use synckit::Semaphore;
///
/// let pool = Semaphore::new(2).named("connections");
/// let a = pool.acquire();
/// let b = pool.acquire();
/// assert!(pool.try_acquire().is_none()); // both permits taken
/// drop(a);
/// assert!(pool.try_acquire().is_some());
/// # drop(b);
/// ```
pub struct Semaphore {
    core: SemCore,
}

permits!(Semaphore);

impl Semaphore {
    /// Creates a semaphore with `value` permits, named `Semaphore@file:line`. A `const fn`.
    #[track_caller]
    pub const fn new(value: usize) -> Self {
        Semaphore {
            core: SemCore::new(Kind::Semaphore, value, None, Location::caller()),
        }
    }

    /// Adds a permit, waking one waiter (the signalling use; no guard needed).
    #[track_caller]
    pub fn release(&self) {
        let _ = self.core.release_bare(1, Location::caller());
    }

    /// Adds `n` permits, waking up to `n` waiters (Python's `release(n)`).
    #[track_caller]
    pub fn release_n(&self, n: usize) {
        let _ = self.core.release_bare(n, Location::caller());
    }
}

/// A semaphore that refuses to be released above its initial value, like Python's
/// `threading.BoundedSemaphore`: an over-release is a bug (a permit returned twice), and
/// it is reported as a [`UsageError`] with the value left unchanged.
///
/// When every permit is held through a [`SemaphorePermit`], only those holders can give one
/// back, so a cycle through a fully held bounded semaphore is a certain deadlock and is
/// reported like a lock cycle.
///
/// # Examples
///
/// ```
/// use synckit::BoundedSemaphore;
///
/// let pool = BoundedSemaphore::new(1).named("printer");
/// let permit = pool.acquire();
/// drop(permit);
/// let err = pool.release().unwrap_err(); // one release too many
/// assert!(err.to_string().contains("released too many times"));
/// assert_eq!(pool.available(), 1);
/// ```
pub struct BoundedSemaphore {
    core: SemCore,
}

permits!(BoundedSemaphore);

impl BoundedSemaphore {
    /// Creates a bounded semaphore with `value` permits (also its maximum). A `const fn`.
    #[track_caller]
    pub const fn new(value: usize) -> Self {
        BoundedSemaphore {
            core: SemCore::new(
                Kind::BoundedSemaphore,
                value,
                Some(value),
                Location::caller(),
            ),
        }
    }

    /// Gives back a permit taken without a guard (see [`SemaphorePermit::forget`]).
    ///
    /// # Errors
    ///
    /// [`UsageError::OverRelease`] if that would raise the value above the initial one;
    /// the value is then unchanged.
    #[track_caller]
    pub fn release(&self) -> Result<(), UsageError> {
        self.core.release_bare(1, Location::caller())
    }
}

/// A permit of a [`Semaphore`] or [`BoundedSemaphore`], given back when dropped.
///
/// Not `Send`: the detector counts the permit as held by the thread that took it. To hand a
/// permit to another thread, [`forget`](SemaphorePermit::forget) it and call `release()`
/// there.
#[must_use = "the permit is given back as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    core: &'a SemCore,
    _not_send: PhantomData<*const ()>,
}

impl<'a> SemaphorePermit<'a> {
    fn new(core: &'a SemCore) -> Self {
        SemaphorePermit {
            core,
            _not_send: PhantomData,
        }
    }

    /// Keeps the permit taken without a guard: some thread must call `release()` later
    /// (Python's bare `acquire()` ... `release()`).
    pub fn forget(self) {
        self.core.disown();
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.core.release_guarded();
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SemaphorePermit({})", self.core.meta.display_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permits_are_counted_and_given_back_on_drop() {
        let s = Semaphore::new(2);
        let a = s.acquire();
        assert_eq!(s.available(), 1);
        let b = s.try_acquire().expect("one left");
        assert!(s.acquire_timeout(Duration::ZERO).is_none());
        drop((a, b));
        assert_eq!(s.available(), 2);
        s.release_n(3);
        assert_eq!(s.available(), 5, "a plain semaphore has no upper bound");
    }

    #[test]
    fn a_bounded_semaphore_refuses_an_over_release_and_stays_usable() {
        let s = BoundedSemaphore::new(1).named("bounded-unit");
        let err = s.release().unwrap_err();
        assert_eq!(
            err,
            UsageError::OverRelease {
                name: "bounded-unit".into(),
                max: 1,
                guarded: 0
            }
        );
        assert_eq!(s.available(), 1);
        s.acquire().forget();
        assert_eq!(s.available(), 0);
        s.release().expect("one forgotten permit may be released");
        assert_eq!(s.available(), 1);
    }

    #[test]
    fn both_semaphores_show_their_own_type_name() {
        assert!(format!("{:?}", Semaphore::new(1)).starts_with("Semaphore {"));
        assert!(format!("{:?}", BoundedSemaphore::new(1)).starts_with("BoundedSemaphore {"));
    }
}
