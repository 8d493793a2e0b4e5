//! `grade DIR [options]`: the command line, parsed by hand (no argument-parsing crate for a
//! dozen flags), with an error that says what was wrong and what to write instead.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The usage text `grade --help` prints (and a usage error ends with).
pub const USAGE: &str = "\
usage: cargo run --release -- grade DIR [options]

Grades every submission in DIR: each *.rs file directly in DIR, and each folder that holds
a lib.rs. A submission defines `pub fn program()`. Each is compiled on its own, run in a
process of its own, judged by synckit::check (--runs times) and then by
synckit::testing::explore, and gets one verdict: ok, deadlock, inversion, stalled,
panicked, timeout or compile_error.

options:
  --timeout T        hard wall-clock limit of each submission's process (default 30s)
  --deadline D       deadline of each check run and each explored schedule; past it the
                     verdict is `stalled`, with every thread's state (default 10s; keep it
                     below --timeout, or a hang is a `timeout` without the dump)
  --runs K           runs of synckit::check per submission (default 5)
  --explore B        the schedule search after the runs: a time, a number of schedules, or
                     both, whichever comes first: 2s, 2000, 2s,2000 (default); 0 skips it
  --seed N           seed of the random part of the search (default 0x5eed)
  --jobs N           submissions compiled and run at once (default: the number of cores)
  --memory MIB       address-space limit of each submission's process (default 1024)
  --out DIR          one text report per submission (default grade-report)
  --json PATH        every verdict as JSON
  --gradescope PATH  Gradescope's autograder results.json

exit status: 0 every submission is ok, 1 some is not, 2 usage error";

/// What to grade and how: the parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    /// The folder of submissions.
    pub dir: PathBuf,
    /// The hard wall-clock limit of each submission's process.
    pub timeout: Duration,
    /// The deadline of each `check` run and each explored schedule's world.
    pub deadline: Duration,
    /// Runs of `check` per submission.
    pub runs: u32,
    /// The explore budget: stop at this much time, if set.
    pub explore_time: Option<Duration>,
    /// The explore budget: stop after this many schedules, if set.
    pub explore_schedules: Option<usize>,
    /// The seed of the random part of the search.
    pub seed: u64,
    /// Submissions compiled and run at once.
    pub jobs: usize,
    /// Address-space limit of each submission's process, in MiB.
    pub memory_mib: u64,
    /// Where the per-submission text reports go.
    pub out: PathBuf,
    /// Where the JSON goes, if anywhere.
    pub json: Option<PathBuf>,
    /// Where Gradescope's `results.json` goes, if anywhere.
    pub gradescope: Option<PathBuf>,
}

impl Options {
    /// The defaults, for `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Options {
            dir: dir.into(),
            timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(10),
            runs: 5,
            explore_time: Some(Duration::from_secs(2)),
            explore_schedules: Some(2000),
            seed: 0x5eed,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
            memory_mib: 1024,
            out: PathBuf::from("grade-report"),
            json: None,
            gradescope: None,
        }
    }

    /// Whether the explore phase runs at all.
    pub fn explores(&self) -> bool {
        self.explore_time != Some(Duration::ZERO) && self.explore_schedules != Some(0)
    }
}

/// What `grade`'s command line asked for.
#[derive(Debug, PartialEq)]
pub enum Command {
    /// Grade a folder.
    Grade(Options),
    /// Print the usage text.
    Help,
}

/// A command line that cannot be followed; the message says what to write instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsageError(pub String);

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn usage(msg: impl Into<String>) -> UsageError {
    UsageError(msg.into())
}

/// Parses the arguments after `grade`.
///
/// # Errors
///
/// A missing DIR, an unknown flag, a flag without its value or with a value it cannot
/// take: the message names the flag and gives an example of a good value.
pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return Ok(Command::Help);
    }
    let mut dir: Option<PathBuf> = None;
    let mut o = Options::new("");
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !arg.starts_with("--") || arg == "--" {
            if arg == "--" {
                continue;
            }
            if let Some(d) = &dir {
                return Err(usage(format!(
                    "one folder at a time: got `{}` and `{arg}`; put every submission in one folder",
                    d.display()
                )));
            }
            dir = Some(PathBuf::from(arg));
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = || -> Result<String, UsageError> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            match args.get(i) {
                Some(v) if !v.starts_with("--") => {
                    i += 1;
                    Ok(v.clone())
                }
                _ => Err(usage(format!(
                    "{flag} needs a value, e.g. {}",
                    example(flag)
                ))),
            }
        };
        match flag {
            "--timeout" => o.timeout = positive_duration(flag, &value()?)?,
            "--deadline" => o.deadline = positive_duration(flag, &value()?)?,
            "--runs" => o.runs = number(flag, &value()?, 1, 1000)? as u32,
            "--explore" => (o.explore_time, o.explore_schedules) = explore_budget(&value()?)?,
            "--seed" => o.seed = seed(&value()?)?,
            "--jobs" => o.jobs = number(flag, &value()?, 1, 256)? as usize,
            "--memory" => o.memory_mib = number(flag, &value()?, 64, 1 << 20)?,
            "--out" => o.out = PathBuf::from(nonempty(flag, value()?)?),
            "--json" => o.json = Some(PathBuf::from(nonempty(flag, value()?)?)),
            "--gradescope" => o.gradescope = Some(PathBuf::from(nonempty(flag, value()?)?)),
            _ => {
                return Err(usage(format!(
                    "unknown option `{flag}`; the options are --timeout, --deadline, --runs, \
                     --explore, --seed, --jobs, --memory, --out, --json, --gradescope \
                     (`grade --help` explains each)"
                )));
            }
        }
    }
    let Some(dir) = dir else {
        return Err(usage(
            "which folder? give the folder of submissions: `cargo run --release -- grade DIR`",
        ));
    };
    o.dir = dir;
    Ok(Command::Grade(o))
}

fn example(flag: &str) -> &'static str {
    match flag {
        "--timeout" => "--timeout 30s",
        "--deadline" => "--deadline 10s",
        "--runs" => "--runs 5",
        "--explore" => "--explore 2s,2000",
        "--seed" => "--seed 0x5eed",
        "--jobs" => "--jobs 2",
        "--memory" => "--memory 1024",
        "--out" => "--out grade-report",
        "--json" => "--json grades.json",
        "--gradescope" => "--gradescope results.json",
        _ => "--help",
    }
}

fn nonempty(flag: &str, v: String) -> Result<String, UsageError> {
    if v.is_empty() {
        Err(usage(format!(
            "{flag} needs a path, e.g. {}",
            example(flag)
        )))
    } else {
        Ok(v)
    }
}

fn number(flag: &str, v: &str, min: u64, max: u64) -> Result<u64, UsageError> {
    match v.trim().parse::<u64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(usage(format!(
            "{flag} {v:?}: expected a whole number from {min} to {max}, e.g. {}",
            example(flag)
        ))),
    }
}

/// `30`, `30s`, `1.5s`, `500ms`, `2m`: a bare number is seconds.
pub(crate) fn duration(v: &str) -> Option<Duration> {
    let v = v.trim();
    let (num, scale) = if let Some(n) = v.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('m') {
        (n, 60.0)
    } else {
        (v, 1.0)
    };
    let secs = num.trim().parse::<f64>().ok()? * scale;
    (secs.is_finite() && (0.0..=86_400.0).contains(&secs)).then(|| Duration::from_secs_f64(secs))
}

fn positive_duration(flag: &str, v: &str) -> Result<Duration, UsageError> {
    match duration(v) {
        Some(d) if d >= Duration::from_millis(10) => Ok(d),
        _ => Err(usage(format!(
            "{flag} {v:?}: expected a duration of at least 10ms, like 30s, 1.5s or 500ms, e.g. {}",
            example(flag)
        ))),
    }
}

/// `2s`, `2000`, `2s,2000` (either order), or `0` / `off`.
fn explore_budget(v: &str) -> Result<(Option<Duration>, Option<usize>), UsageError> {
    let bad = || {
        usage(format!(
            "--explore {v:?}: expected a time, a number of schedules, or both (whichever comes \
             first), like 2s, 2000 or 2s,2000; or 0 to skip the search"
        ))
    };
    let v = v.trim();
    if v == "0" || v.eq_ignore_ascii_case("off") {
        return Ok((Some(Duration::ZERO), Some(0)));
    }
    let (mut time, mut count) = (None, None);
    for part in v.split(',').map(str::trim) {
        if let Ok(n) = part.parse::<usize>() {
            if count.replace(n).is_some() || n == 0 {
                return Err(bad());
            }
        } else if part.ends_with('s') || part.ends_with('m') {
            let d = duration(part).filter(|d| !d.is_zero()).ok_or_else(bad)?;
            if time.replace(d).is_some() {
                return Err(bad());
            }
        } else {
            return Err(bad());
        }
    }
    Ok((time, count))
}

fn seed(v: &str) -> Result<u64, UsageError> {
    let v = v.trim();
    let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse::<u64>(),
    };
    parsed.map_err(|_| {
        usage(format!(
            "--seed {v:?}: expected a number, decimal or 0x hex, e.g. --seed 0x5eed"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn grade(s: &str) -> Options {
        match parse(&args(s)) {
            Ok(Command::Grade(o)) => o,
            other => panic!("{s}: {other:?}"),
        }
    }

    fn error(s: &str) -> String {
        match parse(&args(s)) {
            Err(e) => e.to_string(),
            other => panic!("{s}: expected a usage error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_match_the_documented_ones() {
        let o = grade("subs");
        assert_eq!(o.dir, PathBuf::from("subs"));
        assert_eq!(o.timeout, Duration::from_secs(30));
        assert_eq!(o.deadline, Duration::from_secs(10));
        assert_eq!(o.runs, 5);
        assert_eq!(o.explore_time, Some(Duration::from_secs(2)));
        assert_eq!(o.explore_schedules, Some(2000));
        assert_eq!(o.out, PathBuf::from("grade-report"));
        assert!(o.explores());
        assert_eq!((o.json, o.gradescope), (None, None));
    }

    #[test]
    fn every_flag_in_both_spellings() {
        let o = grade(
            "--timeout 3s subs --deadline=1.5 --runs 2 --explore 2000,500ms --seed 0x10 \
             --jobs=3 --memory 512 --out r --json=g.json --gradescope gs.json",
        );
        assert_eq!(o.dir, PathBuf::from("subs"));
        assert_eq!(o.timeout, Duration::from_secs(3));
        assert_eq!(o.deadline, Duration::from_millis(1500));
        assert_eq!(o.runs, 2);
        assert_eq!(o.explore_time, Some(Duration::from_millis(500)));
        assert_eq!(o.explore_schedules, Some(2000));
        assert_eq!((o.seed, o.jobs, o.memory_mib), (16, 3, 512));
        assert_eq!(o.out, PathBuf::from("r"));
        assert_eq!(o.json, Some(PathBuf::from("g.json")));
        assert_eq!(o.gradescope, Some(PathBuf::from("gs.json")));
    }

    #[test]
    fn explore_budgets() {
        let o = grade("d --explore 300");
        assert_eq!((o.explore_time, o.explore_schedules), (None, Some(300)));
        let o = grade("d --explore 1m");
        assert_eq!(
            (o.explore_time, o.explore_schedules),
            (Some(Duration::from_secs(60)), None)
        );
        assert!(!grade("d --explore 0").explores());
        assert!(!grade("d --explore off").explores());
        for bad in ["2x", "2s,3s", "1,2", "0s", "0,2s", ""] {
            assert!(
                error(&format!("d --explore={bad}")).contains("--explore"),
                "{bad}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(duration("30"), Some(Duration::from_secs(30)));
        assert_eq!(duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(duration("-1s"), None);
        assert_eq!(duration("soon"), None);
        assert_eq!(duration("1e9"), None);
    }

    #[test]
    fn usage_errors_say_what_to_write_instead() {
        assert!(error("").contains("grade DIR"));
        assert!(error("a b").contains("one folder at a time"));
        let e = error("d --timeout");
        assert!(
            e.contains("--timeout needs a value, e.g. --timeout 30s"),
            "{e}"
        );
        let e = error("d --timeout --runs 2");
        assert!(e.contains("--timeout needs a value"), "{e}");
        let e = error("d --timeout soon");
        assert!(e.contains("like 30s, 1.5s or 500ms"), "{e}");
        assert!(error("d --timeout 1ms").contains("at least 10ms"));
        assert!(error("d --runs 0").contains("from 1 to 1000"));
        assert!(error("d --runs many").contains("--runs 5"));
        assert!(error("d --jobs 0").contains("--jobs"));
        assert!(error("d --seed x").contains("0x hex"));
        assert!(error("d --json=").contains("needs a path"));
        let e = error("d --verbose");
        assert!(
            e.contains("unknown option `--verbose`") && e.contains("--help"),
            "{e}"
        );
    }

    #[test]
    fn help_wins() {
        assert_eq!(parse(&args("d --runs 0 --help")), Ok(Command::Help));
        assert!(USAGE.contains("--gradescope"));
    }
}
