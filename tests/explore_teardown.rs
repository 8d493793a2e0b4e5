//! A torn-down schedule leaves nothing behind: after 1,000 failing schedules (a panic while
//! another thread waits in a `Condition`, a deadlock with a lock held across a wait, a
//! scoped thread waiting while its parent panics), the process has exactly the OS threads
//! it had before. Its own test binary, so no other test's threads come and go meanwhile.
#![cfg(all(feature = "testing", target_os = "linux"))]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::with_deadline;
use synckit::testing::{self, Config, FailureKind, Run};
use synckit::{Condition, Event, Lock};

fn os_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task lists this process's threads")
        .count()
}

/// The names of this process's threads, for a failure message.
fn thread_names() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task lists this process's threads")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .map(|n| n.trim().to_string())
        .collect()
}

/// A waiter blocked in a Condition wait (the wait that used to leak a thread when torn
/// down) while `main` panics.
fn panic_while_waiting(run: &Run) {
    let state = Arc::new((
        Lock::new(false).named("flag"),
        Condition::new().named("ready"),
    ));
    let _waiter = {
        let state = state.clone();
        run.spawn("waiter", move || {
            let (lock, ready) = &*state;
            let mut flag = lock.acquire();
            while !*flag {
                ready.wait(&mut flag);
            }
        })
    };
    synckit::thread::yield_point(); // the waiter waits by default
    let _held = state.0.acquire();
    panic!("main fails while the waiter waits");
}

/// A waiter that holds a lock while it waits for an Event nobody sets: a deadlock.
fn deadlock_holding_a_lock(run: &Run) {
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
}

/// A scoped thread waits on a Condition while its parent panics inside the scope.
fn scoped_waiter_and_a_panicking_parent(_: &Run) {
    let flag = Lock::new(false).named("scoped-flag");
    let ready = Condition::new().named("scoped-ready");
    synckit::thread::scope(|s| {
        let (flag, ready) = (&flag, &ready);
        let _waiter = s.spawn_named("scoped-waiter", move || {
            let mut f = flag.acquire();
            while !*f {
                ready.wait(&mut f);
            }
        });
        synckit::thread::yield_point();
        panic!("the parent fails inside the scope");
    });
}

#[test]
fn a_thousand_failing_schedules_leave_no_os_thread_behind() {
    with_deadline(240, "teardown", || {
        let before = os_threads();
        let schedules = Arc::new(AtomicUsize::new(0));
        type Body = fn(&Run);
        let bodies: [(Body, FailureKind); 3] = [
            (panic_while_waiting, FailureKind::Panic),
            (deadlock_holding_a_lock, FailureKind::Deadlock),
            (scoped_waiter_and_a_panicking_parent, FailureKind::Panic),
        ];
        let mut seed = 0;
        while schedules.load(Ordering::SeqCst) < 1000 {
            for (body, kind) in bodies {
                seed += 1;
                let counter = schedules.clone();
                // Every schedule of these bodies fails; shrinking would only replay them.
                let failure =
                    testing::explore(Config::random(10).seed(seed).shrink(false), move |run| {
                        counter.fetch_add(1, Ordering::SeqCst);
                        body(run)
                    })
                    .unwrap_err();
                assert_eq!(failure.kind(), kind, "{failure}");
            }
        }
        // A joined thread can stay listed a moment after it ended (the kernel reaps it after
        // `pthread_join` returns): wait, within a deadline, for the count to come back.
        let reaped_by = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while os_threads() > before && std::time::Instant::now() < reaped_by {
            std::thread::yield_now();
        }
        let after = os_threads();
        assert_eq!(
            after,
            before,
            "{} failing schedules left {} OS threads behind: {:?}",
            schedules.load(Ordering::SeqCst),
            after.saturating_sub(before),
            thread_names()
        );
        // And the explorer still works: a clean search after all that.
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
        assert!(stats.complete, "{stats}");
    });
}
