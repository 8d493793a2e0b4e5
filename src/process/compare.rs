//! `cargo run -- compare`: the study notes' threads-vs-processes table, with a column
//! measured on this machine.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::handle::{Pending, Spec};
use super::{Pool, ProcessError};
use crate::gil::{Interpreter, units_for};
use crate::{Condition, Lock, RLock};

/// The measurements behind `cargo run -- compare`. `Display` prints the notes' table with
/// a "measured here" column, then Lock vs RLock.
///
/// Times are medians (creation, round trips), means over many repetitions (acquires) or the
/// best of three rounds (the CPU-bound runs, which take turns), on this machine, in this
/// run: a different machine, or a busy one, gives other numbers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Comparison {
    /// CPUs available to this process.
    pub cpus: usize,
    /// Isolation: what a worker's own counter reached after three increments in the worker.
    pub worker_counter: u64,
    /// Isolation: this process's copy of the same counter afterwards (untouched: 0).
    pub parent_counter: u64,
    /// Isolation: whether a thread's write to a shared `Lock<u64>` was seen here.
    pub thread_write_seen: bool,
    /// Resources: a worker process's resident memory, KiB (Linux; `None` elsewhere).
    pub worker_rss_kib: Option<u64>,
    /// Resources: this process's resident memory, KiB, which its threads share.
    pub parent_rss_kib: Option<u64>,
    /// Creation: spawning and joining a thread.
    pub thread_spawn: Duration,
    /// Creation: starting a worker process, its greeting, and its exit.
    pub process_spawn: Duration,
    /// Communication: incrementing a shared `Lock<u64>` (acquire, add, release).
    pub lock_increment: Duration,
    /// Communication: one call through the pool (`Pool::apply`, a `u64` there and back).
    pub pipe_call: Duration,
    /// Context switching: one hand-over between two threads ping-ponging on a `Condition`.
    pub thread_switch: Duration,
    /// Context switching: one hand-over between two processes ping-ponging over pipes.
    pub process_switch: Duration,
    /// Use case (CPU-bound): the work done by one GIL thread.
    pub cpu_one_thread: Duration,
    /// Use case (CPU-bound): the same work split over as many GIL threads as CPUs.
    pub cpu_gil_threads: Duration,
    /// Use case (CPU-bound): the same work split over as many worker processes as CPUs.
    pub cpu_processes: Duration,
    /// Use case (I/O-bound): four waits one after another on one GIL thread.
    pub io_one_thread: Duration,
    /// Use case (I/O-bound): the same four waits on four GIL threads.
    pub io_gil_threads: Duration,
    /// Uncontended `Lock` acquire + release.
    pub lock_acquire: Duration,
    /// Uncontended `RLock` acquire + release.
    pub rlock_acquire: Duration,
    /// `RLock` re-entry (acquire + release while already holding it).
    pub rlock_reentry: Duration,
    /// `std::sync::Mutex` lock + unlock, for reference.
    pub std_mutex: Duration,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

/// Mean time of `f` over `n` runs.
fn mean(n: u32, mut f: impl FnMut()) -> Duration {
    let start = Instant::now();
    for _ in 0..n {
        f();
    }
    start.elapsed() / n
}

/// Resident memory of a process, KiB, from `/proc` (Linux only).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Runs the measurements (a few seconds). The current program must call
/// [`hook`](super::hook) first in `main`: worker processes are started from it.
///
/// # Errors
///
/// A [`ProcessError`] when worker processes cannot be started (typically
/// [`ProcessError::MissingHook`]) or a call fails.
///
/// # Examples
///
/// ```no_run
/// // In a program whose `main` begins with `synckit::process::hook(...)`:
/// let table = synckit::process::compare()?;
/// println!("{table}");
/// # Ok::<(), synckit::process::ProcessError>(())
/// ```
pub fn compare() -> Result<Comparison, ProcessError> {
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pool = Pool::new(cpus.max(2))?;

    // Isolation: three increments in one worker's memory.
    let mut worker_counter = 0;
    {
        let single = Pool::new(1)?;
        for _ in 0..3 {
            worker_counter = single.apply::<(), u64>("synckit.bump", &())?;
        }
    }
    let parent_counter = super::worker::bumped();
    let shared = Arc::new(Lock::new(0u64));
    {
        let shared = shared.clone();
        std::thread::spawn(move || *shared.acquire() += 1)
            .join()
            .expect("the thread runs");
    }
    let thread_write_seen = *shared.acquire() == 1;

    // Resources.
    let worker_pid = pool.apply::<(), u32>("synckit.pid", &())?;
    let worker_rss_kib = rss_kib(worker_pid);
    let parent_rss_kib = rss_kib(std::process::id());

    // Creation.
    let thread_spawn = median(
        (0..200)
            .map(|_| {
                let t = Instant::now();
                std::thread::spawn(|| ()).join().expect("joins");
                t.elapsed()
            })
            .collect(),
    );
    let spec = Spec {
        program: std::env::current_exe().map_err(|e| ProcessError::Spawn {
            program: "<current executable>".into(),
            error: e.to_string(),
        })?,
        args: Vec::new(),
        start_timeout: Duration::from_secs(10),
        task_timeout: Duration::from_secs(10),
    };
    let mut spawns = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let (w, _) = Pending::start(&spec)?.finish(&spec)?;
        w.shut_down();
        spawns.push(t.elapsed());
    }
    let process_spawn = median(spawns);

    // Communication.
    let counter = Lock::new(0u64);
    let lock_increment = mean(1_000_000, || *counter.acquire() += 1);
    let _ = pool.apply::<u64, u64>("synckit.spin", &0)?; // warm
    let pipe_call = median(
        (0..300)
            .map(|i| {
                let t = Instant::now();
                let _ = pool.apply::<Vec<u8>, Vec<u8>>("synckit.echo", &vec![i as u8; 8]);
                t.elapsed()
            })
            .collect(),
    );

    // Context switching.
    let thread_switch = thread_ping_pong(20_000) / 2;
    let process_switch = {
        let (mut w, _) = Pending::start(&spec)?.finish(&spec)?;
        let rounds = 5_000u32;
        let t = Instant::now();
        for _ in 0..rounds {
            if w.ping(&[1]).is_none() {
                break;
            }
        }
        let per = t.elapsed() / rounds / 2;
        w.shut_down();
        per
    };

    // Use case: CPU-bound work under the GIL vs in processes; I/O-bound under the GIL.
    // The three CPU-bound runs take turns, three rounds, and each keeps its best time: on a
    // shared or busy machine one slow moment would otherwise decide the speedups.
    let n = cpus.max(2);
    let total = units_for(Duration::from_millis(300));
    let share = total / n as u64;
    let shares = vec![share; n];
    let (mut cpu_one_thread, mut cpu_gil_threads, mut cpu_processes) =
        (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..3 {
        let one = Interpreter::new()
            .run_threads(1, |py| {
                py.compute(total);
            })
            .wall();
        let many = Interpreter::new()
            .run_threads(n, |py| {
                py.compute(share);
            })
            .wall();
        let t = Instant::now();
        let _: Vec<u64> = pool.map_chunked("synckit.spin", &shares, 1)?;
        let processes = t.elapsed();
        cpu_one_thread = cpu_one_thread.min(one);
        cpu_gil_threads = cpu_gil_threads.min(many);
        cpu_processes = cpu_processes.min(processes);
    }
    let wait = Duration::from_millis(50);
    let io_one_thread = Interpreter::new()
        .run_threads(1, |py| {
            for _ in 0..4 {
                py.io(wait);
            }
        })
        .wall();
    let io_gil_threads = Interpreter::new().run_threads(4, |py| py.io(wait)).wall();

    // Lock vs RLock.
    let lock = Lock::new(());
    let rlock = RLock::new(());
    let std_lock = std::sync::Mutex::new(());
    let reps = 2_000_000;
    let _ = mean(reps / 10, || drop(lock.acquire()));
    let lock_acquire = mean(reps, || drop(lock.acquire()));
    let rlock_acquire = mean(reps, || drop(rlock.acquire()));
    let rlock_reentry = {
        let _outer = rlock.acquire();
        mean(reps, || drop(rlock.acquire()))
    };
    let std_mutex = mean(reps, || drop(std_lock.lock()));

    Ok(Comparison {
        cpus,
        worker_counter,
        parent_counter,
        thread_write_seen,
        worker_rss_kib,
        parent_rss_kib,
        thread_spawn,
        process_spawn,
        lock_increment,
        pipe_call,
        thread_switch,
        process_switch,
        cpu_one_thread,
        cpu_gil_threads,
        cpu_processes,
        io_one_thread,
        io_gil_threads,
        lock_acquire,
        rlock_acquire,
        rlock_reentry,
        std_mutex,
    })
}

/// Two threads hand a turn back and forth through a Lock + Condition; time per round trip.
fn thread_ping_pong(rounds: u32) -> Duration {
    struct Court {
        turn: Lock<u32>,
        changed: Condition,
    }
    let court = Arc::new(Court {
        turn: Lock::new(0),
        changed: Condition::new(),
    });
    let other = {
        let court = court.clone();
        std::thread::spawn(move || {
            for _ in 0..rounds {
                let mut turn = court.turn.acquire();
                court.changed.wait_while(&mut turn, |t| *t == 0);
                *turn = 0;
                court.changed.notify(1);
            }
        })
    };
    let start = Instant::now();
    for _ in 0..rounds {
        let mut turn = court.turn.acquire();
        *turn = 1;
        court.changed.notify(1);
        court.changed.wait_while(&mut turn, |t| *t == 1);
    }
    let elapsed = start.elapsed();
    other.join().expect("the other player finishes");
    elapsed / rounds
}

fn us(d: Duration) -> String {
    let us = d.as_secs_f64() * 1e6;
    if us >= 1000.0 {
        format!("{:.1} ms", us / 1000.0)
    } else if us >= 10.0 {
        format!("{us:.0} µs")
    } else if us >= 1.0 {
        format!("{us:.1} µs")
    } else {
        format!("{:.0} ns", us * 1000.0)
    }
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-12)
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rows: Vec<(&str, &str, &str, Vec<String>)> = vec![
            (
                "Isolation",
                "High (isolated memory space)",
                "Low (shared memory space)",
                vec![
                    format!(
                        "a worker counted to {} in its memory; this process's copy still reads {}",
                        self.worker_counter, self.parent_counter
                    ),
                    format!(
                        "a thread's write to a shared Lock<u64> was {} here",
                        if self.thread_write_seen {
                            "seen"
                        } else {
                            "NOT seen"
                        }
                    ),
                ],
            ),
            (
                "Resources",
                "Own resources (memory, file handles, etc.)",
                "Shared resources of the parent process",
                match (self.worker_rss_kib, self.parent_rss_kib) {
                    (Some(w), Some(p)) => vec![
                        format!(
                            "a worker process holds {:.1} MiB of its own (resident)",
                            w as f64 / 1024.0
                        ),
                        format!("threads share this process's {:.1} MiB", p as f64 / 1024.0),
                    ],
                    _ => vec!["(resident memory is read from /proc, on Linux)".into()],
                },
            ),
            (
                "Creation",
                "Slow, high overhead",
                "Fast, low overhead",
                vec![
                    format!(
                        "process start + greeting + exit: {}",
                        us(self.process_spawn)
                    ),
                    format!(
                        "thread spawn + join: {}  ({:.0}× cheaper)",
                        us(self.thread_spawn),
                        ratio(self.process_spawn, self.thread_spawn)
                    ),
                ],
            ),
            (
                "Communication",
                "Complex (IPC required)",
                "Simple (direct memory access)",
                vec![
                    format!(
                        "a call through the pipes (u64 there and back): {}",
                        us(self.pipe_call)
                    ),
                    format!(
                        "a shared Lock<u64> increment: {}  ({:.0}× cheaper)",
                        us(self.lock_increment),
                        ratio(self.pipe_call, self.lock_increment)
                    ),
                ],
            ),
            (
                "Context Switching",
                "Slow, high overhead",
                "Fast, low overhead",
                vec![
                    format!(
                        "process ↔ process over pipes: {} per hand-over",
                        us(self.process_switch)
                    ),
                    format!(
                        "thread ↔ thread on a Condition: {} per hand-over  (processes: {:.1}× as long)",
                        us(self.thread_switch),
                        ratio(self.process_switch, self.thread_switch)
                    ),
                ],
            ),
            (
                "Use Case",
                "Running separate, independent applications",
                "Running multiple tasks within a single application (e.g., UI responsiveness, \
                 background tasks)",
                vec![
                    format!(
                        "CPU-bound, {n} worker processes: {} (1 thread: {}): speedup {:.2}×",
                        us(self.cpu_processes),
                        us(self.cpu_one_thread),
                        ratio(self.cpu_one_thread, self.cpu_processes),
                        n = self.cpus.max(2)
                    ),
                    format!(
                        "CPU-bound, {n} GIL threads: {}: speedup {:.2}× (one thread at a time holds the GIL)",
                        us(self.cpu_gil_threads),
                        ratio(self.cpu_one_thread, self.cpu_gil_threads),
                        n = self.cpus.max(2)
                    ),
                    format!(
                        "I/O-bound, 4 GIL threads: {} (1 thread: {}): speedup {:.2}×",
                        us(self.io_gil_threads),
                        us(self.io_one_thread),
                        ratio(self.io_one_thread, self.io_gil_threads)
                    ),
                ],
            ),
        ];
        writeln!(
            f,
            "Threads vs processes: the notes' table, and what this machine ({} CPUs) measured",
            self.cpus
        )?;
        for (feature, processes, threads, measured) in rows {
            writeln!(f, "\n{feature}")?;
            writeln!(f, "  processes  {processes}")?;
            writeln!(f, "  threads    {threads}")?;
            for (i, m) in measured.iter().enumerate() {
                let label = if i == 0 { "measured" } else { "" };
                writeln!(f, "  {label:9}  {m}")?;
            }
        }
        writeln!(
            f,
            "\nLock vs RLock (the notes: \"a standard Lock is slightly more efficient\"), uncontended \
             acquire + release, measured:"
        )?;
        writeln!(f, "  Lock                  {}", us(self.lock_acquire))?;
        writeln!(
            f,
            "  RLock                 {}  ({:.2}× Lock)",
            us(self.rlock_acquire),
            ratio(self.rlock_acquire, self.lock_acquire)
        )?;
        writeln!(
            f,
            "  RLock, re-entered     {}  (only a count goes up)",
            us(self.rlock_reentry)
        )?;
        write!(
            f,
            "  std::sync::Mutex      {}  (no detector, for reference)",
            us(self.std_mutex)
        )
    }
}
