//! Reports that read like a good compiler error: a headline, each thread with what it holds
//! and what it waits for (and where), the cycle drawn small, a hint, and Graphviz output.
//!
//! This module writes every sentence a report contains: the constructors below (one per
//! kind of finding), the evidence about who could have ended a wait ([`evidence`]), the
//! timeline lanes ([`lanes`]) and the rendering ([`render`]). The rest of the crate hands it
//! data.

pub(crate) mod evidence;
pub(crate) mod lanes;
mod render;

use std::panic::Location;
use std::time::Duration;

use super::registry::{Global, Hold, WaitRecord};
use super::resource::{Kind, ResourceInfo, Site};
use super::wait_for::Cycle;

pub(crate) use evidence::{Evidence, Signal};
pub(crate) use lanes::{Op, Step, Target};
pub(crate) use render::{clean_path, fmt_site};
pub use render::{color_enabled, color_enabled_stdout, hide_frames, short_backtrace};

/// What a [`Report`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReportKind {
    /// A thread asked again for a plain [`Lock`](crate::Lock) it already holds.
    ReentrantAcquire,
    /// Threads blocked on each other in a cycle of owned waits.
    Deadlock,
    /// A thread waits for a resource whose owner exited without releasing it.
    OwnerExited,
    /// Two or more locks were taken in inconsistent orders: a deadlock that did not happen
    /// this run but can on another interleaving.
    LockOrderInversion,
    /// Inside [`check`](crate::check): every thread of the world is blocked.
    WorldDeadlock,
    /// Threads blocked longer than a limit: a suspicion, not a proof.
    Stall,
}

/// A resource a thread holds, as shown in a report.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Held {
    /// The resource's name (given with `.named()`, or `Kind@file:line`).
    pub resource: String,
    /// What kind of primitive it is.
    pub kind: Kind,
    /// Where it was acquired.
    pub site: &'static Location<'static>,
    /// How many times (RLock) or permits (semaphores) are held.
    pub count: u32,
}

/// What a thread waits for, as shown in a report.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WaitingFor {
    /// The resource's name.
    pub resource: String,
    /// What kind of primitive it is.
    pub kind: Kind,
    /// Where the wait was called.
    pub site: &'static Location<'static>,
    /// Whether the wait has a timeout.
    pub timed: bool,
    /// Who could end this wait, for closed-world reports.
    pub evidence: Option<String>,
}

/// Where an [`everyone_blocked`](Report::everyone_blocked) verdict was reached.
pub(crate) enum StuckIn {
    /// A closed world of `check`.
    World,
    /// A controlled schedule of `testing::explore`.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    Schedule,
}

/// One thread in a report.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct ThreadState {
    /// The detector's small id for the thread.
    pub id: u64,
    /// The thread's name (`spawn_named`, its std name, or `thread-N`).
    pub name: String,
    /// Whether the thread is still alive.
    pub alive: bool,
    /// What it holds, oldest first.
    pub holds: Vec<Held>,
    /// What it waits for, if anything.
    pub waiting: Option<WaitingFor>,
    /// Its backtrace when it blocked, trimmed to the caller's frames.
    pub backtrace: Option<String>,
    raw_backtrace: Option<backtrace::Backtrace>,
}

impl ThreadState {
    pub(crate) fn new(g: &Global, id: u64, holds: &[Hold], wait: Option<&WaitRecord>) -> Self {
        ThreadState {
            id,
            name: g.thread_name(id),
            alive: g.is_alive(id),
            holds: holds.iter().map(Held::from_hold).collect(),
            waiting: wait.map(|w| WaitingFor {
                resource: w.resource.display_name(),
                kind: w.resource.kind,
                site: w.site,
                timed: w.timed,
                evidence: None,
            }),
            backtrace: None,
            raw_backtrace: wait.and_then(|w| w.backtrace.clone()),
        }
    }

    /// The state of thread `id`, from what it published when it blocked.
    pub(crate) fn of(g: &Global, id: u64) -> Self {
        let holds: &[Hold] = g.published.get(&id).map(Vec::as_slice).unwrap_or(&[]);
        ThreadState::new(g, id, holds, g.waiting.get(&id))
    }

    /// The calling thread, asking again for `resource` (which it holds) at `again`.
    pub(crate) fn asking_again(
        id: u64,
        name: &str,
        holds: &[Hold],
        resource: &ResourceInfo,
        again: Site,
    ) -> Self {
        ThreadState {
            id,
            name: name.to_string(),
            alive: true,
            holds: holds.iter().map(Held::from_hold).collect(),
            waiting: Some(WaitingFor {
                resource: resource.display_name(),
                kind: resource.kind,
                site: again,
                timed: false,
                evidence: None,
            }),
            backtrace: None,
            // Both call sites are in the report already; a stack costs its symbolication
            // (seconds, the first time, in a large debug binary) for nothing more.
            raw_backtrace: super::registry::backtraces_everywhere()
                .then(backtrace::Backtrace::new_unresolved),
        }
    }
}

impl Held {
    pub(crate) fn from_hold(h: &Hold) -> Self {
        Held {
            resource: h.resource.display_name(),
            kind: h.resource.kind,
            site: h.site,
            count: h.count(),
        }
    }
}

/// One edge of a lock-order cycle: `to` was acquired while `from` was held.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct OrderEdge {
    /// The lock held first.
    pub from: String,
    /// The lock acquired while `from` was held.
    pub to: String,
    /// Where `from` was acquired.
    pub from_site: &'static Location<'static>,
    /// Where `to` was acquired.
    pub to_site: &'static Location<'static>,
    /// The thread that first took the locks in this order.
    pub thread: String,
    /// Whether the acquire of `to` had a timeout (it would have given up, not hung).
    pub timed: bool,
}

/// A detector report. `Display` gives plain text; [`Report::render`] can colour it.
#[derive(Clone, Debug)]
pub struct Report {
    kind: ReportKind,
    headline: String,
    /// Where the report was raised (the acquire or wait that closed it).
    at: Option<Site>,
    threads: Vec<ThreadState>,
    /// For wait-for cycles: `(thread, resource, holder)` steps, in cycle order.
    cycle: Vec<(String, String, String)>,
    order: Vec<OrderEdge>,
    body: Vec<String>,
    /// The last events of a closed world, as lanes.
    timeline: Option<String>,
    hint: String,
}

const LOCK_HINT: &str = "every thread in the cycle holds what the next one wants. Take the locks \
     in one global order everywhere (e.g. sorted by name or id), or take them all through one \
     helper; if a thread must back off, use try_acquire or acquire_timeout";

const JOIN_HINT: &str = "a join waits for the joined thread to finish, and here that thread \
     waits (directly or through others) for the joiner, so it never will. Drop the guards and \
     send the signals the joined thread needs before joining it, or join it from a thread it \
     does not wait for";

const PERMIT_HINT: &str = "every permit of the bounded semaphore is held by a thread of the \
     cycle, and each waits for the next. Take permits and locks in one global order, or give \
     the permit back (drop it) before waiting for anything else";

impl Report {
    fn new(kind: ReportKind, headline: impl Into<String>, hint: impl Into<String>) -> Self {
        Report {
            kind,
            headline: headline.into(),
            at: None,
            threads: Vec::new(),
            cycle: Vec::new(),
            order: Vec::new(),
            body: Vec::new(),
            timeline: None,
            hint: hint.into(),
        }
    }

    /// A re-entrant acquire of a plain lock by `thread`, which took it first at `first`.
    pub(crate) fn reentrant(
        thread: ThreadState,
        resource: &ResourceInfo,
        first: Option<Site>,
    ) -> Self {
        let name = resource.display_name();
        let again = thread.waiting.as_ref().map(|w| w.site);
        let mut r = Report::new(
            ReportKind::ReentrantAcquire,
            format!(
                "re-entrant acquire: thread `{}` already holds `{name}` and asks for it again",
                thread.name
            ),
            format!(
                "a {kind} is not re-entrant. Use an RLock if the same thread must take it again, \
                 or move the inner work into a `_locked` helper that expects the lock to be held \
                 and call it from where the lock is taken",
                kind = resource.kind
            ),
        );
        r.at = again;
        match first {
            Some(site) => r.body.push(format!(
                "`{name}` ({}) was acquired at {}",
                resource.kind,
                fmt_site(site)
            )),
            None => r.body.push(format!(
                "`{name}` ({}) is held by this thread",
                resource.kind
            )),
        }
        if let Some(again) = again {
            r.body
                .push(format!("and is requested again at   {}", fmt_site(again)));
        }
        r.body.push(
            "the second acquire would wait for the first to be released, which can only happen on \
             this same thread: a cycle of length one, so it would block forever"
                .to_string(),
        );
        r.cycle
            .push((thread.name.clone(), name, thread.name.clone()));
        r.threads.push(thread);
        r
    }

    /// A wait-for cycle (or a wait on an exited owner) found by [`super::wait_for`].
    pub(crate) fn deadlock(g: &Global, cycle: &Cycle) -> Self {
        let threads: Vec<ThreadState> = cycle
            .threads
            .iter()
            .map(|&t| ThreadState::of(g, t))
            .collect();
        let resource_name = |i: usize| -> String {
            threads[i]
                .waiting
                .as_ref()
                .map(|w| w.resource.clone())
                .unwrap_or_default()
        };
        let mut r = if let Some(owner) = cycle.exited_owner {
            let name = g.thread_name(owner);
            let last = threads.len() - 1;
            let mut r = Report::new(
                ReportKind::OwnerExited,
                format!(
                    "deadlock: `{}` waits for `{}`, held by thread `{name}`, which has exited without releasing it",
                    threads[0].name,
                    resource_name(last)
                ),
                "a guard was leaked (e.g. with `mem::forget`) or the thread ended while holding it; \
                 make sure every acquire is released by dropping its guard before the thread ends",
            );
            let held = g.published.get(&owner).cloned().unwrap_or_default();
            for h in &held {
                r.body.push(format!(
                    "thread `{name}` (exited) took `{}` at {} and never released it",
                    h.resource.display_name(),
                    fmt_site(h.site)
                ));
            }
            r
        } else {
            let n = threads.len();
            let headline = if n == 1 {
                format!("deadlock: thread `{}` waits for itself", threads[0].name)
            } else {
                format!("deadlock: {n} threads wait for each other")
            };
            let kinds: Vec<Kind> = threads
                .iter()
                .filter_map(|t| t.waiting.as_ref().map(|w| w.kind))
                .collect();
            let hint = if kinds.contains(&Kind::Thread) {
                JOIN_HINT
            } else if kinds.contains(&Kind::BoundedSemaphore) {
                PERMIT_HINT
            } else {
                LOCK_HINT
            };
            Report::new(ReportKind::Deadlock, headline, hint)
        };
        for (i, t) in threads.iter().enumerate() {
            let holder = match cycle.threads.get(i + 1) {
                Some(&next) => g.thread_name(next),
                None => match cycle.exited_owner {
                    Some(owner) => format!("{} (exited)", g.thread_name(owner)),
                    None => threads[0].name.clone(),
                },
            };
            r.cycle.push((t.name.clone(), resource_name(i), holder));
        }
        r.at = threads[0].waiting.as_ref().map(|w| w.site);
        r.threads = threads;
        r
    }

    /// Every listed thread is blocked for good and no one is left to wake it: the verdict
    /// of a closed world, or of a controlled schedule. Each thread comes with what it holds,
    /// what it waits for, and the evidence about who could have ended that wait.
    pub(crate) fn everyone_blocked(g: &Global, threads: &[u64], stuck_in: StuckIn) -> Self {
        let n = threads.len();
        let (headline, nobody) = match stuck_in {
            StuckIn::World => (
                if n == 1 {
                    "deadlock: the only thread of the world is blocked, and no one is left to wake it".to_string()
                } else {
                    format!(
                        "deadlock: all {n} threads of the world are blocked, and no one is left to wake them"
                    )
                },
                "no thread of this world is running, so no one can end these waits",
            ),
            StuckIn::Schedule => (
                if n == 1 {
                    "deadlock: under this schedule the only live thread is blocked, and no one is left to wake it".to_string()
                } else {
                    format!(
                        "deadlock: under this schedule all {n} live threads are blocked, and no one is left to wake them"
                    )
                },
                "no thread of this schedule can run, so no one can end these waits",
            ),
        };
        let mut states = Vec::with_capacity(n);
        for &t in threads {
            let mut state = ThreadState::of(g, t);
            if let (Some(w), Some(rec)) = (state.waiting.as_mut(), g.waiting.get(&t)) {
                w.evidence = rec.probe().evidence().map(|e| e.sentence(g));
            }
            states.push(state);
        }
        let kinds: Vec<Kind> = states
            .iter()
            .filter_map(|t| t.waiting.as_ref().map(|w| w.kind))
            .collect();
        let mut report = Report::new(ReportKind::WorldDeadlock, headline, blocked_hint(&kinds));
        report.threads = states;
        report.body.push(nobody.to_string());
        report
    }

    /// A lock-order inversion: `edges` form a cycle; `thread` closed it at `site`.
    pub(crate) fn inversion(edges: Vec<OrderEdge>, thread: &str, site: Site) -> Self {
        let names: Vec<String> = edges.iter().map(|e| format!("`{}`", e.from)).collect();
        let headline = match names.len() {
            1 => format!(
                "lock-order inversion: two locks of {} are taken together without `acquire_nested`",
                names[0]
            ),
            2 => format!(
                "lock-order inversion: {} and {} are taken in both orders",
                names[0], names[1]
            ),
            _ => format!(
                "lock-order inversion: {} and {} are taken in a cycle",
                names[..names.len() - 1].join(", "),
                names[names.len() - 1]
            ),
        };
        let hint = if edges.len() == 1 {
            "every lock of a class is one node, so two of them held at once look like a lock \
             taken after itself. Take the two in one documented order (e.g. the lower account \
             id first) and the second with `acquire_nested(1)`; or take them through one helper \
             (or a gate lock); or give them no class if they are not interchangeable"
        } else {
            "this run did not deadlock, but another interleaving will. Pick one global order \
             (e.g. by name or id) and take the locks in it everywhere; or take them together \
             through one helper; or take the later ones with try_acquire and back off on failure"
        };
        let mut r = Report::new(ReportKind::LockOrderInversion, headline, hint);
        r.at = Some(site);
        if edges.len() == 1 {
            r.body.push(format!(
                "thread `{thread}` takes a second lock of `{}` while holding one (taken at {}):",
                edges[0].from,
                fmt_site(edges[0].from_site)
            ));
        } else {
            r.body.push(format!(
                "thread `{thread}` takes `{}` while holding `{}`, closing a cycle of {} locks:",
                edges[0].to,
                edges[0].from,
                edges.len(),
            ));
        }
        for e in edges.iter().filter(|e| e.timed) {
            // Timed acquires are recorded like any other (see lock_order's docs): say so.
            r.body.push(format!(
                "the acquire of `{}` at {} was timed: that thread would give up after its \
                 timeout instead of hanging, so this interleaving stalls rather than deadlocks, \
                 but the order is still inconsistent",
                e.to,
                fmt_site(e.to_site)
            ));
        }
        r.order = edges;
        r
    }

    /// A closed world that did not finish within `deadline`: every live thread's state
    /// (`running` threads are not in a synckit wait) and the last events.
    pub(crate) fn world_stalled(
        deadline: Duration,
        threads: Vec<(ThreadState, bool)>,
        timeline: String,
    ) -> Self {
        let mut report = Report::new(
            ReportKind::Stall,
            format!(
                "stalled: the world did not finish within {deadline:?} (a suspicion, not a proven deadlock)"
            ),
            "a thread that is running but never finishes (a spin loop, a wait outside synckit, \
             very long work) keeps the world alive; if it is expected, give check_with a longer \
             deadline",
        );
        for (state, running) in threads {
            if running {
                report.body.push(format!(
                    "thread `{}` is running (not in a synckit wait)",
                    state.name
                ));
            }
            report.threads.push(state);
        }
        report.set_timeline(timeline);
        report
    }

    /// Threads blocked for at least `limit` (the watchdog's suspicion).
    pub(crate) fn watchdog_stall(limit: Duration, threads: Vec<ThreadState>) -> Self {
        let mut report = Report::new(
            ReportKind::Stall,
            format!(
                "stall (a suspicion, not a proven deadlock): {} thread{} blocked for more than {limit:?}",
                threads.len(),
                if threads.len() == 1 { "" } else { "s" }
            ),
            "if nothing will ever end these waits, this is a deadlock the detector cannot prove \
             outside a closed world: run the code inside synckit::check to get a verdict",
        );
        report.threads = threads;
        report
    }

    /// Attaches a closed world's last events, drawn as lanes.
    pub(crate) fn set_timeline(&mut self, lanes: String) {
        if !lanes.is_empty() {
            self.timeline = Some(lanes);
        }
    }

    /// Resolves the captured backtraces into text (slow: call without the global lock).
    pub(crate) fn resolve_backtraces(&mut self) {
        for t in &mut self.threads {
            if let Some(mut bt) = t.raw_backtrace.take() {
                bt.resolve();
                t.backtrace = Some(render::trim_backtrace(&bt)).filter(|s| !s.is_empty());
            }
        }
    }

    /// What the report is about.
    pub fn kind(&self) -> ReportKind {
        self.kind
    }

    /// The one-line summary.
    pub fn headline(&self) -> &str {
        &self.headline
    }

    /// The threads involved, the one that raised the report first.
    pub fn threads(&self) -> &[ThreadState] {
        &self.threads
    }

    /// The names of the resources in the cycle, in cycle order.
    pub fn resources(&self) -> Vec<String> {
        if !self.order.is_empty() {
            return self.order.iter().map(|e| e.from.clone()).collect();
        }
        self.cycle.iter().map(|(_, r, _)| r.clone()).collect()
    }

    /// The lock-order edges of an inversion, in cycle order.
    pub fn order_edges(&self) -> &[OrderEdge] {
        &self.order
    }

    /// Where the report was raised: the acquire or wait that closed the cycle.
    pub fn location(&self) -> Option<&'static Location<'static>> {
        self.at
    }

    /// The suggestion at the end of the report.
    pub fn hint(&self) -> &str {
        &self.hint
    }
}

/// The hint for threads that are all blocked: one piece of advice per kind of wait involved.
fn blocked_hint(kinds: &[Kind]) -> String {
    let has = |k: &[Kind]| kinds.iter().any(|x| k.contains(x));
    let mut advice = Vec::new();
    if has(&[Kind::Condition]) {
        advice.push(
            "a Condition wait ends only by a notify that comes after it: notify after every \
             change the waiters wait for, re-check the predicate in a `while` loop (wait_while), \
             and use notify_all when waiters wait for different things",
        );
    }
    if has(&[Kind::Event]) {
        advice.push(
            "an Event wait ends only when a thread that is still coming sets it; prefer an Event \
             when a signal may come before the wait",
        );
    }
    if has(&[Kind::Barrier]) {
        advice.push("a Barrier of n parties needs n threads to call wait(): count them");
    }
    if has(&[Kind::Semaphore, Kind::BoundedSemaphore]) {
        advice.push(
            "a semaphore with no permit left needs a release() (or a dropped permit) from a \
             thread that is still coming",
        );
    }
    if has(&[Kind::Thread]) {
        advice.push(
            "a join waits for a thread that is itself blocked: end that thread's wait before \
             joining it",
        );
    }
    if has(&[Kind::Lock, Kind::RLock]) {
        advice.push("take locks in one order everywhere, and release them before waiting");
    }
    format!(
        "a wait that only another thread can end (a notify, a set, a release, an arrival) \
         needs that thread to still be coming. {}",
        advice.join("; ")
    )
}
