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

    /// The whole explanation, as the learner sees it under `---- exercise_N::check ----`.
    pub fn render(&self, exercise: u32, check: &str, color: bool) -> String {
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
        if let Some(report) = &self.report {
            let _ = writeln!(out);
            let _ = writeln!(out, "  {}", paint("the detector's report:", |s| s.bold()));
            for line in report.render(color).lines() {
                let _ = writeln!(out, "  | {line}");
            }
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
/// Backtrace lines carry absolute paths: show them relative to the crate too.
pub fn clean_paths(text: &str) -> String {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    text.replace(root, "")
        .replace("tests/../", "")
        .replace("tests\\..\\", "")
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

fn is_todo(message: &str) -> bool {
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
    let thread = report
        .threads()
        .first()
        .map(|t| t.name.clone())
        .unwrap_or_else(|| {
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

// ---------------------------------------------------------------------------------------
// Checks that explore schedules (`synckit::testing::explore`), exercises 11 and 12: they
// need synckit's `testing` feature (on by default).

#[cfg(feature = "testing")]
/// How long one schedule's closed world may run before the explorer calls it stalled.
pub const SCHEDULE_DEADLINE: Duration = Duration::from_secs(5);

#[cfg(feature = "testing")]
/// How long a whole search may take before it stops (and, if it found nothing, the check
/// says it could not finish): far above what the checks need in a debug build.
pub const SEARCH_LIMIT: Duration = Duration::from_secs(30);

#[cfg(feature = "testing")]
/// `config` with the course's limits: a schedule deadline and a search time limit.
pub fn course_config(config: synckit::testing::Config) -> synckit::testing::Config {
    config.deadline(SCHEDULE_DEADLINE).time_limit(SEARCH_LIMIT)
}

#[cfg(feature = "testing")]
/// Runs an exploration (`synckit::testing::explore`, `explore_semaphore`, ...) and turns a
/// failing schedule into a [`Failure`] that explains itself: what happened under that
/// schedule, and the explorer's own account (the report, the shrunk schedule as timeline
/// lanes, the string that replays it) as a note. `refine` may reword it for the exercise,
/// looking at the explorer's failure itself. A search cut short by [`SEARCH_LIMIT`] fails as
/// [`Why::Stalled`]: a check must not pass on half a search.
pub fn explored(
    expected: &str,
    search: impl FnOnce() -> Result<synckit::testing::Stats, synckit::testing::Failure>,
    refine: impl FnOnce(&synckit::testing::Failure, Failure) -> Failure,
) -> Verdict {
    let _ = take_panics();
    let result = search();
    let _ = take_panics();
    match result {
        Ok(stats) if stats.complete => Ok(()),
        Ok(stats) => Err(Failure::new(
            Why::Stalled,
            expected,
            format!(
                "the search did not finish within {} s ({stats}): is every thread doing a few \
                 synckit operations, or does one spin?",
                SEARCH_LIMIT.as_secs()
            ),
        )),
        Err(failure) => {
            let f = from_schedule(expected, &failure);
            Err(refine(&failure, f))
        }
    }
}

#[cfg(feature = "testing")]
/// Whether a failing schedule ended with every thread blocked and `thread` (any thread, for
/// `None`) asleep on the Condition named `condition`: a wake-up that never came.
pub fn asleep_on(
    failure: &synckit::testing::Failure,
    thread: Option<&str>,
    condition: &str,
) -> bool {
    failure.report().is_some_and(|report| {
        report.kind() == ReportKind::WorldDeadlock
            && report.threads().iter().any(|t| {
                thread.is_none_or(|name| t.name == name)
                    && t.waiting.as_ref().is_some_and(|w| {
                        w.resource == condition && w.kind == synckit::detector::Kind::Condition
                    })
            })
    })
}

#[cfg(feature = "testing")]
/// A [`Failure`] for a failing schedule, in words that fit its kind.
pub fn from_schedule(expected: &str, failure: &synckit::testing::Failure) -> Failure {
    use synckit::testing::FailureKind;
    let thread = failure.thread().unwrap_or("?");
    // A panic's message ends with `(at file:line:col)`, the place it panicked.
    let (message, at) = match failure.message().rsplit_once("\n(at ") {
        Some((message, at)) => (message, Some(at.trim_end_matches(')'))),
        None => (failure.message(), None),
    };
    let at_text = at
        .map(|at| format!(" at {}", clean_paths(at)))
        .unwrap_or_default();
    let account = format!("what the explorer saw:\n\n{failure}");
    let (why, happened) = match failure.kind() {
        FailureKind::Panic if is_todo(message) => {
            // Nothing to show about schedules: the code is not written yet.
            return Failure::new(
                Why::NotImplemented,
                expected,
                format!(
                    "thread `{thread}` reached a `todo!()`{at_text}: this part is yours to write"
                ),
            );
        }
        FailureKind::Panic => (
            Why::Panicked,
            format!(
                "under one schedule, thread `{thread}` panicked{at_text}: {}",
                message.trim()
            ),
        ),
        FailureKind::Deadlock | FailureKind::LockOrderInversion => {
            let kind = failure
                .report()
                .map_or(ReportKind::WorldDeadlock, |r| r.kind());
            let happened = match kind {
                ReportKind::WorldDeadlock => "under one schedule, every thread was blocked and \
                    no one was left to wake them: without the explorer, the program would hang \
                    forever on a run that happens to interleave this way"
                    .to_string(),
                _ => format!(
                    "under one schedule, {}",
                    failure.report().map_or(failure.message(), |r| r.headline())
                ),
            };
            (Why::Report(kind), happened)
        }
        FailureKind::StepLimit => (
            Why::Livelock,
            "under one schedule, the threads kept running without finishing: a loop that \
             waits by spinning (or a wait that never sleeps) never ends when the thread it \
             waits for does not get to run"
                .to_string(),
        ),
        _ => (
            Why::Stalled,
            format!(
                "under one schedule, the check did not finish within {} s: a thread blocked \
                 outside synckit (a std lock, a channel, a sleep), where the explorer cannot \
                 see it",
                SCHEDULE_DEADLINE.as_secs()
            ),
        ),
    };
    Failure::new(why, expected, happened).note(account)
}
