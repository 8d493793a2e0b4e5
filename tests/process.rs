//! Worker processes (`synckit::process`): results, faults, and the hook.
//!
//! **Why this file has its own `main`** (`harness = false` in Cargo.toml). A pool starts its
//! workers by running the current program again, and a worker must reach
//! `synckit::process::hook` before anything else. Under libtest's own `main` every worker
//! would run the test suite instead. So this target's `main` calls the hook first, then runs
//! the tests with libtest-mimic (same filters and flags as `cargo test`). In a worker, the
//! hook never returns: the test list is never even built there.
//!
//! Every test runs under a deadline; none asserts on speed.

mod common;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::with_deadline;
use libtest_mimic::{Arguments, Failed, Trial};
use synckit::process::{Pool, ProcessError, Registry};

/// Lives in each process's own memory: a worker's increments never reach the parent.
static BUMPS: AtomicU64 = AtomicU64::new(0);

/// The serial computation the pool must reproduce.
fn mix(x: u64) -> u64 {
    let mut h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for _ in 0..64 {
        h ^= h >> 29;
        h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    }
    h
}

fn registry() -> Registry {
    Registry::new()
        .register("mix", mix)
        .register("fail_on_13", |x: u64| {
            if x == 13 {
                panic!("thirteen is unlucky");
            }
            x
        })
        .register("die", |_: ()| -> u64 {
            // A worker killed mid-task (by a signal it cannot catch).
            #[cfg(unix)]
            // SAFETY: sends a signal to this very process.
            unsafe {
                libc::kill(libc::getpid(), libc::SIGKILL);
            }
            std::process::abort()
        })
        .register("block_until_killed", |marker: String| -> u64 {
            // Says "started" (with its pid), then never finishes on its own.
            std::fs::write(&marker, std::process::id().to_string()).expect("write marker");
            loop {
                std::thread::park();
            }
        })
        .register("never_returns", |_: ()| -> u64 {
            loop {
                std::thread::park();
            }
        })
        .register("bump", |_: ()| BUMPS.fetch_add(1, Ordering::SeqCst) + 1)
        .register("noisy", |s: String| {
            println!("a task that prints to stdout: {s}");
            s.len() as u64
        })
        .register("lengths", |v: Vec<String>| {
            v.iter().map(|s| s.len() as u64).collect::<Vec<_>>()
        })
}

fn pool(workers: usize) -> Pool {
    Pool::builder()
        .workers(workers)
        .task_timeout(Duration::from_secs(20))
        .build()
        .expect("the workers start")
}

fn results_equal_serial_for_1000_items() {
    with_deadline(30, "map 1000", || {
        let pool = pool(2);
        let items: Vec<u64> = (0..1000).collect();
        let serial: Vec<u64> = items.iter().map(|&x| mix(x)).collect();
        let parallel: Vec<u64> = pool.map("mix", &items).unwrap();
        assert_eq!(parallel, serial);
        // One round trip per item, too: same answers, same order.
        let one_by_one: Vec<u64> = pool.map_chunked("mix", &items, 1).unwrap();
        assert_eq!(one_by_one, serial);
        let empty: Vec<u64> = pool.map("mix", &[] as &[u64]).unwrap();
        assert!(empty.is_empty());
        // Structured data goes through the pipes as well.
        let words = vec![vec!["a".to_string(), "héllo".into()], vec![]];
        let lengths: Vec<Vec<u64>> = pool.map("lengths", &words).unwrap();
        assert_eq!(lengths, vec![vec![1, 6], vec![]]);
        assert_eq!(pool.replaced(), 0);
    });
}

fn a_panicking_task_is_named_and_the_pool_still_works() {
    with_deadline(30, "panicking task", || {
        let pool = pool(2);
        let pids = pool.pids();
        let items: Vec<u64> = (0..100).collect();
        let err = pool.map::<u64, u64>("fail_on_13", &items).unwrap_err();
        let text = err.to_string();
        match &err {
            ProcessError::Panicked { task, pid, message } => {
                assert_eq!(task.function, "fail_on_13");
                assert_eq!(task.items, 13..14, "{text}");
                assert_eq!(task.argument.as_deref(), Some("13"));
                assert!(pids.contains(pid), "{text}");
                assert!(message.contains("thirteen is unlucky"), "{text}");
                assert!(
                    message.contains("tests/process.rs"),
                    "where it panicked: {text}"
                );
            }
            other => panic!("expected Panicked, got {other}"),
        }
        assert!(text.contains("`fail_on_13` on item 13: 13"), "{text}");
        // The worker caught the panic and lives on; the pool is whole and usable.
        assert_eq!(pool.pids(), pids);
        let ok: Vec<u64> = pool.map("fail_on_13", &[1u64, 2, 3]).unwrap();
        assert_eq!(ok, [1, 2, 3]);
        assert_eq!(pool.apply::<u64, u64>("mix", &5).unwrap(), mix(5));
    });
}

fn a_worker_killed_mid_task_is_reported_and_replaced() {
    with_deadline(30, "worker killed by itself", || {
        let pool = pool(1);
        let before = pool.pids();
        let err = pool.apply::<(), u64>("die", &()).unwrap_err();
        let text = err.to_string();
        match &err {
            ProcessError::WorkerDied { task, pid, status } => {
                assert_eq!(task.function, "die");
                assert_eq!(*pid, before[0]);
                assert!(
                    status.contains("SIGKILL") || status.contains("signal: 9"),
                    "{text}"
                );
            }
            other => panic!("expected WorkerDied, got {other}"),
        }
        assert!(
            text.contains("`die`") && text.contains("replaced"),
            "{text}"
        );
        assert_eq!(pool.replaced(), 1);
        assert_ne!(pool.pids(), before, "a new worker took the slot");
        let again: Vec<u64> = pool.map("mix", &[1u64, 2]).unwrap();
        assert_eq!(again, [mix(1), mix(2)]);
    });
}

fn killing_a_worker_from_outside_fails_its_task_without_a_hang() {
    with_deadline(30, "worker killed from outside", || {
        let pool = pool(2);
        let marker = std::env::temp_dir().join(format!(
            "synckit-process-test-{}-started",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&marker);
        let task = pool
            .submit::<String, u64>("block_until_killed", &marker.display().to_string())
            .unwrap();
        // Wait (bounded) until the task is running in its worker, and learn the worker.
        let pid = wait_for_marker(&marker);
        assert!(pool.pids().contains(&pid));
        #[cfg(unix)]
        // SAFETY: signals a child process of this test, by its pid.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
        let err = task.wait().unwrap_err();
        let _ = std::fs::remove_file(&marker);
        match &err {
            ProcessError::WorkerDied {
                task,
                pid: dead,
                status,
            } => {
                assert_eq!((task.function.as_str(), *dead), ("block_until_killed", pid));
                assert!(
                    status.contains("SIGKILL") || status.contains("signal: 9"),
                    "{err}"
                );
            }
            other => panic!("expected WorkerDied, got {other}"),
        }
        assert!(!pool.pids().contains(&pid), "the dead worker is gone");
        assert_eq!(pool.apply::<u64, u64>("mix", &9).unwrap(), mix(9));
    });
}

fn wait_for_marker(marker: &PathBuf) -> u32 {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(marker)
            && let Ok(pid) = text.trim().parse()
        {
            return pid;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the task never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn a_task_past_the_timeout_is_killed_and_reported() {
    with_deadline(30, "task timeout", || {
        let pool = Pool::builder()
            .workers(1)
            .task_timeout(Duration::from_millis(300))
            .build()
            .unwrap();
        let before = pool.pids();
        let err = pool.apply::<(), u64>("never_returns", &()).unwrap_err();
        match &err {
            ProcessError::Timeout { task, pid, after } => {
                assert_eq!(task.function, "never_returns");
                assert_eq!((*pid, *after), (before[0], Duration::from_millis(300)));
            }
            other => panic!("expected Timeout, got {other}"),
        }
        assert_eq!(pool.replaced(), 1);
        assert_eq!(pool.apply::<u64, u64>("mix", &1).unwrap(), mix(1));
    });
}

fn an_unregistered_name_is_a_clear_error() {
    with_deadline(30, "unregistered", || {
        let pool = pool(1);
        let err = pool.map::<u64, u64>("squar", &[1, 2]).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ProcessError::Unregistered { .. }), "{text}");
        assert!(text.contains("no function named `squar`"), "{text}");
        assert!(
            text.contains("mix") && text.contains("fail_on_13"),
            "lists the names: {text}"
        );
        assert!(
            !text.contains("synckit.echo"),
            "built-ins are not listed: {text}"
        );
        assert!(text.contains(".register(\"squar\""), "{text}");
        let err = pool.submit::<u64, u64>("nope", &1).unwrap_err();
        assert!(matches!(err, ProcessError::Unregistered { .. }));
        // A registered name called with the wrong types is caught before anything is sent.
        let err = pool.apply::<u32, u64>("mix", &1).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ProcessError::Signature { .. }), "{text}");
        assert!(
            text.contains("fn(u64) -> u64") && text.contains("fn(u32) -> u64"),
            "{text}"
        );
        assert_eq!(pool.replaced(), 0);
    });
}

fn a_program_without_the_hook_is_explained() {
    with_deadline(30, "missing hook", || {
        let me = std::env::current_exe().unwrap();
        let err = Pool::builder()
            .workers(1)
            .program(&me, &["--pretend-no-hook"])
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, ProcessError::MissingHook { .. }), "{text}");
        assert!(text.contains("instead of the worker greeting"), "{text}");
        assert!(
            text.contains("synckit::process::hook(registry);"),
            "the one line: {text}"
        );
        let err = Pool::builder()
            .workers(1)
            .program(&me, &["--pretend-silent"])
            .build()
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("wrote nothing") && text.contains("exit status: 3"),
            "{text}"
        );
        let err = Pool::builder()
            .workers(1)
            .program("/nonexistent/synckit-worker", &[])
            .build()
            .unwrap_err();
        assert!(matches!(err, ProcessError::Spawn { .. }), "{err}");
    });
}

fn workers_do_not_share_memory_with_the_parent() {
    with_deadline(30, "isolation", || {
        let pool = pool(1);
        let counts: Vec<u64> = (0..3).map(|_| pool.apply("bump", &()).unwrap()).collect();
        assert_eq!(counts, [1, 2, 3], "the worker's own counter");
        assert_eq!(
            BUMPS.load(Ordering::SeqCst),
            0,
            "the parent's copy is untouched"
        );
    });
}

fn printing_in_a_task_does_not_corrupt_the_pipe() {
    with_deadline(30, "noisy task", || {
        let pool = pool(1);
        let lens: Vec<u64> = pool
            .map("noisy", &["abc".to_string(), "de".into()])
            .unwrap();
        assert_eq!(lens, [3, 2]);
    });
}

fn one_pool_serves_several_threads() {
    with_deadline(30, "shared pool", || {
        let pool = pool(2);
        std::thread::scope(|s| {
            for t in 0..4u64 {
                let pool = &pool;
                s.spawn(move || {
                    let items: Vec<u64> = (t * 100..t * 100 + 50).collect();
                    let got: Vec<u64> = pool.map("mix", &items).unwrap();
                    assert_eq!(got, items.iter().map(|&x| mix(x)).collect::<Vec<_>>());
                });
            }
        });
    });
}

fn dropping_a_pool_answers_every_task() {
    with_deadline(30, "drop", || {
        let pool = pool(1);
        let tasks: Vec<_> = (0..20u64)
            .map(|x| pool.submit::<u64, u64>("mix", &x).unwrap())
            .collect();
        drop(pool);
        for (x, task) in tasks.into_iter().enumerate() {
            match task.wait() {
                Ok(v) => assert_eq!(v, mix(x as u64)),
                Err(ProcessError::Closed) => {}
                Err(other) => panic!("unexpected {other}"),
            }
        }
    });
}

fn dropping_a_pool_does_not_wait_for_a_runaway_task() {
    with_deadline(30, "drop with a runaway task", || {
        let pool = Pool::builder()
            .workers(1)
            .task_timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        let runaway = pool.submit::<(), u64>("never_returns", &()).unwrap();
        let queued = pool.submit::<u64, u64>("mix", &1).unwrap();
        drop(pool); // kills the busy worker instead of waiting ten minutes
        assert!(matches!(runaway.wait(), Err(ProcessError::Closed)));
        assert!(matches!(queued.wait(), Err(ProcessError::Closed)));
    });
}

/// `(name, function)` for each test function named.
macro_rules! tests {
    ($($f:ident),* $(,)?) => {
        vec![$((stringify!($f), $f as fn())),*]
    };
}

fn main() -> ExitCode {
    // Stand-ins for programs that forgot the hook (started by `a_program_without_the_hook`).
    if std::env::args().any(|a| a == "--pretend-no-hook") {
        println!("hello from a program without the hook");
        return ExitCode::SUCCESS;
    }
    if std::env::args().any(|a| a == "--pretend-silent") {
        return ExitCode::from(3);
    }
    synckit::process::hook(registry);

    let args = Arguments::from_args();
    let tests: Vec<(&str, fn())> = tests![
        results_equal_serial_for_1000_items,
        a_panicking_task_is_named_and_the_pool_still_works,
        a_worker_killed_mid_task_is_reported_and_replaced,
        killing_a_worker_from_outside_fails_its_task_without_a_hang,
        a_task_past_the_timeout_is_killed_and_reported,
        an_unregistered_name_is_a_clear_error,
        a_program_without_the_hook_is_explained,
        workers_do_not_share_memory_with_the_parent,
        printing_in_a_task_does_not_corrupt_the_pipe,
        one_pool_serves_several_threads,
        dropping_a_pool_answers_every_task,
        dropping_a_pool_does_not_wait_for_a_runaway_task,
    ];
    let trials = tests
        .into_iter()
        .map(|(name, f)| {
            Trial::test(name, move || {
                std::panic::catch_unwind(f).map_err(|p| Failed::from(common::panic_text(&*p)))
            })
        })
        .collect();
    libtest_mimic::run(&args, trials).exit_code()
}
