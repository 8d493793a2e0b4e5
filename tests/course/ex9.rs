// Checks of exercise 9 (the GIL: threads or processes). Included by tests/exercises.rs once
// per module under test, which it names `ex`.
//
// Every target is read on the GIL's trace (who held the GIL when), never on a stopwatch:
// parallelism = time the threads spent holding the GIL or outside it, over the wall time.
// Holding spans never overlap on a trace, so threads that only compute stay at or below
// 1.0 on any machine at any load: the stub's failure is certain, not likely.

use std::time::Duration;

use synckit::gil::{GilTrace, Interpreter, State};
use synckit::process::ProcessError;

use crate::support::*;
use crate::workers::{CourseWorkers, Kind, crunch_units};

impl ex::Workers for CourseWorkers {
    fn run(&self, job: &ex::Job) {
        match *job {
            ex::Job::Crunch { units } => self.run_in_worker(Kind::Crunch, units),
            ex::Job::Fetch { wait } => self.run_in_worker(Kind::Fetch, wait.as_nanos() as u64),
        }
    }
}

/// The crunch jobs' target: under one GIL, computing threads cannot pass 1.0.
const CRUNCH_TARGET: f64 = 1.5;
/// The fetch jobs' target, for 4 of them.
const FETCH_TARGET: f64 = 2.5;
/// One fetch job's wait.
const FETCH_WAIT: Duration = Duration::from_millis(100);
/// Jobs of each kind in a batch.
const JOBS: usize = 4;

/// The checks of this exercise, and what the stub must do under each.
pub fn checks() -> Vec<Check> {
    vec![
        Check {
            name: "crunching_beats_the_gil",
            run: crunching_beats_the_gil,
            stub: StubExpect::Fails {
                why: &[Why::GilBound],
                detail: Some(took_turns),
            },
        },
        Check {
            name: "fetching_overlaps_on_threads",
            run: fetching_overlaps_on_threads,
            stub: StubExpect::Passes,
        },
        Check {
            name: "a_crawler_fetches_and_crunches",
            run: a_crawler_fetches_and_crunches,
            stub: StubExpect::Fails {
                why: &[Why::GilBound],
                detail: Some(took_turns),
            },
        },
    ]
}

/// The stub's failure must be the GIL's: its crunching threads took turns.
fn took_turns(f: &Failure) -> Result<(), String> {
    if f.happened.contains("took turns holding the GIL") {
        Ok(())
    } else {
        Err("it does not say that the crunching threads took turns holding the GIL".into())
    }
}

/// What a batch did: the trace, and the jobs of each kind that ran in worker processes
/// (jobs, distinct processes).
struct Batch {
    trace: GilTrace,
    crunch: (usize, usize),
    fetch: (usize, usize),
}

/// Runs `jobs`, one interpreter thread each (`py-0`, `py-1`, ...), with the course's pool.
fn batch(expected: &str, jobs: Vec<ex::Job>) -> Result<Batch, Failure> {
    let outcome = run(expected, move || -> Result<Batch, ProcessError> {
        let workers = CourseWorkers::start()?;
        let trace = Interpreter::new().run_threads(jobs.len(), |py| {
            let job = jobs[py.index()];
            ex::run_job(py, &workers, &job);
        });
        Ok(Batch {
            trace,
            crunch: workers.ran(Kind::Crunch),
            fetch: workers.ran(Kind::Fetch),
        })
    })?;
    outcome.map_err(|e| {
        Failure::new(
            Why::ProcessFailed,
            expected,
            format!("the course's worker processes could not run: {e}"),
        )
    })
}

/// Parallelism of the threads `which` (by index) on the trace: their time holding the GIL or
/// outside it, over the time from the start of the run to the end of their last span. For
/// all threads it is `GilTrace::parallelism`.
fn parallelism_of(trace: &GilTrace, which: impl Fn(usize) -> bool) -> f64 {
    let spans: Vec<_> = trace.spans().iter().filter(|s| which(s.thread)).collect();
    let progress: Duration = spans
        .iter()
        .filter(|s| s.state != State::Waiting)
        .map(|s| s.len())
        .sum();
    let wall = spans.iter().map(|s| s.end).max().unwrap_or_default();
    progress.as_secs_f64() / wall.as_secs_f64().max(1e-9)
}

/// Time the threads `which` spent in `state`.
fn state_of(trace: &GilTrace, which: impl Fn(usize) -> bool, state: State) -> Duration {
    trace
        .spans()
        .iter()
        .filter(|s| which(s.thread) && s.state == state)
        .map(|s| s.len())
        .sum()
}

/// Time the threads `which` spent outside the GIL (`~` on the lanes).
fn outside_of(trace: &GilTrace, which: impl Fn(usize) -> bool) -> Duration {
    state_of(trace, which, State::Io)
}

/// The picture, for a failure's notes.
fn picture(trace: &GilTrace) -> String {
    format!(
        "the trace (█ holds the GIL, · waits for it, ~ outside it):\n{}",
        trace.lanes(64).trim_end()
    )
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Judges the crunch jobs of a batch (threads `which`, `p` their parallelism).
fn judge_crunch(
    expected: &str,
    b: &Batch,
    which: impl Fn(usize) -> bool + Copy,
    threads: &str,
) -> Verdict {
    let p = parallelism_of(&b.trace, which);
    let (in_workers, processes) = b.crunch;
    if p >= CRUNCH_TARGET && in_workers >= JOBS {
        return Ok(());
    }
    if p >= CRUNCH_TARGET {
        let here = JOBS - in_workers;
        // Computed here holding the GIL (the other threads' waits for their workers lifted the
        // average), or here with the GIL released?
        let held = state_of(&b.trace, which, State::Holding);
        if held >= b.trace.wall() / 4 {
            return Err(Failure::new(
                Why::WrongPlace,
                expected,
                format!(
                    "the parallelism of {threads} is {p:.2}, but only {in_workers} of the {JOBS} crunch \
                     jobs ran in worker processes: the other {here} computed here, taking turns \
                     holding the GIL ({} held in all)",
                    ms(held)
                ),
            )
            .note(
                "the threads waiting for their workers lift the average; the ones computing here \
                 still queue for one GIL. Send every crunch job to a worker",
            )
            .note(picture(&b.trace)));
        }
        return Err(Failure::new(
            Why::WrongPlace,
            expected,
            format!(
                "the parallelism of {threads} is {p:.2}, but {here} of the {JOBS} crunch jobs never \
                 reached a worker process: they computed in this process with the GIL released"
            ),
        )
        .note(
            "computing outside the GIL is what a C extension does for its native loops (numpy \
             releases the GIL); a crunch job is Python code, which needs the GIL to run at all. \
             A worker process has an interpreter, and a GIL, of its own: send it there",
        ));
    }
    let outside = outside_of(&b.trace, which);
    let happened = if in_workers == 0 {
        format!(
            "the parallelism of {threads} is {p:.2}: the {JOBS} crunching threads took turns holding \
             the GIL ({} forced switches), so one computed while the others waited, however many \
             cores this machine has",
            b.trace.forced_switches()
        )
    } else if outside < b.trace.wall() / 10 {
        format!(
            "the parallelism of {threads} is {p:.2}: {in_workers} crunch jobs ran in {processes} \
             worker process(es), but each thread waited for its worker while holding the GIL (only \
             {} outside it), so the other threads could not even send theirs: they took turns \
             holding the GIL, as if they computed here",
            ms(outside)
        )
    } else if in_workers >= JOBS {
        format!(
            "the parallelism of {threads} is {p:.2}: the {JOBS} crunch jobs ran in worker processes, \
             but these threads spent {} waiting for the GIL, to send their jobs or to finish: \
             another thread kept it",
            ms(state_of(&b.trace, which, State::Waiting))
        )
    } else {
        format!(
            "the parallelism of {threads} is {p:.2}: {in_workers} of the {JOBS} crunch jobs ran in \
             worker processes; the other {} took turns holding the GIL here",
            JOBS - in_workers
        )
    };
    Err(Failure::new(Why::GilBound, expected, happened).note(picture(&b.trace)))
}

/// Judges the fetch jobs of a batch (threads `which`).
fn judge_fetch(
    expected: &str,
    b: &Batch,
    which: impl Fn(usize) -> bool + Copy,
    threads: &str,
) -> Verdict {
    let p = parallelism_of(&b.trace, which);
    let (in_workers, processes) = b.fetch;
    if in_workers > 0 {
        return Err(Failure::new(
            Why::WrongPlace,
            expected,
            format!(
                "the parallelism of {threads} is {p:.2}, but {in_workers} fetch job(s) were sent to \
                 {processes} worker process(es)"
            ),
        )
        .note(
            "a thread waiting on I/O has already released the GIL (`py.io`), so the waits overlap \
             on threads alone; a process buys nothing here and costs a start-up, memory of its own \
             and a round trip through the pipes per call (`cargo run -- compare` measures them)",
        ));
    }
    if p >= FETCH_TARGET {
        return Ok(());
    }
    let outside = outside_of(&b.trace, which);
    let happened = if outside < FETCH_WAIT {
        format!(
            "the parallelism of {threads} is {p:.2}: the fetching threads waited without releasing \
             the GIL (only {} outside it), so they took turns instead of waiting together. Wait \
             with `py.io(wait)`, which releases the GIL",
            ms(outside)
        )
    } else {
        format!("the parallelism of {threads} is {p:.2}: the waits did not overlap enough")
    };
    Err(Failure::new(Why::GilBound, expected, happened).note(picture(&b.trace)))
}

fn crunching_beats_the_gil() -> Verdict {
    let expected = format!(
        "4 crunch jobs (CPU-bound), one per interpreter thread: a traced parallelism of at least \
         {CRUNCH_TARGET} (one GIL allows 1.0 at most to threads that compute), the crunching done \
         in worker processes"
    );
    let units = crunch_units();
    let b = batch(&expected, vec![ex::Job::Crunch { units }; JOBS])?;
    judge_crunch(&expected, &b, |_| true, "the 4 threads")
}

fn fetching_overlaps_on_threads() -> Verdict {
    let expected = format!(
        "4 fetch jobs (I/O-bound, {} each), one per interpreter thread: a traced parallelism of at \
         least {FETCH_TARGET}, with no worker process",
        ms(FETCH_WAIT)
    );
    let b = batch(&expected, vec![ex::Job::Fetch { wait: FETCH_WAIT }; JOBS])?;
    judge_fetch(&expected, &b, |_| true, "the 4 threads")
}

fn a_crawler_fetches_and_crunches() -> Verdict {
    let expected = format!(
        "a crawler: 4 fetch jobs (py-0..py-3) and 4 crunch jobs (py-4..py-7) at once. The \
         fetching threads reach a parallelism of at least {FETCH_TARGET} with no worker process, \
         the crunching threads at least {CRUNCH_TARGET} with the crunching in worker processes"
    );
    let units = crunch_units();
    let mut jobs = vec![ex::Job::Fetch { wait: FETCH_WAIT }; JOBS];
    jobs.extend(vec![ex::Job::Crunch { units }; JOBS]);
    let b = batch(&expected, jobs)?;
    let fetchers = |t: usize| t < JOBS;
    let crunch = judge_crunch(
        &expected,
        &b,
        |t| t >= JOBS,
        "the crunching threads py-4..py-7",
    );
    let fetch = judge_fetch(&expected, &b, fetchers, "the fetching threads py-0..py-3");
    match (crunch, fetch) {
        (Ok(()), fetch) => fetch,
        (crunch, Ok(())) => crunch,
        // Both missed. Fetching threads that waited holding the GIL (or in a worker) held
        // the crunching threads back too: theirs is the story. Otherwise the crunching
        // threads': the stub's fetches wait with `py.io`, so the stub is told, on every run,
        // that its crunching threads took turns.
        (crunch, fetch) => {
            let fetch_at_fault = b.fetch.0 > 0 || outside_of(&b.trace, fetchers) < FETCH_WAIT;
            if fetch_at_fault { fetch } else { crunch }
        }
    }
}
