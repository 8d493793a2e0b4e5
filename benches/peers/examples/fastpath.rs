//! A fixed loop for instruction counting with callgrind (see ../README.md, "Profiling"):
//!
//! ```text
//! cargo build --release --example fastpath
//! valgrind --tool=callgrind target/release/examples/fastpath uncontended 1000000
//! ```
//! Modes: `pl`, `uncontended`, `off`, `nested2`, `nested2-off`, `pl-nested2`, `create`, `pl-create`.
//! Running a mode with two counts and subtracting gives the instructions per iteration.

use std::hint::black_box;

use synckit::detector::{Policy, set_policy};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("uncontended");
    let n: u64 = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    if mode.ends_with("off") {
        set_policy(Policy::Off);
    }
    match mode {
        "pl" => {
            let l = parking_lot::Mutex::new(0u64);
            for _ in 0..n {
                *black_box(&l).lock() += 1;
            }
        }
        "uncontended" | "off" => {
            let l = synckit::Lock::new(0u64);
            for _ in 0..n {
                *black_box(&l).acquire() += 1;
            }
        }
        "pl-nested2" => {
            let (a, b) = (parking_lot::Mutex::new(0u64), parking_lot::Mutex::new(0u64));
            for _ in 0..n {
                let mut x = black_box(&a).lock();
                let mut y = black_box(&b).lock();
                *x += 1;
                *y += 1;
            }
        }
        "nested2" | "nested2-off" => {
            let (a, b) = (synckit::Lock::new(0u64), synckit::Lock::new(0u64));
            for _ in 0..n {
                let mut x = black_box(&a).acquire();
                let mut y = black_box(&b).acquire();
                *x += 1;
                *y += 1;
            }
        }
        "pl-create" => {
            for _ in 0..n {
                let l = parking_lot::Mutex::new(black_box(1u64));
                *l.lock() += 1;
                black_box(&l);
            }
        }
        "create" => {
            for _ in 0..n {
                let l = synckit::Lock::new(black_box(1u64));
                *l.acquire() += 1;
                black_box(&l);
            }
        }
        other => panic!("unknown mode {other}"),
    }
}
