// Checks of exercise 5 (Semaphore). Included by tests/exercises.rs once per module under test,
// which it names `ex`.

use std::sync::Arc;

use synckit::thread::spawn_named;
use synckit::{Condition, Lock};

use crate::support::*;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "pool_of_3_for_10_workers",
            run: pool_of_3_for_10_workers,
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
    ]
}

const POOL: usize = 3;
const WORKERS: usize = 10;

/// The check's database: counts connections, and holds each connected worker until the
/// overlap is decided (see the exercise's header).
struct Database {
    state: Lock<DbState>,
    changed: Condition,
}

#[derive(Default)]
struct DbState {
    connected: usize,
    most: usize,
    finished: usize,
}

impl Database {
    fn query(&self, pool: &ex::Pool, job: usize) -> usize {
        let mut st = self.state.acquire();
        st.connected += 1;
        st.most = st.most.max(st.connected);
        self.changed.notify_all();
        // Stay connected until a 4th worker connects (over-subscribed), or no other worker
        // can connect now: every permit is taken, or everyone still to finish is here.
        while !(st.connected > POOL
            || (st.connected == POOL && pool.free() == 0)
            || st.connected == WORKERS - st.finished)
        {
            self.changed.wait(&mut st);
        }
        st.connected -= 1;
        st.finished += 1;
        self.changed.notify_all();
        job * job
    }
}

fn pool_of_3_for_10_workers() -> Verdict {
    let expected =
        "ten workers share a pool of 3: never more than 3 connected at once, and all ten jobs done";
    let (most, results) = run(expected, || {
        let pool = Arc::new(ex::Pool::new(POOL));
        let db = Arc::new(Database {
            state: Lock::new(DbState::default()).named("course:database"),
            changed: Condition::new().named("course:database-changed"),
        });
        let workers: Vec<_> = (0..WORKERS)
            .map(|job| {
                let (pool, db) = (pool.clone(), db.clone());
                spawn_named(&format!("worker-{job}"), move || {
                    pool.with_connection(|| db.query(&pool, job))
                })
            })
            .collect();
        let results: Vec<usize> = workers.into_iter().map(join).collect();
        let most = db.state.acquire().most;
        (most, results)
    })?;
    let want: Vec<usize> = (0..WORKERS).map(|j| j * j).collect();
    if most > POOL {
        return Err(Failure::new(
            Why::Oversubscribed,
            expected,
            format!("{most} workers were connected at the same time through a pool of {POOL}"),
        )
        .note("a worker's permit went back before its job ran: is the permit guard kept alive until the job returns?"));
    }
    if results != want {
        return Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the jobs returned {results:?}"),
        ));
    }
    Ok(())
}

fn double_check_in_is_caught() -> Verdict {
    let expected = "with a pool of 2: check_out, check_in (Ok), and a second check_in is refused with \
                    UsageError::OverRelease, leaving 2 free connections";
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
            format!("the second check_in was accepted, and the pool of 2 now has {free} free connections"),
        )
        .note("a plain Semaphore grows on every release(); a BoundedSemaphore refuses to go above its initial value")),
        _ => Err(Failure::new(
            Why::WrongAnswer,
            expected,
            format!("the check-ins returned {first:?} and {second:?}, and {free} connections are free"),
        )),
    }
}
