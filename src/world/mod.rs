//! Closed worlds: [`check`] runs code where every thread is known, so a wait that no owner
//! can end (a Condition nobody will notify, an Event nobody sets, a Barrier short of a
//! party, a semaphore signal nobody sends, a join on a thread that waits for the joiner)
//! is judged by the simplest rule there is: when every live thread of the world is blocked
//! in an untimed synckit wait that nothing can satisfy, nobody is left to wake anyone.

mod observe;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use crate::detector::{Policy, Report};
use crate::error::UsageError;
use observe::World;

/// How a [`check_with`] world runs.
#[derive(Clone, Debug)]
pub struct Config {
    deadline: Duration,
    policy: Option<Policy>,
    timeline: usize,
    on_deadlock: OnDeadlock,
}

/// What [`check_with`] does when the world deadlocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnDeadlock {
    /// Return [`Outcome::Deadlock`] (the default).
    Return,
    /// Panic with the report (handy in tests that expect no deadlock).
    Panic,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            deadline: Duration::from_secs(10),
            policy: None,
            timeline: 64,
            on_deadlock: OnDeadlock::Return,
        }
    }
}

impl Config {
    /// How long the world may run before [`Outcome::Stalled`] (default 10 s).
    pub fn deadline(mut self, deadline: Duration) -> Self {
        self.deadline = deadline;
        self
    }

    /// The detector policy for the world's threads (default: the global one).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// How many recent events the timeline keeps (default 64).
    pub fn timeline(mut self, events: usize) -> Self {
        self.timeline = events;
        self
    }

    /// What to do on a deadlock (default: return it).
    pub fn on_deadlock(mut self, on_deadlock: OnDeadlock) -> Self {
        self.on_deadlock = on_deadlock;
        self
    }
}

/// A panic in a world thread.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PanicInfo {
    /// The thread that panicked.
    pub thread: String,
    /// Its panic message.
    pub message: String,
    /// Where it panicked (`file:line:column`), when known.
    pub location: Option<String>,
}

/// How a closed world ended.
#[derive(Debug)]
#[must_use]
pub enum Outcome<T> {
    /// The closure returned and every thread of the world finished.
    Ok(T),
    /// The world deadlocked: a cycle of owned waits, or every thread blocked for good.
    Deadlock(Report),
    /// The deadline passed first; the report shows every thread's state and the timeline.
    /// The blocked threads are left parked.
    Stalled(Report),
    /// A thread of the world panicked.
    Panicked(PanicInfo),
}

impl<T> Outcome<T> {
    /// Whether the world finished cleanly.
    pub fn is_ok(&self) -> bool {
        matches!(self, Outcome::Ok(_))
    }

    /// The closure's value.
    ///
    /// # Panics
    ///
    /// If the world did not finish cleanly; the message is the report.
    #[track_caller]
    pub fn unwrap(self) -> T {
        match self {
            Outcome::Ok(v) => v,
            other => panic!("{}", other.describe()),
        }
    }

    /// The report, for `Deadlock` and `Stalled`.
    pub fn report(&self) -> Option<&Report> {
        match self {
            Outcome::Deadlock(r) | Outcome::Stalled(r) => Some(r),
            _ => None,
        }
    }

    fn describe(&self) -> String {
        match self {
            Outcome::Ok(_) => "ok: the world finished cleanly".to_string(),
            Outcome::Deadlock(r) | Outcome::Stalled(r) => r.to_string(),
            Outcome::Panicked(p) => match &p.location {
                Some(at) => format!("thread `{}` panicked at {at}: {}", p.thread, p.message),
                None => format!("thread `{}` panicked: {}", p.thread, p.message),
            },
        }
    }
}

impl<T> fmt::Display for Outcome<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Runs `f` in a closed world with the default [`Config`] (10 s deadline).
///
/// Every thread `f` spawns through [`thread::spawn_named`](crate::thread::spawn_named) or
/// [`thread::scope`](crate::thread::scope), transitively, belongs to the world. The outcome:
/// - [`Outcome::Ok`] when `f` returns and every world thread has finished;
/// - [`Outcome::Deadlock`] when the detector finds a cycle in a world thread, or when every
///   live world thread is blocked in an untimed synckit wait that nothing can satisfy — with
///   each thread's holds, wait and call sites, and who could have woken each wait;
/// - [`Outcome::Panicked`] when a world thread panicked;
/// - [`Outcome::Stalled`] when the deadline passes first.
///
/// `check` never hangs: blocked threads are left parked when it returns.
///
/// Spawn the world's threads with `synckit::thread`: a thread started with `std::thread`
/// inside `check` is outside the world, so a world thread waiting for it (say, for an
/// `Event` it will set) looks stuck to the world and is reported.
///
/// # Examples
///
/// ```
/// use synckit::{Condition, Lock, Outcome};
/// use std::sync::Arc;
///
/// // A consumer waits for an item that nobody will ever produce.
/// let outcome = synckit::check(|| {
///     let queue = Arc::new((Lock::new(Vec::<i32>::new()), Condition::new().named("not_empty")));
///     let (lock, not_empty) = &*queue;
///     let mut items = lock.acquire();
///     not_empty.wait_while(&mut items, |items| items.is_empty());
/// });
/// assert!(matches!(outcome, Outcome::Deadlock(_)));
/// assert!(outcome.to_string().contains("not_empty"));
/// ```
#[track_caller]
pub fn check<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Outcome<T> {
    check_with(Config::default(), f)
}

/// Runs `f` in a closed world configured by `config`; see [`check`].
///
/// # Panics
///
/// If `config`'s deadline is zero ([`UsageError::ZeroDeadline`]); and, with
/// [`OnDeadlock::Panic`], when the world deadlocks.
#[track_caller]
pub fn check_with<T: Send + 'static>(
    config: Config,
    f: impl FnOnce() -> T + Send + 'static,
) -> Outcome<T> {
    if config.deadline.is_zero() {
        panic!("{}", UsageError::ZeroDeadline);
    }
    crate::detector::install_panic_hook();
    let world = Arc::new(World::new(&config));
    let result: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
    let handle = {
        let result = result.clone();
        crate::thread::spawn_observed("main", world.clone(), move || {
            let value = f();
            *result.lock() = Some(value);
        })
    };
    let outcome = match world.monitor(config.deadline) {
        observe::Verdict::Finished => {
            let _ = handle.join();
            match world.first_failure() {
                Some(failure) => failure.into_outcome(),
                None => match result.lock().take() {
                    Some(v) => Outcome::Ok(v),
                    None => Outcome::Panicked(PanicInfo {
                        thread: "main".into(),
                        message: "the closure did not return".into(),
                        location: None,
                    }),
                },
            }
        }
        observe::Verdict::Failed(failure) => failure.into_outcome(),
    };
    if config.on_deadlock == OnDeadlock::Panic
        && let Outcome::Deadlock(r) = &outcome
    {
        panic!("{r}");
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::panic_message;

    #[test]
    fn config_builds_and_defaults_to_ten_seconds() {
        let c = Config::default();
        assert_eq!(c.deadline, Duration::from_secs(10));
        let c = c
            .deadline(Duration::from_millis(5))
            .timeline(3)
            .on_deadlock(OnDeadlock::Panic);
        assert_eq!(
            (c.deadline, c.timeline, c.on_deadlock),
            (Duration::from_millis(5), 3, OnDeadlock::Panic)
        );
    }

    #[test]
    fn a_clean_world_returns_its_value() {
        assert_eq!(check(|| 6 * 7).unwrap(), 42);
    }

    #[test]
    fn unwrap_of_a_deadlock_panics_with_the_report() {
        let outcome = check(|| crate::Event::new().named("world-unit").wait());
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| outcome.unwrap()))
            .unwrap_err();
        assert!(panic_message(&*err).contains("`world-unit`"));
    }
}
