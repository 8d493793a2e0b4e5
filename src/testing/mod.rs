//! Property-testing synchronization primitives, synckit's and your own (the `testing`
//! feature, on by default).
//!
//! Two tools, for the two places bugs hide:
//!
//! **Operation sequences against a model.** [`ops::<SemaphoreOp>()`](ops) (and [`LockOp`],
//! [`RLockOp`], [`ConditionOp`], [`EventOp`], [`BarrierOp`]) are proptest strategies for
//! sequences of operations; a [`Model`] says what each operation must do; [`check_model`]
//! runs a sequence through the model and the real primitive and reports the first step where
//! they disagree, which proptest then shrinks. Models ship for every synckit primitive
//! ([`SemaphoreModel`], [`LockModel`], [`RLockModel`], [`ConditionModel`], [`EventModel`],
//! [`BarrierModel`]); implement [`SemaphoreLike`] to check a semaphore you wrote.
//!
//! **Schedules.** Random inputs are not enough for concurrent code: the bug is in the
//! interleaving. [`explore`] runs a test body in a closed world whose threads run *one at a
//! time* and switch only at synckit operations, under many schedules: random (seeded,
//! reproducible) or every schedule up to a preemption bound (like CHESS and loom) or a delay
//! bound. A failing schedule — an assertion, a panic, a deadlock found by the detector or by
//! the scheduler — is shrunk to the fewest context switches it can find, and printed as
//! timeline lanes with the seed and the schedule string that replay it.
//!
//! ```
//! use std::sync::Arc;
//! use synckit::{Condition, Lock, testing::{self, Config, FailureKind}};
//!
//! // A consumer that waits with `if` instead of `while`: a second consumer can take the item
//! // between the notify and the wake-up.
//! let failure = testing::explore(Config::exhaustive(2), |run| {
//!     let queue = Arc::new((Lock::new(Vec::<u32>::new()).named("queue"), Condition::new().named("ready")));
//!     let consumers: Vec<_> = (0..2).map(|i| {
//!         let queue = queue.clone();
//!         run.spawn(&format!("consumer-{i}"), move || {
//!             let (lock, ready) = &*queue;
//!             let mut items = lock.acquire();
//!             if items.is_empty() {          // the bug: `if`, not `while`
//!                 ready.wait(&mut items);
//!             }
//!             items.pop().expect("woken, but the queue is empty")
//!         })
//!     }).collect();
//!     for item in [1, 2] {
//!         let (lock, ready) = &*queue;
//!         lock.acquire().push(item);
//!         ready.notify(1);
//!     }
//!     for c in consumers {
//!         let _ = c.join();
//!     }
//! }).unwrap_err();
//! assert_eq!(failure.kind(), FailureKind::Panic);
//! ```
//!
//! # How the controlled scheduler works
//!
//! Every synckit operation of a controlled thread first reaches a *scheduling point*, where
//! the scheduler may hand the baton to another runnable thread. A blocking operation never
//! parks inside the primitive: it tries, and while that fails, marks the thread blocked and
//! passes the baton; it is retried once another thread has taken a step and the primitive's
//! probe says the wait could end. No runnable thread while some are blocked is a deadlock of
//! that schedule. Outside a controlled run each hook costs one read of a thread-local `bool`.
//!
//! The *default schedule* runs a thread until it blocks, finishes or reaches a
//! [`yield_point`](crate::thread::yield_point), then the next runnable thread after it in spawn
//! order (cyclically).
//! A schedule is the default one plus [`Deviation`]s. Shrinking is synckit's own (not
//! proptest's): delta debugging (Zeller's ddmin) removes deviations while the run still
//! fails, then a bounded-exhaustive search looks for a failing schedule with fewer
//! preemptions, so the printed schedule has as few context switches as the replay budget
//! can find. ([`schedules`] is a proptest strategy for schedules, for those who prefer
//! proptest's own shrinking.)
//!
//! # Limits
//!
//! The explorer sees only synckit operations. Between two of them a thread runs alone, so:
//!
//! - **Atomics, `std::sync` locks, channels, `RefCell`s and plain shared memory** are never
//!   interleaved at finer grain than the synckit operations around them. A race between two
//!   atomic operations with no synckit operation (or `yield_point()`) in between is invisible;
//!   put a `yield_point()` where you want the explorer to consider a switch.
//! - **Weak memory** is not modelled: one thread runs at a time, so every access is sequentially
//!   consistent. loom models C11 orderings; here, use loom for lock-free code.
//! - **Blocking outside synckit** (a std `Mutex` held by another controlled thread, a channel
//!   `recv` whose sender is another controlled thread) blocks the baton holder for real: the
//!   schedule stalls until the world's deadline and fails as [`FailureKind::Stalled`].
//!   `std::thread::sleep` and I/O only take their time, with every other thread waiting.
//! - **Threads spawned with `std::thread`** are not part of the run; use
//!   [`thread::spawn_named`](crate::thread::spawn_named), [`Run::spawn`] or
//!   [`thread::scope`](crate::thread::scope).
//! - **Time is virtual**: a timed wait times out only when no thread could run otherwise.
//! - **Read-only queries** (`locked()`, `is_set()`, `available()`, `waiters()`) are not
//!   scheduling points.
//! - **The search is stateless**: no partial-order reduction, so the number of schedules grows
//!   quickly with threads, steps and the preemption bound (every block lets any runnable thread
//!   go next for free). Keep bodies small; use [`Config::delay_bounded`] where a preemption
//!   bound is too big; cap a search with [`Config::max_schedules`] or [`Config::time_limit`].
//! - **A panic in any thread fails the schedule**, even one the test would have caught from
//!   `join()`. Such panics stay off stderr through a panic hook `explore` installs once (it
//!   hands every other panic to the hook that was there before; [`Config::quiet`]).
//!
//! | | synckit `explore` | [loom](https://docs.rs/loom) | [shuttle](https://docs.rs/shuttle) |
//! |---|---|---|---|
//! | Code under test | unchanged: synckit's own primitives | loom's copies of std types (`cfg(loom)`) | shuttle's copies of std types |
//! | Switches at | synckit operations, `yield_point()` | every loom operation, incl. atomics | every shuttle operation, incl. atomics |
//! | Atomics / weak memory | not seen / no | yes / C11 model | yes / sequentially consistent |
//! | Search | random (seeded) or bounded-exhaustive, no reduction | exhaustive with DPOR, preemption bound | random, PCT, or DFS (exhaustive, no reduction) |
//! | Failing schedule | shrunk (ddmin), printed as lanes + replay string | printed trace, replay with checkpoint file | replay from a printed schedule |
//! | Deadlocks | detector report (cycle, holds, sites) or "no thread can run" | "deadlock" panic | "deadlock" panic |
//! | Threads | real OS threads, one at a time | coroutines on one OS thread | coroutines on one OS thread |
//! | Cost per schedule | a fresh world of OS threads: 0.5–1 ms (`cargo bench --bench explore`) | no OS thread per schedule: far less | no OS thread per schedule: far less |

#[cfg(feature = "testing")]
mod explore;
#[cfg(feature = "testing")]
mod model;
#[cfg(feature = "testing")]
mod ops;

#[cfg(feature = "testing")]
pub use explore::{
    Budget, Config, Deviation, Failure, FailureKind, ParseScheduleError, Run, Schedule, Stats,
    explore, schedules,
};
#[cfg(feature = "testing")]
pub use model::{
    BarrierModel, BarrierUnderTest, ConditionModel, ConditionUnderTest, EventModel, EventUnderTest,
    LockModel, LockUnderTest, Mismatch, Model, Observed, RLockModel, RLockUnderTest, SemaphoreLike,
    SemaphoreModel, SemaphoreUnderTest, check_model, explore_semaphore,
};
#[cfg(feature = "testing")]
pub use ops::{
    BarrierOp, ConditionOp, EventOp, LockOp, Operation, RLockOp, SemaphoreOp, ops, ops_up_to,
};
