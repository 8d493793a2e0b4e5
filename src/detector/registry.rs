//! Who exists, who holds what, who waits for what.
//!
//! Two tiers of state:
//! - **Thread-local** (`Local`): the calling thread's holds and a few caches. The fast
//!   path (uncontended acquire and release) touches only this and the primitive itself.
//! - **Global** (`Global`, behind one mutex reached through [`global`]): thread records,
//!   wait records, and the holds a thread *published* when it went to sleep. Only the slow
//!   path (a thread about to block), thread start/exit and reports take it.
//!
//! A thread publishes its holds when it registers a wait, so a report about a blocked
//! thread can say what it holds without reading another thread's thread-local state.

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use parking_lot::{Mutex, MutexGuard};

use super::lock_order::{EdgeCache, LockOrder};
use crate::world::World;

/// A call site, as captured by `#[track_caller]`.
pub(crate) type Site = &'static Location<'static>;

/// What kind of primitive a resource is; shown in reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// [`crate::Lock`]
    Lock,
    /// [`crate::RLock`]
    RLock,
    /// [`crate::Semaphore`]
    Semaphore,
    /// [`crate::BoundedSemaphore`]
    BoundedSemaphore,
    /// [`crate::Condition`]
    Condition,
    /// [`crate::Event`]
    Event,
    /// [`crate::Barrier`]
    Barrier,
    /// A thread being joined ([`crate::thread::JoinHandle::join`]).
    Thread,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Lock => "Lock",
            Kind::RLock => "RLock",
            Kind::Semaphore => "Semaphore",
            Kind::BoundedSemaphore => "BoundedSemaphore",
            Kind::Condition => "Condition",
            Kind::Event => "Event",
            Kind::Barrier => "Barrier",
            Kind::Thread => "Thread",
        })
    }
}

/// A primitive's identity for reports: copyable, no pointers, valid after the primitive is gone.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResourceInfo {
    pub id: u64,
    pub kind: Kind,
    pub name: Option<&'static str>,
    pub class: Option<&'static str>,
    pub created: Site,
}

impl ResourceInfo {
    /// The name shown in reports: the given name, or `Kind@file:line`.
    pub fn display_name(&self) -> String {
        match self.name {
            Some(name) => name.to_string(),
            None => format!(
                "{}@{}:{}",
                self.kind,
                self.created.file(),
                self.created.line()
            ),
        }
    }
}

/// Identity and naming, embedded in every primitive. Creating one touches no global state:
/// the id is drawn lazily, from a per-thread block, the first time it is needed.
pub(crate) struct ResourceMeta {
    id: AtomicU64,
    kind: Kind,
    name: Option<&'static str>,
    class: Option<&'static str>,
    created: Site,
    /// Set once the resource has an edge in the lock-order graph, so that dropping it
    /// knows whether it must take the global lock to leave the graph.
    pub in_order_graph: AtomicBool,
}

impl ResourceMeta {
    pub fn new(kind: Kind, created: Site) -> Self {
        ResourceMeta {
            id: AtomicU64::new(0),
            kind,
            name: None,
            class: None,
            created,
            in_order_graph: AtomicBool::new(false),
        }
    }

    pub fn set_name(&mut self, name: &str) {
        self.name = Some(intern(name));
    }

    pub fn set_class(&mut self, class: &str) {
        self.class = Some(intern(class));
    }

    pub fn class(&self) -> Option<&'static str> {
        self.class
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The resource's id, drawing one on first use.
    #[inline]
    pub fn id(&self) -> u64 {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 {
            return id;
        }
        self.assign_id()
    }

    #[cold]
    fn assign_id(&self) -> u64 {
        let fresh = next_resource_id();
        match self
            .id
            .compare_exchange(0, fresh, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => fresh,
            Err(existing) => existing,
        }
    }

    #[inline]
    pub fn info(&self) -> ResourceInfo {
        ResourceInfo {
            id: self.id(),
            kind: self.kind,
            name: self.name,
            class: self.class,
            created: self.created,
        }
    }

    /// The id if one was ever drawn (a resource without one was never in any graph).
    pub fn existing_id(&self) -> Option<u64> {
        match self.id.load(Ordering::Relaxed) {
            0 => None,
            id => Some(id),
        }
    }
}

/// Names are interned so that holds and reports can copy `&'static str`s around.
/// Only `named()`/`class()` reach this, never the fast path; the table grows with the
/// number of *distinct* names, not with the number of primitives.
fn intern(name: &str) -> &'static str {
    static NAMES: LazyLock<Mutex<HashMap<String, &'static str>>> = LazyLock::new(Default::default);
    let mut names = NAMES.lock();
    if let Some(interned) = names.get(name) {
        return interned;
    }
    let leaked: &'static str = Box::leak(name.to_string().into_boxed_str());
    names.insert(name.to_string(), leaked);
    leaked
}

const ID_BLOCK: u64 = 1024;
static NEXT_ID_BLOCK: AtomicU64 = AtomicU64::new(1);

fn next_resource_id() -> u64 {
    with_local(|local| {
        if local.next_id == local.end_id {
            let start = NEXT_ID_BLOCK.fetch_add(ID_BLOCK, Ordering::Relaxed);
            local.next_id = start;
            local.end_id = start + ID_BLOCK;
        }
        let id = local.next_id;
        local.next_id += 1;
        id
    })
    // During thread teardown there is no local state: take a block of one.
    .unwrap_or_else(|| NEXT_ID_BLOCK.fetch_add(1, Ordering::Relaxed))
}

/// One acquisition that a thread holds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hold {
    pub resource: ResourceInfo,
    /// Where the (first) acquire happened.
    pub site: Site,
    /// Re-entry count (RLock) or permits held (semaphores).
    pub count: u32,
    /// Nesting subclass given to `acquire_nested` (0 otherwise).
    pub subclass: u32,
    /// Whether an order edge was recorded from this hold (so the lock is in the graph).
    pub entered_graph: bool,
}

/// A thread as other threads see it.
pub(crate) struct ThreadShared {
    pub name: String,
    pub alive: AtomicBool,
    pub world: Option<Arc<World>>,
}

/// What a thread waits for. Lives in [`Global::waiting`] while the thread is blocked.
pub(crate) struct WaitRecord {
    pub resource: ResourceInfo,
    /// The primitive, to ask who could end the wait. See the SAFETY note on `Send`.
    pub probe: *const dyn Waitable,
    pub site: Site,
    pub timed: bool,
    pub since: Instant,
    pub backtrace: Option<backtrace::Backtrace>,
}

// SAFETY: `probe` points at a primitive that is borrowed by the blocked thread for as long
// as the record exists: the thread registers the record inside a method taking `&self` on
// the primitive and removes it (under the global lock) before that method returns. The
// pointer is dereferenced only under the global lock, so the primitive is alive then, and
// `Waitable: Sync` makes the shared access from another thread sound.
unsafe impl Send for WaitRecord {}

impl WaitRecord {
    pub fn probe(&self) -> &dyn Waitable {
        // SAFETY: see `unsafe impl Send for WaitRecord`: callers hold the global lock,
        // and the record's owner keeps the primitive borrowed while the record exists.
        unsafe { &*self.probe }
    }
}

/// The detector's view of a primitive a thread can block on.
pub(crate) trait Waitable: Sync {
    /// Pushes the threads that alone can end a wait on this resource and returns `true`,
    /// or returns `false` when someone else could end it too (a bare `Semaphore::release`,
    /// an `Event::set`, ...), in which case a cycle through it is not a certain deadlock.
    fn owners(&self, out: &mut Vec<u64>) -> bool;

    /// Whether a thread waiting on this could proceed right now (used by closed worlds to
    /// tell a stuck wait from a wake-up in flight).
    fn satisfiable(&self, waiter: u64) -> bool;

    /// A sentence of evidence about who could end the wait, for closed-world reports.
    fn evidence(&self, _g: &Global) -> Option<String> {
        None
    }
}

/// The global half of the detector's state.
pub(crate) struct Global {
    pub threads: HashMap<u64, Arc<ThreadShared>>,
    pub waiting: HashMap<u64, WaitRecord>,
    pub published: HashMap<u64, Vec<Hold>>,
    pub order: LockOrder,
}

/// The one accessor for global detector state.
pub(crate) fn global() -> MutexGuard<'static, Global> {
    static GLOBAL: LazyLock<Mutex<Global>> = LazyLock::new(|| {
        Mutex::new(Global {
            threads: HashMap::new(),
            waiting: HashMap::new(),
            published: HashMap::new(),
            order: LockOrder::default(),
        })
    });
    GLOBAL.lock()
}

impl Global {
    pub fn thread_name(&self, id: u64) -> String {
        match self.threads.get(&id) {
            Some(t) => t.name.clone(),
            None => format!("thread-{id}"),
        }
    }

    pub fn is_alive(&self, id: u64) -> bool {
        self.threads
            .get(&id)
            .is_some_and(|t| t.alive.load(Ordering::Acquire))
    }
}

static NEXT_THREAD_ID: AtomicU64 = AtomicU64::new(1);

/// The calling thread's private detector state.
pub(crate) struct Local {
    pub id: u64,
    pub shared: Arc<ThreadShared>,
    pub holds: Vec<Hold>,
    next_id: u64,
    end_id: u64,
    pub edge_cache: EdgeCache,
    /// This thread's closed world (a copy of `shared.world`, kept here because the fast
    /// path checks it on every acquire and release).
    pub world: Option<Arc<World>>,
    /// The policy epoch the holds were recorded under (see `detector::POLICY_EPOCH`).
    pub policy_epoch: u64,
}

impl Local {
    fn new() -> Self {
        let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        let (name, world) = crate::thread::take_pending_identity();
        let name = name.unwrap_or_else(|| match std::thread::current().name() {
            Some(n) => n.to_string(),
            None => format!("thread-{id}"),
        });
        let shared = Arc::new(ThreadShared {
            name,
            alive: AtomicBool::new(true),
            world,
        });
        global().threads.insert(id, shared.clone());
        super::init_policy_from_env();
        Local {
            world: shared.world.clone(),
            policy_epoch: super::POLICY_EPOCH.load(Ordering::Relaxed),
            id,
            shared,
            holds: Vec::with_capacity(8),
            next_id: 0,
            end_id: 0,
            edge_cache: EdgeCache::default(),
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.shared.alive.store(false, Ordering::Release);
        let mut g = global();
        g.waiting.remove(&self.id);
        if self.holds.is_empty() {
            g.threads.remove(&self.id);
            g.published.remove(&self.id);
        } else {
            // Keep the record: a later waiter's report names the exited owner and where it
            // took what it never released.
            g.published.insert(self.id, std::mem::take(&mut self.holds));
        }
        drop(g);
        if let Some(world) = &self.shared.world {
            world.thread_exited(self.id);
        }
    }
}

thread_local! {
    static LOCAL: RefCell<Option<Local>> = const { RefCell::new(None) };
}

/// Runs `f` with the calling thread's local state, creating it on first use. Returns `None`
/// during thread teardown, when thread-locals are gone: callers then skip bookkeeping.
#[inline]
pub(crate) fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    LOCAL
        .try_with(|cell| {
            let mut slot = cell.try_borrow_mut().ok()?;
            let local = slot.get_or_insert_with(Local::new);
            Some(f(local))
        })
        .ok()
        .flatten()
}

/// The calling thread's detector id (0 during thread teardown).
#[inline]
pub(crate) fn current_thread_id() -> u64 {
    with_local(|l| l.id).unwrap_or(0)
}

/// The calling thread's shared record (name, liveness), for evidence kept after it exits.
pub(crate) fn current_thread() -> Option<Arc<ThreadShared>> {
    with_local(|l| l.shared.clone())
}

/// Records a new hold on the calling thread.
#[inline]
pub(crate) fn push_hold(hold: Hold) {
    with_local(|l| {
        l.holds.push(hold);
        if let Some(world) = &l.world {
            world.acquired(l.id, hold);
        }
    });
}

/// Forgets one hold of `id` on the calling thread (the most recent one) and returns it.
#[inline]
pub(crate) fn pop_hold(id: u64) -> Option<Hold> {
    with_local(|l| {
        let pos = l.holds.iter().rposition(|h| h.resource.id == id)?;
        if let Some(world) = &l.world {
            world.released(l.id, id);
        }
        Some(l.holds.remove(pos))
    })
    .flatten()
}

/// Adjusts the count of the calling thread's hold on `id` (RLock re-entry, permits).
pub(crate) fn adjust_hold(id: u64, delta: i32) {
    with_local(|l| {
        if let Some(h) = l.holds.iter_mut().rev().find(|h| h.resource.id == id) {
            h.count = h.count.saturating_add_signed(delta);
        }
    });
}

/// The calling thread's hold on `id`, if any.
pub(crate) fn find_hold(id: u64) -> Option<Hold> {
    with_local(|l| l.holds.iter().rev().find(|h| h.resource.id == id).copied()).flatten()
}

/// Whether `SYNCKIT_BACKTRACE=1` asks for a backtrace on every acquire path.
pub(crate) fn backtraces_everywhere() -> bool {
    static FLAG: LazyLock<bool> =
        LazyLock::new(|| std::env::var("SYNCKIT_BACKTRACE").is_ok_and(|v| v == "1"));
    *FLAG
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnamed_resources_are_named_after_kind_and_creation_site() {
        let meta = ResourceMeta::new(Kind::Semaphore, Location::caller());
        let line = line!() - 1;
        assert_eq!(
            meta.info().display_name(),
            format!("Semaphore@{}:{line}", file!())
        );
    }

    #[test]
    fn ids_are_drawn_lazily_once_and_never_shared() {
        let a = ResourceMeta::new(Kind::Lock, Location::caller());
        let b = ResourceMeta::new(Kind::Lock, Location::caller());
        assert_eq!(a.existing_id(), None, "creating a resource draws no id");
        let id = a.id();
        assert_ne!(id, 0);
        assert_eq!(a.id(), id, "the id is stable");
        assert_ne!(b.id(), id);
    }

    #[test]
    fn interning_gives_one_address_per_distinct_name() {
        let a = intern("registry-test-name");
        let b = intern(&String::from("registry-test-name"));
        assert!(std::ptr::eq(a, b));
        assert_ne!(intern("registry-test-other"), a);
    }

    #[test]
    fn threads_get_small_ids_and_their_std_names() {
        let (id, name) = std::thread::Builder::new()
            .name("registry-named".into())
            .spawn(|| (current_thread_id(), with_local(|l| l.shared.name.clone())))
            .unwrap()
            .join()
            .unwrap();
        assert_ne!(id, 0);
        assert_eq!(name.as_deref(), Some("registry-named"));
    }
}
