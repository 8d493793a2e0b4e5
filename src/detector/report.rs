//! Reports that read like a good compiler error: a headline, each thread with what it holds
//! and what it waits for (and where), the cycle drawn small, a hint, and Graphviz output.

use std::fmt::{self, Write as _};
use std::io::IsTerminal;
use std::panic::Location;

use colored::Colorize;

use super::registry::{Global, Hold, Kind, ResourceInfo, Site, WaitRecord};
use super::wait_for::{Cycle, thread_state};

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
}

impl Held {
    pub(crate) fn from_hold(h: &Hold) -> Self {
        Held {
            resource: h.resource.display_name(),
            kind: h.resource.kind,
            site: h.site,
            count: h.count,
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
    hint: String,
}

impl Report {
    pub(crate) fn new(
        kind: ReportKind,
        headline: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Report {
            kind,
            headline: headline.into(),
            at: None,
            threads: Vec::new(),
            cycle: Vec::new(),
            order: Vec::new(),
            body: Vec::new(),
            hint: hint.into(),
        }
    }

    /// A re-entrant acquire of a plain lock.
    pub(crate) fn reentrant(
        thread: &str,
        resource: &ResourceInfo,
        first: Option<Site>,
        again: Site,
    ) -> Self {
        let name = resource.display_name();
        let mut r = Report::new(
            ReportKind::ReentrantAcquire,
            format!(
                "re-entrant acquire: thread `{thread}` already holds `{name}` and asks for it again"
            ),
            format!(
                "a {kind} is not re-entrant. Use an RLock if the same thread must take it again, \
                 or move the inner work into a `_locked` helper that expects the lock to be held \
                 and call it from where the lock is taken",
                kind = resource.kind
            ),
        );
        r.at = Some(again);
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
        r.body
            .push(format!("and is requested again at   {}", fmt_site(again)));
        r.body.push(
            "the second acquire would wait for the first to be released, which can only happen on \
             this same thread: a cycle of length one, so it would block forever"
                .to_string(),
        );
        r.cycle.push((thread.to_string(), name, thread.to_string()));
        r
    }

    /// A wait-for cycle (or a wait on an exited owner) found by [`super::wait_for`].
    pub(crate) fn deadlock(g: &Global, cycle: &Cycle) -> Self {
        let threads: Vec<ThreadState> = cycle.threads.iter().map(|&t| thread_state(g, t)).collect();
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
            Report::new(
                ReportKind::Deadlock,
                headline,
                "every thread in the cycle holds what the next one wants. Take the locks in one \
                 global order everywhere (e.g. sorted by name or id), or take them all through one \
                 helper; if a thread must back off, use try_acquire or acquire_timeout",
            )
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
        let (headline, last_advice, nobody) = match stuck_in {
            StuckIn::World => (
                if n == 1 {
                    "deadlock: the only thread of the world is blocked, and no one is left to wake it".to_string()
                } else {
                    format!(
                        "deadlock: all {n} threads of the world are blocked, and no one is left to wake them"
                    )
                },
                "prefer an Event when a signal may come before the wait",
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
                "take locks in one order everywhere",
                "no thread of this schedule can run, so no one can end these waits",
            ),
        };
        let mut report = Report::new(
            ReportKind::WorldDeadlock,
            headline,
            format!(
                "a wait that only another thread can end (a notify, a set, a release, an arrival) \
                 needs that thread to still be coming. Check that every wait has a matching signal \
                 after it, that Condition waits re-check their predicate in a `while` loop \
                 (wait_while), and {last_advice}"
            ),
        );
        for &t in threads {
            let mut state = thread_state(g, t);
            if let (Some(w), Some(rec)) = (state.waiting.as_mut(), g.waiting.get(&t)) {
                w.evidence = rec.probe().evidence(g);
            }
            report.threads.push(state);
        }
        report.body.push(nobody.to_string());
        report
    }

    /// Resolves the captured backtraces into text (slow: call without the global lock).
    pub(crate) fn resolve_backtraces(&mut self) {
        for t in &mut self.threads {
            if let Some(mut bt) = t.raw_backtrace.take() {
                bt.resolve();
                t.backtrace = Some(trim_backtrace(&bt));
            }
        }
    }

    pub(crate) fn set_at(&mut self, at: Site) {
        self.at = Some(at);
    }

    pub(crate) fn push_line(&mut self, line: impl Into<String>) {
        self.body.push(line.into());
    }

    pub(crate) fn push_thread(&mut self, t: ThreadState) {
        self.threads.push(t);
    }

    pub(crate) fn set_order(&mut self, edges: Vec<OrderEdge>) {
        self.order = edges;
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

    /// The report as text; with `color`, highlighted for a terminal.
    pub fn render(&self, color: bool) -> String {
        let paint = |s: &str, style: fn(&str) -> colored::ColoredString| -> String {
            if color {
                style(s).to_string()
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}: {}",
            paint("error", |s| s.red().bold()),
            paint(&self.headline, |s| s.bold())
        );
        if let Some(at) = self.at {
            let _ = writeln!(
                out,
                "  {} {}",
                paint("-->", |s| s.blue().bold()),
                fmt_site(at)
            );
        }
        for line in &self.body {
            let _ = writeln!(out, "  {line}");
        }
        for t in &self.threads {
            let alive = if t.alive { "" } else { " (exited)" };
            let _ = writeln!(
                out,
                "\n  thread {}{alive}",
                paint(&format!("`{}`", t.name), |s| s.cyan().bold())
            );
            for h in &t.holds {
                let times = if h.count > 1 {
                    format!(" x{}", h.count)
                } else {
                    String::new()
                };
                let _ = writeln!(
                    out,
                    "      holds  {:<28} taken at {}",
                    format!("`{}` ({}){times}", h.resource, h.kind),
                    fmt_site(h.site)
                );
            }
            if t.holds.is_empty() {
                let _ = writeln!(out, "      holds  nothing");
            }
            if let Some(w) = &t.waiting {
                let timed = if w.timed { " (timed)" } else { "" };
                let _ = writeln!(
                    out,
                    "      {}  {:<28} at {}{timed}",
                    paint("waits", |s| s.yellow().bold()),
                    format!("`{}` ({})", w.resource, w.kind),
                    fmt_site(w.site)
                );
                if let Some(e) = &w.evidence {
                    let _ = writeln!(out, "             {e}");
                }
            }
            if let Some(bt) = &t.backtrace {
                for line in bt.lines() {
                    let _ = writeln!(out, "        {line}");
                }
            }
        }
        if !self.cycle.is_empty() && self.order.is_empty() {
            let _ = writeln!(out, "\n  {}", paint("cycle:", |s| s.bold()));
            for (thread, resource, holder) in &self.cycle {
                let _ = writeln!(
                    out,
                    "      {thread} ──waits for──▶ `{resource}` ──held by──▶ {holder}"
                );
            }
        }
        if !self.order.is_empty() {
            let _ = writeln!(out, "\n  {}", paint("lock order seen:", |s| s.bold()));
            for e in &self.order {
                let timed = if e.timed { " (timed acquire)" } else { "" };
                let _ = writeln!(
                    out,
                    "      `{}` ──then──▶ `{}`   by {}: {} then {}{timed}",
                    e.from,
                    e.to,
                    e.thread,
                    fmt_site(e.from_site),
                    fmt_site(e.to_site)
                );
            }
            let _ = writeln!(
                out,
                "\n  {}",
                paint("possible deadlock scenario:", |s| s.bold())
            );
            out.push_str(&self.scenario());
        }
        let _ = writeln!(
            out,
            "\n  {}: {}",
            paint("hint", |s| s.green().bold()),
            self.hint
        );
        out
    }

    /// The lockdep-style scenario table: one column per edge's thread, rows in time order.
    fn scenario(&self) -> String {
        // One column per edge: (the lock it holds, the lock it then blocks on).
        let mut columns: Vec<(String, String)> = self
            .order
            .iter()
            .map(|e| (e.from.clone(), e.to.clone()))
            .collect();
        if let [e] = self.order.as_slice() {
            // A cycle of one (two members of one lock class): two threads, one member each.
            columns = vec![
                (format!("{} #1", e.from), format!("{} #2", e.to)),
                (format!("{} #2", e.from), format!("{} #1", e.to)),
            ];
        }
        let n = columns.len();
        let width = columns
            .iter()
            .map(|(from, to)| from.len().max(to.len()) + 24)
            .max()
            .unwrap_or(20);
        let mut out = String::new();
        let header: String = (0..n)
            .map(|i| format!("{:<width$}", format!("thread {}", i + 1)))
            .collect();
        let _ = writeln!(out, "      {}", header.trim_end());
        let rule: String = (0..n).map(|_| format!("{:<width$}", "--------")).collect();
        let _ = writeln!(out, "      {}", rule.trim_end());
        for (i, (from, _)) in columns.iter().enumerate() {
            let mut row = vec![String::new(); n];
            row[i] = format!("lock({from})");
            let line: String = row.iter().map(|c| format!("{c:<width$}")).collect();
            let _ = writeln!(out, "      {}", line.trim_end());
        }
        for (i, (_, to)) in columns.iter().enumerate() {
            let mut row = vec![String::new(); n];
            row[i] = format!("lock({to})  <- blocks");
            let line: String = row.iter().map(|c| format!("{c:<width$}")).collect();
            let _ = writeln!(out, "      {}", line.trim_end());
        }
        let _ = writeln!(out, "      *** DEADLOCK ***");
        out
    }

    /// The cycle as a Graphviz DOT graph: threads as boxes, resources as ellipses
    /// (wait-for), or locks with `then` edges (lock order).
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph synckit {\n  rankdir=LR;\n");
        if self.order.is_empty() {
            for (thread, resource, holder) in &self.cycle {
                let _ = writeln!(out, "  \"{}\" [shape=box];", esc(thread));
                let _ = writeln!(out, "  \"{}\" [shape=ellipse];", esc(resource));
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [label=\"waits for\"];",
                    esc(thread),
                    esc(resource)
                );
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [label=\"held by\"];",
                    esc(resource),
                    esc(holder)
                );
            }
        } else {
            for e in &self.order {
                let _ = writeln!(
                    out,
                    "  \"{}\" -> \"{}\" [label=\"{} then {}\\n({})\", color=red];",
                    esc(&e.from),
                    esc(&e.to),
                    esc(&fmt_site(e.from_site)),
                    esc(&fmt_site(e.to_site)),
                    esc(&e.thread)
                );
            }
        }
        out.push_str("}\n");
        out
    }

    /// Prints the report to stderr, coloured when stderr is a terminal and `NO_COLOR` is unset.
    pub fn eprint(&self) {
        eprintln!("{}", self.render(color_enabled()));
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Whether output to stderr should be coloured: a terminal, and `NO_COLOR` unset.
pub fn color_enabled() -> bool {
    no_color_unset() && std::io::stderr().is_terminal()
}

/// Whether output to stdout should be coloured: a terminal, and `NO_COLOR` unset.
pub fn color_enabled_stdout() -> bool {
    no_color_unset() && std::io::stdout().is_terminal()
}

fn no_color_unset() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

pub(crate) fn fmt_site(site: Site) -> String {
    format!("{}:{}:{}", site.file(), site.line(), site.column())
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Keeps the frames that belong to the caller: drops the unwinder, std and synckit's own
/// machinery, so the first line is the learner's code.
fn trim_backtrace(bt: &backtrace::Backtrace) -> String {
    const OURS: &[&str] = &[
        "/src/detector/",
        "/src/primitives/",
        "/src/world.rs",
        "/src/thread.rs",
    ];
    let mut out = String::new();
    let mut kept = 0;
    for frame in bt.frames() {
        for sym in frame.symbols() {
            let (Some(file), Some(line)) = (sym.filename(), sym.lineno()) else {
                continue;
            };
            let file = file.to_string_lossy();
            let foreign = file.starts_with("/rustc/")
                || file.starts_with("./")
                || file.contains("/std/src/")
                || file.contains("/core/src/")
                || file.contains("/.cargo/registry/")
                || file.contains("/rustlib/")
                || (file.contains(env!("CARGO_MANIFEST_DIR"))
                    && OURS.iter().any(|o| file.contains(o)));
            if foreign {
                continue;
            }
            let name = sym
                .name()
                .map(|n| format!("{n:#}"))
                .unwrap_or_else(|| "?".into());
            let _ = writeln!(out, "at {name} ({file}:{line})");
            kept += 1;
            if kept == 6 {
                return out;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Report {
        let mut r = Report::new(
            ReportKind::Deadlock,
            "deadlock: 2 threads wait for each other",
            "take them in order",
        );
        r.cycle
            .push(("t1".into(), "a \"quoted\" lock".into(), "t2".into()));
        r.cycle.push(("t2".into(), "b".into(), "t1".into()));
        r
    }

    #[test]
    fn plain_rendering_has_no_escape_codes_and_names_everything() {
        let text = sample().to_string();
        assert!(!text.contains('\u{1b}'), "{text:?}");
        assert!(text.starts_with("error: deadlock: 2 threads"));
        assert!(text.contains("t1 ──waits for──▶ `a \"quoted\" lock` ──held by──▶ t2"));
        assert!(text.contains("hint: take them in order"));
        assert_eq!(
            sample().resources(),
            vec!["a \"quoted\" lock".to_string(), "b".to_string()]
        );
    }

    #[test]
    fn dot_output_escapes_quotes() {
        let dot = sample().to_dot();
        assert!(dot.starts_with("digraph synckit {"));
        assert!(
            dot.contains("\"a \\\"quoted\\\" lock\" -> \"t2\" [label=\"held by\"]"),
            "{dot}"
        );
    }
}
