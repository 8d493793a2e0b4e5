//! The instrumented raw lock shared by [`Lock`](crate::Lock) and [`RLock`](crate::RLock):
//! a [`RawLock`] (parking_lot's algorithm, see `raw.rs`), the id of the thread that owns it,
//! and its detector identity.
//!
//! Fast path (uncontended): one compare-and-swap, a store of the owner, and a push onto the
//! calling thread's own list of holds. No global lock, no allocation, no backtrace.
//! Slow path (about to block): a short spin, then the one blocking helper
//! ([`blocking::block`]), which checks for a deadlock before the thread parks in the raw lock.

use std::sync::atomic::{AtomicU64, Ordering};

use super::blocking::{self, Deadline, Ended, Sleeper, Slept, Wait};
use super::raw::RawLock;
use crate::detector::holds::{
    Taken, acquire_fast, acquire_nested, acquire_nested_known, fast_ready, forget_resource,
    on_acquire, on_release, reentrant, release_fast,
};
use crate::detector::registry::{Waitable, current_thread_id};
use crate::detector::resource::{Kind, Resource, Site};
use crate::detector::{self, Deadlock, Delivery};
use crate::sched::{self, Op, Park};

pub(crate) struct LockCore {
    raw: RawLock,
    /// Detector id of the owning thread; 0 when free (or when the detector is off).
    owner: AtomicU64,
    pub meta: Resource,
}

/// How long an acquire may wait.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Patience {
    /// Never block (`try_acquire`): cannot deadlock, adds no lock-order edge.
    Try,
    /// Block at most until the deadline (`Deadline::Never`: as long as it takes).
    Wait(Deadline),
}

impl Patience {
    pub const FOREVER: Patience = Patience::Wait(Deadline::Never);
}

impl LockCore {
    pub const fn new(kind: Kind, created: Site) -> Self {
        LockCore {
            raw: RawLock::new(),
            owner: AtomicU64::new(0),
            meta: Resource::new(kind, created),
        }
    }

    pub fn owner(&self) -> u64 {
        self.owner.load(Ordering::Relaxed)
    }

    /// Forgets the owner before a release (an RLock, which records it even with the detector
    /// off, where `release` does not clear it).
    pub fn clear_owner(&self) {
        self.owner.store(0, Ordering::Relaxed);
    }

    pub fn is_locked(&self) -> bool {
        self.raw.is_locked()
    }

    /// Acquires the lock. `Ok(true)`: acquired; `Ok(false)`: timed out or busy (`Try`);
    /// `Err`: refused (a deadlock or an inversion that the policy or the caller's delivery
    /// does not let through); the lock is not held then.
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
        sched::point(op, &self.meta);
        if self.raw.try_lock() {
            if detector::enabled() {
                self.acquired(site, patience, how, subclass)?;
            }
            return Ok(true);
        }
        match patience {
            Patience::Try => Ok(false),
            Patience::Wait(deadline) => self.acquire_contended(site, deadline, how, subclass),
        }
    }

    /// `acquire(site, FOREVER, Policy, 0)`, the common case. When the detector's state is fast
    /// (on, no controlled schedule anywhere; one load) and the lock is free, the bookkeeping
    /// is inline: one hold pushed and the owner stored. Everything else (the detector off, a
    /// controlled run's scheduling point, contention, a thread's or a lock's first use, a
    /// report) takes the full path, out of line.
    #[inline(always)]
    pub fn acquire_policy(&self, site: Site) {
        let state = detector::fast_state();
        if fast_ready(state) {
            if self.raw.try_lock_fast() {
                if !acquire_fast(&self.meta, site, state, &self.owner) {
                    self.acquired_nested(site, state);
                }
                return;
            }
        } else if state.is_off() && self.raw.try_lock_fast() {
            return; // the detector is off: no bookkeeping at all
        }
        self.acquire_policy_full(site);
    }

    /// The bookkeeping of an acquire under a fast state that the inline path left: a lock
    /// taken while others are held (the order probe), else the full bookkeeping.
    /// A lock taken while others are held: the common case (the edge this thread took last
    /// time) straight through, the rest a tail call.
    #[inline(never)]
    fn acquired_nested(&self, site: Site, state: detector::FastState) {
        if !acquire_nested_known(&self.meta, site, &self.owner) {
            self.acquired_nested_slow(site, state);
        }
    }

    #[inline(never)]
    fn acquired_nested_slow(&self, site: Site, state: detector::FastState) {
        match acquire_nested(&self.meta, site, state, &self.owner) {
            Some(None) => {}
            Some(Some(report)) => self.refuse_policy(report),
            None => self.acquired_policy(site),
        }
    }

    /// The full path of [`acquire_policy`](LockCore::acquire_policy).
    #[inline(never)]
    fn acquire_policy_full(&self, site: Site) {
        sched::point(Op::Acquire, &self.meta);
        if self.raw.try_lock() {
            if detector::enabled() {
                self.acquired_policy(site);
            }
            return;
        }
        self.contended_policy(site);
    }

    /// The bookkeeping of an acquire on the full path.
    #[inline(never)]
    fn acquired_policy(&self, site: Site) {
        let taken = Taken::Blocking {
            timed: false,
            subclass: 0,
        };
        let (me, report) = on_acquire(&self.meta, site, taken);
        self.owner.store(me, Ordering::Relaxed);
        if let Some(report) = report {
            self.refuse_policy(report);
        }
    }

    #[cold]
    #[inline(never)]
    fn refuse_policy(&self, report: Box<crate::detector::Report>) {
        if let Err(refused) = detector::judge(report, Delivery::Policy) {
            self.release();
            refused.raise();
        }
    }

    #[cold]
    #[inline(never)]
    fn contended_policy(&self, site: Site) {
        if let Err(refused) = self.acquire_contended(site, Deadline::Never, Delivery::Policy, 0) {
            refused.raise();
        }
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
        if got {
            self.own_if_untracked();
        }
        Ok(got)
    }

    /// Records the calling thread as the owner if the detector, being off, did not (an
    /// RLock needs the owner to recognise re-entry).
    #[inline]
    pub fn own_if_untracked(&self) {
        if !detector::enabled() {
            self.owner.store(current_thread_id(), Ordering::Relaxed);
        }
    }

    #[cold]
    fn acquire_contended(
        &self,
        site: Site,
        deadline: Deadline,
        how: Delivery,
        subclass: u32,
    ) -> Result<bool, Deadlock> {
        // Asking for a lock this thread holds is certain to hang: say so before anything.
        let mut owned = true;
        if detector::enabled() && deadline == Deadline::Never {
            let me = current_thread_id();
            if me != 0 && self.owner() == me {
                detector::judge(reentrant(&self.meta, site), how)?;
                owned = false; // logged once: now block for real, as the code asked
            }
        }
        // Spin first, as parking_lot does: most contention ends within a few hundred
        // nanoseconds, and the detector's bookkeeping is only worth paying for a thread that
        // will park. (Not under a controlled schedule: no other thread runs meanwhile.)
        if owned && !sched::active() && self.raw.spin() {
            self.acquired(site, Patience::Wait(deadline), how, subclass)?;
            return Ok(true);
        }
        let wait = Wait::on(self, &self.meta, site, deadline, how)
            .owned(owned)
            .returning_on_abort();
        let got = match blocking::block(
            &wait,
            &mut InRawLock {
                core: self,
                got: false,
            },
        )? {
            Ended::Done => true,
            Ended::TimedOut => false,
            Ended::Aborted => {
                sched::abort_unwind();
                // Already unwinding (a drop that acquires): no longer controlled.
                self.raw.lock_slow(None, true);
                true
            }
        };
        if got {
            self.acquired(site, Patience::Wait(deadline), how, subclass)?;
        }
        Ok(got)
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
        let taken = match patience {
            Patience::Try => Taken::Try,
            Patience::Wait(deadline) => Taken::Blocking {
                timed: deadline.is_timed(),
                subclass,
            },
        };
        let (me, report) = on_acquire(&self.meta, site, taken);
        self.owner.store(me, Ordering::Relaxed);
        if let Some(report) = report
            && let Err(refused) = detector::judge(report, how)
        {
            // Do not keep a lock we refuse (or are about to unwind from).
            self.release();
            return Err(refused);
        }
        Ok(())
    }

    /// Releases the lock.
    ///
    /// Callers guarantee the calling thread holds it (they own a guard).
    #[inline(always)]
    pub fn release(&self) {
        if release_fast(&self.meta) {
            self.owner.store(0, Ordering::Relaxed);
            // SAFETY: see `release_full`.
            unsafe { self.raw.unlock() };
            return;
        }
        if detector::fast_state().is_off() {
            // No bookkeeping, and the owner was not recorded (an RLock clears its own).
            // SAFETY: see `release_full`.
            unsafe { self.raw.unlock() };
            return;
        }
        self.release_full();
    }

    /// The full path of [`release`](LockCore::release): a scheduling point, and the hold
    /// given back through the detector's one door.
    #[inline(never)]
    fn release_full(&self) {
        sched::point(Op::Release, &self.meta);
        self.owner.store(0, Ordering::Relaxed);
        if detector::enabled() {
            on_release(&self.meta);
        }
        // SAFETY: every caller holds the lock: it is called from a guard's drop (the guard
        // exists only after a successful acquire and is not Send, so this is the thread
        // that acquired), from a Condition wait on such a guard, or from `acquired` right
        // after taking it.
        unsafe { self.raw.unlock() };
    }
}

/// How a contended acquire sleeps: in the raw lock itself (which takes it on waking).
struct InRawLock<'a> {
    core: &'a LockCore,
    got: bool,
}

impl Sleeper for InRawLock<'_> {
    fn lock(&mut self) {}

    fn ready(&mut self) -> bool {
        self.got = self.got || self.core.raw.try_lock();
        self.got
    }

    fn finish(&mut self) {}

    fn sleep(&mut self, deadline: Deadline) -> Slept {
        match deadline {
            // The contended acquire spun before it registered its wait: park at once.
            Deadline::Never => {
                self.got = self.core.raw.lock_slow(None, false);
                Slept::Done
            }
            Deadline::At(d) => {
                if self.core.raw.lock_slow(Some(d), false) {
                    self.got = true;
                    Slept::Done
                } else {
                    Slept::TimedOut
                }
            }
        }
    }

    fn unlocked(&mut self, park: &mut dyn FnMut() -> Park) -> Park {
        park()
    }

    fn give_up(&mut self) {}

    fn unlock(&mut self) {}
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
    #[inline]
    fn drop(&mut self) {
        if self.meta.in_order_graph() {
            forget_resource(&self.meta);
        }
    }
}
