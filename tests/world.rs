//! Closed worlds: `check` judges waits that no owner can end, and never hangs.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::with_deadline;
use synckit::detector::ReportKind;
use synckit::thread::spawn_named;
use synckit::{Barrier, Condition, Config, Event, Lock, Outcome, Semaphore, check, check_with};

fn expect_deadlock<T: std::fmt::Debug>(outcome: Outcome<T>) -> synckit::Report {
    match outcome {
        Outcome::Deadlock(r) => r,
        other => panic!("expected a deadlock, got: {other}"),
    }
}

#[test]
fn lost_wake_up_with_if_is_a_deadlock_naming_the_condition_and_its_wait_site() {
    let report = with_deadline(20, "lost wake-up", || {
        // The line of the wait, found in this file's source so formatting cannot move it.
        let wait_line = include_str!("world.rs")
            .lines()
            .collect::<Vec<_>>()
            .iter()
            .rposition(|l| l.contains("not_empty.wait(&mut items);"))
            .expect("the wait line")
            + 1;
        let outcome = check(move || {
            let shared = Arc::new((
                Lock::new(Vec::<u32>::new()).named("queue"),
                Condition::new().named("not_empty"),
            ));
            let producer = {
                let shared = shared.clone();
                spawn_named("producer", move || shared.0.acquire().push(1)) // forgets to notify
            };
            producer.join().unwrap();
            let (lock, not_empty) = &*shared;
            let mut items = lock.acquire();
            if items.len() < 2 {
                not_empty.wait(&mut items);
            } // `if`, and no notify will come
            items.len()
        });
        (expect_deadlock(outcome), wait_line)
    });
    let (report, wait_line) = report;
    assert_eq!(report.kind(), ReportKind::WorldDeadlock);
    let text = report.to_string();
    assert!(text.contains("`not_empty` (Condition)"), "{text}");
    assert!(
        text.contains(&format!("tests/world.rs:{wait_line}:")),
        "wait site missing:\n{text}"
    );
    assert!(
        text.contains("no thread has ever notified"),
        "evidence missing:\n{text}"
    );
    assert!(text.contains("last events"), "timeline missing:\n{text}");
}

#[test]
fn notify_evidence_names_the_last_notifier_and_that_it_exited() {
    let text = with_deadline(20, "evidence", || {
        let outcome = check(|| {
            let shared = Arc::new((Lock::new(0), Condition::new().named("ready")));
            let notifier = {
                let shared = shared.clone();
                spawn_named("notifier", move || {
                    shared.1.notify_all(); // nobody waits yet: the wake-up is lost
                })
            };
            notifier.join().unwrap();
            let mut g = shared.0.acquire();
            shared.1.wait(&mut g);
        });
        expect_deadlock(outcome).to_string()
    });
    assert!(text.contains("last notified by `notifier`"), "{text}");
    assert!(text.contains("which has exited"), "{text}");
}

#[test]
fn event_never_set_is_reported() {
    let text = with_deadline(20, "event", || {
        let outcome = check(|| Event::new().named("started").wait());
        expect_deadlock(outcome).to_string()
    });
    assert!(
        text.contains("no thread has ever set Event `started`"),
        "{text}"
    );
}

#[test]
fn barrier_short_of_a_party_is_reported_with_arrivals() {
    let text = with_deadline(20, "barrier", || {
        let outcome = check(|| {
            let barrier = Arc::new(Barrier::new(3).named("start_line"));
            let other = {
                let barrier = barrier.clone();
                spawn_named("runner-2", move || barrier.wait().map(|_| ()))
            };
            let _ = barrier.wait();
            let _ = other.join();
        });
        expect_deadlock(outcome).to_string()
    });
    assert!(
        text.contains("Barrier `start_line` has 2 of 3 parties; 1 more must arrive"),
        "{text}"
    );
}

#[test]
fn semaphore_signal_never_released_is_reported() {
    let text = with_deadline(20, "semaphore", || {
        let outcome = check(|| {
            let done = Semaphore::new(0).named("done");
            done.acquire().forget();
        });
        expect_deadlock(outcome).to_string()
    });
    assert!(text.contains("`done` has 0 permits"), "{text}");
    assert!(text.contains("nobody has ever called release()"), "{text}");
}

#[test]
fn two_threads_joining_each_other_is_a_cycle() {
    let report = with_deadline(20, "mutual join", || {
        let outcome = check(|| {
            let (to_a, from_main_a) = std::sync::mpsc::channel::<synckit::thread::JoinHandle<()>>();
            let (to_b, from_main_b) = std::sync::mpsc::channel::<synckit::thread::JoinHandle<()>>();
            let a = spawn_named("a", move || {
                let b = from_main_a.recv().unwrap();
                let _ = b.join();
            });
            let b = spawn_named("b", move || {
                let a = from_main_b.recv().unwrap();
                let _ = a.join();
            });
            to_a.send(b).unwrap();
            to_b.send(a).unwrap();
        });
        expect_deadlock(outcome)
    });
    assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
    let names: Vec<&str> = report.threads().iter().map(|t| t.name.as_str()).collect();
    assert!(names.contains(&"a") && names.contains(&"b"), "{report}");
}

#[test]
fn a_thread_joining_itself_is_a_usage_error() {
    let outcome = with_deadline(20, "self join", || {
        check(|| {
            let (give_handle, own_handle) =
                std::sync::mpsc::channel::<synckit::thread::JoinHandle<()>>();
            let (tell, told) = std::sync::mpsc::channel::<String>();
            let narcissus = spawn_named("narcissus", move || {
                let myself = own_handle.recv().unwrap();
                let verdict = match myself.join() {
                    Err(e) => e
                        .downcast_ref::<synckit::UsageError>()
                        .map(|u| u.to_string())
                        .unwrap_or_default(),
                    Ok(()) => "joined itself".to_string(),
                };
                tell.send(verdict).unwrap();
            });
            give_handle.send(narcissus).unwrap();
            told.recv().unwrap()
        })
    });
    match outcome {
        Outcome::Ok(text) => {
            assert!(text.contains("`narcissus` tried to join itself"), "{text}");
            assert!(text.contains("Join it from another thread"), "{text}");
        }
        other => panic!("expected Ok with the usage error, got {other}"),
    }
}

#[test]
fn correct_producer_consumer_is_ok_200_times() {
    with_deadline(60, "producer/consumer x200", || {
        for round in 0..200 {
            let outcome = check(|| {
                let shared = Arc::new((
                    Lock::new(Vec::<u32>::new()),
                    Condition::new(),
                    Condition::new(),
                ));
                let producer = {
                    let shared = shared.clone();
                    spawn_named("producer", move || {
                        let (lock, not_empty, not_full) = &*shared;
                        for i in 1..=20 {
                            let mut q = lock.acquire();
                            not_full.wait_while(&mut q, |q| q.len() >= 2);
                            q.push(i);
                            not_empty.notify(1);
                        }
                    })
                };
                let (lock, not_empty, not_full) = &*shared;
                let mut sum = 0;
                for _ in 0..20 {
                    let mut q = lock.acquire();
                    not_empty.wait_while(&mut q, |q| q.is_empty());
                    sum += q.remove(0);
                    not_full.notify(1);
                }
                producer.join().unwrap();
                sum
            });
            match outcome {
                Outcome::Ok(sum) => assert_eq!(sum, 210, "round {round}"),
                other => panic!("round {round}: {other}"),
            }
        }
    });
}

#[test]
fn a_timed_wait_in_an_idle_world_times_out_and_the_world_finishes() {
    let outcome = with_deadline(20, "timed wait", || {
        check(|| {
            let lock = Lock::new(());
            let cond = Condition::new();
            let mut g = lock.acquire();
            cond.wait_timeout(&mut g, Duration::from_millis(50))
                .timed_out()
        })
    });
    match outcome {
        Outcome::Ok(timed_out) => assert!(timed_out),
        other => panic!("expected Ok, got {other}"),
    }
}

#[test]
fn a_spinning_thread_is_stalled_at_the_deadline_and_shown_running() {
    let stop = Arc::new(AtomicBool::new(false));
    let outcome = {
        let stop = stop.clone();
        with_deadline(20, "spinner", move || {
            check_with(
                Config::default().deadline(Duration::from_millis(300)),
                move || {
                    let spinner = spawn_named("spinner", move || {
                        while !stop.load(Ordering::Relaxed) {
                            std::hint::spin_loop();
                        }
                    });
                    let _ = spinner.join();
                },
            )
        })
    };
    stop.store(true, Ordering::Relaxed); // let the leaked thread end
    match outcome {
        Outcome::Stalled(r) => {
            let text = r.to_string();
            assert_eq!(r.kind(), ReportKind::Stall);
            assert!(text.contains("thread `spinner` is running"), "{text}");
            assert!(text.contains("a suspicion"), "{text}");
        }
        other => panic!("expected Stalled, got {other}"),
    }
}

#[test]
fn twenty_checks_in_parallel_each_get_their_own_outcome() {
    with_deadline(60, "parallel checks", || {
        let handles: Vec<_> = (0..20)
            .map(|i| {
                std::thread::spawn(move || {
                    let outcome = check(move || {
                        if i % 2 == 0 {
                            Event::new().named(&format!("never-{i}")).wait();
                        }
                        i
                    });
                    (i, outcome)
                })
            })
            .collect();
        for h in handles {
            let (i, outcome) = h.join().unwrap();
            if i % 2 == 0 {
                let text = expect_deadlock(outcome).to_string();
                assert!(
                    text.contains(&format!("`never-{i}`")),
                    "check {i} saw: {text}"
                );
                assert_eq!(
                    text.matches("thread `main`").count(),
                    1,
                    "check {i} saw other worlds' threads:\n{text}"
                );
            } else {
                match outcome {
                    Outcome::Ok(v) => assert_eq!(v, i),
                    other => panic!("check {i}: {other}"),
                }
            }
        }
    });
}

#[test]
fn a_panic_in_a_world_thread_is_returned_with_name_and_message() {
    let outcome = with_deadline(20, "panic", || {
        check(|| {
            let worker = spawn_named("worker-7", || panic!("the ledger does not balance"));
            let _ = worker.join();
        })
    });
    match outcome {
        Outcome::Panicked(p) => {
            assert_eq!(p.thread, "worker-7");
            assert!(p.message.contains("the ledger does not balance"));
            // The hook stays quiet inside a world, so the outcome carries where it happened.
            let at = p.location.as_deref().expect("the panic's location");
            assert!(at.starts_with("tests/world.rs:"), "{at}");
        }
        other => panic!("expected Panicked, got {other}"),
    }
}

#[test]
fn an_owned_cycle_inside_check_is_returned_as_the_detectors_report() {
    let report = with_deadline(20, "owned cycle", || {
        expect_deadlock(check(|| {
            let lock = Lock::new(()).named("self_lock");
            let _g = lock.acquire();
            let _again = lock.acquire();
        }))
    });
    assert_eq!(report.kind(), ReportKind::ReentrantAcquire);
    assert!(report.to_string().contains("`self_lock`"));
}

#[test]
fn a_zero_deadline_is_rejected_with_a_message() {
    let err =
        std::panic::catch_unwind(|| check_with(Config::default().deadline(Duration::ZERO), || ()))
            .expect_err("zero deadline must be rejected");
    let text = common::panic_text(&*err);
    assert!(text.contains("deadline of zero"), "{text}");
}

#[test]
fn nested_check_runs_its_own_world() {
    let outcome = with_deadline(20, "nested", || {
        check(|| check(|| Event::new().named("inner").wait()).is_ok())
    });
    match outcome {
        Outcome::Ok(inner_ok) => {
            assert!(!inner_ok, "the inner world deadlocks, the outer finishes")
        }
        other => panic!("expected Ok, got {other}"),
    }
}

#[test]
fn a_set_then_clear_wakes_the_waiters_and_is_no_deadlock() {
    // The waiters are woken by the set even though the flag is clear again when they run
    // (Python's semantics); the world must not mistake them for stuck in between.
    with_deadline(60, "set/clear", || {
        for round in 0..100 {
            let outcome = check(|| {
                let event = Arc::new(Event::new().named("pulse"));
                let waiters: Vec<_> = (0..3)
                    .map(|i| {
                        let event = event.clone();
                        spawn_named(&format!("waiter-{i}"), move || event.wait())
                    })
                    .collect();
                // All three are inside `wait` before the pulse (no sleep decides this).
                while event.waiters() < 3 {
                    std::thread::yield_now();
                }
                let setter = {
                    let event = event.clone();
                    spawn_named("setter", move || {
                        event.set();
                        event.clear();
                    })
                };
                setter.join().unwrap();
                for w in waiters {
                    w.join().unwrap();
                }
            });
            if !outcome.is_ok() {
                panic!("round {round}: {outcome}");
            }
        }
    });
}

#[test]
fn a_logged_self_deadlock_inside_check_is_returned_without_waiting_for_the_deadline() {
    let outcome = with_deadline(5, "logged self-deadlock", || {
        check_with(
            Config::default()
                .policy(synckit::detector::Policy::Log)
                .deadline(Duration::from_secs(60)),
            || {
                let lock = Lock::new(()).named("logged-self");
                let _first = lock.acquire();
                let _second = lock.acquire(); // logged, then blocks for real
            },
        )
    });
    let report = expect_deadlock(outcome);
    assert_eq!(report.kind(), ReportKind::ReentrantAcquire, "{report}");
}

#[test]
fn a_stall_report_lists_the_permits_and_locks_a_running_thread_holds() {
    let stop = Arc::new(AtomicBool::new(false));
    let outcome = {
        let stop = stop.clone();
        with_deadline(20, "stall holds", move || {
            check_with(
                Config::default().deadline(Duration::from_millis(300)),
                move || {
                    let pool = synckit::BoundedSemaphore::new(2).named("stall-pool");
                    let ledger = Lock::new(()).named("stall-ledger");
                    let _permit = pool.acquire();
                    let _held = ledger.acquire();
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                },
            )
        })
    };
    stop.store(true, Ordering::Relaxed); // let the leaked thread end
    match outcome {
        Outcome::Stalled(r) => {
            let text = r.to_string();
            assert!(
                text.contains("holds  `stall-pool` (BoundedSemaphore)"),
                "{text}"
            );
            assert!(text.contains("holds  `stall-ledger` (Lock)"), "{text}");
        }
        other => panic!("expected Stalled, got {other}"),
    }
}

/// The `_checked` forms of waits no owner can end: inside a world, a wait that would leave
/// every thread blocked comes back as the report, and the world then finishes.
#[test]
fn checked_waits_return_the_worlds_verdict_and_the_world_goes_on() {
    let outcome = with_deadline(20, "checked waits", || {
        check(|| {
            let pool = Semaphore::new(0).named("checked-pool");
            let sem = pool.acquire_checked().map(|_| ()).unwrap_err();
            let gate = Event::new().named("checked-gate");
            let event = gate.wait_checked().unwrap_err();
            let meet = Barrier::new(2).named("checked-meet");
            let barrier = meet.wait_checked().unwrap_err();
            assert_eq!(meet.n_waiting(), 0, "a refused arrival is taken back");
            let lock = Lock::new(0).named("checked-lock");
            let ready = Condition::new().named("checked-ready");
            let cond = ready.wait_checked(lock.acquire()).map(|_| ()).unwrap_err();
            assert!(
                !lock.locked(),
                "a refused condition wait leaves the lock released"
            );
            [sem, event, barrier, cond].map(|d| d.into_report())
        })
    });
    let reports = outcome.unwrap();
    for (report, name) in reports.iter().zip([
        "checked-pool",
        "checked-gate",
        "checked-meet",
        "checked-ready",
    ]) {
        assert_eq!(report.kind(), ReportKind::WorldDeadlock, "{report}");
        assert!(
            report.to_string().contains(&format!("`{name}`")),
            "{report}"
        );
    }
}

/// A checked wait that someone can still end is just a wait.
#[test]
fn a_checked_wait_that_another_thread_ends_returns_normally() {
    let outcome = with_deadline(20, "checked ok", || {
        check(|| {
            let gate = Arc::new(Event::new().named("checked-later"));
            let setter = {
                let gate = gate.clone();
                spawn_named("setter", move || gate.set())
            };
            gate.wait_checked().expect("the setter is still coming");
            setter.join().unwrap();
        })
    });
    assert!(outcome.is_ok(), "{outcome}");
}

/// A join that closes a cycle (the joined thread waits for a lock the joiner holds) is
/// refused to whichever of the two blocks second, as a value; the hint is about joins.
#[test]
fn a_join_cycle_is_refused_to_exactly_one_side_with_a_hint_about_joins() {
    let reports = with_deadline(20, "checked join", || {
        let held = Arc::new(Lock::new(()).named("held-by-joiner"));
        let meet = Arc::new(std::sync::Barrier::new(2));
        let joiner = {
            let (held, meet) = (held.clone(), meet.clone());
            spawn_named("joiner", move || {
                let guard = held.acquire();
                let joined = {
                    let (held, meet) = (held.clone(), meet.clone());
                    spawn_named("joined", move || {
                        meet.wait();
                        held.acquire_checked().err().map(|d| d.into_report())
                    })
                };
                meet.wait();
                match joined.join_checked() {
                    Ok(result) => vec![result.unwrap()],
                    Err(refused) => {
                        drop(guard); // let the joined thread finish
                        vec![Some(refused.into_report())]
                    }
                }
            })
        };
        joiner.join().unwrap()
    });
    let reports: Vec<_> = reports.into_iter().flatten().collect();
    assert_eq!(reports.len(), 1, "exactly one side is refused");
    let report = &reports[0];
    assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
    let text = report.to_string();
    assert!(
        text.contains("held-by-joiner") && text.contains("joined"),
        "{text}"
    );
    assert!(report.hint().contains("join"), "{text}");
}

#[test]
fn static_primitives_need_no_lazy_lock() {
    static HITS: Lock<u32> = Lock::new(0);
    static GATE: Event = Event::new();
    static POOL: Semaphore = Semaphore::new(1);
    *HITS.acquire() += 1;
    GATE.set();
    GATE.wait();
    drop(POOL.acquire());
    assert_eq!(*HITS.acquire(), 1);
}

#[test]
fn an_rlock_guard_is_sync_when_its_data_is() {
    fn assert_sync<T: Sync>(_: &T) {}
    let lock = synckit::RLock::new(5u32);
    let guard = lock.acquire();
    assert_sync(&guard);
    std::thread::scope(|s| {
        s.spawn(|| assert_eq!(*guard, 5));
    });
}
