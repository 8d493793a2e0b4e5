//! What can go wrong with a pool, as values: [`ProcessError`] and the [`TaskRef`] it names,
//! and the mapping from a job's fault (as the dispatcher sees it) to the error the caller gets.

use std::fmt::{self, Write as _};
use std::ops::Range;
use std::time::Duration;

use super::WORKER_ENV;

/// Which task a [`ProcessError`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskRef {
    /// The registered function's name.
    pub function: String,
    /// The pool's number for the task (one `submit`, or one chunk of a `map`).
    pub task: u64,
    /// The items concerned, as indices into the `map`'s input (`0..1` for a `submit`).
    pub items: Range<usize>,
    /// The argument's `Debug` form (shortened), when one item is concerned.
    pub argument: Option<String>,
}

impl fmt::Display for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {} (`{}`", self.task, self.function)?;
        match &self.argument {
            Some(arg) => write!(f, " on item {}: {arg})", self.items.start),
            None if self.items.len() == 1 => write!(f, " on item {})", self.items.start),
            None => write!(f, " on items {}..{})", self.items.start, self.items.end),
        }
    }
}

/// What can go wrong with a [`Pool`](super::Pool).
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// The worker program did not answer as a synckit worker: its `main` does not call
    /// [`hook`](super::hook) first (or this program never called it, so its workers would
    /// not either).
    MissingHook {
        /// The program the pool runs as a worker.
        program: String,
        /// What happened instead.
        detail: String,
    },
    /// The worker program could not be started.
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        error: String,
    },
    /// No function of that name is registered in the workers.
    Unregistered {
        /// The name asked for.
        function: String,
        /// The names that are registered.
        registered: Vec<String>,
    },
    /// The function is registered with other argument or result types than the call's.
    Signature {
        /// The function.
        function: String,
        /// `fn(A) -> R` as registered.
        registered: String,
        /// `fn(A) -> R` as called.
        called: String,
    },
    /// The task panicked in the worker (the worker survives).
    Panicked {
        /// The task and the item that panicked.
        task: TaskRef,
        /// The worker's process id.
        pid: u32,
        /// The panic message and where it was raised.
        message: String,
    },
    /// The worker could not decode the argument, or could not run the task.
    Refused {
        /// The task.
        task: TaskRef,
        /// The worker's process id.
        pid: u32,
        /// Why.
        message: String,
    },
    /// The worker process ended (exited, crashed, was killed) while running the task. The
    /// pool has replaced it.
    WorkerDied {
        /// The task it was running.
        task: TaskRef,
        /// The dead worker's process id.
        pid: u32,
        /// How it ended, e.g. `signal: 9 (SIGKILL)` or `exit status: 101`.
        status: String,
    },
    /// The task ran longer than the pool's task timeout; its worker was killed and replaced.
    Timeout {
        /// The task.
        task: TaskRef,
        /// The killed worker's process id.
        pid: u32,
        /// The timeout.
        after: Duration,
    },
    /// A result could not be decoded as the type asked for.
    BadResult {
        /// The task.
        task: TaskRef,
        /// The decoding error.
        detail: String,
    },
    /// The pool shut down before the task ran.
    Closed,
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::MissingHook { program, detail } => write!(
                f,
                "the worker program `{program}` did not start as a synckit worker: {detail}.\n\
                 A Pool starts each worker by running the program again with \
                 {WORKER_ENV}=1, and the program must hand over to synckit before doing \
                 anything else. Add this line at the top of `main`:\n\n    \
                 synckit::process::hook(registry); // registry: fn() -> synckit::process::Registry\n\n\
                 (in tests: a `harness = false` test target whose `main` calls it first)"
            ),
            ProcessError::Spawn { program, error } => {
                write!(f, "cannot start the worker program `{program}`: {error}")
            }
            ProcessError::Unregistered {
                function,
                registered,
            } => {
                let names: Vec<&str> = registered
                    .iter()
                    .map(String::as_str)
                    .filter(|n| !n.starts_with("synckit."))
                    .collect();
                write!(
                    f,
                    "no function named `{function}` is registered in the workers (registered: {}); \
                     add `.register(\"{function}\", ...)` to the Registry given to synckit::process::hook",
                    if names.is_empty() {
                        "none besides synckit's built-ins".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            }
            ProcessError::Signature {
                function,
                registered,
                called,
            } => write!(
                f,
                "`{function}` is registered as {registered} but called as {called}"
            ),
            ProcessError::Panicked { task, pid, message } => {
                write!(f, "{task} panicked in worker {pid}: {message}")
            }
            ProcessError::Refused { task, pid, message } => {
                write!(f, "{task} was refused by worker {pid}: {message}")
            }
            ProcessError::WorkerDied { task, pid, status } => write!(
                f,
                "worker {pid} died while running {task}: {status}; the pool has replaced it"
            ),
            ProcessError::Timeout { task, pid, after } => write!(
                f,
                "{task} ran longer than the pool's task timeout of {after:?}; worker {pid} was \
                 killed and replaced"
            ),
            ProcessError::BadResult { task, detail } => {
                write!(f, "the result of {task} could not be decoded: {detail}")
            }
            ProcessError::Closed => write!(f, "the pool shut down before the task ran"),
        }
    }
}

impl std::error::Error for ProcessError {}

/// What went wrong with a job, before the caller names the task.
#[derive(Debug)]
pub(super) enum Fault {
    Panicked {
        index: u64,
        pid: u32,
        message: String,
    },
    Refused {
        index: u64,
        pid: u32,
        message: String,
    },
    Died {
        pid: u32,
        status: String,
    },
    Timeout {
        pid: u32,
        after: Duration,
    },
    Start(ProcessError),
    Closed,
}

pub(super) fn fault_error(fault: Fault, describe: impl Fn(Option<u64>) -> TaskRef) -> ProcessError {
    match fault {
        Fault::Panicked {
            index,
            pid,
            message,
        } => ProcessError::Panicked {
            task: describe(Some(index)),
            pid,
            message,
        },
        Fault::Refused {
            index,
            pid,
            message,
        } => ProcessError::Refused {
            task: describe(Some(index)),
            pid,
            message,
        },
        Fault::Died { pid, status } => ProcessError::WorkerDied {
            task: describe(None),
            pid,
            status,
        },
        Fault::Timeout { pid, after } => ProcessError::Timeout {
            task: describe(None),
            pid,
            after,
        },
        Fault::Start(e) => e,
        Fault::Closed => ProcessError::Closed,
    }
}

/// `Debug` of a value, cut at 60 characters (without formatting the rest).
pub(super) fn preview(value: &impl fmt::Debug) -> String {
    struct Bounded(String, bool);
    impl fmt::Write for Bounded {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if self.0.chars().count() >= 60 {
                    self.1 = true;
                    return Err(fmt::Error);
                }
                self.0.push(c);
            }
            Ok(())
        }
    }
    let mut b = Bounded(String::new(), false);
    let _ = write!(b, "{value:?}");
    if b.1 {
        b.0.push('…');
    }
    b.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_short() {
        assert_eq!(preview(&5u8), "5");
        let long = preview(&vec![0u8; 1000]);
        assert!(long.chars().count() <= 61 && long.ends_with('…'), "{long}");
    }

    #[test]
    fn task_refs_read_well() {
        let mut t = TaskRef {
            function: "f".into(),
            task: 3,
            items: 4..5,
            argument: Some("7".into()),
        };
        assert_eq!(t.to_string(), "task 3 (`f` on item 4: 7)");
        t.argument = None;
        t.items = 0..10;
        assert_eq!(t.to_string(), "task 3 (`f` on items 0..10)");
    }
}
