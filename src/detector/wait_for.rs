//! The wait-for graph: who waits for what, who holds it, and whether that is a cycle.
//!
//! The graph is built on demand, on the slow path only, from the thread about to block: its
//! wait, the owners of what it waits for, their waits, and so on. The cost of a check grows
//! with the part of the graph reachable from the blocking thread, never with the number of
//! primitives alive.
//!
//! A report is made only when the blocking thread's wait is certain never to end:
//! every thread reached is blocked in an untimed wait on a resource that only its owners
//! can release (or its owner has exited), and the blocking thread is on a cycle (or waits
//! on an exited owner). Any thread that is running, in a timed wait, or waiting on something
//! anyone could signal makes the search give up: no false reports.

use std::collections::HashSet;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Instant;

use petgraph::algo::{astar, tarjan_scc};
use petgraph::graphmap::DiGraphMap;

use super::observer::Observer;
use super::registry::{Global, WaitRecord, Waitable, backtraces_everywhere, global, with_local};
use super::report::Report;
use super::resource::{ResourceInfo, Site};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
enum Node {
    Thread(u64),
    Resource(u64),
}

/// What the search found: the threads of the cycle in order, starting with the blocking one.
pub(crate) struct Cycle {
    pub threads: Vec<u64>,
    /// Resources in the same order: `threads[i]` waits for `resources[i]`.
    pub resources: Vec<u64>,
    /// An owner on the path that has exited while holding what is waited for.
    pub exited_owner: Option<u64>,
}

/// Searches for a certain deadlock through `me`, whose wait is already registered.
pub(crate) fn find_deadlock(g: &Global, me: u64) -> Option<Cycle> {
    let mut graph = DiGraphMap::<Node, ()>::new();
    let mut stack = vec![me];
    let mut seen = HashSet::from([me]);
    let mut owners = Vec::new();
    let mut exited_owner = None;
    while let Some(thread) = stack.pop() {
        let wait = g.waiting.get(&thread)?; // a running thread can still act
        if wait.timed {
            return None; // it will give up by itself
        }
        let resource = Node::Resource(wait.resource.id);
        graph.add_edge(Node::Thread(thread), resource, ());
        owners.clear();
        if !wait.probe().owners(&mut owners) || owners.is_empty() {
            return None; // someone outside the graph could end this wait
        }
        for &owner in &owners {
            if owner == thread && thread != me {
                return None; // a record about to be cleared: that thread just got it
            }
            graph.add_edge(resource, Node::Thread(owner), ());
            if !g.is_alive(owner) {
                // An owner can finish its part (a joined thread ends) just before it dies:
                // only a wait that is still unsatisfiable after the death is stuck.
                if wait.probe().satisfiable(thread) {
                    return None;
                }
                exited_owner.get_or_insert(owner);
            } else if seen.insert(owner) {
                stack.push(owner);
            }
        }
    }
    let on_cycle = tarjan_scc(&graph)
        .iter()
        .any(|scc| scc.contains(&Node::Thread(me)) && scc.len() > 1);
    if !on_cycle && exited_owner.is_none() {
        return None;
    }
    let start = Node::Resource(g.waiting[&me].resource.id);
    let goal = match (on_cycle, exited_owner) {
        (true, _) => Node::Thread(me),
        (false, Some(owner)) => Node::Thread(owner),
        (false, None) => unreachable!("checked above"),
    };
    let (_, path) = astar(&graph, start, |n| n == goal, |_| 1, |_| 0)?;
    let mut cycle = Cycle {
        threads: vec![me],
        resources: Vec::new(),
        exited_owner: if on_cycle { None } else { exited_owner },
    };
    for node in path {
        match node {
            Node::Resource(r) => cycle.resources.push(r),
            Node::Thread(t) if t != me && Some(t) != cycle.exited_owner => cycle.threads.push(t),
            Node::Thread(_) => {}
        }
    }
    Some(cycle)
}

/// A wait about to begin: what [`begin_wait`] registers.
pub(crate) struct WaitSpec<'a> {
    /// The primitive, asked who could end the wait (it must outlive the registration).
    pub probe: &'a (dyn Waitable + 'static),
    pub resource: ResourceInfo,
    pub site: Site,
    pub timed: bool,
    /// Search for a cycle of owned waits through this one before blocking.
    pub check: bool,
    /// Also ask the thread's observer (its closed world) whether this wait leaves nobody to
    /// wake anyone: the `_checked` forms, which can return that verdict to the waiter.
    pub ask_world: bool,
}

/// A registered wait; dropping it removes the record (and tells the thread's observer).
/// It borrows the primitive for `'a`, which is what makes the record's pointer sound.
pub(crate) struct WaitRegistration<'a> {
    thread: u64,
    observer: Option<Arc<dyn Observer>>,
    _probe: PhantomData<&'a ()>,
}

impl WaitRegistration<'_> {
    /// The thread is about to leave its wait and change the primitive's state: from now on
    /// it counts as running for its observer. Takes no detector lock (callers hold the
    /// primitive's state lock, which ranks below the detector's).
    pub fn leaving(&self) {
        if let Some(o) = &self.observer {
            o.leaving(self.thread);
        }
    }
}

impl Drop for WaitRegistration<'_> {
    fn drop(&mut self) {
        if self.thread == 0 {
            return; // nothing was registered
        }
        let mut g = global();
        g.waiting.remove(&self.thread);
        g.published.remove(&self.thread);
        drop(g);
        if let Some(o) = &self.observer {
            o.woke(self.thread);
        }
    }
}

/// Registers the calling thread as about to block on `spec.probe`, then (with `spec.check`)
/// checks whether that wait closes a deadlock. On a deadlock the wait is *not* left
/// registered and the report is returned; the caller judges it.
pub(crate) fn begin_wait<'a>(spec: &WaitSpec<'a>) -> Result<WaitRegistration<'a>, Box<Report>> {
    let Some((me, holds, observer)) = with_local(|l| (l.id, l.holds.clone(), l.observer.clone()))
    else {
        // Thread-local teardown: no identity to record a wait under (0 would be shared by
        // every such thread). The wait still happens; the detector just cannot see it.
        return Ok(WaitRegistration {
            thread: 0,
            observer: None,
            _probe: PhantomData,
        });
    };
    // Capture before taking the global lock: unwinding the stack is the slow part.
    // A `_checked` wait hands its report to the caller: always with the backtrace. Others
    // only where the observer wants one (the explorer, not while it searches).
    let wanted = observer.as_ref().is_none_or(|o| o.backtraces());
    let backtrace = (!spec.timed
        && (spec.ask_world || (wanted && (spec.check || backtraces_everywhere()))))
    .then(backtrace::Backtrace::new_unresolved);
    let record = WaitRecord {
        resource: spec.resource,
        probe: spec.probe as *const (dyn Waitable + 'static),
        site: spec.site,
        timed: spec.timed,
        since: Instant::now(),
        backtrace,
    };
    let mut g = global();
    g.waiting.insert(me, record);
    g.published.insert(me, holds);
    if spec.check
        && !spec.timed
        && let Some(cycle) = find_deadlock(&g, me)
    {
        let report = Report::deadlock(&g, &cycle);
        g.waiting.remove(&me);
        g.published.remove(&me);
        return Err(Box::new(report));
    }
    drop(g);
    if let Some(o) = &observer {
        // Asked before the world hears the thread is blocked, so that the world's own
        // monitor never reaches the same verdict about a wait that returns it.
        if spec.ask_world
            && !spec.timed
            && let Some(report) = o.closes(me)
        {
            let mut g = global();
            g.waiting.remove(&me);
            g.published.remove(&me);
            return Err(Box::new(report));
        }
        o.blocked(me, &spec.resource, spec.timed);
    }
    Ok(WaitRegistration {
        thread: me,
        observer,
        _probe: PhantomData,
    })
}
