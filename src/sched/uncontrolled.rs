//! The scheduler seam without the `testing` feature: nothing is ever controlled, and every
//! call is an empty inline function (see [`super`]).

use super::{Op, Park};
use crate::detector::resource::Resource;

/// Never a controlled run.
#[inline(always)]
pub(crate) fn active() -> bool {
    false
}

#[inline(always)]
pub(crate) fn point(_op: Op, _resource: &Resource) {}

#[inline(always)]
pub(crate) fn park(_resource: &Resource, _timed: bool, _ready: &(dyn Fn() -> bool + Sync)) -> Park {
    Park::Retry
}

#[inline(always)]
pub(crate) fn abort_unwind() {}

pub(crate) fn yield_point() {
    std::thread::yield_now();
}

/// A thread body for a controlled run: never run here.
pub(crate) type Job = Box<dyn FnOnce() + Send + 'static>;

/// Never called without the `testing` feature (callers check [`active`]).
#[inline(always)]
pub(crate) fn spawn(_name: &str, _scope: Option<usize>, _exit: u64, _job: Job) {}

#[inline(always)]
pub(crate) fn note_panic(_payload: &(dyn std::any::Any + Send)) {}

/// The end of a controlled scope: never, here.
pub(crate) struct ScopeGuard;

#[inline(always)]
pub(crate) fn scope_enter(_key: usize) -> Option<ScopeGuard> {
    None
}
