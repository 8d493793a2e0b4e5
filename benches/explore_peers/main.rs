//! synckit's `testing::explore`, shuttle and loom on the same programs, one measurement per
//! process: `explore_peers.sh` runs every row and prints the table.
//!
//! ```text
//! explore-peers TOOL MODE WORKLOAD SECONDS [SEED]
//! ```
//! - TOOL MODE: `synckit random`, `synckit delay2` (delay-bounded, bound 2), `shuttle random`,
//!   `shuttle pct` (depth 3), `shuttle dfs`, `loom pb1` (preemption bound 1), `loom pb2`.
//! - WORKLOAD: `queue`, the bounded queue of `tests/support/bounded_queue.rs` (2 producers +
//!   2 consumers x 3 items, capacity 1, a lock and two condition variables); `if-all` and
//!   `if-one`, a semaphore whose `acquire` waits with `if` instead of `while` and whose
//!   `release` wakes all waiters / one waiter, taken by two waiters and a third thread that
//!   arrives after the first release (the barger); `while-one`, the correct semaphore in the
//!   same scenario (a check of the scenario: never fails).
//! - SECONDS: the search's time budget.
//! - SEED: the random modes' seed (default 1); the other modes are deterministic.
//!
//! Prints one JSON line on stdout: schedules run, wall-clock and CPU seconds, whether the space was exhausted,
//! whether (and after how many schedules and seconds) the bug was hit and when the tool
//! reported it, and the process's peak RSS. Each row is its own process so that peak RSS is
//! the row's own, and a tool that leaks threads or memory cannot slow the next one down.
//! Exit status 0 (a measurement, whatever it found), 1 if a correct workload failed, 2 for a
//! usage error.

#[macro_use]
mod std_shaped;

mod loom_side;
mod shuttle_side;
mod synckit_side;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The programs under test, as each tool spells them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Workload {
    Queue,
    /// The semaphore scenario; `buggy`: waits with `if`; `notify_all`: release wakes everyone.
    Semaphore {
        buggy: bool,
        notify_all: bool,
    },
}

impl Workload {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queue" => Workload::Queue,
            "if-all" => Workload::Semaphore {
                buggy: true,
                notify_all: true,
            },
            "if-one" => Workload::Semaphore {
                buggy: true,
                notify_all: false,
            },
            "while-one" => Workload::Semaphore {
                buggy: false,
                notify_all: false,
            },
            _ => return None,
        })
    }

    /// Whether a failure of this workload is the expected bug (else it is a broken bench).
    fn expects_bug(self) -> bool {
        matches!(self, Workload::Semaphore { buggy: true, .. })
    }
}

/// What a search gives back; the counters below say when the bug was hit.
pub struct Search {
    /// Schedules (executions, iterations) the tool ran, as it counts them.
    pub schedules: u64,
    /// The tool said it ran every schedule of its bounded space.
    pub complete: Option<bool>,
    /// The tool reported a failure.
    pub failed: bool,
}

/// Schedules started so far, counted by the programs themselves (every tool runs the body
/// once per schedule).
pub static STARTED: AtomicU64 = AtomicU64::new(0);
static START: OnceLock<Instant> = OnceLock::new();
/// (seconds since start, schedules started) when the bug first fired.
static HIT: OnceLock<(f64, u64)> = OnceLock::new();

/// Every program calls this first.
pub fn schedule_started() {
    STARTED.fetch_add(1, Ordering::Relaxed);
}

/// The semaphores call this where the `if` lets a thread through without a permit.
pub fn bug_hit() {
    let at = START.get().map_or(0.0, |s| s.elapsed().as_secs_f64());
    let _ = HIT.set((at, STARTED.load(Ordering::Relaxed)));
}

/// The message every tool's failure carries.
pub const BUG: &str = "acquire returned without a permit: the wait is an `if`, not a `while`";

/// Peak resident set size of this process (Linux `VmHWM`), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// CPU time (user + system) this process has used, all threads, in seconds: on a shared
/// machine it moves less with the load than wall-clock time does.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct it is given, which is zeroed and ours.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut usage) != 0 {
            return f64::NAN;
        }
        usage
    };
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

fn usage(msg: &str) -> ! {
    eprintln!(
        "explore-peers: {msg}\n\
         usage: explore-peers TOOL MODE WORKLOAD SECONDS [SEED]\n\
         \x20 TOOL MODE: synckit random|delay2, shuttle random|pct|dfs, loom pb1|pb2\n\
         \x20 WORKLOAD: queue, if-all, if-one, while-one"
    );
    std::process::exit(2);
}

fn json_opt<T: ToString>(v: Option<T>) -> String {
    v.map_or("null".into(), |v| v.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (tool, mode, workload, seconds, seed) = match args.as_slice() {
        [t, m, w, s] => (t, m, w, s, "1"),
        [t, m, w, s, seed] => (t, m, w, s, seed.as_str()),
        _ => usage("expected four or five arguments"),
    };
    let Ok(seed) = seed.parse::<u64>() else {
        usage(&format!("SEED must be a number, not {seed:?}"));
    };
    let Some(w) = Workload::parse(workload) else {
        usage(&format!("no workload {workload:?}"));
    };
    let Some(budget) = seconds
        .parse::<f64>()
        .ok()
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
    else {
        usage(&format!(
            "SECONDS must be a positive number, not {seconds:?}"
        ));
    };
    let start = *START.get_or_init(Instant::now);
    let search = match (tool.as_str(), mode.as_str()) {
        ("synckit", "random" | "delay2") => synckit_side::search(mode, w, budget, seed),
        ("shuttle", "random" | "pct" | "dfs") => shuttle_side::search(mode, w, budget, seed),
        ("loom", "pb1") => loom_side::search(1, w, budget),
        ("loom", "pb2") => loom_side::search(2, w, budget),
        _ => usage(&format!("no mode {mode:?} for tool {tool:?}")),
    };
    let elapsed = start.elapsed().as_secs_f64();
    let hit = HIT.get().copied();
    println!(
        "{{\"tool\":\"{tool}\",\"mode\":\"{mode}\",\"workload\":\"{workload}\",\"seed\":{seed},\"budget_s\":{},\
         \"schedules\":{},\"seconds\":{elapsed:.6},\"cpu_s\":{:.6},\"complete\":{},\"failed\":{},\
         \"hit_s\":{},\"hit_schedules\":{},\"peak_rss_kib\":{}}}",
        budget.as_secs_f64(),
        search.schedules,
        cpu_seconds(),
        json_opt(search.complete),
        search.failed,
        json_opt(hit.map(|h| format!("{:.6}", h.0))),
        json_opt(hit.map(|h| h.1)),
        peak_rss_kib()
    );
    if search.failed && !w.expects_bug() {
        eprintln!("explore-peers: {tool} {mode} failed on the correct workload {workload}");
        std::process::exit(1);
    }
}

#[path = "../../tests/support/bounded_queue.rs"]
mod bounded_queue;
