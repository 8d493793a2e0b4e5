//! `cargo run`: the course front door (the exercise list with statuses, hints, background)
//! and `cargo run -- tour`, a tour of the deadlock detector.

mod course;
mod tour;

fn main() -> std::process::ExitCode {
    course::main()
}
