//! The course harness: `cargo test exercise_3` runs exercise 3's checks, and only those.
//!
//! A custom libtest-mimic harness (`harness = false` in Cargo.toml), for four reasons:
//! - **Exact selection, no silent green.** Cargo's test filter is a substring match, so
//!   `exercise_1` would also run `exercise_10`, and `exercise_99` would pass by running
//!   nothing. Here `exercise_N` selects exactly the checks of exercise N, and a filter that
//!   starts with `exercise` but names no exercise fails with one line saying which exist
//!   (`tests/course/select.rs`).
//! - **Stubs, solutions and wrong fixes.** By default the checks run against the learner's
//!   files, `exercises/exercise_N.rs`. With `--features solutions` they run against
//!   `solutions/exercise_N.rs`; every check also runs against the untouched stub (a copy in
//!   `tests/course/stubs/`, so the learner's edits never break the project's own run) and
//!   asserts that it fails for the reason its exercise teaches (`exercise_N::stub::...`); and
//!   every plausible wrong fix, kept as a mutant of the solution (`tests/course/mutants.rs`),
//!   must fail its check for a stated reason (`exercise_N::mutant::...`).
//! - **Failing checks teach.** Every check runs inside `synckit::check_with` (a closed world
//!   with a deadline: nothing can hang) or, when it is about interleavings, under
//!   `synckit::testing::explore` (every schedule within a bound, the same on every run: a
//!   bug that needs one interleaving fails every time, never by luck). A failure prints what
//!   was expected, what happened, the detector's report with the learner's own file:line
//!   (once: a report already shown under an earlier check is referred to, not repeated),
//!   and the first hint.
//! - **One broken exercise breaks only itself.** `cargo run` builds this harness with
//!   `--cfg course_skip="N"` for an exercise that does not compile, and shows the others'
//!   status anyway (src/course/status.rs).
//!
//! Checks run one at a time (`--test-threads` is forced to 1): panics are recorded by a
//! process-wide hook, and one check at a time is what makes them that check's.
//!
//! **Worker processes.** Exercises 9 and 10 use a `synckit::process::Pool`, which starts its
//! workers by re-executing this binary: `main` calls `synckit::process::hook` first, so a
//! worker serves the registered functions (`worker_functions`) and never runs a check.
//!
//! Layout: `tests/course/support.rs` (running and explaining), `schedules.rs` (checks under
//! `explore`), `select.rs` (filters), `selftest.rs` (the harness's own tests), `exN.rs` (the
//! checks of exercise N, included once per module they check), `table.rs` (exercise 7's
//! dinner table), `workers.rs` (the worker processes of exercises 9 and 10), `mutants.rs`
//! (the wrong fixes; `mutants/` is generated from it), `stubs/` (the untouched exercises),
//! and `src/course/catalog.rs` (titles and hints, shared with `cargo run`).
// `course_skip` is set only by the front door, through `cargo rustc -- --cfg`;
// `course_no_mutants` only to regenerate broken mutants (tests/course/mutants.rs).
#![allow(dead_code, unexpected_cfgs)]

use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use synckit::process::Registry;

#[path = "../src/course/catalog.rs"]
mod catalog;
#[cfg(feature = "solutions")]
#[path = "course/mutants.rs"]
mod mutants;
// Generated (see `mutants`): rustfmt leaves it as written.
#[cfg(all(feature = "solutions", not(course_no_mutants)))]
#[path = "course/mutants/all.rs"]
#[rustfmt::skip]
mod mutant_code;
#[cfg(feature = "solutions")]
#[path = "course/readme.rs"]
mod readme;
#[path = "course/schedules.rs"]
mod schedules;
#[path = "course/select.rs"]
mod select;
#[path = "course/selftest.rs"]
mod selftest;
#[path = "course/support.rs"]
mod support;
#[path = "course/table.rs"]
mod table;
#[path = "course/workers.rs"]
mod workers;

use select::Selection;
use support::Check;

// The learner's files (default) or the reference solutions (`--features solutions`). An
// exercise that does not compile is left out with `--cfg course_skip="N"` (see above)...
#[cfg(not(any(feature = "solutions", course_skip = "1")))]
#[path = "../exercises/exercise_1.rs"]
mod learner_1;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_1.rs"]
mod learner_1;
#[cfg(not(any(feature = "solutions", course_skip = "10")))]
#[path = "../exercises/exercise_10.rs"]
mod learner_10;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_10.rs"]
mod learner_10;
#[cfg(not(any(feature = "solutions", course_skip = "11")))]
#[path = "../exercises/exercise_11.rs"]
mod learner_11;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_11.rs"]
mod learner_11;
#[cfg(not(any(feature = "solutions", course_skip = "12")))]
#[path = "../exercises/exercise_12.rs"]
mod learner_12;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_12.rs"]
mod learner_12;
#[cfg(not(any(feature = "solutions", course_skip = "2")))]
#[path = "../exercises/exercise_2.rs"]
mod learner_2;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_2.rs"]
mod learner_2;
#[cfg(not(any(feature = "solutions", course_skip = "3")))]
#[path = "../exercises/exercise_3.rs"]
mod learner_3;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_3.rs"]
mod learner_3;
#[cfg(not(any(feature = "solutions", course_skip = "4")))]
#[path = "../exercises/exercise_4.rs"]
mod learner_4;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_4.rs"]
mod learner_4;
#[cfg(not(any(feature = "solutions", course_skip = "5")))]
#[path = "../exercises/exercise_5.rs"]
mod learner_5;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_5.rs"]
mod learner_5;
#[cfg(not(any(feature = "solutions", course_skip = "6")))]
#[path = "../exercises/exercise_6.rs"]
mod learner_6;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_6.rs"]
mod learner_6;
#[cfg(not(any(feature = "solutions", course_skip = "7")))]
#[path = "../exercises/exercise_7.rs"]
mod learner_7;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_7.rs"]
mod learner_7;
#[cfg(not(any(feature = "solutions", course_skip = "8")))]
#[path = "../exercises/exercise_8.rs"]
mod learner_8;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_8.rs"]
mod learner_8;
#[cfg(not(any(feature = "solutions", course_skip = "9")))]
#[path = "../exercises/exercise_9.rs"]
mod learner_9;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_9.rs"]
mod learner_9;

// ...and, with `--features solutions`, the untouched stubs as well.
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_1.rs"]
mod stub_1;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_10.rs"]
mod stub_10;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_11.rs"]
mod stub_11;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_12.rs"]
mod stub_12;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_2.rs"]
mod stub_2;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_3.rs"]
mod stub_3;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_4.rs"]
mod stub_4;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_5.rs"]
mod stub_5;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_6.rs"]
mod stub_6;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_7.rs"]
mod stub_7;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_8.rs"]
mod stub_8;
#[cfg(feature = "solutions")]
#[path = "course/stubs/exercise_9.rs"]
mod stub_9;

/// The checks of one exercise, instantiated for the learner's module and (with
/// `--features solutions`) for the stub: the check file refers to the code under test as
/// `ex::...`. Left out with the learner's module when the front door skips the exercise.
macro_rules! checks_for {
    ($skip:literal, $module:ident, $learner:ident, $stub:ident, $file:literal) => {
        #[cfg(not(course_skip = $skip))]
        mod $module {
            pub mod learner {
                #[allow(unused_imports)]
                use crate::$learner as ex;
                include!($file);
            }
            #[cfg(feature = "solutions")]
            pub mod stub {
                #[allow(unused_imports)]
                use crate::$stub as ex;
                include!($file);
            }
        }
    };
}

checks_for!("1", exercise_1, learner_1, stub_1, "course/ex1.rs");
checks_for!("2", exercise_2, learner_2, stub_2, "course/ex2.rs");
checks_for!("3", exercise_3, learner_3, stub_3, "course/ex3.rs");
checks_for!("4", exercise_4, learner_4, stub_4, "course/ex4.rs");
checks_for!("5", exercise_5, learner_5, stub_5, "course/ex5.rs");
checks_for!("6", exercise_6, learner_6, stub_6, "course/ex6.rs");
checks_for!("7", exercise_7, learner_7, stub_7, "course/ex7.rs");
checks_for!("8", exercise_8, learner_8, stub_8, "course/ex8.rs");
checks_for!("9", exercise_9, learner_9, stub_9, "course/ex9.rs");
checks_for!("10", exercise_10, learner_10, stub_10, "course/ex10.rs");
checks_for!("11", exercise_11, learner_11, stub_11, "course/ex11.rs");
checks_for!("12", exercise_12, learner_12, stub_12, "course/ex12.rs");

/// An exercise the harness knows: its number, its checks against the learner's module, and
/// (with `--features solutions`) against the stub.
pub struct Registered {
    pub number: u32,
    pub learner: fn() -> Vec<Check>,
    #[cfg(feature = "solutions")]
    pub stub: fn() -> Vec<Check>,
}

macro_rules! registered {
    ($($n:literal $skip:literal => $module:ident),* $(,)?) => {{
        let mut all = Vec::new();
        $(
            #[cfg(not(course_skip = $skip))]
            all.push(Registered {
                number: $n,
                learner: $module::learner::checks,
                #[cfg(feature = "solutions")]
                stub: $module::stub::checks,
            });
        )*
        all
    }};
}

/// Every exercise in this build (all twelve, unless the front door left one out).
#[allow(clippy::vec_init_then_push)] // one push per exercise, each under its own cfg
pub fn registered() -> Vec<Registered> {
    registered![
        1 "1" => exercise_1,
        2 "2" => exercise_2,
        3 "3" => exercise_3,
        4 "4" => exercise_4,
        5 "5" => exercise_5,
        6 "6" => exercise_6,
        7 "7" => exercise_7,
        8 "8" => exercise_8,
        9 "9" => exercise_9,
        10 "10" => exercise_10,
        11 "11" => exercise_11,
        12 "12" => exercise_12,
    ]
}

fn trials(color: bool) -> Vec<Trial> {
    let mut out = Vec::new();
    for ex in registered() {
        let n = ex.number;
        for check in (ex.learner)() {
            let name = format!("exercise_{n}::{}", check.name);
            let check_name = check.name;
            let run = check.run;
            out.push(Trial::test(name, move || {
                run().map_err(|f| Failed::from(f.render_once(n, check_name, color)))
            }));
        }
        #[cfg(feature = "solutions")]
        for check in (ex.stub)() {
            let name = format!("exercise_{n}::stub::{}", check.name);
            out.push(Trial::test(name, move || {
                let verdict = (check.run)();
                support::judge_stub(n, &check, verdict)
                    .map_err(|e| Failed::from(support::clean_paths(&e)))
            }));
        }
        #[cfg(feature = "solutions")]
        out.extend(mutants::trials(n));
    }
    out.extend(selftest::trials());
    out
}

/// The functions the course's worker processes can run: the course's own (exercise 9) and
/// those exercise 10's `register` adds (with `--features solutions`, the solution's, the
/// untouched stub's and the mutants', which register different names).
fn worker_functions() -> Registry {
    let workers = workers::course_functions(Registry::new());
    #[cfg(not(course_skip = "10"))]
    let workers = learner_10::register(workers);
    #[cfg(feature = "solutions")]
    let workers = stub_10::register(workers);
    #[cfg(all(feature = "solutions", not(course_no_mutants)))]
    let workers = mutant_code::register(workers);
    workers
}

fn main() -> ExitCode {
    // First, before anything else: exercises 9 and 10 start worker processes by running this
    // binary again, and each copy must become a worker here instead of running the checks.
    // In this process (the harness) it returns at once.
    synckit::process::hook(worker_functions);
    support::install_panic_hook();
    // Reports show the learner's frames only: the checks, the dinner table and the harness's
    // helpers call into the learner's code (and are called back by it).
    for harness in [
        "exercises::exercise_",
        "exercises::table",
        "exercises::support",
        "exercises::schedules",
        "exercises::workers",
        "exercises::main",
    ] {
        synckit::detector::hide_frames(harness);
    }
    let mut args = Arguments::from_args();
    let color = synckit::detector::color_enabled_stdout();
    let mut trials = trials(color);

    if let Some(filter) = args.filter.clone() {
        let numbers: Vec<u32> = catalog::EXERCISES.iter().map(|e| e.number).collect();
        match select::select(&filter, &numbers) {
            Selection::Substring => {}
            Selection::Exercise { number, prefix } => {
                trials.retain(|t| select::belongs(t.name(), &prefix));
                args.filter = None;
                args.exact = false;
                if trials.is_empty() {
                    eprintln!(
                        "exercise {number} is left out of this build because it does not \
                         compile: `cargo run` shows the error"
                    );
                    return ExitCode::FAILURE;
                }
            }
            Selection::Within { filter, .. } => args.filter = Some(filter),
            Selection::Unknown(line) => {
                eprintln!("{line}");
                return ExitCode::from(2);
            }
        }
    }
    // One check at a time: see the module docs.
    args.test_threads = Some(1);
    libtest_mimic::run(&args, trials).exit_code()
}
