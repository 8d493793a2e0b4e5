//! Workloads and implementations shared by the benches of this crate (`locks.rs`, `peers.rs`)
//! and the instruction counter (`instructions.rs`). Each workload is generic over
//! [`BenchLock`], so every implementation runs the very same code; a bench lists the
//! implementations it measures. The peer detectors are in `peers.rs` beside this file.
//!
//! Besides criterion's own output (`$CRITERION_HOME/<group>/<impl>/new/estimates.json`),
//! measurements that criterion cannot take (RSS, detection latency, a deadline-bounded
//! contended run) are appended as JSON lines to `$CRITERION_HOME/extras.jsonl`, which
//! `benches/table.py` prints as a second table.
#![allow(dead_code)]

use std::cell::Cell;
use std::fs::OpenOptions;
use std::hint::black_box;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};

pub mod peers;

/// The baseline's name in this build: with `--features detectors`, cargo's feature
/// unification turns on parking_lot's `deadlock_detection` for every user of parking_lot.
#[cfg(not(feature = "detectors"))]
pub const PL_NAME: &str = "parking_lot::Mutex";
#[cfg(feature = "detectors")]
pub const PL_NAME: &str = "parking_lot::Mutex +deadlock_detection";

/// A lock around a `u64`, as each implementation spells it.
pub trait BenchLock: Send + Sync + Sized + 'static {
    /// The name in criterion's output and in the table.
    const NAME: &'static str;
    fn new(v: u64) -> Self;
    /// Acquire, run `f` on the data, release.
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R;
    /// Called before each benchmark of this implementation (e.g. to set synckit's policy).
    fn setup() {}
}

/// Short runs: a full `cargo bench` must stay under 10 minutes on 2 cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .without_plots()
        .configure_from_args()
}

/// Whether this run wants `group`: criterion's filter (the first argument that is not a
/// flag) is matched as a substring, so that `cargo bench -- uncontended` also skips the
/// measurements criterion does not take.
pub fn wants(group: &str) -> bool {
    let mut args = std::env::args().skip(1);
    let mut filter = None;
    while let Some(a) = args.next() {
        if a == "--bench" || a == "--test" || a == "--list" || a == "--exact" || a == "--quiet" {
            continue;
        }
        if a.starts_with("--") {
            // Criterion's options that take a value.
            if !a.contains('=')
                && matches!(
                    a.as_str(),
                    "--save-baseline"
                        | "--baseline"
                        | "--load-baseline"
                        | "--sample-size"
                        | "--warm-up-time"
                        | "--measurement-time"
                        | "--nresamples"
                        | "--noise-threshold"
                        | "--confidence-level"
                        | "--significance-level"
                        | "--profile-time"
                        | "--color"
                        | "--format"
                        | "--output-format"
                        | "--plotting-backend"
                        | "--baseline-lenient"
                        | "--logfile"
                )
            {
                args.next();
            }
            continue;
        }
        if !a.starts_with('-') {
            filter = Some(a);
            break;
        }
    }
    filter.is_none_or(|f| group.contains(f.as_str()) || f.contains(group))
}

// ---------------------------------------------------------------------------------------
// extras.jsonl

/// Where criterion writes (the same rule criterion uses, minus its `cargo metadata` call).
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("criterion")
}

fn extras_path() -> PathBuf {
    criterion_home().join("extras.jsonl")
}

/// Starts a fresh extras file for this run.
pub fn reset_extras() {
    let path = extras_path();
    let _ = std::fs::create_dir_all(path.parent().unwrap());
    let _ = std::fs::write(&path, "");
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Records one extra measurement (and prints it).
pub fn extra(group: &str, implementation: &str, metric: &str, value: f64, unit: &str, note: &str) {
    println!("[extra] {group}/{implementation}: {metric} = {value:.3} {unit} {note}");
    let line = format!(
        "{{\"group\":{},\"impl\":{},\"metric\":{},\"value\":{},\"unit\":{},\"note\":{}}}\n",
        json_str(group),
        json_str(implementation),
        json_str(metric),
        if value.is_finite() {
            format!("{value}")
        } else {
            "null".into()
        },
        json_str(unit),
        json_str(note)
    );
    if let Ok(mut f) = OpenOptions::new()
        .create(true)
        .append(true)
        .open(extras_path())
    {
        let _ = f.write_all(line.as_bytes());
    }
}

// ---------------------------------------------------------------------------------------
// helpers

/// xorshift64*: deterministic, no dependency.
pub struct Rng(Cell<u64>);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(Cell::new(seed | 1))
    }
    pub fn next(&self) -> u64 {
        let mut x = self.0.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&self, n: usize) -> usize {
        ((self.next() >> 32) as usize * n) >> 32
    }
}

/// Resident set size of this process, in KiB (Linux).
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

pub fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Runs `f` with panic messages silenced (for peers that report by panicking).
pub fn quietly<R>(f: impl FnOnce() -> R) -> R {
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let r = f();
    std::panic::set_hook(hook);
    r
}

// ---------------------------------------------------------------------------------------
// 1. uncontended acquire + release

pub fn uncontended<L: BenchLock>(g: &mut BenchmarkGroup<'_, WallTime>) {
    L::setup();
    let lock = L::new(0);
    g.bench_function(L::NAME, |b| b.iter(|| black_box(&lock).with(|x| *x += 1)));
}

// ---------------------------------------------------------------------------------------
// 2. nested acquire in a known order

pub fn nested2<L: BenchLock>(g: &mut BenchmarkGroup<'_, WallTime>) {
    L::setup();
    let (a, b) = (L::new(0), L::new(0));
    g.bench_function(L::NAME, |bn| {
        bn.iter(|| {
            black_box(&a).with(|x| {
                black_box(&b).with(|y| {
                    *x += 1;
                    *y += 1;
                })
            })
        })
    });
}

pub fn nested4<L: BenchLock>(g: &mut BenchmarkGroup<'_, WallTime>) {
    L::setup();
    let (a, b, c, d) = (L::new(0), L::new(0), L::new(0), L::new(0));
    g.bench_function(L::NAME, |bn| {
        bn.iter(|| {
            black_box(&a).with(|w| {
                black_box(&b).with(|x| {
                    black_box(&c).with(|y| {
                        black_box(&d).with(|z| {
                            *w += 1;
                            *x += 1;
                            *y += 1;
                            *z += 1;
                        })
                    })
                })
            })
        })
    });
}

// ---------------------------------------------------------------------------------------
// 3. contended: 2 threads x N increments on one lock

pub const CONTENDED_PER_THREAD: u64 = 100_000;

/// Two threads, `per_thread` increments each, on one fresh lock; wall time from a common
/// start to both done.
pub fn contended_once<L: BenchLock>(per_thread: u64) -> Duration {
    let lock = L::new(0);
    let start = Barrier::new(3);
    let elapsed = std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                start.wait();
                for _ in 0..per_thread {
                    lock.with(|x| *x += 1);
                }
            });
        }
        start.wait();
        let t0 = Instant::now();
        // The scope joins both threads when it ends; time them from here.
        t0
    })
    .elapsed();
    assert_eq!(
        lock.with(|x| *x),
        2 * per_thread,
        "{}: lost updates",
        L::NAME
    );
    elapsed
}

pub fn contended<L: BenchLock>(g: &mut BenchmarkGroup<'_, WallTime>) {
    L::setup();
    g.bench_function(L::NAME, |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| contended_once::<L>(CONTENDED_PER_THREAD))
                .sum()
        })
    });
}

/// For an implementation that live-locks under contention: a small fixed batch, a deadline,
/// and a report of what it managed. Threads check a stop flag between increments.
pub fn contended_with_deadline<L: BenchLock>(batch: u64, deadline: Duration) {
    L::setup();
    let lock = Arc::new(L::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let start = Arc::new(Barrier::new(3));
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let (lock, stop, done, start) =
                (lock.clone(), stop.clone(), done.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for _ in 0..batch {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    lock.with(|x| *x += 1);
                    done.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    start.wait();
    let t0 = Instant::now();
    while t0.elapsed() < deadline && done.load(Ordering::Relaxed) < 2 * batch {
        std::thread::sleep(Duration::from_millis(5));
    }
    let elapsed = t0.elapsed();
    let managed = done.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let stop_t = Instant::now();
    for h in handles {
        let _ = h.join();
    }
    let finished = managed >= 2 * batch;
    let note = if finished {
        format!("finished 2x{batch} increments")
    } else {
        format!(
            "deadline {:?} hit: {managed} of {} increments done; stopping took {:?}",
            deadline,
            2 * batch,
            stop_t.elapsed()
        )
    };
    extra(
        "contended_2x100k",
        L::NAME,
        "ns per increment (deadline-bounded batch)",
        elapsed.as_nanos() as f64 / managed.max(1) as f64,
        "ns",
        &note,
    );
    extra(
        "contended_2x100k",
        L::NAME,
        "increments done (deadline-bounded batch)",
        managed as f64,
        "ops",
        &note,
    );
}

// ---------------------------------------------------------------------------------------
// 4. create + first acquire + drop; RSS after a million of them

pub fn create_drop<L: BenchLock>(g: &mut BenchmarkGroup<'_, WallTime>) {
    L::setup();
    g.bench_function(L::NAME, |b| {
        b.iter(|| {
            let lock = L::new(black_box(1));
            lock.with(|x| *x += 1);
            black_box(&lock);
        })
    });
}

/// RSS before, after half and after all of `n` create + first acquire + drop (stops early
/// at `deadline`). Flat means: the second half adds nothing.
pub fn create_drop_rss<L: BenchLock>(n: u64, deadline: Duration) {
    L::setup();
    let before = rss_kib();
    let t0 = Instant::now();
    let mut done = 0u64;
    let mut mid = None;
    while done < n {
        for _ in 0..1000 {
            let lock = L::new(black_box(1));
            lock.with(|x| *x += 1);
            black_box(&lock);
        }
        done += 1000;
        if mid.is_none() && done >= n / 2 {
            mid = Some(rss_kib());
        }
        if t0.elapsed() > deadline {
            break;
        }
    }
    let after = rss_kib();
    let mid = mid.unwrap_or(after);
    let note = format!(
        "{done} locks in {:.2?}; RSS {before} KiB before, {mid} KiB at half, {after} KiB after",
        t0.elapsed()
    );
    extra(
        "create_drop",
        L::NAME,
        "RSS growth over the run",
        after as f64 - before as f64,
        "KiB",
        &note,
    );
    extra(
        "create_drop",
        L::NAME,
        "RSS growth over the second half",
        after as f64 - mid as f64,
        "KiB",
        &note,
    );
}

// ---------------------------------------------------------------------------------------
// 5. 1,000 live locks taken in random order under a gate lock

pub const LIVE_LOCKS: usize = 1000;

pub struct GateWorld<L> {
    gate: L,
    locks: Vec<L>,
    rng: Rng,
}

impl<L: BenchLock> GateWorld<L> {
    pub fn new(seed: u64) -> Self {
        GateWorld {
            gate: L::new(0),
            locks: (0..LIVE_LOCKS).map(|_| L::new(0)).collect(),
            rng: Rng::new(seed),
        }
    }

    /// Gate, then two distinct random locks, in random order.
    #[inline]
    pub fn step(&self) {
        let i = self.rng.below(LIVE_LOCKS);
        let mut j = self.rng.below(LIVE_LOCKS - 1);
        if j >= i {
            j += 1;
        }
        self.gate.with(|_| {
            self.locks[i].with(|x| {
                self.locks[j].with(|y| {
                    *x += 1;
                    *y += 1;
                })
            })
        });
    }
}

/// Whether `L` accepts the workload at all: a checker that does not understand gate locks
/// rejects the first pair seen in both orders (by panicking). Returns the number of steps
/// it took before refusing.
pub fn gate_probe<L: BenchLock>(steps: u64) -> Option<u64> {
    L::setup();
    let world = GateWorld::<L>::new(0xDEAD_BEEF);
    let done = Cell::new(0u64);
    let r = quietly(|| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            for _ in 0..steps {
                world.step();
                done.set(done.get() + 1);
            }
        }))
    });
    if r.is_err() {
        // A poisoned, half-unwound world: leak it rather than run its drops.
        std::mem::forget(world);
    }
    r.err().map(|_| done.get())
}

pub fn gated_random<L: BenchLock>(g: &mut BenchmarkGroup<'_, WallTime>) {
    if let Some(after) = gate_probe::<L>(5_000) {
        extra(
            "gated_random_1000",
            L::NAME,
            "rejected the workload",
            after as f64,
            "steps",
            "panicked on a pair taken in both orders under a common gate lock (gate not understood)",
        );
        return;
    }
    L::setup();
    let world = GateWorld::<L>::new(0x5EED);
    g.bench_function(L::NAME, |b| b.iter(|| world.step()));
    if L::NAME.starts_with("synckit::") {
        let (nodes, edges) = synckit::detector::lock_order_size();
        extra(
            "gated_random_1000",
            L::NAME,
            "lock-order graph with the 1,001 locks alive",
            edges as f64,
            "edges",
            &format!("{nodes} nodes"),
        );
    }
    drop(world);
    if L::NAME.starts_with("synckit::") {
        let (nodes, edges) = synckit::detector::lock_order_size();
        extra(
            "gated_random_1000",
            L::NAME,
            "lock-order graph after dropping them",
            edges as f64,
            "edges",
            &format!("{nodes} nodes"),
        );
    }
}

// ---------------------------------------------------------------------------------------
// configured groups

pub fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    match name {
        "contended_2x100k" => {
            g.sampling_mode(SamplingMode::Flat);
            g.sample_size(10);
            g.measurement_time(Duration::from_secs(2));
            g.throughput(Throughput::Elements(2 * CONTENDED_PER_THREAD));
        }
        "gated_random_1000" => {
            g.sample_size(20);
        }
        _ => {}
    }
    g
}

/// Runs `$f::<T>(&mut group)` for each listed type.
#[macro_export]
macro_rules! each {
    ($g:expr, $f:ident, [$($t:ty),* $(,)?]) => {
        $( $crate::common::$f::<$t>(&mut $g); )*
    };
}

/// The criterion group `$name`, if the command line's filter wants it: `$f::<T>` for each
/// listed type.
#[macro_export]
macro_rules! bench_group {
    ($c:expr, $name:literal, $f:ident, [$($t:ty),* $(,)?]) => {
        if $crate::common::wants($name) {
            let mut g = $crate::common::group(&mut $c, $name);
            $crate::each!(g, $f, [$($t),*]);
            g.finish();
        }
    };
}

// ---------------------------------------------------------------------------------------
// implementations every bench crate has: std, parking_lot, synckit

pub struct StdMutex(std::sync::Mutex<u64>);
impl BenchLock for StdMutex {
    const NAME: &'static str = "std::sync::Mutex";
    fn new(v: u64) -> Self {
        StdMutex(std::sync::Mutex::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.lock().unwrap())
    }
}

/// `parking_lot::Mutex`: the baseline of every ratio. (In the peer crate's `detectors`
/// build it has `deadlock_detection` on and is named accordingly there.)
pub struct PlMutex(parking_lot::Mutex<u64>);
impl BenchLock for PlMutex {
    const NAME: &'static str = PL_NAME;
    fn new(v: u64) -> Self {
        PlMutex(parking_lot::Mutex::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.lock())
    }
}

use synckit::detector::{Policy, set_policy};

/// synckit `Lock`, detector on (the default policy, `Panic`).
pub struct SkLock(synckit::Lock<u64>);
impl BenchLock for SkLock {
    const NAME: &'static str = "synckit::Lock";
    fn new(v: u64) -> Self {
        SkLock(synckit::Lock::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.acquire())
    }
    fn setup() {
        set_policy(Policy::Panic);
    }
}

/// synckit `Lock` with `set_policy(Policy::Off)`.
pub struct SkLockOff(synckit::Lock<u64>);
impl BenchLock for SkLockOff {
    const NAME: &'static str = "synckit::Lock (off)";
    fn new(v: u64) -> Self {
        SkLockOff(synckit::Lock::new(v))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        f(&mut self.0.acquire())
    }
    fn setup() {
        set_policy(Policy::Off);
    }
}

/// synckit `RLock` (detector on). Its guard gives `&T`, hence the `Cell`.
pub struct SkRLock(synckit::RLock<Cell<u64>>);
impl BenchLock for SkRLock {
    const NAME: &'static str = "synckit::RLock";
    fn new(v: u64) -> Self {
        SkRLock(synckit::RLock::new(Cell::new(v)))
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        let guard = self.0.acquire();
        let mut v = guard.get();
        let r = f(&mut v);
        guard.set(v);
        r
    }
    fn setup() {
        set_policy(Policy::Panic);
    }
}

/// synckit `Semaphore(1)` used as a mutex (detector on).
pub struct SkSemaphore {
    sem: synckit::Semaphore,
    data: std::cell::UnsafeCell<u64>,
}
// SAFETY: `data` is only touched while holding the semaphore's single permit.
unsafe impl Sync for SkSemaphore {}
impl BenchLock for SkSemaphore {
    const NAME: &'static str = "synckit::Semaphore(1)";
    fn new(v: u64) -> Self {
        SkSemaphore {
            sem: synckit::Semaphore::new(1),
            data: std::cell::UnsafeCell::new(v),
        }
    }
    #[inline]
    fn with<R>(&self, f: impl FnOnce(&mut u64) -> R) -> R {
        let _permit = self.sem.acquire();
        // SAFETY: the one permit is ours until `_permit` drops.
        f(unsafe { &mut *self.data.get() })
    }
    fn setup() {
        set_policy(Policy::Panic);
    }
}

// ---------------------------------------------------------------------------------------
// 6. detection latency (synckit)

/// Time from the acquire that closes an AB/BA cycle to the report, `trials` times.
///
/// A helper thread holds A and blocks on B (held by this thread); after a pause that lets
/// it park, this thread calls `acquire_checked` on A. The time measured is that call, which
/// returns the report as `Err`.
pub fn synckit_detection_latency(trials: usize) {
    set_policy(Policy::Panic);
    let mut lat = Vec::with_capacity(trials);
    let mut missed = 0;
    quietly(|| {
        for _ in 0..trials {
            let a = Arc::new(synckit::Lock::new(0u64));
            let b = Arc::new(synckit::Lock::new(0u64));
            let ready = Arc::new(Barrier::new(2));
            let gb = b.acquire();
            let helper = {
                let (a, b, ready) = (a.clone(), b.clone(), ready.clone());
                std::thread::spawn(move || {
                    let _ga = a.acquire();
                    ready.wait();
                    let _gb = b.acquire();
                })
            };
            ready.wait();
            std::thread::sleep(Duration::from_millis(2));
            let t0 = Instant::now();
            let r = a.acquire_checked();
            let dt = t0.elapsed();
            match r {
                Err(_) => lat.push(dt.as_nanos() as f64 / 1000.0),
                Ok(_) => missed += 1, // the helper was not parked yet: it got the report
            }
            drop(gb);
            let _ = helper.join();
        }
    });
    let n = lat.len();
    let note = format!(
        "{n} of {trials} trials; p90 {:.1} us, max {:.1} us{}",
        percentile(&mut lat, 0.9),
        percentile(&mut lat, 1.0),
        if missed > 0 {
            format!("; {missed} trials discarded (helper not parked yet)")
        } else {
            String::new()
        }
    );
    extra(
        "detection_latency",
        "synckit::Lock",
        "median",
        median(&mut lat),
        "us",
        &note,
    );
}

// ---------------------------------------------------------------------------------------
// 7. `check` overhead: a clean producer/consumer inside `synckit::check` vs outside

pub const PC_ITEMS: u64 = 1000;

/// A bounded buffer (16 slots) between a producer thread and this thread, `PC_ITEMS` items:
/// one Lock and two Semaphores, as in the course.
pub fn producer_consumer() -> u64 {
    use std::collections::VecDeque;
    let queue = synckit::Lock::new(VecDeque::with_capacity(16));
    let items = synckit::Semaphore::new(0);
    let slots = synckit::Semaphore::new(16);
    synckit::thread::scope(|s| {
        let producer = s.spawn_named("producer", || {
            for i in 0..PC_ITEMS {
                slots.acquire().forget();
                queue.acquire().push_back(i);
                items.release();
            }
        });
        let mut sum = 0;
        for _ in 0..PC_ITEMS {
            items.acquire().forget();
            sum += queue.acquire().pop_front().unwrap();
            slots.release();
        }
        producer.join().expect("producer");
        sum
    })
}

pub fn check_overhead(c: &mut Criterion) {
    set_policy(Policy::Panic);
    let expected = PC_ITEMS * (PC_ITEMS - 1) / 2;
    let mut g = c.benchmark_group("check_overhead");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(20);
    g.throughput(Throughput::Elements(PC_ITEMS));
    g.bench_function("producer/consumer outside check", |b| {
        b.iter(|| assert_eq!(producer_consumer(), expected))
    });
    g.bench_function("producer/consumer inside synckit::check", |b| {
        b.iter(|| match synckit::check(producer_consumer) {
            synckit::Outcome::Ok(sum) => assert_eq!(sum, expected),
            other => panic!("clean producer/consumer did not pass check: {other}"),
        })
    });
    g.finish();
}
