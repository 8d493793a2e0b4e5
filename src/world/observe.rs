//! A closed world's view of its threads: it [observes](Observer) them through the detector
//! (holds, waits, wake-ups, reports, exits) and decides, from that alone, when nobody is left
//! to wake anyone.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::{Config, Outcome, PanicInfo};
use crate::detector::observer::{Observer, copy_acquired, copy_released};
use crate::detector::registry::{Hold, global};
use crate::detector::report::{Op, Report, Step, StuckIn, Target, ThreadState, lanes};
use crate::detector::resource::ResourceInfo;
use crate::detector::{Held, Policy};

/// One line of the timeline.
struct Event {
    at: Duration,
    thread: u64,
    step: Step,
}

#[derive(Default)]
struct WorldState {
    /// Threads spawned but not yet started: they count as running.
    pending: usize,
    /// Live threads: id -> name.
    live: HashMap<u64, String>,
    /// Live threads in a kit wait: id -> timed.
    blocked: HashMap<u64, bool>,
    /// What each live thread holds (kept only inside worlds, for stall reports).
    holds: HashMap<u64, Vec<Hold>>,
    /// Reports raised by the detector in this world's threads.
    reports: Vec<Report>,
    panics: Vec<PanicInfo>,
    /// Every thread that ever lived here: id -> name (the timeline names exited ones too).
    names: HashMap<u64, String>,
}

/// How a world failed.
pub(super) enum Failure {
    Deadlock(Report),
    Stalled(Report),
    Panicked(PanicInfo),
}

impl Failure {
    pub fn into_outcome<T>(self) -> Outcome<T> {
        match self {
            Failure::Deadlock(r) => Outcome::Deadlock(r),
            Failure::Stalled(r) => Outcome::Stalled(r),
            Failure::Panicked(p) => Outcome::Panicked(p),
        }
    }
}

/// What [`World::monitor`] saw.
pub(super) enum Verdict {
    /// Every thread of the world finished.
    Finished,
    Failed(Failure),
}

/// A closed world.
pub(crate) struct World {
    policy: Option<Policy>,
    state: Mutex<WorldState>,
    cv: Condvar,
    /// Bumped by everything that can make a wait satisfiable (or end one).
    epoch: AtomicU64,
    timeline: Mutex<VecDeque<Event>>,
    capacity: usize,
    start: Instant,
}

impl World {
    pub(super) fn new(config: &Config) -> Self {
        World {
            policy: config.policy,
            state: Mutex::new(WorldState::default()),
            cv: Condvar::new(),
            epoch: AtomicU64::new(0),
            timeline: Mutex::new(VecDeque::new()),
            capacity: config.timeline,
            start: Instant::now(),
        }
    }

    fn progress(&self) {
        self.epoch.fetch_add(1, Ordering::SeqCst);
    }

    fn event(&self, thread: u64, step: Step) {
        if self.capacity == 0 {
            return;
        }
        let mut tl = self.timeline.lock();
        if tl.len() == self.capacity {
            tl.pop_front();
        }
        tl.push_back(Event {
            at: self.start.elapsed(),
            thread,
            step,
        });
    }

    /// The timeline as lanes: one column per thread, one row per event, oldest first.
    fn lanes(&self) -> String {
        let names = self.state.lock().names.clone();
        let tl = self.timeline.lock();
        if tl.is_empty() {
            return String::new();
        }
        let mut columns: Vec<u64> = Vec::new();
        for e in tl.iter() {
            if !columns.contains(&e.thread) {
                columns.push(e.thread);
            }
        }
        let titles: Vec<String> = columns
            .iter()
            .map(|t| {
                names
                    .get(t)
                    .cloned()
                    .unwrap_or_else(|| format!("thread-{t}"))
            })
            .collect();
        let rows: Vec<lanes::Row> = tl
            .iter()
            .map(|e| lanes::Row {
                label: format!("{:.3}ms", e.at.as_secs_f64() * 1e3),
                column: columns.iter().position(|&c| c == e.thread).unwrap_or(0),
                text: e.step.describe(),
            })
            .collect();
        lanes::render("time", &titles, &rows, 0)
    }

    /// Whether every listed thread is stuck for good: all in untimed waits that nothing can
    /// satisfy, with no progress in the world while we looked. Builds the report if so.
    /// Called with the world's state unlocked (the detector's lock ranks above it).
    fn confirm_deadlock(&self, threads: &[u64], epoch_before: u64) -> Option<Report> {
        let g = global();
        for &t in threads {
            let wait = g.waiting.get(&t)?;
            if wait.timed || wait.probe().satisfiable(t) {
                return None;
            }
        }
        if self.epoch.load(Ordering::SeqCst) != epoch_before {
            return None;
        }
        let report = Report::everyone_blocked(&g, threads, StuckIn::World);
        drop(g);
        Some(report)
    }

    /// If every live thread is in an untimed wait (and none is about to start), the
    /// threads and the progress epoch to confirm the verdict with. `also` counts as blocked
    /// (a thread asking whether its own wait would close the world).
    fn all_blocked(&self, st: &WorldState, also: Option<u64>) -> Option<(Vec<u64>, u64)> {
        let all = st.pending == 0
            && !st.live.is_empty()
            && st
                .live
                .keys()
                .all(|&t| Some(t) == also || st.blocked.get(&t) == Some(&false));
        all.then(|| {
            (
                st.live.keys().copied().collect(),
                self.epoch.load(Ordering::SeqCst),
            )
        })
    }

    /// The first report or panic the world's threads raised, if any.
    pub(super) fn first_failure(&self) -> Option<Failure> {
        let st = self.state.lock();
        if let Some(r) = st.reports.first() {
            return Some(Failure::Deadlock(r.clone()));
        }
        st.panics.first().cloned().map(Failure::Panicked)
    }

    fn stall_report(&self, deadline: Duration) -> Report {
        let st = self.state.lock();
        let live: Vec<(u64, String)> = st.live.iter().map(|(&t, n)| (t, n.clone())).collect();
        let holds = st.holds.clone();
        drop(st);
        let g = global();
        let threads = live
            .into_iter()
            .map(|(t, name)| {
                let mut state = ThreadState::of(&g, t);
                state.name = name;
                state.holds = holds
                    .get(&t)
                    .map(|h| h.iter().map(Held::from_hold).collect())
                    .unwrap_or_default();
                let running = state.waiting.is_none();
                (state, running)
            })
            .collect();
        drop(g);
        Report::world_stalled(deadline, threads, self.lanes())
    }

    /// Waits until the world finishes, deadlocks, or runs past `budget`.
    pub(super) fn monitor(&self, budget: Duration) -> Verdict {
        let deadline = self.start + budget;
        let mut st = self.state.lock();
        loop {
            if st.pending == 0 && st.live.is_empty() {
                return Verdict::Finished;
            }
            if let Some((threads, epoch)) = self.all_blocked(&st, None) {
                drop(st);
                if let Some(mut report) = self.confirm_deadlock(&threads, epoch) {
                    // A report a thread raised first explains more than "everyone is blocked".
                    if let Some(failure) = self.first_failure() {
                        return Verdict::Failed(failure);
                    }
                    report.set_timeline(self.lanes());
                    return Verdict::Failed(Failure::Deadlock(report));
                }
                st = self.state.lock();
            }
            let now = Instant::now();
            if now >= deadline {
                drop(st);
                return Verdict::Failed(Failure::Stalled(self.stall_report(budget)));
            }
            let wake = deadline.min(now + Duration::from_millis(20));
            self.cv.wait_until(&mut st, wake);
        }
    }
}

impl Observer for World {
    fn policy(&self) -> Option<Policy> {
        self.policy
    }

    fn spawning(&self, by: Option<u64>, name: &str) {
        self.state.lock().pending += 1;
        if let Some(by) = by {
            let spawn = Step::Op {
                op: Op::Spawn,
                target: Target::Thread(name.to_string()),
                timed: false,
                woke: None,
            };
            self.event(by, spawn);
        }
    }

    fn started(&self, thread: u64, name: &str) {
        let mut st = self.state.lock();
        st.pending = st.pending.saturating_sub(1);
        st.live.insert(thread, name.to_string());
        st.names.insert(thread, name.to_string());
    }

    fn acquired(&self, thread: u64, hold: &Hold) {
        self.event(thread, Step::on(Op::Acquire, hold.resource));
        let mut st = self.state.lock();
        copy_acquired(st.holds.entry(thread).or_default(), hold);
    }

    fn released(&self, thread: u64, resource: &ResourceInfo, remaining: u32) {
        let mut st = self.state.lock();
        if let Some(holds) = st.holds.get_mut(&thread) {
            copy_released(holds, resource, remaining);
        }
        drop(st);
        self.progress();
        self.event(thread, Step::on(Op::Release, *resource));
    }

    fn blocked(&self, thread: u64, resource: &ResourceInfo, timed: bool) {
        let wait = Step::Op {
            op: Op::Wait,
            target: Target::Resource(*resource),
            timed,
            woke: None,
        };
        self.event(thread, wait);
        self.state.lock().blocked.insert(thread, timed);
        self.cv.notify_all();
    }

    fn leaving(&self, thread: u64) {
        self.state.lock().blocked.remove(&thread);
        self.progress();
    }

    fn woke(&self, thread: u64) {
        self.state.lock().blocked.remove(&thread);
        self.progress();
    }

    fn happened(&self, thread: u64, step: Step) {
        self.progress();
        if !matches!(step, Step::Exit) {
            self.event(thread, step);
        }
    }

    fn exited(&self, thread: u64) {
        let mut st = self.state.lock();
        st.live.remove(&thread);
        st.blocked.remove(&thread);
        st.holds.remove(&thread);
        drop(st);
        self.progress();
        self.event(thread, Step::Exit);
        self.cv.notify_all();
    }

    fn collect(&self, report: &Report) -> bool {
        self.state.lock().reports.push(report.clone());
        self.cv.notify_all();
        true
    }

    fn collects_panics(&self) -> bool {
        true
    }

    fn panicked(&self, _thread: u64, name: &str, message: String, at: Option<String>) {
        self.state.lock().panics.push(PanicInfo {
            thread: name.to_string(),
            message,
            location: at,
        });
        self.cv.notify_all();
    }

    fn closes(&self, thread: u64) -> Option<Report> {
        let (threads, epoch) = self.all_blocked(&self.state.lock(), Some(thread))?;
        let mut report = self.confirm_deadlock(&threads, epoch)?;
        report.set_timeline(self.lanes());
        Some(report)
    }
}
