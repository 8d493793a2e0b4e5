// Checks of exercise 10 (processes). Included by tests/exercises.rs once per module under
// test, which it names `ex`. The module's worker function is registered by its own
// `register`, which tests/exercises.rs's `main` hands to `synckit::process::hook`.
//
// The stub's failure is certain: no thread of this process ever writes this process's
// `TOTAL` (the workers write their own copies), so it returns 0 on every run.

use synckit::process::ProcessError;

use crate::support::*;
use crate::workers;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "the_worker_sends_its_answer_back",
            run: the_worker_sends_its_answer_back,
            stub: StubExpect::Fails {
                why: &[Why::IsolatedMemory],
                detail: None,
            },
        },
        Check {
            name: "processes_match_the_serial_total",
            run: processes_match_the_serial_total,
            stub: StubExpect::Fails {
                why: &[Why::IsolatedMemory],
                detail: Some(|f| {
                    if f.happened.contains("returned 0") {
                        Ok(())
                    } else {
                        Err("it does not say that the parent's total stayed 0".into())
                    }
                }),
            },
        },
    ]
}

/// A failure for a pool error: its own text explains it (a name not registered says which
/// line to add, a panic says where).
fn pool_failed(expected: &str, e: ProcessError) -> Failure {
    let unregistered = matches!(e, ProcessError::Unregistered { .. });
    let f = Failure::new(
        Why::ProcessFailed,
        expected,
        format!("the worker processes answered with an error: {e}"),
    );
    if unregistered {
        f.note(format!(
            "the course's workers get their functions from `register` in exercises/exercise_10.rs: \
             register the worker function there, under `CHUNK_STEPS` (\"{}\")",
            ex::CHUNK_STEPS
        ))
    } else {
        f
    }
}

/// What crosses a process boundary, and what does not.
const ISOLATION: &str = "a worker process is a copy of this program with memory of its own, \
    statics included: what it writes there stays there. A Lock makes the threads of one \
    process take turns at one piece of memory; processes have no memory in common, so there is \
    nothing for a Lock to guard between them. Only bytes cross, through the pipes: arguments \
    in, results out";

fn the_worker_sends_its_answer_back() -> Verdict {
    let chunk: Vec<u64> = (1..=ex::CHUNK as u64).collect();
    let want = ex::total_steps(&chunk);
    let expected = format!(
        "`{}` run by a worker process on the chunk 1..={} sends back that chunk's total Collatz \
         steps, {want}, as its result",
        ex::CHUNK_STEPS,
        ex::CHUNK
    );
    let got = run(&expected, move || -> Result<u64, ProcessError> {
        let pool = workers::pool()?;
        pool.apply::<Vec<u64>, u64>(ex::CHUNK_STEPS, &chunk)
    })?
    .map_err(|e| pool_failed(&expected, e))?;
    if got == want {
        return Ok(());
    }
    if got == ex::CHUNK as u64 {
        return Err(Failure::new(
            Why::IsolatedMemory,
            &expected,
            format!(
                "the worker sent back {got}, the number of numbers it counted: the steps themselves \
                 stayed behind, in the worker's memory"
            ),
        )
        .note(ISOLATION));
    }
    Err(Failure::new(
        Why::WrongAnswer,
        &expected,
        format!("the worker sent back {got}"),
    ))
}

fn processes_match_the_serial_total() -> Verdict {
    let numbers: Vec<u64> = (1..=20_000).collect();
    let want = ex::total_steps(&numbers);
    let chunks = numbers.len().div_ceil(ex::CHUNK);
    let expected = format!(
        "the total Collatz steps of 1..=20000, computed by 2 worker processes in {chunks} chunks, \
         equals the serial total, {want}"
    );
    let got = run(&expected, move || -> Result<u64, ProcessError> {
        let pool = workers::pool()?;
        ex::total_steps_in_processes(&pool, &numbers)
    })?
    .map_err(|e| pool_failed(&expected, e))?;
    if got == want {
        return Ok(());
    }
    if got == 0 {
        return Err(Failure::new(
            Why::IsolatedMemory,
            &expected,
            format!(
                "it returned 0, though the pool ran all {chunks} chunks without an error. Each worker \
                 added its chunks' steps into TOTAL, but into its own copy of TOTAL, in its own \
                 memory: no worker can write this process's TOTAL, so it still reads 0"
            ),
        )
        .note(ISOLATION));
    }
    Err(Failure::new(
        Why::WrongAnswer,
        &expected,
        format!(
            "it returned {got} ({} the serial total)",
            if got < want { "less than" } else { "more than" }
        ),
    ))
}
