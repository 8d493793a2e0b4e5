//! Threads under the simulated GIL vs worker processes: where the speedups of the course's
//! GIL and process parts are measured (tests never assert on speed).
//!
//! `cd benches && cargo bench --bench gil` (add `-- <filter>` to run some groups only). Groups:
//! - `cpu_bound`: one fixed amount of CPU work (about 80 ms) done by 1 GIL thread, split over
//!   2 and 4 GIL threads, and split over 2 worker processes. Expect the GIL threads to take as
//!   long as 1 thread (or a little longer: the switches) and, on 2 cores, the processes to
//!   take about half (plus the pipe round trips).
//! - `io_bound`: four 10 ms waits on 1 GIL thread, and on 4 GIL threads (expect about 4×).
//! - `ipc`: one call through the pool's pipes vs a shared `Lock<u64>` increment.
//!
//! The bench binary re-executes itself as the pool's workers, so its `main` calls
//! `synckit::process::hook` first (criterion's `criterion_main!` would not).

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use synckit::Lock;
use synckit::gil::{Interpreter, units_for};
use synckit::process::{Pool, Registry};

fn registry() -> Registry {
    Registry::new()
}

fn main() {
    synckit::process::hook(registry);

    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(10)
        .without_plots()
        .configure_from_args();

    let total = units_for(Duration::from_millis(80));
    let pool = Pool::new(2).expect("worker processes start");

    let mut g = c.benchmark_group("cpu_bound");
    g.bench_function("1_gil_thread", |b| {
        b.iter(|| {
            Interpreter::new().run_threads(1, |py| {
                black_box(py.compute(total));
            })
        })
    });
    for n in [2u64, 4] {
        g.bench_function(format!("{n}_gil_threads"), |b| {
            b.iter(|| {
                Interpreter::new().run_threads(n as usize, |py| {
                    black_box(py.compute(total / n));
                })
            })
        });
    }
    g.bench_function("2_processes", |b| {
        let shares = vec![total / 2; 2];
        b.iter(|| {
            let out: Vec<u64> = pool.map_chunked("synckit.spin", &shares, 1).unwrap();
            black_box(out)
        })
    });
    g.finish();

    let mut g = c.benchmark_group("io_bound");
    let wait = Duration::from_millis(10);
    g.bench_function("1_gil_thread", |b| {
        b.iter(|| {
            Interpreter::new().run_threads(1, |py| {
                for _ in 0..4 {
                    py.io(wait);
                }
            })
        })
    });
    g.bench_function("4_gil_threads", |b| {
        b.iter(|| Interpreter::new().run_threads(4, |py| py.io(wait)))
    });
    g.finish();

    let mut g = c.benchmark_group("ipc");
    g.sample_size(30);
    g.bench_function("pool_call_u64", |b| {
        b.iter(|| {
            let r: Vec<u8> = pool
                .apply("synckit.echo", &black_box(vec![7u8; 8]))
                .unwrap();
            black_box(r)
        })
    });
    let counter = Lock::new(0u64);
    g.bench_function("shared_lock_increment", |b| {
        b.iter(|| *counter.acquire() += 1)
    });
    g.finish();

    c.final_summary();
}
