//! The caller's side of a pool: [`PoolBuilder`], [`Pool`] (map, submit, apply) and [`Task`].

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use super::dispatch::{Answer, Job, Queue, Shared, dispatch};
use super::error::{Fault, ProcessError, TaskRef, fault_error, preview};
use super::handle::{Pending, Spec};
use super::wire::{Wire, from_bytes, to_bytes};
use super::{HOOKED, is_worker};

/// How a pool starts and waits for its workers; see [`Pool::builder`].
#[derive(Clone, Debug)]
pub struct PoolBuilder {
    workers: usize,
    program: Option<PathBuf>,
    args: Vec<String>,
    start_timeout: Duration,
    task_timeout: Duration,
}

impl PoolBuilder {
    /// How many worker processes (default: the number of CPUs).
    ///
    /// # Panics
    ///
    /// If `n` is zero (Python: "Number of processes must be at least 1").
    pub fn workers(mut self, n: usize) -> Self {
        assert!(n >= 1, "a pool needs at least one worker process");
        self.workers = n;
        self
    }

    /// Runs this program as the worker instead of the current one (it must call
    /// [`hook`](super::hook) first in its `main`), with `args`.
    pub fn program(mut self, program: impl Into<PathBuf>, args: &[&str]) -> Self {
        self.program = Some(program.into());
        self.args = args.iter().map(|s| s.to_string()).collect();
        self
    }

    /// How long a starting worker may take to answer (default 10 s).
    pub fn start_timeout(mut self, timeout: Duration) -> Self {
        self.start_timeout = timeout;
        self
    }

    /// How long one task (a `submit`, or one chunk of a `map`) may run before its worker is
    /// killed and the task fails with [`ProcessError::Timeout`] (default 60 s).
    pub fn task_timeout(mut self, timeout: Duration) -> Self {
        self.task_timeout = timeout;
        self
    }

    /// Starts the workers and waits for each to announce itself.
    ///
    /// # Errors
    ///
    /// [`ProcessError::MissingHook`] when the program does not call [`hook`](super::hook)
    /// (checked before starting anything, when the program is the current one and it never
    /// called the hook);
    /// [`ProcessError::Spawn`] when it cannot be started.
    pub fn build(self) -> Result<Pool, ProcessError> {
        let (program, own) = match &self.program {
            Some(p) => (p.clone(), false),
            None => match std::env::current_exe() {
                Ok(p) => (p, true),
                Err(e) => {
                    return Err(ProcessError::Spawn {
                        program: "<current executable>".into(),
                        error: e.to_string(),
                    });
                }
            },
        };
        let spec = Spec {
            program,
            args: self.args,
            start_timeout: self.start_timeout,
            task_timeout: self.task_timeout,
        };
        if own && !HOOKED.load(Ordering::SeqCst) {
            let detail = if is_worker() {
                "this process is itself a worker started by a pool, and its `main` did not \
                 call synckit::process::hook"
            } else {
                "this program never called synckit::process::hook, so its copies would run \
                 `main` instead of serving tasks (nothing was started)"
            };
            return Err(ProcessError::MissingHook {
                program: spec.program_name(),
                detail: detail.into(),
            });
        }
        // Start them all, then wait for each: start-ups overlap.
        let pending: Vec<Pending> = (0..self.workers)
            .map(|_| Pending::start(&spec))
            .collect::<Result<_, _>>()?;
        let mut workers = Vec::with_capacity(pending.len());
        let mut functions = HashMap::new();
        let mut failure = None;
        for p in pending {
            match p.finish(&spec) {
                Ok((w, hello)) => {
                    for (name, arg, ret) in hello.functions {
                        functions.insert(name, (arg, ret));
                    }
                    workers.push(w);
                }
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        if let Some(e) = failure {
            for w in workers {
                w.shut_down();
            }
            return Err(e);
        }
        let shared = Arc::new(Shared {
            spec,
            functions,
            queue: Mutex::new(Queue::default()),
            cv: Condvar::new(),
            pids: Mutex::new(workers.iter().map(|w| w.pid).collect()),
            replaced: AtomicU64::new(0),
            next_task: AtomicU64::new(1),
            closing: AtomicBool::new(false),
        });
        let dispatchers = workers
            .into_iter()
            .enumerate()
            .map(|(slot, w)| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("synckit-pool-{slot}"))
                    .spawn(move || dispatch(&shared, slot, Some(w)))
                    .expect("failed to spawn a pool thread")
            })
            .collect();
        Ok(Pool {
            shared,
            dispatchers,
        })
    }
}

/// A pool of worker processes running registered functions by name; see the
/// [module docs](super) for the one line a program needs.
///
/// Methods take `&self`: several threads may use one pool at once. Dropping the pool ends it
/// at once, like Python's `Pool.terminate()`: queued and running tasks fail with
/// [`ProcessError::Closed`] (a worker in the middle of a task is killed), idle workers are
/// told to exit (closing their pipes; killed if they have not within 2 s). Wait for the
/// tasks you need before dropping the pool.
///
/// # Examples
///
/// A whole program (this doctest is built as its own binary, so its workers are copies of
/// it), with its hook:
///
/// ```standalone_crate
/// use synckit::process::{Pool, ProcessError, Registry};
///
/// fn registry() -> Registry {
///     Registry::new()
///         .register("square", |x: u64| x * x)
///         .register("boom", |x: u64| -> u64 { panic!("boom on {x}") })
/// }
///
/// fn main() {
///     synckit::process::hook(registry);
///     let pool = Pool::new(2).unwrap();
///
///     let input: Vec<u64> = (0..100).collect();
///     let squares: Vec<u64> = pool.map("square", &input).unwrap();
///     assert_eq!(squares, input.iter().map(|x| x * x).collect::<Vec<_>>());
///
///     let err = pool.apply::<u64, u64>("boom", &7).unwrap_err();
///     assert!(matches!(err, ProcessError::Panicked { .. }));
///     assert!(err.to_string().contains("boom on 7"));
///     assert_eq!(pool.apply::<u64, u64>("square", &9).unwrap(), 81); // still usable
/// }
/// ```
pub struct Pool {
    shared: Arc<Shared>,
    dispatchers: Vec<std::thread::JoinHandle<()>>,
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("program", &self.shared.spec.program)
            .field("pids", &self.pids())
            .finish()
    }
}

impl Pool {
    /// Starts `workers` worker processes running the current program (which must call
    /// [`hook`](super::hook) first in `main`), with the default timeouts.
    ///
    /// # Errors
    ///
    /// As [`PoolBuilder::build`].
    ///
    /// # Panics
    ///
    /// If `workers` is zero.
    pub fn new(workers: usize) -> Result<Pool, ProcessError> {
        Pool::builder().workers(workers).build()
    }

    /// A builder: worker count, program, start and task timeouts.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// let pool = synckit::process::Pool::builder()
    ///     .workers(2)
    ///     .task_timeout(Duration::from_secs(5))
    ///     .build()?;
    /// # Ok::<(), synckit::process::ProcessError>(())
    /// ```
    pub fn builder() -> PoolBuilder {
        PoolBuilder {
            workers: std::thread::available_parallelism().map_or(2, |n| n.get()),
            program: None,
            args: Vec::new(),
            start_timeout: Duration::from_secs(10),
            task_timeout: Duration::from_secs(60),
        }
    }

    /// How many workers the pool keeps.
    pub fn size(&self) -> usize {
        self.dispatchers.len()
    }

    /// The process ids of the current workers (a replaced worker's slot shows its
    /// replacement; 0 while a slot has none).
    pub fn pids(&self) -> Vec<u32> {
        self.shared.pids.lock().clone()
    }

    /// How many workers have been replaced after dying or timing out.
    pub fn replaced(&self) -> u64 {
        self.shared.replaced.load(Ordering::SeqCst)
    }

    /// The functions the workers can run (built-ins included), sorted.
    pub fn functions(&self) -> Vec<String> {
        let mut names: Vec<String> = self.shared.functions.keys().cloned().collect();
        names.sort();
        names
    }

    fn check_signature<A, R>(&self, function: &str) -> Result<(), ProcessError> {
        let Some((arg, ret)) = self.shared.functions.get(function) else {
            return Err(ProcessError::Unregistered {
                function: function.to_string(),
                registered: self.functions(),
            });
        };
        let (a, r) = (std::any::type_name::<A>(), std::any::type_name::<R>());
        if arg != a || ret != r {
            return Err(ProcessError::Signature {
                function: function.to_string(),
                registered: format!("fn({arg}) -> {ret}"),
                called: format!("fn({a}) -> {r}"),
            });
        }
        Ok(())
    }

    fn enqueue(&self, jobs: Vec<Job>) {
        let mut q = self.shared.queue.lock();
        q.jobs.extend(jobs);
        drop(q);
        self.shared.cv.notify_all();
    }

    /// Runs `function` on every item in the workers and returns the results in order, like
    /// Python's `Pool.map`. Items go in chunks (about four per worker), each chunk one task.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Unregistered`] or [`ProcessError::Signature`] before anything runs;
    /// otherwise the fault of the lowest item that failed (a panic, a dead or timed-out
    /// worker) once every chunk has finished. The pool stays usable.
    pub fn map<A, R>(&self, function: &str, items: &[A]) -> Result<Vec<R>, ProcessError>
    where
        A: Wire + fmt::Debug,
        R: Wire,
    {
        let chunk = items.len().div_ceil(self.size() * 4).max(1);
        self.map_chunked(function, items, chunk)
    }

    /// [`map`](Pool::map) with `chunk` items per task (1: one pipe round trip per item).
    ///
    /// # Errors
    ///
    /// As [`map`](Pool::map).
    ///
    /// # Panics
    ///
    /// If `chunk` is zero.
    pub fn map_chunked<A, R>(
        &self,
        function: &str,
        items: &[A],
        chunk: usize,
    ) -> Result<Vec<R>, ProcessError>
    where
        A: Wire + fmt::Debug,
        R: Wire,
    {
        assert!(chunk >= 1, "a chunk holds at least one item");
        self.check_signature::<A, R>(function)?;
        let (tx, rx) = mpsc::channel();
        let chunks: Vec<Range<usize>> = (0..items.len())
            .step_by(chunk)
            .map(|s| s..(s + chunk).min(items.len()))
            .collect();
        let mut tasks = Vec::with_capacity(chunks.len());
        let jobs: Vec<Job> = chunks
            .iter()
            .enumerate()
            .map(|(i, range)| {
                let task = self.shared.next_task.fetch_add(1, Ordering::SeqCst);
                tasks.push(task);
                Job {
                    task,
                    function: function.to_string(),
                    args: items[range.clone()].iter().map(to_bytes).collect(),
                    chunk: i,
                    reply: tx.clone(),
                }
            })
            .collect();
        drop(tx);
        self.enqueue(jobs);
        let mut results: Vec<Option<Vec<Vec<u8>>>> = vec![None; chunks.len()];
        let mut first_error: Option<(usize, ProcessError)> = None;
        for _ in 0..chunks.len() {
            let (i, outcome) = match rx.recv() {
                Ok(m) => m,
                // Every job answers unless the pool is going away.
                Err(_) => return Err(first_error.map_or(ProcessError::Closed, |e| e.1)),
            };
            let range = chunks[i].clone();
            let describe = |index: Option<u64>| {
                let items_range = match index {
                    Some(k) => range.start + k as usize..range.start + k as usize + 1,
                    None => range.clone(),
                };
                let argument = (items_range.len() == 1).then(|| preview(&items[items_range.start]));
                TaskRef {
                    function: function.to_string(),
                    task: tasks[i],
                    items: items_range,
                    argument,
                }
            };
            match outcome {
                Ok(r) => results[i] = Some(r),
                Err(fault) => {
                    let at = match &fault {
                        Fault::Panicked { index, .. } | Fault::Refused { index, .. } => {
                            range.start + *index as usize
                        }
                        _ => range.start,
                    };
                    let error = fault_error(fault, describe);
                    if first_error.as_ref().is_none_or(|(k, _)| at < *k) {
                        first_error = Some((at, error));
                    }
                }
            }
        }
        if let Some((_, e)) = first_error {
            return Err(e);
        }
        let mut out = Vec::with_capacity(items.len());
        for (i, r) in results.into_iter().enumerate() {
            let range = chunks[i].clone();
            for (k, bytes) in r.unwrap_or_default().into_iter().enumerate() {
                let value = from_bytes::<R>(&bytes).map_err(|e| ProcessError::BadResult {
                    task: TaskRef {
                        function: function.to_string(),
                        task: tasks[i],
                        items: range.start + k..range.start + k + 1,
                        argument: Some(preview(&items[range.start + k])),
                    },
                    detail: e.to_string(),
                })?;
                out.push(value);
            }
        }
        Ok(out)
    }

    /// Queues one call of `function` and returns a handle to wait for its result (Python's
    /// `apply_async`).
    ///
    /// # Errors
    ///
    /// [`ProcessError::Unregistered`] or [`ProcessError::Signature`]; the call's own faults
    /// come from [`Task::wait`].
    pub fn submit<A, R>(&self, function: &str, arg: &A) -> Result<Task<R>, ProcessError>
    where
        A: Wire + fmt::Debug,
        R: Wire,
    {
        self.check_signature::<A, R>(function)?;
        let (tx, rx) = mpsc::channel();
        let task = self.shared.next_task.fetch_add(1, Ordering::SeqCst);
        self.enqueue(vec![Job {
            task,
            function: function.to_string(),
            args: vec![to_bytes(arg)],
            chunk: 0,
            reply: tx,
        }]);
        Ok(Task {
            rx,
            task: TaskRef {
                function: function.to_string(),
                task,
                items: 0..1,
                argument: Some(preview(arg)),
            },
            _result: PhantomData,
        })
    }

    /// Runs one call of `function` and waits for its result (Python's `apply`).
    ///
    /// # Errors
    ///
    /// As [`submit`](Pool::submit) and [`Task::wait`].
    pub fn apply<A, R>(&self, function: &str, arg: &A) -> Result<R, ProcessError>
    where
        A: Wire + fmt::Debug,
        R: Wire,
    {
        self.submit(function, arg)?.wait()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let queued = {
            let mut q = self.shared.queue.lock();
            q.closed = true;
            self.shared.closing.store(true, Ordering::SeqCst);
            std::mem::take(&mut q.jobs)
        };
        self.shared.cv.notify_all();
        for job in queued {
            let _ = job.reply.send((job.chunk, Err(Fault::Closed)));
        }
        for d in self.dispatchers.drain(..) {
            let _ = d.join();
        }
    }
}

/// A call queued by [`Pool::submit`]: wait for its result.
#[must_use = "a submitted task's fault is only seen by waiting for it"]
pub struct Task<R> {
    rx: mpsc::Receiver<Answer>,
    task: TaskRef,
    _result: PhantomData<fn() -> R>,
}

impl<R> fmt::Debug for Task<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("task", &self.task).finish()
    }
}

impl<R: Wire> Task<R> {
    /// Which task this is.
    pub fn task(&self) -> &TaskRef {
        &self.task
    }

    /// Waits for the result. Bounded: the pool answers every task within its task timeout
    /// once a worker has taken it.
    ///
    /// # Errors
    ///
    /// [`ProcessError::Panicked`], [`ProcessError::WorkerDied`], [`ProcessError::Timeout`],
    /// [`ProcessError::Refused`], [`ProcessError::BadResult`], or [`ProcessError::Closed`]
    /// if the pool was dropped first.
    pub fn wait(self) -> Result<R, ProcessError> {
        let outcome = match self.rx.recv() {
            Ok((_, outcome)) => outcome,
            Err(_) => Err(Fault::Closed),
        };
        let task = self.task;
        match outcome {
            Ok(mut results) if results.len() == 1 => from_bytes::<R>(&results.pop().expect("one"))
                .map_err(|e| ProcessError::BadResult {
                    task,
                    detail: e.to_string(),
                }),
            Ok(results) => Err(ProcessError::BadResult {
                task,
                detail: format!("{} results for one call", results.len()),
            }),
            Err(fault) => Err(fault_error(fault, |_| task.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_without_the_hook_is_refused_before_anything_starts() {
        // Unit tests run under libtest's main, which never calls the hook.
        let err = Pool::new(1).unwrap_err();
        assert!(matches!(err, ProcessError::MissingHook { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("synckit::process::hook(registry);"), "{text}");
        assert!(text.contains("nothing was started"), "{text}");
    }
}
