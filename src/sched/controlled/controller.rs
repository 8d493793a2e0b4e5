//! The controller's side of a run: starting it, tearing it down, waiting for its threads, and
//! taking the record.

use std::any::Any;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::choice::Chooser;
use super::trace::{Fail, Label, Record, Step, StepKind};
use super::{Abort, Controller, Handle, Running, Slot, State, Status, Why, set_handle};
use crate::detector::registry::current_thread_id;
use crate::detector::{DeadlockPanic, panic_location, panic_message};

impl Controller {
    /// A run whose first thread (slot 0, `main`) holds the baton.
    pub(crate) fn new(chooser: Chooser, max_steps: usize) -> Arc<Self> {
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
            _full_path: crate::detector::FullPath::enter(),
        })
    }

    /// Runs the world's first thread (the caller) under this controller.
    pub(crate) fn run_root<T>(self: &Arc<Self>, f: impl FnOnce() -> T) -> T {
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
    pub(crate) fn abort(&self) {
        let mut st = self.st.lock();
        st.aborting = true;
        st.wake_all();
    }

    /// Records a failure found outside the threads (the world's deadline).
    pub(crate) fn fail(&self, f: Fail) {
        self.st.lock().fail(f);
    }

    /// Waits up to `grace` for every thread of the run to finish.
    pub(crate) fn finish(&self, grace: Duration) -> bool {
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
    pub(crate) fn record(&self) -> Record {
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

    pub(super) fn note_panic(&self, slot: usize, payload: &(dyn Any + Send)) {
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

    pub(super) fn exit(&self, slot: usize) {
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
