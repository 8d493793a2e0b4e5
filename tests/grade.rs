//! `cargo run -- grade DIR`, end to end: the grader binary over `examples/submissions/`
//! (every expected verdict, the exit status, the JSON and Gradescope files, nothing left
//! running after a kill) and over a folder of bad input built here.
#![cfg(unix)]

mod common;

// The grader's own JSON reader, to read what it wrote (no JSON crate in the tree).
#[allow(dead_code)]
#[path = "../src/grade/json.rs"]
mod json;

// The lost-wake-up submission itself, to show what `check` alone makes of it.
#[allow(dead_code)]
#[path = "../examples/submissions/lost_wakeup.rs"]
mod lost_wakeup;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use json::Value;
use synckit::testing::{self, FailureKind};

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/submissions")
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("synckit-grade-test-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs the grader binary; a grader that has not finished within `secs` is killed and the
/// test fails (its submissions die with it: they are its children, with PDEATHSIG).
fn grader(args: &[&str], secs: u64) -> Ran {
    let mut child = Command::new(env!("CARGO_BIN_EXE_synckit"))
        .arg("grade")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the grader starts");
    let out = child.stdout.take().unwrap();
    let err = child.stderr.take().unwrap();
    let read = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let (out, err) = (read(Box::new(out)), read(Box::new(err)));
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(secs) {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the grader did not finish within {secs} s; stderr so far:\n{}",
                err.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ran {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    }
}

/// The JSON array the grader wrote, by submission name.
fn rows(path: &Path) -> BTreeMap<String, Value> {
    let text = std::fs::read_to_string(path).expect("the JSON file was written");
    let v = json::parse(&text).expect("the JSON file is valid JSON");
    v.as_array()
        .iter()
        .map(|r| {
            let name = r.get("submission").and_then(Value::as_str).unwrap();
            (name.to_string(), r.clone())
        })
        .collect()
}

fn field<'a>(row: &'a Value, key: &str) -> &'a str {
    row.get(key)
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("no string field {key} in {row:?}"))
}

/// Each example's `expected verdict: ...` header line.
fn expected_verdicts() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(examples()).unwrap().flatten() {
        let path = entry.path();
        let (name, file) = if path.is_dir() {
            (entry.file_name(), path.join("lib.rs"))
        } else if path.extension().is_some_and(|e| e == "rs") {
            (path.file_stem().unwrap().to_owned(), path.clone())
        } else {
            continue;
        };
        let text = std::fs::read_to_string(&file).unwrap();
        let verdict = text
            .lines()
            .find_map(|l| l.split("expected verdict: ").nth(1))
            .unwrap_or_else(|| panic!("{} has no `expected verdict:` line", file.display()))
            .split_whitespace()
            .next()
            .unwrap()
            .to_string();
        out.insert(name.to_string_lossy().into_owned(), verdict);
    }
    out
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks whether the group exists.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn pid_alive(pid: i32) -> bool {
    // SAFETY: signal 0 only checks whether the process exists.
    unsafe { libc::kill(pid, 0) == 0 }
}

/// "process 123 (process group 123)" in a report: the group ids of a stopped process.
fn process_ids(report: &str) -> (i32, i32) {
    let rest = report
        .split("process ")
        .nth(1)
        .expect("a process id in the report");
    let pid: i32 = rest.split_whitespace().next().unwrap().parse().unwrap();
    let group = report.split("process group ").nth(1).unwrap();
    let pgid: i32 = group
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .parse()
        .unwrap();
    (pid, pgid)
}

#[test]
fn the_examples_get_their_expected_verdicts() {
    let dir = scratch("examples");
    let (json_path, gs_path, out) = (dir.join("g.json"), dir.join("gs.json"), dir.join("reports"));
    // `slow` runs 7 s a run: 2 runs cannot fit in 12 s (timeout), one fits in the 10 s
    // deadline. `spin` stalls at the 10 s deadline, well before the 12 s limit.
    let ran = grader(
        &[
            examples().to_str().unwrap(),
            "--runs",
            "2",
            "--timeout",
            "12s",
            "--explore",
            "1s,1000",
            "--json",
            json_path.to_str().unwrap(),
            "--gradescope",
            gs_path.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        240,
    );
    assert_eq!(
        ran.code,
        Some(1),
        "some submissions fail: exit 1\n{}",
        ran.stderr
    );
    let rows = rows(&json_path);
    let expected = expected_verdicts();
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "one row per submission"
    );
    for (name, verdict) in &expected {
        let row = &rows[name];
        assert_eq!(
            field(row, "verdict"),
            verdict,
            "{name}: {}\n{}",
            field(row, "summary"),
            field(row, "report")
        );
        // Exactly the documented fields, in order.
        let Value::Object(fields) = row else { panic!() };
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            [
                "submission",
                "verdict",
                "found_by",
                "replay",
                "summary",
                "report",
                "stdout",
                "stderr",
                "seconds",
                "group"
            ]
        );
        assert!(matches!(row.get("seconds"), Some(Value::Number(_))));
        let is_ok = verdict == "ok";
        assert_eq!(row.get("group") == Some(&Value::Null), is_ok, "{name}");
        // Each has its text report, and the table has its row.
        let report = std::fs::read_to_string(out.join(format!("{name}.txt"))).unwrap();
        assert!(
            report.contains(&format!("verdict     {verdict}")),
            "{report}"
        );
        assert!(
            ran.stdout
                .lines()
                .any(|l| l.starts_with(name.as_str()) && l.contains(verdict.as_str())),
            "{name} in the table:\n{}",
            ran.stdout
        );
    }
    // The reasons point into the submission's own files.
    assert!(field(&rows["typo"], "summary").contains("(typo.rs:13, in `transfer`)"));
    assert!(field(&rows["no_program"], "summary").contains("no `pub fn program()`"));
    assert!(field(&rows["reentrant"], "summary").contains("reentrant.rs:16, in `balance`"));
    let fee_bug = field(&rows["fee_bug"], "summary");
    assert!(fee_bug.contains("money was created or lost"), "{fee_bug}");
    assert!(
        fee_bug.contains("(fee_bug.rs:39, in `program`)"),
        "a failed assertion points at its line: {fee_bug}"
    );
    assert!(field(&rows["fee_bug"], "report").contains("panicked at "));
    assert!(field(&rows["spin"], "summary").contains("`teller-0` still running"));
    // A deadlock is never an inversion, and the other way round.
    assert!(field(&rows["ab_ba"], "report").contains("deadlock: 2 threads wait for each other"));
    assert!(field(&rows["audit_inversion"], "report").contains("lock-order inversion"));
    // Grouped by mistake: two students, one re-entrant acquire in `balance`.
    let group = |n: &str| {
        rows[n]
            .get("group")
            .and_then(Value::as_str)
            .map(String::from)
    };
    assert_eq!(group("reentrant"), group("overdraft_check"));
    assert_eq!(
        group("reentrant").as_deref(),
        Some("re-entrant acquire of Lock `account-0` in `balance`")
    );
    assert!(
        ran.stdout
            .contains("2 submissions: re-entrant acquire of Lock `account-0` in `balance`"),
        "{}",
        ran.stdout
    );

    // The lost wake-up: check passed every run, explore found it, with a replay string
    // that reproduces it.
    let lost = &rows["lost_wakeup"];
    let found_by = field(lost, "found_by");
    assert!(
        found_by.starts_with("explore, schedule ") && found_by.contains("check passed 2 of 2 runs"),
        "{found_by}"
    );
    let replay: testing::Schedule = field(lost, "replay").parse().unwrap();
    let failure = testing::explore(testing::Config::replay(replay), |_| lost_wakeup::program())
        .expect_err("the replayed schedule loses the wake-up");
    assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");

    // The killed submission left nothing running: not its process, not its group.
    let slow = field(&rows["slow"], "report");
    let (pid, pgid) = process_ids(slow);
    assert!(!pid_alive(pid), "the killed process {pid} is still there");
    assert!(
        !group_alive(pgid),
        "a process of group {pgid} is still there"
    );

    // Gradescope: one test per submission, full marks only for ok.
    let gs = json::parse(&std::fs::read_to_string(&gs_path).unwrap()).unwrap();
    let tests = gs.get("tests").expect("a tests array").as_array();
    assert_eq!(tests.len(), expected.len());
    for t in tests {
        let name = field(t, "name");
        let score = if expected[name] == "ok" { "1" } else { "0" };
        assert_eq!(t.get("score"), Some(&Value::Number(score.into())), "{name}");
        assert_eq!(t.get("max_score"), Some(&Value::Number("1".into())));
        assert!(field(t, "output").starts_with(&expected[name]), "{name}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn check_alone_passes_the_lost_wake_up() {
    // What the grader's explore phase is for: run after run, `check` sees the deposit land
    // before the teller looks, and passes (the JSON above says explore found it).
    common::with_deadline(60, "check the lost wake-up", || {
        for run in 1..=5 {
            let outcome = synckit::check(lost_wakeup::program);
            assert!(outcome.is_ok(), "run {run}: {outcome}");
        }
    });
}

const BAD_INPUT: &[(&str, &str)] = &[
    ("syntax.rs", "pub fn program() {\n    let x = ;\n}\n"),
    (
        "std_threads.rs",
        "pub fn program() {\n    let worker = std::thread::spawn(|| loop {\n        \
         std::thread::sleep(std::time::Duration::from_millis(10));\n    });\n    \
         worker.join().unwrap();\n}\n",
    ),
    (
        "drop_panic.rs",
        "struct Loud;\nimpl Drop for Loud {\n    fn drop(&mut self) {\n        \
         panic!(\"panic in drop\");\n    }\n}\npub fn program() {\n    let _l = Loud;\n    \
         panic!(\"first panic\");\n}\n",
    ),
    (
        "chatty.rs",
        "use std::io::Write;\npub fn program() {\n    let line = [b'x'; 1 << 20];\n    \
         let mut out = std::io::stdout().lock();\n    for _ in 0..100 {\n        \
         out.write_all(&line).unwrap();\n    }\n}\n",
    ),
    (
        "hog.rs",
        "pub fn program() {\n    let mut all = Vec::new();\n    loop {\n        \
         all.push(vec![1u8; 16 << 20]);\n    }\n}\n",
    ),
    (
        "exits.rs",
        "pub fn program() {\n    std::process::exit(3);\n}\n",
    ),
    (
        "sleeper.rs",
        "pub fn program() {\n    let child = std::process::Command::new(\"sleep\").arg(\"300\")\
         .spawn().unwrap();\n    println!(\"sleeper pid {}\", child.id());\n    \
         synckit::Event::new().named(\"never\").wait();\n}\n",
    ),
    // Two submissions that export one symbol: the shared link fails, each links alone.
    (
        "clash_a.rs",
        "#[unsafe(no_mangle)]\npub extern \"C\" fn synckit_grade_clash() {}\n\
         pub fn program() {\n    synckit_grade_clash();\n}\n",
    ),
    (
        "clash_b.rs",
        "#[unsafe(no_mangle)]\npub extern \"C\" fn synckit_grade_clash() {}\n\
         pub fn program() {\n    synckit_grade_clash();\n}\n",
    ),
    ("dup.rs", "pub fn program() {}\n"),
    ("dup/lib.rs", "pub fn program() {}\n"),
];

#[test]
fn bad_input_gets_a_clear_verdict_each() {
    let dir = scratch("bad");
    let subs = dir.join("subs");
    for (path, text) in BAD_INPUT {
        let p = subs.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    std::os::unix::fs::symlink(subs.join("nowhere.rs"), subs.join("ghost.rs")).unwrap();
    let json_path = dir.join("g.json");
    let ran = grader(
        &[
            subs.to_str().unwrap(),
            "--runs",
            "1",
            "--deadline",
            "5s",
            "--timeout",
            "20s",
            "--explore",
            "0",
            "--memory",
            "256",
            "--json",
            json_path.to_str().unwrap(),
            "--out",
            dir.join("reports").to_str().unwrap(),
        ],
        240,
    );
    assert_eq!(ran.code, Some(1), "{}", ran.stderr);
    assert!(ran.stderr.contains("share a name"), "{}", ran.stderr);
    let rows = rows(&json_path);
    let check = |name: &str, verdict: &str, says: &[&str]| {
        let summary = field(&rows[name], "summary");
        assert_eq!(field(&rows[name], "verdict"), verdict, "{name}: {summary}");
        for words in says {
            assert!(
                summary.contains(words),
                "{name}: {summary:?} lacks {words:?}"
            );
        }
    };
    check("syntax", "compile_error", &["syntax.rs:2"]);
    check("ghost", "compile_error", &["cannot read `ghost.rs`"]);
    check("std_threads", "stalled", &["uses std::thread"]);
    check("drop_panic", "panicked", &["SIGABRT", "inside Drop"]);
    check("hog", "panicked", &["an allocation failed"]);
    check("exits", "panicked", &["status 3"]);
    check("chatty", "ok", &[]);
    let stdout = field(&rows["chatty"], "stdout");
    assert!(
        stdout.len() < 70_000
            && stdout.ends_with("[output cut: 104857600 bytes in all, the first 65536 kept]\n"),
        "{} bytes, ending {:?}",
        stdout.len(),
        &stdout[stdout.len().saturating_sub(80)..]
    );
    // Two submissions with one stem: both graded, under names that tell them apart.
    check("clash_a", "ok", &[]);
    check("clash_b", "ok", &[]);
    assert!(
        ran.stderr.contains("(one program per submission)"),
        "{}",
        ran.stderr
    );
    check("dup.rs", "ok", &[]);
    check("dup/", "ok", &[]);
    // The grandchild a submission started went with it.
    check("sleeper", "deadlock", &[]);
    let out = field(&rows["sleeper"], "stdout");
    let pid: i32 = out
        .trim()
        .strip_prefix("sleeper pid ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{out:?}"));
    assert!(
        !pid_alive(pid),
        "the sleeper's child {pid} outlived the grading"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let empty = scratch("empty");
    let ran = grader(&[empty.to_str().unwrap()], 60);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("no submissions in"), "{}", ran.stderr);
    let ran = grader(&[empty.join("missing").to_str().unwrap()], 60);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("no folder"), "{}", ran.stderr);
    let ran = grader(&[empty.to_str().unwrap(), "--runs", "zero"], 60);
    assert_eq!(ran.code, Some(2));
    assert!(ran.stderr.contains("--runs \"zero\""), "{}", ran.stderr);
    let ran = grader(&["--help"], 60);
    assert_eq!(ran.code, Some(0));
    assert!(ran.stdout.contains("--gradescope"));
    let _ = std::fs::remove_dir_all(&empty);
}
