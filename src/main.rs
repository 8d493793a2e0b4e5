//! `cargo run`: the course front door (the exercise list with statuses, hints, background),
//! `cargo run -- tour` (a tour of the deadlock detector), `cargo run -- gil` (the simulated
//! GIL, drawn), `cargo run -- compare` (threads vs processes, measured) and
//! `cargo run --release -- grade DIR` (grading a folder of submissions, `synckit::grade`).

mod course;
mod tour;

fn main() -> std::process::ExitCode {
    // First line, before anything else: `cargo run -- compare` starts worker processes by
    // running this program again, and each copy must turn into a worker here instead of
    // running the course. In this (the parent) process it returns at once.
    synckit::process::hook(synckit::process::Registry::new);
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("grade") {
        return grade(&args[1..]);
    }
    course::main()
}

#[cfg(all(unix, feature = "testing"))]
fn grade(args: &[String]) -> std::process::ExitCode {
    synckit::grade::cli(args)
}

#[cfg(not(all(unix, feature = "testing")))]
fn grade(_: &[String]) -> std::process::ExitCode {
    eprintln!(
        "error: grading needs a Unix system (process groups) and synckit's `testing` feature \
         (on by default): build without `--no-default-features`"
    );
    std::process::ExitCode::from(2)
}
