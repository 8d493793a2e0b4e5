//! The wait-for detector's guarantees (DESIGN.md, "The detector"), each backed here:
//! re-entry on a plain Lock is reported at once with both call sites; a cycle of owned waits
//! (Lock, RLock, fully guard-held BoundedSemaphore) is reported by the acquire that closes it,
//! to exactly one thread, before it blocks; waits someone else could end (plain Semaphore)
//! and timed waits are never reported; a wait on a lock whose owner exited is reported.
//!
//! Tests run in parallel in one process, so none changes the global policy (default: Panic):
//! reports are taken as values with `acquire_checked`, or as panics caught at `join`. Every
//! lock is fresh per test (ids are never reused), and every multi-thread test runs under
//! `common::with_deadline`.

// Threads hand back a whole `Report` as their error value: large, and fine in tests.
#![allow(clippy::result_large_err)]

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{panic_text, with_deadline};
use synckit::detector::{DeadlockPanic, Kind, ReportKind};
use synckit::{Barrier, BoundedSemaphore, Condition, Lock, RLock, Report, Semaphore};

fn spawn<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .expect("spawn")
}

/// `file:line:` as reports print call sites, for a line of this file.
fn site(line: u32) -> String {
    format!("{}:{line}:", file!())
}

/// The one line of `text` that contains `marker`.
fn line_with<'t>(text: &'t str, marker: &str) -> &'t str {
    let lines: Vec<&str> = text.lines().filter(|l| l.contains(marker)).collect();
    assert_eq!(
        lines.len(),
        1,
        "expected one line with {marker:?} in:\n{text}"
    );
    lines[0]
}

/// Of two or more thread results, exactly one is a report: returns its index and the report.
fn exactly_one_report(results: &[Result<(), Report>]) -> (usize, &Report) {
    let reports: Vec<(usize, &Report)> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|rep| (i, rep)))
        .collect();
    assert_eq!(
        reports.len(),
        1,
        "exactly one thread closes the cycle and gets the report; got {}:\n{}",
        reports.len(),
        reports
            .iter()
            .map(|(_, r)| r.to_string())
            .collect::<Vec<_>>()
            .join("\n---\n")
    );
    reports[0]
}

fn thread_named<'r>(report: &'r Report, name: &str) -> &'r synckit::detector::ThreadState {
    report
        .threads()
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("thread `{name}` not in the report:\n{report}"))
}

// ---------------------------------------------------------------------------------------
// Guarantee 1: re-entry on a plain Lock
// ---------------------------------------------------------------------------------------

#[test]
fn lock_reentry_is_reported_at_once_naming_both_call_sites() {
    with_deadline(10, "lock_reentry", || {
        spawn("reentrant-worker", || {
            let lock = Lock::new(100).named("reentry-account");
            let (guard, first_line) = (lock.acquire(), line!());
            let (result, again_line) = (lock.acquire_checked(), line!());
            let report = match result {
                Ok(_) => panic!("a plain Lock re-acquired by its holder must be reported"),
                Err(deadlock) => deadlock.into_report(),
            };
            assert_eq!(report.kind(), ReportKind::ReentrantAcquire);
            let headline = report.headline();
            assert!(headline.contains("re-entrant acquire"), "{headline}");
            assert!(headline.contains("`reentrant-worker`"), "{headline}");
            assert!(headline.contains("`reentry-account`"), "{headline}");
            let at = report
                .location()
                .expect("the report points at the second acquire");
            assert_eq!((at.file(), at.line()), (file!(), again_line));
            let text = report.to_string();
            assert!(
                line_with(&text, "was acquired at").contains(&site(first_line)),
                "{text}"
            );
            assert!(
                line_with(&text, "requested again at").contains(&site(again_line)),
                "{text}"
            );
            assert!(report.hint().contains("RLock") && report.hint().contains("_locked"));
            assert_eq!(report.resources(), vec!["reentry-account".to_string()]);
            // Reported instead of blocking; the first guard still holds the lock.
            assert!(lock.locked());
            drop(guard);
            assert!(!lock.locked(), "the refused acquire took nothing");
            assert_eq!(*lock.acquire_checked().expect("free again"), 100);
        })
        .join()
        .expect("worker");
    });
}

#[test]
fn rlock_reentry_with_the_same_code_runs() {
    with_deadline(10, "rlock_reentry", || {
        let lock = RLock::new(AtomicU32::new(100)).named("reentry-rlock");
        let outer = lock.acquire();
        let inner = lock.acquire_checked().expect("an RLock may be re-entered");
        inner.fetch_add(1, Ordering::Relaxed);
        assert_eq!(lock.count(), 2);
        drop(inner);
        drop(outer);
        assert!(!lock.locked());
        assert_eq!(lock.into_inner().into_inner(), 101);
    });
}

#[test]
fn lock_reentry_panics_with_the_report_under_the_default_policy() {
    with_deadline(10, "lock_reentry_panics", || {
        let lock = Arc::new(Lock::new(()).named("reentry-panics"));
        let (lines_tx, lines) = mpsc::channel();
        let t = {
            let lock = lock.clone();
            spawn("reentry-panicker", move || {
                let (_outer, first_line) = (lock.acquire(), line!());
                lines_tx.send(first_line).unwrap();
                lines_tx.send(line!() + 1).unwrap();
                let _inner = lock.acquire(); // panics: would block forever
                unreachable!("the second acquire returned");
            })
        };
        let payload = t.join().expect_err("the re-entrant acquire panics");
        let (first_line, again_line) = (lines.recv().unwrap(), lines.recv().unwrap());
        let panic = payload
            .downcast_ref::<DeadlockPanic>()
            .expect("the payload is the detector's report");
        assert_eq!(panic.report.kind(), ReportKind::ReentrantAcquire);
        let text = panic_text(&*payload);
        assert!(text.contains("re-entrant acquire"), "{text}");
        assert!(text.contains("`reentry-panics`"), "{text}");
        assert!(
            line_with(&text, "was acquired at").contains(&site(first_line)),
            "{text}"
        );
        assert!(
            line_with(&text, "requested again at").contains(&site(again_line)),
            "{text}"
        );
        assert!(!lock.locked(), "unwinding released the first guard");
    });
}

// ---------------------------------------------------------------------------------------
// Guarantee 2: cycles of owned waits
// ---------------------------------------------------------------------------------------

type Shared = Arc<Lock<u32>>;

/// Reads a counter, holding only its lock (two guards alive at once would record an order).
fn read(lock: &Shared) -> u32 {
    *lock.acquire()
}

/// Takes `first`, meets the other threads at `all_hold_one`, then asks for `second` with
/// `acquire_checked`. On success it bumps both counters.
fn take_two(
    name: &str,
    first: Shared,
    second: Shared,
    all_hold_one: Arc<Barrier>,
) -> JoinHandle<Result<(), Report>> {
    spawn(name, move || {
        let mut f = first.acquire();
        all_hold_one.wait().expect("barrier");
        match second.acquire_checked() {
            Ok(mut s) => {
                *f += 1;
                *s += 1;
                Ok(())
            }
            Err(deadlock) => Err(deadlock.into_report()),
        }
    })
}

#[test]
fn ab_ba_is_reported_to_exactly_one_thread_and_the_other_completes() {
    with_deadline(10, "ab_ba", || {
        let a: Shared = Arc::new(Lock::new(0).named("abba-account-a"));
        let b: Shared = Arc::new(Lock::new(0).named("abba-account-b"));
        let barrier = Arc::new(Barrier::new(2));
        let names = ["abba-transfer-1", "abba-transfer-2"];
        let t1 = take_two(names[0], a.clone(), b.clone(), barrier.clone());
        let t2 = take_two(names[1], b.clone(), a.clone(), barrier);
        let results = [t1.join().expect("t1"), t2.join().expect("t2")];
        let (closer, report) = exactly_one_report(&results);
        let (closer_name, other_name) = (names[closer], names[1 - closer]);
        // The wait-for check runs before blocking: the closer gets a Deadlock, not an order
        // inversion (the other thread never acquired its second lock before the check).
        assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
        assert_eq!(report.headline(), "deadlock: 2 threads wait for each other");
        assert_eq!(report.threads().len(), 2);
        assert_eq!(
            report.threads()[0].name,
            closer_name,
            "the thread that raised it comes first"
        );
        let (closer_holds, closer_wants) = if closer == 0 {
            ("abba-account-a", "abba-account-b")
        } else {
            ("abba-account-b", "abba-account-a")
        };
        for (name, holds, wants) in [
            (closer_name, closer_holds, closer_wants),
            (other_name, closer_wants, closer_holds),
        ] {
            let t = thread_named(report, name);
            assert!(t.alive);
            assert_eq!(t.holds.len(), 1, "{report}");
            assert_eq!(
                (t.holds[0].resource.as_str(), t.holds[0].kind),
                (holds, Kind::Lock)
            );
            let w = t.waiting.as_ref().expect("every thread in the cycle waits");
            assert_eq!(
                (w.resource.as_str(), w.kind, w.timed),
                (wants, Kind::Lock, false)
            );
        }
        let mut resources = report.resources();
        resources.sort();
        assert_eq!(resources, vec!["abba-account-a", "abba-account-b"]);
        let text = report.to_string();
        for needle in [
            closer_name,
            other_name,
            "abba-account-a",
            "abba-account-b",
            "cycle:",
        ] {
            assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
        }
        let dot = report.to_dot();
        assert!(dot.starts_with("digraph"), "{dot}");
        for needle in [
            closer_name,
            other_name,
            "abba-account-a",
            "abba-account-b",
            "waits for",
            "held by",
        ] {
            assert!(dot.contains(needle), "missing {needle:?} in:\n{dot}");
        }
        // The other thread finished after the closer dropped its lock, and only it wrote.
        let (va, vb) = (read(&a), read(&b));
        assert_eq!((va, vb), (1, 1));
        assert!(!a.locked() && !b.locked());
    });
}

#[test]
fn three_thread_cycle_is_reported_once_naming_all_three() {
    with_deadline(10, "three_cycle", || {
        let locks: Vec<Shared> = (0..3)
            .map(|i| Arc::new(Lock::new(0).named(&format!("ring-lock-{i}"))))
            .collect();
        let barrier = Arc::new(Barrier::new(3));
        let threads: Vec<_> = (0..3)
            .map(|i| {
                take_two(
                    &format!("ring-thread-{i}"),
                    locks[i].clone(),
                    locks[(i + 1) % 3].clone(),
                    barrier.clone(),
                )
            })
            .collect();
        let results: Vec<_> = threads
            .into_iter()
            .map(|t| t.join().expect("ring thread"))
            .collect();
        let (closer, report) = exactly_one_report(&results);
        assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
        assert_eq!(report.headline(), "deadlock: 3 threads wait for each other");
        assert_eq!(report.threads()[0].name, format!("ring-thread-{closer}"));
        let mut names: Vec<_> = report.threads().iter().map(|t| t.name.clone()).collect();
        names.sort();
        assert_eq!(
            names,
            vec!["ring-thread-0", "ring-thread-1", "ring-thread-2"]
        );
        let mut resources = report.resources();
        resources.sort();
        assert_eq!(resources, vec!["ring-lock-0", "ring-lock-1", "ring-lock-2"]);
        // The two others completed: each bumped its own lock and the next one.
        let counts: Vec<u32> = locks.iter().map(read).collect();
        assert_eq!(counts.iter().sum::<u32>(), 4, "{counts:?}");
        assert_eq!(
            counts[closer], 1,
            "the closer's lock was bumped only by its predecessor"
        );
    });
}

#[test]
fn rlock_cross_thread_cycle_is_reported_with_reentry_counts() {
    with_deadline(10, "rlock_cycle", || {
        let x = Arc::new(RLock::new(()).named("rcycle-x"));
        let y = Arc::new(RLock::new(()).named("rcycle-y"));
        let barrier = Arc::new(Barrier::new(2));
        let run = |name: &str, first: Arc<RLock<()>>, second: Arc<RLock<()>>| {
            let barrier = barrier.clone();
            spawn(name, move || {
                let _a = first.acquire();
                let _b = first.acquire(); // held twice
                barrier.wait().expect("barrier");
                let got = second
                    .acquire_checked()
                    .map(|_| ())
                    .map_err(|d| d.into_report());
                assert_eq!(
                    first.count(),
                    2,
                    "a refused acquire leaves the held RLock alone"
                );
                got
            })
        };
        let t1 = run("rcycle-1", x.clone(), y.clone());
        let t2 = run("rcycle-2", y.clone(), x.clone());
        let results = [t1.join().expect("t1"), t2.join().expect("t2")];
        let (_, report) = exactly_one_report(&results);
        assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
        for t in report.threads() {
            assert_eq!(t.holds.len(), 1);
            assert_eq!(t.holds[0].kind, Kind::RLock);
            assert_eq!(
                t.holds[0].count, 2,
                "the report shows the re-entry count:\n{report}"
            );
        }
        assert!(report.to_string().contains("x2"), "{report}");
        assert!(!x.locked() && !y.locked());
    });
}

#[test]
fn bounded_semaphore_pools_taken_in_opposite_orders_are_reported() {
    with_deadline(10, "bounded_pools", || {
        let p = Arc::new(BoundedSemaphore::new(1).named("pool-printers"));
        let q = Arc::new(BoundedSemaphore::new(1).named("pool-scanners"));
        let barrier = Arc::new(Barrier::new(2));
        let run = |name: &str, first: Arc<BoundedSemaphore>, second: Arc<BoundedSemaphore>| {
            let barrier = barrier.clone();
            spawn(name, move || {
                let _held = first.acquire();
                barrier.wait().expect("barrier");
                second
                    .acquire_checked()
                    .map(drop)
                    .map_err(|d| d.into_report())
            })
        };
        let t1 = run("pool-user-1", p.clone(), q.clone());
        let t2 = run("pool-user-2", q.clone(), p.clone());
        let results = [t1.join().expect("t1"), t2.join().expect("t2")];
        let (_, report) = exactly_one_report(&results);
        assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
        let mut resources = report.resources();
        resources.sort();
        assert_eq!(resources, vec!["pool-printers", "pool-scanners"]);
        for t in report.threads() {
            let w = t.waiting.as_ref().expect("waits");
            assert_eq!(w.kind, Kind::BoundedSemaphore);
            assert!(
                t.holds
                    .iter()
                    .any(|h| h.kind == Kind::BoundedSemaphore && h.resource != w.resource),
                "each thread is shown holding the other pool's permit:\n{report}"
            );
        }
        assert_eq!(
            (p.available(), q.available()),
            (1, 1),
            "every permit came back"
        );
    });
}

#[test]
fn bounded_semaphore_held_fully_by_the_caller_is_a_self_wait() {
    with_deadline(10, "bounded_self", || {
        spawn("self-pool", || {
            let pool = BoundedSemaphore::new(2).named("self-pool-sem");
            let _a = pool.acquire();
            let _b = pool.acquire();
            let report = pool
                .acquire_checked()
                .map(drop)
                .expect_err("only this thread can give a permit back");
            assert_eq!(report.report().kind(), ReportKind::Deadlock);
            assert_eq!(
                report.report().headline(),
                "deadlock: thread `self-pool` waits for itself"
            );
            assert_eq!(pool.available(), 0, "nothing taken by the refused acquire");
        })
        .join()
        .expect("thread");
    });
}

#[test]
fn plain_semaphore_cycle_with_a_releaser_is_not_reported() {
    // The same shape as the bounded pools, with plain semaphores: a third thread can (and
    // does) release, so the cycle is not certain and must not be reported: both acquires
    // use `acquire()` under the default Panic policy, so a report would fail the joins.
    // The releaser's pause only makes it likely that both are parked when it releases (so
    // that the wait-for check has run on the full cycle); every assertion holds either way.
    with_deadline(20, "plain_semaphores", || {
        for round in 0..3 {
            let s1 = Arc::new(Semaphore::new(1).named("plain-sem-1"));
            let s2 = Arc::new(Semaphore::new(1).named("plain-sem-2"));
            let barrier = Arc::new(Barrier::new(3));
            let run = |name: String, first: Arc<Semaphore>, second: Arc<Semaphore>| {
                let barrier = barrier.clone();
                spawn(&name, move || {
                    let _held = first.acquire();
                    barrier.wait().expect("barrier");
                    let _got = second.acquire();
                })
            };
            let t1 = run(format!("plain-{round}-1"), s1.clone(), s2.clone());
            let t2 = run(format!("plain-{round}-2"), s2.clone(), s1.clone());
            let releaser = {
                let (s1, s2, barrier) = (s1.clone(), s2.clone(), barrier.clone());
                spawn(&format!("plain-{round}-releaser"), move || {
                    barrier.wait().expect("barrier");
                    std::thread::sleep(Duration::from_millis(30));
                    s1.release();
                    s2.release();
                })
            };
            for t in [t1, t2, releaser] {
                if let Err(payload) = t.join() {
                    panic!(
                        "round {round}: false report or panic: {}",
                        panic_text(&*payload)
                    );
                }
            }
            // Each semaphore: its initial permit back, plus the released one.
            assert_eq!((s1.available(), s2.available()), (2, 2));
        }
    });
}

#[test]
fn a_wait_chain_ending_at_a_running_thread_is_not_reported() {
    with_deadline(10, "chain", || {
        let a = Arc::new(Lock::new(0).named("chain-a"));
        let b = Arc::new(Lock::new(0).named("chain-b"));
        let hold_b = b.acquire(); // main holds the end of the chain and keeps running
        let (ready_tx, ready) = mpsc::channel();
        let first = {
            let (a, b, ready_tx) = (a.clone(), b.clone(), ready_tx.clone());
            spawn("chain-1", move || {
                let _a = a.acquire();
                ready_tx.send(()).unwrap();
                b.acquire_checked().map(drop).map_err(|d| d.to_string())
            })
        };
        ready.recv().unwrap();
        let second = {
            let a = a.clone();
            spawn("chain-2", move || {
                a.acquire_checked().map(drop).map_err(|d| d.to_string())
            })
        };
        // chain-2 -> chain-a -> chain-1 -> chain-b -> main, and main is running: no report.
        drop(hold_b);
        assert_eq!(first.join().expect("chain-1"), Ok(()));
        assert_eq!(second.join().expect("chain-2"), Ok(()));
    });
}

#[test]
fn ab_ba_under_the_default_policy_panics_one_thread_and_frees_its_lock() {
    with_deadline(10, "ab_ba_panic", || {
        let a: Shared = Arc::new(Lock::new(0).named("panic-abba-a"));
        let b: Shared = Arc::new(Lock::new(0).named("panic-abba-b"));
        let barrier = Arc::new(Barrier::new(2));
        let run = |name: &str, first: Shared, second: Shared| {
            let barrier = barrier.clone();
            spawn(name, move || {
                let _f = first.acquire();
                barrier.wait().expect("barrier");
                *second.acquire() += 1;
            })
        };
        let t1 = run("panic-abba-1", a.clone(), b.clone());
        let t2 = run("panic-abba-2", b.clone(), a.clone());
        let results = [t1.join(), t2.join()];
        let panics: Vec<_> = results.iter().filter_map(|r| r.as_ref().err()).collect();
        assert_eq!(
            panics.len(),
            1,
            "one thread panics with the report, the other completes"
        );
        let payload = panics[0];
        let report = &payload
            .downcast_ref::<DeadlockPanic>()
            .expect("a detector panic")
            .report;
        assert_eq!(report.kind(), ReportKind::Deadlock);
        let text = panic_text(&**payload);
        assert!(
            text.contains("panic-abba-a") && text.contains("panic-abba-b"),
            "{text}"
        );
        assert_eq!(
            read(&a) + read(&b),
            1,
            "exactly one second acquire went through"
        );
    });
}

// ---------------------------------------------------------------------------------------
// Timed waits end by themselves: never reported
// ---------------------------------------------------------------------------------------

#[test]
fn timed_acquires_in_an_ab_ba_are_not_reported_and_time_out() {
    with_deadline(10, "timed_ab_ba", || {
        let a: Shared = Arc::new(Lock::new(0).named("timed-a"));
        let b: Shared = Arc::new(Lock::new(0).named("timed-b"));
        let both_hold = Arc::new(Barrier::new(2));
        let both_tried = Arc::new(Barrier::new(2));
        let run = |name: &str, first: Shared, second: Shared| {
            let (both_hold, both_tried) = (both_hold.clone(), both_tried.clone());
            spawn(name, move || {
                let _f = first.acquire();
                both_hold.wait().expect("barrier");
                let got = second.acquire_timeout(Duration::from_millis(50)).is_some();
                both_tried.wait().expect("barrier"); // keep `first` until both have tried
                got
            })
        };
        let t1 = run("timed-1", a.clone(), b.clone());
        let t2 = run("timed-2", b.clone(), a.clone());
        assert!(!t1.join().expect("no report for a timed wait"), "timed out");
        assert!(!t2.join().expect("no report for a timed wait"), "timed out");
    });
}

#[test]
fn an_untimed_wait_on_a_timed_waiter_is_not_reported() {
    // One side waits with a timeout: the cycle ends by itself, so the untimed side must not be
    // told it deadlocked; it gets the lock once the timed side gives up and lets go.
    with_deadline(10, "half_timed", || {
        let a: Shared = Arc::new(Lock::new(0).named("half-timed-a"));
        let b: Shared = Arc::new(Lock::new(0).named("half-timed-b"));
        let barrier = Arc::new(Barrier::new(2));
        let untimed = take_two("half-untimed", a.clone(), b.clone(), barrier.clone());
        let timed = {
            let (a, b) = (a.clone(), b.clone());
            spawn("half-timed", move || {
                let _b = b.acquire();
                barrier.wait().expect("barrier");
                a.acquire_timeout(Duration::from_millis(50)).is_some()
            })
        };
        assert!(
            !timed.join().expect("timed side"),
            "the timed side times out"
        );
        assert!(
            untimed.join().expect("untimed side").is_ok(),
            "and the untimed side is not reported"
        );
        let (va, vb) = (read(&a), read(&b));
        assert_eq!((va, vb), (1, 1));
    });
}

// ---------------------------------------------------------------------------------------
// Owners that exited while holding
// ---------------------------------------------------------------------------------------

#[test]
fn a_lock_leaked_by_an_exited_thread_is_reported_as_owner_exited() {
    with_deadline(10, "owner_exited", || {
        let lock = Arc::new(Lock::new(()).named("leaked-lock"));
        let leak_line = {
            let lock = lock.clone();
            spawn("leaker", move || {
                let (guard, line) = (lock.acquire(), line!());
                std::mem::forget(guard);
                line
            })
            .join()
            .expect("leaker")
        };
        let report = spawn("after-leak", {
            let lock = lock.clone();
            move || {
                lock.acquire_checked()
                    .map(drop)
                    .expect_err("the owner is gone")
                    .into_report()
            }
        })
        .join()
        .expect("waiter");
        assert_eq!(report.kind(), ReportKind::OwnerExited, "{report}");
        let text = report.to_string();
        let headline = report.headline();
        assert!(headline.contains("`after-leak`"), "{headline}");
        assert!(
            headline.contains("`leaker`") && headline.contains("exited"),
            "{headline}"
        );
        assert!(
            headline.contains("`leaked-lock`"),
            "the headline names the lock: {headline}"
        );
        assert!(
            line_with(&text, "never released it").contains(&site(leak_line)),
            "{text}"
        );
        // The exited thread holds the lock; it waits for nothing, so it is no step of the
        // chain: one resource, no nameless one in the text or the drawing.
        assert_eq!(
            report.resources(),
            vec!["leaked-lock".to_string()],
            "{text}"
        );
        assert!(!text.contains("``"), "a nameless resource in:\n{text}");
        let dot = report.to_dot();
        assert!(
            dot.contains("leaked-lock") && !dot.contains("\"\""),
            "{dot}"
        );
    });
}

#[test]
fn a_permit_leaked_by_an_exited_thread_is_reported_as_owner_exited() {
    with_deadline(10, "owner_exited_pool", || {
        let pool = Arc::new(BoundedSemaphore::new(1).named("leaked-pool"));
        {
            let pool = pool.clone();
            spawn("permit-leaker", move || std::mem::forget(pool.acquire()))
                .join()
                .expect("leaker");
        }
        let report = pool
            .acquire_checked()
            .map(drop)
            .expect_err("the holder is gone")
            .into_report();
        assert_eq!(report.kind(), ReportKind::OwnerExited, "{report}");
        let headline = report.headline();
        assert!(
            headline.contains("`permit-leaker`") && headline.contains("exited"),
            "{headline}"
        );
        assert!(
            headline.contains("`leaked-pool`"),
            "the headline names the pool: {headline}"
        );
        assert_eq!(pool.available(), 0);
    });
}

// ---------------------------------------------------------------------------------------
// A report raised while a Condition re-takes its lock
// ---------------------------------------------------------------------------------------

#[test]
fn condition_wait_that_closes_a_cycle_on_reacquire_does_not_release_anothers_lock() {
    // `waiter` holds L1 and L2 and waits on a Condition over L1 (releasing L1). `taker` then
    // takes L1 and blocks on L2. When the wait ends, re-taking L1 closes the cycle
    // waiter -> L1 -> taker -> L2 -> waiter, and the waiter panics with the report (default
    // policy). Its L1 guard must not then release L1, which `taker` holds. If instead `taker`
    // happens to close the cycle (it gets Err and backs off), nothing is wrong either.
    with_deadline(10, "condition_reacquire", || {
        let l1 = Arc::new(Lock::new(0u32).named("cv-reacquire-l1"));
        let l2 = Arc::new(Lock::new(0u32).named("cv-reacquire-l2"));
        let cond = Arc::new(Condition::new().named("cv-reacquire"));
        let waiter = {
            let (l1, l2, cond) = (l1.clone(), l2.clone(), cond.clone());
            spawn("cv-waiter", move || {
                // Declared first so that it drops last: when unwinding, the L1 guard is
                // dropped while L2 still keeps `taker` parked.
                let _g2;
                let mut g1 = l1.acquire();
                _g2 = l2.acquire();
                // Times out long after `taker` has parked on L2 (no sleep decides anything:
                // whichever thread closes the cycle, the assertions below hold).
                let _ = cond.wait_timeout(&mut g1, Duration::from_millis(300));
            })
        };
        while cond.waiters() == 0 {
            std::thread::yield_now();
        }
        let taker = {
            let (l1, l2) = (l1.clone(), l2.clone());
            spawn("cv-taker", move || {
                let g1 = l1.acquire();
                match l2.acquire_checked() {
                    Err(_) => "taker closed the cycle",
                    Ok(_g2) => {
                        // We hold L1's guard: L1 must be locked, and nobody else may take it.
                        assert!(l1.locked(), "L1 was released behind its holder's back");
                        assert!(l1.try_acquire().is_none(), "a second guard for a held lock");
                        drop(g1);
                        "waiter closed the cycle"
                    }
                }
            })
        };
        let waiter_result = waiter.join();
        let taker_result = taker.join();
        let who = match taker_result {
            Ok(who) => who,
            Err(payload) => panic!("taker: {}", panic_text(&*payload)),
        };
        match (who, waiter_result) {
            ("waiter closed the cycle", Err(payload)) => {
                assert!(
                    panic_text(&*payload).contains("deadlock"),
                    "{}",
                    panic_text(&*payload)
                );
            }
            ("taker closed the cycle", Ok(())) => {}
            (who, r) => panic!(
                "{who}, but the waiter {}",
                if r.is_ok() { "returned" } else { "panicked" }
            ),
        }
        assert!(!l1.locked() && !l2.locked());
    });
}

#[test]
fn condition_over_rlock_refused_restore_leaves_the_new_owners_count_alone() {
    // As above, with the Condition over an RLock held twice by the waiter: when restoring it
    // closes the cycle, neither of the waiter's two RLock guards may release (or count down)
    // the RLock that `taker` now owns once.
    with_deadline(10, "condition_restore_rlock", || {
        let r1 = Arc::new(RLock::new(()).named("cv-restore-r1"));
        let l2 = Arc::new(Lock::new(()).named("cv-restore-l2"));
        let cond = Arc::new(Condition::new().named("cv-restore"));
        let waiter = {
            let (r1, l2, cond) = (r1.clone(), l2.clone(), cond.clone());
            spawn("cv-restore-waiter", move || {
                let _g2; // dropped last: L2 keeps `taker` parked while the RLock guards drop
                let _outer = r1.acquire();
                let mut inner = r1.acquire();
                _g2 = l2.acquire();
                let _ = cond.wait_timeout(&mut inner, Duration::from_millis(300));
            })
        };
        while cond.waiters() == 0 {
            std::thread::yield_now();
        }
        let taker = {
            let (r1, l2) = (r1.clone(), l2.clone());
            spawn("cv-restore-taker", move || {
                let g1 = r1.acquire();
                match l2.acquire_checked() {
                    Err(_) => "taker closed the cycle",
                    Ok(_g2) => {
                        assert!(
                            r1.locked(),
                            "the RLock was released behind its owner's back"
                        );
                        assert_eq!(
                            (r1.is_owned(), r1.count()),
                            (true, 1),
                            "owner's count changed"
                        );
                        drop(g1);
                        assert!(!r1.locked());
                        "waiter closed the cycle"
                    }
                }
            })
        };
        let waiter_result = waiter.join();
        let who = match taker.join() {
            Ok(who) => who,
            Err(payload) => panic!("taker: {}", panic_text(&*payload)),
        };
        match (who, waiter_result) {
            ("waiter closed the cycle", Err(payload)) => {
                assert!(
                    panic_text(&*payload).contains("deadlock"),
                    "{}",
                    panic_text(&*payload)
                );
            }
            ("taker closed the cycle", Ok(())) => {}
            (who, r) => panic!(
                "{who}, but the waiter {}",
                if r.is_ok() { "returned" } else { "panicked" }
            ),
        }
        assert!(!r1.locked() && !l2.locked());
    });
}
