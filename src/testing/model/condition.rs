//! Condition: the model (how many wait) and the adapter, whose waiters are helper threads.

use std::sync::Arc;
use std::time::Duration;

use super::{Model, Observed, await_until};
use crate::testing::ops::ConditionOp;
use crate::{Condition, Lock};

/// The model of a [`Condition`] with helper threads waiting on it: how many wait.
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, ConditionModel, ConditionOp, ConditionUnderTest};
///
/// let ops = [ConditionOp::AddWaiter, ConditionOp::AddWaiter, ConditionOp::Notify(1), ConditionOp::Waiters];
/// testing::check_model(ConditionModel::new(), ConditionUnderTest::new(), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConditionModel {
    waiting: usize,
}

impl ConditionModel {
    /// Nobody waits.
    pub fn new() -> Self {
        ConditionModel::default()
    }
}

impl Model for ConditionModel {
    type Op = ConditionOp;
    type Outcome = Observed;

    fn precondition(&self, op: &ConditionOp) -> bool {
        *op != ConditionOp::AddWaiter || self.waiting < 4
    }

    fn apply(&mut self, op: &ConditionOp) -> Observed {
        match op {
            ConditionOp::AddWaiter => {
                self.waiting += 1;
                Observed::Done
            }
            ConditionOp::Notify(n) => {
                let woke = (*n).min(self.waiting);
                self.waiting -= woke;
                Observed::Value(woke)
            }
            ConditionOp::NotifyAll => Observed::Value(std::mem::take(&mut self.waiting)),
            ConditionOp::Waiters => Observed::Value(self.waiting),
            ConditionOp::WaitTimeoutZero => Observed::Flag(true),
        }
    }
}

/// Runs [`ConditionOp`]s on a real [`Condition`] (over a `Lock<()>`), with helper threads
/// (plain std threads: run it outside [`explore`](crate::testing::explore)). Dropping it wakes
/// and joins them.
///
/// # Panics
///
/// `apply(AddWaiter)` panics if the helper has not reached its wait within 10 s.
pub struct ConditionUnderTest {
    lock: Arc<Lock<()>>,
    cond: Arc<Condition>,
    helpers: Vec<std::thread::JoinHandle<()>>,
}

impl ConditionUnderTest {
    /// A fresh lock and condition.
    #[track_caller]
    pub fn new() -> Self {
        ConditionUnderTest {
            lock: Arc::new(Lock::new(()).named("model-lock")),
            cond: Arc::new(Condition::new().named("model-condition")),
            helpers: Vec::new(),
        }
    }
}

impl Default for ConditionUnderTest {
    fn default() -> Self {
        ConditionUnderTest::new()
    }
}

impl Model for ConditionUnderTest {
    type Op = ConditionOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &ConditionOp) -> Observed {
        match op {
            ConditionOp::AddWaiter => {
                let before = self.cond.waiters();
                let (lock, cond) = (self.lock.clone(), self.cond.clone());
                self.helpers.push(std::thread::spawn(move || {
                    let mut guard = lock.acquire();
                    cond.wait(&mut guard);
                }));
                await_until("a helper thread's wait", || self.cond.waiters() > before);
                Observed::Done
            }
            ConditionOp::Notify(n) => Observed::Value(self.cond.notify(*n)),
            ConditionOp::NotifyAll => Observed::Value(self.cond.notify_all()),
            ConditionOp::Waiters => Observed::Value(self.cond.waiters()),
            ConditionOp::WaitTimeoutZero => {
                let mut guard = self.lock.acquire();
                let r = self.cond.wait_timeout(&mut guard, Duration::ZERO);
                Observed::Flag(r.timed_out())
            }
        }
    }
}

impl Drop for ConditionUnderTest {
    fn drop(&mut self) {
        for h in self.helpers.drain(..) {
            while !h.is_finished() {
                self.cond.notify_all();
                std::thread::yield_now();
            }
            let _ = h.join();
        }
    }
}
