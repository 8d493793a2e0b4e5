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
//! `explore` runs its search on a worker thread, and each schedule's threads as stackful
//! coroutines on that one OS thread (corosensei, as shuttle does; stacks pooled for the whole
//! search). Every synckit operation of a controlled thread first reaches a *scheduling point*,
//! where the scheduler may switch to another runnable thread: a few nanoseconds, no kernel.
//! A blocking operation never parks inside the primitive: it tries, and while that fails,
//! marks the thread blocked and switches away; it is retried once another thread has taken a
//! step and the primitive's probe says the wait could end. No runnable thread while some are
//! blocked is a deadlock of that schedule. What would be thread-local comes from the
//! scheduler: the detector's per-thread state (holds, name, waits) is swapped on every
//! switch, so reports name the simulated threads. A failing run is torn down by resuming
//! each suspended thread once more to unwind it (newest first; a scope waits for its
//! threads), so nothing stays blocked and nothing leaks. Outside a controlled run each hook
//! costs one read of a thread-local `bool`.
//!
//! The *default schedule* runs a thread until it blocks, finishes or reaches a
//! [`yield_point`](crate::thread::yield_point), then the next runnable thread after it in spawn
//! order (cyclically). A schedule is the default one plus [`Deviation`]s. Between a notify and
//! the woken thread taking its lock back, any other thread may run and take the lock first
//! (*barging*, as with Python's and every real condition variable): the woken thread's
//! re-acquire is a scheduling point like any other. Shrinking is synckit's own (not
//! proptest's): delta debugging (Zeller's ddmin) removes deviations while the run still
//! fails, then a bounded-exhaustive search looks for a failing schedule with fewer
//! preemptions, so the printed schedule has as few context switches as the replay budget
//! can find; a shrink that runs out of replays says so. ([`schedules`] is a proptest strategy
//! for schedules, for those who prefer proptest's own shrinking.)
//!
//! **Bounded by default.** A search stops after 5 s (and an exhaustive one after 100,000
//! schedules) unless [`Config::time_limit`] and [`Config::max_schedules`] say otherwise, and
//! [`Stats`] says which it was: `complete: every schedule within delay bound 2 passed`, or
//! `stopped at the budget (...) after N schedules: not a proof`. The bounded-exhaustive
//! searches use a partial-order reduction ([`Config::reduction`], sleep sets): two steps of
//! different threads on different primitives are tried in one order only.
//!
//! # Limits
//!
//! The explorer sees only synckit operations. Between two of them a thread runs alone, so:
//!
//! - **Atomics, `std::sync` locks, channels, `RefCell`s and plain shared memory** are never
//!   interleaved at finer grain than the synckit operations around them. A race between two
//!   atomic operations with no synckit operation (or `yield_point()`) in between is invisible;
//!   put a `yield_point()` where you want the explorer to consider a switch. The reduction
//!   also assumes that such code does not race across threads between their steps on
//!   *different* primitives (a `yield_point()` commutes with nothing, so it marks those too).
//! - **Weak memory** is not modelled: one thread runs at a time, so every access is sequentially
//!   consistent. loom models C11 orderings; here, use loom for lock-free code.
//! - **Blocking or spinning outside synckit** (a std `Mutex` held by another controlled
//!   thread, a channel `recv` whose sender is another controlled thread, a busy loop on an
//!   atomic) cannot be switched away from: every thread of the schedule is on one OS thread.
//!   The caller's thread is a watchdog: after [`Config::deadline`] (10 s) the schedule fails
//!   as [`FailureKind::Stalled`], with what every thread held and waited for, and the stuck
//!   worker thread is left behind (one OS thread per stalled search; not shrunk, since every
//!   replay would wait out the deadline). `std::thread::sleep` and I/O only take their time.
//! - **Threads spawned with `std::thread`** are not part of the run; use
//!   [`thread::spawn_named`](crate::thread::spawn_named), [`Run::spawn`] or
//!   [`thread::scope`](crate::thread::scope).
//! - **One OS thread for all**: `thread_local!` values, `std::thread::current()` (its name and
//!   id) and `std::thread::panicking()` are the worker's, shared by the simulated threads;
//!   synckit's own reports name them from `spawn_named`.
//! - **Output** is captured on Linux only ([`Config::capture_output`]): there the search's
//!   worker has a private copy of the process's file descriptors, its stdout and stderr go
//!   nowhere while it searches, and what the failing schedule's replay printed comes with the
//!   [`Failure`]. Elsewhere every schedule's output goes where the process's goes. A file the
//!   body opens lives in the worker's copy of the table (threads the body starts share it).
//! - **Time is virtual**: a timed wait times out only when no thread could run otherwise.
//! - **Read-only queries** (`locked()`, `is_set()`, `available()`, `waiters()`) are not
//!   scheduling points.
//! - **The space grows fast** with threads, steps and the bound (every block lets any
//!   runnable thread go next for free under a preemption bound): keep bodies small, prefer
//!   [`Config::delay_bounded`], and read what [`Stats`] says it covered.
//! - **A panic in any thread fails the schedule**, even one the test would have caught from
//!   `join()`. Such panics stay off stderr through a panic hook `explore` installs once (it
//!   hands every other panic to the hook that was there before; [`Config::quiet`]).
//!
//! | | synckit `explore` | [loom](https://docs.rs/loom) | [shuttle](https://docs.rs/shuttle) |
//! |---|---|---|---|
//! | Code under test | unchanged: synckit's own primitives | loom's copies of std types (`cfg(loom)`) | shuttle's copies of std types |
//! | Switches at | synckit operations, `yield_point()` | every loom operation, incl. atomics | every shuttle operation, incl. atomics |
//! | Atomics / weak memory | not seen / no | yes / C11 model | yes / sequentially consistent |
//! | Search | random (seeded) or bounded-exhaustive (preemption or delay bound) with sleep sets; bounded by default (5 s) | exhaustive with DPOR, preemption bound | random, PCT, or DFS (exhaustive, no reduction) |
//! | Failing schedule | shrunk (ddmin), printed as lanes + replay string | printed trace, replay with checkpoint file | replay from a printed schedule |
//! | Deadlocks | detector report (cycle, holds, sites) or "no thread can run" | "deadlock" panic | "deadlock" panic |
//! | Threads | coroutines on one OS thread | coroutines on one OS thread | coroutines on one OS thread |
//! | Speed, bounded queue (README, Performance) | about 20,000 schedules/s | about 10,000 (preemption bound 1) | about 45,000 (random) to 75,000 (DFS) |

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
