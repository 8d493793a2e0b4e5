//! The controller's side of a run: starting it, recording its end, and hearing what its
//! threads do through the detector (it is their [`Observer`]).

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::choice::Chooser;
use super::runtime::Runtime;
use super::trace::{Fail, Label, Record, Step, StepKind};
use super::{Abort, Controller, Slot, State, Status, Why};
use crate::detector::observer::{Observer, copy_acquired, copy_released};
use crate::detector::registry::{Hold, global};
use crate::detector::report::{Report, StuckIn, ThreadState};
use crate::detector::resource::ResourceInfo;
use crate::detector::{DeadlockPanic, Held, Policy, panic_location, panic_message};

impl Controller {
    /// A run whose first thread (slot 0, `main`) runs first. `quiet`: its threads' panics
    /// stay off the panic hook (the failure shows the one that matters). `shown`: the run
    /// is the one a failure shows, so its threads capture backtraces when they block (the
    /// slow part of blocking, skipped while searching).
    pub(crate) fn new(chooser: Chooser, max_steps: usize, quiet: bool, shown: bool) -> Arc<Self> {
        let chooser_len = match &chooser {
            Chooser::Prefix { prefix, .. } => Some(prefix.len()),
            _ => None,
        };
        Arc::new(Controller {
            st: Mutex::new(State {
                slots: vec![Slot::new("main", None)],
                current: 0,
                version: 0,
                steps: 0,
                max_steps,
                chooser,
                decisions: Vec::with_capacity(64),
                trace: Vec::with_capacity(256),
                preemptions: 0,
                switches: 0,
                failure: None,
                aborting: false,
                diverged: false,
                scratch: Vec::with_capacity(8),
                sleep: Vec::new(),
                sleep_from: chooser_len,
            }),
            quiet,
            shown,
            _full_path: crate::detector::FullPath::enter(),
        })
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
            output: Vec::new(),
        }
    }

    /// The watchdog's verdict on a run whose running thread did not come back to the
    /// scheduler within `deadline` (it blocks or spins outside synckit): the run fails as
    /// stalled, with every thread's state, and is marked torn down, so that if that thread
    /// ever comes back it unwinds instead of going on. Called from another OS thread.
    pub(crate) fn stall(&self, deadline: Duration) -> Record {
        let mut st = self.st.lock();
        let threads: Vec<(u64, String, Vec<Hold>, bool)> = st
            .slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.status != Status::Finished && s.tid != 0)
            .map(|(i, s)| {
                let running = i == st.current && s.status == Status::Runnable;
                (s.tid, s.name.clone(), s.holds.clone(), running)
            })
            .collect();
        let g = global();
        let states = threads
            .into_iter()
            .map(|(tid, name, holds, running)| {
                let mut state = ThreadState::of(&g, tid);
                state.name = name;
                state.holds = holds.iter().map(Held::from_hold).collect();
                (state, running)
            })
            .collect();
        drop(g);
        let report = Report::world_stalled(deadline, states, String::new());
        st.failure = Some(Fail::Stalled(Box::new(report)));
        st.aborting = true;
        drop(st);
        self.record()
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
    }

    /// The thread in `slot` finished (its body returned or unwound): the next one goes on.
    pub(super) fn exit(&self, slot: usize) {
        let mut st = self.st.lock();
        st.slots[slot].status = Status::Finished;
        st.slots[slot].holds.clear();
        if !st.aborting {
            st.trace.push(Step {
                thread: slot,
                kind: StepKind::Exit,
                label: Label::None,
            });
            st.decide(slot, Why::Exit);
        }
    }

    /// The thread in `slot` is gone without finishing its body (a teardown dropped it).
    pub(super) fn finished(&self, slot: usize) {
        self.st.lock().slots[slot].status = Status::Finished;
    }

    /// The scheduler picked a thread that cannot run: fails the run instead of spinning.
    pub(super) fn internal_error(&self, slot: usize) {
        self.st.lock().fail(Fail::Panic {
            thread: "synckit scheduler".to_string(),
            message: format!(
                "internal error: thread slot {slot} was scheduled but has finished; please \
                 report this with the replay string"
            ),
            at: None,
        });
    }

    /// The slot of the thread the detector is telling us about: the one running now.
    fn running_slot(&self) -> Option<usize> {
        Runtime::current().map(Runtime::me)
    }
}

impl Observer for Controller {
    fn policy(&self) -> Option<Policy> {
        None
    }

    fn started(&self, thread: u64, _name: &str) {
        if let Some(slot) = self.running_slot() {
            self.st.lock().slots[slot].tid = thread;
        }
    }

    fn acquired(&self, _thread: u64, hold: &Hold) {
        let Some(slot) = self.running_slot() else {
            return;
        };
        let mut st = self.st.lock();
        copy_acquired(&mut st.slots[slot].holds, hold);
    }

    fn released(&self, _thread: u64, resource: &ResourceInfo, remaining: u32) {
        let Some(slot) = self.running_slot() else {
            return;
        };
        let mut st = self.st.lock();
        copy_released(&mut st.slots[slot].holds, resource, remaining);
    }

    fn collect(&self, report: &Report) -> bool {
        // A report under the log policy lets the thread go on; it still fails the schedule.
        let mut st = self.st.lock();
        if st.failure.is_none() {
            st.failure = Some(Fail::Detector(Box::new(report.clone())));
        }
        true
    }

    fn collects_panics(&self) -> bool {
        self.quiet
    }

    fn backtraces(&self) -> bool {
        self.shown
    }

    fn closes(&self, thread: u64) -> Option<Report> {
        let me = self.running_slot()?;
        let st = self.st.lock();
        let mut blocked = vec![thread];
        for (i, s) in st.slots.iter().enumerate() {
            if i == me || s.status == Status::Finished {
                continue;
            }
            if s.status != Status::Blocked || s.timed || st.ready(i) {
                return None;
            }
            blocked.push(s.tid);
        }
        let g = global();
        Some(Report::everyone_blocked(&g, &blocked, StuckIn::Schedule))
    }
}
