//! The hooks the primitives call so that a controlled schedule ([`explore`](super::explore))
//! can run a closed world's threads one at a time.
//!
//! Every synckit operation of a thread in a controlled run first calls [`point`]: a
//! *scheduling point* where the scheduler may hand the baton to another thread. A blocking
//! operation never parks inside the real primitive there: it tries the non-blocking form and,
//! while that fails, calls [`park`] instead of waiting on its condvar; `park` marks the thread
//! blocked (with a probe that says when it may be able to go on), passes the baton, and
//! returns when the thread is scheduled again, to retry.
//!
//! Outside a controlled run every hook is one read of a `const`-initialised thread-local
//! `bool` ([`active`]): no global state, no allocation. Without the `testing` feature the
//! hooks compile to nothing.

use crate::detector::registry::ResourceMeta;

#[cfg(feature = "testing")]
use super::schedule as imp;

/// What a thread is about to do at a scheduling point (shown in the schedule's lanes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum Op {
    Acquire,
    TryAcquire,
    Release,
    Wait,
    Notify,
    Set,
    Clear,
    Arrive,
    Reset,
    Abort,
    Spawn,
    Join,
    Yield,
}

/// How a [`park`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum Park {
    /// The thread runs again: retry the operation (it may still fail and park again).
    Retry,
    /// A timed wait timed out: in a controlled run time is virtual, and a timed wait times
    /// out only when no thread of the world could run otherwise.
    TimedOut,
    /// The run is being torn down (a failure was found): the thread is no longer controlled.
    /// Call [`abort_unwind`] (which unwinds unless the thread already is unwinding).
    Aborted,
}

/// Whether the calling thread runs under a controlled schedule. One thread-local read.
#[inline(always)]
pub(crate) fn active() -> bool {
    #[cfg(feature = "testing")]
    {
        imp::ACTIVE.get()
    }
    #[cfg(not(feature = "testing"))]
    {
        false
    }
}

/// A scheduling point before `op` on `meta`: in a controlled run the scheduler may switch
/// to another thread here. Nothing (one thread-local read) outside one.
#[inline(always)]
pub(crate) fn point(op: Op, meta: &ResourceMeta) {
    if active() {
        #[cfg(feature = "testing")]
        imp::point(op, imp::Label::Res(meta.info()));
    }
    #[cfg(not(feature = "testing"))]
    let _ = (op, meta);
}

/// Instead of parking on a condvar, in a controlled run (callers check [`active`]): marks
/// the thread blocked on `meta` until `ready` may hold, passes the baton, and returns when
/// the thread is scheduled again. `ready` must never say `false` when the wait could end
/// (it may say `true` when it cannot: the retry then parks again).
pub(crate) fn park(meta: &ResourceMeta, timed: bool, ready: &(dyn Fn() -> bool + Sync)) -> Park {
    #[cfg(feature = "testing")]
    {
        imp::park(
            imp::Label::Res(meta.info()),
            timed,
            imp::Ready::Probe(ready),
        )
    }
    #[cfg(not(feature = "testing"))]
    {
        let _ = (meta, timed, ready);
        Park::Retry
    }
}

/// Unwinds the calling thread out of an aborted controlled run (unless it is already
/// unwinding, in which case the caller goes on uncontrolled).
pub(crate) fn abort_unwind() {
    #[cfg(feature = "testing")]
    imp::abort_unwind();
}

/// A controlled thread about to spawn a child: a scheduling point, and the child's place in
/// the schedule (moved into the child, which starts with [`thread_start`]).
pub(crate) fn spawning(name: &str, scope: Option<usize>) -> Option<Ticket> {
    if !active() {
        return None;
    }
    #[cfg(feature = "testing")]
    {
        imp::spawning(name, scope).map(Ticket)
    }
    #[cfg(not(feature = "testing"))]
    {
        let _ = (name, scope);
        None
    }
}

/// A child's place in its parent's controlled run.
pub(crate) struct Ticket(#[cfg(feature = "testing")] imp::Ticket);

/// A thread running under a controlled schedule; dropping it tells the scheduler the thread
/// finished (drop it *after* the thread is marked done for joiners).
pub(crate) struct Running(#[cfg(feature = "testing")] imp::Running);

/// First thing a spawned thread does: join the schedule and wait for the baton.
pub(crate) fn thread_start(ticket: Option<Ticket>) -> Option<Running> {
    #[cfg(feature = "testing")]
    {
        ticket.map(|t| Running(imp::thread_start(t.0)))
    }
    #[cfg(not(feature = "testing"))]
    {
        let _ = ticket;
        None
    }
}

/// Runs a thread's body; in a controlled run a panic is recorded as the run's failure.
pub(crate) fn run<T>(running: &Option<Running>, f: impl FnOnce() -> T) -> T {
    match running {
        #[cfg(feature = "testing")]
        Some(r) => r.0.run(f),
        _ => f(),
    }
}

/// Kept by [`thread::scope`](crate::thread::scope) in a controlled run: at the end of the
/// scope the parent waits, under the schedule, for the scope's threads (std's own implicit
/// join would block while holding the baton).
pub(crate) struct ScopeGuard(
    #[cfg(feature = "testing")]
    #[allow(dead_code)] // held for its `Drop`
    imp::ScopeGuard,
);

/// See [`ScopeGuard`]; `key` identifies the std scope.
pub(crate) fn scope_enter(key: usize) -> Option<ScopeGuard> {
    if !active() {
        return None;
    }
    #[cfg(feature = "testing")]
    {
        imp::scope_enter(key).map(ScopeGuard)
    }
    #[cfg(not(feature = "testing"))]
    {
        let _ = key;
        None
    }
}

/// [`thread::yield_point`](crate::thread::yield_point): a scheduling point in a controlled
/// run (where the default schedule lets the other threads go first), `yield_now` otherwise.
pub(crate) fn yield_point() {
    if active() {
        #[cfg(feature = "testing")]
        imp::point(Op::Yield, imp::Label::None);
    } else {
        std::thread::yield_now();
    }
}
