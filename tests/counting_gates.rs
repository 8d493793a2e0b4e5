//! Counting gates (issue 15, past lockdep): a cycle of n locks whose every edge was taken
//! while holding a permit of one semaphore with k < n permits cannot close — at most k threads
//! are inside, and the cycle needs n — so it is not an inversion. With k >= n it is, and the
//! report says so. Both sides of the line are tested, on one thread (orders taken one after
//! the other, nothing can block) and in closed worlds (the classic dinner with a waiter).
//!
//! Every test uses its own locks: the lock-order graph is process-wide.

mod common;

use std::sync::Arc;

use synckit::detector::ReportKind;
use synckit::thread::spawn_named;
use synckit::{BoundedSemaphore, Lock, Outcome, Semaphore};

/// Goes round a table of `n` forks once, seat by seat, each seat taking its left fork then
/// its right one while holding a permit of `waiter`. Returns the first refused acquire.
fn go_round(forks: &[Lock<()>], waiter: &Semaphore) -> Option<synckit::Report> {
    let n = forks.len();
    for seat in 0..n {
        let _permit = waiter.acquire();
        let _left = forks[seat].acquire_checked().ok()?;
        if let Err(d) = forks[(seat + 1) % n].acquire_checked() {
            return Some(d.into_report());
        }
    }
    None
}

fn forks(prefix: &str, n: usize) -> Vec<Lock<()>> {
    (0..n)
        .map(|i| Lock::new(()).named(&format!("{prefix}-fork-{i}")))
        .collect()
}

#[test]
fn a_waiter_with_fewer_permits_than_forks_covers_the_cycle() {
    let forks = forks("cg-four", 5);
    let waiter = Semaphore::new(4).named("cg-four-waiter");
    assert!(
        go_round(&forks, &waiter).is_none(),
        "five forks taken under a waiter of 4 permits: no inversion"
    );
}

#[test]
fn a_waiter_with_as_many_permits_as_forks_does_not() {
    let forks = forks("cg-five", 5);
    let waiter = Semaphore::new(5).named("cg-five-waiter");
    let report = go_round(&forks, &waiter).expect("five forks, five permits: an inversion");
    assert_eq!(report.kind(), ReportKind::LockOrderInversion, "{report}");
    assert_eq!(report.order_edges().len(), 5, "{report}");
}

#[test]
fn releases_that_add_permits_raise_the_count() {
    // A plain semaphore released beyond its initial value has more permits in all: 4 + 1.
    let forks = forks("cg-grown", 5);
    let waiter = Semaphore::new(4).named("cg-grown-waiter");
    waiter.release();
    let report = go_round(&forks, &waiter).expect("5 permits now: an inversion");
    assert_eq!(report.kind(), ReportKind::LockOrderInversion, "{report}");
}

#[test]
fn a_bounded_semaphore_of_one_is_a_gate_lock() {
    let a = Lock::new(()).named("cg-gate-a");
    let b = Lock::new(()).named("cg-gate-b");
    let gate = BoundedSemaphore::new(1).named("cg-gate");
    {
        let _g = gate.acquire();
        let _a = a.acquire();
        let _b = b.acquire();
    }
    let _g = gate.acquire();
    let _b = b.acquire();
    assert!(
        a.acquire_checked().is_ok(),
        "A then B and B then A, both under a one-permit gate: no inversion"
    );
}

#[test]
fn one_edge_taken_without_the_semaphore_uncovers_the_cycle() {
    let a = Lock::new(()).named("cg-once-a");
    let b = Lock::new(()).named("cg-once-b");
    let gate = BoundedSemaphore::new(1).named("cg-once-gate");
    {
        let _g = gate.acquire();
        let _a = a.acquire();
        let _b = b.acquire(); // under the gate first: remembered (and cached) with it
    }
    {
        let _a = a.acquire();
        let _b = b.acquire(); // the same order, now without the gate
    }
    let _g = gate.acquire();
    let _b = b.acquire();
    let report = a
        .acquire_checked()
        .map(drop)
        .expect_err("A -> B was once ungated");
    assert_eq!(report.report().kind(), ReportKind::LockOrderInversion);
}

/// The program: five philosophers, a waiter who lets four sit at once. Run under
/// `check` five times (real threads, so the interleavings vary): never a report.
#[test]
fn the_dinner_with_a_waiter_of_four_is_clean_five_times() {
    for run in 0..5 {
        let outcome = common::with_deadline(30, "waiter dinner", move || {
            synckit::check(move || dinner(&format!("cg-dinner-{run}"), 4))
        });
        assert!(outcome.is_ok(), "run {run}: {outcome}");
    }
}

/// The same with a waiter of five permits: the fork order is a cycle nothing covers, and the
/// world's report is the inversion (or, if this run's timing let all five sit, the deadlock).
#[test]
fn the_dinner_with_a_waiter_of_five_reports_the_inversion() {
    let outcome = common::with_deadline(30, "waiter of five", || {
        synckit::check(|| dinner("cg-dinner-five", 5))
    });
    match outcome {
        Outcome::Deadlock(report) => {
            assert!(
                matches!(
                    report.kind(),
                    ReportKind::LockOrderInversion | ReportKind::Deadlock
                ),
                "{report}"
            );
            assert!(
                report.to_string().contains("cg-dinner-five-fork"),
                "{report}"
            );
        }
        other => panic!("expected the inversion, got {other}"),
    }
}

fn dinner(prefix: &str, permits: usize) {
    let forks: Arc<Vec<Lock<u32>>> = Arc::new(
        (0..5)
            .map(|i| Lock::new(0).named(&format!("{prefix}-fork-{i}")))
            .collect(),
    );
    let waiter = Arc::new(Semaphore::new(permits).named(&format!("{prefix}-waiter")));
    let philosophers: Vec<_> = (0..5)
        .map(|seat| {
            let (forks, waiter) = (forks.clone(), waiter.clone());
            spawn_named(&format!("philosopher-{seat}"), move || {
                let _seat = waiter.acquire();
                let mut left = forks[seat].acquire();
                let mut right = forks[(seat + 1) % 5].acquire();
                *left += 1;
                *right += 1;
            })
        })
        .collect();
    for p in philosophers {
        let _ = p.join();
    }
}
