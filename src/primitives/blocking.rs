//! The one way a synckit primitive blocks: [`block`].
//!
//! Every wait — a contended lock, a semaphore with no permit, a condition, an event, a
//! barrier, a join — goes through the same steps, in this order:
//!
//! 1. **Register** the wait with the detector (what, where, timed or not), which checks for a
//!    cycle of owned waits *before* the thread blocks; a report is judged once
//!    ([`detector::judge`](crate::detector)): refused, the wait does not happen; logged, it
//!    happens, still visible to the detector.
//! 2. **Loop** until the primitive's state says the wait can end: sleep for real (untimed, or
//!    until the [`Deadline`]), or, under a controlled schedule, pass the baton
//!    ([`sched::park`]) instead of sleeping.
//! 3. **Leave**: tell the thread's observer it runs again *before* the primitive's state
//!    changes (the permit taken, the wake-up consumed), so a closed world never mistakes a
//!    waker in flight for a stuck thread; then drop the registration.
//!
//! What differs between primitives — what "can end" means, how to sleep, what to undo on a
//! timeout — is a [`Sleeper`]: [`OnCondvar`] for the primitives whose state sits behind a
//! mutex and a condvar, and the raw lock's own in `core.rs`.

use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use crate::detector::registry::Waitable;
use crate::detector::resource::{Resource, Site};
use crate::detector::wait_for::{WaitSpec, begin_wait};
use crate::detector::{self, Deadlock, Delivery};
use crate::sched::{self, Park};

/// When a wait gives up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// Never: an untimed wait (the only kind the detector may call a deadlock).
    Never,
    /// At this instant: a timed wait, which ends by itself.
    At(Instant),
}

impl Deadline {
    /// `timeout` from now. A timeout too long for the clock becomes a deadline a century
    /// away, not `Never`: a timed wait stays timed (never reported as a deadlock), however
    /// long its timeout.
    pub fn after(timeout: Duration) -> Deadline {
        let now = Instant::now();
        Deadline::At(
            now.checked_add(timeout)
                .or_else(|| now.checked_add(Duration::from_secs(100 * 365 * 24 * 3600)))
                .unwrap_or(now),
        )
    }

    pub fn is_timed(self) -> bool {
        matches!(self, Deadline::At(_))
    }

    /// Whether the deadline is already past (a poll: nothing to wait for).
    pub fn passed(self) -> bool {
        matches!(self, Deadline::At(d) if d <= Instant::now())
    }
}

/// What a primitive waits on, for [`block`].
pub(crate) struct Wait<'a> {
    /// Who could end the wait (asked by the detector and by controlled schedules).
    pub waitable: &'a (dyn Waitable + 'static),
    pub resource: &'a Resource,
    pub site: Site,
    pub deadline: Deadline,
    /// Whether only the primitive's holders can end the wait (locks, a fully held bounded
    /// semaphore, a join), so that a cycle through it is a certain deadlock, checked for
    /// before blocking.
    pub owned: bool,
    pub how: Delivery,
    /// What to do when a controlled run is torn down while the thread waits.
    pub on_abort: OnAbort,
}

impl<'a> Wait<'a> {
    /// A wait on `waitable` (whose identity is `resource`) called at `site`: not owned, and
    /// unwinding when a controlled run is torn down, unless said otherwise.
    pub fn on(
        waitable: &'a (dyn Waitable + 'static),
        resource: &'a Resource,
        site: Site,
        deadline: Deadline,
        how: Delivery,
    ) -> Self {
        Wait {
            waitable,
            resource,
            site,
            deadline,
            owned: false,
            how,
            on_abort: OnAbort::Unwind,
        }
    }

    /// Whether only the resource's holders can end the wait (see [`Wait::owned`]).
    pub fn owned(mut self, owned: bool) -> Self {
        self.owned = owned;
        self
    }

    /// Return [`Ended::Aborted`] instead of unwinding (see [`OnAbort::Return`]).
    pub fn returning_on_abort(mut self) -> Self {
        self.on_abort = OnAbort::Return;
        self
    }
}

/// What [`block`] does when a controlled run is torn down under a waiting thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnAbort {
    /// Unwind the thread out of the run (or, if it is already unwinding, go on waiting for
    /// real, no longer controlled).
    Unwind,
    /// Return [`Ended::Aborted`]: the caller restores its state first (a condition re-takes
    /// its lock, so the guard it unwinds through is consistent), then unwinds.
    Return,
}

/// How a [`block`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ended {
    /// The wait ended as asked (the permit is taken, the flag seen, ...).
    Done,
    /// A timed wait reached its deadline first.
    TimedOut,
    /// The controlled run was torn down ([`OnAbort::Return`] only).
    Aborted,
}

/// How a real sleep ended.
pub(crate) enum Slept {
    /// Woken (or spuriously): look at the state again.
    Again,
    /// The sleep itself ended the wait (a raw lock taken while sleeping).
    Done,
    /// The deadline passed.
    TimedOut,
}

/// The part of a wait that depends on the primitive.
pub(crate) trait Sleeper {
    /// Locks the primitive's state, if it has one. Called once the wait is registered (the
    /// detector, while registering, may lock the state to ask who holds what).
    fn lock(&mut self);
    /// Whether the wait can end now.
    fn ready(&mut self) -> bool;
    /// Ends it (takes the permit, consumes the wake-up); called right after `ready` said so.
    fn finish(&mut self);
    /// Sleeps for real until woken or until `deadline`.
    fn sleep(&mut self, deadline: Deadline) -> Slept;
    /// Runs `park` with the primitive's state unlocked (a controlled park passes the baton).
    fn unlocked(&mut self, park: &mut dyn FnMut() -> Park) -> Park;
    /// The wait ends without `finish` (timed out, or torn down): undo what waiting did.
    fn give_up(&mut self);
    /// Unlocks the state before the registration is dropped (the detector's lock ranks
    /// above every primitive's).
    fn unlock(&mut self);
}

/// Blocks the calling thread until `sleeper` says the wait can end, the deadline passes, or
/// (with a checked delivery) the detector proves it never ends.
///
/// # Errors
///
/// [`Deadlock`], when the wait would close a cycle of owned waits and the report is refused
/// (the `_checked` forms, or the panic policy: the caller then raises it); or, for a checked
/// wait no owner can end, when it would leave every thread of its closed world blocked.
pub(crate) fn block(wait: &Wait<'_>, sleeper: &mut impl Sleeper) -> Result<Ended, Deadlock> {
    let timed = wait.deadline.is_timed();
    // The first registration checks; one made again after a logged report does not.
    let spec = |first: bool| WaitSpec {
        probe: wait.waitable,
        resource: wait.resource.info(),
        site: wait.site,
        timed,
        check: first && wait.owned,
        ask_world: first && wait.how == Delivery::Return,
    };
    let registration = if detector::enabled() {
        match begin_wait(&spec(true)) {
            Ok(registration) => Some(registration),
            Err(report) => {
                detector::judge(report, wait.how)?;
                // Logged: block for real, as the code asked, but stay visible.
                begin_wait(&spec(false)).ok()
            }
        }
    } else {
        None
    };
    let me = detector::registry::current_thread_id();
    sleeper.lock();
    let ended = loop {
        if sleeper.ready() {
            if let Some(r) = &registration {
                r.leaving();
            }
            sleeper.finish();
            break Ended::Done;
        }
        if sched::active() {
            let mut park = || sched::park(wait.resource, timed, &|| wait.waitable.satisfiable(me));
            match sleeper.unlocked(&mut park) {
                Park::Retry => continue,
                Park::TimedOut => {
                    if sleeper.ready() {
                        continue; // a wake-up that came with the timeout still counts
                    }
                    sleeper.give_up();
                    break Ended::TimedOut;
                }
                Park::Aborted => {
                    sleeper.give_up();
                    if wait.on_abort == OnAbort::Return {
                        break Ended::Aborted;
                    }
                    sleeper.unlock();
                    sched::abort_unwind();
                    // Already unwinding (a drop that waits): no longer controlled, so the
                    // loop goes on waiting for real.
                    sleeper.lock();
                    continue;
                }
            }
        }
        match sleeper.sleep(wait.deadline) {
            Slept::Again => {}
            Slept::Done => {
                if let Some(r) = &registration {
                    r.leaving();
                }
                break Ended::Done;
            }
            Slept::TimedOut => {
                if sleeper.ready() {
                    continue; // a wake-up that came with the timeout still counts
                }
                sleeper.give_up();
                break Ended::TimedOut;
            }
        }
    };
    sleeper.unlock();
    drop(registration);
    Ok(ended)
}

/// A [`Sleeper`] for a primitive whose state sits behind `state` and whose waiters sleep on
/// `cv`: `ready` says whether the wait can end, `finish` ends it, `give_up` undoes the wait.
pub(crate) struct OnCondvar<'a, S, R, F, G>
where
    R: FnMut(&mut S) -> bool,
    F: FnMut(&mut S),
    G: FnMut(&mut S),
{
    pub state: &'a Mutex<S>,
    pub cv: &'a Condvar,
    pub ready: R,
    pub finish: F,
    pub give_up: G,
    guard: Option<MutexGuard<'a, S>>,
}

impl<'a, S, R, F, G> OnCondvar<'a, S, R, F, G>
where
    R: FnMut(&mut S) -> bool,
    F: FnMut(&mut S),
    G: FnMut(&mut S),
{
    pub fn new(state: &'a Mutex<S>, cv: &'a Condvar, ready: R, finish: F, give_up: G) -> Self {
        OnCondvar {
            state,
            cv,
            ready,
            finish,
            give_up,
            guard: None,
        }
    }

    fn st(&mut self) -> &mut MutexGuard<'a, S> {
        self.guard
            .as_mut()
            .expect("the state is locked while waiting")
    }
}

impl<S, R, F, G> Sleeper for OnCondvar<'_, S, R, F, G>
where
    R: FnMut(&mut S) -> bool,
    F: FnMut(&mut S),
    G: FnMut(&mut S),
{
    fn lock(&mut self) {
        self.guard = Some(self.state.lock());
    }

    fn ready(&mut self) -> bool {
        let st = self
            .guard
            .as_mut()
            .expect("the state is locked while waiting");
        (self.ready)(st)
    }

    fn finish(&mut self) {
        let st = self
            .guard
            .as_mut()
            .expect("the state is locked while waiting");
        (self.finish)(st);
    }

    fn sleep(&mut self, deadline: Deadline) -> Slept {
        let cv = self.cv;
        let st = self.st();
        match deadline {
            Deadline::Never => {
                cv.wait(st);
                Slept::Again
            }
            Deadline::At(d) => {
                if cv.wait_until(st, d).timed_out() {
                    Slept::TimedOut
                } else {
                    Slept::Again
                }
            }
        }
    }

    fn unlocked(&mut self, park: &mut dyn FnMut() -> Park) -> Park {
        MutexGuard::unlocked(self.st(), park)
    }

    fn give_up(&mut self) {
        let st = self
            .guard
            .as_mut()
            .expect("the state is locked while waiting");
        (self.give_up)(st);
    }

    fn unlock(&mut self) {
        self.guard = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_timeout_stays_timed() {
        assert!(Deadline::after(Duration::MAX).is_timed());
        assert!(!Deadline::after(Duration::MAX).passed());
        assert!(Deadline::after(Duration::ZERO).passed());
        assert!(!Deadline::Never.passed());
    }
}
