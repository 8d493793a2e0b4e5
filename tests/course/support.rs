//! The course harness's machinery: every check runs its learner code inside
//! `synckit::check_with` (a closed world with a deadline, so nothing can hang), and whatever
//! went wrong becomes a [`Failure`] that explains itself: what was expected, what happened,
//! the detector's report with the learner's own file:line, and the first hint.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use colored::Colorize;
use synckit::detector::{DeadlockPanic, ReportKind};
use synckit::{Config, Outcome, Report};

use crate::catalog;

/// How long one check may run before the closed world calls it stalled.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// Why a check failed. Stubs are asserted to fail for the reason their exercise teaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why {
    /// The code reached a `todo!()`.
    NotImplemented,
    /// A result was wrong.
    WrongAnswer,
    /// The work was not done on the threads asked for.
    NotOnThreads,
    /// Two threads updated shared state and one update was lost.
    LostUpdate,
    /// A decision was taken on a look that another thread made stale: an account overdrawn.
    Overdrawn,
    /// A thread reported (returned) shared state after another thread changed it: a window
    /// between two steps that had to be one critical section.
    StaleRead,
    /// More threads used the pool at once than it has permits.
    Oversubscribed,
    /// A double release went unnoticed.
    OverReleaseMissed,
    /// A consumer gave up (got `None`) although the queue was open.
    GaveUpEarly,
    /// A notify woke too few waiters: the others sleep forever.
    LostWakeUp,
    /// The GIL's trace shows less parallelism than the target: threads queued for the GIL.
    GilBound,
    /// Work ran in the wrong place: I/O in a worker process, or Python code outside the GIL.
    WrongPlace,
    /// A worker process wrote to its own memory, and the parent waited for the write.
    IsolatedMemory,
    /// The worker processes failed (could not start, a task panicked, a name not registered).
    ProcessFailed,
    /// The detector (or the closed world) raised a report of this kind.
    Report(ReportKind),
    /// The check did not finish before its deadline.
    Stalled,
    /// Threads kept running without getting anywhere (a schedule hit the explorer's step
    /// limit): a spin loop, or a wait that wakes itself.
    Livelock,
    /// The code panicked.
    Panicked,
}

impl Why {
    /// In a sentence, for the harness's own messages.
    pub fn describe(self) -> String {
        match self {
            Why::NotImplemented => "a `todo!()` reached".into(),
            Why::WrongAnswer => "a wrong result".into(),
            Why::NotOnThreads => "work not done on the named threads".into(),
            Why::LostUpdate => "a lost update".into(),
            Why::Overdrawn => "an overdrawn account (a decision on a stale look)".into(),
            Why::StaleRead => "a result read after another thread got in (a window)".into(),
            Why::Oversubscribed => "an over-subscribed pool".into(),
            Why::OverReleaseMissed => "a double release that went unnoticed".into(),
            Why::GaveUpEarly => "a consumer that gave up on an open queue".into(),
            Why::LostWakeUp => "a lost wake-up".into(),
            Why::GilBound => {
                "threads held back by the GIL (traced parallelism under target)".into()
            }
            Why::WrongPlace => "work run in the wrong place (thread or process)".into(),
            Why::IsolatedMemory => "a write in a worker process that this process never saw".into(),
            Why::ProcessFailed => "a worker-process error".into(),
            Why::Report(kind) => format!("a detector report ({kind:?})"),
            Why::Stalled => "a stall (deadline passed)".into(),
            Why::Livelock => "a livelock (a schedule that never ends)".into(),
            Why::Panicked => "a panic".into(),
        }
    }
}

/// The reasons an explored body can fail with through [`broken`](crate::schedules::broken):
/// every `Why` that is not a report, with the tag that marks it in a panic message.
pub const TAGGED: &[(Why, &str)] = &[
    (Why::WrongAnswer, "wrong-answer"),
    (Why::NotOnThreads, "not-on-threads"),
    (Why::LostUpdate, "lost-update"),
    (Why::Overdrawn, "overdrawn"),
    (Why::StaleRead, "stale-read"),
    (Why::Oversubscribed, "oversubscribed"),
    (Why::OverReleaseMissed, "over-release-missed"),
    (Why::GaveUpEarly, "gave-up-early"),
    (Why::LostWakeUp, "lost-wake-up"),
];

/// A failed check, ready to be printed.
pub struct Failure {
    /// Why it failed.
    pub why: Why,
    /// What the check expected, in words.
    pub expected: String,
    /// What happened instead, in words.
    pub happened: String,
    /// The detector's report, when there is one.
    pub report: Option<Box<Report>>,
    /// Anything else worth showing (panic sites, thread names).
    pub notes: Vec<String>,
}

/// What a check returns.
pub type Verdict = Result<(), Failure>;

impl Failure {
    /// A failure without a report.
    pub fn new(why: Why, expected: impl Into<String>, happened: impl Into<String>) -> Self {
        Failure {
            why,
            expected: expected.into(),
            happened: happened.into(),
            report: None,
            notes: Vec::new(),
        }
    }

    /// Adds a note line.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// The whole explanation, as the learner sees it under `---- exercise_N::check ----`,
    /// except that a detector report already shown under an earlier check of this run is not
    /// shown again: one report, once (two checks of exercise 3 stop at the same line).
    pub fn render_once(&self, exercise: u32, check: &str, color: bool) -> String {
        static SHOWN: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
        let earlier = self.report.as_ref().and_then(|report| {
            let signature = signature(report);
            let mut shown = SHOWN.lock().unwrap_or_else(|e| e.into_inner());
            match shown.iter().find(|(s, _)| *s == signature) {
                Some((_, check)) => Some(check.clone()),
                None => {
                    shown.push((signature, format!("exercise_{exercise}::{check}")));
                    None
                }
            }
        });
        self.render_with(exercise, check, color, earlier.as_deref())
    }

    /// The whole explanation, report included.
    pub fn render(&self, exercise: u32, check: &str, color: bool) -> String {
        self.render_with(exercise, check, color, None)
    }

    fn render_with(
        &self,
        exercise: u32,
        check: &str,
        color: bool,
        report_shown_under: Option<&str>,
    ) -> String {
        let paint = |s: &str, style: fn(&str) -> colored::ColoredString| -> String {
            if color {
                style(s).to_string()
            } else {
                s.to_string()
            }
        };
        let mut out = String::new();
        let title = match catalog::exercise(exercise) {
            Some(e) => format!("exercise {exercise} · {} · check `{check}` failed", e.title),
            None => format!("exercise {exercise} · check `{check}` failed"),
        };
        let _ = writeln!(out, "{}", paint(&title, |s| s.red().bold()));
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "  {}  {}",
            paint("expected", |s| s.bold()),
            indent_rest(&self.expected, 12)
        );
        let _ = writeln!(
            out,
            "  {}  {}",
            paint("happened", |s| s.bold()),
            indent_rest(&self.happened, 12)
        );
        for note in &self.notes {
            let _ = writeln!(out, "            {}", indent_rest(note, 12));
        }
        match (&self.report, report_shown_under) {
            (Some(report), Some(earlier)) => {
                let _ = writeln!(out);
                let _ = writeln!(
                    out,
                    "  {} the same as under `{earlier}` above ({}{})",
                    paint("the detector's report:", |s| s.bold()),
                    kind_words(report.kind()),
                    report
                        .location()
                        .map(|l| format!(" at {}", site(l)))
                        .unwrap_or_default()
                );
            }
            (Some(report), None) => {
                let _ = writeln!(out);
                let _ = writeln!(out, "  {}", paint("the detector's report:", |s| s.bold()));
                for line in report.render(color).lines() {
                    let _ = writeln!(out, "  | {line}");
                }
            }
            (None, _) => {}
        }
        if let Some(e) = catalog::exercise(exercise) {
            let _ = writeln!(out);
            if let Some(first) = e.hints.first() {
                let _ = writeln!(
                    out,
                    "  {}  {}",
                    paint("hint", |s| s.green().bold()),
                    indent_rest(first, 8)
                );
            }
            let _ = writeln!(
                out,
                "        run `cargo run -- hint {exercise}` for more, `cargo run -- explain {exercise}` for the background"
            );
        }
        clean_paths(&out)
    }
}

/// What makes two reports the same for the learner: their kind, where they were raised, and
/// what they are about (thread names aside: four depositors stopped at one line are one story).
fn signature(report: &Report) -> String {
    let mut resources = report.resources();
    resources.sort();
    format!(
        "{:?} {} {resources:?}",
        report.kind(),
        report.location().map(site).unwrap_or_default()
    )
}

/// A report's kind in a few words.
fn kind_words(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::ReentrantAcquire => "a re-entrant acquire",
        ReportKind::Deadlock => "a deadlock",
        ReportKind::LockOrderInversion => "a lock-order inversion",
        ReportKind::WorldDeadlock => "every thread blocked",
        ReportKind::Stall => "a stall",
        ReportKind::OwnerExited => "a lock whose owner exited",
        _ => "a report",
    }
}

/// Indents every line after the first by `n` spaces.
fn indent_rest(text: &str, n: usize) -> String {
    let pad = " ".repeat(n);
    let mut lines = text.lines();
    let mut out = lines.next().unwrap_or_default().to_string();
    for line in lines {
        out.push('\n');
        if !line.is_empty() {
            out.push_str(&pad);
            out.push_str(line);
        }
    }
    out
}

/// The learner files are included from `tests/` with `#[path = "../exercises/..."]`, so
/// their call sites read `tests/../exercises/exercise_3.rs`: show `exercises/exercise_3.rs`.
/// The untouched stubs the project's own run checks are copies of those files, kept in
/// `tests/course/stubs/`: show them as the learner's files they are. Backtrace lines carry
/// absolute paths: show them relative to the crate too.
pub fn clean_paths(text: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    text.replace(root, "")
        .replace("tests/../", "")
        .replace("tests\\..\\", "")
        .replace("tests/course/stubs/", "exercises/")
}

/// A file:line:column, cleaned.
pub fn site(loc: &std::panic::Location<'_>) -> String {
    clean_paths(&format!("{}:{}:{}", loc.file(), loc.line(), loc.column()))
}

// ---------------------------------------------------------------------------------------
// Panics: recorded (with their location) instead of printed, so a failing check prints one
// clean explanation and not a wall of `thread 'x' panicked at` lines.

/// A panic seen by the hook.
#[derive(Clone)]
pub struct PanicRecord {
    /// The thread's name.
    pub thread: String,
    /// The panic message (a detector report's text for detector panics).
    pub message: String,
    /// Where it panicked.
    pub location: Option<String>,
    /// The detector's report, for detector panics.
    pub report: Option<Report>,
}

static PANICS: Mutex<Vec<PanicRecord>> = Mutex::new(Vec::new());

/// Installs the recording panic hook (once, from `main`). Checks run one at a time, so the
/// panics recorded between the start and the end of a check are that check's.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let record = PanicRecord {
            thread: std::thread::current()
                .name()
                .unwrap_or("<unnamed>")
                .to_string(),
            message: synckit::detector::panic_message(payload),
            location: info.location().map(site),
            report: payload
                .downcast_ref::<DeadlockPanic>()
                .map(|p| (*p.report).clone()),
        };
        PANICS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record);
    }));
}

/// Takes the panics recorded so far.
pub fn take_panics() -> Vec<PanicRecord> {
    std::mem::take(&mut *PANICS.lock().unwrap_or_else(|e| e.into_inner()))
}

pub fn is_todo(message: &str) -> bool {
    message.starts_with("not yet implemented") || message.starts_with("not implemented")
}

// ---------------------------------------------------------------------------------------
// Running learner code.

/// Runs `f` in a closed world (`synckit::check_with`, deadline [`DEADLINE`]). Every thread
/// `f` starts must be spawned with `synckit::thread::spawn_named` so the world knows it.
///
/// `Ok(value)` only when `f` returned, every thread of the world finished and the detector
/// raised no report at all; anything else is a [`Failure`] whose `expected` is `expected`.
pub fn run<T: Send + 'static>(
    expected: &str,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Failure> {
    let _ = take_panics();
    let outcome = synckit::check_with(Config::default().deadline(DEADLINE), f);
    let panics = take_panics();
    match outcome {
        Outcome::Ok(value) => Ok(value),
        Outcome::Deadlock(report) => Err(from_report(expected, report, &panics)),
        Outcome::Stalled(report) => {
            let mut f = Failure::new(
                Why::Stalled,
                expected,
                format!(
                    "the check did not finish within {} s: some thread is still waiting or running \
                     (its threads were left parked)",
                    DEADLINE.as_secs()
                ),
            );
            f.report = Some(Box::new(report));
            Err(f)
        }
        Outcome::Panicked(info) => {
            // A detector panic somewhere (caught by the learner's code, say) is the real story.
            if let Some(report) = panics.iter().find_map(|p| p.report.clone()) {
                return Err(from_report(expected, report, &panics));
            }
            let record = panics
                .iter()
                .find(|p| p.thread == info.thread && p.message == info.message)
                .or_else(|| panics.iter().find(|p| is_todo(&p.message)))
                .or_else(|| panics.first());
            // The world carries the panic's location (its panic hook stays quiet).
            let at = record
                .and_then(|r| r.location.clone())
                .or_else(|| info.location.as_deref().map(clean_paths));
            let at_text = at
                .as_deref()
                .map(|l| format!(" at {l}"))
                .unwrap_or_default();
            let todo = is_todo(&info.message) || panics.iter().any(|p| is_todo(&p.message));
            let f = if todo {
                let at = panics
                    .iter()
                    .find(|p| is_todo(&p.message))
                    .and_then(|p| p.location.clone())
                    .map(|l| format!(" at {l}"))
                    .unwrap_or(at_text);
                Failure::new(
                    Why::NotImplemented,
                    expected,
                    format!(
                        "thread `{}` reached a `todo!()`{at}: this part is yours to write",
                        info.thread
                    ),
                )
            } else {
                Failure::new(
                    Why::Panicked,
                    expected,
                    format!(
                        "thread `{}` panicked{at_text}: {}",
                        info.thread, info.message
                    ),
                )
            };
            Err(f)
        }
    }
}

/// A failure for a detector report, in words that fit its kind.
pub fn from_report(expected: &str, report: Report, panics: &[PanicRecord]) -> Failure {
    let thread = first_thread(&report).unwrap_or_else(|| {
        panics
            .iter()
            .find(|p| p.report.is_some())
            .map(|p| p.thread.clone())
            .unwrap_or_default()
    });
    let happened = match report.kind() {
        ReportKind::ReentrantAcquire => format!(
            "the detector stopped thread `{thread}`: it asked again for a Lock it already holds. A plain \
             Lock is not re-entrant, so without the detector this thread would wait for itself forever"
        ),
        ReportKind::Deadlock => format!(
            "the detector found {} threads each waiting for a lock the next one holds: a deadlock. \
             Without the detector they would all wait forever",
            report.threads().len().max(1)
        ),
        ReportKind::LockOrderInversion => {
            "no deadlock happened in this run, but the detector saw locks taken \
             in opposite orders: on another run, with another interleaving, the same code deadlocks"
                .to_string()
        }
        ReportKind::WorldDeadlock => {
            "every thread of the check was blocked and no one was left to wake \
             them: the closed world stopped the run (it would have hung forever)"
                .to_string()
        }
        ReportKind::OwnerExited => {
            "a thread waits for a lock whose owner exited without releasing it".into()
        }
        _ => report.headline().to_string(),
    };
    let mut f = Failure::new(Why::Report(report.kind()), expected, happened);
    f.report = Some(Box::new(report));
    f
}

/// The thread a report is about: the first it names, else the one its headline names (a
/// re-entrant acquire's report may list no threads: "thread `main` already holds ...").
pub fn first_thread(report: &Report) -> Option<String> {
    if let Some(t) = report.threads().first() {
        return Some(t.name.clone());
    }
    let rest = report.headline().split_once("thread `")?.1;
    Some(rest.split_once('`')?.0.to_string())
}

/// Waits (spinning politely) until `ready()` holds. Used to line threads up before the
/// interesting step: it decides *when* a check moves on, never *what* it concludes, and the
/// closed world's deadline bounds it.
pub fn wait_until(mut ready: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        spins += 1;
        if spins < 2_000 {
            std::thread::yield_now();
        } else {
            std::thread::sleep(Duration::from_micros(200));
        }
    }
}

/// Joins a synckit thread, turning its panic into the panic of the caller (the world then
/// reports it, with the detector's report if it was one).
#[track_caller]
pub fn join<T>(handle: synckit::thread::JoinHandle<T>) -> T {
    match handle.join() {
        Ok(v) => v,
        Err(payload) => std::panic::resume_unwind(payload),
    }
}

// ---------------------------------------------------------------------------------------
// Checks and what each stub must do.

/// What a stub (the untouched `exercises/exercise_N.rs`) must do under one check.
pub enum StubExpect {
    /// Pass: this check covers given code.
    Passes,
    /// Fail for one of these reasons, and pass `detail` if given.
    Fails {
        why: &'static [Why],
        detail: Option<Detail>,
    },
}

/// A further test of a stub's failure (beyond its [`Why`]): `Err` says what is missing.
pub type Detail = fn(&Failure) -> Result<(), String>;

/// One check of an exercise.
pub struct Check {
    /// Its name: the trial is `exercise_N::name`.
    pub name: &'static str,
    /// Runs it against the module the check file was included for.
    pub run: fn() -> Verdict,
    /// What the stub must do under it.
    pub stub: StubExpect,
}

/// Asserts a stub's verdict matches what its exercise teaches.
pub fn judge_stub(exercise: u32, check: &Check, verdict: Verdict) -> Result<(), String> {
    let (why, detail) = match &check.stub {
        StubExpect::Passes => {
            return match verdict {
                Ok(()) => Ok(()),
                Err(f) => Err(format!(
                    "the stub of exercise {exercise} should pass `{}` (it covers given code) but fails with {}:\n\n{}",
                    check.name,
                    f.why.describe(),
                    f.render(exercise, check.name, false)
                )),
            };
        }
        StubExpect::Fails { why, detail } => (why, detail),
    };
    let f = match verdict {
        Ok(()) => {
            return Err(format!(
                "the stub of exercise {exercise} passes `{}`: a stub must fail until it is solved, with {}",
                check.name,
                why.iter()
                    .map(|w| w.describe())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        Err(f) => f,
    };
    if !why.contains(&f.why) {
        return Err(format!(
            "the stub of exercise {exercise} fails `{}` for the wrong reason: expected {}, got {}:\n\n{}",
            check.name,
            why.iter()
                .map(|w| w.describe())
                .collect::<Vec<_>>()
                .join(" or "),
            f.why.describe(),
            f.render(exercise, check.name, false)
        ));
    }
    if let Some(detail) = detail
        && let Err(e) = detail(&f)
    {
        return Err(format!(
            "the stub of exercise {exercise} fails `{}` with {} as it should, but {e}:\n\n{}",
            check.name,
            f.why.describe(),
            f.render(exercise, check.name, false)
        ));
    }
    Ok(())
}

/// For stub expectations: the report's site is in the learner's file of `exercise`.
pub fn report_in_exercise_file(f: &Failure, exercise: u32) -> Result<(), String> {
    let want = format!("exercises/exercise_{exercise}.rs");
    let report = f.report.as_ref().ok_or("there is no report")?;
    let at = report
        .location()
        .map(site)
        .ok_or("the report names no call site")?;
    if at.starts_with(&want) {
        Ok(())
    } else {
        Err(format!(
            "the report points at {at}, not at a line of {want}"
        ))
    }
}
