//! The simulated GIL (`synckit::gil`): every assertion is on the trace a run returns (who held
//! the GIL when), never on wall-clock speed. Speedups live in `benches/gil.rs` and in
//! `cargo run -- gil`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::with_deadline;
use std::sync::{Mutex, MutexGuard};
use synckit::gil::{GilTrace, Interpreter, Release, State, units_for};
use synckit::{Barrier, Lock, Outcome};

/// The CPU-heavy runs take turns: on a 2-core machine, three of them spinning at once would
/// measure the OS scheduler rather than the switch interval.
fn one_at_a_time() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `n` CPU-bound threads that compute until every one of them has been forced off the
/// GIL `times` times: the amount of work adapts to the machine's load, so the assertions on
/// the trace do not depend on how fast this machine is today.
fn until_each_preempted(interp: Interpreter, n: usize, times: u64) -> GilTrace {
    let satisfied = AtomicUsize::new(0);
    interp.run_threads(n, |py| {
        let mut counted = false;
        while satisfied.load(Ordering::SeqCst) < n {
            py.compute(50);
            if !counted && py.forced_switches() >= times {
                counted = true;
                satisfied.fetch_add(1, Ordering::SeqCst);
            }
        }
    })
}

/// Checks the GIL's invariant on a trace with a sweep of its own (not the library's): at
/// no instant do two threads hold the GIL.
fn assert_one_holder_at_a_time(trace: &GilTrace) {
    let mut holds: Vec<_> = trace
        .spans()
        .iter()
        .filter(|s| s.state == State::Holding)
        .collect();
    assert!(!holds.is_empty(), "the run held the GIL at some point");
    holds.sort_by_key(|s| (s.start, s.end));
    for pair in holds.windows(2) {
        assert!(
            pair[0].end <= pair[1].start,
            "two holders at once: {:?} and {:?}\n{trace}",
            pair[0],
            pair[1]
        );
    }
    assert_eq!(trace.max_concurrent_holders(), 1, "{trace}");
}

/// Each thread's spans tile its life: no gaps, no overlaps, holding spans are exactly the
/// ones with a release reason.
fn assert_spans_tile(trace: &GilTrace) {
    for t in 0..trace.threads() {
        let spans: Vec<_> = trace.spans().iter().filter(|s| s.thread == t).collect();
        assert!(!spans.is_empty(), "thread {t} has spans");
        for pair in spans.windows(2) {
            assert_eq!(
                pair[0].end, pair[1].start,
                "thread {t}: a gap or an overlap"
            );
        }
        for s in &spans {
            assert_eq!(s.released.is_some(), s.state == State::Holding, "{s:?}");
        }
        let last = spans.last().unwrap();
        assert_eq!(
            (last.state, last.released),
            (State::Holding, Some(Release::Voluntary)),
            "a thread ends by releasing the GIL"
        );
    }
}

#[test]
fn cpu_bound_threads_never_hold_the_gil_together() {
    let _turn = one_at_a_time();
    let trace = with_deadline(30, "cpu-bound threads", || {
        let units = units_for(Duration::from_millis(40));
        Interpreter::new()
            .with_switch_interval(Duration::from_millis(1))
            .run_threads(4, move |py| {
                py.compute(units);
            })
    });
    assert_one_holder_at_a_time(&trace);
    assert_spans_tile(&trace);
    assert!(
        trace.parallelism() <= 1.0 + 1e-9,
        "CPU-bound work under one GIL cannot exceed 1.0: {trace}"
    );
    assert_eq!(trace.io_time(), Duration::ZERO);
}

#[test]
fn mixed_threads_never_hold_the_gil_together() {
    let _turn = one_at_a_time();
    let trace = with_deadline(30, "mixed threads", || {
        let units = units_for(Duration::from_millis(2));
        Interpreter::new()
            .with_switch_interval(Duration::from_millis(1))
            .run_threads(6, move |py| {
                for round in 0..10 {
                    py.compute(units);
                    if (py.index() + round) % 2 == 0 {
                        py.io(Duration::from_micros(300));
                    } else {
                        py.blocking(std::thread::yield_now);
                    }
                }
            })
    });
    assert_one_holder_at_a_time(&trace);
    assert_spans_tile(&trace);
    assert_eq!(trace.threads(), 6);
    // 10 blocking calls per thread and one release at the end.
    assert_eq!(trace.voluntary_releases(), 6 * 11, "{trace}");
}

#[test]
fn forced_switches_honour_the_switch_interval() {
    let _turn = one_at_a_time();
    let interval = Duration::from_millis(2);
    let trace = with_deadline(30, "switch interval", move || {
        until_each_preempted(Interpreter::new().with_switch_interval(interval), 3, 4)
    });
    assert_one_holder_at_a_time(&trace);
    let forced = trace.forced_holds();
    assert_eq!(forced.len() as u64, trace.forced_switches());
    assert!(trace.forced_switches() >= 3 * 4, "{trace}");
    assert!(trace.drop_requests() >= 1, "{trace}");
    assert!(
        trace.handovers() >= trace.forced_switches() / 2,
        "a forced switch hands the GIL to another thread: {trace}"
    );
    // A drop request is set only after a waiter saw a whole interval with no switch, so a
    // hold that ends by force lasted at least one interval (less a little clock slop) ...
    let floor = interval.mul_f64(0.9);
    for span in &forced {
        assert!(
            span.len() >= floor,
            "a forced switch before the interval: {span:?}\n{trace}"
        );
    }
    // How much longer than the interval a forced hold lasts depends on the OS scheduler:
    // that is shown by `cargo run -- gil` and measured in benches/gil.rs, never asserted.
}

#[test]
fn the_default_interval_is_five_ms_and_respected() {
    let _turn = one_at_a_time();
    let py = Interpreter::new();
    assert_eq!(py.switch_interval(), Duration::from_millis(5));
    let trace = with_deadline(30, "default interval", move || {
        until_each_preempted(py, 2, 2)
    });
    assert_one_holder_at_a_time(&trace);
    assert!(trace.forced_switches() >= 4, "{trace}");
    for span in trace.forced_holds() {
        assert!(
            span.len() >= Duration::from_micros(4500),
            "{span:?}\n{trace}"
        );
    }
}

#[test]
fn a_lone_thread_is_never_forced_to_switch() {
    let _turn = one_at_a_time();
    let trace = with_deadline(30, "lone thread", || {
        let units = units_for(Duration::from_millis(20));
        Interpreter::new()
            .with_switch_interval(Duration::from_millis(1))
            .run_threads(1, move |py| {
                py.compute(units);
            })
    });
    assert_eq!(
        (
            trace.forced_switches(),
            trace.drop_requests(),
            trace.handovers()
        ),
        (0, 0, 0),
        "{trace}"
    );
    assert_eq!(trace.voluntary_releases(), 1);
}

#[test]
fn io_sections_overlap() {
    // Every thread meets the others at a barrier *inside* its blocking section: the barrier
    // can only open if all four are outside the GIL at once. No timing involved.
    let trace = with_deadline(30, "io overlap", || {
        let meet = Arc::new(Barrier::new(4).named("all-in-io"));
        Interpreter::new().run_threads(4, move |py| {
            py.compute(100);
            let meet = meet.clone();
            let _ = py.blocking(move || meet.wait());
            py.compute(100);
        })
    });
    assert_eq!(trace.max_concurrent_io(), 4, "{trace}");
    assert_one_holder_at_a_time(&trace);
}

#[test]
fn timed_io_overlaps_too() {
    let trace = with_deadline(30, "timed io", || {
        Interpreter::new().run_threads(4, |py| {
            for _ in 0..3 {
                py.io(Duration::from_millis(30));
            }
        })
    });
    assert!(trace.max_concurrent_io() >= 2, "{trace}");
    assert_eq!(
        trace.forced_switches(),
        0,
        "I/O-bound threads release the GIL themselves"
    );
    assert_eq!(trace.voluntary_releases(), 4 * 4);
}

#[test]
fn the_lanes_draw_each_state_and_the_summary_counts() {
    let _turn = one_at_a_time();
    let trace = with_deadline(30, "lanes", || {
        let units = units_for(Duration::from_millis(10));
        Interpreter::new()
            .with_switch_interval(Duration::from_millis(1))
            .run_threads(2, move |py| {
                py.compute(units);
                py.io(Duration::from_millis(10));
            })
    });
    let lanes = trace.lanes(50);
    let rows: Vec<&str> = lanes.lines().collect();
    assert_eq!(rows.len(), 3, "{lanes}");
    assert!(rows[0].contains("0 ms"));
    for (t, row) in rows[1..].iter().enumerate() {
        assert!(row.contains(&format!("py-{t}")), "{lanes}");
        assert_eq!(
            row.split('│').nth(1).unwrap().chars().count(),
            50,
            "{lanes}"
        );
    }
    assert!(lanes.contains('█') && lanes.contains('~'), "{lanes}");
    let text = trace.to_string();
    assert!(
        text.contains("parallelism") && text.contains("forced switches"),
        "{text}"
    );
}

#[test]
fn a_panicking_thread_releases_the_gil_and_the_panic_is_raised() {
    let message = with_deadline(30, "panic in work", || {
        let caught = std::panic::catch_unwind(|| {
            Interpreter::new().run_threads(3, |py| {
                py.compute(1000);
                if py.index() == 1 {
                    panic!("boom in py-1");
                }
                py.compute(1000);
            })
        });
        common::panic_text(&*caught.unwrap_err())
    });
    assert!(message.contains("boom in py-1"), "{message}");
}

#[test]
fn the_gil_is_visible_to_the_detector() {
    // py-0 takes `ledger` with the GIL released, then wants the GIL back; py-1 holds the GIL
    // and wants `ledger` without releasing it (C code that forgot Py_BEGIN_ALLOW_THREADS).
    // py-0's request is ignored for a whole interval, so it waits untimed, closing the cycle.
    let outcome = with_deadline(30, "gil deadlock", || {
        synckit::check(|| {
            let ledger = Lock::new(0u64).named("ledger");
            let go = synckit::Event::new().named("go");
            let interp = Interpreter::new();
            interp.run_threads(2, |py| {
                if py.index() == 0 {
                    let guard = py.blocking(|| {
                        let guard = ledger.acquire();
                        go.set();
                        while !interp.gil_held() {
                            std::thread::yield_now();
                        }
                        guard
                    });
                    drop(guard);
                } else {
                    py.blocking(|| go.wait());
                    *ledger.acquire() += 1;
                }
            });
        })
    });
    let Outcome::Deadlock(report) = &outcome else {
        panic!("expected a deadlock through the GIL, got {outcome}");
    };
    let text = report.to_string();
    assert!(
        text.contains("`GIL`") && text.contains("`ledger`"),
        "{text}"
    );
    assert!(text.contains("py-0") && text.contains("py-1"), "{text}");
    assert!(text.contains("tests/gil.rs"), "the learner's lines: {text}");
}
