//! How [`explore`](super::explore) picks schedules: [`Config`] and its modes, and the
//! schedule itself ([`Schedule`], [`Deviation`]), printed, parsed and generated.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use proptest::prelude::*;

use crate::sched::controlled::Chooser;

/// The default size of a simulated thread's stack: as a spawned std thread's, since the code
/// under test was written for one (and a report resolves its backtrace on it). Mapped once
/// per search and reused; only the pages a thread touches are ever committed.
const DEFAULT_STACK: usize = 2 << 20;

/// How long a search may run by default ([`Config::time_limit`]).
const DEFAULT_TIME_LIMIT: Duration = Duration::from_secs(5);

/// How many schedules an exhaustive search may run by default ([`Config::max_schedules`]).
const DEFAULT_SCHEDULES: usize = 100_000;

/// How [`explore`](super::explore) picks schedules.
///
/// # Examples
///
/// ```
/// use synckit::testing::Config;
/// use std::time::Duration;
///
/// let random = Config::random(200).seed(0x5eed);
/// let exhaustive = Config::exhaustive(2).max_schedules(50_000).time_limit(Duration::from_secs(20));
/// let replay = Config::replay("0.2>1".parse().unwrap());
/// # let _ = (random, exhaustive, replay);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    pub(super) mode: Mode,
    pub(super) deadline: Duration,
    pub(super) max_steps: usize,
    pub(super) shrink: bool,
    pub(super) max_shrink_runs: usize,
    pub(super) time_limit: Duration,
    pub(super) quiet: bool,
    pub(super) stack_size: usize,
    pub(super) reduction: bool,
    pub(super) capture_output: bool,
}

#[derive(Clone, Debug)]
pub(super) enum Mode {
    Random {
        schedules: usize,
        seed: Option<u64>,
    },
    Exhaustive {
        bound: u32,
        /// Count every deviation from the default schedule (delay bounding), not only
        /// preemptions.
        delays: bool,
        max_schedules: usize,
    },
    Replay(Schedule),
}

impl Default for Config {
    /// 100 random schedules.
    fn default() -> Self {
        Config::random(100)
    }
}

impl Config {
    fn with_mode(mode: Mode) -> Self {
        Config {
            mode,
            deadline: Duration::from_secs(10),
            max_steps: 20_000,
            shrink: true,
            max_shrink_runs: 500,
            time_limit: DEFAULT_TIME_LIMIT,
            quiet: true,
            stack_size: DEFAULT_STACK,
            reduction: true,
            capture_output: true,
        }
    }

    /// `schedules` random schedules: wherever more than one thread could run, the next one
    /// is drawn uniformly. The seed is [`seed`](Config::seed), else `SYNCKIT_SEED` (decimal
    /// or `0x` hex), else fresh; a failure prints it.
    pub fn random(schedules: usize) -> Self {
        Config::with_mode(Mode::Random {
            schedules,
            seed: None,
        })
    }

    /// Every schedule with at most `preemption_bound` preemptions (CHESS's bound; loom's
    /// `preemption_bound`): a depth-first search that re-runs the body once per schedule.
    /// A preemption is a switch away from a thread that could have gone on; switches forced
    /// by a block or an exit are free, and so are switches at a
    /// [`yield_point`](crate::thread::yield_point) (where staying costs one instead).
    ///
    /// Free forced switches make the space large when many threads block often (every
    /// blocking point branches over every runnable thread); [`delay_bounded`] bounds those too.
    ///
    /// [`delay_bounded`]: Config::delay_bounded
    pub fn exhaustive(preemption_bound: u32) -> Self {
        Config::with_mode(Mode::Exhaustive {
            bound: preemption_bound,
            delays: false,
            max_schedules: DEFAULT_SCHEDULES,
        })
    }

    /// Every schedule that deviates from the default schedule at most `delay_bound` times
    /// (delay bounding, Emmi, Qadeer and Rakamarić, POPL 2011): each choice other than the
    /// default one costs one, forced switches included. The space grows polynomially with
    /// the length of a run (about `choices^delay_bound`), so it stays small where a
    /// preemption bound does not; most concurrency bugs need only one or two deviations.
    pub fn delay_bounded(delay_bound: u32) -> Self {
        Config::with_mode(Mode::Exhaustive {
            bound: delay_bound,
            delays: true,
            max_schedules: DEFAULT_SCHEDULES,
        })
    }

    /// Exactly one schedule, as printed by a [`Failure`](super::Failure).
    pub fn replay(schedule: Schedule) -> Self {
        Config::with_mode(Mode::Replay(schedule))
    }

    /// The seed of a random search (the first schedule uses exactly this seed).
    pub fn seed(mut self, seed: u64) -> Self {
        if let Mode::Random { seed: s, .. } = &mut self.mode {
            *s = Some(seed);
        }
        self
    }

    /// Stops an exhaustive search after `n` schedules (default 100,000;
    /// [`Stats::complete`](super::Stats::complete) is then false and
    /// [`Stats::stopped`](super::Stats::stopped) says why). For a random search, the number of
    /// schedules. `usize::MAX` lifts the budget.
    pub fn max_schedules(mut self, n: usize) -> Self {
        match &mut self.mode {
            Mode::Exhaustive { max_schedules, .. } => *max_schedules = n,
            Mode::Random { schedules, .. } => *schedules = n,
            Mode::Replay(_) => {}
        }
        self
    }

    /// Stops the search (not a shrink in progress) once this much time has passed
    /// (default 5 s: every search is bounded; [`Stats`](super::Stats) then says it stopped
    /// at the budget, not a proof). `Duration::MAX` lifts the limit.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// The wall-clock deadline of one schedule (default 10 s). A schedule's threads run one
    /// at a time on one OS thread, and a thread that blocks or spins outside synckit (a std
    /// lock, a channel, a busy loop with no synckit operation) cannot be switched away from:
    /// a watchdog on the caller's thread then fails the schedule as stalled once this much
    /// time passed without it finishing (the stuck OS thread is left behind).
    ///
    /// # Panics
    ///
    /// [`explore`](super::explore) panics on a zero deadline.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// Whether a bounded-exhaustive search uses its partial-order reduction (default: yes).
    ///
    /// Two steps of different threads on different primitives (an acquire of one lock and a
    /// notify of another condition, say) lead to the same state in either order, so the
    /// search tries one order only (sleep sets, Godefroid 1996). It assumes what the explorer
    /// assumes anyway, that code between two synckit operations does not race with other
    /// threads' code (put a [`yield_point`](crate::thread::yield_point) where it does: a
    /// yield, like a spawn or a join, commutes with nothing). Combined with a preemption or
    /// delay bound, the reduction can in rare cases drop a schedule within the bound whose
    /// equivalent costs more than the bound; turn it off to compare.
    pub fn reduction(mut self, on: bool) -> Self {
        self.reduction = on;
        self
    }

    /// Whether the program's own output is captured (default: yes, on Linux): thrown away
    /// while searching, and what the replay of the failing schedule printed shown by the
    /// [`Failure`](super::Failure) ([`Failure::output`](super::Failure::output)), so that a
    /// chatty body prints one schedule's output, not every schedule's. The search then runs
    /// on a thread of its own with a private copy of the process's file descriptors (fds 1
    /// and 2 redirected there only); `false` runs it on a plain thread whose output goes where
    /// the process's goes (under `cargo test`, into the test's captured output). Elsewhere
    /// than Linux, or where the kernel refuses, output is not captured.
    pub fn capture_output(mut self, capture: bool) -> Self {
        self.capture_output = capture;
        self
    }

    /// The stack size of each simulated thread (default 2 MiB, as a std thread's). Stacks
    /// are reused across schedules; raise it for deep recursion in the code under test.
    pub fn stack_size(mut self, bytes: usize) -> Self {
        self.stack_size = bytes.max(64 << 10);
        self
    }

    /// Scheduling steps one schedule may take before it fails as a livelock (default 20 000).
    pub fn max_steps(mut self, steps: usize) -> Self {
        self.max_steps = steps;
        self
    }

    /// Whether a failing schedule is shrunk (default: yes).
    pub fn shrink(mut self, shrink: bool) -> Self {
        self.shrink = shrink;
        self
    }

    /// How many replays a shrink may take (default 500).
    pub fn max_shrink_runs(mut self, runs: usize) -> Self {
        self.max_shrink_runs = runs;
        self
    }

    /// Whether panics in controlled threads stay off stderr (default: yes; the failure
    /// shows the one that matters). Set through a panic hook that `explore` installs once
    /// and that hands every other panic to the hook that was there before.
    pub fn quiet(mut self, quiet: bool) -> Self {
        self.quiet = quiet;
        self
    }
}

/// One deviation from the default schedule: at `thread`'s `decision`-th choice point, run
/// thread `to` instead of the default. Threads are numbered in spawn order, `0` being the
/// body's own thread (`main`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Deviation {
    /// The thread holding the baton at the choice point.
    pub thread: usize,
    /// Which of its choice points (0-based; only points where more than one thread could
    /// run count).
    pub decision: u32,
    /// The thread that runs next.
    pub to: usize,
}

/// A schedule: the default one (each thread runs until it blocks, finishes or reaches a
/// [`yield_point`](crate::thread::yield_point); then the next thread in spawn order) plus a
/// few [`Deviation`]s. Written `thread.decision>to`, space separated; `-` is the default.
///
/// # Examples
///
/// ```
/// use synckit::testing::Schedule;
///
/// let s: Schedule = "0.2>1 1.0>0".parse().unwrap();
/// assert_eq!(s.deviations().len(), 2);
/// assert_eq!(s.to_string(), "0.2>1 1.0>0");
/// assert_eq!("-".parse::<Schedule>().unwrap(), Schedule::default());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    pub(super) deviations: Vec<Deviation>,
}

impl Schedule {
    /// A schedule from its deviations.
    pub fn new(deviations: Vec<Deviation>) -> Self {
        Schedule { deviations }
    }

    /// The deviations from the default schedule.
    pub fn deviations(&self) -> &[Deviation] {
        &self.deviations
    }

    pub(super) fn chooser(&self) -> Chooser {
        Chooser::Deviations(
            self.deviations
                .iter()
                .map(|d| ((d.thread, d.decision), d.to))
                .collect::<HashMap<_, _>>(),
        )
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.deviations.is_empty() {
            return f.write_str("-");
        }
        for (i, d) in self.deviations.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{}.{}>{}", d.thread, d.decision, d.to)?;
        }
        Ok(())
    }
}

/// A schedule string that does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseScheduleError(String);

impl fmt::Display for ParseScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a deviation: expected `thread.decision>to`, e.g. `0.2>1`",
            self.0
        )
    }
}

impl std::error::Error for ParseScheduleError {}

impl FromStr for Schedule {
    type Err = ParseScheduleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut deviations = Vec::new();
        for part in s.split(|c: char| c.is_whitespace() || c == ',') {
            if part.is_empty() || part == "-" {
                continue;
            }
            let bad = || ParseScheduleError(part.to_string());
            let (at, to) = part.split_once('>').ok_or_else(bad)?;
            let (thread, decision) = at.split_once('.').ok_or_else(bad)?;
            deviations.push(Deviation {
                thread: thread.trim().parse().map_err(|_| bad())?,
                decision: decision.trim().parse().map_err(|_| bad())?,
                to: to.trim().parse().map_err(|_| bad())?,
            });
        }
        Ok(Schedule { deviations })
    }
}

/// A proptest strategy for schedules of up to `threads` threads, with up to `max_len`
/// deviations among each thread's first `decisions` choice points; proptest shrinks a
/// failing one by dropping deviations. Run one with [`Config::replay`].
///
/// # Examples
///
/// ```
/// use proptest::prelude::*;
/// use synckit::testing::{self, Config};
///
/// proptest!(ProptestConfig::with_cases(8), |(s in testing::schedules(3, 16, 4))| {
///     let stats = testing::explore(Config::replay(s).shrink(false), |_| {
///         let t = synckit::thread::spawn_named("t", || 1);
///         assert_eq!(t.join().unwrap(), 1);
///     });
///     prop_assert!(stats.is_ok());
/// });
/// ```
pub fn schedules(
    threads: usize,
    decisions: u32,
    max_len: usize,
) -> impl Strategy<Value = Schedule> {
    let threads = threads.max(1);
    prop::collection::vec(
        (0..threads, 0..decisions.max(1), 0..threads).prop_map(|(thread, decision, to)| {
            Deviation {
                thread,
                decision,
                to,
            }
        }),
        0..=max_len,
    )
    .prop_map(Schedule::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedules_print_and_parse_back() {
        let s = Schedule::new(vec![
            Deviation {
                thread: 0,
                decision: 3,
                to: 2,
            },
            Deviation {
                thread: 2,
                decision: 0,
                to: 1,
            },
        ]);
        assert_eq!(s.to_string(), "0.3>2 2.0>1");
        assert_eq!(s.to_string().parse::<Schedule>(), Ok(s));
        assert_eq!(
            "0.3>2,2.0>1"
                .parse::<Schedule>()
                .unwrap()
                .deviations()
                .len(),
            2
        );
        assert!("0.3".parse::<Schedule>().is_err());
        assert_eq!(Schedule::default().to_string(), "-");
    }
}
