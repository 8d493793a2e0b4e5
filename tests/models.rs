//! Model tests: random single-thread operation sequences against Semaphore,
//! BoundedSemaphore, RLock and Event, each compared step by step with a small sequential
//! model of what Python's `threading` would do. A failing case is shrunk by proptest and
//! names the first step where the primitive and the model disagree.

use std::time::Duration;

use proptest::prelude::*;
use synckit::{BoundedSemaphore, Event, RLock, Semaphore, SemaphorePermit, UsageError};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(64)
}

// ---------------------------------------------------------------------------------------
// Semaphore
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum SemOp {
    /// `try_acquire` (never blocks).
    TryAcquire,
    /// `acquire_timeout(0)`: a poll.
    Poll,
    /// `acquire()` only when the model says a permit is free (so it cannot block).
    AcquireIfFree,
    /// Drop the i-th permit guard (modulo how many there are).
    DropPermit(usize),
    /// `forget()` the i-th permit guard.
    Forget(usize),
    /// Bare `release()`.
    Release,
    /// `release_n(n)`.
    ReleaseN(usize),
}

fn sem_op() -> impl Strategy<Value = SemOp> {
    prop_oneof![
        3 => Just(SemOp::TryAcquire),
        1 => Just(SemOp::Poll),
        2 => Just(SemOp::AcquireIfFree),
        3 => any::<usize>().prop_map(SemOp::DropPermit),
        1 => any::<usize>().prop_map(SemOp::Forget),
        1 => Just(SemOp::Release),
        1 => (0usize..4).prop_map(SemOp::ReleaseN),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn semaphore_matches_a_counter(initial in 0usize..4, ops in prop::collection::vec(sem_op(), 0..60)) {
        let sem = Semaphore::new(initial);
        let mut value = initial; // the model: free permits
        let mut permits: Vec<SemaphorePermit<'_>> = Vec::new();
        for (step, op) in ops.iter().enumerate() {
            match op {
                SemOp::TryAcquire | SemOp::Poll => {
                    let got = match op {
                        SemOp::TryAcquire => sem.try_acquire(),
                        _ => sem.acquire_timeout(Duration::ZERO),
                    };
                    prop_assert_eq!(got.is_some(), value > 0, "step {}: {:?}", step, op);
                    if let Some(p) = got {
                        value -= 1;
                        permits.push(p);
                    }
                }
                SemOp::AcquireIfFree => {
                    if value > 0 {
                        permits.push(sem.acquire());
                        value -= 1;
                    }
                }
                SemOp::DropPermit(i) => {
                    if !permits.is_empty() {
                        drop(permits.swap_remove(i % permits.len()));
                        value += 1;
                    }
                }
                SemOp::Forget(i) => {
                    if !permits.is_empty() {
                        permits.swap_remove(i % permits.len()).forget();
                    }
                }
                SemOp::Release => {
                    sem.release();
                    value += 1;
                }
                SemOp::ReleaseN(n) => {
                    sem.release_n(*n);
                    value += n;
                }
            }
            prop_assert_eq!(sem.available(), value, "step {}: after {:?}", step, op);
        }
        let held = permits.len();
        drop(permits);
        prop_assert_eq!(sem.available(), value + held);
    }
}

// ---------------------------------------------------------------------------------------
// BoundedSemaphore
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum BoundedOp {
    TryAcquire,
    Poll,
    DropPermit(usize),
    Forget(usize),
    /// Bare `release()`: gives back a forgotten permit, or is an over-release.
    Release,
}

fn bounded_op() -> impl Strategy<Value = BoundedOp> {
    prop_oneof![
        3 => Just(BoundedOp::TryAcquire),
        1 => Just(BoundedOp::Poll),
        3 => any::<usize>().prop_map(BoundedOp::DropPermit),
        2 => any::<usize>().prop_map(BoundedOp::Forget),
        3 => Just(BoundedOp::Release),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Model: `free + guarded + forgotten == max` always. A bare release is legal exactly
    /// when some permit was forgotten (Python: release only what you acquired); guarded
    /// permits come back by dropping their guard, so releasing one of them bare as well
    /// would return it twice.
    #[test]
    fn bounded_semaphore_never_exceeds_its_initial_value(
        max in 1usize..4,
        ops in prop::collection::vec(bounded_op(), 0..60),
    ) {
        let sem = BoundedSemaphore::new(max).named("model-bounded");
        let mut free = max;
        let mut forgotten = 0usize;
        let mut permits: Vec<SemaphorePermit<'_>> = Vec::new();
        for (step, op) in ops.iter().enumerate() {
            match op {
                BoundedOp::TryAcquire | BoundedOp::Poll => {
                    let got = match op {
                        BoundedOp::TryAcquire => sem.try_acquire(),
                        _ => sem.acquire_timeout(Duration::ZERO),
                    };
                    prop_assert_eq!(got.is_some(), free > 0, "step {}: {:?}", step, op);
                    if let Some(p) = got {
                        free -= 1;
                        permits.push(p);
                    }
                }
                BoundedOp::DropPermit(i) => {
                    if !permits.is_empty() {
                        drop(permits.swap_remove(i % permits.len()));
                        free += 1;
                    }
                }
                BoundedOp::Forget(i) => {
                    if !permits.is_empty() {
                        permits.swap_remove(i % permits.len()).forget();
                        forgotten += 1;
                    }
                }
                BoundedOp::Release => {
                    let result = sem.release();
                    if forgotten > 0 {
                        prop_assert!(result.is_ok(), "step {}: giving back a forgotten permit: {:?}", step, result);
                        forgotten -= 1;
                        free += 1;
                    } else {
                        let expected = UsageError::OverRelease { name: "model-bounded".into(), max, guarded: permits.len() };
                        prop_assert_eq!(result, Err(expected), "step {}: over-release", step);
                    }
                }
            }
            prop_assert_eq!(sem.available(), free, "step {}: after {:?}", step, op);
            prop_assert_eq!(free + permits.len() + forgotten, max, "model invariant");
        }
        drop(permits);
        prop_assert!(sem.available() <= max, "value {} above the initial {}", sem.available(), max);
        prop_assert_eq!(sem.available(), max - forgotten);
    }
}

// ---------------------------------------------------------------------------------------
// RLock
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum RLockOp {
    Acquire,
    AcquireChecked,
    TryAcquire,
    Poll,
    /// Drop the i-th guard (any order: only the count matters).
    Release(usize),
    /// Ask another thread what it sees (not owned; try fails while held).
    LookFromOtherThread,
}

fn rlock_op() -> impl Strategy<Value = RLockOp> {
    prop_oneof![
        2 => Just(RLockOp::Acquire),
        1 => Just(RLockOp::AcquireChecked),
        1 => Just(RLockOp::TryAcquire),
        1 => Just(RLockOp::Poll),
        4 => any::<usize>().prop_map(RLockOp::Release),
        1 => Just(RLockOp::LookFromOtherThread),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn rlock_matches_a_recursion_count(ops in prop::collection::vec(rlock_op(), 0..50)) {
        let lock = RLock::new(());
        let mut guards = Vec::new();
        for (step, op) in ops.iter().enumerate() {
            match op {
                RLockOp::Acquire => guards.push(lock.acquire()),
                RLockOp::AcquireChecked => guards.push(lock.acquire_checked().expect("re-entry is never a deadlock")),
                RLockOp::TryAcquire => guards.push(lock.try_acquire().expect("free or ours: try succeeds")),
                RLockOp::Poll => guards.push(lock.acquire_timeout(Duration::ZERO).expect("free or ours: poll succeeds")),
                RLockOp::Release(i) => {
                    if !guards.is_empty() {
                        drop(guards.swap_remove(i % guards.len()));
                    }
                }
                RLockOp::LookFromOtherThread => {
                    let seen = std::thread::scope(|s| {
                        s.spawn(|| {
                            let got = lock.try_acquire().is_some();
                            (lock.is_owned(), lock.count(), got)
                        })
                        .join()
                        .expect("observer")
                    });
                    // Another thread never owns it, and can take it only when it is free.
                    prop_assert_eq!(seen, (false, 0, guards.is_empty()), "step {}", step);
                }
            }
            let held = guards.len();
            prop_assert_eq!(lock.count() as usize, held, "step {}: after {:?}", step, op);
            prop_assert_eq!(lock.is_owned(), held > 0, "step {}", step);
            prop_assert_eq!(lock.locked(), held > 0, "step {}", step);
        }
        drop(guards);
        prop_assert!(!lock.locked() && lock.count() == 0);
    }
}

// ---------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------

#[derive(Clone, Debug)]
enum EventOp {
    Set,
    Clear,
    Poll,
    WaitIfSet,
}

fn event_op() -> impl Strategy<Value = EventOp> {
    prop_oneof![
        Just(EventOp::Set),
        Just(EventOp::Clear),
        Just(EventOp::Poll),
        Just(EventOp::WaitIfSet)
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn event_matches_a_flag(ops in prop::collection::vec(event_op(), 0..40)) {
        let event = Event::new();
        let mut flag = false;
        for (step, op) in ops.iter().enumerate() {
            match op {
                EventOp::Set => {
                    event.set();
                    flag = true;
                }
                EventOp::Clear => {
                    event.clear();
                    flag = false;
                }
                EventOp::Poll => prop_assert_eq!(event.wait_timeout(Duration::ZERO), flag, "step {}", step),
                EventOp::WaitIfSet => {
                    if flag {
                        event.wait(); // must return at once
                    }
                }
            }
            prop_assert_eq!(event.is_set(), flag, "step {}: after {:?}", step, op);
        }
    }
}
