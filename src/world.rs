//! Closed worlds: [`check`] runs code where every thread is known, so a wait that no owner
//! can end (a Condition nobody will notify, an Event nobody sets, a Barrier short of a
//! party, a semaphore signal nobody sends, a join on a thread that waits for the joiner)
//! is judged by the simplest rule there is: when every live thread of the world is blocked
//! in an untimed synckit wait that nothing can satisfy, nobody is left to wake anyone.

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::detector::registry::{Hold, global, with_local};
use crate::detector::wait_for::thread_state;
use crate::detector::{DeadlockPanic, Policy, Report, ReportKind, StuckIn, panic_message};
use crate::error::UsageError;

/// How a [`check_with`] world runs.
#[derive(Clone, Debug)]
pub struct Config {
    deadline: Duration,
    policy: Option<Policy>,
    timeline: usize,
    on_deadlock: OnDeadlock,
}

/// What [`check_with`] does when the world deadlocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDeadlock {
    /// Return [`Outcome::Deadlock`] (the default).
    Return,
    /// Panic with the report (handy in tests that expect no deadlock).
    Panic,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            deadline: Duration::from_secs(10),
            policy: None,
            timeline: 64,
            on_deadlock: OnDeadlock::Return,
        }
    }
}

impl Config {
    /// How long the world may run before [`Outcome::Stalled`] (default 10 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The detector policy for the world's threads (default: the global one).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// How many recent events the timeline keeps (default 64).
    pub fn timeline(mut self, events: usize) -> Self {
        self.timeline = events;
        self
    }

    /// What to do on a deadlock (default: return it).
    pub fn on_deadlock(mut self, on_deadlock: OnDeadlock) -> Self {
        self.on_deadlock = on_deadlock;
        self
    }
}

/// A panic in a world thread.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PanicInfo {
    /// The thread that panicked.
    pub thread: String,
    /// Its panic message.
    pub message: String,
}

/// How a closed world ended.
#[derive(Debug)]
#[must_use]
pub enum Outcome<T> {
    /// The closure returned and every thread of the world finished.
    Ok(T),
    /// The world deadlocked: a cycle of owned waits, or every thread blocked for good.
    Deadlock(Report),
    /// The deadline passed first; the report shows every thread's state and the timeline.
    /// The blocked threads are left parked.
    Stalled(Report),
    /// A thread of the world panicked.
    Panicked(PanicInfo),
}

impl<T> Outcome<T> {
    /// Whether the world finished cleanly.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// The closure's value.
    ///
    /// # Panics
    ///
    /// If the world did not finish cleanly; the message is the report.
    #[track_caller]
    pub fn unwrap(self) -> T {
        match self {
            Outcome::Ok(v) => v,
            other => panic!("{}", other.describe()),
        }
    }

    /// The report, for `Deadlock` and `Stalled`.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Outcome::Deadlock(r) | Outcome::Stalled(r) => Some(r),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Ok(_) => "ok: the world finished cleanly".to_string(),
            Outcome::Deadlock(r) | Outcome::Stalled(r) => r.to_string(),
            Outcome::Panicked(p) => format!("thread `{}` panicked: {}", p.thread, p.message),
        }
    }
}

impl<T> fmt::Display for Outcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

struct Event {
    at: Duration,
    thread: u64,
    text: String,
}

#[derive(Default)]
struct WorldState {
    /// Threads spawned but not yet started: they count as running.
    pending: usize,
    /// Live threads: id -> name.
    live: HashMap<u64, String>,
    /// Live threads in a kit wait: id -> timed.
    blocked: HashMap<u64, bool>,
    /// What each live thread holds (kept only inside worlds).
    holds: HashMap<u64, Vec<Hold>>,
    /// Reports raised by the detector in this world's threads.
    reports: Vec<Report>,
    panics: Vec<PanicInfo>,
    names: HashMap<u64, String>,
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
    fn new(config: &Config) -> Self {
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

    /// A thread of this world is about to be spawned; `by_member` is false for the first
    /// thread, spawned by `check`'s caller (which is not part of the world).
    pub(crate) fn thread_spawning(&self, name: &str, by_member: bool) {
        self.state.lock().pending += 1;
        if by_member {
            let me = crate::detector::registry::current_thread_id();
            self.event(me, format!("spawn {name}"));
        }
    }

    pub(crate) fn thread_started(&self, id: u64) {
        let name = with_local(|l| l.shared.name.clone()).unwrap_or_default();
        let mut st = self.state.lock();
        st.pending = st.pending.saturating_sub(1);
        st.live.insert(id, name.clone());
        st.names.insert(id, name);
    }

    pub(crate) fn thread_exited(&self, id: u64) {
        let mut st = self.state.lock();
        st.live.remove(&id);
        st.blocked.remove(&id);
        st.holds.remove(&id);
        drop(st);
        self.progress();
        self.event(id, "exit".to_string());
        self.cv.notify_all();
    }

    /// Runs a world thread's body, keeping its panic (if any) for the outcome.
    pub(crate) fn run_thread<T>(&self, f: impl FnOnce() -> T) -> T {
        match std::panic::catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => v,
            Err(payload) => {
                if payload.downcast_ref::<DeadlockPanic>().is_none() {
                    let thread = with_local(|l| l.shared.name.clone()).unwrap_or_default();
                    self.state.lock().panics.push(PanicInfo {
                        thread,
                        message: panic_message(&*payload),
                    });
                }
                self.cv.notify_all();
                std::panic::resume_unwind(payload)
            }
        }
    }

    pub(crate) fn blocked(&self, thread: u64, timed: bool) {
        self.state.lock().blocked.insert(thread, timed);
        self.cv.notify_all();
    }

    pub(crate) fn woke(&self, thread: u64) {
        self.state.lock().blocked.remove(&thread);
        self.progress();
    }

    pub(crate) fn event(&self, thread: u64, text: String) {
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
            text,
        });
    }

    pub(crate) fn acquired(&self, thread: u64, hold: Hold) {
        self.event(
            thread,
            format!("acquire `{}`", hold.resource.display_name()),
        );
        self.state
            .lock()
            .holds
            .entry(thread)
            .or_default()
            .push(hold);
    }

    pub(crate) fn released(&self, thread: u64, id: u64) {
        let mut st = self.state.lock();
        let mut name = None;
        if let Some(h) = st.holds.get_mut(&thread)
            && let Some(pos) = h.iter().rposition(|h| h.resource.id == id)
        {
            name = Some(h.remove(pos).resource.display_name());
        }
        drop(st);
        self.progress();
        if let Some(name) = name {
            self.event(thread, format!("release `{name}`"));
        }
    }

    /// The timeline as lanes: one column per thread, one row per event, oldest first.
    fn lanes(&self, names: &HashMap<u64, String>) -> String {
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
        let name = |t: u64| {
            names
                .get(&t)
                .cloned()
                .unwrap_or_else(|| format!("thread-{t}"))
        };
        let width = tl
            .iter()
            .map(|e| e.text.len())
            .max()
            .unwrap_or(10)
            .clamp(12, 34)
            + 2;
        let mut out = String::new();
        let _ = write!(out, "  {:>9}  ", "time");
        let mut header = String::new();
        for &c in &columns {
            let _ = write!(header, "{:<width$}", name(c));
        }
        out.push_str(header.trim_end());
        out.push('\n');
        for e in tl.iter() {
            let col = columns.iter().position(|&c| c == e.thread).unwrap_or(0);
            let _ = write!(
                out,
                "  {:>7.3}ms  {}",
                e.at.as_secs_f64() * 1e3,
                " ".repeat(col * width)
            );
            let mut text = e.text.clone();
            text.truncate(width - 1);
            let _ = writeln!(out, "{text}");
        }
        out
    }

    /// Whether every listed thread is stuck for good: all in untimed waits that nothing can
    /// satisfy, with no progress in the world while we looked. Builds the report if so.
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

    fn stall_report(&self, deadline: Duration) -> Report {
        let st = self.state.lock();
        let live: Vec<(u64, String)> = st.live.iter().map(|(&t, n)| (t, n.clone())).collect();
        let holds = st.holds.clone();
        let names = st.names.clone();
        drop(st);
        let mut report = Report::new(
            ReportKind::Stall,
            format!(
                "stalled: the world did not finish within {:?} (a suspicion, not a proven deadlock)",
                deadline
            ),
            "a thread that is running but never finishes (a spin loop, a wait outside synckit, \
             very long work) keeps the world alive; if it is expected, give check_with a longer \
             deadline",
        );
        let g = global();
        for (t, name) in live {
            let mut state = thread_state(&g, t);
            state.name = name.clone();
            state.holds = holds
                .get(&t)
                .map(|h| h.iter().map(crate::detector::Held::from_hold).collect())
                .unwrap_or_default();
            if state.waiting.is_none() {
                report.push_line(format!(
                    "thread `{name}` is running (not in a synckit wait)"
                ));
            }
            report.push_thread(state);
        }
        drop(g);
        let lanes = self.lanes(&names);
        if !lanes.is_empty() {
            report.push_line(format!("last events:\n{lanes}"));
        }
        report
    }
}

/// The calling thread's world, if it belongs to one.
pub(crate) fn current_world() -> Option<Arc<World>> {
    with_local(|l| l.shared.world.clone()).flatten()
}

/// The calling thread's world policy, if it runs in a world that set one.
pub(crate) fn policy_override() -> Option<Policy> {
    with_local(|l| l.shared.world.as_ref().and_then(|w| w.policy)).flatten()
}

/// Lets the calling thread's world keep a report raised under the policy.
pub(crate) fn note_report(report: &Report) {
    if let Some(w) = current_world() {
        w.state.lock().reports.push(report.clone());
        w.cv.notify_all();
    }
}

/// Adds an event to the calling thread's world timeline (nothing outside a world).
pub(crate) fn note_event(text: impl FnOnce() -> String) {
    if let Some((me, Some(w))) = with_local(|l| (l.id, l.shared.world.clone())) {
        w.event(me, text());
    }
}

/// Tells the calling thread's world that something that can wake a waiter happened.
pub(crate) fn note_progress() {
    if let Some(w) = current_world() {
        w.progress();
    }
}

/// Called by a waiter that is about to leave its wait, *before* it changes the primitive's
/// state (takes the permit, consumes the wake-up): from then on it counts as running, so
/// the world cannot mistake it for a thread stuck on a wait that now looks unsatisfiable.
pub(crate) fn leaving_wait() {
    if let Some((me, Some(w))) = with_local(|l| (l.id, l.shared.world.clone())) {
        w.state.lock().blocked.remove(&me);
        w.progress();
    }
}

/// Runs `f` in a closed world with the default [`Config`] (10 s deadline).
///
/// Every thread `f` spawns through [`thread::spawn_named`](crate::thread::spawn_named) or
/// [`thread::scope`](crate::thread::scope), transitively, belongs to the world. The outcome:
/// - [`Outcome::Ok`] when `f` returns and every world thread has finished;
/// - [`Outcome::Deadlock`] when the detector finds a cycle in a world thread, or when every
///   live world thread is blocked in an untimed synckit wait that nothing can satisfy — with
///   each thread's holds, wait and call sites, and who could have woken each wait;
/// - [`Outcome::Panicked`] when a world thread panicked;
/// - [`Outcome::Stalled`] when the deadline passes first.
///
/// `check` never hangs: blocked threads are left parked when it returns.
///
/// Spawn the world's threads with `synckit::thread`: a thread started with `std::thread`
/// inside `check` is outside the world, so a world thread waiting for it (say, for an
/// `Event` it will set) looks stuck to the world and is reported.
///
/// # Examples
///
/// ```
/// use synckit::{Condition, Lock, Outcome};
/// use std::sync::Arc;
///
/// // A consumer waits for an item that nobody will ever produce.
/// let outcome = synckit::check(|| {
///     let queue = Arc::new((Lock::new(Vec::<i32>::new()), Condition::new().named("not_empty")));
///     let (lock, not_empty) = &*queue;
///     let mut items = lock.acquire();
///     not_empty.wait_while(&mut items, |items| items.is_empty());
/// });
/// assert!(matches!(outcome, Outcome::Deadlock(_)));
/// assert!(outcome.to_string().contains("not_empty"));
/// ```
#[track_caller]
pub fn check<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Outcome<T> {
    check_with(Config::default(), f)
}

/// Runs `f` in a closed world configured by `config`; see [`check`].
///
/// # Panics
///
/// If `config`'s deadline is zero ([`UsageError::ZeroDeadline`]); and, with
/// [`OnDeadlock::Panic`], when the world deadlocks.
#[track_caller]
pub fn check_with<T: Send + 'static>(
    config: Config,
    f: impl FnOnce() -> T + Send + 'static,
) -> Outcome<T> {
    if config.deadline.is_zero() {
        panic!("{}", UsageError::ZeroDeadline);
    }
    let world = Arc::new(World::new(&config));
    let result: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let handle = {
        let result = result.clone();
        crate::thread::spawn_in_world("main", world.clone(), move || {
            let value = f();
            *result.lock() = Some(value);
        })
    };
    let deadline = world.start + config.deadline;
    let outcome = monitor(&world, deadline, config.deadline);
    let outcome = match outcome {
        Verdict::Finished => {
            let _ = handle.join();
            let st = world.state.lock();
            if let Some(r) = st.reports.first() {
                Outcome::Deadlock(r.clone())
            } else if let Some(p) = st.panics.first() {
                Outcome::Panicked(p.clone())
            } else {
                drop(st);
                match result.lock().take() {
                    Some(v) => Outcome::Ok(v),
                    None => Outcome::Panicked(PanicInfo {
                        thread: "main".into(),
                        message: "the closure did not return".into(),
                    }),
                }
            }
        }
        Verdict::Deadlock(r) => Outcome::Deadlock(r),
        Verdict::Panicked(p) => Outcome::Panicked(p),
        Verdict::Stalled(r) => Outcome::Stalled(r),
    };
    if config.on_deadlock == OnDeadlock::Panic
        && let Outcome::Deadlock(r) = &outcome
    {
        panic!("{r}");
    }
    outcome
}

enum Verdict {
    Finished,
    Deadlock(Report),
    Panicked(PanicInfo),
    Stalled(Report),
}

fn monitor(world: &World, deadline: Instant, budget: Duration) -> Verdict {
    let mut st = world.state.lock();
    loop {
        if st.pending == 0 && st.live.is_empty() {
            return Verdict::Finished;
        }
        let all_blocked =
            st.pending == 0 && st.live.keys().all(|t| st.blocked.get(t) == Some(&false));
        if all_blocked {
            let threads: Vec<u64> = st.live.keys().copied().collect();
            let epoch = world.epoch.load(Ordering::SeqCst);
            let reports = st.reports.first().cloned();
            let panics = st.panics.first().cloned();
            drop(st);
            if let Some(mut report) = world.confirm_deadlock(&threads, epoch) {
                if let Some(r) = reports {
                    return Verdict::Deadlock(r);
                }
                if let Some(p) = panics {
                    return Verdict::Panicked(p);
                }
                let names = world.state.lock().names.clone();
                let lanes = world.lanes(&names);
                if !lanes.is_empty() {
                    report.push_line(format!("last events:\n{lanes}"));
                }
                return Verdict::Deadlock(report);
            }
            st = world.state.lock();
        }
        let now = Instant::now();
        if now >= deadline {
            drop(st);
            return Verdict::Stalled(world.stall_report(budget));
        }
        let wake = deadline.min(now + Duration::from_millis(20));
        world.cv.wait_until(&mut st, wake);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_builds_and_defaults_to_ten_seconds() {
        let c = Config::default();
        assert_eq!(c.deadline, Duration::from_secs(10));
        let c = c
            .deadline(Duration::from_millis(5))
            .timeline(3)
            .on_deadlock(OnDeadlock::Panic);
        assert_eq!(
            (c.deadline, c.timeline, c.on_deadlock),
            (Duration::from_millis(5), 3, OnDeadlock::Panic)
        );
    }

    #[test]
    fn a_clean_world_returns_its_value() {
        assert_eq!(check(|| 6 * 7).unwrap(), 42);
    }

    #[test]
    fn unwrap_of_a_deadlock_panics_with_the_report() {
        let outcome = check(|| crate::Event::new().named("world-unit").wait());
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outcome.unwrap()))
            .unwrap_err();
        assert!(panic_message(&*err).contains("`world-unit`"));
    }
}
