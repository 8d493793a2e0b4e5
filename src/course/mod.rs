//! The course front door: `cargo run` (welcome, the exercise list with statuses, the next
//! step), `cargo run -- hint N`, `cargo run -- explain N`, `cargo run -- list`,
//! `cargo run -- tour`, `cargo run -- gil`, `cargo run -- compare`.

pub mod catalog;
mod status;

use std::path::Path;
use std::process::ExitCode;

use colored::Colorize;

use catalog::{EXERCISES, Exercise};
use status::{Status, Survey};

/// Exit code for a command line we do not understand.
const USAGE: u8 = 2;

/// Runs the command given on the command line.
pub fn main() -> ExitCode {
    quiet_on_closed_pipe();
    colored::control::set_override(synckit::detector::color_enabled_stdout());
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        [] | ["status"] => overview(true),
        ["list"] => overview(false),
        ["hint", n] => with_exercise(n, hint),
        ["explain", n] => with_exercise(n, explain),
        ["tour"] => {
            crate::tour::run();
            ExitCode::SUCCESS
        }
        ["gil"] => gil(),
        ["compare"] => compare(),
        ["help" | "--help" | "-h"] => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        ["hint" | "explain"] => {
            eprintln!(
                "`{}` needs an exercise number, e.g. `cargo run -- {} 3`\n",
                args[0], args[0]
            );
            eprint!("{}", usage());
            ExitCode::from(USAGE)
        }
        _ => {
            eprintln!("unknown command: `{}`\n", args.join(" "));
            eprint!("{}", usage());
            ExitCode::from(USAGE)
        }
    }
}

/// `cargo run | head` closes stdout early; `println!` then panics. End quietly instead.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = synckit::detector::panic_message(info.payload());
        if message.starts_with("failed printing to stdout") {
            std::process::exit(141); // what a shell reports for SIGPIPE
        }
        default(info);
    }));
}

fn usage() -> String {
    format!(
        "usage: cargo run [-- COMMAND]

commands:
  (none), status   the course: every exercise with its status, and what to do next
  list             the exercises, without running their checks
  hint N           hints for exercise N, weakest first
  explain N        the background of exercise N
  tour             the deadlock detector's reports on small programs
  gil              the simulated GIL: 4 CPU-bound and 4 I/O-bound threads, drawn and timed
  compare          threads vs processes: the study notes' table, measured on this machine
  help             this message

exercises: {}
",
        catalog::numbers()
    )
}

fn with_exercise(arg: &str, show: fn(&Exercise)) -> ExitCode {
    match arg.parse::<u32>().ok().and_then(catalog::exercise) {
        Some(e) => {
            show(e);
            ExitCode::SUCCESS
        }
        None => {
            eprintln!(
                "there is no exercise `{arg}`: the exercises are {}\n",
                catalog::numbers()
            );
            for e in EXERCISES {
                eprintln!("  {:>2}  {}", e.number, e.title);
            }
            eprintln!();
            eprint!("{}", usage());
            ExitCode::from(USAGE)
        }
    }
}

fn hint(e: &Exercise) {
    println!(
        "{}",
        format!("Exercise {} · {}: hints", e.number, e.title).bold()
    );
    println!("(weakest first: read one, try again, come back for the next)\n");
    for (i, h) in e.hints.iter().enumerate() {
        println!(
            "{} {}\n",
            format!("{}.", i + 1).green().bold(),
            wrap(h, 88, 3)
        );
    }
    println!(
        "The file: {}   Check it: cargo test {}",
        e.file(),
        e.filter()
    );
}

fn explain(e: &Exercise) {
    println!(
        "{}\n",
        format!("Exercise {} · {}", e.number, e.title).bold()
    );
    println!("{}\n", e.explain);
    println!(
        "Now try it: {}, then `cargo test {}`.",
        e.file(),
        e.filter()
    );
}

fn overview(run_checks: bool) -> ExitCode {
    println!(
        "{}",
        "synckit · learn synchronization by breaking it safely".bold()
    );
    println!(
        "\nPython's threading primitives (Lock, RLock, Semaphore, Condition, Event, Barrier), re-made \
         in Rust\nwith a deadlock detector watching every acquire and wait. Each exercise is a page in \
         exercises/:\nread it, fix the code where it says TODO, and run its checks until they pass.\n"
    );
    let numbers: Vec<u32> = EXERCISES.iter().map(|e| e.number).collect();
    let survey = if run_checks {
        eprintln!(
            "checking your exercises (the first run builds the course, which can take a minute)...\n"
        );
        Some(status::survey(
            Path::new(env!("CARGO_MANIFEST_DIR")),
            &numbers,
        ))
    } else {
        None
    };
    for e in EXERCISES {
        let status = survey.as_ref().map(|s| s.of(e.number));
        println!(
            "  {:>2}  {:<22} {}  {}",
            e.number,
            e.title,
            badge(status),
            e.idea.dimmed()
        );
    }
    println!();
    if let Some(problem) = survey.as_ref().and_then(|s| s.problem.as_ref()) {
        println!("{} {}\n", "Could not run the checks:".red().bold(), problem);
    }
    next_step(survey.as_ref());
    ExitCode::SUCCESS
}

/// The status column, always 14 characters wide.
fn badge(status: Option<Status>) -> String {
    match status {
        None => format!("{:<14}", ""),
        Some(Status::Passed) => format!("{:<14}", "✓ done").green().to_string(),
        Some(Status::Failing { passed, total }) => {
            format!("{:<14}", format!("✗ {passed}/{total} pass"))
                .red()
                .to_string()
        }
        Some(Status::NotStarted) => format!("{:<14}", "· not started").to_string(),
        Some(Status::Unknown) => format!("{:<14}", "? unknown").yellow().to_string(),
    }
}

fn next_step(survey: Option<&Survey>) {
    let next = match survey {
        Some(s) if s.problem.is_none() => {
            EXERCISES.iter().find(|e| s.of(e.number) != Status::Passed)
        }
        _ => EXERCISES.first(),
    };
    match (next, survey) {
        (None, _) => {
            println!("{}", "Every exercise passes. Well done!".green().bold());
            println!(
                "Go further: `cargo run -- tour` shows the detector on small programs, and the solutions/"
            );
            println!("folder has a reference answer (with the reasoning) for each exercise.");
        }
        (Some(e), _) => {
            let verb = match survey.map(|s| s.of(e.number)) {
                Some(Status::Failing { .. }) => "Keep going with",
                _ => "Next:",
            };
            println!("{} exercise {} · {}", verb.bold(), e.number, e.title);
            println!(
                "      open {} and run `cargo test {}`",
                e.file(),
                e.filter()
            );
            println!(
                "      stuck? `cargo run -- hint {}` · background: `cargo run -- explain {}`",
                e.number, e.number
            );
        }
    }
    println!(
        "\nAlso: `cargo run -- tour` shows the deadlock detector's reports on small programs, \
         `cargo run -- gil`\nthe GIL at work, and `cargo run -- compare` threads vs processes on \
         this machine."
    );
}

/// Wraps `text` at `width` columns, indenting continuation lines by `indent`.
fn wrap(text: &str, width: usize, indent: usize) -> String {
    let mut out = String::new();
    let mut line = 0;
    for word in text.split_whitespace() {
        if line > 0 && line + 1 + word.len() > width {
            out.push('\n');
            out.push_str(&" ".repeat(indent));
            line = indent;
        } else if line > 0 {
            out.push(' ');
            line += 1;
        }
        out.push_str(word);
        line += word.len();
    }
    out
}

/// `cargo run -- gil`: 4 CPU-bound and 4 I/O-bound threads under the simulated GIL, drawn.
fn gil() -> ExitCode {
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
fn compare() -> ExitCode {
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
