//! The controlled scheduler behind `synckit::testing::explore`: one run of a closed world whose
//! threads are stackful coroutines on one OS thread, so that only one of them runs at a time
//! and a switch between them costs a few nanoseconds, not a trip through the kernel.
//!
//! - Every synckit operation of a controlled thread first reaches a scheduling point
//!   ([`point`]), where the scheduler picks the next thread among the runnable ones (from a
//!   [`Chooser`]: random, a DFS prefix, or a list of deviations) and, if it is another thread,
//!   suspends the caller's coroutine; the driver ([`runtime`]) resumes the chosen one.
//! - A blocking operation never parks inside the primitive: it tries, and while that fails
//!   calls [`park`], which marks the thread blocked with a *probe* (the primitive's own "could
//!   this wait end now?") and switches away. A blocked thread is runnable again when some
//!   thread has taken a step since it blocked and its probe says yes.
//! - When no thread is runnable and some are blocked, the schedule deadlocks: the run fails
//!   with a report (threads, holds, waits) and is torn down (see [`runtime`]): every suspended
//!   thread unwinds with a private payload, releasing what it holds on the way.
//! - A timed wait times out only when no thread could run otherwise (virtual time).
//!
//! Identity: a coroutine is not an OS thread, so what would be thread-local comes from the
//! scheduler. The detector's per-thread state is swapped in and out on every switch
//! (`registry::swap_current`); which simulated thread runs is the runtime's `running` slot.
//!
//! Lock order: the controller's mutex is taken before the detector's global lock and before
//! any primitive's internal state lock (probes run under it); no code takes them the other way
//! round, since hooks are only called with no primitive state lock held. The mutex is
//! uncontended while a run goes on (one OS thread); it is there for the explorer's watchdog,
//! which reads a run that stalled outside synckit from another thread.

use std::any::Any;
use std::cell::Cell;

use parking_lot::Mutex;

mod choice;
mod controller;
mod decide;
mod runtime;
mod trace;

pub(crate) use choice::{Chooser, Decision, Footprint, Rng};
pub(crate) use runtime::{StackPool, run_schedule};
pub(crate) use trace::{Fail, Label, Record, Step, StepKind};

use super::{Op, Park};
use crate::detector::registry::Hold;
use crate::detector::resource::{Kind, Resource};
use runtime::Runtime;

thread_local! {
    /// Whether this OS thread drives a controlled run (the hooks' one check).
    pub(crate) static ACTIVE: Cell<bool> = const { Cell::new(false) };
}

/// Whether the calling thread runs under a controlled schedule. One thread-local read.
#[inline(always)]
pub(crate) fn active() -> bool {
    ACTIVE.get()
}

/// A scheduling point before `op` on `resource` (nothing outside a controlled run).
#[inline(always)]
pub(crate) fn point(op: Op, resource: &Resource) {
    if active() {
        schedule_point(op, Label::Res(resource.info()));
    }
}

/// Instead of sleeping, in a controlled run (callers check [`active`]): marks the thread
/// blocked on `resource` until `ready` may hold, switches away, and returns when the thread
/// is scheduled again. `ready` must never say `false` when the wait could end (it may say
/// `true` when it cannot: the retry then parks again).
pub(crate) fn park(resource: &Resource, timed: bool, ready: &(dyn Fn() -> bool + Sync)) -> Park {
    park_thread(Label::Res(resource.info()), timed, Ready::Probe(ready))
}

/// `synckit::thread::yield_point`: a scheduling point in a controlled run (where the default
/// schedule lets the other threads go first), `yield_now` otherwise.
pub(crate) fn yield_point() {
    if active() {
        schedule_point(Op::Yield, Label::None);
    } else {
        std::thread::yield_now();
    }
}

/// The payload a torn-down run's threads unwind with (never shown: `resume_unwind` skips the
/// panic hook, and failures ignore it).
pub(crate) struct Abort;

/// Unwinds the calling simulated thread out of a torn-down run, unless it already unwinds.
pub(crate) fn abort_unwind() {
    match Runtime::current() {
        Some(rt) => rt.abort_unwind(),
        None => {
            if !std::thread::panicking() {
                std::panic::resume_unwind(Box::new(Abort));
            }
        }
    }
}

/// Records a panic that reached the top of the calling simulated thread as the run's failure
/// (the first failure wins; a torn-down run's own unwinding is not a failure).
pub(crate) fn note_panic(payload: &(dyn Any + Send)) {
    if let Some(rt) = Runtime::current() {
        rt.ctl.note_panic(rt.me(), payload);
    }
}

/// A thread body handed to the scheduler: it runs as a coroutine of the current run.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Starts `job` as a new simulated thread of the calling thread's run (callers check
/// [`active`]): a scheduling point (the spawn), then the child's place in the schedule; it
/// first runs when the scheduler picks it. `scope` is the key of the `synckit::thread::scope`
/// it belongs to, if any; `exit` the detector id of what a join on it waits for.
pub(crate) fn spawn(name: &str, scope: Option<usize>, exit: u64, job: Job) {
    schedule_point(Op::Spawn, Label::None);
    let Some(rt) = Runtime::current() else {
        return;
    };
    let mut st = rt.ctl.st.lock();
    if st.aborting {
        // Torn down between the point and here: the child never runs (its body is dropped,
        // as a thread that never started).
        drop(st);
        drop(job);
        rt.abort_unwind();
        return;
    }
    let slot = st.slots.len();
    let mut child = Slot::new(name, scope);
    child.exit = exit;
    st.slots.push(child);
    if let Some(step) = st.trace.last_mut() {
        step.label = Label::Thread(slot);
    }
    drop(st);
    rt.add_thread(job);
}

/// What a parked thread waits for.
pub(crate) enum Ready<'a> {
    /// The primitive's probe.
    Probe(&'a (dyn Fn() -> bool + Sync)),
    /// Every thread spawned in the scope with this key has finished.
    Scope(usize),
}

/// A probe stored while its thread is parked. See the SAFETY note on `Send`.
struct ProbePtr(*const (dyn Fn() -> bool + Sync + 'static));

// SAFETY: the pointer is set by a thread entering `park` and cleared by the same thread
// (under the controller's lock) right after its coroutine is resumed, before `park` returns;
// the probe lives on that coroutine's stack for the whole call, and a suspended coroutine's
// stack is left untouched until it is resumed (or leaked, never reused, if it is abandoned).
// Other code calls it only under the controller's lock while the owner is suspended, so it is
// alive then; `Sync` makes the shared call sound. `Send` only because the controller's state
// sits in a mutex the watchdog thread may lock; the watchdog never calls probes.
unsafe impl Send for ProbePtr {}

enum Waiting {
    Probe(ProbePtr),
    Scope(usize),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Runnable,
    Blocked,
    Finished,
}

struct Slot {
    name: String,
    /// The detector's id of the thread (0 until it starts).
    tid: u64,
    status: Status,
    waiting: Option<Waiting>,
    /// `State::version` when it blocked: it is retried only after some thread took a step.
    blocked_at: u64,
    timed: bool,
    timed_out: bool,
    /// Multi-choice decisions taken at this thread's points (the key of a deviation).
    decisions: u32,
    /// The scope it was spawned in, if any.
    scope: Option<usize>,
    /// What it holds (from the detector's observer calls), for a stall report, which cannot
    /// read a running thread's own detector state.
    holds: Vec<Hold>,
    /// What its next step touches, once it waits at a point or in a park.
    pending: Footprint,
    /// The detector id of its end (what a join waits on), 0 if unknown.
    exit: u64,
}

impl Slot {
    fn new(name: &str, scope: Option<usize>) -> Self {
        Slot {
            name: name.to_string(),
            tid: 0,
            status: Status::Runnable,
            waiting: None,
            blocked_at: 0,
            timed: false,
            timed_out: false,
            decisions: 0,
            scope,
            holds: Vec::new(),
            pending: Footprint::Any,
            exit: 0,
        }
    }
}

struct State {
    slots: Vec<Slot>,
    current: usize,
    /// Bumped whenever a thread goes on to act (from a point, a park or its exit): a blocked
    /// thread is retried only once the version moved past the one it blocked at.
    version: u64,
    steps: usize,
    max_steps: usize,
    chooser: Chooser,
    decisions: Vec<Decision>,
    trace: Vec<Step>,
    preemptions: u32,
    switches: u32,
    failure: Option<Fail>,
    aborting: bool,
    diverged: bool,
    /// The runnable set of the decision being made (kept to reuse its allocation).
    scratch: Vec<usize>,
    /// The sleep set past a depth-first search's prefix (see `Footprint`).
    sleep: Vec<(usize, Footprint)>,
    /// Until the prefix is done: where the sleep set starts (the prefix's length).
    sleep_from: Option<usize>,
}

/// One controlled run: the scheduler's state, shared by the run's coroutines (one OS thread)
/// and, when the run stalls, the explorer's watchdog.
pub(crate) struct Controller {
    st: Mutex<State>,
    /// Whether panics of the run's threads stay off the panic hook.
    quiet: bool,
    /// Whether the run is the one a failure shows (its threads capture backtraces).
    shown: bool,
    /// While a run exists, every thread takes the primitives' full path, which has the
    /// scheduling points (the detector's fast path skips them).
    _full_path: crate::detector::FullPath,
}

impl State {
    /// The step of a thread that joins the thread whose end has detector id `exit`.
    fn exit_of(&self, exit: u64) -> Footprint {
        match self.slots.iter().position(|s| s.exit == exit && exit != 0) {
            Some(slot) => Footprint::Thread(slot),
            None => Footprint::Any,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Point(Op),
    Block,
    Exit,
}

/// A scheduling point of the calling thread, if it is controlled.
pub(crate) fn schedule_point(op: Op, label: Label) {
    let Some(rt) = Runtime::current() else { return };
    let me = rt.me();
    let mut st = rt.ctl.st.lock();
    if st.aborting {
        drop(st);
        rt.abort_unwind();
        return;
    }
    // A yield shows where the thread reached it (before the others run), other operations
    // where they happen (after the thread got to run again).
    let yielding = op == Op::Yield;
    if yielding {
        st.trace.push(Step {
            thread: me,
            kind: StepKind::Op(op),
            label,
        });
    }
    st.slots[me].pending = match (op, label) {
        (Op::Spawn, _) => Footprint::Thread(st.slots.len()),
        (_, Label::Res(info)) if info.kind == Kind::Thread => st.exit_of(info.id),
        (Op::Yield, _) | (_, Label::None | Label::Thread(_)) => Footprint::Any,
        (_, Label::Res(info)) => Footprint::Res(info.id),
    };
    // No switches while a thread unwinds (outside a teardown, `panicking` is this thread's
    // own: no other coroutine is ever suspended mid-unwind then). Its panic is recorded
    // before anyone else runs.
    if !std::thread::panicking() {
        let next = st.decide(me, Why::Point(op));
        if next != Some(me) {
            drop(st);
            rt.switch_away();
            st = rt.ctl.st.lock();
            if st.aborting {
                drop(st);
                rt.abort_unwind();
                return;
            }
        }
    }
    st.version += 1;
    if !yielding {
        st.trace.push(Step {
            thread: me,
            kind: StepKind::Op(op),
            label,
        });
    }
}

/// Blocks the calling thread (see [`park`]).
fn park_thread(label: Label, timed: bool, ready: Ready<'_>) -> Park {
    let Some(rt) = Runtime::current() else {
        return Park::Retry;
    };
    let me = rt.me();
    let mut st = rt.ctl.st.lock();
    if st.aborting {
        drop(st);
        if rt.waits_in_teardown() {
            // Unwinding and must wait (a drop that takes a lock): the teardown resumes it
            // once the others have unwound and given back what they held.
            rt.switch_away();
            return Park::Retry;
        }
        return Park::Aborted;
    }
    // Not aborting, so no teardown is under way: `panicking` is this thread's own.
    if std::thread::panicking() {
        // A thread must block while it unwinds from a panic (a drop that waits). Switching
        // now would let other threads run while this one is mid-unwind, so the run ends
        // here: its panic is the failure, recorded when it reaches the top of the thread.
        st.aborting = true;
        drop(st);
        rt.mark_unwinding();
        rt.switch_away();
        return Park::Retry;
    }
    let waiting = match ready {
        Ready::Probe(p) => {
            // SAFETY: only the lifetime is erased; see `ProbePtr` for why the pointer is
            // never used after this call returns.
            let p: &'static (dyn Fn() -> bool + Sync) = unsafe { std::mem::transmute(p) };
            Waiting::Probe(ProbePtr(p))
        }
        Ready::Scope(key) => Waiting::Scope(key),
    };
    let version = st.version;
    // Its retry touches what it waits on (a join: the joined thread's end).
    let pending = match label {
        Label::Res(info) if info.kind == Kind::Thread => st.exit_of(info.id),
        Label::Res(info) => Footprint::Res(info.id),
        Label::None | Label::Thread(_) => Footprint::Any,
    };
    let slot = &mut st.slots[me];
    slot.pending = pending;
    slot.status = Status::Blocked;
    slot.waiting = Some(waiting);
    slot.blocked_at = version;
    slot.timed = timed;
    slot.timed_out = false;
    st.trace.push(Step {
        thread: me,
        kind: StepKind::Blocked,
        label,
    });
    let next = st.decide(me, Why::Block);
    if next != Some(me) {
        drop(st);
        rt.switch_away();
        st = rt.ctl.st.lock();
    }
    st.slots[me].waiting = None;
    if st.aborting {
        st.slots[me].status = Status::Runnable;
        drop(st);
        if rt.waits_in_teardown() {
            rt.switch_away();
            return Park::Retry;
        }
        return Park::Aborted;
    }
    st.version += 1;
    if std::mem::take(&mut st.slots[me].timed_out) {
        st.trace.push(Step {
            thread: me,
            kind: StepKind::TimedOut,
            label,
        });
        return Park::TimedOut;
    }
    Park::Retry
}

/// Kept by `synckit::thread::scope` in a controlled run: at the end of the scope the parent
/// waits, under the schedule, for the scope's threads. They may borrow from the parent's
/// stack, so this wait ends only once every one of them has finished, whatever happens: in
/// a teardown too (then the parent unwinds after them).
pub(crate) struct ScopeGuard {
    key: usize,
}

/// See [`ScopeGuard`]; `key` identifies the scope.
pub(crate) fn scope_enter(key: usize) -> Option<ScopeGuard> {
    if !active() {
        return None;
    }
    Runtime::current().map(|_| ScopeGuard { key })
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        let Some(rt) = Runtime::current() else { return };
        let mut aborted = false;
        loop {
            {
                let st = rt.ctl.st.lock();
                let all_done = st
                    .slots
                    .iter()
                    .all(|t| t.scope != Some(self.key) || t.status == Status::Finished);
                if all_done {
                    break;
                }
            }
            match park_thread(Label::None, false, Ready::Scope(self.key)) {
                Park::Retry | Park::TimedOut => {}
                Park::Aborted => {
                    // Torn down: wait like an unwinding thread until the children are gone.
                    aborted = true;
                    rt.wait_in_teardown();
                }
            }
        }
        if aborted {
            rt.abort_unwind();
        }
    }
}
