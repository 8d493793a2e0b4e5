//! [`Semaphore`] and [`BoundedSemaphore`]: Python's counting semaphores.
//!
//! Controlled schedules (`testing::explore`): acquire and release start with a scheduling
//! point, and a blocked acquire passes the baton instead of waiting on the condvar.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use std::sync::Arc;

use super::condition::describe_thread;
use crate::detector::registry::{
    Global, Hold, Kind, ResourceMeta, Site, ThreadShared, Waitable, adjust_hold, current_thread,
    current_thread_id, find_hold, pop_hold, push_hold,
};
use crate::detector::wait_for::begin_wait;
use crate::detector::{self, Deadlock, Delivery, fmt_site};
use crate::error::UsageError;
use crate::testing::hook::{self, Op, Park};

/// The state both semaphores share.
struct SemCore {
    state: Mutex<SemState>,
    cv: Condvar,
    meta: ResourceMeta,
    /// `Some(initial)` for a bounded semaphore.
    bound: Option<usize>,
}

#[derive(Default)]
struct SemState {
    value: usize,
    /// Threads holding permits through guards, with how many.
    holders: Vec<(u64, u32)>,
    /// The last few bare `release()` calls: `(thread, site)`, for closed-world evidence.
    releasers: VecDeque<(Option<Arc<ThreadShared>>, Site)>,
}

impl SemState {
    fn guard_held(&self) -> usize {
        self.holders.iter().map(|&(_, n)| n as usize).sum()
    }
}

impl SemCore {
    fn new(kind: Kind, value: usize, bound: Option<usize>, created: Site) -> Self {
        SemCore {
            state: Mutex::new(SemState {
                value,
                ..SemState::default()
            }),
            cv: Condvar::new(),
            meta: ResourceMeta::new(kind, created),
            bound,
        }
    }

    fn take(&self, st: &mut SemState, me: u64, site: Site) {
        st.value -= 1;
        match st.holders.iter_mut().find(|(t, _)| *t == me) {
            Some((_, n)) => *n += 1,
            None => st.holders.push((me, 1)),
        }
        // The thread's own list of holds, for reports ("holds `pool` x2").
        if detector::enabled() {
            let id = self.meta.id();
            if find_hold(id).is_some() {
                adjust_hold(id, 1);
            } else {
                push_hold(Hold {
                    resource: self.meta.info(),
                    site,
                    count: 1,
                    subclass: 0,
                    entered_graph: false,
                });
            }
        }
    }

    fn forget_hold(&self) {
        if detector::enabled() {
            let id = self.meta.id();
            match find_hold(id) {
                Some(h) if h.count > 1 => adjust_hold(id, -1),
                Some(_) => {
                    pop_hold(id);
                }
                None => {}
            }
        }
    }

    /// `Ok(true)`: got a permit; `Ok(false)`: timed out / busy.
    fn acquire(
        &self,
        site: Site,
        deadline: Option<Option<Instant>>,
        how: Delivery,
    ) -> Result<bool, Deadlock> {
        hook::point(Op::Acquire, &self.meta);
        let me = current_thread_id();
        {
            let mut st = self.state.lock();
            if st.value > 0 {
                self.take(&mut st, me, site);
                return Ok(true);
            }
        }
        // A poll (try_acquire, or a timeout already past) never blocks: no wait to register.
        // (Comparing with a fresh `Instant::now()` for equality almost never matched.)
        if let Some(Some(d)) = deadline
            && d <= Instant::now()
        {
            return Ok(false);
        }
        let timed = deadline.is_some();
        let registration = if detector::enabled() {
            match begin_wait(self, self.meta.info(), site, timed, true) {
                Ok(r) => Some(r),
                Err(report) => {
                    detector::deliver(report, how)?;
                    begin_wait(self, self.meta.info(), site, timed, false).ok()
                }
            }
        } else {
            None
        };
        let mut st = self.state.lock();
        let got = loop {
            if st.value > 0 {
                crate::world::leaving_wait();
                self.take(&mut st, me, site);
                break true;
            }
            match deadline {
                _ if hook::active() => {
                    // Controlled schedule: pass the baton until a permit may be free.
                    let park = parking_lot::MutexGuard::unlocked(&mut st, || {
                        hook::park(&self.meta, timed, &|| self.state.lock().value > 0)
                    });
                    match park {
                        Park::Retry => {}
                        Park::TimedOut => break false,
                        Park::Aborted => hook::abort_unwind(),
                    }
                }
                None | Some(None) => self.cv.wait(&mut st),
                Some(Some(d)) => {
                    if self.cv.wait_until(&mut st, d).timed_out() {
                        if st.value > 0 {
                            crate::world::leaving_wait();
                            self.take(&mut st, me, site);
                            break true;
                        }
                        break false;
                    }
                }
            }
        };
        drop(st);
        drop(registration);
        Ok(got)
    }

    /// `acquire` under the policy, as a guard: `None` when a poll or timed wait got nothing.
    /// (Under the policy a deadlock panics or is logged and then waited out, so an untimed
    /// acquire always ends with a permit.)
    fn permit(&self, site: Site, deadline: Option<Option<Instant>>) -> Option<SemaphorePermit<'_>> {
        matches!(self.acquire(site, deadline, Delivery::Policy), Ok(true))
            .then(|| SemaphorePermit::new(self))
    }

    fn available(&self) -> usize {
        self.state.lock().value
    }

    /// A permit guard is dropped on the thread that took it.
    fn release_guarded(&self) {
        hook::point(Op::Release, &self.meta);
        let me = current_thread_id();
        let mut st = self.state.lock();
        if let Some(pos) = st.holders.iter().position(|&(t, _)| t == me) {
            st.holders[pos].1 -= 1;
            if st.holders[pos].1 == 0 {
                st.holders.swap_remove(pos);
            }
        }
        st.value += 1;
        drop(st);
        self.forget_hold();
        self.cv.notify_one();
        crate::world::note_progress();
    }

    /// A permit guard is forgotten: the permit stays taken, owned by nobody.
    fn disown(&self) {
        let me = current_thread_id();
        let mut st = self.state.lock();
        if let Some(pos) = st.holders.iter().position(|&(t, _)| t == me) {
            st.holders[pos].1 -= 1;
            if st.holders[pos].1 == 0 {
                st.holders.swap_remove(pos);
            }
        }
        drop(st);
        self.forget_hold();
    }

    fn release_bare(&self, n: usize, site: Site) -> Result<(), UsageError> {
        hook::point(Op::Release, &self.meta);
        let me = current_thread();
        let mut st = self.state.lock();
        // Permits held through guards come back when the guards drop: counting them is what
        // makes a fully guard-held bounded semaphore refuse a bare release (so only its
        // holders can end a wait on it, which the detector relies on).
        if let Some(max) = self.bound
            && st.value.saturating_add(st.guard_held()).saturating_add(n) > max
        {
            return Err(UsageError::OverRelease {
                name: self.meta.info().display_name(),
                max,
                guarded: st.guard_held(),
            });
        }
        st.value += n;
        if st.releasers.len() == 8 {
            st.releasers.pop_front();
        }
        st.releasers.push_back((me, site));
        drop(st);
        for _ in 0..n {
            self.cv.notify_one();
        }
        crate::world::note_progress();
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

    fn evidence(&self, g: &Global) -> Option<String> {
        let st = self.state.lock();
        let name = self.meta.info().display_name();
        let holders: Vec<String> = st
            .holders
            .iter()
            .map(|&(t, n)| format!("`{}` x{n}", g.thread_name(t)))
            .collect();
        let held = if holders.is_empty() {
            "no thread holds a permit through a guard".to_string()
        } else {
            format!("permits held by {}", holders.join(", "))
        };
        let released = match st.releasers.back() {
            None => "nobody has ever called release()".to_string(),
            Some((t, site)) => {
                let (who, alive) = describe_thread(g, t.as_ref());
                format!("last release() by `{who}` at {}, {alive}", fmt_site(site))
            }
        };
        Some(format!(
            "{} `{name}` has 0 permits; {held}; {released}",
            self.meta.kind()
        ))
    }
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

impl Semaphore {
    /// Creates a semaphore with `value` permits, named `Semaphore@file:line`.
    #[track_caller]
    pub fn new(value: usize) -> Self {
        Semaphore {
            core: SemCore::new(Kind::Semaphore, value, None, Location::caller()),
        }
    }

    /// Gives the semaphore a name to show in reports.
    pub fn named(mut self, name: &str) -> Self {
        self.core.meta.set_name(name);
        self
    }

    /// Takes a permit, blocking while there is none.
    #[track_caller]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.core
            .permit(Location::caller(), None)
            .expect("an untimed acquire returns with a permit")
    }

    /// Takes a permit if one is free; never blocks.
    #[track_caller]
    #[must_use = "the permit is given back at once if it is not kept"]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.core
            .permit(Location::caller(), Some(Some(Instant::now())))
    }

    /// Waits at most `timeout` for a permit (zero: a poll).
    #[track_caller]
    #[must_use = "the permit is given back at once if it is not kept"]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.core.permit(
            Location::caller(),
            Some(Instant::now().checked_add(timeout)),
        )
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

    /// Free permits right now.
    pub fn available(&self) -> usize {
        self.core.available()
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

impl BoundedSemaphore {
    /// Creates a bounded semaphore with `value` permits (also its maximum).
    #[track_caller]
    pub fn new(value: usize) -> Self {
        BoundedSemaphore {
            core: SemCore::new(
                Kind::BoundedSemaphore,
                value,
                Some(value),
                Location::caller(),
            ),
        }
    }

    /// Gives the semaphore a name to show in reports.
    pub fn named(mut self, name: &str) -> Self {
        self.core.meta.set_name(name);
        self
    }

    /// Takes a permit, blocking while there is none.
    ///
    /// # Panics
    ///
    /// Under the default detector policy, when every permit is held by threads that wait
    /// (directly or through others) for the calling thread: a certain deadlock.
    #[track_caller]
    pub fn acquire(&self) -> SemaphorePermit<'_> {
        self.core
            .permit(Location::caller(), None)
            .expect("an untimed acquire returns with a permit")
    }

    /// Like [`acquire`](BoundedSemaphore::acquire), returning a deadlock as an error.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] with the report; no permit is taken.
    #[track_caller]
    pub fn acquire_checked(&self) -> Result<SemaphorePermit<'_>, Deadlock> {
        self.core
            .acquire(Location::caller(), None, Delivery::Return)?;
        Ok(SemaphorePermit::new(&self.core))
    }

    /// Takes a permit if one is free; never blocks.
    #[track_caller]
    #[must_use = "the permit is given back at once if it is not kept"]
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.core
            .permit(Location::caller(), Some(Some(Instant::now())))
    }

    /// Waits at most `timeout` for a permit (zero: a poll).
    #[track_caller]
    #[must_use = "the permit is given back at once if it is not kept"]
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphorePermit<'_>> {
        self.core.permit(
            Location::caller(),
            Some(Instant::now().checked_add(timeout)),
        )
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

    /// Free permits right now.
    pub fn available(&self) -> usize {
        self.core.available()
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
        write!(
            f,
            "SemaphorePermit({})",
            self.core.meta.info().display_name()
        )
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("name", &self.core.meta.info().display_name())
            .field("available", &self.available())
            .finish()
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("name", &self.core.meta.info().display_name())
            .field("available", &self.available())
            .finish()
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
}
