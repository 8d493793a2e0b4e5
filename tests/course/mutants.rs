//! Wrong fixes: the plausible ways to get each exercise wrong, kept as mutants of its
//! reference solution. `cargo test --features solutions` runs each mutant under one check of
//! its exercise (`exercise_N::mutant::NAME`) and asserts that the check fails, for the stated
//! reason, on every run: a course whose checks let a wrong fix through teaches the wrong
//! thing.
//!
//! A mutant is written as edits of `solutions/exercise_N.rs` (each `find` must occur there
//! exactly once), so it follows the solution when the solution changes. The mutant's code is
//! generated into `tests/course/mutants/` (one file per mutant, plus `all.rs`, which
//! instantiates the exercise's checks against each), and the README's table of wrong fixes
//! from the same list. `harness::mutants_are_current` fails when they are stale; regenerate
//! with
//!
//! ```text
//! SYNCKIT_BLESS=1 cargo test --features solutions --test exercises harness::
//! ```
//!
//! (If the generated code no longer compiles, because a solution changed what it offers,
//! regenerate it from a build that leaves it out: add `RUSTFLAGS="--cfg course_no_mutants"`.)

use std::fmt::Write as _;

use libtest_mimic::{Failed, Trial};

use crate::schedules::set_mutant_run;
use crate::support::{Failure, Why};
use synckit::detector::ReportKind;

/// One wrong fix.
pub struct Mutant {
    /// The exercise it is a wrong fix of.
    pub exercise: u32,
    /// Its name: the trial is `exercise_N::mutant::NAME`, the file `exercise_N_NAME.rs`.
    pub name: &'static str,
    /// The wrong fix (or, for an accepted one, the fix), in a learner's words.
    pub wrong_fix: &'static str,
    /// Why it fails.
    pub why_it_fails: &'static str,
    /// The check that catches it...
    pub check: &'static str,
    /// ...and the reasons it may fail for (any of them). None: an accepted fix, which must
    /// pass every check of its exercise.
    pub fails: &'static [Why],
    /// The edits that turn the solution into the mutant: `(find, replace)`.
    pub edits: &'static [(&'static str, &'static str)],
}

/// Exercises whose bug is about interleavings: each needs at least two mutants.
pub const INTERLEAVING: &[u32] = &[2, 4, 5, 6, 7, 11, 12];

/// Exercise 2's solution: `withdraw`, one critical section.
const EX2_WITHDRAW: &str = r#"    let mut balance = account.balance.acquire(); // one critical section from here...
    between(); // the gap, now harmless: nobody else can read the balance
    if *balance < amount {
        return false;
    }
    *balance -= amount;
    true // ...to here, where the guard is dropped"#;

/// Exercise 11's solution: `Gate::wait`, the look and the sleep under one lock.
const EX11_WAIT: &str = r#"        let mut open = self.open.acquire();
        // One critical section from the look to the sleep, and a look after every wake-up.
        self.opened.wait_for(&mut open, |open| *open);"#;

/// Exercise 12's solution: `Semaphore::acquire`.
const EX12_ACQUIRE: &str = r#"        let mut permits = self.permits.acquire();
        self.freed.wait_while(&mut permits, |free| *free == 0); // looked at under the lock
        *permits -= 1;"#;

/// Exercise 3's solution: `deposit`'s body.
const EX3_DEPOSIT: &str = r#"        let mut ledger = self.ledger.acquire();
        ledger.balance += amount;
        ledger.entries.push(amount);
        // Audit with the guard we already hold: no second acquire.
        assert!(
            Self::audit_locked(&ledger),
            "the books do not add up after a deposit"
        );
        ledger.balance // the receipt, read under the same guard"#;

/// Exercise 3 with an `RLock<RefCell<Ledger>>` instead of a `Lock<Ledger>`: the type...
const EX3_RLOCK_USE: (&str, &str) = (
    "use synckit::Lock;",
    "use std::cell::RefCell;\n\nuse synckit::RLock;",
);
/// ...the field...
const EX3_RLOCK_FIELD: (&str, &str) = (
    "    ledger: Lock<Ledger>,",
    "    ledger: RLock<RefCell<Ledger>>,",
);
/// ...the constructor...
const EX3_RLOCK_NEW: (&str, &str) = (
    r#"            ledger: Lock::new(Ledger {
                balance: opening,
                entries: vec![opening],
            })"#,
    r#"            ledger: RLock::new(RefCell::new(Ledger {
                balance: opening,
                entries: vec![opening],
            }))"#,
);
/// ...`audit`...
const EX3_RLOCK_AUDIT: (&str, &str) = (
    "Self::audit_locked(&self.ledger.acquire())",
    "Self::audit_locked(&self.ledger.acquire().borrow())",
);
/// ...and `balance`.
const EX3_RLOCK_BALANCE: (&str, &str) = (
    "self.ledger.acquire().balance",
    "self.ledger.acquire().borrow().balance",
);

/// Exercise 7's solution: the forks in a global order.
const EX7_FORKS: &str = r#"    let (first, second) = (left.min(right), left.max(right));
    let _first = table.pick_up(first);
    let _second = table.pick_up(second);"#;

/// Every wrong fix, by exercise, and (with `fails` empty) the accepted fixes other than the
/// reference solution, which must pass every check.
pub const MUTANTS: &[Mutant] = &[
    Mutant {
        exercise: 1,
        name: "in_finishing_order",
        wrong_fix: "each thread pushes its count into a shared list, which is returned",
        why_it_fails: "the list is in the order the threads finished; a schedule where page 1 finishes first puts the counts out of page order",
        check: "counts_in_page_order",
        fails: &[Why::WrongAnswer],
        edits: &[(
            r#"    let handles: Vec<_> = (0..pages.len())
        .map(|i| {
            let pages = Arc::clone(&pages);
            spawn_named(&format!("page-{i}"), move || count_page(&pages[i]))
        })
        .collect();
    // Joined in page order: results in page order, however the threads were scheduled.
    handles
        .into_iter()
        .map(|handle| handle.join().expect("a page thread panicked"))
        .collect()"#,
            r#"    let results = Arc::new(synckit::Lock::new(Vec::new()).named("results"));
    let handles: Vec<_> = (0..pages.len())
        .map(|i| {
            let (pages, results) = (Arc::clone(&pages), Arc::clone(&results));
            spawn_named(&format!("page-{i}"), move || {
                results.acquire().push(count_page(&pages[i]))
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a page thread panicked");
    }
    let counted = results.acquire().clone();
    counted"#,
        )],
    },
    Mutant {
        exercise: 1,
        name: "std_spawn",
        wrong_fix: "`std::thread::spawn` instead of `spawn_named`",
        why_it_fails: "the threads have no names, so no page is counted on a thread called `page-i`",
        check: "one_named_thread_per_page",
        fails: &[Why::NotOnThreads],
        edits: &[(
            r#"spawn_named(&format!("page-{i}"), move || count_page(&pages[i]))"#,
            r#"std::thread::spawn(move || count_page(&pages[i]))"#,
        )],
    },
    Mutant {
        exercise: 2,
        name: "sleep_first",
        wrong_fix: "sleep a moment first, so the other teller is done, then read and write in two critical sections",
        why_it_fails: "a sleep changes no interleaving: under the explorer both tellers still read 100 before either writes (a lost update)",
        check: "two_tellers_withdraw",
        fails: &[Why::LostUpdate],
        edits: &[(
            EX2_WITHDRAW,
            r#"    std::thread::sleep(std::time::Duration::from_millis(1)); // let the other teller finish
    let balance = *account.balance.acquire();
    between();
    if balance < amount {
        return false;
    }
    *account.balance.acquire() = balance - amount;
    true"#,
        )],
    },
    Mutant {
        exercise: 2,
        name: "fresh_write_stale_check",
        wrong_fix: "check the balance once, then subtract from the balance as it is at the write",
        why_it_fails: "both tellers pass the check on 100 and both subtract 80: the account is overdrawn to -60",
        check: "two_tellers_withdraw",
        fails: &[Why::Overdrawn],
        edits: &[(
            EX2_WITHDRAW,
            r#"    let balance = *account.balance.acquire();
    between();
    if balance < amount {
        return false;
    }
    *account.balance.acquire() -= amount; // subtract from the balance as it is now
    true"#,
        )],
    },
    Mutant {
        exercise: 2,
        name: "acquire_again_to_write",
        wrong_fix: "keep the guard across the gap, but take the lock again for the write",
        why_it_fails: "the second acquire is a re-entrant acquire of a plain Lock: the detector stops it (exercise 3)",
        check: "two_tellers_withdraw",
        fails: &[Why::Report(ReportKind::ReentrantAcquire)],
        edits: &[(
            r#"    *balance -= amount;
    true // ...to here, where the guard is dropped"#,
            r#"    *account.balance.acquire() = *balance - amount;
    true"#,
        )],
    },
    Mutant {
        exercise: 3,
        name: "release_before_audit",
        wrong_fix: "`drop(ledger)` before `self.audit()`, and the receipt from `self.balance()`",
        why_it_fails: "between the drop and the receipt another depositor gets in: under one schedule both receipts show 111",
        check: "two_depositors_get_their_own_receipts",
        fails: &[Why::StaleRead],
        edits: &[(
            r#"        // Audit with the guard we already hold: no second acquire.
        assert!(
            Self::audit_locked(&ledger),
            "the books do not add up after a deposit"
        );
        ledger.balance // the receipt, read under the same guard"#,
            r#"        drop(ledger); // let go first: audit takes the lock itself
        assert!(self.audit(), "the books do not add up after a deposit");
        self.balance()"#,
        )],
    },
    Mutant {
        exercise: 3,
        name: "rlock_borrow_held",
        wrong_fix: "an `RLock<RefCell<Ledger>>`, with the `borrow_mut()` kept while calling `audit`",
        why_it_fails: "the RLock lets the thread in again, but the RefCell does not: `audit`'s `borrow()` panics (already mutably borrowed)",
        check: "deposit_then_audit",
        fails: &[Why::Panicked],
        edits: &[
            EX3_RLOCK_USE,
            EX3_RLOCK_FIELD,
            EX3_RLOCK_NEW,
            (
                EX3_DEPOSIT,
                r#"        let guard = self.ledger.acquire();
        let mut ledger = guard.borrow_mut(); // kept to the end of the function
        ledger.balance += amount;
        ledger.entries.push(amount);
        assert!(self.audit(), "the books do not add up after a deposit");
        ledger.balance"#,
            ),
            EX3_RLOCK_AUDIT,
            EX3_RLOCK_BALANCE,
        ],
    },
    Mutant {
        exercise: 4,
        name: "if_instead_of_while",
        wrong_fix: "`if` instead of `while` around the wait in `wait_until_total`",
        why_it_fails: "the first wake-up comes after one file of 30: the watcher returns 30 without looking again",
        check: "wait_until_total",
        fails: &[Why::WrongAnswer],
        edits: &[(
            "        while self.total_size(node) < at_least {",
            "        if self.total_size(node) < at_least {",
        )],
    },
    Mutant {
        exercise: 4,
        name: "spin_instead_of_wait",
        wrong_fix: "a loop that re-reads the total instead of waiting on `grown`",
        why_it_fails: "the caller's hold on the RLock never goes, so `add` can never get in: the watcher spins forever, and the schedule stalls",
        check: "wait_until_total",
        fails: &[Why::Stalled],
        edits: &[(
            r#"        let mut nodes = self.nodes.acquire(); // re-enters if the caller holds it already
        // `while`, not `if`: a wake-up means "the tree changed", not "it is big enough".
        while self.total_size(node) < at_least {
            self.grown.wait(&mut nodes); // releases every level of the RLock while waiting
        }
        self.total_size(node)"#,
            r#"        loop {
            let total = self.total_size(node); // takes the RLock and lets it go
            if total >= at_least {
                return total;
            }
        }"#,
        )],
    },
    Mutant {
        exercise: 5,
        name: "look_before_release",
        wrong_fix: "keep the plain `Semaphore`, and refuse a check-in when `available()` says every connection is back",
        why_it_fails: "two clerks can both look before either releases: both check-ins are accepted and the pool of 2 has 3",
        check: "two_check_ins_at_once",
        fails: &[Why::OverReleaseMissed],
        edits: &[
            (
                "use synckit::{BoundedSemaphore, UsageError};",
                "use synckit::{Semaphore, UsageError};",
            ),
            (
                "    permits: BoundedSemaphore,",
                "    permits: Semaphore,\n    size: usize,",
            ),
            (
                r#"            permits: BoundedSemaphore::new(size).named("connections"),"#,
                r#"            permits: Semaphore::new(size).named("connections"),
            size,"#,
            ),
            (
                "        self.permits.release()",
                r#"        if self.permits.available() >= self.size {
            return Err(UsageError::OverRelease {
                name: "connections".to_string(),
                max: self.size,
                guarded: 0,
            });
        }
        self.permits.release();
        Ok(())"#,
            ),
        ],
    },
    Mutant {
        exercise: 5,
        name: "try_and_go",
        wrong_fix: "`try_acquire` for the connection, and run the job either way",
        why_it_fails: "a worker that finds no permit runs anyway: three workers are connected through a pool of 2",
        check: "pool_of_2_for_3_workers",
        fails: &[Why::Oversubscribed],
        edits: &[(
            "let _permit = self.permits.acquire();",
            "let _permit = self.permits.try_acquire(); // never keep a worker waiting",
        )],
    },
    Mutant {
        exercise: 6,
        name: "while_forgets_closed",
        wrong_fix: "`while state.items.is_empty()`, without `&& !state.closed`",
        why_it_fails: "after `close()` the woken consumers find the queue empty and go back to sleep, and nobody will notify them again",
        check: "close_wakes_every_consumer",
        fails: &[Why::LostWakeUp],
        edits: &[(
            "        while state.items.is_empty() && !state.closed {",
            "        while state.items.is_empty() {",
        )],
    },
    Mutant {
        exercise: 6,
        name: "notify_one",
        wrong_fix: "`notify(1)` in `put` and `get`: one item, one waiter",
        why_it_fails: "producers and consumers sleep on one Condition: a consumer's notify can wake the other consumer instead of the waiting producer, and both sleep forever",
        check: "two_producers_two_consumers",
        fails: &[Why::LostWakeUp],
        edits: &[
            (
                "self.changed.notify_all(); // consumers waiting for an item",
                "self.changed.notify(1); // one item, one consumer",
            ),
            (
                "self.changed.notify_all(); // producers waiting for room",
                "self.changed.notify(1); // one free slot, one producer",
            ),
        ],
    },
    Mutant {
        exercise: 6,
        name: "timed_wait_with_if",
        wrong_fix: "a timed wait under an `if` (it cannot sleep forever)",
        why_it_fails: "it returns after one wake-up without looking again: the other consumer took the item, and this one gets None from an open queue",
        check: "two_consumers_one_item",
        fails: &[Why::GaveUpEarly],
        edits: &[(
            r#"        while state.items.is_empty() && !state.closed {
            self.changed.wait(&mut state); // woken: look again
        }"#,
            r#"        if state.items.is_empty() && !state.closed {
            // A timed wait cannot sleep forever, whatever happens to the notify.
            let _ = self
                .changed
                .wait_timeout(&mut state, std::time::Duration::from_millis(10));
        }"#,
        )],
    },
    Mutant {
        exercise: 7,
        name: "right_fork_first",
        wrong_fix: "everybody picks up the right fork first",
        why_it_fails: "the same cycle, the other way round: five philosophers each hold one fork and wait for the next (a deadlock)",
        check: "five_philosophers_dine",
        fails: &[Why::Report(ReportKind::Deadlock)],
        edits: &[(
            "    let (first, second) = (left.min(right), left.max(right));",
            "    let (first, second) = (right, left);",
        )],
    },
    Mutant {
        exercise: 7,
        name: "waiter_for_the_first_fork",
        wrong_fix: "ask the waiter for a seat, but give the permit back once the first fork is in hand",
        why_it_fails: "the fifth philosopher gets the permit and its first fork while the others wait for their second: five forks taken in a cycle (a lock-order inversion, or the deadlock itself)",
        check: "five_philosophers_dine",
        fails: &[
            Why::Report(ReportKind::Deadlock),
            Why::Report(ReportKind::LockOrderInversion),
        ],
        edits: &[(
            EX7_FORKS,
            r#"    let permit = table.waiter().acquire(); // at most four reach for a first fork
    let _first = table.pick_up(left);
    drop(permit); // seated: let the next one in
    let _second = table.pick_up(right);"#,
        )],
    },
    Mutant {
        exercise: 7,
        name: "polite_philosophers",
        wrong_fix: "take the left fork, try the right one, and if it is taken put the left one back and start again",
        why_it_fails: "going round the table, everyone picks up, fails, puts down and picks up again in step, forever (a livelock)",
        check: "five_philosophers_dine",
        fails: &[Why::Livelock],
        edits: &[(
            r#"    let (first, second) = (left.min(right), left.max(right));
    let _first = table.pick_up(first);
    let _second = table.pick_up(second);
    table.eat(seat);"#,
            r#"    loop {
        let first = table.pick_up(left);
        if let Some(_second) = table.try_pick_up(right) {
            table.eat(seat);
            return;
        }
        drop(first); // the right fork is taken: put the left one back and try again
    }"#,
        )],
    },
    Mutant {
        exercise: 8,
        name: "richer_first",
        wrong_fix: "take the richer account's lock first",
        why_it_fails: "balances change, so the order changes: after 1→2 the second transfer takes account-2 first, and the detector sees both orders",
        check: "opposite_transfers_one_after_the_other",
        fails: &[Why::Report(ReportKind::LockOrderInversion)],
        edits: &[(
            r#"    let (first, second) = if from.id < to.id {
        (from, to)
    } else {
        (to, from)
    };"#,
            r#"    // The richer account first: an order every transfer can agree on?
    let richer_from = *from.balance.acquire() >= *to.balance.acquire();
    let (first, second) = if richer_from { (from, to) } else { (to, from) };"#,
        )],
    },
    Mutant {
        exercise: 8,
        name: "flow_ignores_the_order",
        wrong_fix: "lock in id order, then take the amount from the first account and give it to the second",
        why_it_fails: "when `from` has the higher id the money flows backwards: the balances end at 60 and 140, not 80 and 120",
        check: "opposite_transfers_one_after_the_other",
        fails: &[Why::WrongAnswer],
        edits: &[(
            r#"    let flow = if first.id == from.id { amount } else { -amount };
    *first_balance -= flow;
    *second_balance += flow;"#,
            r#"    *first_balance -= amount;
    *second_balance += amount;"#,
        )],
    },
    Mutant {
        exercise: 9,
        name: "wait_holding_the_gil",
        wrong_fix: "send the crunch jobs to the workers, but wait for them without `py.blocking`",
        why_it_fails: "each thread holds the GIL while its worker computes, so the threads still take turns: parallelism stays at 1",
        check: "crunching_beats_the_gil",
        fails: &[Why::GilBound],
        edits: &[(
            "Job::Crunch { .. } => py.blocking(|| workers.run(job)),",
            "Job::Crunch { .. } => workers.run(job),",
        )],
    },
    Mutant {
        exercise: 9,
        name: "fetch_in_workers_too",
        wrong_fix: "send every job to the workers, the fetches too",
        why_it_fails: "a fetch only waits, and waiting already releases the GIL: a process buys nothing, and the check refuses fetches sent to workers",
        check: "fetching_overlaps_on_threads",
        fails: &[Why::WrongPlace],
        edits: &[(
            "Job::Fetch { wait } => py.io(wait),",
            "Job::Fetch { .. } => py.blocking(|| workers.run(job)),",
        )],
    },
    Mutant {
        exercise: 9,
        name: "compute_without_the_gil",
        wrong_fix: "crunch right here inside `py.blocking`, with the GIL released",
        why_it_fails: "a crunch job is Python code, which needs the GIL to run: the check sees jobs that never reached a worker process",
        check: "crunching_beats_the_gil",
        fails: &[Why::WrongPlace],
        edits: &[(
            "Job::Crunch { .. } => py.blocking(|| workers.run(job)),",
            "Job::Crunch { units } => py.blocking(|| {\n            std::hint::black_box(synckit::gil::spin(units));\n        }),",
        )],
    },
    Mutant {
        exercise: 10,
        name: "running_total",
        wrong_fix: "keep a running total in the worker and send that back",
        why_it_fails: "a worker that ran several chunks sends back the sum of all of them each time: the parent counts them again and again",
        check: "processes_match_the_serial_total",
        fails: &[Why::WrongAnswer],
        edits: &[
            (
                r#"pub const CHUNK_STEPS: &str = "ex10.chunk_steps";"#,
                r#"pub const CHUNK_STEPS: &str = "ex10.mutant.running_total";"#,
            ),
            (
                r#"pub fn chunk_steps(chunk: Vec<u64>) -> u64 {
    total_steps(&chunk)
}"#,
                r#"pub fn chunk_steps(chunk: Vec<u64>) -> u64 {
    static TOTAL: std::sync::LazyLock<synckit::Lock<u64>> =
        std::sync::LazyLock::new(|| synckit::Lock::new(0).named("TOTAL"));
    let mut total = TOTAL.acquire();
    *total += total_steps(&chunk);
    *total
}"#,
            ),
        ],
    },
    Mutant {
        exercise: 10,
        name: "atomic_total",
        wrong_fix: "the workers add into a static `AtomicU64` (no Lock), which the parent reads",
        why_it_fails: "the atomic is as private to each process as the Lock was: the parent's stays 0",
        check: "processes_match_the_serial_total",
        fails: &[Why::IsolatedMemory],
        edits: &[
            (
                r#"pub const CHUNK_STEPS: &str = "ex10.chunk_steps";"#,
                r#"pub const CHUNK_STEPS: &str = "ex10.mutant.atomic_total";

/// The total, shared without a Lock.
pub static TOTAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);"#,
            ),
            (
                "    total_steps(&chunk)\n}",
                "    TOTAL.fetch_add(total_steps(&chunk), std::sync::atomic::Ordering::SeqCst);\n    chunk.len() as u64\n}",
            ),
            (
                r#"    let partials: Vec<u64> = pool.map(CHUNK_STEPS, &chunks)?;
    Ok(partials.iter().sum())"#,
                r#"    TOTAL.store(0, std::sync::atomic::Ordering::SeqCst);
    let _counted: Vec<u64> = pool.map(CHUNK_STEPS, &chunks)?;
    Ok(TOTAL.load(std::sync::atomic::Ordering::SeqCst))"#,
            ),
        ],
    },
    Mutant {
        exercise: 11,
        name: "sleep_first",
        wrong_fix: "sleep a moment before looking, so the loader opens the gate first",
        why_it_fails: "a sleep changes no interleaving: under the explorer the gate can still open between the look and the wait",
        check: "no_schedule_loses_the_wake_up",
        fails: &[Why::LostWakeUp],
        edits: &[(
            EX11_WAIT,
            r#"        std::thread::sleep(std::time::Duration::from_millis(1)); // the loader goes first
        if self.is_open() {
            return;
        }
        let mut open = self.open.acquire();
        self.opened.wait(&mut open);"#,
        )],
    },
    Mutant {
        exercise: 11,
        name: "let_go_between_look_and_wait",
        wrong_fix: "look under the lock, let go of it, then take it again to wait",
        why_it_fails: "the gate can open in the gap: its notify wakes nobody, and the worker then sleeps forever",
        check: "no_schedule_loses_the_wake_up",
        fails: &[Why::LostWakeUp],
        edits: &[(
            EX11_WAIT,
            r#"        let open = self.open.acquire();
        if *open {
            return;
        }
        drop(open);
        let mut open = self.open.acquire();
        self.opened.wait(&mut open);"#,
        )],
    },
    Mutant {
        exercise: 11,
        name: "loop_of_two_sections",
        wrong_fix: "`while !self.is_open()` around a wait with a lock taken inside the loop",
        why_it_fails: "the look (`is_open`) and the wait are still two critical sections: the notify can fall between them",
        check: "no_schedule_loses_the_wake_up",
        fails: &[Why::LostWakeUp],
        edits: &[(
            EX11_WAIT,
            r#"        while !self.is_open() {
            let mut open = self.open.acquire();
            self.opened.wait(&mut open);
        }"#,
        )],
    },
    Mutant {
        exercise: 12,
        name: "if_instead_of_wait_while",
        wrong_fix: "`if *permits == 0 { wait }` instead of `wait_while`",
        why_it_fails: "between the notify and the wake-up the thief takes the permit; the waiter does not look again and takes a permit that is not there",
        check: "a_woken_waiter_looks_again",
        fails: &[Why::Panicked],
        edits: &[(
            "        self.freed.wait_while(&mut permits, |free| *free == 0); // looked at under the lock",
            "        if *permits == 0 {\n            self.freed.wait(&mut permits);\n        }",
        )],
    },
    Mutant {
        exercise: 12,
        name: "release_without_notify",
        wrong_fix: "`release` adds the permit but does not notify",
        why_it_fails: "a thread asleep in `acquire` is never told that a permit came back: it sleeps forever",
        check: "every_schedule_keeps_count_and_wakes_waiters",
        fails: &[Why::LostWakeUp],
        edits: &[(
            "        self.freed.notify(1); // one permit, one waiter\n",
            "",
        )],
    },
    Mutant {
        exercise: 12,
        name: "spin_on_try_acquire",
        wrong_fix: "`acquire` as `while !self.try_acquire() {}`",
        why_it_fails: "a spinning thread never sleeps: when the holder does not get to run, it spins forever (a livelock)",
        check: "every_schedule_keeps_count_and_wakes_waiters",
        fails: &[Why::Livelock],
        edits: &[(EX12_ACQUIRE, "        while !self.try_acquire() {}")],
    },
    Mutant {
        exercise: 12,
        name: "look_then_wait_apart",
        wrong_fix: "look with `available()`, then take the lock to wait, then take it again to take the permit",
        why_it_fails: "three critical sections where there must be one: a release can fall between the look and the wait (a lost wake-up), or two threads take the same permit",
        check: "every_schedule_keeps_count_and_wakes_waiters",
        fails: &[Why::LostWakeUp, Why::Panicked],
        edits: &[(
            EX12_ACQUIRE,
            r#"        while self.available() == 0 {
            let mut permits = self.permits.acquire();
            self.freed.wait(&mut permits);
        }
        *self.permits.acquire() -= 1;"#,
        )],
    },
    Mutant {
        exercise: 3,
        name: "alternative_rlock",
        wrong_fix: "an `RLock<RefCell<Ledger>>`, the borrow ended before `audit`",
        why_it_fails: "",
        check: "",
        fails: &[],
        edits: &[
            EX3_RLOCK_USE,
            EX3_RLOCK_FIELD,
            EX3_RLOCK_NEW,
            (
                EX3_DEPOSIT,
                r#"        let ledger = self.ledger.acquire();
        {
            let mut l = ledger.borrow_mut();
            l.balance += amount;
            l.entries.push(amount);
        } // the RefCell borrow ends before audit() borrows again
        assert!(self.audit(), "the books do not add up after a deposit");
        let receipt = ledger.borrow().balance;
        receipt"#,
            ),
            EX3_RLOCK_AUDIT,
            EX3_RLOCK_BALANCE,
        ],
    },
    Mutant {
        exercise: 6,
        name: "alternative_wait_while",
        wrong_fix: "`wait_while` in `get` instead of the `while` loop",
        why_it_fails: "",
        check: "",
        fails: &[],
        edits: &[(
            r#"        while state.items.is_empty() && !state.closed {
            self.changed.wait(&mut state); // woken: look again
        }"#,
            "        self.changed\n            .wait_while(&mut state, |s| s.items.is_empty() && !s.closed);",
        )],
    },
    Mutant {
        exercise: 7,
        name: "alternative_waiter",
        wrong_fix: "a permit from the waiter (4 of them) held from before the first fork until after eating",
        why_it_fails: "",
        check: "",
        fails: &[],
        edits: &[(
            EX7_FORKS,
            r#"    let _seat = table.waiter().acquire(); // four at the table, until the meal is over
    let _first = table.pick_up(left);
    let _second = table.pick_up(right);"#,
        )],
    },
];

/// The mutant's file name, in `tests/course/mutants/`.
fn file_name(m: &Mutant) -> String {
    format!("exercise_{}_{}.rs", m.exercise, m.name)
}

/// The mutant's module name, in `all.rs`.
fn module_name(m: &Mutant) -> String {
    format!("exercise_{}_{}", m.exercise, m.name)
}

/// Wraps `text` as comment lines starting with `prefix`, at about 96 columns.
fn comment(prefix: &str, text: &str) -> String {
    let mut out = String::new();
    let mut line = prefix.to_string();
    for word in text.split_whitespace() {
        if line.len() > prefix.len() && line.len() + 1 + word.len() > 96 {
            out.push_str(&line);
            out.push('\n');
            line = prefix.to_string();
        }
        line.push(' ');
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

const GENERATED: &str = "@generated from tests/course/mutants.rs by `SYNCKIT_BLESS=1 cargo test \
    --features solutions --test exercises harness::`; do not edit.";

/// The mutant's source: the solution with its edits, under a header of its own.
pub fn generate(m: &Mutant, solution: &str) -> Result<String, String> {
    // The solution's own `//!` header explains why it works: not the mutant's story.
    let mut code: String = solution
        .lines()
        .skip_while(|l| l.starts_with("//!"))
        .skip_while(|l| l.is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    for (find, replace) in m.edits {
        match code.matches(find).count() {
            1 => code = code.replacen(find, replace, 1),
            n => {
                return Err(format!(
                    "mutant `{}`: solutions/exercise_{}.rs has {n} occurrences of an edit's \
                     `find` (it needs exactly 1):\n{find}",
                    m.name, m.exercise
                ));
            }
        }
    }
    let mut out = if accepted(m) {
        let mut out = comment(
            "//!",
            &format!(
                "Variant `{}` of solutions/exercise_{}.rs: another accepted fix, kept so that the \
                 course shows its checks let it pass.",
                m.name, m.exercise
            ),
        );
        out.push_str("//!\n");
        out.push_str(&comment("//!", &format!("Accepted fix: {}.", m.wrong_fix)));
        out
    } else {
        let mut out = comment(
            "//!",
            &format!(
                "Mutant `{}` of solutions/exercise_{}.rs: a wrong fix, kept so that the course \
                 shows its checks catch it.",
                m.name, m.exercise
            ),
        );
        out.push_str("//!\n");
        out.push_str(&comment("//!", &format!("Wrong fix: {}.", m.wrong_fix)));
        out.push_str(&comment(
            "//!",
            &format!("Why it fails: {} (check `{}`).", m.why_it_fails, m.check),
        ));
        out
    };
    out.push_str("//!\n");
    out.push_str(&comment("//!", GENERATED));
    // Wrong on purpose, and generated: no lint applies.
    out.push_str(
        "#![allow(dead_code, unused_imports, unused_variables, unused_mut, clippy::all)]\n\n",
    );
    out.push_str(&code);
    Ok(out)
}

/// `all.rs`: every mutant's module, the checks of its exercise instantiated against it, and
/// the worker functions of exercise 10's mutants.
pub fn generate_all() -> String {
    let mut out = comment(
        "//!",
        "Every mutant, and its exercise's checks instantiated against it.",
    );
    out.push_str("//!\n");
    out.push_str(&comment("//!", GENERATED));
    out.push('\n');
    for m in MUTANTS {
        let _ = writeln!(
            out,
            "#[path = \"{}\"]\npub mod {};",
            file_name(m),
            module_name(m)
        );
    }
    out.push_str(
        "\n/// The checks of each mutant's exercise, against the mutant.\npub mod checks {\n",
    );
    for m in MUTANTS {
        let _ = writeln!(
            out,
            "    pub mod {module} {{\n        #[allow(unused_imports)]\n        use super::super::{module} as ex;\n        include!(\"../ex{n}.rs\");\n    }}",
            module = module_name(m),
            n = m.exercise
        );
    }
    out.push_str("}\n\n/// The checks of the mutant `name` of exercise `exercise`.\n");
    out.push_str(
        "pub fn checks_of(exercise: u32, name: &str) -> Vec<crate::support::Check> {\n    match (exercise, name) {\n",
    );
    for m in MUTANTS {
        let _ = writeln!(
            out,
            "        ({}, \"{}\") => checks::{}::checks(),",
            m.exercise,
            m.name,
            module_name(m)
        );
    }
    out.push_str("        _ => Vec::new(),\n    }\n}\n\n");
    out.push_str(
        "/// The worker functions of exercise 10's mutants (each registers a name of its own).\n",
    );
    out.push_str(
        "pub fn register(workers: synckit::process::Registry) -> synckit::process::Registry {\n",
    );
    let mut call = "workers".to_string();
    for m in MUTANTS.iter().filter(|m| m.exercise == 10) {
        call = format!("{}::register({call})", module_name(m));
    }
    let _ = writeln!(out, "    {call}\n}}");
    out
}

/// The README's table of wrong fixes, and the accepted fixes other than the solutions.
pub fn readme_table() -> String {
    let mut out = String::from("| # | wrong fix | why it fails | caught by |\n|---|---|---|---|\n");
    for m in MUTANTS.iter().filter(|m| !accepted(m)) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | `{}` |",
            m.exercise,
            m.wrong_fix.replace('|', "\\|"),
            m.why_it_fails.replace('|', "\\|"),
            m.check
        );
    }
    let others: Vec<String> = MUTANTS
        .iter()
        .filter(|m| accepted(m))
        .map(|m| format!("{} ({})", m.wrong_fix, m.exercise))
        .collect();
    let _ = writeln!(
        out,
        "\nAccepted fixes other than the reference solutions, which must pass every check of \
         their exercise: {}.",
        others.join("; ")
    );
    out
}

/// Whether `m` is an accepted fix rather than a wrong one.
fn accepted(m: &Mutant) -> bool {
    m.fails.is_empty()
}

/// The trials of exercise `exercise`'s mutants: `exercise_N::mutant::NAME` for a wrong fix,
/// `exercise_N::accepted::NAME` for an accepted one.
pub fn trials(exercise: u32) -> Vec<Trial> {
    MUTANTS
        .iter()
        .filter(|m| m.exercise == exercise)
        .map(|m| {
            let kind = if accepted(m) { "accepted" } else { "mutant" };
            Trial::test(
                format!("exercise_{}::{kind}::{}", m.exercise, m.name),
                move || {
                    if accepted(m) {
                        judge_accepted(m)
                    } else {
                        judge(m)
                    }
                },
            )
        })
        .collect()
}

/// The checks of exercise `m.exercise`, instantiated against the mutant `m`.
fn checks_of(m: &Mutant) -> Vec<crate::support::Check> {
    #[cfg(not(course_no_mutants))]
    return crate::mutant_code::checks_of(m.exercise, m.name);
    #[cfg(course_no_mutants)]
    return Vec::new();
}

/// Runs every check against the accepted fix `m` and asserts that each passes.
fn judge_accepted(m: &Mutant) -> Result<(), Failed> {
    let checks = checks_of(m);
    if checks.is_empty() {
        return Err(format!("no checks for the accepted fix `{}`", m.name).into());
    }
    for check in checks {
        if let Err(f) = (check.run)() {
            return Err(format!(
                "the accepted fix `{}` of exercise {} ({}) fails `{}` with {}:\n\n{}",
                m.name,
                m.exercise,
                m.wrong_fix,
                check.name,
                f.why.describe(),
                f.render(m.exercise, check.name, false)
            )
            .into());
        }
    }
    Ok(())
}

/// Runs the mutant's check and asserts that it fails for one of the stated reasons.
fn judge(m: &Mutant) -> Result<(), Failed> {
    let checks = checks_of(m);
    let check = checks
        .iter()
        .find(|c| c.name == m.check)
        .ok_or_else(|| format!("exercise {} has no check `{}`", m.exercise, m.check))?;
    set_mutant_run(true);
    let verdict = (check.run)();
    set_mutant_run(false);
    let reasons = || {
        m.fails
            .iter()
            .map(|w| w.describe())
            .collect::<Vec<_>>()
            .join(" or ")
    };
    let shown = |f: &Failure| f.render(m.exercise, m.check, false);
    match verdict {
        Ok(()) => Err(format!(
            "the wrong fix `{}` of exercise {} ({}) passes `{}`: the check must catch it, with {}",
            m.name,
            m.exercise,
            m.wrong_fix,
            m.check,
            reasons()
        )
        .into()),
        Err(f) if m.fails.contains(&f.why) => Ok(()),
        Err(f) => Err(format!(
            "the wrong fix `{}` of exercise {} fails `{}` for the wrong reason: expected {}, \
             got {}:\n\n{}",
            m.name,
            m.exercise,
            m.check,
            reasons(),
            f.why.describe(),
            shown(&f)
        )
        .into()),
    }
}

/// Whether the generated files (and the README's table) are what `MUTANTS` says; with
/// `SYNCKIT_BLESS=1`, rewrites the stale ones.
pub fn mutants_are_current() -> Result<(), Failed> {
    let root = env!("CARGO_MANIFEST_DIR");
    let dir = format!("{root}/tests/course/mutants");
    let mut want: Vec<(String, String)> = Vec::new();
    for m in MUTANTS {
        let solution =
            std::fs::read_to_string(format!("{root}/solutions/exercise_{}.rs", m.exercise))
                .map_err(|e| format!("solutions/exercise_{}.rs: {e}", m.exercise))?;
        want.push((file_name(m), generate(m, &solution)?));
    }
    want.push(("all.rs".to_string(), generate_all()));
    let mut stale = Vec::new();
    for (file, text) in &want {
        let path = format!("{dir}/{file}");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            stale.push(path);
        }
    }
    let orphans: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| format!("{dir}: {e}"))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !want.iter().any(|(file, _)| file == name))
        .map(|name| format!("{dir}/{name}"))
        .collect();
    crate::selftest::bless_or_fail(
        "the generated mutants",
        stale
            .iter()
            .map(|path| {
                let file = path.rsplit('/').next().unwrap_or_default();
                let text = want
                    .iter()
                    .find(|(f, _)| f == file)
                    .map(|(_, t)| t.clone())
                    .unwrap_or_default();
                (path.clone(), Some(text))
            })
            .chain(orphans.into_iter().map(|path| (path, None)))
            .collect(),
    )
}

/// At least two wrong fixes for every exercise whose bug is about interleavings, one for
/// every other, and every mutant's check a check of its exercise.
pub fn every_interleaving_exercise_has_two_mutants() -> Result<(), Failed> {
    for e in crate::catalog::EXERCISES {
        let n = MUTANTS
            .iter()
            .filter(|m| m.exercise == e.number && !accepted(m))
            .count();
        let need = if INTERLEAVING.contains(&e.number) {
            2
        } else {
            1
        };
        if n < need {
            return Err(format!(
                "exercise {} has {n} wrong fix(es) kept as mutants; it needs at least {need}",
                e.number
            )
            .into());
        }
    }
    Ok(())
}
