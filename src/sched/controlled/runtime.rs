//! The driver of a controlled run: each simulated thread is a stackful coroutine (corosensei)
//! on the calling OS thread, resumed by [`run_schedule`]'s loop when the scheduler picks it.
//!
//! A coroutine suspends itself where the scheduler switches away from it (a point, a park,
//! its exit); the driver then swaps the detector's per-thread state out of the OS thread,
//! swaps the chosen thread's in, and resumes that one. Stacks come from a [`StackPool`] kept
//! for a whole search, so a schedule allocates no stack.
//!
//! **Teardown.** A run that fails (a deadlock, a panic, the step limit) resumes every
//! suspended coroutine once more, newest first: each sees the run aborting and unwinds with
//! a private payload, releasing what it holds. A thread that must wait while it unwinds (a
//! drop that takes a lock, a scope waiting for its children) suspends again and is resumed
//! after the others; while the teardown goes on, only unwinding coroutines run, so every
//! `std::thread::panicking()` seen then is true of the caller too. If the waiting threads
//! wait for each other, they are *abandoned*: never resumed, their stacks leaked (not
//! reused: their frames may still be borrowed), and the OS thread is marked tainted, since
//! its panic count can no longer reach zero; the explorer then runs each later schedule on a
//! fresh OS thread.

use std::cell::{Cell, RefCell};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use corosensei::stack::DefaultStack;
use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::{ACTIVE, Abort, Controller, Job, Record};
use crate::detector::registry::{ParkedThread, swap_current};

type Co = Coroutine<(), (), (), DefaultStack>;

thread_local! {
    /// The run this OS thread drives, while it drives one (see `Runtime::current`).
    static RUNTIME: Cell<*const Runtime> = const { Cell::new(std::ptr::null()) };
}

/// Coroutine stacks, kept for a whole search: a schedule takes and gives back stacks
/// instead of mapping new ones (an `mmap` and an `mprotect` each).
pub(crate) struct StackPool {
    size: usize,
    stacks: Vec<DefaultStack>,
}

impl StackPool {
    /// A pool of stacks of `size` bytes each (rounded up to pages by the allocator).
    pub(crate) fn new(size: usize) -> Self {
        StackPool {
            size,
            stacks: Vec::new(),
        }
    }

    fn take(&mut self) -> DefaultStack {
        match self.stacks.pop() {
            Some(stack) => stack,
            None => DefaultStack::new(self.size).unwrap_or_else(|e| {
                panic!(
                    "synckit::testing::explore: cannot map a {} KiB coroutine stack: {e}",
                    self.size / 1024
                )
            }),
        }
    }

    fn give(&mut self, stack: DefaultStack) {
        self.stacks.push(stack);
    }
}

/// One simulated thread, as the driver keeps it.
struct Sim {
    /// Its coroutine, once started (taken out while it runs).
    co: Option<Co>,
    /// Its body, until it starts.
    job: Option<Job>,
    /// The detector's state of the thread while it does not run.
    parked: ParkedThread,
    /// The coroutine's yielder, set when it starts (it lives at the bottom of its stack).
    yielder: Cell<*const Yielder<(), ()>>,
    /// It has begun unwinding (torn down, or a panic that had to wait).
    unwinding: Cell<bool>,
    /// It waits for others to unwind before it does (a scope's end in a teardown).
    teardown_wait: Cell<bool>,
    done: bool,
}

impl Sim {
    fn new(job: Job) -> Self {
        Sim {
            co: None,
            job: Some(job),
            parked: ParkedThread::default(),
            yielder: Cell::new(std::ptr::null()),
            unwinding: Cell::new(false),
            teardown_wait: Cell::new(false),
            done: false,
        }
    }
}

/// A run being driven: the scheduler's shared state and the coroutines of its threads.
pub(crate) struct Runtime {
    pub(super) ctl: Arc<Controller>,
    running: Cell<usize>,
    /// The teardown is under way: coroutines may be suspended mid-unwind, so
    /// `std::thread::panicking()` no longer speaks for the running one alone.
    tearing_down: Cell<bool>,
    sims: RefCell<Vec<Sim>>,
    pool: RefCell<StackPool>,
}

/// Resets the OS thread's hooks however the driver's loop ends.
struct Deactivate(*const Runtime);

impl Drop for Deactivate {
    fn drop(&mut self) {
        ACTIVE.set(false);
        RUNTIME.set(self.0);
    }
}

/// Runs one schedule: `main` (the body, slot 0 of `ctl`) and every thread it spawns, as
/// coroutines on the calling thread, until all finished or the run failed and was torn
/// down. Returns the run's record and whether the calling OS thread is tainted (see the
/// module docs): then it must not drive another run.
pub(crate) fn run_schedule(
    ctl: &Arc<Controller>,
    pool: &mut StackPool,
    main: Job,
) -> (Record, bool) {
    let rt = Runtime {
        ctl: ctl.clone(),
        running: Cell::new(0),
        tearing_down: Cell::new(false),
        sims: RefCell::new(vec![Sim::new(main)]),
        pool: RefCell::new(std::mem::replace(pool, StackPool::new(pool.size))),
    };
    {
        let _reset = Deactivate(RUNTIME.replace(&rt));
        ACTIVE.set(true);
        rt.drive();
    }
    *pool = rt.pool.into_inner();
    let tainted = std::thread::panicking();
    (ctl.record(), tainted)
}

impl Runtime {
    /// The run the calling OS thread drives, if any.
    #[inline]
    pub(super) fn current() -> Option<&'static Runtime> {
        if !ACTIVE.get() {
            return None;
        }
        let rt = RUNTIME.get();
        // SAFETY: `RUNTIME` points at the `Runtime` on `run_schedule`'s frame while that
        // frame drives the run (`ACTIVE` is set only then, and both are reset before it
        // returns or unwinds, by `Deactivate`); every caller is code running inside that
        // call (a coroutine of the run, or the driver), so the runtime outlives the borrow.
        // The `'static` is never stored anywhere that outlives the call.
        (!rt.is_null()).then(|| unsafe { &*rt })
    }

    /// The slot of the simulated thread that runs now.
    #[inline]
    pub(super) fn me(&self) -> usize {
        self.running.get()
    }

    /// Suspends the running coroutine; returns when the driver resumes it.
    pub(super) fn switch_away(&self) {
        let yielder = self.sims.borrow()[self.me()].yielder.get();
        // SAFETY: the yielder lives at the bottom of the running coroutine's stack, which is
        // where this code runs (`me` is the coroutine being resumed): it is alive, and only
        // this coroutine suspends through it.
        unsafe { (*yielder).suspend(()) };
    }

    /// Whether the running thread unwinds already: it began to (its flag), or, outside a
    /// teardown, the OS thread panics (only the running coroutine can then be mid-unwind).
    fn unwinding(&self) -> bool {
        self.sims.borrow()[self.me()].unwinding.get()
            || (!self.tearing_down.get() && std::thread::panicking())
    }

    /// Whether the running thread, in a teardown, suspends to wait (it is unwinding, or
    /// waits for its scope's children) instead of being told to unwind.
    pub(super) fn waits_in_teardown(&self) -> bool {
        let waits = self.sims.borrow()[self.me()].teardown_wait.get();
        if self.unwinding() {
            self.mark_unwinding();
            return true;
        }
        waits
    }

    /// The running thread has begun unwinding.
    pub(super) fn mark_unwinding(&self) {
        self.sims.borrow()[self.me()].unwinding.set(true);
    }

    /// The running thread waits, in the teardown, before it unwinds.
    pub(super) fn wait_in_teardown(&self) {
        self.sims.borrow()[self.me()].teardown_wait.set(true);
    }

    /// Unwinds the running thread out of a torn-down run, unless it already unwinds (a
    /// second unwind from inside a drop would abort the process).
    pub(super) fn abort_unwind(&self) {
        if !self.unwinding() {
            self.mark_unwinding();
            std::panic::resume_unwind(Box::new(Abort));
        }
    }

    /// A new simulated thread (its slot was just added to the controller's state).
    pub(super) fn add_thread(&self, job: Job) {
        self.sims.borrow_mut().push(Sim::new(job));
    }

    fn drive(&self) {
        loop {
            let next = {
                let st = self.ctl.st.lock();
                if st.aborting {
                    None
                } else if st.slots.iter().all(|s| s.status == super::Status::Finished) {
                    return;
                } else {
                    Some(st.current)
                }
            };
            match next {
                Some(next) => {
                    if !self.resume(next) {
                        // The scheduler picked a thread that cannot run: a bug here, not in
                        // the code under test. Fail the run rather than spin.
                        self.ctl.internal_error(next);
                    }
                }
                None => return self.teardown(),
            }
        }
    }

    /// Resumes (or starts) the thread in `slot` until it suspends or finishes. Returns false
    /// if it has already finished.
    fn resume(&self, slot: usize) -> bool {
        let mut co = {
            let mut sims = self.sims.borrow_mut();
            let sim = &mut sims[slot];
            if sim.done {
                return false;
            }
            match sim.co.take() {
                Some(co) => co,
                None => {
                    let Some(job) = sim.job.take() else {
                        return false;
                    };
                    let stack = self.pool.borrow_mut().take();
                    Co::with_stack(stack, move |yielder, ()| thread_main(slot, yielder, job))
                }
            }
        };
        self.running.set(slot);
        swap_current(&mut self.sims.borrow_mut()[slot].parked);
        let result = co.resume(());
        let mut sims = self.sims.borrow_mut();
        let sim = &mut sims[slot];
        swap_current(&mut sim.parked);
        match result {
            CoroutineResult::Yield(()) => sim.co = Some(co),
            CoroutineResult::Return(()) => {
                sim.done = true;
                let parked = std::mem::take(&mut sim.parked);
                drop(sims);
                self.pool.borrow_mut().give(co.into_stack());
                // The simulated thread's exit, for the detector (its observer hears it).
                drop(parked);
            }
        }
        true
    }

    /// Unwinds every thread of a failed run (see the module docs).
    fn teardown(&self) {
        self.tearing_down.set(true);
        let mut rounds_without_an_end = 0;
        loop {
            let live: Vec<usize> = {
                let sims = self.sims.borrow();
                (0..sims.len()).rev().filter(|&i| !sims[i].done).collect()
            };
            if live.is_empty() {
                return;
            }
            let mut ended = false;
            for slot in live {
                let never_ran = {
                    let mut sims = self.sims.borrow_mut();
                    let sim = &mut sims[slot];
                    if sim.co.is_none() {
                        sim.done = true;
                        sim.job.take()
                    } else {
                        None
                    }
                };
                if let Some(job) = never_ran {
                    // It never ran: drop its body here, as a thread that never started.
                    drop(job);
                    self.ctl.finished(slot);
                    ended = true;
                    continue;
                }
                self.resume(slot);
                ended |= self.sims.borrow()[slot].done;
            }
            rounds_without_an_end = if ended { 0 } else { rounds_without_an_end + 1 };
            if rounds_without_an_end > 3 {
                return self.abandon();
            }
        }
    }

    /// Gives up on threads that wait for each other while unwinding (see the module docs).
    fn abandon(&self) {
        let mut sims = self.sims.borrow_mut();
        for (slot, sim) in sims.iter_mut().enumerate() {
            if sim.done {
                continue;
            }
            sim.done = true;
            // Leaked, never resumed nor reused: its frames may still be borrowed (a scope's
            // children borrow from their parent's stack), and unwinding it could only wait.
            std::mem::forget(sim.co.take());
            self.ctl.finished(slot);
        }
        let parked: Vec<ParkedThread> = sims
            .iter_mut()
            .map(|s| std::mem::take(&mut s.parked))
            .collect();
        drop(sims);
        drop(parked);
    }
}

/// A simulated thread, from its first resume to its end: the body, its panic recorded as
/// the run's failure, and its exit told to the scheduler (which picks who runs next).
fn thread_main(slot: usize, yielder: &Yielder<(), ()>, job: Job) {
    let Some(rt) = Runtime::current() else { return };
    rt.sims.borrow()[slot].yielder.set(yielder);
    if let Err(payload) = std::panic::catch_unwind(AssertUnwindSafe(job)) {
        rt.ctl.note_panic(slot, &*payload);
        // A payload's own drop may panic: keep that inside the thread, not the driver.
        let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
    }
    rt.ctl.exit(slot);
}
