//! Exercise 7's dinner table: five forks (synckit `Lock`s named `fork-0` … `fork-4`), a
//! plate, and a waiter (a `Semaphore` with 4 permits) for the learner who wants one.
//!
//! The table also seats everybody at once, so the stub deadlocks on *every* run instead of
//! once in a while: after picking up its first fork, a philosopher waits at the table until
//! everyone who can pick up a first fork has done so. Who cannot? A philosopher reaching for
//! a fork that a seated philosopher already holds (it is certain to wait), or one kept out
//! by a waiter with no permit left. With five forks taken left-first, all five get seated
//! and then all five reach for their right fork: the cycle closes and the detector reports
//! it. With a fork order or a waiter, at most four are ever seated, and the meal goes on.
//!
//! `pick_up` announces which fork a philosopher reaches for *before* it acquires it; that
//! is how the table knows, without timing, who is about to wait.

use std::cell::Cell;
use std::sync::Arc;

use synckit::{Condition, Lock, LockGuard, Semaphore};

/// Seats (and forks) around the table.
pub const SEATS: usize = 5;

thread_local! {
    static SEAT: Cell<Option<usize>> = const { Cell::new(None) };
}

#[derive(Default)]
struct State {
    /// The fork each seat is reaching for (announced before the acquire).
    reaching: [Option<usize>; SEATS],
    /// Whether each seat has picked up its first fork.
    sat: [bool; SEATS],
    /// The first fork of each seat waiting at the table.
    waiting_with: [Option<usize>; SEATS],
    /// Seats whose philosopher returned (or panicked).
    done: [bool; SEATS],
    /// Everyone is seated: nobody waits at the table any more.
    released: bool,
    /// Who ate, in order, and who ate without holding both forks.
    meals: Vec<usize>,
    bad_meals: Vec<usize>,
}

/// The table of exercise 7.
pub struct DinnerTable {
    forks: Vec<Lock<()>>,
    state: Lock<State>,
    seated: Condition,
    waiter: Semaphore,
}

/// Marks a seat done when its philosopher's thread ends, however it ends.
pub struct LeavesTable {
    table: Arc<DinnerTable>,
    seat: usize,
}

impl Drop for LeavesTable {
    fn drop(&mut self) {
        let mut st = self.table.state.acquire();
        st.done[self.seat] = true;
        self.table.seated.notify_all();
    }
}

impl DinnerTable {
    /// Five forks on the table, nobody seated.
    pub fn new() -> Self {
        DinnerTable {
            forks: (0..SEATS)
                .map(|i| Lock::new(()).named(&format!("fork-{i}")))
                .collect(),
            state: Lock::new(State::default()).named("course:table"),
            seated: Condition::new().named("course:everyone-seated"),
            waiter: Semaphore::new(SEATS - 1).named("waiter"),
        }
    }

    /// Called first thing on a philosopher's thread: which seat this thread is. The guard
    /// marks the seat done when the thread ends.
    pub fn sit(self: &Arc<Self>, seat: usize) -> LeavesTable {
        SEAT.with(|s| s.set(Some(seat)));
        LeavesTable {
            table: self.clone(),
            seat,
        }
    }

    fn seat() -> usize {
        SEAT.with(|s| s.get())
            .expect("pick_up called from a thread that is not a philosopher")
    }

    /// Picks up fork `fork`; the first fork a philosopher picks up also seats it (see the
    /// module docs).
    #[track_caller]
    pub fn pick_up(&self, fork: usize) -> LockGuard<'_, ()> {
        let seat = Self::seat();
        {
            let mut st = self.state.acquire();
            st.reaching[seat] = Some(fork);
            self.seated.notify_all();
        }
        let guard = self.forks[fork % SEATS].acquire();
        let mut st = self.state.acquire();
        st.reaching[seat] = None;
        if !st.sat[seat] {
            st.sat[seat] = true;
            if !st.released {
                st.waiting_with[seat] = Some(fork % SEATS);
                self.seated.notify_all();
                while !st.released {
                    if self.everyone_seated(&st) {
                        st.released = true;
                        self.seated.notify_all();
                        break;
                    }
                    self.seated.wait(&mut st);
                }
                st.waiting_with[seat] = None;
            }
        }
        drop(st);
        guard
    }

    /// Whether every philosopher who can pick up a first fork has done so.
    fn everyone_seated(&self, st: &State) -> bool {
        let held_by_seated = |fork: usize| st.waiting_with.contains(&Some(fork));
        let waiter_full = self.waiter.available() == 0;
        (0..SEATS).all(|s| {
            st.waiting_with[s].is_some()
                || st.done[s]
                || st.reaching[s].is_some_and(held_by_seated)
                || (waiter_full && !st.sat[s] && st.reaching[s].is_none())
        })
    }

    /// Eats: notes the meal (and whether both of the seat's forks were in hand).
    pub fn eat(&self, seat: usize) {
        let both = self.forks[seat % SEATS].locked() && self.forks[(seat + 1) % SEATS].locked();
        let mut st = self.state.acquire();
        st.meals.push(seat);
        if !both {
            st.bad_meals.push(seat);
        }
    }

    /// The waiter: at most four philosophers at the table at once.
    pub fn waiter(&self) -> &Semaphore {
        &self.waiter
    }

    /// Who ate, and who ate without both forks.
    pub fn meals(&self) -> (Vec<usize>, Vec<usize>) {
        let st = self.state.acquire();
        (st.meals.clone(), st.bad_meals.clone())
    }
}
