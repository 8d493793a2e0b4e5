//! The opt-in watchdog for code outside [`check`](crate::check): threads blocked longer than
//! a limit are reported as a *stall* — a suspicion, never a proven deadlock — once per stall.

use std::collections::HashSet;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::policy::{Policy, policy};
use super::registry::global;
use super::report::{Report, ThreadState};

static STARTED: AtomicBool = AtomicBool::new(false);

/// Starts the watchdog: every blocked wait older than `limit` is printed to stderr as a
/// stall report, once per wait. Returns `false` if a watchdog was already running.
/// `SYNCKIT_WATCHDOG=5s` (or `500ms`) starts one at the first blocking wait.
pub fn watchdog(limit: Duration) -> bool {
    if STARTED.swap(true, Ordering::SeqCst) {
        return false;
    }
    std::thread::Builder::new()
        .name("synckit-watchdog".into())
        .spawn(move || run(limit))
        .is_ok()
}

/// Starts the watchdog from `SYNCKIT_WATCHDOG`, once.
pub(crate) fn start_from_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Ok(value) = std::env::var("SYNCKIT_WATCHDOG") {
            match parse_duration(&value) {
                Some(limit) => {
                    watchdog(limit);
                }
                None => eprintln!(
                    "synckit: SYNCKIT_WATCHDOG={value:?} is not a duration like `5s` or `500ms`; no watchdog"
                ),
            }
        }
    });
}

/// Parses `5s`, `500ms` or a bare number of seconds.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.trim().parse::<u64>().ok().map(Duration::from_millis);
    }
    let secs = s.strip_suffix('s').unwrap_or(s).trim();
    secs.parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
        .map(Duration::from_secs_f64)
}

fn run(limit: Duration) {
    let mut reported: HashSet<(u64, Instant)> = HashSet::new();
    let tick = (limit / 4).max(Duration::from_millis(10));
    loop {
        std::thread::sleep(tick);
        if policy() == Policy::Off {
            continue;
        }
        if let Some(report) = scan(limit, &mut reported) {
            report.eprint();
        }
    }
}

/// One look at the waits: a stall report for those blocked at least `limit` that were not
/// reported before (each wait once: `reported` remembers `(thread, since)`).
fn scan(limit: Duration, reported: &mut HashSet<(u64, Instant)>) -> Option<Report> {
    let g = global();
    let stalled: Vec<(u64, Instant)> = g
        .waiting
        .iter()
        .filter(|(_, w)| w.since.elapsed() >= limit)
        .map(|(&t, w)| (t, w.since))
        .filter(|key| !reported.contains(key))
        .collect();
    if stalled.is_empty() {
        return None;
    }
    let threads = stalled
        .iter()
        .map(|&(t, since)| {
            reported.insert((t, since));
            ThreadState::of(&g, t)
        })
        .collect();
    Some(Report::watchdog_stall(limit, threads))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Event;
    use crate::detector::ReportKind;
    use std::sync::Arc;

    #[test]
    fn a_long_wait_is_reported_once_as_a_suspicion() {
        let never = Arc::new(Event::new().named("watchdog-unit-event"));
        let waiter = {
            let never = never.clone();
            std::thread::Builder::new()
                .name("watchdog-unit-waiter".into())
                .spawn(move || never.wait())
                .unwrap()
        };
        // Until the waiter's wait is registered (it blocks in `Event::wait`).
        let named = |r: &Report| r.threads().iter().any(|t| t.name == "watchdog-unit-waiter");
        let mut reported = HashSet::new();
        let report = loop {
            if let Some(r) = scan(Duration::ZERO, &mut reported)
                && named(&r)
            {
                break r;
            }
            std::thread::yield_now();
        };
        assert_eq!(report.kind(), ReportKind::Stall);
        let text = report.to_string();
        assert!(
            text.contains("a suspicion, not a proven deadlock"),
            "{text}"
        );
        assert!(text.contains("`watchdog-unit-event` (Event)"), "{text}");
        // The same wait is not reported twice.
        assert!(scan(Duration::ZERO, &mut reported).is_none_or(|r| !named(&r)));
        never.set();
        waiter.join().unwrap();
    }

    #[test]
    fn parses_seconds_milliseconds_and_bare_numbers() {
        assert_eq!(parse_duration("5s"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration(" 500ms "), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_duration("0.5s"), Some(Duration::from_millis(500)));
    }

    #[test]
    fn rejects_what_is_not_a_positive_duration() {
        for bad in ["", "soon", "-1s", "0", "nans", "5 minutes"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
    }
}
