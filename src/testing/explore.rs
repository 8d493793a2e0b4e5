//! [`explore`]: run a test body under many controlled schedules, and shrink a failing one.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use proptest::prelude::*;

use crate::sched::Op;
use crate::sched::controlled::{
    Chooser, Controller, Decision, Fail, Label, Record, Rng, Step, StepKind,
};
use crate::detector::{Report, ReportKind};
use crate::thread::JoinHandle;
use crate::world::Outcome;

/// How [`explore`] picks schedules.
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
    mode: Mode,
    deadline: Duration,
    max_steps: usize,
    shrink: bool,
    max_shrink_runs: usize,
    time_limit: Option<Duration>,
    quiet: bool,
}

#[derive(Clone, Debug)]
enum Mode {
    Random {
        schedules: usize,
        seed: Option<u64>,
    },
    Exhaustive {
        bound: u32,
        /// Count every deviation from the default schedule (delay bounding), not only
        /// preemptions.
        delays: bool,
        max_schedules: Option<usize>,
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
            time_limit: None,
            quiet: true,
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
            max_schedules: None,
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
            max_schedules: None,
        })
    }

    /// Exactly one schedule, as printed by a [`Failure`].
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

    /// Stops an exhaustive search after `n` schedules ([`Stats::complete`] is then false).
    /// For a random search, the number of schedules.
    pub fn max_schedules(mut self, n: usize) -> Self {
        match &mut self.mode {
            Mode::Exhaustive { max_schedules, .. } => *max_schedules = Some(n),
            Mode::Random { schedules, .. } => *schedules = n,
            Mode::Replay(_) => {}
        }
        self
    }

    /// Stops the search (not a shrink in progress) once this much time has passed.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = Some(limit);
        self
    }

    /// The wall-clock deadline of one schedule's closed world (default 10 s): a thread that
    /// spins or blocks outside synckit makes the schedule fail as stalled.
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
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
    deviations: Vec<Deviation>,
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

    fn chooser(&self) -> Chooser {
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
    /// If the OS cannot create a thread.
    #[track_caller]
    pub fn spawn<F, T>(&self, name: &str, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        crate::thread::spawn_named(name, f)
    }
}

/// How a search went, when no schedule failed.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Stats {
    /// Schedules run.
    pub schedules: usize,
    /// For an exhaustive search: every schedule within the bound was run (not cut by
    /// [`Config::max_schedules`] or [`Config::time_limit`]).
    pub complete: bool,
    /// Wall-clock time of the search.
    pub elapsed: Duration,
    /// The base seed of a random search.
    pub seed: Option<u64>,
    /// The most preemptions any schedule had.
    pub max_preemptions: u32,
    /// Schedules whose replay did not follow its prefix: the body is not deterministic
    /// (it reads the clock, a random source, or synchronizes outside synckit). An
    /// exhaustive search with divergences may have missed schedules.
    pub diverged: usize,
}

impl Stats {
    /// Schedules per second.
    pub fn per_second(&self) -> f64 {
        self.schedules as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} schedules in {:.2?} ({:.0}/s), at most {} preemptions",
            self.schedules,
            self.elapsed,
            self.per_second(),
            self.max_preemptions
        )?;
        if self.complete {
            f.write_str(", the whole bounded space")?;
        }
        if let Some(seed) = self.seed {
            write!(f, ", seed {seed:#x}")?;
        }
        if self.diverged > 0 {
            write!(f, ", {} diverged (nondeterministic body)", self.diverged)?;
        }
        Ok(())
    }
}

/// What kind of failure a schedule hit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// A thread panicked: an assertion failed.
    Panic,
    /// A deadlock: found by the detector (a cycle of owned waits, a re-entrant acquire) or
    /// by the scheduler (no thread could run).
    Deadlock,
    /// The detector's lock-order check: locks taken in inconsistent orders.
    LockOrderInversion,
    /// The schedule took more steps than [`Config::max_steps`]: a livelock.
    StepLimit,
    /// The world's deadline passed: a thread blocked or spun outside synckit.
    Stalled,
}

/// A failing schedule, shrunk: what went wrong, the schedule as timeline lanes, and how to
/// replay it. `Display` (and `Debug`, so `unwrap()` shows it) gives the whole story.
#[derive(Clone)]
pub struct Failure(Box<FailureInner>);

#[derive(Clone)]
struct FailureInner {
    kind: FailureKind,
    message: String,
    thread: Option<String>,
    report: Option<Report>,
    schedule: Schedule,
    found_by: String,
    seed: Option<u64>,
    base_seed: Option<u64>,
    switches: u32,
    preemptions: u32,
    shrink: Option<(usize, u32, usize)>,
    lanes: String,
}

impl Failure {
    /// What kind of failure.
    pub fn kind(&self) -> FailureKind {
        self.0.kind
    }

    /// The panic message, or the report's headline.
    pub fn message(&self) -> &str {
        &self.0.message
    }

    /// The thread that panicked, for a panic.
    pub fn thread(&self) -> Option<&str> {
        self.0.thread.as_deref()
    }

    /// The detector's or the scheduler's report, for a deadlock, an inversion or a stall.
    pub fn report(&self) -> Option<&Report> {
        self.0.report.as_ref()
    }

    /// The (shrunk) failing schedule: `Config::replay(failure.schedule().clone())` runs it.
    pub fn schedule(&self) -> &Schedule {
        &self.0.schedule
    }

    /// The seed of the random schedule that failed first (before shrinking).
    pub fn seed(&self) -> Option<u64> {
        self.0.seed
    }

    /// Context switches in the shrunk schedule where the running thread could have gone on
    /// (preemptions and switches at yield points).
    pub fn context_switches(&self) -> u32 {
        self.0.switches
    }

    /// Preemptions in the shrunk schedule.
    pub fn preemptions(&self) -> u32 {
        self.0.preemptions
    }

    /// The shrunk schedule as timeline lanes: one column per thread, one row per step.
    pub fn lanes(&self) -> &str {
        &self.0.lanes
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.0.kind {
            FailureKind::Panic => "a thread panicked",
            FailureKind::Deadlock => "deadlock",
            FailureKind::LockOrderInversion => "lock-order inversion",
            FailureKind::StepLimit => "step limit (livelock?)",
            FailureKind::Stalled => "stalled",
        };
        writeln!(f, "synckit::testing::explore: a schedule failed: {what}")?;
        match (&self.0.report, &self.0.thread) {
            (Some(report), _) => {
                for line in report.to_string().lines() {
                    writeln!(f, "  | {line}")?;
                }
            }
            (None, Some(thread)) => {
                writeln!(f, "  thread `{thread}` panicked:")?;
                for line in self.0.message.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
            (None, None) => writeln!(f, "  {}", self.0.message)?,
        }
        writeln!(f, "  found by: {}", self.0.found_by)?;
        let kept = self.0.schedule.deviations.len();
        let now = format!(
            "{}, {}",
            plural(
                self.0.switches as usize,
                "context switch",
                "context switches"
            ),
            plural(self.0.preemptions as usize, "preemption", "preemptions")
        );
        match self.0.shrink {
            Some((from, from_switches, runs)) if from > kept => writeln!(
                f,
                "  shrunk ({}: delta debugging, then a search for fewer preemptions) from {} from the default schedule ({}) to {} ({now})",
                plural(runs, "replay", "replays"),
                plural(from, "deviation", "deviations"),
                plural(from_switches as usize, "context switch", "context switches"),
                kept,
            )?,
            Some((_, _, runs)) => writeln!(
                f,
                "  already minimal ({} to check): {} from the default schedule ({now})",
                plural(runs, "replay", "replays"),
                plural(kept, "deviation", "deviations"),
            )?,
            None => writeln!(
                f,
                "  {} from the default schedule ({now})",
                plural(kept, "deviation", "deviations")
            )?,
        }
        writeln!(f, "  the failing schedule, one column per thread:")?;
        writeln!(f)?;
        f.write_str(&self.0.lanes)?;
        writeln!(f)?;
        writeln!(
            f,
            "  replay it: synckit::testing::Config::replay(\"{}\".parse().unwrap())",
            self.0.schedule
        )?;
        if let (Some(seed), Some(base)) = (self.0.seed, self.0.base_seed) {
            writeln!(
                f,
                "  re-run the search: Config::random(..).seed({base:#x}) or SYNCKIT_SEED={base:#x}; this schedule alone: Config::random(1).seed({seed:#x})"
            )?;
        }
        Ok(())
    }
}

impl fmt::Debug for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for Failure {}

/// Runs `body` under many controlled schedules of its closed world and returns the first
/// failure, shrunk, or how the search went.
///
/// `body` runs once per schedule on the world's first thread (`main`); the threads it spawns
/// through [`thread::spawn_named`](crate::thread::spawn_named), [`Run::spawn`] or
/// [`thread::scope`](crate::thread::scope) belong to the run. Only one of them runs at a time,
/// and they switch only at synckit operations: acquire (and try/timed forms), release, wait,
/// notify, set/clear, barrier waits, spawn, join, and
/// [`thread::yield_point`](crate::thread::yield_point). The next thread comes from the
/// [`Config`]: random (seeded) or bounded-exhaustive (preemption bound).
///
/// A schedule fails when a thread panics (an assertion), the detector reports (a deadlock
/// cycle, a lock-order inversion, a re-entrant acquire), no thread can run while some are
/// blocked (a deadlock of that schedule), it exceeds [`Config::max_steps`], or its world's
/// deadline passes. The failing schedule is shrunk — delta debugging (ddmin) over its
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
/// If a schedule's world cannot start (a zero [`Config::deadline`]).
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
    let explorer = Explorer {
        config,
        body: Arc::new(body),
        runs: 0,
    };
    explorer.search()
}

type Body = Arc<dyn Fn(&Run) + Send + Sync>;

struct Explorer {
    config: Config,
    body: Body,
    runs: usize,
}

impl Explorer {
    fn run(&mut self, chooser: Chooser, seed: Option<u64>) -> Record {
        let index = self.runs;
        self.runs += 1;
        let ctl = Controller::new(chooser, self.config.max_steps);
        let world = crate::world::Config::default()
            .deadline(self.config.deadline)
            .timeline(0)
            .loud_panics(!self.config.quiet);
        let body = self.body.clone();
        let root = ctl.clone();
        let outcome =
            crate::world::check_with(world, move || root.run_root(|| body(&Run { index, seed })));
        if let Outcome::Stalled(report) = &outcome {
            ctl.fail(Fail::Stalled(Box::new(report.clone())));
        }
        if !ctl.finish(Duration::from_secs(5)) {
            ctl.abort();
            // Threads blocked outside synckit cannot be unwound: they are left parked.
            let _ = ctl.finish(Duration::from_secs(1));
        }
        let mut record = ctl.record();
        if record.failure.is_none() {
            record.failure = match outcome {
                Outcome::Ok(()) => None,
                Outcome::Deadlock(r) | Outcome::Stalled(r) => Some(Fail::Detector(Box::new(r))),
                Outcome::Panicked(p) => Some(Fail::Panic {
                    thread: p.thread,
                    message: p.message,
                    at: None,
                }),
            };
        }
        record
    }

    fn out_of_time(&self, start: Instant) -> bool {
        self.config.time_limit.is_some_and(|l| start.elapsed() >= l)
    }

    fn search(mut self) -> Result<Stats, Failure> {
        let start = Instant::now();
        let mut stats = Stats::new();
        match self.config.mode.clone() {
            Mode::Random { schedules, seed } => {
                let base = seed.or_else(env_seed).unwrap_or_else(fresh_seed);
                stats.seed = Some(base);
                let mut seeds = Rng::new(base);
                let mut seed = base;
                for i in 0..schedules {
                    let record = self.run(Chooser::Random(Rng::new(seed)), Some(seed));
                    stats.note(&record);
                    if record.failure.is_some() {
                        let found_by = format!(
                            "random schedule {} of {schedules} (seed {seed:#x}, from base seed {base:#x})",
                            i + 1
                        );
                        return Err(self.fail(record, found_by, Some((seed, base))));
                    }
                    if self.out_of_time(start) {
                        break;
                    }
                    seed = seeds.next_u64();
                }
                stats.complete = stats.schedules == schedules;
            }
            Mode::Exhaustive {
                bound,
                delays,
                max_schedules,
            } => {
                let time_limit = self.config.time_limit;
                let mut stop = |stats: &Stats| {
                    max_schedules.is_some_and(|m| stats.schedules >= m)
                        || time_limit.is_some_and(|l| start.elapsed() >= l)
                };
                match self.dfs(bound, delays, &mut stats, &mut stop) {
                    Dfs::Failed(record) => {
                        let what = if delays { "delay" } else { "preemption" };
                        let found_by = format!(
                            "schedule {} of a bounded-exhaustive search ({what} bound {bound})",
                            stats.schedules
                        );
                        return Err(self.fail(*record, found_by, None));
                    }
                    Dfs::Complete => stats.complete = true,
                    Dfs::Stopped => {}
                }
            }
            Mode::Replay(schedule) => {
                let record = self.run(schedule.chooser(), None);
                stats.note(&record);
                if record.failure.is_some() {
                    return Err(self.fail(record, "the replayed schedule".to_string(), None));
                }
                stats.complete = true;
            }
        }
        stats.elapsed = start.elapsed();
        Ok(stats)
    }

    /// Depth-first search of every schedule within `bound` (preemptions, or deviations from
    /// the default schedule with `delays`), re-running the body once per schedule: each run
    /// replays the prefix of choices of the one before, takes the next untried choice at the
    /// deepest place that has one, and the default schedule after it.
    fn dfs(
        &mut self,
        bound: u32,
        delays: bool,
        stats: &mut Stats,
        stop: &mut dyn FnMut(&Stats) -> bool,
    ) -> Dfs {
        struct Node {
            d: Decision,
            tried: Vec<usize>,
            /// The bound's cost of the choices above this one.
            before: u32,
        }
        let cost = |d: &Decision, t: usize| {
            if delays {
                u32::from(t != d.default)
            } else {
                d.cost(t)
            }
        };
        let mut stack: Vec<Node> = Vec::new();
        let mut prefix: Vec<usize> = Vec::new();
        loop {
            let record = self.run(Chooser::Prefix(prefix.clone()), None);
            stats.note(&record);
            if record.failure.is_some() {
                return Dfs::Failed(Box::new(record));
            }
            stack.truncate(prefix.len());
            for d in record.decisions.into_iter().skip(prefix.len()) {
                let before = stack
                    .last()
                    .map_or(0, |n| n.before + cost(&n.d, n.d.chosen));
                stack.push(Node {
                    tried: vec![d.chosen],
                    d,
                    before,
                });
            }
            // Backtrack to the deepest choice with an untried thread within the bound.
            prefix = loop {
                let Some(node) = stack.last_mut() else {
                    return Dfs::Complete;
                };
                let alt =
                    node.d.runnable.iter().copied().find(|&t| {
                        !node.tried.contains(&t) && node.before + cost(&node.d, t) <= bound
                    });
                if let Some(t) = alt {
                    node.tried.push(t);
                    node.d.chosen = t;
                    break stack.iter().map(|n| n.d.chosen).collect();
                }
                stack.pop();
            };
            if stop(stats) {
                return Dfs::Stopped;
            }
        }
    }

    /// Shrinks a failing run and describes it: ddmin over its deviations, then a search for
    /// a failing schedule with fewer preemptions (every schedule with 0, then 1, ... fewer
    /// than the shrunk one has, within the replay budget), shrunk in turn.
    fn fail(&mut self, record: Record, found_by: String, seeds: Option<(u64, u64)>) -> Failure {
        let original = deviations(&record.decisions);
        let (from, from_switches) = (original.len(), record.switches);
        if !self.config.shrink {
            return describe(record, Schedule::new(original), found_by, seeds, None);
        }
        let mut budget = self.config.max_shrink_runs;
        let (mut best, mut kept) = self.ddmin(record, original, &mut budget);
        let mut bound = 0;
        while bound < best.preemptions && budget > 0 {
            let mut scratch = Stats::new();
            let mut left = budget;
            let mut stop = |s: &Stats| s.schedules >= left;
            let outcome = self.dfs(bound, false, &mut scratch, &mut stop);
            left = left.saturating_sub(scratch.schedules);
            budget = left;
            match outcome {
                Dfs::Failed(found) => {
                    let devs = deviations(&found.decisions);
                    let (r, k) = self.ddmin(*found, devs, &mut budget);
                    if (r.preemptions, k.len()) < (best.preemptions, kept.len()) {
                        (best, kept) = (r, k);
                    }
                    break;
                }
                Dfs::Complete => bound += 1,
                Dfs::Stopped => break,
            }
        }
        let runs = self.config.max_shrink_runs - budget;
        describe(
            best,
            Schedule::new(kept),
            found_by,
            seeds,
            Some((from, from_switches, runs)),
        )
    }

    fn try_schedule(&mut self, devs: &[Deviation], budget: &mut usize) -> Option<Record> {
        if *budget == 0 {
            return None;
        }
        *budget -= 1;
        let record = self.run(Schedule::new(devs.to_vec()).chooser(), None);
        record.failure.is_some().then_some(record)
    }

    /// Delta debugging (Zeller's ddmin) over the deviations: the result still fails, and
    /// removing any one of its deviations makes it pass (within the replay budget).
    fn ddmin(
        &mut self,
        mut failing: Record,
        mut devs: Vec<Deviation>,
        budget: &mut usize,
    ) -> (Record, Vec<Deviation>) {
        if !devs.is_empty()
            && let Some(r) = self.try_schedule(&[], budget)
        {
            return (r, Vec::new());
        }
        let mut n = 2usize;
        while devs.len() >= 2 && *budget > 0 {
            let chunk = devs.len().div_ceil(n);
            let parts: Vec<Vec<Deviation>> = devs.chunks(chunk).map(<[_]>::to_vec).collect();
            let mut reduced = false;
            for (i, part) in parts.iter().enumerate() {
                if let Some(r) = self.try_schedule(part, budget) {
                    (failing, devs, n, reduced) = (r, part.clone(), 2, true);
                    break;
                }
                if parts.len() > 2 {
                    let rest: Vec<Deviation> = parts
                        .iter()
                        .enumerate()
                        .filter(|&(j, _)| j != i)
                        .flat_map(|(_, p)| p.iter().copied())
                        .collect();
                    if let Some(r) = self.try_schedule(&rest, budget) {
                        (failing, devs, n, reduced) = (r, rest, (n - 1).max(2), true);
                        break;
                    }
                }
            }
            if !reduced {
                if n >= devs.len() {
                    break;
                }
                n = (n * 2).min(devs.len());
            }
        }
        // The replay of the kept deviations may itself deviate less: keep what it really did.
        let really = deviations(&failing.decisions);
        if really.len() < devs.len() {
            devs = really;
        }
        (failing, devs)
    }
}

/// How a depth-first search ended.
enum Dfs {
    Failed(Box<Record>),
    Complete,
    Stopped,
}

impl Stats {
    fn new() -> Self {
        Stats {
            schedules: 0,
            complete: false,
            elapsed: Duration::ZERO,
            seed: None,
            max_preemptions: 0,
            diverged: 0,
        }
    }

    fn note(&mut self, r: &Record) {
        self.schedules += 1;
        self.max_preemptions = self.max_preemptions.max(r.preemptions);
        self.diverged += usize::from(r.diverged);
    }
}

/// Where a run left the default schedule.
fn deviations(decisions: &[Decision]) -> Vec<Deviation> {
    decisions
        .iter()
        .filter(|d| d.chosen != d.default)
        .map(|d| Deviation {
            thread: d.me,
            decision: d.nth,
            to: d.chosen,
        })
        .collect()
}

fn describe(
    record: Record,
    schedule: Schedule,
    found_by: String,
    seeds: Option<(u64, u64)>,
    shrink: Option<(usize, u32, usize)>,
) -> Failure {
    let (kind, message, thread, report) = match record.failure.clone() {
        Some(Fail::Panic {
            thread,
            message,
            at,
        }) => {
            let message = match at {
                Some(at) => format!("{message}\n(at {at})"),
                None => message,
            };
            (FailureKind::Panic, message, Some(thread), None)
        }
        Some(Fail::Detector(r)) | Some(Fail::Deadlock(r)) => {
            let kind = match r.kind() {
                ReportKind::LockOrderInversion => FailureKind::LockOrderInversion,
                ReportKind::Stall => FailureKind::Stalled,
                _ => FailureKind::Deadlock,
            };
            (kind, r.headline().to_string(), None, Some(*r))
        }
        Some(Fail::Stalled(r)) => (
            FailureKind::Stalled,
            r.headline().to_string(),
            None,
            Some(*r),
        ),
        Some(Fail::StepLimit(max)) => (
            FailureKind::StepLimit,
            format!(
                "the schedule took more than {max} scheduling steps: a livelock (threads that \
                 spin without making progress), or raise Config::max_steps"
            ),
            None,
            None,
        ),
        None => (FailureKind::Panic, "(no failure)".into(), None, None),
    };
    Failure(Box::new(FailureInner {
        kind,
        message,
        thread,
        report,
        schedule,
        found_by,
        seed: seeds.map(|s| s.0),
        base_seed: seeds.map(|s| s.1),
        switches: record.switches,
        preemptions: record.preemptions,
        shrink,
        lanes: lanes(&record.trace, &record.names),
    }))
}

fn step_text(step: &Step, names: &[String]) -> String {
    let what = match step.label {
        Label::Res(info) => format!(" `{}`", info.display_name()),
        Label::Thread(t) => format!(" `{}`", names.get(t).map_or("?", String::as_str)),
        Label::None => String::new(),
    };
    match step.kind {
        StepKind::Op(op) => {
            let verb = match op {
                Op::Acquire => "acquire",
                Op::TryAcquire => "try_acquire",
                Op::Release => "release",
                Op::Wait => "wait",
                Op::Notify => "notify",
                Op::Set => "set",
                Op::Clear => "clear",
                Op::Arrive => "wait",
                Op::Reset => "reset",
                Op::Abort => "abort",
                Op::Spawn => "spawn",
                Op::Join => "join",
                Op::Yield => "yield_point",
            };
            format!("{verb}{what}")
        }
        StepKind::Blocked if what.is_empty() => "  .. blocked (scope end)".to_string(),
        StepKind::Blocked => format!("  .. blocked on{what}"),
        StepKind::TimedOut => "  .. timed out".to_string(),
        StepKind::Preempted { yielded: false } => "~~ preempted ~~".to_string(),
        StepKind::Preempted { yielded: true } => "~~ lets others run ~~".to_string(),
        StepKind::Exit => "exit".to_string(),
        StepKind::Panicked => "!! panicked".to_string(),
    }
}

/// The trace as lanes: one column per thread, one row per step.
fn lanes(trace: &[Step], names: &[String]) -> String {
    const MAX_ROWS: usize = 400;
    let mut columns: Vec<usize> = trace.iter().map(|s| s.thread).collect();
    columns.sort_unstable();
    columns.dedup();
    let texts: Vec<String> = trace.iter().map(|s| step_text(s, names)).collect();
    let width = texts
        .iter()
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(10, 30)
        + 2;
    let mut out = String::new();
    let _ = write!(out, "  {:>5}  ", "step");
    let mut header = String::new();
    for &c in &columns {
        let name = names.get(c).map_or("?", String::as_str);
        let _ = write!(
            header,
            "{:<width$}",
            truncate(&format!("{name} ({c})"), width - 1)
        );
    }
    out.push_str(header.trim_end());
    out.push('\n');
    let skip = trace.len().saturating_sub(MAX_ROWS);
    if skip > 0 {
        let _ = writeln!(out, "  {:>5}  ... {skip} earlier steps", "");
    }
    for (i, (step, text)) in trace.iter().zip(&texts).enumerate().skip(skip) {
        let col = columns.iter().position(|&c| c == step.thread).unwrap_or(0);
        let _ = writeln!(
            out,
            "  {:>5}  {}{}",
            i + 1,
            " ".repeat(col * width),
            truncate(text, width - 1)
        );
    }
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

fn env_seed() -> Option<u64> {
    let v = std::env::var("SYNCKIT_SEED").ok()?;
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let local = 0u8;
    Rng::new(nanos ^ (&local as *const u8 as u64).rotate_left(32)).next_u64()
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

    #[test]
    fn seeds_parse_in_decimal_and_hex() {
        // Only the parser: the environment is shared with other tests.
        assert_eq!(u64::from_str_radix("5eed", 16), Ok(0x5eed));
        assert_ne!(fresh_seed(), fresh_seed());
    }

    #[test]
    fn lanes_put_each_thread_in_its_column() {
        let names = vec!["main".to_string(), "worker".to_string()];
        let trace = vec![
            Step {
                thread: 0,
                kind: StepKind::Op(Op::Spawn),
                label: Label::Thread(1),
            },
            Step {
                thread: 0,
                kind: StepKind::Preempted { yielded: false },
                label: Label::None,
            },
            Step {
                thread: 1,
                kind: StepKind::Exit,
                label: Label::None,
            },
        ];
        let text = lanes(&trace, &names);
        let rows: Vec<&str> = text.lines().collect();
        assert!(rows[0].contains("main (0)") && rows[0].contains("worker (1)"));
        assert!(rows[1].contains("spawn `worker`"));
        assert!(rows[2].contains("preempted"));
        let exit_col = rows[3].find("exit").unwrap();
        assert!(exit_col > rows[1].find("spawn").unwrap());
    }
}
