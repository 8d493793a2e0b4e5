//! Named threads whose joins are visible waits, and that join the caller's closed world.
//!
//! Threads spawned here get a name that reports show, belong to the closed world of the
//! thread that spawned them (see [`check`](crate::check)), and their `join` is a wait the
//! detector sees: a thread joining a thread that waits for it is a cycle, reported like any
//! other. Threads spawned with `std::thread` work with every primitive too; they are named
//! after their std name, or `thread-N`.
//!
//! A thread started here hands its identity (its name, and the observer of the world it
//! belongs to) to the detector's registry as the first thing it does.
//!
//! Under a controlled schedule (`testing::explore`) a spawn starts a *simulated* thread, a
//! coroutine of the run on the explorer's OS thread (the [`JoinHandle`] wraps either kind),
//! which first runs when the scheduler picks it; spawn and join are scheduling points, a join
//! switches to another thread instead of parking, and [`scope`] waits for its threads under
//! the schedule (they borrow from the scope's environment, so it waits for them even when the
//! run is torn down).

use std::any::Any;
use std::panic::{AssertUnwindSafe, Location};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Condvar, Mutex};

use crate::detector::observer::Observer;
use crate::detector::registry::{
    Waitable, current_observer, current_thread_id, current_thread_name, notify_observer,
    register_thread,
};
use crate::detector::report::{Evidence, Step};
use crate::detector::resource::{Kind, Resource, Site};
use crate::detector::{Deadlock, DeadlockPanic, Delivery, panic_location, panic_message};
use crate::error::UsageError;
use crate::primitives::blocking::{self, Deadline, OnCondvar, Wait};
use crate::sched::{self, Op};

/// Whether a thread has finished, and who it is: what `join` waits on.
struct Exit {
    done: Mutex<bool>,
    cv: Condvar,
    thread: AtomicU64,
    meta: Resource,
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

    fn evidence(&self) -> Option<Evidence> {
        Some(Evidence::Join {
            thread: self.thread.load(Ordering::Acquire),
        })
    }
}

/// An owned permission to join a thread spawned by [`spawn_named`].
#[must_use = "a thread that is never joined may outlive the checks that should see it"]
pub struct JoinHandle<T> {
    inner: Inner<T>,
    exit: Arc<Exit>,
}

/// Where a simulated thread leaves its result (its body's value, or its panic).
type Packet<T> = Arc<Mutex<Option<std::thread::Result<T>>>>;

enum Inner<T> {
    /// An OS thread.
    Os(std::thread::JoinHandle<T>),
    /// A simulated thread of a controlled run (`testing::explore`): a coroutine.
    Sim { name: String, packet: Packet<T> },
}

/// The result a finished simulated thread left, taken once.
fn take_result<T>(packet: &Packet<T>) -> std::thread::Result<T> {
    packet.lock().take().unwrap_or_else(|| {
        Err(Box::new(
            "synckit: the simulated thread left no result (its run was torn down)",
        ))
    })
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
        match self.join_with(Location::caller(), Delivery::Policy) {
            Ok(result) => result,
            Err(refused) => refused.raise(),
        }
    }

    /// Like [`join`](JoinHandle::join), returning the detector's report as a value.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] when the join would never end: the joined thread waits, directly or
    /// through others, for the calling thread; or, inside [`check`](crate::check), every
    /// other thread of the world is blocked. The thread is then left running, detached.
    #[track_caller]
    pub fn join_checked(self) -> Result<std::thread::Result<T>, Deadlock> {
        self.join_with(Location::caller(), Delivery::Return)
    }

    fn join_with(self, site: Site, how: Delivery) -> Result<std::thread::Result<T>, Deadlock> {
        let me = current_thread_id();
        let target = self.exit.thread.load(Ordering::Acquire);
        if target == me && me != 0 {
            let thread = current_thread_name();
            return Ok(Err(
                Box::new(UsageError::JoinSelf { thread }) as Box<dyn Any + Send>
            ));
        }
        wait_exit(&self.exit, site, how)?;
        Ok(match self.inner {
            Inner::Os(handle) => handle.join(),
            Inner::Sim { packet, .. } => take_result(&packet),
        })
    }

    /// The thread's name.
    pub fn name(&self) -> Option<&str> {
        match &self.inner {
            Inner::Os(handle) => handle.thread().name(),
            Inner::Sim { name, .. } => Some(name),
        }
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        *self.exit.done.lock()
    }
}

fn wait_exit(exit: &Exit, site: Site, how: Delivery) -> Result<(), Deadlock> {
    sched::point(Op::Join, &exit.meta);
    if *exit.done.lock() {
        return Ok(());
    }
    let wait = Wait::on(exit, &exit.meta, site, Deadline::Never, how).owned(true);
    let mut sleeper = OnCondvar::new(&exit.done, &exit.cv, |done| *done, |_| {}, |_| {});
    blocking::block(&wait, &mut sleeper).map(|_| ())
}

fn new_exit(name: &str, site: Site) -> Arc<Exit> {
    let mut meta = Resource::new(Kind::Thread, site);
    meta.set_name(name);
    Arc::new(Exit {
        done: Mutex::new(false),
        cv: Condvar::new(),
        thread: AtomicU64::new(0),
        meta,
    })
}

/// Marks a thread finished (waking joiners) however its body ends.
struct MarkDone(Arc<Exit>);

impl Drop for MarkDone {
    fn drop(&mut self) {
        *self.0.done.lock() = true;
        self.0.cv.notify_all();
        notify_observer(|o, me| o.happened(me, Step::Exit));
    }
}

/// Wraps an OS thread's body: hands the thread's identity to the registry, and marks it
/// finished (waking joiners) however it ends; a panic is told to the thread's observer.
fn body<T>(
    name: String,
    observer: Option<Arc<dyn Observer>>,
    exit: Arc<Exit>,
    f: impl FnOnce() -> T,
) -> impl FnOnce() -> T {
    move || {
        let me = register_thread(&name, observer.clone());
        exit.thread.store(me, Ordering::Release);
        let _done = MarkDone(exit);
        let Some(o) = &observer else {
            return crate::detector::short_backtrace(f);
        };
        match std::panic::catch_unwind(AssertUnwindSafe(|| crate::detector::short_backtrace(f))) {
            Ok(v) => v,
            Err(payload) => {
                // A detector panic's report reached the observer already.
                if payload.downcast_ref::<DeadlockPanic>().is_none() {
                    o.panicked(me, &name, panic_message(&*payload), panic_location());
                }
                std::panic::resume_unwind(payload)
            }
        }
    }
}

/// Wraps a simulated thread's body (a coroutine of a controlled run): its identity, its
/// result left in `packet` for the joiner, its panic recorded as the run's failure.
fn sim_body<T>(
    name: String,
    observer: Option<Arc<dyn Observer>>,
    exit: Arc<Exit>,
    packet: Packet<T>,
    f: impl FnOnce() -> T,
) -> impl FnOnce() {
    move || {
        let me = register_thread(&name, observer);
        exit.thread.store(me, Ordering::Release);
        let _done = MarkDone(exit);
        let result =
            std::panic::catch_unwind(AssertUnwindSafe(|| crate::detector::short_backtrace(f)));
        if let Err(payload) = &result {
            sched::note_panic(&**payload);
        }
        *packet.lock() = Some(result);
    }
}

/// Spawns a thread that belongs to `observer`'s world (the first thread of a world, which
/// `check` spawns for its caller: the caller itself is not part of the world).
pub(crate) fn spawn_observed<F>(name: &str, observer: Arc<dyn Observer>, f: F) -> JoinHandle<()>
where
    F: FnOnce() + Send + 'static,
{
    let exit = new_exit(name, Location::caller());
    observer.spawning(None, name);
    let inner = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body(name.to_string(), Some(observer), exit.clone(), f))
        .expect("failed to spawn thread");
    JoinHandle {
        inner: Inner::Os(inner),
        exit,
    }
}

/// The calling thread's world, told that it spawns a thread named `name`.
fn inherit(name: &str) -> Option<Arc<dyn Observer>> {
    let observer = current_observer();
    if let Some(o) = &observer {
        o.spawning(Some(current_thread_id()), name);
    }
    observer
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
    let exit = new_exit(name, Location::caller());
    let observer = inherit(name);
    if sched::active() {
        // A controlled run: the thread is a coroutine of the run, not an OS thread.
        let packet: Packet<T> = Arc::new(Mutex::new(None));
        let job = sim_body(name.to_string(), observer, exit.clone(), packet.clone(), f);
        sched::spawn(name, None, exit.meta.id(), Box::new(job));
        return JoinHandle {
            inner: Inner::Sim {
                name: name.to_string(),
                packet,
            },
            exit,
        };
    }
    let inner = std::thread::Builder::new()
        .name(name.to_string())
        .spawn(body(name.to_string(), observer, exit.clone(), f))
        .expect("failed to spawn thread");
    JoinHandle {
        inner: Inner::Os(inner),
        exit,
    }
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
        // own join would block the one OS thread the schedule runs on).
        let _end = sched::scope_enter(scope_key(s));
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
        let exit = new_exit(name, Location::caller());
        let observer = inherit(name);
        if sched::active() {
            let packet: Packet<T> = Arc::new(Mutex::new(None));
            let job = sim_body(name.to_string(), observer, exit.clone(), packet.clone(), f);
            let job: Box<dyn FnOnce() + Send + 'scope> = Box::new(job);
            // SAFETY: only the lifetime is erased. The job borrows from the scope's
            // environment ('scope), and the controlled scheduler never lets the scope end
            // before the job is gone: `scope`'s `ScopeGuard` (a local of the closure that
            // `std::thread::scope` runs, dropped before the environment) waits, under the
            // schedule, until every simulated thread of this scope has finished, and in a
            // torn-down run it waits until they have unwound (or, if they cannot, it is
            // abandoned with them: its stack, which holds the borrowed environment, is
            // leaked, never freed nor reused). A job that never started is dropped by the
            // teardown before the parent goes on. Measured reason: a scoped spawn under
            // `explore` must not cost an OS thread (a coroutine switch is ~100x cheaper).
            let job: sched::Job = unsafe {
                std::mem::transmute::<Box<dyn FnOnce() + Send + 'scope>, sched::Job>(job)
            };
            sched::spawn(name, Some(scope_key(self.inner)), exit.meta.id(), job);
            return ScopedJoinHandle {
                inner: ScopedInner::Sim(packet),
                exit,
            };
        }
        let inner = std::thread::Builder::new()
            .name(name.to_string())
            .spawn_scoped(
                self.inner,
                body(name.to_string(), observer, exit.clone(), f),
            )
            .expect("failed to spawn thread");
        ScopedJoinHandle {
            inner: ScopedInner::Os(inner),
            exit,
        }
    }
}

/// A handle to a thread spawned in a [`Scope`].
#[must_use = "scoped threads are joined at the end of the scope anyway; keep the handle to get the result"]
pub struct ScopedJoinHandle<'scope, T> {
    inner: ScopedInner<'scope, T>,
    exit: Arc<Exit>,
}

enum ScopedInner<'scope, T> {
    Os(std::thread::ScopedJoinHandle<'scope, T>),
    Sim(Packet<T>),
}

impl<T> ScopedInner<'_, T> {
    fn join(self) -> std::thread::Result<T> {
        match self {
            ScopedInner::Os(handle) => handle.join(),
            ScopedInner::Sim(packet) => take_result(&packet),
        }
    }
}

impl<T> ScopedJoinHandle<'_, T> {
    /// Waits for the thread and returns its result; the wait is visible to the detector.
    ///
    /// # Errors
    ///
    /// The thread's panic payload if it panicked.
    #[track_caller]
    pub fn join(self) -> std::thread::Result<T> {
        if let Err(refused) = wait_exit(&self.exit, Location::caller(), Delivery::Policy) {
            refused.raise();
        }
        self.inner.join()
    }

    /// Like [`join`](ScopedJoinHandle::join), returning the detector's report as a value.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] when the join would never end (see [`JoinHandle::join_checked`]); the
    /// scope still joins the thread when it ends.
    #[track_caller]
    pub fn join_checked(self) -> Result<std::thread::Result<T>, Deadlock> {
        wait_exit(&self.exit, Location::caller(), Delivery::Return)?;
        Ok(self.inner.join())
    }
}

/// A point where a controlled schedule may switch threads; a plain `yield_now` otherwise.
///
/// Under `synckit::testing::explore` threads switch only at synckit
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
    sched::yield_point();
}
