//! [`Event`]: Python's `threading.Event`, a flag threads can wait for.
//!
//! Controlled schedules (`testing::explore`): set, clear and wait start with a scheduling
//! point, and a wait passes the baton instead of waiting on the condvar.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::blocking::{self, Deadline, Ended, OnCondvar, Wait};
use crate::detector::registry::{Waitable, current_thread_id, notify_observer};
use crate::detector::report::{Evidence, Signal, Step};
use crate::detector::resource::{Kind, Resource, Site};
use crate::detector::{Deadlock, Delivery};
use crate::sched::{self, Op};

/// A flag that threads can wait for, like Python's `threading.Event`: [`set`](Event::set)
/// wakes every waiter and lets later waits pass at once until [`clear`](Event::clear).
///
/// Unlike a bare condition variable, an event cannot lose a wake-up: a `set()` that happens
/// before the `wait()` is still seen.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use synckit::Event;
///
/// let ready = Arc::new(Event::new().named("ready"));
/// let waiter = {
///     let ready = ready.clone();
///     std::thread::spawn(move || ready.wait())
/// };
/// ready.set();
/// waiter.join().unwrap();
/// assert!(ready.is_set());
/// ```
pub struct Event {
    state: Mutex<EventState>,
    cv: Condvar,
    meta: Resource,
}

struct EventState {
    flag: bool,
    /// Bumped by every `set()`, so a waiter woken by a set that was cleared again before
    /// it ran still returns (as in Python, where `wait` returns once notified).
    sets: u64,
    /// The last `set()`, for closed-world evidence.
    last_set: Option<Signal>,
    /// `(thread, sets when it started waiting)` of each waiter: a set that was cleared
    /// again still ends their wait, and a closed world must know that too.
    waiters: Vec<(u64, u64)>,
}

impl Default for Event {
    #[track_caller]
    fn default() -> Self {
        Event::new()
    }
}

impl Event {
    /// Creates an event whose flag is clear, named `Event@file:line`. A `const fn`.
    #[track_caller]
    pub const fn new() -> Self {
        Event {
            state: Mutex::new(EventState {
                flag: false,
                sets: 0,
                last_set: None,
                waiters: Vec::new(),
            }),
            cv: Condvar::new(),
            meta: Resource::new(Kind::Event, Location::caller()),
        }
    }

    /// Gives the event a name to show in reports.
    pub fn named(mut self, name: &str) -> Self {
        self.meta.set_name(name);
        self
    }

    /// Sets the flag and wakes every waiting thread.
    #[track_caller]
    pub fn set(&self) {
        sched::point(Op::Set, &self.meta);
        let signal = Signal::here(Location::caller());
        let mut st = self.state.lock();
        st.flag = true;
        st.sets += 1;
        st.last_set = Some(signal);
        drop(st);
        self.cv.notify_all();
        notify_observer(|o, me| o.happened(me, Step::on(Op::Set, self.meta.info())));
    }

    /// How many threads are inside [`wait`](Event::wait) right now (a momentary answer, for
    /// tests and demonstrations; Python's `Event` has no such method).
    pub fn waiters(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// Clears the flag: later waits block until the next `set()`.
    pub fn clear(&self) {
        sched::point(Op::Clear, &self.meta);
        self.state.lock().flag = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.lock().flag
    }

    /// Blocks until the flag is set (returns at once if it is).
    #[track_caller]
    pub fn wait(&self) {
        if let Err(refused) = self.wait_inner(Deadline::Never, Location::caller(), Delivery::Policy)
        {
            refused.raise();
        }
    }

    /// Like [`wait`](Event::wait), returning the detector's report as a value.
    ///
    /// # Errors
    ///
    /// [`Deadlock`] inside [`check`](crate::check), when this wait would leave every thread
    /// of the world blocked: nobody is left to set the event. (Outside a closed world anyone
    /// could still set it, so the detector never calls such a wait stuck.)
    ///
    /// # Examples
    ///
    /// ```
    /// let outcome = synckit::check(|| synckit::Event::new().named("go").wait_checked());
    /// assert!(outcome.unwrap().unwrap_err().to_string().contains("`go`"));
    /// ```
    #[track_caller]
    pub fn wait_checked(&self) -> Result<(), Deadlock> {
        self.wait_inner(Deadline::Never, Location::caller(), Delivery::Return)
            .map(|_| ())
    }

    /// Waits at most `timeout` for the flag; returns whether it was set (Python's
    /// `wait(timeout)`). A zero timeout is a poll.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        match self.wait_inner(
            Deadline::after(timeout),
            Location::caller(),
            Delivery::Policy,
        ) {
            Ok(set) => set,
            Err(refused) => refused.raise(),
        }
    }

    fn wait_inner(&self, deadline: Deadline, site: Site, how: Delivery) -> Result<bool, Deadlock> {
        sched::point(Op::Wait, &self.meta);
        // Count the sets from the first look at the flag: a `set(); clear();` that lands while
        // this thread registers its wait (state unlocked) must still end the wait.
        let me = current_thread_id();
        let sets_before = {
            let mut st = self.state.lock();
            if st.flag {
                return Ok(true);
            }
            let sets = st.sets;
            st.waiters.push((me, sets));
            sets
        };
        let leave = |st: &mut EventState| {
            if let Some(pos) = st.waiters.iter().position(|&(t, _)| t == me) {
                st.waiters.swap_remove(pos);
            }
        };
        let wait = Wait::on(self, &self.meta, site, deadline, how);
        let mut sleeper = OnCondvar::new(
            &self.state,
            &self.cv,
            |st| st.flag || st.sets != sets_before,
            leave,
            leave,
        );
        match blocking::block(&wait, &mut sleeper) {
            Ok(ended) => Ok(ended == Ended::Done),
            Err(refused) => {
                leave(&mut self.state.lock());
                Err(refused)
            }
        }
    }
}

impl Waitable for Event {
    fn owners(&self, _out: &mut Vec<u64>) -> bool {
        false
    }

    fn satisfiable(&self, waiter: u64) -> bool {
        let st = self.state.lock();
        st.flag
            || st
                .waiters
                .iter()
                .any(|&(t, since)| t == waiter && st.sets != since)
    }

    fn evidence(&self) -> Option<Evidence> {
        Some(Evidence::Event {
            name: self.meta.display_name(),
            last_set: self.state.lock().last_set.clone(),
        })
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.meta.display_name())
            .field("set", &self.is_set())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_clear_and_polls() {
        let e = Event::new();
        assert!(!e.wait_timeout(Duration::ZERO), "a zero timeout is a poll");
        e.set();
        assert!(e.is_set());
        e.wait(); // returns at once
        e.clear();
        assert!(!e.wait_timeout(Duration::from_millis(5)));
    }
}
