//! The scheduler seam: the calls every primitive makes so that a controlled schedule
//! (`testing::explore`) can run a closed world's threads one at a time.
//!
//! Every synckit operation of a thread in a controlled run first calls [`point`]: a
//! *scheduling point* where the scheduler may switch to another thread. A blocking
//! operation never parks inside the real primitive there: the blocking helper
//! (`primitives::blocking`) calls [`park`] instead, which marks the thread blocked (with a
//! probe that says when it may be able to go on), switches away, and returns when the
//! thread is scheduled again, to retry. In a controlled run a spawn ([`spawn`]) starts a
//! simulated thread, a coroutine of the run, not an OS thread.
//!
//! The seam is declared once, here, for two builds: with the `testing` feature the calls go
//! to the controller (`controlled`); without it they go to `uncontrolled`, where each is
//! an empty inline function. Outside a controlled run every call costs one read of a
//! `const`-initialised thread-local `bool` ([`active`]): no global state, no allocation.
//!
//! This module sits below the primitives and above the detector: it imports the detector's
//! vocabulary (resources, reports), never a primitive, a world or the explorer.

#[cfg(feature = "testing")]
pub(crate) mod controlled;
#[cfg(feature = "testing")]
use controlled as imp;

#[cfg(not(feature = "testing"))]
mod uncontrolled;
#[cfg(not(feature = "testing"))]
use uncontrolled as imp;

pub(crate) use crate::detector::report::Op;
pub(crate) use imp::{
    Job, abort_unwind, active, note_panic, park, point, scope_enter, spawn, yield_point,
};

/// How a [`park`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(not(feature = "testing"), allow(dead_code))]
pub(crate) enum Park {
    /// The thread runs again: retry the operation (it may still fail and park again).
    Retry,
    /// A timed wait timed out: in a controlled run time is virtual, and a timed wait times
    /// out only when no thread of the world could run otherwise.
    TimedOut,
    /// The run is being torn down (a failure was found): the thread is no longer controlled.
    /// Call [`abort_unwind`] (which unwinds unless the thread already is unwinding).
    Aborted,
}
