//! The instrumented raw lock shared by [`Lock`](crate::Lock) and [`RLock`](crate::RLock):
//! a `parking_lot::RawMutex`, the id of the thread that owns it, and its detector identity.
//!
//! Fast path (uncontended): one compare-and-swap, a store of the owner, and a push onto the
//! calling thread's own list of holds. No global lock, no allocation, no backtrace.
//! Slow path (about to block): a short spin, then the detector's wait-for check, then park.
//!
//! Controlled schedules (`testing::explore`): `acquire` and `release` start with a scheduling
//! point, and a blocked acquire passes the baton instead of parking in the raw lock
//! (`park_controlled`). Outside a controlled run the hook is one thread-local read.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::lock_api::{RawMutex as _, RawMutexTimed as _};

use crate::detector::registry::{
    Kind, ResourceMeta, Site, Waitable, current_thread_id, find_hold, with_local,
};
use crate::detector::wait_for::begin_wait;
use crate::detector::{self, Deadlock, Delivery, Report, on_acquired, on_released};
use crate::testing::hook::{self, Op, Park};

pub(crate) struct LockCore {
    raw: parking_lot::RawMutex,
    /// Detector id of the owning thread; 0 when free (or when the detector is off).
    owner: AtomicU64,
    pub meta: ResourceMeta,
}

/// `now + timeout`, or a deadline a century away when that overflows: a timed acquire
/// stays timed (never reported as a deadlock) however long its timeout.
pub(crate) fn deadline_after(timeout: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(timeout)
        .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
        .unwrap_or(now)
}

/// How long an acquire may wait.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Patience {
    /// Never block (`try_acquire`): cannot deadlock, adds no lock-order edge.
    Try,
    /// Block at most until then.
    Until(Instant),
    /// Block as long as it takes.
    Forever,
}

impl LockCore {
    pub fn new(kind: Kind, created: Site) -> Self {
        LockCore {
            raw: parking_lot::RawMutex::INIT,
            owner: AtomicU64::new(0),
            meta: ResourceMeta::new(kind, created),
        }
    }

    pub fn owner(&self) -> u64 {
        self.owner.load(Ordering::Relaxed)
    }

    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Acquires the lock. `Ok(true)`: acquired; `Ok(false)`: timed out or busy (`Try`);
    /// `Err`: a deadlock or inversion, when `how` is [`Delivery::Return`].
    #[inline]
    pub fn acquire(
        &self,
        site: Site,
        patience: Patience,
        how: Delivery,
        subclass: u32,
    ) -> Result<bool, Deadlock> {
        let op = if patience == Patience::Try {
            Op::TryAcquire
        } else {
            Op::Acquire
        };
        hook::point(op, &self.meta);
        if self.raw.try_lock() {
            if detector::enabled() {
                self.acquired(site, patience, how, subclass)?;
            }
            return Ok(true);
        }
        if patience == Patience::Try {
            return Ok(false);
        }
        self.acquire_contended(site, patience, how, subclass)
    }

    /// `acquire(site, Forever, Policy, 0)`, the common case, without a `Result` whose drop
    /// glue (a boxed report) would be inlined into every caller: the fast path is the CAS
    /// and one relaxed load; the bookkeeping and the contended path stay out of line.
    #[inline]
    pub fn acquire_policy(&self, site: Site) {
        hook::point(Op::Acquire, &self.meta);
        if self.raw.try_lock() {
            if detector::enabled() {
                self.acquired_policy(site);
            }
            return;
        }
        self.contended_policy(site);
    }

    #[inline(never)]
    fn acquired_policy(&self, site: Site) {
        let _ = self.acquired(site, Patience::Forever, Delivery::Policy, 0);
    }

    #[cold]
    #[inline(never)]
    fn contended_policy(&self, site: Site) {
        let _ = self.acquire_contended(site, Patience::Forever, Delivery::Policy, 0);
    }

    /// Like [`acquire`](LockCore::acquire) but records the owner even with the detector off
    /// (RLock needs it to recognise re-entry).
    #[inline]
    pub fn acquire_owned(
        &self,
        site: Site,
        patience: Patience,
        how: Delivery,
    ) -> Result<bool, Deadlock> {
        let got = self.acquire(site, patience, how, 0)?;
        if got && !detector::enabled() {
            self.owner.store(current_thread_id(), Ordering::Relaxed);
        }
        Ok(got)
    }

    #[cold]
    fn acquire_contended(
        &self,
        site: Site,
        patience: Patience,
        how: Delivery,
        subclass: u32,
    ) -> Result<bool, Deadlock> {
        // A short spin first: most contention ends within a few hundred nanoseconds, and
        // the detector's bookkeeping is only worth paying for a thread that will park.
        // (Not under a controlled schedule: no other thread runs while this one spins.)
        let rounds = if hook::active() { 0 } else { 8u32 };
        for round in 0..rounds {
            if round < 4 {
                for _ in 0..(2 << round) {
                    std::hint::spin_loop();
                }
            } else {
                std::thread::yield_now();
            }
            if !self.raw.is_locked() && self.raw.try_lock() {
                self.acquired(site, patience, how, subclass)?;
                return Ok(true);
            }
        }
        let deadline = match patience {
            Patience::Until(d) => Some(d),
            _ => None,
        };
        let registration = if detector::enabled() {
            let me = current_thread_id();
            let info = self.meta.info();
            let mut check = true;
            if deadline.is_none() && me != 0 && self.owner() == me {
                let thread = with_local(|l| l.shared.name.clone()).unwrap_or_default();
                let first = find_hold(info.id).map(|h| h.site);
                let report = Report::reentrant(&thread, &info, first, site);
                detector::deliver(Box::new(report), how)?;
                check = false; // logged once: now block for real, as the code asked
            }
            match begin_wait(self, info, site, deadline.is_some(), check) {
                Ok(registration) => Some(registration),
                Err(report) => {
                    detector::deliver(report, how)?;
                    // Logged: block for real, as the code asked, but stay visible.
                    begin_wait(self, info, site, deadline.is_some(), false).ok()
                }
            }
        } else {
            None
        };
        let got = match deadline {
            _ if hook::active() => self.park_controlled(deadline.is_some()),
            Some(deadline) => self.raw.try_lock_until(deadline),
            None => {
                self.raw.lock();
                true
            }
        };
        drop(registration);
        if got {
            self.acquired(site, patience, how, subclass)?;
        }
        Ok(got)
    }

    /// Under a controlled schedule: instead of parking in the raw lock, pass the baton until
    /// the lock is free, then take it. `false`: a timed acquire timed out.
    #[cold]
    fn park_controlled(&self, timed: bool) -> bool {
        loop {
            if self.raw.try_lock() {
                return true;
            }
            match hook::park(&self.meta, timed, &|| !self.raw.is_locked()) {
                Park::Retry => {}
                Park::TimedOut => return self.raw.try_lock(),
                Park::Aborted => {
                    hook::abort_unwind();
                    // Already unwinding (a drop that acquires): no longer controlled.
                    self.raw.lock();
                    return true;
                }
            }
        }
    }

    /// Bookkeeping after the raw lock is taken (detector on): owner, hold, lock order.
    #[inline(always)]
    fn acquired(
        &self,
        site: Site,
        patience: Patience,
        how: Delivery,
        subclass: u32,
    ) -> Result<(), Deadlock> {
        if !detector::enabled() {
            return Ok(());
        }
        let ordered = patience != Patience::Try;
        let timed = matches!(patience, Patience::Until(_));
        let (me, report) = on_acquired(&self.meta, site, subclass, ordered, timed);
        self.owner.store(me, Ordering::Relaxed);
        if let Some(report) = report {
            let policy = detector::policy();
            if how == Delivery::Return || policy == detector::Policy::Panic {
                // Do not keep a lock we are about to refuse (or unwind from).
                self.release();
            }
            detector::deliver_with(report, how, policy)?;
        }
        Ok(())
    }

    /// Releases the lock.
    ///
    /// Callers guarantee the calling thread holds it (they own a guard).
    #[inline]
    pub fn release(&self) {
        hook::point(Op::Release, &self.meta);
        self.owner.store(0, Ordering::Relaxed);
        if detector::enabled() {
            self.release_tracked();
        }
        // SAFETY: every caller holds the lock: it is called from a guard's drop (the guard
        // exists only after a successful acquire and is not Send, so this is the thread
        // that acquired), from a Condition wait on such a guard, or from `acquired` right
        // after taking it.
        unsafe { self.raw.unlock() };
    }
}

impl LockCore {
    /// Out of line, so that `release` stays a store, a load and the unlock.
    #[inline(never)]
    fn release_tracked(&self) {
        on_released(&self.meta);
    }
}

impl Waitable for LockCore {
    fn owners(&self, out: &mut Vec<u64>) -> bool {
        let owner = self.owner.load(Ordering::Relaxed);
        if owner != 0 {
            out.push(owner);
        }
        true
    }

    fn satisfiable(&self, _waiter: u64) -> bool {
        // Stuck only while a known thread holds it (the waiter itself included: a logged
        // re-entrant acquire). Just after a release the owner is 0 (cleared before the
        // unlock) until the next thread records itself, and a waiter's registration is
        // dropped before it records itself as owner, so a hand-over never looks stuck.
        let owner = self.owner.load(Ordering::Relaxed);
        !(self.raw.is_locked() && owner != 0)
    }
}

impl Drop for LockCore {
    fn drop(&mut self) {
        detector::forget_resource(&self.meta);
    }
}
