//! The watchdog: a schedule's threads run on one OS thread, so one that blocks or spins
//! outside synckit cannot be switched away from. The explorer runs the search on a worker
//! thread and the caller's thread watches it: a schedule that does not end within
//! [`Config::deadline`](super::Config::deadline) fails as stalled, its report taken from the
//! scheduler's state, and the worker is left behind (cancelled: if it ever comes back, it
//! unwinds out of the search).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::Failure;
use super::config::Schedule;
use super::failure::{Stats, describe};
use super::shrink::deviations;
use crate::sched::controlled::Controller;

/// The schedule running now, as the watchdog sees it.
struct Current {
    ctl: Arc<Controller>,
    index: usize,
    seed: Option<u64>,
    started: Instant,
    /// The replay a failure shows: its threads resolve backtraces for the report, which the
    /// first time in a process loads the program's debug info (seconds in a debug build).
    shown: bool,
}

/// How much longer than [`Config::deadline`](super::Config::deadline) the replay a failure
/// shows may take (see [`Current::shown`]).
const SHOWN_GRACE: Duration = Duration::from_secs(60);

impl Current {
    fn deadline(&self, deadline: Duration) -> Duration {
        if self.shown {
            deadline + SHOWN_GRACE
        } else {
            deadline
        }
    }
}

/// What the worker shares with the watchdog.
#[derive(Default)]
pub(super) struct Watch {
    current: Mutex<Option<Current>>,
    cancelled: AtomicBool,
    base_seed: Mutex<Option<u64>>,
}

/// How [`Watch::wait`] ended.
pub(super) enum Waited {
    /// The worker's search returned (or panicked).
    Done(std::thread::Result<Result<Stats, Failure>>),
    /// A schedule outlived the deadline.
    Stalled(Failure),
    /// The worker ended without a result.
    Vanished,
}

/// The payload a cancelled worker unwinds out of its search with.
pub(super) struct Cancelled;

impl Watch {
    /// A schedule starts (on the worker).
    pub(super) fn starting(
        &self,
        ctl: &Arc<Controller>,
        index: usize,
        seed: Option<u64>,
        shown: bool,
    ) {
        if self.cancelled.load(Ordering::Relaxed) {
            std::panic::resume_unwind(Box::new(Cancelled));
        }
        *self.current.lock() = Some(Current {
            ctl: ctl.clone(),
            index,
            seed,
            started: Instant::now(),
            shown,
        });
    }

    /// The schedule ended (on the worker).
    pub(super) fn finished(&self) {
        *self.current.lock() = None;
    }

    /// The random search's base seed, for a stalled schedule's failure.
    pub(super) fn base_seed(&self, seed: u64) {
        *self.base_seed.lock() = Some(seed);
    }

    /// Waits for the worker's result, failing a schedule that outlives `deadline`.
    pub(super) fn wait(
        &self,
        results: &Receiver<std::thread::Result<Result<Stats, Failure>>>,
        deadline: Duration,
    ) -> Waited {
        loop {
            let left = self.current.lock().as_ref().map_or(deadline, |c| {
                c.deadline(deadline).saturating_sub(c.started.elapsed())
            });
            match results.recv_timeout(left.max(Duration::from_millis(1))) {
                Ok(result) => return Waited::Done(result),
                Err(RecvTimeoutError::Disconnected) => return Waited::Vanished,
                Err(RecvTimeoutError::Timeout) => {
                    if let Some(failure) = self.stalled(deadline) {
                        return Waited::Stalled(failure);
                    }
                }
            }
        }
    }

    /// The stalled schedule's failure, if the running one is past its deadline.
    fn stalled(&self, deadline: Duration) -> Option<Failure> {
        let current = self.current.lock();
        let c = current
            .as_ref()
            .filter(|c| c.started.elapsed() >= deadline)?;
        self.cancelled.store(true, Ordering::Relaxed);
        let record = c.ctl.stall(deadline);
        let found_by = format!(
            "schedule {} of the search, which did not come back to the scheduler within \
             {deadline:?} (not shrunk: every replay would wait that long)",
            c.index + 1
        );
        let seeds = c.seed.zip(*self.base_seed.lock());
        let schedule = Schedule::new(deviations(&record.decisions));
        Some(describe(record, schedule, found_by, seeds, None))
    }
}
