//! The scheduler's one decision: after a thread reached a point, blocked or finished, who
//! runs next (and whether the run is over: everyone finished, a deadlock, the step limit).

use super::choice::{Chooser, Decision, Footprint};
use super::trace::{Fail, Label, Step, StepKind};
use super::{Op, State, Status, Waiting, Why};
use crate::detector::Report;
use crate::detector::registry::global;
use crate::detector::report::StuckIn;

impl State {
    /// Records the run's first failure and tears the run down.
    pub(super) fn fail(&mut self, f: Fail) {
        if self.failure.is_none() {
            self.failure = Some(f);
        }
        self.aborting = true;
    }

    pub(super) fn ready(&self, i: usize) -> bool {
        let s = &self.slots[i];
        if s.blocked_at >= self.version {
            return false; // nothing happened since its attempt failed
        }
        match &s.waiting {
            // SAFETY: see `ProbePtr`: the owner is parked, we hold the controller's lock.
            Some(Waiting::Probe(p)) => unsafe { (*p.0)() },
            Some(Waiting::Scope(key)) => self
                .slots
                .iter()
                .all(|t| t.scope != Some(*key) || t.status == Status::Finished),
            None => true,
        }
    }

    /// Picks who runs next after `me` reached a point, blocked or finished. `None`: nobody
    /// (every thread finished, or the run just failed: deadlock or step limit).
    pub(super) fn decide(&mut self, me: usize, why: Why) -> Option<usize> {
        if why == Why::Exit {
            self.version += 1; // joiners may go on
        }
        self.steps += 1;
        if self.steps > self.max_steps {
            let max = self.max_steps;
            self.fail(Fail::StepLimit(max));
            return None;
        }
        let me_runnable = matches!(why, Why::Point(_));
        // One buffer for every decision of the run: most runs record no runnable sets.
        let mut runnable = std::mem::take(&mut self.scratch);
        runnable.clear();
        for i in 0..self.slots.len() {
            let can = match self.slots[i].status {
                Status::Runnable => i != me || me_runnable,
                Status::Blocked => self.ready(i),
                Status::Finished => false,
            };
            if can {
                runnable.push(i);
            }
        }
        let mut timing_out = false;
        if runnable.is_empty() {
            runnable.extend(
                (0..self.slots.len())
                    .filter(|&i| self.slots[i].status == Status::Blocked && self.slots[i].timed),
            );
            if runnable.is_empty() {
                self.scratch = runnable;
                if self.slots.iter().any(|s| s.status == Status::Blocked) {
                    let report = self.deadlock_report();
                    self.fail(Fail::Deadlock(Box::new(report)));
                }
                return None;
            }
            timing_out = true;
        }
        let yielding = why == Why::Point(Op::Yield);
        let default = if me_runnable && !yielding {
            me
        } else {
            // The next thread after `me`, cyclically (`me` itself last).
            *runnable.iter().find(|&&t| t > me).unwrap_or(&runnable[0])
        };
        // Past a depth-first search's prefix, keep its sleep set (partial-order reduction).
        let sleeping = match &mut self.chooser {
            Chooser::Prefix { prefix, sleep } if self.decisions.len() >= prefix.len() => {
                if self.sleep_from.take().is_some() {
                    self.sleep = std::mem::take(sleep);
                }
                true
            }
            _ => false,
        };
        let chosen = if runnable.len() == 1 {
            runnable[0]
        } else {
            let nth = self.slots[me].decisions;
            self.slots[me].decisions += 1;
            let index = self.decisions.len();
            let (mut pick, diverged) = self.chooser.pick(index, (me, nth), &runnable, default);
            self.diverged |= diverged;
            if sleeping && self.asleep(pick) {
                // Every schedule from here through `pick` is equivalent to one explored: go
                // on with the first awake thread after `me` instead, if there is one.
                let mut order = runnable.iter().filter(|&&t| t > me).chain(&runnable);
                if let Some(&awake) = order.find(|&&t| !self.asleep(t)) {
                    pick = awake;
                }
            }
            // Only a depth-first search reads the alternatives back (to branch on them).
            let (alternatives, pending) = match self.chooser {
                Chooser::Prefix { .. } => (
                    runnable.clone(),
                    runnable.iter().map(|&i| self.slots[i].pending).collect(),
                ),
                _ => (Vec::new(), Vec::new()),
            };
            let d = Decision {
                me,
                nth,
                runnable: alternatives,
                pending,
                sleep: if sleeping {
                    self.sleep.clone()
                } else {
                    Vec::new()
                },
                default,
                chosen: pick,
                me_runnable,
                yielding,
            };
            self.preemptions += d.cost(pick);
            self.decisions.push(d);
            pick
        };
        if sleeping {
            let step = self.slots[chosen].pending;
            self.sleep
                .retain(|&(t, f)| Footprint::independent(t, f, chosen, step));
        }
        self.scratch = runnable;
        if me_runnable && chosen != me {
            self.switches += 1;
            self.trace.push(Step {
                thread: me,
                kind: StepKind::Preempted { yielded: yielding },
                label: Label::None,
            });
        }
        let next = &mut self.slots[chosen];
        if next.status == Status::Blocked {
            next.status = Status::Runnable;
            next.timed_out = timing_out;
        }
        self.current = chosen;
        Some(chosen)
    }

    /// Whether `t` is in the sleep set.
    fn asleep(&self, t: usize) -> bool {
        self.sleep.iter().any(|&(s, _)| s == t)
    }

    /// The report for a schedule in which every live thread is blocked.
    pub(super) fn deadlock_report(&self) -> Report {
        let blocked: Vec<u64> = self
            .slots
            .iter()
            .filter(|s| s.status == Status::Blocked)
            .map(|s| s.tid)
            .collect();
        let g = global();
        Report::everyone_blocked(&g, &blocked, StuckIn::Schedule)
    }
}
