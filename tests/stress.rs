//! No false reports (DESIGN.md, guarantee 2: "a stress test of deadlock-free programs under
//! the panic policy must see zero reports"), and no lost updates, under real contention.
//!
//! Every program here is deadlock-free by construction (locks always taken in one global
//! order, permits taken last), runs under the default Panic policy, and checks its data at
//! the end: a false report panics a worker and fails its join; a broken lock shows up as a
//! wrong counter. Randomness is a seeded xorshift, so a failure replays the same choices
//! (the interleaving, of course, differs).

mod common;

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use common::{panic_text, with_deadline};
use synckit::{Barrier, BoundedSemaphore, Condition, Lock, RLock};

/// Marsaglia's xorshift64: tiny, seedable, good enough to pick subsets.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn spawn<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> JoinHandle<T> {
    std::thread::Builder::new()
        .name(name.to_string())
        .spawn(f)
        .expect("spawn")
}

/// Joins every worker; a panic (a false report under the Panic policy) fails with its text.
fn join_all<T>(workers: Vec<JoinHandle<T>>) -> Vec<T> {
    workers
        .into_iter()
        .map(|w| {
            let name = w.thread().name().unwrap_or("?").to_string();
            match w.join() {
                Ok(v) => v,
                Err(payload) => panic!(
                    "worker `{name}` panicked (false report?):\n{}",
                    panic_text(&*payload)
                ),
            }
        })
        .collect()
}

const THREADS: usize = 8;
const LOCKS: usize = 16;
/// Rounds per thread: the full 10,000 (about 2 s for this test in a debug build on 2 cores).
const ROUNDS: usize = 10_000;

#[test]
fn ordered_random_subsets_of_16_locks_no_false_reports_and_exact_counts() {
    // About 2 s on an idle 2-core machine; with the cores busy elsewhere, a preempted holder
    // convoys the other 7 threads and it has taken 50+ s. The deadline only turns a hang
    // into a failure, so it is generous.
    with_deadline(240, "ordered_subsets", || {
        let locks: Arc<Vec<Lock<u64>>> = Arc::new(
            (0..LOCKS)
                .map(|i| Lock::new(0).named(&format!("stress-{i}")))
                .collect(),
        );
        let start = Arc::new(Barrier::new(THREADS));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (locks, start) = (locks.clone(), start.clone());
                spawn(&format!("stress-worker-{t}"), move || {
                    let mut rng = XorShift::new(0x5EED + t as u64);
                    let mut taken = [0u64; LOCKS];
                    let mut busy = 0u64;
                    start.wait().expect("start");
                    for _ in 0..ROUNDS {
                        let subset = rng.next() as u16;
                        let mut guards = Vec::with_capacity(LOCKS);
                        // Ascending index: one global order, so no cycle is possible.
                        for (i, lock) in locks.iter().enumerate() {
                            if subset & (1 << i) == 0 {
                                continue;
                            }
                            let guard = match rng.below(8) {
                                0 => lock
                                    .acquire_checked()
                                    .unwrap_or_else(|d| panic!("false report:\n{d}")),
                                1 => lock
                                    .acquire_timeout(Duration::from_secs(30))
                                    .expect("a deadlock-free program gets every lock"),
                                2 => match lock.try_acquire() {
                                    Some(g) => g,
                                    None => {
                                        busy += 1;
                                        continue; // busy: skip it, and do not count it
                                    }
                                },
                                _ => lock.acquire(),
                            };
                            guards.push((i, guard));
                        }
                        for (i, guard) in &mut guards {
                            **guard += 1;
                            taken[*i] += 1;
                        }
                        if rng.below(4) == 0 {
                            std::thread::yield_now(); // hold a while: more parked waiters
                        }
                        // Release in a random order (the holds are found by id, not by position).
                        while !guards.is_empty() {
                            let k = rng.below(guards.len() as u64) as usize;
                            drop(guards.swap_remove(k));
                        }
                    }
                    (taken, busy)
                })
            })
            .collect();
        let results = join_all(workers);
        let busy: u64 = results.iter().map(|(_, b)| b).sum();
        eprintln!("ordered_subsets: {busy} try_acquires found a lock busy");
        let per_thread: Vec<[u64; LOCKS]> = results.into_iter().map(|(t, _)| t).collect();
        for (i, lock) in locks.iter().enumerate() {
            let expected: u64 = per_thread.iter().map(|taken| taken[i]).sum();
            assert_eq!(
                *lock.acquire(),
                expected,
                "lock {i}: a lost or duplicated update"
            );
            assert!(!lock.locked());
        }
        let total: u64 = per_thread.iter().flatten().sum();
        assert!(
            total > (THREADS * ROUNDS) as u64,
            "the test did real work: {total} acquisitions"
        );
    });
}

#[test]
fn rlocks_reentered_and_a_bounded_pool_taken_last_no_false_reports() {
    // RLocks in one global order, re-entered at random, then a permit of a BoundedSemaphore
    // whose permits are all held through guards when it is exhausted (an owned wait, so the
    // detector does search through it): still deadlock-free, since the pool is taken last.
    const THREADS: usize = 6;
    const RLOCKS: usize = 6;
    const ROUNDS: usize = 1_500;
    with_deadline(60, "rlocks_and_pool", || {
        let locks: Arc<Vec<RLock<AtomicU64>>> = Arc::new(
            (0..RLOCKS)
                .map(|i| RLock::new(AtomicU64::new(0)).named(&format!("stress-r{i}")))
                .collect(),
        );
        let pool = Arc::new(BoundedSemaphore::new(2).named("stress-pool"));
        let in_pool = Arc::new(AtomicU64::new(0));
        let max_in_pool = Arc::new(AtomicU64::new(0));
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (locks, pool, in_pool, max_in_pool) = (
                    locks.clone(),
                    pool.clone(),
                    in_pool.clone(),
                    max_in_pool.clone(),
                );
                spawn(&format!("stress-r-worker-{t}"), move || {
                    let mut rng = XorShift::new(0xA11CE + t as u64);
                    let mut taken = [0u64; RLOCKS];
                    for _ in 0..ROUNDS {
                        let subset = rng.next();
                        let mut guards = Vec::new();
                        for (i, lock) in locks.iter().enumerate() {
                            if subset & (1 << i) == 0 {
                                continue;
                            }
                            guards.push(lock.acquire());
                            // Re-enter 0-2 more times: must never be reported or block.
                            for _ in 0..rng.below(3) {
                                guards.push(
                                    lock.acquire_checked()
                                        .unwrap_or_else(|d| panic!("false report:\n{d}")),
                                );
                            }
                            lock.acquire().fetch_add(1, Ordering::Relaxed);
                            taken[i] += 1;
                        }
                        if rng.below(2) == 0 {
                            let _permit = pool.acquire();
                            let now = in_pool.fetch_add(1, Ordering::SeqCst) + 1;
                            max_in_pool.fetch_max(now, Ordering::SeqCst);
                            std::thread::yield_now();
                            in_pool.fetch_sub(1, Ordering::SeqCst);
                        }
                        while !guards.is_empty() {
                            let k = rng.below(guards.len() as u64) as usize;
                            drop(guards.swap_remove(k));
                        }
                    }
                    taken
                })
            })
            .collect();
        let per_thread = join_all(workers);
        for (i, lock) in locks.iter().enumerate() {
            let expected: u64 = per_thread.iter().map(|taken| taken[i]).sum();
            assert_eq!(
                lock.acquire().load(Ordering::Relaxed),
                expected,
                "rlock {i}"
            );
            assert!(!lock.locked());
        }
        assert!(
            max_in_pool.load(Ordering::SeqCst) <= 2,
            "the pool admits at most 2"
        );
        assert_eq!(pool.available(), 2);
    });
}

#[test]
fn bounded_buffer_producers_consumers_lose_nothing_and_raise_no_report() {
    // Lib/test/test_threading-style producer/consumer over Lock + two Conditions: the
    // waits are Condition waits (never owned, never reported) and re-acquires of the lock.
    const PRODUCERS: u64 = 3;
    const CONSUMERS: u64 = 3;
    const ITEMS: u64 = 2_000; // per producer
    const CAPACITY: usize = 4;
    with_deadline(60, "producer_consumer", || {
        struct Buffer {
            items: Lock<(VecDeque<u64>, u64)>, // queue, producers finished
            not_empty: Condition,
            not_full: Condition,
        }
        let buf = Arc::new(Buffer {
            items: Lock::new((VecDeque::new(), 0)).named("stress-buffer"),
            not_empty: Condition::new().named("stress-not-empty"),
            not_full: Condition::new().named("stress-not-full"),
        });
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let buf = buf.clone();
                spawn(&format!("stress-producer-{p}"), move || {
                    for k in 0..ITEMS {
                        let mut g = buf.items.acquire();
                        buf.not_full
                            .wait_while(&mut g, |(q, _)| q.len() >= CAPACITY);
                        g.0.push_back(p * ITEMS + k);
                        buf.not_empty.notify(1);
                    }
                    let mut g = buf.items.acquire();
                    g.1 += 1;
                    buf.not_empty.notify_all(); // consumers re-check for the end
                })
            })
            .collect();
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|c| {
                let buf = buf.clone();
                spawn(&format!("stress-consumer-{c}"), move || {
                    let mut got = Vec::new();
                    loop {
                        let mut g = buf.items.acquire();
                        buf.not_empty
                            .wait_while(&mut g, |(q, done)| q.is_empty() && *done < PRODUCERS);
                        match g.0.pop_front() {
                            Some(item) => {
                                got.push(item);
                                buf.not_full.notify(1);
                            }
                            None => return got, // empty and every producer finished
                        }
                    }
                })
            })
            .collect();
        join_all(producers);
        let mut all: Vec<u64> = join_all(consumers).into_iter().flatten().collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..PRODUCERS * ITEMS).collect::<Vec<_>>(),
            "every item consumed exactly once"
        );
    });
}
