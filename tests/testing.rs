//! `synckit::testing`'s strategies and models: every synckit primitive checked against its
//! sequential model with `ops::<...>()`, a semaphore written by hand checked against synckit's
//! model, and a broken one caught and shrunk by proptest.
#![cfg(feature = "testing")]

mod common;

use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use synckit::testing::{
    self, BarrierModel, BarrierOp, BarrierUnderTest, ConditionModel, ConditionOp,
    ConditionUnderTest, EventModel, EventOp, EventUnderTest, LockModel, LockOp, LockUnderTest,
    Model, Observed, RLockModel, RLockOp, RLockUnderTest, SemaphoreLike, SemaphoreModel,
    SemaphoreOp, SemaphoreUnderTest,
};
use synckit::{BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore};

use common::with_deadline;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig::with_cases(cases)
}

/// Runs a model check that starts helper threads under a deadline (a hang fails the case).
fn with_helpers<M, R>(
    what: &'static str,
    model: M,
    real: impl FnOnce() -> R + Send + 'static,
    ops: Vec<M::Op>,
) -> Result<(), TestCaseError>
where
    M: Model + Send + 'static,
    M::Op: Send,
    R: Model<Op = M::Op, Outcome = M::Outcome>,
{
    with_deadline(30, what, move || testing::check_model(model, real(), &ops))
        .map_err(|m| TestCaseError::fail(m.to_string()))
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn semaphore_matches_its_model(initial in 0usize..4, ops in testing::ops::<SemaphoreOp>()) {
        let real = SemaphoreUnderTest(Semaphore::new(initial));
        testing::check_model(SemaphoreModel::new(initial), real, &ops)?;
    }

    #[test]
    fn bounded_semaphore_matches_its_model(initial in 0usize..4, ops in testing::ops::<SemaphoreOp>()) {
        let real = SemaphoreUnderTest(BoundedSemaphore::new(initial));
        testing::check_model(SemaphoreModel::bounded(initial), real, &ops)?;
    }

    #[test]
    fn lock_matches_its_model(ops in testing::ops::<LockOp>()) {
        let lock = Lock::new(());
        testing::check_model(LockModel::new(), LockUnderTest::new(&lock), &ops)?;
    }

    #[test]
    fn event_matches_its_model(ops in testing::ops::<EventOp>()) {
        let event = Event::new();
        testing::check_model(EventModel::new(), EventUnderTest(&event), &ops)?;
    }

    #[test]
    fn a_lock_and_condition_semaphore_matches_synckits_model(
        initial in 0usize..4,
        ops in testing::ops::<SemaphoreOp>(),
    ) {
        let real = SemaphoreUnderTest(LockCondSemaphore::new(initial));
        testing::check_model(SemaphoreModel::new(initial), real, &ops)?;
    }
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn rlock_matches_its_model(ops in testing::ops::<RLockOp>()) {
        with_deadline(30, "rlock model", move || {
            let lock = RLock::new(());
            testing::check_model(RLockModel::new(), RLockUnderTest::new(&lock), &ops)
        })?;
    }

    #[test]
    fn condition_matches_its_model(ops in testing::ops_up_to::<ConditionOp>(24)) {
        with_helpers("condition model", ConditionModel::new(), ConditionUnderTest::new, ops)?;
    }

    #[test]
    fn barrier_matches_its_model(parties in 1usize..4, ops in testing::ops_up_to::<BarrierOp>(24)) {
        with_helpers("barrier model", BarrierModel::new(parties), move || BarrierUnderTest::new(parties), ops)?;
    }
}

/// A semaphore from a Lock and a Condition, written the way a learner would.
struct LockCondSemaphore {
    permits: Lock<usize>,
    freed: Condition,
}

impl LockCondSemaphore {
    fn new(permits: usize) -> Self {
        LockCondSemaphore {
            permits: Lock::new(permits).named("permits"),
            freed: Condition::new().named("freed"),
        }
    }
}

impl SemaphoreLike for LockCondSemaphore {
    fn acquire(&self) {
        let mut permits = self.permits.acquire();
        self.freed.wait_while(&mut permits, |p| *p == 0);
        *permits -= 1;
    }
    fn try_acquire(&self) -> bool {
        let mut permits = self.permits.acquire();
        let got = *permits > 0;
        if got {
            *permits -= 1;
        }
        got
    }
    fn release(&self) {
        *self.permits.acquire() += 1;
        self.freed.notify(1);
    }
    fn available(&self) -> usize {
        *self.permits.acquire()
    }
}

/// The bug: a successful try_acquire forgets to take the permit.
struct LeakySemaphore(Lock<usize>);

impl SemaphoreLike for LeakySemaphore {
    fn acquire(&self) {
        *self.0.acquire() -= 1;
    }
    fn try_acquire(&self) -> bool {
        *self.0.acquire() > 0
    }
    fn release(&self) {
        *self.0.acquire() += 1;
    }
    fn available(&self) -> usize {
        *self.0.acquire()
    }
}

#[test]
fn a_broken_semaphore_is_caught_and_shrunk_to_a_minimal_case() {
    let config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(256)
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = (0usize..4, testing::ops::<SemaphoreOp>());
    let result = runner.run(&strategy, |(initial, ops)| {
        let real = SemaphoreUnderTest(LeakySemaphore(Lock::new(initial)));
        testing::check_model(SemaphoreModel::new(initial), real, &ops)?;
        Ok(())
    });
    match result {
        Err(TestError::Fail(reason, (initial, ops))) => {
            // Shrunk to a minimal counterexample: a permit (initial, or released), taken by
            // try_acquire, then looked at or taken again.
            assert!(initial + ops.len() <= 3, "({initial}, {ops:?}): {reason}");
            assert!(ops.contains(&SemaphoreOp::TryAcquire), "{ops:?}");
            assert!(
                reason.to_string().contains("but the model says"),
                "{reason}"
            );
        }
        other => panic!("the leaky semaphore passed: {other:?}"),
    }
}

#[test]
fn a_mismatch_names_the_step_the_operation_and_the_history() {
    let ops = [
        SemaphoreOp::Release,
        SemaphoreOp::TryAcquire,
        SemaphoreOp::Value,
    ];
    let real = SemaphoreUnderTest(LeakySemaphore(Lock::new(0)));
    let m = testing::check_model(SemaphoreModel::new(0), real, &ops).unwrap_err();
    assert_eq!((m.step, m.op.as_str()), (2, "Value"));
    assert_eq!(
        (m.expected.as_str(), m.actual.as_str()),
        ("Value(0)", "Value(1)")
    );
    assert_eq!(
        m.history,
        vec!["0: Release -> Done", "1: TryAcquire -> Acquired(true)"]
    );
    assert!(
        m.to_string()
            .starts_with("step 2: Value did Value(1) but the model says Value(0)")
    );
}

#[test]
fn preconditions_keep_a_sequential_check_from_blocking() {
    // An acquire with no permit would block forever: the model skips it on both sides.
    let ops = [SemaphoreOp::Acquire, SemaphoreOp::Value];
    testing::check_model(
        SemaphoreModel::new(0),
        SemaphoreUnderTest(Semaphore::new(0)),
        &ops,
    )
    .unwrap();
    let mut model = SemaphoreModel::bounded(1);
    assert!(!model.precondition(&SemaphoreOp::Acquire) || model.value() == 1);
    assert_eq!(model.apply(&SemaphoreOp::Release), Observed::Refused);
}
