//! Barrier: the model (waiting in this round, broken or not) and the adapter, whose parties
//! are helper threads.

use std::sync::Arc;

use super::{Model, Observed, await_until};
use crate::Barrier;
use crate::testing::ops::BarrierOp;

/// The model of a [`Barrier`] for `parties` threads, with helper threads: how many wait in
/// this round, and whether it is broken.
///
/// # Examples
///
/// ```
/// use synckit::testing::{self, BarrierModel, BarrierOp, BarrierUnderTest};
///
/// let ops = [BarrierOp::ArriveHelper, BarrierOp::Waiting, BarrierOp::ArriveLast, BarrierOp::Abort, BarrierOp::ArriveLast];
/// testing::check_model(BarrierModel::new(2), BarrierUnderTest::new(2), &ops).unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarrierModel {
    parties: usize,
    waiting: usize,
    broken: bool,
}

impl BarrierModel {
    /// A barrier for `parties` threads (at least 1).
    pub fn new(parties: usize) -> Self {
        BarrierModel {
            parties: parties.max(1),
            waiting: 0,
            broken: false,
        }
    }
}

impl Model for BarrierModel {
    type Op = BarrierOp;
    type Outcome = Observed;

    fn precondition(&self, op: &BarrierOp) -> bool {
        match op {
            BarrierOp::ArriveHelper => !self.broken && self.waiting + 1 < self.parties,
            BarrierOp::ArriveLast => self.broken || self.waiting + 1 == self.parties,
            _ => true,
        }
    }

    fn apply(&mut self, op: &BarrierOp) -> Observed {
        match op {
            BarrierOp::ArriveHelper => {
                self.waiting += 1;
                Observed::Done
            }
            BarrierOp::ArriveLast if self.broken => Observed::Broken,
            BarrierOp::ArriveLast => {
                self.waiting = 0;
                Observed::Value(self.parties - 1)
            }
            BarrierOp::Waiting => Observed::Value(if self.broken { 0 } else { self.waiting }),
            BarrierOp::Abort => {
                self.broken = true;
                self.waiting = 0;
                Observed::Done
            }
            BarrierOp::Reset => {
                self.broken = false;
                self.waiting = 0;
                Observed::Done
            }
            BarrierOp::Broken => Observed::Flag(self.broken),
        }
    }
}

/// Runs [`BarrierOp`]s on a real [`Barrier`], with helper threads (plain std threads: run it
/// outside [`explore`](crate::testing::explore)). Dropping it breaks the barrier and joins
/// them.
///
/// # Panics
///
/// `apply` panics if the helpers have not arrived (or left) within 10 s.
pub struct BarrierUnderTest {
    barrier: Arc<Barrier>,
    helpers: Vec<std::thread::JoinHandle<()>>,
    /// Helpers that arrived in the current round (what `n_waiting` must reach).
    arrived: usize,
}

impl BarrierUnderTest {
    /// A fresh barrier for `parties` threads (at least 1).
    #[track_caller]
    pub fn new(parties: usize) -> Self {
        BarrierUnderTest {
            barrier: Arc::new(Barrier::new(parties.max(1)).named("model-barrier")),
            helpers: Vec::new(),
            arrived: 0,
        }
    }

    /// Waits until the barrier shows `n` waiting helpers (a round still draining or
    /// resetting shows 0 until it is done).
    fn settle(&self) {
        let n = self.arrived;
        await_until("the helpers' arrival", || {
            self.barrier.n_waiting() == n && (n > 0 || !self.draining())
        });
    }

    fn draining(&self) -> bool {
        self.helpers.iter().any(|h| !h.is_finished()) && self.arrived == 0
    }
}

impl Model for BarrierUnderTest {
    type Op = BarrierOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &BarrierOp) -> Observed {
        match op {
            BarrierOp::ArriveHelper => {
                let barrier = self.barrier.clone();
                self.helpers.push(std::thread::spawn(move || {
                    let _ = barrier.wait();
                }));
                self.arrived += 1;
                self.settle();
                Observed::Done
            }
            BarrierOp::ArriveLast => {
                let r = match self.barrier.wait() {
                    Ok(i) => Observed::Value(i),
                    Err(_) => Observed::Broken,
                };
                self.arrived = 0;
                self.settle();
                r
            }
            BarrierOp::Waiting => Observed::Value(self.barrier.n_waiting()),
            BarrierOp::Abort => {
                self.barrier.abort();
                self.arrived = 0;
                self.settle();
                Observed::Done
            }
            BarrierOp::Reset => {
                self.barrier.reset();
                self.arrived = 0;
                self.settle();
                Observed::Done
            }
            BarrierOp::Broken => Observed::Flag(self.barrier.broken()),
        }
    }
}

impl Drop for BarrierUnderTest {
    fn drop(&mut self) {
        self.barrier.abort();
        for h in self.helpers.drain(..) {
            let _ = h.join();
        }
    }
}
