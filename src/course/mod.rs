//! The course front door: `cargo run` (welcome, the exercise list with statuses, the next
//! step), `cargo run -- hint N`, `cargo run -- explain N`, `cargo run -- list`,
//! `cargo run -- tour`.

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
        "\nAlso: `cargo run -- tour` shows the deadlock detector's reports on small programs."
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
