//! synckit side by side with std, parking_lot and the peer deadlock detectors, in one run.
//!
//! ```text
//! cd benches
//! cargo bench --bench peers                        # std, parking_lot, synckit, tracing-mutex, no_deadlocks, deloxide
//! cargo bench --bench peers --features detectors   # parking_lot + deadlock_detection, deloxide + lock-order-graph
//! ```
//! `run.sh` runs both and prints the table (`table.py`).

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier, LazyLock};
use std::time::{Duration, Instant};

use common::peers::*;
use common::*;

// ---------------------------------------------------------------------------------------
// deloxide's callback: counts reports and stamps the time of the last one

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
static DELOXIDE_REPORTS: AtomicU64 = AtomicU64::new(0);
static DELOXIDE_LAST_NS: AtomicU64 = AtomicU64::new(0);

fn now_ns() -> u64 {
    EPOCH.elapsed().as_nanos() as u64
}

fn start_deloxide() {
    LazyLock::force(&EPOCH);
    deloxide::Deloxide::new()
        .callback(|_info| {
            DELOXIDE_LAST_NS.store(now_ns(), Ordering::SeqCst);
            DELOXIDE_REPORTS.fetch_add(1, Ordering::SeqCst);
        })
        .start()
        .expect("start deloxide");
}

// ---------------------------------------------------------------------------------------
// 6. detection latency of the peers

/// Two threads close an AB/BA cycle and stay deadlocked (deloxide reports, it does not
/// break the cycle): the threads are leaked. Latency: from the closing `lock()` call to
/// deloxide's callback (which runs on its dispatcher thread).
fn deloxide_detection_latency(trials: usize) {
    let mut lat = Vec::new();
    let mut timeouts = 0;
    for _ in 0..trials {
        let a = Arc::new(deloxide::Mutex::new(0u64));
        let b = Arc::new(deloxide::Mutex::new(0u64));
        let ready = Arc::new(Barrier::new(3));
        let t0 = Arc::new(AtomicU64::new(0));
        let before = DELOXIDE_REPORTS.load(Ordering::SeqCst);
        {
            let (a, b, ready) = (a.clone(), b.clone(), ready.clone());
            std::thread::spawn(move || {
                let _ga = a.lock();
                ready.wait(); // both hold one
                ready.wait(); // Y holds B for sure
                let _gb = b.lock(); // blocks forever
            });
        }
        {
            let (a, b, ready, t0) = (a.clone(), b.clone(), ready.clone(), t0.clone());
            std::thread::spawn(move || {
                let _gb = b.lock();
                ready.wait();
                ready.wait();
                std::thread::sleep(Duration::from_millis(2)); // let X block on B
                t0.store(now_ns(), Ordering::SeqCst);
                let _ga = a.lock(); // closes the cycle; blocks forever
            });
        }
        ready.wait();
        ready.wait();
        let give_up = Instant::now() + Duration::from_secs(2);
        while DELOXIDE_REPORTS.load(Ordering::SeqCst) == before && Instant::now() < give_up {
            std::thread::sleep(Duration::from_micros(50));
        }
        if DELOXIDE_REPORTS.load(Ordering::SeqCst) == before {
            timeouts += 1;
            continue;
        }
        let reported = DELOXIDE_LAST_NS.load(Ordering::SeqCst);
        let start = t0.load(Ordering::SeqCst);
        if start != 0 && reported >= start {
            lat.push((reported - start) as f64 / 1000.0);
        }
    }
    let n = lat.len();
    let note = format!(
        "{n} of {trials} trials (time to the callback); p90 {:.1} us, max {:.1} us; {timeouts} not reported within 2 s; the deadlocked threads are leaked",
        percentile(&mut lat, 0.9),
        percentile(&mut lat, 1.0)
    );
    extra(
        "detection_latency",
        DELOXIDE_NAME,
        "median",
        median(&mut lat),
        "us",
        &note,
    );
}

/// tracing-mutex checks the order when a lock is *requested* and panics on a cycle: the
/// blocked thread's request of B already put A -> B in its graph, so the closing request
/// of A panics at once. Latency: that call, until the panic is caught.
#[cfg(not(feature = "detectors"))]
fn tracing_mutex_detection_latency(trials: usize) {
    use tracing_mutex::stdsync::tracing::Mutex;
    let mut lat = Vec::new();
    quietly(|| {
        for _ in 0..trials {
            let a = Arc::new(Mutex::new(0u64));
            let b = Arc::new(Mutex::new(0u64));
            let ready = Arc::new(Barrier::new(2));
            let gb = b.lock().unwrap();
            let helper = {
                let (a, b, ready) = (a.clone(), b.clone(), ready.clone());
                std::thread::spawn(move || {
                    let _ga = a.lock().unwrap();
                    ready.wait();
                    let _gb = b.lock();
                })
            };
            ready.wait();
            std::thread::sleep(Duration::from_millis(2));
            let t0 = Instant::now();
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                drop(a.lock());
            }));
            let dt = t0.elapsed();
            if r.is_err() {
                lat.push(dt.as_nanos() as f64 / 1000.0);
            }
            drop(gb);
            let _ = helper.join();
        }
    });
    let n = lat.len();
    let note = format!(
        "{n} of {trials} trials (a panic at the closing request); p90 {:.1} us, max {:.1} us",
        percentile(&mut lat, 0.9),
        percentile(&mut lat, 1.0)
    );
    extra(
        "detection_latency",
        "tracing_mutex::Mutex",
        "median",
        median(&mut lat),
        "us",
        &note,
    );
}

/// parking_lot's `deadlock_detection` finds cycles only when someone calls
/// `check_deadlock()`: the latency is the polling interval plus that call. Measured: the
/// call, with one fresh AB/BA cycle in place (threads leaked).
#[cfg(feature = "detectors")]
fn parking_lot_check_deadlock_cost(trials: usize) {
    let mut lat = Vec::new();
    let mut found = 0;
    for _ in 0..trials {
        let a = Arc::new(parking_lot::Mutex::new(0u64));
        let b = Arc::new(parking_lot::Mutex::new(0u64));
        let ready = Arc::new(Barrier::new(3));
        for first_a in [true, false] {
            let (a, b, ready) = (a.clone(), b.clone(), ready.clone());
            std::thread::spawn(move || {
                let (x, y) = if first_a { (a, b) } else { (b, a) };
                let _gx = x.lock();
                ready.wait();
                let _gy = y.lock(); // blocks forever
            });
        }
        ready.wait();
        std::thread::sleep(Duration::from_millis(5));
        let t0 = Instant::now();
        let cycles = parking_lot::deadlock::check_deadlock();
        let dt = t0.elapsed();
        if !cycles.is_empty() {
            found += 1;
            lat.push(dt.as_nanos() as f64 / 1000.0);
        }
    }
    let note = format!(
        "cost of one check_deadlock() call with a cycle present ({found} of {trials} found it); actual latency = your polling interval + this",
    );
    extra(
        "detection_latency",
        PL_NAME,
        "median",
        median(&mut lat),
        "us",
        &note,
    );
}

// ---------------------------------------------------------------------------------------

fn main() {
    start_deloxide();
    let mut c = common::criterion();
    reset_extras();
    let (n, deadline) = (1_000_000, Duration::from_secs(10));

    // Every group of the plain build measures these; `SkSemaphore` comes in where one permit
    // works as a lock, and no_deadlocks leaves the contended group (it runs at the very end,
    // deadline-bounded).
    #[cfg(not(feature = "detectors"))]
    macro_rules! plain_group {
        ($name:literal, $f:ident $(, $extra:ty)*) => {
            bench_group!(
                c,
                $name,
                $f,
                [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock, $($extra,)* TracingMutex, NoDeadlocks, Deloxide]
            )
        };
    }

    #[cfg(not(feature = "detectors"))]
    {
        plain_group!("uncontended", uncontended, SkSemaphore);
        plain_group!("nested_2", nested2);
        plain_group!("nested_4", nested4);
        bench_group!(
            c,
            "contended_2x100k",
            contended,
            [
                StdMutex,
                PlMutex,
                SkLock,
                SkLockOff,
                SkRLock,
                SkSemaphore,
                TracingMutex,
                Deloxide
            ]
        );
        plain_group!("create_drop", create_drop, SkSemaphore);
        if wants("create_drop") {
            create_drop_rss::<StdMutex>(n, deadline);
            create_drop_rss::<PlMutex>(n, deadline);
            create_drop_rss::<SkLock>(n, deadline);
            create_drop_rss::<SkLockOff>(n, deadline);
            create_drop_rss::<TracingMutex>(n, deadline);
            create_drop_rss::<NoDeadlocks>(n, deadline);
            create_drop_rss::<Deloxide>(n, deadline);
        }
        plain_group!("gated_random_1000", gated_random);
        if wants("check_overhead") {
            check_overhead(&mut c);
        }
        if wants("detection_latency") {
            synckit_detection_latency(200);
            tracing_mutex_detection_latency(200);
            deloxide_detection_latency(20);
        }
        if wants("contended_2x100k") {
            // Last: it may keep both cores busy until its deadline.
            contended_with_deadline::<NoDeadlocks>(1_000, Duration::from_secs(5));
            contended_with_deadline::<NoDeadlocks>(CONTENDED_PER_THREAD, Duration::from_secs(10));
        }
    }

    #[cfg(feature = "detectors")]
    {
        // parking_lot's deadlock_detection is on for every parking_lot user in this build,
        // synckit's RawMutex included, so synckit is not measured here. std::sync::Mutex is
        // measured again to show the drift between the two processes.
        bench_group!(c, "uncontended", uncontended, [StdMutex, PlMutex, Deloxide]);
        bench_group!(c, "nested_2", nested2, [StdMutex, PlMutex, Deloxide]);
        bench_group!(c, "nested_4", nested4, [StdMutex, PlMutex, Deloxide]);
        bench_group!(
            c,
            "contended_2x100k",
            contended,
            [StdMutex, PlMutex, Deloxide]
        );
        bench_group!(c, "create_drop", create_drop, [StdMutex, PlMutex, Deloxide]);
        if wants("create_drop") {
            create_drop_rss::<PlMutex>(n, deadline);
            create_drop_rss::<Deloxide>(n, deadline);
        }
        if wants("gated_random_1000") {
            let before = DELOXIDE_REPORTS.load(Ordering::SeqCst);
            let mut g = group(&mut c, "gated_random_1000");
            each!(g, gated_random, [StdMutex, PlMutex, Deloxide]);
            g.finish();
            // Let the dispatcher catch up before counting.
            std::thread::sleep(Duration::from_millis(200));
            let reports = DELOXIDE_REPORTS.load(Ordering::SeqCst) - before;
            extra(
                "gated_random_1000",
                DELOXIDE_NAME,
                "reports raised (all false: every pair was taken under one gate)",
                reports as f64,
                "reports",
                "",
            );
        }
        if wants("detection_latency") {
            deloxide_detection_latency(20);
            parking_lot_check_deadlock_cost(10);
        }
    }

    c.final_summary();
}
