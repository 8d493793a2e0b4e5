//! Issue 4: the lock-order graph finds the deadlock that did not happen this run.
//!
//! Every test uses its own, freshly created locks (and its own class names), because the
//! graph is process-wide and the tests of this file run in parallel. Reports are taken as
//! values with `acquire_checked`; the process-wide policy is never changed here.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use proptest::prelude::*;
use synckit::detector::{self, OrderEdge, ReportKind};
use synckit::{Lock, RLock, Report};

/// The inversion report of an acquire that must be refused.
fn expect_inversion<T>(result: Result<T, synckit::Deadlock>, what: &str) -> Report {
    match result {
        Ok(_) => panic!("{what}: expected a lock-order inversion, the acquire succeeded"),
        Err(d) => {
            let r = d.into_report();
            assert_eq!(
                r.kind(),
                ReportKind::LockOrderInversion,
                "{what}: wrong kind:\n{r}"
            );
            r
        }
    }
}

/// The edge `from -> to` of a report.
fn edge<'r>(r: &'r Report, from: &str, to: &str) -> &'r OrderEdge {
    r.order_edges()
        .iter()
        .find(|e| e.from == from && e.to == to)
        .unwrap_or_else(|| panic!("no edge `{from}` -> `{to}` in the report:\n{r}"))
}

/// Asserts that `e` was taken at `(from_line, to_line)` of this file.
fn assert_sites(e: &OrderEdge, from_line: u32, to_line: u32, r: &Report) {
    assert_eq!(e.from_site.file(), file!(), "{r}");
    assert_eq!(e.to_site.file(), file!(), "{r}");
    assert_eq!(
        (e.from_site.line(), e.to_site.line()),
        (from_line, to_line),
        "sites of `{}` -> `{}`:\n{r}",
        e.from,
        e.to
    );
}

/// Two threads, one after the other: the first takes A then B, the second B then A.
/// Nothing can deadlock in this run (the first has finished before the second starts),
/// and still the inversion is reported, naming both call-site pairs.
#[test]
fn two_threads_ab_then_ba_sequentially_is_reported_with_both_sites() {
    common::with_deadline(20, "two_threads_ab_ba", || {
        let a = Arc::new(Lock::new(0).named("lo_seq_account_a"));
        let b = Arc::new(Lock::new(0).named("lo_seq_account_b"));
        let first = {
            let (a, b) = (a.clone(), b.clone());
            std::thread::Builder::new()
                .name("lo-seq-first".into())
                .spawn(move || {
                    let (ga, la) = (a.acquire(), line!());
                    let (gb, lb) = (b.acquire(), line!());
                    drop((gb, ga));
                    (la, lb)
                })
                .unwrap()
        };
        // The join orders the two threads: no interleaving, no deadlock possible.
        let (a_then, then_b) = first.join().unwrap();
        let second = {
            let (a, b) = (a.clone(), b.clone());
            std::thread::Builder::new()
                .name("lo-seq-second".into())
                .spawn(move || {
                    let (gb, lb) = (b.acquire(), line!());
                    let (res, la) = (a.acquire_checked().map(drop), line!());
                    drop(gb);
                    (res, lb, la)
                })
                .unwrap()
        };
        let (res, b_then, then_a) = second.join().unwrap();
        let r = expect_inversion(res, "B then A after A then B");
        assert_eq!(r.order_edges().len(), 2, "{r}");
        let ab = edge(&r, "lo_seq_account_a", "lo_seq_account_b");
        assert_sites(ab, a_then, then_b, &r);
        assert_eq!(ab.thread, "lo-seq-first");
        let ba = edge(&r, "lo_seq_account_b", "lo_seq_account_a");
        assert_sites(ba, b_then, then_a, &r);
        assert_eq!(ba.thread, "lo-seq-second");
        assert!(
            r.headline().contains("`lo_seq_account_a`")
                && r.headline().contains("`lo_seq_account_b`"),
            "{}",
            r.headline()
        );
        assert!(r.headline().contains("both orders"), "{}", r.headline());
        assert_eq!(r.location().map(|l| l.line()), Some(then_a));
        // The rendered report shows both sites and the scenario table.
        let text = r.to_string();
        for line in [a_then, then_b, b_then, then_a] {
            assert!(
                text.contains(&format!("{}:{line}:", file!())),
                "line {line} missing:\n{text}"
            );
        }
        assert!(
            text.contains("lo-seq-first") && text.contains("lo-seq-second"),
            "{text}"
        );
        assert!(text.contains("possible deadlock scenario"), "{text}");
        assert!(text.contains("lock(lo_seq_account_b)  <- blocks"), "{text}");
        assert!(text.contains("hint"), "{text}");
        // The lock that was refused is not held: both are free again.
        assert!(!a.locked() && !b.locked());
    });
}

#[test]
fn same_thread_ab_then_ba_is_reported() {
    let a = Lock::new(()).named("lo_same_a");
    let b = Lock::new(()).named("lo_same_b");
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    let _b = b.acquire();
    let r = expect_inversion(a.acquire_checked(), "same thread B then A");
    assert_eq!(r.order_edges().len(), 2, "{r}");
    edge(&r, "lo_same_a", "lo_same_b");
    edge(&r, "lo_same_b", "lo_same_a");
}

/// A -> B, B -> C, C -> A, each by its own thread, one after the other: a cycle of three
/// (go-deadlock only sees pairs).
#[test]
fn three_locks_across_three_threads_are_reported_with_three_edges() {
    common::with_deadline(20, "three_locks", || {
        let locks: Vec<Arc<Lock<()>>> = ["lo_tri_a", "lo_tri_b", "lo_tri_c"]
            .iter()
            .map(|n| Arc::new(Lock::new(()).named(n)))
            .collect();
        let mut results = vec![];
        for i in 0..3 {
            let first = locks[i].clone();
            let second = locks[(i + 1) % 3].clone();
            let (tx, rx) = mpsc::channel();
            std::thread::Builder::new()
                .name(format!("lo-tri-{i}"))
                .spawn(move || {
                    let (g1, l1) = (first.acquire(), line!());
                    let (res, l2) = (second.acquire_checked().map(drop), line!());
                    drop(g1);
                    tx.send((res, l1, l2)).unwrap();
                })
                .unwrap();
            // The channel orders the threads: the next one starts after this one is done.
            results.push(rx.recv().unwrap());
        }
        let (last, _, _) = results.pop().unwrap();
        for (res, _, _) in &results {
            assert!(res.is_ok(), "no cycle yet, no report");
        }
        let r = expect_inversion(last, "C then A closes A -> B -> C -> A");
        assert_eq!(r.order_edges().len(), 3, "{r}");
        let names = ["lo_tri_a", "lo_tri_b", "lo_tri_c"];
        for i in 0..2 {
            let e = edge(&r, names[i], names[i + 1]);
            assert_sites(e, results[i].1, results[i].2, &r);
            assert_eq!(e.thread, format!("lo-tri-{i}"));
        }
        edge(&r, "lo_tri_c", "lo_tri_a");
        // The edges are in cycle order, starting with the one that closed it.
        let edges = r.order_edges();
        assert_eq!(
            (edges[0].from.as_str(), edges[0].to.as_str()),
            ("lo_tri_c", "lo_tri_a")
        );
        for i in 0..3 {
            assert_eq!(edges[i].to, edges[(i + 1) % 3].from, "{r}");
        }
        assert!(r.headline().contains("cycle"), "{}", r.headline());
        let text = r.to_string();
        assert!(text.contains("thread 3"), "a column per edge:\n{text}");
    });
}

/// A cycle of four on one thread.
#[test]
fn a_cycle_of_four_is_found() {
    let l: Vec<Lock<()>> = (0..4)
        .map(|i| Lock::new(()).named(&format!("lo_four_{i}")))
        .collect();
    for i in 0..3 {
        let _x = l[i].acquire();
        let _y = l[i + 1].acquire_checked().expect("no cycle yet");
    }
    let _d = l[3].acquire();
    let r = expect_inversion(l[0].acquire_checked(), "3 then 0");
    assert_eq!(r.order_edges().len(), 4, "{r}");
}

/// G -> A -> B and G -> B -> A: the gate serialises both orders, so no deadlock.
#[test]
fn a_common_gate_lock_covers_the_cycle() {
    common::with_deadline(20, "gate", || {
        let g = Arc::new(Lock::new(()).named("lo_gate_g"));
        let a = Arc::new(Lock::new(()).named("lo_gate_a"));
        let b = Arc::new(Lock::new(()).named("lo_gate_b"));
        let run = |first: Arc<Lock<()>>, second: Arc<Lock<()>>| {
            let g = g.clone();
            std::thread::spawn(move || {
                let _g = g.acquire_checked()?;
                let _x = first.acquire_checked()?;
                let _y = second.acquire_checked()?;
                Ok::<(), synckit::Deadlock>(())
            })
            .join()
            .unwrap()
        };
        run(a.clone(), b.clone()).expect("G -> A -> B is clean");
        run(b.clone(), a.clone()).expect("G -> B -> A is covered by the gate");
        // The same on one thread.
        let _g = g.acquire();
        {
            let _a = a.acquire_checked().unwrap();
            let _b = b.acquire_checked().unwrap();
        }
        let _b = b.acquire_checked().unwrap();
        let _a = a.acquire_checked().unwrap();
    });
}

/// The gate covers only the edges taken under it: B -> A later without G is reported, and
/// the report shows where the ungated acquire happened.
#[test]
fn the_same_order_outside_the_gate_is_reported() {
    let g = Lock::new(()).named("lo_ungate_g");
    let a = Lock::new(()).named("lo_ungate_a");
    let b = Lock::new(()).named("lo_ungate_b");
    {
        let _g = g.acquire();
        let _a = a.acquire();
        let _b = b.acquire();
    }
    {
        let _g = g.acquire();
        let _b = b.acquire();
        let _a = a.acquire_checked().expect("under the gate");
    }
    let (_b, lb) = (b.acquire(), line!());
    let (res, la) = (a.acquire_checked().map(drop), line!());
    let r = expect_inversion(res, "B then A without the gate");
    assert_sites(edge(&r, "lo_ungate_b", "lo_ungate_a"), lb, la, &r);
}

/// A nest taken again is not probed again (the thread's known chain), but only under the
/// very same outer locks: A -> B under G, then A -> B under H, must lose G as the edge's
/// gate, so that B -> A under G is a real inversion. The steps go through `acquire`, the
/// form with the inline fast path, and are repeated so that the chain knows them.
#[test]
fn a_known_nest_under_other_outer_locks_is_probed_again() {
    let g = Lock::new(()).named("lo_chain_g");
    let h = Lock::new(()).named("lo_chain_h");
    let a = Lock::new(()).named("lo_chain_a");
    let b = Lock::new(()).named("lo_chain_b");
    let nest = |gate: &Lock<()>| {
        let _gate = gate.acquire();
        let _a = a.acquire();
        let _b = b.acquire();
    };
    nest(&g);
    nest(&g); // known now
    nest(&h); // same predecessor, different gate: the edge's gates become none
    nest(&h);
    let _g = g.acquire();
    let _b = b.acquire();
    let r = expect_inversion(a.acquire_checked().map(drop), "A -> B is no longer gated");
    edge(&r, "lo_chain_a", "lo_chain_b");
    edge(&r, "lo_chain_b", "lo_chain_a");
}

/// Two gate-covered inversions that share a lock: A <-> B always under G1, B <-> C always
/// under G2. Each cycle is serialised by its gate; going around both would need `B` held by
/// two threads at once, so there is nothing to report.
#[test]
fn two_cycles_covered_by_different_gates_are_not_reported() {
    let g1 = Lock::new(()).named("lo_eight_g1");
    let g2 = Lock::new(()).named("lo_eight_g2");
    let a = Lock::new(()).named("lo_eight_a");
    let b = Lock::new(()).named("lo_eight_b");
    let c = Lock::new(()).named("lo_eight_c");
    let nest = |gate: &Lock<()>, x: &Lock<()>, y: &Lock<()>| -> Result<(), synckit::Deadlock> {
        let _g = gate.acquire_checked()?;
        let _x = x.acquire_checked()?;
        let _y = y.acquire_checked()?;
        Ok(())
    };
    nest(&g1, &a, &b).unwrap();
    nest(&g1, &b, &a).unwrap();
    nest(&g2, &b, &c).unwrap();
    nest(&g2, &c, &b).unwrap();
    // And the walk A -> B -> C -> B -> A is not closed by taking A -> B once more either.
    nest(&g1, &a, &b).unwrap();
}

/// Many gate-covered paths back to the new edge's lock: the search for a gate-free simple
/// cycle gives up on enumerating them (a budget of steps, so its cost is bounded by
/// construction, not by a clock) and still answers right, in both ways. Without the budget
/// the search would enumerate 2^18 paths; the deadline turns such a blow-up into a failure.
#[test]
fn a_dense_gate_covered_graph_is_searched_within_its_budget_and_right() {
    common::with_deadline(60, "dense_gate_covered_graph", || {
        const N: usize = 20;
        let g = Lock::new(()).named("lo_dense_g");
        let a = Lock::new(()).named("lo_dense_a");
        let x: Vec<Lock<()>> = (0..N)
            .map(|i| Lock::new(()).named(&format!("lo_dense_x{i}")))
            .collect();
        let under_g = |first: &Lock<()>, second: &Lock<()>| {
            let _g = g.acquire_checked().unwrap();
            let _f = first.acquire_checked().unwrap();
            second.acquire_checked().map(drop)
        };
        for xi in &x {
            under_g(xi, &a).unwrap();
        }
        for i in (0..N).rev() {
            for j in i + 1..N {
                under_g(&x[i], &x[j]).unwrap();
            }
        }
        // 2^18 simple paths x0 ~> a, every one of them under G: covered, not reported.
        under_g(&a, &x[0]).expect("every cycle is covered by the gate");
        // The same order without the gate is an inversion.
        let _a = a.acquire();
        expect_inversion(x[0].acquire_checked(), "A then X0 outside the gate");
    });
}

/// A try-acquire cannot block, so it adds no edge.
#[test]
fn try_acquire_in_the_reverse_order_is_not_reported() {
    let a = Lock::new(()).named("lo_try_a");
    let b = Lock::new(()).named("lo_try_b");
    {
        let _b = b.acquire();
        let _a = a.try_acquire().expect("free");
    }
    {
        // Had the try added B -> A, this would close a cycle.
        let _a = a.acquire_checked().unwrap();
        let _b = b
            .acquire_checked()
            .expect("the try-acquire left no edge B -> A");
    }
    {
        let _b = b.acquire();
        let _a = a.try_acquire().expect("a try in the reverse order is fine");
    }
    // But a lock taken with try is held: a blocking acquire under it does add an edge.
    let c = Lock::new(()).named("lo_try_c");
    {
        let _c = c.try_acquire().unwrap();
        let _a = a.acquire_checked().unwrap();
    }
    let _a = a.acquire();
    expect_inversion(c.acquire_checked(), "A then C after C (try) then A");
}

/// Re-entering an RLock adds no edge: R -> A, then R again under A, is not an inversion.
#[test]
fn rlock_reentry_is_not_reported() {
    let r = RLock::new(()).named("lo_reentry_r");
    let a = Lock::new(()).named("lo_reentry_a");
    {
        let _r = r.acquire_checked().unwrap();
        let _a = a.acquire_checked().unwrap();
        let _r2 = r
            .acquire_checked()
            .expect("re-entry under A adds no A -> R");
        let _r3 = r.acquire_checked().unwrap();
    }
    // The first acquire of an RLock is ordered like any other.
    let _a = a.acquire();
    expect_inversion(r.acquire_checked(), "A then R after R then A");
}

/// Dropped locks leave the graph: new locks (even at the same address, with the same
/// names) start with no history.
#[test]
fn dropped_locks_leave_the_graph() {
    for round in 0..3 {
        // Same names every round, boxed so the allocator may reuse the addresses.
        let a = Box::new(Lock::new(()).named("lo_dropped_a"));
        let b = Box::new(Lock::new(()).named("lo_dropped_b"));
        if round % 2 == 0 {
            let _a = a.acquire_checked().unwrap();
            let _b = b.acquire_checked().unwrap();
        } else {
            let _b = b.acquire_checked().unwrap();
            let _a = a
                .acquire_checked()
                .expect("the previous round's locks are gone");
        }
        assert!(detector::lock_order_dot().contains("lo_dropped_a"));
    }
    let dot = detector::lock_order_dot();
    assert!(
        !dot.contains("lo_dropped_a") && !dot.contains("lo_dropped_b"),
        "stale nodes:\n{dot}"
    );
    // A long-lived lock keeps its node; the dropped one goes, with its edge.
    let keep = Lock::new(()).named("lo_dropped_keep");
    for _ in 0..3 {
        let tmp = Lock::new(()).named("lo_dropped_tmp");
        {
            let _t = tmp.acquire();
            let _k = keep.acquire_checked().unwrap();
        }
        {
            let _k = keep.acquire();
            let _t = tmp.acquire_checked().map(drop);
            expect_inversion(_t, "same locks, both orders");
        }
    }
    let dot = detector::lock_order_dot();
    assert!(!dot.contains("lo_dropped_tmp"), "{dot}");
}

/// The bank transfer with lock classes: every account lock is one node, so two accounts
/// held at once need `acquire_nested` and one documented order (here: by id).
#[test]
fn lock_classes_ordered_transfers_are_clean() {
    common::with_deadline(30, "classes_ordered", || {
        let accounts: Arc<Vec<Lock<i64>>> = Arc::new(
            (0..5)
                .map(|_| Lock::new(100).class("lo_account_ordered"))
                .collect(),
        );
        let transfer = |accounts: &[Lock<i64>], from: usize, to: usize, amount: i64| {
            let (lo, hi) = (from.min(to), from.max(to));
            let mut first = accounts[lo].acquire_checked().expect("outer account");
            let mut second = accounts[hi].acquire_nested(1);
            if from == lo {
                *first -= amount;
                *second += amount;
            } else {
                *second -= amount;
                *first += amount;
            }
        };
        let workers: Vec<_> = (0..3)
            .map(|t| {
                let accounts = accounts.clone();
                std::thread::spawn(move || {
                    for i in 0..50 {
                        let from = (i + t) % 5;
                        let to = (i * 3 + t + 1) % 5;
                        if from != to {
                            transfer(&accounts, from, to, 1);
                        }
                    }
                })
            })
            .collect();
        for w in workers {
            w.join().expect("ordered transfers are never reported");
        }
        let total: i64 = accounts.iter().map(|a| *a.acquire()).sum();
        assert_eq!(total, 500);
        let dot = detector::lock_order_dot();
        assert!(dot.contains("class lo_account_ordered/1"), "{dot}");
    });
}

#[test]
fn lock_classes_unordered_without_nested_are_reported() {
    let accounts: Vec<Lock<i64>> = (0..3)
        .map(|_| Lock::new(100).class("lo_account_unordered"))
        .collect();
    let _from = accounts[2].acquire();
    let (res, line) = (accounts[0].acquire_checked().map(drop), line!());
    let r = expect_inversion(res, "two accounts without nested");
    assert_eq!(r.order_edges().len(), 1, "{r}");
    assert!(r.headline().contains("acquire_nested"), "{}", r.headline());
    assert!(
        r.headline().contains("lo_account_unordered"),
        "{}",
        r.headline()
    );
    assert_eq!(r.location().map(|l| l.line()), Some(line));
    assert!(r.hint().contains("acquire_nested(1)"), "{}", r.hint());
    // The scenario shows two threads, one member each.
    let text = r.to_string();
    assert!(text.contains("thread 2"), "{text}");
    assert!(
        text.contains("lock(class lo_account_unordered #2)  <- blocks"),
        "{text}"
    );
}

/// A class learns an order on one instance and applies it to all of them.
#[test]
fn lock_classes_share_their_order() {
    let bank = Lock::new(()).named("lo_class_bank");
    let accounts: Vec<Lock<i64>> = (0..2)
        .map(|_| Lock::new(0).class("lo_account_shared"))
        .collect();
    {
        let _bank = bank.acquire();
        let _a = accounts[0].acquire_checked().unwrap();
    }
    let _b = accounts[1].acquire();
    let r = expect_inversion(bank.acquire_checked(), "another account, then bank");
    edge(&r, "class lo_account_shared", "lo_class_bank");
}

/// Each distinct inversion is reported once; reporting one leaves the detector on.
#[test]
fn each_inversion_is_reported_once_and_the_detector_stays_on() {
    common::with_deadline(20, "reported_once", || {
        let a = Arc::new(Lock::new(()).named("lo_once_a"));
        let b = Arc::new(Lock::new(()).named("lo_once_b"));
        {
            let _a = a.acquire();
            let _b = b.acquire();
        }
        let ba = |a: &Lock<()>, b: &Lock<()>| {
            let _b = b.acquire();
            a.acquire_checked().map(drop)
        };
        expect_inversion(ba(&a, &b), "first B then A");
        assert!(
            ba(&a, &b).is_ok(),
            "the same inversion again, same thread: not reported again"
        );
        let (a2, b2) = (a.clone(), b.clone());
        let other = std::thread::spawn(move || ba(&a2, &b2)).join().unwrap();
        assert!(
            other.is_ok(),
            "the same inversion on another thread: not reported again"
        );
        {
            // From other call sites it is still the same inversion.
            let _b = b.acquire();
            let _a = a.acquire_checked().expect("same pair, other sites");
        }
        // A different inversion later in the run is still found.
        let c = Lock::new(()).named("lo_once_c");
        {
            let _a = a.acquire();
            let _c = c.acquire();
        }
        let _c = c.acquire();
        let r = expect_inversion(a.acquire_checked(), "C then A, a new inversion");
        edge(&r, "lo_once_c", "lo_once_a");
    });
}

/// A timed acquire records the edge (it blocks, for a while) and the report says so.
#[test]
fn timed_acquires_add_the_edge_and_are_marked_timed() {
    let a = Lock::new(()).named("lo_timed_a");
    let b = Lock::new(()).named("lo_timed_b");
    {
        let _a = a.acquire();
        let _b = b.acquire_timeout(Duration::from_secs(5)).expect("free");
    }
    let _b = b.acquire();
    let r = expect_inversion(a.acquire_checked(), "B then A after A then B (timed)");
    assert!(edge(&r, "lo_timed_a", "lo_timed_b").timed, "{r}");
    assert!(!edge(&r, "lo_timed_b", "lo_timed_a").timed, "{r}");
    let text = r.to_string();
    assert!(text.contains("(timed acquire)"), "{text}");
    assert!(
        text.contains("`lo_timed_b` at tests/lock_order.rs:"),
        "{text}"
    );
    assert!(text.contains("was timed"), "{text}");
}

#[test]
fn report_to_dot_draws_the_inversion() {
    let a = Lock::new(()).named("lo_dot_first");
    let b = Lock::new(()).named("lo_dot_second");
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    let _b = b.acquire();
    let r = expect_inversion(a.acquire_checked(), "dot");
    let dot = r.to_dot();
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(
        dot.contains("\"lo_dot_first\" -> \"lo_dot_second\""),
        "{dot}"
    );
    assert!(
        dot.contains("\"lo_dot_second\" -> \"lo_dot_first\""),
        "{dot}"
    );
    assert!(dot.trim_end().ends_with('}'), "{dot}");
}

#[test]
fn lock_order_dot_dumps_the_whole_graph() {
    let a = Lock::new(()).named("lo_whole_a");
    let b = Lock::new(()).named("lo_whole_b \"quoted\"");
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    let dot = detector::lock_order_dot();
    assert!(dot.starts_with("digraph"), "{dot}");
    assert!(dot.contains("[label=\"lo_whole_a\"]"), "{dot}");
    assert!(
        dot.contains("lo_whole_b \\\"quoted\\\""),
        "quotes are escaped:\n{dot}"
    );
    assert!(
        dot.contains(file!()),
        "edges are labelled with their sites:\n{dot}"
    );
}

// ---------------------------------------------------------------------------------------
// The property: random single-thread programs of nested acquires, against a model.

const LOCKS: usize = 5; // lock 0 is the usual gate

#[derive(Clone, Debug)]
struct Block {
    /// Take lock 0 first, as a gate.
    gate: bool,
    /// The locks taken in nesting order (distinct, from 1..LOCKS), each with "try".
    locks: Vec<(usize, bool)>,
    /// In which order the held locks are released (indices into what is held).
    release: Vec<usize>,
}

fn block() -> impl Strategy<Value = Block> {
    (
        any::<bool>(),
        Just((1..LOCKS).collect::<Vec<_>>()).prop_shuffle(),
        1..LOCKS,
        prop::collection::vec(prop::bool::weighted(0.15), LOCKS),
        prop::collection::vec(any::<prop::sample::Index>(), LOCKS),
    )
        .prop_map(|(gate, order, n, tries, release)| Block {
            gate,
            locks: order[..n].iter().zip(tries).map(|(&l, t)| (l, t)).collect(),
            release: release.iter().map(|i| i.index(LOCKS)).collect(),
        })
}

/// The model: an edge from the most recently taken held lock to the new one, labelled with
/// the other held locks (intersected over every time it is taken). An inversion is a simple
/// cycle whose edges have no gate in common.
#[derive(Default)]
struct Model {
    edges: HashMap<(usize, usize), BTreeSet<usize>>,
}

impl Model {
    fn add(&mut self, held: &[usize], new: usize) -> Option<(usize, usize)> {
        let (&top, rest) = held.split_last()?;
        let gates: BTreeSet<usize> = rest.iter().copied().collect();
        self.edges
            .entry((top, new))
            .and_modify(|g| *g = g.intersection(&gates).copied().collect())
            .or_insert(gates);
        Some((top, new))
    }

    /// Every simple cycle, as node lists.
    fn cycles(&self) -> Vec<Vec<usize>> {
        fn walk(m: &Model, start: usize, path: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
            let last = *path.last().unwrap();
            for next in start..LOCKS {
                if !m.edges.contains_key(&(last, next)) {
                    continue;
                }
                if next == start {
                    out.push(path.clone());
                } else if !path.contains(&next) {
                    path.push(next);
                    walk(m, start, path, out);
                    path.pop();
                }
            }
        }
        let mut out = vec![];
        for start in 0..LOCKS {
            walk(self, start, &mut vec![start], &mut out);
        }
        out
    }

    fn uncovered(&self, cycle: &[usize]) -> bool {
        let mut common: Option<BTreeSet<usize>> = None;
        for i in 0..cycle.len() {
            let g = &self.edges[&(cycle[i], cycle[(i + 1) % cycle.len()])];
            common = Some(match common {
                None => g.clone(),
                Some(c) => c.intersection(g).copied().collect(),
            });
        }
        common.is_none_or(|c| c.is_empty())
    }

    fn has_inversion(&self) -> bool {
        self.cycles().iter().any(|c| self.uncovered(c))
    }

    fn has_inversion_through(&self, (x, y): (usize, usize)) -> bool {
        self.cycles().iter().any(|c| {
            self.uncovered(c) && (0..c.len()).any(|i| (c[i], c[(i + 1) % c.len()]) == (x, y))
        })
    }
}

fn name(i: usize) -> String {
    format!("lo_prop_{i}")
}

/// How the model test takes a lock: `acquire_checked` (a report as a value) or `acquire`
/// (the form with the inline fast path and its known-nest shortcut; a report as a panic).
#[derive(Clone, Copy, Debug)]
enum Form {
    Checked,
    Policy,
}

fn take(lock: &Lock<()>, form: Form) -> Result<synckit::LockGuard<'_, ()>, Box<Report>> {
    match form {
        Form::Checked => lock
            .acquire_checked()
            .map_err(|d| Box::new(d.into_report())),
        Form::Policy => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| lock.acquire()))
            .map_err(
                |payload| match payload.downcast::<detector::DeadlockPanic>() {
                    Ok(p) => p.report,
                    Err(other) => std::panic::resume_unwind(other),
                },
            ),
    }
}

fn run_program(blocks: &[Block], form: Form) -> Result<(), TestCaseError> {
    let locks: Vec<Lock<()>> = (0..LOCKS).map(|i| Lock::new(()).named(&name(i))).collect();
    let mut model = Model::default();
    let mut reported = false;
    // The policy form takes every block twice in a row: the second time, each nest is a
    // step the thread's known chain remembers, the shortcut this form is here to check.
    let times = match form {
        Form::Checked => 1,
        Form::Policy => 2,
    };
    for b in blocks.iter().flat_map(|b| std::iter::repeat_n(b, times)) {
        let mut held: Vec<usize> = vec![];
        let mut guards = vec![];
        let steps = b
            .gate
            .then_some((0, false))
            .into_iter()
            .chain(b.locks.iter().copied());
        for (l, try_) in steps {
            if try_ {
                guards.push(locks[l].try_acquire().expect("single thread: free"));
                held.push(l);
                continue;
            }
            let before = model.has_inversion();
            let new_edge = model.add(&held, l);
            match take(&locks[l], form) {
                Ok(g) => {
                    if let Some(e) = new_edge {
                        prop_assert!(
                            before || !model.has_inversion_through(e),
                            "edge {e:?} closes an uncovered cycle but was not reported; model {:?}",
                            model.edges
                        );
                    }
                    guards.push(g);
                    held.push(l);
                }
                Err(r) => {
                    let e = new_edge.expect("a report needs a held lock");
                    prop_assert!(
                        model.has_inversion_through(e),
                        "reported, but the model has no uncovered cycle through {e:?}: {:?}\n{r}",
                        model.edges
                    );
                    // The report's cycle is a simple, uncovered cycle of the model that
                    // starts with the edge just taken.
                    let edges = r.order_edges();
                    prop_assert_eq!((&edges[0].from, &edges[0].to), (&name(e.0), &name(e.1)));
                    let nodes: Vec<usize> = edges
                        .iter()
                        .map(|x| (0..LOCKS).find(|&i| name(i) == x.from).unwrap())
                        .collect();
                    for i in 0..edges.len() {
                        prop_assert_eq!(&edges[i].to, &edges[(i + 1) % edges.len()].from);
                    }
                    let distinct: BTreeSet<_> = nodes.iter().collect();
                    prop_assert_eq!(distinct.len(), nodes.len(), "not a simple cycle:\n{}", r);
                    prop_assert!(model.uncovered(&nodes), "covered cycle reported:\n{}", r);
                    reported = true;
                }
            }
        }
        for &i in &b.release {
            if !held.is_empty() {
                let k = i % held.len();
                held.remove(k);
                drop(guards.remove(k));
            }
        }
        // The rest in reverse order.
        while let Some(g) = guards.pop() {
            drop(g);
        }
    }
    prop_assert_eq!(reported, model.has_inversion(), "model: {:?}", model.edges);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn inversions_are_reported_iff_the_model_has_an_uncovered_cycle(
        blocks in prop::collection::vec(block(), 1..10)
    ) {
        run_program(&blocks, Form::Checked)?;
    }

    #[test]
    fn the_policy_form_reports_exactly_the_same(
        blocks in prop::collection::vec(block(), 1..10)
    ) {
        run_program(&blocks, Form::Policy)?;
    }
}

#[test]
fn two_locks_of_one_class_are_two_gates_not_one() {
    // Thread 1 holds account #1 and takes A then B; thread 2 holds account #2 and takes B
    // then A. The accounts share a class but are different locks: they serialise nothing,
    // so the A/B inversion is real and must be reported.
    let accounts: Arc<Vec<Lock<()>>> = Arc::new(
        (0..2)
            .map(|_| Lock::new(()).class("gate-class-account"))
            .collect(),
    );
    let a = Arc::new(Lock::new(()).named("gate-class-a"));
    let b = Arc::new(Lock::new(()).named("gate-class-b"));
    {
        let (accounts, a, b) = (accounts.clone(), a.clone(), b.clone());
        common::with_deadline(10, "first order", move || {
            let _gate = accounts[0].acquire();
            let _a = a.acquire();
            let _b = b.acquire();
        });
    }
    let report = common::with_deadline(10, "second order", move || {
        let _gate = accounts[1].acquire();
        let _b = b.acquire();
        a.acquire_checked().map(drop).err().map(|d| d.into_report())
    });
    let report = report.expect("the inversion under two different gates is reported");
    assert_eq!(report.kind(), ReportKind::LockOrderInversion, "{report}");
    assert!(report.headline().contains("gate-class-a"), "{report}");
}
