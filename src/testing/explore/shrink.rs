//! Shrinking a failing schedule: delta debugging over its deviations, then a search for one
//! with fewer preemptions.

use super::config::{Deviation, Schedule};
use super::failure::{Failure, Search, Shrunk, Stats, describe};
use super::search::{Dfs, Explorer};
use crate::sched::controlled::{Decision, Record};

impl Explorer {
    /// Shrinks a failing run and describes it: ddmin over its deviations, then a search for
    /// a failing schedule with fewer preemptions (every schedule with 0, then 1, ... fewer
    /// than the shrunk one has, within the replay budget), shrunk in turn.
    pub(super) fn fail(
        &mut self,
        record: Record,
        found_by: String,
        seeds: Option<(u64, u64)>,
    ) -> Failure {
        let original = deviations(&record.decisions);
        let (from, from_switches) = (original.len(), record.switches);
        if !self.config.shrink {
            let schedule = Schedule::new(original);
            let record = self.shown(record, &schedule);
            return describe(record, schedule, found_by, seeds, None);
        }
        let mut budget = self.config.max_shrink_runs;
        let (mut best, mut kept) = self.ddmin(record, original, &mut budget);
        let mut bound = 0;
        while bound < best.preemptions && budget > 0 {
            let mut scratch = Stats::new(Search::Exhaustive {
                bound,
                delays: false,
            });
            let mut left = budget;
            let mut stop = |s: &mut Stats| s.schedules >= left;
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
        // Out of replays before every smaller candidate was tried: say so, not "minimal".
        let exhausted = budget == 0;
        let schedule = Schedule::new(kept);
        let best = self.shown(best, &schedule);
        describe(
            best,
            schedule,
            found_by,
            seeds,
            Some(Shrunk {
                from,
                from_switches,
                runs,
                exhausted,
            }),
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

/// Where a run left the default schedule.
pub(super) fn deviations(decisions: &[Decision]) -> Vec<Deviation> {
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
