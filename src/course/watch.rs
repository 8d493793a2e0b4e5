//! `cargo run -- watch`: checks the exercise you are on, again each time an exercise file is
//! saved, and moves on to the next one when it passes (rustlings' watch mode).
//!
//! Saves are noticed by polling the files' modification times and sizes four times a
//! second. A file-watching crate would wake up on the save itself, but it adds its build to
//! every learner's first `cargo run`: notify 8.2 and its ten crates took 9 s to build from
//! cold on this project's 2-core machine (measured in a crate of its own), to save at most a
//! quarter of a second per save next to a check run that takes seconds. Polling a dozen
//! files costs nothing.

use std::collections::BTreeSet;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::time::{Duration, SystemTime};

use colored::Colorize;

use super::catalog::{self, EXERCISES};
use super::status::{self, Status};

/// How often the exercise files are looked at.
const POLL: Duration = Duration::from_millis(250);

/// What the learner can type while watching.
const KEYS: &str = "h + Enter: a hint · q + Enter: quit";

/// Runs watch mode on the course at `root` until every exercise passes or the learner quits.
pub fn watch(root: &Path) -> ExitCode {
    eprintln!("checking your exercises first (cargo's progress below)...");
    let survey = status::survey(root);
    if let Some(problem) = &survey.problem {
        eprintln!("{} {problem}", "Could not run the checks:".red().bold());
        return ExitCode::FAILURE;
    }
    let mut passed: BTreeSet<u32> = EXERCISES
        .iter()
        .map(|e| e.number)
        .filter(|&n| survey.of(n) == Status::Passed)
        .collect();
    let Some(mut current) = survey.next() else {
        println!("{}", "Every exercise passes. Well done!".green().bold());
        return ExitCode::SUCCESS;
    };
    let keys = keyboard();
    let mut seen = snapshot(root);
    loop {
        let Some(e) = catalog::exercise(current) else {
            return ExitCode::FAILURE;
        };
        println!(
            "\n{} exercise {} · {}  ({})",
            "==".bold(),
            e.number,
            e.title,
            e.file()
        );
        let _ = std::io::stdout().flush();
        if check(root, current) {
            passed.insert(current);
            println!("{}", format!("✓ exercise {current} passes").green().bold());
            match next_after(current, &passed) {
                Some(next) => {
                    current = next;
                    continue; // show where the next one stands at once
                }
                None => {
                    println!("{}", "Every exercise passes. Well done!".green().bold());
                    return ExitCode::SUCCESS;
                }
            }
        }
        println!(
            "\nwatching exercises/ for changes: save a file to check exercise {current} again · {KEYS}"
        );
        let _ = std::io::stdout().flush();
        loop {
            std::thread::sleep(POLL);
            match keys.as_ref().map(Receiver::try_recv) {
                Some(Ok(line)) if line.trim() == "q" => return ExitCode::SUCCESS,
                Some(Ok(line)) if line.trim() == "h" => {
                    if let Some(first) = e.hints.first() {
                        println!(
                            "\nhint: {first}\n(more: `cargo run -- hint {current}`)\n\n{KEYS}"
                        );
                        let _ = std::io::stdout().flush();
                    }
                }
                Some(Ok(_) | Err(TryRecvError::Empty | TryRecvError::Disconnected)) | None => {}
            }
            let now = snapshot(root);
            if now != seen {
                // An editor may write a file in several steps: let it finish.
                std::thread::sleep(POLL);
                seen = snapshot(root);
                break;
            }
        }
    }
}

/// The first exercise after `current` (going round) that has not passed.
fn next_after(current: u32, passed: &BTreeSet<u32>) -> Option<u32> {
    let numbers: Vec<u32> = EXERCISES.iter().map(|e| e.number).collect();
    let at = numbers.iter().position(|&n| n == current).unwrap_or(0);
    numbers[at + 1..]
        .iter()
        .chain(&numbers[..at])
        .copied()
        .find(|n| !passed.contains(n))
}

/// Builds the course and runs exercise `n`'s checks, their output going to the terminal.
/// Whether they all passed.
fn check(root: &Path, n: u32) -> bool {
    let harness = match status::build(root) {
        Ok(h) => h,
        Err(problem) => {
            println!("{} {problem}", "Could not build the checks:".red().bold());
            return false;
        }
    };
    if let Some(error) = harness.broken.get(&n) {
        println!(
            "{} exercise {n} does not compile. rustc's first error:\n\n{}",
            "✗".red().bold(),
            error.rendered
        );
        return false;
    }
    let ran = Command::new(&harness.exe)
        .current_dir(root)
        .arg(format!("exercise_{n}"))
        .stdin(Stdio::null())
        .status();
    match ran {
        Ok(status) => status.success(),
        Err(e) => {
            println!("could not run the checks: {e}");
            false
        }
    }
}

/// The exercise files' modification times and sizes.
fn snapshot(root: &Path) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
    EXERCISES
        .iter()
        .map(|e| {
            let path = root.join(e.file());
            let meta = std::fs::metadata(&path).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            (path, modified, len)
        })
        .collect()
}

/// Lines typed on stdin, read on a thread of their own. `None` when there is no stdin.
fn keyboard() -> Option<Receiver<String>> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("watch-keys".into())
        .spawn(move || {
            for line in std::io::stdin().lock().lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        })
        .ok()?;
    Some(rx)
}
