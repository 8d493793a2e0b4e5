//! The deadlock detector: a wait-for graph checked when a thread is about to block, and a
//! lock-order graph that catches the deadlock that did not happen this run.
//!
//! Every synckit primitive reports to it. What happens when it finds something is the
//! [`Policy`]: by default the thread that would close a cycle panics with the [`Report`]
//! (tests fail readably, and unwinding releases its locks); `acquire_checked` returns the
//! report as a [`Deadlock`] value instead.
//!
//! # Examples
//!
//! ```
//! use synckit::{Lock, detector::{self, Policy}};
//!
//! let account = Lock::new(0).named("account");
//! let guard = account.acquire();
//! // A second acquire on the same thread can never succeed: the detector says so at once.
//! let err = account.acquire_checked().unwrap_err();
//! assert!(err.report().headline().contains("re-entrant acquire"));
//! drop(guard);
//! # let _ = Policy::Panic;
//! ```

pub(crate) mod lock_order;
pub(crate) mod registry;
mod report;
pub(crate) mod wait_for;
mod watchdog;

pub use watchdog::watchdog;

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

pub use registry::Kind;
pub use report::{Held, OrderEdge, Report, ReportKind, ThreadState, WaitingFor};
pub(crate) use report::{StuckIn, fmt_site};
pub use report::{color_enabled, color_enabled_stdout};

use registry::{Hold, ResourceInfo, Site, global, with_local};

/// What the detector does when it finds a deadlock or an inversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The thread that would close the cycle panics with the report (the default).
    Panic,
    /// The report is printed to stderr and the thread goes on (and blocks, if it was about to).
    Log,
    /// No checks and no bookkeeping: the primitives behave like plain locks.
    Off,
}

const UNSET: u8 = 0;
const PANIC: u8 = 1;
const LOG: u8 = 2;
const OFF: u8 = 3;

static POLICY: AtomicU8 = AtomicU8::new(UNSET);

impl Policy {
    fn to_u8(self) -> u8 {
        match self {
            Policy::Panic => PANIC,
            Policy::Log => LOG,
            Policy::Off => OFF,
        }
    }

    fn from_u8(v: u8) -> Policy {
        match v {
            LOG => Policy::Log,
            OFF => Policy::Off,
            _ => Policy::Panic,
        }
    }

    /// Parses `panic`, `log` or `off` (the values of `SYNCKIT_DEADLOCK`).
    pub fn parse(s: &str) -> Option<Policy> {
        match s.trim().to_ascii_lowercase().as_str() {
            "panic" => Some(Policy::Panic),
            "log" => Some(Policy::Log),
            "off" => Some(Policy::Off),
            _ => None,
        }
    }
}

/// Bumped by every [`set_policy`]: a thread whose holds were recorded under another policy
/// forgets them (a release under `Off` does not unrecord anything).
pub(crate) static POLICY_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Sets the detector's global policy. `SYNCKIT_DEADLOCK=panic|log|off` sets the initial one.
///
/// Meant to be set once, at the start. Changing it while threads hold locks makes them
/// forget those holds (a lock taken with the detector off was never recorded, and one
/// released with it off is never unrecorded), so reports about them may be incomplete.
pub fn set_policy(policy: Policy) {
    POLICY.store(policy.to_u8(), Ordering::Relaxed);
    POLICY_EPOCH.fetch_add(1, Ordering::Relaxed);
}

/// The policy in force for the calling thread: its world's, if it runs inside
/// [`check_with`](crate::check_with) with a policy, else the global one.
pub fn policy() -> Policy {
    if let Some(p) = crate::world::policy_override() {
        return p;
    }
    global_policy()
}

#[inline]
fn global_policy() -> Policy {
    match POLICY.load(Ordering::Relaxed) {
        UNSET => init_policy(),
        v => Policy::from_u8(v),
    }
}

#[cold]
fn init_policy() -> Policy {
    let from_env = std::env::var("SYNCKIT_DEADLOCK").ok();
    let policy = match from_env.as_deref().map(Policy::parse) {
        Some(Some(p)) => p,
        Some(None) => {
            eprintln!(
                "synckit: SYNCKIT_DEADLOCK={:?} is not one of panic, log, off; using panic",
                from_env.unwrap_or_default()
            );
            Policy::Panic
        }
        None => Policy::Panic,
    };
    let _ = POLICY.compare_exchange(UNSET, policy.to_u8(), Ordering::Relaxed, Ordering::Relaxed);
    Policy::from_u8(POLICY.load(Ordering::Relaxed))
}

/// Whether the detector tracks anything: the *global* policy is not `Off`. One relaxed
/// load; a world's own policy changes how reports are delivered, not whether we track.
#[inline]
pub(crate) fn enabled() -> bool {
    // Unset counts as on: every thread's first use of the detector (`Local::new`) reads
    // `SYNCKIT_DEADLOCK` before any wait could be checked, so this stays one compare.
    POLICY.load(Ordering::Relaxed) != OFF
}

/// Reads `SYNCKIT_DEADLOCK` if nothing has set the policy yet.
pub(crate) fn init_policy_from_env() {
    let _ = global_policy();
}

/// A deadlock or lock-order inversion, returned by the `_checked` acquires.
#[derive(Clone)]
pub struct Deadlock {
    report: Box<Report>,
}

impl Deadlock {
    /// The full report.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// Takes the report out.
    pub fn into_report(self) -> Report {
        *self.report
    }
}

impl fmt::Debug for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Deadlock({:?})", self.report.headline())
    }
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.report, f)
    }
}

impl std::error::Error for Deadlock {}

/// How a report reaches the caller.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Delivery {
    /// Apply the policy (panic / log).
    Policy,
    /// Return it as `Err(Deadlock)`.
    Return,
}

/// Applies the policy to a report. `Ok(())` means: carry on (logged or off).
pub(crate) fn deliver(report: Box<Report>, how: Delivery) -> Result<(), Deadlock> {
    deliver_with(report, how, policy())
}

/// [`deliver`] under a policy the caller already read: a caller that acted on the policy
/// (released a lock because it will panic) must not see a different one here.
pub(crate) fn deliver_with(
    mut report: Box<Report>,
    how: Delivery,
    policy: Policy,
) -> Result<(), Deadlock> {
    report.resolve_backtraces();
    if how == Delivery::Return {
        return Err(Deadlock { report });
    }
    crate::world::note_report(&report);
    match policy {
        Policy::Panic => {
            install_report_hook();
            let text = report.render(color_enabled());
            std::panic::panic_any(DeadlockPanic { text, report })
        }
        Policy::Log => {
            report.eprint();
            Ok(())
        }
        Policy::Off => Ok(()),
    }
}

/// Makes the panic hook print a detector panic's report. The standard hook prints only
/// string payloads (a `DeadlockPanic` would show as `Box<dyn Any>`); every other panic goes
/// to the hook that was installed before. Installed once, at the first detector panic.
fn install_report_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            match info.payload().downcast_ref::<DeadlockPanic>() {
                Some(p) => {
                    let thread = std::thread::current();
                    let name = thread.name().unwrap_or("<unnamed>");
                    eprintln!(
                        "thread '{name}' stopped by the synckit deadlock detector:\n{}",
                        p.text
                    );
                }
                None => previous(info),
            }
        }));
    });
}

/// The payload of a detector panic: the rendered report (printed by the panic hook synckit
/// installs) and the structured one, for `check` and for tests.
pub struct DeadlockPanic {
    /// The report as text (what the panic prints).
    pub text: String,
    /// The structured report.
    pub report: Box<Report>,
}

impl fmt::Debug for DeadlockPanic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// The message of a panic payload, whether a detector report or an ordinary panic.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(p) = payload.downcast_ref::<DeadlockPanic>() {
        p.report.to_string()
    } else if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}

/// Records a new hold on the calling thread and checks the lock order it implies.
/// Returns the calling thread's id (to record as owner) and an inversion report when this
/// acquire closes a new cycle.
#[inline]
pub(crate) fn on_acquired(
    meta: &registry::ResourceMeta,
    site: Site,
    subclass: u32,
    ordered: bool,
    timed: bool,
) -> (u64, Option<Box<Report>>) {
    let resource = meta.info();
    with_local(|local| {
        let epoch = POLICY_EPOCH.load(Ordering::Relaxed);
        if local.policy_epoch != epoch {
            local.holds.clear(); // recorded under another policy: possibly stale
            local.policy_epoch = epoch;
        }
        let hold = Hold {
            resource,
            site,
            count: 1,
            subclass,
            entered_graph: false,
        };
        let mut report = None;
        if ordered && !local.holds.is_empty() {
            let new_key = lock_order::node_key(&resource, subclass);
            if let Some((last, key)) = lock_order::edge_key(&local.holds, new_key)
                && !local.edge_cache.contains(key)
            {
                report = record_order(local, resource, new_key, site, timed, last, subclass);
                local.edge_cache.insert(key);
                local.holds[last].entered_graph = true;
                meta.in_order_graph.store(true, Ordering::Relaxed);
            }
        }
        local.holds.push(hold);
        if let Some(world) = &local.world {
            world.acquired(local.id, hold);
        }
        (local.id, report)
    })
    .unwrap_or((0, None))
}

/// Forgets the calling thread's hold on `meta` (a release).
#[inline]
pub(crate) fn on_released(meta: &registry::ResourceMeta) {
    let Some(id) = meta.existing_id() else { return };
    with_local(|local| {
        // Guards are usually dropped in reverse order: pop without searching.
        let hold = if local.holds.last().is_some_and(|h| h.resource.id == id) {
            local.holds.pop()?
        } else {
            let pos = local.holds.iter().rposition(|h| h.resource.id == id)?;
            local.holds.remove(pos)
        };
        if hold.entered_graph {
            meta.in_order_graph.store(true, Ordering::Relaxed);
        }
        if let Some(world) = &local.world {
            world.released(local.id, id);
        }
        Some(())
    });
}

#[cold]
fn record_order(
    local: &registry::Local,
    resource: ResourceInfo,
    new_key: u64,
    site: Site,
    timed: bool,
    last: usize,
    subclass: u32,
) -> Option<Box<Report>> {
    let ctx = lock_order::OrderContext {
        new: resource,
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

/// The whole current lock-order graph as Graphviz DOT: one node per lock (or lock class),
/// one edge per order seen, labelled with its call sites.
pub fn lock_order_dot() -> String {
    global().order.to_dot()
}

/// `(nodes, edges)` of the lock-order graph: what it costs in memory right now.
pub fn lock_order_size() -> (usize, usize) {
    global().order.size()
}

/// Removes a dropped lock from the lock-order graph (only if it ever entered it).
pub(crate) fn forget_resource(meta: &registry::ResourceMeta) {
    if meta.in_order_graph.load(Ordering::Relaxed)
        && let Some(id) = meta.existing_id()
    {
        let mut g = global();
        match meta.class() {
            None => g.order.remove(id),
            Some(_) => g.order.forget_gate(id),
        }
    }
}
