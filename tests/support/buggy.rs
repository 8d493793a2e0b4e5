//! Buggy (and fixed) programs for `synckit::testing::explore`, shared by `tests/explore.rs`
//! and `tests/explore_search.rs` with `#[path]`: each bug is one interleaving away.
#![allow(dead_code)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use synckit::testing::{Run, SemaphoreLike};
use synckit::thread::yield_point;
use synckit::{Condition, Lock};

/// Two threads read a counter, yield, and write back what they read plus one.
pub fn lost_update(run: &Run) {
    let counter = Arc::new(AtomicU32::new(0));
    let workers: Vec<_> = (0..2)
        .map(|i| {
            let counter = counter.clone();
            run.spawn(&format!("worker-{i}"), move || {
                let seen = counter.load(Ordering::SeqCst);
                yield_point();
                counter.store(seen + 1, Ordering::SeqCst);
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 2, "an update was lost");
}

/// Two consumers take one item each; the producer pushes two, notifying one consumer each.
pub fn consumers(use_while: bool) -> impl Fn(&Run) + Send + Sync + 'static {
    move |run: &Run| {
        let queue = Arc::new((
            Lock::new(Vec::<u32>::new()).named("queue"),
            Condition::new().named("not_empty"),
        ));
        let consumers: Vec<_> = (0..2)
            .map(|i| {
                let queue = queue.clone();
                run.spawn(&format!("consumer-{i}"), move || {
                    let (lock, not_empty) = &*queue;
                    let mut items = lock.acquire();
                    if use_while {
                        not_empty.wait_while(&mut items, |items| items.is_empty());
                    } else if items.is_empty() {
                        not_empty.wait(&mut items); // the bug: `if`, not `while`
                    }
                    items.pop().expect("woken, but the queue is empty")
                })
            })
            .collect();
        for item in [1, 2] {
            let (lock, not_empty) = &*queue;
            lock.acquire().push(item);
            not_empty.notify(1);
        }
        let mut got: Vec<u32> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, vec![1, 2]);
    }
}

/// A flag read outside the lock, then a wait: the notify can come in between and is lost.
pub fn flag_outside_the_lock(run: &Run) {
    let state = Arc::new((
        AtomicBool::new(false),
        Lock::new(()).named("lock"),
        Condition::new().named("ready"),
    ));
    let waiter = {
        let state = state.clone();
        run.spawn("waiter", move || {
            let (ready, lock, cond) = &*state;
            if !ready.load(Ordering::SeqCst) {
                let mut guard = lock.acquire();
                cond.wait(&mut guard); // the notify may already have happened
            }
        })
    };
    let setter = {
        let state = state.clone();
        run.spawn("setter", move || {
            let (ready, _, cond) = &*state;
            ready.store(true, Ordering::SeqCst);
            cond.notify_all();
        })
    };
    setter.join().unwrap();
    waiter.join().unwrap();
}

pub fn ab_ba(class: bool) -> impl Fn(&Run) + Send + Sync + 'static {
    move |run: &Run| {
        let (a, b) = if class {
            // One lock class, taken with `acquire_nested`: the order check trusts the
            // promised order, so only the real deadlock can be found.
            (
                Lock::new(()).named("account_a").class("account"),
                Lock::new(()).named("account_b").class("account"),
            )
        } else {
            (
                Lock::new(()).named("account_a"),
                Lock::new(()).named("account_b"),
            )
        };
        let locks = Arc::new((a, b));
        let transfer = |name: &str, forward: bool| {
            let locks = locks.clone();
            run.spawn(name, move || {
                let (a, b) = &*locks;
                let (first, second) = if forward { (a, b) } else { (b, a) };
                let _g1 = first.acquire_nested(0);
                let _g2 = second.acquire_nested(1);
            })
        };
        let t1 = transfer("transfer-1", true);
        let t2 = transfer("transfer-2", false);
        let _ = t1.join();
        let _ = t2.join();
    }
}

/// A semaphore from a Lock and a Condition; `notify_on_release: false` is the bug.
pub struct LockCondSemaphore {
    permits: Lock<usize>,
    freed: Condition,
    notify_on_release: bool,
}

impl LockCondSemaphore {
    pub fn new(permits: usize, notify_on_release: bool) -> Self {
        LockCondSemaphore {
            permits: Lock::new(permits).named("permits"),
            freed: Condition::new().named("freed"),
            notify_on_release,
        }
    }
}

impl SemaphoreLike for LockCondSemaphore {
    fn acquire(&self) {
        let mut permits = self.permits.acquire();
        self.freed.wait_while(&mut permits, |p| *p == 0);
        *permits -= 1;
    }
    fn try_acquire(&self) -> bool {
        let mut permits = self.permits.acquire();
        let got = *permits > 0;
        if got {
            *permits -= 1;
        }
        got
    }
    fn release(&self) {
        *self.permits.acquire() += 1;
        if self.notify_on_release {
            self.freed.notify(1);
        }
    }
    fn available(&self) -> usize {
        *self.permits.acquire()
    }
}

/// A semaphore from a Lock and a Condition whose `acquire` waits with `if`, not `while`.
pub struct IfSemaphore {
    permits: Lock<usize>,
    freed: Condition,
    notify_all: bool,
}

impl IfSemaphore {
    pub fn new(permits: usize, notify_all: bool) -> Self {
        IfSemaphore {
            permits: Lock::new(permits).named("permits"),
            freed: Condition::new().named("freed"),
            notify_all,
        }
    }
}

impl SemaphoreLike for IfSemaphore {
    fn acquire(&self) {
        let mut permits = self.permits.acquire();
        if *permits == 0 {
            self.freed.wait(&mut permits); // the bug: another thread may take it first
        }
        // Wraps instead of panicking, so that what catches the bug is the explorer's check.
        *permits = permits.wrapping_sub(1);
    }
    fn try_acquire(&self) -> bool {
        let mut permits = self.permits.acquire();
        let got = *permits > 0;
        if got {
            *permits -= 1;
        }
        got
    }
    fn release(&self) {
        let mut permits = self.permits.acquire();
        *permits = permits.wrapping_add(1);
        drop(permits);
        if self.notify_all {
            self.freed.notify_all();
        } else {
            self.freed.notify(1);
        }
    }
    fn available(&self) -> usize {
        *self.permits.acquire()
    }
}
