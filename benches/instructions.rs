//! One operation, N times, for callgrind: `instructions.sh` runs this under
//! `valgrind --tool=callgrind` with two values of N and divides the difference of the two
//! totals by the difference of the Ns, so that start-up, first-use and exit costs cancel
//! and what is left is the cost of one operation (plus the loop's own 2-3 instructions,
//! the same for every implementation).
//!
//! ```text
//! instructions IMPL WORKLOAD N
//! instructions --list          # the implementations this build has, one per line
//! ```
//! WORKLOAD: `uncontended` (acquire, increment, release), `nested2` (acquire A then B,
//! increment both, release B then A), `create` (create, first acquire + increment, drop).
//! Exit status 2 for a usage error.

mod common;

use std::hint::black_box;

use common::BenchLock;
#[cfg(not(feature = "detectors"))]
use common::peers::TracingMutex;
use common::peers::{DELOXIDE_NAME, Deloxide};
use common::{PlMutex, StdMutex};
#[cfg(not(feature = "detectors"))]
use common::{SkLock, SkLockOff};

/// Runs a workload `n` times; false if there is no such workload.
type Runner = fn(&str, u64) -> bool;

/// The implementations of this build: (short name for the command line, name, runner).
/// The `detectors` build (parking_lot's `deadlock_detection`, deloxide's lock-order graph,
/// unified into every user of those crates, synckit included) has only std and the peers.
fn implementations() -> Vec<(&'static str, &'static str, Runner)> {
    #[allow(unused_mut)]
    let mut v: Vec<(&'static str, &'static str, Runner)> = vec![
        ("std", StdMutex::NAME, run::<StdMutex>),
        ("parking_lot", PlMutex::NAME, run::<PlMutex>),
        ("deloxide", DELOXIDE_NAME, run_deloxide),
    ];
    #[cfg(not(feature = "detectors"))]
    v.extend([
        ("synckit", SkLock::NAME, run::<SkLock> as Runner),
        ("synckit-off", SkLockOff::NAME, run::<SkLockOff>),
        ("tracing-mutex", TracingMutex::NAME, run::<TracingMutex>),
    ]);
    v
}

fn run_deloxide(workload: &str, n: u64) -> bool {
    // deloxide's detector and its callback thread, as a user would have them; the thread
    // sleeps on a channel and executes nothing while the loop runs.
    deloxide::Deloxide::new()
        .callback(|info| eprintln!("deloxide reported a deadlock: {info:?}"))
        .start()
        .expect("start deloxide");
    run::<Deloxide>(workload, n)
}

/// Runs `workload` `n` times on `L`; false if there is no such workload.
fn run<L: BenchLock>(workload: &str, n: u64) -> bool {
    L::setup();
    match workload {
        "uncontended" => {
            let lock = L::new(0);
            for _ in 0..n {
                black_box(&lock).with(|x| *x += 1);
            }
        }
        "nested2" => {
            let (a, b) = (L::new(0), L::new(0));
            for _ in 0..n {
                black_box(&a).with(|x| {
                    black_box(&b).with(|y| {
                        *x += 1;
                        *y += 1;
                    })
                });
            }
        }
        "nested4" => {
            let locks = [L::new(0), L::new(0), L::new(0), L::new(0)];
            for _ in 0..n {
                black_box(&locks[0]).with(|a| {
                    black_box(&locks[1]).with(|b| {
                        black_box(&locks[2]).with(|c| {
                            black_box(&locks[3]).with(|d| {
                                *a += 1;
                                *b += 1;
                                *c += 1;
                                *d += 1;
                            })
                        })
                    })
                });
            }
        }
        "create" => {
            for _ in 0..n {
                let lock = L::new(black_box(1));
                lock.with(|x| *x += 1);
                black_box(&lock);
            }
        }
        _ => return false,
    }
    true
}

fn usage(msg: &str) -> ! {
    let names: Vec<_> = implementations().iter().map(|i| i.0).collect();
    eprintln!(
        "instructions: {msg}\nusage: instructions IMPL WORKLOAD N | instructions --list\n  IMPL: {}\n  WORKLOAD: uncontended, nested2, nested4, create",
        names.join(", ")
    );
    std::process::exit(2);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--list") {
        for (short, name, _) in implementations() {
            println!("{short}\t{name}");
        }
        return;
    }
    let [imp, workload, n] = args.as_slice() else {
        usage("expected three arguments");
    };
    let Ok(n) = n.parse::<u64>() else {
        usage(&format!("N must be a number, not {n:?}"));
    };
    let Some(&(_, _, runner)) = implementations().iter().find(|i| i.0 == imp) else {
        usage(&format!("no implementation {imp:?} in this build"));
    };
    if !runner(workload, n) {
        usage(&format!("no workload {workload:?}"));
    }
}
