//! Names in other scripts — CJK (two columns wide), emoji (two columns, four bytes), combining
//! accents (no column of their own) — in every kind of report and every lanes view: the names
//! come through whole, nothing panics on a multi-byte boundary, and columns line up by
//! *display* width, not by bytes or by chars.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::with_deadline;
use synckit::detector::ReportKind;
use synckit::testing::{self, Config as ExploreConfig};
use synckit::thread::spawn_named;
use synckit::{Barrier, Config, Event, Lock, Outcome, Report, check, check_with};
use unicode_width::UnicodeWidthStr;

const CJK: &str = "日本語の口座";
const EMOJI: &str = "🔒金庫🔒";
const ACCENTED: &str = "cafe\u{301}-re\u{301}sume\u{301}";

/// The display column where `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> Option<usize> {
    line.find(needle).map(|i| line[..i].width())
}

/// In every line that has `marker`, the marker starts at the same display column: what the
/// report pads before it is padded by display width.
fn assert_aligned(text: &str, marker: &str) {
    let columns: Vec<usize> = text.lines().filter_map(|l| column_of(l, marker)).collect();
    assert!(
        columns.len() >= 2,
        "fewer than two {marker:?} lines in:\n{text}"
    );
    assert!(
        columns.windows(2).all(|w| w[0] == w[1]),
        "{marker:?} is not aligned (columns {columns:?}) in:\n{text}"
    );
}

/// In a lanes view, every row's text starts at the column of its thread's header.
fn assert_lanes_aligned(lanes: &str, threads: &[&str], row_marker: &str) {
    let mut lines = lanes
        .lines()
        .skip_while(|l| l.trim().is_empty())
        .take_while(|l| !l.trim_start().starts_with("hint:"));
    let header = lines.next().expect("a header line");
    for line in lines {
        let Some(at) = column_of(line, row_marker) else {
            continue;
        };
        let starts: Vec<usize> = threads
            .iter()
            .filter_map(|t| column_of(header, &t.chars().take(3).collect::<String>()))
            .collect();
        assert!(
            starts.contains(&at),
            "row {line:?} starts at column {at}, not at a thread's column {starts:?}:\n{lanes}"
        );
    }
}

fn report_of<T: std::fmt::Debug>(outcome: Outcome<T>) -> Report {
    match outcome {
        Outcome::Deadlock(r) | Outcome::Stalled(r) => r,
        other => panic!("expected a report, got {other:?}"),
    }
}

#[test]
fn the_issue_program_returns_a_deadlock_instead_of_panicking() {
    // The program of issue 13: a long CJK name used to be cut inside a character.
    let outcome = with_deadline(20, "multi-byte world", || {
        check(|| {
            let lock = Lock::new(0).named("日本語日本語日本語日本語");
            let _g = lock.acquire();
            Event::new().named("never").wait();
        })
    });
    let report = report_of(outcome);
    assert_eq!(report.kind(), ReportKind::WorldDeadlock, "{report}");
    let text = report.to_string();
    assert!(text.contains("日本語日本語日本語日本語"), "{text}");
    assert!(text.contains("last events:"), "{text}");
}

#[test]
fn a_reentrant_acquire_names_the_lock_and_the_thread_in_any_script() {
    let report = with_deadline(20, "reentrant", || {
        spawn_named(EMOJI, || {
            let lock = Lock::new(()).named(CJK);
            let _first = lock.acquire();
            lock.acquire_checked().unwrap_err().into_report()
        })
        .join()
        .unwrap()
    });
    assert_eq!(report.kind(), ReportKind::ReentrantAcquire);
    assert_eq!(report.threads()[0].name, EMOJI);
    let text = report.to_string();
    assert!(text.contains(&format!("`{CJK}` (Lock)")), "{text}");
    // The thread's `holds` and `waits` lines put `taken at` / `at` in one column.
    let holds = text.lines().find(|l| l.contains("holds  `")).unwrap();
    let waits = text.lines().find(|l| l.contains("waits  `")).unwrap();
    assert_eq!(
        column_of(holds, " taken at "),
        column_of(waits, " at "),
        "holds and waits lines pad their names alike:\n{text}"
    );
}

#[test]
fn a_wait_for_cycle_pads_holds_by_display_width() {
    let report = with_deadline(20, "cycle", || {
        let a = Arc::new(Lock::new(0).named(CJK));
        let b = Arc::new(Lock::new(0).named(ACCENTED));
        let meet = Arc::new(Barrier::new(2));
        let take = |name: &str, first: Arc<Lock<i32>>, second: Arc<Lock<i32>>| {
            let meet = meet.clone();
            spawn_named(name, move || {
                let _f = first.acquire();
                meet.wait().unwrap();
                second.acquire_checked().err().map(|d| d.into_report())
            })
        };
        let t1 = take(EMOJI, a.clone(), b.clone());
        let t2 = take(CJK, b, a);
        let reports: Vec<Report> = [t1.join().unwrap(), t2.join().unwrap()]
            .into_iter()
            .flatten()
            .collect();
        assert_eq!(reports.len(), 1, "exactly one thread closes the cycle");
        reports.into_iter().next().unwrap()
    });
    assert_eq!(report.kind(), ReportKind::Deadlock, "{report}");
    let text = report.to_string();
    for name in [CJK, EMOJI, ACCENTED] {
        assert!(text.contains(name), "{name} missing:\n{text}");
    }
    assert_aligned(&text, " taken at ");
    assert!(report.to_dot().contains(ACCENTED));
}

#[test]
fn an_inversion_scenario_lines_up_its_columns() {
    let report = with_deadline(20, "inversion", || {
        let a = Lock::new(()).named(EMOJI);
        let b = Lock::new(()).named(CJK);
        {
            let _a = a.acquire();
            let _b = b.acquire();
        }
        let _b = b.acquire();
        a.acquire_checked().unwrap_err().into_report()
    });
    assert_eq!(report.kind(), ReportKind::LockOrderInversion);
    let text = report.to_string();
    assert!(
        text.contains(&format!("`{CJK}` and `{EMOJI}`"))
            || text.contains(&format!("`{EMOJI}` and `{CJK}`")),
        "{text}"
    );
    // The scenario table: the second thread's column starts at one display column in the
    // header and in its rows.
    let header = text.lines().find(|l| l.contains("thread 1")).unwrap();
    let second = column_of(header, "thread 2").unwrap();
    let rows: Vec<&str> = text.lines().filter(|l| l.contains("lock(")).collect();
    assert_eq!(rows.len(), 4, "{text}");
    for row in rows.iter().skip(1).step_by(2) {
        assert_eq!(column_of(row, "lock("), Some(second), "{text}");
    }
}

#[test]
fn a_world_deadlock_and_its_timeline_line_up_in_any_script() {
    let report = report_of(with_deadline(20, "world", || {
        check(|| {
            let gate = Arc::new(Event::new().named(CJK));
            let waiter = {
                let gate = gate.clone();
                spawn_named(EMOJI, move || gate.wait())
            };
            let _ = waiter.join();
        })
    }));
    assert_eq!(report.kind(), ReportKind::WorldDeadlock);
    let text = report.to_string();
    assert!(
        text.contains(&format!("no thread has ever set Event `{CJK}`")),
        "{text}"
    );
    let lanes = text.split("last events:").nth(1).expect("a timeline");
    assert_lanes_aligned(lanes, &["main", EMOJI], "wait `");
}

#[test]
fn a_stall_report_keeps_names_whole() {
    let stop = Arc::new(AtomicBool::new(false));
    let outcome = {
        let stop = stop.clone();
        with_deadline(20, "stall", move || {
            check_with(
                Config::default().deadline(Duration::from_millis(200)),
                move || {
                    let spinner = spawn_named(ACCENTED, move || {
                        while !stop.load(Ordering::Relaxed) {
                            std::hint::spin_loop();
                        }
                    });
                    let _ = spinner.join();
                },
            )
        })
    };
    stop.store(true, Ordering::Relaxed);
    let report = report_of(outcome);
    assert_eq!(report.kind(), ReportKind::Stall);
    let text = report.to_string();
    assert!(
        text.contains(&format!("thread `{ACCENTED}` is running")),
        "{text}"
    );
}

#[test]
fn an_explored_failure_draws_its_lanes_by_display_width() {
    let failure = testing::explore(ExploreConfig::exhaustive(1), |run| {
        let total = Arc::new(Lock::new(0u32).named(CJK));
        let workers: Vec<_> = [EMOJI, ACCENTED]
            .into_iter()
            .map(|name| {
                let total = total.clone();
                run.spawn(name, move || {
                    let seen = *total.acquire();
                    *total.acquire() = seen + 1; // a lost update between the two
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        assert_eq!(*total.acquire(), 2, "an update was lost");
    })
    .unwrap_err();
    let lanes = failure.lanes();
    assert!(lanes.contains(&format!("`{CJK}`")), "{lanes}");
    assert_lanes_aligned(lanes, &["main", EMOJI, ACCENTED], "acquire `");
}
