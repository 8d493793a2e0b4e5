//! Exercise 7's dinner table: five forks (synckit `Lock`s named `fork-0` … `fork-4`), a
//! plate, and a waiter (a `Semaphore` with 4 permits) for the learner who wants one.
//!
//! The check runs the dinner under `synckit::testing::explore`, and a philosopher who has
//! picked up a fork reaches a yield point: the explorer's default schedule then goes round
//! the table, so every philosopher picks up a first fork before anyone reaches for a second.
//! With left-first, that closes the cycle on the very first schedule; with a fork order or a
//! waiter, nobody waits in a circle, in that schedule or in the others the explorer tries.

use synckit::thread::yield_point;
use synckit::{Lock, LockGuard, Semaphore};

/// Seats (and forks) around the table.
pub const SEATS: usize = 5;

/// The table of exercise 7.
pub struct DinnerTable {
    forks: Vec<Lock<()>>,
    meals: Lock<(Vec<usize>, Vec<usize>)>,
    waiter: Semaphore,
}

impl DinnerTable {
    /// Five forks on the table, nobody seated.
    pub fn new() -> Self {
        DinnerTable {
            forks: (0..SEATS)
                .map(|i| Lock::new(()).named(&format!("fork-{i}")))
                .collect(),
            meals: Lock::new((Vec::new(), Vec::new())).named("course:meals"),
            waiter: Semaphore::new(SEATS - 1).named("waiter"),
        }
    }

    /// Picks up fork `fork`, then lets the next philosopher go (a yield point).
    #[track_caller]
    pub fn pick_up(&self, fork: usize) -> LockGuard<'_, ()> {
        let guard = self.forks[fork % SEATS].acquire();
        yield_point();
        guard
    }

    /// Picks up fork `fork` if it is free, then lets the next philosopher go.
    #[track_caller]
    pub fn try_pick_up(&self, fork: usize) -> Option<LockGuard<'_, ()>> {
        let guard = self.forks[fork % SEATS].try_acquire();
        yield_point();
        guard
    }

    /// Eats: notes the meal (and whether both of the seat's forks were in hand).
    pub fn eat(&self, seat: usize) {
        let both = self.forks[seat % SEATS].locked() && self.forks[(seat + 1) % SEATS].locked();
        let mut meals = self.meals.acquire();
        meals.0.push(seat);
        if !both {
            meals.1.push(seat);
        }
    }

    /// The waiter: at most four philosophers at the table at once.
    pub fn waiter(&self) -> &Semaphore {
        &self.waiter
    }

    /// Who ate, and who ate without both forks.
    pub fn meals(&self) -> (Vec<usize>, Vec<usize>) {
        self.meals.acquire().clone()
    }
}
