//! Tests of the harness itself. Their names start with `harness::`, so an `exercise_N`
//! filter never selects them.

use libtest_mimic::{Failed, Trial};

use crate::catalog;
use crate::select::{Selection, belongs, select};

/// The harness's own trials.
pub fn trials() -> Vec<Trial> {
    #[allow(unused_mut)] // the project's own run (`--features solutions`) adds to it
    let mut out = vec![
        Trial::test("harness::exact_selection", exact_selection),
        Trial::test("harness::selection_end_to_end", selection_end_to_end),
        Trial::test(
            "harness::catalog_covers_every_exercise",
            catalog_covers_every_exercise,
        ),
        Trial::test("harness::worker_registry_builds", worker_registry_builds),
    ];
    #[cfg(feature = "solutions")]
    out.extend([
        Trial::test("harness::every_stub_is_unsolved", every_stub_is_unsolved),
        Trial::test(
            "harness::exercises_start_as_their_stubs",
            exercises_start_as_their_stubs,
        ),
        Trial::test(
            "harness::mutants_are_current",
            crate::mutants::mutants_are_current,
        ),
        Trial::test(
            "harness::every_interleaving_exercise_has_two_mutants",
            crate::mutants::every_interleaving_exercise_has_two_mutants,
        ),
        Trial::test("harness::a_green_run_is_quiet", a_green_run_is_quiet),
        Trial::test(
            "harness::a_reentrant_report_names_its_thread",
            a_reentrant_report_names_its_thread,
        ),
        Trial::test(
            "harness::a_join_cycle_hint_is_about_joins",
            a_join_cycle_hint_is_about_joins,
        ),
        Trial::test(
            "harness::reports_show_the_learners_frames_only",
            reports_show_the_learners_frames_only,
        ),
        Trial::test(
            "harness::readme_is_current",
            crate::readme::readme_is_current,
        ),
    ]);
    out
}

fn exact_selection() -> Result<(), Failed> {
    let names = [
        "exercise_1::a",
        "exercise_1::stub::a",
        "exercise_10::a",
        "exercise_11::b",
        "exercise_2::a",
        "harness::x",
    ];
    let numbers: Vec<u32> = (1..=12).collect();
    let pick = |filter: &str| -> Vec<&str> {
        match select(filter, &numbers) {
            Selection::Exercise { prefix, .. } => names
                .iter()
                .copied()
                .filter(|n| belongs(n, &prefix))
                .collect(),
            other => panic!("`{filter}` should select one exercise, not {other:?}"),
        }
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
    for unknown in [
        "exercise_99",
        "exercise_1x",
        "exercise_",
        "exercise",
        "exercises",
        "exercise_0",
        "exercise_x::a",
    ] {
        match select(unknown, &numbers) {
            Selection::Unknown(line) if !line.contains('\n') && line.contains("exercise_12") => {}
            other => {
                return Err(format!(
                    "`{unknown}` names no exercise: it must be refused with one line, not {other:?}"
                )
                .into());
            }
        }
    }
    if select("exercise_03::deposit", &numbers)
        != (Selection::Within {
            number: 3,
            filter: "exercise_3::deposit".into(),
        })
    {
        return Err("`exercise_03::deposit` should select within exercise 3".into());
    }
    for other in ["lock", "harness::", "stub"] {
        if select(other, &numbers) != Selection::Substring {
            return Err(format!("`{other}` must keep libtest's substring meaning").into());
        }
    }
    Ok(())
}

fn selection_end_to_end() -> Result<(), Failed> {
    // This very binary, with `--list` (which lists the selected trials, runs none).
    let list = |filter: &str| -> Result<std::process::Output, Failed> {
        let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
        std::process::Command::new(exe)
            .args([filter, "--list"])
            .output()
            .map_err(|e| format!("running the harness: {e}").into())
    };
    let trials = |out: &std::process::Output| -> Vec<String> {
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .map(str::to_string)
            .collect()
    };
    let one = list("exercise_1")?;
    let selected = trials(&one);
    if !one.status.success()
        || selected.is_empty()
        || !selected.iter().all(|t| belongs(t, "exercise_1"))
    {
        return Err(format!("`exercise_1` selected {selected:?}").into());
    }
    for filter in ["exercise_99", "exercise_1x", "exercise_"] {
        let none = list(filter)?;
        let stderr = String::from_utf8_lossy(&none.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        if none.status.success()
            || !trials(&none).is_empty()
            || lines.len() != 1
            || !lines[0].contains("cargo test exercise_3")
        {
            return Err(format!(
                "`{filter}` should select nothing, exit non-zero and say in one line which \
                 exercises exist; it exited with {} and printed:\n{stderr}",
                none.status
            )
            .into());
        }
    }
    Ok(())
}

fn catalog_covers_every_exercise() -> Result<(), Failed> {
    let root = env!("CARGO_MANIFEST_DIR");
    let registered = crate::registered();
    if registered.len() != catalog::EXERCISES.len() {
        return Err(format!(
            "{} exercises have checks, the catalog has {}",
            registered.len(),
            catalog::EXERCISES.len()
        )
        .into());
    }
    for ex in registered {
        let entry = catalog::exercise(ex.number)
            .ok_or_else(|| format!("exercise {} has checks but no catalog entry", ex.number))?;
        if entry.hints.is_empty() || entry.explain.trim().is_empty() {
            return Err(format!("exercise {} needs hints and an explanation", ex.number).into());
        }
        for file in [entry.stub_file(), entry.solution_file()] {
            let text = std::fs::read_to_string(format!("{root}/{file}"))
                .map_err(|e| format!("{file}: {e}"))?;
            if file == entry.stub_file() && !text.contains("TODO") {
                return Err(
                    format!("{file} has no `TODO` to show the learner where to work").into(),
                );
            }
        }
        if (ex.learner)().is_empty() {
            return Err(format!("exercise {} has no checks", ex.number).into());
        }
    }
    Ok(())
}

fn worker_registry_builds() -> Result<(), Failed> {
    // Workers build it at start-up, where a panic (a name registered twice, say by a stub and
    // a solution) would only show as workers that never answer.
    let registry = std::panic::catch_unwind(crate::worker_functions).map_err(|p| {
        format!(
            "the worker registry does not build: {}",
            synckit::detector::panic_message(&*p)
        )
    })?;
    let names: Vec<&str> = registry.names().collect();
    if !names.contains(&"course.ex9.job") {
        return Err(format!("the worker registry lacks `course.ex9.job`: {names:?}").into());
    }
    Ok(())
}

#[cfg(feature = "solutions")]
fn every_stub_is_unsolved() -> Result<(), Failed> {
    for ex in crate::registered() {
        let checks = (ex.stub)();
        if !checks
            .iter()
            .any(|c| matches!(c.stub, crate::support::StubExpect::Fails { .. }))
        {
            return Err(format!(
                "no check of exercise {} expects its stub to fail",
                ex.number
            )
            .into());
        }
    }
    Ok(())
}

/// The project ships `exercises/` as copies of `tests/course/stubs/`, which the front door
/// compares against to say "not started" and the stub checks run against.
#[cfg(feature = "solutions")]
fn exercises_start_as_their_stubs() -> Result<(), Failed> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut edited = Vec::new();
    for e in catalog::EXERCISES {
        let read = |file: String| {
            std::fs::read(format!("{root}/{file}")).map_err(|err| format!("{file}: {err}"))
        };
        if read(e.file())? != read(e.stub_file())? {
            edited.push(e.file());
        }
    }
    if edited.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{} differ from their untouched copies in tests/course/stubs/. Working through the \
         course? That is your work, and this check is about the project's files: run your \
         exercise with `cargo test exercise_N`. Changed an exercise for everyone? Copy it to \
         tests/course/stubs/ too.",
        edited.join(", ")
    )
    .into())
}

/// The project's own run prints no detector report on stderr: every report is collected by
/// the check that caused it (the stubs' and the mutants' failures are expected, and judged,
/// not shown). Runs this binary on the exercises whose stubs and mutants raise every kind of
/// report: a re-entrant acquire (3), every thread blocked (6), a deadlock cycle (7), a
/// lock-order inversion (8).
#[cfg(feature = "solutions")]
fn a_green_run_is_quiet() -> Result<(), Failed> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    for exercise in ["exercise_3", "exercise_6", "exercise_7", "exercise_8"] {
        let out = std::process::Command::new(&exe)
            .arg(exercise)
            .env("NO_COLOR", "1")
            .output()
            .map_err(|e| format!("running the harness: {e}"))?;
        let stderr = String::from_utf8_lossy(&out.stderr);
        if !out.status.success() {
            return Err(format!("`{exercise}` failed in the project's own run:\n{stderr}").into());
        }
        let noisy: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains("deadlock detector") || l.starts_with("error:"))
            .collect();
        if !noisy.is_empty() {
            return Err(format!(
                "`{exercise}` passed but wrote {} report line(s) on stderr; a report belongs to \
                 the check that collected it:\n{stderr}",
                noisy.len()
            )
            .into());
        }
    }
    Ok(())
}

/// The failure of the stub's check `name`, from `checks`.
#[cfg(feature = "solutions")]
fn stub_failure(
    checks: Vec<crate::support::Check>,
    name: &str,
) -> Result<crate::support::Failure, Failed> {
    let check = checks
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| format!("no check `{name}`"))?;
    (check.run)()
        .err()
        .ok_or_else(|| format!("the stub passes `{name}`").into())
}

/// Exercise 3's stub stops `main` at a re-entrant acquire: the report itself names the
/// thread (`Report::threads()`), so tools built on reports need no headline to read.
#[cfg(feature = "solutions")]
fn a_reentrant_report_names_its_thread() -> Result<(), Failed> {
    let f = stub_failure(crate::exercise_3::stub::checks(), "deposit_then_audit")?;
    let report = f.report.ok_or("the failure has no report")?;
    let names: Vec<&str> = report.threads().iter().map(|t| t.name.as_str()).collect();
    if names.contains(&"main") {
        Ok(())
    } else {
        Err(format!(
            "the re-entrant acquire's report names the threads {names:?}, not `main`:\n{report}"
        )
        .into())
    }
}

/// Exercise 4's stub holds the tree's RLock while it joins threads that wait for that RLock:
/// a cycle through a join, whose hint must be about joins, not about lock order.
#[cfg(feature = "solutions")]
fn a_join_cycle_hint_is_about_joins() -> Result<(), Failed> {
    let f = stub_failure(
        crate::exercise_4::stub::checks(),
        "child_totals_in_parallel",
    )?;
    let report = f.report.ok_or("the failure has no report")?;
    let hint = report.hint().to_lowercase();
    if hint.contains("join") && !hint.contains("lock order") && !hint.contains("global order") {
        Ok(())
    } else {
        Err(format!("a join cycle's hint talks about something else:\n{report}").into())
    }
}

/// Exercise 7's stub deadlocks under the explorer: the backtraces in its report show the
/// learner's frames (exercises/exercise_7.rs), none of synckit's, the harness's or the
/// test runner's.
#[cfg(feature = "solutions")]
fn reports_show_the_learners_frames_only() -> Result<(), Failed> {
    let f = stub_failure(crate::exercise_7::stub::checks(), "five_philosophers_dine")?;
    let report = f.report.ok_or("the failure has no report")?;
    let text = crate::support::clean_paths(&report.to_string());
    let frames: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with("at ") && l.ends_with(')'))
        .collect();
    let foreign: Vec<&&str> = frames
        .iter()
        .filter(|l| !l.contains("(exercises/exercise_7.rs"))
        .collect();
    if foreign.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the report's backtraces show frames outside the learner's code: {foreign:#?}\n{text}"
        )
        .into())
    }
}

fn check_eq(got: Vec<&str>, want: Vec<&str>, filter: &str) -> Result<(), Failed> {
    if got == want {
        Ok(())
    } else {
        Err(format!("filter `{filter}` selected {got:?}, expected {want:?}").into())
    }
}

/// Files that code writes (the mutants, the README's quoted outputs): with `SYNCKIT_BLESS=1`
/// in the environment, writes each stale one (`Some(text)`) or removes it (`None`);
/// otherwise fails, naming them and the command that brings them up to date.
pub fn bless_or_fail(what: &str, stale: Vec<(String, Option<String>)>) -> Result<(), Failed> {
    if stale.is_empty() {
        return Ok(());
    }
    if std::env::var_os("SYNCKIT_BLESS").is_some_and(|v| v == "1") {
        for (path, text) in &stale {
            let written = match text {
                Some(text) => std::fs::write(path, text),
                None => std::fs::remove_file(path),
            };
            written.map_err(|e| format!("{path}: {e}"))?;
        }
        return Ok(());
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/");
    let names: Vec<String> = stale
        .iter()
        .map(|(path, text)| {
            let path = path.strip_prefix(root).unwrap_or(path);
            match text {
                Some(_) => format!("  {path}"),
                None => format!("  {path} (no longer made: remove it)"),
            }
        })
        .collect();
    Err(format!(
        "{what} are out of date:\n{}\nregenerate them with `SYNCKIT_BLESS=1 cargo test --features \
         solutions --test exercises harness::` and review the diff",
        names.join("\n")
    )
    .into())
}
