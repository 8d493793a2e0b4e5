// Checks of exercise 11 (lost wake-ups). Included by tests/exercises.rs once per module under
// test, which it names `ex`.
//
// The stub's failure is certain, not likely: the lost wake-up needs one interleaving among
// many, and `synckit::testing::explore` runs every schedule within a preemption bound of 2,
// one thread at a time, in the same order on every run. No sleeps, no luck.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use synckit::testing::{self, Config, Run};

use crate::schedules::*;
use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "no_schedule_loses_the_wake_up",
            run: no_schedule_loses_the_wake_up,
            stub: StubExpect::Fails {
                why: &[Why::LostWakeUp],
                detail: Some(|f| {
                    let report = f
                        .report
                        .as_ref()
                        .map(|r| clean_paths(&r.to_string()))
                        .unwrap_or_default();
                    let all = format!("{}\n{report}", f.notes.join("\n"));
                    for needed in [
                        "bounded-exhaustive search",
                        "one column per thread",
                        "Condition `opened`",
                        "exercises/exercise_11.rs",
                        "replay it",
                    ] {
                        if !all.contains(needed) {
                            return Err(format!("the explorer's account does not show `{needed}`"));
                        }
                    }
                    Ok(())
                }),
            },
        },
        Check {
            name: "a_late_arrival_walks_through",
            run: a_late_arrival_walks_through,
            stub: StubExpect::Passes,
        },
    ]
}

/// `worker` waits at the gate; `loader` (loading the configuration, say) opens it; `main`
/// starts both and joins them. A worker that gets through before `open()` has begun went
/// through a closed gate.
fn a_worker_and_a_loader(run: &Run) {
    let gate = Arc::new(ex::Gate::new());
    // Not a synckit operation, so it adds no schedules: set just before `open()` begins.
    let opening = Arc::new(AtomicBool::new(false));
    let worker = {
        let (gate, opening) = (gate.clone(), opening.clone());
        run.spawn("worker", move || {
            gate.wait();
            assert!(
                opening.load(Ordering::SeqCst),
                "the worker went through the gate before anyone opened it"
            );
        })
    };
    let loader = {
        let gate = gate.clone();
        run.spawn("loader", move || {
            opening.store(true, Ordering::SeqCst);
            gate.open();
        })
    };
    // A thread's panic has already failed the schedule: nothing to add here.
    let _ = worker.join();
    let _ = loader.join();
}

fn no_schedule_loses_the_wake_up() -> Verdict {
    let expected = "a worker waits at a closed gate while a loader opens it: under every \
                    schedule (every interleaving with at most 2 preemptions) the worker gets \
                    through, and not before the gate opens";
    explored(
        expected,
        || testing::explore(course_config(Config::exhaustive(2)), a_worker_and_a_loader),
        |failure, mut f| {
            if asleep_on(failure, Some("worker"), "opened") {
                f.why = Why::LostWakeUp;
                f.happened = "a lost wake-up. Under the schedule below, the loader opened the \
                              gate while the worker was not yet waiting on `opened`, so its \
                              notify_all woke nobody. The worker went to sleep after that, on an \
                              old look at the gate (or none), and no one will ever notify \
                              `opened` again"
                    .to_string();
            }
            f
        },
    )
}

fn a_late_arrival_walks_through() -> Verdict {
    let expected = "once the gate is open, wait() returns at once, on the thread that opened it \
                    and on a thread that comes later";
    run(expected, || {
        let gate = Arc::new(ex::Gate::new());
        gate.open();
        gate.wait();
        let late = {
            let gate = gate.clone();
            synckit::thread::spawn_named("late-worker", move || gate.wait())
        };
        join(late);
        gate.is_open()
    })
    .and_then(|open| {
        if open {
            Ok(())
        } else {
            Err(Failure::new(
                Why::WrongAnswer,
                expected,
                "is_open() says the gate is closed after open()",
            ))
        }
    })
}
