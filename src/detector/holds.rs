//! The one door through which holds enter and leave a thread's list: [`on_acquire`] and
//! [`on_release`], for every primitive that can be held (locks, re-entries, permits).
//!
//! An acquire that may block (not a try, not a re-entry) and that happens while the thread
//! holds a lock also checks the lock order: a new edge goes to the global lock-order graph,
//! unless this thread's edge cache knows it already.
//!
//! This is the detector's fast path: an uncontended acquire and release of a lock come here
//! and nowhere else. It takes no global lock, allocates nothing (the hold list has room for
//! eight holds from the thread's first use) and captures no backtrace; what is rare (a report,
//! a new order edge, a thread's first use, an observer) is out of line.

use super::lock_order::{self, OrderContext};
use std::sync::atomic::{AtomicU64, Ordering};

use super::policy::FastState;
use super::registry::{Hold, Local, global, local, local_fast, with_local};
use super::report::{Report, ThreadState};
use super::resource::{Resource, ResourceInfo, Site};

/// How a hold was taken, for the lock-order check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// A blocking acquire (`timed`: with a timeout): orders the locks held before it.
    Blocking { timed: bool, subclass: u32 },
    /// A try-acquire: cannot block, so it adds no order edge (it is held all the same).
    Try,
    /// One more count on a hold the thread already has (an RLock re-entry, a second permit
    /// of a semaphore): no edge, and no new hold.
    Again,
    /// A semaphore's first permit for this thread; the semaphore has `in_all` permits in all
    /// (which makes it a counting gate for the locks taken while it is held).
    Permit { in_all: u32 },
}

/// Records a new hold of `resource` on the calling thread (or, with [`Taken::Again`], one more
/// count on the hold it has), and checks the lock order it implies. Returns the calling
/// thread's id (to record as owner), and an inversion report when this acquire closes a new
/// lock-order cycle. `0` and no report during thread teardown.
#[inline(always)]
pub(crate) fn on_acquire(
    resource: &Resource,
    site: Site,
    taken: Taken,
) -> (u64, Option<Box<Report>>) {
    // A primitive's first use draws its id from the thread's block (another thread-local).
    let info = resource.info();
    let Some(mut local) = local() else {
        return (0, None);
    };
    // Holds recorded under another policy epoch are possibly stale; and a thread whose
    // fast-path snapshot is out of date gets a new one (the full path ends here).
    if local.fast_state != super::policy::fast_state().0 {
        local.sync_fast_state();
    }
    if taken == Taken::Again
        && let Some(h) = local
            .holds
            .iter_mut()
            .rev()
            .find(|h| h.resource.id == info.id)
    {
        h.counted += 1;
        if local.observer.is_some() {
            tell_acquired(&local, info.id);
        }
        return (local.id, None);
    }
    let mut report = None;
    let tag = match taken {
        Taken::Blocking { timed, subclass } => {
            if info.kind.is_lock() && !local.holds.is_empty() {
                report = check_order(&mut local, resource, &info, site, timed, subclass);
            }
            subclass
        }
        Taken::Permit { in_all } => in_all,
        Taken::Try | Taken::Again => 0,
    };
    local.holds.push(Hold {
        resource: info,
        site,
        counted: 1,
        tag,
    });
    if local.observer.is_some() {
        tell_acquired(&local, info.id);
    }
    (local.id, report)
}

/// Whether the calling thread may take the fast path under `state`: its snapshot equals the
/// global state. A thread's snapshot is either 0 or a fast state (see `Local::fast_state`),
/// and the global state is never 0, so this one compare also says the state is fast: the
/// detector is on, and no controlled run needs the full path.
#[inline(always)]
pub(crate) fn fast_ready(state: FastState) -> bool {
    // SAFETY: one read, nothing else reaches the state meanwhile.
    let local = unsafe { local_fast() };
    local.fast_state == state.0
}

/// The bookkeeping of an uncontended lock acquire under a fast `state` (see [`FastState`]),
/// inline, when the thread holds nothing: one hold pushed and the thread's id stored in
/// `owner`. `false` sends the caller to the out-of-line [`acquire_nested`].
#[inline(always)]
pub(crate) fn acquire_fast(
    resource: &Resource,
    site: Site,
    state: FastState,
    owner: &AtomicU64,
) -> bool {
    // A primitive's first use draws its id here (from its own thread-local, before this
    // function takes the state).
    let id = resource.id();
    // SAFETY: straight-line use; nothing else reaches the state meanwhile.
    let local = unsafe { local_fast() };
    debug_assert_eq!(
        local.fast_state, state.0,
        "callers check `fast_ready` first"
    );
    let hold = Hold {
        resource: resource.info_with(id),
        site,
        counted: 1,
        tag: 0,
    };
    // A registered thread's list has room for eight holds (`Local::register`), and this is
    // the first: writing in place keeps `Vec::push`'s growth call, and with it the register
    // saves of a non-leaf function, off the fast path (14 instructions, measured).
    debug_assert!(local.holds.capacity() >= 1);
    let holds = &mut local.holds;
    if !holds.is_empty() {
        return false;
    }
    // SAFETY: the capacity is at least 8 (reserved at registration, which `fast_state`
    // matching proves, and never shrunk), so slot 0 is allocated.
    unsafe {
        holds.as_mut_ptr().write(hold);
        holds.set_len(1);
    }
    owner.store(local.id, Ordering::Relaxed);
    true
}

/// The nested acquire's common case: plain locks held, and taking `resource` inside them is
/// a step of the thread's known chain (so its order edge is registered: the whole order
/// probe). The hold is written and the thread's id stored in `owner`; `false` sends the
/// caller to [`acquire_nested`]. Callers checked [`fast_ready`].
#[inline(always)]
pub(crate) fn acquire_nested_known(resource: &Resource, site: Site, owner: &AtomicU64) -> bool {
    let id = resource.peek_id();
    // SAFETY: straight-line use; nothing else reaches the state meanwhile.
    let local = unsafe { local_fast() };
    // The chain records plain locks only, so a match says: locks, no class, and the edge's
    // gates are the locks held outside it.
    if !local.chain.knows(&local.holds, id) {
        return false;
    }
    // SAFETY: a known step is at most 7 deep and the capacity is at least 8 (reserved at
    // registration, which `fast_ready` proves, and never shrunk), so there is room.
    unsafe { push_plain_hold(local, resource, id, site, owner) };
    true
}

/// Writes a plain lock's hold (counted once, no subclass) at the end of the thread's list and
/// records the thread as the lock's `owner`: the store both nested fast paths end with.
///
/// # Safety
///
/// `local.holds.len() < local.holds.capacity()`: the write goes to the next slot without
/// growing the list (which could allocate, and would cost a capacity check on the fast path).
#[inline(always)]
unsafe fn push_plain_hold(
    local: &mut Local,
    resource: &Resource,
    id: u64,
    site: Site,
    owner: &AtomicU64,
) {
    let len = local.holds.len();
    let hold = Hold {
        resource: resource.info_with(id),
        site,
        counted: 1,
        tag: 0,
    };
    // SAFETY: the caller guarantees `len < capacity`, so slot `len` is allocated, and
    // `len + 1` slots are then initialized.
    unsafe {
        local.holds.as_mut_ptr().add(len).write(hold);
        local.holds.set_len(len + 1);
    }
    owner.store(local.id, Ordering::Relaxed);
}

/// A lock acquired under a fast `state` while the thread holds something: the order probe,
/// then the hold, and the thread's id stored in `owner`. The common case — one plain lock
/// held, the edge to this one already known — is a cache probe and a write; anything else
/// goes through the general probe. `None` sends the caller to [`on_acquire`] (see
/// [`acquire_fast`]); `Some(report)` when the acquire closes an inversion.
#[inline(always)]
pub(crate) fn acquire_nested(
    resource: &Resource,
    site: Site,
    state: FastState,
    owner: &AtomicU64,
) -> Option<Option<Box<Report>>> {
    let id = resource.id();
    // SAFETY: the probe gets this reference passed on and takes the state nowhere else.
    let local = unsafe { local_fast() };
    let len = local.holds.len();
    if local.fast_state != state.0 || len == 0 || len == local.holds.capacity() {
        return None;
    }
    let last = &local.holds[len - 1];
    let known = len == 1
        && last.resource.kind.is_lock()
        && last.resource.class.is_none()
        && resource.class().is_none()
        && local
            .edge_cache
            .as_ref()
            .is_some_and(|c| c.contains((last.resource.id, id, 0)));
    let report = if known {
        None
    } else {
        probe_order(local, resource, &resource.info_with(id), site)
    };
    let plain = |h: &Hold| h.resource.kind.is_lock() && h.resource.class.is_none();
    if resource.kind().is_lock()
        && resource.class().is_none()
        && local.holds.iter().all(|h| plain(h) && h.subclass() == 0)
    {
        // Registered now, one way or the other.
        local.chain.remember(&local.holds, id);
    }
    // SAFETY: `len < capacity` was checked above (and the probe above adds no hold).
    unsafe { push_plain_hold(local, resource, id, site, owner) };
    Some(report)
}

/// The general order probe of a fast nested acquire, out of line.
#[inline(never)]
fn probe_order(
    local: &mut Local,
    resource: &Resource,
    info: &ResourceInfo,
    site: Site,
) -> Option<Box<Report>> {
    check_order(local, resource, info, site, false, 0)
}

/// The bookkeeping of a release, inline: the last hold popped, when it is this resource's,
/// taken once and never ordered, and the thread is on the fast path at all (a nonzero
/// snapshot: registered, no observer). `false` sends the caller to [`on_release`].
///
/// Unlike an acquire, a release needs no current global state: popping a hold recorded under
/// an older policy is harmless, and a thread with no observer is never under a controlled
/// schedule, so it has no scheduling point to reach.
#[inline(always)]
pub(crate) fn release_fast(resource: &Resource) -> bool {
    // SAFETY: straight-line use, nothing else reaches the state meanwhile.
    let local = unsafe { local_fast() };
    match local.holds.last() {
        // Taken once and never ordered (`counted == 1` says both).
        Some(h)
            if local.fast_state != 0 && h.resource.id == resource.peek_id() && h.counted == 1 =>
        {
            local.holds.pop();
            true
        }
        _ => false,
    }
}

#[cold]
#[inline(never)]
fn tell_acquired(local: &Local, id: u64) {
    if let (Some(o), Some(hold)) = (
        &local.observer,
        local.holds.iter().rev().find(|h| h.resource.id == id),
    ) {
        o.acquired(local.id, hold);
    }
}

/// The lock-order probe: from the thread's last held lock to this one, through the cache.
/// (Reached only when something is held: the nested paths.)
#[inline(always)]
fn check_order(
    local: &mut Local,
    resource: &Resource,
    info: &ResourceInfo,
    site: Site,
    timed: bool,
    subclass: u32,
) -> Option<Box<Report>> {
    let new_key = lock_order::node_key(info, subclass);
    let (last, key) = lock_order::edge_key(&local.holds, new_key)?;
    if local.edge_cache.as_ref().is_some_and(|c| c.contains(key)) {
        return None;
    }
    new_edge(
        local, resource, info, new_key, site, timed, last, subclass, key,
    )
}

/// An order edge this thread has not registered yet: into the global graph.
#[cold]
#[inline(never)]
#[allow(clippy::too_many_arguments)]
fn new_edge(
    local: &mut Local,
    resource: &Resource,
    new: &ResourceInfo,
    new_key: u64,
    site: Site,
    timed: bool,
    last: usize,
    subclass: u32,
    key: (u64, u64, u64),
) -> Option<Box<Report>> {
    let ctx = OrderContext {
        new: *new,
        new_key,
        site,
        timed,
        holds: &local.holds,
        thread: local.name(),
    };
    let mut g = global();
    let report = g.order.record(&ctx, last, subclass);
    drop(g);
    local
        .edge_cache
        .get_or_insert_with(Box::default)
        .insert(key);
    local.holds[last].counted |= Hold::ENTERED_GRAPH;
    resource.mark_in_order_graph();
    report.map(Box::new)
}

/// Gives back one count of the calling thread's hold on `resource` (a release, an RLock exit,
/// a permit), forgetting the hold when its count reaches zero.
#[inline(always)]
pub(crate) fn on_release(resource: &Resource) {
    let Some(id) = resource.existing_id() else {
        return;
    };
    let Some(mut local) = local() else {
        return;
    };
    // The common case: the most recent hold, taken once, never ordered, nobody listening.
    if let Some(h) = local.holds.last()
        && h.resource.id == id
        && h.counted == 1
        && local.observer.is_none()
    {
        local.holds.pop();
        return;
    }
    release_slow(&mut local, resource, id);
}

#[cold]
#[inline(never)]
fn release_slow(local: &mut Local, resource: &Resource, id: u64) {
    // Guards are usually dropped in reverse order: search from the end.
    let Some(pos) = local.holds.iter().rposition(|h| h.resource.id == id) else {
        return;
    };
    let hold = &mut local.holds[pos];
    let info = hold.resource;
    let remaining = hold.count() - 1;
    if remaining > 0 {
        hold.counted -= 1;
    } else {
        if hold.entered_graph() {
            resource.mark_in_order_graph();
        }
        local.holds.remove(pos);
    }
    if let Some(o) = &local.observer {
        o.released(local.id, &info, remaining);
    }
}

/// Removes a dropped primitive from the lock-order graph (only if it ever entered it).
#[cold]
#[inline(never)]
pub(crate) fn forget_resource(resource: &Resource) {
    if resource.in_order_graph()
        && let Some(id) = resource.existing_id()
    {
        let mut g = global();
        match resource.class() {
            None => g.order.remove(id),
            Some(_) => g.order.forget_gate(id),
        }
    }
}

/// The report for a re-entrant acquire: the calling thread asks at `again` for `resource`, a
/// plain lock it already holds.
#[cold]
pub(crate) fn reentrant(resource: &Resource, again: Site) -> Box<Report> {
    let info = resource.info();
    let (me, name, holds) =
        with_local(|l| (l.id, l.name().to_string(), l.holds.clone())).unwrap_or_default();
    let first = holds
        .iter()
        .rev()
        .find(|h| h.resource.id == info.id)
        .map(|h| h.site);
    let thread = ThreadState::asking_again(me, &name, &holds, &info, again);
    Box::new(Report::reentrant(thread, &info, first))
}
