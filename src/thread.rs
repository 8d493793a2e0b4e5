//! Named threads whose joins are visible waits, and that join the caller's closed world.
//!
//! Threads spawned here get a name that reports show, belong to the closed world of the
//! thread that spawned them (see [`check`](crate::check)), and their `join` is a wait the
//! detector sees: a thread joining a thread that waits for it is a cycle, reported like any
//! other. Threads spawned with `std::thread` work with every primitive too; they are named
//! after their std name, or `thread-N`.
//!
//! Under a controlled schedule (`testing::explore`) spawn and join are scheduling points, a
//! spawned thread waits for the baton before it runs, a join passes the baton instead of
//! parking, and [`scope`] waits for its threads under the schedule before std joins them.

use std::any::Any;
use std::cell::RefCell;
use std::panic::Location;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::detector::registry::{
    Global, Kind, ResourceMeta, Site, Waitable, current_thread_id, with_local,
};
use crate::detector::wait_for::begin_wait;
use crate::detector::{self, Delivery};
use crate::error::UsageError;
use crate::testing::hook::{self, Op, Park};
use crate::world::{self, World};

thread_local! {
    static PENDING: RefCell<(Option<String>, Option<Arc<World>>)> = const { RefCell::new((None, None)) };
}

/// The name and world a thread spawned through synckit registers with.
pub(crate) fn take_pending_identity() -> (Option<String>, Option<Arc<World>>) {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Whether a thread has finished, and who it is: what `join` waits on.
struct Exit {
    done: Mutex<bool>,
    cv: Condvar,
    thread: AtomicU64,
    meta: ResourceMeta,
}

impl Waitable for Exit {
    fn owners(&self, out: &mut Vec<u64>) -> bool {
        // Only the thread itself can end a join on it, by finishing.
        if *self.done.lock() {
            return false;
        }
        match self.thread.load(Ordering::Acquire) {
            0 => false,
            t => {
                out.push(t);
                true
            }
        }
    }

    fn satisfiable(&self, _waiter: u64) -> bool {
        *self.done.lock()
    }

    fn evidence(&self, g: &Global) -> Option<String> {
        let t = self.thread.load(Ordering::Acquire);
        let what = match g.waiting.get(&t) {
            Some(w) => format!(
                "which waits on {} `{}` at {}",
                w.resource.kind,
                w.resource.display_name(),
                detector::fmt_site(w.site)
            ),
            None => "which is running".to_string(),
        };
        Some(format!("joins thread `{}`, {what}", g.thread_name(t)))
    }
}

/// An owned permission to join a thread spawned by [`spawn_named`].
#[must_use = "a thread that is never joined may outlive the checks that should see it"]
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    exit: Arc<Exit>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to finish and returns its result, like
    /// `std::thread::JoinHandle::join`. The wait is visible to the detector.
    ///
    /// # Errors
    ///
    /// The thread's panic payload if it panicked; a [`UsageError::JoinSelf`] payload if a
    /// thread tries to join itself (Python: "cannot join current thread").
    ///
    /// # Panics
    ///
    /// Under the default detector policy, if the join closes a cycle (the joined thread
    /// waits, directly or through others, for the calling thread).
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        let site = Location::caller();
        let me = current_thread_id();
        let target = self.exit.thread.load(Ordering::Acquire);
        if target == me && me != 0 {
            let thread = with_local(|l| l.shared.name.clone()).unwrap_or_default();
            return Err(Box::new(UsageError::JoinSelf { thread }) as Box<dyn Any + Send>);
        }
        wait_exit(&self.exit, site);
        self.inner.join()
    }

    /// The thread's name.
    pub fn name(&self) -> Option<&str> {
        self.inner.thread().name()
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        *self.exit.done.lock()
    }
}

fn wait_exit(exit: &Exit, site: Site) {
    hook::point(Op::Join, &exit.meta);
    if *exit.done.lock() {
        return;
    }
    let registration = if detector::enabled() {
        match begin_wait(exit, exit.meta.info(), site, false, true) {
            Ok(r) => Some(r),
            Err(report) => {
                let _ = detector::deliver(report, Delivery::Policy);
                begin_wait(exit, exit.meta.info(), site, false, false).ok()
            }
        }
    } else {
        None
    };
    let mut done = exit.done.lock();
    while !*done {
        if hook::active() {
            // Controlled schedule: pass the baton until the thread has finished.
            let park = parking_lot::MutexGuard::unlocked(&mut done, || {
                hook::park(&exit.meta, false, &|| *exit.done.lock())
            });
            if park == Park::Aborted {
                hook::abort_unwind();
            }
            continue;
        }
        exit.cv.wait(&mut done);
    }
    world::leaving_wait();
    drop(done);
    drop(registration);
}

fn new_exit(name: &str, site: Site) -> Arc<Exit> {
    let mut meta = ResourceMeta::new(Kind::Thread, site);
    meta.set_name(name);
    Arc::new(Exit {
        done: Mutex::new(false),
        cv: Condvar::new(),
        thread: AtomicU64::new(0),
        meta,
    })
}

/// Wraps a thread body: registers the thread under its name and world, and marks it
/// finished (waking joiners) however it ends.
fn body<T>(
    name: String,
    world: Option<Arc<World>>,
    exit: Arc<Exit>,
    ticket: Option<hook::Ticket>,
    f: impl FnOnce() -> T,
) -> impl FnOnce() -> T {
    move || {
        PENDING.with(|p| *p.borrow_mut() = (Some(name), world.clone()));
        let me = current_thread_id();
        exit.thread.store(me, Ordering::Release);
        if let Some(w) = &world {
            w.thread_started(me);
        }
        // Under a controlled schedule: wait for the baton. Dropped after `_done`, so the
        // scheduler hears the thread finished once its joiners can see it.
        let sched = hook::thread_start(ticket);
        struct MarkDone(Arc<Exit>);
        impl Drop for MarkDone {
            fn drop(&mut self) {
                *self.0.done.lock() = true;
                self.0.cv.notify_all();
                world::note_progress();
            }
        }
        let _done = MarkDone(exit);
        hook::run(&sched, || match world {
            Some(w) => w.run_thread(f),
            None => f(),
        })
    }
}

/// Spawns the first thread of a new world (used by `check`).
pub(crate) fn spawn_in_world<F>(name: &str, world: Arc<World>, f: F) -> JoinHandle<()>
where
    F: FnOnce() + Send + 'static,
{
    let exit = new_exit(name, Location::caller());
    world.thread_spawning(name, false);
    let inner = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body(name.to_string(), Some(world), exit.clone(), None, f))
        .expect("failed to spawn thread");
    JoinHandle { inner, exit }
}

/// Spawns a thread with a name that reports and timelines show. Inside a closed world
/// ([`check`](crate::check)) the thread belongs to the same world.
///
/// # Panics
///
/// If the OS cannot create a thread (as `std::thread::spawn`).
#[track_caller]
pub fn spawn_named<F, T>(name: &str, f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let ticket = hook::spawning(name, None);
    let exit = new_exit(name, Location::caller());
    let world = world::current_world();
    if let Some(w) = &world {
        w.thread_spawning(name, true);
    }
    let inner = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body(name.to_string(), world, exit.clone(), ticket, f))
        .expect("failed to spawn thread");
    JoinHandle { inner, exit }
}

/// Like `std::thread::scope`, with named, detector-visible spawns: every thread spawned in
/// the scope is joined before `scope` returns.
///
/// # Examples
///
/// ```
/// use synckit::Lock;
///
/// let total = Lock::new(0);
/// synckit::thread::scope(|s| {
///     for i in 1..=3 {
///         let total = &total;
///         s.spawn_named(&format!("adder-{i}"), move || *total.acquire() += i);
///     }
/// });
/// assert_eq!(total.into_inner(), 6);
/// ```
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|s| {
        // Under a controlled schedule: wait for the scope's threads under the schedule (std's
        // own join would block the baton holder).
        let _end = hook::scope_enter(scope_key(s));
        f(Scope { inner: s })
    })
}

/// Identifies a std scope (for the controlled scheduler's end-of-scope wait).
fn scope_key(s: &std::thread::Scope<'_, '_>) -> usize {
    s as *const std::thread::Scope<'_, '_> as usize
}

/// A scope to spawn named threads in (a copyable handle); see [`scope`].
#[derive(Clone, Copy)]
pub struct Scope<'scope, 'env: 'scope> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns a named thread in the scope.
    #[track_caller]
    pub fn spawn_named<F, T>(&self, name: &str, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let ticket = hook::spawning(name, Some(scope_key(self.inner)));
        let exit = new_exit(name, Location::caller());
        let world = world::current_world();
        if let Some(w) = &world {
            w.thread_spawning(name, true);
        }
        let inner = std::thread::Builder::new()
            .name(name.to_string())
            .spawn_scoped(
                self.inner,
                body(name.to_string(), world, exit.clone(), ticket, f),
            )
            .expect("failed to spawn thread");
        ScopedJoinHandle { inner, exit }
    }
}

/// A handle to a thread spawned in a [`Scope`].
#[must_use = "scoped threads are joined at the end of the scope anyway; keep the handle to get the result"]
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    exit: Arc<Exit>,
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread and returns its result; the wait is visible to the detector.
    ///
    /// # Errors
    ///
    /// The thread's panic payload if it panicked.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        wait_exit(&self.exit, Location::caller());
        self.inner.join()
    }
}

/// A point where a controlled schedule may switch threads; a plain `yield_now` otherwise.
///
/// Under [`testing::explore`](crate::testing::explore) threads switch only at synckit
/// operations; put a `yield_point()` where a switch matters but there is none (between a read
/// and a write of an atomic, say). The default schedule lets the other threads go first here.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let hits = AtomicU32::new(0);
/// let seen = hits.load(Ordering::SeqCst);
/// synckit::thread::yield_point(); // another thread may run here
/// hits.store(seen + 1, Ordering::SeqCst);
/// ```
pub fn yield_point() {
    hook::yield_point();
}
