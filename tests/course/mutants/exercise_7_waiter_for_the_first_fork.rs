//! Mutant `waiter_for_the_first_fork` of solutions/exercise_7.rs: a wrong fix, kept so that the
//! course shows its checks catch it.
//!
//! Wrong fix: ask the waiter for a seat, but give the permit back once the first fork is in
//! hand.
//! Why it fails: the fifth philosopher gets the permit and its first fork while the others wait
//! for their second: five forks taken in a cycle (a lock-order inversion, or the deadlock
//! itself) (check `five_philosophers_dine`).
//!
//! @generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test --features solutions
//! --test exercises harness::`; do not edit.
#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]

use synckit::{LockGuard, Semaphore};

/// Seats (and forks) around the table.
pub const SEATS: usize = 5;

/// What the course puts on the table (implemented in tests/course/table.rs).
pub trait Table: Sync {
    /// Picks up fork `fork` (0..5), waiting while a neighbour holds it. The fork goes back
    /// on the table when the guard is dropped.
    fn pick_up(&self, fork: usize) -> LockGuard<'_, ()>;
    /// Picks up fork `fork` if it is on the table; `None` at once if a neighbour holds it.
    fn try_pick_up(&self, fork: usize) -> Option<LockGuard<'_, ()>>;
    /// Eats (with both forks in hand, please).
    fn eat(&self, seat: usize);
    /// The waiter: a Semaphore with 4 permits.
    fn waiter(&self) -> &Semaphore;
}

/// Philosopher `seat` (0..5) eats once: fork `seat` is on the left, fork `seat + 1` on the
/// right (fork 0 for philosopher 4).
pub fn philosopher(seat: usize, table: &impl Table) {
    let left = seat;
    let right = (seat + 1) % SEATS;
    // One global order for all forks: lower number first.
    let permit = table.waiter().acquire(); // at most four reach for a first fork
    let _first = table.pick_up(left);
    drop(permit); // seated: let the next one in
    let _second = table.pick_up(right);
    table.eat(seat);
}
