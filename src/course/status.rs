//! Where the learner stands: found by building and running the course harness
//! (tests/exercises.rs), never read from git.
//!
//! 1. **Build** it with `cargo test --no-run --test exercises --message-format json`, cargo's
//!    own progress going to the terminal as it builds. An exercise that does not compile (a
//!    rustc error in `exercises/exercise_N.rs`, or in its checks because the file no longer
//!    offers what they call) is noted with its first error and left out: the harness is built
//!    again with `cargo rustc ... -- --cfg course_skip="N"`, which recompiles the harness alone.
//!    So one broken exercise breaks only itself.
//! 2. **Run** the harness with `--format json`: one line per check. An exercise passes when
//!    all its checks do; a failing one whose file is byte for byte its untouched stub (a copy
//!    in tests/course/stubs/) is "not started".

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::catalog::{self, EXERCISES};
use super::json::Json;

/// How an exercise stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every check passes.
    Passed,
    /// Some check fails, and the file was edited: `passed` of `total` checks pass.
    Failing { passed: usize, total: usize },
    /// Some check fails and the file is as it came.
    NotStarted,
    /// The file does not compile: rustc's first error.
    Broken(CompileError),
    /// The checks could not be run (see [`Survey::problem`]).
    Unknown,
}

/// The first rustc error of an exercise that does not compile.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompileError {
    /// `file:line:column`, relative to the course.
    pub at: String,
    /// rustc's message, one line.
    pub message: String,
    /// rustc's whole rendering of the error (with the source lines), paths cleaned.
    pub rendered: String,
}

/// The result of running the course.
pub struct Survey {
    /// Status per exercise number.
    pub status: BTreeMap<u32, Status>,
    /// Why the checks could not be run at all, if they could not (no cargo, an error outside
    /// the exercises).
    pub problem: Option<String>,
}

impl Survey {
    /// The status of exercise `n`.
    pub fn of(&self, n: u32) -> Status {
        self.status.get(&n).cloned().unwrap_or(Status::Unknown)
    }

    /// The exercise to work on next: the first that does not compile (nothing can be
    /// checked until it does), else the first that does not pass.
    pub fn next(&self) -> Option<u32> {
        let numbers = || EXERCISES.iter().map(|e| e.number);
        numbers()
            .find(|&n| matches!(self.of(n), Status::Broken(_)))
            .or_else(|| numbers().find(|&n| self.of(n) != Status::Passed))
    }
}

/// The course's root: where `cargo` runs, `exercises/` and `tests/course/stubs/` live. This
/// crate, unless `SYNCKIT_COURSE_DIR` names another copy of the course (the front door's own
/// tests use one).
pub fn course_root() -> PathBuf {
    std::env::var_os("SYNCKIT_COURSE_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn cargo() -> Command {
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cargo.env("CARGO_TERM_COLOR", "auto");
    cargo
}

/// A harness that built, and the exercises left out of it.
pub struct Harness {
    /// The test binary.
    pub exe: PathBuf,
    /// Exercises that do not compile, with their first error.
    pub broken: BTreeMap<u32, CompileError>,
}

/// Builds the course harness at `root`, leaving out the exercises that do not compile.
/// Cargo's progress goes to this process's stderr. `Err` says why nothing could be built.
pub fn build(root: &Path) -> Result<Harness, String> {
    let mut broken: BTreeMap<u32, CompileError> = BTreeMap::new();
    loop {
        let mut command = cargo();
        command.current_dir(root);
        if broken.is_empty() {
            command.args(["test", "--no-run", "--test", "exercises"]);
        } else {
            // Extra flags for the harness alone: every dependency stays as it is.
            command.args(["rustc", "--profile", "test", "--test", "exercises"]);
        }
        command.args(["--message-format", "json"]);
        if !broken.is_empty() {
            command.arg("--");
            for n in broken.keys() {
                command.args(["--cfg", &format!("course_skip=\"{n}\"")]);
            }
        }
        let output = command
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| format!("could not run cargo: {e}"))?;
        let messages: Vec<Json> = String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(Json::parse)
            .collect();
        let exe = messages.iter().find_map(|m| {
            (m.get("reason")?.str()? == "compiler-artifact"
                && m.at(&["target", "name"])?.str()? == "exercises")
                .then(|| m.get("executable")?.str().map(PathBuf::from))?
        });
        if let (true, Some(exe)) = (output.status.success(), exe) {
            return Ok(Harness { exe, broken });
        }
        let errors: Vec<(Option<u32>, CompileError)> = messages
            .iter()
            .filter(|m| {
                m.get("reason").and_then(Json::str) == Some("compiler-message")
                    && m.at(&["message", "level"]).and_then(Json::str) == Some("error")
            })
            .filter_map(|m| compile_error(m.get("message")?))
            .collect();
        let Some(first) = errors.first() else {
            return Err(format!(
                "cargo could not build the course ({}), and rustc named no error: the lines \
                 above say why",
                output.status
            ));
        };
        if let Some((_, e)) = errors.iter().find(|(n, _)| n.is_none()) {
            return Err(format!(
                "the course's own code does not compile, at {}:\n\n{}",
                e.at, e.rendered
            ));
        }
        let before = broken.len();
        for (n, e) in &errors {
            if let Some(n) = n {
                broken.entry(*n).or_insert_with(|| e.clone());
            }
        }
        if broken.len() == before {
            return Err(format!(
                "the course does not compile, at {}:\n\n{}",
                first.1.at, first.1.rendered
            ));
        }
        let left_out: Vec<String> = broken.keys().map(u32::to_string).collect();
        eprintln!(
            "(exercise {} does not compile: building the checks of the others without it)",
            left_out.join(", ")
        );
    }
}

/// A rustc error's exercise (from its primary span's file) and its text.
fn compile_error(message: &Json) -> Option<(Option<u32>, CompileError)> {
    let span = message
        .get("spans")?
        .items()
        .iter()
        .find(|s| s.get("is_primary").is_some_and(Json::is_true))?;
    let file = clean(span.get("file_name")?.str()?);
    let at = format!(
        "{file}:{}:{}",
        span.get("line_start")?.num()?,
        span.get("column_start")?.num()?
    );
    let exercise = exercise_of_file(&file);
    Some((
        exercise,
        CompileError {
            at,
            message: message.get("message")?.str()?.lines().next()?.to_string(),
            rendered: clean(message.get("rendered")?.str()?)
                .trim_end()
                .to_string(),
        },
    ))
}

/// The learner files are compiled from `tests/` through `#[path = "../exercises/..."]`.
fn clean(text: &str) -> String {
    text.replace("tests/../", "")
}

/// `exercises/exercise_5.rs` or `tests/course/ex5.rs` (its checks) -> 5.
fn exercise_of_file(file: &str) -> Option<u32> {
    let digits = file
        .strip_prefix("exercises/exercise_")
        .or_else(|| file.strip_prefix("tests/course/ex"))?
        .strip_suffix(".rs")?;
    digits.parse().ok()
}

/// Every exercise unknown, because of `problem`.
fn unknown(problem: String) -> Survey {
    Survey {
        status: EXERCISES
            .iter()
            .map(|e| (e.number, Status::Unknown))
            .collect(),
        problem: Some(problem),
    }
}

/// Builds the harness and runs every course check once, in the course at `root`.
pub fn survey(root: &Path) -> Survey {
    let harness = match build(root) {
        Ok(h) => h,
        Err(problem) => return unknown(problem),
    };
    let results = match run_all(root, &harness.exe) {
        Ok(r) => r,
        Err(problem) => return unknown(problem),
    };
    let status = EXERCISES
        .iter()
        .map(|e| {
            let n = e.number;
            let s = if let Some(error) = harness.broken.get(&n) {
                Status::Broken(error.clone())
            } else {
                match results.get(&n) {
                    None => Status::Unknown,
                    Some(&(passed, total)) if passed == total => Status::Passed,
                    Some(_) if untouched(root, e) => Status::NotStarted,
                    Some(&(passed, total)) => Status::Failing { passed, total },
                }
            };
            (n, s)
        })
        .collect();
    Survey {
        status,
        problem: None,
    }
}

/// Whether the learner's file is still byte for byte its stub. A stub that cannot be read
/// counts as changed, so nobody is told "not started" about work they did.
fn untouched(root: &Path, e: &catalog::Exercise) -> bool {
    match (
        std::fs::read(root.join(e.file())),
        std::fs::read(root.join(e.stub_file())),
    ) {
        (Ok(file), Ok(stub)) => file == stub,
        _ => false,
    }
}

/// Runs every check: (passed, total) per exercise. Shows a counter on a terminal.
fn run_all(root: &Path, exe: &Path) -> Result<BTreeMap<u32, (usize, usize)>, String> {
    let mut child = Command::new(exe)
        .current_dir(root)
        .args(["--format", "json"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run the course's checks ({}): {e}", exe.display()))?;
    // The harness writes little on stderr (a worker process's complaint, say); read it on
    // the side so that it can never fill the pipe and stall the checks.
    let stderr = child.stderr.take().map(|mut s| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut s, &mut text);
            text
        })
    });
    let counter = std::io::stderr().is_terminal();
    let mut counts: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    let (mut done, mut total) = (0usize, 0usize);
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let Some(v) = Json::parse(&line) else {
                continue;
            };
            let kind = v.get("type").and_then(Json::str);
            let event = v.get("event").and_then(Json::str);
            if kind == Some("suite") && event == Some("started") {
                total = v.get("test_count").and_then(Json::num).unwrap_or(0.0) as usize;
            }
            if kind != Some("test") || matches!(event, Some("started") | None) {
                continue;
            }
            let Some(n) = v.get("name").and_then(Json::str).and_then(exercise_of) else {
                continue;
            };
            let entry = counts.entry(n).or_default();
            entry.1 += 1;
            if event == Some("ok") {
                entry.0 += 1;
            }
            done += 1;
            if counter {
                eprint!("\r  {done}/{total} checks run");
                let _ = std::io::stderr().flush();
            }
        }
    }
    if counter {
        eprintln!("\r  {done}/{total} checks run");
    }
    let status = child.wait().map_err(|e| format!("the checks: {e}"))?;
    let stderr = stderr.and_then(|h| h.join().ok()).unwrap_or_default();
    if counts.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "the course's checks printed no results ({status}):\n\n{}",
            tail.join("\n")
        ));
    }
    Ok(counts)
}

/// `exercise_3::deposit_then_audit` -> 3.
pub fn exercise_of(name: &str) -> Option<u32> {
    name.strip_prefix("exercise_")?
        .split("::")
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_files_map_to_exercises() {
        assert_eq!(exercise_of("exercise_12::stub::x"), Some(12));
        assert_eq!(exercise_of("harness::x"), None);
        assert_eq!(exercise_of_file("exercises/exercise_5.rs"), Some(5));
        assert_eq!(
            exercise_of_file(&clean("tests/../exercises/exercise_11.rs")),
            Some(11)
        );
        assert_eq!(exercise_of_file("tests/course/ex7.rs"), Some(7));
        assert_eq!(exercise_of_file("tests/course/support.rs"), None);
        assert_eq!(exercise_of_file("src/lib.rs"), None);
    }

    #[test]
    fn reads_a_rustc_error() {
        let line = r#"{"reason":"compiler-message","message":{"message":"expected `;`, found `}`","level":"error","spans":[{"file_name":"tests/../exercises/exercise_5.rs","line_start":31,"column_start":9,"is_primary":true}],"rendered":"error: expected `;`, found `}`\n  --> tests/../exercises/exercise_5.rs:31:9\n"}}"#;
        let v = Json::parse(line).unwrap();
        let (n, e) = compile_error(v.get("message").unwrap()).unwrap();
        assert_eq!(n, Some(5));
        assert_eq!(e.at, "exercises/exercise_5.rs:31:9");
        assert_eq!(e.message, "expected `;`, found `}`");
        assert!(e.rendered.ends_with("--> exercises/exercise_5.rs:31:9"));
    }

    #[test]
    fn next_is_the_broken_one_first() {
        let broken = CompileError {
            at: "exercises/exercise_5.rs:1:1".into(),
            message: "x".into(),
            rendered: "x".into(),
        };
        let mut status: BTreeMap<u32, Status> = EXERCISES
            .iter()
            .map(|e| (e.number, Status::Passed))
            .collect();
        status.insert(2, Status::NotStarted);
        let mut s = Survey {
            status,
            problem: None,
        };
        assert_eq!(s.next(), Some(2));
        s.status.insert(5, Status::Broken(broken));
        assert_eq!(s.next(), Some(5));
    }
}
