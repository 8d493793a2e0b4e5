//! The pool's queue and its dispatcher threads: one per worker slot, feeding the worker one
//! job at a time and replacing it when it dies or times out.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;

use parking_lot::{Condvar, Mutex};

use super::error::{Fault, ProcessError};
use super::handle::{Pending, Spec, Worker};
use super::wire::to_bytes;
use super::worker::Request;

pub(super) struct Shared {
    pub(super) spec: Spec,
    /// name -> (argument type, result type), from the workers' hellos.
    pub(super) functions: HashMap<String, (String, String)>,
    pub(super) queue: Mutex<Queue>,
    pub(super) cv: Condvar,
    pub(super) pids: Mutex<Vec<u32>>,
    pub(super) replaced: AtomicU64,
    pub(super) next_task: AtomicU64,
    /// Set by `drop`: running tasks end at once (their workers are killed).
    pub(super) closing: AtomicBool,
}

#[derive(Default)]
pub(super) struct Queue {
    pub(super) jobs: VecDeque<Job>,
    pub(super) closed: bool,
}

/// One task for one worker: a function and a batch of encoded arguments.
pub(super) struct Job {
    pub(super) task: u64,
    pub(super) function: String,
    pub(super) args: Vec<Vec<u8>>,
    /// Which chunk of the caller's request this is.
    pub(super) chunk: usize,
    pub(super) reply: mpsc::Sender<Answer>,
}

/// A job's chunk number and its results (or what went wrong).
pub(super) type Answer = (usize, Result<Vec<Vec<u8>>, Fault>);

/// A dispatcher thread: owns one worker slot, feeds it jobs one at a time, replaces the
/// worker when it dies.
pub(super) fn dispatch(shared: &Shared, slot: usize, mut worker: Option<Worker>) {
    loop {
        let job = {
            let mut q = shared.queue.lock();
            loop {
                if let Some(job) = q.jobs.pop_front() {
                    break Some(job);
                }
                if q.closed {
                    break None;
                }
                shared.cv.wait(&mut q);
            }
        };
        let Some(job) = job else { break };
        let outcome = run_job(shared, slot, &mut worker, &job);
        let _ = job.reply.send((job.chunk, outcome));
    }
    if let Some(w) = worker {
        w.shut_down();
    }
}

fn set_pid(shared: &Shared, slot: usize, pid: u32) {
    if let Some(p) = shared.pids.lock().get_mut(slot) {
        *p = pid;
    }
}

/// Starts a replacement in `slot`.
fn replace(shared: &Shared, slot: usize, worker: &mut Option<Worker>) -> Result<(), ProcessError> {
    set_pid(shared, slot, 0);
    let (w, _) = Pending::start(&shared.spec)?.finish(&shared.spec)?;
    set_pid(shared, slot, w.pid);
    *worker = Some(w);
    Ok(())
}

fn run_job(
    shared: &Shared,
    slot: usize,
    worker: &mut Option<Worker>,
    job: &Job,
) -> Result<Vec<Vec<u8>>, Fault> {
    // A worker that died while idle never started this job: replace it, then send.
    if worker.as_mut().is_none_or(|w| w.has_exited()) {
        if let Some(dead) = worker.take() {
            dead.shut_down();
            shared.replaced.fetch_add(1, Ordering::SeqCst);
        }
        replace(shared, slot, worker).map_err(Fault::Start)?;
    }
    let w = worker.as_mut().expect("a worker");
    let request = to_bytes(&Request::Run {
        task: job.task,
        name: job.function.clone(),
        args: job.args.clone(),
    });
    let outcome = w.call(
        &request,
        job.task,
        shared.spec.task_timeout,
        &shared.closing,
    );
    if matches!(outcome, Err(Fault::Closed)) {
        // Killed because the pool is going away: nothing to replace.
        *worker = None;
        return outcome;
    }
    if matches!(outcome, Err(Fault::Died { .. } | Fault::Timeout { .. })) {
        if let Some(dead) = worker.take() {
            dead.shut_down();
        }
        shared.replaced.fetch_add(1, Ordering::SeqCst);
        // Replace at once, so the pool is whole again before the caller hears of the fault;
        // if that fails, the next job tries again.
        let _ = replace(shared, slot, worker);
    }
    outcome
}
