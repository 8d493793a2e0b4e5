//! The course harness: `cargo test exercise_3` runs exercise 3's checks, and only those.
//!
//! A custom libtest-mimic harness (`harness = false` in Cargo.toml), for three reasons:
//! - **Exact selection.** Cargo's test filter is a substring match, so `exercise_1` would
//!   also run `exercise_10`. Here a filter of the form `exercise_N` selects exactly the
//!   trials of exercise N (`exercise_N::...`); any other filter keeps libtest's substring
//!   meaning. An `exercise_N` with no such exercise runs nothing and says so.
//! - **Stubs and solutions.** By default the checks run against the learner's files,
//!   `exercises/exercise_N.rs`. With `--features solutions` they run against
//!   `solutions/exercise_N.rs`, *and* every check also runs against the untouched stub and
//!   asserts that it fails for the reason its exercise teaches (`exercise_N::stub::...`).
//! - **Failing checks teach.** Every check runs inside `synckit::check_with` (a closed world
//!   with a deadline: nothing can hang) and a failure prints what was expected, what
//!   happened, the detector's report with the learner's own file:line, and the first hint.
//!
//! Checks run one at a time (`--test-threads` is forced to 1): panics are recorded by a
//! process-wide hook, and one check at a time is what makes them that check's.
//!
//! **Worker processes.** Exercises 9 and 10 use a `synckit::process::Pool`, which starts its
//! workers by re-executing this binary: `main` calls `synckit::process::hook` first, so a
//! worker serves the registered functions (`worker_functions`) and never runs a check.
//!
//! **Schedules.** Exercises 11 and 12 check with `synckit::testing` (the `testing` feature,
//! on by default): `explore` runs on the harness's thread and makes a closed world per
//! schedule (its own deadline, plus the course's search time limit), and
//! `support::explored` turns a failing schedule into an explanation that ends with the
//! explorer's account: the report and the shrunk schedule as timeline lanes.
//!
//! Layout: `tests/course/support.rs` (running and explaining), `tests/course/exN.rs` (the
//! checks of exercise N, included once per module they check), `tests/course/table.rs`
//! (exercise 7's dinner table), `tests/course/workers.rs` (the worker processes of
//! exercises 9 and 10), `src/course/catalog.rs` (titles and hints, shared with `cargo run`).
#![allow(dead_code)]

use std::process::ExitCode;

use libtest_mimic::{Arguments, Failed, Trial};
use synckit::process::Registry;

#[path = "../src/course/catalog.rs"]
mod catalog;
#[path = "course/support.rs"]
mod support;
#[path = "course/table.rs"]
mod table;
#[path = "course/workers.rs"]
mod workers;

use support::Check;

// The learner's files (default) or the reference solutions (`--features solutions`)...
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_1.rs"]
mod learner_1;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_10.rs"]
mod learner_10;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_11.rs"]
mod learner_11;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_12.rs"]
mod learner_12;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_2.rs"]
mod learner_2;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_3.rs"]
mod learner_3;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_4.rs"]
mod learner_4;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_5.rs"]
mod learner_5;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_6.rs"]
mod learner_6;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_7.rs"]
mod learner_7;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_8.rs"]
mod learner_8;
#[cfg(not(feature = "solutions"))]
#[path = "../exercises/exercise_9.rs"]
mod learner_9;

#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_1.rs"]
mod learner_1;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_10.rs"]
mod learner_10;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_11.rs"]
mod learner_11;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_12.rs"]
mod learner_12;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_2.rs"]
mod learner_2;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_3.rs"]
mod learner_3;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_4.rs"]
mod learner_4;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_5.rs"]
mod learner_5;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_6.rs"]
mod learner_6;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_7.rs"]
mod learner_7;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_8.rs"]
mod learner_8;
#[cfg(feature = "solutions")]
#[path = "../solutions/exercise_9.rs"]
mod learner_9;

// ...and, with `--features solutions`, the untouched stubs as well.
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_1.rs"]
mod stub_1;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_10.rs"]
mod stub_10;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_11.rs"]
mod stub_11;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_12.rs"]
mod stub_12;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_2.rs"]
mod stub_2;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_3.rs"]
mod stub_3;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_4.rs"]
mod stub_4;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_5.rs"]
mod stub_5;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_6.rs"]
mod stub_6;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_7.rs"]
mod stub_7;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_8.rs"]
mod stub_8;
#[cfg(feature = "solutions")]
#[allow(unused)]
#[path = "../exercises/exercise_9.rs"]
mod stub_9;

/// The checks of one exercise, instantiated for the learner's module and (with
/// `--features solutions`) for the stub: the check file refers to the code under test as
/// `ex::...`.
macro_rules! checks_for {
    ($module:ident, $learner:ident, $stub:ident, $file:literal) => {
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

checks_for!(exercise_1, learner_1, stub_1, "course/ex1.rs");
checks_for!(exercise_2, learner_2, stub_2, "course/ex2.rs");
checks_for!(exercise_3, learner_3, stub_3, "course/ex3.rs");
checks_for!(exercise_4, learner_4, stub_4, "course/ex4.rs");
checks_for!(exercise_5, learner_5, stub_5, "course/ex5.rs");
checks_for!(exercise_6, learner_6, stub_6, "course/ex6.rs");
checks_for!(exercise_7, learner_7, stub_7, "course/ex7.rs");
checks_for!(exercise_8, learner_8, stub_8, "course/ex8.rs");
checks_for!(exercise_9, learner_9, stub_9, "course/ex9.rs");
checks_for!(exercise_10, learner_10, stub_10, "course/ex10.rs");
// Exercises 11 and 12 check with `synckit::testing` (the `testing` feature, on by default).
#[cfg(feature = "testing")]
checks_for!(exercise_11, learner_11, stub_11, "course/ex11.rs");
#[cfg(feature = "testing")]
checks_for!(exercise_12, learner_12, stub_12, "course/ex12.rs");

/// An exercise the harness knows: its number, its checks against the learner's module, and
/// (with `--features solutions`) against the stub.
struct Registered {
    number: u32,
    learner: fn() -> Vec<Check>,
    #[cfg(feature = "solutions")]
    stub: fn() -> Vec<Check>,
}

macro_rules! registered {
    ($($n:literal => $module:ident),* $(,)?) => {
        vec![$(Registered {
            number: $n,
            learner: $module::learner::checks,
            #[cfg(feature = "solutions")]
            stub: $module::stub::checks,
        }),*]
    };
}

fn registered() -> Vec<Registered> {
    #[allow(unused_mut)]
    let mut all = registered![
        1 => exercise_1,
        2 => exercise_2,
        3 => exercise_3,
        4 => exercise_4,
        5 => exercise_5,
        6 => exercise_6,
        7 => exercise_7,
        8 => exercise_8,
        9 => exercise_9,
        10 => exercise_10,
    ];
    #[cfg(feature = "testing")]
    all.extend(registered![
        11 => exercise_11,
        12 => exercise_12,
    ]);
    all
}

/// Exercises whose checks need a feature this build lacks, with the feature's name.
fn needs_feature(n: u32) -> Option<&'static str> {
    (matches!(n, 11 | 12) && !cfg!(feature = "testing")).then_some("testing")
}

/// If `filter` names one exercise (`exercise_3`), its canonical prefix.
fn exercise_filter(filter: &str) -> Option<(u32, String)> {
    let digits = filter.strip_prefix("exercise_")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u32 = digits.parse().ok()?;
    Some((n, format!("exercise_{n}")))
}

/// Whether the trial `name` belongs to the exercise whose prefix is `prefix`.
fn belongs(name: &str, prefix: &str) -> bool {
    name == prefix
        || name
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with("::"))
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
                run().map_err(|f| Failed::from(f.render(n, check_name, color)))
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
    }
    out.extend(self_tests());
    out
}

/// Tests of the harness itself (their names start with `harness::`, so an `exercise_N`
/// filter never selects them).
fn self_tests() -> Vec<Trial> {
    let mut out = vec![
        Trial::test("harness::exact_selection", || {
            let names = [
                "exercise_1::a",
                "exercise_1::stub::a",
                "exercise_10::a",
                "exercise_11::b",
                "exercise_2::a",
                "harness::x",
            ];
            let pick = |filter: &str| -> Vec<&str> {
                let (_, prefix) = exercise_filter(filter).expect("an exercise filter");
                names
                    .iter()
                    .copied()
                    .filter(|n| belongs(n, &prefix))
                    .collect()
            };
            check_eq(
                pick("exercise_1"),
                vec!["exercise_1::a", "exercise_1::stub::a"],
                "exercise_1",
            )?;
            check_eq(pick("exercise_10"), vec!["exercise_10::a"], "exercise_10")?;
            check_eq(
                pick("exercise_01"),
                vec!["exercise_1::a", "exercise_1::stub::a"],
                "exercise_01",
            )?;
            check_eq(pick("exercise_99"), vec![], "exercise_99")?;
            for not_exact in [
                "exercise_",
                "exercise_1::a",
                "exercise_x",
                "lock",
                "exercise",
            ] {
                if exercise_filter(not_exact).is_some() {
                    return Err(
                        format!("`{not_exact}` must keep libtest's substring meaning").into(),
                    );
                }
            }
            Ok(())
        }),
        Trial::test("harness::selection_end_to_end", || {
            // This very binary, with `--list` (which lists the selected trials, runs none).
            let list = |filter: &str| -> Result<String, Failed> {
                let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
                let out = std::process::Command::new(exe)
                    .args([filter, "--list"])
                    .output()
                    .map_err(|e| format!("running the harness: {e}"))?;
                Ok(String::from_utf8_lossy(&out.stdout).into_owned())
            };
            let trials = |text: &str| -> Vec<String> {
                text.lines()
                    .filter_map(|l| l.strip_suffix(": test"))
                    .map(str::to_string)
                    .collect()
            };
            let one = trials(&list("exercise_1")?);
            if one.is_empty() || !one.iter().all(|t| belongs(t, "exercise_1")) {
                return Err(format!("`exercise_1` selected {one:?}").into());
            }
            let none = list("exercise_99")?;
            if !trials(&none).is_empty() || !none.contains("no exercise 99") {
                return Err(format!(
                    "`exercise_99` should select nothing and say so; printed:\n{none}"
                )
                .into());
            }
            Ok(())
        }),
        Trial::test("harness::catalog_covers_every_exercise", || {
            let root = env!("CARGO_MANIFEST_DIR");
            for ex in registered() {
                let entry = catalog::exercise(ex.number).ok_or_else(|| {
                    format!("exercise {} has checks but no catalog entry", ex.number)
                })?;
                if entry.hints.is_empty() || entry.explain.trim().is_empty() {
                    return Err(
                        format!("exercise {} needs hints and an explanation", ex.number).into(),
                    );
                }
                for file in [entry.file(), entry.solution_file()] {
                    let text = std::fs::read_to_string(format!("{root}/{file}"))
                        .map_err(|e| format!("{file}: {e}"))?;
                    // Only the untouched stubs (the project's own run, `--features
                    // solutions`) must have one: a learner's solved file need not.
                    if cfg!(feature = "solutions")
                        && file.starts_with("exercises/")
                        && !text.contains("TODO")
                    {
                        return Err(format!(
                            "{file} has no `TODO` to show the learner where to work"
                        )
                        .into());
                    }
                }
                if (ex.learner)().is_empty() {
                    return Err(format!("exercise {} has no checks", ex.number).into());
                }
            }
            Ok(())
        }),
        Trial::test("harness::worker_registry_builds", || {
            // Workers build it at start-up, where a panic (a name registered twice, say by a
            // stub and a solution) would only show as workers that never answer.
            let registry = std::panic::catch_unwind(worker_functions).map_err(|p| {
                format!(
                    "the worker registry does not build: {}",
                    synckit::detector::panic_message(&*p)
                )
            })?;
            let names: Vec<&str> = registry.names().collect();
            for want in ["course.ex9.job", learner_10::CHUNK_STEPS] {
                if !names.contains(&want) {
                    return Err(format!("the worker registry lacks `{want}`: {names:?}").into());
                }
            }
            Ok(())
        }),
    ];
    #[cfg(feature = "solutions")]
    out.push(Trial::test("harness::every_stub_is_unsolved", || {
        for ex in registered() {
            let checks = (ex.stub)();
            if !checks
                .iter()
                .any(|c| matches!(c.stub, support::StubExpect::Fails { .. }))
            {
                return Err(format!(
                    "no check of exercise {} expects its stub to fail",
                    ex.number
                )
                .into());
            }
        }
        Ok(())
    }));
    #[cfg(not(feature = "solutions"))]
    let _ = &mut out;
    out
}

fn check_eq(got: Vec<&str>, want: Vec<&str>, filter: &str) -> Result<(), Failed> {
    if got == want {
        Ok(())
    } else {
        Err(format!("filter `{filter}` selected {got:?}, expected {want:?}").into())
    }
}

/// The functions the course's worker processes can run: the course's own (exercise 9) and
/// those exercise 10's `register` adds (with `--features solutions`, the solution's and the
/// untouched stub's, which register different names).
fn worker_functions() -> Registry {
    let workers = workers::course_functions(Registry::new());
    let workers = learner_10::register(workers);
    #[cfg(feature = "solutions")]
    let workers = stub_10::register(workers);
    workers
}

fn main() -> ExitCode {
    // First, before anything else: exercises 9 and 10 start worker processes by running this
    // binary again, and each copy must become a worker here instead of running the checks.
    // In this process (the harness) it returns at once.
    synckit::process::hook(worker_functions);
    support::install_panic_hook();
    let mut args = Arguments::from_args();
    let color = synckit::detector::color_enabled_stdout();
    let mut trials = trials(color);

    if let Some(filter) = args.filter.clone()
        && let Some((n, prefix)) = exercise_filter(&filter)
    {
        trials.retain(|t| belongs(t.name(), &prefix));
        args.filter = None;
        args.exact = false;
        if let Some(feature) = needs_feature(n).filter(|_| trials.is_empty()) {
            println!(
                "\nexercise {n} is checked with synckit's `{feature}` feature, which this build \
                 leaves out: run `cargo test --features {feature} exercise_{n}`"
            );
        } else if trials.is_empty() {
            println!(
                "\nno exercise {n} in the course: the exercises are {} (`cargo run` lists them)",
                catalog::numbers()
            );
        }
    }
    // One check at a time: see the module docs.
    args.test_threads = Some(1);
    libtest_mimic::run(&args, trials).exit_code()
}
