//! The controlled scheduler behind [`explore`](super::explore): one run of a closed world in
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

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex, MutexGuard};

use super::{Op, Park};
use crate::detector::registry::{current_thread_id, global};
use crate::detector::report::{self, StuckIn, Target};
use crate::detector::resource::{Resource, ResourceInfo};
use crate::detector::{DeadlockPanic, Report, panic_location, panic_message};

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

/// What a step of the trace is about.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Label {
    None,
    Res(ResourceInfo),
    Thread(usize),
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

/// A small, fast, seedable generator (splitmix64): schedules replay from a printed seed.
#[derive(Clone, Debug)]
pub(crate) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// How the next thread is picked where more than one can run.
pub(crate) enum Chooser {
    /// Uniformly at random.
    Random(Rng),
    /// The i-th decision takes `prefix[i]`; the default schedule after it (DFS).
    Prefix(Vec<usize>),
    /// The default schedule, except where a deviation keyed `(thread, its n-th decision)`
    /// names a runnable thread (replay and shrinking).
    Deviations(HashMap<(usize, u32), usize>),
}

impl Chooser {
    fn pick(
        &mut self,
        index: usize,
        key: (usize, u32),
        runnable: &[usize],
        default: usize,
    ) -> (usize, bool) {
        match self {
            Chooser::Random(rng) => (runnable[rng.below(runnable.len())], false),
            Chooser::Prefix(prefix) => match prefix.get(index) {
                Some(t) if runnable.contains(t) => (*t, false),
                Some(_) => (default, true),
                None => (default, false),
            },
            Chooser::Deviations(map) => match map.get(&key) {
                Some(t) if runnable.contains(t) => (*t, false),
                _ => (default, false),
            },
        }
    }
}

/// One place where more than one thread could run, as the run took it.
#[derive(Clone, Debug)]
pub(crate) struct Decision {
    /// The thread that held the baton.
    pub me: usize,
    /// Its how-many-th decision this was (with `me`: the deviation key).
    pub nth: u32,
    pub runnable: Vec<usize>,
    /// What the default schedule picks: `me` at an ordinary point; the next thread after
    /// `me` (cyclically) at a yield point or when `me` blocked or finished.
    pub default: usize,
    pub chosen: usize,
    /// `me` could have gone on (an ordinary point or a yield point).
    pub me_runnable: bool,
    /// The point was a `yield_point()`.
    pub yielding: bool,
}

impl Decision {
    /// Preemptions it costs to pick `t` here: switching away from a thread that could go on
    /// costs one, except at a yield point, where *staying* costs one (the thread asked to let
    /// the others go first). Switches forced by a block or an exit are free.
    pub fn cost(&self, t: usize) -> u32 {
        if !self.me_runnable {
            0
        } else if self.yielding {
            u32::from(t == self.me && self.runnable.len() > 1)
        } else {
            u32::from(t != self.me)
        }
    }
}

/// One row of the run's trace, in the order things happened.
#[derive(Clone, Debug)]
pub(crate) struct Step {
    pub thread: usize,
    pub kind: StepKind,
    pub label: Label,
}

impl Step {
    /// The step in the report's words (`names`: the run's thread names, by slot).
    pub fn to_report(&self, names: &[String]) -> report::Step {
        let target = match self.label {
            Label::None => Target::None,
            Label::Res(info) => Target::Resource(info),
            Label::Thread(t) => Target::Thread(names.get(t).map_or("?", String::as_str).into()),
        };
        match self.kind {
            StepKind::Op(op) => report::Step::Op {
                op,
                target,
                timed: false,
                woke: None,
            },
            StepKind::Blocked => report::Step::Blocked(target),
            StepKind::TimedOut => report::Step::TimedOut,
            StepKind::Preempted { yielded } => report::Step::Preempted { yielded },
            StepKind::Exit => report::Step::Exit,
            StepKind::Panicked => report::Step::Panicked,
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum StepKind {
    Op(Op),
    Blocked,
    TimedOut,
    /// The baton went elsewhere although this thread could go on.
    Preempted {
        yielded: bool,
    },
    Exit,
    Panicked,
}

/// Why a run failed, as the scheduler saw it.
#[derive(Clone, Debug)]
pub(crate) enum Fail {
    /// A thread panicked (an assertion failed).
    Panic {
        thread: String,
        message: String,
        at: Option<String>,
    },
    /// The detector raised a report in a thread (a deadlock cycle, an inversion, a
    /// re-entrant acquire) under the panic policy.
    Detector(Box<Report>),
    /// No thread could run, and some were blocked.
    Deadlock(Box<Report>),
    /// The run took more scheduling steps than allowed.
    StepLimit(usize),
    /// The closed world's deadline passed (a thread blocked or spun outside synckit).
    Stalled(Box<Report>),
}

/// Everything a finished run leaves behind.
pub(crate) struct Record {
    pub failure: Option<Fail>,
    pub decisions: Vec<Decision>,
    pub trace: Vec<Step>,
    pub names: Vec<String>,
    pub preemptions: u32,
    pub switches: u32,
    pub diverged: bool,
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
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Why {
    Point(Op),
    Block,
    Exit,
}

impl State {
    fn wake_all(&self) {
        for s in &self.slots {
            s.cv.notify_one();
        }
    }

    /// Records the run's first failure and tears the run down.
    fn fail(&mut self, f: Fail) {
        if self.failure.is_none() {
            self.failure = Some(f);
        }
        self.aborting = true;
        self.wake_all();
    }

    fn ready(&self, i: usize) -> bool {
        let s = &self.slots[i];
        if s.blocked_at >= self.version {
            return false; // nothing happened since its attempt failed
        }
        match &s.waiting {
            // SAFETY: see `ProbePtr`: the owner is parked, we hold the controller's lock.
            Some(Waiting::Probe(p)) => unsafe { (*p.0)() },
            Some(Waiting::Scope(key)) => self
                .slots
                .iter()
                .all(|t| t.scope != Some(*key) || t.status == Status::Finished),
            None => true,
        }
    }

    /// Picks who runs next after `me` reached a point, blocked or finished. `None`: nobody
    /// (every thread finished, or the run just failed: deadlock or step limit).
    fn decide(&mut self, me: usize, why: Why) -> Option<usize> {
        if why == Why::Exit {
            self.version += 1; // joiners may go on
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            let max = self.max_steps;
            self.fail(Fail::StepLimit(max));
            return None;
        }
        let me_runnable = matches!(why, Why::Point(_));
        let mut runnable: Vec<usize> = (0..self.slots.len())
            .filter(|&i| match self.slots[i].status {
                Status::Runnable => i != me || me_runnable,
                Status::Blocked => self.ready(i),
                Status::Finished => false,
            })
            .collect();
        let mut timing_out = false;
        if runnable.is_empty() {
            runnable = (0..self.slots.len())
                .filter(|&i| self.slots[i].status == Status::Blocked && self.slots[i].timed)
                .collect();
            if runnable.is_empty() {
                if self.slots.iter().any(|s| s.status == Status::Blocked) {
                    let report = self.deadlock_report();
                    self.fail(Fail::Deadlock(Box::new(report)));
                }
                return None;
            }
            timing_out = true;
        }
        let yielding = why == Why::Point(Op::Yield);
        let default = if me_runnable && !yielding {
            me
        } else {
            // The next thread after `me`, cyclically (`me` itself last).
            *runnable.iter().find(|&&t| t > me).unwrap_or(&runnable[0])
        };
        let chosen = if runnable.len() == 1 {
            runnable[0]
        } else {
            let nth = self.slots[me].decisions;
            self.slots[me].decisions += 1;
            let index = self.decisions.len();
            let (pick, diverged) = self.chooser.pick(index, (me, nth), &runnable, default);
            self.diverged |= diverged;
            let d = Decision {
                me,
                nth,
                runnable,
                default,
                chosen: pick,
                me_runnable,
                yielding,
            };
            self.preemptions += d.cost(pick);
            self.decisions.push(d);
            pick
        };
        if me_runnable && chosen != me {
            self.switches += 1;
            self.trace.push(Step {
                thread: me,
                kind: StepKind::Preempted { yielded: yielding },
                label: Label::None,
            });
        }
        let next = &mut self.slots[chosen];
        if next.status == Status::Blocked {
            next.status = Status::Runnable;
            next.timed_out = timing_out;
        }
        self.current = chosen;
        if chosen != me {
            self.slots[chosen].cv.notify_one();
        }
        Some(chosen)
    }

    /// The report for a schedule in which every live thread is blocked.
    fn deadlock_report(&self) -> Report {
        let blocked: Vec<u64> = self
            .slots
            .iter()
            .filter(|s| s.status == Status::Blocked)
            .map(|s| s.tid)
            .collect();
        let g = global();
        Report::everyone_blocked(&g, &blocked, StuckIn::Schedule)
    }

    /// Waits (releasing the lock) until `me` holds the baton or the run is torn down.
    fn wait_for_baton(st: &mut MutexGuard<'_, State>, me: usize) {
        let cv = st.slots[me].cv.clone();
        while st.current != me && !st.aborting {
            cv.wait(st);
        }
    }
}

impl Controller {
    /// A run whose first thread (slot 0, `main`) holds the baton.
    pub fn new(chooser: Chooser, max_steps: usize) -> Arc<Self> {
        Arc::new(Controller {
            st: Mutex::new(State {
                slots: vec![Slot::new("main", None)],
                current: 0,
                version: 0,
                steps: 0,
                max_steps,
                chooser,
                decisions: Vec::new(),
                trace: Vec::new(),
                preemptions: 0,
                switches: 0,
                failure: None,
                aborting: false,
                diverged: false,
            }),
            done: Condvar::new(),
        })
    }

    /// Runs the world's first thread (the caller) under this controller.
    pub fn run_root<T>(self: &Arc<Self>, f: impl FnOnce() -> T) -> T {
        set_handle(Some(Handle {
            ctl: self.clone(),
            slot: 0,
        }));
        self.st.lock().slots[0].tid = current_thread_id();
        let running = Running {
            ctl: self.clone(),
            slot: 0,
        };
        running.run(f)
    }

    /// Tears the run down: every parked thread unwinds.
    pub fn abort(&self) {
        let mut st = self.st.lock();
        st.aborting = true;
        st.wake_all();
    }

    /// Records a failure found outside the threads (the world's deadline).
    pub fn fail(&self, f: Fail) {
        self.st.lock().fail(f);
    }

    /// Waits up to `grace` for every thread of the run to finish.
    pub fn finish(&self, grace: Duration) -> bool {
        let deadline = Instant::now() + grace;
        let mut st = self.st.lock();
        loop {
            if st.slots.iter().all(|s| s.status == Status::Finished) {
                return true;
            }
            if self.done.wait_until(&mut st, deadline).timed_out() {
                return st.slots.iter().all(|s| s.status == Status::Finished);
            }
        }
    }

    /// Takes what the run left behind.
    pub fn record(&self) -> Record {
        let mut st = self.st.lock();
        Record {
            failure: st.failure.take(),
            decisions: std::mem::take(&mut st.decisions),
            trace: std::mem::take(&mut st.trace),
            names: st.slots.iter().map(|s| s.name.clone()).collect(),
            preemptions: st.preemptions,
            switches: st.switches,
            diverged: st.diverged,
        }
    }

    fn note_panic(&self, slot: usize, payload: &(dyn Any + Send)) {
        if payload.is::<Abort>() {
            return;
        }
        let fail = match payload.downcast_ref::<DeadlockPanic>() {
            Some(p) => Fail::Detector(Box::new((*p.report).clone())),
            None => Fail::Panic {
                thread: String::new(),
                message: panic_message(payload),
                at: panic_location(),
            },
        };
        let mut st = self.st.lock();
        st.trace.push(Step {
            thread: slot,
            kind: StepKind::Panicked,
            label: Label::None,
        });
        let fail = match fail {
            Fail::Panic { message, at, .. } => Fail::Panic {
                thread: st.slots[slot].name.clone(),
                message,
                at,
            },
            other => other,
        };
        st.fail(fail);
        drop(st);
        self.done.notify_all();
    }

    fn exit(&self, slot: usize) {
        let mut st = self.st.lock();
        st.slots[slot].status = Status::Finished;
        if !st.aborting && st.current == slot && !std::thread::panicking() {
            st.trace.push(Step {
                thread: slot,
                kind: StepKind::Exit,
                label: Label::None,
            });
            st.decide(slot, Why::Exit);
        } else if !st.aborting {
            // A panic that `run` did not see (it escaped a scope): tear the run down.
            st.aborting = true;
            st.wake_all();
        }
        drop(st);
        self.done.notify_all();
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_reproducible_and_spreads() {
        let a: Vec<u64> = {
            let mut r = Rng::new(7);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let mut r = Rng::new(7);
        assert_eq!(a, (0..4).map(|_| r.next_u64()).collect::<Vec<_>>());
        let mut r = Rng::new(1);
        let mut seen = [false; 3];
        for _ in 0..64 {
            seen[r.below(3)] = true;
        }
        assert_eq!(seen, [true; 3]);
    }

    #[test]
    fn preemption_costs_follow_the_rules() {
        let d = Decision {
            me: 0,
            nth: 0,
            runnable: vec![0, 1],
            default: 0,
            chosen: 0,
            me_runnable: true,
            yielding: false,
        };
        assert_eq!(
            (d.cost(0), d.cost(1)),
            (0, 1),
            "leaving a runnable thread costs one"
        );
        let y = Decision {
            yielding: true,
            default: 1,
            ..d.clone()
        };
        assert_eq!(
            (y.cost(0), y.cost(1)),
            (1, 0),
            "staying at a yield point costs one"
        );
        let forced = Decision {
            me_runnable: false,
            runnable: vec![1, 2],
            ..d
        };
        assert_eq!(
            (forced.cost(1), forced.cost(2)),
            (0, 0),
            "a forced switch is free"
        );
    }
}
