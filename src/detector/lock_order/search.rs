//! The searches of the lock-order graph: for a new edge `a -> b`, a cycle back to `a` that no
//! gate covers. A lock gate covers a cycle when every edge of it was taken holding that lock
//! (it serialises them); a counting gate, a semaphore of k permits, covers a cycle of n > k
//! edges all taken holding one of its permits (at most k threads can be inside at once, and
//! the cycle needs n).

use std::collections::{HashMap, HashSet, VecDeque};

use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::EdgeRef;

use super::LockOrder;

/// How many edge visits a search for a simple gate-free cycle may take before it settles
/// for the cheaper walk search (which may report a walk through two gate-covered cycles).
const SIMPLE_CYCLE_BUDGET: usize = 10_000;

/// A gate an edge was taken under.
#[derive(Clone, Copy)]
enum Gate {
    /// A lock (its id): covers any cycle all of whose edges were taken holding it.
    Lock(u64),
    /// A semaphore (its id) of k permits: covers a cycle of more than k edges all taken
    /// holding one of its permits.
    Counting(u64, u32),
}

/// Whether the gates left in `mask` (common to every edge of a cycle of `n` edges) cover it.
fn covers(gates: &[Gate], mask: u64, n: usize) -> bool {
    gates.iter().enumerate().any(|(bit, g)| {
        mask & (1 << bit) != 0
            && match *g {
                Gate::Lock(_) => true,
                Gate::Counting(_, k) => (k as usize) < n,
            }
    })
}

impl LockOrder {
    /// Which of `gates` (bit `i` for `gates[i]`, among those set in `mask`) the edge `e`
    /// was always taken under.
    fn common_gates(&self, e: EdgeIndex, gates: &[Gate], mask: u64) -> u64 {
        let data = &self.graph[e];
        let mut out = 0;
        for (bit, g) in gates.iter().enumerate() {
            let on_edge = match *g {
                Gate::Lock(id) => data.gates.binary_search(&id).is_ok(),
                Gate::Counting(id, _) => data.counting.binary_search_by_key(&id, |c| c.0).is_ok(),
            };
            if mask & (1 << bit) != 0 && on_edge {
                out |= 1 << bit;
            }
        }
        out
    }

    /// The gates of `edge` a cycle through it must escape: its lock gates, then its counting
    /// gates (at most 63 in all: one bit each).
    fn gates_of(&self, edge: EdgeIndex) -> Vec<Gate> {
        let data = &self.graph[edge];
        let locks = data.gates.iter().map(|&id| Gate::Lock(id));
        let counting = data.counting.iter().map(|&(id, k)| Gate::Counting(id, k));
        locks.chain(counting).take(63).collect()
    }

    /// A cycle through `edge` (a -> b) that is *simple* (no lock twice: a deadlock needs
    /// each lock held by one thread) and whose edges, with `edge`, share no gate. Returns
    /// the cycle's edges starting with `edge`.
    ///
    /// Backtracking over simple paths from `b`, but only while the path still shares a gate
    /// with `edge` (rare, and short in practice): as soon as it shares none, one
    /// breadth-first search decides whether the path can be closed back to `a`. When `edge`
    /// has no gates (the common case) that is a single BFS. Past [`SIMPLE_CYCLE_BUDGET`]
    /// steps it falls back to [`find_walk`](Self::find_walk), which never misses a cycle.
    pub(super) fn find_cycle(&self, edge: EdgeIndex) -> Option<Vec<EdgeIndex>> {
        let (a, b) = self.graph.edge_endpoints(edge)?;
        let gates = &self.gates_of(edge)[..];
        let full: u64 = (1u64 << gates.len()) - 1;
        if a == b {
            return (!covers(gates, full, 1)).then(|| vec![edge]);
        }
        // A lock never held while taking another (e.g. a new one) closes no cycle.
        self.graph.edges_directed(b, Direction::Outgoing).next()?;
        let mut budget = SIMPLE_CYCLE_BUDGET;
        let mut on_path: HashSet<NodeIndex> = HashSet::from([a, b]);
        let close = |path: &[EdgeIndex], rest: Vec<EdgeIndex>| {
            let mut cycle = vec![edge];
            cycle.extend_from_slice(path);
            cycle.extend(rest);
            cycle
        };
        if full == 0 {
            return match self.bfs_to(b, a, edge, &on_path, &mut budget) {
                Some(rest) => Some(close(&[], rest)),
                None if budget == 0 => self.find_walk(edge),
                None => None,
            };
        }
        // Only locks from which `a` can be reached at all are worth a step: one backward
        // search, and most new edges (which close nothing) end here.
        let reaches_a = self.ancestors(a, edge);
        if !reaches_a.contains(&b) {
            return None;
        }
        struct Frame {
            mask: u64,
            out: Vec<EdgeIndex>,
            next: usize,
        }
        let outgoing = |n: NodeIndex| -> Vec<EdgeIndex> {
            self.graph
                .edges_directed(n, Direction::Outgoing)
                .map(|e| e.id())
                .filter(|&e| e != edge)
                .collect()
        };
        let mut frames = vec![Frame {
            mask: full,
            out: outgoing(b),
            next: 0,
        }];
        // The edges from `b` to the top frame's node.
        let mut path: Vec<EdgeIndex> = vec![];
        while let Some(top) = frames.last_mut() {
            let Some(&e) = top.out.get(top.next) else {
                frames.pop();
                if let Some(e) = path.pop() {
                    on_path.remove(&self.graph.edge_endpoints(e).expect("live edge").1);
                }
                continue;
            };
            top.next += 1;
            let mask = self.common_gates(e, gates, top.mask);
            budget = match budget.checked_sub(1) {
                Some(left) => left,
                None => return self.find_walk(edge),
            };
            let (_, t) = self.graph.edge_endpoints(e).expect("live edge");
            if t == a {
                // The new edge, the path, and `e`.
                if !covers(gates, mask, path.len() + 2) {
                    path.push(e);
                    return Some(close(&path, vec![]));
                }
                continue;
            }
            if on_path.contains(&t) || !reaches_a.contains(&t) {
                continue;
            }
            if mask == 0 {
                // Every simple way on from `t` that avoids the path closes an uncovered
                // cycle: one BFS finds one or proves there is none.
                on_path.insert(t);
                let rest = self.bfs_to(t, a, edge, &on_path, &mut budget);
                on_path.remove(&t);
                if let Some(rest) = rest {
                    path.push(e);
                    return Some(close(&path, rest));
                }
                if budget == 0 {
                    return self.find_walk(edge);
                }
                continue;
            }
            on_path.insert(t);
            path.push(e);
            frames.push(Frame {
                mask,
                out: outgoing(t),
                next: 0,
            });
        }
        None
    }

    /// Every node with a path to `to` that does not use `skip`.
    fn ancestors(&self, to: NodeIndex, skip: EdgeIndex) -> HashSet<NodeIndex> {
        let mut seen = HashSet::new();
        let mut stack = vec![to];
        while let Some(n) = stack.pop() {
            for e in self.graph.edges_directed(n, Direction::Incoming) {
                if e.id() != skip && seen.insert(e.source()) {
                    stack.push(e.source());
                }
            }
        }
        seen
    }

    /// Breadth-first: a path `from ~> to` through no node of `avoid` (but `to`), not using
    /// `skip`. Spends one unit of `budget` per edge looked at and gives up at zero.
    fn bfs_to(
        &self,
        from: NodeIndex,
        to: NodeIndex,
        skip: EdgeIndex,
        avoid: &HashSet<NodeIndex>,
        budget: &mut usize,
    ) -> Option<Vec<EdgeIndex>> {
        let mut parent: HashMap<NodeIndex, EdgeIndex> = HashMap::new();
        let mut queue = VecDeque::from([from]);
        while let Some(n) = queue.pop_front() {
            for e in self.graph.edges_directed(n, Direction::Outgoing) {
                if e.id() == skip {
                    continue;
                }
                let t = e.target();
                if t == to {
                    let mut rest = vec![e.id()];
                    let mut cur = n;
                    while cur != from {
                        let pe = parent[&cur];
                        rest.push(pe);
                        cur = self.graph.edge_endpoints(pe).expect("live edge").0;
                    }
                    rest.reverse();
                    return Some(rest);
                }
                *budget = budget.saturating_sub(1);
                if *budget == 0 {
                    return None;
                }
                if t == from || avoid.contains(&t) || parent.contains_key(&t) {
                    continue;
                }
                parent.insert(t, e.id());
                queue.push_back(t);
            }
        }
        None
    }

    /// A closed walk through `edge` (a -> b): a path b ~> a, possibly through a lock
    /// twice, whose edges, with `edge`, share no common gate. Polynomial (states are
    /// `(node, gates still common)`), and it finds every gate-free simple cycle; but it can
    /// also return a walk around two cycles each covered by its own gate, which is not a
    /// deadlock. Only the fallback of [`find_cycle`](Self::find_cycle) on huge searches.
    /// Counting gates are ignored here (a walk has no simple length): the fallback may report
    /// a cycle a semaphore covers, never miss one.
    fn find_walk(&self, edge: EdgeIndex) -> Option<Vec<EdgeIndex>> {
        let (a, b) = self.graph.edge_endpoints(edge)?;
        let gates = &self.graph[edge].gates;
        let gates = &gates[..gates.len().min(63)];
        let full: u64 = (1u64 << gates.len()) - 1;
        if a == b {
            return (full == 0).then(|| vec![edge]);
        }
        // Depth-first over (node, mask of the new edge's gates common to the path so far).
        let mut parent: HashMap<(NodeIndex, u64), (NodeIndex, u64, EdgeIndex)> = HashMap::new();
        let mut stack = vec![(b, full)];
        let mut seen = HashSet::from([(b, full)]);
        while let Some((node, mask)) = stack.pop() {
            for e in self.graph.edges_directed(node, Direction::Outgoing) {
                if e.id() == edge {
                    continue;
                }
                let mut next_mask = 0;
                for (bit, g) in gates.iter().enumerate() {
                    if mask & (1 << bit) != 0 && e.weight().gates.contains(g) {
                        next_mask |= 1 << bit;
                    }
                }
                let state = (e.target(), next_mask);
                if !seen.insert(state) {
                    continue;
                }
                parent.insert(state, (node, mask, e.id()));
                if e.target() == a && next_mask == 0 {
                    let mut path = vec![];
                    let mut cur = state;
                    while let Some(&(pn, pm, pe)) = parent.get(&cur) {
                        path.push(pe);
                        cur = (pn, pm);
                        if cur == (b, full) {
                            break;
                        }
                    }
                    path.reverse();
                    let mut cycle = vec![edge];
                    cycle.extend(path);
                    return Some(cycle);
                }
                if e.target() != a {
                    stack.push(state);
                }
            }
        }
        None
    }
}
