//! # Exercise 7 · Deadlock: the dining philosophers (solution)
//!
//! Five philosophers sit around a table with five forks, one between each pair. To eat, a
//! philosopher needs both neighbouring forks. If each picks up the left fork and then
//! waits for the right one, and all five do it at once, every fork is held and everyone
//! waits for a neighbour who will never put a fork down: a deadlock.
//!
//! ## Why this works
//!
//! Every philosopher picks up the lower-numbered of its two forks first. Four of them still
//! take left then right, but philosopher 4 (between forks 4 and 0) takes fork 0 first, so
//! it competes with philosopher 0 for its *first* fork instead of holding fork 4 while
//! waiting. A cycle of waits would need someone holding a higher fork while waiting for a
//! lower one, and nobody ever does: with a global order the chain of waits always ends at
//! the holder of the highest fork, who has both and eats.
//!
//! The waiter works too: take `let _seat = table.waiter().acquire();` before the forks and
//! keep it while eating. Four philosophers and five forks: one of them always has two.

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
    let (first, second) = (left.min(right), left.max(right));
    let _first = table.pick_up(first);
    let _second = table.pick_up(second);
    table.eat(seat);
}
