//! What a search reports: [`Stats`] when every schedule passed, a [`Failure`] (its kind, the
//! report, the shrunk schedule as timeline lanes and how to replay it) when one did not.

use std::fmt;
use std::time::Duration;

use super::config::Schedule;
use crate::detector::report::lanes;
use crate::detector::{Report, ReportKind};
use crate::sched::controlled::{Fail, Record, Step};

/// How a search went, when no schedule failed. `Display` says plainly what it proves:
/// `complete: every schedule within delay bound 2 ...`, or `stopped at the budget after N
/// schedules ...: not a proof`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Stats {
    /// Schedules run.
    pub schedules: usize,
    /// Every schedule asked for was run: for an exhaustive search, every schedule within
    /// the bound; for a random one, as many as asked. False when the search stopped at its
    /// budget ([`stopped`](Stats::stopped)).
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
    /// What stopped the search before it was complete: the time limit or the schedule
    /// budget ([`Config::time_limit`](super::Config::time_limit),
    /// [`Config::max_schedules`](super::Config::max_schedules); both have defaults).
    pub stopped: Option<Budget>,
    /// Which search it was, for `Display`.
    pub(super) search: Search,
}

/// A budget that stopped a search ([`Stats::stopped`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Budget {
    /// The search's time limit.
    Time(Duration),
    /// The search's schedule budget.
    Schedules(usize),
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::Time(limit) => write!(f, "time limit {limit:?}; Config::time_limit"),
            Budget::Schedules(n) => write!(f, "{n} schedules; Config::max_schedules"),
        }
    }
}

/// Which search a [`Stats`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Search {
    Random,
    Exhaustive {
        bound: u32,
        delays: bool,
    },
    Replay,
    /// Several searches added up (`explore_semaphore`'s scenarios).
    Several,
}

impl Stats {
    /// Schedules per second.
    pub fn per_second(&self) -> f64 {
        self.schedules as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Two searches' stats as one (complete only if both were).
    pub(crate) fn and(self, other: Stats) -> Stats {
        Stats {
            schedules: self.schedules + other.schedules,
            complete: self.complete && other.complete,
            elapsed: self.elapsed + other.elapsed,
            seed: self.seed.or(other.seed),
            max_preemptions: self.max_preemptions.max(other.max_preemptions),
            diverged: self.diverged + other.diverged,
            stopped: self.stopped.or(other.stopped),
            search: if self.search == other.search {
                self.search
            } else {
                Search::Several
            },
        }
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let run = format!(
            "{} schedules in {:.2?} ({:.0}/s, at most {})",
            self.schedules,
            self.elapsed,
            self.per_second(),
            plural(self.max_preemptions as usize, "preemption", "preemptions")
        );
        match (self.stopped, self.complete, self.search) {
            (Some(budget), _, _) => write!(
                f,
                "stopped at the budget ({budget}) after {run}: not a proof, the schedules not \
                 run may still fail"
            )?,
            (None, true, Search::Exhaustive { bound, delays }) => {
                let what = if delays { "delay" } else { "preemption" };
                write!(
                    f,
                    "complete: every schedule within {what} bound {bound} passed, {run}"
                )?
            }
            (None, true, Search::Several) => {
                write!(f, "complete: every schedule of every search passed, {run}")?
            }
            (None, _, Search::Replay) => write!(f, "the replayed schedule passed, {run}")?,
            (None, _, _) => write!(
                f,
                "{run} passed: a random sample of the schedules, not a proof"
            )?,
        }
        if let Some(seed) = self.seed {
            write!(f, ", seed {seed:#x}")?;
        }
        if self.diverged > 0 {
            write!(
                f,
                ", {} diverged (a nondeterministic body: schedules may have been missed)",
                self.diverged
            )?;
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
    /// The schedule took more steps than [`Config::max_steps`](super::Config::max_steps): a
    /// livelock.
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
    /// Where a panic happened (`file:line:col`).
    location: Option<String>,
    thread: Option<String>,
    report: Option<Report>,
    schedule: Schedule,
    found_by: String,
    seed: Option<u64>,
    base_seed: Option<u64>,
    switches: u32,
    preemptions: u32,
    shrink: Option<Shrunk>,
    lanes: String,
    output: String,
}

/// How a shrink went.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shrunk {
    /// Deviations of the schedule as found.
    pub from: usize,
    /// Its context switches.
    pub from_switches: u32,
    /// Replays the shrink took.
    pub runs: usize,
    /// It ran out of replays before it had tried every smaller candidate.
    pub exhausted: bool,
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

    /// Where the thread panicked (`file:line:col`), for a panic whose location is known.
    pub fn location(&self) -> Option<&str> {
        self.0.location.as_deref()
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

    /// What the program wrote to stdout and stderr under the failing schedule (its replay),
    /// where the output was captured ([`Config::capture_output`](super::Config::capture_output));
    /// empty otherwise.
    pub fn output(&self) -> &str {
        &self.0.output
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
                if let Some(at) = &self.0.location {
                    writeln!(f, "    (at {at})")?;
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
        let kept_text = plural(kept, "deviation", "deviations");
        match self.0.shrink {
            Some(sh) if sh.from > kept => {
                let budget = if sh.exhausted {
                    ", the whole shrink budget: a smaller schedule may exist (Config::max_shrink_runs)"
                } else {
                    ""
                };
                writeln!(
                    f,
                    "  shrunk ({}{budget}: delta debugging, then a search for fewer preemptions) from {} from the default schedule ({}) to {kept} ({now})",
                    plural(sh.runs, "replay", "replays"),
                    plural(sh.from, "deviation", "deviations"),
                    plural(
                        sh.from_switches as usize,
                        "context switch",
                        "context switches"
                    ),
                )?
            }
            Some(sh) if sh.exhausted => writeln!(
                f,
                "  not shrunk: the shrink budget ran out after {} before a smaller failing schedule was found (it may exist; raise Config::max_shrink_runs): {kept_text} from the default schedule ({now})",
                plural(sh.runs, "replay", "replays"),
            )?,
            Some(sh) => writeln!(
                f,
                "  already minimal ({} to check): {kept_text} from the default schedule ({now})",
                plural(sh.runs, "replay", "replays"),
            )?,
            None => writeln!(f, "  {kept_text} from the default schedule ({now})")?,
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
        if !self.0.output.is_empty() {
            const SHOWN: usize = 40;
            let lines: Vec<&str> = self.0.output.lines().collect();
            let skip = lines.len().saturating_sub(SHOWN);
            if skip > 0 {
                writeln!(
                    f,
                    "  what the program printed under this schedule (the last {SHOWN} of {} lines; all of it: Failure::output):",
                    lines.len()
                )?;
            } else {
                writeln!(f, "  what the program printed under this schedule:")?;
            }
            for line in &lines[skip..] {
                writeln!(f, "  > {line}")?;
            }
        }
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

pub(super) fn describe(
    record: Record,
    schedule: Schedule,
    found_by: String,
    seeds: Option<(u64, u64)>,
    shrink: Option<Shrunk>,
) -> Failure {
    let mut location = None;
    let (kind, message, thread, report) = match record.failure.clone() {
        Some(Fail::Panic {
            thread,
            message,
            at,
        }) => {
            location = at;
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
        location,
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
        output: String::from_utf8_lossy(&record.output).into_owned(),
    }))
}

/// The trace as lanes: one column per thread, one row per step (the last 400).
fn lanes(trace: &[Step], names: &[String]) -> String {
    const MAX_ROWS: usize = 400;
    let mut columns: Vec<usize> = trace.iter().map(|s| s.thread).collect();
    columns.sort_unstable();
    columns.dedup();
    let titles: Vec<String> = columns
        .iter()
        .map(|&c| format!("{} ({c})", names.get(c).map_or("?", String::as_str)))
        .collect();
    let skip = trace.len().saturating_sub(MAX_ROWS);
    let rows: Vec<lanes::Row> = trace
        .iter()
        .enumerate()
        .skip(skip)
        .map(|(i, step)| lanes::Row {
            label: (i + 1).to_string(),
            column: columns.iter().position(|&c| c == step.thread).unwrap_or(0),
            text: step.to_report(names).describe(),
        })
        .collect();
    lanes::render("step", &titles, &rows, skip)
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::Op;
    use crate::sched::controlled::{Label, StepKind};

    fn stats(max_preemptions: u32, stopped: Option<Budget>) -> Stats {
        Stats {
            schedules: 4,
            complete: stopped.is_none(),
            elapsed: Duration::from_millis(2),
            seed: None,
            max_preemptions,
            diverged: 0,
            stopped,
            search: Search::Exhaustive {
                bound: 1,
                delays: false,
            },
        }
    }

    #[test]
    fn stats_say_what_they_cover_in_plain_words() {
        let done = stats(1, None).to_string();
        assert!(
            done.starts_with("complete: every schedule within preemption bound 1 passed, 4 schedules in 2.00ms (2000/s, at most 1 preemption)"),
            "{done}"
        );
        let cut = stats(2, Some(Budget::Time(Duration::from_secs(5)))).to_string();
        assert!(cut.starts_with("stopped at the budget ("), "{cut}");
        assert!(cut.contains("at most 2 preemptions)"), "{cut}");
        assert!(
            cut.ends_with("not a proof, the schedules not run may still fail"),
            "{cut}"
        );
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
