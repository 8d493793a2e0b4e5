//! Semantics of each primitive, after CPython's `Lib/test/lock_tests.py`: every check here
//! mirrors one there (or a documented difference), adapted to guards instead of
//! `acquire()`/`release()` pairs. Interleavings are forced with barriers, channels and
//! observable state (`Condition::waiters`, `Barrier::n_waiting`), never with sleeps; every
//! multi-thread test runs under `common::with_deadline` so a hang fails with a message.

mod common;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{panic_text, with_deadline};
use synckit::{
    Barrier, BoundedSemaphore, BrokenBarrier, Condition, Event, Lock, RLock, Semaphore, UsageError,
};

/// A timeout that must pass (the waits that use it are expected to time out).
const SHORT: Duration = Duration::from_millis(20);
/// A timeout that must not pass (the waits that use it are expected to succeed).
const LONG: Duration = Duration::from_secs(20);

fn spawn<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .expect("spawn")
}

/// Spins (yielding) until `cond` holds. Used only on state another thread is about to reach;
/// the enclosing `with_deadline` turns "never" into a failure.
fn wait_until(mut cond: impl FnMut() -> bool) {
    while !cond() {
        std::thread::yield_now();
    }
}

// ---------------------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------------------

#[test]
fn lock_acquire_release_and_locked() {
    let lock = Lock::new(41);
    assert!(!lock.locked(), "a new lock is free");
    {
        let mut guard = lock.acquire();
        assert!(lock.locked(), "held while the guard lives");
        *guard += 1;
    }
    assert!(!lock.locked(), "dropping the guard releases it");
    assert_eq!(*lock.acquire(), 42);
    assert!(!lock.locked());
}

#[test]
fn lock_try_acquire_on_free_and_on_held_lock() {
    let lock = Lock::new(());
    let guard = lock
        .try_acquire()
        .expect("try_acquire of a free lock succeeds");
    assert!(lock.locked());
    // Held by this very thread: a try never blocks and never reports, it just fails.
    assert!(lock.try_acquire().is_none());
    drop(guard);
    assert!(
        lock.try_acquire().is_some(),
        "free again after the guard is dropped"
    );
}

#[test]
fn lock_try_acquire_contended_fails_in_other_thread() {
    with_deadline(10, "lock_try_acquire_contended", || {
        let lock = Arc::new(Lock::new(()));
        let guard = lock.acquire();
        let other = {
            let lock = lock.clone();
            spawn("try-contended", move || {
                (lock.try_acquire().is_none(), lock.locked())
            })
        };
        let (failed, saw_locked) = other.join().expect("thread");
        assert!(
            failed,
            "try_acquire of a lock held by another thread must fail"
        );
        assert!(saw_locked, "locked() is true in another thread while held");
        drop(guard);
        let other = {
            let lock = lock.clone();
            spawn("try-free", move || lock.try_acquire().is_some())
        };
        assert!(
            other.join().expect("thread"),
            "after release another thread gets it"
        );
    });
}

#[test]
fn lock_timeout_zero_is_a_poll() {
    with_deadline(10, "lock_timeout_zero", || {
        let lock = Arc::new(Lock::new(()));
        assert!(
            lock.acquire_timeout(Duration::ZERO).is_some(),
            "zero timeout on a free lock succeeds"
        );
        let _held = lock.acquire();
        let other = {
            let lock = lock.clone();
            spawn("poll", move || {
                lock.acquire_timeout(Duration::ZERO).is_none()
            })
        };
        assert!(
            other.join().expect("thread"),
            "zero timeout on a held lock fails"
        );
    });
}

#[test]
fn lock_timeout_expires_when_held_by_another_thread() {
    with_deadline(10, "lock_timeout_expires", || {
        let lock = Arc::new(Lock::new(()));
        let held = lock.acquire();
        let other = {
            let lock = lock.clone();
            spawn("timed-out", move || lock.acquire_timeout(SHORT).is_none())
        };
        assert!(
            other.join().expect("thread"),
            "acquire_timeout returns None after its timeout"
        );
        // State after a timeout (CPython issue #11618): the lock is intact and usable.
        drop(held);
        assert!(!lock.locked());
        assert!(lock.try_acquire().is_some());
    });
}

#[test]
fn lock_timeout_succeeds_when_released_in_time() {
    with_deadline(10, "lock_timeout_succeeds", || {
        let lock = Arc::new(Lock::new(0));
        let (about_to_wait_tx, about_to_wait) = mpsc::channel();
        let mut held = lock.acquire();
        let other = {
            let lock = lock.clone();
            spawn("timed-ok", move || {
                about_to_wait_tx.send(()).unwrap();
                lock.acquire_timeout(LONG).map(|g| *g)
            })
        };
        about_to_wait.recv().unwrap();
        *held = 7;
        drop(held);
        assert_eq!(
            other.join().expect("thread"),
            Some(7),
            "the timed wait sees the released data"
        );
    });
}

#[test]
fn lock_timed_reacquire_by_holder_times_out_without_report() {
    // A timed wait ends by itself, so it is never reported: the holder's own timed
    // re-acquire just returns None (Python: `lock.acquire(timeout=...)` returns False).
    with_deadline(10, "lock_timed_reacquire", || {
        let lock = Lock::new(()).named("timed-self");
        let _guard = lock.acquire();
        assert!(lock.acquire_timeout(SHORT).is_none());
        assert!(lock.acquire_timeout(Duration::ZERO).is_none());
        assert!(lock.locked(), "the first guard still holds it");
    });
}

#[test]
fn lock_contended_acquire_blocks_until_release() {
    // lock_tests.test_acquire_contended: N threads block until the holder releases.
    with_deadline(10, "lock_contended", || {
        const N: usize = 5;
        let lock = Arc::new(Lock::new(Vec::new()));
        let start = Arc::new(Barrier::new(N + 1));
        let mut held = lock.acquire();
        let threads: Vec<_> = (0..N)
            .map(|i| {
                let (lock, start) = (lock.clone(), start.clone());
                spawn(&format!("contender-{i}"), move || {
                    start.wait().unwrap();
                    lock.acquire().push(i);
                })
            })
            .collect();
        start.wait().unwrap();
        // Nobody can have pushed: we still hold the lock (and its data).
        assert!(held.is_empty());
        held.push(usize::MAX);
        drop(held);
        for t in threads {
            t.join().expect("contender");
        }
        let mut seen = lock.acquire().clone();
        assert_eq!(seen[0], usize::MAX, "the holder's write came first");
        seen.sort_unstable();
        assert_eq!(seen, (0..N).chain([usize::MAX]).collect::<Vec<_>>());
    });
}

#[test]
fn lock_mutual_exclusion_under_contention() {
    with_deadline(20, "lock_mutual_exclusion", || {
        const THREADS: usize = 4;
        const ITERS: u64 = 500;
        let lock = Arc::new(Lock::new(0u64));
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let lock = lock.clone();
                spawn(&format!("incr-{i}"), move || {
                    for _ in 0..ITERS {
                        let mut g = lock.acquire();
                        let v = *g;
                        std::thread::yield_now(); // widen the read-modify-write window
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("incrementer");
        }
        assert_eq!(*lock.acquire(), THREADS as u64 * ITERS, "no lost update");
    });
}

#[test]
fn lock_guard_released_when_holder_panics() {
    with_deadline(10, "lock_guard_panic", || {
        let lock = Arc::new(Lock::new(0u32).named("panicky"));
        let t = {
            let lock = lock.clone();
            spawn("panics-holding", move || {
                let mut g = lock.acquire();
                *g += 1;
                panic!("boom while holding the lock");
            })
        };
        let payload = t.join().expect_err("the thread panicked");
        assert_eq!(panic_text(&*payload), "boom while holding the lock");
        assert!(!lock.locked(), "unwinding dropped the guard");
        // No poisoning and no report (the dead thread holds nothing): a checked acquire on
        // another thread and on this one both succeed.
        let other = {
            let lock = lock.clone();
            spawn("after-panic", move || {
                lock.acquire_checked()
                    .map(|g| *g)
                    .map_err(|d| d.to_string())
            })
        };
        assert_eq!(other.join().expect("thread"), Ok(1));
        let g = lock.acquire_checked().expect("no report after the panic");
        assert_eq!(*g, 1, "the write before the panic is kept (no poisoning)");
    });
}

#[test]
fn lock_into_inner_get_mut_default_and_debug() {
    let mut lock = Lock::new(vec![1]).named("dbg-lock");
    lock.get_mut().push(2);
    assert_eq!(*lock.acquire(), vec![1, 2]);
    let text = format!("{lock:?}");
    assert!(
        text.contains("dbg-lock") && text.contains("[1, 2]"),
        "{text}"
    );
    {
        let _g = lock.acquire();
        assert!(format!("{lock:?}").contains("<locked>"));
    }
    assert_eq!(lock.into_inner(), vec![1, 2]);
    let d: Lock<u8> = Lock::default();
    assert_eq!(d.into_inner(), 0);
}

// ---------------------------------------------------------------------------------------
// RLock
// ---------------------------------------------------------------------------------------

#[test]
fn rlock_counts_and_ownership() {
    let lock = RLock::new(());
    assert_eq!(lock.count(), 0);
    assert!(!lock.is_owned() && !lock.locked());
    let g1 = lock.acquire();
    assert!(lock.is_owned() && lock.locked());
    assert_eq!(lock.count(), 1);
    let g2 = lock.acquire_checked().expect("re-entry is not a deadlock");
    assert_eq!(lock.count(), 2);
    let g3 = lock
        .try_acquire()
        .expect("try_acquire by the owner re-enters");
    assert_eq!(lock.count(), 3);
    let g4 = lock
        .acquire_timeout(Duration::ZERO)
        .expect("a poll by the owner re-enters");
    assert_eq!(lock.count(), 4);
    // Release out of order: only the count matters.
    drop(g1);
    assert_eq!(lock.count(), 3);
    drop(g3);
    assert_eq!(lock.count(), 2);
    assert!(lock.is_owned() && lock.locked());
    drop(g4);
    assert_eq!(lock.count(), 1);
    drop(g2);
    assert_eq!(lock.count(), 0);
    assert!(
        !lock.is_owned() && !lock.locked(),
        "released after the last guard"
    );
}

#[test]
fn rlock_other_thread_blocks_until_all_releases() {
    with_deadline(10, "rlock_other_thread", || {
        let lock = Arc::new(RLock::new(AtomicU32::new(0)));
        let (to_other, other_rx) = mpsc::channel::<()>();
        let (to_main, main_rx) = mpsc::channel();
        let g1 = lock.acquire();
        let g2 = lock.acquire();
        let other = {
            let lock = lock.clone();
            spawn("rlock-other", move || {
                // Phase 1: main holds it twice.
                to_main
                    .send((
                        lock.is_owned(),
                        lock.count(),
                        lock.locked(),
                        lock.try_acquire().is_none(),
                    ))
                    .unwrap();
                to_main
                    .send((false, 0, true, lock.acquire_timeout(SHORT).is_none()))
                    .unwrap();
                // Phase 2: main released once, still holds it once.
                other_rx.recv().unwrap();
                to_main
                    .send((
                        lock.is_owned(),
                        lock.count(),
                        lock.locked(),
                        lock.try_acquire().is_none(),
                    ))
                    .unwrap();
                // Phase 3: main released everything; this blocks until then at worst.
                other_rx.recv().unwrap();
                let g = lock.acquire();
                g.store(1, Ordering::Relaxed);
                to_main
                    .send((lock.is_owned(), lock.count(), lock.locked(), true))
                    .unwrap();
                other_rx.recv().unwrap(); // hold it until main has looked
                drop(g);
            })
        };
        assert_eq!(
            main_rx.recv().unwrap(),
            (false, 0, true, true),
            "non-owner: not owned, count 0, try fails"
        );
        assert!(
            main_rx.recv().unwrap().3,
            "non-owner's timed acquire times out"
        );
        drop(g1);
        assert_eq!(lock.count(), 1);
        to_other.send(()).unwrap();
        assert_eq!(
            main_rx.recv().unwrap(),
            (false, 0, true, true),
            "one release of two is not enough"
        );
        drop(g2);
        to_other.send(()).unwrap();
        assert_eq!(
            main_rx.recv().unwrap(),
            (true, 1, true, true),
            "the other thread owns it once"
        );
        assert!(
            !lock.is_owned() && lock.count() == 0,
            "main does not own it any more"
        );
        assert!(
            lock.try_acquire().is_none(),
            "main's try fails while the other thread holds it"
        );
        to_other.send(()).unwrap();
        other.join().expect("other");
        assert_eq!(lock.acquire().load(Ordering::Relaxed), 1);
        assert!(!lock.locked());
    });
}

#[test]
fn rlock_guards_released_when_holder_panics() {
    with_deadline(10, "rlock_panic", || {
        let lock = Arc::new(RLock::new(()));
        let t = {
            let lock = lock.clone();
            spawn("rlock-panics", move || {
                let _a = lock.acquire();
                let _b = lock.acquire();
                panic!("boom at depth 2");
            })
        };
        assert_eq!(
            panic_text(&*t.join().expect_err("panicked")),
            "boom at depth 2"
        );
        assert!(!lock.locked());
        let g = lock.acquire_checked().expect("free and unreported");
        assert_eq!(lock.count(), 1);
        drop(g);
    });
}

#[test]
fn rlock_into_inner_and_get_mut() {
    let mut lock = RLock::new(String::from("a"));
    lock.get_mut().push('b');
    assert_eq!(&*lock.acquire(), "ab");
    assert_eq!(lock.into_inner(), "ab");
}

// ---------------------------------------------------------------------------------------
// Semaphore
// ---------------------------------------------------------------------------------------

#[test]
fn semaphore_acquire_try_and_available() {
    let sem = Semaphore::new(2);
    assert_eq!(sem.available(), 2);
    let a = sem.acquire();
    let b = sem.try_acquire().expect("one permit left");
    assert_eq!(sem.available(), 0);
    assert!(sem.try_acquire().is_none(), "no permit left");
    assert!(
        sem.acquire_timeout(Duration::ZERO).is_none(),
        "zero timeout is a poll"
    );
    assert!(
        sem.acquire_timeout(SHORT).is_none(),
        "times out with no permit"
    );
    assert_eq!(sem.available(), 0, "failed attempts take nothing");
    drop(a);
    assert_eq!(sem.available(), 1);
    let c = sem
        .acquire_timeout(Duration::ZERO)
        .expect("a poll with a permit free succeeds");
    drop((b, c));
    assert_eq!(sem.available(), 2);
}

#[test]
fn semaphore_release_adds_permits_beyond_initial() {
    // A plain Semaphore is not bounded: release() may raise it above its initial value.
    let sem = Semaphore::new(0);
    sem.release();
    sem.release_n(3);
    assert_eq!(sem.available(), 4);
    let p = sem.acquire();
    p.forget(); // taken for good
    assert_eq!(sem.available(), 3);
    sem.release_n(0);
    assert_eq!(sem.available(), 3);
}

#[test]
fn semaphore_release_wakes_a_waiter() {
    with_deadline(10, "semaphore_release_wakes", || {
        let sem = Arc::new(Semaphore::new(0).named("signal"));
        let (tx, rx) = mpsc::channel();
        let waiter = {
            let sem = sem.clone();
            spawn("sem-waiter", move || {
                tx.send(()).unwrap();
                sem.acquire().forget();
                "got it"
            })
        };
        rx.recv().unwrap();
        sem.release(); // from another thread than the acquirer: the signalling use
        assert_eq!(waiter.join().expect("waiter"), "got it");
        assert_eq!(sem.available(), 0, "the waiter took the one permit");
    });
}

#[test]
fn semaphore_release_n_wakes_n_waiters() {
    with_deadline(10, "semaphore_release_n", || {
        const WAITERS: usize = 3;
        let sem = Arc::new(Semaphore::new(0));
        let start = Arc::new(Barrier::new(WAITERS + 1));
        let waiters: Vec<_> = (0..WAITERS)
            .map(|i| {
                let (sem, start) = (sem.clone(), start.clone());
                spawn(&format!("multi-{i}"), move || {
                    start.wait().unwrap();
                    sem.acquire().forget();
                })
            })
            .collect();
        start.wait().unwrap();
        sem.release_n(WAITERS + 2);
        for w in waiters {
            w.join().expect("waiter");
        }
        assert_eq!(
            sem.available(),
            2,
            "each waiter took exactly one of the n permits"
        );
    });
}

#[test]
fn semaphore_bounds_concurrency() {
    with_deadline(20, "semaphore_bounds", || {
        const PERMITS: usize = 3;
        const THREADS: usize = 6;
        let sem = Arc::new(Semaphore::new(PERMITS));
        let active = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let (sem, active, max) = (sem.clone(), active.clone(), max.clone());
                spawn(&format!("pool-{i}"), move || {
                    for _ in 0..100 {
                        let _p = sem.acquire();
                        let now = active.fetch_add(1, Ordering::SeqCst) + 1;
                        max.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        active.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().expect("pool thread");
        }
        let max = max.load(Ordering::SeqCst);
        assert!(
            (1..=PERMITS).contains(&max),
            "at most {PERMITS} at once, saw {max}"
        );
        assert_eq!(sem.available(), PERMITS);
    });
}

// ---------------------------------------------------------------------------------------
// BoundedSemaphore
// ---------------------------------------------------------------------------------------

fn over_release_of(err: UsageError) -> (String, usize) {
    match err {
        UsageError::OverRelease { name, max, .. } => (name, max),
        other => panic!("expected OverRelease, got {other:?}"),
    }
}

#[test]
fn bounded_semaphore_over_release_is_an_error_and_leaves_value() {
    let sem = BoundedSemaphore::new(2).named("printer-pool");
    let err = sem
        .release()
        .expect_err("releasing a full bounded semaphore");
    assert!(err.to_string().contains("released too many times"), "{err}");
    assert!(err.to_string().contains("printer-pool"), "{err}");
    assert_eq!(over_release_of(err), ("printer-pool".to_string(), 2));
    assert_eq!(sem.available(), 2, "value unchanged");
    // Still usable.
    let a = sem.acquire();
    let b = sem.try_acquire().expect("second permit");
    assert!(sem.try_acquire().is_none());
    drop((a, b));
    assert_eq!(sem.available(), 2);
}

#[test]
fn bounded_semaphore_forgotten_permit_released_once() {
    // lock_tests.BoundedSemaphoreTests.test_release_unacquired, with a forgotten permit
    // standing for Python's bare acquire().
    let sem = BoundedSemaphore::new(1);
    sem.acquire().forget();
    assert_eq!(sem.available(), 0);
    sem.release().expect("gives back the forgotten permit");
    assert_eq!(sem.available(), 1);
    assert!(sem.release().is_err(), "a second release is one too many");
    assert_eq!(sem.available(), 1);
}

#[test]
fn bounded_semaphore_bare_release_while_permit_guard_held_is_over_release() {
    // The permit taken through a guard comes back when the guard drops, so a bare release
    // now returns it twice: Python raises on the second of acquire(); release(); release().
    // DESIGN.md relies on this ("a bare `release()` would then be an over-release error")
    // to treat a fully guard-held BoundedSemaphore as owned by its holders.
    let sem = BoundedSemaphore::new(1).named("guarded");
    let permit = sem.acquire();
    let result = sem.release();
    assert_eq!(
        sem.available(),
        0,
        "a bare release must not add a permit while the guard is out"
    );
    assert!(
        result.is_err(),
        "bare release with every permit guard-held is an over-release"
    );
    drop(permit);
    assert_eq!(sem.available(), 1, "value never exceeds the initial value");
}

#[test]
fn bounded_semaphore_timeout_and_poll() {
    let sem = BoundedSemaphore::new(1);
    let p = sem
        .acquire_timeout(Duration::ZERO)
        .expect("poll on a free permit");
    assert!(sem.acquire_timeout(Duration::ZERO).is_none());
    assert!(sem.acquire_timeout(SHORT).is_none());
    drop(p);
    assert!(sem.acquire_timeout(SHORT).is_some());
}

// ---------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------

type Phased = Arc<(Lock<u32>, Condition)>;

fn phased_waiter(
    shared: &Phased,
    name: String,
    tx: mpsc::Sender<(usize, u32)>,
    id: usize,
) -> JoinHandle<()> {
    let shared = shared.clone();
    spawn(&name, move || {
        let (lock, cond) = &*shared;
        let mut g = lock.acquire();
        cond.wait(&mut g);
        let phase = *g;
        drop(g);
        tx.send((id, phase)).unwrap();
    })
}

#[test]
fn condition_notify_n_wakes_exactly_n() {
    // lock_tests.ConditionTests._check_notify: the phase is changed under the lock right
    // after notifying, so a thread woken by notify(n) sees that phase; a thread woken by
    // anything else would see an earlier or later one.
    with_deadline(10, "condition_notify_n", || {
        const N: usize = 5;
        let shared: Phased = Arc::new((Lock::new(0), Condition::new().named("phases")));
        let (lock, cond) = &*shared;
        let (tx, rx) = mpsc::channel();
        let threads: Vec<_> = (0..N)
            .map(|i| phased_waiter(&shared, format!("phased-{i}"), tx.clone(), i))
            .collect();
        wait_until(|| cond.waiters() == N);
        {
            let mut g = lock.acquire();
            assert_eq!(cond.notify(2), 2, "notify(2) with 5 waiters wakes 2");
            *g = 1;
        }
        let first: Vec<_> = (0..2).map(|_| rx.recv().unwrap()).collect();
        assert!(first.iter().all(|&(_, phase)| phase == 1), "{first:?}");
        assert_eq!(cond.waiters(), N - 2, "the other three still wait");
        {
            let mut g = lock.acquire();
            *g = 2;
            assert_eq!(cond.notify_all(), N - 2);
        }
        let rest: Vec<_> = (0..N - 2).map(|_| rx.recv().unwrap()).collect();
        assert!(
            rest.iter().all(|&(_, phase)| phase == 2),
            "no thread woke early: {rest:?}"
        );
        let mut ids: Vec<_> = first.iter().chain(&rest).map(|&(id, _)| id).collect();
        ids.sort_unstable();
        assert_eq!(ids, (0..N).collect::<Vec<_>>());
        for t in threads {
            t.join().expect("waiter");
        }
        assert_eq!(cond.waiters(), 0);
        assert_eq!(cond.notify(1), 0, "nobody left to wake");
    });
}

#[test]
fn condition_notify_wakes_longest_waiter_first() {
    with_deadline(10, "condition_fifo", || {
        const N: usize = 4;
        let shared: Phased = Arc::new((Lock::new(0), Condition::new()));
        let (_, cond) = &*shared;
        let (tx, rx) = mpsc::channel();
        let mut threads = Vec::new();
        for i in 0..N {
            threads.push(phased_waiter(&shared, format!("fifo-{i}"), tx.clone(), i));
            wait_until(|| cond.waiters() == i + 1); // waiter i is queued before i + 1 starts
        }
        for expected in 0..N {
            assert_eq!(cond.notify(1), 1);
            let (id, _) = rx.recv().unwrap();
            assert_eq!(id, expected, "notify(1) wakes the longest waiter");
        }
        for t in threads {
            t.join().expect("waiter");
        }
    });
}

#[test]
fn condition_notify_all_wakes_every_waiter() {
    with_deadline(10, "condition_notify_all", || {
        const N: usize = 4;
        let shared: Phased = Arc::new((Lock::new(0), Condition::new()));
        let (lock, cond) = &*shared;
        let (tx, rx) = mpsc::channel();
        let threads: Vec<_> = (0..N)
            .map(|i| phased_waiter(&shared, format!("all-{i}"), tx.clone(), i))
            .collect();
        wait_until(|| cond.waiters() == N);
        {
            let mut g = lock.acquire();
            *g = 9;
            assert_eq!(cond.notify_all(), N);
        }
        for t in threads {
            t.join().expect("waiter");
        }
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got.len(), N);
        assert!(got.iter().all(|&(_, p)| p == 9));
    });
}

#[test]
fn condition_wait_timeout_times_out_and_leaves_no_waiter() {
    with_deadline(10, "condition_wait_timeout", || {
        let lock = Lock::new(());
        let cond = Condition::new();
        let mut g = lock.acquire();
        assert!(cond.wait_timeout(&mut g, SHORT).timed_out());
        assert!(
            cond.wait_timeout(&mut g, Duration::ZERO).timed_out(),
            "zero timeout is a poll"
        );
        assert!(lock.locked(), "the lock is held again after the wait");
        assert_eq!(cond.waiters(), 0, "a timed-out waiter leaves the queue");
        // ... so a later notify does not count it (a stale ticket would swallow a wake-up).
        assert_eq!(cond.notify(1), 0);
        drop(g);
        assert!(!lock.locked());
    });
}

#[test]
fn condition_wait_timeout_notified_in_time() {
    with_deadline(10, "condition_wait_timeout_notified", || {
        let shared = Arc::new((Lock::new(false), Condition::new()));
        let waiter = {
            let shared = shared.clone();
            spawn("timed-cond", move || {
                let (lock, cond) = &*shared;
                let mut g = lock.acquire();
                let r = cond.wait_timeout(&mut g, LONG);
                (r.timed_out(), *g)
            })
        };
        let (lock, cond) = &*shared;
        wait_until(|| cond.waiters() == 1);
        *lock.acquire() = true;
        assert_eq!(cond.notify(1), 1);
        assert_eq!(waiter.join().expect("waiter"), (false, true));
    });
}

#[test]
fn condition_wait_for_and_wait_while_check_the_predicate() {
    with_deadline(10, "condition_wait_for", || {
        let shared = Arc::new((Lock::new(0u32), Condition::new().named("counter")));
        let consumer = |name: &str, use_wait_for: bool| {
            let shared = shared.clone();
            spawn(name, move || {
                let (lock, cond) = &*shared;
                let mut g = lock.acquire();
                if use_wait_for {
                    cond.wait_for(&mut g, |v| *v >= 5);
                } else {
                    cond.wait_while(&mut g, |v| *v < 5);
                }
                *g
            })
        };
        let a = consumer("wait-for", true);
        let b = consumer("wait-while", false);
        let (lock, cond) = &*shared;
        // Notify on every step: the consumers must re-check and keep waiting until 5.
        for _ in 0..5 {
            wait_until(|| cond.waiters() == 2);
            let mut g = lock.acquire();
            *g += 1;
            cond.notify_all();
        }
        assert_eq!(a.join().expect("wait_for"), 5);
        assert_eq!(b.join().expect("wait_while"), 5);
    });
}

#[test]
fn condition_predicate_already_true_does_not_wait() {
    let lock = Lock::new(3);
    let cond = Condition::new();
    let mut g = lock.acquire();
    cond.wait_for(&mut g, |v| *v == 3);
    cond.wait_while(&mut g, |v| *v != 3);
    assert!(cond.wait_for_timeout(&mut g, Duration::ZERO, |v| *v == 3));
    assert_eq!(cond.waiters(), 0);
}

#[test]
fn condition_wait_for_timeout_returns_false_after_timeout() {
    with_deadline(10, "condition_wait_for_timeout", || {
        let lock = Lock::new(0);
        let cond = Condition::new();
        let mut g = lock.acquire();
        let mut calls = 0;
        let ok = cond.wait_for_timeout(&mut g, SHORT, |v| {
            calls += 1;
            *v == 1
        });
        assert!(!ok, "the predicate never held");
        assert!(calls >= 1);
        assert_eq!(cond.waiters(), 0);
    });
}

#[test]
fn condition_over_rlock_releases_fully_and_restores_count() {
    with_deadline(10, "condition_over_rlock", || {
        let shared = Arc::new((
            RLock::new(AtomicU32::new(0)),
            Condition::new().named("rcond"),
        ));
        let waiter = {
            let shared = shared.clone();
            spawn("rlock-cond-waiter", move || {
                let (lock, cond) = &*shared;
                let _g1 = lock.acquire();
                let _g2 = lock.acquire();
                let mut g3 = lock.acquire();
                assert_eq!(lock.count(), 3);
                cond.wait_while(&mut g3, |v| v.load(Ordering::Relaxed) == 0);
                let restored = (lock.count(), lock.is_owned(), g3.load(Ordering::Relaxed));
                drop(g3);
                let after_one = lock.count();
                (restored, after_one)
            })
        };
        let (lock, cond) = &*shared;
        wait_until(|| cond.waiters() == 1);
        {
            // Blocks (at most briefly) until the waiter has released all three levels; a
            // wait that released only one would hang here and fail the deadline.
            let g = lock.acquire();
            assert_eq!(
                lock.count(),
                1,
                "this thread owns it once while the other waits"
            );
            g.store(42, Ordering::Relaxed);
            assert_eq!(cond.notify(1), 1);
        }
        let (restored, after_one) = waiter.join().expect("waiter");
        assert_eq!(
            restored,
            (3, true, 42),
            "count restored to 3 after the wait"
        );
        assert_eq!(after_one, 2);
        assert!(
            !lock.locked(),
            "the waiter's other guards were dropped on return"
        );
    });
}

#[test]
fn condition_used_with_two_locks_panics_with_usage_error() {
    let cond = Condition::new().named("cv-mismatch");
    let first = Lock::new(()).named("first-lock");
    let second = Lock::new(()).named("second-lock");
    {
        let mut g = first.acquire();
        assert!(cond.wait_timeout(&mut g, Duration::ZERO).timed_out());
    }
    let payload = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut g = second.acquire();
        let _ = cond.wait_timeout(&mut g, Duration::ZERO);
    }))
    .expect_err("a condition belongs to one lock");
    let expected = UsageError::ConditionLockMismatch {
        condition: "cv-mismatch".into(),
        first: "first-lock".into(),
        second: "second-lock".into(),
    };
    assert_eq!(panic_text(&*payload), expected.to_string());
    assert!(
        !second.locked(),
        "the second lock's guard was dropped while unwinding"
    );
    assert_eq!(cond.waiters(), 0, "the refused wait did not queue");
    // The condition still works with its own lock.
    let mut g = first.acquire();
    assert!(cond.wait_timeout(&mut g, Duration::ZERO).timed_out());
}

#[test]
fn condition_same_lock_from_two_threads_is_fine() {
    with_deadline(10, "condition_same_lock", || {
        let shared = Arc::new((Lock::new(false), Condition::new()));
        let t = {
            let shared = shared.clone();
            spawn("same-lock", move || {
                let (lock, cond) = &*shared;
                let mut g = lock.acquire();
                cond.wait_while(&mut g, |ready| !*ready);
            })
        };
        let (lock, cond) = &*shared;
        wait_until(|| cond.waiters() == 1);
        let mut g = lock.acquire();
        *g = true;
        cond.notify_all();
        drop(g);
        t.join().expect("waiter");
    });
}

// ---------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------

#[test]
fn event_set_clear_is_set() {
    let e = Event::new();
    assert!(!e.is_set());
    e.set();
    assert!(e.is_set());
    e.set();
    assert!(e.is_set());
    e.clear();
    assert!(!e.is_set());
    e.clear();
    assert!(!e.is_set());
}

#[test]
fn event_wait_timeout_polls_and_times_out() {
    with_deadline(10, "event_timeout", || {
        let e = Event::new();
        assert!(
            !e.wait_timeout(Duration::ZERO),
            "zero timeout on a clear event: false"
        );
        assert!(!e.wait_timeout(SHORT), "false after the timeout");
        e.set();
        assert!(
            e.wait_timeout(Duration::ZERO),
            "zero timeout on a set event: true"
        );
        assert!(e.wait_timeout(SHORT));
        e.wait(); // returns at once when set
        e.clear();
        assert!(!e.wait_timeout(Duration::ZERO));
    });
}

#[test]
fn event_set_wakes_every_waiter_and_later_waits_pass() {
    // lock_tests.EventTests._check_notify, twice (the second time after set + clear).
    with_deadline(10, "event_notify", || {
        const N: usize = 5;
        let e = Arc::new(Event::new().named("go"));
        for round in 0..2 {
            let start = Arc::new(Barrier::new(N + 1));
            let threads: Vec<_> = (0..N)
                .map(|i| {
                    let (e, start) = (e.clone(), start.clone());
                    spawn(&format!("event-{round}-{i}"), move || {
                        start.wait().unwrap();
                        e.wait();
                        e.wait_timeout(LONG) // still set: passes at once
                    })
                })
                .collect();
            start.wait().unwrap();
            e.set();
            for t in threads {
                assert!(
                    t.join().expect("waiter"),
                    "a second wait on a set event returns true"
                );
            }
            e.set();
            e.clear();
        }
    });
}

#[test]
fn event_wait_timeout_notified_by_set() {
    with_deadline(10, "event_timed_set", || {
        let e = Arc::new(Event::new());
        let (tx, rx) = mpsc::channel();
        let t = {
            let e = e.clone();
            spawn("event-timed", move || {
                tx.send(()).unwrap();
                e.wait_timeout(LONG)
            })
        };
        rx.recv().unwrap();
        e.set();
        assert!(
            t.join().expect("waiter"),
            "a timed wait returns true once set"
        );
    });
}

// ---------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------

#[test]
fn barrier_indices_distinct_and_reusable_over_rounds() {
    with_deadline(20, "barrier_rounds", || {
        const N: usize = 4;
        const ROUNDS: usize = 6;
        let barrier = Arc::new(Barrier::new(N).named("rounds"));
        let arrived = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..N)
            .map(|i| {
                let (barrier, arrived) = (barrier.clone(), arrived.clone());
                spawn(&format!("round-{i}"), move || {
                    let mut indices = Vec::new();
                    for round in 0..ROUNDS {
                        arrived.fetch_add(1, Ordering::SeqCst);
                        indices.push(barrier.wait().expect("not broken"));
                        // Nobody passes before the whole round has arrived.
                        let seen = arrived.load(Ordering::SeqCst);
                        assert!(
                            seen >= (round + 1) * N,
                            "round {round}: passed with {seen} arrivals"
                        );
                    }
                    indices
                })
            })
            .collect();
        let per_thread: Vec<Vec<usize>> = threads
            .into_iter()
            .map(|t| t.join().expect("party"))
            .collect();
        for round in 0..ROUNDS {
            let mut indices: Vec<usize> = per_thread.iter().map(|v| v[round]).collect();
            indices.sort_unstable();
            assert_eq!(indices, (0..N).collect::<Vec<_>>(), "round {round}");
        }
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        assert_eq!(barrier.parties(), N);
    });
}

#[test]
fn barrier_single_party_never_blocks() {
    let b = Barrier::new(1);
    for _ in 0..3 {
        assert_eq!(b.wait(), Ok(0));
    }
    assert_eq!(b.wait_timeout(Duration::ZERO), Ok(0));
}

fn barrier_waiters(
    barrier: &Arc<Barrier>,
    n: usize,
    tag: &str,
) -> Vec<JoinHandle<Result<usize, BrokenBarrier>>> {
    (0..n)
        .map(|i| {
            let barrier = barrier.clone();
            spawn(&format!("{tag}-{i}"), move || barrier.wait())
        })
        .collect()
}

#[test]
fn barrier_abort_breaks_current_and_future_waits() {
    with_deadline(10, "barrier_abort", || {
        let barrier = Arc::new(Barrier::new(3));
        let waiters = barrier_waiters(&barrier, 2, "abort");
        wait_until(|| barrier.n_waiting() == 2);
        barrier.abort();
        for w in waiters {
            assert_eq!(w.join().expect("waiter"), Err(BrokenBarrier));
        }
        assert!(barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        assert_eq!(
            barrier.wait(),
            Err(BrokenBarrier),
            "a new wait fails at once"
        );
        assert_eq!(barrier.wait_timeout(LONG), Err(BrokenBarrier));
        // reset() repairs it.
        barrier.reset();
        assert!(!barrier.broken());
        let waiters = barrier_waiters(&barrier, 2, "after-abort");
        let mine = barrier.wait().expect("usable after reset");
        let mut indices: Vec<usize> = waiters
            .into_iter()
            .map(|w| w.join().unwrap().unwrap())
            .collect();
        indices.push(mine);
        indices.sort_unstable();
        assert_eq!(indices, vec![0, 1, 2]);
    });
}

#[test]
fn barrier_reset_breaks_waiters_then_is_usable() {
    with_deadline(10, "barrier_reset", || {
        let barrier = Arc::new(Barrier::new(3).named("resettable"));
        let waiters = barrier_waiters(&barrier, 2, "reset");
        wait_until(|| barrier.n_waiting() == 2);
        barrier.reset();
        for w in waiters {
            assert_eq!(
                w.join().expect("waiter"),
                Err(BrokenBarrier),
                "reset breaks current waiters"
            );
        }
        assert!(!barrier.broken(), "reset leaves it usable, not broken");
        for round in 0..2 {
            let waiters = barrier_waiters(&barrier, 2, &format!("reused-{round}"));
            let mine = barrier.wait().expect("usable");
            let mut indices: Vec<usize> = waiters
                .into_iter()
                .map(|w| w.join().unwrap().unwrap())
                .collect();
            indices.push(mine);
            indices.sort_unstable();
            assert_eq!(indices, vec![0, 1, 2]);
        }
    });
}

#[test]
fn barrier_wait_timeout_breaks_it_for_everyone() {
    with_deadline(10, "barrier_timeout", || {
        let barrier = Arc::new(Barrier::new(3));
        let waiters = barrier_waiters(&barrier, 1, "untimed");
        wait_until(|| barrier.n_waiting() == 1);
        assert_eq!(
            barrier.wait_timeout(SHORT),
            Err(BrokenBarrier),
            "times out: broken"
        );
        assert_eq!(
            waiters.into_iter().next().unwrap().join().expect("waiter"),
            Err(BrokenBarrier)
        );
        assert!(barrier.broken());
        assert_eq!(barrier.wait(), Err(BrokenBarrier));
        barrier.reset();
        let waiters = barrier_waiters(&barrier, 2, "after-timeout");
        assert!(barrier.wait_timeout(LONG).is_ok());
        for w in waiters {
            assert!(w.join().expect("waiter").is_ok());
        }
    });
}

#[test]
fn barrier_zero_parties_is_a_usage_error() {
    assert_eq!(Barrier::try_new(0).err(), Some(UsageError::ZeroParties));
    let payload = std::panic::catch_unwind(|| Barrier::new(0)).expect_err("new(0) panics");
    assert_eq!(panic_text(&*payload), UsageError::ZeroParties.to_string());
    assert!(Barrier::try_new(2).is_ok());
}
