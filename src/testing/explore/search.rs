//! The search: one schedule's run (its threads as coroutines on the explorer's OS thread),
//! and the strategies that pick the schedules (random, bounded-exhaustive depth-first,
//! replay).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::capture::Capture;
use super::config::{Config, Mode, Schedule};
use super::failure::{Budget, Search, Stats};
use super::watch::Watch;
use super::{Failure, Run};
use crate::detector::observer::Observer;
use crate::detector::registry::register_thread;
use crate::sched::Job;
use crate::sched::controlled::{
    Chooser, Controller, Decision, Footprint, Record, Rng, StackPool, run_schedule,
};

type Body = Arc<dyn Fn(&Run) + Send + Sync>;

pub(super) struct Explorer {
    pub(super) config: Config,
    pub(super) body: Body,
    pub(super) runs: usize,
    pool: StackPool,
    watch: Arc<Watch>,
    /// The explorer's OS thread can no longer drive a run (a teardown abandoned threads that
    /// waited for each other while unwinding): each later schedule runs on a fresh thread.
    tainted: bool,
    /// Where the program's output goes (see `capture`).
    pub(super) capture: Capture,
}

impl Explorer {
    pub(super) fn new(config: Config, body: Body, watch: Arc<Watch>) -> Self {
        let pool = StackPool::new(config.stack_size);
        Explorer {
            config,
            body,
            runs: 0,
            pool,
            watch,
            tainted: false,
            capture: Capture::none(),
        }
    }

    pub(super) fn run(&mut self, chooser: Chooser, seed: Option<u64>) -> Record {
        self.run_as(chooser, seed, false)
    }

    /// Runs one schedule; `shown`: it is the run a failure shows (see [`Explorer::shown`]).
    fn run_as(&mut self, chooser: Chooser, seed: Option<u64>, shown: bool) -> Record {
        let index = self.runs;
        self.runs += 1;
        let ctl = Controller::new(chooser, self.config.max_steps, self.config.quiet, shown);
        self.watch.starting(&ctl, index, seed, shown);
        let body = self.body.clone();
        let observer: Arc<dyn Observer> = ctl.clone();
        let main: Job = Box::new(move || {
            register_thread("main", Some(observer));
            body(&Run { index, seed });
        });
        let record = if self.tainted {
            let size = self.config.stack_size;
            let ctl = &ctl;
            let outcome = std::thread::scope(|s| {
                s.spawn(move || run_schedule(ctl, &mut StackPool::new(size), main).0)
                    .join()
            });
            outcome.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        } else {
            let (record, tainted) = run_schedule(&ctl, &mut self.pool, main);
            self.tainted = tainted;
            record
        };
        self.watch.finished();
        record
    }

    /// The failing schedule once more, as the failure shows it: its threads capture their
    /// backtraces when they block (skipped while searching: it is most of what blocking
    /// costs). Falls back to `record` if the replay does not fail the same way (a body that
    /// is not deterministic).
    pub(super) fn shown(&mut self, record: Record, schedule: &Schedule) -> Record {
        let mut capture = std::mem::replace(&mut self.capture, Capture::none());
        let (mut again, output) = capture.keep(|| self.run_as(schedule.chooser(), None, true));
        self.capture = capture;
        again.output = output;
        let same = match (&again.failure, &record.failure) {
            (Some(a), Some(b)) => std::mem::discriminant(a) == std::mem::discriminant(b),
            _ => false,
        };
        if same { again } else { record }
    }

    fn out_of_time(&self, start: Instant) -> bool {
        start.elapsed() >= self.config.time_limit
    }

    pub(super) fn search(mut self) -> Result<Stats, Failure> {
        let start = Instant::now();
        let mut stats = Stats::new(match self.config.mode {
            Mode::Random { .. } => Search::Random,
            Mode::Exhaustive { bound, delays, .. } => Search::Exhaustive { bound, delays },
            Mode::Replay(_) => Search::Replay,
        });
        match self.config.mode.clone() {
            Mode::Random { schedules, seed } => {
                let base = seed.or_else(env_seed).unwrap_or_else(fresh_seed);
                stats.seed = Some(base);
                self.watch.base_seed(base);
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
                    if self.out_of_time(start) && i + 1 < schedules {
                        stats.stopped = Some(Budget::Time(self.config.time_limit));
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
                let mut stop = |stats: &mut Stats| {
                    if stats.schedules >= max_schedules {
                        stats.stopped = Some(Budget::Schedules(max_schedules));
                    } else if start.elapsed() >= time_limit {
                        stats.stopped = Some(Budget::Time(time_limit));
                    }
                    stats.stopped.is_some()
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
    pub(super) fn dfs(
        &mut self,
        bound: u32,
        delays: bool,
        stats: &mut Stats,
        stop: &mut dyn FnMut(&mut Stats) -> bool,
    ) -> Dfs {
        struct Node {
            d: Decision,
            tried: Vec<usize>,
            /// The bound's cost of the choices above this one.
            before: u32,
            /// The sleep set (partial-order reduction): threads whose next step, taken here,
            /// would only lead to schedules equivalent to ones already explored.
            sleep: Vec<(usize, Footprint)>,
        }
        let reduce = self.config.reduction;
        // Godefroid's sleep sets: a child inherits its parent's sleeping threads, and the
        // siblings explored before it, whose next step commutes with the step taken.
        let child_sleep = |n: &Node| -> Vec<(usize, Footprint)> {
            if !reduce {
                return Vec::new();
            }
            let taken = n.d.chosen;
            let step = n.d.footprint(taken);
            let explored = n.tried.iter().filter(|&&t| t != taken);
            n.sleep
                .iter()
                .copied()
                .chain(explored.map(|&t| (t, n.d.footprint(t))))
                .filter(|&(t, f)| Footprint::independent(t, f, taken, step))
                .collect()
        };
        let cost = |d: &Decision, t: usize| {
            if delays {
                u32::from(t != d.default)
            } else {
                d.cost(t)
            }
        };
        let mut stack: Vec<Node> = Vec::new();
        let mut prefix: Vec<usize> = Vec::new();
        let mut sleep: Vec<(usize, Footprint)> = Vec::new();
        loop {
            let chooser = Chooser::Prefix {
                prefix: prefix.clone(),
                sleep: std::mem::take(&mut sleep),
            };
            let record = self.run(chooser, None);
            stats.note(&record);
            if record.failure.is_some() {
                return Dfs::Failed(Box::new(record));
            }
            stack.truncate(prefix.len());
            for d in record.decisions.into_iter().skip(prefix.len()) {
                let before = stack
                    .last()
                    .map_or(0, |n| n.before + cost(&n.d, n.d.chosen));
                // The run kept the sleep set past the prefix (forced steps included).
                let sleep = if reduce { d.sleep.clone() } else { Vec::new() };
                stack.push(Node {
                    tried: vec![d.chosen],
                    d,
                    before,
                    sleep,
                });
            }
            // Backtrack to the deepest choice with an untried thread within the bound.
            prefix = loop {
                let Some(node) = stack.last_mut() else {
                    return Dfs::Complete;
                };
                let alt = node.d.runnable.iter().copied().find(|&t| {
                    !node.tried.contains(&t)
                        && !node.sleep.iter().any(|&(s, _)| s == t)
                        && node.before + cost(&node.d, t) <= bound
                });
                if let Some(t) = alt {
                    node.tried.push(t);
                    node.d.chosen = t;
                    sleep = child_sleep(node);
                    break stack.iter().map(|n| n.d.chosen).collect();
                }
                stack.pop();
            };
            if stop(stats) {
                return Dfs::Stopped;
            }
        }
    }
}

/// How a depth-first search ended.
pub(super) enum Dfs {
    Failed(Box<Record>),
    Complete,
    Stopped,
}

impl Stats {
    pub(super) fn new(search: Search) -> Self {
        Stats {
            schedules: 0,
            complete: false,
            elapsed: Duration::ZERO,
            seed: None,
            max_preemptions: 0,
            diverged: 0,
            stopped: None,
            search,
        }
    }

    pub(super) fn note(&mut self, r: &Record) {
        self.schedules += 1;
        self.max_preemptions = self.max_preemptions.max(r.preemptions);
        self.diverged += usize::from(r.diverged);
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
    fn seeds_parse_in_decimal_and_hex() {
        // Only the parser: the environment is shared with other tests.
        assert_eq!(u64::from_str_radix("5eed", 16), Ok(0x5eed));
        assert_ne!(fresh_seed(), fresh_seed());
    }
}
