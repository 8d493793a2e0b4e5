// Checks of exercise 5 (Semaphore). Included by tests/exercises.rs once per module under test,
// which it names `ex`.
//
// The workers run under `synckit::testing::explore`: each job pauses at a yield point, and
// the explorer tries every schedule with at most 2 preemptions, so a pool that lets too many
// in fails every run, and a correct one passes every run.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use synckit::testing::{self, Config};
use synckit::thread::yield_point;

use crate::schedules::*;
use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "pool_of_2_for_3_workers",
            run: pool_of_2_for_3_workers,
            stub: StubExpect::Fails {
                why: &[Why::Oversubscribed],
                detail: None,
            },
        },
        Check {
            name: "double_check_in_is_caught",
            run: double_check_in_is_caught,
            stub: StubExpect::Fails {
                why: &[Why::OverReleaseMissed],
                detail: None,
            },
        },
        Check {
            name: "two_check_ins_at_once",
            run: two_check_ins_at_once,
            stub: StubExpect::Fails {
                why: &[Why::OverReleaseMissed],
                detail: None,
            },
        },
    ]
}

const POOL: usize = 2;
const WORKERS: usize = 3;

fn pool_of_2_for_3_workers() -> Verdict {
    let expected = "three workers share a pool of 2: never more than 2 connected at once, and \
                    all three jobs done, under every schedule that deviates at most twice from the default";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::delay_bounded(2)), |run| {
                let pool = Arc::new(ex::Pool::new(POOL));
                let connected = Arc::new(AtomicUsize::new(0));
                let workers: Vec<_> = (0..WORKERS)
                    .map(|job| {
                        let (pool, connected) = (pool.clone(), connected.clone());
                        run.spawn(&format!("worker-{job}"), move || {
                            pool.with_connection(|| {
                                let now = connected.fetch_add(1, Ordering::SeqCst) + 1;
                                if now > POOL {
                                    broken(
                                        Why::Oversubscribed,
                                        format!(
                                            "{now} workers were connected at the same time \
                                             through a pool of {POOL}: a worker's permit went \
                                             back before its job ran (or it never took one). \
                                             Is the permit guard kept alive until the job \
                                             returns?"
                                        ),
                                    );
                                }
                                yield_point(); // the query runs: another worker may go now
                                connected.fetch_sub(1, Ordering::SeqCst);
                                job * job
                            })
                        })
                    })
                    .collect();
                let results: Vec<usize> = workers.into_iter().map(join).collect();
                if results != [0, 1, 4] {
                    broken(
                        Why::WrongAnswer,
                        format!("the jobs returned {results:?}"),
                    );
                }
            })
        },
        |_, f| f,
    )
}

fn double_check_in_is_caught() -> Verdict {
    let expected = "with a pool of 2: check_out, check_in (Ok), and a second check_in is refused \
                    with UsageError::OverRelease, leaving 2 free connections";
    let (first, second, free) = run(expected, || {
        let pool = ex::Pool::new(2);
        pool.check_out();
        let first = pool.check_in();
        let second = pool.check_in();
        (first, second, pool.free())
    })?;
    match (&first, &second) {
        (Ok(()), Err(synckit::UsageError::OverRelease { .. })) if free == 2 => Ok(()),
        (Ok(()), Ok(())) => Err(Failure::new(
            Why::OverReleaseMissed,
            expected,
            format!(
                "the second check_in was accepted, and the pool of 2 now has {free} free connections"
            ),
        )
        .note(
            "a plain Semaphore grows on every release(); a BoundedSemaphore refuses to go above \
             its initial value",
        )),
        _ => Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!(
                "the check-ins returned {first:?} and {second:?}, and {free} connections are free"
            ),
        )),
    }
}

fn two_check_ins_at_once() -> Verdict {
    let expected = "with a pool of 2 and one connection checked out, two threads check in at the \
                    same time: one is accepted, the other refused with UsageError::OverRelease, \
                    and 2 connections are free, under every schedule with at most 2 preemptions";
    explored(
        expected,
        || {
            testing::explore(course_config(Config::exhaustive(2)), |run| {
                let pool = Arc::new(ex::Pool::new(2));
                pool.check_out();
                let clerks: Vec<_> = (1..=2)
                    .map(|i| {
                        let pool = pool.clone();
                        run.spawn(&format!("clerk-{i}"), move || pool.check_in().is_ok())
                    })
                    .collect();
                let accepted = clerks.into_iter().map(join).filter(|&ok| ok).count();
                let free = pool.free();
                match (accepted, free) {
                    (1, 2) => {}
                    (2, _) => broken(
                        Why::OverReleaseMissed,
                        format!(
                            "both check-ins were accepted, and the pool of 2 now has {free} free \
                             connections. Looking at free() before releasing does not help: both \
                             clerks can look before either releases. A BoundedSemaphore refuses \
                             the release itself, in one step"
                        ),
                    ),
                    _ => broken(
                        Why::WrongAnswer,
                        format!(
                            "{accepted} check-in(s) were accepted and {free} connections are free"
                        ),
                    ),
                }
            })
        },
        |_, f| f,
    )
}
