//! `cargo run -- tour`: the detector's demonstrations, each a few lines of real code whose
//! report is printed.

use std::sync::{Arc, Mutex};

use synckit::detector::ReportKind;
use synckit::testing::Config;
use synckit::{Barrier, Condition, Lock, Report};

/// A plain Lock taken twice by one thread: reported at once as a re-entrant acquire.
pub fn reentrancy() -> Report {
    let account = Lock::new(100).named("account");
    let _outer = account.acquire();
    // `deposit` calls `audit`, and both take the lock: the second acquire can never succeed.
    match account.acquire_checked() {
        Ok(_) => unreachable!("a plain Lock is not re-entrant"),
        Err(deadlock) => deadlock.into_report(),
    }
}

/// Two threads take two locks in opposite orders, forced to meet by a barrier: AB/BA. Run
/// under the explorer's default schedule (`testing::explore`, no deviation), so the same
/// thread closes the cycle on every run and the report reads the same every time.
pub fn ab_ba() -> Report {
    let report = Arc::new(Mutex::new(None));
    let found = report.clone();
    let search = synckit::testing::explore(Config::exhaustive(0), move |run| {
        let a = Arc::new(Lock::new(0).named("account_a"));
        let b = Arc::new(Lock::new(0).named("account_b"));
        let both_hold_one = Arc::new(Barrier::new(2));
        let transfer = |name: &str, first: Arc<Lock<i32>>, second: Arc<Lock<i32>>| {
            let (both_hold_one, found) = (both_hold_one.clone(), found.clone());
            run.spawn(name, move || {
                let _first = first.acquire();
                both_hold_one.wait().expect("barrier");
                // The second to ask closes the cycle and gets the report; dropping its first
                // lock then lets the other finish.
                if let Err(deadlock) = second.acquire_checked() {
                    *found.lock().unwrap_or_else(|e| e.into_inner()) = Some(deadlock.into_report());
                }
            })
        };
        let t1 = transfer("transfer-1", a.clone(), b.clone());
        let t2 = transfer("transfer-2", b, a);
        t1.join().expect("transfer-1");
        t2.join().expect("transfer-2");
    });
    if let Err(failure) = search {
        unreachable!("the demonstration itself failed: {failure}");
    }
    let report = report.lock().unwrap_or_else(|e| e.into_inner()).take();
    report.expect("one of the two threads closes the cycle")
}

/// A run that does *not* deadlock, but takes two locks in both orders: the lock-order
/// graph reports the inversion anyway.
pub fn inversion() -> Report {
    let a = Lock::new(()).named("ledger");
    let b = Lock::new(()).named("audit_log");
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    let _b = b.acquire();
    match a.acquire_checked() {
        Ok(_) => unreachable!("the second order closes a cycle"),
        Err(deadlock) => deadlock.into_report(),
    }
}

/// A consumer waits with `if` for an item; the producer's notify came before the wait, so
/// the wake-up is lost. Inside `check`, the closed world sees that nobody is left to wake it.
pub fn lost_wake_up() -> Report {
    let outcome = synckit::check(|| {
        let shared = Arc::new((
            Lock::new(Vec::<u32>::new()).named("queue"),
            Condition::new().named("not_empty"),
        ));
        let producer = {
            let shared = shared.clone();
            synckit::thread::spawn_named("producer", move || {
                let (queue, not_empty) = &*shared;
                queue.acquire().push(1);
                not_empty.notify(1); // nobody is waiting yet: this wake-up is lost
            })
        };
        producer.join().expect("producer");
        let (queue, not_empty) = &*shared;
        let mut items = queue.acquire();
        items.pop();
        if items.is_empty() {
            not_empty.wait(&mut items); // `if`, not `while`, and no more notifies will come
        }
    });
    match outcome {
        synckit::Outcome::Deadlock(report) => report,
        other => unreachable!("the consumer can only hang: {other}"),
    }
}

/// A demonstration: title, what the code does, and the code.
type Demo = (&'static str, &'static str, fn() -> Report);

/// Runs every demonstration and prints its report.
pub fn run() {
    let demos: [Demo; 4] = [
        (
            "1. Re-entrancy",
            "`deposit` holds the account's Lock and calls `audit`, which takes it again.",
            reentrancy,
        ),
        (
            "2. AB/BA deadlock",
            "transfer-1 takes account_a then account_b; transfer-2 the other way round; a barrier \
             makes them meet\n   (run on the explorer's default schedule, so the same thread \
             closes the cycle every time).",
            ab_ba,
        ),
        (
            "3. Lock-order inversion (no deadlock this run)",
            "ledger then audit_log, later audit_log then ledger, on one thread.",
            inversion,
        ),
        (
            "4. Lost wake-up, caught by a closed world (synckit::check)",
            "the producer notifies before the consumer waits; the consumer waits with `if`.",
            lost_wake_up,
        ),
    ];
    for (title, what, demo) in demos {
        println!("\n== {title}\n   {what}\n");
        let report = demo();
        debug_assert!(report.kind() != ReportKind::Stall);
        println!(
            "{}",
            report.render(synckit::detector::color_enabled_stdout())
        );
    }
}
