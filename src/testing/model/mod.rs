//! Sequential models: what each primitive must do, one operation at a time, and the adapters
//! that run the same operations on the real thing.

mod barrier;
mod condition;
mod event;
mod lock;
mod semaphore;

use std::fmt;
use std::time::{Duration, Instant};

pub use barrier::{BarrierModel, BarrierUnderTest};
pub use condition::{ConditionModel, ConditionUnderTest};
pub use event::{EventModel, EventUnderTest};
pub use lock::{LockModel, LockUnderTest, RLockModel, RLockUnderTest};
pub use semaphore::{SemaphoreLike, SemaphoreModel, SemaphoreUnderTest, explore_semaphore};

/// What an operation was seen to do; the models and the adapters below both speak it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Observed {
    /// It ran; nothing to compare.
    Done,
    /// A try-acquire: whether it got the permit or lock.
    Acquired(bool),
    /// A number: free permits, a recursion count, waiters, threads woken, an arrival index.
    Value(usize),
    /// A flag: `locked()`, `is_set()`, `broken()`, a poll's result.
    Flag(bool),
    /// The primitive refused a misuse (a bounded semaphore's over-release).
    Refused,
    /// A barrier wait failed with `BrokenBarrier`.
    Broken,
}

/// A sequential model of a primitive (or the primitive itself, behind an adapter): apply an
/// operation, get what it should be (or was) seen to do. [`check_model`] runs the same
/// operations through a model and a real primitive and compares, step by step.
///
/// # Examples
///
/// A counter-based model of a semaphore you wrote, checked against synckit's model:
///
/// ```
/// use synckit::testing::{self, Model, Observed, SemaphoreModel, SemaphoreOp};
///
/// struct Mine { free: usize }
/// impl Model for Mine {
///     type Op = SemaphoreOp;
///     type Outcome = Observed;
///     fn apply(&mut self, op: &SemaphoreOp) -> Observed {
///         match op {
///             SemaphoreOp::Acquire => { self.free -= 1; Observed::Done }
///             SemaphoreOp::TryAcquire => {
///                 let got = self.free > 0;
///                 if got { self.free -= 1 }
///                 Observed::Acquired(got)
///             }
///             SemaphoreOp::Release => { self.free += 1; Observed::Done }
///             SemaphoreOp::Value => Observed::Value(self.free),
///         }
///     }
/// }
/// let ops = [SemaphoreOp::TryAcquire, SemaphoreOp::Acquire, SemaphoreOp::Release, SemaphoreOp::Value];
/// testing::check_model(SemaphoreModel::new(2), Mine { free: 2 }, &ops).unwrap();
/// ```
pub trait Model {
    /// The operations.
    type Op: fmt::Debug;
    /// What an operation is seen to do.
    type Outcome: PartialEq + fmt::Debug;

    /// Whether `op` may run now (asked of the model only): an operation that would block
    /// forever in a one-thread check (an `acquire` with no permit) is skipped.
    fn precondition(&self, op: &Self::Op) -> bool {
        let _ = op;
        true
    }

    /// Runs `op` and says what it did.
    fn apply(&mut self, op: &Self::Op) -> Self::Outcome;
}

/// The first step where the real primitive and the model disagreed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The step's index in the operation sequence.
    pub step: usize,
    /// The operation.
    pub op: String,
    /// What the model said.
    pub expected: String,
    /// What the primitive did.
    pub actual: String,
    /// The operations applied before it, with what they did.
    pub history: Vec<String>,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "step {}: {} did {} but the model says {}",
            self.step, self.op, self.actual, self.expected
        )?;
        if !self.history.is_empty() {
            writeln!(f, "after:")?;
            for h in &self.history {
                writeln!(f, "  {h}")?;
            }
        }
        Ok(())
    }
}

/// Inside `proptest!`, `?` turns a mismatch into a failing case (proptest converts any error).
impl std::error::Error for Mismatch {}

/// Applies `ops` to `model` and `real` in turn (skipping those whose precondition the model
/// refuses) and compares what each did.
///
/// # Errors
///
/// The first [`Mismatch`]; inside `proptest!`, `?` turns it into a failing case that
/// proptest shrinks.
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, SemaphoreModel, SemaphoreOp, SemaphoreUnderTest};
///
/// let ops = [SemaphoreOp::Release, SemaphoreOp::TryAcquire, SemaphoreOp::Value];
/// let real = SemaphoreUnderTest(synckit::BoundedSemaphore::new(1));
/// testing::check_model(SemaphoreModel::bounded(1), real, &ops).unwrap();
/// ```
pub fn check_model<M, R>(mut model: M, mut real: R, ops: &[M::Op]) -> Result<(), Mismatch>
where
    M: Model,
    R: Model<Op = M::Op, Outcome = M::Outcome>,
{
    let mut history = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        if !model.precondition(op) {
            continue;
        }
        let expected = model.apply(op);
        let actual = real.apply(op);
        if expected != actual {
            return Err(Mismatch {
                step,
                op: format!("{op:?}"),
                expected: format!("{expected:?}"),
                actual: format!("{actual:?}"),
                history,
            });
        }
        history.push(format!("{step}: {op:?} -> {actual:?}"));
    }
    Ok(())
}

/// Waits (yielding, up to 10 s) until `done` holds: helper threads reaching their wait.
pub(super) fn await_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "synckit::testing: {what} did not happen within 10 s"
        );
        std::thread::yield_now();
    }
}
