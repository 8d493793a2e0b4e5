//! `cargo run`: the course front door (the exercise list with statuses, hints, background),
//! `cargo run -- tour` (a tour of the deadlock detector), `cargo run -- gil` (the simulated
//! GIL, drawn) and `cargo run -- compare` (threads vs processes, measured).

mod course;
mod tour;

fn main() -> std::process::ExitCode {
    // First line, before anything else: `cargo run -- compare` starts worker processes by
    // running this program again, and each copy must turn into a worker here instead of
    // running the course. In this (the parent) process it returns at once.
    synckit::process::hook(synckit::process::Registry::new);
    course::main()
}
