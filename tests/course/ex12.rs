// Checks of exercise 12 (build your own Semaphore). Included by tests/exercises.rs once per
// module under test, which it names `ex`.
//
// Two tools of `synckit::testing`, both deterministic: operation sequences compared step by
// step with `SemaphoreModel` (fixed sequences, then proptest's from a fixed seed, shrunk to
// the shortest that still disagrees), and schedules explored bounded-exhaustively. The
// stub's `todo!()`s fail all three checks as "not written yet", never as a crash.

use std::sync::Arc;

use proptest::test_runner::{
    Config as ProptestConfig, RngAlgorithm, TestError, TestRng, TestRunner,
};
use synckit::testing::{
    self, Config, Mismatch, Run, SemaphoreLike, SemaphoreModel, SemaphoreOp, SemaphoreUnderTest,
};

use crate::schedules::*;
use crate::support::*;
use SemaphoreOp::{Acquire, Release, TryAcquire, Value};

impl SemaphoreLike for ex::Semaphore {
    fn acquire(&self) {
        ex::Semaphore::acquire(self);
    }
    fn try_acquire(&self) -> bool {
        ex::Semaphore::try_acquire(self)
    }
    fn release(&self) {
        ex::Semaphore::release(self);
    }
    fn available(&self) -> usize {
        ex::Semaphore::available(self)
    }
}

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "it_behaves_like_the_model",
            run: it_behaves_like_the_model,
            stub: not_written(),
        },
        Check {
            name: "every_schedule_keeps_count_and_wakes_waiters",
            run: every_schedule_keeps_count_and_wakes_waiters,
            stub: not_written(),
        },
        Check {
            name: "a_woken_waiter_looks_again",
            run: a_woken_waiter_looks_again,
            stub: not_written(),
        },
    ]
}

/// The stub fails every check at one of its `todo!()`s, and says where.
fn not_written() -> StubExpect {
    StubExpect::Fails {
        why: &[Why::NotImplemented],
        detail: Some(|f| {
            if f.happened
                .contains("`todo!()` at exercises/exercise_12.rs:")
            {
                Ok(())
            } else {
                Err("it does not point at a `todo!()` in exercises/exercise_12.rs".into())
            }
        }),
    }
}

/// Hand-picked sequences, run first: short, and each about one rule.
const FIXED: &[(usize, &[SemaphoreOp])] = &[
    (1, &[Value]),
    (1, &[TryAcquire, Value, TryAcquire, Release, Value]),
    (
        2,
        &[Acquire, Acquire, TryAcquire, Value, Release, Acquire, Value],
    ),
    (
        0,
        &[
            TryAcquire, Release, Release, Value, Acquire, TryAcquire, TryAcquire, Value,
        ],
    ),
];

/// How many sequences proptest generates after the fixed ones.
const GENERATED: u32 = 64;

/// A disagreement with the model: the initial permits, whether proptest generated (and
/// shrank) the sequence, and the mismatch.
struct Disagreement {
    initial: usize,
    generated: bool,
    mismatch: String,
}

/// The first disagreement with the model, if any.
fn disagreement() -> Option<Disagreement> {
    let run_one = |initial: usize, ops: &[SemaphoreOp]| -> Result<(), Mismatch> {
        let real = SemaphoreUnderTest(ex::Semaphore::new(initial));
        testing::check_model(SemaphoreModel::new(initial), real, ops)
    };
    for &(initial, ops) in FIXED {
        if let Err(m) = run_one(initial, ops) {
            return Some(Disagreement {
                initial,
                generated: false,
                mismatch: m.to_string(),
            });
        }
    }
    let config = ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(GENERATED)
    };
    let mut runner =
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha));
    let strategy = (0usize..3, testing::ops_up_to::<SemaphoreOp>(16));
    let (initial, mismatch) = match runner.run(&strategy, |(initial, ops)| {
        run_one(initial, &ops)?;
        Ok(())
    }) {
        Ok(()) => return None,
        Err(TestError::Fail(reason, (initial, _))) => (initial, reason.to_string()),
        Err(TestError::Abort(reason)) => (0, format!("proptest gave up: {reason}")),
    };
    Some(Disagreement {
        initial,
        generated: true,
        mismatch,
    })
}

fn it_behaves_like_the_model() -> Verdict {
    let expected = format!(
        "one thread runs sequences of acquire, try_acquire, release and available on your \
         semaphore ({} fixed ones, then {GENERATED} generated), and each step does what \
         synckit's SemaphoreModel says: acquire and a successful try_acquire take a permit, \
         release adds one, try_acquire with none free says false, available counts them",
        FIXED.len()
    );
    let Some(d) = run(&expected, disagreement)? else {
        return Ok(());
    };
    let which = if d.generated {
        "a sequence proptest generated, shrunk to the shortest that still disagrees"
    } else {
        "one of the hand-picked sequences"
    };
    Err(Failure::new(
        Why::WrongAnswer,
        &expected,
        format!(
            "your semaphore and the model disagree, starting with {} free permit(s), on {which}:\n{}",
            d.initial,
            d.mismatch.trim_end()
        ),
    )
    .note(
        "(`Value` is a call of available(), `Acquired(..)` what try_acquire returned, `Done` a \
         call that returns nothing. An `Acquire` runs only when the model has a free permit, so \
         a correct acquire never blocks here)",
    ))
}

/// A schedule that ended with a thread asleep on `freed`: a lost wake-up, explained.
fn lost_wake_up(failure: &testing::Failure, mut f: Failure) -> Failure {
    if asleep_on(failure, None, "freed") {
        f.why = Why::LostWakeUp;
        f.happened = "a lost wake-up: under the schedule below, a thread sleeps in acquire() on \
                      `freed` and nothing will ever notify it, although a permit came back. \
                      Either release() does not notify `freed` after adding the permit, or \
                      acquire() decided to sleep on an old look at the count (the look and the \
                      wait must be one critical section: exercise 11)"
            .to_string();
    }
    f
}

fn every_schedule_keeps_count_and_wakes_waiters() -> Verdict {
    let expected = "testing::explore_semaphore with 1 permit, every schedule with at most 2 \
                    preemptions: 2 workers each acquire, work and release (never 2 inside at \
                    once, and the permit is back at the end); and a release wakes a thread \
                    waiting in acquire";
    explored(
        expected,
        || testing::explore_semaphore(course_config(Config::exhaustive(2)), 1, ex::Semaphore::new),
        lost_wake_up,
    )
}

/// No permit at first; `waiter` waits in acquire, `thief` tries to take one, `main` releases
/// twice. Between a release's notify and the waiter's wake-up, the thief can take that
/// permit: a waiter that does not look again then takes a permit that is not there.
fn a_waiter_and_a_thief(run: &Run) {
    let sem = Arc::new(ex::Semaphore::new(0));
    let waiter = {
        let sem = sem.clone();
        run.spawn("waiter", move || sem.acquire())
    };
    let thief = {
        let sem = sem.clone();
        run.spawn("thief", move || sem.try_acquire())
    };
    sem.release();
    sem.release();
    let _ = waiter.join();
    let stolen = thief.join().unwrap_or(false);
    let left = sem.available();
    let want = if stolen { 0 } else { 1 };
    assert_eq!(
        left,
        want,
        "2 permits released, 1 taken by the waiter and {} by the thief, but {left} left",
        usize::from(stolen)
    );
}

fn a_woken_waiter_looks_again() -> Verdict {
    let expected = "no permit at first; `waiter` waits in acquire(), `thief` calls try_acquire(), \
                    `main` releases twice: under every schedule with at most 2 preemptions, each \
                    permit is taken at most once and the waiter gets one";
    explored(
        expected,
        || testing::explore(course_config(Config::exhaustive(2)), a_waiter_and_a_thief),
        |failure, mut f| {
            // The waiter slept on `freed`, was woken, and panicked taking a permit.
            let woken_then_robbed = failure.kind() == testing::FailureKind::Panic
                && failure.thread() == Some("waiter")
                && failure.lanes().contains("blocked on `freed`");
            if woken_then_robbed {
                // Before the explorer's account: the story of the schedule it shows.
                f.notes.insert(
                    0,
                    "the waiter was woken by a release, but before it got the lock back the \
                     thief took that permit; the waiter did not look again and took a permit \
                     that was not there. Waking up means \"look again\", not \"there is a \
                     permit\": wait with a predicate (wait_while), not a single `if`"
                        .to_string(),
                );
            }
            lost_wake_up(failure, f)
        },
    )
}
