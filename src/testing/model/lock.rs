//! Lock and RLock: models of one thread's use, and the adapters over the real primitives.

use super::{Model, Observed};
use crate::testing::ops::{LockOp, RLockOp};
use crate::{Lock, LockGuard, RLock, RLockGuard};

/// The model of a [`Lock`] used by one thread: held or not.
///
/// # Examples
///
/// ```
/// use synckit::Lock;
/// use synckit::testing::{self, LockModel, LockOp, LockUnderTest};
///
/// let lock = Lock::new(0);
/// let ops = [LockOp::Acquire, LockOp::TryAcquire, LockOp::Locked, LockOp::Release, LockOp::Locked];
/// testing::check_model(LockModel::new(), LockUnderTest::new(&lock), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LockModel {
    held: bool,
}

impl LockModel {
    /// An unlocked lock.
    pub fn new() -> Self {
        LockModel::default()
    }
}

impl Model for LockModel {
    type Op = LockOp;
    type Outcome = Observed;

    fn precondition(&self, op: &LockOp) -> bool {
        match op {
            LockOp::Acquire => !self.held,
            LockOp::Release => self.held,
            _ => true,
        }
    }

    fn apply(&mut self, op: &LockOp) -> Observed {
        match op {
            LockOp::Acquire => {
                self.held = true;
                Observed::Done
            }
            LockOp::TryAcquire => {
                let got = !self.held;
                self.held = true;
                Observed::Acquired(got)
            }
            LockOp::Release => {
                self.held = false;
                Observed::Done
            }
            LockOp::Locked => Observed::Flag(self.held),
        }
    }
}

/// Runs [`LockOp`]s on a real [`Lock`], keeping the guard between steps.
pub struct LockUnderTest<'a, T> {
    lock: &'a Lock<T>,
    guard: Option<LockGuard<'a, T>>,
}

impl<'a, T> LockUnderTest<'a, T> {
    /// Drives `lock` (which must be unlocked).
    pub fn new(lock: &'a Lock<T>) -> Self {
        LockUnderTest { lock, guard: None }
    }
}

impl<T> Model for LockUnderTest<'_, T> {
    type Op = LockOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &LockOp) -> Observed {
        match op {
            LockOp::Acquire => {
                self.guard = Some(self.lock.acquire());
                Observed::Done
            }
            LockOp::TryAcquire => match self.lock.try_acquire() {
                Some(g) => {
                    self.guard = Some(g);
                    Observed::Acquired(true)
                }
                None => Observed::Acquired(false),
            },
            LockOp::Release => {
                self.guard = None;
                Observed::Done
            }
            LockOp::Locked => Observed::Flag(self.lock.locked()),
        }
    }
}

/// The model of an [`RLock`] used by one thread: its recursion count.
///
/// # Examples
///
/// ```
/// use synckit::RLock;
/// use synckit::testing::{self, RLockModel, RLockOp, RLockUnderTest};
///
/// let lock = RLock::new(());
/// let ops = [RLockOp::Acquire, RLockOp::Acquire, RLockOp::Count, RLockOp::TryFromOtherThread];
/// testing::check_model(RLockModel::new(), RLockUnderTest::new(&lock), &ops).unwrap();
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RLockModel {
    count: usize,
}

impl RLockModel {
    /// An unlocked re-entrant lock.
    pub fn new() -> Self {
        RLockModel::default()
    }
}

impl Model for RLockModel {
    type Op = RLockOp;
    type Outcome = Observed;

    fn precondition(&self, op: &RLockOp) -> bool {
        *op != RLockOp::Release || self.count > 0
    }

    fn apply(&mut self, op: &RLockOp) -> Observed {
        match op {
            RLockOp::Acquire => {
                self.count += 1;
                Observed::Done
            }
            RLockOp::TryAcquire => {
                self.count += 1;
                Observed::Acquired(true)
            }
            RLockOp::Release => {
                self.count -= 1;
                Observed::Done
            }
            RLockOp::Count => Observed::Value(self.count),
            RLockOp::Owned => Observed::Flag(self.count > 0),
            RLockOp::TryFromOtherThread => Observed::Acquired(self.count == 0),
        }
    }
}

/// Runs [`RLockOp`]s on a real [`RLock`], keeping its guards between steps.
pub struct RLockUnderTest<'a, T> {
    lock: &'a RLock<T>,
    guards: Vec<RLockGuard<'a, T>>,
}

impl<'a, T> RLockUnderTest<'a, T> {
    /// Drives `lock` (which must be unlocked).
    pub fn new(lock: &'a RLock<T>) -> Self {
        RLockUnderTest {
            lock,
            guards: Vec::new(),
        }
    }
}

impl<T: Send> Model for RLockUnderTest<'_, T> {
    type Op = RLockOp;
    type Outcome = Observed;

    fn apply(&mut self, op: &RLockOp) -> Observed {
        match op {
            RLockOp::Acquire => {
                self.guards.push(self.lock.acquire());
                Observed::Done
            }
            RLockOp::TryAcquire => match self.lock.try_acquire() {
                Some(g) => {
                    self.guards.push(g);
                    Observed::Acquired(true)
                }
                None => Observed::Acquired(false),
            },
            RLockOp::Release => {
                self.guards.pop();
                Observed::Done
            }
            RLockOp::Count => Observed::Value(self.lock.count() as usize),
            RLockOp::Owned => Observed::Flag(self.lock.is_owned()),
            RLockOp::TryFromOtherThread => {
                let lock = self.lock;
                let got = std::thread::scope(|s| {
                    s.spawn(|| lock.try_acquire().is_some())
                        .join()
                        .expect("the other thread panicked")
                });
                Observed::Acquired(got)
            }
        }
    }
}
