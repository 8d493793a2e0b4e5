//! What a child found, as the grader needs it: the verdict, how it was found, the one-line
//! headline and site, and the facts a failure is grouped by (the shape of the mistake and
//! the primitives in it), from a detector report, a panic, or a failing schedule.

use std::panic::Location;

use crate::detector::{Kind, Report, ReportKind};
use crate::testing::{Failure, FailureKind};

use super::record::Record;

/// One failure, as the grader needs it: the verdict, how it was found, what to group by.
#[derive(Default)]
pub(crate) struct Finding {
    pub verdict: &'static str,
    pub found_by: String,
    pub replay: Option<String>,
    pub headline: String,
    pub site: Option<String>,
    /// The mistake's shape, for grouping: what kind of failure.
    pub shape: String,
    /// The primitives involved, as "Kind `name`", sorted.
    pub primitives: Vec<String>,
    pub report: String,
}

impl Finding {
    pub(crate) fn store(&self, r: &mut Record) {
        r.set("verdict", self.verdict);
        r.set("found_by", self.found_by.as_str());
        if let Some(replay) = &self.replay {
            r.set("replay", replay.as_str());
        }
        r.set("headline", self.headline.as_str());
        if let Some(site) = &self.site {
            r.set("site", site.as_str());
        }
        r.set("shape", self.shape.as_str());
        r.set("primitives", self.primitives.join("\n"));
        r.set("report", self.report.as_str());
    }
}

pub(crate) fn ok(found_by: String) -> Finding {
    Finding {
        verdict: "ok",
        headline: found_by.clone(),
        found_by,
        shape: String::new(),
        ..Finding::default()
    }
}

/// A panic: the message's first line is the headline.
pub(crate) fn from_panic(
    thread: &str,
    message: &str,
    site: Option<String>,
    found_by: String,
) -> Finding {
    let first = message.lines().next().unwrap_or("").trim();
    let mut report = format!("thread `{thread}` panicked");
    if let Some(site) = &site {
        report.push_str(&format!(" at {site}"));
    }
    report.push_str(&format!(":\n{message}\n"));
    Finding {
        verdict: "panicked",
        found_by,
        replay: None,
        headline: format!("thread `{thread}` panicked: {first}"),
        site,
        shape: format!("panic: {}", normalize(first)),
        primitives: Vec::new(),
        report,
    }
}

/// Digits replaced, so "expected 300, got 290" and "expected 300, got 310" group together.
fn normalize(s: &str) -> String {
    let mut out = String::new();
    let mut in_number = false;
    for c in s.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            in_number = false;
            out.push(c);
        }
    }
    out.chars().take(120).collect()
}

fn kind_name(k: Kind) -> String {
    k.to_string()
}

/// A primitive as a group key shows it: unnamed ones (`Lock@file:line:col`) lose their
/// line, so two students' unnamed locks compare equal.
fn primitive(kind: Kind, name: &str) -> String {
    let kind = kind_name(kind);
    if name.starts_with(&format!("{kind}@")) {
        format!("{kind} (unnamed)")
    } else {
        format!("{kind} `{name}`")
    }
}

fn site_string(l: &'static Location<'static>) -> String {
    format!("{}:{}:{}", l.file(), l.line(), l.column())
}

/// The verdict and group facts of a detector report (from `check` or `explore`).
pub(crate) fn from_report(r: &Report, found_by: String) -> Finding {
    let verdict = match r.kind() {
        ReportKind::LockOrderInversion => "inversion",
        ReportKind::Stall => "stalled",
        _ => "deadlock",
    };
    let shape = match r.kind() {
        ReportKind::ReentrantAcquire => "re-entrant acquire",
        ReportKind::Deadlock => "deadlock cycle",
        ReportKind::OwnerExited => "owner exited",
        ReportKind::LockOrderInversion => "inversion",
        ReportKind::WorldDeadlock => "no one left to wake",
        ReportKind::Stall => "stall",
    };
    // The waits, most telling first: a join is only waiting for a thread that waits.
    let mut waits: Vec<(bool, String, String)> = r
        .threads()
        .iter()
        .filter_map(|t| t.waiting.as_ref())
        .map(|w| {
            (
                w.kind == Kind::Thread,
                site_string(w.site),
                primitive(w.kind, &w.resource),
            )
        })
        .collect();
    waits.sort();
    let mut primitives: Vec<String> = match r.kind() {
        ReportKind::LockOrderInversion => r
            .order_edges()
            .iter()
            .flat_map(|e| [e.from.clone(), e.to.clone()])
            .map(|n| primitive(kind_of(r, &n).unwrap_or(Kind::Lock), &n))
            .collect(),
        ReportKind::Deadlock | ReportKind::ReentrantAcquire | ReportKind::OwnerExited => r
            .resources()
            .iter()
            .map(|n| primitive(kind_of(r, n).unwrap_or(Kind::Lock), n))
            .collect(),
        _ => {
            let telling: Vec<String> = waits.iter().filter(|w| !w.0).map(|w| w.2.clone()).collect();
            if telling.is_empty() {
                waits.iter().map(|w| w.2.clone()).collect()
            } else {
                telling
            }
        }
    };
    primitives.sort();
    primitives.dedup();
    let mut site = r
        .location()
        .map(site_string)
        .or_else(|| waits.first().map(|w| w.1.clone()));
    let mut headline = r.headline().to_string();
    let mut shape = shape.to_string();
    // A stall with threads still running (not in a synckit wait): those threads are the
    // story (a busy-wait, a wait outside synckit), not whoever joins them.
    let running: Vec<&str> = r
        .threads()
        .iter()
        .filter(|t| t.waiting.is_none())
        .map(|t| t.name.as_str())
        .collect();
    if r.kind() == ReportKind::Stall && !running.is_empty() {
        let names: Vec<String> = running.iter().map(|n| format!("`{n}`")).collect();
        headline = format!(
            "{headline}; {} still running, not in a synckit wait",
            names.join(", ")
        );
        shape = format!(
            "stalled: {} kept running past the deadline (a busy-wait, or a wait outside synckit)",
            names.join(", ")
        );
        primitives = Vec::new();
        site = None;
    }
    Finding {
        verdict,
        found_by,
        replay: None,
        headline,
        site,
        shape,
        primitives,
        report: r.to_string(),
    }
}

/// What kind of primitive `name` is, from the threads that hold or wait for it.
fn kind_of(r: &Report, name: &str) -> Option<Kind> {
    r.threads().iter().find_map(|t| {
        t.holds
            .iter()
            .find(|h| h.resource == name)
            .map(|h| h.kind)
            .or_else(|| {
                t.waiting
                    .as_ref()
                    .filter(|w| w.resource == name)
                    .map(|w| w.kind)
            })
    })
}

/// A failing schedule of `explore`: the verdict from its kind, the report (the detector's,
/// or the panic), the schedule as lanes, and the replay string.
pub(crate) fn from_failure(f: &Failure, found_by: String, shrunk: bool) -> Finding {
    let mut finding = match (f.kind(), f.report()) {
        (FailureKind::Panic, _) | (_, None) => {
            let site = f.location().map(str::to_string);
            let mut x = from_panic(f.thread().unwrap_or("?"), f.message(), site, found_by);
            match f.kind() {
                FailureKind::Panic => {}
                FailureKind::StepLimit => {
                    x.verdict = "stalled";
                    x.shape = "livelock".into();
                    x.headline = format!("livelock: {}", f.message());
                }
                _ => {
                    x.verdict = "stalled";
                    x.shape = "stall".into();
                    x.headline = f.message().to_string();
                }
            }
            x
        }
        (_, Some(r)) => from_report(r, found_by),
    };
    if f.kind() == FailureKind::StepLimit {
        finding.verdict = "stalled";
    }
    let schedule = f.schedule().to_string();
    let how = if shrunk {
        "shrunk"
    } else {
        "as found, not shrunk"
    };
    finding.report = format!(
        "{}\n\nthe failing schedule ({how}: {} context switches, {} preemptions), one column \
         per thread:\n\n{}\nreplay it: synckit::testing::Config::replay(\"{schedule}\".parse().unwrap())\n",
        finding.report.trim_end(),
        f.context_switches(),
        f.preemptions(),
        f.lanes(),
    );
    finding.replay = Some(schedule);
    finding
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_normalized_for_grouping() {
        assert_eq!(
            normalize("expected 300, got 290 (run 12)"),
            "expected N, got N (run N)"
        );
    }

    #[test]
    fn unnamed_primitives_compare_equal() {
        assert_eq!(primitive(Kind::Lock, "Lock@a.rs:3:9"), "Lock (unnamed)");
        assert_eq!(primitive(Kind::Lock, "Lock@b.rs:7:1"), "Lock (unnamed)");
        assert_eq!(primitive(Kind::Condition, "funded"), "Condition `funded`");
    }
}
