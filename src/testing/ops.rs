//! Operations on each primitive, as data, and the proptest strategies that generate them.

use std::fmt;

use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;

/// An operation proptest can generate; [`ops`] makes sequences of them.
pub trait Operation: Clone + fmt::Debug + 'static {
    /// The strategy for one operation.
    fn strategy() -> BoxedStrategy<Self>;
}

/// Sequences of 0 to 63 operations of type `O`; proptest shrinks a failing one by dropping
/// operations and simplifying the rest.
///
/// # Examples
///
/// ```
/// use proptest::prelude::*;
/// use synckit::testing::{self, SemaphoreModel, SemaphoreOp, SemaphoreUnderTest};
///
/// proptest!(ProptestConfig::with_cases(16), |(initial in 0usize..3, ops in testing::ops::<SemaphoreOp>())| {
///     let model = SemaphoreModel::new(initial);
///     let real = SemaphoreUnderTest(synckit::Semaphore::new(initial));
///     testing::check_model(model, real, &ops)?;
/// });
/// ```
pub fn ops<O: Operation>() -> impl Strategy<Value = Vec<O>> {
    ops_up_to::<O>(64)
}

/// Sequences of fewer than `max` operations of type `O`.
///
/// # Examples
///
/// ```
/// use proptest::prelude::*;
/// use synckit::testing::{self, EventModel, EventOp, EventUnderTest};
///
/// proptest!(ProptestConfig::with_cases(8), |(ops in testing::ops_up_to::<EventOp>(8))| {
///     prop_assert!(ops.len() < 8);
///     let event = synckit::Event::new();
///     testing::check_model(EventModel::new(), EventUnderTest(&event), &ops)?;
/// });
/// ```
pub fn ops_up_to<O: Operation>(max: usize) -> impl Strategy<Value = Vec<O>> {
    prop::collection::vec(O::strategy(), 0..max.max(1))
}

/// An operation on a semaphore, at the level of Python's `threading.Semaphore`: bare
/// `acquire()`/`release()` (no guards), so any semaphore can be checked, including one you
/// wrote (see [`SemaphoreLike`](super::SemaphoreLike)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SemaphoreOp {
    /// `acquire()`. A sequential check must never block, so it runs only when the model has
    /// a free permit (its precondition).
    Acquire,
    /// `acquire(blocking=False)`: takes a permit if one is free; observes whether it did.
    TryAcquire,
    /// `release()`: gives a permit back; a bounded semaphore refuses one above its initial
    /// value.
    Release,
    /// Observes the number of free permits.
    Value,
}

impl Operation for SemaphoreOp {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![
            3 => Just(SemaphoreOp::Acquire),
            3 => Just(SemaphoreOp::TryAcquire),
            3 => Just(SemaphoreOp::Release),
            1 => Just(SemaphoreOp::Value),
        ]
        .boxed()
    }
}

/// An operation on a [`Lock`](crate::Lock), by one thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockOp {
    /// `acquire()`, only when not held (a second acquire by the holder is a deadlock).
    Acquire,
    /// `try_acquire()`: observes whether it got the lock.
    TryAcquire,
    /// Drop the guard, only when held.
    Release,
    /// Observes `locked()`.
    Locked,
}

impl Operation for LockOp {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![
            Just(LockOp::Acquire),
            Just(LockOp::TryAcquire),
            Just(LockOp::Release),
            Just(LockOp::Locked),
        ]
        .boxed()
    }
}

/// An operation on an [`RLock`](crate::RLock).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RLockOp {
    /// `acquire()`: first or re-entrant.
    Acquire,
    /// `try_acquire()`: always succeeds for the only thread.
    TryAcquire,
    /// Drop one guard, only when held.
    Release,
    /// Observes `count()`.
    Count,
    /// Observes `is_owned()`.
    Owned,
    /// Another thread tries to take it (and gives it back): observes whether it could.
    TryFromOtherThread,
}

impl Operation for RLockOp {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![
            3 => Just(RLockOp::Acquire),
            1 => Just(RLockOp::TryAcquire),
            4 => Just(RLockOp::Release),
            1 => Just(RLockOp::Count),
            1 => Just(RLockOp::Owned),
            1 => Just(RLockOp::TryFromOtherThread),
        ]
        .boxed()
    }
}

/// An operation on a [`Condition`](crate::Condition), from a test thread that can start
/// helper threads that wait on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConditionOp {
    /// A new helper thread takes the lock and waits (at most 4 wait at once).
    AddWaiter,
    /// `notify(n)`: observes how many it woke.
    Notify(usize),
    /// `notify_all()`: observes how many it woke.
    NotifyAll,
    /// Observes `waiters()`.
    Waiters,
    /// The test thread waits with a zero timeout: observes that it timed out.
    WaitTimeoutZero,
}

impl Operation for ConditionOp {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![
            3 => Just(ConditionOp::AddWaiter),
            2 => (0usize..4).prop_map(ConditionOp::Notify),
            1 => Just(ConditionOp::NotifyAll),
            1 => Just(ConditionOp::Waiters),
            1 => Just(ConditionOp::WaitTimeoutZero),
        ]
        .boxed()
    }
}

/// An operation on an [`Event`](crate::Event).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventOp {
    /// `set()`.
    Set,
    /// `clear()`.
    Clear,
    /// Observes `is_set()`.
    IsSet,
    /// `wait()`, only when set (it returns at once).
    WaitIfSet,
    /// `wait_timeout(0)`: observes the flag.
    Poll,
}

impl Operation for EventOp {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![
            Just(EventOp::Set),
            Just(EventOp::Clear),
            Just(EventOp::IsSet),
            Just(EventOp::WaitIfSet),
            Just(EventOp::Poll),
        ]
        .boxed()
    }
}

/// An operation on a [`Barrier`](crate::Barrier), from a test thread that can start helper
/// threads that wait on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierOp {
    /// A helper thread arrives and waits (only while the round still needs more than one).
    ArriveHelper,
    /// The test thread arrives as the last party (only then): observes its arrival index.
    ArriveLast,
    /// Observes `n_waiting()`.
    Waiting,
    /// `abort()`: waiting helpers get `BrokenBarrier`.
    Abort,
    /// `reset()`.
    Reset,
    /// Observes `broken()`.
    Broken,
}

impl Operation for BarrierOp {
    fn strategy() -> BoxedStrategy<Self> {
        prop_oneof![
            4 => Just(BarrierOp::ArriveHelper),
            3 => Just(BarrierOp::ArriveLast),
            1 => Just(BarrierOp::Waiting),
            1 => Just(BarrierOp::Abort),
            1 => Just(BarrierOp::Reset),
            1 => Just(BarrierOp::Broken),
        ]
        .boxed()
    }
}
