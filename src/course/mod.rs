//! The course front door: `cargo run` (welcome, the exercise list with statuses, the next
//! step), `cargo run -- watch`, `cargo run -- hint N`, `cargo run -- explain N`,
//! `cargo run -- list`, `cargo run -- tour`, `cargo run -- gil`, `cargo run -- compare`.

pub mod catalog;
mod demos;
mod json;
mod status;
mod watch;

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
        ["watch"] => watch::watch(&status::course_root()),
        ["hint", n] => with_exercise(n, |e| hint(e, None)),
        ["hint", n, k] => with_exercise(n, |e| hint(e, Some(k))),
        ["explain", n] => with_exercise(n, |e| {
            explain(e);
            ExitCode::SUCCESS
        }),
        ["tour"] => {
            crate::tour::run();
            ExitCode::SUCCESS
        }
        ["gil"] => demos::gil(),
        ["compare"] => demos::compare(),
        ["help" | "--help" | "-h"] => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        ["hint" | "explain"] => refuse(&format!(
            "`{}` needs an exercise number, e.g. `cargo run -- {} 3`",
            args[0], args[0]
        )),
        ["explain", ..] => {
            refuse("`explain` takes one exercise number, e.g. `cargo run -- explain 3`")
        }
        ["hint", ..] => refuse(
            "`hint` takes an exercise number and, if you like, which hint: `cargo run -- hint 3` \
             (all of them) or `cargo run -- hint 3 2` (the second)",
        ),
        _ => refuse(&format!("unknown command: `{}`", args.join(" "))),
    }
}

/// A command line we do not understand: one line saying why, the command list, exit 2.
fn refuse(why: &str) -> ExitCode {
    eprintln!("{why}\n");
    eprint!("{}", usage());
    ExitCode::from(USAGE)
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
  watch            check the exercise you are on each time you save, and move on when it passes
  list             the exercises, without running their checks
  hint N [K]       hints for exercise N, weakest first (or only the K-th)
  explain N        the background of exercise N
  tour             the deadlock detector's reports on small programs
  gil              the simulated GIL: 4 CPU-bound and 4 I/O-bound threads, drawn and timed
  compare          threads vs processes: the study notes' table, measured on this machine
  grade DIR        grade a folder of student submissions (see README)
  help             this message

exercises: {}
",
        catalog::numbers()
    )
}

/// Runs `show` on exercise `arg`, or refuses in one line: "there are 12 exercises".
fn with_exercise(arg: &str, show: impl FnOnce(&Exercise) -> ExitCode) -> ExitCode {
    match arg.parse::<u32>().ok().and_then(catalog::exercise) {
        Some(e) => show(e),
        None => {
            eprintln!(
                "there is no exercise `{arg}`: there are {} exercises, numbered {} \
                 (`cargo run -- list` shows them)",
                EXERCISES.len(),
                span()
            );
            ExitCode::from(USAGE)
        }
    }
}

/// `1 to 12`.
fn span() -> String {
    match (EXERCISES.first(), EXERCISES.last()) {
        (Some(a), Some(b)) => format!("{} to {}", a.number, b.number),
        _ => "none".to_string(),
    }
}

/// The hints of `e`, weakest first, or only the `which`-th.
fn hint(e: &Exercise, which: Option<&str>) -> ExitCode {
    let count = e.hints.len();
    let chosen = match which {
        None => None,
        Some(k) => match k.parse::<usize>() {
            Ok(k) if (1..=count).contains(&k) => Some(k),
            _ => {
                eprintln!(
                    "exercise {} has {count} hints: `cargo run -- hint {} 1` to `cargo run -- \
                     hint {} {count}` (or all of them: `cargo run -- hint {}`)",
                    e.number, e.number, e.number, e.number
                );
                return ExitCode::from(USAGE);
            }
        },
    };
    println!(
        "{}",
        format!("Exercise {} · {}: hints", e.number, e.title).bold()
    );
    match chosen {
        None => println!("(weakest first: read one, try again, come back for the next)\n"),
        Some(k) => println!("(hint {k} of {count})\n"),
    }
    for (i, h) in e.hints.iter().enumerate() {
        if chosen.is_some_and(|k| k != i + 1) {
            continue;
        }
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
    ExitCode::SUCCESS
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
    let survey = if run_checks {
        eprintln!(
            "checking your exercises: building the course's checks (cargo's progress below; the \
             first run builds synckit and its dependencies too), then running them..."
        );
        let survey = status::survey(&status::course_root());
        eprintln!();
        Some(survey)
    } else {
        None
    };
    for e in EXERCISES {
        let status = survey.as_ref().map(|s| s.of(e.number));
        let idea = match &status {
            Some(Status::Broken(error)) => {
                format!("{}: {}", error.at, error.message).red().to_string()
            }
            _ => e.idea.dimmed().to_string(),
        };
        println!(
            "  {:>2}  {:<22} {}  {idea}",
            e.number,
            e.title,
            badge(status.as_ref())
        );
    }
    println!();
    if let Some(problem) = survey.as_ref().and_then(|s| s.problem.as_ref()) {
        println!("{} {}\n", "Could not run the checks:".red().bold(), problem);
    }
    next_step(survey.as_ref());
    ExitCode::SUCCESS
}

/// The status column, always 18 characters wide.
fn badge(status: Option<&Status>) -> String {
    let width = 18;
    match status {
        None => format!("{:<width$}", ""),
        Some(Status::Passed) => format!("{:<width$}", "✓ done").green().to_string(),
        Some(Status::Failing { passed, total }) => {
            format!("{:<width$}", format!("✗ {passed}/{total} pass"))
                .red()
                .to_string()
        }
        Some(Status::NotStarted) => format!("{:<width$}", "· not started"),
        Some(Status::Broken(_)) => format!("{:<width$}", "✗ does not compile")
            .red()
            .bold()
            .to_string(),
        Some(Status::Unknown) => format!("{:<width$}", "? unknown").yellow().to_string(),
    }
}

fn next_step(survey: Option<&Survey>) {
    let next = match survey {
        Some(s) if s.problem.is_none() => s.next().and_then(catalog::exercise),
        _ => EXERCISES.first(),
    };
    let status = |e: &Exercise| survey.map(|s| s.of(e.number));
    match next {
        None => {
            println!("{}", "Every exercise passes. Well done!".green().bold());
            println!(
                "Go further: `cargo run -- tour` shows the detector on small programs, and the solutions/"
            );
            println!("folder has a reference answer (with the reasoning) for each exercise.");
        }
        Some(e) => {
            if let Some(Status::Broken(error)) = status(e) {
                println!(
                    "{} exercise {} · {} does not compile, and every `cargo test` builds all the \
                     exercises:\n      fix it first. rustc's first error:\n",
                    "Next:".bold(),
                    e.number,
                    e.title
                );
                for line in error.rendered.lines().take(14) {
                    println!("      {line}");
                }
                println!();
            } else {
                let verb = match status(e) {
                    Some(Status::Failing { .. }) => "Keep going with",
                    _ => "Next:",
                };
                println!("{} exercise {} · {}", verb.bold(), e.number, e.title);
            }
            println!(
                "      open {} and run `cargo test {}`, or `cargo run -- watch` to check it each \
                 time you save",
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
