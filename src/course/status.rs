//! Where the learner stands: found by actually running the course harness
//! (`cargo test --test exercises -- --format json`), not read from a file the learner edits.
//!
//! The harness prints one JSON line per check (`{ "type": "test", "name": "exercise_3::...",
//! "event": "ok" | "failed" }`); an exercise passes when all its checks do. A failing
//! exercise whose file is unchanged since the last commit (`git diff`) is "not started".

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// How an exercise stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Every check passes.
    Passed,
    /// Some check fails, and the file was edited: `passed` of `total` checks pass.
    Failing { passed: usize, total: usize },
    /// Some check fails and the file is as it came.
    NotStarted,
    /// The checks could not be run (see [`Survey::problem`]).
    Unknown,
}

/// The result of running the course.
pub struct Survey {
    /// Status per exercise number.
    pub status: BTreeMap<u32, Status>,
    /// Why the checks could not be run, if they could not (compile errors, no cargo).
    pub problem: Option<String>,
}

impl Survey {
    /// The status of exercise `n`.
    pub fn of(&self, n: u32) -> Status {
        self.status.get(&n).copied().unwrap_or(Status::Unknown)
    }
}

/// Runs every course check once, in the crate at `root`.
pub fn survey(root: &Path, numbers: &[u32]) -> Survey {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "test",
            "--quiet",
            "--test",
            "exercises",
            "--",
            "--format",
            "json",
        ])
        .env("NO_COLOR", "1")
        .env("CARGO_TERM_COLOR", "never")
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => return unknown(numbers, format!("could not run cargo: {e}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut counts: BTreeMap<u32, (usize, usize)> = BTreeMap::new();
    for line in stdout.lines() {
        if !line.contains(r#""type": "test""#) {
            continue;
        }
        let (Some(name), Some(event)) = (json_field(line, "name"), json_field(line, "event"))
        else {
            continue;
        };
        if event == "started" {
            continue;
        }
        let Some(n) = exercise_of(name) else { continue };
        let entry = counts.entry(n).or_default();
        entry.1 += 1;
        if event == "ok" {
            entry.0 += 1;
        }
    }
    if counts.is_empty() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return unknown(numbers, compile_problem(&stderr));
    }
    let status = numbers
        .iter()
        .map(|&n| {
            let s = match counts.get(&n) {
                None => Status::Unknown,
                Some(&(passed, total)) if passed == total => Status::Passed,
                Some(&(passed, total)) => {
                    if unchanged(root, &format!("exercises/exercise_{n}.rs")) {
                        Status::NotStarted
                    } else {
                        Status::Failing { passed, total }
                    }
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

fn unknown(numbers: &[u32], problem: String) -> Survey {
    Survey {
        status: numbers.iter().map(|&n| (n, Status::Unknown)).collect(),
        problem: Some(problem),
    }
}

/// `"field": "value"` from one line of the harness's JSON output.
fn json_field<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let key = format!("\"{field}\": \"");
    let start = line.find(&key)? + key.len();
    let len = line[start..].find('"')?;
    Some(&line[start..start + len])
}

/// `exercise_3::deposit_then_audit` -> 3.
fn exercise_of(name: &str) -> Option<u32> {
    name.strip_prefix("exercise_")?
        .split("::")
        .next()?
        .parse()
        .ok()
}

/// Whether `file` is unchanged since the last commit. Unknown (not a git checkout, no git)
/// counts as changed, so nobody is told "not started" about work they did.
fn unchanged(root: &Path, file: &str) -> bool {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    // `git diff` is silent about untracked files: require the file to be tracked too.
    git(&["ls-files", "--error-unmatch", "--", file])
        && git(&["diff", "--quiet", "HEAD", "--", file])
}

/// The interesting part of a failed build: the first errors, with their source lines.
fn compile_problem(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    let first = lines.iter().position(|l| l.starts_with("error"));
    match first {
        Some(i) => {
            let shown: Vec<&str> = lines[i..].iter().take(25).copied().collect();
            format!("the course does not compile:\n\n{}", shown.join("\n"))
        }
        None if stderr.trim().is_empty() => "the course harness printed no results".to_string(),
        None => {
            let tail: Vec<&str> = lines.iter().rev().take(15).rev().copied().collect();
            format!(
                "the course harness printed no results:\n\n{}",
                tail.join("\n")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_harness_json() {
        let line = r#"{ "type": "test", "name": "exercise_12::stub::x", "event": "failed", "stdout": "Error: \"..\"" }"#;
        assert_eq!(json_field(line, "name"), Some("exercise_12::stub::x"));
        assert_eq!(json_field(line, "event"), Some("failed"));
        assert_eq!(exercise_of("exercise_12::stub::x"), Some(12));
        assert_eq!(exercise_of("harness::x"), None);
    }
}
