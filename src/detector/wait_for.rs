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
use std::sync::Arc;
use std::time::Instant;

use petgraph::algo::{astar, tarjan_scc};
use petgraph::graphmap::DiGraphMap;

use super::registry::{
    Global, Hold, ResourceInfo, Site, WaitRecord, Waitable, backtraces_everywhere, global,
    with_local,
};
use super::report::{Report, ThreadState};
use crate::world::World;

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

/// A registered wait; dropping it removes the record (and tells the thread's world).
pub(crate) struct WaitRegistration {
    thread: u64,
    world: Option<Arc<World>>,
}

impl Drop for WaitRegistration {
    fn drop(&mut self) {
        if self.thread == 0 {
            return; // nothing was registered
        }
        let mut g = global();
        g.waiting.remove(&self.thread);
        g.published.remove(&self.thread);
        drop(g);
        if let Some(world) = &self.world {
            world.woke(self.thread);
        }
    }
}

/// Registers the calling thread as about to block on `probe`, then checks whether that
/// wait closes a deadlock. On a deadlock the wait is *not* left registered and the report
/// is returned; the caller applies the policy.
pub(crate) fn begin_wait(
    probe: &(dyn Waitable + 'static),
    resource: ResourceInfo,
    site: Site,
    timed: bool,
    check: bool,
) -> Result<WaitRegistration, Box<Report>> {
    let Some((me, holds, world)) = with_local(|l| (l.id, l.holds.clone(), l.shared.world.clone()))
    else {
        // Thread-local teardown: no identity to record a wait under (0 would be shared by
        // every such thread). The wait still happens; the detector just cannot see it.
        return Ok(WaitRegistration {
            thread: 0,
            world: None,
        });
    };
    // Capture before taking the global lock: unwinding the stack is the slow part.
    let backtrace =
        (!timed && (check || backtraces_everywhere())).then(backtrace::Backtrace::new_unresolved);
    let record = WaitRecord {
        resource,
        probe: probe as *const dyn Waitable,
        site,
        timed,
        since: Instant::now(),
        backtrace,
    };
    super::watchdog::start_from_env();
    let mut g = global();
    g.waiting.insert(me, record);
    g.published.insert(me, holds);
    if check
        && !timed
        && let Some(cycle) = find_deadlock(&g, me)
    {
        let report = Report::deadlock(&g, &cycle);
        g.waiting.remove(&me);
        g.published.remove(&me);
        return Err(Box::new(report));
    }
    drop(g);
    if let Some(world) = &world {
        let timed_note = if timed { " (timed)" } else { "" };
        world.event(
            me,
            format!("wait `{}`{timed_note}", resource.display_name()),
        );
        world.blocked(me, timed);
    }
    Ok(WaitRegistration { thread: me, world })
}

/// The state of thread `id` for a report, from what it published when it blocked.
pub(crate) fn thread_state(g: &Global, id: u64) -> ThreadState {
    let holds: &[Hold] = g.published.get(&id).map(Vec::as_slice).unwrap_or(&[]);
    ThreadState::new(g, id, holds, g.waiting.get(&id))
}
