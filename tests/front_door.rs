//! The course's front door (`cargo run`, `cargo run -- watch`) and `cargo test exercise_N`,
//! end to end, on a temporary copy of the course.
//!
//! The copy is a small crate of its own in cargo's temporary directory: the exercises, their
//! stubs, the solutions, the harness and its checks, with synckit as a path dependency and
//! this build's target directory, so only the copy's harness is compiled (synckit and the
//! rest are this build's own artifacts). The front door is pointed at it with
//! `SYNCKIT_COURSE_DIR`. Every child process has a deadline that turns a hang into a failure.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Generous: the copy's harness is compiled at least once per test (10 to 60 s on a busy
/// 2-core machine).
const DEADLINE: Duration = Duration::from_secs(240);

/// A copy of the course under `target/tmp/NAME`.
fn course_copy(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["exercises", "solutions", "tests/course/stubs", "src/course"] {
        std::fs::create_dir_all(dir.join(sub)).expect("create the copy's folders");
    }
    let copy = |from: &str| {
        std::fs::copy(Path::new(ROOT).join(from), dir.join(from))
            .unwrap_or_else(|e| panic!("copy {from}: {e}"));
    };
    for folder in [
        "exercises",
        "solutions",
        "tests/course",
        "tests/course/stubs",
    ] {
        for entry in std::fs::read_dir(Path::new(ROOT).join(folder)).expect("read the course") {
            let entry = entry.expect("a course file");
            if entry.path().extension().is_some_and(|x| x == "rs") {
                copy(&format!("{folder}/{}", entry.file_name().to_string_lossy()));
            }
        }
    }
    copy("src/course/catalog.rs");
    copy("tests/exercises.rs");
    copy("Cargo.lock");
    // The same synckit features as this build, so that cargo reuses its artifacts.
    let features = if cfg!(feature = "solutions") {
        r#", features = ["solutions"]"#
    } else {
        ""
    };
    // A package name per copy: cargo names artifacts by package, not by folder, and copies
    // that shared a name would take each other's builds for their own.
    let manifest = format!(
        r#"[package]
name = "course-copy-{name}"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
synckit = {{ path = "{ROOT}"{features} }}
colored = "3.1.1"

[dev-dependencies]
libtest-mimic = "0.8.2"
proptest = "1.12.0"

[[test]]
name = "exercises"
harness = false

[workspace]
"#
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("write the copy's Cargo.toml");
    dir
}

/// This build's target directory (the parent of `CARGO_TARGET_TMPDIR`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target/tmp has a parent")
        .to_path_buf()
}

/// A command run in the copy: its cargo shares this build's target directory, offline.
fn in_copy(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut c = Command::new(program);
    c.current_dir(dir)
        .env("SYNCKIT_COURSE_DIR", dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .env("CARGO_NET_OFFLINE", "true")
        .env("NO_COLOR", "1")
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS");
    c
}

fn cargo() -> PathBuf {
    std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from)
}

fn front_door() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_synckit"))
}

/// Runs `command` to the end, or kills it at the deadline and fails.
fn run(mut command: Command, what: &str) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: could not start: {e}"));
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(output) => output.unwrap_or_else(|e| panic!("{what}: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            panic!("{what} did not finish within {} s", DEADLINE.as_secs());
        }
    }
}

/// One untouched copy for the tests that only read it (made once, by the first to ask).
fn pristine_copy() -> &'static Path {
    static COPY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    COPY.get_or_init(|| course_copy("front-door-pristine"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_broken_exercise_breaks_only_itself() {
    let dir = course_copy("front-door-broken");
    std::fs::copy(
        dir.join("solutions/exercise_1.rs"),
        dir.join("exercises/exercise_1.rs"),
    )
    .expect("solve exercise 1");
    let five = dir.join("exercises/exercise_5.rs");
    let broken = std::fs::read_to_string(&five)
        .expect("exercise 5")
        .replacen("        job()\n", "        job() oops\n", 1);
    assert!(broken.contains("job() oops"), "the syntax error went in");
    std::fs::write(&five, broken).expect("break exercise 5");

    let out = run(in_copy(front_door(), &dir), "`cargo run` on the copy");
    let stdout = text(&out.stdout);
    assert!(
        out.status.success(),
        "the front door failed:\n{stdout}\n{}",
        text(&out.stderr)
    );
    let line = |n: u32| -> &str {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{n} ")))
            .unwrap_or_else(|| panic!("no line for exercise {n}:\n{stdout}"))
    };
    assert!(
        line(1).contains("✓ done"),
        "exercise 1 is solved: {}",
        line(1)
    );
    for n in [2, 3, 4, 6, 7, 8, 9, 10, 11, 12] {
        assert!(
            line(n).contains("· not started"),
            "exercise {n}: {}",
            line(n)
        );
    }
    assert!(
        line(5).contains("does not compile") && line(5).contains("exercises/exercise_5.rs:"),
        "exercise 5 shows its rustc error with file:line: {}",
        line(5)
    );
    let next = stdout
        .lines()
        .find(|l| l.starts_with("Next:"))
        .unwrap_or_else(|| panic!("no Next:\n{stdout}"));
    assert!(
        next.contains("exercise 5"),
        "Next points at the broken one: {next}"
    );
    assert!(
        stdout.contains("job() oops"),
        "rustc's error shows the line:\n{stdout}"
    );
}

#[test]
fn test_filters_that_name_no_exercise_fail_in_one_line() {
    let dir = pristine_copy();
    for filter in ["exercise_99", "exercise_1x", "exercise_"] {
        let mut command = in_copy(cargo(), dir);
        command.args(["test", filter]);
        let out = run(command, &format!("`cargo test {filter}`"));
        let stderr = text(&out.stderr);
        assert!(
            !out.status.success(),
            "`cargo test {filter}` passed:\n{stderr}"
        );
        let said: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("names no exercise"))
            .collect();
        assert_eq!(said.len(), 1, "one line about `{filter}`:\n{stderr}");
        assert!(
            said[0].contains("exercise_1 to exercise_12")
                && said[0].contains("cargo test exercise_3"),
            "it says which exercises exist and how to name one: {}",
            said[0]
        );
    }
}

/// Depends on the detector printing nothing when a caller collects the report (issue 12,
/// item 1) and on a re-entrant acquire's report naming its thread.
#[test]
fn a_failing_check_prints_its_report_once() {
    let mut command = in_copy(cargo(), pristine_copy());
    command.args(["test", "exercise_3"]);
    let out = run(command, "`cargo test exercise_3`");
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!out.status.success(), "the stub of exercise 3 fails");
    let headlines = all.matches("error: re-entrant acquire").count();
    assert_eq!(headlines, 1, "one re-entrant acquire report, once:\n{all}");
    assert!(
        all.contains("thread `main` already holds `account`")
            && all.contains("stopped thread `main`"),
        "the report and the failure name thread `main`:\n{all}"
    );
    assert!(
        all.contains("--> exercises/exercise_3.rs:") && !all.contains("tests/../"),
        "the report points at the learner's file:\n{all}"
    );
}

/// A running `synckit watch`, and what it has printed so far.
struct Watch {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Watch {
    fn start(dir: &Path) -> Watch {
        let mut child = in_copy(front_door(), dir)
            .arg("watch")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start watch");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Watch {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Reads lines until one contains `want`; fails at the deadline (killing watch).
    fn expect(&mut self, want: &str) {
        let until = Instant::now() + DEADLINE;
        loop {
            let left = until.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    let found = line.contains(want);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    let _ = self.child.kill();
                    panic!(
                        "no `{want}` within {} s; watch printed:\n{}",
                        DEADLINE.as_secs(),
                        self.seen.join("\n")
                    );
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.child.wait();
                    panic!(
                        "watch ended before `{want}`; it printed:\n{}",
                        self.seen.join("\n")
                    );
                }
            }
        }
    }

    /// Types `q` + Enter and waits for watch to end; fails if it does not, or not cleanly.
    fn quit(mut self) {
        let stdin = self.child.stdin.as_mut().expect("piped stdin");
        stdin.write_all(b"q\n").expect("type q");
        let until = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().expect("watch's status") {
                assert!(status.success(), "watch quit with {status}");
                return;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!("watch did not quit on `q`");
            }
            // Polls the exit; the deadline above decides.
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn watch_checks_again_on_save_and_moves_on() {
    let dir = course_copy("front-door-watch");
    let mut watch = Watch::start(&dir);
    // It starts on exercise 1, whose stub fails, and waits for a save.
    watch.expect("== exercise 1 · Threads");
    watch.expect("test result: FAILED");
    watch.expect("save a file to check exercise 1 again");
    // The learner saves a solution: watch checks again, sees it pass, moves on to 2.
    std::fs::copy(
        dir.join("solutions/exercise_1.rs"),
        dir.join("exercises/exercise_1.rs"),
    )
    .expect("save a solution of exercise 1");
    watch.expect("== exercise 1 · Threads");
    watch.expect("✓ exercise 1 passes");
    watch.expect("== exercise 2 · Race condition");
    watch.expect("save a file to check exercise 2 again");
    watch.quit();
}
