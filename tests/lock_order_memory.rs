//! Issue 4, memory: creating and dropping a million locks, each nested under a long-lived
//! one, leaves the lock-order graph flat.
//!
//! In a test binary of its own, so that no other test adds nodes to the process-wide graph
//! while this one measures it (sizes are still taken relative to a baseline of this test).

use std::time::Instant;

use synckit::Lock;
use synckit::detector::lock_order_size;

/// How many create/nest/drop cycles in all. `SYNCKIT_MEMORY_CYCLES` overrides it.
fn total_cycles() -> usize {
    std::env::var("SYNCKIT_MEMORY_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
}

fn delta(now: (usize, usize), base: (usize, usize)) -> (isize, isize) {
    (
        now.0 as isize - base.0 as isize,
        now.1 as isize - base.1 as isize,
    )
}

#[test]
fn graph_size_is_flat_after_a_million_create_nest_drop_cycles() {
    let base = lock_order_size();
    let outer = Lock::new(()).named("long_lived");
    let class_outer = Lock::new(()).named("long_lived_for_classes");
    let cycle = |i: usize| {
        // A plain lock: its own node, which must leave with it.
        let inner = Lock::new(i);
        {
            let _o = outer.acquire();
            let _i = inner.acquire();
        }
        drop(inner);
        // A lock of a class: one node for the whole class, which stays.
        let member = Lock::new(i).class("memory_test_member");
        let _o = class_outer.acquire();
        let _m = member.acquire();
    };
    let started = Instant::now();
    for i in 0..1_000 {
        cycle(i);
    }
    let after_1k = delta(lock_order_size(), base);
    let total = total_cycles().max(1_000);
    for i in 1_000..total {
        cycle(i);
    }
    let after_all = delta(lock_order_size(), base);
    eprintln!(
        "{total} create/nest/drop cycles in {:.2?}: graph delta {after_1k:?} after 1,000, {after_all:?} after {total}",
        started.elapsed()
    );
    assert_eq!(
        after_all, after_1k,
        "the graph grew with the number of dropped locks"
    );
    // What stays: the two long-lived locks and the class, one edge into the class.
    assert_eq!(after_1k, (3, 1));
    drop((outer, class_outer));
    // The long-lived locks leave too, with the edge into the class; the class node stays
    // (classes live for the whole run).
    assert_eq!(delta(lock_order_size(), base), (1, 0));
}
