//! What happens to a report: the [`Policy`], decided in one place ([`judge`]), and the
//! panic that carries a report when the policy says so.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use super::registry::with_local;
use super::report::{Report, color_enabled};

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

/// The detector's global state in one word, so that the fast path decides with one load and
/// one bit test:
/// - bit 0: SLOW, set whenever the fast path must not be taken (the policy is unset or off,
///   or a [`FullPath`] guard is alive); kept in step with the fields below by every update;
/// - bit 1: OFF, set when the policy is off and no [`FullPath`] guard is alive (an operation
///   then does no bookkeeping at all); kept in step like SLOW;
/// - bits 2-3: the policy (`UNSET`, `PANIC`, `LOG`, `OFF`);
/// - bits 4-23: how many [`FullPath`] guards are alive (controlled runs, which need every
///   operation to take the full path, with its scheduling points);
/// - bits 24-63: the policy epoch, bumped by every [`set_policy`]: a thread whose holds were
///   recorded under another policy forgets them (a release under `Off` unrecords nothing).
static STATE: AtomicU64 = AtomicU64::new(SLOW | ((UNSET as u64) << POLICY_SHIFT));

const SLOW: u64 = 1;
const OFF_BIT: u64 = 1 << 1;
const POLICY_SHIFT: u32 = 2;
const POLICY_BITS: u64 = 0b11 << POLICY_SHIFT;
const FULL_PATH_ONE: u64 = 1 << 4;
const FULL_PATH_BITS: u64 = ((1 << 24) - 1) & !0b1111;
const EPOCH_ONE: u64 = 1 << 24;

/// `s` with its SLOW and OFF bits recomputed from its fields.
fn with_slow_bit(s: u64) -> u64 {
    let policy = ((s & POLICY_BITS) >> POLICY_SHIFT) as u8;
    let quiet = s & FULL_PATH_BITS == 0;
    let fast = matches!(policy, PANIC | LOG) && quiet;
    let off = policy == OFF && quiet;
    (s & !(SLOW | OFF_BIT)) | u64::from(!fast) | if off { OFF_BIT } else { 0 }
}

/// Applies `change` to the state (and the SLOW bit), atomically.
fn update(change: impl Fn(u64) -> Option<u64>) {
    let _ = STATE.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |s| {
        change(s).map(with_slow_bit)
    });
}

/// A snapshot of the detector's global state (see [`fast_state`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct FastState(pub(crate) u64);

impl FastState {
    /// The detector is on and nothing asks for the full path: an uncontended operation may do
    /// its bookkeeping inline.
    #[inline(always)]
    pub(crate) fn is_fast(self) -> bool {
        self.0 & SLOW == 0
    }

    /// The detector is off and nothing asks for the full path: an uncontended operation does
    /// no bookkeeping at all.
    #[inline(always)]
    pub(crate) fn is_off(self) -> bool {
        self.0 & OFF_BIT != 0
    }

    /// The policy epoch (see `STATE`).
    pub(crate) fn epoch(self) -> u64 {
        self.0 >> 24
    }
}

/// One relaxed load: the state the fast path decides on.
#[inline(always)]
pub(crate) fn fast_state() -> FastState {
    FastState(STATE.load(Ordering::Relaxed))
}

/// While one lives, every thread takes the full path: a controlled schedule is running and
/// needs every operation's scheduling point (which the fast path skips).
pub(crate) struct FullPath(());

impl FullPath {
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn enter() -> FullPath {
        update(|s| Some(s.wrapping_add(FULL_PATH_ONE)));
        FullPath(())
    }
}

impl Drop for FullPath {
    fn drop(&mut self) {
        update(|s| Some(s.wrapping_sub(FULL_PATH_ONE)));
    }
}

#[inline]
fn policy_bits() -> u8 {
    ((STATE.load(Ordering::Relaxed) & POLICY_BITS) >> POLICY_SHIFT) as u8
}

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

/// Sets the detector's global policy. `SYNCKIT_DEADLOCK=panic|log|off` sets the initial one.
///
/// Meant to be set once, at the start. Changing it while threads hold locks makes them
/// forget those holds (a lock taken with the detector off was never recorded, and one
/// released with it off is never unrecorded), so reports about them may be incomplete.
pub fn set_policy(policy: Policy) {
    update(|s| {
        Some((s & !POLICY_BITS).wrapping_add(EPOCH_ONE) | u64::from(policy.to_u8()) << POLICY_SHIFT)
    });
}

/// The policy in force for the calling thread: its world's, if it runs inside
/// [`check_with`](crate::check_with) with a policy, else the global one.
pub fn policy() -> Policy {
    let observed = with_local(|l| l.observer.as_ref().and_then(|o| o.policy())).flatten();
    observed.unwrap_or_else(global_policy)
}

/// The policy epoch (see `STATE`).
pub(crate) fn epoch() -> u64 {
    fast_state().epoch()
}

#[inline]
fn global_policy() -> Policy {
    match policy_bits() {
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
    // Only if nothing has set it meanwhile; the epoch stays (nothing was recorded yet).
    update(|s| {
        (s & POLICY_BITS == u64::from(UNSET) << POLICY_SHIFT)
            .then_some(s | u64::from(policy.to_u8()) << POLICY_SHIFT)
    });
    Policy::from_u8(policy_bits())
}

/// Whether the detector tracks anything: the *global* policy is not `Off`. One relaxed
/// load; a world's own policy changes how reports are delivered, not whether we track.
#[inline]
pub(crate) fn enabled() -> bool {
    // Unset counts as on: every thread's first use of the detector (`Local::new`) reads
    // `SYNCKIT_DEADLOCK` before any wait could be checked, so this stays one compare.
    policy_bits() != OFF
}

/// Reads `SYNCKIT_DEADLOCK` if nothing has set the policy yet.
pub(crate) fn init_from_env() {
    let _ = global_policy();
}

/// A deadlock or lock-order inversion, as a value: what the `_checked` forms return.
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

    /// Panics with the report (what the policy-following forms do with a refusal).
    pub(crate) fn raise(self) -> ! {
        install_panic_hook();
        let collected = with_local(|l| l.observer.as_ref().is_some_and(|o| o.collects_panics()))
            .unwrap_or(false);
        let text = self.report.render(color_enabled());
        std::panic::panic_any(DeadlockPanic {
            text,
            report: self.report,
            collected,
        })
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
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Delivery {
    /// Apply the policy (panic / log).
    Policy,
    /// Return it as `Err(Deadlock)` (the `_checked` forms).
    Return,
}

/// The one decision about a report. `Ok(())`: carry on (the report was logged, collected, or
/// the policy is off), blocking if the caller was about to. `Err`: refuse. The caller gives
/// back whatever it took for this operation and returns the error; a policy-following form
/// then [raises](Deadlock::raise) it (the `Panic` policy), a `_checked` form returns it.
pub(crate) fn judge(mut report: Box<Report>, how: Delivery) -> Result<(), Deadlock> {
    // Resolving is slow (the first time in a process, seconds in a debug build): skipped
    // where the observer takes no backtraces (the explorer while it searches; it replays
    // the failing schedule with them for the report it shows).
    let resolve = how == Delivery::Return
        || with_local(|l| l.observer.as_ref().is_none_or(|o| o.backtraces())).unwrap_or(true);
    if resolve {
        report.resolve_backtraces();
    }
    if how == Delivery::Return {
        return Err(Deadlock { report });
    }
    match policy() {
        Policy::Panic => {
            // The world keeps the report; the panic that follows carries it too.
            with_local(|l| {
                if let Some(o) = &l.observer {
                    o.collect(&report);
                }
            });
            Err(Deadlock { report })
        }
        Policy::Log => {
            let collected = with_local(|l| l.observer.as_ref().is_some_and(|o| o.collect(&report)))
                .unwrap_or(false);
            if !collected {
                report.eprint();
            }
            Ok(())
        }
        Policy::Off => Ok(()),
    }
}

thread_local! {
    /// Where this thread's last quiet panic happened (see [`panic_location`]).
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Where the calling thread's last panic happened, if the panic hook kept it quiet because
/// someone collects it (a world, a controlled run): collectors show it in their own report.
/// (Read, not taken: a world and a controlled run may both collect the same panic.)
pub(crate) fn panic_location() -> Option<String> {
    PANIC_AT.try_with(|p| p.borrow().clone()).ok().flatten()
}

/// Installs, once, the panic hook that
/// - prints a detector panic's report (the standard hook would print `Box<dyn Any>`), unless
///   the thread's observer collects it (then the collector shows it, once);
/// - keeps quiet about any other panic on a thread whose observer collects panics, keeping
///   its location for the collector;
/// - hands every other panic to the hook that was installed before.
pub(crate) fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Some(p) = info.payload().downcast_ref::<DeadlockPanic>() {
                if !p.collected {
                    let thread = std::thread::current();
                    let name = thread.name().unwrap_or("<unnamed>");
                    eprintln!(
                        "thread '{name}' stopped by the synckit deadlock detector:\n{}",
                        p.text
                    );
                }
                return;
            }
            let collected =
                with_local(|l| l.observer.as_ref().is_some_and(|o| o.collects_panics()))
                    .unwrap_or(false);
            if collected {
                let at = info.location().map(|l| {
                    format!(
                        "{}:{}:{}",
                        super::report::clean_path(l.file()),
                        l.line(),
                        l.column()
                    )
                });
                let _ = PANIC_AT.try_with(|p| *p.borrow_mut() = at);
                return;
            }
            previous(info);
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
    /// Whether a collector (a closed world) shows the report, so the hook prints nothing.
    collected: bool,
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
    } else if let Some(e) = payload.downcast_ref::<crate::error::UsageError>() {
        e.to_string()
    } else {
        "(a panic without a message)".to_string()
    }
}
