//! The controlled scheduler behind `synckit::testing::explore`: one run of a closed world in
//! which only the thread holding the *baton* runs.
//!
//! - Every synckit operation of a controlled thread first reaches a scheduling point
//!   ([`point`]), where the scheduler picks the next thread among the runnable ones (from a
//!   [`Chooser`]: random, a DFS prefix, or a list of deviations) and, if it is another thread,
//!   hands it the baton and waits to get it back.
//! - A blocking operation never parks inside the primitive: it tries, and while that fails
//!   calls [`park`], which marks the thread blocked with a *probe* (the primitive's own "could
//!   this wait end now?") and passes the baton. A blocked thread is runnable again when some
//!   thread has taken a step since it blocked and its probe says yes.
//! - When no thread is runnable and some are blocked, the schedule deadlocks: the run fails
//!   with a report (threads, holds, waits) and is torn down: every parked thread unwinds with a
//!   private payload, releasing what it holds on the way.
//! - A timed wait times out only when no thread could run otherwise (virtual time).
//!
//! Lock order: the controller's mutex is taken before the detector's global lock and before
//! any primitive's internal state lock (probes run under it); no code takes them the other way
//! round, since hooks are only called with no primitive state lock held.

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use parking_lot::{Condvar, Mutex};

mod choice;
mod controller;
mod decide;
mod trace;

pub(crate) use choice::{Chooser, Decision, Rng};
pub(crate) use trace::{Fail, Label, Record, Step, StepKind};

use super::{Op, Park};
use crate::detector::registry::current_thread_id;
use crate::detector::resource::Resource;

thread_local! {
    /// Whether this thread runs under a controlled schedule (the hooks' one check).
    pub(crate) static ACTIVE: Cell<bool> = const { Cell::new(false) };
    static HANDLE: RefCell<Option<Handle>> = const { RefCell::new(None) };
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
/// blocked on `resource` until `ready` may hold, passes the baton, and returns when the thread
/// is scheduled again. `ready` must never say `false` when the wait could end (it may say
/// `true` when it cannot: the retry then parks again).
pub(crate) fn park(resource: &Resource, timed: bool, ready: &(dyn Fn() -> bool + Sync)) -> Park {
    park_thread(Label::Res(resource.info()), timed, Ready::Probe(ready))
}

/// `synckit::thread::yield_point`: a scheduling point in a controlled
/// run (where the default schedule lets the other threads go first), `yield_now` otherwise.
pub(crate) fn yield_point() {
    if active() {
        schedule_point(Op::Yield, Label::None);
    } else {
        std::thread::yield_now();
    }
}

/// First thing a spawned thread does: join the schedule (if it has a place in one) and wait
/// for the baton.
pub(crate) fn thread_start(ticket: Option<Ticket>) -> Option<Running> {
    ticket.map(start)
}

/// Runs a thread's body; in a controlled run a panic is recorded as the run's failure.
pub(crate) fn run<T>(running: &Option<Running>, f: impl FnOnce() -> T) -> T {
    match running {
        Some(r) => r.run(f),
        None => f(),
    }
}

/// The payload a torn-down run's threads unwind with (never shown: `resume_unwind` skips the
/// panic hook, and failures ignore it).
pub(crate) struct Abort;

#[derive(Clone)]
struct Handle {
    ctl: Arc<Controller>,
    slot: usize,
}

fn handle() -> Option<Handle> {
    HANDLE.try_with(|h| h.borrow().clone()).ok().flatten()
}

fn set_handle(h: Option<Handle>) {
    ACTIVE.set(h.is_some());
    let _ = HANDLE.try_with(|cell| *cell.borrow_mut() = h);
}

/// What a parked thread waits for.
pub(crate) enum Ready<'a> {
    /// The primitive's probe.
    Probe(&'a (dyn Fn() -> bool + Sync)),
    /// Every thread spawned in the std scope with this key has finished.
    Scope(usize),
}

/// A probe stored while its thread is parked. See the SAFETY note on `Send`.
struct ProbePtr(*const (dyn Fn() -> bool + Sync + 'static));

// SAFETY: the pointer is set by a thread entering `park` and cleared by the same thread
// (under the controller's lock) before `park` returns or unwinds, and the probe lives on that
// thread's stack for the whole call. Other threads call it only under the controller's lock
// while the owner is parked, so it is alive then; `Sync` makes the shared call sound.
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
    cv: Arc<Condvar>,
    waiting: Option<Waiting>,
    /// `State::version` when it blocked: it is retried only after some thread took a step.
    blocked_at: u64,
    timed: bool,
    timed_out: bool,
    /// Multi-choice decisions taken at this thread's points (the key of a deviation).
    decisions: u32,
    /// The std scope it was spawned in, if any.
    scope: Option<usize>,
}

impl Slot {
    fn new(name: &str, scope: Option<usize>) -> Self {
        Slot {
            name: name.to_string(),
            tid: 0,
            status: Status::Runnable,
            cv: Arc::new(Condvar::new()),
            waiting: None,
            blocked_at: 0,
            timed: false,
            timed_out: false,
            decisions: 0,
            scope,
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
}

/// One controlled run.
pub(crate) struct Controller {
    st: Mutex<State>,
    done: Condvar,
    /// While a run exists, every thread takes the primitives' full path, which has the
    /// scheduling points (the detector's fast path skips them).
    _full_path: crate::detector::FullPath,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Point(Op),
    Block,
    Exit,
}

/// Unwinds out of a torn-down run, unless already unwinding.
pub(crate) fn abort_unwind() {
    if !std::thread::panicking() {
        std::panic::resume_unwind(Box::new(Abort));
    }
}

fn stop_controlling() {
    ACTIVE.set(false);
}

/// A scheduling point of the calling thread, if it is controlled.
pub(crate) fn schedule_point(op: Op, label: Label) {
    let Some(h) = handle() else { return };
    let mut st = h.ctl.st.lock();
    if st.aborting {
        drop(st);
        stop_controlling();
        abort_unwind();
        return;
    }
    // A yield shows where the thread reached it (before the others run), other operations
    // where they happen (after the thread got the baton back).
    let yielding = op == Op::Yield;
    if yielding {
        st.trace.push(Step {
            thread: h.slot,
            kind: StepKind::Op(op),
            label,
        });
    }
    // No switches while a thread unwinds: its panic is recorded before anyone else runs.
    if !std::thread::panicking() {
        let next = st.decide(h.slot, Why::Point(op));
        if next != Some(h.slot) {
            State::wait_for_baton(&mut st, h.slot);
        }
        if st.aborting {
            drop(st);
            stop_controlling();
            abort_unwind();
            return;
        }
    }
    st.version += 1;
    if !yielding {
        st.trace.push(Step {
            thread: h.slot,
            kind: StepKind::Op(op),
            label,
        });
    }
}

/// Clears a parked thread's probe however `park` ends (the probe dies with the call).
struct ClearWaiting<'a> {
    ctl: &'a Controller,
    slot: usize,
    armed: bool,
}

impl Drop for ClearWaiting<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.ctl.st.lock().slots[self.slot].waiting = None;
        }
    }
}

/// Blocks the calling thread (see [`park`]).
fn park_thread(label: Label, timed: bool, ready: Ready<'_>) -> Park {
    let Some(h) = handle() else {
        return Park::Retry;
    };
    let ctl = &*h.ctl;
    let me = h.slot;
    let mut guard = ClearWaiting {
        ctl,
        slot: me,
        armed: false,
    };
    let mut st = ctl.st.lock();
    if st.aborting {
        drop(st);
        stop_controlling();
        return Park::Aborted;
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
    let slot = &mut st.slots[me];
    slot.status = Status::Blocked;
    slot.waiting = Some(waiting);
    slot.blocked_at = version;
    slot.timed = timed;
    slot.timed_out = false;
    guard.armed = true;
    st.trace.push(Step {
        thread: me,
        kind: StepKind::Blocked,
        label,
    });
    let next = st.decide(me, Why::Block);
    if next != Some(me) {
        State::wait_for_baton(&mut st, me);
    }
    let slot = &mut st.slots[me];
    slot.waiting = None;
    guard.armed = false;
    if st.aborting {
        st.slots[me].status = Status::Runnable;
        drop(st);
        stop_controlling();
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

/// A child's place in the run.
pub(crate) struct Ticket {
    ctl: Arc<Controller>,
    slot: usize,
}

/// A controlled thread about to spawn a child: a scheduling point, and the child's place in
/// the schedule (moved into the child, which starts with [`thread_start`]).
pub(crate) fn spawning(name: &str, scope: Option<usize>) -> Option<Ticket> {
    if !active() {
        return None;
    }
    schedule_point(Op::Spawn, Label::None);
    let h = handle()?;
    let mut st = h.ctl.st.lock();
    if st.aborting {
        return None;
    }
    let slot = st.slots.len();
    st.slots.push(Slot::new(name, scope));
    if let Some(step) = st.trace.last_mut() {
        step.label = Label::Thread(slot);
    }
    Some(Ticket {
        ctl: h.ctl.clone(),
        slot,
    })
}

/// A thread of the run; dropping it tells the scheduler the thread finished.
pub(crate) struct Running {
    ctl: Arc<Controller>,
    slot: usize,
}

fn start(t: Ticket) -> Running {
    set_handle(Some(Handle {
        ctl: t.ctl.clone(),
        slot: t.slot,
    }));
    let mut st = t.ctl.st.lock();
    st.slots[t.slot].tid = current_thread_id();
    State::wait_for_baton(&mut st, t.slot);
    if st.aborting {
        st.slots[t.slot].status = Status::Finished;
        drop(st);
        t.ctl.done.notify_all();
        set_handle(None);
        std::panic::resume_unwind(Box::new(Abort));
    }
    drop(st);
    Running {
        ctl: t.ctl,
        slot: t.slot,
    }
}

impl Running {
    /// Runs the thread's body; a panic becomes the run's failure (the first one wins).
    pub fn run<T>(&self, f: impl FnOnce() -> T) -> T {
        match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(payload) => {
                self.ctl.note_panic(self.slot, &*payload);
                std::panic::resume_unwind(payload)
            }
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.ctl.exit(self.slot);
        set_handle(None);
    }
}

/// Kept by `synckit::thread::scope` in a controlled run: at the end of the
/// scope the parent waits, under the schedule, for the scope's threads (std's own implicit
/// join would block while holding the baton).
pub(crate) struct ScopeGuard {
    key: usize,
}

/// See [`ScopeGuard`]; `key` identifies the std scope.
pub(crate) fn scope_enter(key: usize) -> Option<ScopeGuard> {
    if !active() {
        return None;
    }
    handle().map(|_| ScopeGuard { key })
}

impl Drop for ScopeGuard {
    fn drop(&mut self) {
        let Some(h) = handle() else { return };
        if std::thread::panicking() {
            // std joins the scope's threads before the panic goes on: they must not wait for
            // a baton this thread will never pass. The panic is recorded when it reaches the
            // top of the thread.
            h.ctl.abort();
            return;
        }
        loop {
            {
                let st = h.ctl.st.lock();
                if st.aborting {
                    break;
                }
                let all_done = st
                    .slots
                    .iter()
                    .all(|t| t.scope != Some(self.key) || t.status == Status::Finished);
                if all_done {
                    return;
                }
            }
            match park_thread(Label::None, false, Ready::Scope(self.key)) {
                Park::Retry | Park::TimedOut => {}
                Park::Aborted => break,
            }
        }
        stop_controlling();
        abort_unwind();
    }
}
