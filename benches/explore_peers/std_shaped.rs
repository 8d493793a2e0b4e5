//! The programs for the tools whose Mutex, Condvar and `thread` module have std's shape
//! (shuttle, loom): one text, expanded in each tool's module, where `Mutex`, `Condvar` and
//! `thread` name that tool's own (macro_rules paths resolve where the macro is expanded).
//! They are `tests/support/bounded_queue.rs` and the semaphore of `synckit_side.rs`,
//! statement for statement.

macro_rules! std_shaped_programs {
    () => {
        /// The bounded queue of `tests/support/bounded_queue.rs`.
        struct BoundedQueue {
            items: Mutex<VecDeque<u32>>,
            not_empty: Condvar,
            not_full: Condvar,
            capacity: usize,
        }

        impl BoundedQueue {
            fn put(&self, item: u32) {
                let mut items = self.items.lock().unwrap();
                while items.len() >= self.capacity {
                    items = self.not_full.wait(items).unwrap();
                }
                items.push_back(item);
                drop(items);
                self.not_empty.notify_one();
            }

            fn get(&self) -> u32 {
                let mut items = self.items.lock().unwrap();
                while items.is_empty() {
                    items = self.not_empty.wait(items).unwrap();
                }
                let item = items.pop_front().expect("non-empty after the wait");
                drop(items);
                self.not_full.notify_one();
                item
            }
        }

        fn producers_and_consumers() {
            let queue = Arc::new(BoundedQueue {
                items: Mutex::new(VecDeque::new()),
                not_empty: Condvar::new(),
                not_full: Condvar::new(),
                capacity: 1,
            });
            let producers: Vec<_> = (0..2u32)
                .map(|p| {
                    let queue = queue.clone();
                    thread::spawn(move || {
                        for i in 0..3 {
                            queue.put(p * 10 + i);
                        }
                    })
                })
                .collect();
            let consumers: Vec<_> = (0..2)
                .map(|_| {
                    let queue = queue.clone();
                    thread::spawn(move || (0..3).map(|_| queue.get()).collect::<Vec<u32>>())
                })
                .collect();
            for p in producers {
                p.join().unwrap();
            }
            let mut got: Vec<u32> = consumers
                .into_iter()
                .flat_map(|c| c.join().unwrap())
                .collect();
            got.sort();
            assert_eq!(
                got,
                vec![0, 1, 2, 10, 11, 12],
                "every item taken exactly once"
            );
        }

        /// The semaphore of `synckit_side.rs`.
        struct Semaphore {
            count: Mutex<usize>,
            changed: Condvar,
            buggy: bool,
            notify_all: bool,
        }

        impl Semaphore {
            fn acquire(&self) {
                let mut count = self.count.lock().unwrap();
                if self.buggy {
                    if *count == 0 {
                        count = self.changed.wait(count).unwrap();
                    }
                } else {
                    while *count == 0 {
                        count = self.changed.wait(count).unwrap();
                    }
                }
                if *count == 0 {
                    bug_hit();
                    panic!("{BUG}");
                }
                *count -= 1;
            }

            fn release(&self) {
                *self.count.lock().unwrap() += 1;
                if self.notify_all {
                    self.changed.notify_all();
                } else {
                    self.changed.notify_one();
                }
            }
        }

        fn semaphore_scenario(buggy: bool, notify_all: bool) {
            let sem = Arc::new(Semaphore {
                count: Mutex::new(0),
                changed: Condvar::new(),
                buggy,
                notify_all,
            });
            let spawn = || {
                let sem = sem.clone();
                thread::spawn(move || sem.acquire())
            };
            let waiters = [spawn(), spawn()];
            sem.release();
            let barger = spawn();
            sem.release();
            sem.release();
            for t in waiters.into_iter().chain([barger]) {
                t.join().unwrap();
            }
        }
    };
}
