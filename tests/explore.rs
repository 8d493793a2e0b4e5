//! Controlled schedules (`synckit::testing::explore`): the bugs it must find, a correct
//! bounded queue that passes every schedule of a bounded-exhaustive search, and the
//! scheduler's own rules (virtual time, scopes, replay, limits).
//!
//! Every test runs under `common::with_deadline`; no test sleeps.
#![cfg(feature = "testing")]

mod common;

#[path = "support/buggy.rs"]
mod buggy;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use buggy::*;
use common::with_deadline;
use synckit::detector::ReportKind;
use synckit::testing::{self, Config, FailureKind, SemaphoreLike};
use synckit::thread::yield_point;
use synckit::{Barrier, Condition, Event, Lock, Semaphore};

// ---------------------------------------------------------------------------------------
// Bug 1: a lost update with a yield point between read and write
// ---------------------------------------------------------------------------------------

#[test]
fn a_lost_update_between_read_and_write_is_found_shrunk_and_replayed() {
    with_deadline(60, "lost update", || {
        let failure = testing::explore(Config::random(50).seed(7), lost_update).unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Panic);
        assert_eq!(failure.thread(), Some("main"));
        assert!(
            failure.message().contains("an update was lost"),
            "{failure}"
        );
        assert!(
            failure
                .location()
                .is_some_and(|at| at.contains("tests/support/buggy.rs")),
            "{failure}"
        );
        assert!(!failure.message().contains("(at "), "{failure}");
        assert!(failure.to_string().contains("(at "), "{failure}");
        // Shrunk: the default schedule already switches at the yield points.
        assert_eq!(failure.schedule().deviations(), &[], "{failure}");
        assert_eq!(failure.preemptions(), 0, "{failure}");
        let text = failure.to_string();
        for needed in [
            "worker-0 (1)",
            "worker-1 (2)",
            "yield_point",
            "seed 0x7",
            "replay it",
        ] {
            assert!(text.contains(needed), "`{needed}` missing from:\n{text}");
        }
        // The printed schedule replays the failure, step for step.
        let again =
            testing::explore(Config::replay(failure.schedule().clone()), lost_update).unwrap_err();
        assert_eq!(again.lanes(), failure.lanes());
        // The seed re-runs the whole search to the same failure.
        let same = testing::explore(Config::random(50).seed(7), lost_update).unwrap_err();
        assert_eq!(same.to_string(), text);
    });
}

#[test]
fn without_the_yield_point_the_explorer_cannot_see_the_race() {
    // The honest limit: atomics are not scheduling points, so a read and a write with no
    // synckit operation between them run as one step under every schedule.
    with_deadline(60, "invisible race", || {
        let stats = testing::explore(Config::exhaustive(2), |run| {
            let counter = Arc::new(AtomicU32::new(0));
            let workers: Vec<_> = (0..2)
                .map(|i| {
                    let counter = counter.clone();
                    run.spawn(&format!("worker-{i}"), move || {
                        let seen = counter.load(Ordering::SeqCst);
                        counter.store(seen + 1, Ordering::SeqCst);
                    })
                })
                .collect();
            for w in workers {
                w.join().unwrap();
            }
            assert_eq!(counter.load(Ordering::SeqCst), 2);
        })
        .unwrap();
        assert!(stats.complete);
    });
}

// ---------------------------------------------------------------------------------------
// Bug 2: Condition with `if` instead of `while`; a wake-up lost before the wait
// ---------------------------------------------------------------------------------------

#[test]
fn condition_if_instead_of_while_is_found() {
    with_deadline(120, "if instead of while", || {
        let failure = testing::explore(Config::exhaustive(2), consumers(false)).unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Panic, "{failure}");
        assert!(
            failure.message().contains("woken, but the queue is empty"),
            "{failure}"
        );
        assert!(
            failure.thread().unwrap().starts_with("consumer-"),
            "{failure}"
        );
        assert!(failure.preemptions() <= 2, "{failure}");
        assert!(failure.lanes().contains("notify `not_empty`"), "{failure}");
        // The same search with `while` passes every schedule within the bound.
        let stats = testing::explore(Config::exhaustive(2), consumers(true)).unwrap();
        assert!(stats.complete && stats.schedules > 10, "{stats}");
    });
}

#[test]
fn a_wake_up_lost_before_the_wait_is_a_deadlock_of_one_schedule() {
    with_deadline(60, "lost wake-up", || {
        let failure = testing::explore(Config::exhaustive(2), flag_outside_the_lock).unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");
        let report = failure.report().expect("a report");
        assert_eq!(report.kind(), ReportKind::WorldDeadlock);
        let waits_on_ready = |t: &synckit::detector::ThreadState| {
            t.name == "waiter" && t.waiting.as_ref().is_some_and(|w| w.resource == "ready")
        };
        assert!(report.threads().iter().any(waits_on_ready), "{failure}");
        let text = failure.to_string();
        assert!(text.contains("was last notified by `setter`"), "{text}");
        assert!(failure.preemptions() <= 1, "{failure}");
    });
}

// ---------------------------------------------------------------------------------------
// Bug 3: AB/BA without sleeps
// ---------------------------------------------------------------------------------------

#[test]
fn ab_ba_is_found_without_sleeps() {
    with_deadline(60, "ab/ba", || {
        let failure = testing::explore(Config::random(100).seed(3), ab_ba(false)).unwrap_err();
        // The lock-order check sees the inversion on the very first schedule; a schedule that
        // really deadlocks is reported as the cycle. Either way, no sleep was needed.
        assert!(
            matches!(
                failure.kind(),
                FailureKind::LockOrderInversion | FailureKind::Deadlock
            ),
            "{failure}"
        );
        assert!(failure.to_string().contains("account_a"), "{failure}");
    });
}

#[test]
fn ab_ba_deadlock_is_found_by_the_detector_and_shrunk_to_one_preemption() {
    with_deadline(60, "ab/ba deadlock", || {
        let failure = testing::explore(Config::exhaustive(2), ab_ba(true)).unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");
        let report = failure.report().expect("the detector's report");
        assert_eq!(report.kind(), ReportKind::Deadlock, "{failure}");
        assert!(report.headline().contains("2 threads wait for each other"));
        let mut threads: Vec<&str> = report.threads().iter().map(|t| t.name.as_str()).collect();
        threads.sort();
        assert_eq!(threads, ["transfer-1", "transfer-2"]);
        assert_eq!(failure.preemptions(), 1, "{failure}");
        assert!(failure.lanes().contains("~~ preempted ~~"), "{failure}");
    });
}

// ---------------------------------------------------------------------------------------
// Bug 4: a Semaphore built from Lock + Condition with a missing notify
// ---------------------------------------------------------------------------------------

#[test]
fn a_semaphore_with_a_missing_notify_is_found() {
    with_deadline(60, "missing notify", || {
        let failure = testing::explore_semaphore(Config::exhaustive(2), 1, |n| {
            LockCondSemaphore::new(n, false)
        })
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");
        let text = failure.to_string();
        assert!(text.contains("`freed`"), "{text}");
        assert!(
            text.contains("no thread of this schedule can run"),
            "{text}"
        );
    });
}

#[test]
fn the_fixed_semaphore_and_synckits_pass_every_schedule() {
    with_deadline(120, "correct semaphores", || {
        // Complete searches, however slow the debug build: budgets of their own.
        let limit = Duration::from_secs(100);
        let mine = testing::explore_semaphore(Config::exhaustive(2).time_limit(limit), 1, |n| {
            LockCondSemaphore::new(n, true)
        })
        .unwrap();
        assert!(mine.complete, "{mine}");
        // Two permits, three workers: preemption bound 2 is 16 427 schedules (20 s); 1 is
        // 1 843.
        let kit =
            testing::explore_semaphore(Config::exhaustive(1).time_limit(limit), 2, Semaphore::new)
                .unwrap();
        assert!(kit.complete, "{kit}");
    });
}

// ---------------------------------------------------------------------------------------
// A correct bounded queue: 2 producers + 2 consumers x 3 items, every bounded schedule
// ---------------------------------------------------------------------------------------

#[path = "support/bounded_queue.rs"]
mod bounded_queue;
use bounded_queue::producers_and_consumers;

#[test]
fn a_correct_bounded_queue_passes_every_schedule_within_two_delays() {
    // Bounded how: the preemption-bounded space is too big for the suite (with preemption
    // bound 0 alone, the free choice of the next thread at every block gives 58 008
    // schedules, about a minute). Delay bounding counts every deviation from the default
    // schedule, forced switches included: 3 781 schedules within 2 delays, 3 442 with the
    // sleep sets (about 0.5 s in a debug build on 2 cores).
    with_deadline(240, "bounded queue", || {
        // A complete search, however slow the debug build: a budget of its own.
        let stats = testing::explore(
            Config::delay_bounded(2).time_limit(Duration::from_secs(200)),
            producers_and_consumers,
        )
        .unwrap();
        assert!(stats.complete, "{stats}");
        assert_eq!(stats.diverged, 0, "{stats}");
        assert!(stats.schedules > 1000, "{stats}");
        eprintln!("bounded queue, delay bound 2: {stats}");
        // And a sample of schedules with many more switches.
        let random =
            testing::explore(Config::random(100).seed(0x5eed), producers_and_consumers).unwrap();
        assert!(random.max_preemptions > 2, "{random}");
    });
}

#[test]
fn a_queue_that_forgets_to_notify_is_caught() {
    with_deadline(60, "queue without notify", || {
        let failure = testing::explore(Config::delay_bounded(2), |run| {
            let queue = Arc::new((
                Lock::new(VecDeque::<u32>::new()).named("queue"),
                Condition::new().named("not_empty"),
            ));
            let consumer = {
                let queue = queue.clone();
                run.spawn("consumer", move || {
                    let (lock, not_empty) = &*queue;
                    let mut items = lock.acquire();
                    not_empty.wait_while(&mut items, |items| items.is_empty());
                    items.pop_front()
                })
            };
            let (lock, _not_empty) = &*queue;
            lock.acquire().push_back(1); // no notify
            assert_eq!(consumer.join().unwrap(), Some(1));
        })
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");
        assert!(
            failure
                .to_string()
                .contains("no thread has ever notified Condition `not_empty`"),
            "{failure}"
        );
    });
}

// ---------------------------------------------------------------------------------------
// The scheduler's rules
// ---------------------------------------------------------------------------------------

#[test]
fn timed_waits_time_out_only_when_no_thread_could_run() {
    with_deadline(60, "virtual time", || {
        // Whoever runs first, the setter is always able to run before the timeout fires.
        testing::explore(Config::exhaustive(2), |run| {
            let event = Arc::new(Event::new().named("go"));
            let waiter = {
                let event = event.clone();
                run.spawn("waiter", move || {
                    event.wait_timeout(Duration::from_secs(3600))
                })
            };
            event.set();
            assert!(
                waiter.join().unwrap(),
                "timed out although the set could come"
            );
        })
        .unwrap();
        // Alone, a timed wait times out at once: time is virtual.
        testing::explore(Config::exhaustive(2), |_| {
            let lock = Lock::new(()).named("held");
            let cond = Condition::new();
            let mut guard = lock.acquire();
            let r = cond.wait_timeout(&mut guard, Duration::from_secs(3600));
            assert!(r.timed_out());
            let sem = Semaphore::new(0);
            assert!(sem.acquire_timeout(Duration::from_secs(3600)).is_none());
        })
        .unwrap();
    });
}

#[test]
fn scoped_threads_barriers_and_events_run_under_the_schedule() {
    with_deadline(60, "scope, barrier, event", || {
        let stats = testing::explore(Config::exhaustive(1), |_| {
            let total = Lock::new(0u32).named("total");
            let barrier = Barrier::new(3).named("meet");
            let done = Event::new().named("done");
            let mut indices = synckit::thread::scope(|s| {
                let hs: Vec<_> = (1..=2u32)
                    .map(|i| {
                        let (total, barrier) = (&total, &barrier);
                        s.spawn_named(&format!("adder-{i}"), move || {
                            *total.acquire() += i;
                            barrier.wait().unwrap()
                        })
                    })
                    .collect();
                let mine = barrier.wait().unwrap();
                done.set();
                let mut v: Vec<usize> = hs.into_iter().map(|h| h.join().unwrap()).collect();
                v.push(mine);
                v
            });
            done.wait();
            indices.sort();
            assert_eq!(indices, vec![0, 1, 2]);
            assert_eq!(*total.acquire(), 3);
        })
        .unwrap();
        assert!(stats.complete && stats.schedules > 1, "{stats}");
    });
}

#[test]
fn a_panic_in_a_scoped_thread_fails_the_schedule() {
    with_deadline(60, "scoped panic", || {
        let failure = testing::explore(Config::exhaustive(0), |_| {
            synckit::thread::scope(|s| {
                let _ = s.spawn_named("doomed", || panic!("scoped thread fails"));
                let _ = s.spawn_named("bystander", || *Lock::new(1).acquire() + 1);
            });
        })
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Panic);
        assert_eq!(failure.thread(), Some("doomed"));
        assert!(failure.message().contains("scoped thread fails"));
    });
}

#[test]
fn a_spin_loop_that_never_ends_hits_the_step_limit() {
    with_deadline(60, "livelock", || {
        let failure = testing::explore(Config::random(5).seed(1).max_steps(500), |run| {
            let flag = Arc::new(AtomicBool::new(false));
            let spinner = {
                let flag = flag.clone();
                run.spawn("spinner", move || {
                    while !flag.load(Ordering::SeqCst) {
                        yield_point();
                    }
                })
            };
            spinner.join().unwrap(); // nobody ever sets the flag
        })
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::StepLimit, "{failure}");
        assert!(failure.message().contains("livelock"));
    });
}

#[test]
fn blocking_outside_synckit_stalls_until_the_deadline() {
    with_deadline(60, "stall", || {
        let failure = testing::explore(
            Config::random(1)
                .seed(1)
                .deadline(Duration::from_millis(300)),
            |run| {
                let std_lock = Arc::new(std::sync::Mutex::new(()));
                let held = std_lock.lock().unwrap();
                let other = {
                    let std_lock = std_lock.clone();
                    run.spawn("blocks-in-std", move || {
                        drop(std_lock.lock().unwrap()); // holds the baton, waits for main
                        synckit::thread::yield_point();
                    })
                };
                let _ = other.join(); // passes the baton to a thread that cannot give it back
                drop(held);
            },
        )
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Stalled, "{failure}");
    });
}

#[test]
fn a_stalled_thread_that_comes_back_later_unwinds_quietly() {
    with_deadline(60, "stall, then resume", || {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
        let failure = testing::explore(
            Config::random(1)
                .seed(1)
                .deadline(Duration::from_millis(200)),
            move |run| {
                let lock = Arc::new(Lock::new(0).named("held-across-the-stall"));
                let tx = tx.clone();
                let sleeper = {
                    let lock = lock.clone();
                    run.spawn("sleeper", move || {
                        /// Says when the thread's stack is gone, however it ends.
                        struct Gone(Option<std::sync::mpsc::Sender<()>>);
                        impl Drop for Gone {
                            fn drop(&mut self) {
                                if let Some(tx) = self.0.take() {
                                    let _ = tx.send(());
                                }
                            }
                        }
                        let _gone = Gone(tx.lock().unwrap().take());
                        let _held = lock.acquire();
                        // Outside synckit: the watchdog gives up on the schedule first. Then a
                        // panic, whose unwinding releases the lock in a torn-down run.
                        std::thread::sleep(Duration::from_millis(600));
                        panic!("back after the stall");
                    })
                };
                let _ = sleeper.join();
            },
        )
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Stalled, "{failure}");
        assert!(failure.to_string().contains("sleeper"), "{failure}");
        // The worker comes back from the sleep, finds its run torn down, and unwinds (a
        // release on the way, inside a drop, must not start a second unwind: that would abort
        // this test binary).
        rx.recv_timeout(Duration::from_secs(30))
            .expect("the stalled thread came back and unwound");
    });
}

#[test]
fn a_deadlocked_schedule_is_torn_down_and_the_next_search_runs_clean() {
    with_deadline(60, "teardown", || {
        for _ in 0..3 {
            let failure = testing::explore(Config::random(10).seed(2), |run| {
                let never = Arc::new(Event::new().named("never"));
                let lock = Arc::new(Lock::new(0).named("held-while-waiting"));
                let waiter = {
                    let (never, lock) = (never.clone(), lock.clone());
                    run.spawn("waiter", move || {
                        let _g = lock.acquire();
                        never.wait();
                    })
                };
                let _ = waiter.join();
            })
            .unwrap_err();
            assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");
        }
        // Nothing of the torn-down runs is left holding anything.
        let stats = testing::explore(Config::exhaustive(2), |run| {
            let lock = Arc::new(Lock::new(0).named("fresh"));
            let t = {
                let lock = lock.clone();
                run.spawn("t", move || *lock.acquire() += 1)
            };
            *lock.acquire() += 1;
            t.join().unwrap();
            assert_eq!(*lock.acquire(), 2);
        })
        .unwrap();
        assert!(stats.complete);
    });
}

#[test]
fn primitives_outside_explore_are_untouched_by_the_hooks() {
    with_deadline(30, "outside explore", || {
        // The hooks are one thread-local read outside a controlled run: ordinary threads
        // block and wake for real.
        let sem = Arc::new(Semaphore::new(0));
        let t = {
            let sem = sem.clone();
            std::thread::spawn(move || Semaphore::acquire(&sem).forget())
        };
        sem.release();
        t.join().unwrap();
        synckit::thread::yield_point();
        assert_eq!(sem.available(), 0);
    });
}

// ---------------------------------------------------------------------------------------
// The README's example ("Property-testing your own primitive"), kept compiling and true
// ---------------------------------------------------------------------------------------

/// A semaphore from a Lock and a Condition, with a bug: `release()` forgets to notify.
struct MySemaphore {
    permits: Lock<usize>,
    freed: Condition,
}

impl MySemaphore {
    fn acquire(&self) {
        let mut permits = self.permits.acquire();
        self.freed.wait_while(&mut permits, |p| *p == 0);
        *permits -= 1;
    }

    fn release(&self) {
        *self.permits.acquire() += 1; // the bug: no `self.freed.notify(1)`
    }
}

#[test]
fn the_readme_example_finds_the_missing_notify() {
    let text = with_deadline(60, "readme example", || {
        let failure = testing::explore(Config::exhaustive(2), |run| {
            let sem = Arc::new(MySemaphore {
                permits: Lock::new(0).named("permits"),
                freed: Condition::new().named("freed"),
            });
            let waiter = {
                let sem = sem.clone();
                run.spawn("waiter", move || sem.acquire())
            };
            sem.release();
            waiter.join().unwrap();
        })
        .unwrap_err();
        assert_eq!(failure.kind(), FailureKind::Deadlock);
        assert_eq!(failure.preemptions(), 1);
        failure.to_string()
    });
    assert!(text.contains("waits  `freed` (Condition)"), "{text}");
    if std::env::var_os("SYNCKIT_SHOW").is_some() {
        println!("{text}");
    }
}
