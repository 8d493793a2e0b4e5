//! # synckit
//!
//! Python's `threading` primitives — [`Lock`], [`RLock`], [`Semaphore`],
//! [`BoundedSemaphore`], [`Condition`], [`Event`], [`Barrier`] — re-made in Rust, with every
//! acquisition and wait reported to a deadlock [`detector`]. Code that would hang instead
//! fails with a report that names the threads, the locks and the source lines.
//!
//! ```
//! use synckit::Lock;
//!
//! let account = Lock::new(100).named("account");
//! let guard = account.acquire();
//! // Taking a plain Lock twice on one thread would hang forever; synckit says so instead.
//! let deadlock = account.acquire_checked().unwrap_err();
//! println!("{deadlock}");
//! assert!(deadlock.to_string().contains("re-entrant acquire"));
//! drop(guard);
//! ```
#![warn(missing_docs)]

// The floors, ground first (see the README's Design section): a module imports only from
// its own floor or below.
pub mod detector;
mod error;
pub mod gil;
#[cfg(all(unix, feature = "testing"))]
pub mod grade;
mod primitives;
pub mod process;
mod sched;
pub mod testing;
pub mod thread;
mod world;

pub use world::{Config, OnDeadlock, Outcome, PanicInfo, check, check_with};

pub use detector::{Deadlock, Report};
pub use error::{BrokenBarrier, UsageError};
pub use primitives::barrier::Barrier;
pub use primitives::condition::{Condition, ConditionGuard, WaitTimeoutResult};
pub use primitives::event::Event;
pub use primitives::lock::{Lock, LockGuard};
pub use primitives::rlock::{RLock, RLockGuard};
pub use primitives::semaphore::{BoundedSemaphore, Semaphore, SemaphorePermit};
