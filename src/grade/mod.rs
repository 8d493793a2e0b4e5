//! Grading a folder of student submissions: `cargo run --release -- grade DIR`.
//!
//! Each submission (a `*.rs` file in DIR, or a folder with a `lib.rs`) defines
//! `pub fn program()`. The grader:
//!
//! 1. builds synckit once (cargo; a no-op when the grader was just built from it), then
//!    compiles each submission on its own as a library crate, so a compile error is that
//!    submission's verdict and never the batch's, and links every one that compiled into one
//!    program (one link instead of one per submission: linking dominates otherwise);
//! 2. runs each submission in a process of its own, in its own process group, with a hard
//!    wall-clock limit, an address-space limit, and stdout/stderr captured up to 64 KiB each;
//!    when it ends or is killed, every process of its group is killed too;
//! 3. judges it in that process: [`check`](crate::check) `--runs` times, then
//!    [`testing::explore`](crate::testing::explore) within the `--explore` budget,
//!    deterministically (a delay-bounded search, then random schedules from a fixed seed);
//!    the first failure decides.
//!
//! Verdicts ([`Verdict`]): `ok`, `deadlock`, `inversion`, `stalled`, `panicked`, `timeout`,
//! `compile_error`. A lock-order inversion reaches `check` as a report of kind
//! [`ReportKind::LockOrderInversion`](crate::detector::ReportKind::LockOrderInversion)
//! (the thread that closed the cycle panics with it under the default policy): it is an
//! `inversion`, and only reports of the deadlock kinds are a `deadlock`.
//!
//! Failures are grouped by the shape of the mistake (the kind of report, the primitives in
//! it, the function where it happened), so a teacher reads a class's misconceptions in a
//! few lines.
//!
//! Unix only (process groups, `setrlimit`).

mod args;
mod build;
mod child;
mod discover;
mod finding;
mod json;
mod output;
mod progress;
mod record;
mod run;
mod verdict;

use std::io::{IsTerminal, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command as Process, ExitCode};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub use args::{Command, Options, USAGE, UsageError, parse};
#[doc(hidden)]
pub use child::child_main;
pub use progress::Progress;
pub use verdict::{Row, Verdict};

use build::CompileError;
use discover::Submission;
use record::Record;
use run::Limits;

/// Why a batch could not be graded at all (as opposed to a submission failing).
#[derive(Debug)]
pub enum GradeError {
    /// The command line or the folder is not usable.
    Usage(UsageError),
    /// synckit, or the grading program, could not be built: not a submission's fault.
    Build(String),
    /// A file could not be written.
    Io(String),
}

impl std::fmt::Display for GradeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GradeError::Usage(e) => write!(f, "{e}"),
            GradeError::Build(e) => write!(f, "{e}"),
            GradeError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for GradeError {}

impl From<UsageError> for GradeError {
    fn from(e: UsageError) -> Self {
        GradeError::Usage(e)
    }
}

/// How long each phase of a batch took (wall clock).
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct Timings {
    /// `cargo build` of synckit.
    pub synckit: Duration,
    /// Compiling every submission (in parallel).
    pub compile: Duration,
    /// The sum of the submissions' own compile times.
    pub compile_each: Duration,
    /// Linking the grading program(s).
    pub link: Duration,
    /// Running every submission (in parallel).
    pub run: Duration,
    /// The sum of the submissions' own run times.
    pub run_each: Duration,
    /// Submissions that were compiled (not unreadable).
    pub compiled: usize,
    /// Submissions that were run.
    pub ran: usize,
    /// Whether the one-program link failed and each submission was linked on its own.
    pub linked_apart: bool,
}

/// A graded batch: one row per submission, sorted by name.
#[derive(Debug)]
#[non_exhaustive]
pub struct Graded {
    /// The rows.
    pub rows: Vec<Row>,
    /// Notes about the folder (skipped folders, renamed clashes).
    pub notes: Vec<String>,
    /// How long each phase took.
    pub timings: Timings,
}

/// `grade`'s entry point for the front door: parses `args` (the words after `grade`),
/// grades, prints, writes the files, and returns the exit status: 0 every submission is
/// `ok`, 1 some is not, 2 a usage error (or synckit itself could not be built).
pub fn cli(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(Command::Help) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Grade(o)) => o,
        Err(e) => {
            eprintln!("error: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let progress = Progress::new(std::io::stderr().is_terminal());
    let graded = match grade(&opts, &progress) {
        Ok(g) => g,
        Err(GradeError::Usage(e)) => {
            eprintln!("error: {e}\n\nrun `cargo run -- grade --help` for the options");
            return ExitCode::from(2);
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let color = crate::detector::color_enabled_stdout();
    let mut text = output::table(&graded.rows, color);
    let groups = output::groups_text(&graded.rows);
    if !groups.is_empty() {
        text.push('\n');
        text.push_str(&groups);
    }
    print!("{text}");
    let _ = std::io::stdout().flush();
    if let Err(e) = write_files(&opts, &graded.rows) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    eprintln!("{}", timing_line(&graded.timings, &opts));
    if graded.rows.iter().all(|r| r.verdict == Verdict::Ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_files(opts: &Options, rows: &[Row]) -> Result<(), GradeError> {
    let io = |what: &Path, e: std::io::Error| {
        GradeError::Io(format!("cannot write {}: {e}", what.display()))
    };
    output::write_reports(&opts.out, rows).map_err(|e| io(&opts.out, e))?;
    let mut wrote = vec![format!("reports in {}/", opts.out.display())];
    if let Some(p) = &opts.json {
        std::fs::write(p, output::json(rows)).map_err(|e| io(p, e))?;
        wrote.push(format!("JSON in {}", p.display()));
    }
    if let Some(p) = &opts.gradescope {
        std::fs::write(p, output::gradescope(rows)).map_err(|e| io(p, e))?;
        wrote.push(format!("Gradescope results in {}", p.display()));
    }
    eprintln!("{}", wrote.join(", "));
    Ok(())
}

fn timing_line(t: &Timings, opts: &Options) -> String {
    let per = |d: Duration, n: usize| d.as_secs_f64() / n.max(1) as f64;
    format!(
        "time: synckit {:.1} s; compiled {} in {:.1} s ({:.2} s each, {} jobs); linked in \
         {:.1} s{}; ran {} in {:.1} s ({:.2} s each)",
        t.synckit.as_secs_f64(),
        t.compiled,
        t.compile.as_secs_f64(),
        per(t.compile_each, t.compiled),
        opts.jobs,
        t.link.as_secs_f64(),
        if t.linked_apart {
            " (one program per submission)"
        } else {
            ""
        },
        t.ran,
        t.run.as_secs_f64(),
        per(t.run_each, t.ran),
    )
}

/// Runs `f` on each item, `jobs` at a time, and returns the results in the items' order.
fn parallel<T: Sync, R: Send>(
    jobs: usize,
    items: &[T],
    f: impl Fn(usize, &T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<R>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, items.len().max(1)) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = f(i, item);
                    if let Ok(mut results) = results.lock() {
                        results[i] = Some(r);
                    }
                }
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

/// A scratch folder for one batch, removed when dropped.
struct Work(PathBuf);

impl Work {
    fn new() -> std::io::Result<Work> {
        remove_abandoned();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("synckit-grade-{}-{nanos:x}", std::process::id()));
        std::fs::create_dir_all(dir.join("lib"))?;
        Ok(Work(dir))
    }
}

/// Removes the scratch folders of graders that were interrupted (their pid is gone): a
/// signal handler cannot remove a folder, so the next batch does.
fn remove_abandoned() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("synckit-grade-")
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        // SAFETY: signal 0 only asks whether the process exists.
        let gone = unsafe { libc::kill(pid, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone && pid != std::process::id() as i32 {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

impl Drop for Work {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where synckit's sources are: the crate this grader was built from.
pub fn synckit_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Grades every submission in `opts.dir`.
///
/// # Errors
///
/// [`GradeError::Usage`] when the folder is missing or holds no submission;
/// [`GradeError::Build`] when synckit itself cannot be built. A submission that fails in
/// any way is a row with its verdict, never an error.
pub fn grade(opts: &Options, progress: &Progress) -> Result<Graded, GradeError> {
    let (subs, notes) = discover::discover(&opts.dir)?;
    for n in &notes {
        eprintln!("note: {n}");
    }
    run::install_interrupt_handler();
    let mut timings = Timings::default();
    let started = Instant::now();
    let dir = synckit_dir();
    if !dir.join("Cargo.toml").exists() {
        return Err(GradeError::Build(format!(
            "the grader compiles submissions against synckit's sources, which were at {} when \
             it was built and are not there now: run it from a synckit checkout with \
             `cargo run --release -- grade DIR`",
            dir.display()
        )));
    }
    let lib = build::synckit(&dir).map_err(GradeError::Build)?;
    timings.synckit = started.elapsed();
    let work =
        Work::new().map_err(|e| GradeError::Io(format!("cannot make a scratch folder: {e}")))?;
    let limits = Limits::wall(opts.timeout.max(Duration::from_secs(60)));

    // 1. Compile each submission apart.
    let start = Instant::now();
    progress.phase("compiling", subs.len());
    let compiled: Vec<(Result<PathBuf, CompileError>, Duration)> =
        parallel(opts.jobs, &subs, |i, sub| {
            progress.started(&sub.name);
            let t = Instant::now();
            let result = match &sub.unreadable {
                Some(why) => Err(CompileError {
                    first: format!("error: {why}"),
                    site: None,
                    text: String::new(),
                }),
                None => lib.compile(
                    &opts.dir,
                    &sub.root,
                    &crate_name(i),
                    &work.0.join("lib"),
                    limits,
                ),
            };
            let line = result
                .as_ref()
                .err()
                .map(|e| format!("{}: {}", sub.name, e.first));
            progress.finished(&sub.name, line);
            (result, t.elapsed())
        });
    timings.compile = start.elapsed();
    timings.compiled = subs.iter().filter(|s| s.unreadable.is_none()).count();
    timings.compile_each = compiled.iter().map(|c| c.1).sum();
    progress.clear();
    toolchain_check(&compiled)?;

    let mut rows: Vec<Option<Row>> = vec![None; subs.len()];
    for (i, (result, took)) in compiled.iter().enumerate() {
        if let Err(e) = result {
            rows[i] = Some(verdict::compile_error(&subs[i], e, took.as_secs_f64()));
        }
    }

    // 2. Link every compiled submission into one program (or, failing that, one each).
    let start = Instant::now();
    let (programs, apart) = link_all(
        &lib, &work.0, &subs, &compiled, &mut rows, opts.jobs, limits,
    );
    timings.linked_apart = apart;
    timings.link = start.elapsed();

    // 3. Run each in a process of its own.
    let start = Instant::now();
    progress.phase("running", programs.len());
    let ran = parallel(opts.jobs, &programs, |_, (i, exe)| {
        let sub = &subs[*i];
        progress.started(&sub.name);
        let row = run_one(opts, &work.0, *i, sub, exe, compiled[*i].1);
        let line = format!("{}: {} ({:.1} s)", sub.name, row.verdict, row.seconds);
        progress.finished(&sub.name, Some(line));
        (*i, row)
    });
    progress.clear();
    timings.run = start.elapsed();
    timings.ran = ran.len();
    for (i, row) in ran {
        timings.run_each += Duration::from_secs_f64(row.seconds).saturating_sub(compiled[i].1);
        rows[i] = Some(row);
    }
    Ok(Graded {
        rows: rows.into_iter().flatten().collect(),
        notes,
        timings,
    })
}

/// Links every submission that compiled into one program; a submission whose `program`
/// rustc rejects on its line of the generated `main` becomes a `compile_error` row, and
/// the rest is linked again. Should the shared link fail otherwise (two submissions
/// exporting one symbol, say), each is linked on its own. Returns which program runs each
/// submission, and whether they were linked apart.
fn link_all(
    lib: &build::Lib,
    work: &Path,
    subs: &[Submission],
    compiled: &[(Result<PathBuf, CompileError>, Duration)],
    rows: &mut [Option<Row>],
    jobs: usize,
    limits: Limits,
) -> (Vec<(usize, PathBuf)>, bool) {
    let mut todo: Vec<usize> = (0..subs.len()).filter(|&i| rows[i].is_none()).collect();
    let mut linked_apart = false;
    let mut programs: Vec<(usize, PathBuf)> = Vec::new();
    // `SYNCKIT_GRADE_LINK=apart` links one program per submission, as the fallback does:
    // for benches/grade.sh, to measure what the shared link saves.
    let apart = std::env::var_os("SYNCKIT_GRADE_LINK").is_some_and(|v| v == "apart");
    if !todo.is_empty() {
        let shared = work.join("grade_all");
        let mut linked = false;
        for _attempt in 0..if apart { 0 } else { 3 } {
            if todo.is_empty() {
                linked = true;
                break;
            }
            let entries = entries(subs, compiled, &todo);
            match lib.link(work, &entries, &shared, limits) {
                Ok(()) => {
                    programs = todo.iter().map(|&i| (i, shared.clone())).collect();
                    linked = true;
                    break;
                }
                Err((blamed, _)) if !blamed.is_empty() => {
                    for (k, e) in blamed {
                        let i = todo[k];
                        let e = verdict::entry_error(&subs[i], &e);
                        rows[i] = Some(verdict::compile_error(
                            &subs[i],
                            &e,
                            compiled[i].1.as_secs_f64(),
                        ));
                    }
                    todo.retain(|&i| rows[i].is_none());
                }
                Err(_) => break,
            }
        }
        if !linked {
            linked_apart = true;
            let apart = parallel(jobs, &todo, |_, &i| {
                let exe = work.join(format!("grade_{i}"));
                let entries = entries(subs, compiled, &[i]);
                (i, lib.link(work, &entries, &exe, limits).map(|()| exe))
            });
            for (i, result) in apart {
                match result {
                    Ok(exe) => programs.push((i, exe)),
                    Err((blamed, text)) => {
                        let e = match blamed.into_values().next() {
                            Some(e) => verdict::entry_error(&subs[i], &e),
                            None => CompileError {
                                first: "error: linking failed".to_string(),
                                site: None,
                                text,
                            },
                        };
                        rows[i] = Some(verdict::compile_error(
                            &subs[i],
                            &e,
                            compiled[i].1.as_secs_f64(),
                        ));
                    }
                }
            }
        }
    }
    (programs, linked_apart)
}

fn crate_name(i: usize) -> String {
    format!("submission_{i}")
}

fn entries(
    subs: &[Submission],
    compiled: &[(Result<PathBuf, CompileError>, Duration)],
    which: &[usize],
) -> Vec<(String, String, PathBuf)> {
    which
        .iter()
        .filter_map(|&i| {
            let rlib = compiled[i].0.as_ref().ok()?;
            Some((subs[i].name.clone(), crate_name(i), rlib.clone()))
        })
        .collect()
}

/// A compile failure that is the toolchain's, not the submission's (synckit built by
/// another rustc, or not found): every submission would fail the same way, so stop.
fn toolchain_check(
    compiled: &[(Result<PathBuf, CompileError>, Duration)],
) -> Result<(), GradeError> {
    for (r, _) in compiled {
        if let Err(e) = r {
            let t = format!("{}\n{}", e.first, e.text);
            if t.contains("E0514")
                || t.contains("E0460")
                || (t.contains("E0463") && t.contains("`synckit`"))
                || t.starts_with("could not run rustc")
            {
                return Err(GradeError::Build(format!(
                    "rustc cannot use the synckit it was given (a different toolchain?): \
                     run the grader with `cargo run --release -- grade DIR` so that cargo and \
                     rustc match\n{t}"
                )));
            }
        }
    }
    Ok(())
}

fn run_one(
    opts: &Options,
    work: &Path,
    i: usize,
    sub: &Submission,
    exe: &Path,
    compile_time: Duration,
) -> Row {
    let scratch = work.join(format!("run_{i}"));
    let _ = std::fs::create_dir_all(&scratch);
    let result = scratch.join("result");
    let judge = child::Judge {
        name: sub.name.clone(),
        result: result.clone(),
        runs: opts.runs,
        deadline: opts.deadline,
        explore_time: opts.explore_time,
        explore_schedules: opts.explore_schedules,
        seed: opts.seed,
    };
    let mut cmd = Process::new(exe);
    cmd.args(judge.to_args())
        .current_dir(&scratch)
        .env("NO_COLOR", "1")
        .env_remove("SYNCKIT_DEADLOCK")
        .env_remove("SYNCKIT_SEED")
        .env_remove("SYNCKIT_WATCHDOG")
        .env_remove("SYNCKIT_BACKTRACE")
        .env_remove(crate::process::WORKER_ENV)
        .env_remove("RUST_BACKTRACE");
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u64;
    let limits = Limits {
        memory: Some(opts.memory_mib << 20),
        // A backstop for a process the grader could not kill (it was killed itself): it
        // cannot use more CPU than this before the wall limit anyway.
        cpu: Some(opts.timeout.as_secs() * cores + 10),
        ..Limits::wall(opts.timeout)
    };
    let seconds = |run: Duration| (compile_time + run).as_secs_f64();
    match run::run(cmd, limits) {
        Ok(ended) => {
            let record = Record::read_from(&result);
            verdict::from_run(
                sub,
                &record,
                &ended,
                opts.timeout,
                opts.memory_mib,
                seconds(ended.elapsed),
            )
        }
        Err(e) => {
            let e = CompileError {
                first: format!("error: the grading program could not start: {e}"),
                site: None,
                text: String::new(),
            };
            verdict::compile_error(sub, &e, seconds(Duration::ZERO))
        }
    }
}
