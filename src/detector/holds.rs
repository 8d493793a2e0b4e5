//! The one door through which holds enter and leave a thread's list: [`on_acquire`] and
//! [`on_release`], for every primitive that can be held (locks, re-entries, permits).
//!
//! An acquire that may block (not a try, not a re-entry) and that happens while the thread
//! holds a lock also checks the lock order: a new edge goes to the global lock-order graph,
//! unless this thread's edge cache knows it already.

use super::lock_order::{self, OrderContext};
use super::registry::{Hold, Local, global, with_local};
use super::report::{Report, ThreadState};
use super::resource::{Resource, ResourceInfo, Site};

/// How a hold was taken, for the lock-order check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Taken {
    /// A blocking acquire (`timed`: with a timeout): orders the locks held before it.
    Blocking { timed: bool, subclass: u32 },
    /// A try-acquire: cannot block, so it adds no order edge (it is held all the same).
    Try,
    /// One more count on a hold the thread already has (RLock re-entry): no edge.
    Again,
}

/// Records a new hold of `resource` on the calling thread (or one more count, for kinds a
/// thread may hold several times), and checks the lock order it implies. Returns the calling
/// thread's id (to record as owner), and an inversion report when this acquire closes a new
/// lock-order cycle. `0` and no report during thread teardown.
#[inline]
pub(crate) fn on_acquire(
    resource: &Resource,
    site: Site,
    taken: Taken,
) -> (u64, Option<Box<Report>>) {
    with_local(|local| {
        let epoch = super::policy::epoch();
        if local.policy_epoch != epoch {
            local.holds.clear(); // recorded under another policy: possibly stale
            local.policy_epoch = epoch;
        }
        let info = resource.info();
        if info.kind.counts()
            && let Some(h) = local
                .holds
                .iter_mut()
                .rev()
                .find(|h| h.resource.id == info.id)
        {
            h.count += 1;
            if let Some(o) = &local.observer {
                o.acquired(local.id, h);
            }
            return (local.id, None);
        }
        let (report, subclass) = match taken {
            Taken::Blocking { timed, subclass }
                if info.kind.is_lock() && !local.holds.is_empty() =>
            {
                (
                    check_order(local, resource, &info, site, timed, subclass),
                    subclass,
                )
            }
            Taken::Blocking { subclass, .. } => (None, subclass),
            Taken::Try | Taken::Again => (None, 0),
        };
        local.holds.push(Hold {
            resource: info,
            site,
            count: 1,
            subclass,
            entered_graph: false,
        });
        if let Some(o) = &local.observer {
            o.acquired(local.id, local.holds.last().expect("just pushed"));
        }
        (local.id, report)
    })
    .unwrap_or((0, None))
}

/// The lock-order probe: from the thread's last held lock to this one, through the cache.
#[inline]
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
    if local.edge_cache.contains(key) {
        return None;
    }
    let report = record_order(local, info, new_key, site, timed, last, subclass);
    local.edge_cache.insert(key);
    local.holds[last].entered_graph = true;
    resource.mark_in_order_graph();
    report
}

#[cold]
fn record_order(
    local: &Local,
    new: &ResourceInfo,
    new_key: u64,
    site: Site,
    timed: bool,
    last: usize,
    subclass: u32,
) -> Option<Box<Report>> {
    let ctx = OrderContext {
        new: *new,
        new_key,
        site,
        timed,
        holds: &local.holds,
        thread: &local.shared.name,
    };
    let mut g = global();
    let report = g.order.record(&ctx, last, subclass);
    drop(g);
    report.map(Box::new)
}

/// Gives back one count of the calling thread's hold on `resource` (a release, an RLock exit,
/// a permit), forgetting the hold when its count reaches zero.
#[inline]
pub(crate) fn on_release(resource: &Resource) {
    let Some(id) = resource.existing_id() else {
        return;
    };
    with_local(|local| {
        // Guards are usually dropped in reverse order: look at the last hold first.
        let last = local.holds.len().checked_sub(1)?;
        let pos = if local.holds[last].resource.id == id {
            last
        } else {
            local.holds.iter().rposition(|h| h.resource.id == id)?
        };
        let hold = &mut local.holds[pos];
        let remaining = hold.count - 1;
        let info = local.observer.as_ref().map(|_| hold.resource);
        if remaining > 0 {
            hold.count = remaining;
        } else {
            if hold.entered_graph {
                resource.mark_in_order_graph();
            }
            local.holds.remove(pos);
        }
        if let (Some(o), Some(info)) = (&local.observer, info) {
            o.released(local.id, &info, remaining);
        }
        Some(())
    });
}

/// Removes a dropped primitive from the lock-order graph (only if it ever entered it).
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
        with_local(|l| (l.id, l.shared.name.clone(), l.holds.clone())).unwrap_or_default();
    let first = holds
        .iter()
        .rev()
        .find(|h| h.resource.id == info.id)
        .map(|h| h.site);
    let thread = ThreadState::asking_again(me, &name, &holds, &info, again);
    Box::new(Report::reentrant(thread, &info, first))
}
