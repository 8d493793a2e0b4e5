//! Worker processes and pipes: the other half of "threads vs processes".
//!
//! Threads share one address space (and, in Python, one GIL); processes share nothing, so
//! CPU-bound work in several processes really runs in parallel, and the price is that every
//! argument and result must be copied through a pipe. A [`Pool`] here is Python's
//! `multiprocessing.Pool` with the `spawn` start method:
//!
//! - **Starting a worker** re-executes the current program with the environment variable
//!   `SYNCKIT_PROCESS_WORKER=1`. Its `main` must call [`hook`] first thing: in a worker, the
//!   hook never returns (it serves tasks until the pool closes the pipe, then exits); in any
//!   other process it returns at once. Nothing is `fork()`ed, so a multi-threaded parent is
//!   safe. A program without the hook is detected by the handshake (a worker's first bytes
//!   are a fixed greeting) and [`Pool::new`] says which line is missing.
//! - **Functions run by name.** A worker can only run what its [`Registry`] names (Python's
//!   "the target must be importable by the child"): a closure cannot cross a process
//!   boundary, its captured memory is not there.
//! - **Data goes through pipes**: the worker's stdin and stdout, as length-prefixed frames of
//!   bytes in a small serialization of synckit's own ([`Wire`]). In the worker, the hook moves
//!   the protocol off fds 0 and 1, so a `println!` in a task goes to stderr and cannot
//!   corrupt it.
//! - **Faults are values.** A task that panics, a worker that exits or is killed, a task that
//!   runs past the pool's timeout: each is a [`ProcessError`] naming the task (function, item,
//!   argument) and the worker (pid, exit status). The worker is replaced and the pool stays
//!   usable. No call waits without a bound: start-up and every task have a timeout.
//!
//! # The one line
//!
//! ```no_run
//! use synckit::process::{Pool, Registry};
//!
//! fn registry() -> Registry {
//!     Registry::new().register("square", |x: u64| x * x)
//! }
//!
//! fn main() {
//!     synckit::process::hook(registry); // first line: a worker starts here and stays here
//!
//!     let pool = Pool::new(2).expect("workers start");
//!     let squares: Vec<u64> = pool.map("square", &[1u64, 2, 3]).unwrap();
//!     assert_eq!(squares, [1, 4, 9]);
//! }
//! ```
//!
//! **In tests.** A `cargo test` binary's `main` belongs to libtest, which would run the whole
//! test suite in every worker. Put pool tests in a test target with `harness = false` whose
//! own `main` calls the hook and then runs the tests (synckit's `tests/process.rs` does this
//! with `libtest-mimic`). [`Pool::new`] refuses to start workers from a program that never
//! called the hook, so a forgotten hook is an error, never a swarm of test runs.

mod compare;
mod wire;
mod worker;

use std::collections::{HashMap, VecDeque};
use std::fmt::{self, Write as _};
use std::io::Read;
use std::marker::PhantomData;
use std::ops::Range;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

pub use compare::{Comparison, compare};
pub use wire::{MAX_FRAME, Wire, WireError, from_bytes, to_bytes};
pub use worker::Registry;

use wire::{read_frame, write_frame};
use worker::{Hello, MAGIC, Reply, Request, VERSION};

/// The environment variable that tells a re-executed program it is a worker.
pub const WORKER_ENV: &str = "SYNCKIT_PROCESS_WORKER";

/// Whether this process called [`hook`] (so its re-executions will serve as workers).
static HOOKED: AtomicBool = AtomicBool::new(false);

/// The one line a program that starts worker processes must run first in `main`.
///
/// In a process started by a [`Pool`] (the environment has `SYNCKIT_PROCESS_WORKER=1`), it
/// builds the registry, announces its functions to the pool and serves tasks until the pool
/// closes the pipe; then the process exits. It never returns there. In any other process it
/// notes that the hook is installed and returns at once (the registry is not even built).
///
/// # Panics
///
/// In a worker, if `registry` panics.
///
/// # Examples
///
/// ```no_run
/// fn registry() -> synckit::process::Registry {
///     synckit::process::Registry::new().register("len", |s: String| s.len() as u64)
/// }
///
/// fn main() {
///     synckit::process::hook(registry);
///     // ... the program, which may create Pools ...
/// }
/// ```
pub fn hook(registry: impl FnOnce() -> Registry) {
    HOOKED.store(true, Ordering::SeqCst);
    if is_worker() {
        worker::serve(registry());
    }
}

/// Whether this process was started as a pool's worker.
pub fn is_worker() -> bool {
    std::env::var_os(WORKER_ENV).is_some_and(|v| v == "1")
}

/// Which task a [`ProcessError`] is about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TaskRef {
    /// The registered function's name.
    pub function: String,
    /// The pool's number for the task (one `submit`, or one chunk of a `map`).
    pub task: u64,
    /// The items concerned, as indices into the `map`'s input (`0..1` for a `submit`).
    pub items: Range<usize>,
    /// The argument's `Debug` form (shortened), when one item is concerned.
    pub argument: Option<String>,
}

impl fmt::Display for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {} (`{}`", self.task, self.function)?;
        match &self.argument {
            Some(arg) => write!(f, " on item {}: {arg})", self.items.start),
            None if self.items.len() == 1 => write!(f, " on item {})", self.items.start),
            None => write!(f, " on items {}..{})", self.items.start, self.items.end),
        }
    }
}

/// What can go wrong with a [`Pool`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ProcessError {
    /// The worker program did not answer as a synckit worker: its `main` does not call
    /// [`hook`] first (or this program never called it, so its workers would not either).
    MissingHook {
        /// The program the pool runs as a worker.
        program: String,
        /// What happened instead.
        detail: String,
    },
    /// The worker program could not be started.
    Spawn {
        /// The program.
        program: String,
        /// The OS error.
        error: String,
    },
    /// No function of that name is registered in the workers.
    Unregistered {
        /// The name asked for.
        function: String,
        /// The names that are registered.
        registered: Vec<String>,
    },
    /// The function is registered with other argument or result types than the call's.
    Signature {
        /// The function.
        function: String,
        /// `fn(A) -> R` as registered.
        registered: String,
        /// `fn(A) -> R` as called.
        called: String,
    },
    /// The task panicked in the worker (the worker survives).
    Panicked {
        /// The task and the item that panicked.
        task: TaskRef,
        /// The worker's process id.
        pid: u32,
        /// The panic message and where it was raised.
        message: String,
    },
    /// The worker could not decode the argument, or could not run the task.
    Refused {
        /// The task.
        task: TaskRef,
        /// The worker's process id.
        pid: u32,
        /// Why.
        message: String,
    },
    /// The worker process ended (exited, crashed, was killed) while running the task. The
    /// pool has replaced it.
    WorkerDied {
        /// The task it was running.
        task: TaskRef,
        /// The dead worker's process id.
        pid: u32,
        /// How it ended, e.g. `signal: 9 (SIGKILL)` or `exit status: 101`.
        status: String,
    },
    /// The task ran longer than the pool's task timeout; its worker was killed and replaced.
    Timeout {
        /// The task.
        task: TaskRef,
        /// The killed worker's process id.
        pid: u32,
        /// The timeout.
        after: Duration,
    },
    /// A result could not be decoded as the type asked for.
    BadResult {
        /// The task.
        task: TaskRef,
        /// The decoding error.
        detail: String,
    },
    /// The pool shut down before the task ran.
    Closed,
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::MissingHook { program, detail } => write!(
                f,
                "the worker program `{program}` did not start as a synckit worker: {detail}.\n\
                 A Pool starts each worker by running the program again with \
                 {WORKER_ENV}=1, and the program must hand over to synckit before doing \
                 anything else. Add this line at the top of `main`:\n\n    \
                 synckit::process::hook(registry); // registry: fn() -> synckit::process::Registry\n\n\
                 (in tests: a `harness = false` test target whose `main` calls it first)"
            ),
            ProcessError::Spawn { program, error } => {
                write!(f, "cannot start the worker program `{program}`: {error}")
            }
            ProcessError::Unregistered {
                function,
                registered,
            } => {
                let names: Vec<&str> = registered
                    .iter()
                    .map(String::as_str)
                    .filter(|n| !n.starts_with("synckit."))
                    .collect();
                write!(
                    f,
                    "no function named `{function}` is registered in the workers (registered: {}); \
                     add `.register(\"{function}\", ...)` to the Registry given to synckit::process::hook",
                    if names.is_empty() {
                        "none besides synckit's built-ins".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            }
            ProcessError::Signature {
                function,
                registered,
                called,
            } => write!(
                f,
                "`{function}` is registered as {registered} but called as {called}"
            ),
            ProcessError::Panicked { task, pid, message } => {
                write!(f, "{task} panicked in worker {pid}: {message}")
            }
            ProcessError::Refused { task, pid, message } => {
                write!(f, "{task} was refused by worker {pid}: {message}")
            }
            ProcessError::WorkerDied { task, pid, status } => write!(
                f,
                "worker {pid} died while running {task}: {status}; the pool has replaced it"
            ),
            ProcessError::Timeout { task, pid, after } => write!(
                f,
                "{task} ran longer than the pool's task timeout of {after:?}; worker {pid} was \
                 killed and replaced"
            ),
            ProcessError::BadResult { task, detail } => {
                write!(f, "the result of {task} could not be decoded: {detail}")
            }
            ProcessError::Closed => write!(f, "the pool shut down before the task ran"),
        }
    }
}

impl std::error::Error for ProcessError {}

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

    /// Runs this program as the worker instead of the current one (it must call [`hook`]
    /// first in its `main`), with `args`.
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
    /// [`ProcessError::MissingHook`] when the program does not call [`hook`] (checked before
    /// starting anything, when the program is the current one and it never called the hook);
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

/// What a pool needs to start a worker.
#[derive(Debug)]
struct Spec {
    program: PathBuf,
    args: Vec<String>,
    start_timeout: Duration,
    task_timeout: Duration,
}

impl Spec {
    fn program_name(&self) -> String {
        self.program.display().to_string()
    }
}

/// A pool of worker processes running registered functions by name; see the
/// [module docs](self) for the one line a program needs.
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

struct Shared {
    spec: Spec,
    /// name -> (argument type, result type), from the workers' hellos.
    functions: HashMap<String, (String, String)>,
    queue: Mutex<Queue>,
    cv: Condvar,
    pids: Mutex<Vec<u32>>,
    replaced: AtomicU64,
    next_task: AtomicU64,
    /// Set by `drop`: running tasks end at once (their workers are killed).
    closing: AtomicBool,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    closed: bool,
}

/// One task for one worker: a function and a batch of encoded arguments.
struct Job {
    task: u64,
    function: String,
    args: Vec<Vec<u8>>,
    /// Which chunk of the caller's request this is.
    chunk: usize,
    reply: mpsc::Sender<Answer>,
}

/// A job's chunk number and its results (or what went wrong).
type Answer = (usize, Result<Vec<Vec<u8>>, Fault>);

/// What went wrong with a job, before the caller names the task.
#[derive(Debug)]
enum Fault {
    Panicked {
        index: u64,
        pid: u32,
        message: String,
    },
    Refused {
        index: u64,
        pid: u32,
        message: String,
    },
    Died {
        pid: u32,
        status: String,
    },
    Timeout {
        pid: u32,
        after: Duration,
    },
    Start(ProcessError),
    Closed,
}

impl Pool {
    /// Starts `workers` worker processes running the current program (which must call
    /// [`hook`] first in `main`), with the default timeouts.
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

fn fault_error(fault: Fault, describe: impl Fn(Option<u64>) -> TaskRef) -> ProcessError {
    match fault {
        Fault::Panicked {
            index,
            pid,
            message,
        } => ProcessError::Panicked {
            task: describe(Some(index)),
            pid,
            message,
        },
        Fault::Refused {
            index,
            pid,
            message,
        } => ProcessError::Refused {
            task: describe(Some(index)),
            pid,
            message,
        },
        Fault::Died { pid, status } => ProcessError::WorkerDied {
            task: describe(None),
            pid,
            status,
        },
        Fault::Timeout { pid, after } => ProcessError::Timeout {
            task: describe(None),
            pid,
            after,
        },
        Fault::Start(e) => e,
        Fault::Closed => ProcessError::Closed,
    }
}

/// `Debug` of a value, cut at 60 characters (without formatting the rest).
fn preview(value: &impl fmt::Debug) -> String {
    struct Bounded(String, bool);
    impl fmt::Write for Bounded {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            for c in s.chars() {
                if self.0.chars().count() >= 60 {
                    self.1 = true;
                    return Err(fmt::Error);
                }
                self.0.push(c);
            }
            Ok(())
        }
    }
    let mut b = Bounded(String::new(), false);
    let _ = write!(b, "{value:?}");
    if b.1 {
        b.0.push('…');
    }
    b.0
}

/// A dispatcher thread: owns one worker slot, feeds it jobs one at a time, replaces the
/// worker when it dies.
fn dispatch(shared: &Shared, slot: usize, mut worker: Option<Worker>) {
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

/// A started worker whose greeting has not been read yet.
struct Pending {
    child: Child,
    stdin: ChildStdin,
    rx: mpsc::Receiver<Incoming>,
}

/// What a worker's reader thread passes on.
enum Incoming {
    Frame(Vec<u8>),
    /// The first bytes were not the greeting: the program is not serving as a worker.
    NotAWorker(Vec<u8>),
}

impl Pending {
    fn start(spec: &Spec) -> Result<Pending, ProcessError> {
        let mut child = Command::new(&spec.program)
            .args(&spec.args)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| ProcessError::Spawn {
                program: spec.program_name(),
                error: e.to_string(),
            })?;
        let stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name(format!("synckit-pipe-{}", child.id()))
            .spawn(move || {
                // The greeting first: read it byte-exactly, keeping what came instead.
                let mut first = Vec::with_capacity(MAGIC.len());
                let mut buf = [0u8; 8];
                while first.len() < MAGIC.len() {
                    match stdout.read(&mut buf[..MAGIC.len() - first.len()]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => first.extend_from_slice(&buf[..n]),
                    }
                }
                if first != MAGIC {
                    let _ = tx.send(Incoming::NotAWorker(first));
                    return;
                }
                while let Ok(Some(frame)) = read_frame(&mut stdout) {
                    if tx.send(Incoming::Frame(frame)).is_err() {
                        return;
                    }
                }
                // End of stream or a broken frame: dropping `tx` tells the dispatcher.
            })
            .expect("failed to spawn a pipe reader thread");
        Ok(Pending { child, stdin, rx })
    }

    fn finish(mut self, spec: &Spec) -> Result<(Worker, Hello), ProcessError> {
        let missing = |detail: String| ProcessError::MissingHook {
            program: spec.program_name(),
            detail,
        };
        let pid = self.child.id();
        let hello = match self.rx.recv_timeout(spec.start_timeout) {
            Ok(Incoming::Frame(bytes)) => from_bytes::<Hello>(&bytes)
                .map_err(|e| missing(format!("its greeting was garbled ({e})"))),
            Ok(Incoming::NotAWorker(first)) => {
                let status = settle(&mut self.child, Duration::from_millis(200));
                Err(missing(if first.is_empty() {
                    format!("it wrote nothing to its stdout and {status}")
                } else {
                    format!(
                        "it wrote {:?} to its stdout instead of the worker greeting",
                        String::from_utf8_lossy(&first)
                    )
                }))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(missing(format!(
                "it did not answer within {:?}",
                spec.start_timeout
            ))),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = settle(&mut self.child, Duration::from_millis(200));
                Err(missing(format!("its greeting was cut short and {status}")))
            }
        };
        let hello = hello.and_then(|h| {
            if h.version == VERSION {
                Ok(h)
            } else {
                Err(missing(format!(
                    "it speaks protocol version {} (this pool speaks {VERSION}): rebuild it",
                    h.version
                )))
            }
        });
        let hello = match hello {
            Ok(h) => h,
            Err(e) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return Err(e);
            }
        };
        let worker = Worker {
            child: self.child,
            stdin: Some(self.stdin),
            rx: self.rx,
            pid,
        };
        Ok((worker, hello))
    }
}

/// Waits up to `grace` for the child to exit; describes how it ended (killing it if not).
fn settle(child: &mut Child, grace: Duration) -> String {
    let deadline = Instant::now() + grace;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return format!("ended with {}", describe_status(status)),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(2)),
            _ => {
                let _ = child.kill();
                let status = child.wait();
                return match status {
                    Ok(s) => format!(
                        "was still running, so it was killed ({})",
                        describe_status(s)
                    ),
                    Err(e) => format!("could not be waited for ({e})"),
                };
            }
        }
    }
}

fn describe_status(status: ExitStatus) -> String {
    status.to_string()
}

/// A running, greeted worker process.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: mpsc::Receiver<Incoming>,
    pid: u32,
}

impl Worker {
    fn has_exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends one request and waits for its reply, at most `timeout`.
    /// Ends early, killing the worker, when `closing` is set (the pool is being dropped).
    fn call(
        &mut self,
        request: &[u8],
        task: u64,
        timeout: Duration,
        closing: &AtomicBool,
    ) -> Result<Vec<Vec<u8>>, Fault> {
        let pid = self.pid;
        let sent = match self.stdin.as_mut() {
            Some(stdin) => write_frame(stdin, request).is_ok(),
            None => false,
        };
        if !sent {
            // The pipe is closed: the worker is gone (or going).
            let status = settle(&mut self.child, Duration::from_secs(2));
            return Err(Fault::Died { pid, status });
        }
        let deadline = Instant::now() + timeout;
        let received = loop {
            let now = Instant::now();
            let slice = deadline
                .saturating_duration_since(now)
                .min(Duration::from_millis(50));
            match self.rx.recv_timeout(slice) {
                Err(mpsc::RecvTimeoutError::Timeout) if Instant::now() < deadline => {
                    if closing.load(Ordering::SeqCst) {
                        let _ = self.child.kill();
                        let _ = self.child.wait();
                        return Err(Fault::Closed);
                    }
                }
                other => break other,
            }
        };
        match received {
            Ok(Incoming::Frame(bytes)) => match from_bytes::<Reply>(&bytes) {
                Ok(Reply::Done { task: t, results }) if t == task => Ok(results),
                Ok(Reply::Panicked {
                    task: t,
                    index,
                    message,
                }) if t == task => Err(Fault::Panicked {
                    index,
                    pid,
                    message,
                }),
                Ok(Reply::Refused {
                    task: t,
                    index,
                    message,
                }) if t == task => Err(Fault::Refused {
                    index,
                    pid,
                    message,
                }),
                _ => {
                    let _ = self.child.kill();
                    let status = settle(&mut self.child, Duration::from_secs(2));
                    Err(Fault::Died {
                        pid,
                        status: format!(
                            "it broke the protocol (an unexpected reply), so it {status}"
                        ),
                    })
                }
            },
            Ok(Incoming::NotAWorker(_)) => unreachable!("only before the greeting"),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(Fault::Timeout {
                    pid,
                    after: timeout,
                })
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = settle(&mut self.child, Duration::from_secs(2));
                Err(Fault::Died { pid, status })
            }
        }
    }

    /// Closes the worker's stdin (it exits at the end of its input), waits up to 2 s, kills
    /// it if it has not exited.
    fn shut_down(mut self) {
        drop(self.stdin.take());
        let _ = settle(&mut self.child, Duration::from_secs(2));
    }

    /// A bare round trip through the pipes (no function call): for measuring.
    fn ping(&mut self, payload: &[u8]) -> Option<()> {
        let stdin = self.stdin.as_mut()?;
        write_frame(stdin, &to_bytes(&Request::Ping(payload.to_vec()))).ok()?;
        match self.rx.recv_timeout(Duration::from_secs(10)).ok()? {
            Incoming::Frame(bytes) => match from_bytes::<Reply>(&bytes).ok()? {
                Reply::Pong(_) => Some(()),
                _ => None,
            },
            Incoming::NotAWorker(_) => None,
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

    #[test]
    fn previews_are_short() {
        assert_eq!(preview(&5u8), "5");
        let long = preview(&vec![0u8; 1000]);
        assert!(long.chars().count() <= 61 && long.ends_with('…'), "{long}");
    }

    #[test]
    fn task_refs_read_well() {
        let mut t = TaskRef {
            function: "f".into(),
            task: 3,
            items: 4..5,
            argument: Some("7".into()),
        };
        assert_eq!(t.to_string(), "task 3 (`f` on item 4: 7)");
        t.argument = None;
        t.items = 0..10;
        assert_eq!(t.to_string(), "task 3 (`f` on items 0..10)");
    }
}
