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

use std::cell::{Cell, UnsafeCell};
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Instant;

use parking_lot::{Mutex, MutexGuard};

use super::id_map::IdMap;
use super::lock_order::{EdgeCache, KnownChain, LockOrder};
use super::observer::Observer;
use super::report::Evidence;
use super::resource::{ResourceInfo, Site};

const ID_BLOCK: u64 = 1024;
static NEXT_ID_BLOCK: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// The calling thread's block of resource ids: `[next, end)`. Apart from `LOCAL`, so that
    /// drawing an id never re-enters the thread's detector state.
    static ID_BLOCK_RANGE: Cell<(u64, u64)> = const { Cell::new((0, 0)) };
}

/// A fresh resource id, from a per-thread block (no shared counter on every new primitive).
#[inline]
pub(crate) fn next_resource_id() -> u64 {
    ID_BLOCK_RANGE
        .try_with(|range| {
            let (mut next, mut end) = range.get();
            if next == end {
                next = NEXT_ID_BLOCK.fetch_add(ID_BLOCK, Ordering::Relaxed);
                end = next + ID_BLOCK;
            }
            range.set((next + 1, end));
            next
        })
        // During thread teardown there is no local state: take a block of one.
        .unwrap_or_else(|_| NEXT_ID_BLOCK.fetch_add(1, Ordering::Relaxed))
}

/// One acquisition that a thread holds: a copy of the resource's identity (never a pointer to
/// the primitive, which a leaked guard lets move or drop while the hold is listed), the call
/// site, and the counts. Seven words, written on every acquire.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Hold {
    pub resource: ResourceInfo,
    /// Where the (first) acquire happened.
    pub site: Site,
    /// Re-entry count (RLock) or permits held (semaphores) in the low 31 bits, and
    /// [`ENTERED_GRAPH`](Hold::ENTERED_GRAPH): one word, so that a release tells the common
    /// case (taken once, never ordered) with one compare against 1. See [`Hold::count`].
    pub counted: u32,
    /// For a lock: the nesting subclass given to `acquire_nested` (0 otherwise). For a
    /// semaphore permit: how many permits the semaphore has in all (a counting gate's k, see
    /// `lock_order`). See [`Hold::subclass`] and [`Hold::permits_in_all`].
    pub tag: u32,
}

impl Hold {
    /// The flag in [`counted`](Hold::counted): an order edge was recorded from this hold (so
    /// the lock is in the order graph, and leaving it must be told on release).
    pub const ENTERED_GRAPH: u32 = 1 << 31;

    /// Re-entry count or permits held.
    pub fn count(&self) -> u32 {
        self.counted & !Self::ENTERED_GRAPH
    }

    /// Whether an order edge was recorded from this hold.
    pub fn entered_graph(&self) -> bool {
        self.counted & Self::ENTERED_GRAPH != 0
    }

    /// The nesting subclass of a lock hold.
    #[inline(always)]
    pub fn subclass(&self) -> u32 {
        self.tag
    }

    /// How many permits a held semaphore has in all (0 for a lock).
    pub fn permits_in_all(&self) -> u32 {
        if self.resource.kind.is_lock() {
            0
        } else {
            self.tag
        }
    }
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
    pub threads: IdMap<Arc<ThreadShared>>,
    pub waiting: IdMap<WaitRecord>,
    /// What each thread held when it last blocked (empty while it runs), or when it exited
    /// holding something.
    pub published: IdMap<Vec<Hold>>,
    pub order: LockOrder,
    /// A buffer the wait-for walk reuses (no allocation per contended park).
    pub scratch: Vec<u64>,
}

/// The one accessor for global detector state.
pub(crate) fn global() -> MutexGuard<'static, Global> {
    static GLOBAL: LazyLock<Mutex<Global>> = LazyLock::new(|| {
        Mutex::new(Global {
            threads: IdMap::default(),
            waiting: IdMap::default(),
            published: IdMap::default(),
            order: LockOrder::default(),
            scratch: Vec::new(),
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

/// The calling thread's private detector state. A thread that has not touched the detector
/// yet has `id == 0`; its first use registers it ([`Local::register`]).
pub(crate) struct Local {
    pub id: u64,
    pub holds: Vec<Hold>,
    /// The policy epoch the holds were recorded under (see `policy::epoch`).
    pub policy_epoch: u64,
    /// The global state (`policy::fast_state`) under which this thread may take the fast path:
    /// it equals the current state only while the thread is registered, has no observer, and
    /// its holds were recorded under the current epoch. 0 otherwise.
    pub fast_state: u64,
    /// Order edges this thread already registered (allocated at its first nested acquire).
    pub edge_cache: Option<Box<EdgeCache>>,
    /// The last chain of plain locks this thread took one inside another, and which of its
    /// steps are registered order edges: taking one again is the nested fast path's whole
    /// probe.
    pub chain: KnownChain,
    /// Who listens to this thread (its closed world), if anyone.
    pub observer: Option<Arc<dyn Observer>>,
    /// Its name and liveness as others see them (set at registration).
    pub shared: Option<Arc<ThreadShared>>,
    /// The thread has exited: its state is gone for good.
    exited: bool,
    /// Debug builds check that nothing re-enters [`with_local`] (see its SAFETY note).
    #[cfg(debug_assertions)]
    busy: bool,
}

impl Local {
    const UNREGISTERED: Local = Local {
        id: 0,
        holds: Vec::new(),
        policy_epoch: 0,
        fast_state: 0,
        edge_cache: None,
        chain: KnownChain::EMPTY,
        observer: None,
        shared: None,
        exited: false,
        #[cfg(debug_assertions)]
        busy: false,
    };

    /// Gives the thread its id and record (name: the given one, its std name, or `thread-N`).
    #[cold]
    #[inline(never)]
    fn register(&mut self, name: Option<&str>, observer: Option<Arc<dyn Observer>>) {
        let id = NEXT_THREAD_ID.fetch_add(1, Ordering::Relaxed);
        let name = match name {
            Some(n) => n.to_string(),
            None => match std::thread::current().name() {
                Some(n) => n.to_string(),
                None => format!("thread-{id}"),
            },
        };
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
        // Touching the guard arms its destructor: the thread's exit ends this state.
        let _ = EXIT.try_with(|_| ());
        self.id = id;
        self.holds.reserve(8);
        self.policy_epoch = super::policy::epoch();
        self.observer = observer;
        self.shared = Some(shared);
        self.sync_fast_state();
    }

    /// Brings the thread's holds and fast-path snapshot up to the current global state: holds
    /// recorded under another policy epoch are forgotten (possibly stale), and the fast path
    /// is open only to a thread with no observer (a world's threads take the full path, which
    /// tells the world everything).
    pub fn sync_fast_state(&mut self) {
        let state = super::policy::fast_state();
        let epoch = state.epoch();
        if self.policy_epoch != epoch {
            self.holds.clear();
            self.policy_epoch = epoch;
        }
        self.fast_state = if self.observer.is_none() && state.is_fast() {
            state.0
        } else {
            0
        };
    }

    /// The thread's name as reports show it.
    pub fn name(&self) -> &str {
        self.shared
            .as_ref()
            .map_or("<unregistered>", |s| s.name.as_str())
    }
}

impl Local {
    /// The thread ends (its exit guard runs): forget it, or keep what it never released.
    fn exit(&mut self) {
        let Some(shared) = self.shared.take() else {
            return; // never registered: nothing to forget
        };
        shared.alive.store(false, Ordering::Release);
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
        if let Some(o) = self.observer.take() {
            o.exited(self.id);
        }
    }

    /// A thread's first touch of the detector: register it (and arm its exit guard). `false`
    /// once the thread has exited.
    #[cold]
    #[inline(never)]
    fn register_first_use(&mut self) -> bool {
        if self.exited || EXIT.try_with(|_| ()).is_err() {
            return false;
        }
        self.register(None, None);
        true
    }
}

/// A simulated thread's state ends like a thread does (see [`ParkedThread`]).
impl Drop for Local {
    fn drop(&mut self) {
        self.exit();
    }
}

thread_local! {
    /// The thread's detector state. `ManuallyDrop` keeps it free of drop glue, so that std
    /// reaches it with a plain thread-local access (a state with a destructor costs a
    /// registration check on every access, a quarter of the fast path); the thread's exit is
    /// handled by [`EXIT`] instead.
    static LOCAL: UnsafeCell<ManuallyDrop<Local>> =
        const { UnsafeCell::new(ManuallyDrop::new(Local::UNREGISTERED)) };
    /// Armed when the thread registers; its destructor ends the thread's detector state.
    static EXIT: ExitGuard = const { ExitGuard };
}

/// Ends the thread's detector state when the thread exits (see [`LOCAL`]).
struct ExitGuard;

impl Drop for ExitGuard {
    fn drop(&mut self) {
        LOCAL.with(|cell| {
            // SAFETY: as in `with_local`: a thread-local destructor runs on its own thread,
            // after its code, outside any `with_local`.
            let local: &mut Local = unsafe { &mut *cell.get() };
            local.exit();
            // Later uses (another thread-local's destructor dropping a guard) find no state
            // and skip the bookkeeping, as during teardown.
            let _ = std::mem::replace(local, Local::UNREGISTERED);
            local.exited = true;
        });
    }
}

/// The calling thread's detector state, registering the thread on first use; `None` once
/// the thread has exited (during thread-local teardown): callers then skip bookkeeping.
///
/// The reference must not outlive the caller's use of it, and nothing that takes it again
/// may run while it is alive (drawing a resource's first id does not: ids come from their
/// own thread-local). Debug builds check it.
#[inline(always)]
pub(crate) fn local() -> Option<LocalRef> {
    // The state never goes away (no destructor, see `LOCAL`), so its address, taken with a
    // closure small enough to inline, stays valid for the whole thread.
    let cell: *mut ManuallyDrop<Local> = LOCAL.with(UnsafeCell::get);
    let ptr: *mut Local = cell.cast();
    // SAFETY: see `LocalRef`: no other reference to the state is alive.
    let local = unsafe { &mut *ptr };
    if local.id == 0 && !local.register_first_use() {
        return None;
    }
    Some(LocalRef::new(ptr))
}

/// The calling thread's detector state for the fast path, without registering it (an
/// unregistered thread's `fast_state` is 0, which sends it to the full path).
///
/// # Safety
///
/// The caller must not keep the reference while anything else reaches the state: use it in
/// straight-line code that calls nothing which takes it again (see [`LocalRef`]).
#[inline(always)]
pub(crate) unsafe fn local_fast() -> &'static mut Local {
    let cell: *mut ManuallyDrop<Local> = LOCAL.with(UnsafeCell::get);
    // SAFETY: the state never goes away (no destructor, see `LOCAL`), and the caller keeps
    // this the only reference while it uses it.
    let local = unsafe { &mut *cell.cast::<Local>() };
    #[cfg(debug_assertions)]
    assert!(
        !local.busy,
        "synckit bug: the detector's thread state was re-entered"
    );
    local
}

/// Runs `f` with the calling thread's state (see [`local`]).
#[inline(always)]
pub(crate) fn with_local<R>(f: impl FnOnce(&mut Local) -> R) -> Option<R> {
    local().map(|mut l| f(&mut l))
}

/// The one live reference to the calling thread's detector state.
///
/// A thread-local is reached only by its own thread, and only through [`local`],
/// [`register_thread`], [`swap_current`] and the exit guard, none of which is called while a
/// `LocalRef` is alive on the same thread (debug builds check it with the `busy` flag), so
/// the `&mut` it hands out is the only reference to the state. Not `Send`: it stays on its
/// thread.
pub(crate) struct LocalRef {
    ptr: *mut Local,
}

impl LocalRef {
    #[inline(always)]
    fn new(ptr: *mut Local) -> Self {
        #[cfg(debug_assertions)]
        {
            // SAFETY: as for the `LocalRef` about to exist.
            let local = unsafe { &mut *ptr };
            assert!(
                !local.busy,
                "synckit bug: the detector's thread state was re-entered"
            );
            local.busy = true;
        }
        LocalRef { ptr }
    }
}

impl std::ops::Deref for LocalRef {
    type Target = Local;
    #[inline(always)]
    fn deref(&self) -> &Local {
        // SAFETY: see the type's docs.
        unsafe { &*self.ptr }
    }
}

impl std::ops::DerefMut for LocalRef {
    #[inline(always)]
    fn deref_mut(&mut self) -> &mut Local {
        // SAFETY: see the type's docs.
        unsafe { &mut *self.ptr }
    }
}

#[cfg(debug_assertions)]
impl Drop for LocalRef {
    fn drop(&mut self) {
        // SAFETY: see the type's docs.
        unsafe { (*self.ptr).busy = false };
    }
}

/// Gives the calling thread its identity: the name reports show and the observer that hears
/// what it does. Called first thing by the code that starts a thread (before the thread
/// touches any primitive); returns the thread's detector id.
pub(crate) fn register_thread(name: &str, observer: Option<Arc<dyn Observer>>) -> u64 {
    LOCAL
        .try_with(|cell| {
            // SAFETY: as in `with_local`: called at a thread's start, outside any `with_local`.
            let local: &mut Local = unsafe { &mut *cell.get() };
            if local.id == 0 {
                local.register(Some(name), observer);
            } else {
                // It touched a primitive before: keep its id and holds.
                if let Some(o) = &observer {
                    o.started(local.id, local.name());
                }
                local.observer = observer;
                local.sync_fast_state();
            }
            local.id
        })
        .unwrap_or(0)
}

/// The detector state of a simulated thread while it does not run: under a controlled
/// schedule that runs several simulated threads on one OS thread (as coroutines), the
/// scheduler keeps one of these per simulated thread and [`swap_current`]s it in and out, so
/// that each simulated thread has its own identity and holds, as if it were an OS thread.
/// Dropping one that holds a registered state ends that simulated thread, as an exit does.
#[allow(dead_code)] // the explorer's coroutines use it; see `swap_current`
pub(crate) struct ParkedThread(Local);

impl Default for ParkedThread {
    fn default() -> Self {
        ParkedThread(Local::UNREGISTERED)
    }
}

/// Exchanges the calling OS thread's detector state with `parked`: what ran so far is now in
/// `parked`, and what was in `parked` (a fresh, unregistered state at first) is the calling
/// thread's. The scheduler calls it on every switch between simulated threads.
#[allow(dead_code)] // the explorer's coroutines use it
pub(crate) fn swap_current(parked: &mut ParkedThread) {
    let _ = LOCAL.try_with(|cell| {
        // SAFETY: as in `with_local`: the scheduler switches outside any `with_local`.
        let local: &mut Local = unsafe { &mut *cell.get() };
        std::mem::swap(local, &mut parked.0);
    });
}

/// The calling thread's detector id (0 during thread teardown).
#[inline]
pub(crate) fn current_thread_id() -> u64 {
    with_local(|l| l.id).unwrap_or(0)
}

/// The calling thread's shared record (name, liveness), for evidence kept after it exits.
pub(crate) fn current_thread() -> Option<Arc<ThreadShared>> {
    with_local(|l| l.shared.clone()).flatten()
}

/// The calling thread's name as reports show it.
pub(crate) fn current_thread_name() -> String {
    with_local(|l| l.name().to_string()).unwrap_or_else(|| "<exiting thread>".to_string())
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
