//! The lock-order graph: the deadlock that did not happen this run.
//!
//! An edge `A -> B` is recorded the first time a thread acquires `B` while its most recent
//! held lock is `A` (longer chains follow by transitivity), with both call sites, the thread
//! and the *gates*: the other locks the thread held at that moment. An edge that closes a
//! cycle is a lock-order inversion, unless every edge of the cycle was taken under one common
//! gate lock (then the gate serialises them and the cycle cannot deadlock).
//!
//! Timed acquires (`acquire_timeout`) add their edge like blocking ones: a timeout turns the
//! deadlock into a stall-then-failure path that is rarely tested, and the order is just as
//! inconsistent. The report marks such an edge as timed. Try-acquires add no edge (they
//! cannot block), though a lock taken with one is held, and edges lead from it.
//!
//! Lock classes (like lockdep's) map every lock of a class to one node, so a thousand
//! account locks created at one site form one class; `acquire_nested(k)` gives the k-th
//! member of a class its own node for the documented legal case (ordered by id).
//!
//! Cost: per-thread caches of the edges already registered (`cache.rs`: the last chain of
//! nested plain locks, then a direct-mapped cache of `(from, to, gates)` keys), so nesting
//! in a known order takes no global lock. A miss takes the global lock once.

use std::collections::{HashMap, HashSet};

use petgraph::Direction;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

mod cache;
mod search;

pub(crate) use cache::{EdgeCache, KnownChain};

use super::registry::Hold;
use super::report::{OrderEdge, Report};
use super::resource::{ResourceInfo, Site};

/// The graph node a lock maps to: its class (and nesting subclass) if it has one, else itself.
#[inline]
pub(crate) fn node_key(info: &ResourceInfo, subclass: u32) -> u64 {
    match info.class {
        None => info.id,
        Some(class) => {
            // Interned class names have one address for the whole run.
            let addr = class.as_ptr() as u64;
            (addr.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(subclass)) | (1 << 63)
        }
    }
}

/// The context of an acquire, for the order check.
pub(crate) struct OrderContext<'a> {
    pub new: ResourceInfo,
    pub new_key: u64,
    pub site: Site,
    pub timed: bool,
    pub holds: &'a [Hold],
    pub thread: &'a str,
}

/// Adds every lock from which `from` can be reached to `set` (those already in it are
/// known to be complete).
fn add_ancestors(
    graph: &StableDiGraph<NodeData, EdgeData>,
    from: NodeIndex,
    set: &mut HashSet<NodeIndex>,
) {
    let mut stack = vec![from];
    while let Some(n) = stack.pop() {
        for p in graph.neighbors_directed(n, Direction::Incoming) {
            if set.insert(p) {
                stack.push(p);
            }
        }
    }
}

/// The predecessor edge and gates of an acquire, or `None` when nothing ordered is held.
pub(crate) fn edge_key(holds: &[Hold], new_key: u64) -> Option<(usize, (u64, u64, u64))> {
    let last = holds.iter().rposition(|h| h.resource.kind.is_lock())?;
    let from = holds[last].resource_key();
    let mut gates = 0u64;
    for (i, h) in holds.iter().enumerate() {
        // Gates are lock *instances*, even for class members: two different locks of one
        // class serialise nothing. A sum, not a xor, so that no two gates cancel out.
        if h.resource.kind.is_lock() {
            if i < last {
                gates = gates.wrapping_add(h.resource.id.wrapping_mul(0xD6E8_FEB8_6659_FD93));
            }
        } else {
            // A semaphore held anywhere is a counting gate of the edge.
            gates = gates.wrapping_add(h.resource.id.wrapping_mul(0x9FB2_1C65_1E98_DF25));
        }
    }
    Some((last, (from, new_key, gates)))
}

/// The counting gates of an acquire: every semaphore the thread holds a permit of, with how
/// many permits it has in all, sorted by id.
fn counting_gates(holds: &[Hold]) -> Vec<(u64, u32)> {
    let mut gates: Vec<(u64, u32)> = holds
        .iter()
        .filter(|h| !h.resource.kind.is_lock())
        .map(|h| (h.resource.id, h.permits_in_all()))
        .collect();
    gates.sort_unstable();
    gates.dedup_by_key(|g| g.0);
    gates
}

impl Hold {
    #[inline]
    pub fn resource_key(&self) -> u64 {
        node_key(&self.resource, self.subclass())
    }
}

struct NodeData {
    name: String,
    /// The node's key (lock id, or class key): what `reported` remembers inversions by.
    key: u64,
    /// Whether an inversion through this node was reported (so removing it must also
    /// forget that report).
    in_report: bool,
}

#[derive(Clone)]
struct EdgeData {
    from_site: Site,
    to_site: Site,
    thread: String,
    timed: bool,
    /// Keys of the locks held (besides `from`) every time this edge was taken.
    gates: Vec<u64>,
    /// The semaphores a permit of which was held every time this edge was taken, with how
    /// many permits each has in all (sorted by id): a cycle of n locks whose every edge was
    /// taken under one semaphore of k < n permits cannot close (at most k threads are in).
    counting: Vec<(u64, u32)>,
}

/// The global lock-order graph.
#[derive(Default)]
pub(crate) struct LockOrder {
    graph: StableDiGraph<NodeData, EdgeData>,
    nodes: HashMap<u64, NodeIndex>,
    /// The inversions already reported, each as its sorted `(from, to)` node keys. Keys, not
    /// `NodeIndex`es: a `StableGraph` reuses the index of a removed node, so an index-based
    /// key would silence a new inversion between new locks that happen to reuse the slots.
    reported: HashSet<Vec<(u64, u64)>>,
    /// For each gate key seen on some edge: the locks from which a path reaches an edge
    /// taken *without* that gate. A cycle through a new edge gated by `g` needs such an edge,
    /// so a new edge whose target is not in `escapes[g]` closes nothing and is settled in
    /// O(1) — the common case of many locks taken in any order under one gate, where a
    /// search would otherwise walk the whole gated graph on every new edge. Maintained
    /// incrementally; an over-approximation (removed locks may linger), never an under-.
    escapes: HashMap<u64, HashSet<NodeIndex>>,
    /// `(from, to) -> edge`: petgraph's `find_edge` walks the source's whole edge list,
    /// which for a lock nested with hundreds of others is hundreds of cache misses.
    edge_index: HashMap<(NodeIndex, NodeIndex), EdgeIndex>,
}

impl LockOrder {
    fn node(&mut self, key: u64, info: &ResourceInfo, subclass: u32) -> NodeIndex {
        if let Some(&n) = self.nodes.get(&key) {
            return n;
        }
        let name = match (info.class, subclass) {
            (Some(class), 0) => format!("class {class}"),
            (Some(class), k) => format!("class {class}/{k}"),
            (None, _) => info.display_name(),
        };
        let n = self.graph.add_node(NodeData {
            name,
            key,
            in_report: false,
        });
        self.nodes.insert(key, n);
        n
    }

    /// Number of nodes and edges (for tests of memory flatness).
    pub fn size(&self) -> (usize, usize) {
        (self.graph.node_count(), self.graph.edge_count())
    }

    /// Forgets a dropped lock as a gate (a class member's node stays: it is the class's).
    pub fn forget_gate(&mut self, id: u64) {
        self.escapes.remove(&id);
    }

    /// Removes a dropped lock and its edges.
    pub fn remove(&mut self, key: u64) {
        self.escapes.remove(&key); // it will never gate a new edge again
        if let Some(n) = self.nodes.remove(&key) {
            if self.graph[n].in_report {
                self.reported
                    .retain(|cycle| !cycle.iter().any(|&(x, y)| x == key || y == key));
            }
            for direction in [Direction::Outgoing, Direction::Incoming] {
                for e in self.graph.edges_directed(n, direction) {
                    self.edge_index.remove(&(e.source(), e.target()));
                }
            }
            self.graph.remove_node(n);
        }
    }

    /// Records the edge for an acquire; returns a report if it closes a new inversion.
    pub fn record(&mut self, ctx: &OrderContext<'_>, last: usize, subclass: u32) -> Option<Report> {
        let from_hold = &ctx.holds[last];
        let from_key = from_hold.resource_key();
        let mut gates: Vec<u64> = ctx.holds[..last]
            .iter()
            .filter(|h| h.resource.kind.is_lock())
            .map(|h| h.resource.id) // instances, see `edge_key`
            .collect();
        gates.sort_unstable();
        gates.dedup();
        let counting = counting_gates(ctx.holds);
        let a = self.node(from_key, &from_hold.resource, from_hold.subclass());
        let b = self.node(ctx.new_key, &ctx.new, subclass);
        let edge = match self.edge_index.get(&(a, b)).copied() {
            Some(e) => {
                let data = &mut self.graph[e];
                let before = (data.gates.len(), data.counting.clone());
                data.gates.retain(|g| gates.binary_search(g).is_ok());
                data.counting.retain_mut(|(id, k)| {
                    match counting.binary_search_by_key(id, |c| c.0) {
                        // A semaphore released since with more permits: the larger count.
                        Ok(i) => {
                            *k = (*k).max(counting[i].1);
                            true
                        }
                        Err(_) => false,
                    }
                });
                if (data.gates.len(), &data.counting) == (before.0, &before.1) {
                    return None; // nothing new: same or wider gates than already known
                }
                // Taken with fewer gates than before: this is the acquire a report about
                // the edge must point at (the earlier ones were covered by a gate).
                data.from_site = from_hold.site;
                data.to_site = ctx.site;
                data.thread = ctx.thread.to_string();
                data.timed = ctx.timed;
                e
            }
            None => {
                let e = self.graph.add_edge(
                    a,
                    b,
                    EdgeData {
                        from_site: from_hold.site,
                        to_site: ctx.site,
                        thread: ctx.thread.to_string(),
                        timed: ctx.timed,
                        gates,
                        counting,
                    },
                );
                self.edge_index.insert((a, b), e);
                e
            }
        };
        self.note_escapes(edge);
        if self.graph[edge].gates.iter().take(63).any(|g| {
            let (_, b) = self.graph.edge_endpoints(edge).expect("live edge");
            !self.escapes.get(g).is_some_and(|set| set.contains(&b))
        }) {
            return None; // from `b`, every path keeps some gate of this edge: no inversion
        }
        let cycle = self.find_cycle(edge)?;
        let mut key: Vec<(u64, u64)> = cycle
            .iter()
            .map(|&e| {
                let (x, y) = self.graph.edge_endpoints(e).expect("live edge");
                (self.graph[x].key, self.graph[y].key)
            })
            .collect();
        key.sort_unstable();
        key.dedup();
        if !self.reported.insert(key) {
            return None;
        }
        for &e in &cycle {
            let (x, _) = self.graph.edge_endpoints(e).expect("live edge");
            self.graph[x].in_report = true;
        }
        Some(self.report(&cycle, ctx))
    }

    /// Updates [`escapes`](Self::escapes) for a new edge, or one whose gates shrank.
    fn note_escapes(&mut self, edge: EdgeIndex) {
        let (u, v) = self.graph.edge_endpoints(edge).expect("live edge");
        let gates = self.graph[edge].gates.clone();
        for g in &gates {
            if !self.escapes.contains_key(g) {
                let set = self.escape_set(*g);
                self.escapes.insert(*g, set);
            }
        }
        let graph = &self.graph;
        for (g, set) in self.escapes.iter_mut() {
            let lacks_g = gates.binary_search(g).is_err();
            if (lacks_g || set.contains(&v)) && set.insert(u) {
                add_ancestors(graph, u, set);
            }
        }
    }

    /// The locks from which some path reaches an edge taken without gate `g`.
    fn escape_set(&self, g: u64) -> HashSet<NodeIndex> {
        let mut set = HashSet::new();
        for e in self.graph.edge_indices() {
            if self.graph[e].gates.binary_search(&g).is_err() {
                let (source, _) = self.graph.edge_endpoints(e).expect("live edge");
                if set.insert(source) {
                    add_ancestors(&self.graph, source, &mut set);
                }
            }
        }
        set
    }

    fn report(&self, cycle: &[EdgeIndex], ctx: &OrderContext<'_>) -> Report {
        let edges: Vec<OrderEdge> = cycle
            .iter()
            .map(|&e| {
                let (x, y) = self.graph.edge_endpoints(e).expect("live edge");
                let d = &self.graph[e];
                OrderEdge {
                    from: self.graph[x].name.clone(),
                    to: self.graph[y].name.clone(),
                    from_site: d.from_site,
                    to_site: d.to_site,
                    thread: d.thread.clone(),
                    timed: d.timed,
                }
            })
            .collect();
        Report::inversion(edges, ctx.thread, ctx.site)
    }

    /// The whole graph in Graphviz DOT.
    pub fn to_dot(&self) -> String {
        let mut out = String::from("digraph lock_order {\n  rankdir=LR;\n");
        for n in self.graph.node_indices() {
            let name = self.graph[n]
                .name
                .replace('\\', "\\\\")
                .replace('"', "\\\"");
            out.push_str(&format!("  n{} [label=\"{name}\"];\n", n.index()));
        }
        for e in (&self.graph).edge_references() {
            let d = e.weight();
            out.push_str(&format!(
                "  n{} -> n{} [label=\"{}:{} then {}:{}\"];\n",
                e.source().index(),
                e.target().index(),
                d.from_site.file(),
                d.from_site.line(),
                d.to_site.file(),
                d.to_site.line()
            ));
        }
        out.push_str("}\n");
        out
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;
    use crate::detector::resource::{Kind, intern};
    use std::panic::Location;

    fn info(id: u64, class: Option<&'static str>) -> ResourceInfo {
        ResourceInfo {
            id,
            kind: Kind::Lock,
            name: None,
            class: class.map(intern),
            created: Location::caller(),
        }
    }

    #[test]
    fn class_members_share_a_node_and_subclasses_split_it() {
        let a = info(10, Some("account"));
        let b = info(11, Some("account"));
        assert_eq!(node_key(&a, 0), node_key(&b, 0));
        assert_ne!(node_key(&a, 0), node_key(&a, 1));
        assert_eq!(
            node_key(&info(12, None), 0),
            12,
            "instances are their own node"
        );
        assert_ne!(
            node_key(&a, 0) & (1 << 63),
            0,
            "class keys never collide with ids"
        );
    }
}
