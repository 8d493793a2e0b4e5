//! What a run leaves behind: its trace (one step per thing a thread did), why it failed, and
//! the record the explorer reads.

use super::super::Op;
use crate::detector::Report;
use crate::detector::report::{self, Target};
use crate::detector::resource::ResourceInfo;

use super::Decision;

/// What a step of the trace is about.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Label {
    None,
    Res(ResourceInfo),
    Thread(usize),
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
    /// What the program wrote to stdout and stderr during the run, where it was captured
    /// (the replay a failure shows).
    pub output: Vec<u8>,
}
