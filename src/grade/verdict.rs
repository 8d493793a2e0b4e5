//! Verdicts: one per submission, from what rustc said or what its process left behind;
//! the one-line reason; and the group key that puts the same mistake by different students
//! in one group.

use std::fmt;

use super::build::CompileError;
use super::discover::{Submission, enclosing_fn};
use super::record::Record;
use super::run::{Ended, Ending, signal_name};

/// A submission's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// Every check run and every explored schedule passed.
    Ok,
    /// A cycle of owned waits, a re-entrant acquire, or a closed world where no one is left
    /// to wake anyone.
    Deadlock,
    /// A lock-order cycle: nothing was stuck, but another interleaving can deadlock.
    Inversion,
    /// A run (or a schedule) passed its deadline; the report has every thread's state.
    Stalled,
    /// A thread panicked (a failed assertion), or the process ended abnormally.
    Panicked,
    /// The process was killed at the wall-clock limit.
    Timeout,
    /// The submission did not compile (or has no `pub fn program()`).
    CompileError,
}

impl Verdict {
    /// Every verdict, in the order the counts are printed.
    pub const ALL: [Verdict; 7] = [
        Verdict::Ok,
        Verdict::Deadlock,
        Verdict::Inversion,
        Verdict::Stalled,
        Verdict::Panicked,
        Verdict::Timeout,
        Verdict::CompileError,
    ];

    /// The verdict as written in the table and the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Deadlock => "deadlock",
            Verdict::Inversion => "inversion",
            Verdict::Stalled => "stalled",
            Verdict::Panicked => "panicked",
            Verdict::Timeout => "timeout",
            Verdict::CompileError => "compile_error",
        }
    }

    fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One graded submission: a row of the table, an object of the JSON.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Row {
    /// The submission's name.
    pub submission: String,
    /// Its verdict.
    pub verdict: Verdict,
    /// What found the failure (`check, run 3 of 5`, `explore, schedule 17 ...`, `rustc`).
    pub found_by: String,
    /// For a failure found by explore: the schedule string that replays it.
    pub replay: Option<String>,
    /// The one-line reason, with the submission's file:line where there is one.
    pub summary: String,
    /// The full report: the detector's report, how it was found, and so on (no colour).
    pub report: String,
    /// The submission's captured stdout (capped).
    pub stdout: String,
    /// Its captured stderr (capped).
    pub stderr: String,
    /// Wall-clock seconds spent on it (compiling and running).
    pub seconds: f64,
    /// The group key: the same mistake gets the same key. `None` for `ok`.
    pub group: Option<String>,
    /// Where the report file went, if written.
    pub(crate) report_file: String,
}

/// The facts a verdict is built from, before they become a row.
struct Facts<'a> {
    verdict: Verdict,
    found_by: String,
    replay: Option<String>,
    headline: String,
    site: Option<String>,
    shape: String,
    primitives: Vec<String>,
    report: String,
    sub: &'a Submission,
}

impl Facts<'_> {
    /// `file:line` of the site, and the function around it, if the site is in the
    /// submission's own sources.
    fn place(&self) -> (Option<String>, Option<String>) {
        let Some(site) = &self.site else {
            return (None, None);
        };
        let mut parts = site.rsplitn(3, ':');
        let (col, line, file) = (parts.next(), parts.next(), parts.next());
        let (file, line) = match (file, line, col) {
            (Some(f), Some(l), Some(_)) => (f, l),
            _ => match site.rsplit_once(':') {
                Some((f, l)) => (f, l),
                None => return (Some(site.clone()), None),
            },
        };
        let Ok(line_no) = line.parse::<usize>() else {
            return (Some(site.clone()), None);
        };
        let function = self
            .sub
            .sources
            .iter()
            .find(|(p, _)| p.to_string_lossy() == file)
            .and_then(|(_, src)| enclosing_fn(src, line_no));
        (Some(format!("{file}:{line_no}")), function)
    }

    fn into_row(self, stdout: String, stderr: String, seconds: f64) -> Row {
        let (place, function) = self.place();
        let mut summary = self
            .headline
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        match (&place, &function) {
            (Some(p), Some(f)) => summary.push_str(&format!(" ({p}, in `{f}`)")),
            (Some(p), None) => summary.push_str(&format!(" ({p})")),
            _ => {}
        }
        let mut report = self.report;
        if matches!(
            self.verdict,
            Verdict::Stalled | Verdict::Deadlock | Verdict::Timeout
        ) && self.sub.uses_std_threads()
        {
            let note = "this submission starts threads with std::thread: they are outside \
                        synckit's world, so a wait on one of them looks stuck and their own \
                        waits are not seen";
            summary.push_str(" [uses std::thread: its threads are invisible to the world]");
            report = format!("{report}\nnote: {note}\n");
        }
        let group = (self.verdict != Verdict::Ok).then(|| {
            group_title(
                self.verdict,
                &self.shape,
                &self.primitives,
                function.as_deref(),
            )
        });
        Row {
            submission: self.sub.name.clone(),
            verdict: self.verdict,
            found_by: self.found_by,
            replay: self.replay,
            summary,
            report,
            stdout,
            stderr,
            seconds,
            group,
            report_file: self.sub.report_file.clone(),
        }
    }
}

/// The row of a submission that did not compile.
pub(crate) fn compile_error(sub: &Submission, e: &CompileError, seconds: f64) -> Row {
    let code = error_words(&e.first);
    Facts {
        verdict: Verdict::CompileError,
        found_by: "rustc".to_string(),
        replay: None,
        headline: format!("does not compile: {code}"),
        site: e.site.clone(),
        shape: format!("compile error: {code}"),
        primitives: Vec::new(),
        report: format!("{}\n\n{}", e.first, e.text),
        sub,
    }
    .into_row(String::new(), String::new(), seconds)
}

/// `error[E0308]: mismatched types` as `mismatched types [E0308]`; `error: x` as `x`.
fn error_words(first: &str) -> String {
    if let Some(rest) = first.strip_prefix("error[")
        && let Some((code, msg)) = rest.split_once("]:")
    {
        return format!("{} [{code}]", msg.trim());
    }
    first
        .strip_prefix("error:")
        .unwrap_or(first)
        .trim()
        .to_string()
}

/// What rustc said about `program` in the grading program, as a sentence for people.
pub(crate) fn entry_error(sub: &Submission, e: &CompileError) -> CompileError {
    let first = if e.first.contains("cannot find function `program`") || e.first.contains("E0425") {
        "no `pub fn program()`: the entry point must be a `pub fn program()` at the top of \
         the file (or of lib.rs)"
            .to_string()
    } else if e.first.contains("private") || e.first.contains("E0603") {
        "`program` is not public: write `pub fn program()`".to_string()
    } else {
        format!(
            "`program` has the wrong signature: it must be `pub fn program()`, with no \
             arguments and no return value ({})",
            e.first
        )
    };
    CompileError {
        first,
        site: Some(sub.root.to_string_lossy().into_owned()),
        text: format!("rustc, on the line that calls it:\n{}", e.text),
    }
}

/// The row of a submission whose process ran: from its result record and how it ended.
pub(crate) fn from_run(
    sub: &Submission,
    record: &Record,
    ended: &Ended,
    wall: std::time::Duration,
    memory_mib: u64,
    seconds: f64,
) -> Row {
    let stdout = ended.stdout.text();
    let stderr = ended.stderr.text();
    let phase = record.get("phase").unwrap_or("starting");
    let found = record.get("verdict").and_then(Verdict::parse);
    let facts = if let Some(verdict) = found {
        let complete = record.get("complete") == Some("yes");
        let mut report = record.get("report").unwrap_or("").to_string();
        if !complete {
            report.push_str(&format!(
                "\n(the process was stopped ({}) while shrinking this schedule: it is shown as \
                 found)\n",
                ending_text(ended.ending, wall)
            ));
        }
        Facts {
            verdict,
            found_by: record.get("found_by").unwrap_or("").to_string(),
            replay: record.get("replay").map(String::from),
            headline: record.get("headline").unwrap_or("").to_string(),
            site: record.get("site").map(String::from),
            shape: record.get("shape").unwrap_or("").to_string(),
            primitives: record
                .get("primitives")
                .unwrap_or("")
                .lines()
                .map(String::from)
                .collect(),
            report,
            sub,
        }
    } else {
        let (verdict, headline, shape) = match ended.ending {
            Ending::TimedOut => (
                Verdict::Timeout,
                format!(
                    "killed at the wall-clock limit of {} during {phase}",
                    secs(wall)
                ),
                "killed at the wall-clock limit".to_string(),
            ),
            Ending::Signaled(sig) => {
                let why = abort_reason(&ended.stderr.text(), memory_mib);
                (
                    Verdict::Panicked,
                    format!(
                        "the process was killed by {} during {phase}{why}",
                        signal_name(sig)
                    ),
                    format!("crash: {}{why}", signal_name(sig)),
                )
            }
            Ending::Exited(code) => (
                Verdict::Panicked,
                format!(
                    "the process exited (status {code}) during {phase}, before it was judged: \
                     does the program call std::process::exit?"
                ),
                "process exit".to_string(),
            ),
        };
        let mut report = format!("{headline}\n");
        let pid = ended.pid.to_string();
        report.push_str(&format!(
            "process {pid} (process group {}), stopped with every process it started\n",
            record.get("pgid").unwrap_or(&pid)
        ));
        if ended.pipes_held {
            report.push_str(
                "a process it started left its process group and kept the output pipes open: \
                 the output below may be incomplete\n",
            );
        }
        Facts {
            verdict,
            found_by: match verdict {
                Verdict::Timeout => "the wall-clock limit".to_string(),
                _ => "the process's exit".to_string(),
            },
            replay: None,
            headline,
            site: None,
            shape,
            primitives: Vec::new(),
            report,
            sub,
        }
    };
    facts.into_row(stdout, stderr, seconds)
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string()
        + " s"
}

fn ending_text(e: Ending, wall: std::time::Duration) -> String {
    match e {
        Ending::TimedOut => format!("killed at the wall-clock limit of {}", secs(wall)),
        Ending::Signaled(s) => format!("killed by {}", signal_name(s)),
        Ending::Exited(c) => format!("exit status {c}"),
    }
}

/// Why a process aborted, from the last words on its stderr.
fn abort_reason(stderr: &str, memory_mib: u64) -> String {
    if stderr.contains("memory allocation of") {
        format!(
            ": an allocation failed (the process may use {memory_mib} MiB of address space, \
             --memory)"
        )
    } else if stderr.contains("panic in a destructor during cleanup")
        || stderr.contains("panicked while processing panic")
        || stderr.contains("thread caused non-unwinding panic")
        || stderr.contains("panic in a function that cannot unwind")
    {
        ": a panic while another panic was unwinding (a panic inside Drop?) aborts the process"
            .to_string()
    } else if stderr.contains("has overflowed its stack") {
        ": a thread overflowed its stack (unbounded recursion?)".to_string()
    } else {
        String::new()
    }
}

/// The group a failure belongs to, as a sentence: what went wrong, with which primitives,
/// in which function. Equal sentences mean the same mistake.
pub(crate) fn group_title(
    verdict: Verdict,
    shape: &str,
    primitives: &[String],
    function: Option<&str>,
) -> String {
    let names: Vec<String> = primitives
        .iter()
        .map(|p| match p.split_once(' ') {
            Some((_, name)) => name.to_string(),
            None => p.clone(),
        })
        .collect();
    let list = |v: &[String]| -> String {
        match v {
            [] => "the primitives".to_string(),
            [a] => a.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    };
    let what = match (verdict, shape) {
        (Verdict::Inversion, _) if names.len() == 2 => {
            format!("AB/BA lock order between {} and {}", names[0], names[1])
        }
        (Verdict::Inversion, _) => format!("a lock-order cycle over {}", list(&names)),
        (_, "deadlock cycle") if names.len() == 2 => {
            format!("AB/BA deadlock between {} and {}", names[0], names[1])
        }
        (_, "deadlock cycle") => format!("a deadlock cycle over {}", list(&names)),
        (_, "re-entrant acquire") => format!("re-entrant acquire of {}", list(primitives)),
        (_, "owner exited") => format!(
            "waits for {}, whose owner exited holding it",
            list(primitives)
        ),
        (_, "no one left to wake") => {
            format!("{} waited on with no one left to wake it", list(primitives))
        }
        (_, "stall") if primitives.is_empty() => "stalled past the deadline".to_string(),
        (_, "stall") => format!("stalled waiting on {}", list(primitives)),
        (_, "livelock") => "a livelock: schedules that never end".to_string(),
        _ => shape.to_string(),
    };
    match function {
        Some(f) => format!("{what} in `{f}`"),
        None => what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn ended(ending: Ending) -> Ended {
        Ended {
            ending,
            stdout: Default::default(),
            stderr: Default::default(),
            elapsed: Default::default(),
            pid: 77,
            pipes_held: false,
        }
    }

    fn sub(src: &str) -> Submission {
        let mut sources = BTreeMap::new();
        sources.insert(PathBuf::from("bank.rs"), src.to_string());
        Submission {
            name: "bank".into(),
            root: PathBuf::from("bank.rs"),
            report_file: "bank".into(),
            sources,
            unreadable: None,
        }
    }

    #[test]
    fn groups_read_as_the_mistake() {
        let two = vec!["Lock `from`".to_string(), "Lock `to`".to_string()];
        assert_eq!(
            group_title(Verdict::Inversion, "inversion", &two, Some("transfer")),
            "AB/BA lock order between `from` and `to` in `transfer`"
        );
        assert_eq!(
            group_title(Verdict::Deadlock, "deadlock cycle", &two, None),
            "AB/BA deadlock between `from` and `to`"
        );
        assert_eq!(
            group_title(
                Verdict::Deadlock,
                "no one left to wake",
                &["Condition `not_empty`".to_string()],
                Some("take")
            ),
            "Condition `not_empty` waited on with no one left to wake it in `take`"
        );
        assert_eq!(
            group_title(
                Verdict::Timeout,
                "killed at the wall-clock limit",
                &[],
                None
            ),
            "killed at the wall-clock limit"
        );
    }

    #[test]
    fn the_summary_has_the_file_line_and_function() {
        let s = sub("pub fn program() {\n    fn transfer() {\n        x();\n    }\n}\n");
        let mut r = Record::default();
        r.set("verdict", "deadlock");
        r.set("found_by", "check, run 1 of 5");
        r.set("headline", "deadlock: 2 threads wait for each other");
        r.set("site", "bank.rs:3:9");
        r.set("shape", "deadlock cycle");
        r.set("primitives", "Lock `a`\nLock `b`");
        r.set("report", "the report");
        r.set("complete", "yes");
        let ended = ended(Ending::Exited(0));
        let row = from_run(
            &s,
            &r,
            &ended,
            std::time::Duration::from_secs(30),
            1024,
            1.0,
        );
        assert_eq!(row.verdict, Verdict::Deadlock);
        assert_eq!(
            row.summary,
            "deadlock: 2 threads wait for each other (bank.rs:3, in `transfer`)"
        );
        assert_eq!(
            row.group.as_deref(),
            Some("AB/BA deadlock between `a` and `b` in `transfer`")
        );
    }

    #[test]
    fn a_process_that_left_no_verdict_is_judged_by_how_it_ended() {
        let s = sub("pub fn program() {}\n");
        let mut r = Record::default();
        r.set("pid", "77");
        r.set("phase", "check, run 2 of 5");
        let mut ended = ended(Ending::TimedOut);
        let wall = std::time::Duration::from_secs(3);
        let row = from_run(&s, &r, &ended, wall, 1024, 3.0);
        assert_eq!(row.verdict, Verdict::Timeout);
        assert_eq!(
            row.summary,
            "killed at the wall-clock limit of 3 s during check, run 2 of 5"
        );
        assert!(row.report.contains("process 77"));
        ended.ending = Ending::Signaled(libc::SIGABRT);
        ended
            .stderr
            .push(b"memory allocation of 1073741824 bytes failed\n", 100);
        let row = from_run(&s, &r, &ended, wall, 512, 3.0);
        assert_eq!(row.verdict, Verdict::Panicked);
        assert!(row.summary.contains("SIGABRT") && row.summary.contains("512 MiB"));
        ended.ending = Ending::Exited(0);
        let row = from_run(&s, &r, &ended, wall, 512, 3.0);
        assert!(
            row.summary.contains("std::process::exit"),
            "{}",
            row.summary
        );
    }

    #[test]
    fn a_missing_program_says_so() {
        let s = sub("pub fn run() {}\n");
        let e = CompileError {
            first: "error[E0425]: cannot find function `program` in crate `sub_0`".into(),
            site: Some("main.rs:5:20".into()),
            text: "...".into(),
        };
        let row = compile_error(&s, &entry_error(&s, &e), 0.5);
        assert_eq!(row.verdict, Verdict::CompileError);
        assert!(
            row.summary
                .starts_with("does not compile: no `pub fn program()`"),
            "{}",
            row.summary
        );
        assert!(row.summary.ends_with("(bank.rs)"), "{}", row.summary);
    }
}
