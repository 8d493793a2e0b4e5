//! Mutant `if_instead_of_while` of solutions/exercise_4.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: `if` instead of `while` around the wait in `wait_until_total`.
//! Why it fails: the first wake-up comes after one file of 30: the watcher returns 30 without
//! looking again (check `wait_until_total`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

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
        // The guard lives only inside this block: the lock is free before any thread starts.
        let children = {
            let nodes = self.nodes.acquire();
            nodes.borrow()[0].children.clone()
        };
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
        let mut nodes = self.nodes.acquire(); // re-enters if the caller holds it already
        // `while`, not `if`: a wake-up means "the tree changed", not "it is big enough".
        if self.total_size(node) < at_least {
            self.grown.wait(&mut nodes); // releases every level of the RLock while waiting
        }
        self.total_size(node)
    }
}
