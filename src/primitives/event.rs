//! [`Event`]: Python's `threading.Event`, a flag threads can wait for.
//!
//! Controlled schedules (`testing::explore`): set, clear and wait start with a scheduling
//! point, and a wait passes the baton instead of waiting on the condvar.

use std::collections::VecDeque;
use std::fmt;
use std::panic::Location;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use std::sync::Arc;

use super::condition::describe_thread;
use crate::detector::fmt_site;
use crate::detector::registry::{
    Global, Kind, ResourceMeta, Site, ThreadShared, Waitable, current_thread, current_thread_id,
};
use crate::detector::wait_for::begin_wait;
use crate::testing::hook::{self, Op, Park};

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
    meta: ResourceMeta,
}

#[derive(Default)]
struct EventState {
    flag: bool,
    /// Bumped by every `set()`, so a waiter woken by a set that was cleared again before
    /// it ran still returns (as in Python, where `wait` returns once notified).
    sets: u64,
    /// The last few `set()` calls, for closed-world evidence.
    setters: VecDeque<(Option<Arc<ThreadShared>>, Site)>,
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
    /// Creates an event whose flag is clear, named `Event@file:line`.
    #[track_caller]
    pub fn new() -> Self {
        Event {
            state: Mutex::new(EventState::default()),
            cv: Condvar::new(),
            meta: ResourceMeta::new(Kind::Event, Location::caller()),
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
        hook::point(Op::Set, &self.meta);
        let me = current_thread();
        let mut st = self.state.lock();
        st.flag = true;
        st.sets += 1;
        if st.setters.len() == 8 {
            st.setters.pop_front();
        }
        st.setters.push_back((me, Location::caller()));
        drop(st);
        self.cv.notify_all();
        crate::world::note_progress();
        crate::world::note_event(|| format!("set `{}`", self.meta.info().display_name()));
    }

    /// How many threads are inside [`wait`](Event::wait) right now (a momentary answer, for
    /// tests and demonstrations; Python's `Event` has no such method).
    pub fn waiters(&self) -> usize {
        self.state.lock().waiters.len()
    }

    /// Clears the flag: later waits block until the next `set()`.
    pub fn clear(&self) {
        hook::point(Op::Clear, &self.meta);
        self.state.lock().flag = false;
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.state.lock().flag
    }

    /// Blocks until the flag is set (returns at once if it is).
    #[track_caller]
    pub fn wait(&self) {
        self.wait_inner(None, Location::caller());
    }

    /// Blocks until the flag is set or `timeout` passes; returns the flag, like Python's
    /// `wait(timeout)`. A zero timeout is a poll.
    #[track_caller]
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        self.wait_inner(
            Some(Instant::now().checked_add(timeout)),
            Location::caller(),
        )
    }

    fn wait_inner(&self, deadline: Option<Option<Instant>>, site: Site) -> bool {
        hook::point(Op::Wait, &self.meta);
        // Count the sets from the first look at the flag: a `set(); clear();` that lands while
        // this thread registers its wait (state unlocked) must still end the wait.
        let me = current_thread_id();
        let sets_before = {
            let mut st = self.state.lock();
            if st.flag {
                return true;
            }
            let sets = st.sets;
            st.waiters.push((me, sets));
            sets
        };
        let registration = begin_wait(self, self.meta.info(), site, deadline.is_some(), false).ok();
        let mut st = self.state.lock();
        let mut signalled = st.flag || st.sets != sets_before;
        while !signalled {
            match deadline {
                _ if hook::active() => {
                    // Controlled schedule: pass the baton until set (or set and cleared).
                    let park = parking_lot::MutexGuard::unlocked(&mut st, || {
                        hook::park(&self.meta, deadline.is_some(), &|| {
                            let st = self.state.lock();
                            st.flag || st.sets != sets_before
                        })
                    });
                    match park {
                        Park::Retry => {}
                        Park::TimedOut => break,
                        Park::Aborted => hook::abort_unwind(),
                    }
                }
                None | Some(None) => self.cv.wait(&mut st),
                Some(Some(d)) => {
                    if self.cv.wait_until(&mut st, d).timed_out() {
                        signalled = st.flag || st.sets != sets_before;
                        break;
                    }
                }
            }
            signalled = st.flag || st.sets != sets_before;
        }
        if signalled {
            crate::world::leaving_wait();
        }
        if let Some(pos) = st.waiters.iter().position(|&(t, _)| t == me) {
            st.waiters.swap_remove(pos);
        }
        let flag = signalled;
        drop(st);
        drop(registration);
        flag
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

    fn evidence(&self, g: &Global) -> Option<String> {
        let st = self.state.lock();
        let name = self.meta.info().display_name();
        Some(match st.setters.back() {
            None => format!("no thread has ever set Event `{name}`"),
            Some((t, site)) => {
                let (who, alive) = describe_thread(g, t.as_ref());
                format!(
                    "Event `{name}` was last set by `{who}` at {} (and cleared since), {alive}",
                    fmt_site(site)
                )
            }
        })
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.meta.info().display_name())
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
