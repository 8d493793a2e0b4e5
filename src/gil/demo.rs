//! `cargo run -- gil`: CPU-bound threads beside I/O-bound ones, each against one thread.

use std::fmt;
use std::time::Duration;

use super::interpreter::Interpreter;
use super::trace::{GilTrace, fmt_ms};
use super::work::units_for;

/// What `cargo run -- gil` shows: `threads` CPU-bound threads sharing one amount of work,
/// and `threads` I/O-bound threads, each beside the same work done by one thread, with the
/// speedups. `Display` draws both pictures.
///
/// # Examples
///
/// ```no_run
/// println!("{}", synckit::gil::demonstrate(4));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Demonstration {
    /// One thread doing all the CPU-bound work.
    pub cpu_one: GilTrace,
    /// The same work split over the threads.
    pub cpu_many: GilTrace,
    /// One thread doing every I/O wait in turn.
    pub io_one: GilTrace,
    /// The same waits split over the threads.
    pub io_many: GilTrace,
}

/// CPU work in the demonstration, in total.
const DEMO_CPU: Duration = Duration::from_millis(200);
/// One I/O wait in the demonstration, and how many each thread makes.
const DEMO_IO: Duration = Duration::from_millis(20);
const DEMO_IO_WAITS: u32 = 5;

/// Runs the demonstration (about a second and a half) with the default switch interval.
///
/// # Panics
///
/// If `threads` is zero.
pub fn demonstrate(threads: usize) -> Demonstration {
    assert!(threads >= 1, "the demonstration needs at least one thread");
    let total = units_for(DEMO_CPU);
    let share = total / threads as u64;
    let small = units_for(Duration::from_micros(200));
    let cpu_one = Interpreter::new().run_threads(1, |py| {
        py.compute(total);
    });
    let cpu_many = Interpreter::new().run_threads(threads, |py| {
        py.compute(share);
    });
    let io_one = Interpreter::new().run_threads(1, |py| {
        for _ in 0..DEMO_IO_WAITS * threads as u32 {
            py.compute(small);
            py.io(DEMO_IO);
        }
    });
    let io_many = Interpreter::new().run_threads(threads, |py| {
        for _ in 0..DEMO_IO_WAITS {
            py.compute(small);
            py.io(DEMO_IO);
        }
    });
    Demonstration {
        cpu_one,
        cpu_many,
        io_one,
        io_many,
    }
}

impl Demonstration {
    /// How much faster the threads did the CPU-bound work than one thread (about 1.0).
    pub fn cpu_speedup(&self) -> f64 {
        speedup(&self.cpu_one, &self.cpu_many)
    }

    /// How much faster the threads did the I/O-bound work than one thread (about the number
    /// of threads).
    pub fn io_speedup(&self) -> f64 {
        speedup(&self.io_one, &self.io_many)
    }
}

fn speedup(one: &GilTrace, many: &GilTrace) -> f64 {
    one.wall().as_secs_f64() / many.wall().as_secs_f64().max(1e-9)
}

impl fmt::Display for Demonstration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.cpu_many.threads();
        writeln!(
            f,
            "The GIL, simulated (switch interval {}): █ holds the GIL, · waits for it, ~ in I/O\n",
            fmt_ms(self.cpu_many.switch_interval())
        )?;
        writeln!(
            f,
            "{n} CPU-bound threads share {} of computation:",
            fmt_ms(DEMO_CPU)
        )?;
        writeln!(f, "{}", self.cpu_many)?;
        writeln!(
            f,
            "  speedup over 1 thread doing all of it ({}): {:.2}×: one thread at a time holds \
             the GIL, however many cores there are\n",
            fmt_ms(self.cpu_one.wall()),
            self.cpu_speedup()
        )?;
        writeln!(
            f,
            "{n} I/O-bound threads, each waiting {} × {} on I/O:",
            DEMO_IO_WAITS,
            fmt_ms(DEMO_IO)
        )?;
        writeln!(f, "{}", self.io_many)?;
        write!(
            f,
            "  speedup over 1 thread making every wait ({}): {:.2}×: a thread waiting on I/O has \
             released the GIL, so the waits overlap",
            fmt_ms(self.io_one.wall()),
            self.io_speedup()
        )
    }
}
