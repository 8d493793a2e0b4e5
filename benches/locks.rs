//! synckit against `std::sync::Mutex` and `parking_lot::Mutex`: the quick loop (fewer
//! implementations to measure). The full side-by-side comparison (tracing-mutex,
//! no_deadlocks, deloxide, parking_lot's `deadlock_detection`) is `peers.rs`; see README.md.
//!
//! `cd benches && cargo bench --bench locks` (add `-- <group>` to run one group only).

mod common;

use std::time::Duration;

use common::*;

fn main() {
    if cfg!(feature = "detectors") {
        // parking_lot's deadlock_detection would be on inside synckit too: not a synckit figure.
        eprintln!("locks: build it without `--features detectors` (that build is for the peers)");
        std::process::exit(2);
    }
    let mut c = common::criterion();
    reset_extras();

    bench_group!(
        c,
        "uncontended",
        uncontended,
        [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock, SkSemaphore]
    );
    bench_group!(
        c,
        "nested_2",
        nested2,
        [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock]
    );
    bench_group!(
        c,
        "nested_4",
        nested4,
        [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock]
    );
    bench_group!(
        c,
        "contended_2x100k",
        contended,
        [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock, SkSemaphore]
    );
    bench_group!(
        c,
        "create_drop",
        create_drop,
        [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock, SkSemaphore]
    );
    if wants("create_drop") {
        let (n, deadline) = (1_000_000, Duration::from_secs(10));
        create_drop_rss::<StdMutex>(n, deadline);
        create_drop_rss::<PlMutex>(n, deadline);
        create_drop_rss::<SkLock>(n, deadline);
        create_drop_rss::<SkLockOff>(n, deadline);
        create_drop_rss::<SkRLock>(n, deadline);
        create_drop_rss::<SkSemaphore>(n, deadline);
    }
    bench_group!(
        c,
        "gated_random_1000",
        gated_random,
        [StdMutex, PlMutex, SkLock, SkLockOff, SkRLock]
    );
    if wants("detection_latency") {
        synckit_detection_latency(200);
    }
    if wants("check_overhead") {
        check_overhead(&mut c);
    }
    if wants("backtrace") {
        // What a stack costs where the detector captures one (a wait that may close a cycle,
        // or every wait with SYNCKIT_BACKTRACE=1): unresolved, as the detector takes it.
        let mut g = group(&mut c, "backtrace");
        g.bench_function("capture unresolved", |b| {
            b.iter(backtrace::Backtrace::new_unresolved)
        });
        g.bench_function("capture unresolved, 16 frames deeper", |b| {
            b.iter(|| at_depth(16))
        });
        g.finish();
    }

    c.final_summary();
}

/// Captures a stack `extra` frames below the caller (a learner's call chain is deeper than a
/// benchmark loop's).
#[inline(never)]
fn at_depth(extra: usize) -> backtrace::Backtrace {
    if extra == 0 {
        backtrace::Backtrace::new_unresolved()
    } else {
        std::hint::black_box(at_depth(std::hint::black_box(extra - 1)))
    }
}
