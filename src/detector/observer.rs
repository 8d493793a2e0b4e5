//! How closed worlds (and the explorer) learn what their threads do: the code that starts a
//! thread hands the registry an [`Observer`], and the detector calls it. The detector knows no
//! world; it only knows that someone may be listening.
//!
//! Every method has an empty default, so an observer implements what it needs. Calls are made
//! on the thread that acted, with no detector lock held (except where a method says so).
//! Two of them ([`spawning`](Observer::spawning), [`panicked`](Observer::panicked)) come from
//! the code that starts threads, not from the detector: they belong to a thread's life, which
//! the detector does not manage.

use super::Policy;
use super::registry::Hold;
use super::report::{Report, Step};
use super::resource::ResourceInfo;

/// A listener for one group of threads (a closed world).
pub(crate) trait Observer: Send + Sync {
    /// The policy for reports raised on this observer's threads (`None`: the global one).
    fn policy(&self) -> Option<Policy> {
        None
    }

    /// A thread of this observer is about to be started (by thread `by`, or from outside);
    /// until it registers it counts as running.
    fn spawning(&self, _by: Option<u64>, _name: &str) {}

    /// A thread of this observer registered with the detector under `name`.
    fn started(&self, _thread: u64, _name: &str) {}

    /// A thread of this observer panicked (not with a detector report: those are
    /// [collected](Observer::collect)); `at` is where, when the panic hook kept it.
    fn panicked(&self, _thread: u64, _name: &str, _message: String, _at: Option<String>) {}

    /// `thread` took a hold (a lock, a permit, a re-entry).
    fn acquired(&self, _thread: u64, _hold: &Hold) {}

    /// `thread` gave back one count of its hold on `resource`; `remaining` counts are left
    /// (0: the hold is gone).
    fn released(&self, _thread: u64, _resource: &ResourceInfo, _remaining: u32) {}

    /// `thread` is about to block on `resource` (its wait is registered).
    fn blocked(&self, _thread: u64, _resource: &ResourceInfo, _timed: bool) {}

    /// `thread` is about to leave its wait and change the primitive's state (take the permit,
    /// consume the wake-up): from now on it counts as running. Called with the primitive's
    /// state lock held, so it must take no detector lock.
    fn leaving(&self, _thread: u64) {}

    /// `thread`'s wait registration is gone.
    fn woke(&self, _thread: u64) {}

    /// `thread` did something another thread may be waiting for (a notify, a set, a release,
    /// an arrival), or something worth a line in a timeline.
    fn happened(&self, _thread: u64, _step: Step) {}

    /// `thread` ended (its detector state is being dropped).
    fn exited(&self, _thread: u64) {}

    /// A report raised on one of this observer's threads under the policy. Returns whether
    /// the observer keeps it to show later: then the detector prints nothing itself.
    fn collect(&self, _report: &Report) -> bool {
        false
    }

    /// Whether a panic on one of this observer's threads is collected and shown by the
    /// observer's owner (then the panic hook stays quiet).
    fn collects_panics(&self) -> bool {
        false
    }

    /// Whether a thread of this observer about to block captures its backtrace for reports
    /// (most of the cost of blocking; a `_checked` wait, whose report goes to the caller,
    /// always does). The explorer says no while it searches, and yes for the replay of the
    /// failing schedule that it shows.
    fn backtraces(&self) -> bool {
        true
    }

    /// For a `_checked` wait that no owner can end: whether blocking `thread` now would leave
    /// nobody to wake anyone, with the report if so. Called with `thread`'s wait registered.
    fn closes(&self, _thread: u64) -> Option<Report> {
        None
    }
}

/// An observer's own copy of one thread's holds, kept from [`Observer::acquired`] and
/// [`Observer::released`] (a world shows it in a stall report, the explorer in its lanes):
/// one way to keep it, so that the copies agree with the thread's own list.
pub(crate) fn copy_acquired(holds: &mut Vec<Hold>, hold: &Hold) {
    match holds
        .iter_mut()
        .rev()
        .find(|h| h.resource.id == hold.resource.id)
    {
        Some(h) => h.counted = hold.counted,
        None => holds.push(*hold),
    }
}

/// See [`copy_acquired`]: `remaining` counts left on the hold of `resource` (0: it is gone).
pub(crate) fn copy_released(holds: &mut Vec<Hold>, resource: &ResourceInfo, remaining: u32) {
    if let Some(pos) = holds.iter().rposition(|h| h.resource.id == resource.id) {
        match remaining {
            0 => {
                holds.remove(pos);
            }
            n => holds[pos].counted = n | (holds[pos].counted & Hold::ENTERED_GRAPH),
        }
    }
}
