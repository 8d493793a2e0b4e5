//! Checks about interleavings run under `synckit::testing::explore`: the body's threads run
//! one at a time and switch only at synckit operations, and the explorer tries every
//! schedule within a bound, in the same order on every run. A bug that needs one
//! interleaving among many fails every time, and a correct solution passes every time: no
//! sleeps, no luck.
//!
//! A body says what went wrong with [`broken`]: a panic whose message carries a tag for its
//! [`Why`], which [`from_schedule`] reads back. The explorer's own account (the failing
//! schedule as timeline lanes, the string that replays it) becomes a note; its report, for a
//! deadlock, becomes the failure's report, printed once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use synckit::detector::ReportKind;
use synckit::testing::{Config, Failure as Explored, FailureKind, Stats};

use crate::support::{
    Failure, TAGGED, Verdict, Why, clean_paths, first_thread, is_todo, take_panics,
};

/// How long one schedule's closed world may run before the explorer calls it stalled.
pub const SCHEDULE_DEADLINE: Duration = Duration::from_secs(5);

/// The same, for a mutant's schedules.
const MUTANT_SCHEDULE_DEADLINE: Duration = Duration::from_secs(1);

/// How long a whole search may take before it stops (and, if it found nothing, the check
/// says it could not finish): far above what the checks need in a debug build.
pub const SEARCH_LIMIT: Duration = Duration::from_secs(30);

/// Set while the harness runs a mutant (a known wrong fix, `--features solutions`): only the
/// reason of its failure matters, so the failing schedule is not shrunk.
static MUTANT_RUN: AtomicBool = AtomicBool::new(false);

/// Marks the checks that follow as runs of a mutant (or not).
pub fn set_mutant_run(on: bool) {
    MUTANT_RUN.store(on, Ordering::SeqCst);
}

/// `config` with the course's limits: a schedule deadline and a search time limit. A failing
/// schedule is shrunk for the learner (fewest context switches), not for a mutant, whose
/// schedules also get a shorter deadline (a wrong fix that spins outside synckit stalls).
pub fn course_config(config: Config) -> Config {
    let config = config.time_limit(SEARCH_LIMIT);
    if MUTANT_RUN.load(Ordering::SeqCst) {
        config.shrink(false).deadline(MUTANT_SCHEDULE_DEADLINE)
    } else {
        config.max_shrink_runs(300).deadline(SCHEDULE_DEADLINE)
    }
}

/// Fails the schedule from inside an explored body, for `why`: `happened` says what went
/// wrong in the learner's words.
#[track_caller]
pub fn broken(why: Why, happened: impl std::fmt::Display) -> ! {
    let tag = TAGGED
        .iter()
        .find(|(w, _)| *w == why)
        .map_or("wrong-answer", |(_, tag)| tag);
    panic!("[course:{tag}] {happened}")
}

/// The `Why` and the words of a message made by [`broken`].
fn untag(message: &str) -> Option<(Why, &str)> {
    let rest = message.strip_prefix("[course:")?;
    let (tag, happened) = rest.split_once("] ")?;
    let why = TAGGED.iter().find(|(_, t)| *t == tag)?.0;
    Some((why, happened))
}

/// Runs an exploration (`synckit::testing::explore`, `explore_semaphore`, ...) and turns a
/// failing schedule into a [`Failure`] that explains itself. `refine` may reword it for the
/// exercise, looking at the explorer's failure itself. A search cut short by
/// [`SEARCH_LIMIT`] fails as [`Why::Stalled`]: a check must not pass on half a search.
pub fn explored(
    expected: &str,
    search: impl FnOnce() -> Result<Stats, Explored>,
    refine: impl FnOnce(&Explored, Failure) -> Failure,
) -> Verdict {
    let _ = take_panics();
    let result = search();
    let _ = take_panics();
    match result {
        Ok(stats) if stats.complete => {
            if std::env::var_os("COURSE_STATS").is_some() {
                eprintln!("STATS {expected:.40}: {stats}");
            }
            Ok(())
        }
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

/// Whether a failing schedule ended with every thread blocked and `thread` (any thread, for
/// `None`) asleep on the Condition named `condition`: a wake-up that never came.
pub fn asleep_on(failure: &Explored, thread: Option<&str>, condition: &str) -> bool {
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

/// The explorer's account of a failing schedule, without what the failure already shows
/// (the report, the panic message): how it was found and shrunk, the lanes, the replay.
fn account(failure: &Explored) -> String {
    let text = failure.to_string();
    let mut out = Vec::new();
    let mut in_message = false;
    for line in text.lines() {
        if line.starts_with("  | ") || line == "  |" {
            continue;
        }
        if line.starts_with("  thread `") && line.ends_with("panicked:") {
            in_message = true;
            continue;
        }
        if in_message && line.starts_with("    ") {
            continue;
        }
        in_message = false;
        out.push(line);
    }
    format!("what the explorer saw:\n\n{}", clean_paths(&out.join("\n")))
}

/// A [`Failure`] for a failing schedule, in words that fit its kind.
pub fn from_schedule(expected: &str, failure: &Explored) -> Failure {
    let thread = failure.thread().unwrap_or("?");
    let (message, at) = (failure.message(), failure.location());
    let at_text = at
        .map(|at| format!(" at {}", clean_paths(at)))
        .unwrap_or_default();
    let (why, happened) = match failure.kind() {
        FailureKind::Panic => match untag(message.trim()) {
            Some((why, happened)) => (why, format!("under one schedule, {happened}")),
            None if is_todo(message) => {
                // Nothing to show about schedules: the code is not written yet.
                return Failure::new(
                    Why::NotImplemented,
                    expected,
                    format!(
                        "thread `{thread}` reached a `todo!()`{at_text}: this part is yours to write"
                    ),
                );
            }
            None => (
                Why::Panicked,
                format!(
                    "under one schedule, thread `{thread}` panicked{at_text}: {}",
                    message.trim()
                ),
            ),
        },
        FailureKind::Deadlock | FailureKind::LockOrderInversion => {
            let kind = failure
                .report()
                .map_or(ReportKind::WorldDeadlock, |r| r.kind());
            let happened = match kind {
                ReportKind::WorldDeadlock => "under one schedule, every thread was blocked and \
                    no one was left to wake them: without the explorer, the program would hang \
                    forever on a run that happens to interleave this way"
                    .to_string(),
                ReportKind::ReentrantAcquire => format!(
                    "under one schedule, the detector stopped thread `{}`: it asked again for a \
                     Lock it already holds. A plain Lock is not re-entrant, so without the \
                     detector this thread would wait for itself forever",
                    failure
                        .report()
                        .and_then(first_thread)
                        .as_deref()
                        .unwrap_or(thread)
                ),
                ReportKind::Deadlock => format!(
                    "under one schedule, {} threads each waited for a lock the next one holds: a \
                     deadlock. Without the detector they would all wait forever",
                    failure.report().map_or(0, |r| r.threads().len()).max(2)
                ),
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
    let mut f = Failure::new(why, expected, happened).note(account(failure));
    f.report = failure.report().cloned().map(Box::new);
    f
}
