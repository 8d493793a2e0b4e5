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
use super::registry::{Global, WaitRecord, Waitable, backtraces_everywhere, global, local};
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
        unregister(&mut global(), self.thread);
        if let Some(o) = &self.observer {
            o.woke(self.thread);
        }
    }
}

/// Registers the calling thread as about to block on `spec.probe`, then (with `spec.check`)
/// checks whether that wait closes a deadlock. On a deadlock the wait is *not* left
/// registered and the report is returned; the caller judges it.
pub(crate) fn begin_wait<'a>(spec: &WaitSpec<'a>) -> Result<WaitRegistration<'a>, Box<Report>> {
    let Some(local) = local() else {
        // Thread-local teardown: no identity to record a wait under (0 would be shared by
        // every such thread). The wait still happens; the detector just cannot see it.
        return Ok(WaitRegistration {
            thread: 0,
            observer: None,
            _probe: PhantomData,
        });
    };
    let (me, observer) = (local.id, local.observer.clone());
    let untimed = !spec.timed;
    // A stack for every contended park would cost more than the park: it is captured when
    // a cycle may close through this wait (below), when a closed world is asked for its
    // verdict (a `_checked` wait hands its report to the caller), or on every wait with
    // `SYNCKIT_BACKTRACE=1`; the last two only where the observer wants stacks at all (the
    // explorer does not while it searches). Captured outside the global lock.
    let wanted = observer.as_ref().is_none_or(|o| o.backtraces());
    let backtrace = (untimed && (spec.ask_world || (wanted && backtraces_everywhere())))
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
    // Published in place: the list is reused, not allocated, on every park.
    g.published.entry(me).or_default().clone_from(&local.holds);
    drop(local);
    if spec.check && untimed && walk(&mut g, me) != Walk::Running {
        // A cycle may close here: this thread's stack for the report, then the full search
        // (the state may have changed while the lock was let go).
        drop(g);
        let stack = wanted.then(backtrace::Backtrace::new_unresolved);
        g = global();
        if let (Some(record), Some(stack)) = (g.waiting.get_mut(&me), stack) {
            record.backtrace.get_or_insert(stack);
        }
        if let Some(cycle) = find_deadlock(&g, me) {
            let report = Report::deadlock(&g, &cycle);
            unregister(&mut g, me);
            return Err(Box::new(report));
        }
    }
    drop(g);
    if let Some(o) = &observer {
        // Asked before the world hears the thread is blocked, so that the world's own
        // monitor never reaches the same verdict about a wait that returns it.
        if spec.ask_world
            && untimed
            && let Some(report) = o.closes(me)
        {
            unregister(&mut global(), me);
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

/// Takes thread `me`'s wait record away (its published holds list stays, emptied, for reuse).
fn unregister(g: &mut Global, me: u64) {
    g.waiting.remove(&me);
    if let Some(holds) = g.published.get_mut(&me) {
        holds.clear();
    }
}

/// What following the owners from a blocking thread found.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Walk {
    /// Some thread on the way is running (or in a timed wait, or in a wait anyone could end):
    /// no cycle can close through this wait now. If that thread later blocks on something
    /// this one holds, its own check finds the cycle.
    Running,
    /// The owners lead back to the blocking thread.
    Cycle,
    /// Several owners (a bounded semaphore), an exited owner, or a long chain: the full
    /// search decides.
    Unclear,
}

/// Follows the one owner of each wait from `me`, without building a graph: most contended
/// waits end here at once (the holder is running).
fn walk(g: &mut Global, me: u64) -> Walk {
    let mut owners = std::mem::take(&mut g.scratch);
    let mut cur = me;
    let mut found = Walk::Unclear;
    for _ in 0..64 {
        let Some(wait) = g.waiting.get(&cur) else {
            found = Walk::Running;
            break;
        };
        owners.clear();
        if wait.timed || !wait.probe().owners(&mut owners) || owners.is_empty() {
            found = Walk::Running;
            break;
        }
        let [owner] = owners[..] else {
            break; // several owners: a branch
        };
        if owner == me {
            found = Walk::Cycle;
            break;
        }
        if owner == cur || !g.is_alive(owner) {
            // A record about to be cleared (that thread just got it), or an exited owner.
            found = if owner == cur {
                Walk::Running
            } else {
                Walk::Unclear
            };
            break;
        }
        cur = owner;
    }
    g.scratch = owners;
    found
}
