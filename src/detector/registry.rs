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
//!
//! A thread's identity (name, observer) is handed over by the code that starts it, through
//! [`register_thread`]; a thread that never registers (a plain `std::thread`) gets its std
//! name, or `thread-N`, the first time it touches a primitive.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use parking_lot::{Mutex, MutexGuard};

use super::lock_order::{EdgeCache, LockOrder};
use super::observer::Observer;
use super::report::Evidence;
use super::resource::{ResourceInfo, Site};

const ID_BLOCK: u64 = 1024;
static NEXT_ID_BLOCK: AtomicU64 = AtomicU64::new(1);

/// A fresh resource id, from a per-thread block (no shared counter on every new primitive).
pub(crate) fn next_resource_id() -> u64 {
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

/// A thread as other threads see it (kept by evidence after the thread is gone).
pub(crate) struct ThreadShared {
    pub name: String,
    pub alive: AtomicBool,
}

/// What a thread waits for. Lives in [`Global::waiting`] while the thread is blocked.
pub(crate) struct WaitRecord {
    pub resource: ResourceInfo,
    /// The primitive, to ask who could end the wait. See the SAFETY note on `Send`.
    pub(super) probe: *const (dyn Waitable + 'static),
    pub site: Site,
    pub timed: bool,
    pub since: Instant,
    pub backtrace: Option<backtrace::Backtrace>,
}

// SAFETY: `probe` points at a primitive that outlives the record: the record is created by
// `wait_for::begin_wait` from a `&'a dyn Waitable`, and the `WaitRegistration<'a>` it returns
// (which borrows the primitive for `'a`) removes the record under the global lock when it is
// dropped. The pointer is dereferenced only under the global lock, so the primitive is alive
// then, and `Waitable: Sync` makes the shared access from another thread sound.
unsafe impl Send for WaitRecord {}

impl WaitRecord {
    pub fn probe(&self) -> &dyn Waitable {
        // SAFETY: see `unsafe impl Send for WaitRecord`: callers hold the global lock (they
        // reach the record through `Global`), and the record's registration keeps the
        // primitive borrowed while the record exists.
        unsafe { &*self.probe }
    }
}

/// The detector's view of a primitive a thread can block on.
pub(crate) trait Waitable: Sync {
    /// Pushes the threads that alone can end a wait on this resource and returns `true`,
    /// or returns `false` when someone else could end it too (a bare `Semaphore::release`,
    /// an `Event::set`, ...), in which case a cycle through it is not a certain deadlock.
    fn owners(&self, out: &mut Vec<u64>) -> bool;

    /// Whether a thread waiting on this could proceed right now. Closed worlds use it to tell
    /// a stuck wait from a wake-up in flight, and controlled schedules to know when to retry a
    /// parked thread: it may say `true` when the wait cannot end yet (the retry blocks again),
    /// never `false` when it could.
    fn satisfiable(&self, waiter: u64) -> bool;

    /// Who could end the wait, as data, for closed-world reports.
    fn evidence(&self) -> Option<Evidence> {
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
    /// Who listens to this thread (its closed world), if anyone.
    pub observer: Option<Arc<dyn Observer>>,
    /// The policy epoch the holds were recorded under (see `policy::POLICY_EPOCH`).
    pub policy_epoch: u64,
}

impl Local {
    fn new(name: Option<String>, observer: Option<Arc<dyn Observer>>) -> Self {
        let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        let name = name.unwrap_or_else(|| match std::thread::current().name() {
            Some(n) => n.to_string(),
            None => format!("thread-{id}"),
        });
        let shared = Arc::new(ThreadShared {
            name,
            alive: AtomicBool::new(true),
        });
        global().threads.insert(id, shared.clone());
        super::policy::init_from_env();
        super::watchdog::start_from_env();
        if let Some(o) = &observer {
            o.started(id, &shared.name);
        }
        Local {
            observer,
            policy_epoch: super::policy::epoch(),
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
        if let Some(o) = &self.observer {
            o.exited(self.id);
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
            let local = slot.get_or_insert_with(|| Local::new(None, None));
            Some(f(local))
        })
        .ok()
        .flatten()
}

/// Gives the calling thread its identity: the name reports show and the observer that hears
/// what it does. Called first thing by the code that starts a thread (before the thread
/// touches any primitive); returns the thread's detector id.
pub(crate) fn register_thread(name: &str, observer: Option<Arc<dyn Observer>>) -> u64 {
    let fresh = LOCAL.try_with(|cell| {
        let mut slot = cell.borrow_mut();
        match slot.as_mut() {
            // Already registered (it touched a primitive before): keep its id and holds.
            Some(local) => {
                if let Some(o) = &observer {
                    o.started(local.id, &local.shared.name);
                }
                local.observer = observer;
                local.id
            }
            None => slot.insert(Local::new(Some(name.to_string()), observer)).id,
        }
    });
    fresh.unwrap_or(0)
}

/// The detector state of a simulated thread while it does not run: under a controlled
/// schedule that runs several simulated threads on one OS thread (as coroutines), the
/// scheduler keeps one of these per simulated thread and [`swap_current`]s it in and out, so
/// that each simulated thread has its own identity and holds, as if it were an OS thread.
#[derive(Default)]
#[allow(dead_code)] // the explorer's coroutines use it; see `swap_current`
pub(crate) struct ParkedThread(Option<Local>);

/// Exchanges the calling OS thread's detector state with `parked`: what ran so far is now in
/// `parked`, and what was in `parked` (or a fresh state, created on first use) is the calling
/// thread's. The scheduler calls it on every switch between simulated threads. Dropping a
/// `ParkedThread` that holds a state ends that simulated thread, as a thread exit does.
#[allow(dead_code)] // the explorer's coroutines use it
pub(crate) fn swap_current(parked: &mut ParkedThread) {
    let _ = LOCAL.try_with(|cell| std::mem::swap(&mut *cell.borrow_mut(), &mut parked.0));
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

/// The calling thread's name as reports show it.
pub(crate) fn current_thread_name() -> String {
    with_local(|l| l.shared.name.clone()).unwrap_or_else(|| "<exiting thread>".to_string())
}

/// The calling thread's observer (for the code that starts a child in the same world).
pub(crate) fn current_observer() -> Option<Arc<dyn Observer>> {
    with_local(|l| l.observer.clone()).flatten()
}

/// Tells the calling thread's observer, if any (nothing to do on most threads).
#[inline]
pub(crate) fn notify_observer(f: impl FnOnce(&dyn Observer, u64)) {
    with_local(|l| {
        if let Some(o) = &l.observer {
            f(&**o, l.id);
        }
    });
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
    fn threads_get_small_ids_and_their_std_names() {
        let (id, name) = std::thread::Builder::new()
            .name("registry-named".into())
            .spawn(|| (current_thread_id(), current_thread_name()))
            .unwrap()
            .join()
            .unwrap();
        assert_ne!(id, 0);
        assert_eq!(name, "registry-named");
    }

    #[test]
    fn a_registered_thread_keeps_the_name_it_was_given() {
        let (id, again, name) = std::thread::spawn(|| {
            let id = register_thread("given-name", None);
            (id, current_thread_id(), current_thread_name())
        })
        .join()
        .unwrap();
        assert_eq!((id, name.as_str()), (again, "given-name"));
    }
}
