//! [`explore`]: run a test body under many controlled schedules, and shrink a failing one.

mod capture;
mod config;
mod failure;
mod search;
mod shrink;
mod watch;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

pub use config::{Config, Deviation, ParseScheduleError, Schedule, schedules};
pub use failure::{Budget, Failure, FailureKind, Stats};

use crate::error::UsageError;
use crate::thread::JoinHandle;
use capture::Capture;
use search::Explorer;
use watch::{Cancelled, Waited, Watch};

/// What one schedule's run gives the body: which schedule this is, and a spawn shorthand.
#[derive(Debug)]
pub struct Run {
    index: usize,
    seed: Option<u64>,
}

impl Run {
    /// The schedule's number in this search (0-based; shrinking replays count on).
    pub fn index(&self) -> usize {
        self.index
    }

    /// The random seed of this schedule, in a random search.
    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// Spawns a thread of the world: [`thread::spawn_named`](crate::thread::spawn_named).
    ///
    /// # Panics
    ///
    /// Outside a schedule's run (the body's own threads spawn simulated threads, which
    /// cannot fail), if the OS cannot create a thread.
    #[track_caller]
    pub fn spawn<F, T>(&self, name: &str, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::thread::spawn_named(name, f)
    }
}

/// Runs `body` under many controlled schedules of its closed world and returns the first
/// failure, shrunk, or how the search went.
///
/// `body` runs once per schedule as the run's first thread (`main`); the threads it spawns
/// through [`thread::spawn_named`](crate::thread::spawn_named), [`Run::spawn`] or
/// [`thread::scope`](crate::thread::scope) belong to the run. They are coroutines on one
/// worker OS thread, so only one of them runs at a time, and they switch only at synckit
/// operations: acquire (and try/timed forms), release, wait, notify, set/clear, barrier
/// waits, spawn, join, and [`thread::yield_point`](crate::thread::yield_point). The next
/// thread comes from the [`Config`]: random (seeded) or bounded-exhaustive (a preemption or
/// delay bound, with a partial-order reduction). The search is bounded: by default it stops
/// after 5 s (an exhaustive one also after 100,000 schedules), and the [`Stats`] it returns
/// say whether it was complete or stopped at its budget (then it is not a proof).
///
/// A schedule fails when a thread panics (an assertion), the detector reports (a deadlock
/// cycle, a lock-order inversion, a re-entrant acquire), no thread can run while some are
/// blocked (a deadlock of that schedule), it exceeds [`Config::max_steps`], or it does not
/// come back to the scheduler within [`Config::deadline`] (a thread blocked or spinning
/// outside synckit; the calling thread watches for it). The failing schedule is shrunk — delta debugging (ddmin) over its
/// deviations from the default schedule, then a bounded-exhaustive search for a failing
/// schedule with fewer preemptions (0, 1, ... up to the shrunk one's), shrunk in turn, all
/// within [`Config::max_shrink_runs`] replays — and returned as a [`Failure`] that prints it
/// as timeline lanes, with the seed and the schedule string to replay it.
///
/// The body must be deterministic given the schedule: it should create its primitives
/// afresh each time and not read clocks or random sources. A timed wait times out only when
/// no thread could run otherwise (time is virtual). What the explorer cannot see (atomics,
/// std locks, channels, threads spawned with `std::thread`) is listed in the
/// [module docs](super#limits).
///
/// # Errors
///
/// The first failing schedule, shrunk.
///
/// # Panics
///
/// On a zero [`Config::deadline`], or if the OS cannot start the search's worker thread or
/// map a coroutine stack.
///
/// # Examples
///
/// A lost update: two threads read a counter, yield, and write back.
///
/// ```
/// use std::sync::Arc;
/// use synckit::{Lock, testing::{self, Config, FailureKind}};
///
/// let failure = testing::explore(Config::random(100).seed(1), |run| {
///     let counter = Arc::new(Lock::new(0).named("counter"));
///     let workers: Vec<_> = (0..2)
///         .map(|i| {
///             let counter = counter.clone();
///             run.spawn(&format!("worker-{i}"), move || {
///                 let seen = *counter.acquire();
///                 synckit::thread::yield_point();
///                 *counter.acquire() = seen + 1; // lost if the other wrote in between
///             })
///         })
///         .collect();
///     for w in workers {
///         w.join().unwrap();
///     }
///     assert_eq!(*counter.acquire(), 2, "an update was lost");
/// })
/// .unwrap_err();
/// assert_eq!(failure.kind(), FailureKind::Panic);
/// assert!(failure.message().contains("an update was lost"));
/// println!("{failure}"); // the shrunk schedule as lanes, and how to replay it
/// ```
pub fn explore<F>(config: Config, body: F) -> Result<Stats, Failure>
where
    F: Fn(&Run) + Send + Sync + 'static,
{
    if config.deadline.is_zero() {
        panic!("{}", UsageError::ZeroDeadline);
    }
    crate::detector::install_panic_hook();
    let watch = Arc::new(Watch::default());
    let deadline = config.deadline;
    let explorer = Explorer::new(config, Arc::new(body), watch.clone());
    let (tx, rx) = std::sync::mpsc::sync_channel(1);
    // The search runs on a worker, whose schedules' threads are coroutines on it; this
    // thread is the watchdog for a schedule stuck outside synckit (see `watch`).
    let capture = explorer.config.capture_output;
    let job = move || {
        let mut explorer = explorer;
        if capture {
            explorer.capture = Capture::start();
        }
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| explorer.search()));
        if let Err(payload) = &result
            && payload.is::<Cancelled>()
        {
            return; // the watchdog gave up on this search already
        }
        let _ = tx.send(result);
    };
    let worker = Worker::spawn(capture, Box::new(job));
    match watch.wait(&rx, deadline) {
        Waited::Done(result) => {
            worker.join();
            result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        }
        // The worker is stuck in the code under test: left behind, cancelled.
        Waited::Stalled(failure) => {
            worker.detach();
            Err(failure)
        }
        Waited::Vanished => {
            panic!("synckit::testing::explore: the search's worker thread vanished")
        }
    }
}

/// The search's worker thread: made with `pthread_create` where the output is captured (see
/// `capture`), a std thread otherwise.
enum Worker {
    Std(std::thread::JoinHandle<()>),
    #[cfg(target_os = "linux")]
    Raw(capture::RawThread),
}

impl Worker {
    fn spawn(capture: bool, job: Box<dyn FnOnce() + Send>) -> Worker {
        #[cfg(target_os = "linux")]
        let job = if capture {
            // A std thread would inherit the harness's output capture (see `capture`).
            match capture::spawn_raw(job) {
                Ok(raw) => return Worker::Raw(raw),
                Err(job) => job,
            }
        } else {
            job
        };
        #[cfg(not(target_os = "linux"))]
        let _ = capture;
        Worker::Std(
            std::thread::Builder::new()
                .name("synckit-explore".to_string())
                .spawn(job)
                .expect("synckit::testing::explore: failed to spawn its worker thread"),
        )
    }

    fn join(self) {
        match self {
            Worker::Std(handle) => {
                let _ = handle.join();
            }
            #[cfg(target_os = "linux")]
            Worker::Raw(raw) => raw.join(),
        }
    }

    fn detach(self) {
        match self {
            Worker::Std(_) => {}
            #[cfg(target_os = "linux")]
            Worker::Raw(raw) => raw.detach(),
        }
    }
}
