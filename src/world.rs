//! Closed worlds: `check` runs code where every thread is known (stub until issue 3).

use crate::detector::{Policy, Report};

/// A thread's link to the closed world it belongs to.
pub(crate) struct WorldLink {}

impl WorldLink {
    pub(crate) fn blocked(&self, _thread: u64, _timed: bool) {}
    pub(crate) fn woke(&self, _thread: u64, _timed: bool) {}
    pub(crate) fn thread_exited(&self, _thread: u64) {}
}

/// The calling thread's world policy, if it runs in a world that set one.
pub(crate) fn policy_override() -> Option<Policy> {
    None
}

/// Lets the calling thread's world keep a report it raised.
pub(crate) fn note_report(_report: &Report) {}

/// Tells the calling thread's world that something that can wake a waiter happened.
pub(crate) fn note_progress() {}
