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

/// A child's place in a controlled run: never, here.
pub(crate) struct Ticket;

/// A thread of a controlled run: never, here.
pub(crate) struct Running;

/// The end of a controlled scope: never, here.
pub(crate) struct ScopeGuard;

#[inline(always)]
pub(crate) fn spawning(_name: &str, _scope: Option<usize>) -> Option<Ticket> {
    None
}

#[inline(always)]
pub(crate) fn thread_start(_ticket: Option<Ticket>) -> Option<Running> {
    None
}

#[inline(always)]
pub(crate) fn run<T>(_running: &Option<Running>, f: impl FnOnce() -> T) -> T {
    f()
}

#[inline(always)]
pub(crate) fn scope_enter(_key: usize) -> Option<ScopeGuard> {
    None
}
