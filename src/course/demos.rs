//! `cargo run -- gil` (the simulated GIL, drawn) and `cargo run -- compare` (threads vs
//! processes, measured): the study notes' other half, on this machine.

use std::process::ExitCode;

use colored::Colorize;

use super::wrap;

/// `cargo run -- gil`: 4 CPU-bound and 4 I/O-bound threads under the simulated GIL, drawn.
pub fn gil() -> ExitCode {
    const THREADS: usize = 4;
    eprintln!(
        "running {THREADS} CPU-bound and {THREADS} I/O-bound threads under the simulated GIL, each \
         batch beside 1 thread doing the same work (about 1 s)...\n"
    );
    let demo = synckit::gil::demonstrate(THREADS);
    let ms = |d: std::time::Duration| {
        let ms = d.as_secs_f64() * 1000.0;
        if ms >= 100.0 {
            format!("{ms:.0} ms")
        } else {
            format!("{ms:.1} ms")
        }
    };
    let (cpu, io) = (&demo.cpu_many, &demo.io_many);
    println!(
        "{}  switch interval {} · █ holds the GIL  · waits for it  ~ in I/O, GIL released\n",
        "The GIL, simulated".bold(),
        ms(cpu.switch_interval()),
    );
    println!(
        "{}",
        format!(
            "{THREADS} CPU-bound threads share one computation ({} for 1 thread alone)",
            ms(demo.cpu_one.wall())
        )
        .bold()
    );
    print!("{}", cpu.lanes(64));
    println!(
        "  wall {} · GIL held {} · parallelism {:.2} (1.00 at most under one GIL)",
        ms(cpu.wall()),
        ms(cpu.cpu_busy()),
        cpu.parallelism()
    );
    println!(
        "  {} forced switches: a waiting thread asked after {} and the holder let go; {} spent \
         waiting for the GIL in all",
        cpu.forced_switches(),
        ms(cpu.switch_interval()),
        ms(cpu.wait_time())
    );
    println!(
        "  speedup over 1 thread: {}\n",
        format!("{:.2}×", demo.cpu_speedup()).bold()
    );
    println!(
        "{}",
        format!(
            "{THREADS} I/O-bound threads, {} of I/O each ({} for 1 thread making every wait)",
            ms(io.io_time() / THREADS as u32),
            ms(demo.io_one.wall())
        )
        .bold()
    );
    print!("{}", io.lanes(64));
    println!(
        "  wall {} · in I/O {} · GIL held {} · parallelism {:.2}",
        ms(io.wall()),
        ms(io.io_time()),
        ms(io.cpu_busy()),
        io.parallelism()
    );
    println!(
        "  speedup over 1 thread: {}\n",
        format!("{:.2}×", demo.io_speedup()).bold()
    );
    println!("{}", "What it shows".bold());
    println!(
        "{}",
        wrap(
            &format!(
                "Threads help while they wait, not while they compute ({:.1}× on I/O, {:.1}× on \
                 computation). Waiting releases the GIL, so the waits overlap; computing needs the \
                 GIL, and an interpreter has one, so computing threads take turns (the `·`: a thread \
                 waiting for the GIL while a core may sit idle). For computation Python uses \
                 processes, each with its own interpreter and its own GIL: `cargo run -- compare` \
                 measures them; exercises 9 and 10 put both to work.",
                demo.io_speedup(),
                demo.cpu_speedup()
            ),
            92,
            0
        )
    );
    ExitCode::SUCCESS
}

/// `cargo run -- compare`: the notes' threads-vs-processes table, measured.
pub fn compare() -> ExitCode {
    eprintln!("measuring threads and worker processes on this machine (5 to 10 s)...\n");
    let c = match synckit::process::compare() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{} {e}", "could not measure:".red().bold());
            return ExitCode::FAILURE;
        }
    };
    println!("{c}\n");
    println!("{}", "Reading it".bold());
    for line in reading(&c) {
        println!("  · {}", wrap(&line, 88, 4));
    }
    if cfg!(debug_assertions) {
        println!(
            "\n{}",
            "(a debug build: synckit's own costs are inflated. `cargo run --release -- compare` for \
             optimised figures)"
                .dimmed()
        );
    }
    ExitCode::SUCCESS
}

/// One sentence per lesson of the comparison, with this machine's numbers in it.
fn reading(c: &synckit::process::Comparison) -> Vec<String> {
    let ratio = |a: std::time::Duration, b: std::time::Duration| {
        a.as_secs_f64() / b.as_secs_f64().max(1e-12)
    };
    let n = c.cpus.max(2);
    let mut out = vec![
        format!(
            "Start processes once and reuse them (a Pool): starting one costs as much as {:.0} thread \
             spawns here.",
            ratio(c.process_spawn, c.thread_spawn)
        ),
        format!(
            "Send work to a process in big pieces: one call through the pipes costs as much as {:.0} \
             increments of a shared Lock.",
            ratio(c.pipe_call, c.lock_increment)
        ),
    ];
    let switch = ratio(c.process_switch, c.thread_switch);
    out.push(if switch >= 1.5 {
        format!("Handing the CPU between processes took {switch:.1}× as long as between threads.")
    } else {
        format!(
            "A hand-over between processes (over a pipe) took {switch:.1}× as long as one between \
             threads (on a synckit Condition) here: an OS switches threads and processes in much the \
             same way, so what makes processes costly is starting them and copying data to them."
        )
    });
    let processes = ratio(c.cpu_one_thread, c.cpu_processes);
    // Worker processes on n free CPUs come close to n×; far less means other programs had the
    // CPUs (the GIL threads' figure does not show it: they use one CPU at a time anyway).
    let busy = if processes < 0.65 * n as f64 {
        format!(
            " (close to {n}× on a quiet machine: other programs were using the CPUs during this \
             run)"
        )
    } else {
        String::new()
    };
    out.push(format!(
        "CPU-bound work ran {processes:.2}× faster in {n} processes{busy} and {:.2}× in {n} GIL \
         threads: processes for computing (exercise 9). I/O-bound work ran {:.2}× faster in 4 GIL \
         threads: threads for waiting.",
        ratio(c.cpu_one_thread, c.cpu_gil_threads),
        ratio(c.io_one_thread, c.io_gil_threads),
    ));
    let rlock = ratio(c.rlock_acquire, c.lock_acquire);
    out.push(if rlock >= 1.05 {
        format!(
            "An RLock cost {rlock:.2}× a Lock: it also keeps an owner and a count. Prefer a Lock \
             unless a thread must re-enter (exercise 3)."
        )
    } else {
        format!(
            "An RLock cost {rlock:.2}× a Lock here: the detector's bookkeeping, the same for both, \
             outweighs the RLock's owner and count (std's Mutex, with no detector, shows the raw \
             cost). Prefer a Lock anyway: it catches a re-entry that an RLock would hide (exercise 3)."
        )
    });
    out
}
