//! # Exercise 7 · Deadlock: the dining philosophers
//!
//! Five philosophers sit around a table with five forks, one between each pair. To eat, a
//! philosopher needs both neighbouring forks. If each picks up the left fork and then
//! waits for the right one, and all five do it at once, every fork is held and everyone
//! waits for a neighbour who will never put a fork down: a deadlock. Four conditions make
//! one: exclusive resources, held while waiting for more, never taken away, and a *cycle*
//! of waits. Break the cycle and the deadlock cannot happen.
//!
//! synckit's detector keeps a wait-for graph (threads wait for locks, locks are held by
//! threads). The acquire that would close a cycle is reported instead of blocking.
//!
//! ## How the check makes the deadlock happen every time
//!
//! The check seats the philosophers under synckit's explorer (`synckit::testing::explore`):
//! one thread at a time, and a philosopher who has just picked up a fork lets the next one
//! go. So the first schedule it tries is the unlucky one, where everybody holds a left fork
//! before anyone reaches right, and then it tries every schedule that deviates once from
//! it, the same ones on every run.
//!
//! ## What to do
//!
//! Break the cycle. Either give the forks a global order (always pick up the lower-numbered
//! fork first: philosopher 4 sits between forks 4 and 0), or have each philosopher take a
//! permit from `table.waiter()` (4 permits) before picking up forks, held while eating.
//!
//! `cargo test exercise_7` checks it; `cargo run -- hint 7` if you are stuck.

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
    // TODO: left first, then right, for everyone: five philosophers, five forks, one cycle.
    // Pick up the lower-numbered fork first (or ask the waiter for a seat first).
    let _left = table.pick_up(left);
    let _right = table.pick_up(right);
    table.eat(seat);
}
