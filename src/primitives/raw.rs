//! The raw lock under [`Lock`](crate::Lock) and [`RLock`](crate::RLock): one byte of state,
//! waiters parked in `parking_lot_core`'s queue under its address — parking_lot's `RawMutex`
//! algorithm (spin, then park; eventual fairness through hand-off), written out here because
//! synckit needs two things `lock_api` does not expose:
//! - a single compare-and-swap attempt ([`try_lock_fast`](RawLock::try_lock_fast)), the whole
//!   of an uncontended acquire before the detector's bookkeeping (`lock_api`'s `try_lock` is a
//!   loop, three instructions longer, on every acquire);
//! - the blocking part ([`lock_slow`](RawLock::lock_slow)) apart from the fast attempt, so
//!   that the detector's check runs between the spin and the park.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

use parking_lot_core::{DEFAULT_PARK_TOKEN, ParkResult, SpinWait, UnparkResult, UnparkToken};

const LOCKED: u8 = 0b01;
/// Some thread is parked (or about to park) on the lock.
const PARKED: u8 = 0b10;

/// An unlock that hands the lock straight to the thread it wakes (fairness).
const TOKEN_HANDOFF: UnparkToken = UnparkToken(1);
const TOKEN_NORMAL: UnparkToken = UnparkToken(0);

pub(crate) struct RawLock {
    state: AtomicU8,
}

impl RawLock {
    pub const fn new() -> Self {
        RawLock {
            state: AtomicU8::new(0),
        }
    }

    /// One attempt on a free, unparked lock: what an uncontended acquire does.
    #[inline(always)]
    pub fn try_lock_fast(&self) -> bool {
        self.state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes the lock if it is free (even with threads parked, which may barge), never blocks.
    #[inline]
    pub fn try_lock(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(x) => state = x,
            }
        }
    }

    #[inline]
    pub fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }

    /// Releases the lock, waking a parked thread if there is one.
    ///
    /// # Safety
    ///
    /// The calling thread holds the lock.
    #[inline(always)]
    pub unsafe fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn unlock_slow(&self) {
        let addr = self as *const RawLock as usize;
        let callback = |result: UnparkResult| {
            // Every so often (parking_lot's eventual fairness) the lock goes straight to the
            // woken thread, so that a thread re-taking it in a loop cannot starve the others.
            if result.unparked_threads != 0 && result.be_fair {
                if !result.have_more_threads {
                    self.state.store(LOCKED, Ordering::Relaxed);
                }
                return TOKEN_HANDOFF;
            }
            let state = if result.have_more_threads { PARKED } else { 0 };
            self.state.store(state, Ordering::Release);
            TOKEN_NORMAL
        };
        // SAFETY: `addr` is this lock's address, the key its waiters park under; the callback
        // only touches the lock's own state, which outlives the call.
        unsafe {
            parking_lot_core::unpark_one(addr, callback);
        }
    }

    /// Spins a little, then parks until the lock is taken (`true`) or `deadline` passes
    /// (`false`).
    #[cold]
    pub fn lock_slow(&self, deadline: Option<Instant>) -> bool {
        let mut spinwait = SpinWait::new();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                match self.state.compare_exchange_weak(
                    state,
                    state | LOCKED,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return true,
                    Err(x) => state = x,
                }
                continue;
            }
            // Nobody parked yet: spin a while first, the holder may be about to release.
            if state & PARKED == 0 && spinwait.spin() {
                state = self.state.load(Ordering::Relaxed);
                continue;
            }
            if state & PARKED == 0
                && let Err(x) = self.state.compare_exchange_weak(
                    state,
                    state | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                )
            {
                state = x;
                continue;
            }
            let addr = self as *const RawLock as usize;
            let validate = || self.state.load(Ordering::Relaxed) == LOCKED | PARKED;
            let timed_out = |_, was_last_thread| {
                if was_last_thread {
                    self.state.fetch_and(!PARKED, Ordering::Relaxed);
                }
            };
            // SAFETY: parks under this lock's address (its `unlock_slow` wakes that key); the
            // closures only read and write the lock's own state, which outlives the park.
            match unsafe {
                parking_lot_core::park(
                    addr,
                    validate,
                    || {},
                    timed_out,
                    DEFAULT_PARK_TOKEN,
                    deadline,
                )
            } {
                ParkResult::Unparked(TOKEN_HANDOFF) => return true, // handed over: ours
                ParkResult::Unparked(_) | ParkResult::Invalid => {}
                ParkResult::TimedOut => return false,
            }
            spinwait.reset();
            state = self.state.load(Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn one_holder_at_a_time_under_contention() {
        let lock = Arc::new(RawLock::new());
        let inside = Arc::new(AtomicU64::new(0));
        let total = Arc::new(AtomicU64::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (lock, inside, total) = (lock.clone(), inside.clone(), total.clone());
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        if !lock.try_lock_fast() {
                            assert!(lock.lock_slow(None));
                        }
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders");
                        total.fetch_add(1, Ordering::Relaxed);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        // SAFETY: taken just above.
                        unsafe { lock.unlock() };
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(total.load(Ordering::Relaxed), 40_000);
        assert!(!lock.is_locked());
    }

    #[test]
    fn a_held_lock_refuses_and_times_out() {
        let lock = RawLock::new();
        assert!(lock.try_lock_fast());
        assert!(!lock.try_lock());
        let deadline = Instant::now() + std::time::Duration::from_millis(5);
        assert!(!lock.lock_slow(Some(deadline)), "the deadline passes");
        // SAFETY: taken above.
        unsafe { lock.unlock() };
        assert!(lock.try_lock());
        // SAFETY: taken just above.
        unsafe { lock.unlock() };
    }
}
