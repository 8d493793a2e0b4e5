//! The deadlock detector: a wait-for graph checked when a thread is about to block, and a
//! lock-order graph that catches the deadlock that did not happen this run.
//!
//! Every synckit primitive reports to it. What happens when it finds something is the
//! [`Policy`]: by default the thread that would close a cycle panics with the [`Report`]
//! (tests fail readably, and unwinding releases its locks); the `_checked` forms return the
//! report as a [`Deadlock`] value instead.
//!
//! The detector is the ground floor of synckit: it knows no lock type, no closed world and no
//! scheduler. Primitives tell it what they do through a handful of calls (a hold taken, a
//! hold given back, a wait about to begin), each describing the primitive as data; closed
//! worlds hear about it through an observer that the code starting a thread hands to the
//! detector's registry. Every sentence of a report is written in one module. (The README's
//! Design section draws the floors.)
//!
//! # Examples
//!
//! ```
//! use synckit::{Lock, detector::{self, Policy}};
//!
//! let account = Lock::new(0).named("account");
//! let guard = account.acquire();
//! // A second acquire on the same thread can never succeed: the detector says so at once.
//! let err = account.acquire_checked().unwrap_err();
//! assert!(err.report().headline().contains("re-entrant acquire"));
//! drop(guard);
//! # let _ = Policy::Panic;
//! ```

pub(crate) mod holds;
mod id_map;
pub(crate) mod lock_order;
pub(crate) mod observer;
mod policy;
pub(crate) mod registry;
pub(crate) mod report;
pub(crate) mod resource;
pub(crate) mod wait_for;
mod watchdog;

#[cfg(feature = "testing")]
pub(crate) use policy::FullPath;
pub use policy::{Deadlock, DeadlockPanic, Policy, panic_message, policy, set_policy};
pub(crate) use policy::{
    Delivery, FastState, enabled, fast_state, install_panic_hook, judge, panic_location,
};
pub use report::{
    Held, OrderEdge, Report, ReportKind, ThreadState, WaitingFor, color_enabled,
    color_enabled_stdout, hide_frames, short_backtrace,
};
pub use resource::Kind;
pub use watchdog::watchdog;

use registry::global;

/// The whole current lock-order graph as Graphviz DOT: one node per lock (or lock class),
/// one edge per order seen, labelled with its call sites.
pub fn lock_order_dot() -> String {
    global().order.to_dot()
}

/// `(nodes, edges)` of the lock-order graph: what it costs in memory right now.
pub fn lock_order_size() -> (usize, usize) {
    global().order.size()
}
