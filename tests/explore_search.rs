//! Controlled schedules (`synckit::testing::explore`), the search itself: barging found by
//! `explore_semaphore`, the partial-order reduction (fewer schedules, the same bugs), and a
//! search that says plainly whether it covered its bound or stopped at its budget.
//!
//! Every test runs under `common::with_deadline`; no test sleeps.
#![cfg(feature = "testing")]

mod common;

#[path = "support/bounded_queue.rs"]
mod bounded_queue;
#[path = "support/buggy.rs"]
mod buggy;

use std::sync::Arc;
use std::time::Duration;

use bounded_queue::producers_and_consumers;
use buggy::*;
use common::with_deadline;
use synckit::Lock;
use synckit::testing::{self, Budget, Config, FailureKind, Run, SemaphoreLike};
use synckit::thread::yield_point;

// ---------------------------------------------------------------------------------------
// Bug 5: a semaphore whose acquire waits with `if`: barging is a schedule like any other
// ---------------------------------------------------------------------------------------

fn assert_barged(failure: &testing::Failure) {
    assert_eq!(failure.kind(), FailureKind::Panic, "{failure}");
    assert!(
        failure
            .message()
            .contains("acquire() returned without a permit"),
        "{failure}"
    );
    // The thread that came back without a permit is one of the two waiters or the barger.
    let thread = failure.thread().unwrap_or("?");
    assert!(
        ["waiter-1", "waiter-2", "barger"].contains(&thread),
        "{failure}"
    );
}

#[test]
fn an_if_wait_semaphore_fails_explore_semaphore_every_run() {
    with_deadline(120, "if-wait semaphore", || {
        for notify_all in [true, false] {
            // Bounded-exhaustive: deterministic, so "every run" is every run.
            let failure = testing::explore_semaphore(Config::exhaustive(2), 1, move |n| {
                IfSemaphore::new(n, notify_all)
            })
            .unwrap_err();
            assert_barged(&failure);
            // Random: whatever the seed (scenario 3 fails within its first few schedules;
            // scenarios 1 and 2 run all of theirs first).
            for seed in 1..=3 {
                let failure =
                    testing::explore_semaphore(Config::random(300).seed(seed), 1, move |n| {
                        IfSemaphore::new(n, notify_all)
                    })
                    .unwrap_err();
                assert_barged(&failure);
            }
        }
        // The same scenarios pass with `while` (the correct semaphore) and with synckit's:
        // see `the_fixed_semaphore_and_synckits_pass_every_schedule`.
    });
}

#[test]
fn a_barger_takes_the_permit_between_the_notify_and_the_wake_up() {
    // Written out by hand: one waiter, and a thread that takes the permit first. The
    // scheduler offers the interleaving where the barger runs after the notify and before
    // the woken waiter has its lock back.
    with_deadline(60, "barging by hand", || {
        let failure = testing::explore(Config::exhaustive(1), |run| {
            let sem = Arc::new(IfSemaphore::new(0, false));
            let waiter = {
                let sem = sem.clone();
                run.spawn("waiter", move || {
                    sem.acquire();
                    assert_ne!(
                        sem.available(),
                        usize::MAX,
                        "the waiter took a permit nobody gave"
                    );
                })
            };
            yield_point(); // the default schedule lets the waiter go first: it waits
            sem.release();
            let barger = {
                let sem = sem.clone();
                run.spawn("barger", move || sem.acquire())
            };
            sem.release();
            let _ = barger.join();
            let _ = waiter.join();
        })
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Panic, "{failure}");
        assert!(failure.message().contains("nobody gave"), "{failure}");
        let lanes = failure.lanes();
        assert!(lanes.contains("notify `freed`"), "{failure}");
    });
}

// ---------------------------------------------------------------------------------------
// The partial-order reduction: fewer schedules, the same bugs
// ---------------------------------------------------------------------------------------

#[test]
fn the_reduction_tries_steps_on_different_locks_in_one_order_only() {
    with_deadline(120, "reduction", || {
        // Three threads, each with a lock of its own: every order of their steps ends the
        // same, so the reduction drops schedules (3,120 -> 2,410 here: the preemption bound
        // already cut most reorderings, and joins and thread starts commute with nothing).
        let own_locks = |run: &Run| {
            let workers: Vec<_> = (0..3)
                .map(|i| {
                    run.spawn(&format!("worker-{i}"), move || {
                        let mine = Lock::new(0).named("mine");
                        for _ in 0..2 {
                            *mine.acquire() += 1;
                        }
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
        };
        let limit = Duration::from_secs(100);
        let full = testing::explore(
            Config::exhaustive(2).reduction(false).time_limit(limit),
            own_locks,
        )
        .unwrap();
        let reduced = testing::explore(Config::exhaustive(2).time_limit(limit), own_locks).unwrap();
        assert!(full.complete && reduced.complete, "{full} / {reduced}");
        assert!(
            reduced.schedules * 5 <= full.schedules * 4,
            "reduced {} vs full {}",
            reduced.schedules,
            full.schedules
        );
    });
}

#[test]
fn every_bug_is_found_with_the_reduction_as_without() {
    with_deadline(240, "bugs with and without the reduction", || {
        type Search = Box<dyn Fn(Config) -> Result<testing::Stats, testing::Failure>>;
        let searches: Vec<(&str, Search)> = vec![
            (
                "lost update",
                Box::new(|c| testing::explore(c, lost_update)),
            ),
            (
                "if instead of while",
                Box::new(|c| testing::explore(c, consumers(false))),
            ),
            (
                "lost wake-up",
                Box::new(|c| testing::explore(c, flag_outside_the_lock)),
            ),
            ("ab/ba", Box::new(|c| testing::explore(c, ab_ba(true)))),
            (
                "missing notify",
                Box::new(|c| {
                    testing::explore_semaphore(c, 1, |n| LockCondSemaphore::new(n, false))
                }),
            ),
            (
                "if-wait semaphore",
                Box::new(|c| testing::explore_semaphore(c, 1, |n| IfSemaphore::new(n, false))),
            ),
        ];
        for (what, search) in &searches {
            for config in [Config::exhaustive(2), Config::delay_bounded(2)] {
                let config = config.time_limit(Duration::from_secs(60)).shrink(false);
                let with = search(config.clone()).expect_err(what);
                let without = search(config.reduction(false)).expect_err(what);
                assert_eq!(with.kind(), without.kind(), "{what}: {with}\n{without}");
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// Bounded by default, honest always
// ---------------------------------------------------------------------------------------

#[test]
fn a_search_too_big_for_its_budget_says_it_is_not_a_proof() {
    with_deadline(120, "budget", || {
        // Preemption bound 3 on the bounded queue is far more than a few seconds of
        // schedules: the default budget (5 s, 100,000 schedules) stops it.
        let stats = testing::explore(Config::exhaustive(3), producers_and_consumers).unwrap();
        assert!(!stats.complete, "{stats}");
        let stopped = stats.stopped.expect("stopped at a budget");
        assert!(
            matches!(stopped, Budget::Time(t) if t == Duration::from_secs(5))
                || stopped == Budget::Schedules(100_000),
            "{stats}"
        );
        let text = stats.to_string();
        assert!(text.starts_with("stopped at the budget"), "{text}");
        assert!(text.contains("not a proof"), "{text}");
        // A budget of one's own, and the same honesty.
        let stats = testing::explore(
            Config::exhaustive(3).max_schedules(50),
            producers_and_consumers,
        )
        .unwrap();
        assert_eq!(stats.stopped, Some(Budget::Schedules(50)), "{stats}");
        assert_eq!(stats.schedules, 50, "{stats}");
        // A complete search says what it covered.
        let stats = testing::explore(Config::delay_bounded(1), producers_and_consumers).unwrap();
        assert!(stats.complete && stats.stopped.is_none(), "{stats}");
        let text = stats.to_string();
        assert!(
            text.starts_with("complete: every schedule within delay bound 1 passed"),
            "{text}"
        );
        // A random sample is never a proof.
        let stats = testing::explore(Config::random(20).seed(1), producers_and_consumers).unwrap();
        assert!(stats.complete, "{stats}");
        assert!(stats.to_string().contains("not a proof"), "{stats}");
    });
}

#[test]
fn a_shrink_that_runs_out_of_replays_says_so() {
    with_deadline(60, "shrink budget", || {
        // The `if` bug needs two preemptions; one replay cannot show that none is needed.
        let failure = testing::explore(Config::exhaustive(2).max_shrink_runs(1), consumers(false))
            .unwrap_err();
        let text = failure.to_string();
        assert!(!text.contains("already minimal"), "{text}");
        assert!(
            text.contains("shrink budget ran out") || text.contains("the whole shrink budget"),
            "{text}"
        );
        assert!(text.contains("Config::max_shrink_runs"), "{text}");
        // With room to shrink, it says it is minimal only once it checked.
        let failure = testing::explore(Config::exhaustive(2), consumers(false)).unwrap_err();
        assert!(!failure.to_string().contains("shrink budget"), "{failure}");
    });
}

// ---------------------------------------------------------------------------------------
// The program's own output
// ---------------------------------------------------------------------------------------

#[cfg(target_os = "linux")]
#[test]
fn only_the_failing_schedules_output_is_shown() {
    with_deadline(60, "output", || {
        let failure = testing::explore(Config::random(200).seed(9), |run| {
            println!("schedule {} starts", run.index());
            lost_update(run);
            eprintln!("schedule {} passed", run.index());
        })
        .unwrap_err();
        let output = failure.output();
        // One schedule's output, the replay's: it printed when it started, and failed before
        // it could say it passed.
        assert_eq!(output.matches("starts").count(), 1, "{output:?}");
        assert!(!output.contains("passed"), "{output:?}");
        assert!(
            failure
                .to_string()
                .contains("what the program printed under this schedule"),
            "{failure}"
        );
        // Without the capture, nothing is kept.
        let failure = testing::explore(Config::random(200).seed(9).capture_output(false), |run| {
            print!("");
            lost_update(run)
        })
        .unwrap_err();
        assert_eq!(failure.output(), "");
    });
}
