//! # Exercise 4 · RLock in depth: recursion, ownership, a Condition over an RLock
//!
//! An RLock has an *owner* and a *count*. The owner may acquire it again (the count goes
//! up); each guard dropped brings the count down; at zero the lock is free for others.
//! That makes recursion natural: `total_size` below takes the tree's RLock and calls
//! itself for each child, re-entering the lock once per level (read it: it is done).
//!
//! Ownership is per *thread*, not per call chain. A thread you start while you hold the
//! RLock does not share your hold: to it, the lock belongs to someone else. A Condition can
//! sit on an RLock: `wait` releases it completely, whatever the count, and takes it back to
//! the same count before returning.
//!
//! ## What to do
//!
//! 1. `child_totals_in_parallel` computes the total of each of the root's children on its
//!    own thread, but it holds the RLock while it joins them, and the threads need that
//!    RLock (`total_size` takes it). Make it let go before it waits for them.
//! 2. Write `wait_until_total`: hold the RLock and wait on `grown` until
//!    `total_size(node) >= at_least`, then return the total. Its caller may already hold
//!    the RLock (the check calls it inside `with_lock`).
//!
//! `cargo test exercise_4` checks it; `cargo run -- hint 4` if you are stuck.

use std::cell::RefCell;
use std::sync::Arc;

use synckit::thread::spawn_named;
use synckit::{Condition, RLock};

/// A folder or file: its own size and the indices of its children.
#[derive(Clone, Debug)]
pub struct Node {
    /// Its name.
    pub name: String,
    /// Its own size.
    pub size: u64,
    /// Indices of its children in the tree.
    pub children: Vec<usize>,
}

/// A tree of folders behind one RLock. Every public method takes the lock, and methods call
/// each other, so the lock must be re-entrant. The guard gives `&`, hence the `RefCell`.
pub struct Tree {
    nodes: RLock<RefCell<Vec<Node>>>,
    grown: Condition,
}

impl Tree {
    /// A tree with only a root (index 0) of size 0.
    pub fn new(root: &str) -> Self {
        Tree {
            nodes: RLock::new(RefCell::new(vec![Node {
                name: root.to_string(),
                size: 0,
                children: Vec::new(),
            }]))
            .named("tree"),
            grown: Condition::new().named("grown"),
        }
    }

    /// Adds a node under `parent` and returns its index; wakes everyone waiting on `grown`.
    pub fn add(&self, parent: usize, name: &str, size: u64) -> usize {
        let nodes = self.nodes.acquire();
        let mut nodes = nodes.borrow_mut();
        let index = nodes.len();
        nodes.push(Node {
            name: name.to_string(),
            size,
            children: Vec::new(),
        });
        nodes[parent].children.push(index);
        self.grown.notify_all();
        index
    }

    /// The size of `node` and everything under it. Takes the RLock on every level of the
    /// recursion: each call re-enters it (the count goes up by one per level), and the
    /// `RefCell` borrow is dropped before recursing.
    pub fn total_size(&self, node: usize) -> u64 {
        let nodes = self.nodes.acquire();
        let (size, children) = {
            let nodes = nodes.borrow();
            (nodes[node].size, nodes[node].children.clone())
        };
        size + children
            .iter()
            .map(|&child| self.total_size(child))
            .sum::<u64>()
    }

    /// How many times the calling thread holds the tree's RLock right now.
    pub fn holds(&self) -> u32 {
        self.nodes.count()
    }

    /// How many threads wait on `grown` right now.
    pub fn waiting(&self) -> usize {
        self.grown.waiters()
    }

    /// Runs `f` while holding the tree's RLock (nobody can change the tree meanwhile).
    pub fn with_lock<R>(&self, f: impl FnOnce() -> R) -> R {
        let _guard = self.nodes.acquire();
        f()
    }

    /// The total size of each child of the root, each computed on its own thread.
    pub fn child_totals_in_parallel(self: &Arc<Self>) -> Vec<u64> {
        // TODO: this guard lives until the end of the function, so the RLock is held while
        // we join threads that need it (`total_size` takes it): they wait for us, we wait
        // for them. Read the children in a block of their own so the guard is dropped first.
        let nodes = self.nodes.acquire(); // hold the tree still while we look at it
        let children = nodes.borrow()[0].children.clone();
        let handles: Vec<_> = children
            .iter()
            .map(|&child| {
                let tree = Arc::clone(self);
                spawn_named(&format!("sizer-{child}"), move || tree.total_size(child))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a sizer thread panicked"))
            .collect()
    }

    /// Waits until `total_size(node) >= at_least` and returns that total.
    pub fn wait_until_total(&self, node: usize, at_least: u64) -> u64 {
        // TODO: take the RLock (maybe re-entering it), then, while the total is too small,
        // wait on `self.grown` with the guard. Return the total.
        let _ = (node, at_least);
        todo!("wait on `grown` until total_size(node) >= at_least")
    }
}
